package report

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/inventory"
	"github.com/pantau-noc/pantau/collector/internal/sla"
	"github.com/pantau-noc/pantau/collector/internal/statedb"
)

// incidentInventory: kantor has two links (redundant), pkm one.
const incidentInventory = `
sites:
  - {id: kantor, name: Kantor Bupati, kind: opd, opd: setda, timezone: WIB}
  - {id: pkm, name: Puskesmas Kota, kind: district, opd: dinkes, timezone: WIB}
links:
  - {id: kantor-fo, site: kantor, type: fibre, icmp: {target: 127.0.0.2}}
  - {id: kantor-lte, site: kantor, type: radio, icmp: {target: 127.0.0.3}}
  - {id: pkm-wan, site: pkm, type: fibre, icmp: {target: 127.0.0.4}}
`

// incidentScenario stores October 2026 (WIB) minute states with the
// outages below and the sites' agents alive throughout.
func incidentScenario(t *testing.T) (*inventory.Inventory, *statedb.DB) {
	t.Helper()
	ctx := context.Background()
	inv, err := inventory.Parse("inventory.yml", []byte(incidentInventory))
	if err != nil {
		t.Fatal(err)
	}
	db, err := statedb.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	at := func(d, h, m int) time.Time { return time.Date(2026, 10, d, h, m, 0, 0, wib) }
	down := map[string][][2]time.Time{
		// 5 Oct: fo 10:00-11:00 and lte 10:30-11:30 overlap: the site is
		// down 10:30-11:00, 30 minutes (the links' 120 minutes added
		// up would be 60 + 60)
		"127.0.0.2": {{at(5, 10, 0), at(5, 11, 0)}, {at(12, 8, 0), at(12, 8, 45)}},
		"127.0.0.3": {{at(5, 10, 30), at(5, 11, 30)}, {at(15, 7, 0), at(15, 7, 20)}},
		"127.0.0.4": {{at(20, 14, 0), at(20, 16, 0)}, {at(25, 9, 0), at(25, 9, 30)}},
	}
	b := sla.NewBuilder(inv, nil)
	var marks []sla.Mark
	for tm := time.Date(2026, 9, 29, 0, 0, 0, 0, wib); tm.Before(time.Date(2026, 11, 2, 0, 0, 0, 0, wib)); tm = tm.Add(time.Minute) {
		for target, cuts := range down {
			up := true
			for _, c := range cuts {
				if !tm.Before(c[0]) && tm.Before(c[1]) {
					up = false
				}
			}
			marks = b.ICMP(marks, "a", "", target, tm.UnixNano(), up, 0, 0.01, up)
		}
		m := sla.MinuteOf(tm.UnixNano())
		marks = append(marks, sla.Mark{Kind: sla.KindCollector, Minute: m, Bits: sla.BitSeen},
			sla.Mark{Kind: sla.KindSite, ID: "kantor", Minute: m, Bits: sla.BitSeen}, sla.Mark{Kind: sla.KindSite, ID: "pkm", Minute: m, Bits: sla.BitSeen})
		if len(marks) > 10000 {
			if err := db.Minutes().Merge(ctx, marks); err != nil {
				t.Fatal(err)
			}
			marks = marks[:0]
		}
	}
	if err := db.Minutes().Merge(ctx, marks); err != nil {
		t.Fatal(err)
	}
	return inv, db
}

