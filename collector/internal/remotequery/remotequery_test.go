package remotequery

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/prometheus/prometheus/util/annotations"
)

// fakeEngine is an httptest server that records the requests it gets.
type fakeEngine struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []*http.Request // with ParseForm done
}

func newFakeEngine(t *testing.T, h func(w http.ResponseWriter, r *http.Request)) *fakeEngine {
	t.Helper()
	f := &fakeEngine{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		f.reqs = append(f.reqs, r)
		f.mu.Unlock()
		h(w, r)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeEngine) requests() []*http.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.reqs)
}

func newQueryable(t testing.TB, o Options) *Queryable {
	t.Helper()
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	q, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

// matrixJSON renders series as a Prometheus matrix answer.
func matrixJSON(ss ...testSeries) string {
	raw := make([]rawSeries, len(ss))
	for i, s := range ss {
		raw[i] = rawSeries{Labels: s.lset, T: s.t, V: s.v}
	}
	return string(encodeMatrix(raw))
}

// queryWindowOf returns the (from, to] a range-selector query asks for.
func queryWindowOf(t *testing.T, r *http.Request) (sel string, from, to int64) {
	t.Helper()
	q := r.Form.Get("query")
	i := strings.LastIndex(q, "[")
	if i < 0 || !strings.HasSuffix(q, "s]") {
		t.Errorf("query %q is not a range selector in seconds", q)
		return q, 0, 0
	}
	secs, err := strconv.ParseInt(q[i+1:len(q)-2], 10, 64)
	if err != nil {
		t.Errorf("query %q: %v", q, err)
	}
	at, err := strconv.ParseInt(r.Form.Get("time"), 10, 64)
	if err != nil {
		t.Errorf("time %q is not whole seconds: %v", r.Form.Get("time"), err)
	}
	return q[:i], (at - secs) * 1000, at * 1000
}

const day = 24 * time.Hour

func TestSelectChunksThreeDays(t *testing.T) {
	const t0 = int64(1_700_006_400_000) // a midnight UTC, whole seconds
	dayMs := day.Milliseconds()
	// Each window answers every sample of its own range plus one on
	// either side, as Prometheus 2.x's closed ranges do.
	all := map[string][]int64{}
	for ts := t0 - 10*60_000; ts <= t0+3*dayMs+10*60_000; ts += 60_000 {
		all["a"] = append(all["a"], ts)
		if ts > t0+dayMs { // series b starts on the second day
			all["b"] = append(all["b"], ts)
		}
	}
	f := newFakeEngine(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/prefix/api/v1/query" {
			t.Errorf("%s %s, want POST /prefix/api/v1/query", r.Method, r.URL.Path)
		}
		_, from, to := queryWindowOf(t, r)
		var out []testSeries
		for _, name := range []string{"b", "a"} { // unsorted on purpose
			s := testSeries{lset: labels.FromStrings("__name__", "m", "s", name)}
			for _, ts := range all[name] {
				if ts >= from-60_000 && ts <= to+60_000 {
					s.t = append(s.t, ts)
					s.v = append(s.v, float64(ts%100_000)/8)
				}
			}
			if len(s.t) > 0 {
				out = append(out, s)
			}
		}
		fmt.Fprint(w, matrixJSON(out...))
	})
	q := newQueryable(t, Options{URL: f.URL + "/prefix/", Chunk: day})
	qr, _ := q.Querier(math.MinInt64, math.MaxInt64)
	hints := &storage.SelectHints{Start: t0 + 1, End: t0 + 3*dayMs}
	got := collect(t, qr.Select(context.Background(), true, hints, labels.MustNewMatcher(labels.MatchEqual, "__name__", "m")))

	reqs := f.requests()
	if len(reqs) != 3 {
		t.Fatalf("%d requests, want 3", len(reqs))
	}
	var windows []string
	for _, r := range reqs {
		windows = append(windows, r.Form.Get("time")+" "+r.Form.Get("query"))
		if r.Form.Get("nocache") != "1" || r.Form.Get("timeout") != "120" {
			t.Errorf("form %v, want nocache=1 timeout=120", r.Form)
		}
	}
	slices.Sort(windows)
	want := []string{
		fmt.Sprintf(`%d {__name__="m"}[86400s]`, (t0+dayMs)/1000),
		fmt.Sprintf(`%d {__name__="m"}[86400s]`, (t0+2*dayMs)/1000),
		fmt.Sprintf(`%d {__name__="m"}[86400s]`, (t0+3*dayMs)/1000),
	}
	if !slices.Equal(windows, want) {
		t.Errorf("requests\n%s\nwant\n%s", strings.Join(windows, "\n"), strings.Join(want, "\n"))
	}
	if len(got) != 2 || got[0].lset.Get("s") != "a" || got[1].lset.Get("s") != "b" {
		t.Fatalf("series %v, want a then b", got)
	}
	for _, s := range got {
		var wantT []int64
		for _, ts := range all[s.lset.Get("s")] {
			if ts >= t0+1 && ts <= t0+3*dayMs {
				wantT = append(wantT, ts)
			}
		}
		if !slices.Equal(s.t, wantT) {
			t.Errorf("%s: %d samples %d..%d, want %d %d..%d", s.lset, len(s.t), s.t[0], s.t[len(s.t)-1], len(wantT), wantT[0], wantT[len(wantT)-1])
		}
		for i, ts := range s.t {
			if s.v[i] != float64(ts%100_000)/8 {
				t.Fatalf("%s at %d = %g", s.lset, ts, s.v[i])
			}
		}
	}
}

