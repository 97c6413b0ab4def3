package remotequery

import (
	"cmp"
	"slices"

	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/prometheus/prometheus/tsdb/chunks"
	"github.com/prometheus/prometheus/util/annotations"
)

// series is one merged series: float samples sorted by time, one per
// timestamp.
type series struct {
	lset    labels.Labels
	samples floatSamples
}

func (s *series) Labels() labels.Labels { return s.lset }

// Iterator reuses an iterator of this package's making.
func (s *series) Iterator(it chunkenc.Iterator) chunkenc.Iterator {
	if r, ok := it.(interface{ Reset(storage.Samples) }); ok {
		r.Reset(s.samples)
		return it
	}
	return storage.NewListSeriesIterator(s.samples)
}

// normalize sorts the samples by time and keeps the first of equal
// timestamps (window edges can repeat a sample).
func (s *series) normalize() {
	byTime := func(a, b fSample) int { return cmp.Compare(a.t, b.t) }
	if !slices.IsSortedFunc(s.samples, byTime) {
		slices.SortStableFunc(s.samples, byTime)
	}
	s.samples = slices.CompactFunc(s.samples, func(a, b fSample) bool { return a.t == b.t })
}

// fSample is a float sample; a pointer to it is a chunks.Sample.
type fSample struct {
	t int64
	f float64
}

func (s *fSample) T() int64                      { return s.t }
func (s *fSample) ST() int64                     { return 0 }
func (s *fSample) F() float64                    { return s.f }
func (s *fSample) H() *histogram.Histogram       { return nil }
func (s *fSample) FH() *histogram.FloatHistogram { return nil }
func (s *fSample) Type() chunkenc.ValueType      { return chunkenc.ValFloat }
func (s *fSample) Copy() chunks.Sample           { c := *s; return &c }

// floatSamples is a storage.Samples without an allocation per sample.
type floatSamples []fSample

func (s floatSamples) Get(i int) chunks.Sample { return &s[i] }
func (s floatSamples) Len() int                { return len(s) }

// seriesSet is a storage.SeriesSet over series held in memory.
type seriesSet struct {
	series   []*series
	i        int
	warnings annotations.Annotations
}

func (ss *seriesSet) Next() bool {
	if ss.i >= len(ss.series) {
		return false
	}
	ss.i++
	return true
}

func (ss *seriesSet) At() storage.Series                { return ss.series[ss.i-1] }
func (ss *seriesSet) Err() error                        { return nil }
func (ss *seriesSet) Warnings() annotations.Annotations { return ss.warnings }

// errSet is a failed Select that keeps the warnings gathered before.
type errSet struct {
	err      error
	warnings annotations.Annotations
}

func (e errSet) Next() bool                        { return false }
func (e errSet) At() storage.Series                { return nil }
func (e errSet) Err() error                        { return e.err }
func (e errSet) Warnings() annotations.Annotations { return e.warnings }

var (
	_ storage.SeriesSet = (*seriesSet)(nil)
	_ storage.SeriesSet = errSet{}
	_ storage.Samples   = floatSamples(nil)
	_ storage.Series    = (*series)(nil)
	_ storage.Queryable = (*Queryable)(nil)
	_ storage.Querier   = (*querier)(nil)
)
