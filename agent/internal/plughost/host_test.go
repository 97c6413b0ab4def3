package plughost

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	plugin "github.com/hashicorp/go-plugin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/pantau-noc/pantau/plugins/sdk"
)

var (
	buildOnce sync.Once
	buildDir  string
	built     map[string]string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// plugins builds the test plugins once.
func plugins(t *testing.T) map[string]string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "pantau-plugins-")
		if err != nil {
			buildErr = err
			return
		}
		buildDir = dir
		built = map[string]string{}
		// Concurrently: the builds share the build cache and each ends
		// in its own link.
		var mu sync.Mutex
		var wg sync.WaitGroup
		for _, b := range []struct{ name, pkg, versions string }{
			{"probe", "probe", ""}, {"junk", "junk", ""},
			// plugins speaking other protocol versions
			{"v2", "versions", "2"}, {"v1v2", "versions", "1,2"}, {"v3", "versions", "3"},
		} {
			wg.Go(func() {
				out := filepath.Join(dir, b.name)
				args := []string{"build", "-o", out}
				if b.versions != "" {
					args = append(args, "-ldflags", "-X main.versions="+b.versions)
				}
				o, err := exec.Command("go", append(args, "./testdata/"+b.pkg)...).CombinedOutput()
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					buildErr = &buildError{b.pkg, string(o)}
					return
				}
				built[b.name] = out
			})
		}
		wg.Wait()
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return built
}

type buildError struct{ name, out string }

func (e *buildError) Error() string { return "build testdata/" + e.name + ": " + e.out }

func sum(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func newHost(t *testing.T, path, checksum string) (*Host, *Metrics, *syncBuf) {
	t.Helper()
	logs := &syncBuf{}
	m := NewMetrics(prometheus.NewRegistry())
	h, err := New(Spec{Name: "test", Path: path, SHA256: checksum, StartTimeout: 20 * time.Second,
		Targets: []sdk.Target{{Name: "ok"}, {Name: "boom"}, {Name: "hang"}, {Name: "garbage"}}},
		slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})), m)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	return h, m, logs
}

func collect(h *Host, target string, d time.Duration) ([]sdk.Point, error) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	return h.Collect(ctx, target)
}

