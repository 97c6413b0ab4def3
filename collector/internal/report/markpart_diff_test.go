package report

import (
	"math/rand/v2"
	"testing"
	"time"
)

// refMarkPartOfSite is markPartOfSite by its definition: a link outage
// is part of its site's outage when some outage of that site overlaps it
// ([start, end) intervals), compared against every incident.
func refMarkPartOfSite(incs []Incident) {
	for i := range incs {
		l := &incs[i]
		if l.Kind != KindLink {
			continue
		}
		for j := range incs {
			s := &incs[j]
			if s.Kind == KindSite && s.Site == l.Site && l.Start.Before(s.End) && s.Start.Before(l.End) {
				l.PartOfSite = true
				break
			}
		}
	}
}

// TestMarkPartOfSiteReference: on random incidents (site outages that
// overlap, nest or share a start; link outages overlapping them at the
// edges, by one second, across midnight, inside or around; sites in
// different zones; service incidents; an empty interval), the per-site
// grouping marks exactly the links the definition does.
func TestMarkPartOfSiteReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	zones := []*time.Location{time.UTC, time.FixedZone("WIB", 7*3600), time.FixedZone("WIT", 9*3600)}
	marked := 0
	for it := range 2000 {
		base := time.Date(2026, 10, 5, 0, 0, 0, 0, zones[rng.IntN(len(zones))])
		// instants on a coarse grid, so that edges often coincide, about midnight
		at := func() time.Time {
			return base.Add(time.Duration(rng.IntN(48)-24) * 10 * time.Minute).Add(time.Duration(rng.IntN(3)-1) * time.Second).In(zones[rng.IntN(len(zones))])
		}
		sites := []string{"a", "b", "c"}[:1+rng.IntN(3)]
		var incs []Incident
		for range rng.IntN(30) {
			kind := []string{KindLink, KindLink, KindSite, KindService}[rng.IntN(4)]
			s, e := at(), at()
			if e.Before(s) && rng.IntN(4) > 0 {
				s, e = e, s
			}
			incs = append(incs, Incident{Kind: kind, Site: sites[rng.IntN(len(sites))], Start: s, End: e})
		}
		want := append([]Incident(nil), incs...)
		refMarkPartOfSite(want)
		markPartOfSite(incs)
		for i := range incs {
			if incs[i].PartOfSite != want[i].PartOfSite {
				t.Fatalf("case %d: incident %d %+v marked %v, want %v\nall: %+v", it, i, incs[i], incs[i].PartOfSite, want[i].PartOfSite, want)
			}
			if incs[i].PartOfSite {
				marked++
			}
		}
	}
	t.Logf("%d link outages marked", marked)
}