func incidentReport(t *testing.T, inv *inventory.Inventory, db *statedb.DB, lang string, o Options) *Report {
	t.Helper()
	o.Period, o.Lang, o.Zone, o.Now = "2026-10", lang, wib, time.Date(2026, 11, 2, 9, 0, 0, 0, wib)
	r, err := Build(context.Background(), Input{Inv: inv, Store: db.Minutes(), Index: db.Minutes(), Incidents: db}, o)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestSiteOutageIsAnIncident: the two-link site's outage (both links
// down at once) is listed with the site's own 30 minutes, and the links'
// outages beside it are marked part of it; the one-link site's outages
// are listed once, as the link's.
func TestSiteOutageIsAnIncident(t *testing.T) {
	inv, db := incidentScenario(t)
	r := incidentReport(t, inv, db, LangID, Options{})
	var got []string
	for _, in := range r.Incidents {
		got = append(got, fmt.Sprintf("%s %s%s%s %s %ds part=%v", in.Kind, in.Link, in.Service, map[bool]string{true: in.Site}[in.Kind == KindSite],
			in.Start.Format("01-02 15:04"), in.DurationSeconds, in.PartOfSite))
	}
	want := []string{
		"link kantor-fo 10-05 10:00 3600s part=true",   // 60 min
		"link kantor-lte 10-05 10:30 3600s part=true",  // 60 min
		"site kantor 10-05 10:30 1800s part=false",     // 10:30-11:00: 30 min, not 60 + 60
		"link kantor-fo 10-12 08:00 2700s part=false",  // 45 min, lte up: the site stayed up
		"link kantor-lte 10-15 07:00 1200s part=false", // 20 min
		"link pkm-wan 10-20 14:00 7200s part=false",    // 120 min; one link: no site row
		"link pkm-wan 10-25 09:00 1800s part=false",    // 30 min
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("incidents:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if s := r.Incidents[2]; s.InPeriodSeconds != 1800 || s.Link != "" || s.ContractCounted || !s.Detected {
		t.Errorf("site incident %+v", s)
	}
	// the site row's own figures agree: 30 minutes down
	if r.Sites[0].Site != "kantor" || r.Sites[0].DownSeconds != 1800 || r.Sites[0].Outages != 1 {
		t.Errorf("site row %+v", r.Sites[0])
	}
}

// TestIncidentRecordsParetoMTTR: records joined to the outages (exactly
// by start minute, or by a start inside the outage), an undetected
// outage recorded with its own times, an unmatched record listed apart,
// and the Pareto and MTTR by category, all worked out by hand.
func TestIncidentRecordsParetoMTTR(t *testing.T) {
	inv, db := incidentScenario(t)
	ctx := context.Background()
	noRecords := incidentReport(t, inv, db, LangID, Options{})
	utc := func(d, h, m int) time.Time { return time.Date(2026, 10, d, h, m, 0, 0, wib).UTC() }
	end := utc(28, 13, 50)
	for _, rec := range []statedb.Incident{
		{Scope: "site", Target: "kantor", Start: utc(5, 10, 30), Category: "listrik", Source: "telepon", Officer: "Andi", Ticket: "TIK-1"},
		{Scope: "link", Target: "kantor-fo", Start: utc(12, 8, 0), Category: "perangkat", Source: "tiket", Officer: "Andi", Action: "ganti SFP"},
		{Scope: "link", Target: "pkm-wan", Start: utc(20, 14, 0), Category: "fo_putus", Source: "whatsapp", Officer: "Budi",
			CauseOverride: "power", OverrideReason: "PLN padam"},
		// 09:05 lies inside the 09:00-09:30 outage
		{Scope: "link", Target: "pkm-wan", Start: utc(25, 9, 5), Category: "fo_putus", Source: "telepon", Officer: "Budi"},
		// not detected: 13:00-13:50, 50 minutes
		{Scope: "site", Target: "pkm", Start: utc(28, 13, 0), End: &end, Category: "dns", Source: "whatsapp", Officer: "Budi"},
		// no outage starts or runs at 26 Oct 10:00
		{Scope: "link", Target: "pkm-wan", Start: utc(26, 10, 0), Category: "isp", Source: "otomatis", Officer: "Budi"},
		// another month: not in October's report
		{Scope: "link", Target: "pkm-wan", Start: utc(3, 0, 0).AddDate(0, 1, 0), Category: "isp", Source: "otomatis", Officer: "Budi"},
	} {
		if _, err := db.AddIncident(ctx, rec, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	r := incidentReport(t, inv, db, LangID, Options{})
	cats := map[string]string{}
	for _, in := range r.Incidents {
		k := fmt.Sprintf("%s %s%s %s", in.Kind, in.Link, map[bool]string{true: in.Site}[in.Kind == KindSite], in.Start.Format("01-02 15:04"))
		cats[k] = "-"
		if in.Record != nil {
			cats[k] = in.Record.Category
		}
	}
	for k, want := range map[string]string{
		"site kantor 10-05 10:30":    "listrik",
		"link kantor-fo 10-05 10:00": "-",
		"link kantor-fo 10-12 08:00": "perangkat",
		"link pkm-wan 10-20 14:00":   "fo_putus",
		"link pkm-wan 10-25 09:00":   "fo_putus",
		"site pkm 10-28 13:00":       "dns",
	} {
		if cats[k] != want {
			t.Errorf("%s: category %q, want %q (all: %v)", k, cats[k], want, cats)
		}
	}
	if len(r.Incidents) != 8 { // 7 detected + 1 recorded only
		t.Errorf("%d incidents, want 8", len(r.Incidents))
	}
	for _, in := range r.Incidents {
		if in.Kind == KindSite && in.Site == "pkm" && (in.Detected || in.DurationSeconds != 3000 || in.InPeriodSeconds != 3000) {
			t.Errorf("undetected outage %+v, want 50 min = 3,000 s", in)
		}
	}
	// the override is kept beside the computed cause, which is unchanged
	for i, in := range r.Incidents {
		if in.Link == "pkm-wan" && in.Start.Day() == 20 {
			if in.Record.CauseOverride != "power" || in.Record.OverrideReason != "PLN padam" || in.Cause != noRecords.Incidents[i].Cause || in.Cause == "power" {
				t.Errorf("override: cause %q, record %+v", in.Cause, in.Record)
			}
		}
	}
	if len(r.UnmatchedIncidentRecords) != 1 || r.UnmatchedIncidentRecords[0].Start != utc(26, 10, 0) {
		t.Errorf("unmatched %+v, want the 26 Oct 10:00 record", r.UnmatchedIncidentRecords)
	}

	// Pareto over the incidents not part of a site outage:
	//   fo_putus        2: 120 + 30 = 150 min
	//   dns             1: 50 min (undetected)
	//   perangkat       1: 45 min
	//   listrik         1: 30 min (the site's, not the links' 60 + 60)
	//   tanpa_kategori  1: 20 min (lte 15 Oct)
	// total 150 + 50 + 45 + 30 + 20 = 295 min
	//   share: 150/295 = 50.847 %, 50/295 = 16.949 %, 45/295 = 15.254 %,
	//          30/295 = 10.169 %, 20/295 = 6.780 %
	//   cumulative: 50.847, 200/295 = 67.797, 245/295 = 83.051,
	//          275/295 = 93.220, 100
	wantPareto := []string{
		"fo_putus fisik 2 150 50.847 50.847",
		"dns logik 1 50 16.949 67.797",
		"perangkat fisik 1 45 15.254 83.051",
		"listrik fisik 1 30 10.169 93.220",
		"tanpa_kategori tanpa_kategori 1 20 6.780 100.000",
	}
	var gotPareto []string
	for _, c := range r.IncidentPareto {
		gotPareto = append(gotPareto, fmt.Sprintf("%s %s %d %g %.3f %.3f", c.Category, c.Group, c.Incidents, c.Minutes, *c.SharePct, *c.CumulativePct))
	}
	if strings.Join(gotPareto, "\n") != strings.Join(wantPareto, "\n") {
		t.Errorf("pareto:\n%s\nwant:\n%s", strings.Join(gotPareto, "\n"), strings.Join(wantPareto, "\n"))
	}
	// MTTR in category order: fo_putus (120 + 30) / 2 = 75, listrik 30,
	// perangkat 45, dns 50, tanpa_kategori 20
	var gotMTTR []string
	for _, c := range r.IncidentMTTR {
		gotMTTR = append(gotMTTR, fmt.Sprintf("%s %d %g", c.Category, c.Incidents, c.MTTRMinutes))
	}
	if want := "fo_putus 2 75,listrik 1 30,perangkat 1 45,dns 1 50,tanpa_kategori 1 20"; strings.Join(gotMTTR, ",") != want {
		t.Errorf("mttr %s, want %s", strings.Join(gotMTTR, ","), want)
	}

	// The CSV tables, in both languages.
	for _, c := range []struct{ lang, table, row string }{
		{LangID, "incident_pareto", "fo_putus,fisik,FO putus,2,150.000,50.847,50.847"},
		{LangEN, "incident_pareto", "listrik,physical,Power,1,30.000,10.169,93.220"},
		{LangID, "incident_mttr", "fo_putus,fisik,FO putus,2,75.000,2:30:00"},
		{LangEN, "incident_mttr", "dns,logical,DNS,1,50.000,0:50:00"},
		{LangID, "incidents", "pkm-wan,,pkm,2026-10-20 14:00:00 WIB,2026-10-20 16:00:00 WIB,2:00:00,2:00:00,0:00:00,2:00:00,jalur ISP,tidak,jalur,ya,tidak,,FO putus,WhatsApp,Budi,,,listrik/agen lokasi,PLN padam"},
		{LangEN, "incidents", ",,kantor,2026-10-05 10:30:00 WIB,2026-10-05 11:00:00 WIB,0:30:00,0:30:00,0:00:00,0:30:00,ISP link,,site,yes,no,TIK-1,Power,Telephone,Andi,,,,"},
	} {
		rr := incidentReport(t, inv, db, c.lang, Options{})
		tb, err := rr.Table(c.table)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := WriteCSV(&b, tb); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(b.String(), "\n"+c.row+"\n") && !strings.HasSuffix(b.String(), "\n"+c.row) {
			t.Errorf("%s %s.csv has no row %q:\n%s", c.lang, c.table, c.row, b.String())
		}
		if _, err := csv.NewReader(&b).ReadAll(); err != nil {
			t.Errorf("%s %s.csv: %v", c.lang, c.table, err)
		}
	}

	// An OPD report holds only its OPD's records: setda's has kantor's.
	rs := incidentReport(t, inv, db, LangID, Options{OPD: "setda"})
	var setda []string
	for _, c := range rs.IncidentPareto {
		setda = append(setda, fmt.Sprintf("%s %d %g", c.Category, c.Incidents, c.Minutes))
	}
	if got := strings.Join(setda, ","); got != "perangkat 1 45,listrik 1 30,tanpa_kategori 1 20" || len(rs.UnmatchedIncidentRecords) != 0 {
		t.Errorf("setda pareto %s, unmatched %v; want perangkat 1 45,listrik 1 30,tanpa_kategori 1 20", got, rs.UnmatchedIncidentRecords)
	}
}
