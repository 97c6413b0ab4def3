package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/pantau-noc/pantau/collector/internal/inventory"
	"github.com/pantau-noc/pantau/collector/internal/sla"
	"github.com/pantau-noc/pantau/collector/internal/statedb"
)

// waitUntil polls cond (a condition, not a duration) for up to 10 s.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func (e *env) marks() []string {
	g := e.h.o.Store.(*gateStore)
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []string
	for _, it := range g.items {
		for _, m := range it.(Committed).Marks {
			out = append(out, m.ID)
		}
	}
	return out
}

const scopeInv = `
sites:
  - {id: dinkes, name: Dinkes, kind: opd}
  - {id: bappeda, name: Bappeda, kind: opd}
links:
  - {id: dinkes-wan, site: dinkes, icmp: {target: 10.20.0.1}}
  - {id: linkb, site: bappeda, icmp: {target: 10.30.0.1}}
`

// TestLinkTagOutsideScope: a site-bound token that names another site's
// link is refused with 403 naming the line and the link, and stores
// nothing; a round that matches that link only by its target is stored,
// but marks no link and gets no inventory labels.
func TestLinkTagOutsideScope(t *testing.T) {
	inv, err := inventory.Parse("i.yml", []byte(scopeInv))
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, func(o *Options) { o.SLA = sla.NewBuilder(inv, func() time.Time { return now }) })
	t0 := ns(now)
	good := fmt.Sprintf("icmp,target=10.20.0.1 up=1i,loss_ratio=0 %d\n", t0)
	forged := fmt.Sprintf("icmp,target=1.2.3.4,link=linkb up=0i,loss_ratio=1 %d\n", t0)
	r := e.do(req{agent: "agent-dinkes", body: good + forged})
	want := `line 2 col 26: tag link="linkb" names the inventory link of site "bappeda", which this token may not write: agent "agent-dinkes" may write sites dinkes`
	if r.status != 403 || r.code != "forbidden" || !strings.Contains(r.msg, want) {
		t.Fatalf("got %d %q %q\nwant 403 containing %q", r.status, r.code, r.msg, want)
	}
	if s := e.samples(); len(s) != 0 {
		t.Fatalf("a refused body stored %v", s)
	}
	// by target only: stored, counts for no link
	byTarget := fmt.Sprintf("icmp,target=10.30.0.1 up=0i,loss_ratio=1 %d\n", t0)
	if r := e.do(req{agent: "agent-dinkes", body: good + byTarget}); r.status != 204 {
		t.Fatalf("%d %s", r.status, r.msg)
	}
	if m := strings.Join(e.marks(), ","); m != "dinkes-wan" {
		t.Errorf("marks %q, want dinkes-wan only", m)
	}
	got := strings.Join(e.samples(), "\n")
	if !strings.Contains(got, `{__name__="pantau_icmp_up", agent="agent-dinkes", link="dinkes-wan", opd="dinkes", site="dinkes", target="10.20.0.1"}`) ||
		!strings.Contains(got, `{__name__="pantau_icmp_up", agent="agent-dinkes", site="dinkes", target="10.30.0.1"}`) {
		t.Errorf("stored:\n%s", got)
	}
	// the NOC's agent (no site restriction) keeps its reach
	if r := e.do(req{agent: "agent-noc", body: fmt.Sprintf("icmp,target=1.2.3.4,link=linkb up=1i %d\n", t0)}); r.status != 204 {
		t.Fatalf("%d %s", r.status, r.msg)
	}
	if m := strings.Join(e.marks(), ","); m != "dinkes-wan,linkb" {
		t.Errorf("marks %q, want dinkes-wan,linkb", m)
	}
}

