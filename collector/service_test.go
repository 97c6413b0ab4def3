package collector

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/config"
	"github.com/pantau-noc/pantau/collector/internal/report"
	"github.com/pantau-noc/pantau/internal/testproc"
)

const serviceTestInventory = slaTestInventory + `services:
  - {id: portal, name: Portal Pemda, site: dinkes, category: portal, probe: {measurement: http, target: portal}, thresholds: {response_time: 2s}}
`

// TestIntegrationServicesFromIngest writes http plugin checks (the points
// the bundled http plugin sends) to a running collector whose inventory
// has a service, and checks the service's current state, its report row
// and incidents, service maintenance windows, the unmatched listing, and
// a rebuild claiming the earlier checks of a service added later.
func TestIntegrationServicesFromIngest(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: waits for an inventory reload (10 s)")
	}
	t.Parallel()
	dir := t.TempDir()
	invPath := filepath.Join(dir, "inventory.yml")
	if err := os.WriteFile(invPath, []byte(serviceTestInventory), 0o644); err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(dir, "collector.yml")
	tc := startCollector(t, func(c *config.Config) {
		c.Inventory = invPath
		if err := os.WriteFile(cfgPath, []byte(fmt.Sprintf("data_dir: %s\ninventory: %s\n", c.DataDir, invPath)), 0o644); err != nil {
			t.Fatal(err)
		}
	})
	tok := tc.token("agent-noc", "dinkes")

	// 20 minutes of checks every 30 s ending in the previous whole minute:
	// minutes 10-12 back fail, minutes 5-6 back answer in 3 s (> 2 s).
	end := time.Now().Truncate(time.Minute).Add(-time.Minute)
	var body strings.Builder
	for i := range 40 {
		ts := end.Add(-time.Duration(i) * 30 * time.Second)
		back := int(end.Sub(ts.Truncate(time.Minute)) / time.Minute)
		switch {
		case back >= 10 && back <= 12:
			fmt.Fprintf(&body, "http,target=portal,url=https://portal.example.go.id/,method=GET up=0i,total_seconds=10 %d\n", ts.Unix())
		case back == 5 || back == 6:
			fmt.Fprintf(&body, "http,target=portal,url=https://portal.example.go.id/,method=GET up=1i,status_code=200i,total_seconds=3 %d\n", ts.Unix())
		default:
			fmt.Fprintf(&body, "http,target=portal,url=https://portal.example.go.id/,method=GET up=1i,status_code=200i,total_seconds=0.4 %d\n", ts.Unix())
		}
		// checks no service claims (yet)
		fmt.Fprintf(&body, "dns,target=ns1,query=example.go.id,type=A,server=system up=1i,resolve_seconds=0.01 %d\n", ts.Unix())
		fmt.Fprintf(&body, "tcp,target=smtp,address=mail.example.go.id:25 up=1i,connect_seconds=0.02 %d\n", ts.Unix())
		fmt.Fprintf(&body, "agent,version=t uptime_seconds=%d %d\n", 100+i, ts.Unix())
	}
	if code, msg := tc.write(tok, body.String()); code != http.StatusNoContent {
		t.Fatalf("write: %d %s", code, msg)
	}

	_, metrics := tc.get("/metrics")
	for _, want := range []string{
		`pantau_service_state{opd="dinkes",service="portal",site="dinkes",state="up"} 1`,
		`pantau_service_state{opd="dinkes",service="portal",site="dinkes",state="down"} 0`,
		"pantau_inventory_services 1",
		`pantau_service_sla_target_ratio{opd="dinkes",service="portal",site="dinkes"} 0.99`,
		`pantau_link_bandwidth_bytes_per_second{district="",link="dinkes-wan",opd="dinkes",site="dinkes"} 2.5e+06`,
		`pantau_link_sla_target_ratio{district="",link="dinkes-wan",opd="dinkes",site="dinkes"} 0.995`,
		`pantau_site_info{district="",kind="opd",lat="",lon="",name="Dinas Kesehatan",opd="dinkes",site="dinkes"} 1`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s:\n%s", want, testproc.GrepLines(metrics, "service"))
		}
	}

	wib, _ := time.LoadLocation("Asia/Jakarta")
	day := func(t time.Time) string { return t.In(wib).Format("2006-01-02") }
	period := day(end.Add(-time.Hour)) + ".." + day(end)
	fetch := func() *report.Report {
		code, js := tc.get("/api/v1/report?format=json&period=" + period)
		if code != 200 {
			t.Fatalf("report API: %d %s", code, js)
		}
		var r report.Report
		if err := json.Unmarshal([]byte(js), &r); err != nil {
			t.Fatal(err)
		}
		return &r
	}
	service := func(r *report.Report, id string) report.ServiceRow {
		for _, s := range r.Services {
			if s.Service == id {
				return s
			}
		}
		t.Fatalf("report has no service %s: %+v", id, r.Services)
		return report.ServiceRow{}
	}
	r := fetch()
	s := service(r, "portal")
	// 21 minutes with checks: 3 down, 2 degraded, 16 up
	if s.Up != 16 || s.Degraded != 2 || s.Down != 3 || s.Outages != 1 || s.Check != "http portal" || s.Category != "portal" {
		t.Errorf("portal: %+v", s)
	}
	// the site has a link but no ICMP data: the cause cannot be told
	if s.DowntimeByCause["unknown"] != 3 || r.Summary.Services != 1 || r.Summary.ServiceOutages != 1 || r.Summary.ServiceDowntimeMinutes != 3 {
		t.Errorf("causes %v, summary %+v", s.DowntimeByCause, r.Summary)
	}
	var inc []report.Incident
	for _, in := range r.Incidents {
		if in.Service == "portal" {
			inc = append(inc, in)
		}
	}
	if len(inc) != 1 || inc[0].DownMinutes != 3 || inc[0].Link != "" {
		t.Errorf("service incidents %+v", inc)
	}
	// the CSV table through the API
	if code, csv := tc.get("/api/v1/report?format=csv&table=services&lang=en&period=" + period); code != 200 ||
		!strings.HasPrefix(csv, "service,name,category,URL,site,OPD,check,") || !strings.Contains(csv, "\nportal,Portal Pemda,portal,,dinkes,Dinas Kesehatan,http portal,") {
		t.Errorf("services CSV: %d\n%s", code, csv)
	}

	// unmatched lists the dns and tcp checks, not the portal's
	code, out, errOut := cli(t, "inventory", "unmatched", "--config", cfgPath)
	if code != 0 || !strings.Contains(out, "ns1") || !strings.Contains(out, "smtp") || strings.Contains(out, "portal") {
		t.Errorf("inventory unmatched: exit %d\n%s\n%s", code, out, errOut)
	}

	// a service maintenance window turns the down minutes into maintenance
	code, _, errOut = cli(t, "maintenance", "add", "--config", cfgPath, "--scope", "service", "--target", "portal",
		"--start", end.Add(-12*time.Minute).In(wib).Format("2006-01-02T15:04"), "--end", end.Add(-9*time.Minute).In(wib).Format("2006-01-02T15:04"),
		"--reason", "pembaruan CMS")
	if code != 0 {
		t.Fatalf("maintenance add: %d %s", code, errOut)
	}
	if s := service(fetch(), "portal"); s.Down != 0 || s.Maint != 3 || s.Up != 16 {
		t.Errorf("after the service window: %+v", s.Figures)
	}
	code, _, errOut = cli(t, "maintenance", "add", "--config", cfgPath, "--scope", "service", "--target", "nope",
		"--start", "2026-10-01T00:00", "--end", "2026-10-01T01:00", "--reason", "x")
	if code == 0 || !strings.Contains(errOut, `service "nope" is not in the inventory`) {
		t.Errorf("a window for an unknown service: exit %d: %s", code, errOut)
	}

	// a service added later has no states until a rebuild claims its
	// earlier checks
	if err := os.WriteFile(invPath, []byte(serviceTestInventory+
		"  - {id: dns-pemda, name: DNS Pemda, site: dinkes, probe: {measurement: dns, target: ns1, agent: agent-noc}}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	testproc.WaitFor(t, 30*time.Second, "the inventory to reload", func() bool {
		_, m := tc.get("/metrics")
		return strings.Contains(m, "pantau_inventory_services 2")
	})
	if s := service(fetch(), "dns-pemda"); s.Up != 0 {
		t.Fatalf("dns-pemda has states before the rebuild: %+v", s.Figures)
	}
	code, out, errOut = cli(t, "sla", "rebuild", "--config", cfgPath, "--from", day(end.Add(-24*time.Hour)))
	if code != 0 {
		t.Fatalf("sla rebuild: %d %s %s", code, out, errOut)
	}
	if s := service(fetch(), "dns-pemda"); s.Up != 21 || s.Down != 0 {
		t.Errorf("dns-pemda after the rebuild: %+v", s.Figures)
	}
	// the rebuild recomputed the portal's minutes the same way
	if s := service(fetch(), "portal"); s.Up != 16 || s.Degraded != 2 || s.Maint != 3 {
		t.Errorf("portal after the rebuild: %+v", s.Figures)
	}
}
