package promapi

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/tsdb"
)

var t0 = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

// newServer holds:
//
//	pantau_icmp_rtt_avg_seconds{agent="a1",site="dinkes",target="127.0.0.1"}  0.001 * i  every 10s for 10 min (i = 0..60)
//	pantau_icmp_rtt_avg_seconds{agent="a2",site="bappeda",target="127.0.0.2"} 0.5 constant
//	pantau_snmp_if_receive_bytes_total{agent="a1",ifname="ether1",site="dinkes"} 1000 * i every 10s
func newServer(t testing.TB) (*httptest.Server, promv1.API) {
	t.Helper()
	db, err := tsdb.Open(t.TempDir(), slog.New(slog.DiscardHandler), nil, tsdb.DefaultOptions(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	app := db.Appender(context.Background())
	rtt1 := labels.FromStrings("__name__", "pantau_icmp_rtt_avg_seconds", "agent", "a1", "site", "dinkes", "target", "127.0.0.1")
	rtt2 := labels.FromStrings("__name__", "pantau_icmp_rtt_avg_seconds", "agent", "a2", "site", "bappeda", "target", "127.0.0.2")
	rx := labels.FromStrings("__name__", "pantau_snmp_if_receive_bytes_total", "agent", "a1", "ifname", "ether1", "site", "dinkes")
	for i := 0; i <= 60; i++ {
		ts := t0.Add(time.Duration(i) * 10 * time.Second).UnixMilli()
		for _, s := range []struct {
			l labels.Labels
			v float64
		}{{rtt1, 0.001 * float64(i)}, {rtt2, 0.5}, {rx, 1000 * float64(i)}} {
			if _, err := app.Append(0, s.l, ts, s.v); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := app.Commit(); err != nil {
		t.Fatal(err)
	}
	a, err := New(Options{Queryable: db, Version: "0.1.0", Revision: "abc", GoVersion: "go1.26", BuildDate: "2026-11-24", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	a.Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	c, err := api.NewClient(api.Config{Address: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	return srv, promv1.NewAPI(c)
}

func TestQueryWithOfficialClient(t *testing.T) {
	_, p := newServer(t)
	ctx := context.Background()

	v, _, _, err := p.Query(ctx, `pantau_icmp_rtt_avg_seconds{site="dinkes"}`, t0.Add(5*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	vec := v.(model.Vector)
	if len(vec) != 1 || vec[0].Value != 0.03 || !vec[0].Timestamp.Time().Equal(t0.Add(5*time.Minute)) || vec[0].Metric["agent"] != "a1" {
		t.Fatalf("vector = %v", vec)
	}

	v, _, _, err = p.Query(ctx, `scalar(sum(pantau_icmp_rtt_avg_seconds{site="bappeda"})) * 2`, t0.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if s := v.(*model.Scalar); s.Value != 1 {
		t.Fatalf("scalar = %v", s)
	}

	// 1000 bytes per 10 s = 100 B/s.
	v, _, _, err = p.Query(ctx, `rate(pantau_snmp_if_receive_bytes_total[1m])`, t0.Add(5*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if vec := v.(model.Vector); len(vec) != 1 || vec[0].Value != 100 {
		t.Fatalf("rate = %v", vec)
	}

	m, _, _, err := p.QueryRange(ctx, `pantau_icmp_rtt_avg_seconds{agent="a1"} * 1000`, promv1.Range{Start: t0, End: t0.Add(time.Minute), Step: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	mat := m.(model.Matrix)
	if len(mat) != 1 || len(mat[0].Values) != 3 {
		t.Fatalf("matrix = %v", mat)
	}
	for i, want := range []float64{0, 3, 6} {
		if got := mat[0].Values[i]; float64(got.Value) != want || !got.Timestamp.Time().Equal(t0.Add(time.Duration(i)*30*time.Second)) {
			t.Errorf("point %d = %v, want %v", i, got, want)
		}
	}
}

func TestSeriesLabelsMetadataBuildinfo(t *testing.T) {
	_, p := newServer(t)
	ctx := context.Background()
	start, end := t0.Add(-time.Hour), t0.Add(time.Hour)

	series, _, _, err := p.Series(ctx, []string{`{site="dinkes"}`}, start, end)
	if err != nil {
		t.Fatal(err)
	}
	if len(series) != 2 || series[0]["__name__"] != "pantau_icmp_rtt_avg_seconds" || series[1]["__name__"] != "pantau_snmp_if_receive_bytes_total" {
		t.Fatalf("series = %v", series)
	}
	names, _, _, err := p.LabelNames(ctx, nil, start, end)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(names); got != "__name__, agent, ifname, site, target" {
		t.Fatalf("label names = %s", got)
	}
	names, _, _, err = p.LabelNames(ctx, []string{`pantau_snmp_if_receive_bytes_total`}, start, end)
	if err != nil || fmt.Sprint(names) != "__name__, agent, ifname, site" {
		t.Fatalf("label names with match = %v %v", names, err)
	}
	vals, _, _, err := p.LabelValues(ctx, "__name__", nil, start, end)
	if err != nil || len(vals) != 2 || vals[0] != "pantau_icmp_rtt_avg_seconds" {
		t.Fatalf("__name__ values = %v %v", vals, err)
	}
	vals, _, _, err = p.LabelValues(ctx, "site", []string{`pantau_icmp_rtt_avg_seconds`}, time.Time{}, time.Time{})
	if err != nil || strings.Join(toStrings(vals), ",") != "bappeda,dinkes" {
		t.Fatalf("site values = %v %v", vals, err)
	}
	md, err := p.Metadata(ctx, "", "")
	if err != nil {
		t.Fatal(err)
	}
	if m := md["pantau_snmp_if_receive_bytes_total"]; len(m) != 1 || m[0].Type != "counter" || m[0].Unit != "bytes" {
		t.Fatalf("metadata = %v", md)
	}
	if m := md["pantau_icmp_rtt_avg_seconds"]; len(m) != 1 || m[0].Type != "gauge" || m[0].Unit != "seconds" {
		t.Fatalf("metadata = %v", md)
	}
	bi, err := p.Buildinfo(ctx)
	if err != nil || bi.Version != "0.1.0" || bi.Revision != "abc" || bi.GoVersion != "go1.26" {
		t.Fatalf("buildinfo = %+v %v", bi, err)
	}
}

func toStrings(v model.LabelValues) []string {
	out := make([]string, len(v))
	for i, s := range v {
		out[i] = string(s)
	}
	return out
}

type apiResp struct {
	Status    string          `json:"status"`
	ErrorType string          `json:"errorType"`
	Error     string          `json:"error"`
	Data      json.RawMessage `json:"data"`
}

func call(t *testing.T, method, u string, form url.Values) (int, apiResp) {
	t.Helper()
	var res *http.Response
	var err error
	if method == http.MethodPost {
		res, err = http.PostForm(u, form)
	} else {
		if form != nil {
			u += "?" + form.Encode()
		}
		res, err = http.Get(u)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	var r apiResp
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("%s %s: non-JSON %q", method, u, b)
	}
	return res.StatusCode, r
}

func TestErrors(t *testing.T) {
	srv, _ := newServer(t)
	for _, c := range []struct {
		name, path string
		form       url.Values
		status     int
		typ, msg   string
	}{
		{"bad promql", "/api/v1/query", url.Values{"query": {"sum(("}}, 400, "bad_data", `invalid parameter "query"`},
		{"series without match", "/api/v1/series", nil, 400, "bad_data", "no match[] parameter provided"},
		{"too many points", "/api/v1/query_range", url.Values{"query": {"up"}, "start": {"0"}, "end": {"200000"}, "step": {"1"}}, 400, "bad_data", "exceeded maximum resolution of 11,000 points"},
		{"bad time", "/api/v1/query", url.Values{"query": {"1"}, "time": {"yesterday"}}, 400, "bad_data", `cannot parse "yesterday" to a valid timestamp`},
		{"bad label name", "/api/v1/label/%FF/values", nil, 400, "bad_data", "invalid label name"},
		{"unknown endpoint", "/api/v1/nope", nil, 404, "not_found", "unknown API endpoint /api/v1/nope"},
		{"execution error", "/api/v1/query", url.Values{"query": {`label_replace(up, "x", "$1", "y", "(")`}}, 422, "execution", "invalid regular expression in label_replace()"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, r := call(t, http.MethodGet, srv.URL+c.path, c.form)
			if code != c.status || r.Status != "error" || r.ErrorType != c.typ || !strings.Contains(r.Error, c.msg) {
				t.Errorf("got %d %+v, want %d %s %q", code, r, c.status, c.typ, c.msg)
			}
		})
	}
}

// TestGrafanaRequests mimics the Prometheus data source: POST form
// query_range with integer times, label lookups, buildinfo, and the
// endpoints its health check and editors touch.
func TestGrafanaRequests(t *testing.T) {
	srv, _ := newServer(t)
	start, end := t0.Unix(), t0.Add(10*time.Minute).Unix()
	code, r := call(t, http.MethodPost, srv.URL+"/api/v1/query_range", url.Values{
		"query": {`avg by (site) (pantau_icmp_rtt_avg_seconds)`}, "start": {itoa(start)}, "end": {itoa(end)}, "step": {"60"}})
	if code != 200 {
		t.Fatalf("query_range: %d %+v", code, r)
	}
	var qr struct {
		ResultType string `json:"resultType"`
		Result     []struct {
			Metric map[string]string `json:"metric"`
			Values [][2]any          `json:"values"`
		} `json:"result"`
	}
	if err := json.Unmarshal(r.Data, &qr); err != nil {
		t.Fatal(err)
	}
	if qr.ResultType != "matrix" || len(qr.Result) != 2 || len(qr.Result[0].Values) != 11 {
		t.Fatalf("query_range data = %s", r.Data)
	}
	// Values are [unix seconds (number), "value" (string)].
	if ts, ok := qr.Result[0].Values[1][0].(float64); !ok || int64(ts) != start+60 {
		t.Fatalf("timestamp = %#v", qr.Result[0].Values[1][0])
	}
	if _, ok := qr.Result[0].Values[1][1].(string); !ok {
		t.Fatalf("value not a string: %#v", qr.Result[0].Values[1][1])
	}
	for _, path := range []string{
		"/api/v1/labels?start=" + itoa(start) + "&end=" + itoa(end),
		"/api/v1/label/__name__/values",
		"/api/v1/status/buildinfo",
		"/api/v1/query?query=1%2B1&time=" + itoa(end),
		"/api/v1/query_exemplars?query=up&start=0&end=1",
		"/api/v1/rules",
		"/api/v1/metadata",
		"/api/v1/format_query?query=sum(up)by(job)",
	} {
		code, r := call(t, http.MethodGet, srv.URL+path, nil)
		if code != 200 || r.Status != "success" || len(r.Data) == 0 {
			t.Errorf("%s: %d %+v", path, code, r)
		}
	}
	_, r = call(t, http.MethodGet, srv.URL+"/api/v1/format_query?query=sum(up)by(job)", nil)
	if string(r.Data) != `"sum by (job) (up)"` {
		t.Errorf("format_query = %s", r.Data)
	}
}

func itoa(i int64) string { return jsonInt(i) }

func jsonInt(i int64) string { b, _ := json.Marshal(i); return string(b) }

func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"0", "1700000000.123", "2026-11-24T10:00:00Z", minTimeFormatted, maxTimeFormatted, "NaN", "1e300", "-1", "15s", "1h30m"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if ts, err := ParseTime(s); err == nil {
			timestampMs(ts)
		}
		ParseDuration(s)
	})
}
