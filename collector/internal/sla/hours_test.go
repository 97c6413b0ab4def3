package sla

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/calendar"
	"github.com/pantau-noc/pantau/collector/internal/inventory"
)

// The service-hours scenario: five days, Fri 14 to Tue 18 August 2026,
// around Monday 17 August (Hari Proklamasi Kemerdekaan, a libur
// nasional). Two sites with the same office hours, Mon–Fri 07:30–16:00
// local time excluding holidays: jpr in Jayapura (WIT, UTC+9) and jkt in
// Jakarta (WIB, UTC+7). Both links fail at the same instants:
//
//	A  Fri 14  15:30–16:30 WIT = 13:30–14:30 WIB   60 min, straddles 16:00 WIT
//	B  Mon 17  09:00–11:00 WIT = 07:00–09:00 WIB  120 min, on the holiday
//	C  Tue 18  15:00–16:30 WIT = 13:00–14:30 WIB   90 min, straddles 16:00 WIT
//
// A service at jkt (sim) has its own hours: Saturdays 08:00–12:00,
// holidays included, and is down Sat 15 09:00–10:00 WIB.
const hoursInventory = `
defaults:
  service_hours: {schedule: kantor}
  schedules:
    kantor: {days: [mon, tue, wed, thu, fri], from: "07:30", to: "16:00", holidays: exclude}
sites:
  - {id: jpr, name: Jayapura, kind: opd, timezone: WIT}
  - {id: jkt, name: Jakarta, kind: opd, timezone: WIB}
links:
  - {id: jpr-fo, site: jpr, icmp: {target: 127.0.0.1}, contract: {target: 99, basis: service_hours}}
  - {id: jkt-fo, site: jkt, icmp: {target: 127.0.0.2}}
services:
  - {id: sim, name: SIM, site: jkt, probe: {measurement: http, target: sim}, service_hours: {days: [sat], from: "08:00", to: "12:00", holidays: include}}
`

var witZ, wibZ = time.FixedZone("WIT", 9*3600), time.FixedZone("WIB", 7*3600)

func hoursStore(t *testing.T, inv *inventory.Inventory) *MemStore {
	t.Helper()
	w := func(d, h, m int) time.Time { return time.Date(2026, 8, d, h, m, 0, 0, witZ) }
	down := []span{sp(w(14, 15, 30), w(14, 16, 30)), sp(w(17, 9, 0), w(17, 11, 0)), sp(w(18, 15, 0), w(18, 16, 30))}
	simDown := sp(time.Date(2026, 8, 15, 9, 0, 0, 0, wibZ), time.Date(2026, 8, 15, 10, 0, 0, 0, wibZ))
	b := NewBuilder(inv, nil)
	var marks []Mark
	for ts := time.Date(2026, 8, 12, 0, 0, 0, 0, time.UTC); ts.Before(time.Date(2026, 8, 20, 0, 0, 0, 0, time.UTC)); ts = ts.Add(30 * time.Second) {
		up := !in(ts, down...)
		marks = b.ICMP(marks, "agent-1", "", "127.0.0.1", ts.UnixNano(), up, 0, 0.01, up)
		marks = b.ICMP(marks, "agent-1", "", "127.0.0.2", ts.UnixNano(), up, 0, 0.01, up)
		if ts.Second() == 0 {
			sc := b.ServiceOf([]byte("http"), "agent-1", []byte("sim"))
			marks = append(marks, sc.Mark(ts.UnixNano(), !simDown.has(ts), 0.2, true))
			marks = append(marks, Mark{Kind: KindCollector, Minute: MinuteOf(ts.UnixNano()), Bits: BitSeen})
		}
	}
	st := NewMemStore()
	for len(marks) > 0 {
		n := min(len(marks), 997)
		if err := st.Merge(context.Background(), marks[:n]); err != nil {
			t.Fatal(err)
		}
		marks = marks[n:]
	}
	return st
}

