package report

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/pantau-noc/pantau/collector/internal/inventory"
	"github.com/pantau-noc/pantau/collector/internal/sla"
	"github.com/pantau-noc/pantau/collector/internal/statedb"
)

// The service-hours scenario of sla/hours_test.go, through the report:
// Fri 14 – Tue 18 August 2026 around the holiday of Mon 17 August, a WIT
// site (jpr) and a WIB site (jkt) with office hours Mon–Fri 07:30–16:00,
// both links down at the same instants:
//
//	A  Fri 14  15:30–16:30 WIT = 13:30–14:30 WIB   60 min
//	B  Mon 17  09:00–11:00 WIT = 07:00–09:00 WIB  120 min, the holiday
//	C  Tue 18  15:00–16:30 WIT = 13:00–14:30 WIB   90 min
const hoursReportInventory = `
defaults:
  service_hours: {schedule: kantor}
  schedules:
    kantor: {days: [mon, tue, wed, thu, fri], from: "07:30", to: "16:00", holidays: exclude}
sites:
  - {id: jpr, name: Jayapura, kind: opd, timezone: WIT}
  - {id: jkt, name: Jakarta, kind: opd, timezone: WIB}
links:
  - {id: jpr-fo, site: jpr, isp: Telkom, icmp: {target: 127.0.0.1}, contract: {target: 99, basis: service_hours}}
  - {id: jkt-fo, site: jkt, icmp: {target: 127.0.0.2}}
services:
  - {id: sim, name: SIM, site: jkt, probe: {measurement: http, target: sim}, service_hours: {days: [sat], from: "08:00", to: "12:00", holidays: include}}
`

