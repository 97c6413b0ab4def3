package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/pantau-noc/pantau/collector/internal/statedb"
	pstore "github.com/pantau-noc/pantau/collector/internal/storage"
)

// now is the fixed clock of these tests.
var now = time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)

type env struct {
	t      testing.TB
	srv    *httptest.Server
	h      *Handler
	store  *pstore.Store
	db     *statedb.DB
	tokens map[string]string // agent -> token
}

type gateStore struct {
	*pstore.Store
	gate chan struct{} // when non-nil, Sync waits for it

	mu    sync.Mutex
	items []any // what Sync was given
}

func (g *gateStore) Sync(ctx context.Context, item any) error {
	g.mu.Lock()
	if item != nil {
		g.items = append(g.items, item)
	}
	g.mu.Unlock()
	if g.gate != nil {
		select {
		case <-g.gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return g.Store.Sync(ctx, item)
}

func newEnv(t testing.TB, mod func(*Options)) *env {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	log := slog.New(slog.DiscardHandler)
	db, err := statedb.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	st, err := pstore.Open(pstore.Options{Dir: dir + "/tsdb", Retention: 400 * 24 * time.Hour, OutOfOrderWindow: 7 * 24 * time.Hour, Fsync: true, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { st.Run(rctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done; st.Close() })
	auth, err := statedb.NewAuthenticator(ctx, db, log)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, store: st, db: db, tokens: map[string]string{}}
	for _, a := range []struct {
		agent string
		sites []string
	}{{"agent-dinkes", []string{"dinkes"}}, {"agent-noc", nil}, {"agent-other", nil}} {
		tok, _, err := db.CreateToken(ctx, a.agent, a.sites, "")
		if err != nil {
			t.Fatal(err)
		}
		e.tokens[a.agent] = tok
	}
	o := Options{
		Auth: auth, Store: &gateStore{Store: st}, Batches: NewDedup(0),
		MaxBodyBytes: 1 << 20, MaxSeriesPerAgent: 1000, MaxClockSkew: 10 * time.Minute,
		OutOfOrderWindow: 7 * 24 * time.Hour, MaxInflight: 8, Logger: log,
		Now: func() time.Time { return now },
	}
	if mod != nil {
		mod(&o)
	}
	e.h, err = New(o)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	e.h.Register(mux)
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	return e
}

type req struct {
	path    string // default /api/v2/write?precision=ns
	agent   string // token owner; "" = no token
	token   string // explicit token (overrides agent)
	body    string
	gzip    bool
	rawBody []byte // sent as is
	batch   string
	header  map[string]string
}

type resp struct {
	status int
	code   string
	msg    string
	header http.Header
}

func (e *env) do(r req) resp {
	e.t.Helper()
	path := r.path
	if path == "" {
		path = "/api/v2/write?precision=ns"
	}
	body := []byte(r.body)
	if r.gzip {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		zw.Write(body)
		zw.Close()
		body = b.Bytes()
	}
	if r.rawBody != nil {
		body = r.rawBody
	}
	hr, _ := http.NewRequest(http.MethodPost, e.srv.URL+path, bytes.NewReader(body))
	tok := r.token
	if tok == "" && r.agent != "" {
		tok = e.tokens[r.agent]
	}
	if tok != "" {
		hr.Header.Set("Authorization", "Token "+tok)
	}
	if r.gzip {
		hr.Header.Set("Content-Encoding", "gzip")
	}
	if r.batch != "" {
		hr.Header.Set("Pantau-Batch", r.batch)
	}
	for k, v := range r.header {
		hr.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(hr)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	out := resp{status: res.StatusCode, header: res.Header}
	if res.StatusCode != http.StatusNoContent {
		var j struct{ Code, Message string }
		b, _ := io.ReadAll(res.Body)
		if err := json.Unmarshal(b, &j); err != nil {
			e.t.Fatalf("status %d with non-JSON body %q", res.StatusCode, b)
		}
		out.code, out.msg = j.Code, j.Message
	}
	return out
}

// samples returns every stored sample as "series value @ms", sorted.
func (e *env) samples() []string { return e.samplesFor(e.t) }

func (e *env) samplesFor(t testing.TB) []string {
	t.Helper()
	q, err := e.store.DB().Querier(math.MinInt64, math.MaxInt64)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	ss := q.Select(context.Background(), false, nil, labels.MustNewMatcher(labels.MatchRegexp, "__name__", ".+"))
	var out []string
	for ss.Next() {
		it := ss.At().Iterator(nil)
		for it.Next() != 0 {
			ts, v := it.At()
			out = append(out, fmt.Sprintf("%s %g @%d", ss.At().Labels(), v, ts))
		}
	}
	if err := ss.Err(); err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

func ns(t time.Time) int64 { return t.UnixNano() }

func TestWriteStoresSeries(t *testing.T) {
	e := newEnv(t, nil)
	ts := ns(now.Add(-time.Minute))
	body := fmt.Sprintf("icmp,site=dinkes,target=10.20.0.1,name=gw loss_ratio=0.2,up=1i,packets_sent=5u %d\n"+
		"snmp_if,site=dinkes,device=rtr,ifindex=1,ifname=ether1,ifalias=WAN\\ Telkom receive_bytes_total=12345u,oper_status=1i %d\n", ts, ts)
	if r := e.do(req{agent: "agent-dinkes", body: body, gzip: true}); r.status != 204 {
		t.Fatalf("status %d: %s", r.status, r.msg)
	}
	ms := ts / 1e6
	want := []string{
		fmt.Sprintf(`{__name__="pantau_icmp_loss_ratio", agent="agent-dinkes", name="gw", site="dinkes", target="10.20.0.1"} 0.2 @%d`, ms),
		fmt.Sprintf(`{__name__="pantau_icmp_packets_sent", agent="agent-dinkes", name="gw", site="dinkes", target="10.20.0.1"} 5 @%d`, ms),
		fmt.Sprintf(`{__name__="pantau_icmp_up", agent="agent-dinkes", name="gw", site="dinkes", target="10.20.0.1"} 1 @%d`, ms),
		fmt.Sprintf(`{__name__="pantau_snmp_if_oper_status", agent="agent-dinkes", device="rtr", ifalias="WAN Telkom", ifindex="1", ifname="ether1", site="dinkes"} 1 @%d`, ms),
		fmt.Sprintf(`{__name__="pantau_snmp_if_receive_bytes_total", agent="agent-dinkes", device="rtr", ifalias="WAN Telkom", ifindex="1", ifname="ether1", site="dinkes"} 12345 @%d`, ms),
	}
	if got := e.samples(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("stored:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// The vendor profiles' points are stored as the other snmp_* measurements:
// pantau_<measurement>_<field>, the tags as labels.
func TestWriteStoresProfileSeries(t *testing.T) {
	e := newEnv(t, nil)
	ts := ns(now.Add(-time.Minute))
	body := fmt.Sprintf("snmp_radio,site=dinkes,device=ap,ifname=wlan1,peer=4c:5e:0c:ab:cd:01 signal_dbm=-62,ccq_ratio=0.87 %d\n"+
		"snmp_env,site=dinkes,device=ap,sensor=psu voltage_volts=15.4 %d\n"+
		"snmp_ups,site=dinkes,device=ups on_battery=1i,battery_charge_ratio=0.5 %d\n", ts, ts, ts)
	if r := e.do(req{agent: "agent-dinkes", body: body}); r.status != 204 {
		t.Fatalf("status %d: %s", r.status, r.msg)
	}
	ms := ts / 1e6
	want := []string{
		fmt.Sprintf(`{__name__="pantau_snmp_env_voltage_volts", agent="agent-dinkes", device="ap", sensor="psu", site="dinkes"} 15.4 @%d`, ms),
		fmt.Sprintf(`{__name__="pantau_snmp_radio_ccq_ratio", agent="agent-dinkes", device="ap", ifname="wlan1", peer="4c:5e:0c:ab:cd:01", site="dinkes"} 0.87 @%d`, ms),
		fmt.Sprintf(`{__name__="pantau_snmp_radio_signal_dbm", agent="agent-dinkes", device="ap", ifname="wlan1", peer="4c:5e:0c:ab:cd:01", site="dinkes"} -62 @%d`, ms),
		fmt.Sprintf(`{__name__="pantau_snmp_ups_battery_charge_ratio", agent="agent-dinkes", device="ups", site="dinkes"} 0.5 @%d`, ms),
		fmt.Sprintf(`{__name__="pantau_snmp_ups_on_battery", agent="agent-dinkes", device="ups", site="dinkes"} 1 @%d`, ms),
	}
	if got := e.samples(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("stored:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestHeartbeatFormerFieldNames: an agent older than the heartbeat's
// rename (queue_oldest_seconds, dropped_points_total) is still read: its
// fields are type-checked and stored under the current names, the names of
// the agent's /metrics, beside a current agent's heartbeat.
func TestHeartbeatFormerFieldNames(t *testing.T) {
	e := newEnv(t, nil)
	old, cur := ns(now.Add(-time.Minute)), ns(now)
	body := fmt.Sprintf("agent,site=dinkes,version=0.1.0 dropped_points_total=3u,queue_oldest_seconds=42 %d\n"+
		"agent,site=dinkes,version=0.2.0 queue_dropped_points_total=4u,queue_oldest_age_seconds=7 %d\n", old, cur)
	if r := e.do(req{agent: "agent-dinkes", body: body}); r.status != 204 {
		t.Fatalf("status %d: %s", r.status, r.msg)
	}
	want := []string{
		fmt.Sprintf(`{__name__="pantau_agent_queue_dropped_points_total", agent="agent-dinkes", site="dinkes", version="0.1.0"} 3 @%d`, old/1e6),
		fmt.Sprintf(`{__name__="pantau_agent_queue_dropped_points_total", agent="agent-dinkes", site="dinkes", version="0.2.0"} 4 @%d`, cur/1e6),
		fmt.Sprintf(`{__name__="pantau_agent_queue_oldest_age_seconds", agent="agent-dinkes", site="dinkes", version="0.1.0"} 42 @%d`, old/1e6),
		fmt.Sprintf(`{__name__="pantau_agent_queue_oldest_age_seconds", agent="agent-dinkes", site="dinkes", version="0.2.0"} 7 @%d`, cur/1e6),
	}
	if got := e.samples(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("stored:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// A former name is checked as the current one is (unsigned counter).
	r := e.do(req{agent: "agent-dinkes", body: fmt.Sprintf("agent,site=dinkes dropped_points_total=1.5 %d\n", cur)})
	if want := "field agent.dropped_points_total must be unsigned integer (schema v1), got float 1.5"; r.status != 400 || !strings.Contains(r.msg, want) {
		t.Fatalf("got %d %q, want 400 containing %q", r.status, r.msg, want)
	}
}

func TestSiteFromTokenAndAgentLabel(t *testing.T) {
	e := newEnv(t, nil)
	// No site tag: the token allows exactly one, so it is set; the agent
	// label comes from the token; an agent tag equal to the token's is fine.
	body := fmt.Sprintf("icmp,agent=agent-dinkes,target=t up=1i %d\n", ns(now))
	if r := e.do(req{agent: "agent-dinkes", body: body}); r.status != 204 {
		t.Fatalf("status %d: %s", r.status, r.msg)
	}
	got := e.samples()
	want := fmt.Sprintf(`{__name__="pantau_icmp_up", agent="agent-dinkes", site="dinkes", target="t"} 1 @%d`, ns(now)/1e6)
	if len(got) != 1 || got[0] != want {
		t.Fatalf("got %v, want %s", got, want)
	}
}

func TestPrecisions(t *testing.T) {
	e := newEnv(t, nil)
	base := now.Add(-2 * time.Hour).Truncate(time.Hour) // representable at every precision
	for i, c := range []struct {
		path string
		ts   int64
	}{
		{"/api/v2/write?precision=ns", base.UnixNano()},
		{"/api/v2/write?precision=us", base.UnixMicro()},
		{"/api/v2/write?precision=ms", base.UnixMilli()},
		{"/api/v2/write?precision=s", base.Unix()},
		{"/api/v2/write", base.UnixNano()},
		{"/write?precision=n&db=x", base.UnixNano()},
		{"/write?precision=u", base.UnixMicro()},
		{"/write?precision=m", base.Unix() / 60},
		{"/write?precision=h", base.Unix() / 3600},
	} {
		body := fmt.Sprintf("m,case=c%d v=%d %d", i, i, c.ts)
		if r := e.do(req{path: c.path, agent: "agent-noc", body: body}); r.status != 204 {
			t.Fatalf("%s: status %d: %s", c.path, r.status, r.msg)
		}
	}
	for _, s := range e.samples() {
		if !strings.HasSuffix(s, fmt.Sprintf("@%d", base.UnixMilli())) {
			t.Errorf("sample at wrong time: %s", s)
		}
	}
	if n := len(e.samples()); n != 9 {
		t.Errorf("stored %d samples, want 9", n)
	}
}

func TestInfluxV1Auth(t *testing.T) {
	e := newEnv(t, nil)
	body := fmt.Sprintf("m v=1 %d", ns(now))
	if r := e.do(req{path: "/write?u=x&p=" + url.QueryEscape(e.tokens["agent-noc"]), body: body}); r.status != 204 {
		t.Fatalf("p param: %d %s", r.status, r.msg)
	}
	hr, _ := http.NewRequest("POST", e.srv.URL+"/write", strings.NewReader(body))
	hr.SetBasicAuth("telegraf", e.tokens["agent-noc"])
	res, err := http.DefaultClient.Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 204 {
		t.Fatalf("basic auth: %d", res.StatusCode)
	}
	// v1 errors carry the "error" key InfluxDB 1 clients read.
	hr, _ = http.NewRequest("POST", e.srv.URL+"/write", strings.NewReader(body))
	res, err = http.DefaultClient.Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	var j map[string]string
	json.NewDecoder(res.Body).Decode(&j)
	res.Body.Close()
	if res.StatusCode != 401 || !strings.HasPrefix(j["error"], "missing token") {
		t.Fatalf("v1 without token: %d %v", res.StatusCode, j)
	}
}

// TestBadInput sends each kind of bad request after a good write and checks
// the status, the message, and that the store holds only the good write.
func TestBadInput(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.MaxBodyBytes = 4096 })
	good := fmt.Sprintf("icmp,site=dinkes,target=t up=1i %d\n", ns(now.Add(-time.Minute)))
	if r := e.do(req{agent: "agent-dinkes", body: good}); r.status != 204 {
		t.Fatalf("good write: %d %s", r.status, r.msg)
	}
	before := e.samples()
	t0 := ns(now)
	ok := fmt.Sprintf("icmp,site=dinkes,target=u up=1i %d\n", t0) // valid line stored with nothing else
	e.db.RevokeAgent(context.Background(), "agent-other")
	revoked := e.tokens["agent-other"]
	// agent-other never wrote, so its token is looked up afresh and found revoked.

	var bomb bytes.Buffer
	zw := gzip.NewWriter(&bomb)
	zw.Write(bytes.Repeat([]byte("m v=1 1\n"), 100000)) // 800 kB from ~2 kB
	zw.Close()

	cases := []struct {
		name   string
		r      req
		status int
		code   string
		msg    string // substring
	}{
		{"malformed line", req{agent: "agent-dinkes", body: ok + "icmp,site=dinkes up=\n"}, 400, "invalid", `line 2 col 21: field value has unrecognized type (in "icmp,site=dinkes up=")`},
		{"malformed names offending line", req{agent: "agent-dinkes", body: ok + ok + "icmp,site=dinkes up=1i 12x\n"}, 400, "invalid", `line 3 col 24: invalid timestamp ("12x") (in "icmp,site=dinkes up=1i 12x")`},
		{"wrong type int field", req{agent: "agent-dinkes", body: ok + fmt.Sprintf("icmp,site=dinkes,target=t up=1.5 %d\n", t0)}, 400, "invalid", "line 2 col 27: field icmp.up must be integer (schema v1), got float 1.5"},
		{"ratio out of range", req{agent: "agent-dinkes", body: fmt.Sprintf("icmp,site=dinkes,target=t loss_ratio=2 %d\n", t0)}, 400, "invalid", "field icmp.loss_ratio must be ratio (float 0..1)"},
		{"negative counter", req{agent: "agent-dinkes", body: fmt.Sprintf("snmp_if,site=dinkes receive_bytes_total=-5i %d\n", t0)}, 400, "invalid", "must be unsigned integer"},
		{"ups on_battery is an integer", req{agent: "agent-dinkes", body: fmt.Sprintf("snmp_ups,site=dinkes,device=ups on_battery=1.5 %d\n", t0)}, 400, "invalid", "field snmp_ups.on_battery must be integer (schema v1), got float 1.5"},
		{"radio ccq out of range", req{agent: "agent-dinkes", body: fmt.Sprintf("snmp_radio,site=dinkes,device=ap,ifname=wlan1 ccq_ratio=87 %d\n", t0)}, 400, "invalid", "field snmp_radio.ccq_ratio must be ratio (float 0..1)"},
		{"unknown precision", req{path: "/api/v2/write?precision=sec", agent: "agent-dinkes", body: ok}, 400, "invalid", `unknown precision "sec"`},
		{"far future", req{agent: "agent-dinkes", body: ok + fmt.Sprintf("icmp,site=dinkes up=1i %d\n", ns(now.Add(2*time.Hour)))}, 400, "invalid", "line 2 col 24: timestamp 2026-11-24T12:00:00Z is 2h0m0s in the future"},
		{"beyond out-of-order window", req{agent: "agent-dinkes", body: ok + fmt.Sprintf("icmp,site=dinkes up=1i %d\n", ns(now.Add(-8*24*time.Hour)))}, 400, "invalid", "older than the out-of-order window"},
		{"wrong precision makes seconds ancient", req{agent: "agent-dinkes", body: fmt.Sprintf("icmp,site=dinkes up=1i %d\n", now.Unix())}, 400, "invalid", "check the precision parameter (ns)"},
		{"not gzip", req{agent: "agent-dinkes", rawBody: []byte(ok), header: map[string]string{"Content-Encoding": "gzip"}}, 400, "invalid", "body is not valid gzip"},
		{"truncated gzip", req{agent: "agent-dinkes", rawBody: gz(ok + ok + ok)[:20], header: map[string]string{"Content-Encoding": "gzip"}}, 400, "invalid", "not valid gzip or was cut short"},
		{"unsupported encoding", req{agent: "agent-dinkes", body: ok, header: map[string]string{"Content-Encoding": "br"}}, 415, "invalid", `unsupported Content-Encoding "br"`},
		{"oversize body", req{agent: "agent-dinkes", body: strings.Repeat(ok, 200)}, 413, "request too large", "body larger than 4096 bytes"},
		{"oversize after gunzip", req{agent: "agent-dinkes", rawBody: bomb.Bytes(), header: map[string]string{"Content-Encoding": "gzip"}}, 413, "request too large", "limits.max_body_bytes"},
		{"no token", req{body: ok}, 401, "unauthorized", "missing token"},
		{"unknown token", req{token: "pantau_aaaaaaaaaaaaaaaa_" + strings.Repeat("b", 52), body: ok}, 401, "unauthorized", "unknown token"},
		{"forged secret", req{token: e.tokens["agent-noc"][:len(e.tokens["agent-noc"])-4] + "aaaa", body: ok}, 401, "unauthorized", "unknown token"},
		{"revoked token", req{token: revoked, body: ok}, 401, "unauthorized", "token has been revoked"},
		{"claims another agent", req{agent: "agent-dinkes", body: ok + fmt.Sprintf("icmp,agent=agent-noc,site=dinkes up=1i %d\n", t0)}, 403, "forbidden", `line 2 col 12: tag agent="agent-noc" claims another agent: this token belongs to agent "agent-dinkes"`},
		{"site outside token scope", req{agent: "agent-dinkes", body: fmt.Sprintf("icmp,site=bappeda up=1i %d\n", t0)}, 403, "forbidden", `tag site="bappeda" is not allowed for agent "agent-dinkes"`},
		{"reserved label", req{agent: "agent-noc", body: fmt.Sprintf("icmp,__name__=x up=1i %d\n", t0)}, 400, "invalid", "tag key \"__name__\" is reserved"},
		{"colliding labels", req{agent: "agent-noc", body: fmt.Sprintf("icmp,a.b=1,a-b=2 up=1i %d\n", t0)}, 400, "invalid", `tags map to the same label "a_b"`},
		{"oversize batch id", req{agent: "agent-noc", body: ok, batch: strings.Repeat("x", 300)}, 400, "invalid", "Pantau-Batch header longer than 256 bytes"},
		{"forged link state", req{agent: "agent-noc", body: ok + fmt.Sprintf("link,link=dinkes-wan state=1 %d\n", t0)}, 400, "invalid", `line 2 col 1: measurement "link" is reserved: the collector stores its own pantau_link_* series`},
		{"forged collector series", req{agent: "agent-noc", body: fmt.Sprintf("collector_ingest points_total=1 %d\n", t0)}, 400, "invalid", `measurement "collector_ingest" is reserved`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.do(c.r)
			if r.status != c.status || r.code != c.code || !strings.Contains(r.msg, c.msg) {
				t.Errorf("got %d %q %q\nwant %d %q containing %q", r.status, r.code, r.msg, c.status, c.code, c.msg)
			}
			if strings.Contains(r.msg, "pantau_") && strings.Contains(r.msg, e.tokens["agent-noc"][20:]) {
				t.Errorf("message leaks a token: %s", r.msg)
			}
		})
	}
	if got := e.samples(); strings.Join(got, "\n") != strings.Join(before, "\n") {
		t.Fatalf("bad requests changed the store:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(before, "\n"))
	}
}

// TestStringFieldsDroppedByDefault: Telegraf's SNMP table carries
// ifPhysAddress (a string); by default it is dropped and counted for the
// writing agent, and the rest of the batch (here ping data) is stored.
func TestStringFieldsDroppedByDefault(t *testing.T) {
	e := newEnv(t, nil)
	body := fmt.Sprintf("interface,agent_host=10.0.0.1,ifName=ether1 ifPhysAddress=\"00:11:22:33:44:55\",ifMtu=1500i %d\n"+
		"m s=\"x\",t=\"y\",v=2 %d\n", ns(now), ns(now))
	if r := e.do(req{agent: "agent-noc", body: body}); r.status != 204 {
		t.Fatalf("%d %s", r.status, r.msg)
	}
	got := strings.Join(e.samples(), "\n")
	for _, want := range []string{`pantau_interface_ifMtu`, `pantau_m_v`} {
		if !strings.Contains(got, want) {
			t.Errorf("%s not stored:\n%s", want, got)
		}
	}
	if strings.Contains(got, "ifPhysAddress") {
		t.Errorf("string field stored:\n%s", got)
	}
	if v := counterValue(t, e.h.m.stringFields.WithLabelValues("agent-noc")); v != 3 {
		t.Errorf("string fields dropped for agent-noc = %v, want 3", v)
	}
	if v := counterValue(t, e.h.m.stringFields.WithLabelValues("agent-other")); v != 0 {
		t.Errorf("string fields dropped for agent-other = %v, want 0", v)
	}
}

// TestStringFieldsReject: ingest.string_fields: reject keeps the strict
// 400 for the whole batch, naming the field and its position.
func TestStringFieldsReject(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.RejectStringFields = true })
	body := fmt.Sprintf("m v=1 %d\nm s=\"x\",v=2 %d\n", ns(now), ns(now))
	r := e.do(req{agent: "agent-noc", body: body})
	if r.status != 400 || !strings.Contains(r.msg, "line 2") || !strings.Contains(r.msg, "field s is a string") {
		t.Fatalf("got %d %q, want 400 naming line 2 and field s", r.status, r.msg)
	}
	if got := e.samples(); len(got) != 0 {
		t.Fatalf("stored %v", got)
	}
}

func TestBatchDedup(t *testing.T) {
	e := newEnv(t, nil)
	body := fmt.Sprintf("m v=1 %d\n", ns(now))
	for i := 0; i < 3; i++ {
		if r := e.do(req{agent: "agent-noc", body: body, batch: "agent-noc/7"}); r.status != 204 {
			t.Fatalf("attempt %d: %d %s", i, r.status, r.msg)
		}
	}
	// Same batch id from another agent is a different batch.
	if r := e.do(req{agent: "agent-other", body: body, batch: "agent-noc/7"}); r.status != 204 {
		t.Fatal(r.msg)
	}
	if got := counterValue(t, e.h.m.batches.WithLabelValues("duplicate")); got != 2 {
		t.Errorf("duplicate batches = %v, want 2", got)
	}
	if got := counterValue(t, e.h.m.batches.WithLabelValues("stored")); got != 2 {
		t.Errorf("stored batches = %v, want 2", got)
	}
	if n := len(e.samples()); n != 2 {
		t.Errorf("samples = %d, want 2", n)
	}
}

func TestSeriesLimitPerAgent(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.MaxSeriesPerAgent = 3 })
	var b strings.Builder
	for i := 0; i < 5; i++ {
		fmt.Fprintf(&b, "m,i=%d v=%d %d\n", i, i, ns(now))
	}
	r := e.do(req{agent: "agent-noc", body: b.String()})
	if r.status != 422 || !strings.Contains(r.msg, `partial write: line 4 col 11: new series {__name__="pantau_m_v", agent="agent-noc", i="3"} dropped: agent "agent-noc" is at limits.max_series_per_agent (3)`) {
		t.Fatalf("got %d %q", r.status, r.msg)
	}
	// Known series keep flowing; another agent is unaffected.
	if r := e.do(req{agent: "agent-noc", body: fmt.Sprintf("m,i=0 v=9 %d\n", ns(now.Add(time.Second)))}); r.status != 204 {
		t.Fatalf("existing series refused: %d %s", r.status, r.msg)
	}
	three := strings.Join(strings.SplitAfter(b.String(), "\n")[:3], "")
	if r := e.do(req{agent: "agent-other", body: three}); r.status != 204 {
		t.Fatalf("other agent refused: %d %s", r.status, r.msg)
	}
	if n := len(e.samples()); n != 3+1+3 {
		t.Fatalf("samples = %d, want 7", n)
	}
	if got := counterValue(t, e.h.m.rejectedSample.WithLabelValues(reasonSeriesLimit)); got != 2 {
		t.Errorf("series_limit rejections = %v, want 2", got)
	}
	// Idle series stop counting.
	e.h.o.Now = func() time.Time { return now.Add(3 * time.Hour) }
	if n := e.h.PruneSeries(2 * time.Hour); n != 6 {
		t.Errorf("pruned %d series, want 6", n)
	}
}

func TestOverloadAnswers503(t *testing.T) {
	gate := make(chan struct{})
	e := newEnv(t, func(o *Options) {
		o.MaxInflight = 1
		o.Store = &gateStore{Store: o.Store.(*gateStore).Store, gate: gate}
	})
	body := fmt.Sprintf("m v=1 %d\n", ns(now))
	var wg sync.WaitGroup
	wg.Add(1)
	first := make(chan resp, 1)
	go func() { defer wg.Done(); first <- e.do(req{agent: "agent-noc", body: body}) }()
	// Wait until the first request holds the only slot.
	deadline := time.Now().Add(10 * time.Second)
	for e.h.inflight.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("first request never started")
		}
		time.Sleep(time.Millisecond)
	}
	r := e.do(req{agent: "agent-noc", body: body})
	if r.status != 503 || r.header.Get("Retry-After") != "1" || !strings.Contains(r.msg, "limits.max_inflight_requests") {
		t.Fatalf("got %d retry-after=%q %q", r.status, r.header.Get("Retry-After"), r.msg)
	}
	close(gate)
	wg.Wait()
	if r := <-first; r.status != 204 {
		t.Fatalf("first request: %d %s", r.status, r.msg)
	}
}

func TestOutOfOrderAndDuplicates(t *testing.T) {
	e := newEnv(t, nil)
	// Newest first, then an hour-old backlog, then the same again.
	w := func(ts time.Time, v int) {
		t.Helper()
		if r := e.do(req{agent: "agent-noc", body: fmt.Sprintf("m v=%d %d\n", v, ns(ts))}); r.status != 204 {
			t.Fatalf("%d %s", r.status, r.msg)
		}
	}
	w(now, 1)
	w(now.Add(-time.Hour), 2)
	w(now.Add(-time.Hour), 2)
	w(now.Add(-time.Hour), 3) // out of order, different value for a stored time: the TSDB drops it at commit
	if n := len(e.samples()); n != 2 {
		t.Fatalf("samples = %d: %v", n, e.samples())
	}
}

// A sample with a different value for a millisecond already stored is
// not stored (the first write wins), and the writer is told, with the
// line, by a partial write, while the rest of the body is stored.
func TestDuplicateMillisecondIsPartialWrite(t *testing.T) {
	e := newEnv(t, nil)
	if r := e.do(req{agent: "agent-noc", body: fmt.Sprintf("m v=1 %d\n", ns(now))}); r.status != 204 {
		t.Fatalf("%d %s", r.status, r.msg)
	}
	body := fmt.Sprintf("n v=7 %d\nm v=4 %d\nm v=1 %d\nn,x=y v=8 %d\n", ns(now), ns(now.Add(time.Millisecond/2)), ns(now), ns(now))
	r := e.do(req{agent: "agent-noc", body: body, batch: "agent-noc/1"})
	want := `partial write: line 2 col 7: sample of {__name__="pantau_m_v", agent="agent-noc"} at 2026-11-24T10:00:00.000Z dropped: a different value is already stored for this series at this millisecond (the first write wins)`
	if r.status != 422 || r.code != "unprocessable entity" || !strings.Contains(r.msg, want) {
		t.Fatalf("got %d %q %q\nwant 422 containing %q", r.status, r.code, r.msg, want)
	}
	got := strings.Join(e.samples(), "\n")
	for _, s := range []string{`pantau_n_v", agent="agent-noc"} 7`, `pantau_n_v", agent="agent-noc", x="y"} 8`, `pantau_m_v", agent="agent-noc"} 1`} {
		if !strings.Contains(got, s) {
			t.Errorf("stored:\n%s\nmissing %s", got, s)
		}
	}
	if n := len(e.samples()); n != 3 {
		t.Errorf("samples = %d, want 3:\n%s", n, got)
	}
	if got := counterValue(t, e.h.m.rejectedSample.WithLabelValues(reasonDuplicate)); got != 1 {
		t.Errorf("duplicate_value = %v, want 1", got)
	}
	// The batch was stored: its re-send is a duplicate batch, 204.
	if r := e.do(req{agent: "agent-noc", body: body, batch: "agent-noc/1"}); r.status != 204 {
		t.Errorf("re-sent batch: %d %s", r.status, r.msg)
	}
}

func gz(s string) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte(s))
	zw.Close()
	return b.Bytes()
}

func counterValue(t *testing.T, c prometheus.Collector) float64 {
	t.Helper()
	return testutil.ToFloat64(c)
}
