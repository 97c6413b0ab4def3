package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/internal/testbuild"
	"github.com/pantau-noc/pantau/internal/testproc"
)

// diskWriter sends numbered batches of three kinds and remembers the
// samples of the acknowledged ones: new series (a series record in the
// WAL per line), samples of existing series, and out-of-order samples
// (older than their series' newest, so they go to the WBL).
type diskWriter struct {
	base, tok string
	t0, now   int64 // ms
	acked     ackedSamples
	batches   int  // acknowledged
	noIDs     bool // send without Pantau-Batch (nothing goes to state.db)
}

const (
	dwNewSeries = 400 // with the pad label, a series record over two WAL pages
	dwExisting  = 120
	dwOOO       = 40
)

var dwPad = strings.Repeat("p", 80)

func newDiskWriter(base, tok string) *diskWriter {
	now := time.Now()
	return &diskWriter{base: base, tok: tok, t0: now.Add(-time.Hour).UnixMilli(), now: now.Add(-time.Minute).UnixMilli()}
}

type dwSample struct {
	id string
	ts int64
	v  string
}

// seed writes the out-of-order series' newest samples.
func (w *diskWriter) seed(t *testing.T) {
	t.Helper()
	var b bytes.Buffer
	var ss []dwSample
	for i := range dwOOO {
		fmt.Fprintf(&b, "fdo,i=%d v=-1 %d\n", i, w.now)
		ss = append(ss, dwSample{fmt.Sprintf("__name__=pantau_fdo_v,i=%d", i), w.now, "-1"})
	}
	code, _, err := post(context.Background(), w.base, w.tok, "seed", b.Bytes())
	if err != nil || code != 204 {
		t.Fatalf("seed: %d %v", code, err)
	}
	for _, s := range ss {
		w.acked.add(s.id, s.ts, s.v)
	}
}

func (w *diskWriter) body(n int) ([]byte, []dwSample) {
	var b bytes.Buffer
	var ss []dwSample
	ts := w.t0 + int64(n)*1000
	v := strconv.Itoa(n)
	switch n % 3 {
	case 0:
		for i := range dwNewSeries {
			fmt.Fprintf(&b, "fd,b=%d,i=%d,pad=%s v=%d %d\n", n, i, dwPad, n, ts)
			ss = append(ss, dwSample{fmt.Sprintf("__name__=pantau_fd_v,b=%d,i=%d,pad=%s", n, i, dwPad), ts, v})
		}
	case 1:
		for i := range dwExisting {
			fmt.Fprintf(&b, "fdx,i=%d v=%d %d\n", i, n, ts)
			ss = append(ss, dwSample{fmt.Sprintf("__name__=pantau_fdx_v,i=%d", i), ts, v})
		}
	case 2:
		for i := range dwOOO {
			fmt.Fprintf(&b, "fdo,i=%d v=%d %d\n", i, n, ts)
			ss = append(ss, dwSample{fmt.Sprintf("__name__=pantau_fdo_v,i=%d", i), ts, v})
		}
	}
	return b.Bytes(), ss
}

// send sends batch n once and records it when acknowledged.
func (w *diskWriter) send(n int) (int, string, error) {
	body, ss := w.body(n)
	id := fmt.Sprintf("b%d", n)
	if w.noIDs {
		id = ""
	}
	code, retry, err := post(context.Background(), w.base, w.tok, id, body)
	if err == nil && code == 204 {
		w.batches++
		for _, s := range ss {
			w.acked.add(s.id, s.ts, s.v)
		}
	}
	return code, retry, err
}

// sendUntilAcked re-sends batch n as an agent does until it is
// acknowledged or the deadline passes.
func (w *diskWriter) sendUntilAcked(t *testing.T, n int, deadline time.Time) (refusals int, codes map[int]int) {
	t.Helper()
	codes = map[int]int{}
	for {
		code, retry, err := w.send(n)
		if err != nil {
			t.Fatalf("batch %d: %v", n, err)
		}
		if code == 204 {
			return refusals, codes
		}
		refusals++
		codes[code]++
		if time.Now().After(deadline) {
			t.Fatalf("batch %d not acknowledged before the deadline (last status %d)", n, code)
		}
		wait := 200 * time.Millisecond
		if s, err := strconv.Atoi(retry); err == nil && s > 0 {
			wait = min(time.Duration(s)*time.Second, 2*time.Second)
		}
		time.Sleep(wait)
	}
}

