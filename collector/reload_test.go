package collector

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/config"
	"github.com/pantau-noc/pantau/internal/testbuild"
	"github.com/pantau-noc/pantau/internal/testproc"
)

// TestIntegrationConfigReload sends SIGHUP to a real collector process:
// a changed rule, notifier URL and inventory path take effect without a
// restart, a changed key that cannot reload is named in a warning, and a
// broken file is refused with its file:line:col while the running
// configuration keeps working.
func TestIntegrationConfigReload(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: runs a collector process")
	}
	t.Parallel()
	bin := testbuild.Collector(t)
	hookA, urlA := newHookCounter(t)
	hookB, urlB := newHookCounter(t)
	dir, dataDir := t.TempDir(), t.TempDir()
	tok, admin := procTokens(t, dataDir, "a1")[0], procAdmin(t, dataDir)
	addr := testproc.FreePort(t)
	base := "http://" + addr

	inv1, inv2 := filepath.Join(dir, "inv1.yml"), filepath.Join(dir, "inv2.yml")
	os.WriteFile(inv1, []byte("sites: [{id: s1, name: S1, kind: opd}]\nlinks: [{id: l1, site: s1, icmp: {target: 127.0.0.2}}]\n"), 0o644)
	os.WriteFile(inv2, []byte("sites: [{id: s1, name: S1, kind: opd}]\nlinks: [{id: l1, site: s1, icmp: {target: 127.0.0.2}}, {id: l2, site: s1, icmp: {target: 127.0.0.3}}]\n"), 0o644)
	config := func(hook, rule, metric, inv, extra string) string {
		return fmt.Sprintf(`listen_address: %s
data_dir: %s
inventory: %s
%snotifiers:
  - {name: hook, type: webhook, url: %s/hook}
alerting:
  evaluation_interval: 1s
  rules:
    - {name: %s, kind: promql, expr: 'max by (x) (%s) > 0', for: 0s, clear_for: 0s, severity: critical}
`, addr, dataDir, inv, extra, hook, rule, metric)
	}
	cfgFile := filepath.Join(dir, "collector.yml")
	put := func(body string) {
		t.Helper()
		if err := os.WriteFile(cfgFile, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	put(config(urlA, "First", "pantau_rl_a_v", inv1, ""))
	p := testproc.Start(t, bin, addr, "--config", cfgFile, "--log.level", "info")
	metric := func(series string) float64 { return metricOf(base, admin, series) }
	hup := func() {
		t.Helper()
		if err := p.Cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
	}
	if v := metric("pantau_collector_config_last_reload_successful"); v != 1 {
		t.Errorf("last_reload_successful %v at start, want 1", v)
	}
	started := metric("pantau_collector_config_last_reload_success_timestamp_seconds")
	if started <= 0 {
		t.Errorf("last_reload_success_timestamp_seconds %v at start", started)
	}

	// The first config: rule First on series a notifies webhook A.
	postLP(t, base, tok, fmt.Sprintf("rl_a,x=1 v=1 %d\n", time.Now().Unix()))
	testproc.WaitFor(t, 60*time.Second, "webhook A to get x=1", func() bool { return hookA.count("1") == 1 })

	// A new rule on series b, the notifier at webhook B, another
	// inventory, and a limit that needs a restart.
	put(config(urlB, "Second", "pantau_rl_b_v", inv2, "limits: {max_body_bytes: 1048576}\n"))
	hup()
	testproc.WaitFor(t, 30*time.Second, "the reload", func() bool {
		return metric(`pantau_collector_config_reloads_total{result="success"}`) == 1
	})
	if v := metric("pantau_inventory_links"); v != 2 {
		t.Errorf("pantau_inventory_links %v after the reload, want 2 (%s)", v, inv2)
	}
	if v := metric("pantau_collector_config_last_reload_success_timestamp_seconds"); v <= started {
		t.Errorf("last_reload_success_timestamp_seconds %v after the reload, was %v", v, started)
	}
	postLP(t, base, tok, "rl_b,x=2 v=1\nrl_a,x=3 v=1\n")
	testproc.WaitFor(t, 60*time.Second, "webhook B to get the new rule's x=2", func() bool { return hookB.count("2") == 1 })
	if n := metric(`pantau_alerts{rule="Second",state="firing"}`); n != 1 {
		t.Errorf("%v Second alerts firing, want 1", n)
	}
	if n := hookA.count("2") + hookA.count("3") + hookB.count("3"); n != 0 {
		t.Errorf("%d notifications from the old rule or to the old URL after the reload:\nA: %s\nB: %s", n, hookA, hookB)
	}
	logs := p.Logs.String()
	if !strings.Contains(logs, "take effect only after a restart") || !strings.Contains(logs, "limits.max_body_bytes") {
		t.Errorf("no warning naming limits.max_body_bytes as needing a restart:\n%s", testproc.GrepLines(logs, "config"))
	}

	// A broken file: refused with file:line:col, the running config kept.
	broken := config(urlA, "Third", "pantau_rl_c_v", inv1, "") + "  evaluation_intervall: 2s\n"
	line := strings.Count(broken, "\n")
	put(broken)
	hup()
	testproc.WaitFor(t, 30*time.Second, "the refused reload", func() bool {
		return metric(`pantau_collector_config_reloads_total{result="failure"}`) == 1
	})
	if v := metric("pantau_collector_config_last_reload_successful"); v != 0 {
		t.Errorf("last_reload_successful %v after a refused reload, want 0", v)
	}
	where := fmt.Sprintf("%s:%d:3", cfgFile, line)
	logs = p.Logs.String()
	if !strings.Contains(logs, "configuration reload refused") || !strings.Contains(logs, where) {
		t.Errorf("the refusal does not name %s:\n%s", where, testproc.GrepLines(logs, "reload"))
	}
	postLP(t, base, tok, "rl_b,x=4 v=1\nrl_c,x=5 v=1\n")
	testproc.WaitFor(t, 60*time.Second, "webhook B to get x=4 under the kept config", func() bool { return hookB.count("4") == 1 })
	if n := hookA.count("4") + hookA.count("5") + hookB.count("5"); n != 0 {
		t.Errorf("%d notifications from the refused config:\nA: %s\nB: %s", n, hookA, hookB)
	}
	if v := metric("pantau_inventory_links"); v != 2 {
		t.Errorf("pantau_inventory_links %v after the refused reload, want 2 (kept)", v)
	}
	if !testproc.Alive(p.Cmd.Process.Pid) {
		t.Fatal("the collector exited")
	}
}

// TestReloadWhileRunning reloads an in-process collector many times while
// it evaluates rules, sends notifications and serves /metrics (run with
// -race): rules, notifier settings and the inventory path change under
// the running engine.
func TestReloadWhileRunning(t *testing.T) {
	t.Parallel()
	hook, hookURL := newHookCounter(t)
	dir := t.TempDir()
	inv := []string{filepath.Join(dir, "inv0.yml"), filepath.Join(dir, "inv1.yml")}
	os.WriteFile(inv[0], []byte("sites: [{id: s1, name: S1, kind: opd}]\nlinks: [{id: l1, site: s1, icmp: {target: 127.0.0.2}}]\n"), 0o644)
	os.WriteFile(inv[1], []byte("sites: [{id: s1, name: S1, kind: opd}]\n"), 0o644)
	cfgFile := filepath.Join(dir, "collector.yml")
	write := func(i int) {
		body := fmt.Sprintf(`listen_address: 127.0.0.1:0
data_dir: %s
inventory: %s
notifiers:
  - {name: hook, type: webhook, url: %s/hook%d}
alerting:
  evaluation_interval: 1s
  rules:
    - {name: Rule%d, kind: promql, expr: 'vector(1) > 0', for: 0s, clear_for: 0s}
`, filepath.Join(dir, "data"), inv[i%2], hookURL, i, i)
		// replaced, not rewritten: the previous reload may still read it
		if err := os.WriteFile(cfgFile+".new", []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(cfgFile+".new", cfgFile); err != nil {
			t.Fatal(err)
		}
	}
	write(0)
	cfg, err := config.Load(cfgFile)
	if err != nil {
		t.Fatal(err)
	}
	logs := newSyncBuffer()
	reload := make(chan struct{})
	addr := make(chan net.Addr, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Options{Config: cfg, Logger: slog.New(slog.NewTextHandler(logs, nil)), Listening: func(a net.Addr) { addr <- a },
			Reload: reload, LoadConfig: func() (*config.Config, error) { return config.Load(cfgFile) }})
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	var base string
	select {
	case a := <-addr:
		base = "http://" + a.String()
	case err := <-done:
		t.Fatalf("collector did not start: %v", err)
	}
	const n = 20
	for i := 1; i <= n; i++ {
		write(i)
		reload <- struct{}{}
		if res, err := http.Get(base + "/readyz"); err == nil {
			res.Body.Close()
		}
	}
	// every reload went through, and the last is in force: Rule20 fires
	// and notifies
	testproc.WaitFor(t, 30*time.Second, "Rule20 notified after 20 reloads", func() bool {
		return strings.Contains(hook.String(), "Rule20") && strings.Count(logs.String(), "configuration reloaded") == n
	})
	if strings.Contains(logs.String(), "reload refused") {
		t.Errorf("a reload was refused:\n%s", testproc.GrepLines(logs.String(), "reload"))
	}
}
