package collector

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/pantau-noc/pantau/collector/internal/config"
	"github.com/pantau-noc/pantau/collector/internal/report"
	"github.com/pantau-noc/pantau/internal/testbuild"
	"github.com/pantau-noc/pantau/internal/testproc"
)

// Acceptance tests of the write path's integrity (issue 16): write
// scoping, fair share between agents, bounded memory, names and batch
// ids. The figures they measure are logged (go test -v).

const scopeTestInventory = `
sites:
  - {id: site-a, name: Site A, kind: opd, timezone: WIB}
  - {id: site-b, name: Site B, kind: opd, timezone: WIB}
links:
  - {id: linka, site: site-a, icmp: {target: 127.0.0.2}}
  - {id: linkb, site: site-b, icmp: {target: 127.0.0.3}}
`

// TestIntegrationLinkTagForgery: a site-A token that names site B's link
// gets 403 naming the line and the link; one that pings B's target is
// stored but decides nothing; B's minutes and report stay B's own.
func TestIntegrationLinkTagForgery(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: waits for the SLA engine (seconds)")
	}
	t.Parallel()
	inv := filepath.Join(t.TempDir(), "inventory.yml")
	if err := os.WriteFile(inv, []byte(scopeTestInventory), 0o644); err != nil {
		t.Fatal(err)
	}
	tc := startCollector(t, func(c *config.Config) { c.Inventory = inv })
	tokA, tokB := tc.token("agent-a", "site-a"), tc.token("agent-b", "site-b")
	end := time.Now().Truncate(time.Minute).Add(-time.Minute)
	var good strings.Builder
	for i := 5; i >= 0; i-- {
		fmt.Fprintf(&good, "icmp,target=127.0.0.3 up=1i,loss_ratio=0,rtt_avg_seconds=0.004 %d\n", end.Add(-time.Duration(i)*time.Minute).Unix())
	}
	if code, body := tc.write(tokB, good.String()); code != 204 {
		t.Fatalf("site B's own rounds: %d %s", code, body)
	}
	for i := 5; i >= 0; i-- {
		ts := end.Add(-time.Duration(i) * time.Minute).Unix()
		code, body := tc.write(tokA, fmt.Sprintf("icmp,target=1.2.3.4,link=linkb up=0i,loss_ratio=1 %d\n", ts))
		if code != 403 || !strings.Contains(body, `line 1 col 26: tag link=\"linkb\" names the inventory link of site \"site-b\", which this token may not write: agent \"agent-a\" may write sites site-a`) {
			t.Fatalf("forged link tag: %d %s", code, body)
		}
		// B's target without a link tag: stored, decides nothing
		if code, body := tc.write(tokA, fmt.Sprintf("icmp,target=127.0.0.3 up=0i,loss_ratio=1 %d\n", ts)); code != 204 {
			t.Fatalf("site A pinging B's target: %d %s", code, body)
		}
	}
	if v := tc.query(`pantau_icmp_up{agent="agent-a",target="127.0.0.3",link=""}`, time.Now()); len(v) != 1 || v[0].Value != 0 {
		t.Errorf("A's round of B's target, without inventory labels: %v", v)
	}
	if v := tc.query(`pantau_icmp_up{link="linkb"}`, time.Now()); len(v) != 1 || string(v[0].Metric["agent"]) != "agent-b" {
		t.Errorf("linkb's series: %v, want agent-b's only", v)
	}
	testproc.WaitFor(t, 30*time.Second, "linkb up", func() bool {
		v := tc.query(`pantau_link_state{link="linkb",state="up"}`, time.Now())
		return len(v) == 1 && v[0].Value == 1
	})
	wib := time.FixedZone("WIB", 7*3600)
	period := end.Add(-time.Hour).In(wib).Format("2006-01-02") + ".." + time.Now().In(wib).Format("2006-01-02")
	checkLinkB := func(when string) {
		t.Helper()
		code, js := tc.get("/api/v1/report?format=json&period=" + period)
		if code != 200 {
			t.Fatalf("report %s: %d %s", when, code, js)
		}
		var r report.Report
		if err := json.Unmarshal([]byte(js), &r); err != nil {
			t.Fatal(err)
		}
		for _, l := range r.Links {
			if l.Link == "linkb" && (l.Down != 0 || l.Outages != 0 || l.Up != 6) {
				t.Errorf("linkb in the report %s: %v up, %v down, %d outages; want 6 up, no outage", when, l.Up, l.Down, l.Outages)
			}
		}
	}
	checkLinkB("after ingest")
	// sla rebuild reads the stored series: A's rounds of B's target must
	// not count for linkb there either (the agents' scopes from state.db)
	cfgPath := filepath.Join(t.TempDir(), "collector.yml")
	if err := os.WriteFile(cfgPath, []byte(fmt.Sprintf("data_dir: %s\ninventory: %s\n", tc.cfg.DataDir, inv)), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := cli(t, "sla", "rebuild", "--config", cfgPath, "--from", end.Add(-time.Hour).In(wib).Format("2006-01-02")); code != 0 ||
		!strings.Contains(out, "rebuilt minute states from 1 series") {
		t.Fatalf("sla rebuild: exit %d\n%s%s", code, out, errOut)
	}
	checkLinkB("after sla rebuild")
	// the 403s are logged, once a minute per address, with the token id
	logs := testproc.GrepLines(tc.logs.String(), "write refused")
	if n := strings.Count(tc.logs.String(), `msg="write refused"`); n != 1 || !strings.Contains(logs, "level=WARN") || !strings.Contains(logs, "source=127.0.0.1") ||
		!strings.Contains(logs, "token_id="+tokA[len("pantau_"):len("pantau_")+16]) || strings.Contains(logs, tokA[len("pantau_")+17:]) {
		t.Errorf("refusal log lines:\n%s", logs)
	}
}

