package promapi

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gogo/protobuf/proto"
	"github.com/klauspost/compress/snappy"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/prompb"
	"github.com/prometheus/prometheus/tsdb"
	"golang.org/x/net/http/httpguts"
)

// fedNow is the clock of the federation tests: the last sample of
// scopeData is at t0+10m.
var fedNow = t0.Add(10*time.Minute + 30*time.Second)

// newFedServer serves scopeData (both scoping layers) plus
//
//	gone_metric{opd="dinkes"}  1 until t0+9m, then a staleness marker
//	old_metric{opd="dinkes"}   1 until t0+5m (older than the lookback at fedNow)
//
// with /federate's clock at fedNow and the given remote read limits.
func newFedServer(t testing.TB, lim ReadLimits) (*httptest.Server, *API) {
	t.Helper()
	db, err := tsdb.Open(t.TempDir(), slog.New(slog.DiscardHandler), nil, tsdb.DefaultOptions(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	app := db.Appender(context.Background())
	gone := labels.FromStrings("__name__", "gone_metric", "opd", "dinkes")
	old := labels.FromStrings("__name__", "old_metric", "opd", "dinkes")
	for i := 0; i <= 60; i++ {
		ts := t0.Add(time.Duration(i) * 10 * time.Second)
		for _, s := range scopeData() {
			if _, err := app.Append(0, s.l, ts.UnixMilli(), s.v(i)); err != nil {
				t.Fatal(err)
			}
		}
		switch {
		case i < 54:
			app.Append(0, gone, ts.UnixMilli(), 1)
		case i == 54:
			app.Append(0, gone, ts.UnixMilli(), math.Float64frombits(value.StaleNaN))
		}
		if i <= 30 {
			app.Append(0, old, ts.UnixMilli(), 1)
		}
	}
	if err := app.Commit(); err != nil {
		t.Fatal(err)
	}
	a, err := New(Options{Queryable: db, Scope: testScope, Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return fedNow }, Read: lim})
	if err != nil {
		t.Fatal(err)
	}
	return serveAPI(t, a), a
}

// serveAPI serves a's endpoints until the test ends.
func serveAPI(t testing.TB, a *API) *httptest.Server {
	mux := http.NewServeMux()
	a.Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// federate GETs /federate with the match[] selectors as scope, and
// parses the answer with Prometheus's text parser.
func federate(t *testing.T, srv *httptest.Server, scope string, accept string, match ...string) (int, map[string]*dto.MetricFamily, string) {
	t.Helper()
	form := url.Values{"match[]": match}
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/federate?"+form.Encode(), nil)
	if scope != "" {
		req.Header.Set(scopeHeader, scope)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		return res.StatusCode, nil, string(body)
	}
	if ct := res.Header.Get("Content-Type"); accept == "" && !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("Content-Type %q, want the text format 0.0.4", ct)
	}
	fams := map[string]*dto.MetricFamily{}
	dec := expfmt.NewDecoder(bytes.NewReader(body), expfmt.Format(res.Header.Get("Content-Type")))
	for {
		var mf dto.MetricFamily
		if err := dec.Decode(&mf); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("parse the answer: %v\n%s", err, body)
		}
		fams[mf.GetName()] = &mf
	}
	return res.StatusCode, fams, string(body)
}

