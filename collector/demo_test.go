package collector

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/config"
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
	tc := startCollector(t, func(c *config.Config) { c.DataDir = dir })
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
}
