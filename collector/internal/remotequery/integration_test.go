package remotequery

import (
	"context"
	"log/slog"
	"math"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/util/annotations"
)

// integrationData is three days of 60 s samples, ending ten minutes
// ago, for four series; timestamps carry milliseconds (…, .007, .014).
// Values are short decimals (an integer divided by a power of ten),
// which VictoriaMetrics' decimal encoding keeps exactly. start and end
// are the first and last timestamp.
func integrationData(now time.Time) (start, end int64, ss []testSeries) {
	first := now.Add(-10*time.Minute-3*day).UnixMilli()/1000*1000 - 456
	ss = []testSeries{
		{lset: labels.FromStrings("__name__", "pantau_icmp_rtt_seconds", "site", "jakarta", "target", "10.0.0.1")},
		{lset: labels.FromStrings("__name__", "pantau_icmp_rtt_seconds", "site", "bandung — ü \"q\" \\ \n2", "target", "10.0.0.2")},
		{lset: labels.FromStrings("__name__", "pantau_icmp_loss_ratio", "site", "jakarta", "target", "10.0.0.1")},
		{lset: labels.FromStrings("__name__", "pantau_interface_receive_bytes_total", "device", "r1", "ifname", "ge-0/0/1")},
	}
	for i := int64(0); i <= 3*24*60; i++ {
		ts := first + i*60_000 + (i*7)%1000
		ss[0].t, ss[0].v = append(ss[0].t, ts), append(ss[0].v, float64(1500+125*(i%997))/1e6)
		ss[1].t, ss[1].v = append(ss[1].t, ts+30_000), append(ss[1].v, float64((i*37)%1013)/1000)
		ss[2].t, ss[2].v = append(ss[2].t, ts), append(ss[2].v, float64(i%5)/4)
		ss[3].t, ss[3].v = append(ss[3].t, ts+1), append(ss[3].v, float64(i*123_456))
	}
	return first, ss[1].t[len(ss[1].t)-1], ss
}

func TestIntegrationVictoriaMetrics(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test (starts victoria-metrics)")
	}
	e := startVictoriaMetrics(t)
	start, end, ss := integrationData(time.Now())
	vmImport(t, e.base, ss)
	special := specialSeries(start)
	remoteWrite(t, e.base+"/api/v1/write", []testSeries{special})
	checkEngine(t, e, start, end, ss)

	// VictoriaMetrics drops the NaN at ingestion and returns the stale
	// marker, which this package turns back into one.
	got := selectOne(t, e, special, start, end)
	want := testSeries{lset: special.lset, t: []int64{special.t[0], special.t[2], special.t[3], special.t[4], special.t[5]},
		v: []float64{1.25, math.Inf(1), math.Inf(-1), math.Float64frombits(value.StaleNaN), 2}}
	compareSeries(t, e.name, []testSeries{want}, []testSeries{got})
}

func TestIntegrationPrometheus(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test (starts prometheus)")
	}
	e := startPrometheus(t)
	start, end, ss := integrationData(time.Now())
	remoteWrite(t, e.base+"/api/v1/write", ss)
	special := specialSeries(start)
	remoteWrite(t, e.base+"/api/v1/write", []testSeries{special})
	checkEngine(t, e, start, end, ss)

	// Prometheus returns the NaN and drops the stale marker.
	got := selectOne(t, e, special, start, end)
	want := testSeries{lset: special.lset, t: []int64{special.t[0], special.t[1], special.t[2], special.t[3], special.t[5]},
		v: []float64{1.25, math.NaN(), math.Inf(1), math.Inf(-1), 2}}
	compareSeries(t, e.name, []testSeries{want}, []testSeries{got})
}

// TestIntegrationVictoriaMetricsLatencyOffset checks that Selects see
// the newest seconds although -search.latencyOffset keeps its default
// of 30s: range-selector queries skip it.
func TestIntegrationVictoriaMetricsLatencyOffset(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test (starts victoria-metrics)")
	}
	e := startVictoriaMetrics(t, "-search.latencyOffset", "30s")
	now := time.Now().UnixMilli()
	s := testSeries{lset: labels.FromStrings("__name__", "fresh")}
	for ts := now - 20_000; ts <= now; ts += 1000 {
		s.t, s.v = append(s.t, ts), append(s.v, float64(ts%1000))
	}
	remoteWrite(t, e.base+"/api/v1/write", []testSeries{s})
	q := newQueryable(t, Options{URL: e.base})
	name := labels.MustNewMatcher(labels.MatchEqual, "__name__", "fresh")
	waitSamples(t, e, q, []*labels.Matcher{name}, now-60_000, now+1000, len(s.t))
	got, err := selectAll(context.Background(), q, now-60_000, time.Now().UnixMilli(), name)
	if err != nil {
		t.Fatal(err)
	}
	compareSeries(t, e.name, []testSeries{s}, got)
}

