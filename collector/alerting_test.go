package collector

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/inventory"
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

// startWithInventory starts a collector with slaTestInventory and the
// rest of its collector.yml from rest (notifiers, alerting).
func startWithInventory(t *testing.T, rest string) *testCollector {
	t.Helper()
	dir := t.TempDir()
	invPath := filepath.Join(dir, "inventory.yml")
	if err := os.WriteFile(invPath, []byte(slaTestInventory), 0o644); err != nil {
		t.Fatal(err)
	}
	return startFromFile(t, filepath.Join(dir, "collector.yml"), func(dataDir string) string {
		return fmt.Sprintf("data_dir: %s\ninventory: %s\n%s", dataDir, invPath, rest)
	})
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
	tc := startWithInventory(t, fmt.Sprintf("notifiers:\n  - {name: noc, type: webhook, url: %q}\nalerting: {evaluation_interval: 10m}\n", hook.srv.URL))
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
	// LinkDown's alerts (HighLoss, pending for 5m, shows if the engine's
	// first evaluation at its start came after the first write)
	alerts := func() promAlerts {
		_, js := tc.get("/api/v1/alerts")
		var a promAlerts
		if err := json.Unmarshal([]byte(js), &a); err != nil {
			t.Fatalf("/api/v1/alerts: %v: %s", err, js)
		}
		all := a.Data.Alerts
		a.Data.Alerts = nil
		for _, x := range all {
			if x.Labels["alertname"] == "LinkDown" {
				a.Data.Alerts = append(a.Data.Alerts, x)
			}
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
	// the tick ran once, at the start; the rest were on rounds
	_, metrics := tc.get("/metrics")
	if !strings.Contains(metrics, `pantau_alert_evaluations_total{trigger="tick"} 1`) || strings.Contains(metrics, `pantau_alert_evaluations_total{trigger="rounds"} 0`) {
		t.Errorf("evaluations:\n%s", testproc.GrepLines(metrics, "pantau_alert_evaluations"))
	}
}

// Through a real Alertmanager: a link is down for six failed rounds
// (backdated) with 100 % loss. LinkDown reaches Alertmanager's webhook
// receiver; HighLoss on the same link is inhibited by it (shown so in
// /api/v1/alerts) and never reaches Alertmanager. When the link is back,
// the resolution carries the outage the SLA engine measured from the
// rounds (first failed round to first good round), in its text and in
// startsAt/endsAt, and the receiver gets exactly that.
func TestIntegrationAlertmanagerInhibitedAndResolved(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: runs prometheus-alertmanager")
	}
	t.Parallel()
	hooks := make(chan []byte, 10)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/hook" || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("webhook got %s %s (%s)", r.Method, r.URL.Path, r.Header.Get("Content-Type"))
		}
		b, _ := io.ReadAll(r.Body)
		hooks <- b
	}))
	defer hook.Close()
	am := startAlertmanager(t, hook.URL+"/hook")
	tc := startWithInventory(t, fmt.Sprintf(`notifiers:
  - {name: am, type: alertmanager, url: %q}
alerting:
  evaluation_interval: 1s
  rules:
    - {name: LinkDown, kind: link_down, for: 30s, clear_for: 0s}
    - {name: HighLoss, kind: loss, threshold: 0.2, for: 5s, clear_for: 0s}
`, am))
	tok := tc.token("agent-1", "dinkes")
	now := time.Now()
	first := now.Add(-170 * time.Second).Truncate(10 * time.Second)
	// a good round before: the link was up
	if code, msg := tc.write(tok, fmt.Sprintf("icmp,target=127.0.0.2 packets_sent=5u,packets_received=5u,loss_ratio=0,rtt_avg_seconds=0.004,up=1i %d\n", first.Add(-27*time.Second).Unix())); code != http.StatusNoContent {
		t.Fatalf("write: %d %s", code, msg)
	}
	for i := range 6 {
		at := first.Add(time.Duration(i)*30*time.Second + 3*time.Second)
		if code, msg := tc.write(tok, fmt.Sprintf("icmp,target=127.0.0.2 packets_sent=5u,packets_received=0u,loss_ratio=1,up=0i %d\n", at.Unix())); code != http.StatusNoContent {
			t.Fatalf("write: %d %s", code, msg)
		}
	}
	type amAlert struct {
		Status       string            `json:"status"`
		Labels       map[string]string `json:"labels"`
		Annotations  map[string]string `json:"annotations"`
		StartsAt     time.Time         `json:"startsAt"`
		EndsAt       time.Time         `json:"endsAt"`
		GeneratorURL string            `json:"generatorURL"`
		Fingerprint  string            `json:"fingerprint"`
	}
	type amMsg struct {
		Receiver          string            `json:"receiver"`
		Status            string            `json:"status"`
		Alerts            []amAlert         `json:"alerts"`
		GroupLabels       map[string]string `json:"groupLabels"`
		CommonLabels      map[string]string `json:"commonLabels"`
		CommonAnnotations map[string]string `json:"commonAnnotations"`
		ExternalURL       string            `json:"externalURL"`
		Version           string            `json:"version"`
		GroupKey          string            `json:"groupKey"`
		TruncatedAlerts   int               `json:"truncatedAlerts"`
	}
	next := func(what string) amMsg {
		t.Helper()
		select {
		case b := <-hooks:
			var m amMsg
			dec := json.NewDecoder(strings.NewReader(string(b)))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&m); err != nil {
				t.Fatalf("webhook body %s: %v", b, err)
			}
			return m
		case <-time.After(90 * time.Second):
			t.Fatalf("no %s from alertmanager's webhook within 90 s", what)
		}
		return amMsg{}
	}
	fired := next("firing LinkDown")
	labels := map[string]string{"alertname": "LinkDown", "severity": "critical", "link": "dinkes-wan", "site": "dinkes", "opd": "dinkes"}
	if fired.Status != "firing" || len(fired.Alerts) != 1 || fmt.Sprint(fired.Alerts[0].Labels) != fmt.Sprint(labels) || !fired.Alerts[0].StartsAt.Equal(first) {
		t.Fatalf("firing %+v", fired)
	}
	// HighLoss fires, inhibited: shown so, never sent
	var shown string
	testproc.WaitFor(t, 30*time.Second, "HighLoss firing and inhibited", func() bool {
		_, js := tc.get("/api/v1/alerts")
		var a struct {
			Data struct {
				Alerts []struct {
					Labels, Annotations map[string]string
					State               string
				}
			}
		}
		json.Unmarshal([]byte(js), &a)
		for _, x := range a.Data.Alerts {
			if x.Labels["alertname"] == "HighLoss" && x.State == "firing" {
				shown = x.Annotations["inhibited_by"]
				return true
			}
		}
		return false
	})
	if shown != `LinkDown{link="dinkes-wan"}` {
		t.Errorf("HighLoss inhibited_by %q", shown)
	}
	if active := amActive(t, am); len(active) != 1 || active[0]["alertname"] != "LinkDown" {
		t.Errorf("alertmanager holds %v, want LinkDown only", active)
	}
	// back up: the first good round, 3 s into its slot
	up := time.Now()
	if code, msg := tc.write(tok, fmt.Sprintf("icmp,target=127.0.0.2 packets_sent=5u,packets_received=5u,loss_ratio=0,rtt_avg_seconds=0.004,up=1i %d\n", up.Unix())); code != http.StatusNoContent {
		t.Fatalf("write: %d %s", code, msg)
	}
	res := next("resolved LinkDown")
	upSlot := up.Truncate(10 * time.Second)
	lasted := upSlot.Sub(first)
	wib := time.FixedZone("WIB", 7*3600)
	words := fmt.Sprintf("%d menit", int(lasted.Minutes()))
	if sec := int(lasted.Seconds()) % 60; sec > 0 {
		words += fmt.Sprintf(" %d detik", sec)
	}
	wantText := fmt.Sprintf("Lokasi: Dinas Kesehatan (dinkes)\nOPD: dinkes\nSejak: %s WIB\nPulih: %s WIB\nLama gangguan: %s\nAturan: LinkDown",
		first.In(wib).Format("2006-01-02 15:04:05"), upSlot.In(wib).Format("2006-01-02 15:04:05"), words)
	want := amMsg{Receiver: "hook", Status: "resolved", GroupLabels: map[string]string{"alertname": "LinkDown"}, CommonLabels: labels,
		CommonAnnotations: map[string]string{"summary": "✅ PULIH: Link dinkes-wan PUTUS — Dinas Kesehatan", "description": wantText},
		Alerts: []amAlert{{Status: "resolved", Labels: labels, Annotations: map[string]string{"summary": "✅ PULIH: Link dinkes-wan PUTUS — Dinas Kesehatan", "description": wantText},
			StartsAt: first, EndsAt: upSlot}}}
	got := res
	got.ExternalURL, got.Version, got.GroupKey = "", "", ""
	for i := range got.Alerts {
		got.Alerts[i].Fingerprint, got.Alerts[i].GeneratorURL = "", ""
		got.Alerts[i].StartsAt, got.Alerts[i].EndsAt = got.Alerts[i].StartsAt.UTC(), got.Alerts[i].EndsAt.UTC()
	}
	want.Alerts[0].StartsAt, want.Alerts[0].EndsAt = first.UTC(), upSlot.UTC()
	gj, _ := json.MarshalIndent(got, "", "  ")
	wj, _ := json.MarshalIndent(want, "", "  ")
	if string(gj) != string(wj) || res.Version != "4" {
		t.Errorf("resolved webhook\n%s\nwant\n%s", gj, wj)
	}
	// nothing else: HighLoss cleared without a message, nothing active
	testproc.WaitFor(t, 30*time.Second, "no active alert", func() bool {
		_, js := tc.get("/api/v1/alerts")
		return strings.Contains(js, `"alerts":[]`)
	})
	if active := amActive(t, am); len(active) != 0 {
		t.Errorf("alertmanager still holds %v", active)
	}
	select {
	case b := <-hooks:
		t.Errorf("another webhook: %s", b)
	case <-time.After(3 * time.Second): // group_interval is 1 s
	}
}

