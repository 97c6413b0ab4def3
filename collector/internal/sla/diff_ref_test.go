package sla

// Differential tests of the run-based code paths (runEnd, fillRun, the
// scratch slices of SiteWithLinks) against straightforward references:
// the minute-by-minute versions from before the run skipping (copied
// below, SlotStates without its memo), on random minute patterns.

import (
	"context"
	"fmt"
	"math/bits"
	"math/rand/v2"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/inventory"
)

func oldSlotStates(bitsOf, coll []uint16) []Slots {
	out := make([]Slots, len(bitsOf))
	last := -(1 << 20) // slot index of the latest round seen (none: far before)
	lastDown := false
	// a minute's slots depend only on its bits, how far back the latest
	// round is (up to seven slots) and that round's state: a run of
	// minutes with the same bits (a link probed steadily) repeats the
	// previous minute's result
	type key struct {
		b    uint16
		back int
		down bool
	}
	var (
		memo              key
		memoOut           Slots
		memoTop           int
		memoTopDown, have bool
	)
	for i, b := range bitsOf {
		k := key{b, min(SlotsPerMinute*i-last, SlotsPerMinute+1), lastDown}
		if false && have && k == memo { // the reference computes every minute
			out[i] = memoOut
			last, lastDown = SlotsPerMinute*i+memoTop, memoTopDown
			continue
		}
		cls := b & ClassBits
		if cls == 0 {
			out[i] = Uniform(NoData)
			if coll != nil && coll[i] == 0 {
				out[i] = Uniform(Monitoring)
			}
			continue
		}
		good := Up
		if cls&BitDegraded != 0 || b&BitSignalLow != 0 {
			good = Degraded
		}
		down := uint8(b>>4) & 0x3f
		gd := uint8(b>>10) & 0x3f
		if down|gd == 0 {
			// before slots: the minute's state, whole
			if good = DataState(b); good == Down {
				down = 0x3f
			} else {
				gd = 0x3f
			}
		}
		rounds := down | gd
		isDown := down &^ gd
		base := SlotsPerMinute * i
		first := bits.TrailingZeros8(rounds)
		top := 7 - bits.LeadingZeros8(rounds)
		// slots before the first round take the previous round when it
		// is no more than six slots back
		carried := first > 0 && base-last <= SlotsPerMinute
		switch {
		case isDown == 0 && !(carried && lastDown):
			out[i] = Uniform(good)
		case gd == 0 && (!carried || lastDown):
			out[i] = Uniform(Down)
		default:
			var m Slots
			st := lastDown
			for s := range SlotsPerMinute {
				switch {
				case rounds&(1<<s) != 0:
					st = isDown&(1<<s) != 0
					last = base + s
				case s < first && base+s-last > SlotsPerMinute:
					st = isDown&(1<<first) != 0
				}
				if st {
					m = m.with(s, Down)
				} else {
					m = m.with(s, good)
				}
			}
			out[i] = m
		}
		last = base + top
		lastDown = isDown&(1<<top) != 0
		memo, memoOut, memoTop, memoTopDown, have = k, out[i], top, lastDown, true
	}
	return out
}

func refOutages(raw []Slots, maint []uint8, from UnixMinute, gap int64, lo, hi int) []Outage {
	var out []Outage
	add := func(first, last int) {
		if k := len(out) - 1; k >= 0 && int64(first-out[k].last-1)*SlotSeconds < gap {
			out[k].last = last
			out[k].Runs++
			return
		}
		out = append(out, Outage{first: first, last: last, Runs: 1})
	}
	start := -1
	for i, m := range raw {
		dm := m.Mask(Down)
		switch dm {
		case 0:
			if start >= 0 {
				add(start, SlotsPerMinute*i-1)
				start = -1
			}
			continue
		case 0x3f:
			if start < 0 {
				start = SlotsPerMinute * i
			}
			continue
		}
		for s := range SlotsPerMinute {
			g := SlotsPerMinute*i + s
			switch {
			case dm&(1<<s) != 0 && start < 0:
				start = g
			case dm&(1<<s) == 0 && start >= 0:
				add(start, g-1)
				start = -1
			}
		}
	}
	if start >= 0 {
		add(start, SlotsPerMinute*len(raw)-1)
	}
	for k := range out {
		o := &out[k]
		o.Start, o.End = slotTime(from, o.first), slotTime(from, o.last+1)
		o.DurationSeconds = int64(o.last-o.first+1) * SlotSeconds
		for i := o.first / SlotsPerMinute; i <= o.last/SlotsPerMinute; i++ {
			dm := raw[i].Mask(Down) & within(i, o.first, o.last)
			d := popcount6(dm) * SlotSeconds
			var mt int64
			if maint != nil {
				mt = popcount6(dm&maint[i]) * SlotSeconds
			}
			o.DownSeconds += d
			o.MaintenanceSeconds += mt
			if i >= lo && i < hi {
				o.InPeriodSeconds += d - mt
			}
		}
		o.DurationMinutes, o.DownMinutes = Min(o.DurationSeconds), Min(o.DownSeconds)
		o.MaintenanceMinutes, o.InPeriodMinutes = Min(o.MaintenanceSeconds), Min(o.InPeriodSeconds)
	}
	return out
}

