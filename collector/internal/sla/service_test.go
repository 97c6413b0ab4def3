package sla

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/pantau-noc/pantau/collector/internal/inventory"
)

// The services of the scripted October: the web portal in the data
// centre, checked by the http plugin with a 2 s response-time threshold,
// and an e-office hosted at a site that has no links (so its outages'
// cause is unknown).
const (
	cloudSite    = "  - {id: cloud, name: Cloud, kind: datacenter, timezone: WIT}\n"
	testServices = `services:
  - {id: portal, name: Portal Pemda, site: dc, probe: {measurement: http, target: portal}, thresholds: {response_time: 2s}}
  - {id: eoffice, name: E-Office, site: cloud, probe: {measurement: http, target: eoffice, agent: agent-noc}, sla_target: 99.9}
`
)

// Portal history (every check lasts 0.3 s unless slow):
var (
	portalOwnDown = sp(at(10, 8, 3, 0), at(10, 8, 3, 45))    // 45 min, dc up: the service's own outage
	portalSlow    = sp(at(10, 9, 10, 0), at(10, 9, 10, 30))  // 30 min at 3 s > 2 s: degraded
	portalMaint   = sp(at(10, 14, 22, 0), at(10, 14, 23, 0)) // 60 min down, all in a service window
	eofficeDown   = sp(at(10, 2, 9, 0), at(10, 2, 9, 10))    // 10 min
)

