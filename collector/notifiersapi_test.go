package collector

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/internal/testproc"
)

// A test message queued through POST /api/v1/notifiers/{name}/test is
// delivered by the running collector's outbox (through a 500 and a 429),
// GET /api/v1/notifiers shows it sent, and the bot token appears in no
// answer and no log line.
func TestIntegrationNotifiersAPI(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: waits out the outbox's retries (seconds)")
	}
	t.Parallel()
	const token = "7001234567:AAFakeSecretTokenForAPITests"
	tg := &fakeTelegram{t: t, token: token}
	srv := httptest.NewServer(tg)
	defer srv.Close()
	tc := startFromFile(t, filepath.Join(t.TempDir(), "collector.yml"), func(dataDir string) string {
		return fmt.Sprintf("data_dir: %s\nnotifiers:\n  - {name: noc, type: telegram, url: %q, bot_token: %q, chat_id: \"-1001234567890\"}\n", dataDir, srv.URL, token)
	})
	res, err := tc.httpCli.Post(tc.base+"/api/v1/notifiers/noc/test?lang=en", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	var queued struct {
		ID    int64  `json:"id"`
		MsgID string `json:"msg_id"`
	}
	if err := json.Unmarshal(b, &queued); res.StatusCode != 202 || err != nil || queued.ID == 0 {
		t.Fatalf("test: %d %v %s", res.StatusCode, err, b)
	}
	testproc.WaitFor(t, 60*time.Second, "the collector to deliver the test message", func() bool { return len(tg.delivered()) == 1 })
	if m := tg.delivered()[0]; !strings.HasPrefix(fmt.Sprint(m["text"]), "<b>Pantau test notification</b>") {
		t.Errorf("delivered %v", m)
	}
	var list struct {
		Data []struct {
			Name, Type            string
			Pending, Sent, Failed int
		}
	}
	var body string
	testproc.WaitFor(t, 10*time.Second, "the outbox to mark it sent", func() bool {
		_, body = tc.get("/api/v1/notifiers")
		return json.Unmarshal([]byte(body), &list) == nil && len(list.Data) == 1 && list.Data[0].Sent == 1
	})
	if d := list.Data[0]; d.Name != "noc" || d.Type != "telegram" || d.Pending != 0 || d.Failed != 0 {
		t.Errorf("list %s", body)
	}
	for _, s := range []string{string(b), body, tc.logs.String()} {
		if strings.Contains(s, token) || strings.Contains(s, "AAFakeSecret") {
			t.Errorf("the bot token leaked: %s", s)
		}
	}
}

// POST /api/v1/notifiers/{name}/test to an alertmanager notifier queues
// the test alert and its resolution, as `notify test` does: the real
// Alertmanager holds no active PantauTest afterwards (it kept it 24 h).
func TestIntegrationNotifiersAPIAlertmanagerResolves(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: runs prometheus-alertmanager")
	}
	t.Parallel()
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.Copy(io.Discard, r.Body) }))
	defer hook.Close()
	am := startAlertmanager(t, hook.URL+"/hook")
	tc := startFromFile(t, filepath.Join(t.TempDir(), "collector.yml"), func(dataDir string) string {
		return fmt.Sprintf("data_dir: %s\nnotifiers:\n  - {name: am, type: alertmanager, url: %q}\n", dataDir, am)
	})
	res, err := tc.httpCli.Post(tc.base+"/api/v1/notifiers/am/test", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	var queued struct {
		MsgID      string `json:"msg_id"`
		Resolution string `json:"resolution_msg_id"`
	}
	if err := json.Unmarshal(b, &queued); res.StatusCode != 202 || err != nil || queued.Resolution != queued.MsgID+"-resolved" {
		t.Errorf("test: %d %v %s, want 202 naming the resolution", res.StatusCode, err, b)
	}
	var list struct {
		Data []struct{ Pending, Sent, Failed int }
	}
	var body string
	testproc.WaitFor(t, 60*time.Second, "the outbox to send the test alert and its resolution", func() bool {
		_, body = tc.get("/api/v1/notifiers")
		return json.Unmarshal([]byte(body), &list) == nil && len(list.Data) == 1 && list.Data[0].Pending == 0 && list.Data[0].Sent+list.Data[0].Failed >= 1
	})
	if d := list.Data[0]; d.Sent != 2 || d.Failed != 0 {
		t.Errorf("outbox %s, want 2 sent (the test alert and its resolution)", body)
	}
	if active := amActive(t, am); len(active) != 0 {
		t.Errorf("after the API's test, Alertmanager has active alerts %v", active)
	}
}