func TestServiceHoursAvailability(t *testing.T) {
	inv, err := inventory.Parse("inventory.yml", []byte(hoursInventory))
	if err != nil {
		t.Fatal(err)
	}
	st := hoursStore(t, inv)
	p, err := ParsePeriod("2026-08-14..2026-08-18", wibZ)
	if err != nil {
		t.Fatal(err)
	}
	e := &Engine{Inv: inv, Store: st, Now: time.Date(2026, 9, 2, 0, 0, 0, 0, time.UTC)}
	c := e.NewComputation(p)
	ctx := context.Background()

	// Each site's period is its own five local days: 5 × 1440 = 7,200
	// minutes. Both links are down A + B + C = 60 + 120 + 90 = 270 min:
	// up 6,930, around the clock 6,930 / 7,200 = 96.25 % at both.
	//
	// Service hours: Fri 14 and Tue 18 are open, 07:30–16:00 = 510 min
	// each; Sat 15 and Sun 16 are closed; Mon 17 is a holiday. Open:
	// 2 × 510 = 1,020 min at both sites.
	//   jpr (WIT): A 15:30–16:00 = 30 in, B 0 (holiday), C 15:00–16:00 =
	//   60 in: down 90, 930 / 1,020 = 91.176 %.
	//   jkt (WIB): A 13:30–14:30 = 60 in, B 0 (holiday; 90 on a working
	//   Monday), C 13:00–14:30 = 90 in: down 150, 870 / 1,020 = 85.294 %.
	for _, w := range []struct {
		site, link        string
		open, avail, down int64
	}{
		{"jpr", "jpr-fo", 1020, 930, 90},
		{"jkt", "jkt-fo", 1020, 870, 150},
	} {
		sr, links, err := c.SiteWithLinks(ctx, inv.Site(w.site))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range []*Figures{&sr.Figures, &links[0].Figures} {
			if f.Minutes != 7200 || f.Down != 270 || f.Up != 6930 || *f.Availability != 100*6930.0/7200 {
				t.Errorf("%s: around the clock changed: %+v", w.site, f)
			}
			h := f.HoursFigures
			if h.ServiceHoursSeconds != 60*w.open || h.ServiceHoursKnownSeconds != 60*w.open || h.ServiceHoursAvailableSeconds != 60*w.avail {
				t.Errorf("%s: service hours %d s open, %d known, %d available; want %d min, %d, %d",
					w.site, h.ServiceHoursSeconds, h.ServiceHoursKnownSeconds, h.ServiceHoursAvailableSeconds, w.open, w.open, w.avail)
			}
			if want := 100 * float64(w.avail) / float64(w.open); h.ServiceHoursAvailability == nil || *h.ServiceHoursAvailability != want {
				t.Errorf("%s: service hours availability %s, want %.3f", w.site, round3(h.ServiceHoursAvailability), want)
			}
			if h.ServiceHours != "kantor: mon-fri 07:30-16:00, excl. holidays" {
				t.Errorf("%s: schedule %q", w.site, h.ServiceHours)
			}
		}
		if w.site == "jpr" {
			// The contract is over service hours: August 2026 has 21
			// weekdays (Mon 3 – Mon 31), of which Mon 17 and Tue 25
			// (Maulid Nabi) are holidays: 19 × 510 = 9,690 minutes.
			// Counted: A 30 + C 60 = 90 min (B is on the holiday; there
			// is no agent, so the cause is unknown and not excluded).
			// Allowed ⌊9,690 × 1 %⌋ = 96 min: met. ISP availability
			// (9,690 − 90) / 9,690 = 99.071 %.
			cm := links[0].Contract[0]
			if cm.Basis != inventory.BasisServiceHours || cm.PeriodMinutes != 9690 || cm.CountedSeconds != 90*60 ||
				cm.AllowedMinutes != 96 || !cm.Met || cm.Availability != 100*9600.0/9690 {
				t.Errorf("contract over service hours: %+v", cm)
			}
		}
	}

	// sim: its own hours, Sat 15 08:00–12:00 WIB = 240 min, down 09:00–
	// 10:00 = 60: 180 / 240 = 75 %. Around the clock: 7,140 / 7,200.
	sv, err := c.Service(ctx, inv.Service("sim"))
	if err != nil {
		t.Fatal(err)
	}
	if h := sv.HoursFigures; h.ServiceHoursSeconds != 240*60 || h.ServiceHoursAvailability == nil || *h.ServiceHoursAvailability != 75 ||
		*sv.Availability != 100*7140.0/7200 {
		t.Errorf("service sim: %+v, 24x7 %s", h, round3(sv.Availability))
	}
	if got := c.MissingHolidayYears(); len(got) != 0 {
		t.Errorf("missing holiday years %v; 2026 is built in", got)
	}

	// A calendar whose 2026 has no holidays: Mon 17 is a working day.
	// jpr opens 3 × 510 = 1,530 min; B 09:00–11:00 WIT is inside: down
	// 30 + 120 + 60 = 210, 1,320 / 1,530 = 86.275 %.
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "holidays-2026.yml"), []byte("year: 2026\nholidays: []\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cal, err := calendar.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	e2 := &Engine{Inv: inv, Store: st, Now: e.Now, Holidays: cal}
	lr, err := e2.NewComputation(p).Link(ctx, inv.Link("jpr-fo"))
	if err != nil {
		t.Fatal(err)
	}
	if h := lr.HoursFigures; h.ServiceHoursSeconds != 1530*60 || *h.ServiceHoursAvailability != 100*1320.0/1530 {
		t.Errorf("without the holiday: %+v", h)
	}
}

// TestServiceHoursMissingYear: a year without a calendar is reported.
func TestServiceHoursMissingYear(t *testing.T) {
	inv, err := inventory.Parse("inventory.yml", []byte(hoursInventory))
	if err != nil {
		t.Fatal(err)
	}
	p, err := ParsePeriod("2028-01-03..2028-01-04", wibZ)
	if err != nil {
		t.Fatal(err)
	}
	c := (&Engine{Inv: inv, Store: NewMemStore(), NoContracts: true}).NewComputation(p)
	if _, err := c.Link(context.Background(), inv.Link("jkt-fo")); err != nil {
		t.Fatal(err)
	}
	if got := c.MissingHolidayYears(); !slices.Equal(got, []int{2028}) {
		t.Errorf("missing years %v, want [2028]", got)
	}
}