// TestSelectUnalignedRange checks millisecond bounds: windows are asked
// in whole seconds, widened, and trimmed to [mint, maxt] here.
func TestSelectUnalignedRange(t *testing.T) {
	const t0 = int64(1_700_000_000_000)
	f := newFakeEngine(t, func(w http.ResponseWriter, r *http.Request) {
		_, from, to := queryWindowOf(t, r)
		s := testSeries{lset: labels.FromStrings("__name__", "m")}
		for ts := from - 1000; ts <= to+1000; ts++ { // every millisecond
			s.t = append(s.t, ts)
			s.v = append(s.v, float64(ts-t0))
		}
		fmt.Fprint(w, matrixJSON(s))
	})
	q := newQueryable(t, Options{URL: f.URL, Chunk: 3 * time.Second})
	qr, _ := q.Querier(t0+123, t0+7456)
	got := collect(t, qr.Select(context.Background(), false, nil, labels.MustNewMatcher(labels.MatchEqual, "__name__", "m")))
	if len(got) != 1 {
		t.Fatalf("got %d series", len(got))
	}
	s := got[0]
	if n := len(s.t); n != 7456-123+1 || s.t[0] != t0+123 || s.t[n-1] != t0+7456 {
		t.Fatalf("%d samples %d..%d, want %d..%d", n, s.t[0]-t0, s.t[n-1]-t0, 123, 7456)
	}
	for i := 1; i < len(s.t); i++ {
		if s.t[i] != s.t[i-1]+1 || s.v[i] != float64(s.t[i]-t0) {
			t.Fatalf("sample %d: %d %g after %d", i, s.t[i], s.v[i], s.t[i-1])
		}
	}
	var asked []string
	for _, r := range f.requests() {
		asked = append(asked, r.Form.Get("time")+" "+r.Form.Get("query"))
	}
	slices.Sort(asked)
	// (122, 3122] (3122, 6122] (6122, 7456] ms after t0.
	want := []string{
		`1700000004 {__name__="m"}[4s]`,
		`1700000007 {__name__="m"}[4s]`,
		`1700000008 {__name__="m"}[2s]`,
	}
	if !slices.Equal(asked, want) {
		t.Errorf("asked %q, want %q", asked, want)
	}
}

