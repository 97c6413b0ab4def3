// Package storage is the collector's embedded Prometheus TSDB, opened with
// out-of-order ingestion and retention from the config, plus the group
// commit that makes an acknowledged write durable: appends are committed to
// the TSDB's write-ahead log, and writers then wait for one shared fsync of
// the log instead of paying for one each.
package storage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb"
)

// Options configure Open.
type Options struct {
	Dir              string        // TSDB directory (data_dir/tsdb)
	Retention        time.Duration // delete blocks older than this
	OutOfOrderWindow time.Duration // accept samples this much older than the newest
	// Fsync, when true, makes Sync fsync the write-ahead log. When false,
	// a committed write survives kill -9 (it is in the page cache) but not
	// power loss.
	Fsync  bool
	Logger *slog.Logger
	// Remote, when set, receives every committed sample (the remote-write
	// queue); the group commit fsyncs it with the write-ahead log.
	Remote Remote
	// NoLocal opens no TSDB (remote only): appends go to Remote alone and
	// queries to RemoteQueryable.
	NoLocal         bool
	RemoteQueryable storage.Queryable
}

// Remote is a remote-write queue the store tees its appends into.
type Remote interface {
	// Appender wraps inner (nil without a local TSDB); its Commit queues
	// what inner accepted.
	Appender(inner storage.Appender) storage.Appender
	// Sync makes everything queued so far durable.
	Sync() error
}

// Store is the open TSDB.
type Store struct {
	db     *tsdb.DB // nil when remote only
	remote Remote
	query  storage.Queryable
	dir    string
	fsync  bool
	logger *slog.Logger

	wal, wbl segmentSyncer

	mu      sync.Mutex
	waiters []waiter
	kick    chan struct{}
	done    chan struct{}
	closed  bool

	// OnSync, when set before Run, is called after each successful group
	// sync with the items the waiters passed to Sync.
	OnSync func(items []any)

	syncs        prometheus.Counter
	syncFailures prometheus.Counter
	syncDuration prometheus.Histogram
	syncGroup    prometheus.Histogram
}

type waiter struct {
	item any
	ch   chan error
}

// Open opens or creates the TSDB in o.Dir.
func Open(o Options) (*Store, error) {
	if o.Logger == nil {
		return nil, errors.New("storage: nil logger")
	}
	if o.NoLocal && (o.Remote == nil || o.RemoteQueryable == nil) {
		return nil, errors.New("storage: remote only needs Remote and RemoteQueryable")
	}
	var db *tsdb.DB
	if !o.NoLocal {
		var err error
		if db, err = openTSDB(o); err != nil {
			return nil, err
		}
	}
	s := &Store{
		db:     db,
		remote: o.Remote,
		query:  o.RemoteQueryable,
		dir:    o.Dir,
		fsync:  o.Fsync,
		logger: o.Logger,
		wal:    segmentSyncer{dir: filepath.Join(o.Dir, "wal")},
		wbl:    segmentSyncer{dir: filepath.Join(o.Dir, "wbl")},
		kick:   make(chan struct{}, 1),
		done:   make(chan struct{}),
		syncs: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "pantau_collector_storage_syncs_total",
			Help: "Group commits: fsyncs of the TSDB write-ahead log that acknowledged one or more writes.",
		}),
		syncFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "pantau_collector_storage_sync_failures_total",
			Help: "Group commits whose fsync failed; their writes were answered with 500.",
		}),
		syncDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "pantau_collector_storage_sync_duration_seconds",
			Help:    "Time one group commit spent in fsync.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2.5, 12),
		}),
		syncGroup: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "pantau_collector_storage_sync_group_requests",
			Help:    "Write requests acknowledged by one group commit.",
			Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128},
		}),
	}
	return s, nil
}

func openTSDB(o Options) (*tsdb.DB, error) {
	opts := tsdb.DefaultOptions()
	opts.RetentionDuration = o.Retention.Milliseconds()
	opts.OutOfOrderTimeWindow = o.OutOfOrderWindow.Milliseconds()
	db, err := tsdb.Open(o.Dir, o.Logger.With("component", "tsdb"), nil, opts, nil)
	if err != nil {
		return nil, fmt.Errorf("open TSDB in %s: %w", o.Dir, err)
	}
	return db, nil
}

