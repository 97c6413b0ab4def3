package sla

import (
	"context"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/inventory"
)

// One site in WIT with one link probed by agent-kantor. Every figure
// below is counted by hand in the comments.
const coverageInventory = `
sites:
  - {id: kantor, name: Kantor Camat, kind: district, timezone: WIT}
links:
  - id: kantor-wan
    site: kantor
    type: fibre
    icmp: {target: 127.0.0.9, agent: agent-kantor}
    contract:
      target: 99.5
      exclude: []
      monthly_fee: 15000000
      restitution: proportional
`

// spanStore is a MemStore that also keeps declared monitored spans.
type spanStore struct {
	*MemStore
	spans []Span
}

func (s spanStore) MonitoredSpans(context.Context) ([]Span, error) { return s.spans, nil }

// coverageMarks are the link's rounds (every 30 s, up unless in down)
// over [from, to) except in gap, and heartbeats of the site's agent in
// each minute of hb.
func coverageMarks(t *testing.T, inv *inventory.Inventory, from, to time.Time, gap span, down []span, hb []span, coll []span) []Mark {
	t.Helper()
	b := NewBuilder(inv, nil)
	var marks []Mark
	for tm := from; tm.Before(to); tm = tm.Add(30 * time.Second) {
		if gap.has(tm) {
			continue
		}
		marks = b.ICMP(marks, "agent-kantor", "", "127.0.0.9", tm.UnixNano(), !in(tm, down...), 0, 0.01, true)
	}
	for _, s := range hb {
		for tm := s.from; tm.Before(s.to); tm = tm.Add(time.Minute) {
			marks = b.Heartbeat(marks, "kantor", tm.UnixNano())
		}
	}
	for _, s := range coll {
		for tm := s.from; tm.Before(s.to); tm = tm.Add(time.Minute) {
			marks = append(marks, Mark{Kind: KindCollector, Minute: MinuteOf(tm.UnixNano()), Bits: BitSeen})
		}
	}
	return marks
}

func coverageDay(t *testing.T, st Store) Figures {
	t.Helper()
	inv, err := inventory.Parse("inventory.yml", []byte(coverageInventory))
	if err != nil {
		t.Fatal(err)
	}
	p, err := ParsePeriod("2026-10-10..2026-10-10", wit)
	if err != nil {
		t.Fatal(err)
	}
	e := &Engine{Inv: inv, Store: st, Now: at(11, 5, 0, 0), NoContracts: true}
	r, err := e.NewComputation(p).Link(context.Background(), inv.Link("kantor-wan"))
	if err != nil {
		t.Fatal(err)
	}
	f := r.Figures
	f.Availability, f.Completeness, f.WorstCase = nil, nil, nil
	return f
}

