package collector

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/config"
	"github.com/pantau-noc/pantau/collector/internal/report"
)

// TestIntegrationDemo runs the demo briefly, then reopens its data and
// checks that every simulated site wrote every measurement.
func TestIntegrationDemo(t *testing.T) {
	dir := t.TempDir()
	var out, errOut bytes.Buffer
	code := Main(context.Background(), []string{"demo", "--listen-address", "127.0.0.1:0", "--data-dir", dir,
		"--duration", "3s", "--interval", "1s", "--history", "30m"}, &out, &errOut)
	if code != 0 {
		t.Fatalf("demo exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "Grafana data source:     type Prometheus, URL http://127.0.0.1:") {
		t.Fatalf("demo did not say where to point Grafana:\n%s", out.String())
	}
	tc := startCollector(t, func(c *config.Config) { c.DataDir = dir; c.Inventory = filepath.Join(dir, "inventory.yml") })
	now := time.Now()
	for q, want := range map[string]int{
		`count(count_over_time(pantau_icmp_up[40m]))`:                     6,
		`count(count_over_time(pantau_snmp_if_receive_bytes_total[40m]))`: 6,
		`count(count_over_time(pantau_agent_uptime_seconds[40m]))`:        6,
		// Makbon's VSAT link has scheduled outages: some down rounds exist.
		`count(min_over_time(pantau_icmp_up{site="distrik-makbon"}[40m]) == 0)`: 1,
	} {
		vec := tc.query(q, now)
		if len(vec) != 1 || int(vec[0].Value) != want {
			t.Errorf("%s = %v, want %d", q, vec, want)
		}
	}
	// The demo's inventory makes the SLA report work at once.
	wit := time.FixedZone("WIT", 9*3600)
	period := now.Add(-time.Hour).In(wit).Format("2006-01-02") + ".." + now.In(wit).Format("2006-01-02")
	code, js := tc.get("/api/v1/report?format=json&period=" + period)
	if code != 200 {
		t.Fatalf("report: %d %s", code, js)
	}
	var r report.Report
	if err := json.Unmarshal([]byte(js), &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Links) != 6 || r.Summary.LinksWithData != 6 || r.Coverage.OPDTotal != 4 || r.Coverage.OPDMonitored != 3 {
		t.Errorf("demo report: %d links, %d with data, coverage %+v", len(r.Links), r.Summary.LinksWithData, r.Coverage)
	}
	for _, l := range r.Links {
		if l.Link == "distrik-makbon-wan" && (l.Outages == 0 || l.Down == 0) {
			t.Errorf("Makbon's scheduled outages are not in the report: %+v", l)
		}
	}
}