// TestIntegrationNamesAndReservedNames: megabyte names get 400 naming
// the limit and leave the label APIs small; names that become the
// collector's own series or __ labels get 400.
func TestIntegrationNamesAndReservedNames(t *testing.T) {
	t.Parallel()
	tc := startCollector(t, nil)
	tok := tc.token("agent-n")
	now := time.Now().Unix()
	big := strings.Repeat("x", 1<<20)
	for _, c := range []struct{ body, want string }{
		{fmt.Sprintf("%s v=1 %d", big, now), "limits.max_measurement_bytes"},
		{fmt.Sprintf("m,%s=1 v=1 %d", big, now), "limits.max_tag_key_bytes"},
		{fmt.Sprintf("m %s=1 %d", big, now), "limits.max_field_key_bytes"},
		{fmt.Sprintf("m,%s v=1 %d", strings.Repeat("t=1,", 100)[:399], now), "limits.max_labels_per_series"},
		{fmt.Sprintf("collector.ingest requests_total=1 %d", now), `measurement \"collector.ingest\" is reserved`},
		{fmt.Sprintf("remote.write samples_total=1 %d", now), `measurement \"remote.write\" is reserved`},
		{fmt.Sprintf("m,._tmp=1 v=1 %d", now), `tag key \"._tmp\" is reserved: it becomes label \"__tmp\"`},
	} {
		code, body := tc.write(tok, c.body)
		if code != 400 || !strings.Contains(body, c.want) || len(body) > 2000 {
			t.Errorf("%.40q: %d %.300s; want 400 naming %s", c.body, code, body, c.want)
		}
	}
	if code, body := tc.write(tok, fmt.Sprintf("m v=1 %d", now)); code != 204 {
		t.Fatalf("a good write: %d %s", code, body)
	}
	for _, path := range []string{"/api/v1/label/__name__/values", "/api/v1/labels"} {
		code, body := tc.get(path)
		if code != 200 || len(body) > 64<<10 || strings.Contains(body, "collector_ingest_requests") || strings.Contains(body, "__tmp") {
			t.Errorf("%s: %d, %d bytes", path, code, len(body))
		}
	}
}

