package report

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/capacity"
	"github.com/pantau-noc/pantau/collector/internal/inventory"
	"github.com/pantau-noc/pantau/collector/internal/sla"
	"github.com/pantau-noc/pantau/collector/internal/statedb"
	"github.com/pantau-noc/pantau/internal/golden"
)

const buildInventory = `
sites:
  - {id: dc, name: DC Pemda, kind: datacenter, timezone: WIB}
  - {id: dinkes, name: Dinas Kesehatan, kind: opd, parent: dc, timezone: WIB, sla_target: 99.5}
  - {id: disdik, name: Dinas Pendidikan, kind: opd, parent: dc, timezone: WIB}
  - {id: bappeda, name: Bappeda, kind: opd, timezone: WIB}
  - {id: distrik-aimas, name: Distrik Aimas, kind: district, opd: dinkes, parent: dc, timezone: WIT}
links:
  - id: dinkes-wan
    site: dinkes
    name: Dinkes ke DC
    type: fibre
    isp: Telkom
    circuit: "4700012345"
    bandwidth: 20Mbps
    icmp: {target: 127.0.0.2}
    snmp: {device: rtr-dinkes, interface: ether1}
    contract: {target: 99.5, min_outage: 300s, monthly_fee: 15000000, end: 2026-12-15}
  - {id: disdik-wan, site: disdik, type: radio, icmp: {target: 127.0.0.3}}
  - {id: aimas-vsat, site: distrik-aimas, type: vsat, isp: Palapa Ring, icmp: {target: 127.0.0.4}}
devices:
  - {id: rtr-dinkes, site: dinkes, vendor: MikroTik, model: CCR2004, serial: HF1234, year_acquired: 2023, asset_code: "02.06.03.01.001", warranty_end: 2026-11-30}
services:
  # owned by bappeda, hosted at dinkes
  - {id: sipd, name: SIPD Bappeda, site: dinkes, opd: bappeda, category: perencanaan, url: "https://sipd.example.go.id/", probe: {measurement: http, target: sipd}}
`

var wib = time.FixedZone("WIB", 7*3600)

type fakeCapacity struct{}

// Capacity: 10 Mbit/s in, 2 Mbit/s out, every 60 s, for dinkes-wan.
func (fakeCapacity) Capacity(_ context.Context, l *inventory.Link, start, end time.Time, rx, tx []capacity.Sample) ([]capacity.Sample, []capacity.Sample, float64, error) {
	for t := start; t.Before(end); t = t.Add(time.Minute) {
		rx = append(rx, capacity.Sample{T: t.UnixMilli(), V: 10e6})
		tx = append(tx, capacity.Sample{T: t.UnixMilli(), V: 2e6})
	}
	return rx, tx, 1e9, nil
}