// series lists a family's samples as "{labels} value @ms".
func series(mf *dto.MetricFamily) []string {
	var out []string
	for _, m := range mf.GetMetric() {
		var ls []string
		for _, l := range m.GetLabel() {
			ls = append(ls, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
		}
		v := m.GetUntyped().GetValue() + m.GetGauge().GetValue() + m.GetCounter().GetValue()
		out = append(out, fmt.Sprintf("{%s} %g @%d", strings.Join(ls, ","), v, m.GetTimestampMs()))
	}
	slices.Sort(out)
	return out
}

// TestFederate: /federate answers the latest sample of each matching
// series with its own timestamp in the text format, TYPE counter for a
// _total, instance="" where the series has none (honor_labels keeps it
// absent), and leaves out a series whose last sample is a staleness
// marker or older than 5 minutes; match[] is required.
func TestFederate(t *testing.T) {
	srv, _ := newFedServer(t, ReadLimits{})
	last := t0.Add(10 * time.Minute).UnixMilli()
	code, fams, body := federate(t, srv, "", "", `{__name__=~".+"}`)
	if code != 200 {
		t.Fatalf("federate: %d %s", code, body)
	}
	var names []string
	for n := range fams {
		names = append(names, n)
	}
	slices.Sort(names)
	if got := fmt.Sprint(names); got != "[dishub_only_metric noopd_only_metric pantau_if_rx_bytes_total up]" {
		t.Errorf("families %s, want neither gone_metric (stale) nor old_metric (older than 5m)\n%s", got, body)
	}
	if got, want := fmt.Sprint(series(fams["up"])), fmt.Sprintf(`[{instance="d1",opd="dinkes"} 1 @%d {instance="h1",opd="dishub"} 1 @%d {instance="k1",opd="kominfo"} 1 @%d {instance="x1"} 1 @%d]`, last, last, last, last); got != want {
		t.Errorf("up: %s, want %s", got, want)
	}
	if got, want := fmt.Sprint(series(fams["noopd_only_metric"])), fmt.Sprintf(`[{instance="",job="collector"} 3 @%d]`, last); got != want {
		t.Errorf("noopd_only_metric: %s, want %s", got, want)
	}
	if typ := fams["pantau_if_rx_bytes_total"].GetType(); typ != dto.MetricType_COUNTER {
		t.Errorf("pantau_if_rx_bytes_total is %s, want COUNTER", typ)
	}
	if typ := fams["up"].GetType(); typ != dto.MetricType_GAUGE {
		t.Errorf("up is %s, want GAUGE", typ)
	}
	if got, want := fmt.Sprint(series(fams["pantau_if_rx_bytes_total"])), fmt.Sprintf(`[{ifname="ether1",instance="",opd="dinkes"} 60000 @%d {ifname="ether1",instance="",opd="dishub"} 120000 @%d]`, last, last); got != want {
		t.Errorf("pantau_if_rx_bytes_total: %s, want %s", got, want)
	}

	// Two selectors: the union, each series once.
	_, fams, _ = federate(t, srv, "", "", `up{opd="dinkes"}`, `up{instance=~"d1|h1"}`)
	if got := len(series(fams["up"])); got != 2 || len(fams) != 1 {
		t.Errorf("two selectors: %d families, %d up series, want 1 and 2", len(fams), got)
	}
	// Protobuf when asked for.
	_, fams, _ = federate(t, srv, "", `application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited`, `up`)
	if got := len(series(fams["up"])); got != 4 {
		t.Errorf("protobuf: %d up series, want 4", got)
	}
	for _, bad := range [][]string{nil, {`{`}, {`up{`}} {
		if code, _, body := federate(t, srv, "", "", bad...); code != 400 {
			t.Errorf("match[]=%q: %d %s, want 400", bad, code, body)
		}
	}
}

// TestFederateScoped: a credential scoped to dinkes federates dinkes's
// series only, whatever it selects; one with no OPD gets nothing.
func TestFederateScoped(t *testing.T) {
	srv, _ := newFedServer(t, ReadLimits{})
	for _, c := range []struct {
		scope string
		match []string
		want  string
	}{
		{"dinkes", []string{`{__name__=~".+"}`}, `[pantau_if_rx_bytes_total{ifname="ether1",instance="",opd="dinkes"} up{instance="d1",opd="dinkes"}]`},
		{"dinkes", []string{`up{opd="dishub"}`, `dishub_only_metric`}, `[]`},
		{"dinkes,kominfo", []string{`up`}, `[up{instance="d1",opd="dinkes"} up{instance="k1",opd="kominfo"}]`},
		{"none", []string{`{__name__=~".+"}`}, `[]`},
	} {
		code, fams, body := federate(t, srv, c.scope, "", c.match...)
		if code != 200 {
			t.Fatalf("%s %q: %d %s", c.scope, c.match, code, body)
		}
		var got []string
		for n, mf := range fams {
			for _, s := range series(mf) {
				got = append(got, n+s[:strings.Index(s, "}")+1])
			}
		}
		slices.Sort(got)
		if fmt.Sprint(got) != c.want {
			t.Errorf("scope %s, match[]=%q: %s, want %s", c.scope, c.match, got, c.want)
		}
	}
}

// TestFederateMaxSeries: a /federate whose match[] selects more series
// than limits.federate_max_series gets 422 naming the limit and how to
// narrow match[], counted; at the limit it is answered; a scoped
// credential is counted on its own series only.
func TestFederateMaxSeries(t *testing.T) {
	srv, a := newFedServer(t, ReadLimits{})
	l := a.Limits()
	l.FederateMaxSeries = 4 // up has 4 series with a recent sample
	a.SetLimits(l)
	code, fams, body := federate(t, srv, "", "", `up`)
	if code != 200 || len(series(fams["up"])) != 4 {
		t.Fatalf("4 series at a limit of 4: %d %s", code, body)
	}
	code, _, body = federate(t, srv, "", "", `{__name__=~".+"}`)
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, "more than 4 series (limits.federate_max_series): narrow match[]") {
		t.Errorf("every series at a limit of 4: %d %q, want 422 naming limits.federate_max_series", code, body)
	}
	if got := testutil.ToFloat64(a.federateRefused.WithLabelValues(refusedSeries)); got != 1 {
		t.Errorf("pantau_collector_federate_refused_total{reason=\"series\"} = %g, want 1", got)
	}
	// dinkes has 2 series: within the limit whatever it selects.
	if code, _, body := federate(t, srv, "dinkes", "", `{__name__=~".+"}`); code != 200 {
		t.Errorf("scoped to dinkes: %d %s", code, body)
	}
}