func TestSelectExactValues(t *testing.T) {
	body := `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"__name__":"m"},"values":[
		[1700000000.123,"1.5"],[1700000000.2,"NaN"],[1700000000.201,"+Inf"],[1700000000.999,"-Inf"],[1700000001,"-0"],[1700000001.5,"1e-300"],[1700000002,"12345678901234567890"]]}]}}`
	for _, vm := range []bool{false, true} {
		f := newFakeEngine(t, func(w http.ResponseWriter, r *http.Request) {
			if vm {
				w.Header().Set("X-Server-Hostname", "vm")
			}
			fmt.Fprint(w, body)
		})
		q := newQueryable(t, Options{URL: f.URL})
		qr, _ := q.Querier(1699999999000, 1700000002000)
		got := collect(t, qr.Select(context.Background(), true, nil, labels.MustNewMatcher(labels.MatchEqual, "__name__", "m")))
		wantT := []int64{1700000000123, 1700000000200, 1700000000201, 1700000000999, 1700000001000, 1700000001500, 1700000002000}
		if len(got) != 1 || !slices.Equal(got[0].t, wantT) {
			t.Fatalf("vm %v: got %v, want times %v", vm, got, wantT)
		}
		v := got[0].v
		if v[0] != 1.5 || !math.IsInf(v[2], 1) || !math.IsInf(v[3], -1) || v[4] != 0 || !math.Signbit(v[4]) || v[5] != 1e-300 || v[6] != 12345678901234567890 {
			t.Errorf("values %v", v)
		}
		// VictoriaMetrics stores no NaN but stale markers, spelled "NaN".
		if !math.IsNaN(v[1]) || value.IsStaleNaN(v[1]) != vm {
			t.Errorf("vm %v: NaN bits %x, stale %v", vm, math.Float64bits(v[1]), value.IsStaleNaN(v[1]))
		}
	}
}

func TestSelectErrors(t *testing.T) {
	const (
		token    = "tok-SECRET-1"
		password = "pw-SECRET-2"
	)
	for _, tc := range []struct {
		name   string
		status int
		body   string
		want   string // in the error
		typ    string
	}{
		{"prometheus 400", 400, readFile(t, "prom-error-parse.json"), "missing unit character in duration", "bad_data"},
		{"victoria-metrics 422", 422, readFile(t, "vm-error-parse.json"), "unexpected token", "422"},
		{"prometheus 503", 503, readFile(t, "prom-error-503.json"), "TSDB not ready", "unavailable"},
		{"proxy 502", 502, "<html><body>Bad Gateway</body></html>", "<html><body>Bad Gateway", ""},
		{"empty 500", 500, "", "Internal Server Error", ""},
		{"status error with 200", 200, `{"status":"error","errorType":"execution","error":"too many samples"}`, "too many samples", "execution"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeEngine(t, func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tc.status)
				fmt.Fprint(w, tc.body)
			})
			u, _ := url.Parse(f.URL)
			u.User = url.UserPassword("user", password)
			var logs bytes.Buffer
			q := newQueryable(t, Options{URL: u.String(), Headers: map[string]string{"X-Scope-OrgID": "t1"}, BearerToken: token,
				Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
			qr, _ := q.Querier(1700000000000, 1700000060000)
			set := qr.Select(context.Background(), true, nil, labels.MustNewMatcher(labels.MatchEqual, "__name__", "m"))
			if set.Next() {
				t.Fatal("Next on a failed select")
			}
			err := set.Err()
			var ae *APIError
			if !errors.As(err, &ae) {
				t.Fatalf("err = %v, want an *APIError", err)
			}
			if ae.Status != tc.status || ae.Type != tc.typ || !strings.Contains(ae.Message, tc.want) {
				t.Errorf("APIError %+v, want status %d type %q message ~%q", ae, tc.status, tc.typ, tc.want)
			}
			msg := err.Error()
			for _, want := range []string{strings.TrimPrefix(f.URL, "http://") + "/api/v1/query", `{__name__=\"m\"}[61s]`, tc.want} {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q does not name %q", msg, want)
				}
			}
			if strings.Contains(msg, password) || strings.Contains(msg, token) {
				t.Errorf("error leaks a secret: %s", msg)
			}
			// A successful request logs at debug level: no secret either.
			ok := newFakeEngine(t, func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, readFile(t, "prom-matrix-empty.json")) })
			u, _ = url.Parse(ok.URL)
			u.User = url.UserPassword("user", password)
			q = newQueryable(t, Options{URL: u.String(), BearerToken: token,
				Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
			qr, _ = q.Querier(1700000000000, 1700000060000)
			if err := qr.Select(context.Background(), true, nil, labels.MustNewMatcher(labels.MatchEqual, "__name__", "m")).Err(); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(logs.String(), "remote query answered") || strings.Contains(logs.String(), password) || strings.Contains(logs.String(), token) {
				t.Errorf("logs without the request or with a secret:\n%s", logs.String())
			}
		})
	}
}

