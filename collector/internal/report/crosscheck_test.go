package report_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/cli"
	"github.com/pantau-noc/pantau/collector/internal/daemon"
	"github.com/pantau-noc/pantau/collector/internal/inventory"
	"github.com/pantau-noc/pantau/collector/internal/sla"
	"github.com/pantau-noc/pantau/collector/internal/statedb"
)

// The cross-part scenario, August 2026 in WIT (UTC+9), computed by hand
// below and checked against what `pantau-collector report` prints.
//
// Inventory: site kantor (OPD dinkes, WIT) with two links, kantor-a
// (contract 99.9 %, Rp 10,000,000, proportional) and kantor-b (contract
// 99.9 % over service hours, Rp 5,000,000, proportional); site pkm
// (district, WIT) with one link pkm-wan (contract 99.5 %, Rp 15,000,000,
// proportional). Every site has office hours Mon-Fri 07:30-16:00,
// holidays excluded (defaults.service_hours).
//
// Data, one round per minute (second 5):
//   - kantor-a and kantor-b: rounds all month; the kantor agent's
//     heartbeats all month.
//   - kantor-a down Mon 17 Aug 09:00-11:00 (120 min; a holiday);
//     kantor-a down Tue 18 Aug 15:00-16:30 (90), kantor-b down
//     15:30-17:00 (90): the site is down 15:30-16:30 (60).
//   - the collector ran from 11 Aug 00:00 WIT on (its own minutes).
//   - pkm-wan: history imported for 1-11 Aug (no heartbeats), with a
//     hole Wed 5 Aug 10:00-12:00 (120 min) and an outage Thu 6 Aug
//     08:00-13:00 (300 min); nothing after 11 Aug. Declared monitored
//     with `sla mark-monitored --site pkm --from 2026-08-01 --to
//     2026-08-11`.
//   - incident records: kantor-a 17 Aug 09:00 fo_putus; site kantor
//     18 Aug 15:30 listrik; pkm-wan's outage has none.
func TestCrossPartsAugustWIT(t *testing.T) {
	dir := t.TempDir()
	const invYAML = `defaults:
  service_hours: {days: [mon, tue, wed, thu, fri], from: "07:30", to: "16:00", holidays: exclude}
opds:
  - {id: dinkes, name: Dinas Kesehatan}
sites:
  - {id: kantor, name: Kantor Dinkes, kind: opd, opd: dinkes, timezone: WIT}
  - {id: pkm, name: Distrik Aimas, kind: district, timezone: WIT}
links:
  - {id: kantor-a, site: kantor, type: fibre, icmp: {target: 127.0.0.11},
     contract: {target: 99.9, monthly_fee: 10000000, restitution: proportional}}
  - {id: kantor-b, site: kantor, type: radio, icmp: {target: 127.0.0.12},
     contract: {target: 99.9, monthly_fee: 5000000, restitution: proportional, basis: service_hours}}
  - {id: pkm-wan, site: pkm, type: vsat, icmp: {target: 127.0.0.13},
     contract: {target: 99.5, monthly_fee: 15000000, restitution: proportional}}
`
	invPath := filepath.Join(dir, "inventory.yml")
	must(t, os.WriteFile(invPath, []byte(invYAML), 0o600))
	data := filepath.Join(dir, "data")
	must(t, os.MkdirAll(filepath.Join(data, "tsdb", "wal"), 0o755)) // an empty TSDB
	cfg := filepath.Join(dir, "collector.yml")
	must(t, os.WriteFile(cfg, []byte("data_dir: "+data+"\ninventory: "+invPath+"\nreport:\n  time_zone: WIT\n"), 0o600))

	ctx := context.Background()
	inv, err := inventory.Parse(invPath, []byte(invYAML))
	if err != nil {
		t.Fatal(err)
	}
	db, err := statedb.Open(ctx, data)
	if err != nil {
		t.Fatal(err)
	}
	wit := time.FixedZone("WIT", 9*3600)
	at := func(d, h, m int) time.Time { return time.Date(2026, 8, d, h, m, 0, 0, wit) }
	in := func(tm, from, to time.Time) bool { return !tm.Before(from) && tm.Before(to) }
	b := sla.NewBuilder(inv, nil)
	var marks []sla.Mark
	flush := func() {
		if err := db.Minutes().Merge(ctx, marks); err != nil {
			t.Fatal(err)
		}
		marks = marks[:0]
	}
	// a day either side of the month, so outages at its edges are whole
	for tm := at(1, 0, 0); tm.Before(time.Date(2026, 9, 1, 0, 0, 0, 0, wit)); tm = tm.Add(time.Minute) {
		ns := tm.Add(5 * time.Second).UnixNano()
		m := sla.MinuteOf(tm.UnixNano())
		upA := !in(tm, at(17, 9, 0), at(17, 11, 0)) && !in(tm, at(18, 15, 0), at(18, 16, 30))
		upB := !in(tm, at(18, 15, 30), at(18, 17, 0))
		marks = b.ICMP(marks, "a", "", "127.0.0.11", ns, upA, 0, 0.01, upA)
		marks = b.ICMP(marks, "a", "", "127.0.0.12", ns, upB, 0, 0.01, upB)
		marks = append(marks, sla.Mark{Kind: sla.KindSite, ID: "kantor", Minute: m, Bits: sla.BitSeen})
		if !tm.Before(at(11, 0, 0)) {
			marks = append(marks, sla.Mark{Kind: sla.KindCollector, Minute: m, Bits: sla.BitSeen})
		}
		if tm.Before(at(11, 0, 0)) && !in(tm, at(5, 10, 0), at(5, 12, 0)) {
			up := !in(tm, at(6, 8, 0), at(6, 13, 0))
			marks = b.ICMP(marks, "", "", "127.0.0.13", ns, up, 0, 0.01, up)
		}
		if len(marks) > 50000 {
			flush()
		}
	}
	flush()
	db.Close()

	run := func(args ...string) string {
		t.Helper()
		var o, e bytes.Buffer
		rn := func(context.Context, daemon.Options) error { return errors.New("no daemon in this test") }
		if code := cli.Main(ctx, cli.Options{Run: rn}, args, &o, &e); code != 0 {
			t.Fatalf("pantau-collector %v: exit %d\n%s%s", args, code, o.String(), e.String())
		}
		return o.String()
	}
	run("sla", "mark-monitored", "--config", cfg, "--site", "pkm", "--from", "2026-08-01", "--to", "2026-08-11", "--reason", "impor Zabbix")
	run("incident", "add", "--config", cfg, "--scope", "link", "--target", "kantor-a", "--start", "2026-08-17T09:00",
		"--category", "fo_putus", "--source", "whatsapp", "--officer", "Yohanis", "--ticket", "TIK/08/001")
	run("incident", "add", "--config", cfg, "--scope", "site", "--target", "kantor", "--start", "2026-08-18T15:30",
		"--category", "listrik", "--source", "telepon", "--officer", "Yohanis")

	// an operator claims kantor-a's 18 Aug outage was a power cut: the
	// override is shown beside the computed cause and changes no figure
	// (the contract still counts it: 210 below)
	run("incident", "add", "--config", cfg, "--scope", "link", "--target", "kantor-a", "--start", "2026-08-18T15:00",
		"--category", "listrik", "--source", "otomatis", "--officer", "Yohanis", "--cause-override", "power", "--override-reason", "PLN padam")

	// a DNS outage the monitoring did not see, reported by phone, 31 Aug
	// 23:30 to 1 Sep 01:00 WIT: 30 of its 90 minutes in August
	run("incident", "add", "--config", cfg, "--scope", "link", "--target", "kantor-b", "--start", "2026-08-31T23:30", "--end", "2026-09-01T01:00",
		"--category", "dns", "--source", "telepon", "--officer", "Yohanis")

	out := run("report", "--config", cfg, "--period", "2026-08", "--format", "json")
	var rep struct {
		Summary struct {
			AvailabilityPct     float64 `json:"availability_pct"`
			CompletenessPct     float64 `json:"completeness_pct"`
			WorstCasePct        float64 `json:"worst_case_pct"`
			SiteAvailabilityPct float64 `json:"site_availability_pct"`
			ServiceHoursPct     float64 `json:"service_hours_availability_pct"`
			SiteServiceHoursPct float64 `json:"site_service_hours_availability_pct"`
			DowntimeMinutes     float64 `json:"downtime_minutes"`
			SiteDowntimeMinutes float64 `json:"site_downtime_minutes"`
			Outages             int     `json:"outages"`
			Restitution         int64   `json:"restitution"`
		} `json:"summary"`
		Links []struct {
			Link            string  `json:"link"`
			Down            int     `json:"down"`
			Nodata          int     `json:"nodata"`
			Monitoring      int     `json:"monitoring"`
			Availability    float64 `json:"availability_pct"`
			Completeness    float64 `json:"completeness_pct"`
			ServiceHours    float64 `json:"service_hours_availability_pct"`
			ServiceHoursSec int64   `json:"service_hours_seconds"`
			KnownSHSec      int64   `json:"service_hours_known_seconds"`
		} `json:"links"`
		Sites []struct {
			Site         string  `json:"site"`
			Down         int     `json:"down"`
			Availability float64 `json:"availability_pct"`
			ServiceHours float64 `json:"service_hours_availability_pct"`
		} `json:"sites"`
		Contracts []struct {
			Link           string  `json:"link"`
			Counted        float64 `json:"counted_minutes"`
			Allowed        int     `json:"allowed_minutes"`
			ISP            float64 `json:"isp_availability_pct"`
			Met            bool    `json:"met"`
			Restitution    int64   `json:"restitution"`
			KnownSeconds   int64   `json:"known_seconds"`
			Completeness   float64 `json:"completeness_pct"`
			Incomplete     bool    `json:"incomplete_data"`
			Withheld       string  `json:"restitution_withheld"`
			Final          bool    `json:"final"`
			CountedOutages int     `json:"counted_outages"`
		} `json:"contracts"`
		Incidents []struct {
			Link, Site, Kind, Cause string
			Start                   time.Time
			Down                    float64 `json:"down_minutes"`
			Detected                bool    `json:"detected"`
			PartOfSite              bool    `json:"part_of_site_outage"`
			Record                  *struct {
				Category      string `json:"category"`
				CauseOverride string `json:"cause_override"`
			} `json:"record"`
		} `json:"incidents"`
		Pareto []struct {
			Category   string  `json:"category"`
			Incidents  int     `json:"incidents"`
			Minutes    float64 `json:"minutes"`
			Share      float64 `json:"share_pct"`
			Cumulative float64 `json:"cumulative_pct"`
		} `json:"incident_pareto"`
		Coverage struct {
			History []struct {
				Month             string `json:"month"`
				OPDMonitored      int    `json:"opd_monitored"`
				DistrictMonitored int    `json:"district_monitored"`
			} `json:"history"`
		} `json:"coverage"`
		MTTR []struct {
			Category string  `json:"category"`
			MTTR     float64 `json:"mttr_minutes"`
		} `json:"incident_mttr"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	near := func(what string, got, want float64) {
		t.Helper()
		if math.Abs(got-want) > 1e-9 {
			t.Errorf("%s = %.6f, want %.6f", what, got, want)
		}
	}

	// Links. August: 31 × 1,440 = 44,640 minutes.
	// kantor-a: down 120 + 90 = 210; 44,430 / 44,640.
	// kantor-b: down 90; 44,550 / 44,640.
	// pkm-wan: data 10 days × 1,440 − 120 (hole) = 14,280 minutes, 300
	// down: 13,980 / 14,280; nodata = the hole's 120 (in the declared
	// span) + 21 days × 1,440 = 30,240 after 11 Aug (the collector ran)
	// = 30,360; no monitoring gap; completeness 14,280 / 44,640.
	//
	// Service hours, Mon-Fri 07:30-16:00 = 510 min a day. August 2026
	// has 21 weekdays; 17 Aug (Proklamasi) and 25 Aug (Maulid Nabi) are
	// holidays: 19 × 510 = 9,690 minutes (581,400 s) for every site.
	// kantor-a: 17 Aug is a holiday (0), 18 Aug 15:00-16:00 (60):
	// 9,630 / 9,690. kantor-b: 18 Aug 15:30-16:00 (30): 9,660 / 9,690.
	// pkm-wan: data on 3-7 and 10 Aug, 6 × 510 = 3,060, less the hole
	// 10:00-12:00 on Wed 5 Aug (120) = 2,940 known (176,400 s); down
	// Thu 6 Aug 08:00-13:00, 300: 2,640 / 2,940.
	wantLinks := []struct {
		id                string
		down, nodata      int
		avail, compl, sh  float64
		shSeconds, shKnow int64
	}{
		{"kantor-a", 210, 0, 100 * 44430.0 / 44640, 100, 100 * 9630.0 / 9690, 581400, 581400},
		{"kantor-b", 90, 0, 100 * 44550.0 / 44640, 100, 100 * 9660.0 / 9690, 581400, 581400},
		{"pkm-wan", 300, 30360, 100 * 13980.0 / 14280, 100 * 14280.0 / 44640, 100 * 2640.0 / 2940, 581400, 176400},
	}
	if len(rep.Links) != len(wantLinks) {
		t.Fatalf("%d links, want %d", len(rep.Links), len(wantLinks))
	}
	for i, w := range wantLinks {
		l := rep.Links[i]
		if l.Link != w.id || l.Down != w.down || l.Nodata != w.nodata || l.Monitoring != 0 || l.ServiceHoursSec != w.shSeconds || l.KnownSHSec != w.shKnow {
			t.Errorf("link %d: %+v, want %s down %d nodata %d monitoring 0, service hours %d s, %d s known", i, l, w.id, w.down, w.nodata, w.shSeconds, w.shKnow)
		}
		near(w.id+" availability", l.Availability, w.avail)
		near(w.id+" completeness", l.Completeness, w.compl)
		near(w.id+" service-hours availability", l.ServiceHours, w.sh)
	}
	// Sites: kantor is down only while both links are, 18 Aug
	// 15:30-16:30 (60; 30 of them in service hours); pkm is its link.
	wantSites := []struct {
		id        string
		down      int
		avail, sh float64
	}{
		{"kantor", 60, 100 * 44580.0 / 44640, 100 * 9660.0 / 9690},
		{"pkm", 300, 100 * 13980.0 / 14280, 100 * 2640.0 / 2940},
	}
	for i, w := range wantSites {
		s := rep.Sites[i]
		if s.Site != w.id || s.Down != w.down {
			t.Errorf("site %d: %+v, want %s down %d", i, s, w.id, w.down)
		}
		near(w.id+" availability", s.Availability, w.avail)
		near(w.id+" service-hours availability", s.ServiceHours, w.sh)
	}

	// Summary. Link-minutes down 210 + 90 + 300 = 600; the sites were
	// down 60 + 300 = 360. Links: 44,640 + 44,640 + 14,280 = 103,560
	// minutes with data, 600 down: 102,960 / 103,560; completeness
	// 103,560 / (103,560 + 30,360) = 103,560 / 133,920; worst case
	// 102,960 / 133,920. Sites: (44,580 + 13,980) / (44,640 + 14,280) =
	// 58,560 / 58,920. Service hours, links: 9,690 + 9,690 + 2,940 =
	// 22,320 known, 60 + 30 + 300 = 390 down: 21,930 / 22,320; sites:
	// (9,660 + 2,640) / (9,690 + 2,940) = 12,300 / 12,630.
	sm := rep.Summary
	near("summary downtime_minutes", sm.DowntimeMinutes, 600)
	near("summary site_downtime_minutes", sm.SiteDowntimeMinutes, 360)
	near("summary availability", sm.AvailabilityPct, 100*102960.0/103560)
	near("summary completeness", sm.CompletenessPct, 100*103560.0/133920)
	near("summary worst case", sm.WorstCasePct, 100*102960.0/133920)
	near("summary site availability", sm.SiteAvailabilityPct, 100*58560.0/58920)
	near("summary service-hours availability", sm.ServiceHoursPct, 100*21930.0/22320)
	near("summary site service-hours availability", sm.SiteServiceHoursPct, 100*12300.0/12630)
	if sm.Outages != 4 {
		t.Errorf("summary outages %d, want 4 (kantor-a twice, kantor-b, pkm-wan)", sm.Outages)
	}

	// Contracts (24x7, the whole month, 2,678,400 s).
	// kantor-a, 99.9 %: allowed ⌊44,640 × 0.1 / 100⌋ = ⌊44.64⌋ = 44;
	// counted 210 (both outages, cause isp: the kantor agent was alive;
	// the one inside the site outage still counts for the ISP) > 44:
	// missed; ISP availability 44,430 / 44,640; data all month: 100 %
	// complete; proportional restitution ⌊10,000,000 × 12,600 /
	// 2,678,400⌋ = ⌊47,043.01⌋ = Rp 47,043, claimable (August ended, its
	// last day is in the period).
	// kantor-b, 99.9 % over service hours: the month's minutes are its
	// 9,690 service minutes (581,400 s); counted only the down time
	// inside them, 18 Aug 15:30-16:00 = 30 min (1,800 s); allowed
	// ⌊9,690 × 0.1 / 100⌋ = ⌊9.69⌋ = 9: missed; ISP availability
	// 9,660 / 9,690; restitution ⌊5,000,000 × 1,800 / 581,400⌋ =
	// ⌊15,479.88⌋ = Rp 15,479. Its completeness is over the service
	// minutes too: all 581,400 s known, 100 % (it said 2,678,400 s,
	// 460.681 %).
	// pkm-wan, 99.5 %: allowed ⌊44,640 × 0.5 / 100⌋ = 223; counted 300
	// (cause unknown: pkm has no agent; not excluded): missed; ISP
	// availability 44,340 / 44,640; known 14,280 × 60 = 856,800 s,
	// 856,800 / 2,678,400 = 31.989 % < 90: data tidak lengkap, the
	// Rp 100,806 (⌊15,000,000 × 18,000 / 2,678,400⌋) is withheld.
	wantContracts := []struct {
		id          string
		counted     float64
		allowed     int
		isp         float64
		restitution int64
		known       int64
		compl       float64
		incomplete  bool
		withheld    string
	}{
		{"kantor-a", 210, 44, 100 * 44430.0 / 44640, 47043, 2678400, 100, false, ""},
		{"kantor-b", 30, 9, 100 * 9660.0 / 9690, 15479, 581400, 100, false, ""},
		{"pkm-wan", 300, 223, 100 * 44340.0 / 44640, 0, 856800, 100 * 856800.0 / 2678400, true, "incomplete_data"},
	}
	if len(rep.Contracts) != len(wantContracts) {
		t.Fatalf("%d contract rows, want %d", len(rep.Contracts), len(wantContracts))
	}
	for i, w := range wantContracts {
		c := rep.Contracts[i]
		if c.Link != w.id || c.Counted != w.counted || c.Allowed != w.allowed || c.Met || !c.Final || c.Restitution != w.restitution ||
			c.KnownSeconds != w.known || c.Incomplete != w.incomplete || c.Withheld != w.withheld {
			t.Errorf("contract %d: %+v, want %+v", i, c, w)
		}
		near(w.id+" ISP availability", c.ISP, w.isp)
		near(w.id+" contract completeness", c.Completeness, w.compl)
	}
	// claimable: 47,043 + 15,479 = 62,522 (pkm-wan's is withheld)
	if sm.Restitution != 62522 {
		t.Errorf("summary restitution %d, want 62522 (kantor-a and kantor-b: pkm-wan's is withheld)", sm.Restitution)
	}

	// Incidents: pkm-wan 6 Aug (unknown, no record), kantor-a 17 Aug
	// (fo_putus), kantor-a and kantor-b 18 Aug (part of the site outage),
	// the site outage of kantor 18 Aug 15:30, 60 min (listrik).
	type inc struct {
		what, kind, start, cause, category string
		down                               float64
		part                               bool
	}
	var got []inc
	for _, i := range rep.Incidents {
		c := ""
		if i.Record != nil {
			c = i.Record.Category
		}
		got = append(got, inc{i.Link + i.Site, i.Kind, i.Start.In(wit).Format("02 15:04"), i.Cause, c, i.Down, i.PartOfSite})
	}
	wantInc := []inc{
		{"pkm-wanpkm", "link", "06 08:00", "unknown", "", 300, false},
		{"kantor-akantor", "link", "17 09:00", "isp", "fo_putus", 120, false},
		{"kantor-akantor", "link", "18 15:00", "isp", "listrik", 90, true},
		{"kantor-bkantor", "link", "18 15:30", "isp", "", 90, true},
		{"kantor", "site", "18 15:30", "isp", "listrik", 60, false},
		// undetected: its own times, whole (90 min), no computed cause;
		// no availability, downtime or contract figure above counts it
		{"kantor-bkantor", "link", "31 23:30", "unknown", "dns", 90, false},
	}
	if len(rep.Incidents) == 6 && rep.Incidents[5].Detected {
		t.Errorf("the DNS outage only a record describes is listed as detected")
	}
	if r := rep.Incidents[2].Record; r == nil || r.CauseOverride != "power" {
		t.Errorf("kantor-a 18 Aug: record %+v, want the override power", r)
	}
	if !slices.Equal(got, wantInc) {
		t.Errorf("incidents:\n%v\nwant\n%v", got, wantInc)
	}
	// Pareto: the site outage stands for the two link outages inside it;
	// the undetected DNS outage counts its 30 minutes in August:
	// 300 (tanpa_kategori) + 120 (fo_putus) + 60 (listrik) + 30 (dns) =
	// 510 min; 300/510 = 58.824 %, 120/510 = 23.529 % (cumulative
	// 420/510 = 82.353 %), 60/510 = 11.765 % (480/510 = 94.118 %),
	// 30/510 = 5.882 % (100 %). MTTR: one incident each, its whole
	// duration (the DNS outage's 90 minutes, also the part in September).
	wantPareto := []struct {
		cat        string
		min, share float64
		cum        float64
	}{
		{"tanpa_kategori", 300, 100 * 300.0 / 510, 100 * 300.0 / 510},
		{"fo_putus", 120, 100 * 120.0 / 510, 100 * 420.0 / 510},
		{"listrik", 60, 100 * 60.0 / 510, 100 * 480.0 / 510},
		{"dns", 30, 100 * 30.0 / 510, 100},
	}
	if len(rep.Pareto) != len(wantPareto) {
		t.Fatalf("pareto %+v, want %+v", rep.Pareto, wantPareto)
	}
	for i, w := range wantPareto {
		p := rep.Pareto[i]
		if p.Category != w.cat || p.Incidents != 1 || p.Minutes != w.min {
			t.Errorf("pareto %d: %+v, want %+v", i, p, w)
		}
		near(w.cat+" share", p.Share, w.share)
		near(w.cat+" cumulative", p.Cumulative, w.cum)
	}
	mttr := map[string]float64{}
	for _, m := range rep.MTTR {
		mttr[m.Category] = m.MTTR
	}
	if want := map[string]float64{"fo_putus": 120, "listrik": 60, "dns": 90, "tanpa_kategori": 300}; !maps.Equal(mttr, want) {
		t.Errorf("MTTR %v, want %v", mttr, want)
	}

	// Coverage history: the first data is 1 Aug 00:00 WIT (31 Jul 15:00
	// UTC), so the history starts with August, 1 of 1 OPD and 1 of 1
	// district monitored; July (in WIT) has no data. (July was listed as
	// monitored: its UTC days reach 9 hours into August.)
	if h := rep.Coverage.History; len(h) != 1 || h[0].Month != "2026-08" || h[0].OPDMonitored != 1 || h[0].DistrictMonitored != 1 {
		t.Errorf("coverage history %+v, want only 2026-08 with 1 OPD and 1 district monitored", h)
	}

	// The same figures in Indonesian: csv_locale id has decimal commas
	// and the schedule in Indonesian; the HTML page thousands dots.
	csvLinks := run("report", "--config", cfg, "--period", "2026-08", "--format", "csv", "--csv-locale", "id", "--table", "links")
	// kantor-a: 99.530 % around the clock, 99.381 % in service hours
	for _, w := range []string{";99,530;100,000;99,530;99,900;tidak;", ";99,381;Sen–Jum 07:30-16:00, kecuali hari libur\r\n"} {
		if !strings.Contains(csvLinks, w) {
			t.Errorf("links CSV (csv_locale id) lacks %q:\n%s", w, csvLinks)
		}
	}
	csvContracts := run("report", "--config", cfg, "--period", "2026-08", "--format", "csv", "--csv-locale", "id", "--table", "contracts")
	for _, w := range []string{";47043;ya;ya;100,000;lengkap;24 jam\r\n", ";0;ya;ya;31,989;data tidak lengkap (< 90 %);24 jam\r\n"} {
		if !strings.Contains(csvContracts, w) {
			t.Errorf("contracts CSV (csv_locale id) lacks %q:\n%s", w, csvContracts)
		}
	}
	page := run("report", "--config", cfg, "--period", "2026-08")
	for _, w := range []string{"Rp 62.522", "99,530", "98,253"} {
		if !strings.Contains(page, w) {
			t.Errorf("Indonesian page lacks %q", w)
		}
	}
	if strings.Contains(page, "excl. holidays") {
		t.Errorf("Indonesian page has the schedule in English")
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
