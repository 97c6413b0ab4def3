// Package storage is the collector's embedded Prometheus TSDB, opened with
// out-of-order ingestion and retention from the config, plus the group
// commit that makes an acknowledged write durable: appends are committed to
// the TSDB's write-ahead log, and writers then wait for one shared fsync of
// the log instead of paying for one each.
//
// A write is acknowledged only when everything it depends on reached the
// disk. After any failure to write or fsync the write-ahead log (WAL), the
// out-of-order log (WBL), the remote-write queue or the state database,
// the store stops acknowledging: every pending and later Sync fails with
// ErrNotDurable until a probe write succeeds and the TSDB has been closed
// and opened again from its log, so that memory and log agree again (a
// failed commit leaves series in memory that the log never got, and the
// TSDB keeps out-of-order samples in memory whose WBL write failed).
// Before every open, damaged log segments are repaired without deleting
// anything (repair.go).
package storage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
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
	// CorruptDir receives damaged files the repair sets aside; default
	// <Dir>/../corrupt (data_dir/corrupt).
	CorruptDir string
	// ProbeDirs are probed, besides Dir, before writes resume after a
	// failure (the state database's and the remote queue's directories).
	ProbeDirs []string
	// WALSegmentSize is the size of WAL and WBL segments; 0 means
	// Prometheus's 128 MiB (tests use small ones).
	WALSegmentSize int
}

// Remote is a remote-write queue the store tees its appends into.
type Remote interface {
	// Appender wraps inner (nil without a local TSDB); its Commit queues
	// what inner accepted.
	Appender(inner storage.Appender) storage.Appender
	// Sync makes everything queued so far durable.
	Sync() error
}

// ErrNotDurable is matched (errors.Is) by the error Sync returns when the
// store does not acknowledge writes: the write may be lost and must be
// sent again later.
var ErrNotDurable = errors.New("storage not writable")

// NotDurableError says why a write was not acknowledged.
type NotDurableError struct {
	Reason string
	Since  time.Time
}

func (e *NotDurableError) Error() string {
	return fmt.Sprintf("storage not writable since %s (%s): the write was not stored; send it again later",
		e.Since.UTC().Format(time.RFC3339), e.Reason)
}

// Is makes errors.Is(err, ErrNotDurable) true.
func (e *NotDurableError) Is(target error) bool { return target == ErrNotDurable }

// RetryAfter is how long a writer should wait before sending again.
func (*NotDurableError) RetryAfter() time.Duration { return retryAfter }

const retryAfter = 5 * time.Second

// Failure kinds (the kind label of pantau_collector_storage_write_failures_total).
const (
	FailWAL         = "wal_write"
	FailWBL         = "wbl_write"
	FailFsync       = "fsync"
	FailRemoteQueue = "remote_queue"
	FailStateDB     = "state_db"
	FailProbe       = "probe" // the probe write at start
)

var failKinds = []string{FailWAL, FailWBL, FailFsync, FailRemoteQueue, FailStateDB, FailProbe}

// Store is the open TSDB.
type Store struct {
	o      Options
	remote Remote
	rq     storage.Queryable
	logger *slog.Logger

	cur  atomic.Pointer[handle] // the open TSDB; nil while it is reopened (or remote only)
	apps gate                   // appenders of cur
	qrs  gate                   // queriers of cur
	excl sync.Mutex             // serialises reopening and backups

	wal, wbl segmentSyncer

	mu      sync.Mutex
	waiters []waiter
	kick    chan struct{}
	closed  bool

	health   sync.Mutex
	writable bool
	reason   string
	since    time.Time
	reopen   bool          // the TSDB must be reopened before writes resume
	wake     chan struct{} // starts recovery
	failed   sync.Map      // context.Context -> error: commits that were not durable

	// OnSync, when set before Run, is called after each successful group
	// sync with the items the waiters passed to Sync; an error fails the
	// group's writes (they are not acknowledged) like a failed fsync.
	OnSync func(items []any) error

	repaired []SetAside // by the last open

	syncs        prometheus.Counter
	syncFailures prometheus.Counter
	syncDuration prometheus.Histogram
	syncGroup    prometheus.Histogram
	writableG    prometheus.Gauge
	failures     *prometheus.CounterVec
	recoveries   prometheus.Counter
	corrupt      *prometheus.CounterVec
	lostSamples  prometheus.Counter
	unknownRefs  *prometheus.CounterVec
}