func TestSelectBadAnswer(t *testing.T) {
	f := newFakeEngine(t, func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"status":"success","data":{"resultType":"vector","result":[]}}`)
	})
	q := newQueryable(t, Options{URL: f.URL})
	qr, _ := q.Querier(0, 1000)
	err := qr.Select(context.Background(), true, nil, labels.MustNewMatcher(labels.MatchEqual, "__name__", "m")).Err()
	if !errors.Is(err, errFormat) || !strings.Contains(err.Error(), f.URL) || !strings.Contains(err.Error(), "want matrix") {
		t.Fatalf("err = %v", err)
	}
}

func TestSelectTimeoutAndCancel(t *testing.T) {
	release := make(chan struct{})
	f := newFakeEngine(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer close(release)
	q := newQueryable(t, Options{URL: f.URL, Timeout: 100 * time.Millisecond})
	qr, _ := q.Querier(0, 1000)
	m := labels.MustNewMatcher(labels.MatchEqual, "__name__", "m")
	err := qr.Select(context.Background(), true, nil, m).Err()
	if err == nil || !strings.Contains(err.Error(), "no answer within 100ms") || !strings.Contains(err.Error(), f.URL) {
		t.Fatalf("err = %v, want the timeout named", err)
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(errors.New("collector shutting down"))
	if err := qr.Select(ctx, true, nil, m).Err(); err == nil || !strings.Contains(err.Error(), "collector shutting down") {
		t.Fatalf("err = %v, want the cancel cause", err)
	}
}

func TestSelectSortedLimitShardWarnings(t *testing.T) {
	f := newFakeEngine(t, func(w http.ResponseWriter, r *http.Request) {
		_, _, to := queryWindowOf(t, r)
		var ss []testSeries
		// Each window lists series in a different order; series c is
		// only in the second window; series z has no sample in range.
		for _, name := range []string{"d", "b", "a", "c"} {
			if name == "c" && to < 1_700_000_020_000 {
				continue
			}
			ss = append(ss, testSeries{lset: labels.FromStrings("__name__", "m", "n", name), t: []int64{to - 500}, v: []float64{1}})
		}
		slices.Reverse(ss)
		ss = append(ss, testSeries{lset: labels.FromStrings("__name__", "m", "n", "z"), t: []int64{1}, v: []float64{1}})
		body := matrixJSON(ss...)
		body = `{"warnings":["w from ` + r.Form.Get("time") + `"],` + body[1:]
		fmt.Fprint(w, body)
	})
	q := newQueryable(t, Options{URL: f.URL, Chunk: 10 * time.Second})
	qr, _ := q.Querier(1_700_000_000_001, 1_700_000_030_000)
	m := labels.MustNewMatcher(labels.MatchEqual, "__name__", "m")

	set := qr.Select(context.Background(), true, nil, m)
	got := collect(t, set)
	var names []string
	for _, s := range got {
		names = append(names, s.lset.Get("n"))
		if len(s.t) != 3 && s.lset.Get("n") != "c" {
			t.Errorf("%s: %d samples, want 3", s.lset, len(s.t))
		}
	}
	if !slices.Equal(names, []string{"a", "b", "c", "d"}) {
		t.Errorf("series %v, want a b c d", names)
	}
	if w := set.Warnings(); len(w) != 3 {
		t.Errorf("warnings %v, want one per window", w.AsErrors())
	} else {
		for _, err := range w.AsErrors() {
			if !errors.Is(err, annotations.PromQLWarning) || !strings.Contains(err.Error(), f.URL) {
				t.Errorf("warning %v", err)
			}
		}
	}

	got = collect(t, qr.Select(context.Background(), false, &storage.SelectHints{Limit: 2}, m))
	if len(got) != 2 || got[0].lset.Get("n") != "a" || got[1].lset.Get("n") != "b" {
		t.Errorf("limit 2: %v", got)
	}
	seen := map[string]bool{}
	for i := range uint64(3) {
		for _, s := range collect(t, qr.Select(context.Background(), true, &storage.SelectHints{ShardCount: 3, ShardIndex: i}, m)) {
			if seen[s.lset.String()] {
				t.Errorf("%s in two shards", s.lset)
			}
			seen[s.lset.String()] = true
		}
	}
	if len(seen) != 4 {
		t.Errorf("shards hold %d series, want 4", len(seen))
	}
}

func TestSelectNeedsNoRequest(t *testing.T) {
	f := newFakeEngine(t, func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("unexpected request %s", r.Form)
	})
	q := newQueryable(t, Options{URL: f.URL})
	qr, _ := q.Querier(1000, 2000)
	for name, set := range map[string]storage.SeriesSet{
		"empty label name":   qr.Select(context.Background(), true, nil, labels.MustNewMatcher(labels.MatchEqual, "", "x")),
		"hints out of range": qr.Select(context.Background(), true, &storage.SelectHints{Start: 3000, End: 4000}),
		"before 1970":        qr.Select(context.Background(), true, &storage.SelectHints{Start: -5000, End: -1000}),
	} {
		if set.Next() || set.Err() != nil {
			t.Errorf("%s: want an empty set, got err %v", name, set.Err())
		}
	}
	qr, _ = q.Querier(math.MinInt64, math.MaxInt64)
	err := qr.Select(context.Background(), true, nil, labels.MustNewMatcher(labels.MatchEqual, "__name__", "m")).Err()
	if err == nil || !strings.Contains(err.Error(), "narrow the time range") {
		t.Errorf("unbounded select: err = %v", err)
	}
}

func TestSelectSeriesFunc(t *testing.T) {
	f := newFakeEngine(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/series" {
			t.Errorf("path %s", r.URL.Path)
		}
		if got := r.Form["match[]"]; len(got) != 1 || got[0] != `{job="j"}` || r.Form.Get("start") != "1700000000.123" || r.Form.Get("end") != "" || r.Form.Get("limit") != "5" {
			t.Errorf("form %v", r.Form)
		}
		fmt.Fprint(w, readFile(t, "vm-series.json"))
	})
	q := newQueryable(t, Options{URL: f.URL})
	qr, _ := q.Querier(1700000000123, math.MaxInt64)
	got := collect(t, qr.Select(context.Background(), true, &storage.SelectHints{Func: "series", Limit: 5}, labels.MustNewMatcher(labels.MatchEqual, "job", "j")))
	if len(got) != 2 || got[0].lset.Get("a") != "b" || got[1].lset.Get("a") != "x\"y\\z\nü" || len(got[0].t) != 0 {
		t.Fatalf("got %v", got)
	}
}

func TestLabelNamesAndValues(t *testing.T) {
	f := newFakeEngine(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.EscapedPath() {
		case "/api/v1/labels":
			if r.Method != http.MethodGet || r.Form.Get("match[]") != `{__name__="m"}` || r.Form.Get("start") != "1700000000" || r.Form.Get("end") != "1700000060.500" {
				t.Errorf("labels form %v", r.Form)
			}
			fmt.Fprint(w, `{"status":"success","data":["job","a","__name__","a"]}`)
		case "/api/v1/label/a/values":
			if _, ok := r.Form["match[]"]; ok || r.Form.Get("limit") != "1" {
				t.Errorf("values form %v", r.Form)
			}
			fmt.Fprint(w, readFile(t, "prom-label-values.json"))
		case "/api/v1/label/U__host_2e_name/values":
			fmt.Fprint(w, `{"status":"success","warnings":["partial"],"data":["h2","h1"]}`)
		case "/api/v1/label/bad/values":
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"status":"error","errorType":"bad_data","error":"invalid label name"}`)
		default:
			t.Errorf("path %s", r.URL.EscapedPath())
			http.NotFound(w, r)
		}
	})
	q := newQueryable(t, Options{URL: f.URL})
	qr, _ := q.Querier(1700000000000, 1700000060500)
	ctx := context.Background()
	names, _, err := qr.LabelNames(ctx, nil, labels.MustNewMatcher(labels.MatchEqual, "__name__", "m"))
	if err != nil || !slices.Equal(names, []string{"__name__", "a", "job"}) {
		t.Errorf("LabelNames = %v, %v", names, err)
	}
	vals, _, err := qr.LabelValues(ctx, "a", &storage.LabelHints{Limit: 1})
	if err != nil || !slices.Equal(vals, []string{"b"}) {
		t.Errorf("LabelValues(a) = %q, %v", vals, err)
	}
	vals, warns, err := qr.LabelValues(ctx, "host.name", nil)
	if err != nil || !slices.Equal(vals, []string{"h1", "h2"}) || len(warns) != 1 {
		t.Errorf("LabelValues(host.name) = %q, %v, %v", vals, warns, err)
	}
	_, _, err = qr.LabelValues(ctx, "bad", nil)
	var ae *APIError
	if !errors.As(err, &ae) || ae.Message != "invalid label name" || !strings.Contains(err.Error(), `values of label "bad"`) {
		t.Errorf("LabelValues(bad) err = %v", err)
	}
	if vals, _, err := qr.LabelValues(ctx, "a", nil, labels.MustNewMatcher(labels.MatchEqual, "", "x")); err != nil || vals != nil {
		t.Errorf("impossible matcher: %v, %v", vals, err)
	}
	if err := qr.Close(); err != nil {
		t.Error(err)
	}
}

