package cli

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The CLI names what is wrong: an unknown notifier, and an endpoint that
// refuses (permanent) or is down (temporary); the token never shows.
func TestNotifyCommandErrors(t *testing.T) {
	const token = "7009999999:AAAnotherSecretForTests"
	refuse := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"ok":false,"error_code":400,"description":"Bad Request: chat not found"}`)
	}))
	defer refuse.Close()
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "collector.yml")
	yml := fmt.Sprintf("data_dir: %s\nnotifiers:\n  - {name: tg, type: telegram, url: %q, bot_token: %q, chat_id: \"-100\"}\n  - {name: gone, type: slack, url: %q}\n",
		filepath.Join(dir, "data"), refuse.URL, token, down.URL+"/services/T000/B000/XXXXSECRET")
	if err := os.WriteFile(cfgPath, []byte(yml), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := cli(t, "notify", "test", "--config", cfgPath, "--notifier", "nope")
	if code != 1 || !strings.Contains(errOut, `no notifier "nope"`) || !strings.Contains(errOut, "configured: tg, gone") {
		t.Errorf("unknown notifier: %d %q", code, errOut)
	}
	code, _, errOut = cli(t, "notify", "test", "--config", cfgPath, "--notifier", "tg", "--lang", "en")
	if code != 1 || !strings.Contains(errOut, "chat not found") || !strings.Contains(errOut, "refused") || strings.Contains(errOut, token) {
		t.Errorf("refused: %d %q", code, errOut)
	}
	code, _, errOut = cli(t, "notify", "test", "--config", cfgPath, "--notifier", "gone")
	if code != 1 || !strings.Contains(errOut, "temporary") || strings.Contains(errOut, "XXXXSECRET") {
		t.Errorf("endpoint down: %d %q", code, errOut)
	}
	code, out, _ := cli(t, "notify", "example", "--type", "http")
	if code != 0 || !strings.Contains(out, "type: http") {
		t.Errorf("notify example --type http: %d %q", code, out)
	}
	if code, _, _ := cli(t, "notify", "test", "--config", cfgPath); code != 2 {
		t.Errorf("missing --notifier: exit %d, want 2", code)
	}
}