type waiter struct {
	item any
	ch   chan error
}

// Open opens or creates the TSDB in o.Dir, after repairing its logs.
func Open(o Options) (*Store, error) {
	if o.Logger == nil {
		return nil, errors.New("storage: nil logger")
	}
	if o.NoLocal && (o.Remote == nil || o.RemoteQueryable == nil) {
		return nil, errors.New("storage: remote only needs Remote and RemoteQueryable")
	}
	if o.CorruptDir == "" {
		o.CorruptDir = filepath.Join(filepath.Dir(filepath.Clean(o.Dir)), "corrupt")
	}
	s := &Store{
		o:        o,
		remote:   o.Remote,
		rq:       o.RemoteQueryable,
		logger:   o.Logger,
		wal:      segmentSyncer{dir: filepath.Join(o.Dir, "wal")},
		wbl:      segmentSyncer{dir: filepath.Join(o.Dir, "wbl")},
		kick:     make(chan struct{}, 1),
		wake:     make(chan struct{}, 1),
		writable: true,
		syncs: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "pantau_collector_storage_syncs_total",
			Help: "Group commits: fsyncs of the TSDB write-ahead log that acknowledged one or more writes.",
		}),
		syncFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "pantau_collector_storage_sync_failures_total",
			Help: "Group commits whose fsync failed; their writes were not acknowledged.",
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
		writableG: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "pantau_collector_storage_writable",
			Help: "1 while the store acknowledges writes; 0 after a write failure until it has recovered (writes get 503).",
		}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pantau_collector_storage_write_failures_total",
			Help: "Failures to make writes durable, by what failed (wal_write, wbl_write, fsync, remote_queue, state_db, probe: a write test at start); each stops acknowledging until recovery.",
		}, []string{"kind"}),
		recoveries: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "pantau_collector_storage_recoveries_total",
			Help: "Times the store became writable again after a write failure.",
		}),
		corrupt: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pantau_collector_storage_corrupt_segments_total",
			Help: "Damaged write-log segments and head chunk files set aside under data_dir/corrupt by this process, by log and damage (corrupt; torn: a crash's unfinished write).",
		}, []string{"log", "damage"}),
		lostSamples: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "pantau_collector_storage_unreadable_samples_estimated_total",
			Help: "Samples estimated to have been in the unreadable parts of set-aside segments.",
		}),
		unknownRefs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pantau_collector_storage_replay_unknown_series_samples_total",
			Help: "Samples dropped when the TSDB replayed its log because their series record was lost (log: wal or wbl).",
		}, []string{"log"}),
	}
	s.writableG.Set(1)
	for _, k := range failKinds {
		s.failures.WithLabelValues(k)
	}
	for _, l := range []string{"wal", "wbl"} {
		s.unknownRefs.WithLabelValues(l)
		for _, d := range []string{"corrupt", "torn"} {
			s.corrupt.WithLabelValues(l, d)
		}
	}
	for _, d := range append([]string{o.Dir}, o.ProbeDirs...) {
		os.Remove(filepath.Join(d, probeFile)) // left by a crash during a probe
	}
	if o.NoLocal {
		return s, nil
	}
	h, err := s.openTSDB(context.Background())
	if err != nil {
		return nil, err
	}
	s.cur.Store(h)
	if err := s.probe(); err != nil {
		// Reads work; writes wait for space (the recovery loop in Run).
		s.fail(FailProbe, fmt.Errorf("probe write at start: %w", err), false)
	}
	return s, nil
}

// handle is one open TSDB.
type handle struct {
	db  *tsdb.DB
	gen uint64 // in the upper bits of the series refs handed out
	wl  *wlWatch
}

var generation atomic.Uint64