func TestAuthAndHeaders(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    Options
		want string
	}{
		{"bearer", Options{BearerToken: "t0k"}, "Bearer t0k"},
		{"basic", Options{BasicUser: "u", BasicPassword: "p"}, "Basic dTpw"},
		{"header", Options{Headers: map[string]string{"Authorization": "Custom x"}}, "Custom x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeEngine(t, func(w http.ResponseWriter, r *http.Request) {
				if got := r.Header.Get("Authorization"); got != tc.want {
					t.Errorf("Authorization %q, want %q", got, tc.want)
				}
				fmt.Fprint(w, readFile(t, "prom-matrix-empty.json"))
			})
			tc.o.URL = f.URL
			q := newQueryable(t, tc.o)
			qr, _ := q.Querier(0, 1000)
			if err := qr.Select(context.Background(), true, nil).Err(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestNewValidates(t *testing.T) {
	for _, tc := range []struct {
		o    Options
		want string
	}{
		{Options{URL: "127.0.0.1:8428"}, "remote query URL"},
		{Options{URL: "localhost:8428"}, "want http://host:port"},
		{Options{URL: "ftp://x"}, "want http://host:port"},
		{Options{URL: "http://u:SECRET@host:8428/?a=b"}, "without query"},
		{Options{URL: "http://u:SECRET@host:8428\x7f"}, "invalid control character"},
		{Options{URL: "http://h", BearerToken: "SECRET", BasicUser: "u"}, "not both"},
		{Options{URL: "http://h", Chunk: time.Millisecond}, "shorter than a second"},
		{Options{URL: "http://h", Timeout: -time.Second}, "negative timeout"},
	} {
		_, err := New(tc.o)
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "SECRET") {
			t.Errorf("New(%q) err = %v, want %q without the secret", tc.o.URL, err, tc.want)
		}
	}
}