// readRequest is a snappy-compressed ReadRequest of one query per
// matcher set, [start, end].
func readRequest(t testing.TB, start, end time.Time, types []prompb.ReadRequest_ResponseType, sets ...[]*prompb.LabelMatcher) []byte {
	t.Helper()
	req := &prompb.ReadRequest{AcceptedResponseTypes: types}
	for _, ms := range sets {
		req.Queries = append(req.Queries, &prompb.Query{StartTimestampMs: start.UnixMilli(), EndTimestampMs: end.UnixMilli(), Matchers: ms})
	}
	b, err := proto.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	return snappy.Encode(nil, b)
}

func eq(name, v string) *prompb.LabelMatcher {
	return &prompb.LabelMatcher{Type: prompb.LabelMatcher_EQ, Name: name, Value: v}
}

// remoteRead POSTs body to /api/v1/read and decodes the answer.
func remoteRead(t testing.TB, srv *httptest.Server, scope string, body []byte) (int, *prompb.ReadResponse, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/api/v1/read", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/x-protobuf")
	req.Header.Set("Content-Encoding", "snappy")
	if scope != "" {
		req.Header.Set(scopeHeader, scope)
	}
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		return res.StatusCode, nil, string(b)
	}
	if ct := res.Header.Get("Content-Type"); ct != "application/x-protobuf" {
		t.Errorf("Content-Type %q, want application/x-protobuf (the SAMPLES response)", ct)
	}
	raw, err := snappy.Decode(nil, b)
	if err != nil {
		t.Fatalf("answer not snappy: %v", err)
	}
	var resp prompb.ReadResponse
	if err := proto.Unmarshal(raw, &resp); err != nil {
		t.Fatalf("answer not a ReadResponse: %v", err)
	}
	return 200, &resp, ""
}

// summary lists a result's series as "{labels} n=<samples> last=<v>@<ms>".
func summary(r *prompb.QueryResult) []string {
	var out []string
	for _, ts := range r.Timeseries {
		l := ts.ToLabels(&labels.ScratchBuilder{}, nil)
		s := ts.Samples[len(ts.Samples)-1]
		out = append(out, fmt.Sprintf("%s n=%d last=%g@%d", l, len(ts.Samples), s.Value, s.Timestamp))
	}
	slices.Sort(out)
	return out
}