// buildFixture stores October and November 2026 minute states and review
// records in a real state database.
func buildFixture(t *testing.T) (*inventory.Inventory, *statedb.DB) {
	t.Helper()
	ctx := context.Background()
	inv, db := openFixture(t, buildInventory)
	b := sla.NewBuilder(inv, nil)
	outage := [2]time.Time{time.Date(2026, 10, 10, 10, 0, 0, 0, wib), time.Date(2026, 10, 10, 10, 30, 0, 0, wib)}
	// sipd: down with dinkes' link (network), down on its own Oct 20
	// 08:00-08:20 (service), and 6 s > 5 s slow Oct 5 09:00-09:10
	sipdDown := [2]time.Time{time.Date(2026, 10, 20, 8, 0, 0, 0, wib), time.Date(2026, 10, 20, 8, 20, 0, 0, wib)}
	sipdSlow := [2]time.Time{time.Date(2026, 10, 5, 9, 0, 0, 0, wib), time.Date(2026, 10, 5, 9, 10, 0, 0, wib)}
	sipd := b.ServiceOf([]byte("http"), "a", []byte("sipd"))
	var marks []sla.Mark
	for tm := time.Date(2026, 9, 29, 0, 0, 0, 0, wib); tm.Before(time.Date(2026, 12, 2, 0, 0, 0, 0, wib)); tm = tm.Add(time.Minute) {
		down := !tm.Before(outage[0]) && tm.Before(outage[1])
		rt := 0.4
		if !tm.Before(sipdSlow[0]) && tm.Before(sipdSlow[1]) {
			rt = 6
		}
		marks = append(marks, sipd.Mark(tm.UnixNano(), !down && (tm.Before(sipdDown[0]) || !tm.Before(sipdDown[1])), rt, true))
		marks = b.ICMP(marks, "a", "", "127.0.0.2", tm.UnixNano(), !down, 0, 0.01, !down)
		marks = b.ICMP(marks, "a", "", "127.0.0.4", tm.UnixNano(), true, 0, 0.65, true) // VSAT
		marks = append(marks, sla.Mark{Kind: sla.KindCollector, Minute: sla.MinuteOf(tm.UnixNano()), Bits: sla.BitSeen})
		if len(marks) > 5000 {
			if err := db.Minutes().Merge(ctx, marks); err != nil {
				t.Fatal(err)
			}
			marks = marks[:0]
		}
	}
	if err := db.Minutes().Merge(ctx, marks); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 2, 9, 0, 0, 0, wib)
	rid, err := db.AddReview(ctx, statedb.Review{Month: "2026-10", HeldOn: "2026-10-28", Participants: "Kabid TIK, NOC, Telkom", Findings: "Gangguan 10 Oktober 30 menit; kontrak VSAT Aimas belum diperpanjang"}, now)
	if err != nil {
		t.Fatal(err)
	}
	fid, err := db.AddFollowUp(ctx, statedb.FollowUp{ReviewID: rid, Opened: "2026-10-28", Item: "Perpanjang kontrak VSAT Distrik Aimas", Owner: "Bidang TIK", Due: "2026-11-30"}, now)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.UpdateFollowUp(ctx, fid, "2026-11-03", statedb.StatusProses, "", "draf kontrak"); err != nil {
		t.Fatal(err)
	}
	if err := db.UpdateFollowUp(ctx, fid, "2026-11-20", statedb.StatusSelesai, "", ""); err == nil {
		t.Error("closing an item without evidence was accepted")
	}
	if err := db.UpdateFollowUp(ctx, fid, "2026-11-20", statedb.StatusSelesai, "Kontrak No. 027/TIK/XI/2026", ""); err != nil {
		t.Fatal(err)
	}
	// audit rows, backdated: two in October (WIB), one on either side
	for _, e := range fixtureAudit {
		if _, err := db.AddAudit(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	return inv, db
}

// fixtureAudit is the audit log of the build fixture: the first and the
// last rows are outside October 2026 (WIB), by a millisecond.
var fixtureAudit = []statedb.AuditEntry{
	{At: time.Date(2026, 10, 1, 0, 0, 0, 0, wib).Add(-time.Millisecond), ActorKind: "user", ActorID: "budi", ActorName: "budi", Source: "10.0.0.5",
		Action: "POST /api/v1/maintenance", Object: "maintenance/1", Summary: "september: not in the report"},
	{At: time.Date(2026, 10, 20, 7, 55, 0, 0, wib), ActorKind: "token", ActorID: "t_4f2a", ActorName: "noc-script", Source: "10.0.0.7",
		Action: "POST /api/v1/maintenance", Object: "maintenance/2", Summary: "link dinkes-wan 2026-10-20 08:00–09:00 WIB: ganti perangkat <ONT>"},
	{At: time.Date(2026, 10, 1, 0, 0, 0, 0, wib), ActorKind: "cli", ActorID: "root", ActorName: "root", Source: "local noc1",
		Action: "cli review add", Object: "review/1", Summary: "review 2026-10 held 2026-10-28"},
	{At: time.Date(2026, 11, 1, 0, 0, 0, 0, wib), ActorKind: "user", ActorID: "budi", ActorName: "budi", Source: "10.0.0.5",
		Action: "PUT /api/v1/inventory", Object: "inventory", Summary: "november: not in the report"},
}

func buildReport(t *testing.T, inv *inventory.Inventory, db *statedb.DB, period, lang string) *Report {
	t.Helper()
	ws := []sla.Window{}
	r, err := Build(context.Background(), Input{Inv: inv, Store: db.Minutes(), Index: db.Minutes(), Windows: ws, Reviews: db, Capacity: fakeCapacity{}, Audit: db},
		Options{Period: period, Lang: lang, Zone: wib, Now: time.Date(2026, 11, 2, 9, 0, 0, 0, wib), CoverageMonths: 3})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestBuildOctoberExact(t *testing.T) {
	inv, db := buildFixture(t)
	r := buildReport(t, inv, db, "2026-10", LangID)
	// dinkes-wan: 44,640 minutes, 30 down: 44,610 / 44,640 = 99.933 %
	l := r.Links[0]
	if l.Link != "dinkes-wan" || l.Down != 30 || l.Up != 44610 || fmt.Sprintf("%.3f", *l.Availability) != "99.933" || l.Met == nil || !*l.Met {
		t.Errorf("dinkes-wan: %+v", l)
	}
	// the VSAT link's 650 ms is normal for VSAT: never degraded
	if v := r.Links[2]; v.Link != "aimas-vsat" || v.Degraded != 0 || v.Up != 44640 {
		t.Errorf("aimas-vsat: %+v", v.Figures)
	}
	// coverage: OPD dinkes monitored, disdik connected without data,
	// bappeda without a link: 1 of 3; the district 1 of 1.
	c := r.Coverage
	if c.OPDTotal != 3 || c.OPDMonitored != 1 || c.DistrictTotal != 1 || c.DistrictMonitored != 1 {
		t.Errorf("coverage %+v", c)
	}
	if fmt.Sprintf("%.3f", *r.Summary.CoverageOPD) != "33.333" {
		t.Errorf("OPD coverage %v", *r.Summary.CoverageOPD)
	}
	if len(c.NotMonitored) != 2 || c.NotMonitored[0].Site != "disdik" || c.NotMonitored[1].Site != "bappeda" ||
		c.NotMonitored[1].Reason != T(LangID, "reason.no_link") {
		t.Errorf("not monitored %+v", c.NotMonitored)
	}
	// history: August had no data at all (before deployment: left out),
	// September only its last two days
	if h := c.History; len(h) != 2 || h[0].Month != "2026-09" || h[0].OPDMonitored != 1 || h[1].OPDMonitored != 1 {
		t.Errorf("history %+v", h)
	}
	// the follow-up opened Oct 28 is still open (belum) at the end of October
	if len(r.FollowUps) != 1 || r.FollowUps[0].Status != statedb.StatusBelum || r.Summary.OpenFollowUps != 1 {
		t.Errorf("October follow-ups %+v", r.FollowUps)
	}
	// expiries from Nov 2: the warranty ends Nov 30 (28 days), the contract Dec 15 (43 days)
	if e := r.Expiries; len(e) != 2 || e[0].What != "warranty" || e[0].DaysLeft != 28 || e[1].What != "isp_contract" || e[1].DaysLeft != 43 {
		t.Errorf("expiries %+v", e)
	}
	// capacity of dinkes-wan in: 10 Mbit/s of 20 contracted = 50 %
	if cp := r.Capacity; len(cp) != 2 || cp[0].MeanBps != 10e6 || cp[0].CapacitySource != "contract" || *cp[0].MeanUtilization != 50 || cp[0].P95Bps != 10e6 {
		t.Errorf("capacity %+v", cp)
	}
	// sipd: 44,640 minutes, 50 down (30 with dinkes' link: network; 20
	// its own), 10 degraded: (44,580 + 10) / 44,640 = 99.888 % ≥ 99 (the
	// default target)
	if len(r.Services) != 1 {
		t.Fatalf("services %+v", r.Services)
	}
	sv := r.Services[0]
	if sv.Service != "sipd" || sv.OPD != "bappeda" || sv.Check != "http sipd" || sv.Up != 44580 || sv.Degraded != 10 || sv.Down != 50 ||
		fmt.Sprintf("%.3f", *sv.Availability) != "99.888" || sv.Target != 99 || sv.Met == nil || !*sv.Met || sv.Outages != 2 ||
		sv.DowntimeByCause["network"] != 30 || sv.DowntimeByCause["service"] != 20 {
		t.Errorf("sipd: %+v", sv)
	}
	if s := r.Summary; s.Services != 1 || s.ServicesMeetingSLA != 1 || s.ServiceOutages != 2 || s.ServiceDowntimeMinutes != 50 ||
		fmt.Sprintf("%.3f", *s.ServiceAvailability) != "99.888" {
		t.Errorf("summary services %+v", s)
	}
	var svcIncidents int
	for _, in := range r.Incidents {
		if in.Service == "sipd" {
			svcIncidents++
		}
	}
	if svcIncidents != 2 || len(r.Incidents) != 3 {
		t.Errorf("incidents %+v", r.Incidents)
	}
	// scopes: bappeda's report lists the service it owns; dinkes' site
	// report the service it hosts; disdik's neither
	for _, c := range []struct {
		o    Options
		want int
	}{{Options{OPD: "bappeda"}, 1}, {Options{Site: "dinkes"}, 1}, {Options{OPD: "disdik"}, 0}} {
		c.o.Period, c.o.Zone, c.o.Now = "2026-10", wib, time.Date(2026, 11, 2, 9, 0, 0, 0, wib)
		sr, err := Build(context.Background(), Input{Inv: inv, Store: db.Minutes(), Index: db.Minutes(), Reviews: db}, c.o)
		if err != nil {
			t.Fatal(err)
		}
		if len(sr.Services) != c.want {
			t.Errorf("%+v: %d services, want %d", c.o, len(sr.Services), c.want)
		}
	}
	// the evidence mapping comes from spbe.yml
	if len(r.Evidence) == 0 || r.Evidence[0].Indicators[0].Name != "Layanan Jaringan Intra" {
		t.Errorf("evidence %+v", r.Evidence)
	}
}

func TestFollowUpCarriesOverAndCloses(t *testing.T) {
	inv, db := buildFixture(t)
	nov := buildReport(t, inv, db, "2026-11", LangID)
	if len(nov.FollowUps) != 1 || nov.FollowUps[0].Status != statedb.StatusSelesai || nov.FollowUps[0].Evidence != "Kontrak No. 027/TIK/XI/2026" || nov.Summary.ClosedFollowUps != 1 {
		t.Errorf("November follow-ups %+v", nov.FollowUps)
	}
	dec := buildReport(t, inv, db, "2026-12", LangID)
	if len(dec.FollowUps) != 0 {
		t.Errorf("an item closed in November still shows in December: %+v", dec.FollowUps)
	}
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "build", name)
	if want := golden.Want(t, path, got); !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file; diff it with:\n  go test ./collector/internal/report -run %s -update && git diff %s", name, t.Name(), path)
	}
}

