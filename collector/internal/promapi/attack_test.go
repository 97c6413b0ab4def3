package promapi

import (
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/klauspost/compress/snappy"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb"
)

// TestScopedCannotEscapeByMatchers: a credential scoped to dinkes that
// tries to reach other OPDs' series, or the series without opd, through
// its matchers (opd=~".*", opd="", opd!="dinkes", a __name__ regexp,
// label-name tricks) gets dinkes's series or none, by /federate and by
// remote read alike, with each scoping layer alone.
func TestScopedCannotEscapeByMatchers(t *testing.T) {
	srv, a := newFedServer(t, ReadLimits{})
	end := t0.Add(10 * time.Minute)
	re := func(n, v string) *prompb.LabelMatcher {
		return &prompb.LabelMatcher{Type: prompb.LabelMatcher_RE, Name: n, Value: v}
	}
	nre := func(n, v string) *prompb.LabelMatcher {
		return &prompb.LabelMatcher{Type: prompb.LabelMatcher_NRE, Name: n, Value: v}
	}
	neq := func(n, v string) *prompb.LabelMatcher {
		return &prompb.LabelMatcher{Type: prompb.LabelMatcher_NEQ, Name: n, Value: v}
	}
	attacks := []struct {
		selector string
		read     []*prompb.LabelMatcher
	}{
		{`{__name__=~".+",opd=~".*"}`, []*prompb.LabelMatcher{re("__name__", ".+"), re("opd", ".*")}},
		{`{__name__=~".+",opd=""}`, []*prompb.LabelMatcher{re("__name__", ".+"), eq("opd", "")}},
		{`{__name__=~".+",opd!="dinkes"}`, []*prompb.LabelMatcher{re("__name__", ".+"), neq("opd", "dinkes")}},
		{`{__name__=~".+",opd!~"dinkes"}`, []*prompb.LabelMatcher{re("__name__", ".+"), nre("opd", "dinkes")}},
		{`{__name__=~"dishub_only_metric|noopd_only_metric|up"}`, []*prompb.LabelMatcher{re("__name__", "dishub_only_metric|noopd_only_metric|up")}},
		{`{__name__=~".+",opd=~"dinkes|dishub|kominfo|"}`, []*prompb.LabelMatcher{re("__name__", ".+"), re("opd", "dinkes|dishub|kominfo|")}},
		{`{__name__=~".+",opd=~"(?i)DISHUB"}`, []*prompb.LabelMatcher{re("__name__", ".+"), re("opd", "(?i)DISHUB")}},
		{`{job="collector"}`, []*prompb.LabelMatcher{eq("job", "collector")}},
		{`{secret_label="s"}`, []*prompb.LabelMatcher{eq("secret_label", "s")}},
		{`{__name__=~".+",opd=~"dinkes",opd=~".*"}`, []*prompb.LabelMatcher{re("__name__", ".+"), eq("opd", "dinkes"), re("opd", ".*")}},
	}
	check := func(t *testing.T, how, sel string, lss []string) {
		for _, ls := range lss {
			if !strings.Contains(ls, `opd="dinkes"`) {
				t.Errorf("%s %s: scoped to dinkes, got %s", how, sel, ls)
			}
		}
	}
	for _, layers := range []int{layerEnforcer, layerStorage, layersAll} {
		a.layers = layers
		t.Run(fmt.Sprint("layers=", layers), func(t *testing.T) {
			for _, c := range attacks {
				code, fams, body := federate(t, srv, "dinkes", "", c.selector)
				if code != 200 {
					t.Errorf("federate %s: %d %s", c.selector, code, body)
				}
				var got []string
				for n, mf := range fams {
					for _, s := range series(mf) {
						got = append(got, n+s)
					}
				}
				check(t, "federate", c.selector, got)

				code, resp, msg := remoteRead(t, srv, "dinkes", readRequest(t, t0, end, nil, c.read))
				if code != 200 {
					if code == 400 && strings.Contains(msg, "does not match the empty string") {
						continue
					}
					t.Errorf("remote read %s: %d %s", c.selector, code, msg)
					continue
				}
				got = nil
				for _, ts := range resp.Results[0].Timeseries {
					got = append(got, ts.ToLabels(&labels.ScratchBuilder{}, nil).String())
				}
				check(t, "remote read", c.selector, got)
			}
		})
	}
}

