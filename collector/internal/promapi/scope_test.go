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
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/tsdb"
)

// scopeHeader carries the test's scope: absent is unscoped, "-" is
// scoped to no OPD, otherwise a comma-separated list of OPDs ("" is a
// list holding one empty name).
const scopeHeader = "X-Test-Opd"

func testScope(r *http.Request) ([]string, bool) {
	v, ok := r.Header[scopeHeader]
	if !ok {
		return nil, false
	}
	if v[0] == "-" {
		return nil, true
	}
	return strings.Split(v[0], ","), true
}

type scopeSeries struct {
	opd string
	l   labels.Labels
	v   func(i int) float64
}

// scopeData is the data of the scoping tests: samples every 10 s for
// 10 minutes from t0 (i = 0..60).
//
//	up{instance="d1",opd="dinkes"}                          1
//	up{instance="h1",opd="dishub"}                          1
//	up{instance="k1",opd="kominfo"}                         1
//	up{instance="x1"}                                       1 (no opd)
//	pantau_if_rx_bytes_total{ifname="ether1",opd="dinkes"}  1000*i (rate 100/s)
//	pantau_if_rx_bytes_total{ifname="ether1",opd="dishub"}  2000*i (rate 200/s)
//	dishub_only_metric{opd="dishub",secret_label="s"}       7
//	noopd_only_metric{job="collector"}                      3 (no opd)
func scopeData() []scopeSeries {
	one := func(int) float64 { return 1 }
	return []scopeSeries{
		{"dinkes", labels.FromStrings("__name__", "up", "instance", "d1", "opd", "dinkes"), one},
		{"dishub", labels.FromStrings("__name__", "up", "instance", "h1", "opd", "dishub"), one},
		{"kominfo", labels.FromStrings("__name__", "up", "instance", "k1", "opd", "kominfo"), one},
		{"", labels.FromStrings("__name__", "up", "instance", "x1"), one},
		{"dinkes", labels.FromStrings("__name__", "pantau_if_rx_bytes_total", "ifname", "ether1", "opd", "dinkes"), func(i int) float64 { return 1000 * float64(i) }},
		{"dishub", labels.FromStrings("__name__", "pantau_if_rx_bytes_total", "ifname", "ether1", "opd", "dishub"), func(i int) float64 { return 2000 * float64(i) }},
		{"dishub", labels.FromStrings("__name__", "dishub_only_metric", "opd", "dishub", "secret_label", "s"), func(int) float64 { return 7 }},
		{"", labels.FromStrings("__name__", "noopd_only_metric", "job", "collector"), func(int) float64 { return 3 }},
	}
}

