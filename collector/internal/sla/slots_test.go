package sla

import (
	"context"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/inventory"
)

// The slot tests use one site in WIT with a fibre link (its ISP contract
// counts outages of at least 300 s) and a radio link, on October 7, 2026.
// Every figure is worked out by hand in the comments; rounds fall at
// second 5 of their 10 s (as an agent's splay puts them), so a cut "from
// second 30" fails the round at second 35 first.
const slotInventory = `
sites:
  - {id: kantor, name: Kantor, kind: opd, timezone: WIT, sla_target: 99.5}
links:
  - id: wan
    site: kantor
    type: fibre
    icmp: {target: 127.0.0.2}
    contract: {target: 99.5, min_outage: 300s, monthly_fee: 15000000, restitution: proportional}
  - {id: radio, site: kantor, type: radio, icmp: {target: 127.0.0.3}}
`

// sec is a time on October 7, 2026 in WIT.
func sec(h, m, s int) time.Time { return time.Date(2026, 10, 7, h, m, s, 0, wit) }

// cut is a link's down interval [from, to).
type cut struct{ from, to time.Time }

// probe makes a link's rounds every interval from Oct 6 to Oct 9 at the
// given second within the interval; a round inside a cut fails. The
// collector runs throughout and the site's agent sends heartbeats.
func probe(b *Builder, target string, interval, phase time.Duration, cuts ...cut) []Mark {
	var out []Mark
	for t := sec(0, 0, 0).Add(-24*time.Hour + phase); t.Before(sec(0, 0, 0).Add(48 * time.Hour)); t = t.Add(interval) {
		up := true
		for _, c := range cuts {
			if !t.Before(c.from) && t.Before(c.to) {
				up = false
			}
		}
		out = b.ICMP(out, "agent-1", "", target, t.UnixNano(), up, 0, 0.004, up)
	}
	return out
}

func alive() []Mark {
	var out []Mark
	for t := sec(0, 0, 0).Add(-24 * time.Hour); t.Before(sec(0, 0, 0).Add(48 * time.Hour)); t = t.Add(time.Minute) {
		out = append(out, Mark{Kind: KindCollector, Minute: MinuteOf(t.UnixNano()), Bits: BitSeen},
			Mark{Kind: KindSite, ID: "kantor", Minute: MinuteOf(t.UnixNano()), Bits: BitSeen})
	}
	return out
}