func refDaily(eff []Slots, p Period, total *Counts) ([]*float64, []Counts) {
	n := int(p.End.Sub(p.Start).Hours()/24) + 1 // a day more for a change to summer time
	out := make([]*float64, 0, n)
	days := make([]Counts, 0, n)
	i := 0
	for d := p.Start; d.Before(p.End); d = d.AddDate(0, 0, 1) {
		n := int(d.AddDate(0, 0, 1).Sub(d) / time.Minute)
		var cnt Counts
		for _, m := range eff[min(i, len(eff)):min(i+n, len(eff))] {
			m.addSeconds(&cnt)
		}
		out = append(out, Pct(cnt[Up]+cnt[Degraded], cnt[Up]+cnt[Degraded]+cnt[Down]))
		days = append(days, cnt)
		for st, v := range cnt {
			total[st] += v
		}
		i += n
	}
	return out, days
}

// refFold is combineSite's fold as it was: a clone of the first link's
// states, then slot by slot with every other link.
func refFold(in [][]Slots) []Slots {
	out := slices.Clone(in[0])
	for _, l := range in[1:] {
		for i, s := range l {
			out[i] = combineSlots(out[i], s)
		}
	}
	return out
}

// randRuns returns n values drawn as runs (lengths 1 to maxRun, often
// short, sometimes a day or more) of values from pick.
func randRuns[T any](rng *rand.Rand, n, maxRun int, pick func() T) []T {
	out := make([]T, 0, n)
	for len(out) < n {
		v := pick()
		l := 1 + rng.IntN(3)
		switch rng.IntN(4) {
		case 0:
			l = 1 + rng.IntN(maxRun)
		case 1:
			l = 1 + rng.IntN(12)
		}
		for range min(l, n-len(out)) {
			out = append(out, v)
		}
	}
	return out
}

// randBits is a minute's bits: no data, a class alone (before slots),
// rounds with class, or anything.
func randBits(rng *rand.Rand) uint16 {
	switch rng.IntN(6) {
	case 0:
		return 0
	case 1:
		return uint16(rng.IntN(8)) & ClassBits
	case 2:
		return BitUp | 0x3f<<10
	case 3:
		return BitDown | 0x3f<<4
	case 4:
		return uint16(rng.IntN(8))&ClassBits | uint16(rng.IntN(64))<<4 | uint16(rng.IntN(64))<<10
	}
	return uint16(rng.Uint32())
}

// dirty returns n slots of garbage, as a pooled slice may hold.
func dirty(rng *rand.Rand, n int) []Slots {
	s := make([]Slots, n)
	for i := range s {
		s[i] = Slots(rng.Uint64())
	}
	return s
}