func serviceInventory(t testing.TB) *inventory.Inventory {
	t.Helper()
	src := strings.Replace(testInventory, "links:\n", cloudSite+"links:\n", 1) + testServices
	inv, err := inventory.Parse("inventory.yml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

// serviceChecks are the plugin checks of the history, every 60 s, as
// marks through the ingest path's lookups.
func serviceChecks(t testing.TB, b *Builder) []Mark {
	t.Helper()
	var out []Mark
	for ts := at(9, 29, 0, 0); ts.Before(at(11, 3, 0, 0)); ts = ts.Add(time.Minute) {
		if in(ts, collectorDown) {
			continue
		}
		rt := 0.3
		if portalSlow.has(ts) {
			rt = 3
		}
		up := !in(ts, dcDown, portalOwnDown, portalMaint)
		sc := b.ServiceOf([]byte("http"), "agent-1", []byte("portal"))
		if sc == nil || sc.Field != "total_seconds" {
			t.Fatalf("portal check not matched: %+v", sc)
		}
		out = append(out, sc.Mark(ts.UnixNano(), up, rt, up))
		// the e-office counts only agent-noc's checks: agent-1 sees it
		// down all month, which must change nothing
		if b.ServiceOf([]byte("http"), "agent-1", []byte("eoffice")) != nil {
			t.Fatal("agent-1's e-office check matched a service restricted to agent-noc")
		}
		sc = b.ServiceOf([]byte("http"), "agent-noc", []byte("eoffice"))
		out = append(out, sc.Mark(ts.UnixNano(), !eofficeDown.has(ts), 0, false))
	}
	return out
}

func TestServiceMonth(t *testing.T) {
	inv := serviceInventory(t)
	b := NewBuilder(inv, nil)
	st := build(t, inv, script(), append(heartbeats(), serviceChecks(t, b)...))
	e := &Engine{Inv: inv, Store: st, Windows: []Window{
		{ID: 1, Scope: ScopeService, Target: "portal", Start: portalMaint.from, End: portalMaint.to, Reason: "pembaruan CMS"},
		// a window of the dinkes link must not touch the portal
		{ID: 2, Scope: ScopeLink, Target: "portal", Start: portalOwnDown.from, End: portalOwnDown.to, Reason: "same id, other scope"},
	}}
	c := e.NewComputation(october(t))
	r, err := c.Service(context.Background(), inv.Service("portal"))
	if err != nil {
		t.Fatal(err)
	}
	// October in WIT: 44,640 minutes. Down: 20 (dc down) + 45 (own) = 65;
	// maintenance 60; monitoring 60 (collector off); degraded 30;
	// up = 44,640 − 65 − 60 − 60 − 30 = 44,425.
	want := minutes(44640, 44425, 30, 65, 60, 0, 60)
	got := r.Figures
	got.Availability, got.Completeness, got.WorstCase = nil, nil, nil
	if got != want {
		t.Errorf("minutes:\n got %+v\nwant %+v", got, want)
	}
	// (44,425 + 30) / (44,425 + 30 + 65) = 99.854 %
	if round3(r.Availability) != "99.854" || r.Target != 99 || r.Met == nil || !*r.Met {
		t.Errorf("availability %s target %v met %v", round3(r.Availability), r.Target, r.Met)
	}
	if len(r.Outages) != 3 {
		t.Fatalf("outages %+v", r.Outages)
	}
	for i, w := range []struct {
		start              time.Time
		down, maint, inPer float64
		cause              string
	}{
		{dcDown.from, 20, 0, 20, CauseNetwork},
		{portalOwnDown.from, 45, 0, 45, CauseService},
		{portalMaint.from, 60, 60, 0, CauseService},
	} {
		o := r.Outages[i]
		if !o.Start.Equal(w.start) || o.DownMinutes != w.down || o.MaintenanceMinutes != w.maint || o.InPeriodMinutes != w.inPer || o.Cause != w.cause {
			t.Errorf("outage %d: %+v, want start %s down %v maint %v in period %v cause %s", i, o, w.start, w.down, w.maint, w.inPer, w.cause)
		}
	}
	if r.DowntimeByCause[CauseNetwork] != 20 || r.DowntimeByCause[CauseService] != 45 {
		t.Errorf("downtime by cause %v", r.DowntimeByCause)
	}
	if r.MTTRMinutes == nil || math.Abs(*r.MTTRMinutes-125.0/3) > 1e-9 {
		t.Errorf("MTTR %v, want %v", r.MTTRMinutes, 125.0/3)
	}

	// The e-office's site has no links: its outage's cause is unknown.
	r, err = c.Service(context.Background(), inv.Service("eoffice"))
	if err != nil {
		t.Fatal(err)
	}
	if r.Down != 10 || r.Target != 99.9 || len(r.Outages) != 1 || r.Outages[0].Cause != CauseUnknown || r.DowntimeByCause[CauseUnknown] != 10 {
		t.Errorf("e-office: %+v, outages %+v", r.Figures, r.Outages)
	}
	// 44,510 up of 44,520 known: 99.978 % ≥ 99.9
	if round3(r.Availability) != "99.978" || r.Met == nil || !*r.Met {
		t.Errorf("e-office availability %s met %v", round3(r.Availability), r.Met)
	}
}

func TestServiceCheckMark(t *testing.T) {
	inv := serviceInventory(t)
	b := NewBuilder(inv, nil)
	if !b.ChecksServices([]byte("http")) || b.ChecksServices([]byte("dns")) || b.ChecksServices([]byte("icmp")) {
		t.Error("ChecksServices does not follow the inventory's probe measurements")
	}
	if b.ServiceOf([]byte("tcp"), "agent-1", []byte("portal")) != nil {
		t.Error("a tcp check of target portal matched the http service")
	}
	sc := b.ServiceOf([]byte("http"), "", []byte("portal"))
	ns := at(10, 1, 0, 0).UnixNano()
	for _, c := range []struct {
		up    bool
		rt    float64
		hasRT bool
		want  uint16
	}{
		{true, 1.9, true, BitUp},
		{true, 2.1, true, BitDegraded},
		{true, 0, false, BitUp}, // no response time field: up
		{false, 0.1, true, BitDown},
	} {
		m := sc.Mark(ns, c.up, c.rt, c.hasRT)
		if m.Kind != KindService || m.ID != "portal" || m.Bits&ClassBits != c.want || m.Minute != MinuteOf(ns) {
			t.Errorf("%+v: mark %+v, want bits %b", c, m, c.want)
		}
	}
	// a service of a measurement without a built-in field and no
	// threshold: never degraded
	inv2, err := inventory.Parse("i.yml", []byte(`
sites: [{id: s, name: S, kind: datacenter}]
services: [{id: mail, name: Mail, site: s, probe: {measurement: smtp, target: mx}}]
`))
	if err != nil {
		t.Fatal(err)
	}
	sc = NewBuilder(inv2, nil).ServiceOf([]byte("smtp"), "a", []byte("mx"))
	if sc == nil || sc.Field != "" || sc.Mark(ns, true, 99, true).Bits != BitUp|BitSlotGood {
		t.Errorf("smtp service check %+v", sc)
	}
}

// The current state follows the newest committed check; a service
// window makes it maintenance.
func TestServiceCurrentState(t *testing.T) {
	inv := serviceInventory(t)
	now := at(10, 9, 10, 0)
	b := NewBuilder(inv, func() time.Time { return now })
	sv := inv.Service("portal")
	if s := b.CurrentService(sv); s != NoData {
		t.Errorf("before any check: %s", s)
	}
	sc := b.ServiceOf([]byte("http"), "a", []byte("portal"))
	b.Committed([]Mark{sc.Mark(now.Add(-time.Minute).UnixNano(), false, 0, false)})
	if s := b.CurrentService(sv); s != Down {
		t.Errorf("after a failed check: %s", s)
	}
	b.SetWindows([]Window{{Scope: ScopeService, Target: "portal", Start: now.Add(-time.Hour), End: now.Add(time.Hour), Reason: "r"}})
	if s := b.CurrentService(sv); s != Maintenance {
		t.Errorf("in a service window: %s", s)
	}
	b.SetWindows([]Window{{Scope: ScopeLink, Target: "portal", Start: now.Add(-time.Hour), End: now.Add(time.Hour), Reason: "r"}})
	if s := b.CurrentService(sv); s != Down {
		t.Errorf("a link window with the service's id changed its state: %s", s)
	}
	now = now.Add(10 * time.Minute)
	if s := b.CurrentService(sv); s != NoData {
		t.Errorf("10 minutes without checks: %s", s)
	}
}

// pantau_site_state is the best of a site's links' current states, and
// pantau_site_info carries what a map needs.
func TestSiteStateMetrics(t *testing.T) {
	inv, err := inventory.Parse("i.yml", []byte(`
sites:
  - {id: dinkes, name: Dinas Kesehatan, kind: opd, district: kota, lat: -0.88, lon: 131.25}
  - {id: waena, name: Distrik Waena, kind: district, opd: kominfo}
links:
  - {id: a, site: dinkes, icmp: {target: 127.0.0.1}}
  - {id: b, site: dinkes, icmp: {target: 127.0.0.2}}
`))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 10, 1, 12, 0, 0, 0, time.UTC)
	b := NewBuilder(inv, func() time.Time { return now })
	ns := now.Add(-time.Minute).UnixNano()
	b.Committed(append(b.ICMP(nil, "x", "", "127.0.0.1", ns, false, 1, 0, false), b.ICMP(nil, "x", "", "127.0.0.2", ns, true, 0, 0.01, true)...))
	want := `
# HELP pantau_site_info An inventory site (always 1): its name, kind, OPD, district and coordinates (decimal degrees, empty when unknown), for maps and tables.
# TYPE pantau_site_info gauge
pantau_site_info{district="kota",kind="opd",lat="-0.88",lon="131.25",name="Dinas Kesehatan",opd="dinkes",site="dinkes"} 1
pantau_site_info{district="",kind="district",lat="",lon="",name="Distrik Waena",opd="kominfo",site="waena"} 1
`
	if err := testutil.CollectAndCompare(b, strings.NewReader(want), "pantau_site_info"); err != nil {
		t.Error(err)
	}
	var up, down, nodata float64
	n, err := testutil.GatherAndCount(prometheusRegistry(t, b), "pantau_site_state")
	if err != nil || n != 2*int(numStates) {
		t.Fatalf("%d site state series, %v", n, err)
	}
	mfs, _ := prometheusRegistry(t, b).Gather()
	for _, mf := range mfs {
		if mf.GetName() != "pantau_site_state" {
			continue
		}
		for _, m := range mf.GetMetric() {
			l := map[string]string{}
			for _, lp := range m.GetLabel() {
				l[lp.GetName()] = lp.GetValue()
			}
			v := m.GetGauge().GetValue()
			switch {
			case l["site"] == "dinkes" && l["state"] == "up":
				up = v
			case l["site"] == "dinkes" && l["state"] == "down":
				down = v
			case l["site"] == "waena" && l["state"] == "nodata":
				nodata = v
			}
		}
	}
	if up != 1 || down != 0 || nodata != 1 {
		t.Errorf("dinkes up %v down %v (one link down, one up: up); waena nodata %v", up, down, nodata)
	}
}

func prometheusRegistry(t *testing.T, c prometheus.Collector) *prometheus.Registry {
	t.Helper()
	r := prometheus.NewRegistry()
	if err := r.Register(c); err != nil {
		t.Fatal(err)
	}
	return r
}

// New series get inventory labels: a service's plugin checks its service,
// OPD and hosting site; an inventory device's SNMP series its site's.
func TestSeriesLabelsServicesAndDevices(t *testing.T) {
	inv, err := inventory.Parse("i.yml", []byte(`
sites:
  - {id: dc, name: DC, kind: datacenter, opd: diskominfo, district: kota}
links:
  - {id: dc-wan, site: dc, snmp: {device: core, interface: ether1}}
devices:
  - {id: core, site: dc}
services:
  - {id: portal, name: Portal, site: dc, opd: humas, probe: {measurement: http, target: portal}}
`))
	if err != nil {
		t.Fatal(err)
	}
	b := NewBuilder(inv, nil)
	for _, c := range []struct {
		measurement, target, device, ifname string
		want                                string
	}{
		{"http", "portal", "", "", "[[opd humas] [service portal] [site dc]]"},
		{"http", "other", "", "", "[]"},
		{"dns", "portal", "", "", "[]"},
		{"snmp_device", "", "core", "", "[[district kota] [opd diskominfo] [site dc]]"},
		{"snmp_if", "", "core", "ether2", "[[district kota] [opd diskominfo] [site dc]]"},
		{"snmp_if", "", "core", "ether1", "[[district kota] [link dc-wan] [opd diskominfo] [site dc]]"},
		{"snmp_device", "", "unknown", "", "[]"},
	} {
		if got := fmt.Sprint(b.SeriesLabels(c.measurement, "a", "", c.target, c.device, c.ifname)); got != c.want {
			t.Errorf("%+v: %s, want %s", c, got, c.want)
		}
	}
}
