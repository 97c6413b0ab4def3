package collector

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/config"
	"github.com/pantau-noc/pantau/internal/testproc"
)

// startFromFile starts a collector from the config file cfgPath that
// yml(dataDir) writes, so the CLI can be pointed at the same file.
func startFromFile(t *testing.T, cfgPath string, yml func(dataDir string) string) *testCollector {
	t.Helper()
	return startCollector(t, func(c *config.Config) {
		if err := os.WriteFile(cfgPath, []byte(yml(c.DataDir)), 0o600); err != nil {
			t.Fatal(err)
		}
		fc, err := config.Load(cfgPath)
		if err != nil {
			t.Fatal(err)
		}
		c.Inventory, c.Notifiers, c.Alerting = fc.Inventory, fc.Notifiers, fc.Alerting
	})
}

// fakeTelegram is the Bot API's sendMessage: it fails the first request
// with a 500 and the second with a 429 asking to wait a second (as
// Telegram does, in the JSON body), then accepts, recording every
// accepted message and the time of every request.
type fakeTelegram struct {
	t        *testing.T
	token    string
	mu       sync.Mutex
	requests []time.Time
	got      []map[string]any
}

func (f *fakeTelegram) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, time.Now())
	if r.Method != http.MethodPost || r.URL.Path != "/bot"+f.token+"/sendMessage" || r.Header.Get("Content-Type") != "application/json" {
		f.t.Errorf("telegram got %s %s (%s)", r.Method, r.URL.Path, r.Header.Get("Content-Type"))
	}
	switch len(f.requests) {
	case 1:
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprint(w, `{"ok":false,"error_code":500,"description":"Internal Server Error"}`)
		return
	case 2:
		w.WriteHeader(http.StatusTooManyRequests)
		fmt.Fprint(w, `{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 1","parameters":{"retry_after":1}}`)
		return
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		f.t.Errorf("telegram body %q: %v", body, err)
	}
	f.got = append(f.got, m)
	fmt.Fprint(w, `{"ok":true,"result":{"message_id":42}}`)
}

func (f *fakeTelegram) delivered() []map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]map[string]any(nil), f.got...)
}

// Notifications queued with the CLI are delivered by the running
// collector's outbox through a 500 and a 429 with Telegram's retry_after:
// each exactly once, in order, the wait respected, shown as sent, and
// counted in the self-metrics.
func TestIntegrationNotifyThroughOutbox(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: waits out the outbox's retries (seconds)")
	}
	t.Parallel()
	const token = "7001234567:AAFakeSecretTokenForTests"
	tg := &fakeTelegram{t: t, token: token}
	srv := httptest.NewServer(tg)
	defer srv.Close()
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "collector.yml")
	tc := startFromFile(t, cfgPath, func(dataDir string) string {
		return fmt.Sprintf("data_dir: %s\nnotifiers:\n  - {name: noc, type: telegram, url: %q, bot_token: %q, chat_id: \"-1001234567890\", thread_id: 7}\n", dataDir, srv.URL, token)
	})
	var ids []string
	for _, lang := range []string{"id", "en", "id"} {
		code, out, errOut := cli(t, "notify", "test", "--config", cfgPath, "--notifier", "noc", "--lang", lang, "--queue")
		if code != 0 || !strings.HasPrefix(out, "queued test-") {
			t.Fatalf("notify test --queue: %d %q %q", code, out, errOut)
		}
		ids = append(ids, strings.Fields(out)[1])
	}
	testproc.WaitFor(t, 60*time.Second, "the collector to deliver the notifications", func() bool { return len(tg.delivered()) == 3 })
	time.Sleep(time.Second) // a repeated delivery would show now
	got := tg.delivered()
	if len(got) != 3 {
		t.Fatalf("delivered %d messages, want 3", len(got))
	}
	for i, prefix := range []string{"<b>Uji notifikasi Pantau</b>\nPesan uji", "<b>Pantau test notification</b>\nA test message", "<b>Uji notifikasi Pantau</b>\nPesan uji"} {
		m := got[i]
		if m["chat_id"] != "-1001234567890" || m["message_thread_id"] != float64(7) || m["parse_mode"] != "HTML" || !strings.HasPrefix(fmt.Sprint(m["text"]), prefix) {
			t.Errorf("message %d: %v", i, m)
		}
	}
	tg.mu.Lock()
	if gap := tg.requests[2].Sub(tg.requests[1]); gap < time.Second {
		t.Errorf("sent again %s after retry_after 1", gap)
	}
	tg.mu.Unlock()
	code, out, _ := cli(t, "notify", "outbox", "--config", cfgPath, "--format", "json")
	var rows []struct {
		MsgID    string `json:"msg_id"`
		State    string
		Attempts int
	}
	if err := json.Unmarshal([]byte(out), &rows); code != 0 || err != nil || len(rows) != 3 {
		t.Fatalf("notify outbox: %d %v %s", code, err, out)
	}
	// newest first: the first queued took three attempts
	if rows[2].MsgID != ids[0] || rows[2].Attempts != 3 || rows[0].Attempts != 1 || rows[0].State != "sent" || rows[2].State != "sent" {
		t.Errorf("outbox rows %+v", rows)
	}
	_, metrics := tc.get("/metrics")
	for _, want := range []string{
		`pantau_notifications_sent_total{notifier="noc",type="telegram"} 3`,
		`pantau_notifications_retried_total{notifier="noc",type="telegram"} 2`,
		`pantau_notification_outbox_entries{notifier="noc"} 0`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s:\n%s", want, testproc.GrepLines(metrics, "notif"))
		}
	}
	if strings.Contains(metrics, token) || strings.Contains(tc.logs.String(), token) {
		t.Error("the bot token leaked into metrics or logs")
	}
}

