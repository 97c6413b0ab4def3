package remotewrite

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/pantau-noc/pantau/internal/testengine"
)

// engine is a remote-write receiver started from Debian's package:
// victoria-metrics (single node) or prometheus (with the remote-write
// receiver and an out-of-order window).
type engine struct{ *testengine.Engine }

const (
	victoriaMetrics = testengine.VictoriaMetrics
	prometheusKind  = testengine.Prometheus
)

func startEngine(t testing.TB, kind string) *engine {
	t.Helper()
	return &engine{testengine.Start(t, kind)}
}

// read returns the raw samples of the series matching selector between
// from and to (widened by a minute each side), per series
// (labels.Labels.String()), by timestamp in ms.
func (e *engine) read(ctx context.Context, selector string, from, to time.Time) (map[string]map[int64]float64, error) {
	out := map[string]map[int64]float64{}
	from, to = from.Add(-time.Minute).Truncate(time.Second), to.Add(time.Minute).Truncate(time.Second)
	if e.Kind == victoriaMetrics {
		// /api/v1/export: raw samples, integer ms timestamps.
		u := fmt.Sprintf("http://%s/api/v1/export?match[]=%s&start=%d&end=%d", e.Addr, url.QueryEscape(selector), from.Unix(), to.Unix())
		body, err := get(ctx, u)
		if err != nil {
			return nil, err
		}
		dec := json.NewDecoder(strings.NewReader(string(body)))
		dec.UseNumber()
		for dec.More() {
			var line struct {
				Metric     map[string]string
				Values     []json.Number
				Timestamps []int64
			}
			if err := dec.Decode(&line); err != nil {
				return nil, fmt.Errorf("decode victoria-metrics export: %w", err)
			}
			m := seriesOf(out, line.Metric)
			for i, v := range line.Values {
				f, err := strconv.ParseFloat(v.String(), 64)
				if err != nil {
					return nil, fmt.Errorf("decode victoria-metrics export: %w", err)
				}
				m[line.Timestamps[i]] = f
			}
		}
		return out, nil
	}
	// An instant query of a range selector returns the raw samples.
	u := fmt.Sprintf("http://%s/api/v1/query?query=%s&time=%d", e.Addr,
		url.QueryEscape(fmt.Sprintf("%s[%ds]", selector, int(to.Sub(from).Seconds()))), to.Unix())
	body, err := get(ctx, u)
	if err != nil {
		return nil, err
	}
	var res struct {
		Status string
		Data   struct {
			ResultType string
			Result     []struct {
				Metric map[string]string
				Values [][2]json.RawMessage
			}
		}
	}
	if err := json.Unmarshal(body, &res); err != nil || res.Status != "success" || res.Data.ResultType != "matrix" {
		return nil, fmt.Errorf("prometheus query: %v: %s", err, body)
	}
	for _, r := range res.Data.Result {
		m := seriesOf(out, r.Metric)
		for _, p := range r.Values {
			ms, err := parseMillis(string(p[0]))
			if err != nil {
				return nil, err
			}
			var s string
			if err := json.Unmarshal(p[1], &s); err != nil {
				return nil, fmt.Errorf("prometheus query value %s: %w", p[1], err)
			}
			f, err := strconv.ParseFloat(s, 64)
			if err != nil {
				return nil, fmt.Errorf("prometheus query value %s: %w", s, err)
			}
			m[ms] = f
		}
	}
	return out, nil
}

func seriesOf(out map[string]map[int64]float64, metric map[string]string) map[int64]float64 {
	k := labels.FromMap(metric).String()
	if out[k] == nil {
		out[k] = map[int64]float64{}
	}
	return out[k]
}

// parseMillis reads a JSON timestamp in seconds ("1764000000.123") as
// exact milliseconds, without going through a float.
func parseMillis(s string) (int64, error) {
	sec, frac, _ := strings.Cut(s, ".")
	if len(frac) > 3 {
		return 0, fmt.Errorf("timestamp %s finer than a millisecond", s)
	}
	n, err := strconv.ParseInt(sec+(frac + "000")[:3], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("timestamp %s: %w", s, err)
	}
	return n, nil
}

func get(ctx context.Context, u string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s: %s", u, res.Status, b)
	}
	return b, nil
}