// specialSeries holds the values JSON spells as strings: NaN, ±Inf
// and a Prometheus stale marker.
func specialSeries(start int64) testSeries {
	t0 := start + day.Milliseconds() + 333
	return testSeries{
		lset: labels.FromStrings("__name__", "pantau_special", "kind", "nan-inf-stale"),
		t:    []int64{t0, t0 + 60_000, t0 + 120_000, t0 + 180_000, t0 + 240_000, t0 + 300_000},
		v:    []float64{1.25, math.NaN(), math.Inf(1), math.Inf(-1), math.Float64frombits(value.StaleNaN), 2},
	}
}

func selectOne(t *testing.T, e *engine, s testSeries, start, end int64) testSeries {
	t.Helper()
	q := newQueryable(t, Options{URL: e.base, Chunk: day})
	got, err := selectAll(context.Background(), q, start, end, labels.MustNewMatcher(labels.MatchEqual, "__name__", s.lset.Get("__name__")))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("%s: %d series of %s, want 1", e.name, len(got), s.lset)
	}
	return got[0]
}

// checkEngine reads the written series back through a Queryable and
// runs PromQL over it.
func checkEngine(t *testing.T, e *engine, start, end int64, ss []testSeries) {
	total := 0
	for _, s := range ss {
		total += len(s.t)
	}
	q := newQueryable(t, Options{URL: e.base, Chunk: day, Logger: slog.New(slog.DiscardHandler)})
	anyPantau := labels.MustNewMatcher(labels.MatchRegexp, "__name__", "pantau_(icmp|interface)_.*")
	waitSamples(t, e, q, []*labels.Matcher{anyPantau}, start, end, total)
	ctx := context.Background()

	t.Run("select everything in day chunks", func(t *testing.T) {
		got, err := selectAll(ctx, q, start-day.Milliseconds(), end+time.Hour.Milliseconds(), anyPantau)
		if err != nil {
			t.Fatal(err)
		}
		compareSeries(t, e.name, sortedCopy(ss), got)
	})

	t.Run("matcher types and escaping", func(t *testing.T) {
		m := labels.MustNewMatcher
		for _, tc := range []struct {
			name string
			ms   []*labels.Matcher
			want []int // indexes into ss
		}{
			{"equal nasty value", []*labels.Matcher{m(labels.MatchEqual, "site", ss[1].lset.Get("site"))}, []int{1}},
			{"regexp", []*labels.Matcher{m(labels.MatchRegexp, "__name__", "pantau_icmp_.+"), m(labels.MatchRegexp, "target", `10\.0\.0\.1`)}, []int{0, 2}},
			{"not equal", []*labels.Matcher{anyPantau, m(labels.MatchNotEqual, "site", "jakarta")}, []int{1, 3}},
			// "." matches the newline in the value on every engine.
			{"not regexp", []*labels.Matcher{anyPantau, m(labels.MatchNotRegexp, "site", "bandung.*")}, []int{0, 2, 3}},
			{"regexp dot over newline", []*labels.Matcher{m(labels.MatchRegexp, "site", "band.*2")}, []int{1}},
			{"regexp on nasty value", []*labels.Matcher{m(labels.MatchRegexp, "site", `bandung — ü "q" \\ \n2`)}, []int{1}},
			{"label absent", []*labels.Matcher{anyPantau, m(labels.MatchEqual, "site", "")}, []int{3}},
			// Both match the empty string: __name__=~".+" is added.
			{"empty-matching only", []*labels.Matcher{m(labels.MatchRegexp, "ifname", "(ge-0/0/1)?"), m(labels.MatchRegexp, "device", "r1|")}, []int{0, 1, 2, 3}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				// Six hours of the last day: fast, and without the
				// special series of the second day.
				from, to := start+2*day.Milliseconds(), start+2*day.Milliseconds()+6*time.Hour.Milliseconds()
				got, err := selectAll(ctx, q, from, to, tc.ms...)
				if err != nil {
					t.Fatal(err)
				}
				var want []testSeries
				for _, i := range tc.want {
					want = append(want, trim(ss[i], from, to))
				}
				compareSeries(t, e.name, sortedCopy(want), got)
			})
		}
	})

	t.Run("inclusive millisecond bounds", func(t *testing.T) {
		s := ss[0]
		for _, k := range []int{1, 1440, 1441, 2000} {
			from, to := s.t[k], s.t[k+1500]
			got, err := selectAll(ctx, q, from, to, labels.MustNewMatcher(labels.MatchEqual, "target", "10.0.0.1"),
				labels.MustNewMatcher(labels.MatchEqual, "__name__", "pantau_icmp_rtt_seconds"))
			if err != nil {
				t.Fatal(err)
			}
			compareSeries(t, e.name, []testSeries{trim(s, from, to)}, got)
		}
	})

	t.Run("labels", func(t *testing.T) {
		qr, _ := q.Querier(start, end)
		defer qr.Close()
		vals, _, err := qr.LabelValues(ctx, "site", nil, anyPantau)
		if want := []string{ss[1].lset.Get("site"), "jakarta"}; err != nil || !slices.Equal(vals, want) {
			t.Errorf("LabelValues(site) = %q, %v; want %q", vals, err, want)
		}
		names, _, err := qr.LabelNames(ctx, nil, labels.MustNewMatcher(labels.MatchEqual, "__name__", "pantau_interface_receive_bytes_total"))
		if want := []string{"__name__", "device", "ifname"}; err != nil || !slices.Equal(names, want) {
			t.Errorf("LabelNames = %q, %v; want %q", names, err, want)
		}
		set := qr.Select(ctx, true, &storage.SelectHints{Func: "series"}, labels.MustNewMatcher(labels.MatchEqual, "target", "10.0.0.1"))
		var got []string
		for set.Next() {
			got = append(got, set.At().Labels().String())
		}
		if want := []string{ss[2].lset.String(), ss[0].lset.String()}; set.Err() != nil || !slices.Equal(got, want) {
			t.Errorf("series = %q, %v; want %q", got, set.Err(), want)
		}
	})

	t.Run("promql", func(t *testing.T) {
		engine := promql.NewEngine(promql.EngineOpts{
			Logger:        slog.New(slog.DiscardHandler),
			MaxSamples:    10_000_000,
			Timeout:       time.Minute,
			LookbackDelta: 5 * time.Minute,
			Parser:        parser.NewParser(parser.Options{}),
		})
		ref := memQueryable(ss)
		at := time.UnixMilli(ss[0].t[3000] + 20_000) // inside the last day
		for _, qs := range []string{
			`max_over_time(pantau_icmp_rtt_seconds[1h])`,
			`quantile_over_time(0.95, pantau_icmp_rtt_seconds[1d])`,
			`avg_over_time(pantau_icmp_loss_ratio[2d])`,
			`rate(pantau_interface_receive_bytes_total[5m])`,
			`pantau_icmp_rtt_seconds > 0.1`,
		} {
			got := instant(t, engine, q, qs, at)
			want := instant(t, engine, ref, qs, at)
			if len(got) == 0 || !sameVector(got, want) {
				t.Errorf("%s on %s:\n got %v\nwant %v", qs, e.name, got, want)
			}
		}
		// Independently of PromQL: max_over_time from the samples.
		got := instant(t, engine, q, `max_over_time(pantau_icmp_rtt_seconds{site="jakarta"}[1h])`, at)
		wantMax := math.Inf(-1)
		for i, ts := range ss[0].t {
			if ts > at.UnixMilli()-time.Hour.Milliseconds() && ts <= at.UnixMilli() {
				wantMax = max(wantMax, ss[0].v[i])
			}
		}
		if len(got) != 1 || got[0].F != wantMax {
			t.Errorf("max_over_time = %v, want %g", got, wantMax)
		}
		// A range query across all three day-windows.
		rq, err := engine.NewRangeQuery(ctx, q, nil, `sum by (device) (increase(pantau_interface_receive_bytes_total[1h]))`,
			time.UnixMilli(start), time.UnixMilli(end), time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		gotM, err := rq.Exec(ctx).Matrix()
		if err != nil {
			t.Fatal(err)
		}
		rq, _ = engine.NewRangeQuery(ctx, ref, nil, `sum by (device) (increase(pantau_interface_receive_bytes_total[1h]))`,
			time.UnixMilli(start), time.UnixMilli(end), time.Hour)
		wantM, err := rq.Exec(ctx).Matrix()
		if err != nil {
			t.Fatal(err)
		}
		if len(gotM) != 1 || len(wantM) != 1 || len(gotM[0].Floats) < 70 || !slices.Equal(gotM[0].Floats, wantM[0].Floats) {
			t.Errorf("range query: got %v, want %v", gotM, wantM)
		}
	})
}