// startAlertmanager runs Debian's prometheus-alertmanager on loopback with
// one webhook receiver; it returns its base URL.
func startAlertmanager(t *testing.T, webhook string) string {
	t.Helper()
	bin, err := exec.LookPath("prometheus-alertmanager")
	if err != nil {
		t.Fatalf("prometheus-alertmanager not installed (make deps installs it): %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	dir := t.TempDir()
	cfg := fmt.Sprintf(`route:
  receiver: hook
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: hook
    webhook_configs:
      - url: %s
        send_resolved: true
`, webhook)
	if err := os.WriteFile(filepath.Join(dir, "am.yml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--config.file="+filepath.Join(dir, "am.yml"), "--storage.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--cluster.listen-address=")
	var logs strings.Builder
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill() // by PID: the process this test started
		cmd.Wait()
	})
	base := "http://" + addr
	testproc.WaitFor(t, 30*time.Second, "alertmanager to be ready", func() bool {
		resp, err := http.Get(base + "/-/ready")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	return base
}

// End to end through Alertmanager: our test alert reaches its webhook
// receiver with our labels and text, then its resolution; and `notify
// test` leaves no active PantauTest in Alertmanager (it stayed 24 h).
func TestIntegrationNotifyAlertmanager(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: runs prometheus-alertmanager")
	}
	t.Parallel()
	hooks := make(chan []byte, 10)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		hooks <- b
	}))
	defer hook.Close()
	am := startAlertmanager(t, hook.URL+"/hook")
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "collector.yml")
	yml := fmt.Sprintf("data_dir: %s\nnotifiers:\n  - {name: am, type: alertmanager, url: %q}\n", filepath.Join(dir, "data"), am)
	if err := os.WriteFile(cfgPath, []byte(yml), 0o600); err != nil {
		t.Fatal(err)
	}
	// without --hold: resolved right after, nothing stays active
	code, out, errOut := cli(t, "notify", "test", "--config", cfgPath, "--notifier", "am")
	if code != 0 || out != "sent a test notification to am (alertmanager) and resolved it\n" {
		t.Fatalf("notify test: %d %q %q", code, out, errOut)
	}
	if active := amActive(t, am); len(active) != 0 {
		t.Fatalf("after notify test, Alertmanager has active alerts %v", active)
	}
	// with --hold longer than the route's group_wait (1 s) the receiver
	// sees it firing, then resolved
	code, out, errOut = cli(t, "notify", "test", "--config", cfgPath, "--notifier", "am", "--hold", "4s")
	if code != 0 || out != "sent a test notification to am (alertmanager) and resolved it\n" {
		t.Fatalf("notify test --hold: %d %q %q", code, out, errOut)
	}
	if active := amActive(t, am); len(active) != 0 {
		t.Fatalf("after notify test --hold, Alertmanager has active alerts %v", active)
	}
	type amMsg struct {
		Receiver string
		Status   string
		Alerts   []struct {
			Status      string
			Labels      map[string]string
			Annotations map[string]string
			StartsAt    time.Time
			EndsAt      time.Time
		}
	}
	next := func() amMsg {
		t.Helper()
		var msg amMsg
		select {
		case b := <-hooks:
			if err := json.Unmarshal(b, &msg); err != nil {
				t.Fatalf("webhook body %s: %v", b, err)
			}
		case <-time.After(60 * time.Second):
			t.Fatal("alertmanager's webhook did not fire within 60 s")
		}
		return msg
	}
	msg := next()
	if msg.Receiver != "hook" || msg.Status != "firing" || len(msg.Alerts) != 1 {
		t.Fatalf("webhook %+v", msg)
	}
	a := msg.Alerts[0]
	if a.Labels["alertname"] != "PantauTest" || a.Labels["severity"] != "info" || a.Annotations["summary"] != "Uji notifikasi Pantau" ||
		!strings.HasPrefix(a.Annotations["description"], "Pesan uji dari pantau-collector") {
		t.Errorf("alert %+v", a)
	}
	msg = next()
	if msg.Status != "resolved" || len(msg.Alerts) != 1 || msg.Alerts[0].Labels["alertname"] != "PantauTest" ||
		msg.Alerts[0].EndsAt.Sub(msg.Alerts[0].StartsAt) < 3*time.Second {
		t.Errorf("resolution %+v", msg)
	}
}