// TestRemoteRead: a SAMPLES read answers every raw sample in the range
// for each query; a scoped credential reads its OPDs' series only.
func TestRemoteRead(t *testing.T) {
	srv, _ := newFedServer(t, ReadLimits{})
	end := t0.Add(10 * time.Minute)
	both := []prompb.ReadRequest_ResponseType{prompb.ReadRequest_STREAMED_XOR_CHUNKS, prompb.ReadRequest_SAMPLES}
	body := readRequest(t, t0, end, both, []*prompb.LabelMatcher{eq("__name__", "up")},
		[]*prompb.LabelMatcher{eq("__name__", "pantau_if_rx_bytes_total"), {Type: prompb.LabelMatcher_RE, Name: "opd", Value: "dis.*"}})
	code, resp, msg := remoteRead(t, srv, "", body)
	if code != 200 {
		t.Fatalf("read: %d %s", code, msg)
	}
	if len(resp.Results) != 2 {
		t.Fatalf("%d results, want 2", len(resp.Results))
	}
	want := fmt.Sprintf(`[{__name__="up", instance="d1", opd="dinkes"} n=61 last=1@%[1]d {__name__="up", instance="h1", opd="dishub"} n=61 last=1@%[1]d {__name__="up", instance="k1", opd="kominfo"} n=61 last=1@%[1]d {__name__="up", instance="x1"} n=61 last=1@%[1]d]`, end.UnixMilli())
	if got := fmt.Sprint(summary(resp.Results[0])); got != want {
		t.Errorf("query 0: %s\nwant %s", got, want)
	}
	if got, want := fmt.Sprint(summary(resp.Results[1])), fmt.Sprintf(`[{__name__="pantau_if_rx_bytes_total", ifname="ether1", opd="dishub"} n=61 last=120000@%d]`, end.UnixMilli()); got != want {
		t.Errorf("query 1: %s\nwant %s", got, want)
	}
	// Part of the range: the samples in it only (both ends included).
	code, resp, _ = remoteRead(t, srv, "", readRequest(t, t0.Add(time.Minute), t0.Add(2*time.Minute), nil, []*prompb.LabelMatcher{eq("instance", "d1")}))
	if got, want := fmt.Sprint(summary(resp.Results[0])), fmt.Sprintf(`[{__name__="up", instance="d1", opd="dinkes"} n=7 last=1@%d]`, t0.Add(2*time.Minute).UnixMilli()); code != 200 || got != want {
		t.Errorf("part of the range: %d %s, want %s", code, got, want)
	}

	for _, c := range []struct {
		scope string
		want  string
	}{
		{"dinkes", `[{__name__="up", instance="d1", opd="dinkes"}]`},
		{"dinkes,kominfo", `[{__name__="up", instance="d1", opd="dinkes"} {__name__="up", instance="k1", opd="kominfo"}]`},
		{"none", `[]`},
	} {
		for _, ms := range [][]*prompb.LabelMatcher{{eq("__name__", "up")}, {eq("__name__", "up"), eq("opd", "dishub")}} {
			code, resp, msg := remoteRead(t, srv, c.scope, readRequest(t, t0, end, nil, ms))
			if code != 200 {
				t.Fatalf("scope %s: %d %s", c.scope, code, msg)
			}
			var got []string
			for _, ts := range resp.Results[0].Timeseries {
				got = append(got, ts.ToLabels(&labels.ScratchBuilder{}, nil).String())
			}
			slices.Sort(got)
			w := c.want
			if len(ms) == 2 {
				w = "[]" // another OPD named: nothing
			}
			if fmt.Sprint(got) != w {
				t.Errorf("scope %s, matchers %v: %s, want %s", c.scope, ms, got, w)
			}
		}
	}
}