func slotInv(t testing.TB) *inventory.Inventory {
	t.Helper()
	inv, err := inventory.Parse("inventory.yml", []byte(slotInventory))
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

// day7 computes a link of the slot inventory for October 7 from marks.
func day7(t testing.TB, inv *inventory.Inventory, link string, marks ...[]Mark) *LinkResult {
	t.Helper()
	st := NewMemStore()
	for _, m := range marks {
		if err := st.Merge(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	p, err := ParsePeriod("2026-10-07..2026-10-07", wit)
	if err != nil {
		t.Fatal(err)
	}
	r, err := (&Engine{Inv: inv, Store: st, Now: sec(0, 0, 0).AddDate(0, 1, 0)}).NewComputation(p).Link(context.Background(), inv.Link(link))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// The cut: 180 s from 10:00:30 to 10:03:30 with a round every
// 10 s (at :05, :15, ... :55).
//
//	10:00  rounds :05 :15 :25 up, :35 :45 :55 down   → 30 s down, 30 s up
//	10:01  all six down                               → 60 s down
//	10:02  all six down                               → 60 s down
//	10:03  :05 :15 :25 down, :35 :45 :55 up          → 30 s down, 30 s up
//
// One outage from the first failed round's slot (10:00:30) to the first
// good round's slot (10:03:30): 180 s, all of it down time. The day has
// 86,400 s with data, 180 down: availability 86,220 / 86,400 = 99.7916…%.
// (Minute by minute, the edges were "degraded" and the outage 2 minutes.)
func TestCut180sAt10sRounds(t *testing.T) {
	inv := slotInv(t)
	b := NewBuilder(inv, nil)
	r := day7(t, inv, "wan", probe(b, "127.0.0.2", 10*time.Second, 5*time.Second, cut{sec(10, 0, 30), sec(10, 3, 30)}), alive())
	if len(r.Outages) != 1 {
		t.Fatalf("outages %+v", r.Outages)
	}
	o := r.Outages[0]
	if !o.Start.Equal(sec(10, 0, 30)) || !o.End.Equal(sec(10, 3, 30)) || o.DurationSeconds != 180 || o.DownSeconds != 180 ||
		o.InPeriodSeconds != 180 || o.DurationMinutes != 3 || o.DownMinutes != 3 || o.Cause != CauseISP {
		t.Errorf("outage %+v, want 10:00:30–10:03:30, 180 s", o)
	}
	if r.Seconds != 86400 || r.DownSeconds != 180 || r.UpSeconds != 86220 || r.DegradedSeconds != 0 || r.NoDataSeconds != 0 || r.Down != 3 || r.Up != 1437 {
		t.Errorf("figures %+v", r.Figures)
	}
	if want := 100 * 86220.0 / 86400; r.Availability == nil || *r.Availability != want || round3(r.Availability) != "99.792" {
		t.Errorf("availability %v, want %v", r.Availability, want)
	}
	if r.MTTRSeconds == nil || *r.MTTRSeconds != 180 || r.DowntimeByCauseSeconds[CauseISP] != 180 {
		t.Errorf("MTTR %v, by cause %v", r.MTTRSeconds, r.DowntimeByCauseSeconds)
	}
	if len(r.Daily) != 1 || *r.Daily[0] != pctOf(86220, 86400) {
		t.Errorf("daily %v", r.Daily)
	}
}

func pctOf(num, den int64) float64 { return 100 * float64(num) / float64(den) }

// The same 180-s cut at other round intervals: the outage runs from the
// slot of the first failed round to that of the first good one.
//
//	30 s at :05/:35: 10:00:35 fails first (slot 3), 10:03:35 is good
//	  first: 10:00:30–10:03:30. 10:00 slots 0-2 follow :05 (up), 3-5
//	  follow :35 (down); 10:03 slots 0-2 follow :05 (down), 3-5 up.
//	60 s at :35: 10:00:35 fails, 10:03:35 is good: 10:00:30–10:03:30.
//	  10:00 slots 0-2 follow 09:59:35 (up, 30 s back), 3-5 down; 10:01,
//	  10:02 slots 0-2 follow the previous :35 (down); 10:03 slots 0-2
//	  down, 3-5 up.
//	60 s at :05: 10:00:05 is still up; 10:01:05 fails first (slot 0),
//	  10:04:05 is good first: 10:01:00–10:04:00, whole minutes.
//
// Each is 180 s down; the first failed and first good round are 180 s
// apart.
func TestCut180sAt30sAnd60sRounds(t *testing.T) {
	inv := slotInv(t)
	b := NewBuilder(inv, nil)
	c := cut{sec(10, 0, 30), sec(10, 3, 30)}
	for _, tc := range []struct {
		name            string
		interval, phase time.Duration
		start, end      time.Time
		downSec, upSec  int64
		downMin, upMin  float64
	}{
		{"30 s", 30 * time.Second, 5 * time.Second, sec(10, 0, 30), sec(10, 3, 30), 180, 86220, 3, 1437},
		{"60 s at :35", time.Minute, 35 * time.Second, sec(10, 0, 30), sec(10, 3, 30), 180, 86220, 3, 1437},
		{"60 s at :05", time.Minute, 5 * time.Second, sec(10, 1, 0), sec(10, 4, 0), 180, 86220, 3, 1437},
	} {
		r := day7(t, inv, "wan", probe(b, "127.0.0.2", tc.interval, tc.phase, c), alive())
		if len(r.Outages) != 1 {
			t.Errorf("%s: outages %+v", tc.name, r.Outages)
			continue
		}
		o := r.Outages[0]
		if !o.Start.Equal(tc.start) || !o.End.Equal(tc.end) || o.DurationSeconds != 180 || o.DownSeconds != tc.downSec {
			t.Errorf("%s: outage %s–%s %d s (%d down), want %s–%s", tc.name, o.Start.Format(time.TimeOnly), o.End.Format(time.TimeOnly),
				o.DurationSeconds, o.DownSeconds, tc.start.Format(time.TimeOnly), tc.end.Format(time.TimeOnly))
		}
		if r.DownSeconds != tc.downSec || r.UpSeconds != tc.upSec || r.Down != tc.downMin || r.Up != tc.upMin {
			t.Errorf("%s: figures %+v", tc.name, r.Figures)
		}
	}
}

// A radio link that drops for 50 s every hour, from second 40 to second
// 30 of the next minute, with rounds every 10 s: the rounds at :45 :55
// and :05 :15 :25 fail, so 20 s of one minute and 30 s of the next are
// down. 24 drops × 50 s = 1,200 s of 86,400: availability 98.611 %, under
// radio's 99 % target. Minute by minute every minute kept an up round,
// so the link showed 100 %.
func TestRadioDrops50s(t *testing.T) {
	inv := slotInv(t)
	b := NewBuilder(inv, nil)
	var cuts []cut
	for h := range 24 {
		cuts = append(cuts, cut{sec(h, 20, 40), sec(h, 21, 30)})
	}
	r := day7(t, inv, "radio", probe(b, "127.0.0.3", 10*time.Second, 5*time.Second, cuts...), alive())
	if r.DownSeconds != 1200 || r.UpSeconds != 85200 || len(r.Outages) != 24 {
		t.Fatalf("figures %+v, %d outages", r.Figures, len(r.Outages))
	}
	if o := r.Outages[0]; !o.Start.Equal(sec(0, 20, 40)) || !o.End.Equal(sec(0, 21, 30)) || o.DurationSeconds != 50 {
		t.Errorf("first outage %+v", o)
	}
	if *r.Availability != pctOf(85200, 86400) || round3(r.Availability) != "98.611" || r.Met == nil || *r.Met {
		t.Errorf("availability %s met %v, want 98.611 and missed (target 99)", round3(r.Availability), r.Met)
	}
}

// The contract counts an outage when its down time, in seconds, reaches
// min_outage (300 s), however few whole minutes it covers:
//
//	Oct 7 08:00:10–08:05:50  340 s: 08:00 50 s, 08:01-08:04 whole, 08:05
//	  50 s. Four whole minutes (minute by minute it was a 4-minute blip
//	  under 5 and was not counted); counted now.
//	Oct 7 12:00:10–12:06:00  350 s, 5 min 50 s: 50 s + five whole
//	  minutes; counted, 350 s (minute by minute 5 minutes).
//	Oct 7 16:00:10–16:05:00  290 s: 50 s + four whole minutes; short.
//
// Counted 340 + 350 = 690 s, excluded short 290 s. October has 44,640
// minutes, 2,678,400 s; allowed ⌊44,640 × 0.5 %⌋ = 223 min = 13,380 s: met.
func TestMinOutageInSeconds(t *testing.T) {
	inv := slotInv(t)
	b := NewBuilder(inv, nil)
	r := day7(t, inv, "wan", probe(b, "127.0.0.2", 10*time.Second, 5*time.Second,
		cut{sec(8, 0, 10), sec(8, 5, 50)}, cut{sec(12, 0, 10), sec(12, 6, 0)}, cut{sec(16, 0, 10), sec(16, 5, 0)}), alive())
	if len(r.Outages) != 3 || r.Outages[0].DownSeconds != 340 || r.Outages[1].DownSeconds != 350 || r.Outages[2].DownSeconds != 290 {
		t.Fatalf("outages %+v", r.Outages)
	}
	if len(r.Contract) != 1 {
		t.Fatalf("contract months %+v", r.Contract)
	}
	cm := r.Contract[0]
	if cm.Month != "2026-10" || cm.PeriodMinutes != 44640 || cm.CountedSeconds != 690 || cm.CountedMinutes != 11.5 ||
		cm.ExcludedSeconds[ExcludedShort] != 290 || !slices.Equal(cm.Outages, []int{0, 1}) || cm.CountedOutages != 2 ||
		cm.AllowedSeconds != 13380 || !cm.Met || cm.Restitution != 0 {
		t.Errorf("contract %+v", cm)
	}
	if cm.Availability != 100*float64(2678400-690)/2678400 {
		t.Errorf("ISP availability %v", cm.Availability)
	}
}

// A site is down in a slot only when all its links with data are: the
// fibre is down 10:00:00–10:00:30 and the radio 10:00:20–10:00:50, so
// the site is down 10:00:20–10:00:30, 10 s (rounds every 10 s at :05).
func TestSiteBestOfLinksBySlot(t *testing.T) {
	inv := slotInv(t)
	b := NewBuilder(inv, nil)
	st := NewMemStore()
	ctx := context.Background()
	for _, m := range [][]Mark{
		probe(b, "127.0.0.2", 10*time.Second, 5*time.Second, cut{sec(10, 0, 0), sec(10, 0, 30)}),
		probe(b, "127.0.0.3", 10*time.Second, 5*time.Second, cut{sec(10, 0, 20), sec(10, 0, 50)}),
		alive(),
	} {
		if err := st.Merge(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	p, _ := ParsePeriod("2026-10-07..2026-10-07", wit)
	c := (&Engine{Inv: inv, Store: st}).NewComputation(p)
	s, links, err := c.SiteWithLinks(ctx, inv.Site("kantor"))
	if err != nil {
		t.Fatal(err)
	}
	if links[0].DownSeconds != 30 || links[1].DownSeconds != 30 {
		t.Errorf("links down %d s and %d s, want 30 and 30", links[0].DownSeconds, links[1].DownSeconds)
	}
	if s.DownSeconds != 10 || len(s.Outages) != 1 || !s.Outages[0].Start.Equal(sec(10, 0, 20)) || s.Outages[0].DurationSeconds != 10 {
		t.Errorf("site down %d s, outages %+v; want 10 s from 10:00:20", s.DownSeconds, s.Outages)
	}
}

// The effective states of slots, case by case (rounds marked in slots).
func TestSlotStates(t *testing.T) {
	up := func(slots ...int) uint16 {
		b := BitUp
		for _, s := range slots {
			b |= BitSlotGood << s
		}
		return b
	}
	down := func(slots ...int) uint16 {
		b := BitDown
		for _, s := range slots {
			b |= BitSlotDown << s
		}
		return b
	}
	U, D, G := Up, Down, Degraded
	for _, c := range []struct {
		name string
		bits []uint16
		want [][6]State
	}{
		{"down then up in a minute", []uint16{up(0, 1, 2) | down(3, 4, 5)}, [][6]State{{U, U, U, D, D, D}}},
		{"a slot with both rounds is good", []uint16{up(0, 1, 2, 3) | down(3, 4, 5)}, [][6]State{{U, U, U, U, D, D}}},
		{"slots before the first round follow the previous minute's last", []uint16{down(5), up(3)}, [][6]State{{D, D, D, D, D, D}, {D, D, D, U, U, U}}},
		{"60 s back still counts, 70 s not", []uint16{down(0), up(3)}, [][6]State{{D, D, D, D, D, D}, {D, U, U, U, U, U}}},
		{"a nodata minute between", []uint16{down(5), 0, up(0)}, [][6]State{{D, D, D, D, D, D}, {NoData, NoData, NoData, NoData, NoData, NoData}, {U, U, U, U, U, U}}},
		{"degraded good slots", []uint16{BitDegraded | BitSlotGood | BitSlotDown<<1 | BitDown}, [][6]State{{G, D, D, D, D, D}}},
		{"legacy minutes", []uint16{BitDown, BitUp | BitDown, BitUp}, [][6]State{{D, D, D, D, D, D}, {G, G, G, G, G, G}, {U, U, U, U, U, U}}},
	} {
		got := SlotStates(c.bits, nil)
		for i, m := range got {
			var g [6]State
			for s := range g {
				g[s] = m.At(s)
			}
			if g != c.want[i] {
				t.Errorf("%s: minute %d is %v, want %v", c.name, i, g, c.want[i])
			}
		}
	}
}

// The current state is the latest round's: a minute that turned down at
// second 35 is down now, and up again after a good round.
func TestCurrentFollowsLatestRound(t *testing.T) {
	inv := slotInv(t)
	now := sec(10, 0, 50)
	b := NewBuilder(inv, func() time.Time { return now })
	l := inv.Link("wan")
	var marks []Mark
	for _, s := range []int{5, 15, 25} {
		marks = b.ICMP(marks, "a", "", "127.0.0.2", sec(10, 0, s).UnixNano(), true, 0, 0.004, true)
	}
	marks = b.ICMP(marks, "a", "", "127.0.0.2", sec(10, 0, 35).UnixNano(), false, 1, 0, false)
	b.Committed(marks)
	if s := b.Current(l, "kantor"); s != Down {
		t.Errorf("after a failed round: %s", s)
	}
	b.Committed(b.ICMP(nil, "a", "", "127.0.0.2", sec(10, 0, 45).UnixNano(), true, 0, 0.004, true))
	if s := b.Current(l, "kantor"); s != Up {
		t.Errorf("after a good round: %s", s)
	}
}

// Late, out-of-order and replayed rounds give the same stored bits and
// the same figures, at any round interval (property test: random
// histories, merged in order, then shuffled with duplicates in random
// chunks).
func TestSlotsOrderIndependent(t *testing.T) {
	inv := slotInv(t)
	b := NewBuilder(inv, nil)
	rng := rand.New(rand.NewPCG(16, 11))
	for iter := range 20 {
		interval := []time.Duration{10 * time.Second, 30 * time.Second, time.Minute, 7 * time.Second}[iter%4]
		phase := time.Duration(rng.IntN(int(interval/time.Millisecond))) * time.Millisecond
		var cuts []cut
		for range 1 + rng.IntN(8) {
			from := sec(0, 0, 0).Add(time.Duration(rng.IntN(86400)) * time.Second)
			cuts = append(cuts, cut{from, from.Add(time.Duration(1+rng.IntN(900)) * time.Second)})
		}
		marks := probe(b, "127.0.0.2", interval, phase, cuts...)
		// drop some rounds: gaps of nodata
		for i := range marks {
			if rng.IntN(50) == 0 {
				marks[i].Bits = 0
			}
		}
		ref := day7(t, inv, "wan", marks, alive())
		again := slices.Clone(marks)
		again = append(again, marks[rng.IntN(len(marks)/2):][:len(marks)/3]...)
		rng.Shuffle(len(again), func(i, j int) { again[i], again[j] = again[j], again[i] })
		var chunks [][]Mark
		for len(again) > 0 {
			n := min(len(again), 1+rng.IntN(500))
			chunks = append(chunks, again[:n])
			again = again[n:]
		}
		got := day7(t, inv, "wan", append(chunks, alive())...)
		if !reflect.DeepEqual(ref, got) {
			t.Fatalf("iteration %d (%s rounds): shuffled and replayed rounds gave other figures:\n%+v\n%+v", iter, interval, ref.Figures, got.Figures)
		}
	}
}

// Minutes stored before slots (class bits only) give the figures they
// gave: the scripted October of TestLinkMonthExact, with every mark's
// slot bits stripped, computes exactly as with them (its outages are
// whole minutes).
func TestLegacyMinutesGiveSameFigures(t *testing.T) {
	inv := loadInventory(t)
	ws := []Window{{ID: 1, Scope: ScopeLink, Target: "dinkes-wan", Start: dinkesMaint.from, End: dinkesMaint.to, Reason: "x"}}
	ref := build(t, inv, script(), heartbeats())
	legacy := NewMemStore()
	for k, a := range ref.days {
		c := *a
		for i := range c {
			c[i] &= ClassBits
		}
		legacy.days[k] = &c
	}
	for _, id := range []string{"dinkes-wan", "disdik-a", "disdik-b"} {
		a, err := (&Engine{Inv: inv, Store: ref, Windows: ws, Now: at(11, 5, 0, 0)}).NewComputation(october(t)).Link(context.Background(), inv.Link(id))
		if err != nil {
			t.Fatal(err)
		}
		b, err := (&Engine{Inv: inv, Store: legacy, Windows: ws, Now: at(11, 5, 0, 0)}).NewComputation(october(t)).Link(context.Background(), inv.Link(id))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%s: legacy minutes give other figures:\n%+v\n%+v", id, a.Figures, b.Figures)
		}
	}
}

// SlotStates (with its shortcuts: uniform minutes, repeated minutes)
// gives what the rule gives slot by slot, on random days drawn from a few
// minute values so that runs of equal minutes, gaps and legacy minutes
// meet.
func TestSlotStatesMatchesRule(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 9))
	values := []uint16{0, BitUp | 0x3f<<10, BitUp | BitSlotGood, BitUp | BitSlotGood<<3 | BitSlotGood,
		BitDown | BitSlotDown<<5, BitDown | 0x3f<<4, BitUp | BitDown | BitSlotGood | BitSlotDown<<3, BitDown, BitUp | BitDown, BitDegraded | BitSlotGood<<2}
	for range 2000 {
		bits := make([]uint16, 1+rng.IntN(40))
		for i := range bits {
			if i > 0 && rng.IntN(3) > 0 {
				bits[i] = bits[i-1]
			} else {
				bits[i] = values[rng.IntN(len(values))]
			}
		}
		if got, want := SlotStates(bits, nil), refSlotStates(bits, nil); !slices.Equal(got, want) {
			t.Fatalf("bits %x: %x, the rule gives %x", bits, got, want)
		}
	}
}