// amActive returns the labels of the alerts Alertmanager holds active
// (GET /api/v2/alerts?active=true; resolved ones are not listed).
func amActive(t *testing.T, am string) []map[string]string {
	t.Helper()
	resp, err := http.Get(am + "/api/v2/alerts?active=true&silenced=true&inhibited=true")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var list []struct {
		Labels map[string]string
		EndsAt time.Time
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		t.Fatalf("alertmanager alerts: %v", err)
	}
	var out []map[string]string
	for _, a := range list {
		out = append(out, a.Labels)
	}
	return out
}

// An inventory link goes down: the running collector's alert engine sends
// one Telegram message in Bahasa Indonesia, lists the alert, and when the
// link is back sends one resolution.
func TestIntegrationAlertLinkDown(t *testing.T) {
	t.Parallel()
	const token = "7001234567:AAAlertTestSecretToken"
	tg := &fakeTelegram{t: t, token: token}
	srv := httptest.NewServer(tg)
	defer srv.Close()
	dir := t.TempDir()
	invPath := filepath.Join(dir, "inventory.yml")
	if err := os.WriteFile(invPath, []byte(slaTestInventory), 0o644); err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(dir, "collector.yml")
	tc := startFromFile(t, cfgPath, func(dataDir string) string {
		return fmt.Sprintf(`data_dir: %s
inventory: %s
notifiers:
  - {name: noc, type: telegram, url: %q, bot_token: %q, chat_id: "-100123"}
alerting:
  evaluation_interval: 1s
  rules:
    - {name: LinkDown, kind: link_down, for: 0s, clear_for: 0s}
`, dataDir, invPath, srv.URL, token)
	})
	tok := tc.token("agent-1", "dinkes")
	// the failed round 30 s into the previous minute (backdated: it is
	// still the link's current state, at most 3 minutes old), so that the
	// good round sent now is in the next minute without waiting for one
	down := time.Now().Truncate(time.Minute).Add(-30 * time.Second)
	if code, msg := tc.write(tok, fmt.Sprintf("icmp,target=127.0.0.2 packets_sent=5u,packets_received=0u,loss_ratio=1,up=0i %d\n", down.Unix())); code != http.StatusNoContent {
		t.Fatalf("write: %d %s", code, msg)
	}
	testproc.WaitFor(t, 30*time.Second, "the down message", func() bool { return len(tg.delivered()) == 1 })
	text := fmt.Sprint(tg.delivered()[0]["text"])
	if !strings.HasPrefix(text, "<b>🔴 Link dinkes-wan PUTUS — Dinas Kesehatan</b>\nLokasi: Dinas Kesehatan (dinkes)\nOPD: dinkes\nSejak: ") {
		t.Errorf("down message %q", text)
	}
	_, js := tc.get("/api/v1/alerts")
	if !strings.Contains(js, `"rule":"LinkDown"`) || !strings.Contains(js, `"state":"firing"`) || !strings.Contains(js, `"alertname":"LinkDown"`) {
		t.Errorf("/api/v1/alerts: %s", js)
	}
	code, out, errOut := cli(t, "alert", "list", "--config", cfgPath)
	if code != 0 || !strings.Contains(out, "LinkDown") || !strings.Contains(out, "firing") || !strings.Contains(out, "link=dinkes-wan") {
		t.Errorf("alert list: %d %q %q", code, out, errOut)
	}
	// back up in the next minute (a minute holding both rounds is degraded)
	if code, msg := tc.write(tok, fmt.Sprintf("icmp,target=127.0.0.2 packets_sent=5u,packets_received=5u,loss_ratio=0,rtt_avg_seconds=0.004,up=1i %d\n", time.Now().Unix())); code != http.StatusNoContent {
		t.Fatalf("write: %d %s", code, msg)
	}
	testproc.WaitFor(t, 90*time.Second, "the resolved message", func() bool { return len(tg.delivered()) == 2 })
	text = fmt.Sprint(tg.delivered()[1]["text"])
	if !strings.HasPrefix(text, "<b>✅ PULIH: Link dinkes-wan PUTUS — Dinas Kesehatan</b>") || !strings.Contains(text, "\nLama gangguan: ") {
		t.Errorf("resolved message %q", text)
	}
	_, metrics := tc.get("/metrics")
	if !strings.Contains(metrics, `pantau_alerts{rule="LinkDown",state="firing"} 0`) {
		t.Errorf("pantau_alerts:\n%s", testproc.GrepLines(metrics, "pantau_alert"))
	}
}