// TestRunPathsMatchReference: on random minute patterns (runs of every
// length, alternating minutes, runs across day boundaries, maintenance
// masks cutting runs), SlotStates, outages, daily and the site fold give
// exactly what the minute-by-minute references give.
func TestRunPathsMatchReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	// periods with 23- and 25-hour days, and a fixed zone
	periods := []Period{
		{Start: time.Date(2026, 3, 27, 0, 0, 0, 0, berlin), End: time.Date(2026, 4, 1, 0, 0, 0, 0, berlin)},
		{Start: time.Date(2026, 10, 23, 0, 0, 0, 0, berlin), End: time.Date(2026, 10, 28, 0, 0, 0, 0, berlin)},
		{Start: time.Date(2026, 10, 1, 0, 0, 0, 0, wit), End: time.Date(2026, 10, 4, 0, 0, 0, 0, wit)},
	}
	cases := 0
	for it := range 150 {
		p := periods[it%len(periods)]
		pn := int(p.End.Sub(p.Start) / time.Minute)
		margin := rng.IntN(1500)
		n := pn + margin + rng.IntN(1500)
		maxRun := []int{2, 50, 1440, 5000}[rng.IntN(4)]
		var palette []uint16
		for range 1 + rng.IntN(4) {
			palette = append(palette, randBits(rng))
		}
		pick := func() uint16 { return palette[rng.IntN(len(palette))] }
		if it%5 == 0 {
			pick = func() uint16 { return randBits(rng) }
		}
		var raws, effs [][]Slots
		var maints [][]uint8
		for range 1 + rng.IntN(3) {
			b := randRuns(rng, n, maxRun, pick)
			var coll []uint16
			if rng.IntN(2) == 0 {
				coll = randRuns(rng, n, maxRun, func() uint16 { return uint16(rng.IntN(2)) * BitSeen })
			}
			want := oldSlotStates(b, coll)
			if rule := refSlotStates(b, coll); !slices.Equal(rule, want) {
				t.Fatalf("case %d: the references differ", it)
			}
			got := dirty(rng, n)
			slotStatesInto(got, b, coll)
			if !slices.Equal(got, want) {
				i := 0
				for j := range got {
					if got[j] != want[j] {
						i = j
						break
					}
				}
				t.Fatalf("case %d: slots differ at minute %d: %v, want %v", it, i, got[i], want[i])
			}
			var maint []uint8
			if rng.IntN(3) > 0 {
				maint = randRuns(rng, n, maxRun, func() uint8 { return []uint8{0, 0, 0x3f, uint8(rng.IntN(64))}[rng.IntN(4)] })
			}
			raw, eff := overlay(b, coll, maint)
			raws, effs, maints = append(raws, raw), append(effs, eff), append(maints, maint)
			cases++
		}
		for k, raw := range raws {
			gap := []int64{0, 10, 60, 180, 3600}[rng.IntN(5)]
			lo := rng.IntN(n)
			hi := lo + rng.IntN(n-lo+1)
			from := UnixMinute(29_000_000 + rng.IntN(1440))
			if got, want := outages(raw, maints[k], from, gap, lo, hi), refOutages(raw, maints[k], from, gap, lo, hi); !reflect.DeepEqual(got, want) {
				t.Fatalf("case %d: outages\n%+v\nwant\n%+v", it, got, want)
			}
			var gc, wc Counts
			seg := effs[k][margin : margin+pn]
			gd, gdc := daily(seg, p, &gc)
			wd, wdc := refDaily(seg, p, &wc)
			if gc != wc || !reflect.DeepEqual(gd, wd) || !reflect.DeepEqual(gdc, wdc) {
				t.Fatalf("case %d: daily %v %v, want %v %v", it, gc, gdc, wc, wdc)
			}
		}
		// the site's fold, into dirty scratch slices from the pool
		for range 2 {
			slotsPool.put(dirty(rng, n+rng.IntN(100)))
		}
		sc := &scratch{}
		ss := combineSiteInto(raws, effs, sc)
		if want := refFold(raws); !slices.Equal(ss.raw, want) {
			t.Fatalf("case %d: site raw differs", it)
		}
		if want := refFold(effs); !slices.Equal(ss.eff, want) {
			t.Fatalf("case %d: site eff differs", it)
		}
		sc.release()
	}
	t.Logf("%d link patterns", cases)
}

// memSpans is a MemStore with declared monitored spans; memSpansInto
// also reads into the caller's slice (scratch slices).
type memSpans struct {
	*MemStore
	spans []Span
}

func (s memSpans) MonitoredSpans(context.Context) ([]Span, error) { return s.spans, nil }

type memSpansInto struct{ memSpans }

func (s memSpansInto) RangeInto(ctx context.Context, kind uint8, id string, from UnixMinute, out []uint16) error {
	return rangeIntoMem{s.MemStore}.RangeInto(ctx, kind, id, from, out)
}