// TestRemoteReadRefused: bad requests and requests over the limits get
// a 4xx naming the problem, and are counted by reason.
func TestRemoteReadRefused(t *testing.T) {
	srv, a := newFedServer(t, ReadLimits{MaxBodyBytes: 4096, MaxSamples: 200, MaxSeries: 4, MaxQueries: 3})
	end := t0.Add(10 * time.Minute)
	up := []*prompb.LabelMatcher{eq("__name__", "up")}
	big := make([]*prompb.LabelMatcher, 0, 400)
	for i := range 400 {
		big = append(big, eq(fmt.Sprintf("l%d", i), strings.Repeat("x", 20)))
	}
	for _, c := range []struct {
		name   string
		body   []byte
		status int
		reason string
		msg    string
	}{
		{"not snappy", []byte("\xff\xff\xff\xff\xff\xff"), 400, refusedBody, "not snappy block compressed"},
		{"not a ReadRequest", snappy.Encode(nil, []byte("\x0a\x05hello")), 400, refusedBody, "not a prometheus.ReadRequest"},
		{"too large", readRequest(t, t0, end, nil, big), 413, refusedBody, "limits.max_body_bytes"},
		{"bad regexp", readRequest(t, t0, end, nil, []*prompb.LabelMatcher{{Type: prompb.LabelMatcher_RE, Name: "a", Value: "("}}), 400, refusedBody, "query 0: matcher a"},
		{"start after end", readRequest(t, end, t0, nil, up), 400, refusedBody, "is after end"},
		{"no matcher", readRequest(t, t0, end, nil, nil), 400, refusedBody, "query 0: needs at least one matcher that does not match the empty string"},
		{"only empty matchers", readRequest(t, t0, end, nil, up, []*prompb.LabelMatcher{{Type: prompb.LabelMatcher_RE, Name: "opd", Value: ".*"}}), 400, refusedBody, "query 1: needs at least one matcher"},
		{"streamed only", readRequest(t, t0, end, []prompb.ReadRequest_ResponseType{prompb.ReadRequest_STREAMED_XOR_CHUNKS}, up), 400, refusedType, "SAMPLES response type only"},
		// 4 up series of 61 samples: 244 samples > 200.
		{"samples", readRequest(t, t0, end, nil, up), 413, refusedSamples, "more than 200 samples (limits.remote_read_max_samples)"},
		// 2 queries of 2 and 4 series (one sample each): 6 series > 4.
		{"series", readRequest(t, end, end, nil, []*prompb.LabelMatcher{eq("__name__", "pantau_if_rx_bytes_total")}, up), 413, refusedSeries, "more than 4 series (limits.remote_read_max_series)"},
		// 4 queries of one series each: within the series limit, over the queries one.
		{"queries", readRequest(t, end, end, nil, []*prompb.LabelMatcher{eq("instance", "d1")}, []*prompb.LabelMatcher{eq("instance", "d1")}, []*prompb.LabelMatcher{eq("instance", "d1")}, []*prompb.LabelMatcher{eq("instance", "d1")}), 413, refusedQueries, "holds 4 queries, more than 3 (limits.remote_read_max_queries)"},
	} {
		before := testutil.ToFloat64(a.readRefused.WithLabelValues(c.reason))
		code, _, msg := remoteRead(t, srv, "", c.body)
		if code != c.status || !strings.Contains(msg, c.msg) {
			t.Errorf("%s: %d %q, want %d with %q", c.name, code, msg, c.status, c.msg)
		}
		if d := testutil.ToFloat64(a.readRefused.WithLabelValues(c.reason)) - before; d != 1 {
			t.Errorf("%s: refused{reason=%q} grew by %g, want 1", c.name, c.reason, d)
		}
	}
	// Within the limits: 3 series of one sample each.
	if code, _, msg := remoteRead(t, srv, "", readRequest(t, end, end, nil, []*prompb.LabelMatcher{eq("__name__", "up"), {Type: prompb.LabelMatcher_NEQ, Name: "instance", Value: "x1"}})); code != 200 {
		t.Errorf("within the limits: %d %s", code, msg)
	}
	res, err := srv.Client().Get(srv.URL + "/api/v1/read")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 405 {
		t.Errorf("GET /api/v1/read: %d, want 405", res.StatusCode)
	}
}

