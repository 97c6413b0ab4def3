package report

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/inventory"
	"github.com/pantau-noc/pantau/collector/internal/sla"
)

// November 2026 of one fibre link in WIT whose ISP contract (99.5 %,
// min_outage 300 s, Rp 15,000,000 a month, proportional) it misses, as in
// the issue: rounds every 10 s at second 5; two ISP outages (the site's
// agent reports throughout):
//
//	Nov 5  10:00:00–13:51:40  13,900 s (231 min 40 s)
//	Nov 20 10:00:00–11:40:00   6,000 s (100 min)
//
// November has 43,200 minutes = 2,592,000 s; allowed ⌊43,200 × 0.5 %⌋ =
// 216 min = 12,960 s. Counted 19,900 s > 12,960: missed. Restitution
// ⌊15,000,000 × 19,900 / 2,592,000⌋ = ⌊115,162.04⌋ = Rp 115,162.
//
// A report of 2026-11-20 alone used to compute the row over its 1,440
// minutes: ⌊15,000,000 × 100 / 1,440⌋ = Rp 1,041,666.
const contractInventory = `
sites:
  - {id: kantor, name: Kantor, kind: opd, timezone: WIT}
links:
  - id: wan
    site: kantor
    type: fibre
    isp: Telkom
    icmp: {target: 127.0.0.2}
    contract: {target: 99.5, min_outage: 300s, monthly_fee: 15000000, restitution: proportional}
`

var wit = time.FixedZone("WIT", 9*3600)

func novemberStore(t *testing.T) (*inventory.Inventory, *sla.MemStore) {
	t.Helper()
	inv, err := inventory.Parse("inventory.yml", []byte(contractInventory))
	if err != nil {
		t.Fatal(err)
	}
	b := sla.NewBuilder(inv, nil)
	cuts := [][2]time.Time{
		{time.Date(2026, 11, 5, 10, 0, 0, 0, wit), time.Date(2026, 11, 5, 13, 51, 40, 0, wit)},
		{time.Date(2026, 11, 20, 10, 0, 0, 0, wit), time.Date(2026, 11, 20, 11, 40, 0, 0, wit)},
	}
	st := sla.NewMemStore()
	var marks []sla.Mark
	for ts := time.Date(2026, 10, 30, 0, 0, 5, 0, wit); ts.Before(time.Date(2026, 12, 2, 0, 0, 0, 0, wit)); ts = ts.Add(10 * time.Second) {
		up := true
		for _, c := range cuts {
			if !ts.Before(c[0]) && ts.Before(c[1]) {
				up = false
			}
		}
		marks = b.ICMP(marks, "a", "", "127.0.0.2", ts.UnixNano(), up, 0, 0.004, up)
		if ts.Second() == 5 {
			m := sla.MinuteOf(ts.UnixNano())
			marks = append(marks, sla.Mark{Kind: sla.KindCollector, Minute: m, Bits: sla.BitSeen}, sla.Mark{Kind: sla.KindSite, ID: "kantor", Minute: m, Bits: sla.BitSeen})
		}
		if len(marks) > 10000 {
			if err := st.Merge(context.Background(), marks); err != nil {
				t.Fatal(err)
			}
			marks = marks[:0]
		}
	}
	if err := st.Merge(context.Background(), marks); err != nil {
		t.Fatal(err)
	}
	return inv, st
}

