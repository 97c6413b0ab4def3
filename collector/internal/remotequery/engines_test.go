package remotequery

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/snappy"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/prompb"

	"github.com/pantau-noc/pantau/internal/testengine"
)

// engine is a victoria-metrics or prometheus process a test started.
type engine struct {
	name string
	base string // http://127.0.0.1:port
}

// startVictoriaMetrics starts Debian's victoria-metrics single node (no
// query latency offset unless extra sets one).
func startVictoriaMetrics(t *testing.T, extra ...string) *engine {
	t.Helper()
	e := testengine.Start(t, testengine.VictoriaMetrics, extra...)
	return &engine{name: e.Kind, base: e.URL()}
}

// startPrometheus starts Debian's prometheus with the remote-write
// receiver and a 30-day out-of-order window, so past samples can be
// written in any order.
func startPrometheus(t *testing.T) *engine {
	t.Helper()
	e := testengine.Start(t, testengine.Prometheus)
	return &engine{name: e.Kind, base: e.URL()}
}

// testSeries is a series the tests write and expect back.
type testSeries struct {
	lset labels.Labels
	t    []int64
	v    []float64
}

// remoteWrite sends series as a Prometheus remote-write 1.0 request.
func remoteWrite(t *testing.T, url string, ss []testSeries) {
	t.Helper()
	var wr prompb.WriteRequest
	for _, s := range ss {
		ts := prompb.TimeSeries{Labels: prompb.FromLabels(s.lset, nil)}
		for i := range s.t {
			ts.Samples = append(ts.Samples, prompb.Sample{Timestamp: s.t[i], Value: s.v[i]})
		}
		wr.Timeseries = append(wr.Timeseries, ts)
	}
	req, err := wr.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	hreq, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(snappy.Encode(nil, req)))
	if err != nil {
		t.Fatal(err)
	}
	hreq.Header.Set("Content-Encoding", "snappy")
	hreq.Header.Set("Content-Type", "application/x-protobuf")
	hreq.Header.Set("X-Prometheus-Remote-Write-Version", "0.1.0")
	postExpect(t, hreq)
}

// vmImport writes series through VictoriaMetrics' /api/v1/import (JSON
// lines). Values must be finite: JSON numbers cannot say NaN or Inf.
func vmImport(t *testing.T, base string, ss []testSeries) {
	t.Helper()
	var buf bytes.Buffer
	for _, s := range ss {
		line := struct {
			Metric     map[string]string `json:"metric"`
			Values     []float64         `json:"values"`
			Timestamps []int64           `json:"timestamps"`
		}{s.lset.Map(), s.v, s.t}
		if err := json.NewEncoder(&buf).Encode(line); err != nil {
			t.Fatal(err)
		}
	}
	req, err := http.NewRequest(http.MethodPost, base+"/api/v1/import", &buf)
	if err != nil {
		t.Fatal(err)
	}
	postExpect(t, req)
}

func postExpect(t *testing.T, req *http.Request) {
	t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode/100 != 2 {
		t.Fatalf("POST %s: HTTP %d: %s", req.URL, res.StatusCode, b)
	}
}

// vmFlush makes VictoriaMetrics' in-memory samples searchable.
func vmFlush(t *testing.T, base string) {
	t.Helper()
	res, err := http.Get(base + "/internal/force_flush")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
}

// waitSamples polls until count samples of selector are searchable in
// (from, to], or fails after a bounded wait.
func waitSamples(t *testing.T, e *engine, q *Queryable, sel []*labels.Matcher, from, to int64, count int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if e.name == "victoria-metrics" {
			vmFlush(t, e.base)
		}
		got, err := selectAll(context.Background(), q, from, to, sel...)
		n := 0
		for _, s := range got {
			n += len(s.t)
		}
		if err == nil && n >= count {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d of %d samples searchable after 30s (err %v)", e.name, n, count, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// selectAll runs Select over [from, to] and collects the series.
func selectAll(ctx context.Context, q *Queryable, from, to int64, ms ...*labels.Matcher) ([]testSeries, error) {
	qr, err := q.Querier(from, to)
	if err != nil {
		return nil, err
	}
	defer qr.Close()
	set := qr.Select(ctx, true, nil, ms...)
	var out []testSeries
	for set.Next() {
		s := set.At()
		ts := testSeries{lset: s.Labels()}
		it := s.Iterator(nil)
		for it.Next() != 0 {
			t, v := it.At()
			ts.t = append(ts.t, t)
			ts.v = append(ts.v, v)
		}
		if err := it.Err(); err != nil {
			return nil, err
		}
		out = append(out, ts)
	}
	return out, set.Err()
}

// sameFloat is equality of bits, except that NaNs only need to agree
// on being stale markers.
func sameFloat(a, b float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b) && value.IsStaleNaN(a) == value.IsStaleNaN(b)
	}
	return math.Float64bits(a) == math.Float64bits(b)
}

func describe(s testSeries) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s:", s.lset)
	for i := range s.t {
		if i == 4 {
			fmt.Fprintf(&b, " … (%d samples)", len(s.t))
			break
		}
		fmt.Fprintf(&b, " %d=%g", s.t[i], s.v[i])
	}
	return b.String()
}