// FuzzRemoteRead: whatever body reaches /api/v1/read, compressed or
// raw, the answer is 200 or a 4xx, never a 5xx or a panic, for a scoped
// and an unscoped credential.
func FuzzRemoteRead(f *testing.F) {
	end := t0.Add(10 * time.Minute)
	up := []*prompb.LabelMatcher{eq("__name__", "up")}
	for _, seed := range [][]byte{
		readRequest(f, t0, end, nil, up),
		readRequest(f, t0, end, []prompb.ReadRequest_ResponseType{prompb.ReadRequest_STREAMED_XOR_CHUNKS}, up),
		readRequest(f, end, t0, nil, []*prompb.LabelMatcher{{Type: prompb.LabelMatcher_RE, Name: "opd", Value: "("}}),
		readRequest(f, t0, end, nil, []*prompb.LabelMatcher{{Type: 9, Name: "", Value: ""}}),
		readRequest(f, t0, end, nil, nil),
		{}, []byte("\x00"), []byte("\xff\xff\xff\xff\x0f"),
	} {
		f.Add(seed, false, false)
		f.Add(seed, true, true)
	}
	srv, _ := newFedServer(f, ReadLimits{MaxBodyBytes: 1 << 16, MaxSamples: 10000, MaxSeries: 100})
	f.Fuzz(func(t *testing.T, body []byte, compress, scoped bool) {
		if compress {
			body = snappy.Encode(nil, body)
		}
		scope := ""
		if scoped {
			scope = "dinkes"
		}
		code, _, msg := remoteRead(t, srv, scope, body)
		if code != 200 && (code < 400 || code >= 500) {
			t.Fatalf("%d %s", code, msg)
		}
	})
}

// TestEmptyResultsAreLists: an empty answer is [] in every endpoint,
// never null (Prometheus's own shapes; Grafana and clients iterate it).
func TestEmptyResultsAreLists(t *testing.T) {
	srv, _ := newServer(t)
	start, end := itoa(t0.Unix()), itoa(t0.Add(10*time.Minute).Unix())
	for _, c := range []struct {
		path string
		form url.Values
		want string
	}{
		{"/api/v1/query_range", url.Values{"query": {"sum(no_such_metric)"}, "start": {start}, "end": {end}, "step": {"60"}}, `{"resultType":"matrix","result":[]}`},
		{"/api/v1/query_range", url.Values{"query": {"no_such_metric"}, "start": {start}, "end": {end}, "step": {"60"}}, `{"resultType":"matrix","result":[]}`},
		{"/api/v1/query", url.Values{"query": {"sum(no_such_metric)"}, "time": {end}}, `{"resultType":"vector","result":[]}`},
		{"/api/v1/query", url.Values{"query": {"no_such_metric"}, "time": {end}}, `{"resultType":"vector","result":[]}`},
		{"/api/v1/series", url.Values{"match[]": {"no_such_metric"}}, `[]`},
		{"/api/v1/labels", url.Values{"match[]": {"no_such_metric"}}, `[]`},
		{"/api/v1/label/site/values", url.Values{"match[]": {"no_such_metric"}}, `[]`},
		{"/api/v1/label/no_such_label/values", nil, `[]`},
		{"/api/v1/metadata", url.Values{"metric": {"no_such_metric"}}, `{}`},
	} {
		for _, m := range []string{http.MethodGet, http.MethodPost} {
			code, r := call(t, m, srv.URL+c.path, c.form)
			if code != 200 || string(r.Data) != c.want {
				t.Errorf("%s %s %v: %d %s, want %s", m, c.path, c.form, code, r.Data, c.want)
			}
		}
	}
}