func TestGoldenCSVAndJSON(t *testing.T) {
	inv, db := buildFixture(t)
	for _, lang := range []string{LangID, LangEN} {
		r := buildReport(t, inv, db, "2026-10", lang)
		for _, table := range []string{"links", "sites", "services", "incidents", "coverage", "summary"} {
			var buf bytes.Buffer
			if err := Render(&buf, r, "csv", table); err != nil {
				t.Fatal(err)
			}
			checkGolden(t, fmt.Sprintf("%s.%s.csv", table, lang), buf.Bytes())
		}
		var buf bytes.Buffer
		if err := Render(&buf, r, "json", ""); err != nil {
			t.Fatal(err)
		}
		var back Report
		if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
			t.Fatalf("JSON does not read back: %v", err)
		}
		checkGolden(t, "report."+lang+".json", buf.Bytes())
	}
}

// askedCapacity records the time ranges a report asks its capacity source
// for.
type askedCapacity struct {
	src   CapacitySource
	asked *[][2]time.Time
}

func (a askedCapacity) Capacity(ctx context.Context, l *inventory.Link, start, end time.Time, rx, tx []capacity.Sample) ([]capacity.Sample, []capacity.Sample, float64, error) {
	*a.asked = append(*a.asked, [2]time.Time{start, end})
	return a.src.Capacity(ctx, l, start, end, rx, tx)
}

