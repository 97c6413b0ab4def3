package report

import (
	"bytes"
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/capacity"
	"github.com/pantau-noc/pantau/collector/internal/inventory"
	"github.com/pantau-noc/pantau/collector/internal/sla"
	"github.com/pantau-noc/pantau/collector/internal/statedb"
)

// readersInventory: Setda has two redundant links, the district office
// one.
const readersInventory = `
opds:
  - {id: setda, name: Sekretariat Daerah}
sites:
  - {id: setda-kantor, name: Kantor Setda, kind: opd, opd: setda, timezone: WIB}
  - {id: dist-x, name: Kantor Distrik X, kind: district, opd: setda, timezone: WIB}
  - {id: dist-y, name: Kantor Distrik Y, kind: district, opd: setda, timezone: WIB}
links:
  - {id: setda-fo, site: setda-kantor, type: fibre, icmp: {target: 127.0.0.11}}
  - {id: setda-radio, site: setda-kantor, type: radio, icmp: {target: 127.0.0.12}}
  - {id: setda-spare, site: dist-y, type: radio}
  - {id: distx-vsat, site: dist-x, type: vsat, icmp: {target: 127.0.0.13}}
`

// readersFixture stores 2026-10-05 (WIB) with three link outages:
// setda-fo down 08:00–13:00, setda-radio down 10:00–14:52, distx-vsat
// down 15:00–20:20.
func readersFixture(t *testing.T, invText string) (*inventory.Inventory, *statedb.DB) {
	t.Helper()
	ctx := context.Background()
	inv, db := openFixture(t, invText)
	b := sla.NewBuilder(inv, nil)
	at := func(h, m int) time.Time { return time.Date(2026, 10, 5, h, m, 0, 0, wib) }
	down := map[string][2]time.Time{
		"127.0.0.11": {at(8, 0), at(13, 0)},
		"127.0.0.12": {at(10, 0), at(14, 52)},
		"127.0.0.13": {at(15, 0), at(20, 20)},
	}
	var marks []sla.Mark
	for tm := at(0, 0); tm.Before(at(24, 0)); tm = tm.Add(10 * time.Second) {
		for target, d := range down {
			up := tm.Before(d[0]) || !tm.Before(d[1])
			marks = b.ICMP(marks, "a", "", target, tm.UnixNano(), up, 0, 0.01, up)
		}
		if tm.Second() == 0 {
			marks = append(marks, sla.Mark{Kind: sla.KindCollector, Minute: sla.MinuteOf(tm.UnixNano()), Bits: sla.BitSeen})
		}
	}
	if err := db.Minutes().Merge(ctx, marks); err != nil {
		t.Fatal(err)
	}
	return inv, db
}

// TestSiteDowntimeApartFromLinkMinutes: the summary gives the sites' down
// time and the links' down time apart, each labelled.
func TestSiteDowntimeApartFromLinkMinutes(t *testing.T) {
	inv, db := readersFixture(t, readersInventory)
	r := buildReport(t, inv, db, "2026-10-05..2026-10-05", LangID)
	// link-minutes: setda-fo 08:00–13:00 = 300, setda-radio 10:00–14:52 =
	// 292, distx-vsat 15:00–20:20 = 320: 300 + 292 + 320 = 912.
	// site minutes: Setda is down only while both its links are, 10:00–
	// 13:00 = 180; Distrik X with its one link 320: 180 + 320 = 500.
	s := r.Summary
	if s.DowntimeMinutes != 912 || s.DowntimeSeconds != 912*60 {
		t.Errorf("link-minutes %v (%d s), want 912", s.DowntimeMinutes, s.DowntimeSeconds)
	}
	if s.SiteDowntimeMinutes != 500 || s.SiteDowntimeSeconds != 500*60 {
		t.Errorf("site downtime %v (%d s), want 500", s.SiteDowntimeMinutes, s.SiteDowntimeSeconds)
	}
	for _, c := range []struct{ lang, site, link string }{
		{LangID, "menit lokasi putus (lokasi putus bila semua jalurnya putus),500", "menit-jalur putus (dijumlah per jalur),912"},
		{LangEN, "site downtime minutes (a site is down when all its links are),500", "link-minutes down (summed over links),912"},
	} {
		r.Lang = c.lang
		var b bytes.Buffer
		if err := Render(&b, r, "csv", "summary"); err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{c.site, c.link} {
			if !strings.Contains(b.String(), want+"\n") {
				t.Errorf("%s summary CSV has no line %q:\n%s", c.lang, want, b.String())
			}
		}
		b.Reset()
		if err := WriteHTML(&b, r); err != nil {
			t.Fatal(err)
		}
		want := map[string][]string{LangID: {"lokasi putus 500 menit", "jalur putus 912 menit-jalur"}, LangEN: {"sites down 500 minutes", "links down 912 link-minutes"}}[c.lang]
		for _, w := range want {
			if !strings.Contains(b.String(), w) {
				t.Errorf("%s HTML has no %q", c.lang, w)
			}
		}
	}
}

