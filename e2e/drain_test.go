package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/internal/lab"
	"github.com/pantau-noc/pantau/internal/spool"
	"github.com/pantau-noc/pantau/internal/testbuild"
	"github.com/pantau-noc/pantau/internal/testproc"
)

// TestIntegrationBacklogDrainMultiBatch: a real agent drains a queue of
// 4,000 batches (20,000 points, as after an outage) to a real collector
// in multi-batch requests (queue.max_request_bytes 8 KiB: about 50
// batches each), is killed with SIGKILL in the middle of the drain and
// started again, has every connection to the collector cut (a TCP proxy
// between them closes them mid-request) later in the drain, and at the
// collector every point is there exactly once:
// every sample of the backlog is stored, and the collector stored no
// batch twice (its points counter is the backlog's points plus the
// heartbeats', the batches re-sent after the kill were answered
// duplicate).
func TestIntegrationBacklogDrainMultiBatch(t *testing.T) {
	lab.SkipShort(t, "the agent and collector binaries")
	t.Parallel()
	colBin, agentBin := testbuild.Collector(t), testbuild.Agent(t)
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	tok := tokenCreate(t, colBin, "--data-dir", data, "--agent", "drain")
	viewer := tokenCreate(t, colBin, "--data-dir", data, "--name", "reader", "--role", "viewer")
	addr := testproc.FreePort(t)
	testproc.Start(t, colBin, addr, "--listen-address", addr, "--data-dir", data)
	base := "http://" + addr
	reader := testproc.BearerClient(viewer, 30*time.Second)
	proxy := newCutProxy(t, addr)

	// The backlog, queued as the agent queues it: 4,000 batches of five
	// points of one round each, 1 s apart, ending a minute ago.
	const nBatches, perBatch = 4000, 5
	state := filepath.Join(dir, "agent")
	sp, err := spool.Open(spool.Options{Dir: filepath.Join(state, "queue"), SyncInterval: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now().Add(-time.Minute - nBatches*time.Second)
	for i := range nBatches {
		var b strings.Builder
		for k := range perBatch {
			fmt.Fprintf(&b, "backlog,site=s,k=%d n=%di %d\n", k, i, start.Add(time.Duration(i)*time.Second).UnixNano())
		}
		if _, err := sp.Append(context.Background(), []byte(b.String()), perBatch); err != nil {
			t.Fatal(err)
		}
	}
	if err := sp.Close(); err != nil {
		t.Fatal(err)
	}

	cfg := filepath.Join(dir, "agent.yml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`agent: {id: drain, site: s, state_dir: %s, listen_address: ""}
collectors:
  - {name: noc, url: "http://%s", token: %s}
queue: {max_request_bytes: 8192, batch_linger: 100ms}
defaults: {interval: 2s}
`, state, proxy.addr(), tok)), 0o600)
	runAgent := func() (*exec.Cmd, *lab.SyncBuffer) {
		cmd := exec.Command(agentBin, "run", "--config", cfg)
		out := &lab.SyncBuffer{}
		cmd.Stdout, cmd.Stderr = out, out
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if cmd.ProcessState == nil {
				cmd.Process.Kill()
				cmd.Wait()
			}
		})
		return cmd, out
	}
	stored := func() float64 {
		return metrics(t, reader, base)[`pantau_collector_ingest_batches_total{result="stored"}`]
	}

	agent, out := runAgent()
	// kill -9 once a quarter of the backlog is stored, while requests are
	// in flight.
	deadline := time.Now().Add(60 * time.Second)
	for stored() < nBatches/4 {
		if time.Now().After(deadline) {
			t.Fatalf("the drain did not start: %.0f batches stored\n%s", stored(), out)
		}
		time.Sleep(10 * time.Millisecond)
	}
	agent.Process.Signal(syscall.SIGKILL)
	agent.Wait()
	atKill := stored()
	if atKill >= nBatches {
		t.Fatalf("the whole backlog was stored before the kill (%.0f batches): nothing tested", atKill)
	}
	agent, out = runAgent()
	// Cut every connection once half the backlog is stored.
	for stored() < nBatches/2 {
		if time.Now().After(deadline) {
			t.Fatalf("the drain did not go on after the restart: %.0f batches stored\n%s", stored(), out)
		}
		time.Sleep(10 * time.Millisecond)
	}
	cut := proxy.cut()
	atCut := stored()

	count := func(sel string) (n, sum float64) {
		q := url.Values{"query": {sel}, "time": {strconv.FormatInt(time.Now().Unix()+5, 10)}}
		resp, err := reader.Get(base + "/api/v1/query?" + q.Encode())
		if err != nil {
			t.Fatalf("query: %v", err)
		}
		defer resp.Body.Close()
		var r struct {
			Data struct {
				Result []struct {
					Value [2]any `json:"value"`
				} `json:"result"`
			} `json:"data"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&r); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("query %s: %d %v", sel, resp.StatusCode, err)
		}
		for _, s := range r.Data.Result {
			v, _ := strconv.ParseFloat(s.Value[1].(string), 64)
			n += v
		}
		return n, float64(len(r.Data.Result))
	}
	if !lab.WaitFor(t.Context(), 90*time.Second, func() bool {
		n, _ := count("count_over_time(pantau_backlog_n[3h])")
		return n >= nBatches*perBatch
	}) {
		n, _ := count("count_over_time(pantau_backlog_n[3h])")
		t.Fatalf("%.0f of %d backlog points at the collector\n%s", n, nBatches*perBatch, out)
	}
	// The queue is empty before the agent stops: nothing is re-sent later.
	agent.Process.Signal(syscall.SIGTERM)
	agent.Wait()

	if n, series := count("count_over_time(pantau_backlog_n[3h])"); n != nBatches*perBatch || series != perBatch {
		t.Errorf("%.0f backlog samples in %.0f series, want %d in %d", n, series, nBatches*perBatch, perBatch)
	}
	if sum, _ := count("sum_over_time(pantau_backlog_n[3h])"); sum != perBatch*nBatches*(nBatches-1)/2 {
		t.Errorf("backlog values sum to %.0f, want %d", sum, perBatch*nBatches*(nBatches-1)/2)
	}
	// A sample is queryable once appended, and counted once its request
	// is committed: wait for the last request the stopped agent left.
	var (
		heartbeats, points float64
		m                  map[string]float64
	)
	if !lab.WaitFor(t.Context(), 10*time.Second, func() bool {
		heartbeats, _ = count("count_over_time(pantau_agent_uptime_seconds[3h])")
		m = metrics(t, reader, base)
		points = m["pantau_collector_ingest_points_total"]
		return points == nBatches*perBatch+heartbeats
	}) {
		t.Errorf("the collector stored %.0f points, want %d of the backlog + %.0f heartbeats: a batch stored twice or lost", points, nBatches*perBatch, heartbeats)
	}
	multi := m["pantau_collector_ingest_batches_per_request_count"]
	if multi < 10 {
		t.Errorf("%.0f multi-batch requests: the backlog was not sent in multi-batch requests", multi)
	}
	t.Logf("kill -9 after %.0f of %d batches stored, the connections (%d since the start) cut after %.0f; %.0f multi-batch requests (%.0f batches), %.0f batches answered duplicate, %.0f heartbeats",
		atKill, nBatches, cut, atCut, multi, m["pantau_collector_ingest_batches_per_request_sum"], m[`pantau_collector_ingest_batches_total{result="duplicate"}`], heartbeats)
}

// cutProxy forwards TCP connections to a collector and can cut them all
// at once, as a link that drops mid-request.
type cutProxy struct {
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func newCutProxy(t *testing.T, target string) *cutProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln}
	t.Cleanup(func() { ln.Close(); p.cut() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			u, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, u)
			p.mu.Unlock()
			go func() { io.Copy(u, c); u.Close() }()
			go func() { io.Copy(c, u); c.Close() }()
		}
	}()
	return p
}

func (p *cutProxy) addr() string { return p.ln.Addr().String() }

// cut closes every connection made since the last cut (those still open
// are cut mid-request or idle) and returns how many the agent made.
func (p *cutProxy) cut() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	n := len(p.conns) / 2
	p.conns = nil
	return n
}
