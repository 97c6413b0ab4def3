package agent

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pantau-noc/pantau/agent/internal/config"
	"github.com/pantau-noc/pantau/agent/internal/icmp"
	"github.com/pantau-noc/pantau/internal/lab"
	"github.com/pantau-noc/pantau/internal/spool"
)

// needICMP skips the test under -short when this process may not open an
// ICMP socket (make test-unit as an ordinary user whose group is outside
// net.ipv4.ping_group_range): its agent pings 127.0.0.1. make test runs
// it as root.
func needICMP(t *testing.T) {
	t.Helper()
	if !testing.Short() {
		return
	}
	e, err := icmp.NewEngine(icmp.ModeAuto, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Skipf("-short: the agent pings 127.0.0.1: %v", err)
	}
	e.Close()
}

// fakeCollector records write requests and answers from a script.
type fakeCollector struct {
	mu      sync.Mutex
	bodies  map[string]string // Pantau-Batch → line protocol
	order   []string
	answers []int // status per request, then 204
	calls   int
	delay   time.Duration // per request, like a slow link
}

func (f *fakeCollector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	time.Sleep(f.delay)
	f.mu.Lock()
	defer f.mu.Unlock()
	status := 204
	if f.calls < len(f.answers) {
		status = f.answers[f.calls]
	}
	f.calls++
	bad := ""
	switch {
	case r.URL.Path != "/api/v2/write" || r.URL.Query().Get("precision") != "ns":
		bad = "path " + r.URL.String()
	case r.Header.Get("Authorization") != "Token tok-1":
		bad = "auth " + r.Header.Get("Authorization")
	case r.Header.Get("Content-Encoding") != "gzip":
		bad = "encoding"
	case !strings.HasPrefix(r.Header.Get("Pantau-Batch"), "agent-1/"):
		bad = "batch header " + r.Header.Get("Pantau-Batch")
	}
	if bad != "" {
		http.Error(w, `{"code":"invalid","message":"test server: bad request: `+bad+`"}`, http.StatusTeapot)
		return
	}
	gz, _ := io.ReadAll(r.Body)
	lp, err := gunzip(gz)
	if err != nil {
		http.Error(w, "gzip", http.StatusTeapot)
		return
	}
	switch status {
	case 204:
		id := r.Header.Get("Pantau-Batch")
		if _, dup := f.bodies[id]; !dup {
			f.order = append(f.order, id)
		}
		f.bodies[id] = string(lp)
		w.WriteHeader(204)
	case 503:
		w.Header().Set("Retry-After", "0")
		http.Error(w, `{"code":"unavailable","message":"busy"}`, http.StatusServiceUnavailable)
	case 400:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(400)
		io.WriteString(w, `{"code":"invalid","message":"line 1 col 5: bad field"}`)
	default:
		w.WriteHeader(status)
	}
}

// testSender sends the queue's "noc" cursor to the fake collector srv,
// with tok-1 as agent-1, dead-lettering to dlPath, with short backoffs.
func testSender(srv *httptest.Server, sp *spool.Spool, dlPath string, log *slog.Logger) *sender {
	cur, _ := sp.Cursor("noc")
	reg := prometheus.NewRegistry()
	return &sender{col: config.CollectorConfig{Name: "noc", URL: srv.URL, Token: "tok-1"}, agentID: "agent-1",
		client: srv.Client(), cur: cur, deadLetter: newDeadLetters(dlPath, 16<<20, newDeadLetterMetrics(reg), sp, &lossLog{}, log),
		log: log, m: newSendMetrics(reg), minBackoff: time.Millisecond, maxBackoff: 10 * time.Millisecond}
}

