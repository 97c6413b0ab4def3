package collector

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/tsdb"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
)

// The collector's own pantau_ series are stored, others are not, and a
// series that disappears (a link removed from the inventory) is marked
// stale at the next scrape.
func TestScrapeOnceStoresOwnSeriesAndMarksGoneStale(t *testing.T) {
	db, err := tsdb.Open(t.TempDir(), nil, nil, tsdb.DefaultOptions(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	reg := prometheus.NewRegistry()
	state := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "pantau_link_state", Help: "h"}, []string{"link"})
	other := prometheus.NewGauge(prometheus.GaugeOpts{Name: "go_thing", Help: "h"})
	hist := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "pantau_collector_x_seconds", Help: "h", Buckets: []float64{1}})
	reg.MustRegister(state, other, hist)
	state.WithLabelValues("a").Set(1)
	state.WithLabelValues("b").Set(0)
	hist.Observe(0.5)
	ctx := context.Background()
	t0 := time.Unix(1790000000, 0)
	last := map[uint64]labels.Labels{}
	if err := scrapeOnce(ctx, reg, db.Appender(ctx), t0, "", last); err != nil {
		t.Fatal(err)
	}
	state.DeleteLabelValues("b")
	if err := scrapeOnce(ctx, reg, db.Appender(ctx), t0.Add(15*time.Second), "", last); err != nil {
		t.Fatal(err)
	}
	q, err := db.Querier(t0.UnixMilli()-1, t0.Add(time.Minute).UnixMilli())
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	got := map[string][]float64{}
	ss := q.Select(ctx, false, nil, labels.MustNewMatcher(labels.MatchRegexp, "__name__", ".+"))
	for ss.Next() {
		s := ss.At()
		it := s.Iterator(nil)
		for it.Next() == chunkenc.ValFloat {
			_, v := it.At()
			got[s.Labels().String()] = append(got[s.Labels().String()], v)
		}
	}
	if a := got[`{__name__="pantau_link_state", link="a"}`]; len(a) != 2 || a[0] != 1 || a[1] != 1 {
		t.Errorf("link a: %v", a)
	}
	if b := got[`{__name__="pantau_link_state", link="b"}`]; len(b) != 2 || b[0] != 0 || !value.IsStaleNaN(b[1]) {
		t.Errorf("link b, removed: %v, want 0 then a staleness marker", b)
	}
	if c := got[`{__name__="pantau_collector_x_seconds_bucket", le="+Inf"}`]; len(c) != 2 || c[0] != 1 {
		t.Errorf("histogram +Inf bucket: %v", c)
	}
	if _, ok := got[`{__name__="go_thing"}`]; ok {
		t.Error("a non-pantau series was stored")
	}
}
