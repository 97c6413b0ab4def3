package remotewrite

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"

	"github.com/klauspost/compress/snappy"
	"github.com/prometheus/prometheus/model/exemplar"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/metadata"
	"github.com/prometheus/prometheus/storage"
	"google.golang.org/protobuf/encoding/protowire"
)

// ErrHistogramsNotSupported is returned for native histograms in remote-only
// mode (no local TSDB): the queue carries float samples only.
var ErrHistogramsNotSupported = errors.New("remote write: native histograms are not supported (float samples only)")

var (
	errEmptyLabels = errors.New("remote write: sample without labels")
	errFinished    = errors.New("remote write: appender already committed or rolled back")
)

// Appender returns a storage.Appender that passes every call to inner and
// queues, on Commit, the float samples inner accepted. inner may be nil
// (remote only, no local TSDB). Like any storage.Appender it serves one
// transaction and one goroutine.
//
// Native histograms, exemplars, metadata and start-timestamp zero samples
// go to inner only; the collector ingests none of them.
func (q *Queue) Appender(inner storage.Appender) storage.Appender {
	return &appender{q: q, inner: inner}
}

var _ storage.Appender = (*appender)(nil)

type appender struct {
	q       *Queue
	inner   storage.Appender
	series  []labels.Labels
	chain   []int32          // next series with the same hash, or -1
	byHash  map[uint64]int32 // first series with that hash
	samples []sample
	done    bool
}

type sample struct {
	series int32 // index in appender.series
	t      int64
	v      float64
}

// Append appends to inner first and records the sample only if inner
// accepted it.
func (a *appender) Append(ref storage.SeriesRef, l labels.Labels, t int64, v float64) (storage.SeriesRef, error) {
	if a.done {
		return 0, errFinished
	}
	if a.inner != nil {
		r, err := a.inner.Append(ref, l, t, v)
		if err != nil {
			return r, err
		}
		ref = r
	} else {
		if l.IsEmpty() {
			return 0, errEmptyLabels
		}
		ref = 0
	}
	a.samples = append(a.samples, sample{series: a.seriesOf(l), t: t, v: v})
	return ref, nil
}

// seriesOf finds or adds l; labels are matched by value (refs are only a
// hint, and inner's are unknown without inner).
func (a *appender) seriesOf(l labels.Labels) int32 {
	if a.byHash == nil {
		a.byHash = map[uint64]int32{}
	}
	h := l.Hash()
	first, ok := a.byHash[h]
	if ok {
		for i := first; i >= 0; i = a.chain[i] {
			if labels.Equal(a.series[i], l) {
				return i
			}
		}
	}
	i := int32(len(a.series))
	a.series = append(a.series, l)
	a.chain = append(a.chain, -1)
	if ok {
		a.chain[i] = first
	}
	a.byHash[h] = i
	return i
}

// Commit commits inner, then queues what it accepted; it returns once the
// requests are in the file system (Queue.Sync makes them durable).
func (a *appender) Commit() error {
	if a.done {
		return errFinished
	}
	a.done = true
	if a.inner != nil {
		if err := a.inner.Commit(); err != nil {
			return err
		}
	}
	if len(a.samples) == 0 {
		return nil
	}
	// The storage.Appender interface carries no context; queueing is local
	// file I/O that Close interrupts.
	return a.q.queue(context.Background(), a.series, a.samples)
}

// Rollback rolls inner back and forgets the samples.
func (a *appender) Rollback() error {
	a.done = true
	a.series, a.samples, a.byHash, a.chain = nil, nil, nil, nil
	if a.inner != nil {
		return a.inner.Rollback()
	}
	return nil
}

func (a *appender) SetOptions(o *storage.AppendOptions) {
	if a.inner != nil {
		a.inner.SetOptions(o)
	}
}

func (a *appender) AppendExemplar(ref storage.SeriesRef, l labels.Labels, e exemplar.Exemplar) (storage.SeriesRef, error) {
	if a.inner != nil {
		return a.inner.AppendExemplar(ref, l, e)
	}
	return 0, nil
}

func (a *appender) AppendHistogram(ref storage.SeriesRef, l labels.Labels, t int64, h *histogram.Histogram, fh *histogram.FloatHistogram) (storage.SeriesRef, error) {
	if a.inner != nil {
		return a.inner.AppendHistogram(ref, l, t, h, fh)
	}
	return 0, ErrHistogramsNotSupported
}

func (a *appender) AppendHistogramSTZeroSample(ref storage.SeriesRef, l labels.Labels, t, st int64, h *histogram.Histogram, fh *histogram.FloatHistogram) (storage.SeriesRef, error) {
	if a.inner != nil {
		return a.inner.AppendHistogramSTZeroSample(ref, l, t, st, h, fh)
	}
	return 0, ErrHistogramsNotSupported
}

func (a *appender) UpdateMetadata(ref storage.SeriesRef, l labels.Labels, m metadata.Metadata) (storage.SeriesRef, error) {
	if a.inner != nil {
		return a.inner.UpdateMetadata(ref, l, m)
	}
	return 0, nil
}