// An imported history (delivered while no collector was running at the
// time: no collector minutes) of 00:00–06:00 WIT on Oct 10 with a 2-hour
// gap 02:00–04:00 in its link data.
func TestImportedHistoryGap(t *testing.T) {
	inv, err := inventory.Parse("inventory.yml", []byte(coverageInventory))
	if err != nil {
		t.Fatal(err)
	}
	from, to := at(10, 10, 0, 0), at(10, 10, 6, 0)
	gap := sp(at(10, 10, 2, 0), at(10, 10, 4, 0))
	ctx := context.Background()
	// The day has 1,440 minutes. Link data: 360 − 120 = 240 minutes, all
	// up. The 1,440 − 360 = 1,080 minutes outside the import are a
	// monitoring gap in every case (nothing watched them).
	withHB := minutes(1440, 240, 0, 0, 0, 120, 1080)  // the gap's 120 minutes are nodata
	withoutHB := minutes(1440, 240, 0, 0, 0, 0, 1200) // 1,080 + the gap's 120
	mark := func(s Span) Span { s.Start, s.End = from, to; return s }
	for _, tc := range []struct {
		name  string
		hb    []span
		spans []Span
		want  Figures
	}{
		{"heartbeats through the gap", []span{sp(from, to)}, nil, withHB},
		{"marked span of the site, no heartbeats", nil, []Span{mark(Span{Scope: SpanSite, Target: "kantor"})}, withHB},
		{"marked span of every site", nil, []Span{mark(Span{Scope: SpanAll})}, withHB},
		{"marked span of the link's agent", nil, []Span{mark(Span{Scope: SpanAgent, Target: "agent-kantor"})}, withHB},
		{"marked span of another site", nil, []Span{mark(Span{Scope: SpanSite, Target: "dinkes"})}, withoutHB},
		{"marked span of another agent", nil, []Span{mark(Span{Scope: SpanAgent, Target: "agent-lain"})}, withoutHB},
		{"nothing declared", nil, nil, withoutHB},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := spanStore{NewMemStore(), tc.spans}
			if err := st.Merge(ctx, coverageMarks(t, inv, from, to, gap, nil, tc.hb, nil)); err != nil {
				t.Fatal(err)
			}
			if got := coverageDay(t, st); got != tc.want {
				t.Errorf("\n got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

// The collector runs all day on Oct 10 but for 10:00–11:00 WIT, when the
// link has no data either; the site's agent sends heartbeats (it spools)
// only 10:00–10:30 of that hour.
func TestCollectorDownAgentAlive(t *testing.T) {
	inv, err := inventory.Parse("inventory.yml", []byte(coverageInventory))
	if err != nil {
		t.Fatal(err)
	}
	day0, day1 := at(10, 10, 0, 0), at(10, 11, 0, 0)
	down := sp(at(10, 10, 10, 0), at(10, 10, 11, 0))
	coll := []span{sp(day0, down.from), sp(down.to, day1)}
	for _, tc := range []struct {
		name string
		hb   []span
		want Figures
	}{
		// 1,440 − 60 = 1,380 up; agent alive 10:00–10:30 → 30 nodata,
		// 10:30–11:00 nobody watching → 30 monitoring
		{"agent alive half the hour", []span{sp(day0, at(10, 10, 10, 30)), sp(down.to, day1)}, minutes(1440, 1380, 0, 0, 0, 30, 30)},
		// agent silent the whole hour → 60 monitoring (as before)
		{"agent silent", []span{sp(day0, down.from), sp(down.to, day1)}, minutes(1440, 1380, 0, 0, 0, 0, 60)},
		// agent alive the whole hour → 60 nodata
		{"agent alive", []span{sp(day0, day1)}, minutes(1440, 1380, 0, 0, 0, 60, 0)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := NewMemStore()
			if err := st.Merge(context.Background(), coverageMarks(t, inv, day0, day1, down, nil, tc.hb, coll)); err != nil {
				t.Fatal(err)
			}
			if got := coverageDay(t, st); got != tc.want {
				t.Errorf("\n got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

// October 2026 (31 days) with data on only two days, Oct 10 and 11 WIT,
// with a 300-minute ISP outage on Oct 10 08:00–13:00.
func TestContractIncompleteMonth(t *testing.T) {
	inv, err := inventory.Parse("inventory.yml", []byte(coverageInventory))
	if err != nil {
		t.Fatal(err)
	}
	from, to := at(10, 10, 0, 0), at(10, 12, 0, 0)
	outage := sp(at(10, 10, 8, 0), at(10, 10, 13, 0))
	st := NewMemStore()
	marks := coverageMarks(t, inv, from, to, span{}, []span{outage}, []span{sp(at(10, 1, 0, 0), at(11, 1, 0, 0))}, nil)
	if err := st.Merge(context.Background(), marks); err != nil {
		t.Fatal(err)
	}
	contract := func(minPct float64) ContractMonth {
		t.Helper()
		e := &Engine{Inv: inv, Store: st, Now: at(11, 5, 0, 0), MinCompleteness: minPct}
		r, err := e.NewComputation(october(t)).Link(context.Background(), inv.Link("kantor-wan"))
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Contract) != 1 {
			t.Fatalf("%d contract months", len(r.Contract))
		}
		return r.Contract[0]
	}
	// October: 44,640 minutes = 2,678,400 s. Known: 2 days × 1,440 =
	// 2,880 minutes = 172,800 s; completeness 172,800 / 2,678,400 = 2/31
	// = 6.4516 %, under the default 90 %: incomplete, no restitution (it
	// would be 15,000,000 × 300 × 60 / 2,678,400 = 100,806.45 → Rp 100,806:
	// 300 counted minutes > allowed ⌊44,640 × 0.5 %⌋ = 223).
	cm := contract(0)
	if cm.KnownSeconds != 172800 || cm.Completeness != 100*172800.0/2678400 || cm.MinCompleteness != 90 {
		t.Errorf("known %d s, completeness %v %% (min %v), want 172800 s, %v %% (min 90)", cm.KnownSeconds, cm.Completeness, cm.MinCompleteness, 200.0/31)
	}
	if !cm.IncompleteData || cm.Restitution != 0 || cm.RestitutionWithheld != WithheldIncomplete {
		t.Errorf("incomplete %v restitution %d withheld %q, want true 0 %q", cm.IncompleteData, cm.Restitution, cm.RestitutionWithheld, WithheldIncomplete)
	}
	if cm.CountedSeconds != 18000 || cm.Met {
		t.Errorf("counted %d s met %v, want 18000 s and not met", cm.CountedSeconds, cm.Met)
	}
	// a threshold of 6.45 % (≤ 6.4516 %) takes the month as complete: the
	// restitution stands
	cm = contract(6.45)
	if cm.IncompleteData || cm.Restitution != 100806 || cm.RestitutionWithheld != "" {
		t.Errorf("at 6.45 %%: incomplete %v restitution %d withheld %q, want false 100806 \"\"", cm.IncompleteData, cm.Restitution, cm.RestitutionWithheld)
	}
}