// TestRemoteReadHostileBodies: a snappy header claiming 3 GiB, a
// truncated block, protobuf garbage, a regexp bomb and a regexp larger
// than Go's compiler takes get a 4xx at once, counted, and allocate
// nothing near what they claim.
func TestRemoteReadHostileBodies(t *testing.T) {
	srv, a := newFedServer(t, ReadLimits{MaxBodyBytes: 1 << 20})
	end := t0.Add(10 * time.Minute)
	huge := binary.AppendUvarint(nil, 3<<30) // decoded length 3 GiB
	huge = append(huge, 0x00, 'x')
	truncated := snappy.Encode(nil, []byte(strings.Repeat("ab", 1000)))
	truncated = truncated[:len(truncated)/2]
	bomb := strings.Repeat("(a*)*", 200) + "$"
	big := "(" + strings.Repeat("x{1000}", 1) + "){1000}"
	for _, c := range []struct {
		name   string
		body   []byte
		status int
		msg    string
	}{
		{"3 GiB snappy header", huge, http.StatusRequestEntityTooLarge, "limits.max_body_bytes"},
		{"truncated snappy", truncated, http.StatusBadRequest, "not snappy block compressed"},
		{"protobuf garbage", snappy.Encode(nil, []byte{0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f}), http.StatusBadRequest, "not a prometheus.ReadRequest"},
		{"wrong field types", snappy.Encode(nil, []byte{0x0d, 1, 2, 3, 4}), http.StatusBadRequest, "not a prometheus.ReadRequest"},
		{"repeat too large", readRequest(t, t0, end, nil, []*prompb.LabelMatcher{{Type: prompb.LabelMatcher_RE, Name: "instance", Value: big}}), http.StatusBadRequest, "query 0: matcher instance"},
		{"bad matcher type", readRequest(t, t0, end, nil, []*prompb.LabelMatcher{{Type: 9, Name: "instance", Value: "x"}}), http.StatusBadRequest, "invalid matcher type 9"},
	} {
		before := testutil.ToFloat64(a.readRefused.WithLabelValues(refusedBody))
		code, _, msg := remoteRead(t, srv, "", c.body)
		if code != c.status || !strings.Contains(msg, c.msg) {
			t.Errorf("%s: %d %q, want %d with %q", c.name, code, msg, c.status, c.msg)
		}
		if d := testutil.ToFloat64(a.readRefused.WithLabelValues(refusedBody)) - before; d != 1 {
			t.Errorf("%s: refused{reason=body} grew by %g, want 1", c.name, d)
		}
	}
	// A regexp bomb for a backtracking engine is linear in Go's: answered.
	if code, _, msg := remoteRead(t, srv, "dinkes", readRequest(t, t0, end, nil, []*prompb.LabelMatcher{eq("__name__", "up"), {Type: prompb.LabelMatcher_RE, Name: "instance", Value: bomb}})); code != 200 {
		t.Errorf("regexp bomb: %d %s", code, msg)
	}
	if code, _, body := federate(t, srv, "dinkes", "", `up{instance=~"`+bomb+`"}`); code != 200 {
		t.Errorf("federate regexp bomb: %d %s", code, body)
	}
}