// botAPI is a Telegram Bot API for the console test: getMe, getUpdates
// serving what the test pushes (long-polling briefly otherwise) and
// sendMessage recording every message.
type botAPI struct {
	t       *testing.T
	token   string
	mu      sync.Mutex
	pending []map[string]any
	nextID  int64
	sent    []map[string]any
}

func (b *botAPI) push(text string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.nextID++
	b.pending = append(b.pending, map[string]any{"update_id": b.nextID, "message": map[string]any{
		"message_id": 100 + b.nextID, "date": time.Now().Unix(), "text": text,
		"chat": map[string]any{"id": -100123, "type": "supergroup", "title": "NOC Pemkab"},
		"from": map[string]any{"id": 42, "is_bot": false, "first_name": "Budi", "username": "budi"},
	}})
}

func (b *botAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	method := strings.TrimPrefix(r.URL.Path, "/bot"+b.token+"/")
	body, _ := io.ReadAll(r.Body)
	switch method {
	case "getMe":
		fmt.Fprint(w, `{"ok":true,"result":{"id":1,"is_bot":true,"username":"PantauBot"}}`)
	case "getUpdates":
		for range 20 { // hold the poll up to 1 s
			b.mu.Lock()
			ups := b.pending
			b.pending = nil
			b.mu.Unlock()
			if len(ups) > 0 {
				json.NewEncoder(w).Encode(map[string]any{"ok": true, "result": ups})
				return
			}
			select {
			case <-r.Context().Done():
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
		fmt.Fprint(w, `{"ok":true,"result":[]}`)
	case "sendMessage":
		var m map[string]any
		json.Unmarshal(body, &m)
		b.mu.Lock()
		b.sent = append(b.sent, m)
		b.mu.Unlock()
		fmt.Fprint(w, `{"ok":true,"result":{"message_id":1}}`)
	default:
		b.t.Errorf("bot API got %s %s", r.Method, r.URL.Path)
		w.WriteHeader(http.StatusNotFound)
	}
}

// replies are the console's answers (sent in reply to a command).
func (b *botAPI) replies() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for _, m := range b.sent {
		if m["reply_to_message_id"] != nil {
			out = append(out, fmt.Sprint(m["text"]))
		}
	}
	return out
}

// The Telegram console answers /status, /ack and /silence from the NOC
// group while an alert fires, and the silence is recorded with its author.
func TestIntegrationTelegramConsole(t *testing.T) {
	t.Parallel()
	const token = "7001234567:AAConsoleTestSecretToken"
	bot := &botAPI{t: t, token: token}
	srv := httptest.NewServer(bot)
	defer srv.Close()
	dir := t.TempDir()
	invPath := filepath.Join(dir, "inventory.yml")
	if err := os.WriteFile(invPath, []byte(slaTestInventory), 0o644); err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(dir, "collector.yml")
	tc := startFromFile(t, cfgPath, func(dataDir string) string {
		return fmt.Sprintf(`data_dir: %s
inventory: %s
notifiers:
  - {name: noc, type: telegram, url: %q, bot_token: %q, chat_id: "-100123"}
alerting:
  evaluation_interval: 1s
  rules:
    - {name: LinkDown, kind: link_down, for: 0s}
  console: {notifier: noc, allowed_chats: [-100123]}
`, dataDir, invPath, srv.URL, token)
	})
	tok := tc.token("agent-1", "dinkes")
	if code, msg := tc.write(tok, fmt.Sprintf("icmp,target=127.0.0.2 packets_sent=5u,packets_received=0u,loss_ratio=1,up=0i %d\n", time.Now().Unix())); code != http.StatusNoContent {
		t.Fatalf("write: %d %s", code, msg)
	}
	var fp string
	testproc.WaitFor(t, 30*time.Second, "the alert to fire", func() bool {
		_, js := tc.get("/api/v1/alerts")
		var list struct {
			Data struct {
				Alerts []struct {
					State  string
					Pantau struct{ Fingerprint string }
				}
			}
		}
		json.Unmarshal([]byte(js), &list)
		if as := list.Data.Alerts; len(as) == 1 && as[0].State == "firing" {
			fp = as[0].Pantau.Fingerprint
			return true
		}
		return false
	})
	bot.push("/status")
	testproc.WaitFor(t, 30*time.Second, "the /status reply", func() bool { return len(bot.replies()) == 1 })
	if r := bot.replies()[0]; !strings.Contains(r, "<b>Gangguan saat ini: 1</b>") || !strings.Contains(r, "<code>"+fp[:8]+"</code> Link dinkes-wan PUTUS — Dinas Kesehatan") {
		t.Errorf("/status reply %q", r)
	}
	bot.push("/ack " + fp[:8])
	bot.push("/silence dinkes 1h ganti kabel")
	testproc.WaitFor(t, 30*time.Second, "the /ack and /silence replies", func() bool { return len(bot.replies()) == 3 })
	r := bot.replies()
	if !strings.HasPrefix(r[1], "✔ Di-ack oleh @budi: Link dinkes-wan PUTUS") || !strings.Contains(r[2], "dibungkam 1 jam oleh @budi") {
		t.Errorf("replies %q", r[1:])
	}
	code, out, _ := cli(t, "silence", "list", "--config", cfgPath)
	if code != 0 || !strings.Contains(out, "site=dinkes") || !strings.Contains(out, "@budi") || !strings.Contains(out, "ganti kabel") {
		t.Errorf("silence list: %d %q", code, out)
	}
	if _, js := tc.get("/api/v1/alerts"); !strings.Contains(js, `"acked":"@budi"`) || !strings.Contains(js, `"acknowledged_by":"@budi"`) {
		t.Errorf("alert not acknowledged: %s", js)
	}
	if strings.Contains(tc.logs.String(), token) {
		t.Error("the bot token leaked into the logs")
	}
}
