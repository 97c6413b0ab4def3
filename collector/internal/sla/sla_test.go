package sla

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/inventory"
)

// The scripted history below is one October 2026 in WIT (UTC+9) for a
// Pemda with a data centre (dc) and two OPD sites under it. Every figure
// the tests assert is worked out by hand in the comments.
const testInventory = `
defaults:
  flap_merge_gap: 3m
sites:
  - {id: dc, name: DC Pemda, kind: datacenter, timezone: WIT}
  - {id: dinkes, name: Dinas Kesehatan, kind: opd, parent: dc, timezone: WIT, sla_target: 99.5}
  - {id: disdik, name: Dinas Pendidikan, kind: opd, parent: dc, timezone: WIT, sla_target: 99.5}
links:
  - {id: dc-core, site: dc, type: fibre, icmp: {target: 127.0.0.1}}
  - id: dinkes-wan
    site: dinkes
    type: fibre
    icmp: {target: 127.0.0.2}
    contract:
      target: 99.5
      min_outage: 300s
      exclude: [power, maintenance, parent]
      monthly_fee: 15000000
      restitution: proportional
  - {id: disdik-a, site: disdik, type: fibre, icmp: {target: 127.0.0.3}}
  - {id: disdik-b, site: disdik, type: vsat, icmp: {target: 127.0.0.4}}
`

var wit = time.FixedZone("WIT", 9*3600)

func at(mon time.Month, day, h, m int) time.Time { return time.Date(2026, mon, day, h, m, 0, 0, wit) }

type span struct{ from, to time.Time }

func (s span) has(t time.Time) bool { return !t.Before(s.from) && t.Before(s.to) }

func in(t time.Time, ss ...span) bool {
	for _, s := range ss {
		if s.has(t) {
			return true
		}
	}
	return false
}

func sp(a, b time.Time) span { return span{a, b} }

// round is one scripted ICMP round.
type round struct {
	link, target string
	t            time.Time
	up           bool
	loss, rtt    float64
}

var (
	dcDown = sp(at(10, 5, 12, 0), at(10, 5, 12, 20))
	// dinkes-wan, down: (the link's own outages)
	dinkesDown = []span{
		dcDown,                                   // 20 min, the parent was down too: cause parent
		sp(at(10, 10, 10, 0), at(10, 10, 10, 4)), // 4 min blip: under the contract's 300 s
		sp(at(10, 12, 6, 0), at(10, 12, 6, 2)),   // flap: 2 down, 2 up, 3 down = one outage
		sp(at(10, 12, 6, 4), at(10, 12, 6, 7)),   //   of 7 min with 5 down (gap 2 < 3)
		sp(at(10, 20, 8, 0), at(10, 20, 9, 0)),   // 60 min, of which 30 in a maintenance window
		sp(at(10, 25, 2, 0), at(10, 25, 3, 0)),   // 60 min power cut: the agent is silent too
		sp(at(10, 27, 9, 0), at(10, 27, 13, 17)), // 257 min ISP fault
		sp(at(10, 31, 23, 50), at(11, 1, 0, 20)), // 30 min across midnight and the month: 10 in October
	}
	dinkesMaint   = sp(at(10, 20, 8, 30), at(10, 20, 9, 0))
	dinkesPower   = sp(at(10, 25, 2, 0), at(10, 25, 3, 0))
	dinkesNoData  = sp(at(10, 15, 0, 0), at(10, 15, 2, 0)) // 120 min: nothing arrives, collector up
	collectorDown = sp(at(10, 16, 0, 0), at(10, 16, 1, 0)) // 60 min: the collector itself was off

	disdikADown     = []span{sp(at(10, 3, 10, 0), at(10, 3, 12, 0)), sp(at(10, 4, 10, 0), at(10, 4, 10, 30))}
	disdikBDown     = []span{sp(at(10, 4, 10, 0), at(10, 4, 10, 30))} // both down: the site is out 30 min
	disdikADegraded = sp(at(10, 6, 10, 0), at(10, 6, 10, 10))         // 10 % loss > fibre's 2 %
)