// TestIntegrationAuthFailures: failed authentications are logged at WARN
// with the source address and the token id, never the secret, once a
// minute per address; past limits.auth_failures_per_minute the address
// gets 429 with Retry-After.
func TestIntegrationAuthFailures(t *testing.T) {
	t.Parallel()
	tc := startCollector(t, nil)
	tok := tc.token("agent-auth")
	forged := tok[:len(tok)-8] + "aaaaaaaa"
	var codes []int
	var retry string
	for range 22 {
		req, _ := http.NewRequest(http.MethodPost, tc.base+"/api/v2/write", strings.NewReader("m v=1"))
		req.Header.Set("Authorization", "Token "+forged)
		res, err := tc.httpCli.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		codes = append(codes, res.StatusCode)
		retry = res.Header.Get("Retry-After")
	}
	if codes[19] != 401 || codes[20] != 429 || codes[21] != 429 || retry == "" {
		t.Errorf("statuses %v, Retry-After %q; want 20 × 401, then 429 with Retry-After", codes, retry)
	}
	logs := tc.logs.String()
	if n := strings.Count(logs, `msg="write refused"`); n != 1 || !strings.Contains(logs, "status=401 source=127.0.0.1 token_id="+tok[len("pantau_"):len("pantau_")+16]) ||
		strings.Contains(logs, forged[len("pantau_")+17:]) {
		t.Errorf("refusal log lines (want one, with source and token id, without the secret):\n%s", testproc.GrepLines(logs, "write refused"))
	}
}

// serveProc starts the collector binary with a config file holding the
// given collector.yml lines; it returns the process and its base URL.
func serveProc(t *testing.T, bin, dataDir, extra string, env ...string) (*testproc.Proc, string) {
	t.Helper()
	addr := testproc.FreePort(t)
	cfg := filepath.Join(t.TempDir(), "collector.yml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf("listen_address: %s\ndata_dir: %s\n%s", addr, dataDir, extra)), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	p := testproc.Start(t, bin, addr, "--config", cfg)
	return p, "http://" + addr
}

func procTokens(t *testing.T, dataDir string, agents ...string) []string {
	t.Helper()
	var out []string
	for _, a := range agents {
		var o, e bytes.Buffer
		if code := Main(context.Background(), []string{"token", "create", "--data-dir", dataDir, "--agent", a}, &o, &e); code != 0 {
			t.Fatalf("token create: %s", e.String())
		}
		out = append(out, strings.TrimSpace(o.String()))
	}
	return out
}

// procAdmin creates an unscoped admin token in dataDir, for reads.
func procAdmin(t *testing.T, dataDir string) string {
	t.Helper()
	var o, e bytes.Buffer
	if code := Main(context.Background(), []string{"token", "create", "--data-dir", dataDir, "--name", "test-admin", "--role", "admin"}, &o, &e); code != 0 {
		t.Fatalf("token create: %s", e.String())
	}
	return strings.TrimSpace(o.String())
}

// procStatus reads a field of /proc/<pid>/status in bytes (VmRSS, VmHWM).
func procStatus(t *testing.T, pid int, field string) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	t.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}

// writer is an honest agent writing small batches one after another,
// recording each status and latency.
type writer struct {
	base, token string
	mu          sync.Mutex
	codes       map[int]int
	lat         []time.Duration
}

func (w *writer) run(ctx context.Context, n int, every time.Duration) {
	cli := &http.Client{Timeout: 30 * time.Second}
	w.codes = map[int]int{}
	for i := 0; i < n && ctx.Err() == nil; i++ {
		body := fmt.Sprintf("honest,i=%d v=%d %d\n", i%10, i, time.Now().UnixNano())
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, w.base+"/api/v2/write", strings.NewReader(body))
		req.Header.Set("Authorization", "Token "+w.token)
		t0 := time.Now()
		code := -1
		if res, err := cli.Do(req); err == nil {
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			code = res.StatusCode
		}
		w.mu.Lock()
		w.codes[code]++
		if code == 204 {
			w.lat = append(w.lat, time.Since(t0))
		}
		w.mu.Unlock()
		select {
		case <-ctx.Done():
		case <-time.After(every):
		}
	}
}