func TestIteratorSeek(t *testing.T) {
	s := &series{samples: floatSamples{{10, 1}, {20, 2}, {30, 3}}}
	it := s.Iterator(nil)
	if it.Seek(15) != chunkenc.ValFloat || it.AtT() != 20 {
		t.Fatalf("Seek(15) at %d", it.AtT())
	}
	if it.Seek(5) != chunkenc.ValFloat || it.AtT() != 20 {
		t.Fatalf("Seek back moved to %d", it.AtT())
	}
	if it.Next() != chunkenc.ValFloat || it.AtT() != 30 || it.Next() != chunkenc.ValNone || it.Seek(40) != chunkenc.ValNone {
		t.Fatal("iteration past the end")
	}
	it = (&series{samples: floatSamples{{1, 9}}}).Iterator(it) // reused
	if it.Next() != chunkenc.ValFloat {
		t.Fatal("reused iterator")
	}
	if ts, v := it.At(); ts != 1 || v != 9 {
		t.Fatalf("At = %d %g", ts, v)
	}
}

func TestNormalizeDedupes(t *testing.T) {
	s := &series{samples: floatSamples{{30, 3}, {10, 1}, {20, 2}, {10, 9}, {30, 8}}}
	s.normalize()
	if !slices.Equal(s.samples, floatSamples{{10, 1}, {20, 2}, {30, 3}}) {
		t.Fatalf("normalize = %v", s.samples)
	}
}

// collect reads a series set; a failure fails the test.
func collect(t testing.TB, set storage.SeriesSet) []testSeries {
	t.Helper()
	var out []testSeries
	var it chunkenc.Iterator
	for set.Next() {
		s := set.At()
		ts := testSeries{lset: s.Labels()}
		it = s.Iterator(it)
		for it.Next() == chunkenc.ValFloat {
			tt, v := it.At()
			ts.t = append(ts.t, tt)
			ts.v = append(ts.v, v)
		}
		out = append(out, ts)
	}
	if err := set.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