// blockingExportAPI is an API with limits.max_concurrent_exports 1
// whose first query signals entered and then waits for release.
func blockingExportAPI(t *testing.T) (a *API, entered, release chan struct{}) {
	t.Helper()
	db, err := tsdb.Open(t.TempDir(), slog.New(slog.DiscardHandler), nil, tsdb.DefaultOptions(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	entered, release = make(chan struct{}, 1), make(chan struct{})
	var first atomic.Bool
	q := storage.QueryableFunc(func(mint, maxt int64) (storage.Querier, error) {
		if first.CompareAndSwap(false, true) { // the first request holds its slot until released
			entered <- struct{}{}
			<-release
		}
		return db.Querier(mint, maxt)
	})
	a, err = New(Options{Queryable: q, Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return fedNow },
		MaxConcurrentExports: 1, ExportQueueWait: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return a, entered, release
}

// TestExportsConcurrencyBounded: with limits.max_concurrent_exports 1, a
// /federate or remote read that arrives while another is being served
// waits for the slot and, none coming free within the queue wait, gets
// 503 naming the limit with Retry-After, counted by reason busy; once
// the first is done the next is served.
func TestExportsConcurrencyBounded(t *testing.T) {
	a, entered, release := blockingExportAPI(t)
	srv := serveAPI(t, a)

	firstCode := make(chan int, 1)
	go func() {
		res, err := srv.Client().Get(srv.URL + "/federate?match[]=up")
		if err != nil {
			firstCode <- 0
			return
		}
		res.Body.Close()
		firstCode <- res.StatusCode
	}()
	<-entered
	res, err := srv.Client().Get(srv.URL + "/federate?match[]=up")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") == "" || !strings.Contains(string(b), "(limits.max_concurrent_exports)") {
		t.Errorf("federate while another is served: %d %q %s, want 503 naming the limit", res.StatusCode, res.Header.Get("Retry-After"), b)
	}
	if code, _, msg := remoteRead(t, srv, "", readRequest(t, t0, t0, nil, []*prompb.LabelMatcher{eq("__name__", "up")})); code != http.StatusServiceUnavailable || !strings.Contains(msg, "limits.max_concurrent_exports") {
		t.Errorf("remote read while a federate is served: %d %s, want 503", code, msg)
	}
	if f, r := testutil.ToFloat64(a.federateRefused.WithLabelValues(refusedBusy)), testutil.ToFloat64(a.readRefused.WithLabelValues(refusedBusy)); f != 1 || r != 1 {
		t.Errorf("refused busy: federate %g, remote read %g, want 1 and 1", f, r)
	}
	close(release)
	if code := <-firstCode; code != 200 {
		t.Errorf("the first federate: %d", code)
	}
	if code, _, msg := remoteRead(t, srv, "", readRequest(t, t0, t0, nil, []*prompb.LabelMatcher{eq("__name__", "up")})); code != 200 {
		t.Errorf("remote read after the first is done: %d %s", code, msg)
	}
}

// TestRemoteReadSlowBody: a remote read whose body does not arrive
// within the queue wait loses its slot with 400 (counted as body), and
// the next request is served.
func TestRemoteReadSlowBody(t *testing.T) {
	srv, a := newFedServer(t, ReadLimits{})
	a.exports = newExportGate(50 * time.Millisecond)
	l := a.Limits()
	l.MaxConcurrentExports = 1
	a.SetLimits(l)
	pr, pw := io.Pipe()
	defer pw.Close()
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/api/v1/read", pr)
	c := &http.Client{Timeout: 30 * time.Second} // bounds the test if the collector waits for good
	res, err := c.Do(req)                        // the body never comes
	if err != nil {
		t.Fatalf("slow body: %v (the collector kept waiting for it)", err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), "read the request body") {
		t.Errorf("slow body: %d %s, want 400", res.StatusCode, b)
	}
	if code, _, msg := remoteRead(t, srv, "", readRequest(t, t0, t0, nil, []*prompb.LabelMatcher{eq("__name__", "up")})); code != 200 {
		t.Errorf("the next request: %d %s", code, msg)
	}
}

// TestMatchSelectorsBounded: a request with more match[] selectors than
// limits.max_match_selectors gets 400 naming the limit before any walks
// the index (10,000 of them over 20,000 series took 84 s and 10 GB),
// by /federate and by series, labels and label values alike; counted.
func TestMatchSelectorsBounded(t *testing.T) {
	srv, a := newFedServer(t, ReadLimits{})
	l := a.Limits()
	l.MaxMatchSelectors = 3
	a.SetLimits(l)
	many := url.Values{"match[]": {"up", `{__name__="up"}`, `up{opd="dinkes"}`, `up{instance="d1"}`}}
	res, err := srv.Client().Get(srv.URL + "/federate?" + many.Encode())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 400 || !strings.Contains(string(b), "4 selectors, more than 3 (limits.max_match_selectors)") || strings.Contains(string(b), "needs at least one") {
		t.Errorf("federate with 4 match[]: %d %s", res.StatusCode, b)
	}
	for _, path := range []string{"/api/v1/series", "/api/v1/labels", "/api/v1/label/instance/values"} {
		code, r := call(t, http.MethodGet, srv.URL+path+"?"+many.Encode(), nil)
		if code != 400 || r.ErrorType != "bad_data" || !strings.Contains(r.Error, "(limits.max_match_selectors)") {
			t.Errorf("%s with 4 match[]: %d %+v", path, code, r)
		}
	}
	if got := testutil.ToFloat64(a.matchRefused); got != 4 {
		t.Errorf("pantau_collector_match_selectors_refused_total = %g, want 4", got)
	}
	many["match[]"] = many["match[]"][:3]
	if code, _, body := federate(t, srv, "", "", many["match[]"]...); code != 200 {
		t.Errorf("federate with 3 match[]: %d %s", code, body)
	}
}