// TestSiteWithLinksRandom: random minutes, heartbeats, collector gaps,
// maintenance windows (link and site scope, edges mid-minute and at
// midnight) and monitored spans (all, a site, an agent) over a month for
// sites of one to three links (a parent chain, a WIB and a WITA site,
// links with and without an agent, a contract): every site and link
// computed by SiteWithLinks from reused scratch slices, by four workers
// at once and each site three times, is exactly what Site and Link give
// one at a time from fresh slices; and a site's result equals the one
// from its maintenance mask built minute by minute.
func TestSiteWithLinksRandom(t *testing.T) {
	inv, err := inventory.Parse("inventory.yml", []byte(`
defaults:
  flap_merge_gap: 3m
sites:
  - {id: dc, name: DC, kind: datacenter, timezone: WIT}
  - {id: a, name: A, kind: opd, parent: dc, timezone: WIT, sla_target: 99.5}
  - {id: b, name: B, kind: opd, parent: dc, timezone: WIB, sla_target: 99}
  - {id: c, name: C, kind: opd, timezone: WIT}
  - {id: d, name: D, kind: opd, parent: a, timezone: WITA}
links:
  - {id: dc-1, site: dc, type: fibre, icmp: {target: 127.0.0.1}}
  - {id: dc-2, site: dc, type: fibre, icmp: {target: 127.0.0.2}}
  - id: a-1
    site: a
    type: fibre
    icmp: {target: 127.0.0.3, agent: ag-a}
    contract: {target: 99.5, min_outage: 300s, exclude: [power, maintenance, parent], monthly_fee: 15000000, restitution: proportional}
  - {id: b-1, site: b, type: fibre, icmp: {target: 127.0.0.4, agent: ag-b}}
  - {id: b-2, site: b, type: vsat, icmp: {target: 127.0.0.5}}
  - {id: b-3, site: b, type: vsat, icmp: {target: 127.0.0.6, agent: ag-b}}
  - {id: c-1, site: c, type: fibre, icmp: {target: 127.0.0.7}}
  - {id: c-2, site: c, type: fibre, icmp: {target: 127.0.0.8}}
  - {id: c-3, site: c, type: fibre, icmp: {target: 127.0.0.9}}
  - {id: d-1, site: d, type: fibre, icmp: {target: 127.0.0.10}}
`))
	if err != nil {
		t.Fatal(err)
	}
	p := october(t)
	from := MinuteOf(p.Start.Add(-3 * 24 * time.Hour).UnixNano())
	to := MinuteOf(p.End.Add(3 * 24 * time.Hour).UnixNano())
	n := int(to - from)
	for seed := range uint64(3) {
		rng := rand.New(rand.NewPCG(seed, 99))
		var marks []Mark
		add := func(kind uint8, id string, s []uint16) {
			for i, b := range s {
				if b != 0 {
					marks = append(marks, Mark{Kind: kind, ID: id, Minute: from + UnixMinute(i), Bits: b})
				}
			}
		}
		for _, l := range inv.Links {
			var palette []uint16
			for range 2 + rng.IntN(4) {
				palette = append(palette, randBits(rng))
			}
			if l.ID == "b-2" {
				palette = []uint16{0, 0, BitDown | 0x3f<<4} // mostly without data: gaps or nodata, by agent
			}
			add(KindLink, l.ID, randRuns(rng, n, 3000, func() uint16 {
				if rng.IntN(4) == 0 {
					return BitUp | 0x3f<<10
				}
				return palette[rng.IntN(len(palette))]
			}))
		}
		for _, s := range inv.Sites {
			if s.ID == "c" {
				continue // no heartbeats at all
			}
			add(KindSite, s.ID, randRuns(rng, n, 2000, func() uint16 { return uint16(rng.IntN(2)) * BitSeen }))
		}
		add(KindCollector, "", randRuns(rng, n, 5000, func() uint16 { return uint16(min(rng.IntN(5), 1)) * BitSeen }))
		st := NewMemStore()
		if err := st.Merge(context.Background(), marks); err != nil {
			t.Fatal(err)
		}
		var ws []Window
		for k := range 12 {
			start := p.Start.Add(time.Duration(rng.IntN(31*24*60)) * time.Minute)
			if k%3 == 0 {
				start = start.Add(time.Duration(rng.IntN(60)) * time.Second) // mid-minute
			}
			if k%4 == 0 {
				start = time.Date(start.Year(), start.Month(), start.Day(), 0, 0, 0, 0, wit).Add(-time.Duration(rng.IntN(90)) * time.Minute) // about midnight
			}
			w := Window{Scope: ScopeLink, Target: inv.Links[rng.IntN(len(inv.Links))].ID, Start: start, End: start.Add(time.Duration(1+rng.IntN(3000)) * time.Minute), Reason: "x"}
			if k%2 == 1 {
				w.Scope, w.Target = ScopeSite, inv.Sites[rng.IntN(len(inv.Sites))].ID
			}
			ws = append(ws, w)
		}
		// monitored spans (seed 1 has none): all, a site, an agent
		var spans []Span
		if seed != 1 {
			for k := range 6 {
				start := p.Start.Add(time.Duration(rng.IntN(31*24*60*60)) * time.Second)
				sp := Span{Scope: SpanAll, Start: start, End: start.Add(time.Duration(1+rng.IntN(2*24*60*60)) * time.Second)}
				switch k % 3 {
				case 1:
					sp.Scope, sp.Target = SpanSite, inv.Sites[rng.IntN(len(inv.Sites))].ID
				case 2:
					sp.Scope, sp.Target = SpanAgent, []string{"ag-a", "ag-b", "ag-b"}[rng.IntN(3)]
				}
				spans = append(spans, sp)
			}
		}
		ctx := context.Background()
		now := time.Date(2026, 11, 15, 0, 0, 0, 0, wit)
		fresh := (&Engine{Inv: inv, Store: memSpans{st, spans}, Windows: ws, Now: now}).NewComputation(p)
		c := (&Engine{Inv: inv, Store: memSpansInto{memSpans{st, spans}}, Windows: ws, Now: now}).NewComputation(p)
		type res struct {
			site  *SiteResult
			links []*LinkResult
		}
		got := make([]res, 3*len(inv.Sites)) // per job: site i in round r is job r*len+i
		var wg sync.WaitGroup
		jobs := make(chan int)
		errs := make(chan error, 4)
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range jobs {
					sr, links, err := c.SiteWithLinks(ctx, &inv.Sites[i%len(inv.Sites)])
					if err != nil {
						errs <- err
						continue
					}
					got[i] = res{sr, links}
				}
			}()
		}
		for round := range 3 {
			for i := range inv.Sites {
				jobs <- round*len(inv.Sites) + i
			}
		}
		close(jobs)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		for i := range inv.Sites {
			s := &inv.Sites[i]
			want, err := fresh.Site(ctx, s)
			if err != nil {
				t.Fatal(err)
			}
			for round := range 3 {
				g := got[round*len(inv.Sites)+i]
				if g.site == nil {
					t.Fatalf("site %s not computed in round %d", s.ID, round)
				}
				if !reflect.DeepEqual(g.site, want) {
					t.Errorf("seed %d: site %s differs:\n%+v\nwant\n%+v", seed, s.ID, g.site, want)
				}
				for j, l := range inv.LinksOfSite(s.ID) {
					w, err := fresh.Link(ctx, l)
					if err != nil {
						t.Fatal(err)
					}
					if !reflect.DeepEqual(g.links[j], w) {
						t.Errorf("seed %d: link %s differs:\n%+v\nwant\n%+v", seed, l.ID, g.links[j], w)
					}
				}
			}
			// the site's maintenance mask minute by minute
			ss, err := fresh.site(ctx, s)
			if err != nil {
				t.Fatal(err)
			}
			sx, err := fresh.siteContext(ctx, s)
			if err != nil {
				t.Fatal(err)
			}
			sp := fresh.extended(s)
			maint := make([]uint8, sp.n)
			for k, m := range ss.eff {
				maint[k] = m.Mask(Maintenance)
			}
			r, _ := fresh.result(s.SLATarget, ss.raw, ss.eff, maint, sp, s.Hours, fresh.hoursMask(s.Hours, s, sp),
				func(o *Outage) string { return cause(o, ss.raw, sx.parent, sx.heart, sx.power, sx.hasAgent) })
			if !reflect.DeepEqual(r, want.Result) {
				t.Errorf("seed %d: site %s with a minute-by-minute mask differs", seed, s.ID)
			}
			if seed == 0 && i == 0 {
				t.Logf("site %s: %d outages, availability %v", s.ID, len(want.Outages), fmt.Sprint(*want.Availability))
			}
		}
	}
}