// DB is the underlying TSDB, for queries; nil when remote only.
func (s *Store) DB() *tsdb.DB { return s.db }

// Local reports whether the store keeps an embedded TSDB.
func (s *Store) Local() bool { return s.db != nil }

// Queryable returns the TSDB as a storage.Queryable, or the engine's when
// remote only.
func (s *Store) Queryable() storage.Queryable {
	if s.db == nil {
		return s.query
	}
	return s.db
}

// Appender starts an append transaction: to the TSDB, to the remote-write
// queue, or to both.
func (s *Store) Appender(ctx context.Context) storage.Appender {
	var inner storage.Appender
	if s.db != nil {
		inner = s.db.Appender(ctx)
	}
	if s.remote != nil {
		return s.remote.Appender(inner)
	}
	return inner
}

// Run performs group commits until ctx ends. It must be running for Sync
// to return.
func (s *Store) Run(ctx context.Context) error {
	defer close(s.done)
	for {
		select {
		case <-ctx.Done():
			s.mu.Lock()
			s.closed = true
			ws := s.waiters
			s.waiters = nil
			s.mu.Unlock()
			// Writes committed before shutdown still get their fsync.
			err := s.syncFiles()
			for _, w := range ws {
				w.ch <- err
			}
			return nil
		case <-s.kick:
		}
		s.mu.Lock()
		ws := s.waiters
		s.waiters = nil
		s.mu.Unlock()
		if len(ws) == 0 {
			continue
		}
		start := time.Now()
		err := s.syncFiles()
		s.syncDuration.Observe(time.Since(start).Seconds())
		s.syncGroup.Observe(float64(len(ws)))
		if err != nil {
			s.syncFailures.Inc()
			s.logger.Error("group commit fsync failed", "dir", s.dir, "err", err)
		} else {
			s.syncs.Inc()
			if s.OnSync != nil {
				items := make([]any, 0, len(ws))
				for _, w := range ws {
					if w.item != nil {
						items = append(items, w.item)
					}
				}
				s.OnSync(items)
			}
		}
		for _, w := range ws {
			w.ch <- err
		}
	}
}

// ErrClosed is returned by Sync after shutdown began.
var ErrClosed = errors.New("storage is shutting down")

// Sync waits until everything committed before the call is durable. item,
// if not nil, is handed to OnSync once it is.
func (s *Store) Sync(ctx context.Context, item any) error {
	ch := make(chan error, 1)
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	s.waiters = append(s.waiters, waiter{item: item, ch: ch})
	s.mu.Unlock()
	select {
	case s.kick <- struct{}{}:
	default:
	}
	select {
	case err := <-ch:
		return err
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

func (s *Store) syncFiles() error {
	if !s.fsync {
		return nil
	}
	var errs []error
	if s.db != nil {
		errs = append(errs, s.wal.sync(), s.wbl.sync())
	}
	if s.remote != nil {
		if err := s.remote.Sync(); err != nil {
			errs = append(errs, fmt.Errorf("fsync remote-write queue: %w", err))
		}
	}
	return errors.Join(errs...)
}

// Close closes the TSDB. Run must have returned.
func (s *Store) Close() error {
	if s.db == nil {
		return nil
	}
	err := s.db.Close()
	s.wal.close()
	s.wbl.close()
	if err != nil {
		return fmt.Errorf("close TSDB in %s: %w", s.dir, err)
	}
	return nil
}

// Collectors returns the store's own metrics and a collector of TSDB
// health, for the caller's registry.
func (s *Store) Collectors() []prometheus.Collector {
	cs := []prometheus.Collector{s.syncs, s.syncFailures, s.syncDuration, s.syncGroup}
	if s.db != nil {
		cs = append(cs, &healthCollector{s: s})
	}
	return cs
}

// segmentSyncer fsyncs the newest segment of a write-ahead log directory.
// fsync acts on the file, not the descriptor, so opening the segment
// ourselves and syncing it flushes what the TSDB wrote through its own.
type segmentSyncer struct {
	dir string
	idx int
	f   *os.File
}

func (g *segmentSyncer) sync() error {
	idx, err := lastSegment(g.dir)
	if err != nil {
		return err
	}
	if idx < 0 {
		return nil // no log yet (wbl before the first out-of-order sample)
	}
	if g.f == nil || idx != g.idx {
		if g.f != nil {
			// The previous segment may hold the start of this group.
			if err := g.f.Sync(); err != nil {
				return fmt.Errorf("fsync %s: %w", g.f.Name(), err)
			}
			g.f.Close()
			g.f = nil
		}
		f, err := os.Open(filepath.Join(g.dir, fmt.Sprintf("%08d", idx)))
		if err != nil {
			return fmt.Errorf("open write-ahead log segment: %w", err)
		}
		g.f, g.idx = f, idx
		// Make the new segment's directory entry durable too.
		if err := syncDir(g.dir); err != nil {
			return err
		}
	}
	if err := g.f.Sync(); err != nil {
		return fmt.Errorf("fsync %s: %w", g.f.Name(), err)
	}
	return nil
}

func (g *segmentSyncer) close() {
	if g.f != nil {
		g.f.Close()
		g.f = nil
	}
}

func lastSegment(dir string) (int, error) {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return -1, nil
	}
	if err != nil {
		return -1, fmt.Errorf("list write-ahead log %s: %w", dir, err)
	}
	last := -1
	for _, e := range ents {
		if n, err := strconv.Atoi(e.Name()); err == nil && n > last {
			last = n
		}
	}
	return last, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open directory %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("fsync directory %s: %w", dir, err)
	}
	return nil
}

