package storage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"sync"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
)

// ReadOnly serves queriers of a TSDB opened read-only, beside a running
// collector (the report, inventory and sla commands). DBReadOnly loads
// its head into a sandbox once per Querier call and refuses a second one,
// so one querier over all time is made once and each caller gets a view
// bounded to its range that does not close it.
type ReadOnly struct {
	db   *tsdb.DBReadOnly
	once sync.Once
	q    storage.Querier
	err  error
}

// OpenReadOnly opens the TSDB in dir (the data directory's tsdb/)
// without taking its lock, so that commands work beside a running
// daemon.
func OpenReadOnly(dir string, log *slog.Logger) (*ReadOnly, error) {
	if _, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("no TSDB in %s: %w", dir, err)
	}
	db, err := tsdb.OpenDBReadOnly(dir, "", log)
	if err != nil {
		return nil, fmt.Errorf("open TSDB %s read-only: %w", dir, err)
	}
	return &ReadOnly{db: db}, nil
}

// Querier implements storage.Queryable.
func (r *ReadOnly) Querier(mint, maxt int64) (storage.Querier, error) {
	r.once.Do(func() { r.q, r.err = r.db.Querier(math.MinInt64, math.MaxInt64) })
	if r.err != nil {
		return nil, r.err
	}
	return boundedQuerier{Querier: r.q, mint: mint, maxt: maxt}, nil
}

// Close closes the shared querier, then the database: DBReadOnly.Close
// waits for every querier it handed out, so closing the database first
// blocks for ever (a finished report that never exits).
func (r *ReadOnly) Close() error {
	var errs []error
	if r.q != nil {
		if err := r.q.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close querier: %w", err))
		}
	}
	if err := r.db.Close(); err != nil {
		errs = append(errs, fmt.Errorf("close read-only TSDB: %w", err))
	}
	return errors.Join(errs...)
}

// boundedQuerier keeps only samples in [mint, maxt] and series with one.
type boundedQuerier struct {
	storage.Querier
	mint, maxt int64
}

func (b boundedQuerier) Close() error { return nil }

func (b boundedQuerier) Select(ctx context.Context, sorted bool, hints *storage.SelectHints, ms ...*labels.Matcher) storage.SeriesSet {
	return &boundedSet{SeriesSet: b.Querier.Select(ctx, sorted, hints, ms...), mint: b.mint, maxt: b.maxt}
}

type boundedSet struct {
	storage.SeriesSet
	mint, maxt int64
	cur        storage.Series
}

func (s *boundedSet) Next() bool {
	for s.SeriesSet.Next() {
		sr := s.SeriesSet.At()
		it := sr.Iterator(nil)
		if it.Seek(s.mint) != chunkenc.ValNone && it.AtT() <= s.maxt {
			s.cur = boundedSeries{Series: sr, mint: s.mint, maxt: s.maxt}
			return true
		}
	}
	return false
}

func (s *boundedSet) At() storage.Series { return s.cur }

type boundedSeries struct {
	storage.Series
	mint, maxt int64
}

func (b boundedSeries) Iterator(chunkenc.Iterator) chunkenc.Iterator {
	return &boundedIter{Iterator: b.Series.Iterator(nil), mint: b.mint, maxt: b.maxt}
}

type boundedIter struct {
	chunkenc.Iterator
	mint, maxt int64
	started    bool
}

func (it *boundedIter) Next() chunkenc.ValueType {
	var vt chunkenc.ValueType
	if !it.started {
		it.started = true
		vt = it.Iterator.Seek(it.mint)
	} else {
		vt = it.Iterator.Next()
	}
	if vt == chunkenc.ValNone || it.Iterator.AtT() > it.maxt {
		return chunkenc.ValNone
	}
	return vt
}

// ReadSeries calls fn with every sample of every series q selects with ms.
func ReadSeries(ctx context.Context, q storage.Querier, ms []*labels.Matcher, fn func(t int64, v float64)) error {
	ss := q.Select(ctx, true, nil, ms...)
	for ss.Next() {
		it := ss.At().Iterator(nil)
		for it.Next() != 0 {
			t, v := it.At()
			fn(t, v)
		}
		if err := it.Err(); err != nil {
			return err
		}
	}
	return ss.Err()
}
