package collector

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/internal/testbuild"
	"github.com/pantau-noc/pantau/internal/testproc"
)

// hookCounter is a webhook receiver that counts firing notifications by
// the alert's x label.
type hookCounter struct {
	mu     sync.Mutex
	firing map[string]int
	all    []string
}

func newHookCounter(t *testing.T) (*hookCounter, string) {
	h := &hookCounter{firing: map[string]int{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var m struct {
			Status string            `json:"status"`
			Labels map[string]string `json:"labels"`
		}
		if err := json.Unmarshal(b, &m); err != nil {
			t.Errorf("webhook body %s: %v", b, err)
		}
		h.mu.Lock()
		if m.Status == "firing" {
			h.firing[m.Labels["x"]]++
		}
		h.all = append(h.all, string(b))
		h.mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	return h, srv.URL
}

func (h *hookCounter) count(x string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.firing[x]
}

func (h *hookCounter) String() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return strings.Join(h.all, "\n")
}

// postLP writes line protocol with an agent token and fails on anything
// but 204.
func postLP(t *testing.T, base, token, body string) {
	t.Helper()
	if code, b := postLPStatus(t, base, token, body); code != http.StatusNoContent {
		t.Fatalf("write to %s: %d %s", base, code, b)
	}
}

// metricOf reads one series' value from a collector's /metrics (-1 when
// absent or unreachable).
func metricOf(base, token, series string) float64 {
	res, err := testproc.BearerClient(token, 5*time.Second).Get(base + "/metrics")
	if err != nil {
		return -1
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return testproc.MetricValue(string(b), series)
}

// TestIntegrationHAPair runs an HA pair of real collector processes that
// evaluate the same data and notify the same webhook: each alert is
// notified exactly once, by the primary; with the primary killed (-9) the
// standby notifies the next alert, once; with the primary back the
// standby is quiet again.
func TestIntegrationHAPair(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: runs two collector processes")
	}
	t.Parallel()
	bin := testbuild.Collector(t)
	hook, hookURL := newHookCounter(t)
	addrs := testproc.FreePorts(t, 2)
	primaryAddr, standbyAddr := addrs[0], addrs[1]
	primaryURL, standbyURL := "http://"+primaryAddr, "http://"+standbyAddr

	common := fmt.Sprintf(`notifiers:
  - {name: hook, type: webhook, url: %s/hook}
alerting:
  evaluation_interval: 1s
  rules:
    - {name: HATest, kind: promql, expr: 'max by (x) (pantau_ha_v) > 0', for: 0s, clear_for: 0s, severity: critical}
`, hookURL)
	dirs := map[string]string{"primary": t.TempDir(), "standby": t.TempDir()}
	tokens, admins := map[string]string{}, map[string]string{}
	for role, d := range dirs {
		tokens[role] = procTokens(t, d, "a1")[0]
		admins[role] = procAdmin(t, d)
	}
	cfgFile := func(role, addr, extra string) string {
		f := filepath.Join(t.TempDir(), role+".yml")
		body := fmt.Sprintf("listen_address: %s\ndata_dir: %s\n%s%s", addr, dirs[role], common, extra)
		if err := os.WriteFile(f, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return f
	}
	primaryCfg := cfgFile("primary", primaryAddr, "")
	standbyCfg := cfgFile("standby", standbyAddr, "  ha_peer: "+primaryURL+"\n  ha_check_interval: 1s\n")

	primary := testproc.Start(t, bin, primaryAddr, "--config", primaryCfg)
	standby := testproc.Start(t, bin, standbyAddr, "--config", standbyCfg, "--log.level", "info")
	peerReady := func() float64 {
		return metricOf(standbyURL, admins["standby"], "pantau_collector_alerting_ha_peer_ready")
	}
	suppressed := func() float64 {
		return metricOf(standbyURL, admins["standby"], "pantau_collector_alerting_ha_suppressed_notifications_total")
	}
	standbySent := func() float64 {
		return metricOf(standbyURL, admins["standby"], `pantau_notifications_sent_total{notifier="hook",type="webhook"}`)
	}
	testproc.WaitFor(t, 30*time.Second, "the standby to see its peer ready", func() bool { return peerReady() == 1 })

	write := func(x string, bases ...string) {
		for _, b := range bases {
			role := "primary"
			if b == standbyURL {
				role = "standby"
			}
			postLP(t, b, tokens[role], fmt.Sprintf("ha,x=%s v=1 %d\n", x, time.Now().Unix()))
		}
	}
	// exactlyOnce waits until the alert on x was notified and the other
	// member has made its decision (cond), or it was notified twice, then
	// checks the count.
	exactlyOnce := func(x, what string, cond func() bool) {
		t.Helper()
		testproc.WaitFor(t, 60*time.Second, what, func() bool { return hook.count(x) > 1 || hook.count(x) == 1 && cond() })
		if n := hook.count(x); n != 1 {
			t.Errorf("alert x=%s notified %d times, want once:\n%s", x, n, hook)
		}
	}

	// 1. Both evaluate x=1; the primary notifies, the standby shows the
	// alert firing but leaves the notification to its peer.
	write("1", primaryURL, standbyURL)
	exactlyOnce("1", "x=1 notified and suppressed by the standby", func() bool { return suppressed() >= 1 })
	if v := metricOf(standbyURL, admins["standby"], `pantau_alerts{rule="HATest",state="firing"}`); v != 1 {
		t.Errorf("the standby shows %v firing HATest alerts, want 1 (it evaluates, only does not send)", v)
	}
	if n := standbySent(); n != 0 {
		t.Errorf("the standby sent %v notifications while its peer was ready", n)
	}

	// 2. The primary dies (kill -9): the standby notices within a few
	// checks and notifies the next alert, once.
	primary.Kill()
	testproc.WaitFor(t, 30*time.Second, "the standby to see its peer gone", func() bool { return peerReady() == 0 })
	write("2", standbyURL)
	exactlyOnce("2", "x=2 notified by the standby", func() bool { return standbySent() >= 1 })

	// 3. The primary is back: the standby is quiet again.
	before := suppressed()
	testproc.Start(t, bin, primaryAddr, "--config", primaryCfg)
	testproc.WaitFor(t, 30*time.Second, "the standby to see its peer ready again", func() bool { return peerReady() == 1 })
	write("3", primaryURL, standbyURL)
	exactlyOnce("3", "x=3 notified and suppressed by the standby", func() bool { return suppressed() > before })
	if n := standbySent(); n != 1 {
		t.Errorf("the standby sent %v notifications in all, want 1 (x=2's)", n)
	}
	for _, x := range []string{"1", "2"} {
		if n := hook.count(x); n != 1 {
			t.Errorf("alert x=%s notified %d times by the end, want once:\n%s", x, n, hook)
		}
	}
	logs := standby.Logs.String()
	for _, want := range []string{"the peer is ready; it sends the notifications", "the peer is no longer ready", "the peer is ready again"} {
		if !strings.Contains(logs, want) {
			t.Errorf("the standby's log lacks %q:\n%s", want, testproc.GrepLines(logs, "HA"))
		}
	}
}

// TestHAPeerCheck: the standby takes its peer as ready only for a 200
// from a primary Pantau collector's /readyz. A peer URL that hangs (the
// check ends at its timeout), redirects (even to a ready collector),
// answers 200 but is another web server, or is a standby itself, is not
// ready: the standby notifies rather than stay silent.
func TestHAPeerCheck(t *testing.T) {
	hang := make(chan struct{})
	t.Cleanup(func() { close(hang) })
	pantau := func(role string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			readyzHeaders(w.Header(), "1.2.3", role == "standby")
			fmt.Fprintln(w, "ready")
		}
	}
	primary := httptest.NewServer(pantau("primary"))
	t.Cleanup(primary.Close)
	for _, c := range []struct {
		name  string
		h     http.HandlerFunc
		ready bool
		why   string
	}{
		{"primary", pantau("primary"), true, ""},
		{"standby", pantau("standby"), false, "is a standby itself"},
		{"not a Pantau", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "<html>Welcome to nginx!</html>") }, false, "not a Pantau collector"},
		{"redirect", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, primary.URL+"/readyz", http.StatusFound)
		}, false, "302 Found"},
		{"503", func(w http.ResponseWriter, r *http.Request) {
			readyzHeaders(w.Header(), "1.2.3", false)
			http.Error(w, "starting", http.StatusServiceUnavailable)
		}, false, "503"},
		{"hangs", func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-hang:
			case <-r.Context().Done():
			}
		}, false, "Client.Timeout"},
	} {
		srv := httptest.NewServer(c.h)
		h := newHAPeer(srv.URL+"/readyz", time.Second, slog.New(slog.DiscardHandler))
		ready, why := h.check(context.Background())
		srv.Close()
		if ready != c.ready || !strings.Contains(why, c.why) {
			t.Errorf("%s: ready %v (%s), want %v (%s)", c.name, ready, why, c.ready, c.why)
		}
	}
}