// figures returns the share of 204s, the p99 latency of all requests
// (failed ones count as infinitely slow) and the number of requests.
func (w *writer) figures() (ok float64, p99 time.Duration, n int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, c := range w.codes {
		n += c
	}
	if n == 0 {
		return 0, 0, 0
	}
	lat := slices.Clone(w.lat)
	for range n - len(lat) {
		lat = append(lat, time.Duration(math.MaxInt64))
	}
	slices.Sort(lat)
	return float64(w.codes[204]) / float64(n), lat[int(math.Ceil(0.99*float64(n)))-1], n
}

// TestIntegrationTricklingAgentDoesNotStarveOthers: 80 request bodies of
// one agent, trickling a byte every 2 s (a refused one opens a new one 2 s
// later), against the collector process with its default limits; another
// agent writes meanwhile and gets at least 95 % of its writes through,
// with a p99 under 1 s.
func TestIntegrationTricklingAgentDoesNotStarveOthers(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test (starts the collector binary)")
	}
	bin := testbuild.Collector(t)
	dataDir := t.TempDir()
	toks := procTokens(t, dataDir, "agent-slow", "agent-honest")
	p, base := serveProc(t, bin, dataDir, "")
	addr := strings.TrimPrefix(base, "http://")

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var (
		wg       sync.WaitGroup
		refusals sync.Map // status line → *atomic.Int64
		opened   atomic.Int64
	)
	count := func(line string) {
		v, _ := refusals.LoadOrStore(strings.TrimSpace(line), new(atomic.Int64))
		v.(*atomic.Int64).Add(1)
	}
	trickle := func() {
		defer wg.Done()
		for ctx.Err() == nil {
			conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
			if err != nil {
				count("dial error")
			} else {
				opened.Add(1)
				fmt.Fprintf(conn, "POST /api/v2/write HTTP/1.1\r\nHost: %s\r\nAuthorization: Token %s\r\nTransfer-Encoding: chunked\r\n\r\n", addr, toks[0])
				answered := make(chan string, 1)
				go func() {
					line, err := bufio.NewReader(conn).ReadString('\n')
					if err != nil && line == "" {
						line = "closed without an answer"
					}
					answered <- line
				}()
			body:
				for {
					select {
					case <-ctx.Done():
						break body
					case line := <-answered:
						count(line)
						break body
					case <-time.After(2 * time.Second):
						conn.Write([]byte("1\r\nm\r\n"))
					}
				}
				conn.Close()
			}
			select {
			case <-ctx.Done():
			case <-time.After(2 * time.Second):
			}
		}
	}
	for range 80 {
		wg.Add(1)
		go trickle()
	}
	// let the trickling bodies take what they can
	testproc.WaitFor(t, 10*time.Second, "80 trickling bodies opened", func() bool { return opened.Load() >= 80 })
	time.Sleep(2 * time.Second)
	w := &writer{base: base, token: toks[1]}
	w.run(ctx, 200, 100*time.Millisecond) // about 25 s: two grace periods of the trickling bodies
	cancel()
	wg.Wait()

	ok, p99, n := w.figures()
	var tally []string
	refusals.Range(func(k, v any) bool {
		tally = append(tally, fmt.Sprintf("%s × %d", k, v.(*atomic.Int64).Load()))
		return true
	})
	slices.Sort(tally)
	t.Logf("honest agent: %d writes, %.1f %% 204, p99 %s, statuses %v; trickling bodies opened %d, answered: %s",
		n, 100*ok, p99, w.codes, opened.Load(), strings.Join(tally, "; "))
	if n < 150 || ok < 0.95 || p99 >= time.Second {
		t.Errorf("honest agent starved: %d writes, %.1f %% through (want ≥ 95 %%), p99 %s (want < 1 s)", n, 100*ok, p99)
	}
	if !testproc.Alive(p.Cmd.Process.Pid) {
		t.Fatalf("collector died:\n%s", p.Logs)
	}
}

