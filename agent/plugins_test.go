package agent

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/agent/internal/config"
	"github.com/pantau-noc/pantau/agent/internal/point"
	"github.com/pantau-noc/pantau/plugins/sdk"
)

// A plugin point gets the target's name as its target tag (so the
// collector can match it to an inventory service) unless the plugin set
// one, then the target's tags; booleans become 0/1 and strings stay out.
func TestPluginPoint(t *testing.T) {
	tgt := config.PluginTarget{Name: "mx", Tags: map[string]string{"site": "dc"}}
	at := time.Unix(1700000000, 0)
	for _, c := range []struct {
		tags map[string]string
		want string
	}{
		{nil, "smtp,site=dc,target=mx"},
		{map[string]string{"target": "plugin-says"}, "smtp,site=dc,target=plugin-says"},
	} {
		p := pluginPoint(sdk.Point{Measurement: "smtp", Tags: c.tags, Time: at,
			Fields: map[string]any{"up": true, "tls": false, "banner_seconds": 0.25, "error": "none"}}, tgt, "smtp", slog.New(slog.DiscardHandler))
		out, err := point.Encode([]*point.Point{p})
		if err != nil {
			t.Fatal(err)
		}
		key, fields, _ := strings.Cut(string(out), " ")
		fs := strings.Split(strings.Fields(fields)[0], ",")
		slices.Sort(fs)
		if key != c.want || !slices.Equal(fs, []string{"banner_seconds=0.25", "tls=0i", "up=1i"}) || !strings.HasSuffix(string(out), " 1700000000000000000\n") {
			t.Errorf("plugin tags %v: got %q, want series %s with banner_seconds, tls and up", c.tags, out, c.want)
		}
	}
	// without a target tag anywhere: the target's name
	p := pluginPoint(sdk.Point{Measurement: "smtp", Time: at, Fields: map[string]any{"up": int64(0)}},
		config.PluginTarget{Name: "mx"}, "smtp", slog.New(slog.DiscardHandler))
	if out, _ := point.Encode([]*point.Point{p}); string(out) != "smtp,target=mx up=0i 1700000000000000000\n" {
		t.Errorf("got %q", out)
	}
}

// buildPlugin builds a plugin package into dir; it returns its path and
// SHA-256.
func buildPlugin(t *testing.T, dir, name, pkg string) (string, string) {
	t.Helper()
	bin := filepath.Join(dir, "pantau-plugin-"+name)
	if out, err := exec.Command("go", "build", "-o", bin, pkg).CombinedOutput(); err != nil {
		t.Fatalf("build %s: %v: %s", pkg, err, out)
	}
	b, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(b)
	return bin, hex.EncodeToString(s[:])
}

// check-config checks each plugin's file against its checksum and has
// the plugin check its targets' config, reporting problems as
// file:line:col; --skip-plugins checks only the files.
func TestCheckConfigPlugins(t *testing.T) {
	dir := t.TempDir()
	bin, binSum := buildPlugin(t, dir, "testprobe", "./internal/plughost/testdata/probe")
	write := func(sum string) string {
		f := filepath.Join(dir, "agent.yml")
		os.WriteFile(f, []byte(fmt.Sprintf(`agent: {state_dir: %s, listen_address: ""}
plugins:
  - name: testprobe
    path: %s
    sha256: %s
    targets:
      - {name: ok}
      - {name: refuse, config: {expect_baner: "220"}}
`, filepath.Join(dir, "state"), bin, sum)), 0o600)
		return f
	}
	run := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := Main(t.Context(), append([]string{"check-config"}, args...), &out, &errb)
		return code, out.String(), errb.String()
	}
	cfg := write(binSum)
	code, out, errOut := run("--config", cfg)
	if want := cfg + `:8:32: plugins[0].targets[1].config: refused by the plugin: unknown key "expect_baner"`; code == 0 || !strings.Contains(errOut, want) {
		t.Errorf("refused target: exit %d, stdout %q, stderr:\n%s\nwant %s", code, out, errOut, want)
	}
	code, out, errOut = run("--config", cfg, "--skip-plugins")
	if code != 0 || !strings.Contains(out, "ok (0 ICMP targets, 0 SNMP devices, 1 plugins with 2 targets, 0 collectors)") {
		t.Errorf("--skip-plugins: exit %d\n%s%s", code, out, errOut)
	}
	cfg = write(strings.Repeat("ab", 32))
	code, _, errOut = run("--config", cfg, "--skip-plugins")
	if want := cfg + ":5:13: plugins[0].sha256: does not match " + bin + ", whose SHA-256 is " + binSum; code == 0 || !strings.Contains(errOut, want) {
		t.Errorf("wrong checksum: exit %d, stderr:\n%s\nwant %s", code, errOut, want)
	}
}