func (a *appender) AppendSTZeroSample(ref storage.SeriesRef, l labels.Labels, t, st int64) (storage.SeriesRef, error) {
	if a.inner != nil {
		return a.inner.AppendSTZeroSample(ref, l, t, st)
	}
	return 0, nil
}

// buffers holds encoding buffers between commits.
var buffers = sync.Pool{New: func() any { return new([]byte) }}

// queue encodes samples, grouped by series and sorted by time within a
// series, into requests of at most MaxSamplesPerRequest samples and appends
// each to the spool.
func (q *Queue) queue(ctx context.Context, series []labels.Labels, samples []sample) error {
	slices.SortStableFunc(samples, func(a, b sample) int {
		if c := cmp.Compare(a.series, b.series); c != 0 {
			return c
		}
		return cmp.Compare(a.t, b.t)
	})
	raw, comp := buffers.Get().(*[]byte), buffers.Get().(*[]byte)
	defer buffers.Put(raw)
	defer buffers.Put(comp)
	for start := 0; start < len(samples); start += q.o.MaxSamplesPerRequest {
		chunk := samples[start:min(start+q.o.MaxSamplesPerRequest, len(samples))]
		*raw = appendWriteRequest((*raw)[:0], series, chunk)
		*comp = snappy.Encode((*comp)[:cap(*comp)], *raw)
		if _, err := q.sp.Append(ctx, *comp, len(chunk)); err != nil {
			return fmt.Errorf("queue remote-write request in %s: %w", q.o.Dir, err)
		}
	}
	return nil
}

// Protocol buffer encoding of prometheus.WriteRequest (prompb, remote
// write 1.0), written directly: prompb is generated with gogo/protobuf,
// which this module does not depend on, and encoding in place needs no
// intermediate structs. Field numbers from prompb/remote.proto and
// types.proto:
//
//	WriteRequest { repeated TimeSeries timeseries = 1; }
//	TimeSeries   { repeated Label labels = 1; repeated Sample samples = 2; }
//	Label        { string name = 1; string value = 2; }
//	Sample       { double value = 1; int64 timestamp = 2; }
//
// Proto3 leaves out fields at their zero value, as gogo's Marshal does
// (but -0.0, whose bits are not zero, is kept).

// appendWriteRequest appends the WriteRequest of samples (sorted by
// series) to b.
func appendWriteRequest(b []byte, series []labels.Labels, samples []sample) []byte {
	for i := 0; i < len(samples); {
		j := i + 1
		for j < len(samples) && samples[j].series == samples[i].series {
			j++
		}
		b = appendTimeSeries(b, series[samples[i].series], samples[i:j])
		i = j
	}
	return b
}

func appendTimeSeries(b []byte, lset labels.Labels, samples []sample) []byte {
	n := 0
	lset.Range(func(l labels.Label) { n += fieldSize(labelSize(l)) })
	for _, s := range samples {
		n += fieldSize(sampleSize(s))
	}
	b = protowire.AppendTag(b, 1, protowire.BytesType) // WriteRequest.timeseries
	b = protowire.AppendVarint(b, uint64(n))
	lset.Range(func(l labels.Label) {
		b = protowire.AppendTag(b, 1, protowire.BytesType) // TimeSeries.labels
		b = protowire.AppendVarint(b, uint64(labelSize(l)))
		if l.Name != "" {
			b = protowire.AppendTag(b, 1, protowire.BytesType)
			b = protowire.AppendString(b, l.Name)
		}
		if l.Value != "" {
			b = protowire.AppendTag(b, 2, protowire.BytesType)
			b = protowire.AppendString(b, l.Value)
		}
	})
	for _, s := range samples {
		b = protowire.AppendTag(b, 2, protowire.BytesType) // TimeSeries.samples
		b = protowire.AppendVarint(b, uint64(sampleSize(s)))
		if bits := math.Float64bits(s.v); bits != 0 {
			b = protowire.AppendTag(b, 1, protowire.Fixed64Type)
			b = protowire.AppendFixed64(b, bits)
		}
		if s.t != 0 {
			b = protowire.AppendTag(b, 2, protowire.VarintType)
			b = protowire.AppendVarint(b, uint64(s.t))
		}
	}
	return b
}

// fieldSize is the size of an embedded message field (tag < 16) of n bytes.
func fieldSize(n int) int {
	return 1 + protowire.SizeBytes(n)
}

func labelSize(l labels.Label) int {
	n := 0
	if l.Name != "" {
		n += fieldSize(len(l.Name))
	}
	if l.Value != "" {
		n += fieldSize(len(l.Value))
	}
	return n
}

func sampleSize(s sample) int {
	n := 0
	if math.Float64bits(s.v) != 0 {
		n += 1 + 8
	}
	if s.t != 0 {
		n += 1 + protowire.SizeVarint(uint64(s.t))
	}
	return n
}