// bomb is a gzip body that inflates to 1 GiB from about 1 MB: the same
// member of 8 MiB, 128 times (gzip readers read every member).
func bomb(t *testing.T) []byte {
	t.Helper()
	var member bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&member, gzip.BestCompression)
	zw.Write(bytes.Repeat([]byte("x"), 8<<20))
	zw.Close()
	return bytes.Repeat(member.Bytes(), 128)
}

// TestIntegrationGzipBombsBoundedMemory: 64 concurrent gzip bombs (1 MB
// that inflate to 1 GiB), from 16 agents, for 20 s: the collector's RSS
// stays under its configured soft memory limit + 256 MiB, and another
// agent keeps writing.
func TestIntegrationGzipBombsBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test (starts the collector binary)")
	}
	const softLimit = 256 << 20
	bin := testbuild.Collector(t)
	dataDir := t.TempDir()
	agents := []string{"agent-honest"}
	for i := range 16 {
		agents = append(agents, fmt.Sprintf("agent-bomb-%02d", i))
	}
	toks := procTokens(t, dataDir, agents...)
	p, base := serveProc(t, bin, dataDir, fmt.Sprintf("limits:\n  memory_limit: %d\n", softLimit))
	pid := p.Cmd.Process.Pid
	body := bomb(t)
	t.Logf("bomb: %d bytes of gzip", len(body))

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		codes  = map[int]int{}
		maxRSS int64
	)
	cli := &http.Client{Timeout: 60 * time.Second}
	for i := range 64 {
		tok := toks[1+i%16]
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/v2/write", bytes.NewReader(body))
				req.Header.Set("Authorization", "Token "+tok)
				req.Header.Set("Content-Encoding", "gzip")
				code := -1
				if res, err := cli.Do(req); err == nil {
					io.Copy(io.Discard, res.Body)
					res.Body.Close()
					code = res.StatusCode
				}
				mu.Lock()
				codes[code]++
				mu.Unlock()
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for ctx.Err() == nil {
			if rss := procStatus(t, pid, "VmRSS"); rss > maxRSS {
				maxRSS = rss
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	w := &writer{base: base, token: toks[0]}
	w.run(ctx, 1000, 100*time.Millisecond)
	wg.Wait()
	hwm := procStatus(t, pid, "VmHWM")
	ok, p99, n := w.figures()
	t.Logf("bombs answered %v; collector RSS peak %d MiB (sampled %d MiB), soft limit %d MiB; honest agent: %d writes, %.1f %% 204, p99 %s, statuses %v",
		codes, hwm>>20, maxRSS>>20, softLimit>>20, n, 100*ok, p99, w.codes)
	if !testproc.Alive(pid) {
		t.Fatalf("collector died:\n%s", p.Logs)
	}
	if hwm >= softLimit+256<<20 {
		t.Errorf("RSS peaked at %d MiB, over the soft limit + 256 MiB (%d MiB)", hwm>>20, (softLimit+256<<20)>>20)
	}
	if codes[413] == 0 {
		t.Errorf("no bomb was refused with 413: %v", codes)
	}
	if n < 100 || ok < 0.9 {
		t.Errorf("honest agent: %d writes, %.1f %% through; want it to keep writing (≥ 90 %%)", n, 100*ok)
	}
}

// scrapeMetric reads one sample of the collector's /metrics.
func scrapeMetric(t *testing.T, base, token, series string) float64 {
	t.Helper()
	res, err := testproc.BearerClient(token, 30*time.Second).Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	v := testproc.MetricValue(string(b), series)
	if v < 0 {
		t.Fatalf("no %s in /metrics", series)
	}
	return v
}

func dirFilesSize(t *testing.T, glob string) int64 {
	t.Helper()
	files, _ := filepath.Glob(glob)
	var n int64
	for _, f := range files {
		if st, err := os.Stat(f); err == nil {
			n += st.Size()
		}
	}
	return n
}

// TestIntegrationBatchIDsBounded: one valid token sends up to 65,750
// unique 256-byte Pantau-Batch ids (bounded at 2 minutes) against
// limits.batch_dedup_bytes_per_agent set to 256 KiB; the ids the
// collector keeps for the agent stay within the bound, and neither its
// memory nor state.db grows with them. (The figures are those of the
// default 1 MiB, 263,000 ids, divided by 4: the ids sent are 64 times the
// bound either way, and the unbounded store of issue 16 would grow RSS by
// about 43 MiB and state.db by about 40 MB, well over the thresholds.)
func TestIntegrationBatchIDsBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test (starts the collector binary)")
	}
	const bound = 256 << 10 // the default 1 MiB / 4
	bin := testbuild.Collector(t)
	dataDir := t.TempDir()
	toks := procTokens(t, dataDir, "agent-ids")
	admin := procAdmin(t, dataDir)
	p, base := serveProc(t, bin, dataDir, fmt.Sprintf("storage:\n  fsync: never\nlimits:\n  batch_dedup_bytes_per_agent: %d\n", bound))
	pid := p.Cmd.Process.Pid
	cli := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 8}}
	line := fmt.Sprintf("ids v=1 %d\n", time.Now().UnixNano())
	send := func(id string) int {
		req, _ := http.NewRequest(http.MethodPost, base+"/api/v2/write", strings.NewReader(line))
		req.Header.Set("Authorization", "Token "+toks[0])
		req.Header.Set("Pantau-Batch", id)
		res, err := cli.Do(req)
		if err != nil {
			return -1
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res.StatusCode
	}
	id := func(i int64) string { return fmt.Sprintf("agent-ids/%0246d", i) }
	// warm up: the series exists, the state database has its pages
	const warm = 2000
	for i := range warm {
		send(id(int64(i)))
	}
	rss0, db0 := procStatus(t, pid, "VmRSS"), dirFilesSize(t, filepath.Join(dataDir, "state.db*"))

	const total = 263000 / 4
	var (
		next    atomic.Int64
		bad     atomic.Int64
		wg      sync.WaitGroup
		started = time.Now()
	)
	next.Store(warm)
	for range 4 { // limits.max_inflight_requests_per_agent
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Since(started) < 2*time.Minute {
				i := next.Add(1) - 1
				if i >= total {
					return
				}
				if code := send(id(i)); code != 204 {
					bad.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	sent := min(next.Load(), total)
	elapsed := time.Since(started)
	// the maintenance trim and the GC have nothing to do with the bound;
	// read at once
	rss1, db1 := procStatus(t, pid, "VmRSS"), dirFilesSize(t, filepath.Join(dataDir, "state.db*"))
	idBytes := scrapeMetric(t, base, admin, "pantau_collector_ingest_batch_id_bytes")
	evicted := scrapeMetric(t, base, admin, "pantau_collector_ingest_batch_ids_evicted_total")
	t.Logf("%d unique 256-byte batch ids in %s (%d not 204); ids kept: %.0f bytes (bound %d), %.0f evicted; RSS %d → %d MiB; state.db+wal %d → %d KiB",
		sent, elapsed.Round(time.Second), bad.Load(), idBytes, bound, evicted, rss0>>20, rss1>>20, db0>>10, db1>>10)
	if bad.Load() > 0 {
		t.Errorf("%d writes not acknowledged", bad.Load())
	}
	if sent < 50000/4 {
		t.Fatalf("only %d ids sent in 2 minutes", sent)
	}
	if idBytes > bound {
		t.Errorf("the agent's ids take %.0f bytes, over the bound %d", idBytes, bound)
	}
	if growth := rss1 - rss0; growth > 64<<20/4 {
		t.Errorf("RSS grew by %d MiB", growth>>20)
	}
	if growth := db1 - db0; growth > 8<<20/4 {
		t.Errorf("state.db grew by %d KiB", growth>>10)
	}
	// the newest id is still a duplicate, the oldest is not remembered
	if code := send(id(sent - 1)); code != 204 {
		t.Errorf("re-send of the newest id: %d", code)
	}
	if !testproc.Alive(pid) {
		t.Fatalf("collector died:\n%s", p.Logs)
	}
}