func instant(t *testing.T, engine *promql.Engine, q storage.Queryable, qs string, at time.Time) promql.Vector {
	t.Helper()
	qry, err := engine.NewInstantQuery(context.Background(), q, nil, qs, at)
	if err != nil {
		t.Fatal(err)
	}
	res := qry.Exec(context.Background())
	v, err := res.Vector()
	if err != nil {
		t.Fatalf("%s: %v", qs, err)
	}
	sort.Slice(v, func(i, j int) bool { return labels.Compare(v[i].Metric, v[j].Metric) < 0 })
	return v
}

func sameVector(a, b promql.Vector) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !labels.Equal(a[i].Metric, b[i].Metric) || a[i].T != b[i].T || math.Float64bits(a[i].F) != math.Float64bits(b[i].F) {
			return false
		}
	}
	return true
}

// compareSeries wants the same series, timestamps and value bits.
func compareSeries(t *testing.T, engine string, want, got []testSeries) {
	t.Helper()
	if len(got) != len(want) {
		var names []string
		for _, s := range got {
			names = append(names, s.lset.String())
		}
		t.Fatalf("%s: %d series %q, want %d", engine, len(got), names, len(want))
	}
	for i := range want {
		w, g := want[i], got[i]
		if !labels.Equal(w.lset, g.lset) {
			t.Fatalf("%s: series %d is %s, want %s", engine, i, g.lset, w.lset)
		}
		if len(g.t) != len(w.t) {
			t.Fatalf("%s: %s has %d samples, want %d\n got %s\nwant %s", engine, w.lset, len(g.t), len(w.t), describe(g), describe(w))
		}
		for j := range w.t {
			if g.t[j] != w.t[j] || !sameFloat(g.v[j], w.v[j]) {
				t.Fatalf("%s: %s sample %d is %d %g (bits %x), want %d %g (bits %x)", engine, w.lset, j,
					g.t[j], g.v[j], math.Float64bits(g.v[j]), w.t[j], w.v[j], math.Float64bits(w.v[j]))
			}
		}
	}
}

