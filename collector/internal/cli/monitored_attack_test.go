package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMarkMonitoredReasonBounded: a span's reason is printed in every
// report's methods, so it is one line of at most 500 bytes: a 100 kB or
// multi-line --reason is a usage error naming the flag, and nothing is
// stored.
func TestMarkMonitoredReasonBounded(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "collector.yml")
	os.WriteFile(cfg, []byte("data_dir: "+filepath.Join(dir, "data")+"\nreport:\n  time_zone: WIT\n"), 0o600)
	for _, c := range []struct{ reason, want string }{
		{strings.Repeat("x", 100000), "--reason is 100000 bytes: at most 500"},
		{strings.Repeat("é", 251), "--reason is 502 bytes: at most 500"},
		{"impor\nZabbix", "--reason: one line"},
	} {
		code, _, errOut := cli(t, "sla", "mark-monitored", "--config", cfg, "--from", "2026-03-01", "--to", "2026-07-01", "--reason", c.reason)
		if code != 2 || !strings.Contains(errOut, c.want) {
			t.Errorf("--reason of %d bytes: exit %d, want 2 and %q\n%.300s", len(c.reason), code, c.want, errOut)
		}
	}
	if code, out, errOut := cli(t, "sla", "monitored", "--config", cfg, "--format", "json"); code != 0 || strings.TrimSpace(out) != "[]" {
		t.Errorf("spans stored after refusals: exit %d\n%s%s", code, out, errOut)
	}
	if code, _, errOut := cli(t, "sla", "mark-monitored", "--config", cfg, "--from", "2026-03-01", "--to", "2026-07-01", "--reason", strings.Repeat("x", 500)); code != 0 {
		t.Errorf("a 500-byte reason: exit %d\n%s", code, errOut)
	}
}