func hoursReport(t *testing.T, period, lang string) *Report {
	t.Helper()
	ctx := context.Background()
	inv, err := inventory.Parse("inventory.yml", []byte(hoursReportInventory))
	if err != nil {
		t.Fatal(err)
	}
	db, err := statedb.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	wit := time.FixedZone("WIT", 9*3600)
	w := func(d, h, m int) time.Time { return time.Date(2026, 8, d, h, m, 0, 0, wit) }
	down := [][2]time.Time{{w(14, 15, 30), w(14, 16, 30)}, {w(17, 9, 0), w(17, 11, 0)}, {w(18, 15, 0), w(18, 16, 30)}}
	simDown := [2]time.Time{time.Date(2026, 8, 15, 9, 0, 0, 0, wib), time.Date(2026, 8, 15, 10, 0, 0, 0, wib)}
	within := func(tm time.Time, s [2]time.Time) bool { return !tm.Before(s[0]) && tm.Before(s[1]) }
	b := sla.NewBuilder(inv, nil)
	sim := b.ServiceOf([]byte("http"), "a", []byte("sim"))
	var marks []sla.Mark
	for tm := time.Date(2026, 8, 12, 0, 0, 0, 0, time.UTC); tm.Before(time.Date(2026, 8, 20, 0, 0, 0, 0, time.UTC)); tm = tm.Add(time.Minute) {
		up := !slices.ContainsFunc(down, func(s [2]time.Time) bool { return within(tm, s) })
		marks = b.ICMP(marks, "a", "", "127.0.0.1", tm.UnixNano(), up, 0, 0.01, up)
		marks = b.ICMP(marks, "a", "", "127.0.0.2", tm.UnixNano(), up, 0, 0.01, up)
		marks = append(marks, sim.Mark(tm.UnixNano(), !within(tm, simDown), 0.2, true))
		marks = append(marks, sla.Mark{Kind: sla.KindCollector, Minute: sla.MinuteOf(tm.UnixNano()), Bits: sla.BitSeen})
	}
	if err := db.Minutes().Merge(ctx, marks); err != nil {
		t.Fatal(err)
	}
	r, err := Build(ctx, Input{Inv: inv, Store: db.Minutes(), Index: db.Minutes()},
		Options{Period: period, Lang: lang, Zone: wib, Now: time.Date(2026, 9, 2, 0, 0, 0, 0, wib)})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestReportServiceHours(t *testing.T) {
	r := hoursReport(t, "2026-08-14..2026-08-18", LangID)
	// Open: Fri 14 and Tue 18, 510 min each = 1,020 per site (Mon 17 is
	// the holiday). Down inside: jpr 30 + 0 + 60 = 90, jkt 60 + 0 + 90 =
	// 150. Around the clock both: (7,200 − 270) / 7,200 = 96.25 %.
	want := map[string]float64{"jpr-fo": 100 * 930.0 / 1020, "jkt-fo": 100 * 870.0 / 1020, "jpr": 100 * 930.0 / 1020, "jkt": 100 * 870.0 / 1020}
	for _, l := range r.Links {
		if *l.Availability != 96.25 || l.ServiceHoursAvailability == nil || *l.ServiceHoursAvailability != want[l.Link] {
			t.Errorf("link %s: 24x7 %v, service hours %v; want 96.25, %v", l.Link, *l.Availability, fp(l.ServiceHoursAvailability), want[l.Link])
		}
	}
	for _, s := range r.Sites {
		if s.ServiceHoursAvailability == nil || *s.ServiceHoursAvailability != want[s.Site] {
			t.Errorf("site %s: service hours %v, want %v", s.Site, fp(s.ServiceHoursAvailability), want[s.Site])
		}
	}
	// sim: Sat 15 08:00–12:00 = 240 min, down 60: 75 %.
	if v := r.Services[0].ServiceHoursAvailability; v == nil || *v != 75 {
		t.Errorf("service sim: %v, want 75", fp(v))
	}
	// Summary over the links: (930 + 870) / (1,020 + 1,020) = 88.235 %.
	s := r.Summary
	if s.ServiceHoursAvailability == nil || *s.ServiceHoursAvailability != 100*1800.0/2040 ||
		*s.SiteServiceHoursAvailability != 100*1800.0/2040 || *s.ServiceServiceHoursAvailability != 75 {
		t.Errorf("summary %v %v %v", fp(s.ServiceHoursAvailability), fp(s.SiteServiceHoursAvailability), fp(s.ServiceServiceHoursAvailability))
	}
	// The contract over service hours: August has 19 working days ×
	// 510 = 9,690 minutes (21 weekdays less Mon 17 and Tue 25 Aug).
	if c := r.Contracts[0]; c.Basis != "service_hours" || c.PeriodMinutes != 9690 || c.CountedMinutes != 90 {
		t.Errorf("contract %+v", c)
	}

	// JSON
	var buf bytes.Buffer
	if err := Render(&buf, r, "json", ""); err != nil {
		t.Fatal(err)
	}
	var js struct {
		Summary map[string]any   `json:"summary"`
		Links   []map[string]any `json:"links"`
	}
	if err := json.Unmarshal(buf.Bytes(), &js); err != nil {
		t.Fatal(err)
	}
	if js.Links[0]["service_hours_availability_pct"] != want["jpr-fo"] || js.Summary["service_hours_availability_pct"] != 100*1800.0/2040 {
		t.Errorf("JSON: %v, %v", js.Links[0]["service_hours_availability_pct"], js.Summary["service_hours_availability_pct"])
	}
	// CSV
	buf.Reset()
	if err := Render(&buf, r, "csv", "links"); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"ketersediaan jam layanan %,jam layanan", ",91.176,\"kantor: Sen–Jum 07:30-16:00, kecuali hari libur\"", ",85.294,"} {
		if !strings.Contains(buf.String(), w) {
			t.Errorf("CSV has no %q:\n%s", w, buf.String())
		}
	}
	buf.Reset()
	if err := Render(&buf, r, "csv", "contracts"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "dasar target") || !strings.Contains(buf.String(), ",jam layanan") {
		t.Errorf("contracts CSV has no basis:\n%s", buf.String())
	}
	// HTML
	buf.Reset()
	if err := Render(&buf, r, "html", ""); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"Ketersediaan jam layanan", "ketersediaan jam layanan %", "88,235"} {
		if !strings.Contains(buf.String(), w) {
			t.Errorf("HTML has no %q", w)
		}
	}
	// XLSX
	buf.Reset()
	if err := Render(&buf, r, "xlsx", ""); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	found := false
	for _, sh := range f.GetSheetList() {
		rows, _ := f.GetRows(sh)
		if len(rows) > 1 && slices.Contains(rows[0], "ketersediaan jam layanan %") && slices.Contains(rows[0], "jalur") {
			found = slices.ContainsFunc(rows[1:], func(row []string) bool { return slices.Contains(row, "91.176") })
		}
	}
	if !found {
		t.Error("XLSX links sheet has no service-hours availability 91.176")
	}
	if r.HolidayWarning != "" {
		t.Errorf("warning %q; 2026 is built in", r.HolidayWarning)
	}
}

// TestReportHolidayNotes: a year without a calendar is a warning, a
// provisional year a note.
func TestReportHolidayNotes(t *testing.T) {
	r := hoursReport(t, "2028-01", LangEN)
	if !strings.Contains(r.HolidayWarning, "No holiday calendar for 2028") {
		t.Errorf("warning %q", r.HolidayWarning)
	}
	if !slices.ContainsFunc(r.Methods, func(n Note) bool { return n.Method == r.HolidayWarning }) {
		t.Error("the warning is not among the methods")
	}
	r = hoursReport(t, "2027-03", LangID)
	if r.HolidayWarning != "" || !slices.ContainsFunc(r.Methods, func(n Note) bool { return strings.Contains(n.Method, "Kalender hari libur 2027 masih sementara") }) {
		t.Errorf("2027: warning %q, methods %v", r.HolidayWarning, r.Methods)
	}
}