// newScopeServer serves the series of scopeData whose OPD keep accepts
// ("" for the series without opd), scoping requests by scopeHeader with
// the given layers. engine may be nil (New's default).
func newScopeServer(t testing.TB, keep func(opd string) bool, layers int, engine ...*promql.Engine) *httptest.Server {
	t.Helper()
	db, err := tsdb.Open(t.TempDir(), slog.New(slog.DiscardHandler), nil, tsdb.DefaultOptions(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	app := db.Appender(context.Background())
	for _, s := range scopeData() {
		if !keep(s.opd) {
			continue
		}
		for i := 0; i <= 60; i++ {
			if _, err := app.Append(0, s.l, t0.Add(time.Duration(i)*10*time.Second).UnixMilli(), s.v(i)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := app.Commit(); err != nil {
		t.Fatal(err)
	}
	o := Options{Queryable: db, Scope: testScope, Logger: slog.New(slog.DiscardHandler)}
	if len(engine) > 0 {
		o.Engine = engine[0]
	}
	a, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	a.layers = layers
	mux := http.NewServeMux()
	a.Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func keepAll(string) bool { return true }

func keepOnly(opds ...string) func(string) bool {
	return func(o string) bool { return slices.Contains(opds, o) }
}

// scopedCall sends one request as a credential scoped by scope ("" for
// unscoped, see scopeHeader otherwise: here "none" stands for "-"), GET
// with the form in the URL or POST with it as an urlencoded body, and
// returns the status and the raw body.
func scopedCall(t testing.TB, c *http.Client, method, u, scope string, form url.Values) (int, []byte) {
	t.Helper()
	var body io.Reader
	if method == http.MethodPost {
		body = strings.NewReader(form.Encode())
	} else if len(form) > 0 {
		u += "?" + form.Encode()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	switch scope {
	case "":
	case "none":
		req.Header.Set(scopeHeader, "-")
	case "empty-name":
		req.Header.Set(scopeHeader, "")
	default:
		req.Header.Set(scopeHeader, scope)
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, b
}

// scopedRender is render of scopedCall.
func scopedRender(t testing.TB, c *http.Client, method, u, scope string, form url.Values) string {
	t.Helper()
	code, body := scopedCall(t, c, method, u, scope, form)
	return render(t, code, body)
}

// render turns a success answer into one line per series, sorted:
// `name{l="v", ...} v` for a vector, `... v1 v2 ...` for a matrix,
// `scalar v` for a scalar, the sorted strings for a list of names, and
// one `{labels}` per series for /series. An error answer is
// `error <type>: <message>`.
func render(t testing.TB, status int, body []byte) string {
	t.Helper()
	var r struct {
		Status    string          `json:"status"`
		ErrorType string          `json:"errorType"`
		Error     string          `json:"error"`
		Data      json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatalf("non-JSON answer %d %q", status, body)
	}
	if r.Status != "success" {
		return fmt.Sprintf("error %d %s: %s", status, r.ErrorType, r.Error)
	}
	var q struct {
		ResultType string          `json:"resultType"`
		Result     json.RawMessage `json:"result"`
	}
	if json.Unmarshal(r.Data, &q) == nil && q.ResultType != "" {
		var lines []string
		switch q.ResultType {
		case "vector":
			var v []struct {
				Metric model.Metric `json:"metric"`
				Value  [2]any       `json:"value"`
			}
			mustUnmarshal(t, q.Result, &v)
			for _, s := range v {
				lines = append(lines, fmt.Sprintf("%s %v", s.Metric, s.Value[1]))
			}
		case "matrix":
			var m []struct {
				Metric model.Metric `json:"metric"`
				Values [][2]any     `json:"values"`
			}
			mustUnmarshal(t, q.Result, &m)
			for _, s := range m {
				l := s.Metric.String()
				for _, v := range s.Values {
					l += fmt.Sprintf(" %v", v[1])
				}
				lines = append(lines, l)
			}
		case "scalar":
			var v [2]any
			mustUnmarshal(t, q.Result, &v)
			lines = append(lines, fmt.Sprintf("scalar %v", v[1]))
		default:
			t.Fatalf("result type %q", q.ResultType)
		}
		sort.Strings(lines)
		return q.ResultType + ": " + strings.Join(lines, "; ")
	}
	var names []string
	if json.Unmarshal(r.Data, &names) == nil {
		return strings.Join(names, ",")
	}
	var series []model.Metric
	if json.Unmarshal(r.Data, &series) == nil {
		var lines []string
		for _, s := range series {
			lines = append(lines, s.String())
		}
		sort.Strings(lines)
		return strings.Join(lines, "; ")
	}
	var md map[string]json.RawMessage
	if json.Unmarshal(r.Data, &md) == nil {
		var keys []string
		for k := range md {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		return "metadata: " + strings.Join(keys, ",")
	}
	t.Fatalf("unknown data %s", r.Data)
	return ""
}

func mustUnmarshal(t testing.TB, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
}

func badSelector(col int) string {
	return fmt.Sprintf(`error 400 bad_data: invalid parameter "query": 1:%d: parse error: vector selector must contain at least one non-empty matcher`, col)
}

var scopeLayers = []struct {
	name   string
	layers int
}{{"both", layersAll}, {"enforcer", layerEnforcer}, {"storage", layerStorage}}

// TestScopedQueryCannotLeaveItsOPD: a viewer scoped to dinkes gets
// exactly dinkes's series by every PromQL form that names, widens,
// renames or tests for another OPD's series, through each layer of
// scoping alone and both, by GET and by Grafana's POST form.
func TestScopedQueryCannotLeaveItsOPD(t *testing.T) {
	at := t0.Add(5 * time.Minute)
	atS := itoa(at.Unix())
	const (
		upD = `up{instance="d1", opd="dinkes"} 1`
		rxD = `pantau_if_rx_bytes_total{ifname="ether1", opd="dinkes"} 30000`
	)
	cases := []struct {
		name, query string
		want        string
		// wantStorage, when set, is the answer with the storage layer
		// alone: absent() takes its labels from the selector's
		// equality matchers, and the enforcer's opd=~ removes opd.
		wantStorage string
	}{
		{"own", `up`, "vector: " + upD, ""},
		{"other opd named", `up{opd="dishub"}`, "vector: ", ""},
		{"other opd, no name", `{opd="dishub"}`, "vector: ", ""},
		{"or with vector", `up or on() vector(1)`, "vector: " + upD, ""},
		{"other opd or vector", `up{opd="dishub"} or on() vector(1)`, "vector: {} 1", ""},
		{"or with other opd", `up or up{opd="dishub"} or {opd="kominfo"}`, "vector: " + upD, ""},
		{"label_replace of other opd", `label_replace(up{opd="dishub"}, "opd", "dinkes", "opd", ".*")`, "vector: ", ""},
		{"label_replace renaming own", `label_replace(up, "opd", "dishub", "opd", "dinkes")`, `vector: up{instance="d1", opd="dishub"} 1`, ""},
		{"label_replace dropping opd", `label_replace({__name__=~".+"}, "opd", "", "", "")`, `vector: pantau_if_rx_bytes_total{ifname="ether1"} 30000; up{instance="d1"} 1`, ""},
		{"every name", `{__name__=~".+"}`, "vector: " + rxD + "; " + upD, ""},
		{"every name, count by name", `count by (__name__) ({__name__=~".+"})`, `vector: pantau_if_rx_bytes_total 1; up 1`, ""},
		{"subquery", `max_over_time(up[5m:1m])`, `vector: {instance="d1", opd="dinkes"} 1`, ""},
		{"subquery of other opd", `max_over_time(up{opd="dishub"}[5m:1m])`, "vector: ", ""},
		{"nested subquery", `max_over_time(sum by (opd) (count_over_time({__name__=~".+"}[1m:10s]))[5m:1m])`, `vector: {opd="dinkes"} 12`, ""},
		{"absent of other opd", `absent(up{opd="dishub"})`, "vector: {} 1", `vector: {opd="dishub"} 1`},
		{"absent of other opd's metric", `absent(dishub_only_metric)`, "vector: {} 1", ""},
		{"absent of own", `absent(up)`, "vector: ", ""},
		{"absent_over_time other", `absent_over_time(up{opd="dishub"}[5m])`, "vector: {} 1", `vector: {opd="dishub"} 1`},
		{"count by opd", `count by (opd) (up)`, `vector: {opd="dinkes"} 1`, ""},
		{"count all", `count({__name__=~".+"})`, `vector: {} 2`, ""},
		// PromQL refuses a selector whose matchers all match the empty
		// value, scoped or not (TestScopedErrorsStayPrometheusShaped).
		{"not own", `{opd!="dinkes"}`, badSelector(1), ""},
		{"not own up", `up{opd!="dinkes"}`, "vector: ", ""},
		{"not own, every name", `{opd!="dinkes",__name__=~".+"}`, "vector: ", ""},
		{"any opd", `{opd=~".*"}`, badSelector(1), ""},
		{"any opd, every name", `{__name__=~".+",opd=~".*"}`, "vector: " + rxD + "; " + upD, ""},
		{"no opd", `up{opd=""}`, "vector: ", ""},
		{"every name, both opds", `{__name__=~".+",opd=~"dishub|dinkes"}`, "vector: " + rxD + "; " + upD, ""},
		{"rate", `sum by (opd) (rate(pantau_if_rx_bytes_total[1m]))`, `vector: {opd="dinkes"} 100`, ""},
		{"other opd's metric", `dishub_only_metric`, "vector: ", ""},
		{"opd-less metric", `noopd_only_metric`, "vector: ", ""},
		{"offset", `up offset 1m`, "vector: " + upD, ""},
		{"offset other", `up{opd="dishub"} offset 1m or {opd="dishub"} offset -1m`, "vector: ", ""},
		{"at", `up @ ` + itoa(t0.Add(time.Minute).Unix()), "vector: " + upD, ""},
		{"at other", `up{opd="dishub"} @ end()`, "vector: ", ""},
		{"at offset subquery", `max_over_time({opd!="dinkes",instance=~".+"}[2m:1m] @ start() offset 1m)`, "vector: ", ""},
		// The aggregation parameter is a selector too (patched in
		// third_party): with dishub's 7 - 6 = 1 it would keep one series.
		{"aggregation parameter", `topk(scalar(dishub_only_metric) - 6, up)`, "error 422 execution: Parameter value is NaN", ""},
		{"aggregation parameter, own", `topk(scalar(count(up)), {__name__=~".+"})`, "vector: " + rxD, ""},
		{"quantile parameter", `quantile(scalar(dishub_only_metric) / 10, up)`, `vector: {} NaN`, ""},
		{"group_left from other", `up * on() group_left(secret_label) dishub_only_metric`, "vector: ", ""},
		{"scalar of other", `vector(scalar(sum(dishub_only_metric)))`, "vector: {} NaN", ""},
		{"time is no data", `vector(1) + 1`, "vector: {} 2", ""},
	}
	for _, l := range scopeLayers {
		srv := newScopeServer(t, keepAll, l.layers)
		for _, method := range []string{http.MethodGet, http.MethodPost} {
			for _, c := range cases {
				t.Run(l.name+"/"+method+"/"+c.name, func(t *testing.T) {
					want := c.want
					if l.layers == layerStorage && c.wantStorage != "" {
						want = c.wantStorage
					}
					got := scopedRender(t, srv.Client(), method, srv.URL+"/api/v1/query", "dinkes", url.Values{"query": {c.query}, "time": {atS}})
					if got != want {
						t.Errorf("%s\n got %s\nwant %s", c.query, got, want)
					}
				})
			}
		}
		t.Run(l.name+"/query_range", func(t *testing.T) {
			form := url.Values{"query": {`sum by (opd) (rate({__name__=~"pantau_.+"}[1m])) or label_replace(up{opd="dishub"}, "opd", "dinkes", "", "")`},
				"start": {itoa(t0.Add(2 * time.Minute).Unix())}, "end": {itoa(t0.Add(4 * time.Minute).Unix())}, "step": {"60"}}
			for _, method := range []string{http.MethodGet, http.MethodPost} {
				got := scopedRender(t, srv.Client(), method, srv.URL+"/api/v1/query_range", "dinkes", form)
				if want := `matrix: {opd="dinkes"} 100 100 100`; got != want {
					t.Errorf("%s: got %s, want %s", method, got, want)
				}
			}
		})
	}
}

// TestScopedAbsentRevealsNothing: whether another OPD has data does not
// change any answer a scoped viewer gets, for the queries that test for
// data rather than read it.
func TestScopedAbsentRevealsNothing(t *testing.T) {
	with := newScopeServer(t, keepAll, layersAll)
	without := newScopeServer(t, keepOnly("dinkes", "kominfo", ""), layersAll)
	at := itoa(t0.Add(5 * time.Minute).Unix())
	for _, q := range []string{
		`absent(up{opd="dishub"})`, `absent(dishub_only_metric)`, `absent({secret_label="s"})`,
		`absent_over_time(up{opd="dishub"}[10m])`, `count(up{opd="dishub"}) or vector(0)`,
		`present_over_time({opd="dishub"}[10m])`, `count({__name__=~".+"})`, `group by (opd) ({opd=~".+"})`,
		`sum(up{opd!="dinkes"}) or vector(-1)`, `topk(scalar(dishub_only_metric) - 6, up)`,
	} {
		_, a := scopedCall(t, with.Client(), http.MethodGet, with.URL+"/api/v1/query", "dinkes", url.Values{"query": {q}, "time": {at}})
		_, b := scopedCall(t, without.Client(), http.MethodGet, without.URL+"/api/v1/query", "dinkes", url.Values{"query": {q}, "time": {at}})
		if string(a) != string(b) {
			t.Errorf("%s: with dishub data %s, without %s", q, a, b)
		}
		// Unscoped, the answers differ: the queries do test for dishub.
		_, a = scopedCall(t, with.Client(), http.MethodGet, with.URL+"/api/v1/query", "", url.Values{"query": {q}, "time": {at}})
		_, b = scopedCall(t, without.Client(), http.MethodGet, without.URL+"/api/v1/query", "", url.Values{"query": {q}, "time": {at}})
		if string(a) == string(b) {
			t.Errorf("%s: unscoped answers are equal too (%s): the query does not test for dishub's data", q, a)
		}
	}
}

// TestScopedSeriesLabelsMetadata: the lookup endpoints Grafana's editor
// uses show a dinkes viewer only dinkes's series, names and values, with
// and without match[], by GET and POST, through each layer alone.
func TestScopedSeriesLabelsMetadata(t *testing.T) {
	const (
		upD = `up{instance="d1", opd="dinkes"}`
		rxD = `pantau_if_rx_bytes_total{ifname="ether1", opd="dinkes"}`
	)
	rng := url.Values{"start": {itoa(t0.Unix())}, "end": {itoa(t0.Add(10 * time.Minute).Unix())}}
	with := func(kv ...string) url.Values {
		v := url.Values{}
		for k, vs := range rng {
			v[k] = vs
		}
		for i := 0; i < len(kv); i += 2 {
			v.Add(kv[i], kv[i+1])
		}
		return v
	}
	cases := []struct {
		name, path string
		form       url.Values
		want       string
	}{
		{"series every name", "series", with("match[]", `{__name__=~".+"}`), rxD + "; " + upD},
		{"series other opd", "series", with("match[]", `up{opd="dishub"}`), ""},
		{"series any opd", "series", with("match[]", `{opd=~".*"}`), rxD + "; " + upD},
		{"series not own", "series", with("match[]", `{opd!="dinkes"}`), ""},
		{"series both opds", "series", with("match[]", `{__name__=~".+",opd=~"dishub|dinkes"}`), rxD + "; " + upD},
		{"series several match", "series", with("match[]", `up`, "match[]", `dishub_only_metric`, "match[]", `noopd_only_metric`), upD},
		{"series secret label", "series", with("match[]", `{secret_label="s"}`), ""},
		{"labels", "labels", rng, "__name__,ifname,instance,opd"},
		{"labels of other opd", "labels", with("match[]", `{opd="dishub"}`), ""},
		{"labels every name", "labels", with("match[]", `{__name__=~".+"}`), "__name__,ifname,instance,opd"},
		{"labels of opd-less metric", "labels", with("match[]", `noopd_only_metric`), ""},
		{"labels of opd-less series", "labels", with("match[]", `{opd=""}`), ""},
		{"series of opd-less series", "series", with("match[]", `{opd="",__name__=~".+"}`), ""},
		{"opd values", "label/opd/values", rng, "dinkes"},
		{"opd values with match", "label/opd/values", with("match[]", `{opd=~".+"}`), "dinkes"},
		{"name values", "label/__name__/values", rng, "pantau_if_rx_bytes_total,up"},
		{"name values of other opd", "label/__name__/values", with("match[]", `{opd="dishub"}`), ""},
		{"instance values", "label/instance/values", rng, "d1"},
		{"secret label values", "label/secret_label/values", rng, ""},
		{"job values (opd-less)", "label/job/values", rng, ""},
		{"metadata", "metadata", nil, "metadata: pantau_if_rx_bytes_total,up"},
		{"metadata of other opd's metric", "metadata", url.Values{"metric": {"dishub_only_metric"}}, "metadata: "},
		{"metadata of opd-less metric", "metadata", url.Values{"metric": {"noopd_only_metric"}}, "metadata: "},
		{"tsdb status", "status/tsdb", nil, "error 403 forbidden: status/tsdb reports the cardinality of every OPD's series; it is not available to a credential scoped to OPDs: use an unscoped credential"},
	}
	for _, l := range scopeLayers {
		srv := newScopeServer(t, keepAll, l.layers)
		for _, method := range []string{http.MethodGet, http.MethodPost} {
			for _, c := range cases {
				t.Run(l.name+"/"+method+"/"+c.name, func(t *testing.T) {
					got := scopedRender(t, srv.Client(), method, srv.URL+"/api/v1/"+c.path, "dinkes", c.form)
					if got != c.want {
						t.Errorf("%s %v\n got %s\nwant %s", c.path, c.form, got, c.want)
					}
				})
			}
		}
	}
}

// TestScopeWidth: a viewer of dinkes and dishub sees both and not
// kominfo or the opd-less series; an unscoped credential sees all; a
// scope with no OPD, with an empty OPD name, or with an OPD name that is
// a regexp sees nothing (in particular not the series without opd).
func TestScopeWidth(t *testing.T) {
	srv := newScopeServer(t, keepAll, layersAll)
	at := itoa(t0.Add(5 * time.Minute).Unix())
	for _, c := range []struct {
		scope                 string
		query, labels, values string
	}{
		{"dinkes,dishub", `vector: dishub_only_metric{opd="dishub", secret_label="s"} 7; pantau_if_rx_bytes_total{ifname="ether1", opd="dinkes"} 30000; pantau_if_rx_bytes_total{ifname="ether1", opd="dishub"} 60000; up{instance="d1", opd="dinkes"} 1; up{instance="h1", opd="dishub"} 1`,
			"__name__,ifname,instance,opd,secret_label", "dinkes,dishub"},
		{"dishub,dinkes,dishub", `vector: dishub_only_metric{opd="dishub", secret_label="s"} 7; pantau_if_rx_bytes_total{ifname="ether1", opd="dinkes"} 30000; pantau_if_rx_bytes_total{ifname="ether1", opd="dishub"} 60000; up{instance="d1", opd="dinkes"} 1; up{instance="h1", opd="dishub"} 1`,
			"__name__,ifname,instance,opd,secret_label", "dinkes,dishub"},
		{"", `vector: dishub_only_metric{opd="dishub", secret_label="s"} 7; noopd_only_metric{job="collector"} 3; pantau_if_rx_bytes_total{ifname="ether1", opd="dinkes"} 30000; pantau_if_rx_bytes_total{ifname="ether1", opd="dishub"} 60000; up{instance="d1", opd="dinkes"} 1; up{instance="h1", opd="dishub"} 1; up{instance="k1", opd="kominfo"} 1; up{instance="x1"} 1`,
			"__name__,ifname,instance,job,opd,secret_label", "dinkes,dishub,kominfo"},
		{"none", "vector: ", "", ""},
		{"empty-name", "vector: ", "", ""},
		{",", "vector: ", "", ""},
		{"d.nkes", "vector: ", "", ""},
		{"dinkes|kominfo", "vector: ", "", ""},
		{".*", "vector: ", "", ""},
		{"kominfo", `vector: up{instance="k1", opd="kominfo"} 1`, "__name__,instance,opd", "kominfo"},
	} {
		t.Run(c.scope, func(t *testing.T) {
			for _, method := range []string{http.MethodGet, http.MethodPost} {
				if got := scopedRender(t, srv.Client(), method, srv.URL+"/api/v1/query", c.scope, url.Values{"query": {`{__name__=~".+"}`}, "time": {at}}); got != c.query {
					t.Errorf("%s query\n got %s\nwant %s", method, got, c.query)
				}
				if got := scopedRender(t, srv.Client(), method, srv.URL+"/api/v1/labels", c.scope, nil); got != c.labels {
					t.Errorf("%s labels = %s, want %s", method, got, c.labels)
				}
				if got := scopedRender(t, srv.Client(), method, srv.URL+"/api/v1/label/opd/values", c.scope, nil); got != c.values {
					t.Errorf("%s opd values = %s, want %s", method, got, c.values)
				}
			}
			// A query that reads no series works in every scope.
			if got := scopedRender(t, srv.Client(), http.MethodGet, srv.URL+"/api/v1/query", c.scope, url.Values{"query": {`vector(2)`}, "time": {at}}); got != "vector: {} 2" {
				t.Errorf("vector(2) = %s", got)
			}
		})
	}
	// Unscoped credentials keep the cardinality endpoint.
	if code, body := scopedCall(t, srv.Client(), http.MethodGet, srv.URL+"/api/v1/status/tsdb", "", nil); code != 200 {
		t.Errorf("unscoped status/tsdb: %d %s", code, body)
	}
}

// TestScopedErrorsStayPrometheusShaped: bad input from a scoped
// credential gets the same 4xx as from an unscoped one.
func TestScopedErrorsStayPrometheusShaped(t *testing.T) {
	srv := newScopeServer(t, keepAll, layersAll)
	for _, c := range []struct {
		path string
		form url.Values
	}{
		{"query", url.Values{"query": {"sum(("}}},
		{"query", url.Values{"query": {`{opd=""}`}}},
		{"query_range", url.Values{"query": {"up[5m]"}, "start": {"0"}, "end": {"60"}, "step": {"15"}}},
		{"query", url.Values{"query": {`label_replace(up, "x", "$1", "y", "(")`}}},
		{"series", url.Values{"match[]": {"{"}}},
		{"series", nil},
	} {
		code, scoped := scopedCall(t, srv.Client(), http.MethodGet, srv.URL+"/api/v1/"+c.path, "dinkes", c.form)
		code2, unscoped := scopedCall(t, srv.Client(), http.MethodGet, srv.URL+"/api/v1/"+c.path, "", c.form)
		if code != code2 || string(scoped) != string(unscoped) || code/100 != 4 {
			t.Errorf("%s %v: scoped %d %s, unscoped %d %s", c.path, c.form, code, scoped, code2, unscoped)
		}
	}
}
