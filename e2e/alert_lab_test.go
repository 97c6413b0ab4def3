package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/internal/lab"

	"github.com/pantau-noc/pantau/internal/testbuild"
)

// TestIntegrationLabTopologyAlert: a district hub with 30 child sites
// behind it is cut off with `ip link set down`. An agent in the NOC probes
// the hub and the 30 sites every 10 s and sends to a collector whose
// inventory knows the topology. The notification sink (a webhook inside
// the NOC namespace) must receive exactly one message, for the hub,
// counting the 30 sites, and after the link is back exactly one
// resolution. "Exactly" is read from the collector, not waited for: the
// 30 children's alerts are firing and held (suppressed by the hub) and
// the outbox is empty with one message queued; after the restore no
// alert is left, the outbox is empty and one resolution was queued.
func TestIntegrationLabTopologyAlert(t *testing.T) {
	lab.SkipShort(t, "root, network namespaces and two minutes")
	t.Parallel()
	agentBin, colBin := testbuild.Agent(t), testbuild.Collector(t)
	l, noc, router, site, _, _, siteIf := lab.ThreeHop(t)
	// the 30 child sites are addresses behind the hub
	for i := 1; i <= 30; i++ {
		l.Exec(site, "ip", "addr", "add", fmt.Sprintf("10.251.0.%d/32", i), "dev", "lo")
	}
	l.Route(noc, "10.251.0.0/24", "10.250.1.2")
	l.Route(router, "10.251.0.0/24", "10.250.2.2")

	// the sink listens inside the NOC namespace
	var mu sync.Mutex
	var got []map[string]any
	serveIn(t, noc, "10.250.1.1:9811", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Errorf("sink body %q: %v", b, err)
		}
		mu.Lock()
		got = append(got, m)
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	messages := func() []map[string]any {
		mu.Lock()
		defer mu.Unlock()
		return append([]map[string]any(nil), got...)
	}

	dir := t.TempDir()
	var inv strings.Builder
	inv.WriteString("sites:\n  - {id: hub, name: Hub Distrik Aimas, kind: district, timezone: WIT}\n")
	for i := range 30 {
		fmt.Fprintf(&inv, "  - {id: s%02d, name: Sekolah %d, kind: opd, parent: hub, timezone: WIT}\n", i+1, i+1)
	}
	inv.WriteString("links:\n  - {id: hub-wan, site: hub, type: radio, icmp: {target: 10.250.2.2}}\n")
	for i := range 30 {
		fmt.Fprintf(&inv, "  - {id: s%02d-wan, site: s%02d, type: radio, icmp: {target: 10.251.0.%d}}\n", i+1, i+1, i+1)
	}
	invPath := filepath.Join(dir, "inventory.yml")
	os.WriteFile(invPath, []byte(inv.String()), 0o600)
	ccfg := filepath.Join(dir, "collector.yml")
	os.WriteFile(ccfg, []byte(fmt.Sprintf(`listen_address: 10.250.1.1:9810
data_dir: %s
inventory: %s
notifiers:
  - {name: noc-hook, type: webhook, url: "http://10.250.1.1:9811/hook"}
alerting:
  evaluation_interval: 5s
  rules:
    - {name: LinkDown, kind: link_down, for: 30s, clear_for: 30s}
`, filepath.Join(dir, "collector"), invPath)), 0o600)
	tok, client, base := labCollector(t, l, noc, colBin, []string{"--config", ccfg, "--agent", "noc-agent"}, "--config", ccfg)
	var acfg strings.Builder
	fmt.Fprintf(&acfg, `agent: {id: noc-agent, state_dir: %s, listen_address: ""}
collectors:
  - {name: noc, url: "%s", token: %s, timeout: 5s}
queue: {batch_linger: 200ms, sync_interval: 500ms}
defaults: {interval: 10s, timeout: 2s}
icmp:
  - {target: 10.250.2.2, name: hub, packets: 1}
`, filepath.Join(dir, "agent"), base, tok)
	for i := 1; i <= 30; i++ {
		fmt.Fprintf(&acfg, "  - {target: 10.251.0.%d, name: s%02d, packets: 1}\n", i, i)
	}
	os.WriteFile(filepath.Join(dir, "agent.yml"), []byte(acfg.String()), 0o600)
	l.Start(noc, agentBin, "run", "--config", filepath.Join(dir, "agent.yml"), "--log.level", "warn")
	if !lab.WaitFor(t.Context(), 60*time.Second, func() bool {
		return len(samples(t, client, base, `pantau_icmp_up{name="s30"}`)) >= 2
	}) {
		t.Fatal("no data reached the collector")
	}

	l.Down(site, siteIf)
	cut := time.Now()
	// the hub's alert is sent, and the 30 children's fire and are held
	var as []labAlert
	if !lab.WaitFor(t.Context(), 170*time.Second, func() bool {
		as = linkAlerts(t, client, base)
		held := 0
		for _, a := range as {
			if a.State == "firing" && a.Labels["link"] != "hub-wan" && a.Suppressed == "hub" && !a.Notified {
				held++
			}
		}
		return len(messages()) >= 1 && held == 30
	}) {
		t.Fatalf("within 170 s of the cut: %d notifications, alerts %+v", len(messages()), as)
	}
	checkQueued(t, client, base, 1, 0, len(messages()))
	l.Up(site, siteIf)
	t.Logf("hub cut at %s for %s", cut.Format("15:04:05"), time.Since(cut).Round(time.Second))
	// the hub's alert resolves, the children's clear without a message
	if !lab.WaitFor(t.Context(), 120*time.Second, func() bool {
		as = linkAlerts(t, client, base)
		return len(messages()) >= 2 && len(as) == 0
	}) {
		t.Fatalf("within 120 s of the restore: notifications %v, alerts left %+v", messages(), as)
	}
	checkQueued(t, client, base, 1, 1, len(messages()))
	msgs := messages()
	if len(msgs) != 2 {
		for _, m := range msgs {
			t.Logf("%v %v", m["status"], m["title"])
		}
		t.Fatalf("%d notifications, want 2", len(msgs))
	}
	f, r := msgs[0], msgs[1]
	labels, _ := f["labels"].(map[string]any)
	if f["status"] != "firing" || f["title"] != "🔴 Link hub-wan PUTUS — Hub Distrik Aimas" || labels["link"] != "hub-wan" ||
		!strings.Contains(fmt.Sprint(f["text"]), "Terdampak: 30 lokasi di bawahnya (notifikasinya ditahan)") {
		t.Errorf("firing notification %v", f)
	}
	if r["status"] != "resolved" || r["title"] != "✅ PULIH: Link hub-wan PUTUS — Hub Distrik Aimas" {
		t.Errorf("resolved notification %v", r)
	}
}