// FuzzRulesParams: whatever the query string, GET /api/v1/rules answers
// 200 with Prometheus's success envelope, and a rule_name[] filter gives
// only the rules it names.
func FuzzRulesParams(f *testing.F) {
	for _, q := range []string{"", "type=alert", "type=record", "rule_name[]=LinkDown", "rule_name[]=LinkDown&rule_name[]=x", "type=%zz", "rule_name[]="} {
		f.Add(q)
	}
	src := fixedAlerts{{Fingerprint: "a1", Kind: "link_down", Rule: "link_down", Severity: "critical", State: "firing", Labels: map[string]string{"link": "x"}}}
	h := serveRules(src, func() *inventory.Inventory { return nil }, "collector.yml", 15*time.Second)
	f.Fuzz(func(t *testing.T, q string) {
		req := httptest.NewRequest(http.MethodGet, "/api/v1/rules", nil)
		req.URL.RawQuery = q
		w := httptest.NewRecorder()
		h(w, req)
		var got struct {
			Status string
			Data   struct {
				Groups []struct{ Rules []struct{ Name string } }
			}
		}
		if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil || w.Code != 200 || got.Status != "success" {
			t.Fatalf("%q: %d %v %s", q, w.Code, err, w.Body)
		}
		names := req.URL.Query()["rule_name[]"]
		for _, g := range got.Data.Groups {
			for _, r := range g.Rules {
				if len(names) > 0 && !slices.Contains(names, r.Name) {
					t.Fatalf("%q: rule %s not asked for", q, r.Name)
				}
			}
		}
	})
}
