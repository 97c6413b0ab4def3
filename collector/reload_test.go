package collector

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/config"
	"github.com/pantau-noc/pantau/internal/testbuild"
	"github.com/pantau-noc/pantau/internal/testproc"
)

// TestIntegrationConfigReload sends SIGHUP to a real collector process:
// a changed rule, notifier URL, inventory path, limits.max_body_bytes and
// ingest.string_fields take effect without a restart (a write the old
// limit took is refused naming the new one, a string field refused), a
// changed key that cannot reload is named in a warning, a broken file is
// refused with its file:line:col while the running configuration (its
// limits too) keeps working, and raising the limits again takes the
// write.
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

	// A write of 4 kB with a string field, taken under the defaults.
	big := bigWrite()
	if code, body := postLPStatus(t, base, tok, big); code != 204 {
		t.Fatalf("4 kB write under the defaults: %d %s", code, body)
	}

	// A new rule on series b, the notifier at webhook B, another
	// inventory, a lower body limit, strict string fields, and a limit
	// that needs a restart.
	lower := "limits: {max_body_bytes: 2048, max_decoded_bytes_in_flight: 65536, batch_dedup_window: 1d}\ningest: {string_fields: reject}\n"
	put(config(urlB, "Second", "pantau_rl_b_v", inv2, lower))
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
	if code, body := postLPStatus(t, base, tok, big); code != 413 || !strings.Contains(body, "larger than 2048 bytes (limits.max_body_bytes)") {
		t.Errorf("4 kB write after lowering limits.max_body_bytes to 2048: %d %s, want 413 naming 2048", code, body)
	}
	if code, body := postLPStatus(t, base, tok, "rl_s,x=1 s=\"text\",v=1\n"); code != 400 || !strings.Contains(body, "field s is a string") {
		t.Errorf("string field under ingest.string_fields: reject: %d %s, want 400", code, body)
	}
	if v := metric("pantau_collector_ingest_limit_max_body_bytes"); v != 2048 {
		t.Errorf("pantau_collector_ingest_limit_max_body_bytes %v after the reload, want 2048", v)
	}
	warning := testproc.GrepLines(p.Logs.String(), "take effect only after a restart")
	if !strings.Contains(warning, "limits.batch_dedup_window") || strings.Contains(warning, "max_body_bytes") || strings.Contains(warning, "string_fields") {
		t.Errorf("the restart warning should name limits.batch_dedup_window only:\n%s", warning)
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
	logs := p.Logs.String()
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
	if code, body := postLPStatus(t, base, tok, big); code != 413 || !strings.Contains(body, "2048 bytes") {
		t.Errorf("4 kB write after the refused reload: %d %s, want 413 (the kept limit)", code, body)
	}

	// The limits raised again (the defaults): the write is taken, its
	// string field dropped and counted.
	put(config(urlB, "Second", "pantau_rl_b_v", inv2, ""))
	hup()
	testproc.WaitFor(t, 30*time.Second, "the third reload", func() bool {
		return metric(`pantau_collector_config_reloads_total{result="success"}`) == 2
	})
	if code, body := postLPStatus(t, base, tok, big); code != 204 {
		t.Errorf("4 kB write after raising the limits again: %d %s, want 204", code, body)
	}
	if v := metric("pantau_collector_ingest_limit_max_body_bytes"); v != 32<<20 {
		t.Errorf("pantau_collector_ingest_limit_max_body_bytes %v after raising, want %d", v, 32<<20)
	}
	if !testproc.Alive(p.Cmd.Process.Pid) {
		t.Fatal("the collector exited")
	}
}

// TestReloadableLimits: every limits key reloads but the two batch id
// bounds, so that a limit added later is wired into the reload (or named
// here with its reason).
func TestReloadableLimits(t *testing.T) {
	restart := []string{"limits.batch_dedup_window", "limits.batch_dedup_bytes_per_agent"}
	typ := reflect.TypeFor[config.LimitsConfig]()
	for i := range typ.NumField() {
		key := "limits." + strings.Split(typ.Field(i).Tag.Get("yaml"), ",")[0]
		if slices.Contains(reloadable, key) == slices.Contains(restart, key) {
			t.Errorf("%s: reloadable %v, needs a restart %v: it must be one of them", key, slices.Contains(reloadable, key), slices.Contains(restart, key))
		}
	}
	for _, key := range []string{"ingest.string_fields", "auth.max_evidence_bytes", "auth.max_inventory_bytes", "report.bundle_max_bytes", "report.bundle_max_entries", "fleet.updates.enabled"} {
		if !slices.Contains(reloadable, key) {
			t.Errorf("%s does not reload", key)
		}
	}
}