// The capacity figures from stored day rollups equal those from the
// samples, and only days without a stored rollup are read as samples.
func TestStoredRollupsGiveSameCapacity(t *testing.T) {
	ctx := context.Background()
	inv, db := buildFixture(t)
	src := synthCapacity{time.Minute}
	build := func(c CapacitySource, rs RollupStore) *Report {
		r, err := Build(ctx, Input{Inv: inv, Store: db.Minutes(), Index: db.Minutes(), Windows: []sla.Window{}, Reviews: db, Capacity: c, Rollups: rs},
			Options{Period: "2026-10", Zone: wib, Now: time.Date(2026, 11, 2, 9, 0, 0, 0, wib)})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	want := build(src, nil)
	if len(want.Capacity) != 2 || want.Capacity[0].Samples != 44640 || want.Capacity[0].P95Bps == want.Capacity[0].MeanBps {
		t.Fatalf("reference capacity rows %+v", want.Capacity)
	}
	// store what the collector's rollup job would for every UTC day the
	// WIB month touches but the last
	l := inv.Link("dinkes-wan")
	d0 := time.Date(2026, 10, 1, 0, 0, 0, 0, wib).UnixMilli() / dayMs
	d1 := (time.Date(2026, 11, 1, 0, 0, 0, 0, wib).UnixMilli() - 1) / dayMs
	rx, tx, err := LinkRollups(ctx, nil, src, l, d0, d1-1, nil)
	if err != nil || len(rx) != int(d1-d0) {
		t.Fatalf("rollups: %d, %v", len(rx), err)
	}
	if err := db.PutRollups(ctx, l.ID, statedb.DirReceive, rx, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := db.PutRollups(ctx, l.ID, statedb.DirTransmit, tx, time.Now()); err != nil {
		t.Fatal(err)
	}
	var asked [][2]time.Time
	got := build(askedCapacity{src, &asked}, db)
	// rollups store float32 sums: figures agree to 1e-6, counts exactly
	if len(got.Capacity) != len(want.Capacity) {
		t.Fatalf("%d capacity rows from rollups, %d from samples", len(got.Capacity), len(want.Capacity))
	}
	for i, g := range got.Capacity {
		w := want.Capacity[i]
		for name, v := range map[string][2]float64{"mean": {g.MeanBps, w.MeanBps}, "p95": {g.P95Bps, w.P95Bps},
			"peak": {g.PeakBps, w.PeakBps}, "volume": {g.VolumeBytes, w.VolumeBytes}, "p95 %": {*g.P95Utilization, *w.P95Utilization}} {
			if d := math.Abs(v[0]-v[1]) / v[1]; d > 1e-6 {
				t.Errorf("%s %s: %v from rollups, %v from samples", w.Direction, name, v[0], v[1])
			}
		}
		g.MeanBps, g.P95Bps, g.PeakBps, g.VolumeBytes = w.MeanBps, w.P95Bps, w.PeakBps, w.VolumeBytes
		g.MeanUtilization, g.P95Utilization, g.PeakUtilization = w.MeanUtilization, w.P95Utilization, w.PeakUtilization
		if !reflect.DeepEqual(g, w) {
			t.Errorf("from rollups:\n%+v\nfrom samples:\n%+v", g, w)
		}
	}
	if len(asked) != 1 || asked[0][0].UnixMilli() != d1*dayMs || asked[0][1].UnixMilli() != (d1+1)*dayMs {
		t.Errorf("samples read for %v, want only UTC day %d", asked, d1)
	}
}
