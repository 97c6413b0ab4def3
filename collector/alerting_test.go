package collector

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/internal/testproc"
)

// hookSink records the JSON bodies posted to it.
type hookSink struct {
	mu   sync.Mutex
	got  []map[string]any
	srv  *httptest.Server
	errs func(string, ...any)
}

func newHookSink(t *testing.T) *hookSink {
	h := &hookSink{errs: t.Errorf}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			h.errs("hook body %q: %v", b, err)
		}
		h.mu.Lock()
		h.got = append(h.got, m)
		h.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hookSink) all() []map[string]any {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]map[string]any(nil), h.got...)
}

// With the default rules, LinkDown fires on the second failed round
// (for: 30s counted from the first one, in the rounds' time) as soon as
// that round is stored: the evaluation follows the data, the tick is
// set to 10 minutes here and never runs. /api/v1/alerts and
// /api/v1/rules show it in Prometheus's shape, starting at the first
// failed round.
func TestIntegrationAlertFollowsRounds(t *testing.T) {
	t.Parallel()
	hook := newHookSink(t)
	dir := t.TempDir()
	invPath := filepath.Join(dir, "inventory.yml")
	if err := os.WriteFile(invPath, []byte(slaTestInventory), 0o644); err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(dir, "collector.yml")
	tc := startFromFile(t, cfgPath, func(dataDir string) string {
		return fmt.Sprintf("data_dir: %s\ninventory: %s\nnotifiers:\n  - {name: noc, type: webhook, url: %q}\nalerting: {evaluation_interval: 10m}\n",
			dataDir, invPath, hook.srv.URL)
	})
	tok := tc.token("agent-1", "dinkes")
	first := time.Now().Add(-40 * time.Second).Truncate(10 * time.Second)
	down := func(at time.Time) {
		t.Helper()
		if code, msg := tc.write(tok, fmt.Sprintf("icmp,target=127.0.0.2 packets_sent=5u,packets_received=0u,loss_ratio=1,up=0i %d\n", at.Unix())); code != http.StatusNoContent {
			t.Fatalf("write: %d %s", code, msg)
		}
	}
	type promAlerts struct {
		Status string
		Data   struct {
			Alerts []struct {
				Labels      map[string]string
				Annotations map[string]string
				State       string
				ActiveAt    time.Time
				Value       string
			}
		}
	}
	alerts := func() promAlerts {
		_, js := tc.get("/api/v1/alerts")
		var a promAlerts
		if err := json.Unmarshal([]byte(js), &a); err != nil {
			t.Fatalf("/api/v1/alerts: %v: %s", err, js)
		}
		return a
	}
	down(first.Add(time.Second))
	testproc.WaitFor(t, 30*time.Second, "LinkDown pending", func() bool { return len(alerts().Data.Alerts) == 1 })
	a := alerts()
	if got := a.Data.Alerts[0]; a.Status != "success" || got.State != "pending" || !got.ActiveAt.Equal(first) || got.Value != "1e+00" ||
		got.Labels["alertname"] != "LinkDown" || got.Labels["link"] != "dinkes-wan" || got.Annotations["summary"] != "Link dinkes-wan PUTUS — Dinas Kesehatan" {
		t.Fatalf("after the first failed round: %+v", a)
	}
	if len(hook.all()) != 0 {
		t.Fatalf("notified on one failed round: %v", hook.all())
	}
	down(first.Add(31 * time.Second))
	testproc.WaitFor(t, 30*time.Second, "the LinkDown message", func() bool { return len(hook.all()) == 1 })
	m := hook.all()[0]
	if m["status"] != "firing" || m["title"] != "🔴 Link dinkes-wan PUTUS — Dinas Kesehatan" || m["starts_at"] != first.UTC().Format(time.RFC3339) {
		t.Errorf("message %v", m)
	}
	if got := alerts().Data.Alerts; len(got) != 1 || got[0].State != "firing" || !got[0].ActiveAt.Equal(first) {
		t.Errorf("firing: %+v", got)
	}
	_, js := tc.get("/api/v1/rules")
	var rules struct {
		Status string
		Data   struct {
			Groups []struct {
				Name, File string
				Rules      []struct {
					Type, Name, Query, State, Health string
					Duration                         float64
					Alerts                           []struct{ State string }
				}
			}
		}
	}
	if err := json.Unmarshal([]byte(js), &rules); err != nil || rules.Status != "success" || len(rules.Data.Groups) != 1 {
		t.Fatalf("/api/v1/rules: %v %s", err, js)
	}
	found := false
	for _, r := range rules.Data.Groups[0].Rules {
		if r.Type != "alerting" || r.Health != "ok" {
			t.Errorf("rule %+v", r)
		}
		if r.Name == "LinkDown" {
			found = true
			if r.State != "firing" || r.Duration != 30 || r.Query != `pantau_link_state{state="down"} == 1` || len(r.Alerts) != 1 {
				t.Errorf("LinkDown rule %+v", r)
			}
		}
	}
	if !found {
		t.Errorf("no LinkDown rule: %s", js)
	}
}