func trim(s testSeries, from, to int64) testSeries {
	out := testSeries{lset: s.lset}
	for i, ts := range s.t {
		if ts >= from && ts <= to {
			out.t, out.v = append(out.t, ts), append(out.v, s.v[i])
		}
	}
	return out
}

func sortedCopy(ss []testSeries) []testSeries {
	out := slices.Clone(ss)
	slices.SortFunc(out, func(a, b testSeries) int { return labels.Compare(a.lset, b.lset) })
	return out
}

// memQueryable is the reference: the written samples in memory.
type memQueryable []testSeries

func (m memQueryable) Querier(mint, maxt int64) (storage.Querier, error) {
	return memQuerier{ss: m, mint: mint, maxt: maxt}, nil
}

type memQuerier struct {
	ss         []testSeries
	mint, maxt int64
}

func (q memQuerier) Select(_ context.Context, _ bool, hints *storage.SelectHints, ms ...*labels.Matcher) storage.SeriesSet {
	from, to := q.mint, q.maxt
	if hints != nil {
		from, to = max(from, hints.Start), min(to, hints.End)
	}
	set := &seriesSet{}
next:
	for _, s := range q.ss {
		for _, m := range ms {
			if !m.Matches(s.lset.Get(m.Name)) {
				continue next
			}
		}
		out := &series{lset: s.lset}
		for i, ts := range s.t {
			if ts >= from && ts <= to {
				out.samples = append(out.samples, fSample{ts, s.v[i]})
			}
		}
		if len(out.samples) > 0 {
			set.series = append(set.series, out)
		}
	}
	sortSeries(set.series)
	return set
}

func (memQuerier) LabelValues(context.Context, string, *storage.LabelHints, ...*labels.Matcher) ([]string, annotations.Annotations, error) {
	return nil, nil, nil
}

func (memQuerier) LabelNames(context.Context, *storage.LabelHints, ...*labels.Matcher) ([]string, annotations.Annotations, error) {
	return nil, nil, nil
}

func (memQuerier) Close() error { return nil }