func (s *Store) openTSDB(ctx context.Context) (*handle, error) {
	r := newRepairer(s.o.Dir, s.o.CorruptDir, time.Now(), s.logger)
	if err := r.run(ctx); err != nil {
		var ns *NoSpaceError
		if errors.As(err, &ns) {
			return nil, err
		}
		return nil, fmt.Errorf("check the TSDB's logs in %s: %w", s.o.Dir, err)
	}
	s.report(r)
	guard, err := s.guardLogs()
	if err != nil {
		return nil, err
	}
	opts := tsdb.DefaultOptions()
	opts.RetentionDuration = s.o.Retention.Milliseconds()
	opts.OutOfOrderTimeWindow = s.o.OutOfOrderWindow.Milliseconds()
	if s.o.WALSegmentSize > 0 {
		opts.WALSegmentSize = s.o.WALSegmentSize
	}
	wl := newWLWatch()
	db, err := tsdb.Open(s.o.Dir, s.logger.With("component", "tsdb"), wl.reg, opts, nil)
	if err != nil {
		if errors.Is(err, syscall.ENOSPC) {
			return nil, fmt.Errorf("open TSDB in %s: no space left: free space and start again: %w", s.o.Dir, err)
		}
		return nil, fmt.Errorf("open TSDB in %s: %w", s.o.Dir, err)
	}
	s.releaseGuard(guard, wl)
	wl.baseline()
	for l, v := range wl.unknownRefs() {
		if v > 0 {
			s.unknownRefs.WithLabelValues(l).Add(v)
			s.logger.Error("replay dropped samples whose series record was lost with a damaged segment", "log", l, "samples", v)
		}
	}
	return &handle{db: db, gen: generation.Add(1) & genMask, wl: wl}, nil
}

// report logs and counts what a repair set aside.
func (s *Store) report(r *repairer) {
	s.repaired = r.out
	for _, sa := range r.out {
		log := logOf(sa.File)
		damage := "corrupt"
		if sa.Torn {
			damage = "torn"
		}
		s.corrupt.WithLabelValues(log, damage).Inc()
		s.lostSamples.Add(float64(sa.Samples))
		args := []any{"file", sa.File, "kept", sa.Kept, "bytes", sa.Bytes, "unreadable_bytes", sa.Unreadable,
			"samples_estimate", sa.Samples, "reason", sa.Reason}
		switch {
		case sa.Torn:
			s.logger.Warn("the newest write-log segment ends in a write a crash cut short (never acknowledged); repaired, original set aside", args...)
		case log == "chunks_head":
			s.logger.Error("damaged head chunk file set aside; its chunks are replayed from the WAL", args...)
		default:
			s.logger.Error("damaged write-log segment repaired: intact records kept, newer segments kept, the original set aside; review and delete it once checked", args...)
		}
	}
}

func logOf(rel string) string {
	first, rest, _ := strings.Cut(filepath.ToSlash(rel), "/")
	if first == "wal" && strings.HasPrefix(rest, "checkpoint.") {
		return "checkpoint"
	}
	return first
}

// DB is the current TSDB (nil when remote only or while it is reopened).
// It may be replaced after a write failure: hold Queryable, not this.
func (s *Store) DB() *tsdb.DB {
	if h := s.cur.Load(); h != nil {
		return h.db
	}
	return nil
}

// Local reports whether the store keeps an embedded TSDB.
func (s *Store) Local() bool { return !s.o.NoLocal }

// Repaired lists what the last open of the TSDB set aside.
func (s *Store) Repaired() []SetAside { return s.repaired }

// Queryable returns the store (the TSDB, whichever is open), or the
// engine's queryable when remote only.
func (s *Store) Queryable() storage.Queryable {
	if s.o.NoLocal {
		return s.rq
	}
	return s
}

// ErrReopening is returned by Querier while the TSDB is closed and opened
// again after a write failure.
var ErrReopening = errors.New("storage: the TSDB is being reopened after a write failure; retry in a few seconds")

// Reopening reports whether the TSDB is being closed and opened again
// (queries fail meanwhile with ErrReopening).
func (s *Store) Reopening() bool {
	if s.o.NoLocal {
		return false
	}
	s.qrs.mu.Lock()
	defer s.qrs.mu.Unlock()
	return s.qrs.closed
}

// Querier implements storage.Queryable over the current TSDB.
func (s *Store) Querier(mint, maxt int64) (storage.Querier, error) {
	if !s.qrs.enter() {
		return nil, ErrReopening
	}
	h := s.cur.Load()
	if h == nil {
		s.qrs.leave()
		return nil, ErrReopening
	}
	q, err := h.db.Querier(mint, maxt)
	if err != nil {
		s.qrs.leave()
		return nil, err
	}
	return &querier{Querier: q, leave: s.qrs.leave}, nil
}

type querier struct {
	storage.Querier
	leave func()
	once  sync.Once
}

func (q *querier) Close() error {
	err := q.Querier.Close()
	q.once.Do(q.leave)
	return err
}