// labAlert is an alert as /api/v1/alerts shows it (Pantau's record).
type labAlert struct {
	Rule       string            `json:"rule"`
	State      string            `json:"state"`
	Labels     map[string]string `json:"labels"`
	Notified   bool              `json:"notified"`
	Suppressed string            `json:"suppressed"`
}

// linkAlerts returns the collector's active LinkDown alerts.
func linkAlerts(t *testing.T, c *http.Client, base string) []labAlert {
	t.Helper()
	resp, err := c.Get(base + "/api/v1/alerts")
	if err != nil {
		t.Fatalf("alerts: %v", err)
	}
	defer resp.Body.Close()
	var all struct {
		Data struct {
			Alerts []struct{ Pantau labAlert }
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&all); err != nil {
		t.Fatalf("alerts: %v", err)
	}
	var out []labAlert
	for _, a := range all.Data.Alerts {
		if a.Pantau.Rule == "LinkDown" {
			out = append(out, a.Pantau)
		}
	}
	return out
}

// checkQueued: once the notification outbox is empty, the collector has
// queued firing and resolved LinkDown messages and the sink has received
// them all (got): nothing else is on its way.
func checkQueued(t *testing.T, c *http.Client, base string, firing, resolved float64, got int) {
	t.Helper()
	var m map[string]float64
	if !lab.WaitFor(t.Context(), 30*time.Second, func() bool {
		m = metrics(t, c, base)
		n, ok := m[`pantau_notification_outbox_entries{notifier="noc-hook"}`]
		return ok && n == 0
	}) {
		t.Fatalf("the notification outbox did not empty: %v", m)
	}
	f, r := m[`pantau_alert_notifications_queued_total{rule="LinkDown",status="firing"}`], m[`pantau_alert_notifications_queued_total{rule="LinkDown",status="resolved"}`]
	if f != firing || r != resolved || float64(got) != firing+resolved {
		t.Fatalf("queued %v firing and %v resolved notifications, the sink got %d; want %v and %v", f, r, got, firing, resolved)
	}
}
