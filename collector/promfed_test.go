package collector

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/pantau-noc/pantau/collector/internal/config"
	"github.com/pantau-noc/pantau/internal/testengine"
	"github.com/pantau-noc/pantau/internal/testproc"
	"github.com/pantau-noc/pantau/internal/wire/schema"
)

// prometheusYML federates the collector's pantau_icmp_ series every
// second (job "pantau", honor_labels) and remote-reads it, both with
// the token as basic-auth password, as docs/api.md shows.
const prometheusYML = `global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: pantau
    honor_labels: true
    metrics_path: /federate
    params:
      'match[]': ['{__name__=~"pantau_icmp_.+"}']
    basic_auth: {username: prometheus, password: %[2]q}
    static_configs: [{targets: [%[1]q]}]
remote_read:
  - url: http://%[1]s/api/v1/read
    read_recent: true
    basic_auth: {username: prometheus, password: %[2]q}
`

// TestIntegrationPrometheusFederateRemoteRead runs Debian's Prometheus
// (2.42) twice against a collector holding the RTT of three sites (two
// OPDs and one without): once with an unscoped viewer token, once with a
// token scoped to dinkes. Through each path Prometheus's own query API
// returns the collector's samples, values and timestamps: federated
// series are the ones with job="pantau" (the scrape adds it; honor_labels
// keeps the series without instance), remote-read series have no job
// (the collector's own). The dinkes Prometheus sees dinkes only.
func TestIntegrationPrometheusFederateRemoteRead(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test (runs the collector and prometheus)")
	}
	t.Parallel()
	dir := t.TempDir()
	inv := filepath.Join(dir, "inventory.yml")
	if err := os.WriteFile(inv, []byte(accessInventory), 0o644); err != nil {
		t.Fatal(err)
	}
	tc := startCollector(t, func(c *config.Config) { c.Inventory = inv; c.Notifiers = nil })
	agent := tc.token("agent-noc")
	at := time.Now().Add(-30 * time.Second).Truncate(time.Second)
	rtt := map[string]float64{"dinkes": 0.011, "dishub": 0.022, "dc-pemda": 0.033}
	var body strings.Builder
	for i, site := range []string{"dinkes", "dishub", "dc-pemda"} {
		fmt.Fprintf(&body, "icmp,site=%s,target=127.0.0.%d rtt_avg_seconds=%g %d\n", site, i+2, rtt[site], at.Unix())
	}
	if code, msg := tc.write(agent, body.String()); code != 204 {
		t.Fatalf("write: %d %s", code, msg)
	}
	addr := strings.TrimPrefix(tc.base, "http://")

	// buildinfo: a semantic version (Grafana parses it), not a git hash.
	code, bi := tc.get("/api/v1/status/buildinfo")
	var info struct{ Data struct{ Version string } }
	if err := json.Unmarshal([]byte(bi), &info); code != 200 || err != nil ||
		!regexp.MustCompile(`^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$`).MatchString(info.Data.Version) {
		t.Errorf("buildinfo: %d %s: version is not semver", code, bi)
	}

	// metadata: the schema's TYPE and HELP for an agent's series, the
	// registry's for the collector's own (stored by its self-scrape).
	rttHelp := schema.V1["icmp"].Help["rtt_avg_seconds"]
	testproc.WaitFor(t, 30*time.Second, "the collector's own series in its TSDB", func() bool {
		return len(tc.query("pantau_link_state", time.Now())) > 0
	})
	code, mdBody := tc.get("/api/v1/metadata")
	var md struct {
		Data map[string][]struct{ Type, Help, Unit string }
	}
	if err := json.Unmarshal([]byte(mdBody), &md); code != 200 || err != nil {
		t.Fatalf("metadata: %d %v %s", code, err, mdBody)
	}
	if m := md.Data["pantau_icmp_rtt_avg_seconds"]; len(m) != 1 || m[0].Type != "gauge" || m[0].Help != rttHelp || m[0].Unit != "seconds" {
		t.Errorf("metadata of pantau_icmp_rtt_avg_seconds: %+v, want gauge, %q, seconds", m, rttHelp)
	}
	if m := md.Data["pantau_link_state"]; len(m) != 1 || m[0].Type != "gauge" || !strings.Contains(m[0].Help, "link") {
		t.Errorf("metadata of pantau_link_state: %+v, want gauge with the HELP of /metrics", m)
	}

	for _, c := range []struct {
		name, token string
		sites       []string
	}{
		{"viewer", tc.apiToken("prom-all", "viewer"), []string{"dc-pemda", "dinkes", "dishub"}},
		{"viewer@dinkes", tc.apiToken("prom-dinkes", "viewer", "dinkes"), []string{"dinkes"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			prom := testengine.StartConfig(t, testengine.Prometheus, fmt.Sprintf(prometheusYML, addr, c.token))
			cl, err := api.NewClient(api.Config{Address: prom.URL()})
			if err != nil {
				t.Fatal(err)
			}
			papi := promv1.NewAPI(cl)
			ask := func(q string) model.Vector {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				v, _, _, err := papi.Query(ctx, q, time.Now())
				if err != nil {
					t.Logf("%s: %v", q, err)
					return nil
				}
				return v.(model.Vector)
			}
			// Prometheus took TYPE and HELP from /federate.
			testproc.WaitFor(t, 30*time.Second, "Prometheus's metadata of pantau_icmp_rtt_avg_seconds", func() bool {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				m, err := papi.Metadata(ctx, "pantau_icmp_rtt_avg_seconds", "")
				ms := m["pantau_icmp_rtt_avg_seconds"]
				return err == nil && len(ms) == 1 && ms[0].Type == promv1.MetricTypeGauge && ms[0].Help == rttHelp
			})
			for _, path := range []struct{ name, query string }{
				{"federation", `pantau_icmp_rtt_avg_seconds{job="pantau"}`},
				{"remote read", `pantau_icmp_rtt_avg_seconds{job=""}`},
			} {
				var vec model.Vector
				testproc.WaitFor(t, 60*time.Second, "Prometheus to answer "+path.query+" through "+path.name, func() bool {
					vec = ask(path.query)
					return len(vec) >= len(c.sites)
				})
				time.Sleep(2 * time.Second) // a second scrape: still no other OPD
				vec = ask(path.query)
				t.Logf("%s: %v", path.name, vec)
				var sites []string
				for _, s := range vec {
					site := string(s.Metric["site"])
					sites = append(sites, site)
					if float64(s.Value) != rtt[site] {
						t.Errorf("%s: %s = %v, want %v", path.name, s.Metric, s.Value, rtt[site])
					}
					if _, ok := s.Metric["instance"]; ok && path.name == "federation" {
						t.Errorf("%s: %s has an instance label: honor_labels should keep the series without one", path.name, s.Metric)
					}
				}
				slices.Sort(sites)
				if !slices.Equal(sites, c.sites) {
					t.Errorf("%s: sites %v, want %v", path.name, sites, c.sites)
				}
				// The sample's own timestamp: the instant query at the
				// write time plus a minute still sees it (lookback 5m), one
				// just before the write does not.
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				before, _, _, err := papi.Query(ctx, path.query, at.Add(-time.Second))
				cancel()
				if err != nil || len(before.(model.Vector)) != 0 {
					t.Errorf("%s: before the sample's time: %v %v, want nothing", path.name, before, err)
				}
			}
		})
	}
}
