package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/internal/lab"
	"github.com/pantau-noc/pantau/internal/testbuild"
)

// TestIntegrationLabCutToChat measures, with the defaults (the agent's
// 30 s rounds of 5 packets, the collector's default rules: LinkDown for
// 30s, evaluation on every stored round), the time from a link cut to the
// chat message. Six sites' links are cut one after the other, 7 s apart,
// with an nftables rule in the site namespace that drops the probes to
// that site's address, so the cuts fall at different points of the
// agent's round; a fake Telegram Bot API in the NOC namespace records
// when each site's message arrives. Every message must arrive within the
// issue's 90 s; the median and range are logged (docs/alerting.md quotes
// them).
func TestIntegrationLabCutToChat(t *testing.T) {
	lab.SkipShort(t, "root, network namespaces and two minutes")
	t.Parallel()
	const sites = 6
	agentBin, colBin := testbuild.Agent(t), testbuild.Collector(t)
	l, noc, router, site, _, _, _ := lab.ThreeHop(t)
	for i := 1; i <= sites; i++ {
		l.Exec(site, "ip", "addr", "add", fmt.Sprintf("10.252.0.%d/32", i), "dev", "lo")
	}
	l.Route(noc, "10.252.0.0/24", "10.250.1.2")
	l.Route(router, "10.252.0.0/24", "10.250.2.2")
	l.Exec(site, "nft", "add", "table", "inet", "pantau_cut")
	l.Exec(site, "nft", "add", "chain", "inet", "pantau_cut", "in", "{ type filter hook prerouting priority -300; policy accept; }")

	// the fake Bot API listens inside the NOC namespace
	const token = "7001234567:AALabLatencySecretToken"
	var mu sync.Mutex
	arrived := map[string]time.Time{}
	linkRE := regexp.MustCompile(`Link (s\d+-wan) PUTUS`)
	serveIn(t, noc, "10.250.1.1:9812", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		at := time.Now()
		b, _ := io.ReadAll(r.Body)
		if r.URL.Path != "/bot"+token+"/sendMessage" {
			t.Errorf("bot API got %s %s", r.Method, r.URL.Path)
		}
		var m struct{ Text string }
		json.Unmarshal(b, &m)
		if g := linkRE.FindStringSubmatch(m.Text); g != nil && !strings.Contains(m.Text, "PULIH") {
			mu.Lock()
			if _, dup := arrived[g[1]]; !dup {
				arrived[g[1]] = at
			}
			mu.Unlock()
		}
		fmt.Fprint(w, `{"ok":true,"result":{"message_id":1}}`)
	}))

	dir := t.TempDir()
	var inv strings.Builder
	inv.WriteString("sites:\n")
	for i := 1; i <= sites; i++ {
		fmt.Fprintf(&inv, "  - {id: s%d, name: Kantor %d, kind: opd, timezone: WIT}\n", i, i)
	}
	inv.WriteString("links:\n")
	for i := 1; i <= sites; i++ {
		fmt.Fprintf(&inv, "  - {id: s%d-wan, site: s%d, type: fibre, icmp: {target: 10.252.0.%d}}\n", i, i, i)
	}
	invPath := filepath.Join(dir, "inventory.yml")
	os.WriteFile(invPath, []byte(inv.String()), 0o600)
	// the defaults: no alerting section, no agent intervals
	ccfg := filepath.Join(dir, "collector.yml")
	os.WriteFile(ccfg, []byte(fmt.Sprintf(`listen_address: 10.250.1.1:9810
data_dir: %s
inventory: %s
notifiers:
  - {name: noc-tg, type: telegram, url: "http://10.250.1.1:9812", bot_token: %q, chat_id: "-100123"}
`, filepath.Join(dir, "collector"), invPath, token)), 0o600)
	tok, client, base := labCollector(t, l, noc, colBin, []string{"--config", ccfg, "--agent", "noc-agent"}, "--config", ccfg)
	var acfg strings.Builder
	fmt.Fprintf(&acfg, `agent: {id: noc-agent, state_dir: %s, listen_address: ""}
collectors:
  - {name: noc, url: "%s", token: %s}
icmp:
`, filepath.Join(dir, "agent"), base, tok)
	for i := 1; i <= sites; i++ {
		fmt.Fprintf(&acfg, "  - {target: 10.252.0.%d, name: s%d}\n", i, i)
	}
	os.WriteFile(filepath.Join(dir, "agent.yml"), []byte(acfg.String()), 0o600)
	_, agentOut := l.Start(noc, agentBin, "run", "--config", filepath.Join(dir, "agent.yml"), "--log.level", "warn")
	if !lab.WaitFor(t.Context(), 90*time.Second, func() bool {
		return len(samples(t, client, base, fmt.Sprintf(`pantau_icmp_up{name="s%d"}`, sites))) >= 1
	}) {
		t.Fatalf("no round reached the collector; agent: %s", agentOut.String())
	}

	cuts := map[string]time.Time{}
	for i := 1; i <= sites; i++ {
		if i > 1 {
			time.Sleep(7 * time.Second) // spread the cuts over the agent's 30 s round
		}
		l.Exec(site, "nft", "add", "rule", "inet", "pantau_cut", "in", "ip", "daddr", fmt.Sprintf("10.252.0.%d", i), "drop")
		cuts[fmt.Sprintf("s%d-wan", i)] = time.Now()
	}
	if !lab.WaitFor(t.Context(), 120*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(arrived) == sites
	}) {
		t.Fatalf("within 120 s of the last cut, messages for %d of %d links: %v", len(arrived), sites, arrived)
	}
	mu.Lock()
	defer mu.Unlock()
	var took []time.Duration
	for link, cut := range cuts {
		d := arrived[link].Sub(cut)
		took = append(took, d)
		if d > 90*time.Second {
			t.Errorf("%s: cut to chat message %s, over 90 s", link, d.Round(100*time.Millisecond))
		}
	}
	slices.Sort(took)
	median := (took[len(took)/2-1] + took[len(took)/2]) / 2
	t.Logf("cut to chat message with the defaults, %d links: median %s, range %s to %s (%v)", len(took),
		median.Round(100*time.Millisecond), took[0].Round(100*time.Millisecond), took[len(took)-1].Round(100*time.Millisecond), took)
}
