package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Silences go in with an author and a reason, are listed, and expire.
func TestSilenceCommands(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "collector.yml")
	if err := os.WriteFile(cfgPath, []byte("data_dir: "+filepath.Join(dir, "data")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := cli(t, "silence", "add", "--config", cfgPath, "--match", "site=dinkes", "--reason", "x"); code != 2 || !strings.Contains(errOut, "author is required") {
		t.Errorf("without author: %d %q", code, errOut)
	}
	if code, _, errOut := cli(t, "silence", "add", "--config", cfgPath, "--match", "site", "--author", "a", "--reason", "x"); code != 2 || !strings.Contains(errOut, "want label=value") {
		t.Errorf("bad match: %d %q", code, errOut)
	}
	code, out, errOut := cli(t, "silence", "add", "--config", cfgPath, "--match", "site=dinkes", "--match", "alertname=HighLoss", "--duration", "3h", "--author", "budi", "--reason", "perbaikan ISP")
	if code != 0 || !strings.HasPrefix(out, "silence 1: alertname=HighLoss,site=dinkes until ") {
		t.Fatalf("silence add: %d %q %q", code, out, errOut)
	}
	code, out, _ = cli(t, "silence", "list", "--config", cfgPath, "--format", "json")
	var list []struct {
		ID       int64
		Matchers map[string]string
		Author   string
	}
	if err := json.Unmarshal([]byte(out), &list); code != 0 || err != nil || len(list) != 1 || list[0].Author != "budi" || list[0].Matchers["site"] != "dinkes" {
		t.Errorf("silence list: %d %v %s", code, err, out)
	}
	if code, out, _ := cli(t, "silence", "expire", "--config", cfgPath, "--id", "1"); code != 0 || out != "silence 1 expired\n" {
		t.Errorf("silence expire: %d %q", code, out)
	}
	if code, out, _ := cli(t, "silence", "list", "--config", cfgPath, "--format", "json"); code != 0 || strings.TrimSpace(out) != "[]" {
		t.Errorf("after expiry: %d %q", code, out)
	}
	if code, _, errOut := cli(t, "silence", "expire", "--config", cfgPath, "--id", "9"); code != 1 || !strings.Contains(errOut, "no such silence") {
		t.Errorf("expire unknown: %d %q", code, errOut)
	}
}