func TestSenderDeliversInOrderRetriesAndDeadLetters(t *testing.T) {
	fc := &fakeCollector{bodies: map[string]string{}, answers: []int{503, 204, 400, 204, 401, 404}}
	srv := httptest.NewServer(fc)
	defer srv.Close()
	dir := t.TempDir()
	sp, err := spool.Open(spool.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	for i := 1; i <= 4; i++ {
		sp.Append(context.Background(), []byte("icmp,target=127.0.0.1 up=1i "+strings.Repeat("1", i)+"\n"), 1)
	}
	s := testSender(srv, sp, filepath.Join(dir, "dead.jsonl"), slog.New(slog.DiscardHandler))
	// Drive the oldest-first lane alone, so the order is deterministic.
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.lane(ctx, false); close(done) }()
	ok := lab.WaitFor(ctx, 20*time.Second, func() bool { return sp.Stats().Records == 0 })
	cancel()
	<-done
	if !ok {
		t.Fatalf("queue not drained: %+v", sp.Stats())
	}
	fc.mu.Lock()
	defer fc.mu.Unlock()
	// Request 1 (batch 1): 503 → retried; 2: batch 1 stored; 3: batch 2
	// rejected 400 → dead letter; 4: batch 3 stored; 5: batch 4 401 →
	// kept and retried; 6: 404 (a wrong URL) → kept too; 7: batch 4 stored.
	if got := strings.Join(fc.order, " "); got != "agent-1/1 agent-1/3 agent-1/4" {
		t.Fatalf("stored batches %q", got)
	}
	if fc.bodies["agent-1/3"] != "icmp,target=127.0.0.1 up=1i 111\n" {
		t.Fatalf("body %q", fc.bodies["agent-1/3"])
	}
	dl, err := os.ReadFile(filepath.Join(dir, "dead.jsonl"))
	if err != nil || !bytes.Contains(dl, []byte(`"message":"line 1 col 5: bad field"`)) || !bytes.Contains(dl, []byte(`"line_protocol":"icmp,target=127.0.0.1 up=1i 11\n"`)) ||
		!bytes.Contains(dl, []byte(`"status":400`)) {
		t.Fatalf("dead letter: %s %v", dl, err)
	}
	if bytes.Contains(dl, []byte("tok-1")) {
		t.Fatal("token in the dead-letter file")
	}
}

// TestFreshDataOvertakesBacklog: with a backlog of 300 batches draining
// over a slow link, a batch queued now is delivered long before the
// backlog is done (the newest-first lane).
func TestFreshDataOvertakesBacklog(t *testing.T) {
	fc := &fakeCollector{bodies: map[string]string{}, delay: 5 * time.Millisecond}
	srv := httptest.NewServer(fc)
	defer srv.Close()
	dir := t.TempDir()
	sp, err := spool.Open(spool.Options{Dir: dir, SyncInterval: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for i := 0; i < 300; i++ {
		sp.Append(ctx, []byte("icmp,target=127.0.0.1 up=0i 1\n"), 1)
	}
	s := testSender(srv, sp, filepath.Join(dir, "dead.jsonl"), slog.New(slog.DiscardHandler))
	done := make(chan struct{})
	go func() { s.run(ctx); close(done) }()
	// Let the backlog start draining, then queue fresh data.
	lab.WaitFor(ctx, 10*time.Second, func() bool { fc.mu.Lock(); defer fc.mu.Unlock(); return len(fc.order) >= 10 })
	fresh, _ := sp.Append(ctx, []byte("icmp,target=127.0.0.1 up=1i 2\n"), 1)
	if !lab.WaitFor(ctx, 60*time.Second, func() bool { return sp.Stats().Records == 0 }) {
		t.Fatal("not drained")
	}
	cancel()
	<-done
	fc.mu.Lock()
	defer fc.mu.Unlock()
	pos := slices.Index(fc.order, fmt.Sprintf("agent-1/%d", fresh))
	if pos < 0 || pos > 60 || len(fc.order) != 301 {
		t.Fatalf("fresh batch delivered at position %d of %d", pos, len(fc.order))
	}
	t.Logf("fresh batch delivered as number %d of %d", pos+1, len(fc.order))
}

// TestIntegrationAgentMetrics runs the agent in-process against loopback
// targets and lints /metrics with promtool; it also reloads the config
// (as SIGHUP does) and sees the new target probed, with the queue intact.
func TestIntegrationAgentMetrics(t *testing.T) {
	needICMP(t)
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatal("promtool not found: run `make deps` (Debian package prometheus)")
	}
	dir := t.TempDir()
	// Optional parts with series of their own: a collector that does not
	// answer (send and dead-letter series) and an SNMP target that does
	// not answer (probe failures).
	cfg, err := config.Parse("agent.yml", []byte(`agent: {id: a1, state_dir: `+dir+`, listen_address: "127.0.0.1:0"}
queue: {batch_linger: 100ms}
defaults: {interval: 500ms, timeout: 400ms}
collectors:
  - {name: c1, url: "http://127.0.0.1:9", token: pt_lint_test}
icmp:
  - {target: 127.0.0.1, packets: 2, packet_interval: 10ms}
snmp:
  - {target: "127.0.0.1:1", version: 2c, community: public}
`))
	if err != nil {
		t.Fatal(err)
	}
	reload := make(chan *config.Config)
	a := startAgent(t, cfg, slog.New(slog.DiscardHandler), reload)
	ctx, get := a.ctx, a.metrics
	if !lab.WaitFor(ctx, 20*time.Second, func() bool {
		m := get()
		return strings.Contains(m, `pantau_agent_probe_rounds_total{kind="icmp"} `) && strings.Contains(m, `pantau_agent_probe_rounds_total{kind="snmp"} `) &&
			strings.Contains(m, `pantau_agent_send_requests_total{`)
	}) {
		t.Fatalf("no ICMP and SNMP round or send attempt counted:\n%s", get())
	}
	body := get()
	for _, name := range []string{"pantau_agent_probe_duration_seconds_bucket", "pantau_agent_queue_points", "pantau_agent_queue_bytes",
		"pantau_agent_queue_oldest_age_seconds", `pantau_agent_queue_dropped_points_total{reason="limit"} 0`,
		`pantau_agent_queue_dropped_points_total{reason="disk_full"} 0`, `pantau_agent_queue_dropped_points_total{reason="io_error"} 0`,
		"pantau_agent_dead_letter_bytes 0", "pantau_agent_dead_letter_dropped_batches_total 0",
		`pantau_agent_send_requests_total{`, `pantau_agent_probe_rounds_total{kind="snmp"}`} {
		if !strings.Contains(body, name) {
			t.Errorf("metric %s missing", name)
		}
	}
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = strings.NewReader(body)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("promtool check metrics: %v\n%s", err, out)
	}
	before := firstMetric(body, `pantau_agent_queue_batches`)

	next, err := config.Parse("agent.yml", []byte(`agent: {id: a1, state_dir: `+dir+`, listen_address: "127.0.0.1:0"}
queue: {batch_linger: 100ms}
defaults: {interval: 500ms, timeout: 400ms}
icmp:
  - {target: 127.0.0.1, packets: 2, packet_interval: 10ms}
  - {target: "::1", packets: 1}
`))
	if err != nil {
		t.Fatal(err)
	}
	reload <- next
	// Three rounds of both targets after the reload (a loaded machine may
	// fill three batches from the first target's rounds alone).
	const icmpRounds = `pantau_agent_probe_rounds_total{kind="icmp"}`
	roundsBefore := firstMetric(body, icmpRounds)
	if !lab.WaitFor(ctx, 20*time.Second, func() bool {
		m := get()
		return firstMetric(m, "pantau_agent_queue_batches") > before+2 && firstMetric(m, icmpRounds) >= roundsBefore+6
	}) {
		t.Fatal("queue did not keep growing after reload")
	}
	if err := a.stop(); err != nil {
		t.Fatal(err)
	}
	// Reopen the queue: everything probed is there (no collector configured).
	sp, err := spool.Open(spool.Options{Dir: filepath.Join(dir, "queue")})
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	c, _ := sp.Cursor("check")
	recs, _ := c.Next(context.Background(), 1000)
	var all strings.Builder
	for _, r := range recs {
		b, _ := r.Body()
		lp, _ := gunzip(b)
		all.Write(lp)
	}
	for _, want := range []string{"icmp,name=127.0.0.1,target=127.0.0.1 packets_sent=2u,packets_received=2u", "icmp,name=::1,target=::1 ", "agent,version="} {
		if !strings.Contains(all.String(), want) {
			t.Errorf("queue lacks %q", want)
		}
	}
}