func (w *diskWriter) check(t *testing.T) {
	t.Helper()
	at := time.UnixMilli(w.now).Add(time.Second)
	n, ex := w.acked.missing(t, w.base, at, 3*time.Hour, "pantau_fd_v", "pantau_fdx_v", "pantau_fdo_v")
	if n > 0 {
		t.Errorf("%d of %d acknowledged samples (%d batches) missing, e.g. %s", n, w.acked.n, w.batches, strings.Join(ex, "; "))
	}
}

// startOnSmallDisk runs a collector with its data on a new 20 MB tmpfs
// and acknowledges 30 batches (and the seed).
func startOnSmallDisk(t *testing.T) (bin, mnt, dataDir, addr, base string, p *testproc.Proc, w *diskWriter, n int) {
	t.Helper()
	bin = testbuild.Collector(t)
	mnt = mountTmpfs(t, 20<<20)
	dataDir = filepath.Join(mnt, "data")
	addr = testproc.FreePort(t)
	base = "http://" + addr
	tok := tokenCreate(t, bin, "--data-dir", dataDir, "--agent", "fd")
	p = testproc.Start(t, bin, addr, "--auth.anonymous", "viewer", "--listen-address", addr, "--data-dir", dataDir)
	w = newDiskWriter(base, tok)
	w.seed(t)
	for ; n < 30; n++ {
		if code, _, err := w.send(n); err != nil || code != 204 {
			t.Fatalf("batch %d before the disk filled: %d %v", n, code, err)
		}
	}
	return bin, mnt, dataDir, addr, base, p, w, n
}

// TestIntegrationFullDiskKeepsAcknowledgedWrites: a 20 MB data file system
// is filled until writes fail; while it is full the collector is not
// ready and says why; once space is freed it recovers by itself, and 300
// more acknowledged writes (new series, existing series, out-of-order
// samples) all survive a kill -9.
func TestIntegrationFullDiskKeepsAcknowledgedWrites(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test (starts the collector binary)")
	}
	t.Parallel()
	bin, mnt, dataDir, addr, base, p, w, n := startOnSmallDisk(t)

	// Twice: without batch ids the WAL is the first to find the disk
	// full; with them, often state.db.
	var refused map[int]int
	for round, ids := range []bool{false, true} {
		w.noIDs = !ids
		filler := fill(t, mnt, 192<<10)
		failures, beforeFull := 0, w.batches
		for start := n; failures < 3; n++ {
			if n-start > 3000 {
				t.Fatalf("3000 writes into a full file system, none refused")
			}
			code, retry, err := w.send(n)
			if err != nil {
				p.Kill()
				t.Fatalf("batch %d: %v\n%s", n, err, p.Logs)
			}
			switch code {
			case 204:
			case 500, 503:
				failures++
				if code == 503 && retry == "" {
					t.Errorf("503 without Retry-After")
				}
			default:
				t.Fatalf("batch %d into a full disk: status %d", n, code)
			}
		}
		t.Logf("round %d: disk full after %d more acknowledged batches; %d KiB free", round, w.batches-beforeFull, freeBytes(t, mnt)>>10)
		if code, body := getText(t, base, "/readyz"); code != 503 || !strings.Contains(body, "not writable") {
			t.Errorf("/readyz while the disk is full: %d %q; want 503 naming the reason", code, body)
		}
		_, metrics := getText(t, base, "/metrics")
		if v := testproc.MetricValue(metrics, "pantau_collector_storage_writable"); v != 0 {
			t.Errorf("pantau_collector_storage_writable = %v while full, want 0", v)
		}
		if round == 0 {
			if v := testproc.MetricValue(metrics, `pantau_collector_storage_write_failures_total{kind="wal_write"}`); v < 1 {
				t.Errorf(`pantau_collector_storage_write_failures_total{kind="wal_write"} = %v, want >= 1`, v)
			}
		}

		if err := os.Remove(filler); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(2 * time.Minute)
		refused = map[int]int{}
		for target := w.batches + 150; w.batches < target; n++ {
			_, codes := w.sendUntilAcked(t, n, deadline)
			for c, k := range codes {
				refused[c] += k
			}
		}
		t.Logf("after freeing space: %d batches acknowledged, refusals while recovering: %v", w.batches, refused)
		if refused[500] > 0 {
			t.Errorf("writes answered 500 while recovering (want 503 with Retry-After): %v", refused)
		}
	}
	if code, _ := getText(t, base, "/readyz"); code != 200 {
		t.Errorf("/readyz after recovery: %d", code)
	}
	_, metrics := getText(t, base, "/metrics")
	if v := testproc.MetricValue(metrics, "pantau_collector_storage_writable"); v != 1 {
		t.Errorf("pantau_collector_storage_writable = %v after recovery, want 1", v)
	}
	if v := testproc.MetricValue(metrics, "pantau_collector_storage_recoveries_total"); v < 2 {
		t.Errorf("pantau_collector_storage_recoveries_total = %v, want >= 2", v)
	}
	w.check(t)
	p.Kill()
	if t.Failed() {
		t.Logf("collector log while full and recovering:\n%s", p.Logs)
	}

	p = testproc.Start(t, bin, addr, "--auth.anonymous", "viewer", "--listen-address", addr, "--data-dir", dataDir)
	w.check(t)
	p.Kill()
	if t.Failed() {
		t.Logf("collector log after restart:\n%s", p.Logs)
	}
}

