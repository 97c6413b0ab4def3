package agent

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/pantau-noc/pantau/agent/internal/config"
	"github.com/pantau-noc/pantau/internal/lab"
	"github.com/pantau-noc/pantau/internal/spool"
	"github.com/pantau-noc/pantau/internal/spool/spooltest"
)

// gate answers 503 (Retry-After: 1) until opened, then hands requests to
// the fake collector.
type gate struct {
	open atomic.Bool
	fc   *fakeCollector
}

func (g *gate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !g.open.Load() {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Retry-After", "1")
		http.Error(w, `{"code":"unavailable","message":"test: closed"}`, http.StatusServiceUnavailable)
		return
	}
	g.fc.ServeHTTP(w, r)
}

var heartbeatDropped = regexp.MustCompile(`(?m)^agent,.* .*\bqueue_dropped_points_total=(\d+)u`)

// TestIntegrationDiskFull: the agent's state dir is a small tmpfs that
// fills up while the collector is down. The agent keeps probing; the
// points it cannot queue are counted in /metrics and in the heartbeat's
// queue_dropped_points_total, logged once, and leave no temporary file. Once
// space is freed, queueing resumes by itself: new points and every batch
// queued before the disk filled reach the collector.
func TestIntegrationDiskFull(t *testing.T) {
	state := spooltest.Tmpfs(t, 1<<20)
	g := &gate{fc: &fakeCollector{bodies: map[string]string{}}}
	srv := httptest.NewServer(g)
	defer srv.Close()
	cfg, err := config.Parse("agent.yml", []byte(`agent: {id: agent-1, state_dir: `+state+`, listen_address: "127.0.0.1:0"}
collectors:
  - {name: noc, url: "`+srv.URL+`", token: tok-1}
queue: {batch_linger: 50ms, sync_interval: 100ms}
defaults: {interval: 200ms, timeout: 150ms}
icmp:
  - {target: 127.0.0.1, packets: 1}
`))
	if err != nil {
		t.Fatal(err)
	}
	logs := &lab.SyncBuffer{}
	a := startAgent(t, cfg, slog.New(slog.NewTextHandler(logs, nil)), nil)
	ctx, metrics := a.ctx, a.metrics
	diskFull := func() float64 {
		return firstMetric(metrics(), `pantau_agent_queue_dropped_points_total{reason="disk_full"}`)
	}
	wait := func(what string, cond func() bool) {
		t.Helper()
		if !lab.WaitFor(ctx, 30*time.Second, cond) {
			t.Fatalf("%s: not within 30 s\nlog:\n%s", what, logs)
		}
	}

	// The collector is down: batches pile up in the queue.
	wait("3 batches queued", func() bool { return firstMetric(metrics(), "pantau_agent_queue_batches") >= 3 })
	ents, _ := os.ReadDir(filepath.Join(state, "queue", "data"))
	var before []string
	for _, e := range ents {
		if seq, err := strconv.ParseUint(strings.SplitN(e.Name(), "-", 2)[0], 10, 64); err == nil {
			before = append(before, fmt.Sprintf("agent-1/%d", seq))
		}
	}

	// The disk fills: every batch fails for a while.
	filler := spooltest.Fill(t, state, 0)
	errs0 := firstMetric(metrics(), "pantau_agent_queue_append_errors_total")
	wait("5 batches lost", func() bool { return firstMetric(metrics(), "pantau_agent_queue_append_errors_total") >= errs0+5 })
	if n := diskFull(); n < 5 {
		t.Fatalf("dropped points (disk_full) %v after 5 lost batches", n)
	}
	if tmp := spooltest.Temps(t, state); len(tmp) > 0 {
		t.Fatalf("temporary files left on the full disk: %v", tmp)
	}
	if n := strings.Count(logs.String(), "cannot queue measurements"); n != 1 {
		t.Fatalf("%d error lines for one run of failures, want 1:\n%s", n, logs)
	}

	// Space is freed and the collector is back.
	filler.Free()
	g.open.Store(true)
	wait("queueing resumes", func() bool { return strings.Contains(logs.String(), "queueing measurements works again") })
	lost := diskFull()
	if !strings.Contains(logs.String(), fmt.Sprintf("lost_points=%d", int(lost))) {
		t.Errorf("the recovery line does not say %v points were lost:\n%s", lost, logs)
	}
	heartbeat := func() uint64 {
		g.fc.mu.Lock()
		defer g.fc.mu.Unlock()
		var hb uint64
		for _, body := range g.fc.bodies {
			for _, m := range heartbeatDropped.FindAllStringSubmatch(body, -1) {
				v, _ := strconv.ParseUint(m[1], 10, 64)
				hb = max(hb, v)
			}
		}
		return hb
	}
	wait("a heartbeat with the losses delivered", func() bool { return heartbeat() >= uint64(lost) })
	if hb, now := heartbeat(), diskFull(); now != lost || hb != uint64(lost) {
		t.Fatalf("heartbeat says %d dropped, /metrics %v then %v", hb, lost, now)
	}
	delivered := func() map[string]bool {
		g.fc.mu.Lock()
		defer g.fc.mu.Unlock()
		got := map[string]bool{}
		for _, id := range g.fc.order {
			got[id] = true
		}
		return got
	}
	wait("every batch queued before the disk filled delivered", func() bool {
		got := delivered()
		for _, id := range before {
			if !got[id] {
				return false
			}
		}
		return true
	})
	if b, err := os.ReadFile(filepath.Join(state, "queue", "lost")); err != nil || string(b) != fmt.Sprintf("disk_full %d\n", int(lost)) {
		t.Errorf("lost counter on disk: %q %v", b, err)
	}
	if tmp := spooltest.Temps(t, state); len(tmp) > 0 {
		t.Fatalf("temporary files left: %v", tmp)
	}
	t.Logf("%d batches queued before the disk filled, %v points lost while full, %d batches delivered", len(before), lost, len(delivered()))
}