// script returns every round of the history, Sep 29 to Nov 3, every 30 s.
func script() []round {
	var out []round
	for t := at(9, 29, 0, 0); t.Before(at(11, 3, 0, 0)); t = t.Add(30 * time.Second) {
		if in(t, collectorDown) {
			continue
		}
		out = append(out, round{"dc-core", "127.0.0.1", t, !dcDown.has(t), 0, 0.002})
		if !in(t, dinkesNoData, dinkesPower) { // during the power cut the NOC-side probe still runs
			out = append(out, round{"dinkes-wan", "127.0.0.2", t, !in(t, dinkesDown...), 0, 0.010})
		} else if dinkesPower.has(t) {
			out = append(out, round{"dinkes-wan", "127.0.0.2", t, false, 1, 0})
		}
		loss := 0.0
		if disdikADegraded.has(t) {
			loss = 0.1
		}
		out = append(out, round{"disdik-a", "127.0.0.3", t, !in(t, disdikADown...), loss, 0.004})
		// VSAT: 700 ms is normal there and must not count as degraded
		out = append(out, round{"disdik-b", "127.0.0.4", t, !in(t, disdikBDown...), 0, 0.700})
	}
	return out
}

// heartbeats of the agents at dinkes (none during its power cut, the
// nodata gap or while the collector was off) and disdik.
func heartbeats() []Mark {
	var out []Mark
	for t := at(9, 29, 0, 0); t.Before(at(11, 3, 0, 0)); t = t.Add(time.Minute) {
		if in(t, collectorDown) {
			continue
		}
		m := MinuteOf(t.UnixNano())
		if !in(t, dinkesPower, dinkesNoData) {
			out = append(out, Mark{Kind: KindSite, ID: "dinkes", Minute: m, Bits: BitSeen})
		}
		out = append(out, Mark{Kind: KindSite, ID: "disdik", Minute: m, Bits: BitSeen})
		out = append(out, Mark{Kind: KindCollector, Minute: m, Bits: BitSeen})
	}
	return out
}