// Appender starts an append transaction: to the TSDB, to the remote-write
// queue, or to both. The transaction starts at its first append: while the
// store is not writable it stores nothing. A commit that is not durable
// returns nil: the failure is reported by Sync with the same context,
// which every caller that acknowledges writes must call.
func (s *Store) Appender(ctx context.Context) storage.Appender {
	return &appender{s: s, ctx: ctx}
}

// start begins the transaction on the current TSDB, or in discard mode.
func (a *appender) start() {
	s := a.s
	a.started = true
	if ok, _, _ := s.Writable(); !ok || !s.apps.enter() {
		a.discard = true
		return
	}
	h := s.cur.Load()
	if h == nil && !s.o.NoLocal {
		s.apps.leave()
		a.discard = true
		return
	}
	a.entered = true
	var inner storage.Appender
	if h != nil {
		inner, a.h, a.gen = h.db.Appender(a.ctx), h, h.gen
	}
	if s.remote != nil {
		inner = s.remote.Appender(inner)
	}
	a.inner = inner
	if a.opts != nil {
		a.inner.SetOptions(a.opts)
	}
}

// Run performs group commits, and recovers from write failures, until ctx
// ends. It must be running for Sync to return.
func (s *Store) Run(ctx context.Context) error {
	rctx, stop := context.WithCancel(ctx)
	recovered := make(chan struct{})
	go func() { s.recoverLoop(rctx); close(recovered) }()
	defer func() { stop(); <-recovered }()
	for {
		select {
		case <-ctx.Done():
			s.mu.Lock()
			s.closed = true
			ws := s.waiters
			s.waiters = nil
			s.mu.Unlock()
			// Writes committed before shutdown still get their fsync (and
			// their batch ids and minute marks).
			var err error
			if len(ws) > 0 {
				err = s.commitGroup(ws)
			}
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
		err := s.commitGroup(ws)
		for _, w := range ws {
			w.ch <- err
		}
	}
}

// commitGroup makes the group's writes durable, or says why not.
func (s *Store) commitGroup(ws []waiter) error {
	if ok, _, _ := s.Writable(); !ok {
		return s.notDurable()
	}
	if h := s.cur.Load(); h != nil {
		if kind, err := h.wl.failed(); err != nil {
			s.fail(kind, err, true)
			return s.notDurable()
		}
	}
	start := time.Now()
	kind, err := s.syncFiles()
	s.syncDuration.Observe(time.Since(start).Seconds())
	s.syncGroup.Observe(float64(len(ws)))
	if err != nil {
		s.syncFailures.Inc()
		s.fail(kind, err, kind == FailFsync)
		return s.notDurable()
	}
	if s.OnSync != nil {
		items := make([]any, 0, len(ws))
		for _, w := range ws {
			if w.item != nil {
				items = append(items, w.item)
			}
		}
		if len(items) > 0 {
			if err := s.OnSync(items); err != nil {
				s.fail(FailStateDB, err, false)
				return s.notDurable()
			}
		}
	}
	s.syncs.Inc()
	return nil
}

// ErrClosed is returned by Sync after shutdown began.
var ErrClosed = errors.New("storage is shutting down")

// Sync waits until everything committed before the call is durable. item,
// if not nil, is handed to OnSync once it is. It fails (ErrNotDurable) if
// a commit made with an appender from Appender(ctx) was not durable, or
// the store does not acknowledge writes.
func (s *Store) Sync(ctx context.Context, item any) error {
	if v, ok := s.failed.LoadAndDelete(ctx); ok {
		return v.(error)
	}
	if ok, _, _ := s.Writable(); !ok {
		return s.notDurable()
	}
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

// commitFailed records that a commit made under ctx was not durable.
func (s *Store) commitFailed(ctx context.Context, err error) {
	if _, loaded := s.failed.Swap(ctx, err); !loaded && ctx.Done() != nil {
		context.AfterFunc(ctx, func() { s.failed.Delete(ctx) })
	}
}

// Writable reports whether the store acknowledges writes, and if not why
// and since when.
func (s *Store) Writable() (bool, string, time.Time) {
	s.health.Lock()
	defer s.health.Unlock()
	return s.writable, s.reason, s.since
}

func (s *Store) notDurable() error {
	_, reason, since := s.Writable()
	return &NotDurableError{Reason: reason, Since: since}
}

// fail stops acknowledging writes; reopen asks for the TSDB to be opened
// again from its log before they resume.
func (s *Store) fail(kind string, err error, reopen bool) {
	s.failures.WithLabelValues(kind).Inc()
	s.health.Lock()
	first := s.writable
	if first {
		s.writable = false
		s.reason = fmt.Sprintf("%s: %v", kind, err)
		s.since = time.Now()
		s.writableG.Set(0)
	}
	s.reopen = s.reopen || (reopen && !s.o.NoLocal)
	s.health.Unlock()
	if first {
		s.logger.Error("storage write failed: writes are refused with 503 until it recovers (free disk space if it is full)",
			"kind", kind, "dir", s.o.Dir, "err", err)
	}
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// recoverLoop waits for failures and makes the store writable again once
// a probe write succeeds.
func (s *Store) recoverLoop(ctx context.Context) {
	for {
		if ok, _, _ := s.Writable(); ok {
			select {
			case <-ctx.Done():
				return
			case <-s.wake:
			}
		}
		backoff := 500 * time.Millisecond
		for {
			if ok, _, _ := s.Writable(); ok {
				break
			}
			t := time.NewTimer(backoff)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
			backoff = min(2*backoff, 15*time.Second)
			if err := s.probe(); err != nil {
				s.logger.Debug("storage still not writable", "err", err)
				continue
			}
			if err := s.recover(ctx); err != nil {
				s.logger.Error("recovering storage failed; trying again", "err", err)
			}
		}
	}
}

// probe writes and fsyncs a file in every directory writes depend on.
func (s *Store) probe() error {
	dirs := append([]string{s.o.Dir}, s.o.ProbeDirs...)
	if s.o.NoLocal {
		dirs = s.o.ProbeDirs
	}
	buf := make([]byte, probeSize)
	for _, d := range dirs {
		if d == "" {
			continue
		}
		p := filepath.Join(d, probeFile)
		f, err := os.OpenFile(p, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
		if err != nil {
			return fmt.Errorf("probe %s: %w", d, err)
		}
		_, err = f.Write(buf)
		if err == nil {
			err = f.Sync()
		}
		f.Close()
		os.Remove(p)
		if err != nil {
			return fmt.Errorf("probe %s: %w", d, err)
		}
	}
	return nil
}

// probeSize: space a probe needs before writes resume.
const (
	probeSize = 1 << 20
	probeFile = ".pantau-probe"
)

// recover reopens the TSDB if the failure asked for it and acknowledges
// writes again.
func (s *Store) recover(ctx context.Context) error {
	s.excl.Lock()
	defer s.excl.Unlock()
	s.health.Lock()
	reopen := s.reopen
	s.health.Unlock()
	if reopen {
		if err := s.reopenTSDB(ctx); err != nil {
			return err
		}
	}
	if s.remote != nil {
		if err := s.remote.Sync(); err != nil {
			return fmt.Errorf("fsync remote-write queue: %w", err)
		}
	}
	s.health.Lock()
	since := s.since
	s.writable, s.reason, s.reopen = true, "", false
	s.writableG.Set(1)
	s.health.Unlock()
	s.recoveries.Inc()
	s.logger.Warn("storage writable again: writes are acknowledged", "not_writable_for", time.Since(since).Round(time.Millisecond).String(), "reopened", reopen)
	return nil
}

// reopenTSDB closes the TSDB and opens it again from its log, so that its
// memory holds exactly what the log holds.
func (s *Store) reopenTSDB(ctx context.Context) error {
	s.apps.shut(s.logger, "appenders")
	defer s.apps.open()
	s.qrs.shut(s.logger, "queries")
	defer s.qrs.open()
	if old := s.cur.Swap(nil); old != nil {
		if err := old.db.Close(); err != nil {
			s.logger.Warn("closing the TSDB after a write failure", "err", err)
		}
		// Close may not have fsynced a segment whose flush failed.
		for _, d := range []string{"wal", "wbl"} {
			if err := syncSegments(filepath.Join(s.o.Dir, d)); err != nil {
				return err
			}
		}
		s.wal.close()
		s.wbl.close()
	}
	h, err := s.openTSDB(ctx)
	if err != nil {
		return err
	}
	s.cur.Store(h)
	s.logger.Info("TSDB reopened from its log after a write failure")
	return nil
}

func (s *Store) syncFiles() (kind string, err error) {
	if !s.o.Fsync {
		return "", nil
	}
	if !s.o.NoLocal {
		if err := s.wal.sync(); err != nil {
			return FailFsync, err
		}
		if err := s.wbl.sync(); err != nil {
			return FailFsync, err
		}
	}
	if s.remote != nil {
		if err := s.remote.Sync(); err != nil {
			return FailRemoteQueue, fmt.Errorf("fsync remote-write queue: %w", err)
		}
	}
	return "", nil
}

// Close closes the TSDB. Run must have returned.
func (s *Store) Close() error {
	h := s.cur.Swap(nil)
	if h == nil {
		return nil
	}
	err := h.db.Close()
	s.wal.close()
	s.wbl.close()
	if err != nil {
		return fmt.Errorf("close TSDB in %s: %w", s.o.Dir, err)
	}
	return nil
}

// Collectors returns the store's own metrics and a collector of TSDB
// health, for the caller's registry.
func (s *Store) Collectors() []prometheus.Collector {
	cs := []prometheus.Collector{s.syncs, s.syncFailures, s.syncDuration, s.syncGroup,
		s.writableG, s.failures, s.recoveries, s.corrupt, s.lostSamples, s.unknownRefs, &setAsideCollector{dir: s.o.CorruptDir}}
	if !s.o.NoLocal {
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

// syncSegments fsyncs every segment of a log directory and the directory.
func syncSegments(dir string) error {
	segs, err := segmentIndexes(dir)
	if err != nil || len(segs) == 0 {
		return err
	}
	for _, i := range segs {
		f, err := os.Open(filepath.Join(dir, fmt.Sprintf("%08d", i)))
		if err != nil {
			return fmt.Errorf("open %s: %w", dir, err)
		}
		err = f.Sync()
		f.Close()
		if err != nil {
			return fmt.Errorf("fsync %s: %w", f.Name(), err)
		}
	}
	return syncDir(dir)
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
	if !h.s.qrs.enter() {
		return
	}
	defer h.s.qrs.leave()
	cur := h.s.cur.Load()
	if cur == nil {
		return
	}
	db := cur.db
	head := db.Head()
	ch <- prometheus.MustNewConstMetric(headSeriesDesc, prometheus.GaugeValue, float64(head.NumSeries()))
	if head.NumSeries() > 0 {
		ch <- prometheus.MustNewConstMetric(headMinDesc, prometheus.GaugeValue, float64(head.MinTime())/1e3)
		ch <- prometheus.MustNewConstMetric(headMaxDesc, prometheus.GaugeValue, float64(head.MaxTime())/1e3)
	}
	blocks := db.Blocks()
	var size int64
	for _, b := range blocks {
		size += b.Size()
	}
	ch <- prometheus.MustNewConstMetric(blocksDesc, prometheus.GaugeValue, float64(len(blocks)))
	ch <- prometheus.MustNewConstMetric(blocksSizeDesc, prometheus.GaugeValue, float64(size))
	if mint, err := db.StartTime(); err == nil && mint != 0 && (len(blocks) > 0 || head.NumSeries() > 0) {
		ch <- prometheus.MustNewConstMetric(oldestDesc, prometheus.GaugeValue, float64(mint)/1e3)
	}
}

// setAsideCollector reports the bytes under data_dir/corrupt at scrape
// time: files a repair set aside and nobody has reviewed and removed yet.
type setAsideCollector struct{ dir string }

var setAsideDesc = prometheus.NewDesc("pantau_collector_storage_set_aside_bytes",
	"Bytes of files set aside under data_dir/corrupt by repairs, by damage (corrupt: damaged data, the StorageDataSetAside alert fires; torn: writes a crash or a full disk cut short, never acknowledged). Review, then delete them.",
	[]string{"damage"}, nil)

func (c *setAsideCollector) Describe(ch chan<- *prometheus.Desc) { ch <- setAsideDesc }

func (c *setAsideCollector) Collect(ch chan<- prometheus.Metric) {
	n := map[string]int64{"corrupt": 0, "torn": 0}
	filepath.WalkDir(c.dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() && d.Name() == guardDir {
			return filepath.SkipDir
		}
		if !d.Type().IsRegular() {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return nil
		}
		damage := "corrupt"
		if rel, err := filepath.Rel(c.dir, p); err == nil {
			if parts := strings.Split(filepath.ToSlash(rel), "/"); len(parts) > 2 && parts[1] == tornDir {
				damage = "torn"
			}
		}
		n[damage] += fi.Size()
		return nil
	})
	for _, d := range []string{"corrupt", "torn"} {
		ch <- prometheus.MustNewConstMetric(setAsideDesc, prometheus.GaugeValue, float64(n[d]), d)
	}
}