// bigWrite is a write of more than 4 kB whose last line holds a string
// field; sent again, it stores the same values (no conflict).
func bigWrite() string {
	var b strings.Builder
	for i := 0; b.Len() < 4096; i++ {
		fmt.Fprintf(&b, "rl_big,x=%d v=1\n", i)
	}
	b.WriteString("rl_big,x=s s=\"text\",v=1\n")
	return b.String()
}

// postLPStatus writes body (precision s) and returns the status and body.
func postLPStatus(t *testing.T, base, token, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+"/api/v2/write?precision=s", strings.NewReader(body))
	req.Header.Set("Authorization", "Token "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	return res.StatusCode, string(b)
}

// TestReloadWhileRunning reloads an in-process collector many times while
// it evaluates rules, sends notifications, serves /metrics and queries
// and takes writes (run with -race): rules, notifier settings, the
// inventory path and the limits change under the running engine. The
// limits alternate between a small body limit with string fields dropped
// and a large one with string fields refused: a 4 kB write with a string
// field gets 413 under the first and 400 under the second, and would get
// 204 from a mix of the two.
func TestReloadWhileRunning(t *testing.T) {
	t.Parallel()
	hook, hookURL := newHookCounter(t)
	dir := t.TempDir()
	inv := []string{filepath.Join(dir, "inv0.yml"), filepath.Join(dir, "inv1.yml")}
	os.WriteFile(inv[0], []byte("sites: [{id: s1, name: S1, kind: opd}]\nlinks: [{id: l1, site: s1, icmp: {target: 127.0.0.2}}]\n"), 0o644)
	os.WriteFile(inv[1], []byte("sites: [{id: s1, name: S1, kind: opd}]\n"), 0o644)
	cfgFile := filepath.Join(dir, "collector.yml")
	write := func(i int) {
		lim := "limits: {max_body_bytes: 2048, max_decoded_bytes_in_flight: 65536, max_match_selectors: 3}\ningest: {string_fields: drop}\n"
		if i%2 == 1 {
			lim = "limits: {max_body_bytes: 1048576, max_match_selectors: 8}\ningest: {string_fields: reject}\n"
		}
		body := fmt.Sprintf(`listen_address: 127.0.0.1:0
data_dir: %s
inventory: %s
%snotifiers:
  - {name: hook, type: webhook, url: %s/hook%d}
alerting:
  evaluation_interval: 1s
  rules:
    - {name: Rule%d, kind: promql, expr: 'vector(1) > 0', for: 0s, clear_for: 0s}
`, filepath.Join(dir, "data"), inv[i%2], lim, hookURL, i, i)
		// replaced, not rewritten: the previous reload may still read it
		if err := os.WriteFile(cfgFile+".new", []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(cfgFile+".new", cfgFile); err != nil {
			t.Fatal(err)
		}
	}
	write(0)
	base, reload, logs := runReloadable(t, cfgFile)
	// readers of the alerting state and the config during the reloads
	// (go test -race finds what they share unlocked)
	code, out, errOut := cli(t, "token", "create", "--data-dir", filepath.Join(dir, "data"), "--name", "reader", "--role", "viewer")
	if code != 0 {
		t.Fatalf("token create: %d %s", code, errOut)
	}
	reader := testproc.BearerClient(strings.TrimSpace(out), 30*time.Second)
	writer := procTokens(t, filepath.Join(dir, "data"), "w1")[0]
	stopReading := make(chan struct{})
	var readers sync.WaitGroup
	big := bigWrite()
	var writes atomic.Int64
	readers.Go(func() {
		for i := 0; i < 2000; i++ { // bounded; stopped after the reloads
			writes.Add(1)
			select {
			case <-stopReading:
				return
			default:
			}
			code, body := postLPStatus(t, base, writer, big)
			if !(code == 413 && strings.Contains(body, "2048 bytes")) && !(code == 400 && strings.Contains(body, "is a string")) {
				t.Errorf("write during the reloads: %d %s, want 413 (small limit) or 400 (string fields refused)", code, body)
				return
			}
		}
	})
	for _, path := range []string{"/api/v1/alerts", "/api/v1/rules", "/metrics", "/api/v1/query?query=up", "/api/v1/series?match[]=up&match[]=up&match[]=up"} {
		readers.Go(func() {
			for i := 0; i < 2000; i++ { // bounded; stopped after the reloads
				select {
				case <-stopReading:
					return
				default:
				}
				res, err := reader.Get(base + path)
				if err != nil {
					t.Errorf("GET %s during the reloads: %v", path, err)
					return
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != 200 {
					t.Errorf("GET %s during the reloads: %d", path, res.StatusCode)
					return
				}
			}
		})
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
	close(stopReading)
	readers.Wait()
	if writes.Load() == 0 {
		t.Error("no write during the reloads")
	}
	t.Logf("%d writes during the reloads", writes.Load())
	if strings.Contains(logs.String(), "reload refused") {
		t.Errorf("a reload was refused:\n%s", testproc.GrepLines(logs.String(), "reload"))
	}
}

// A reload that reads collector.yml empty (an editor or `cat >` writing
// it in place: truncated, not yet written) is refused, keeping the
// running configuration; it loaded as the defaults before, dropping the
// inventory.
func TestReloadRefusesEmptyFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	inv := filepath.Join(dir, "inv.yml")
	os.WriteFile(inv, []byte("sites: [{id: s1, name: S1, kind: opd}]\nlinks: [{id: l1, site: s1, icmp: {target: 127.0.0.2}}]\n"), 0o644)
	cfgFile := filepath.Join(dir, "collector.yml")
	if err := os.WriteFile(cfgFile, []byte(fmt.Sprintf("listen_address: 127.0.0.1:0\ndata_dir: %s\ninventory: %s\n", filepath.Join(dir, "data"), inv)), 0o644); err != nil {
		t.Fatal(err)
	}
	_, reload, logs := runReloadable(t, cfgFile)
	for _, empty := range []string{"", "\n  \n"} {
		before := strings.Count(logs.String(), "reload")
		if err := os.WriteFile(cfgFile, []byte(empty), 0o644); err != nil {
			t.Fatal(err)
		}
		reload <- struct{}{}
		testproc.WaitFor(t, 30*time.Second, "the reload to end", func() bool {
			l := logs.String()
			return strings.Count(l, "configuration reload refused")+strings.Count(l, "configuration reloaded") > 0 && strings.Count(l, "reload") > before+1
		})
		if l := logs.String(); !strings.Contains(l, "is empty (read while being written?)") || strings.Contains(l, "configuration reloaded") {
			t.Fatalf("empty collector.yml %q:\n%s", empty, testproc.GrepLines(l, "reload"))
		}
	}
}

// runReloadable runs a collector in-process from cfgFile until the test
// ends; a send on reload reloads cfgFile, as SIGHUP does.
func runReloadable(t *testing.T, cfgFile string) (base string, reload chan<- struct{}, logs *syncBuffer) {
	t.Helper()
	cfg, err := config.Load(cfgFile)
	if err != nil {
		t.Fatal(err)
	}
	logs = newSyncBuffer()
	rc := make(chan struct{})
	addr := make(chan net.Addr, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Options{Config: cfg, Logger: slog.New(slog.NewTextHandler(logs, nil)), Listening: func(a net.Addr) { addr <- a },
			Reload: rc, LoadConfig: func() (*config.Config, error) { return config.Load(cfgFile) }})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	select {
	case a := <-addr:
		return "http://" + a.String(), rc, logs
	case err := <-done:
		t.Fatalf("collector did not start: %v", err)
	}
	return "", nil, nil
}

// An inventory file read empty (written in place, caught between
// truncating and writing) at a reload keeps the running inventory: it
// loaded as an inventory without links before, resolving every link's
// alerts. Once written, the next reload takes it.
func TestReloadKeepsInventoryReadEmpty(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	inv := filepath.Join(dir, "inv.yml")
	const full = "sites: [{id: s1, name: S1, kind: opd}]\nlinks: [{id: l1, site: s1, icmp: {target: 127.0.0.2}}]\n"
	os.WriteFile(inv, []byte(full), 0o644)
	cfgFile := filepath.Join(dir, "collector.yml")
	if err := os.WriteFile(cfgFile, []byte(fmt.Sprintf("listen_address: 127.0.0.1:0\ndata_dir: %s\ninventory: %s\n", filepath.Join(dir, "data"), inv)), 0o644); err != nil {
		t.Fatal(err)
	}
	_, reload, logs := runReloadable(t, cfgFile)
	reloaded := func(n int) {
		t.Helper()
		testproc.WaitFor(t, 30*time.Second, "the reload to end", func() bool { return strings.Count(logs.String(), "configuration reloaded") >= n })
	}
	if err := os.WriteFile(inv, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	reload <- struct{}{}
	reloaded(1)
	if l := logs.String(); !strings.Contains(l, "inventory file is empty (being written?); keeping the loaded one") || strings.Contains(l, "inventory reloaded") {
		t.Fatalf("empty inventory:\n%s", testproc.GrepLines(l, "inventory"))
	}
	if err := os.WriteFile(inv, []byte("sites: [{id: s1, name: S1, kind: opd}]\nlinks: [{id: l1, site: s1, icmp: {target: 127.0.0.2}}, {id: l2, site: s1, icmp: {target: 127.0.0.3}}]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	reload <- struct{}{}
	reloaded(2)
	if l := logs.String(); !strings.Contains(l, `msg="inventory reloaded"`) || !strings.Contains(testproc.GrepLines(l, "inventory reloaded"), "links=2") {
		t.Errorf("written inventory not reloaded:\n%s", testproc.GrepLines(l, "inventory"))
	}
}