// deadLetterLine is a dead-letter line of exactly n bytes.
func deadLetterLine(id, n int) []byte {
	s := fmt.Sprintf(`{"batch":%d,"pad":"`, id)
	return []byte(s + strings.Repeat("x", n-len(s)-3) + "\"}\n")
}

// TestDeadLetterRotation: the file rotates to .1 when a line would take it
// past the limit; one older generation is kept, the one before is deleted
// and its batches counted; a line longer than the limit gets a file of
// its own.
func TestDeadLetterRotation(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "dead-letter.jsonl")
	reg := prometheus.NewRegistry()
	m := newDeadLetterMetrics(reg)
	sp, err := spool.Open(spool.Options{Dir: filepath.Join(dir, "queue")})
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	d := newDeadLetters(path, 100, m, sp, &lossLog{}, slog.New(slog.DiscardHandler))
	lines := map[int][]byte{}
	add := func(id, n int) {
		t.Helper()
		lines[id] = deadLetterLine(id, n)
		if !d.add(lines[id], 1) {
			t.Fatalf("line %d not written", id)
		}
	}
	check := func(step string, cur, old []int, dropped, size float64) {
		t.Helper()
		for _, f := range []struct {
			path string
			ids  []int
		}{{path, cur}, {path + ".1", old}} {
			var want []byte
			for _, id := range f.ids {
				want = append(want, lines[id]...)
			}
			got, err := os.ReadFile(f.path)
			if err != nil && len(f.ids) > 0 || string(got) != string(want) {
				t.Fatalf("%s: %s holds %q (%v), want lines %v", step, filepath.Base(f.path), got, err, f.ids)
			}
		}
		if v := testutil.ToFloat64(m.dropped); v != dropped {
			t.Errorf("%s: dropped batches %v, want %v", step, v, dropped)
		}
		if v := testutil.ToFloat64(m.bytes); v != size {
			t.Errorf("%s: bytes %v, want %v", step, v, size)
		}
	}
	add(1, 40)
	add(2, 40)
	check("two lines fit", []int{1, 2}, nil, 0, 80)
	add(3, 40) // 120 > 100: rotate
	check("first rotation", []int{3}, []int{1, 2}, 0, 120)
	add(4, 60) // exactly 100: fits
	check("up to the limit", []int{3, 4}, []int{1, 2}, 0, 180)
	add(5, 21) // 121: rotate, 1 and 2 are deleted
	check("second rotation", []int{5}, []int{3, 4}, 2, 121)
	add(6, 150) // longer than the limit: a file of its own
	check("long line", []int{6}, []int{5}, 4, 171)
	add(7, 40)
	check("after the long line", []int{7}, []int{6}, 5, 190)
	// A restart sees the files as they are.
	d = newDeadLetters(path, 100, m, sp, &lossLog{}, slog.New(slog.DiscardHandler))
	check("restart", []int{7}, []int{6}, 5, 190)
	add(8, 61)
	check("after restart", []int{8}, []int{7}, 6, 101)
	if st := sp.Stats(); len(st.Lost) != 0 {
		t.Fatalf("lost %v with a disk that has room", st.Lost)
	}
}