// TestNamesBoundedAfterNormalisation: lengths and reserved names are
// checked as the TSDB will see them; a refusal quotes no megabyte.
func TestNamesBoundedAfterNormalisation(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.MaxLabelsPerSeries, o.MaxBodyBytes = 8, 4<<20 })
	t0 := ns(now)
	big := strings.Repeat("x", 1<<20)
	for _, c := range []struct {
		name, body string
		status     int
		msg        string
	}{
		{"long measurement", fmt.Sprintf("%s v=1 %d", big, t0), 400, "bytes; at most 256 are allowed (limits.max_measurement_bytes)"},
		{"long tag key", fmt.Sprintf("m,%s=1 v=1 %d", big, t0), 400, "bytes as a label; at most 256 are allowed (limits.max_tag_key_bytes)"},
		{"digit tag key one over", fmt.Sprintf("m,%s=1 v=1 %d", "1"+strings.Repeat("a", 255), t0), 400, "is 257 bytes as a label"},
		{"long field key", fmt.Sprintf("m %s=1 %d", big, t0), 400, "bytes; at most 256 are allowed (limits.max_field_key_bytes)"},
		{"too many labels", fmt.Sprintf("m,a=1,b=2,c=3,d=4,e=5,f=6,g=7 v=1 %d", t0), 400, "more than 8 labels"},
		{"collector series", fmt.Sprintf("collector.ingest requests_total=1 %d", t0), 400, `measurement "collector.ingest" is reserved: the collector stores its own pantau_collector_* series`},
		{"remote series", fmt.Sprintf("remote-write samples_total=1 %d", t0), 400, `measurement "remote-write" is reserved`},
		{"remote exact", fmt.Sprintf("remote write_samples_total=1 %d", t0), 400, `measurement "remote" is reserved`},
		{"link state", fmt.Sprintf("link/x state=1 %d", t0), 400, `measurement "link/x" is reserved`},
		{"dunder label", fmt.Sprintf("m,._tmp=1 v=1 %d", t0), 400, `tag key "._tmp" is reserved: it becomes label "__tmp"`},
		{"dunder label 2", fmt.Sprintf("m,_-x=1 v=1 %d", t0), 400, `becomes label "__x"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := e.do(req{agent: "agent-noc", body: c.body})
			if r.status != c.status || !strings.Contains(r.msg, c.msg) {
				t.Errorf("got %d %.300q, want %d containing %q", r.status, r.msg, c.status, c.msg)
			}
			if len(r.msg) > 1000 {
				t.Errorf("message of %d bytes", len(r.msg))
			}
		})
	}
	// within the limits and not reserved after normalisation
	ok := fmt.Sprintf("%s,%s=1,_1=2,a=3,b=4,c=5,d=6 %s=1 %d\nlinks v=1 %d\ncollectors v=1 %d\nm,1_x=1 v=1 %d\n",
		strings.Repeat("m", 256), strings.Repeat("k", 256), strings.Repeat("f", 256), t0, t0, t0, t0)
	if r := e.do(req{agent: "agent-noc", body: ok}); r.status != 204 {
		t.Fatalf("%d %s", r.status, r.msg)
	}
	if n := len(e.samples()); n != 4 {
		t.Fatalf("stored %d samples, want 4", n)
	}
	for _, reason := range []string{reasonNameLength, reasonLabels, reasonReserved} {
		if counterValue(t, e.h.m.rejectedRequests.WithLabelValues(reason)) == 0 {
			t.Errorf("refusals for %s not counted", reason)
		}
	}
}

// trickle is a request body that sends first at once, then one byte per
// tick until stop.
type trickle struct {
	first []byte
	tick  time.Duration
	stop  chan struct{}
	sent  int
}

func (b *trickle) Read(p []byte) (int, error) {
	if len(b.first) > 0 {
		n := copy(p, b.first)
		b.first = b.first[n:]
		b.sent += n
		return n, nil
	}
	select {
	case <-b.stop:
		return 0, io.EOF
	case <-time.After(b.tick):
	}
	p[0] = 'x'
	b.sent++
	return 1, nil
}

func (e *env) post(agent string, body io.Reader, header map[string]string) resp {
	e.t.Helper()
	hr, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/api/v2/write", body)
	hr.Header.Set("Authorization", "Token "+e.tokens[agent])
	for k, v := range header {
		hr.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(hr)
	if err != nil {
		return resp{status: -1, msg: err.Error()}
	}
	defer res.Body.Close()
	out := resp{status: res.StatusCode, header: res.Header}
	var j struct{ Code, Message string }
	b, _ := io.ReadAll(res.Body)
	json.Unmarshal(b, &j)
	out.code, out.msg = j.Code, j.Message
	return out
}

// TestAgentInflightLimit: one agent's requests beyond its limit get 429
// at once, while another agent's go through.
func TestAgentInflightLimit(t *testing.T) {
	gate := make(chan struct{})
	e := newEnv(t, func(o *Options) {
		o.MaxInflightPerAgent = 2
		o.Store = &gateStore{Store: o.Store.(*gateStore).Store, gate: gate}
	})
	body := fmt.Sprintf("m v=1 %d\n", ns(now))
	var wg sync.WaitGroup
	held := make(chan resp, 2)
	for range 2 {
		wg.Add(1)
		go func() { defer wg.Done(); held <- e.do(req{agent: "agent-noc", body: body}) }()
	}
	waitUntil(t, "two requests of agent-noc in flight", func() bool {
		e.h.agents.mu.Lock()
		defer e.h.agents.mu.Unlock()
		return e.h.agents.n["agent-noc"] == 2
	})
	r := e.do(req{agent: "agent-noc", body: body})
	if r.status != 429 || r.header.Get("Retry-After") != "1" || !strings.Contains(r.msg, "limits.max_inflight_requests_per_agent") {
		t.Fatalf("third request: %d retry-after=%q %q", r.status, r.header.Get("Retry-After"), r.msg)
	}
	other := make(chan resp, 1)
	go func() { other <- e.do(req{agent: "agent-other", body: body}) }()
	waitUntil(t, "agent-other in flight", func() bool {
		e.h.agents.mu.Lock()
		defer e.h.agents.mu.Unlock()
		return e.h.agents.n["agent-other"] == 1
	})
	close(gate)
	wg.Wait()
	for range 2 {
		if r := <-held; r.status != 204 {
			t.Errorf("held request: %d %s", r.status, r.msg)
		}
	}
	if r := <-other; r.status != 204 {
		t.Errorf("other agent: %d %s", r.status, r.msg)
	}
	if got := counterValue(t, e.h.m.rejectedRequests.WithLabelValues(reasonAgentBusy)); got != 1 {
		t.Errorf("agent_inflight refusals = %v, want 1", got)
	}
}

// TestSlowBodyGets408: a body slower than the minimum rate is cut with
// 408 and its agent's slot is free again; it held no global slot.
func TestSlowBodyGets408(t *testing.T) {
	e := newEnv(t, func(o *Options) {
		o.MaxInflightPerAgent, o.MaxInflight = 1, 1
		o.MinBodyRate, o.BodyReadGrace = 100, 200*time.Millisecond
	})
	stop := make(chan struct{})
	defer close(stop)
	slow := make(chan resp, 1)
	go func() {
		slow <- e.post("agent-noc", &trickle{first: []byte("m v=1 "), tick: 300 * time.Millisecond, stop: stop}, nil)
	}()
	waitUntil(t, "the slow body in flight", func() bool {
		e.h.agents.mu.Lock()
		defer e.h.agents.mu.Unlock()
		return e.h.agents.n["agent-noc"] == 1
	})
	// while it trickles, the only global slot is free for others
	if r := e.do(req{agent: "agent-other", body: fmt.Sprintf("m v=1 %d\n", ns(now))}); r.status != 204 {
		t.Fatalf("other agent during the trickle: %d %s", r.status, r.msg)
	}
	r := <-slow
	if r.status != 408 || !strings.Contains(r.msg, "limits.min_body_rate_bytes_per_second") {
		t.Fatalf("slow body: %d %q", r.status, r.msg)
	}
	if r := e.do(req{agent: "agent-noc", body: fmt.Sprintf("m v=2 %d\n", ns(now.Add(time.Second)))}); r.status != 204 {
		t.Fatalf("after the cut: %d %s", r.status, r.msg)
	}
	if got := counterValue(t, e.h.m.rejectedRequests.WithLabelValues(reasonSlowBody)); got != 1 {
		t.Errorf("slow_body refusals = %v, want 1", got)
	}
}

// TestMemoryBudget: bodies share the budget as their buffers grow; a body
// that does not fit gets 503 with Retry-After; a gzip bomb stops at the
// body limit; everything is given back.
func TestMemoryBudget(t *testing.T) {
	const limit = 256 << 10
	e := newEnv(t, func(o *Options) { o.MaxBodyBytes, o.MaxDecodedBytesInFlight = limit, limit+limit/2 })
	stop := make(chan struct{})
	var once sync.Once
	end := func() { once.Do(func() { close(stop) }) }
	defer end()
	held := make(chan resp, 1)
	go func() {
		first := []byte(strings.Repeat(fmt.Sprintf("m v=1 %d\n", ns(now)), 200<<10/29))
		held <- e.post("agent-noc", &trickle{first: first, tick: 50 * time.Millisecond, stop: stop}, nil)
	}()
	waitUntil(t, "the first body holding two thirds of the budget", func() bool { return e.h.bg.used.Load() >= limit })
	r := e.do(req{agent: "agent-other", body: strings.Repeat(fmt.Sprintf("m v=1 %d\n", ns(now)), 240<<10/29)})
	if r.status != 503 || r.header.Get("Retry-After") != "1" || !strings.Contains(r.msg, "limits.max_decoded_bytes_in_flight") {
		t.Fatalf("second body: %d retry-after=%q %q", r.status, r.header.Get("Retry-After"), r.msg)
	}
	end()
	if r := <-held; r.status != 204 && r.status != 400 { // 400 when it ends in "xxx…"
		t.Fatalf("first body: %d %s", r.status, r.msg)
	}
	var bomb bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&bomb, gzip.BestCompression)
	zw.Write(bytes.Repeat([]byte("m v=1 1\n"), 16<<20/8))
	zw.Close()
	r = e.do(req{agent: "agent-other", rawBody: bomb.Bytes(), header: map[string]string{"Content-Encoding": "gzip"}})
	if r.status != 413 {
		t.Fatalf("gzip bomb: %d %s", r.status, r.msg)
	}
	waitUntil(t, "the budget given back", func() bool { return e.h.bg.used.Load() == 0 })
	if got := counterValue(t, e.h.m.rejectedRequests.WithLabelValues(reasonMemory)); got != 1 {
		t.Errorf("memory_budget refusals = %v, want 1", got)
	}
}

// TestAuthFailuresLoggedAndLimited: 401s are logged once a minute per
// address with the token id, never the secret; past the limit the
// address gets 429.
func TestAuthFailuresLoggedAndLimited(t *testing.T) {
	var logs syncBuf
	e := newEnv(t, func(o *Options) {
		o.AuthFailuresPerMinute = 5
		o.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	forged := e.tokens["agent-noc"][:len(e.tokens["agent-noc"])-6] + "aaaaaa"
	secret := forged[len("pantau_")+17:]
	body := fmt.Sprintf("m v=1 %d\n", ns(now))
	for i := range 5 {
		if r := e.do(req{token: forged, body: body}); r.status != 401 {
			t.Fatalf("attempt %d: %d %s", i, r.status, r.msg)
		}
	}
	r := e.do(req{token: forged, body: body})
	if r.status != 429 || r.header.Get("Retry-After") == "" || !strings.Contains(r.msg, "limits.auth_failures_per_minute") {
		t.Fatalf("sixth attempt: %d retry-after=%q %q", r.status, r.header.Get("Retry-After"), r.msg)
	}
	// a 403 of a valid token is logged too (next minute's line) but not limited
	out := logs.String()
	if n := strings.Count(out, "write refused"); n != 1 {
		t.Errorf("%d log lines, want 1:\n%s", n, out)
	}
	id := tokenID(forged)
	if id == "" || !strings.Contains(out, "level=WARN") || !strings.Contains(out, "source=127.0.0.1") || !strings.Contains(out, "token_id="+id) {
		t.Errorf("log line lacks level, source or token id %q:\n%s", id, out)
	}
	if strings.Contains(out, secret) {
		t.Errorf("log leaks the secret:\n%s", out)
	}
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestAuthGuardWindowAndBound: the guard forgets a minute later and
// never holds more addresses than its size.
func TestAuthGuardWindowAndBound(t *testing.T) {
	g := newAuthGuard(2, 16)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 3 {
		logIt, _ := g.Refused("10.0.0.1", true, t0.Add(time.Duration(i)*time.Second))
		if logIt != (i == 0) {
			t.Errorf("failure %d logged %v", i, logIt)
		}
	}
	if w := g.Blocked("10.0.0.1", t0.Add(10*time.Second)); w != 50*time.Second {
		t.Errorf("blocked for %s, want 50s", w)
	}
	if w := g.Blocked("10.0.0.2", t0); w != 0 {
		t.Errorf("another address blocked for %s", w)
	}
	if w := g.Blocked("10.0.0.1", t0.Add(time.Minute)); w != 0 {
		t.Errorf("still blocked a minute later: %s", w)
	}
	logIt, suppressed := g.Refused("10.0.0.1", true, t0.Add(61*time.Second))
	if !logIt || suppressed != 3 { // two 401s and one 429 since the line
		t.Errorf("next minute: log %v, suppressed %d, want true 3", logIt, suppressed)
	}
	for i := range 10000 {
		g.Refused(fmt.Sprintf("10.1.%d.%d", i/256, i%256), true, t0.Add(2*time.Minute))
	}
	if n := g.Len(); n > 16 {
		t.Errorf("%d addresses remembered, bound 16", n)
	}
}

func TestSourceOfAndTokenID(t *testing.T) {
	for remote, want := range map[string]string{
		"127.0.0.1:5000": "127.0.0.1", "[::1]:80": "::/64", "[2001:db8:1:2:3:4:5:6]:9": "2001:db8:1:2::/64",
		"[::ffff:10.1.2.3]:7": "10.1.2.3", "garbage": "garbage",
	} {
		if got := sourceOf(&http.Request{RemoteAddr: remote}); got != want {
			t.Errorf("sourceOf(%q) = %q, want %q", remote, got, want)
		}
	}
	if id := tokenID("pantau_abcdefghijkl2345_" + strings.Repeat("a", 52)); id != "abcdefghijkl2345" {
		t.Errorf("tokenID = %q", id)
	}
	for _, tok := range []string{"", "pantau_", "secret-without-shape", "pantau_ABCDEFGHIJKL2345_" + strings.Repeat("a", 52), "pantau_abcdefghijkl2345_short"} {
		if id := tokenID(tok); id != "" {
			t.Errorf("tokenID(%q) = %q, want none", tok, id)
		}
	}
}

// TestDedupBoundedPerAgent: an agent sending unique ids without end keeps
// at most its bound; the newest are remembered, the evicted are handed
// to the state database, other agents keep theirs.
func TestDedupBoundedPerAgent(t *testing.T) {
	const bound = 64 << 10
	d := NewDedup(bound)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	d.Add(statedb.BatchKey{Agent: "good", Batch: "good/1"}, t0)
	var evicted int
	for i := range 263000 {
		d.Add(statedb.BatchKey{Agent: "flood", Batch: fmt.Sprintf("%0256d", i)}, t0.Add(time.Duration(i)*time.Millisecond))
		if i%1000 == 0 {
			evicted += len(d.TakeEvicted())
		}
	}
	evicted += len(d.TakeEvicted())
	n, b, total := d.stats()
	if b > bound+BatchIDCost("good/1") {
		t.Errorf("%d bytes remembered, bound %d per agent", b, bound)
	}
	if want := 263000 + 1 - n; evicted != want || total != uint64(want) {
		t.Errorf("evicted %d (counted %d), want %d", evicted, total, want)
	}
	if !d.Seen(statedb.BatchKey{Agent: "flood", Batch: fmt.Sprintf("%0256d", 262999)}) || d.Seen(statedb.BatchKey{Agent: "flood", Batch: fmt.Sprintf("%0256d", 0)}) {
		t.Error("not the newest ids kept")
	}
	if !d.Seen(statedb.BatchKey{Agent: "good", Batch: "good/1"}) {
		t.Error("another agent's id was evicted")
	}
	d.Prune(t0.Add(time.Hour))
	if d.Len() != 0 {
		t.Errorf("%d ids after pruning everything", d.Len())
	}
}

func TestBatchIDLength(t *testing.T) {
	e := newEnv(t, nil)
	body := fmt.Sprintf("m v=1 %d\n", ns(now))
	if r := e.do(req{agent: "agent-noc", body: body, batch: strings.Repeat("x", MaxBatchIDBytes)}); r.status != 204 {
		t.Fatalf("%d-byte id: %d %s", MaxBatchIDBytes, r.status, r.msg)
	}
	if r := e.do(req{agent: "agent-noc", body: body, batch: strings.Repeat("x", MaxBatchIDBytes+1)}); r.status != 400 {
		t.Fatalf("%d-byte id: %d %s", MaxBatchIDBytes+1, r.status, r.msg)
	}
}

// TestBudgetWaitsForMemory: a reservation that does not fit waits for a
// release, and gives up when its request ends.
func TestBudgetWaitsForMemory(t *testing.T) {
	b := &budget{}
	if !b.tryReserve(80, 0, 100) || b.tryReserve(30, 0, 100) || b.tryReserve(10, 15, 100) {
		t.Fatal("tryReserve does not follow the bound")
	}
	got := make(chan bool, 1)
	go func() { got <- b.reserve(context.Background(), 50, 0, 100, time.Hour) }()
	waitUntil(t, "a waiter", func() bool { b.mu.Lock(); defer b.mu.Unlock(); return b.waiters == 1 })
	b.release(80)
	if !<-got || b.used.Load() != 50 {
		t.Fatalf("after the release: used %d", b.used.Load())
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { got <- b.reserve(ctx, 60, 0, 100, time.Hour) }()
	waitUntil(t, "a waiter", func() bool { b.mu.Lock(); defer b.mu.Unlock(); return b.waiters == 1 })
	cancel()
	if <-got || b.used.Load() != 50 {
		t.Fatalf("a cancelled reservation took memory: used %d", b.used.Load())
	}
	if b.reserve(context.Background(), 101, 0, 100, time.Hour) || b.reserve(context.Background(), 90, 20, 100, time.Hour) {
		t.Fatal("a reservation over the whole budget succeeded")
	}
}

// TestRadioSignalMarks: an snmp_radio reading below the threshold of the
// radio link its device and interface carry marks that link's minute
// (BitSignalLow), once per low reading; a reading at or above it, one of
// another site's link, and one of a fibre link mark nothing. The series
// get the link's labels.
func TestRadioSignalMarks(t *testing.T) {
	const radioInv = `
sites:
  - {id: dinkes, name: Dinkes, kind: opd}
  - {id: bappeda, name: Bappeda, kind: opd}
links:
  - {id: ptp, site: dinkes, type: radio, icmp: {target: 10.20.0.1}, snmp: {device: ap, interface: wlan1}}
  - {id: ptp-b, site: bappeda, type: radio, icmp: {target: 10.30.0.1}, snmp: {device: ap-b, interface: wlan1}}
  - {id: fo, site: dinkes, icmp: {target: 10.20.0.2}, snmp: {device: rtr, interface: ether1}}
`
	inv, err := inventory.Parse("i.yml", []byte(radioInv))
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, func(o *Options) { o.SLA = sla.NewBuilder(inv, func() time.Time { return now }) })
	t0 := ns(now)
	body := fmt.Sprintf("snmp_radio,device=ap,ifname=wlan1,peer=4c:5e:0c:ab:cd:01 signal_dbm=-80 %d\n", t0) +
		fmt.Sprintf("snmp_radio,device=ap,ifname=wlan1,peer=4c:5e:0c:ab:cd:02 signal_dbm=-60 %d\n", t0) +
		fmt.Sprintf("snmp_radio,device=ap,ifname=wlan1 signal_dbm=-75,noise_dbm=-100 %d\n", t0) +
		fmt.Sprintf("snmp_radio,device=ap-b,ifname=wlan1 signal_dbm=-90 %d\n", t0) +
		fmt.Sprintf("snmp_radio,device=rtr,ifname=ether1 signal_dbm=-90 %d\n", t0)
	if r := e.do(req{agent: "agent-dinkes", body: body}); r.status != 204 {
		t.Fatalf("%d %s", r.status, r.msg)
	}
	if m := strings.Join(e.marks(), ","); m != "ptp" {
		t.Errorf("marks %q, want ptp once", m)
	}
	want := fmt.Sprintf(`{__name__="pantau_snmp_radio_signal_dbm", agent="agent-dinkes", device="ap", ifname="wlan1", link="ptp", opd="dinkes", peer="4c:5e:0c:ab:cd:01", site="dinkes"} -80 @%d`, t0/1e6)
	if got := strings.Join(e.samples(), "\n"); !strings.Contains(got, want) {
		t.Errorf("stored:\n%s\nwant among them:\n%s", got, want)
	}
}

// TestRadioWithoutIfname: airMAX, airFiber, LTU and Cambium readings
// carry no ifname (their MIBs number radios, not interfaces). Such a
// reading belongs to the one link whose snmp.device is its device, gets
// its labels and marks its minute; a device two links name is ambiguous
// and marks nothing (its readings need the link tag).
func TestRadioWithoutIfname(t *testing.T) {
	const radioInv = `
sites:
  - {id: dinkes, name: Dinkes, kind: opd}
links:
  - {id: ptp-ubnt, site: dinkes, type: radio, icmp: {target: 10.20.0.1}, snmp: {device: nanobeam, interface: ath0}}
  - {id: ptp-a, site: dinkes, type: radio, icmp: {target: 10.20.0.2}, snmp: {device: rocket, interface: ath0}}
  - {id: ptp-b, site: dinkes, type: radio, icmp: {target: 10.20.0.3}, snmp: {device: rocket, interface: ath1}}
`
	inv, err := inventory.Parse("i.yml", []byte(radioInv))
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, func(o *Options) { o.SLA = sla.NewBuilder(inv, func() time.Time { return now }) })
	t0 := ns(now)
	body := fmt.Sprintf("snmp_radio,device=nanobeam,peer=24:a4:3c:fa:d5:a0 signal_dbm=-81,ccq_ratio=0.9 %d\n", t0) +
		fmt.Sprintf("snmp_radio,device=rocket signal_dbm=-90 %d\n", t0) +
		fmt.Sprintf("snmp_radio,device=rocket,link=ptp-b signal_dbm=-88 %d\n", t0)
	if r := e.do(req{agent: "agent-dinkes", body: body}); r.status != 204 {
		t.Fatalf("%d %s", r.status, r.msg)
	}
	m := e.marks()
	slices.Sort(m)
	if got := strings.Join(m, ","); got != "ptp-b,ptp-ubnt" {
		t.Errorf("marks %q, want ptp-b (by its link tag) and ptp-ubnt (its only link)", got)
	}
	got := strings.Join(e.samples(), "\n")
	want := fmt.Sprintf(`{__name__="pantau_snmp_radio_signal_dbm", agent="agent-dinkes", device="nanobeam", link="ptp-ubnt", opd="dinkes", peer="24:a4:3c:fa:d5:a0", site="dinkes"} -81 @%d`, t0/1e6)
	if !strings.Contains(got, want) {
		t.Errorf("stored:\n%s\nwant among them:\n%s", got, want)
	}
	if strings.Contains(got, `device="rocket", link="ptp-a"`) {
		t.Errorf("the ambiguous device's reading got a link:\n%s", got)
	}
}

// TestUPSOnBatteryMarks: snmp_ups with on_battery=1 marks the UPS's site
// (KindPower); on_battery=0 marks nothing, and neither does a reading of
// another site's UPS from this agent (a compromised box cannot turn the
// ISP's outages at another site into power cuts).
func TestUPSOnBatteryMarks(t *testing.T) {
	const upsInv = `
sites:
  - {id: dinkes, name: Dinkes, kind: opd}
  - {id: bappeda, name: Bappeda, kind: opd}
devices:
  - {id: ups, site: dinkes}
  - {id: ups-b, site: bappeda}
`
	inv, err := inventory.Parse("i.yml", []byte(upsInv))
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, func(o *Options) { o.SLA = sla.NewBuilder(inv, func() time.Time { return now }) })
	t0 := ns(now)
	body := fmt.Sprintf("snmp_ups,device=ups on_battery=0i,battery_charge_ratio=1 %d\n", t0-60e9) +
		fmt.Sprintf("snmp_ups,device=ups on_battery=1i,battery_charge_ratio=0.9 %d\n", t0) +
		fmt.Sprintf("snmp_ups,device=ups-b on_battery=1i %d\n", t0)
	if r := e.do(req{agent: "agent-dinkes", body: body}); r.status != 204 {
		t.Fatalf("%d %s", r.status, r.msg)
	}
	g := e.h.o.Store.(*gateStore)
	g.mu.Lock()
	defer g.mu.Unlock()
	var got []sla.Mark
	for _, it := range g.items {
		for _, m := range it.(Committed).Marks {
			if m.Kind == sla.KindPower {
				got = append(got, m)
			}
		}
	}
	if len(got) != 1 || got[0].ID != "dinkes" || got[0].Minute != sla.MinuteOf(t0) {
		t.Errorf("power marks %+v, want dinkes in the minute of the on-battery reading", got)
	}
}