// FuzzFederate drives /federate's parameters (match[], repeated) and
// Accept header with arbitrary strings, scoped and not: the answer is
// 200 or 400, never a 5xx or a panic, and a 200 parses as the format it
// names.
func FuzzFederate(f *testing.F) {
	for _, s := range []string{
		`match[]=up`, `match[]={__name__=~".+"}&match[]=up{opd="dishub"}`, `match[]=%7B`, `match[]=`, ``,
		`match[]={__name__=~".*"}`, `match[]=rate(up[5m])`, `match[]=up{a=~"("}`, `match[]={"utf8.name"}`,
	} {
		f.Add(s, "", false)
		f.Add(s, "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited", true)
	}
	srv, _ := newFedServer(f, ReadLimits{})
	f.Fuzz(func(t *testing.T, query, accept string, scoped bool) {
		u := srv.URL + "/federate?" + query
		if _, err := url.Parse(u); err != nil {
			return
		}
		req, err := http.NewRequest(http.MethodGet, u, nil)
		if err != nil {
			return
		}
		if !httpguts.ValidHeaderFieldValue(accept) {
			return // not a request a client can send
		}
		req.Header.Set("Accept", accept)
		if scoped {
			req.Header.Set(scopeHeader, "dinkes")
		}
		res, err := srv.Client().Do(req)
		if err != nil {
			t.Fatalf("%s: %v (the server died?)", u, err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		switch res.StatusCode {
		case 200:
			dec := expfmt.NewDecoder(bytes.NewReader(body), expfmt.Format(res.Header.Get("Content-Type")))
			for {
				var mf dto.MetricFamily
				if err := dec.Decode(&mf); err == io.EOF {
					break
				} else if err != nil {
					t.Fatalf("%s (Accept %q): the answer does not parse as %s: %v", u, accept, res.Header.Get("Content-Type"), err)
				}
				if scoped {
					for _, m := range mf.GetMetric() {
						for _, l := range m.GetLabel() {
							if l.GetName() == "opd" && l.GetValue() != "dinkes" {
								t.Fatalf("%s: scoped to dinkes, got %s", u, mf.String())
							}
						}
					}
				}
			}
		case 400:
		default:
			t.Fatalf("%s: %d %s", u, res.StatusCode, body)
		}
	})
}

// TestTargetsMetadata: /api/v1/targets/metadata (which answered [])
// gives every metric name with /api/v1/metadata's TYPE, HELP and unit
// for the one target {job="pantau"}, with Prometheus's match_target,
// metric and limit; a scoped credential sees its OPDs' names only.
func TestTargetsMetadata(t *testing.T) {
	_, p := newServer(t)
	ctx := context.Background()
	md, err := p.TargetsMetadata(ctx, `{job="pantau"}`, "pantau_snmp_if_receive_bytes_total", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(md) != 1 || md[0].Type != "counter" || md[0].Unit != "bytes" || md[0].Target["job"] != "pantau" {
		t.Errorf("targets metadata = %+v, want one counter of unit bytes for {job=\"pantau\"}", md)
	}
	for _, c := range []struct {
		target, metric, limit string
		want                  int
	}{{"", "", "", 2}, {`{job="other"}`, "", "", 0}, {`{job=~"pan.*"}`, "", "1", 1}, {"", "no_such_metric", "", 0}} {
		md, err := p.TargetsMetadata(ctx, c.target, c.metric, c.limit)
		if err != nil || len(md) != c.want {
			t.Errorf("match_target=%q metric=%q limit=%q: %d entries (%v), want %d", c.target, c.metric, c.limit, len(md), err, c.want)
		}
	}
	srv, _ := newFedServer(t, ReadLimits{})
	code, body := scopedCall(t, srv.Client(), http.MethodGet, srv.URL+"/api/v1/targets/metadata", "dinkes", nil)
	if code != 200 || strings.Contains(string(body), "dishub_only_metric") || strings.Contains(string(body), "noopd_only_metric") || !strings.Contains(string(body), `"metric":"pantau_if_rx_bytes_total","type":"counter"`) {
		t.Errorf("scoped to dinkes: %d %s", code, body)
	}
}