func contractReport(t *testing.T, inv *inventory.Inventory, st sla.Store, period string, now time.Time) *Report {
	t.Helper()
	r, err := Build(context.Background(), Input{Inv: inv, Store: st}, Options{Period: period, Zone: wit, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Contracts) != 1 {
		t.Fatalf("%s: contract rows %+v", period, r.Contracts)
	}
	return r
}

// The contract row of a one-day period is the whole month's; while
// November runs it is not final and nothing is claimable yet.
func TestOneDayPeriodShowsWholeMonth(t *testing.T) {
	inv, st := novemberStore(t)
	running := time.Date(2026, 11, 25, 12, 0, 0, 0, wit)
	r := contractReport(t, inv, st, "2026-11-20..2026-11-20", running)
	c := r.Contracts[0]
	if c.Month != "2026-11" || c.PeriodMinutes != 43200 || c.PeriodSeconds != 2592000 || c.CountedSeconds != 19900 ||
		c.AllowedMinutes != 216 || c.Met || c.Restitution != 115162 || c.Final || c.Claimable || c.CountedOutages != 2 {
		t.Errorf("one-day contract row %+v, want November whole: 19,900 s counted, Rp 115,162, not final", c.ContractMonth)
	}
	// the period's own figures are the day's: one outage of 100 minutes
	if len(r.Incidents) != 1 || r.Incidents[0].DurationSeconds != 6000 || !r.Incidents[0].ContractCounted || c.Outages[0] != 0 {
		t.Errorf("incidents %+v, row outages %v", r.Incidents, c.Outages)
	}
	if r.Links[0].Seconds != 86400 || r.Links[0].DownSeconds != 6000 {
		t.Errorf("link figures %+v", r.Links[0].Figures)
	}
	if r.Summary.Restitution != 0 || r.Summary.RestitutionProvisional != 115162 {
		t.Errorf("claimable Rp %d, provisional Rp %d; want 0 and 115,162", r.Summary.Restitution, r.Summary.RestitutionProvisional)
	}
	// the whole month's report, now that November has ended: final and
	// claimable; the one-day row equals it but for those two flags
	ended := time.Date(2026, 12, 3, 0, 0, 0, 0, wit)
	m := contractReport(t, inv, st, "2026-11", ended)
	want := m.Contracts[0]
	if !want.Final || !want.Claimable || m.Summary.Restitution != 115162 || m.Summary.RestitutionProvisional != 0 {
		t.Errorf("month row %+v, summary Rp %d", want.ContractMonth, m.Summary.Restitution)
	}
	c.Final, c.Claimable, c.Outages = true, true, want.Outages
	if !reflect.DeepEqual(c, want) {
		t.Errorf("one-day row\n%+v\nmonth row\n%+v", c, want)
	}
}

// Two halves of November add up to the month: each shows the whole
// month's contract row, the period figures of the halves add up to the
// month's, and the claim is the month's, once, in the half that contains
// its last day (and only once November has ended).
func TestHalvesAddUpToTheMonth(t *testing.T) {
	inv, st := novemberStore(t)
	ended := time.Date(2026, 12, 3, 0, 0, 0, 0, wit)
	month := contractReport(t, inv, st, "2026-11", ended)
	h1 := contractReport(t, inv, st, "2026-11-01..2026-11-15", ended)
	h2 := contractReport(t, inv, st, "2026-11-16..2026-11-30", ended)
	for i, h := range []*Report{h1, h2} {
		c := h.Contracts[0].ContractMonth
		w := month.Contracts[0].ContractMonth
		c.Claimable, c.Outages, w.Outages = w.Claimable, nil, nil
		if !reflect.DeepEqual(c, w) {
			t.Errorf("half %d contract row\n%+v\nmonth\n%+v", i+1, c, w)
		}
	}
	if h1.Contracts[0].Claimable || !h2.Contracts[0].Claimable || h1.Summary.Restitution+h2.Summary.Restitution != month.Summary.Restitution || month.Summary.Restitution != 115162 {
		t.Errorf("claimable: first half Rp %d, second Rp %d, month Rp %d", h1.Summary.Restitution, h2.Summary.Restitution, month.Summary.Restitution)
	}
	if h1.Links[0].DownSeconds+h2.Links[0].DownSeconds != month.Links[0].DownSeconds || month.Links[0].DownSeconds != 19900 ||
		h1.Summary.DowntimeSeconds+h2.Summary.DowntimeSeconds != month.Summary.DowntimeSeconds {
		t.Errorf("down time: halves %d + %d s, month %d s", h1.Links[0].DownSeconds, h2.Links[0].DownSeconds, month.Links[0].DownSeconds)
	}
	// while November runs the second half claims nothing either
	running := contractReport(t, inv, st, "2026-11-16..2026-11-30", time.Date(2026, 11, 30, 23, 0, 0, 0, wit))
	if running.Contracts[0].Final || running.Summary.Restitution != 0 || running.Summary.RestitutionProvisional != 115162 {
		t.Errorf("second half before the month ended: %+v, summary %d", running.Contracts[0].ContractMonth, running.Summary.Restitution)
	}
}

// A quarter claims each of its ended months; a period across two months
// shows both whole.
func TestPeriodAcrossMonths(t *testing.T) {
	inv, st := novemberStore(t)
	r := contractReport2(t, inv, st, "2026-10-31..2026-11-01", time.Date(2026, 12, 3, 0, 0, 0, 0, wit))
	if len(r.Contracts) != 2 || r.Contracts[0].Month != "2026-10" || r.Contracts[0].PeriodMinutes != 44640 || r.Contracts[1].Month != "2026-11" ||
		r.Contracts[1].PeriodMinutes != 43200 || !r.Contracts[0].Claimable || r.Contracts[1].Claimable || r.Contracts[1].Restitution != 115162 {
		t.Errorf("rows %+v", r.Contracts)
	}
}

func contractReport2(t *testing.T, inv *inventory.Inventory, st sla.Store, period string, now time.Time) *Report {
	t.Helper()
	r, err := Build(context.Background(), Input{Inv: inv, Store: st}, Options{Period: period, Zone: wit, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return r
}
