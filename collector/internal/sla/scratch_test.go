package sla

import (
	"context"
	"reflect"
	"testing"
)

// rangeIntoMem is a MemStore that also reads into the caller's slice, as
// statedb does: SiteWithLinks then computes from scratch slices.
type rangeIntoMem struct{ *MemStore }

func (s rangeIntoMem) RangeInto(ctx context.Context, kind uint8, id string, from UnixMinute, out []uint16) error {
	r, err := s.Range(ctx, kind, id, from, len(out))
	copy(out, r)
	return err
}

// TestSiteWithLinksScratch: computed from reused scratch slices (a store
// that reads into them, every site twice over so that each reuses slices
// another site filled), each site and link is exactly what Site and Link
// give from fresh ones: with a link in maintenance, a redundant site, a
// site without agent.
func TestSiteWithLinksScratch(t *testing.T) {
	inv := loadInventory(t)
	st := build(t, inv, script(), heartbeats())
	ws := []Window{{Scope: ScopeLink, Target: "dinkes-wan", Start: dinkesMaint.from, End: dinkesMaint.to, Reason: "x"}}
	ctx := context.Background()
	fresh := (&Engine{Inv: inv, Store: st, Windows: ws}).NewComputation(october(t))
	c := (&Engine{Inv: inv, Store: rangeIntoMem{st}, Windows: ws}).NewComputation(october(t))
	if _, ok := c.e.Store.(RangeIntoStore); !ok {
		t.Fatal("the store does not read into scratch slices")
	}
	for range 2 {
		for i := range inv.Sites {
			s := &inv.Sites[i]
			sr, links, err := c.SiteWithLinks(ctx, s)
			if err != nil {
				t.Fatal(err)
			}
			want, err := fresh.Site(ctx, s)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(sr, want) {
				t.Errorf("site %s differs:\n%+v\nwant\n%+v", s.ID, sr, want)
			}
			for j, l := range inv.LinksOfSite(s.ID) {
				w, err := fresh.Link(ctx, l)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(links[j], w) {
					t.Errorf("link %s differs", l.ID)
				}
			}
		}
	}
}
