package agent

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pantau-noc/pantau/agent/internal/config"
	"github.com/pantau-noc/pantau/agent/internal/update"
)

// TestCheckConfigWarnsPlainHTTP: check-config warns (on stderr, exit 0)
// about a collector reached over plain http:// at an address that is not
// loopback, naming the collector, its place in the file and the remedy;
// https:// and loopback addresses get no warning. The agent logs the same
// warning at start.
func TestCheckConfigWarnsPlainHTTP(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		url  string
		warn bool
	}{
		{"http://10.20.0.5:9810", true},
		{"http://noc.example.go.id:9810", true},
		{"http://[2001:db8::1]:9810", true},
		{"HTTP://192.0.2.7", true},
		{"http://127.0.0.2.example.com:9810", true},
		{"https://10.20.0.5:9810", false},
		{"https://noc.example.go.id", false},
		{"http://127.0.0.1:9810", false},
		{"http://127.8.9.10:9810", false},
		{"http://[::1]:9810", false},
		{"http://[::ffff:127.0.0.1]:9810", false},
		{"http://localhost:9810", false},
		{"http://LOCALHOST.:9810", false},
	} {
		t.Run(tc.url, func(t *testing.T) {
			f := filepath.Join(dir, "agent.yml")
			yml := fmt.Sprintf("agent: {state_dir: %s, listen_address: \"\"}\ncollectors:\n  - name: noc\n    url: %q\n    token: tok-1\n",
				filepath.Join(dir, "state"), tc.url)
			if err := os.WriteFile(f, []byte(yml), 0o600); err != nil {
				t.Fatal(err)
			}
			var out, errb bytes.Buffer
			code := Main(t.Context(), []string{"check-config", "--config", f}, &out, &errb)
			if code != 0 || !strings.Contains(out.String(), ": ok (") {
				t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, &out, &errb)
			}
			host := tc.url[strings.Index(tc.url, "//")+2:]
			want := fmt.Sprintf(`pantau-agent check-config: warning: %s:4:10: collectors[0].url: collector "noc" is reached over plain http:// at %s, which is not a loopback address: `+
				`its token and the measurements travel in clear text; use https:// (docs/install.md, "Firewall and TLS")`+"\n", f, host)
			if tc.warn && errb.String() != want {
				t.Fatalf("stderr:\n%s\nwant:\n%s", &errb, want)
			}
			if !tc.warn && errb.Len() > 0 {
				t.Fatalf("warning for %s: %s", tc.url, &errb)
			}

			cfg, err := config.Load(f)
			if err != nil {
				t.Fatal(err)
			}
			var logs bytes.Buffer
			warnConfig(slog.New(slog.NewTextHandler(&logs, nil)), cfg)
			if got := strings.Count(logs.String(), "level=WARN"); tc.warn != (got == 1) || got > 1 ||
				tc.warn && !strings.Contains(logs.String(), `travel in clear text; use https://`) || strings.Contains(logs.String(), "tok-1") {
				t.Fatalf("start log: %s", &logs)
			}
		})
	}
}

// TestExitCodeRestart: run exits with update.ExitCode when the agent
// stopped to run a staged release (systemd restarts it on that code).
func TestExitCodeRestart(t *testing.T) {
	var stderr bytes.Buffer
	if code := exitCode("run", fmt.Errorf("agent: %w", update.ErrRestart), &stderr); update.ExitCode != 75 || code != update.ExitCode {
		t.Fatalf("exit code %d", code)
	}
	if !strings.Contains(stderr.String(), "restart to run it on trial (exit status 75)") {
		t.Fatalf("stderr: %s", stderr.String())
	}
	if code := exitCode("run", errors.New("boom"), &stderr); code != 1 {
		t.Fatalf("exit code %d for a failure", code)
	}
}