func loadInventory(t testing.TB) *inventory.Inventory {
	t.Helper()
	inv, err := inventory.Parse("inventory.yml", []byte(testInventory))
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

func build(t testing.TB, inv *inventory.Inventory, rounds []round, extra []Mark) *MemStore {
	t.Helper()
	b := NewBuilder(inv, nil)
	var marks []Mark
	for _, r := range rounds {
		hasRTT := r.up
		marks = b.ICMP(marks, "agent-1", "", r.target, r.t.UnixNano(), r.up, r.loss, r.rtt, hasRTT)
	}
	if len(marks) != len(rounds) {
		t.Fatalf("%d of %d rounds matched a link", len(marks), len(rounds))
	}
	st := NewMemStore()
	ctx := context.Background()
	// merge in chunks, like group commits
	all := append(marks, extra...)
	for len(all) > 0 {
		n := min(len(all), 997)
		if err := st.Merge(ctx, all[:n]); err != nil {
			t.Fatal(err)
		}
		all = all[n:]
	}
	return st
}

func october(t testing.TB) Period {
	p, err := ParsePeriod("2026-10", wit)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// minutes gives Figures from whole minutes per state.
func minutes(total, up, degraded, down, maint, nodata, monitoring int64) Figures {
	return Figures{
		Minutes: float64(total), Up: float64(up), Degraded: float64(degraded), Down: float64(down), Maint: float64(maint),
		NoData: float64(nodata), Monitoring: float64(monitoring),
		Seconds: 60 * total, UpSeconds: 60 * up, DegradedSeconds: 60 * degraded, DownSeconds: 60 * down,
		MaintSeconds: 60 * maint, NoDataSeconds: 60 * nodata, MonitoringSeconds: 60 * monitoring,
	}
}

func round3(p *float64) string {
	if p == nil {
		return "nil"
	}
	return fmt.Sprintf("%.3f", *p)
}

func TestLinkMonthExact(t *testing.T) {
	inv := loadInventory(t)
	st := build(t, inv, script(), heartbeats())
	e := &Engine{Inv: inv, Store: st, Windows: []Window{{ID: 1, Scope: ScopeLink, Target: "dinkes-wan", Start: dinkesMaint.from, End: dinkesMaint.to, Reason: "ganti perangkat"}},
		Now: at(11, 5, 0, 0)}
	c := e.NewComputation(october(t))
	r, err := c.Link(context.Background(), inv.Link("dinkes-wan"))
	if err != nil {
		t.Fatal(err)
	}
	// October in WIT: 31 × 1440 = 44,640 minutes.
	// Raw down minutes in October: 20 + 4 + 5 + 60 + 60 + 257 + 10 = 416,
	// of which 30 are under maintenance: down 386, maintenance 30.
	// nodata 120 (collector up), monitoring 60 (collector down).
	// up = 44,640 − 386 − 30 − 120 − 60 = 44,044.
	want := minutes(44640, 44044, 0, 386, 30, 120, 60)
	got := r.Figures
	got.Availability, got.Completeness, got.WorstCase = nil, nil, nil
	if got != want {
		t.Errorf("minutes:\n got %+v\nwant %+v", got, want)
	}
	// availability 44,044 / 44,430 = 99.131 %; completeness 44,430 / 44,550
	// = 99.731 %; worst case 44,044 / 44,550 = 98.864 %.
	for name, g := range map[string][2]string{
		"availability": {round3(r.Availability), "99.131"},
		"completeness": {round3(r.Completeness), "99.731"},
		"worst case":   {round3(r.WorstCase), "98.864"},
	} {
		if g[0] != g[1] {
			t.Errorf("%s = %s %%, want %s %%", name, g[0], g[1])
		}
	}
	if *r.Availability != 100*44044.0/44430 {
		t.Errorf("availability %v is not exactly 44044/44430", *r.Availability)
	}
	if r.Met == nil || *r.Met {
		t.Errorf("SLA met = %v, want false (99.131 < 99.5)", r.Met)
	}
	type o struct {
		start, end            time.Time
		dur, down, maint, inP float64 // minutes
		runs                  int
		cause                 string
	}
	wantO := []o{
		{at(10, 5, 12, 0), at(10, 5, 12, 20), 20, 20, 0, 20, 1, CauseParent},
		{at(10, 10, 10, 0), at(10, 10, 10, 4), 4, 4, 0, 4, 1, CauseISP},
		{at(10, 12, 6, 0), at(10, 12, 6, 7), 7, 5, 0, 5, 2, CauseISP},
		{at(10, 20, 8, 0), at(10, 20, 9, 0), 60, 60, 30, 30, 1, CauseISP},
		{at(10, 25, 2, 0), at(10, 25, 3, 0), 60, 60, 0, 60, 1, CausePower},
		{at(10, 27, 9, 0), at(10, 27, 13, 17), 257, 257, 0, 257, 1, CauseISP},
		{at(10, 31, 23, 50), at(11, 1, 0, 20), 30, 30, 0, 10, 1, CauseISP},
	}
	if len(r.Outages) != len(wantO) {
		t.Fatalf("%d outages, want %d: %+v", len(r.Outages), len(wantO), r.Outages)
	}
	for i, w := range wantO {
		g := r.Outages[i]
		gg := o{g.Start, g.End, g.DurationMinutes, g.DownMinutes, g.MaintenanceMinutes, g.InPeriodMinutes, g.Runs, g.Cause}
		if !gg.start.Equal(w.start) || !gg.end.Equal(w.end) || gg.dur != w.dur || gg.down != w.down ||
			gg.maint != w.maint || gg.inP != w.inP || gg.runs != w.runs || gg.cause != w.cause {
			t.Errorf("outage %d:\n got %+v\nwant %+v", i, gg, w)
		}
		if g.DurationSeconds != int64(60*w.dur) || g.DownSeconds != int64(60*w.down) || g.MaintenanceSeconds != int64(60*w.maint) || g.InPeriodSeconds != int64(60*w.inP) {
			t.Errorf("outage %d seconds %+v", i, g)
		}
	}
	// MTTR = (20 + 4 + 7 + 60 + 60 + 257 + 30) / 7 = 438 / 7 min;
	// MTBF = 44,044 / 7 = 6,292 min.
	if r.MTTRSeconds == nil || *r.MTTRSeconds != 438.0*60/7 || r.MTBFSeconds == nil || *r.MTBFSeconds != 6292*60 ||
		math.Abs(*r.MTTRMinutes-438.0/7) > 1e-9 || *r.MTBFMinutes != 6292 {
		t.Errorf("MTTR %v MTBF %v, want 62.571 and 6292", r.MTTRMinutes, r.MTBFMinutes)
	}
	// by cause: parent 20; power 60; ISP 4 + 5 + 30 + 257 + 10 = 306
	if w := map[string]float64{CauseParent: 20, CausePower: 60, CauseISP: 306}; !reflect.DeepEqual(r.DowntimeByCause, w) {
		t.Errorf("downtime by cause %v, want %v", r.DowntimeByCause, w)
	}
	if w := map[string]int64{CauseParent: 1200, CausePower: 3600, CauseISP: 18360}; !reflect.DeepEqual(r.DowntimeByCauseSeconds, w) {
		t.Errorf("downtime by cause %v s, want %v", r.DowntimeByCauseSeconds, w)
	}
	// Contract (excludes power, maintenance, parent; min 300 s):
	// parent 20 excluded; blip 4 short; flap 5 counted; 30 maintenance
	// excluded and 30 counted; power 60 excluded; 257 counted; 10 counted.
	// counted 5 + 30 + 257 + 10 = 302 > allowed floor(44,640 × 0.5 %) = 223:
	// missed; restitution 15,000,000 × 302 / 44,640 = 101,478.49 → Rp 101,478.
	if len(r.Contract) != 1 {
		t.Fatalf("%d contract months", len(r.Contract))
	}
	cm := r.Contract[0]
	// In seconds: 302 × 60 = 18,120 counted of 2,678,400, allowed 223 × 60
	// = 13,380; 15,000,000 × 18,120 / 2,678,400 = 101,478.49 → the same
	// Rp 101,478 (whole-minute data gives the minute figures exactly).
	// The computation's clock is Nov 5: October has ended (final), and its
	// last day is in the period (claimable).
	wantC := ContractMonth{
		Month: "2026-10", Active: true, PeriodMinutes: 44640, PeriodSeconds: 2678400, CountedMinutes: 302, CountedSeconds: 18120,
		ExcludedMinutes: map[string]float64{"parent": 20, ExcludedShort: 4, "maintenance": 30, "power": 60},
		ExcludedSeconds: map[string]int64{"parent": 1200, ExcludedShort: 240, "maintenance": 1800, "power": 3600},
		AllowedMinutes:  223, AllowedSeconds: 13380, Availability: 100 * float64(2678400-18120) / 2678400, Target: 99.5, Met: false,
		MonthlyFee: 15000000, Formula: "proportional", Restitution: 101478, Final: true, Claimable: true, Basis: "24x7",
		Outages: []int{2, 3, 5, 6}, CountedOutages: 4,
		// known: 44,640 − 120 nodata − 60 monitoring = 44,460 minutes
		// (the 30 maintenance minutes are known) = 2,667,600 s; 44,460 /
		// 44,640 = 99.597 % ≥ 90 %: complete, the restitution stands.
		KnownSeconds: 2667600, Completeness: 100 * 2667600.0 / 2678400, MinCompleteness: 90,
	}
	if !reflect.DeepEqual(cm, wantC) {
		t.Errorf("contract:\n got %+v\nwant %+v", cm, wantC)
	}
	if got := fmt.Sprintf("%.3f", cm.Availability); got != "99.323" {
		t.Errorf("ISP availability %s %%, want 99.323", got)
	}
}

func TestRestitutionExcessFormula(t *testing.T) {
	inv := loadInventory(t)
	inv.Link("dinkes-wan").Contract.Restitution = inventory.RestitutionExcess
	st := build(t, inv, script(), heartbeats())
	e := &Engine{Inv: inv, Store: st, Windows: []Window{{Scope: ScopeSite, Target: "dinkes", Start: dinkesMaint.from, End: dinkesMaint.to, Reason: "x"}}}
	r, err := e.NewComputation(october(t)).Link(context.Background(), inv.Link("dinkes-wan"))
	if err != nil {
		t.Fatal(err)
	}
	// 15,000,000 × (302 − 223) / 44,640 = 26,545.69 → Rp 26,545
	if got := r.Contract[0].Restitution; got != 26545 {
		t.Errorf("excess restitution Rp %d, want 26545", got)
	}
}

func TestRedundantSite(t *testing.T) {
	inv := loadInventory(t)
	st := build(t, inv, script(), heartbeats())
	e := &Engine{Inv: inv, Store: st}
	c := e.NewComputation(october(t))
	ctx := context.Background()
	a, err := c.Link(ctx, inv.Link("disdik-a"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.Link(ctx, inv.Link("disdik-b"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := c.Site(ctx, inv.Site("disdik"))
	if err != nil {
		t.Fatal(err)
	}
	// disdik-a: down 120 + 30 = 150, degraded 10, monitoring 60 (minutes).
	// availability (44,640 − 60 − 150) / (44,640 − 60) = 44,430 / 44,580 = 99.664 %
	if a.Down != 150 || a.Degraded != 10 || a.Monitoring != 60 || round3(a.Availability) != "99.664" {
		t.Errorf("disdik-a: %+v availability %s", a.Figures, round3(a.Availability))
	}
	// disdik-b (VSAT, 700 ms is within its 1,500 ms threshold): down 30, never degraded.
	if b.Down != 30 || b.Degraded != 0 || round3(b.Availability) != "99.933" {
		t.Errorf("disdik-b: %+v availability %s", b.Figures, round3(b.Availability))
	}
	// the site is out only when both are: 30 min; 44,550 / 44,580 = 99.933 %.
	if s.Down != 30 || s.Degraded != 0 || s.Links != 2 || round3(s.Availability) != "99.933" || len(s.Outages) != 1 {
		t.Errorf("disdik site: %+v availability %s outages %+v", s.Figures, round3(s.Availability), s.Outages)
	}
	if s.Met == nil || !*s.Met {
		t.Errorf("site SLA met = %v, want true", s.Met)
	}
	// disdik has an agent: both outages are the ISP's
	if a.DowntimeByCause[CauseISP] != 150 || a.DowntimeByCauseSeconds[CauseISP] != 9000 {
		t.Errorf("disdik-a by cause %v", a.DowntimeByCause)
	}
	// dc has no agent: its outage's cause is unknown
	d, err := c.Link(ctx, inv.Link("dc-core"))
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Outages) != 1 || d.Outages[0].Cause != CauseUnknown {
		t.Errorf("dc-core outages %+v", d.Outages)
	}
}

// Replaying the same rounds, shuffled and twice over, must give exactly
// the same stored states and figures.
func TestReplayOutOfOrderIdempotent(t *testing.T) {
	inv := loadInventory(t)
	rounds := script()
	hb := heartbeats()
	ref := build(t, inv, rounds, hb)

	r2 := append(append([]round(nil), rounds...), rounds[len(rounds)/3:]...)
	rng := rand.New(rand.NewPCG(1, 2))
	rng.Shuffle(len(r2), func(i, j int) { r2[i], r2[j] = r2[j], r2[i] })
	hb2 := append(append([]Mark(nil), hb...), hb...)
	rng.Shuffle(len(hb2), func(i, j int) { hb2[i], hb2[j] = hb2[j], hb2[i] })
	b := NewBuilder(inv, nil)
	var marks []Mark
	for _, r := range r2 {
		marks = b.ICMP(marks, "agent-1", "", r.target, r.t.UnixNano(), r.up, r.loss, r.rtt, r.up)
	}
	got := NewMemStore()
	_ = got.Merge(context.Background(), hb2)
	for i := len(marks); i > 0; i -= 1000 {
		_ = got.Merge(context.Background(), marks[max(0, i-1000):i])
	}
	if !reflect.DeepEqual(ref.days, got.days) {
		t.Fatal("replayed, shuffled rounds gave different minute states")
	}
	p := october(t)
	for _, id := range []string{"dinkes-wan", "disdik-a"} {
		a, _ := (&Engine{Inv: inv, Store: ref}).NewComputation(p).Link(context.Background(), inv.Link(id))
		b, _ := (&Engine{Inv: inv, Store: got}).NewComputation(p).Link(context.Background(), inv.Link(id))
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%s: results differ after replay", id)
		}
	}
}

func TestClassify(t *testing.T) {
	fibre := Thresholds{LossRatio: 0.02, RTT: 0.1}
	for _, c := range []struct {
		up        bool
		loss, rtt float64
		want      uint16
	}{
		{true, 0, 0.01, BitUp}, {true, 0.02, 0.1, BitUp}, {true, 0.021, 0.01, BitDegraded},
		{true, 0, 0.1001, BitDegraded}, {false, 1, 0, BitDown},
	} {
		if got := Classify(c.up, c.loss, c.rtt, c.up, fibre); got != c.want {
			t.Errorf("Classify(%v, %v, %v) = %d, want %d", c.up, c.loss, c.rtt, got, c.want)
		}
	}
	for bits, want := range map[uint16]State{0: NoData, BitUp: Up, BitDown: Down, BitDegraded: Degraded, BitUp | BitDown: Degraded, BitUp | BitDegraded: Degraded,
		BitSignalLow: NoData, BitUp | BitSignalLow: Degraded, BitDown | BitSignalLow: Down} {
		if got := DataState(bits); got != want {
			t.Errorf("DataState(%b) = %s, want %s", bits, got, want)
		}
	}
}

func TestParsePeriod(t *testing.T) {
	for in, want := range map[string][2]string{
		"2026-10":                {"2026-10-01T00:00:00+09:00", "2026-11-01T00:00:00+09:00"},
		"2026-Q4":                {"2026-10-01T00:00:00+09:00", "2027-01-01T00:00:00+09:00"},
		"2026":                   {"2026-01-01T00:00:00+09:00", "2027-01-01T00:00:00+09:00"},
		"2026-10-01..2026-10-15": {"2026-10-01T00:00:00+09:00", "2026-10-16T00:00:00+09:00"},
	} {
		p, err := ParsePeriod(in, wit)
		if err != nil {
			t.Fatal(err)
		}
		if got := [2]string{p.Start.Format(time.RFC3339), p.End.Format(time.RFC3339)}; got != want {
			t.Errorf("%s: %v, want %v", in, got, want)
		}
	}
	for _, bad := range []string{"", "26-10", "2026-13", "2026-Q5", "2026-10-15..2026-10-01", "x"} {
		if _, err := ParsePeriod(bad, wit); err == nil {
			t.Errorf("ParsePeriod(%q) accepted", bad)
		}
	}
	p, _ := ParsePeriod("2026-Q4", wit)
	if ms := p.Months(); len(ms) != 3 || ms[2].Label != "2026-12" {
		t.Errorf("months %+v", ms)
	}
	if _, n := p.Minutes(); n != 92*1440 {
		t.Errorf("Q4 has %d minutes", n)
	}
}

func TestRecurringMaintenance(t *testing.T) {
	// every Sunday 01:00–03:00 WIT from Oct 4 (a Sunday), until Oct 25
	w := Window{Scope: ScopeAll, Start: at(10, 4, 1, 0), End: at(10, 4, 3, 0), Repeat: RepeatWeekly, Until: at(10, 25, 0, 0), Reason: "pemeliharaan rutin"}
	if err := w.Validate(); err != nil {
		t.Fatal(err)
	}
	p := october(t)
	from, n := p.Minutes()
	mask := MaintenanceMask([]Window{w}, "x", "y", from, n)
	c := 0
	for _, v := range mask {
		if v {
			c++
		}
	}
	// Oct 4, 11, 18 (Oct 25 is not before Until): 3 × 120 minutes
	if c != 360 {
		t.Errorf("%d maintenance minutes, want 360", c)
	}
	bad := w
	bad.End = at(10, 12, 3, 0)
	if err := bad.Validate(); err == nil {
		t.Error("a weekly window longer than a week was accepted")
	}
}

func TestMinuteOfNegative(t *testing.T) {
	if MinuteOf(-1) != -1 || MinuteOf(0) != 0 || MinuteOf(59_999_999_999) != 0 {
		t.Error("MinuteOf floors wrongly")
	}
	if d, o := DayOf(-1); d != -1 || o != 1439 {
		t.Errorf("DayOf(-1) = %d, %d", d, o)
	}
}

// SiteWithLinks (what reports use) gives what Link and Site give.
func TestSiteWithLinksMatches(t *testing.T) {
	inv := loadInventory(t)
	st := build(t, inv, script(), heartbeats())
	e := &Engine{Inv: inv, Store: st, Windows: []Window{{Scope: ScopeLink, Target: "dinkes-wan", Start: dinkesMaint.from, End: dinkesMaint.to, Reason: "x"}}}
	ctx := context.Background()
	for _, id := range []string{"dinkes", "disdik", "dc"} {
		s := inv.Site(id)
		c1 := e.NewComputation(october(t))
		sr, links, err := c1.SiteWithLinks(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		c2 := e.NewComputation(october(t))
		want, err := c2.Site(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(sr, want) {
			t.Errorf("site %s differs", id)
		}
		for i, l := range inv.LinksOfSite(id) {
			w, err := c2.Link(ctx, l)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(links[i], w) {
				t.Errorf("link %s differs", l.ID)
			}
		}
	}
}

// Folding the pairwise table equals combine over every list of up to
// four states.
func TestCombineFold(t *testing.T) {
	var rec func(prefix []State)
	rec = func(prefix []State) {
		if len(prefix) > 0 {
			got := prefix[0]
			for _, s := range prefix[1:] {
				got = combineTable[got][s]
			}
			if want := combine(prefix); got != want {
				t.Fatalf("fold %v = %s, combine = %s", prefix, got, want)
			}
		}
		if len(prefix) == 4 {
			return
		}
		for s := State(0); s < numStates; s++ {
			rec(append(append([]State(nil), prefix...), s))
		}
	}
	rec(nil)
}

// The ingest path's byte lookups agree with the inventory's matching.
func TestBuilderBytesMatchInventory(t *testing.T) {
	inv, err := inventory.Parse("i.yml", []byte(`
sites: [{id: s, name: S, kind: opd}]
links:
  - {id: a, site: s, icmp: {target: 127.0.0.1}}
  - {id: b, site: s, icmp: {target: 127.0.0.1, agent: x}}
  - {id: c, site: s, icmp: {target: 127.0.0.3}}
`))
	if err != nil {
		t.Fatal(err)
	}
	b := NewBuilder(inv, nil)
	for _, c := range []struct{ agent, link, target string }{
		{"x", "", "127.0.0.1"}, {"y", "", "127.0.0.1"}, {"y", "c", "127.0.0.1"}, {"y", "zz", "127.0.0.3"}, {"y", "", "127.0.0.9"}, {"", "", ""},
	} {
		want := ""
		if l := inv.MatchICMP(c.link, c.agent, c.target); l != nil {
			want = l.ID
		}
		got := ""
		if m := b.ICMPBytes(nil, c.agent, []byte(c.link), []byte(c.target), 0, true, 0, 0, false); len(m) == 1 {
			got = m[0].ID
		}
		if got != want {
			t.Errorf("%+v: bytes path %q, inventory %q", c, got, want)
		}
	}
	if m := b.HeartbeatBytes(nil, []byte("s"), 0); len(m) != 1 || m[0].ID != "s" {
		t.Errorf("heartbeat %v", m)
	}
	if m := b.HeartbeatBytes(nil, []byte("nope"), 0); len(m) != 0 {
		t.Errorf("heartbeat of an unknown site %v", m)
	}
}