// TestOPDNamesInReport: an OPD report is titled by the OPD's name from the
// inventory's opds:, and its tables show the name where they showed the
// bare id.
func TestOPDNamesInReport(t *testing.T) {
	inv, db := readersFixture(t, readersInventory)
	for _, lang := range []string{LangID, LangEN} {
		r, err := Build(context.Background(), Input{Inv: inv, Store: db.Minutes(), Index: db.Minutes()},
			Options{Period: "2026-10-05..2026-10-05", OPD: "setda", Lang: lang, Zone: wib, Now: time.Date(2026, 11, 2, 9, 0, 0, 0, wib)})
		if err != nil {
			t.Fatal(err)
		}
		if r.Scope.Name != "Sekretariat Daerah" || r.Scope.ID != "setda" {
			t.Errorf("scope %+v, want the name Sekretariat Daerah", r.Scope)
		}
		if r.Sites[0].OPDName != "Sekretariat Daerah" || r.Links[0].OPDName != "Sekretariat Daerah" {
			t.Errorf("rows: site %q, link %q", r.Sites[0].OPDName, r.Links[0].OPDName)
		}
		for _, table := range []string{"sites", "links"} {
			tb, _ := r.Table(table)
			col := 3 // OPD
			if got := tb.Rows[0][col]; got != "Sekretariat Daerah" {
				t.Errorf("%s table OPD cell %v", table, got)
			}
		}
		var b bytes.Buffer
		if err := WriteHTML(&b, r); err != nil {
			t.Fatal(err)
		}
		page := b.String()
		if !strings.Contains(page, "<title>"+T(lang, "title")+" – Sekretariat Daerah – ") {
			t.Errorf("%s: page title without the OPD's name", lang)
		}
		// dist-y has a link without data: listed as not monitored, with
		// its OPD by name
		if !strings.Contains(page, "<td>Kantor Distrik Y</td>") || !strings.Contains(page, "<td>Sekretariat Daerah</td>") {
			t.Errorf("%s: not-monitored table without the OPD's name", lang)
		}
		if strings.Contains(page, ">setda<") {
			t.Errorf("%s: the bare OPD id shows in the page", lang)
		}
	}
}

// slowCapacity: dinkes-wan's traffic grows by 1 kbit/s a day from
// 1 Mbit/s on 2026-10-01 (WIB), every 5 minutes, both directions.
type slowCapacity struct{}

func (slowCapacity) Capacity(_ context.Context, l *inventory.Link, start, end time.Time, rx, tx []capacity.Sample) ([]capacity.Sample, []capacity.Sample, float64, error) {
	day0 := time.Date(2026, 10, 1, 0, 0, 0, 0, wib)
	for t := start; t.Before(end); t = t.Add(5 * time.Minute) {
		v := 1e6 + 1000*math.Floor(t.Sub(day0).Hours()/24)
		rx = append(rx, capacity.Sample{T: t.UnixMilli(), V: v})
		tx = append(tx, capacity.Sample{T: t.UnixMilli(), V: v})
	}
	return rx, tx, 1e9, nil
}

// TestForecastBeyondHorizon: a slow trend's 80 % date decades away is
// "beyond the horizon" in the tables and JSON, not a date.
func TestForecastBeyondHorizon(t *testing.T) {
	inv, db := buildFixture(t)
	build := func(lang string, horizon time.Duration) *Report {
		r, err := Build(context.Background(), Input{Inv: inv, Store: db.Minutes(), Index: db.Minutes(), Capacity: slowCapacity{}},
			Options{Period: "2026-10", Site: "dinkes", Lang: lang, Zone: wib, Now: time.Date(2026, 11, 2, 9, 0, 0, 0, wib), ForecastHorizon: horizon})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	// Daily P95 = 1,000,000 + 1,000 x bit/s (x: days from 2026-10-01);
	// 80 % of the 20 Mbit/s contract is 16,000,000: x = 15,000 days,
	// 2026-10-01 + 15,000 days, in 2067: past the default two years.
	far := time.Date(2026, 10, 1+15000, 0, 0, 0, 0, wib)
	for lang, want := range map[string]string{LangID: "di luar horizon", LangEN: "beyond the horizon"} {
		r := build(lang, 0)
		c := r.Capacity[0]
		if c.Forecast80 != nil || !c.ForecastBeyondHorizon || c.ForecastHorizonDays != 730 {
			t.Errorf("%s: forecast %v beyond %v horizon %d; want none, beyond, 730", lang, c.Forecast80, c.ForecastBeyondHorizon, c.ForecastHorizonDays)
		}
		tb, _ := r.Table("capacity")
		if got := tb.Rows[0][15]; got != want {
			t.Errorf("%s: capacity table forecast %v, want %q", lang, got, want)
		}
		var b bytes.Buffer
		if err := Render(&b, r, "json", ""); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(b.String(), `"forecast_80pct": null,
      "forecast_beyond_horizon": true,
      "forecast_horizon_days": 730`) {
			t.Errorf("%s: JSON does not say beyond the horizon:\n%s", lang, b.String())
		}
	}
	// without a horizon the date stands
	c := build(LangID, -1).Capacity[0]
	if c.Forecast80 == nil || !c.Forecast80.Equal(far) || c.ForecastBeyondHorizon {
		t.Errorf("no horizon: forecast %v beyond %v, want %v", c.Forecast80, c.ForecastBeyondHorizon, far)
	}
}

// openFixture parses an inventory and opens a fresh state database.
func openFixture(t *testing.T, invText string) (*inventory.Inventory, *statedb.DB) {
	t.Helper()
	inv, err := inventory.Parse("inventory.yml", []byte(invText))
	if err != nil {
		t.Fatal(err)
	}
	db, err := statedb.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return inv, db
}