// TestDeadLetterDiskFull: a collector refuses a batch (400) while the disk
// of the dead-letter file is full: the file is not left with half a line,
// the batch's points are counted as lost and the batch is done with (it
// would otherwise pin every later batch on disk); the error is logged
// once. After space is freed the next refused batch is written.
func TestDeadLetterDiskFull(t *testing.T) {
	dlDir := spooltest.Tmpfs(t, 256<<10)
	fc := &fakeCollector{bodies: map[string]string{}, answers: []int{400, 400, 204, 400}}
	srv := httptest.NewServer(fc)
	defer srv.Close()
	dir := t.TempDir()
	sp, err := spool.Open(spool.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	logs := &lab.SyncBuffer{}
	dlPath := filepath.Join(dlDir, "dead-letter.jsonl")
	first := deadLetterLine(0, 100)
	os.WriteFile(dlPath, first, 0o640)
	s := testSender(srv, sp, dlPath, slog.New(slog.NewTextHandler(logs, nil)))
	cur := s.cur
	// 8 KiB left: the 30 KB lines of the first two batches fill the disk
	// mid-write.
	filler := spooltest.Fill(t, dlDir, 8<<10)
	big := strings.Repeat("icmp,target=127.0.0.1 up=1i 1\n", 1000)
	ctx := context.Background()
	for i, pts := range []int{7, 9, 11} {
		sp.Append(ctx, []byte(big), pts)
		recs, err := cur.Next(ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.send(ctx, recs[0]); err != nil {
			t.Fatalf("batch %d: %v", i, err)
		}
		if i == 1 {
			filler.Free() // before the third batch (stored, 204)
		}
	}
	if b, _ := os.ReadFile(dlPath); string(b) != string(first) {
		t.Fatalf("dead-letter file after failed writes: %d bytes, want the %d of before", len(b), len(first))
	}
	if st := sp.Stats(); st.Lost[spool.LostDiskFull] != 7+9 || st.Records != 0 {
		t.Fatalf("queue after refused batches on a full disk: %+v", st)
	}
	if n := strings.Count(logs.String(), "cannot write the dead-letter file"); n != 1 {
		t.Fatalf("%d error lines for one run of failures:\n%s", n, logs)
	}
	if v := testutil.ToFloat64(s.m.deadLetter.WithLabelValues("noc")); v != 0 {
		t.Fatalf("dead-lettered batches %v, want 0 (none was written)", v)
	}
	// Space again: the next refused batch is written.
	sp.Append(ctx, []byte("icmp,target=127.0.0.1 up=1i 2\n"), 1)
	recs, _ := cur.Next(ctx, 1)
	if _, err := s.send(ctx, recs[0]); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(dlPath)
	if !strings.HasPrefix(string(b), string(first)) || !strings.Contains(string(b[len(first):]), `"line_protocol":"icmp,target=127.0.0.1 up=1i 2\n"`) ||
		strings.Count(string(b), "\n") != 2 {
		t.Fatalf("dead-letter file after space was freed: %q", b)
	}
	if !strings.Contains(logs.String(), "the dead-letter file can be written again") || !strings.Contains(logs.String(), "lost_points=16") {
		t.Fatalf("recovery not logged:\n%s", logs)
	}
	if tmp := spooltest.Temps(t, dlDir); len(tmp) > 0 {
		t.Fatalf("temporary files: %v", tmp)
	}
}