// healthCollector reports TSDB size and head state at scrape time.
type healthCollector struct{ s *Store }

var (
	headSeriesDesc = prometheus.NewDesc("pantau_collector_storage_head_series", "Series in the TSDB head (in memory).", nil, nil)
	headMinDesc    = prometheus.NewDesc("pantau_collector_storage_head_min_timestamp_seconds", "Oldest sample time in the TSDB head.", nil, nil)
	headMaxDesc    = prometheus.NewDesc("pantau_collector_storage_head_max_timestamp_seconds", "Newest sample time in the TSDB head.", nil, nil)
	blocksDesc     = prometheus.NewDesc("pantau_collector_storage_blocks", "Persisted TSDB blocks.", nil, nil)
	blocksSizeDesc = prometheus.NewDesc("pantau_collector_storage_blocks_bytes", "Disk used by persisted TSDB blocks.", nil, nil)
	oldestDesc     = prometheus.NewDesc("pantau_collector_storage_oldest_timestamp_seconds", "Oldest sample time held (block or head).", nil, nil)
)

func (h *healthCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{headSeriesDesc, headMinDesc, headMaxDesc, blocksDesc, blocksSizeDesc, oldestDesc} {
		ch <- d
	}
}

func (h *healthCollector) Collect(ch chan<- prometheus.Metric) {
	head := h.s.db.Head()
	ch <- prometheus.MustNewConstMetric(headSeriesDesc, prometheus.GaugeValue, float64(head.NumSeries()))
	if head.NumSeries() > 0 {
		ch <- prometheus.MustNewConstMetric(headMinDesc, prometheus.GaugeValue, float64(head.MinTime())/1e3)
		ch <- prometheus.MustNewConstMetric(headMaxDesc, prometheus.GaugeValue, float64(head.MaxTime())/1e3)
	}
	blocks := h.s.db.Blocks()
	var size int64
	for _, b := range blocks {
		size += b.Size()
	}
	ch <- prometheus.MustNewConstMetric(blocksDesc, prometheus.GaugeValue, float64(len(blocks)))
	ch <- prometheus.MustNewConstMetric(blocksSizeDesc, prometheus.GaugeValue, float64(size))
	if mint, err := h.s.db.StartTime(); err == nil && mint != 0 && (len(blocks) > 0 || head.NumSeries() > 0) {
		ch <- prometheus.MustNewConstMetric(oldestDesc, prometheus.GaugeValue, float64(mint)/1e3)
	}
}