// A plugin that panics is restarted after backoff; one that hangs fails
// its target at the deadline; garbage fails its target; none of them
// stops the others.
func TestFaultsFailOnlyTheirTarget(t *testing.T) {
	// The first restart waits exactly Min: the random source is pinned
	// anyway, so the wait is known whatever the count of failures.
	old := restartBackoff
	restartBackoff.Min, restartBackoff.Rand = 200*time.Millisecond, func(int64) int64 { return 0 }
	defer func() { restartBackoff = old }()
	bin := plugins(t)["probe"]
	h, m, logs := newHost(t, bin, sum(t, bin))

	pts, err := collect(h, "ok", 20*time.Second)
	if err != nil || len(pts) != 1 || pts[0].Fields["up"] != int64(1) || pts[0].Tags["target"] != "ok" {
		t.Fatalf("ok: %+v %v", pts, err)
	}
	start := time.Now()
	if _, err := collect(h, "hang", 300*time.Millisecond); err == nil || !strings.Contains(err.Error(), "(timeout)") {
		t.Errorf("hang: %v", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("a hanging plugin held the call %s", took)
	}
	if _, err := collect(h, "ok", 5*time.Second); err != nil {
		t.Errorf("ok after a hang: %v", err)
	}
	if _, err := collect(h, "garbage", 5*time.Second); err == nil || !strings.Contains(err.Error(), "(garbage)") {
		t.Errorf("garbage: %v", err)
	}
	if _, err := collect(h, "boom", 5*time.Second); err == nil || !strings.Contains(err.Error(), "(crash)") {
		t.Errorf("boom: %v", err)
	}
	// right after the crash: not running, says when it restarts
	if _, err := collect(h, "ok", 5*time.Second); err == nil || !strings.Contains(err.Error(), "restarting in") {
		t.Errorf("during backoff: %v", err)
	}
	time.Sleep(300 * time.Millisecond)
	if _, err := collect(h, "ok", 20*time.Second); err != nil {
		t.Errorf("ok after the restart: %v", err)
	}
	if n := testutil.ToFloat64(m.restarts.WithLabelValues("test")); n != 2 {
		t.Errorf("%v starts, want 2", n)
	}
	for _, r := range []string{ReasonCrash, ReasonTimeout, ReasonGarbage} {
		if n := testutil.ToFloat64(m.failures.WithLabelValues("test", r)); n != 1 {
			t.Errorf("%s failures %v", r, n)
		}
	}
	if l := logs.String(); !strings.Contains(l, "plugin=test") || !strings.Contains(l, "plugin died; restarting after backoff") {
		t.Errorf("logs:\n%s", l)
	}
}

// What a plugin logs through sdk.Logger reaches the agent's log at its
// level with the plugin attribute, not as stray output; Check reports the
// targets the plugin refused.
func TestPluginLogAndCheck(t *testing.T) {
	bin := plugins(t)["probe"]
	logs := &syncBuf{}
	h, err := New(Spec{Name: "test", Path: bin, SHA256: sum(t, bin), StartTimeout: 20 * time.Second,
		Targets: []sdk.Target{{Name: "log"}, {Name: "refuse"}}},
		slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	rejected, err := h.Check(context.Background())
	if err != nil || len(rejected) != 1 || rejected["refuse"] != `unknown key "expect_baner"` {
		t.Fatalf("check: %v %v", rejected, err)
	}
	if _, err := collect(h, "refuse", 5*time.Second); err == nil || !strings.Contains(err.Error(), "refused target refuse") {
		t.Errorf("a refused target was collected: %v", err)
	}
	if _, err := collect(h, "log", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(logs.String(), "debug record passes"); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the plugin's log record did not arrive:\n%s", logs)
		}
	}
	l := logs.String()
	if !strings.Contains(l, `level=WARN msg="probe says hello" plugin=test`) || !strings.Contains(l, "answer=42") {
		t.Errorf("record not forwarded at its level with its attributes:\n%s", l)
	}
	if !strings.Contains(l, `level=DEBUG msg="debug record passes" plugin=test`) {
		t.Errorf("a debug record did not pass at debug level:\n%s", l)
	}
	if strings.Contains(l, "outside the protocol") || strings.Contains(l, "below the logger") || strings.Contains(l, " timestamp=") {
		t.Errorf("stray or filtered output in the log:\n%s", l)
	}
}

// Protocol versions: this agent refuses a plugin built for a newer
// protocol with an error that names both; an agent of the next protocol
// (standing in: versions 1 and 2, as sdk.PluginSets will be) runs plugins
// of the previous one, picks the newest a plugin speaks, and refuses one
// that speaks neither.
func TestProtocolVersions(t *testing.T) {
	bins := plugins(t)
	start := func(name string) (string, error) {
		t.Helper()
		logs := &syncBuf{}
		h, err := New(Spec{Name: name, Path: bins[name], SHA256: sum(t, bins[name]), StartTimeout: 20 * time.Second,
			Targets: []sdk.Target{{Name: "t"}}}, slog.New(slog.NewTextHandler(logs, nil)), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer h.Close()
		_, err = collect(h, "t", 20*time.Second)
		return logs.String(), err
	}
	_, err := start("v2")
	if want := "speaks plugin protocol 2 and this agent speaks 1: rebuild the plugin with this agent's SDK, or run an agent that speaks protocol 2"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("a v2 plugin on this agent: %v, want %q", err, want)
	}

	old := hostPluginSets
	hostPluginSets = func() map[int]plugin.PluginSet {
		s := sdk.PluginSets(nil)
		s[2] = s[1] // the next protocol, standing in
		return s
	}
	defer func() { hostPluginSets = old }()
	for _, c := range []struct{ name, protocol string }{{"probe", "protocol=1"}, {"v2", "protocol=2"}, {"v1v2", "protocol=2"}} {
		logs, err := start(c.name)
		if err != nil || !strings.Contains(logs, "plugin started") || !strings.Contains(logs, c.protocol) {
			t.Errorf("%s on an agent speaking 1 and 2: %v, want %s in:\n%s", c.name, err, c.protocol, logs)
		}
	}
	if _, err := start("v3"); err == nil || !strings.Contains(err.Error(), "speaks plugin protocol 3 and this agent speaks 1 and 2") {
		t.Errorf("a v3 plugin on an agent speaking 1 and 2: %v", err)
	}
}

// A plugin whose checksum does not match is not run, with an error that
// says so and gives the file's checksum.
func TestWrongChecksumRefused(t *testing.T) {
	bin := plugins(t)["probe"]
	h, m, _ := newHost(t, bin, strings.Repeat("0", 64))
	_, err := collect(h, "ok", 20*time.Second)
	if err == nil || !strings.Contains(err.Error(), "does not match the sha256 in agent.yml") || !strings.Contains(err.Error(), sum(t, bin)) {
		t.Fatalf("wrong checksum: %v", err)
	}
	if n := testutil.ToFloat64(m.failures.WithLabelValues("test", ReasonChecksum)); n != 1 {
		t.Errorf("checksum failures %v", n)
	}
}

// A plugin that writes junk to stdout before the handshake fails to
// start, clearly.
func TestJunkOnStdout(t *testing.T) {
	bin := plugins(t)["junk"]
	h, m, _ := newHost(t, bin, sum(t, bin))
	_, err := collect(h, "ok", 20*time.Second)
	if err == nil || !strings.Contains(err.Error(), "start") {
		t.Fatalf("junk: %v", err)
	}
	if n := testutil.ToFloat64(m.failures.WithLabelValues("test", ReasonStart)); n != 1 {
		t.Errorf("start failures %v", n)
	}
	t.Logf("junk plugin: %v", err)
}

func TestSpecChecks(t *testing.T) {
	if _, err := New(Spec{Name: "x", Path: "relative/plugin", SHA256: strings.Repeat("0", 64)}, nil, nil); err == nil || !strings.Contains(err.Error(), "absolute") {
		t.Errorf("relative path: %v", err)
	}
	if _, err := New(Spec{Name: "x", Path: "/bin/true", SHA256: "abc"}, nil, nil); err == nil || !strings.Contains(err.Error(), "64 hex") {
		t.Errorf("bad sha256: %v", err)
	}
}

// Restarts back off from 1 s, doubling to 5 min (docs/agent.md), with full
// jitter: the n-th wait in a row is between 1 s and that ceiling.
func TestRestartBackoff(t *testing.T) {
	b := restartBackoff
	var ceilings []string
	for n := 1; n <= 11; n++ {
		ceilings = append(ceilings, b.Ceiling(n).String())
	}
	if got, want := strings.Join(ceilings, " "), "1s 2s 4s 8s 16s 32s 1m4s 2m8s 4m16s 5m0s 5m0s"; got != want {
		t.Errorf("ceilings %s, want %s", got, want)
	}
	b.Rand = func(n int64) int64 { return n - 1 }
	if d := b.Delay(9); d != 256*time.Second {
		t.Errorf("longest 9th wait %s", d)
	}
	b.Rand = func(int64) int64 { return 0 }
	if d := b.Delay(9); d != time.Second {
		t.Errorf("shortest 9th wait %s", d)
	}
}