// expectStored reads selector back until the engine holds exactly want
// (VictoriaMetrics makes new samples searchable within a few seconds), and
// fails with the differences otherwise. A duplicate delivery (same
// timestamp, same value) is not a difference.
func expectStored(t *testing.T, e *engine, selector string, from, to time.Time, want map[string]map[int64]float64) {
	t.Helper()
	var diff []string
	deadline := time.Now().Add(60 * time.Second)
	for {
		got, err := e.read(context.Background(), selector, from, to)
		if err != nil {
			t.Fatalf("read back from %s: %v", e.Kind, err)
		}
		diff = diffSamples(got, want)
		if len(diff) == 0 {
			return
		}
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	if len(diff) > 20 {
		diff = append(diff[:20], fmt.Sprintf("... and %d more", len(diff)-20))
	}
	t.Fatalf("%s holds other samples than were acknowledged:\n%s\n%s log:\n%s", e.Kind, strings.Join(diff, "\n"), e.Kind, e.LogTail())
}

func diffSamples(got, want map[string]map[int64]float64) []string {
	var diff []string
	for _, k := range sortedKeys(want) {
		for ts, v := range want[k] {
			g, ok := got[k][ts]
			switch {
			case !ok:
				diff = append(diff, fmt.Sprintf("missing %s %d %v", k, ts, v))
			case g != v:
				diff = append(diff, fmt.Sprintf("%s %d: got %v, want %v", k, ts, g, v))
			}
		}
	}
	for _, k := range sortedKeys(got) {
		for ts, v := range got[k] {
			if _, ok := want[k][ts]; !ok {
				diff = append(diff, fmt.Sprintf("unexpected %s %d %v", k, ts, v))
			}
		}
	}
	return diff
}

func TestIntegrationVictoriaMetrics(t *testing.T) { testEngineRoundTrip(t, victoriaMetrics) }
func TestIntegrationPrometheus(t *testing.T)      { testEngineRoundTrip(t, prometheusKind) }

// testEngineRoundTrip writes series through the queue to a real engine,
// the older half after the newer one was delivered (an agent's backlog,
// out of order), and reads back exactly the values and millisecond
// timestamps written.
func testEngineRoundTrip(t *testing.T, kind string) {
	if testing.Short() {
		t.Skip("starts " + kind + " (integration; skipped with -short)")
	}
	t.Parallel()
	e := startEngine(t, kind)
	q := openQueue(t, Options{Endpoints: []Endpoint{{Name: "engine", URL: e.WriteURL()}}, MaxSamplesPerRequest: 100})
	run(t, q)
	now := time.Now().Truncate(time.Second)
	from := now.Add(-2 * time.Hour)
	want := map[string]map[int64]float64{}
	batch := func(newer bool) map[string][]point {
		out := map[string][]point{}
		for s := range 3 {
			name := fmt.Sprintf(`pantau_it_rtt_seconds{site="opd-%02d",target="10.0.0.%d"}`, s, s+1)
			key := parseLabels(t, name).String()
			if want[key] == nil {
				want[key] = map[int64]float64{}
			}
			for i := range 240 { // one every 30 s over 2 h
				ts := from.Add(time.Duration(i)*30*time.Second).UnixMilli() + int64(s*7+i%1000) // odd milliseconds
				if (ts >= now.Add(-time.Hour).UnixMilli()) != newer {
					continue
				}
				v := float64(i)*0.25 + float64(s) + 0.003
				out[name] = append(out[name], point{T: ts, V: v})
				want[key][ts] = v
			}
		}
		return out
	}
	write(t, q, batch(true))
	waitDrained(t, q, "engine", drainTimeout)
	write(t, q, batch(false)) // older than what the engine already has
	waitDrained(t, q, "engine", drainTimeout)
	if v := q.m.samples.WithLabelValues("engine", "dropped"); testutil.ToFloat64(v) != 0 {
		t.Fatalf("%s rejected samples", kind)
	}
	expectStored(t, e, `{__name__="pantau_it_rtt_seconds"}`, from, now, want)
}

func TestIntegrationOutageVictoriaMetrics(t *testing.T) { testEngineOutage(t, victoriaMetrics) }
func TestIntegrationOutagePrometheus(t *testing.T)      { testEngineOutage(t, prometheusKind) }

// testEngineOutage appends and syncs ~500 samples/s through the queue while
// the engine is stopped and restarted on the same data directory and port,
// then finds every acknowledged sample in the engine. The outage lasts
// until the queue has failed many requests (its backoff reached the cap)
// and holds at least ten seconds of load; the load goes on after the
// restart until the backlog is delivered, so the queue drains it while new
// writes arrive. The test waits on the queue's counters, not the clock.
func testEngineOutage(t *testing.T, kind string) {
	if testing.Short() {
		t.Skip("starts " + kind + " (integration; skipped with -short)")
	}
	t.Parallel()
	const (
		seriesN    = 50
		tick       = 100 * time.Millisecond // seriesN samples per tick: 500/s
		maxTicks   = 1800                   // at most 3 minutes of load
		maxBackoff = 2 * time.Second
		failures   = 24            // failed requests during the outage: past the backoff cap on every shard
		backlog    = 100 * seriesN // samples queued during the outage: 10 s of load
	)
	e := startEngine(t, kind)
	q := openQueue(t, Options{Endpoints: []Endpoint{{Name: "engine", URL: e.WriteURL(), Timeout: 10 * time.Second}},
		MinBackoff: 50 * time.Millisecond, MaxBackoff: maxBackoff})
	run(t, q)
	sent := func() float64 { return testutil.ToFloat64(q.m.samples.WithLabelValues("engine", "sent")) }
	failed := func() float64 { return testutil.ToFloat64(q.m.requests.WithLabelValues("engine", "error")) }

	names := make([]labels.Labels, seriesN)
	for s := range names {
		names[s] = labels.FromStrings("__name__", "pantau_outage_value", "series", strconv.Itoa(s))
	}
	start := time.Now().Truncate(time.Second)
	ctx, stopLoad := context.WithCancel(context.Background())
	defer stopLoad()
	type result struct {
		acked int // ticks acknowledged, all of 0..acked-1
		err   error
	}
	loaded := make(chan result, 1)
	go func() {
		tk := time.NewTicker(tick)
		defer tk.Stop()
		k := 0
		for ; k < maxTicks; k++ {
			select {
			case <-ctx.Done():
				loaded <- result{acked: k}
				return
			case <-tk.C:
			}
			app := q.Appender(nil)
			for s, l := range names {
				app.Append(0, l, start.Add(time.Duration(k)*tick).UnixMilli(), float64(k)*0.25+float64(s))
			}
			if err := app.Commit(); err != nil {
				loaded <- result{acked: k, err: err}
				return
			}
			if err := q.Sync(); err != nil {
				loaded <- result{acked: k, err: err}
				return
			}
		}
		loaded <- result{acked: k}
	}()

	// Before: the engine takes the live load.
	waitFor(t, time.Minute, kind+" to take 2 s of load", func() bool { return sent() >= 20*seriesN })
	if kind == victoriaMetrics {
		// VictoriaMetrics acknowledges a write before its in-memory
		// buffers reach disk (it flushes them every second and at a clean
		// shutdown), so a kill -9 of it can lose its own last second of
		// acknowledged data: that would be its loss, not the queue's.
		// Stop it cleanly.
		e.Stop(syscall.SIGTERM)
	} else {
		// Prometheus writes an accepted request to its WAL before it
		// answers, so SIGKILL loses nothing it acknowledged.
		e.Stop(syscall.SIGKILL)
	}
	down := time.Now()
	failedBefore := failed()
	waitFor(t, 2*time.Minute, fmt.Sprintf("%d failed requests and %d samples queued while %s is down", failures, backlog, kind), func() bool {
		_, n, _ := q.Pending("engine")
		return failed()-failedBefore >= failures && n >= backlog
	})
	outage := time.Since(down)
	_, queued, _ := q.Pending("engine")
	sentBefore := sent()
	e.Restart()
	// After: the backlog is delivered while the load goes on.
	waitFor(t, 2*time.Minute, fmt.Sprintf("%s to take the %d queued samples", kind, queued), func() bool {
		return sent()-sentBefore >= float64(queued)
	})
	stopLoad()
	res := <-loaded
	if res.err != nil {
		t.Fatal(res.err)
	}
	waitDrained(t, q, "engine", 2*time.Minute)
	if v := testutil.ToFloat64(q.m.samples.WithLabelValues("engine", "dropped")); v != 0 {
		t.Fatalf("%s rejected %g samples", kind, v)
	}
	want := map[string]map[int64]float64{}
	for s, l := range names {
		m := map[int64]float64{}
		for k := range res.acked {
			m[start.Add(time.Duration(k)*tick).UnixMilli()] = float64(k)*0.25 + float64(s)
		}
		want[l.String()] = m
	}
	end := start.Add(time.Duration(res.acked) * tick)
	t.Logf("%d samples acknowledged over %s, engine down for %s (%d samples queued, %g failed requests)",
		res.acked*seriesN, end.Sub(start).Round(time.Second), outage.Round(time.Millisecond), queued, failed()-failedBefore)
	expectStored(t, e, `{__name__="pantau_outage_value"}`, start, end, want)
}