// agentRun is an agent run in-process by startAgent.
type agentRun struct {
	t      *testing.T
	ctx    context.Context // ends with stop
	base   string          // the self-metrics URL
	cancel context.CancelFunc
	done   chan error
}

// startAgent runs the agent in-process (cfg must listen on a port for its
// self-metrics) until stop, which the test's cleanup also calls.
func startAgent(t *testing.T, cfg *config.Config, log *slog.Logger, reload <-chan *config.Config) *agentRun {
	t.Helper()
	addr := make(chan net.Addr, 1)
	ctx, cancel := context.WithCancel(context.Background())
	a := &agentRun{t: t, ctx: ctx, cancel: cancel, done: make(chan error, 1)}
	go func() {
		a.done <- Run(ctx, Options{Config: cfg, Logger: log, Reload: reload, Listening: func(ad net.Addr) { addr <- ad }})
	}()
	select {
	case ad := <-addr:
		a.base = "http://" + ad.String()
	case err := <-a.done:
		t.Fatalf("agent did not start: %v", err)
	}
	t.Cleanup(func() {
		if err := a.stop(); err != nil {
			t.Error(err)
		}
	})
	return a
}

// metrics is the agent's /metrics page.
func (a *agentRun) metrics() string {
	resp, err := http.Get(a.base + "/metrics")
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// stop ends the run and returns Run's error (once; later calls return nil).
func (a *agentRun) stop() error {
	a.cancel()
	err, ok := <-a.done
	if ok {
		close(a.done)
	}
	return err
}

func firstMetric(body, name string) float64 {
	for _, line := range strings.Split(body, "\n") {
		if strings.HasPrefix(line, name+" ") {
			var v float64
			_, _ = fmt.Sscan(strings.TrimPrefix(line, name+" "), &v)
			return v
		}
	}
	return -1
}
