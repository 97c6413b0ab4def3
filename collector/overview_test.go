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

	"github.com/pantau-noc/pantau/collector/internal/alert"
	"github.com/pantau-noc/pantau/collector/internal/config"
	"github.com/pantau-noc/pantau/collector/internal/httpapi"
	"github.com/pantau-noc/pantau/internal/testproc"
	"github.com/pantau-noc/pantau/internal/yamlconf"
)

const overviewTestInventory = `
sites:
  - {id: dinkes, name: Dinas Kesehatan, kind: opd, timezone: WIB}
  - {id: dishub, name: Dinas Perhubungan, kind: opd, timezone: WIB}
links:
  - {id: dinkes-wan, site: dinkes, icmp: {target: 127.0.0.2}}
  - {id: dishub-wan, site: dishub, icmp: {target: 127.0.0.3}}
`

// TestOverviewAPIs writes rounds with an outage and heartbeats to a
// running collector and reads them back through the overview endpoints
// the web UI uses: the real SLA builder's states, the outages the alert
// engine's code computes, the agents' heartbeats and the unmatched
// series, each held to a dinkes credential's scope.
func TestOverviewAPIs(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	invPath := filepath.Join(dir, "inventory.yml")
	if err := os.WriteFile(invPath, []byte(overviewTestInventory), 0o644); err != nil {
		t.Fatal(err)
	}
	tc := startCollector(t, func(c *config.Config) { c.Inventory = invPath })
	tokDinkes := tc.token("agent-dinkes", "dinkes")
	tokDishub := tc.token("agent-dishub", "dishub")

	// 20 minutes of rounds every 30 s ending in the previous whole
	// minute; dinkes-wan is down in minutes 10-12 back and dishub-wan in
	// the last 3 (ongoing)
	end := time.Now().Truncate(time.Minute).Add(-time.Minute)
	var dinkes, dishub strings.Builder
	for i := 0; i < 40; i++ {
		ts := end.Add(-time.Duration(i) * 30 * time.Second)
		back := int(end.Sub(ts.Truncate(time.Minute)) / time.Minute)
		round := func(b *strings.Builder, target string, up bool) {
			if up {
				fmt.Fprintf(b, "icmp,target=%s packets_sent=5u,packets_received=5u,loss_ratio=0,rtt_avg_seconds=0.004,up=1i %d\n", target, ts.Unix())
			} else {
				fmt.Fprintf(b, "icmp,target=%s packets_sent=5u,packets_received=0u,loss_ratio=1,up=0i %d\n", target, ts.Unix())
			}
		}
		round(&dinkes, "127.0.0.2", back < 10 || back > 12)
		round(&dinkes, "127.0.0.9", true) // unmatched
		round(&dishub, "127.0.0.3", back > 2)
		round(&dishub, "127.0.0.8", true) // unmatched
		fmt.Fprintf(&dinkes, "agent,version=0.19.0 uptime_seconds=%d,queue_points=7,queue_oldest_age_seconds=3 %d\n", 100+i, ts.Unix())
	}
	if code, msg := tc.write(tokDinkes, dinkes.String()); code != http.StatusNoContent {
		t.Fatalf("write: %d %s", code, msg)
	}
	if code, msg := tc.write(tokDishub, dishub.String()); code != http.StatusNoContent {
		t.Fatalf("write: %d %s", code, msg)
	}
	dinkesCli := testproc.BearerClient(tc.apiToken("dinkes-view", "viewer", "dinkes"), 30*time.Second)
	get := func(cli *http.Client, path string, v any) string {
		t.Helper()
		res, err := cli.Get(tc.base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var raw json.RawMessage
		if err := json.NewDecoder(res.Body).Decode(&raw); err != nil || res.StatusCode != 200 {
			t.Fatalf("GET %s: %d %v %s", path, res.StatusCode, err, raw)
		}
		if err := json.Unmarshal(raw, v); err != nil {
			t.Fatal(err)
		}
		return string(raw)
	}

	var st struct{ Data httpapi.StatusView }
	get(tc.httpCli, "/api/v1/status", &st)
	if len(st.Data.Sites) != 2 || st.Data.Sites[0].State != "up" || st.Data.Sites[1].State != "down" ||
		st.Data.Sites[0].Links[0].RTTSeconds == nil || *st.Data.Sites[0].Links[0].RTTSeconds != 0.004 ||
		st.Data.Sites[1].Links[0].LossRatio == nil || *st.Data.Sites[1].Links[0].LossRatio != 1 {
		t.Errorf("status %+v", st.Data)
	}
	if body := get(dinkesCli, "/api/v1/status", &st); strings.Contains(body, "dishub") || len(st.Data.Sites) != 1 {
		t.Errorf("dinkes's status shows dishub: %s", body)
	}

	type outages struct {
		Data struct{ Outages []httpapi.OutageView }
	}
	var out outages
	get(tc.httpCli, "/api/v1/outages", &out)
	found := map[string]httpapi.OutageView{}
	for _, o := range out.Data.Outages {
		found[o.Kind+"/"+o.ID] = o
	}
	if o, ok := found["link/dinkes-wan"]; !ok || o.End == nil || o.DurationSeconds < 60 || o.DurationSeconds > 200 || o.OPD != "dinkes" {
		t.Errorf("dinkes-wan's outage %+v in %+v", o, out.Data.Outages)
	}
	if o, ok := found["site/dinkes"]; !ok || o.End == nil {
		t.Errorf("dinkes's outage %+v in %+v", o, out.Data.Outages)
	}
	if o, ok := found["link/dishub-wan"]; !ok || o.End != nil || o.Cause == "" {
		t.Errorf("dishub-wan's ongoing outage %+v in %+v", o, out.Data.Outages)
	}
	if body := get(dinkesCli, "/api/v1/outages", &out); strings.Contains(body, "dishub") || len(out.Data.Outages) != 2 {
		t.Errorf("dinkes's outages: %s", body)
	}

	var ag struct{ Data []httpapi.AgentView }
	get(tc.httpCli, "/api/v1/agents", &ag)
	if len(ag.Data) != 2 || ag.Data[0].ID != "agent-dinkes" || ag.Data[0].Version != "0.19.0" || ag.Data[0].Silent ||
		ag.Data[0].QueuePoints == nil || *ag.Data[0].QueuePoints != 7 || len(ag.Data[0].TokenIDs) != 1 ||
		ag.Data[1].ID != "agent-dishub" || !ag.Data[1].Silent || ag.Data[1].LastSeen != nil || ag.Data[1].Site != "dishub" {
		t.Errorf("agents %+v", ag.Data)
	}
	if body := get(dinkesCli, "/api/v1/agents", &ag); strings.Contains(body, "dishub") || strings.Contains(body, "token_ids") || len(ag.Data) != 1 {
		t.Errorf("dinkes's agents: %s", body)
	}

	var um struct{ Data []httpapi.UnmatchedView }
	get(tc.httpCli, "/api/v1/inventory/unmatched", &um)
	if len(um.Data) != 2 || um.Data[0].Target != "127.0.0.9" || um.Data[0].Agent != "agent-dinkes" || um.Data[0].OPD != "dinkes" ||
		um.Data[1].Target != "127.0.0.8" || um.Data[1].OPD != "dishub" {
		t.Errorf("unmatched %+v", um.Data)
	}
	if get(dinkesCli, "/api/v1/inventory/unmatched", &um); len(um.Data) != 1 || um.Data[0].Target != "127.0.0.9" {
		t.Errorf("dinkes's unmatched %+v", um.Data)
	}
}

func TestAgentSilentAfter(t *testing.T) {
	if got := agentSilentAfter(&alert.Config{}); got != 5*time.Minute {
		t.Errorf("default: %v", got)
	}
	c := &alert.Config{Rules: []alert.Rule{{Name: "Quiet", Kind: alert.KindAgentSilent, For: yamlconf.Duration(15 * time.Minute)}}}
	if got := agentSilentAfter(c); got != 15*time.Minute {
		t.Errorf("for 15m: %v", got)
	}
}
