package cli

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pantau-noc/pantau/collector/internal/daemon"
)

// cli runs a pantau-collector command line in-process, without a daemon
// (these commands do not serve).
func cli(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	run := func(context.Context, daemon.Options) error { return errors.New("no daemon in this test") }
	code = Main(context.Background(), Options{Run: run}, args, &o, &e)
	return code, o.String(), e.String()
}

func TestCheckConfigCommand(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yml")
	os.WriteFile(good, []byte("listen_address: 127.0.0.1:9810\nstorage:\n  retention: 30d\n"), 0o600)
	if code, out, errOut := cli(t, "check-config", "--config", good); code != 0 || !strings.HasSuffix(out, "good.yml: OK\n") {
		t.Fatalf("good: %d %q %q", code, out, errOut)
	}
	bad := filepath.Join(dir, "bad.yml")
	os.WriteFile(bad, []byte("listen_address: 127.0.0.1:9810\nstorage:\n  fsync: sometimes\n"), 0o600)
	code, _, errOut := cli(t, "check-config", "--config", bad)
	if code != 1 || !strings.Contains(errOut, bad+":3:10: storage.fsync: must be one of") {
		t.Fatalf("bad: %d %q", code, errOut)
	}
	if code, out, _ := cli(t, "check-config", "--example"); code != 0 || !strings.Contains(out, "listen_address") {
		t.Fatalf("--example: %d", code)
	}
	if code, _, _ := cli(t, "no-such-command"); code != 2 {
		t.Fatalf("unknown command exit %d", code)
	}
	if code, out, _ := cli(t, "--help"); code != 0 || !strings.Contains(out, "token create") {
		t.Fatalf("--help: %d", code)
	}
}