// TestIntegrationRestartWhileDiskFull: a collector killed while its disk
// is full either refuses to start (saying to free space) or starts
// without accepting writes; it never loses acknowledged data, and once
// space is freed the next start has every acknowledged sample.
func TestIntegrationRestartWhileDiskFull(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test (starts the collector binary)")
	}
	t.Parallel()
	bin, mnt, dataDir, addr, base, p, w, n := startOnSmallDisk(t)
	w.noIDs = true // the WAL finds the disk full first
	filler := fill(t, mnt, 192<<10)
	for failures := 0; failures < 3; n++ {
		if n > 3000 {
			t.Fatal("3000 writes into a full file system, none refused")
		}
		code, _, err := w.send(n)
		if err != nil {
			t.Fatal(err)
		}
		if code != 204 {
			failures++
		}
	}
	p.Kill()
	// Still full, and fill what the dead process's files gave back.
	fill(t, mnt, 0)

	for i := range 2 {
		cmd, logs, ready := startProcMaybe(t, bin, addr, "--auth.anonymous", "viewer", "--listen-address", addr, "--data-dir", dataDir)
		t.Logf("start %d on a full disk: ready=%v %s", i, ready, logs)
		if ready {
			// Started: reads work, writes are refused.
			if code, _ := getText(t, base, "/readyz"); code != 503 {
				t.Errorf("start %d on a full disk: /readyz %d, want 503", i, code)
			}
			w.check(t)
			if code, _, err := w.send(n); err != nil || code == 204 {
				t.Errorf("start %d on a full disk: a write got %d %v", i, code, err)
			}
			n++
			cmd.Kill()
		} else if !strings.Contains(logs, "free") {
			t.Errorf("start %d on a full disk refused without saying to free space:\n%s", i, logs)
		}
	}

	os.Remove(filler)
	w.noIDs = false
	p = testproc.Start(t, bin, addr, "--auth.anonymous", "viewer", "--listen-address", addr, "--data-dir", dataDir)
	w.check(t)
	deadline := time.Now().Add(time.Minute)
	for target := w.batches + 30; w.batches < target; n++ {
		w.sendUntilAcked(t, n, deadline)
	}
	p.Kill()
	p = testproc.Start(t, bin, addr, "--auth.anonymous", "viewer", "--listen-address", addr, "--data-dir", dataDir)
	w.check(t)
	p.Kill()
	if t.Failed() {
		t.Logf("collector log:\n%s", p.Logs)
	}
}

// startProcMaybe starts `bin serve` and waits until it is listening
// (ready or not) or has exited; ready reports which.
func startProcMaybe(t *testing.T, bin, addr string, args ...string) (*testproc.Proc, string, bool) {
	t.Helper()
	p := testproc.Launch(t, bin, args...)
	pid := p.Cmd.Process.Pid
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if !testproc.Alive(pid) {
			p.Cmd.Wait()
			return p, p.Logs.String(), false
		}
		if code, err := httpStatus("http://" + addr + "/healthz"); err == nil && code == 200 {
			return p, "", true
		}
		time.Sleep(200 * time.Millisecond)
	}
	p.Kill()
	t.Fatalf("collector neither listening nor exited after 60s:\n%s", p.Logs)
	return nil, "", false
}
