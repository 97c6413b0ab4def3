package storage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/prometheus/model/exemplar"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/metadata"
	"github.com/prometheus/prometheus/storage"
)

// Series refs handed out carry the generation of the TSDB they belong to
// in their upper bits: after a reopen, a ref a caller cached from the
// previous TSDB is not passed on (where it could name another series), so
// the series is looked up by its labels instead.
const (
	genShift = 48
	genMask  = 1<<16 - 1
	refMask  = 1<<genShift - 1
)

// appender appends to the current TSDB (and the remote queue) and turns
// a commit that is not durable into a failure Sync reports. It takes the
// TSDB at its first append, not when it is made, so that an appender that
// is never used holds nothing a reopen or a backup would wait for.
type appender struct {
	s       *Store
	ctx     context.Context
	started bool
	discard bool // the store was not writable at the first append
	entered bool // holds the appenders' gate
	inner   storage.Appender
	h       *handle // nil when remote only
	gen     uint64
	opts    *storage.AppendOptions
	done    bool
}

func (a *appender) in(ref storage.SeriesRef) storage.SeriesRef {
	if !a.started {
		a.start()
	}
	if a.h == nil {
		return ref
	}
	if uint64(ref)>>genShift != a.gen {
		return 0
	}
	return ref & refMask
}

func (a *appender) out(ref storage.SeriesRef, err error) (storage.SeriesRef, error) {
	if a.h == nil || ref == 0 {
		return ref, err
	}
	return storage.SeriesRef(uint64(ref)&refMask | a.gen<<genShift), err
}

func (a *appender) Append(ref storage.SeriesRef, l labels.Labels, t int64, v float64) (storage.SeriesRef, error) {
	r := a.in(ref)
	if a.discard {
		return ref, nil
	}
	return a.out(a.inner.Append(r, l, t, v))
}

func (a *appender) AppendExemplar(ref storage.SeriesRef, l labels.Labels, e exemplar.Exemplar) (storage.SeriesRef, error) {
	r := a.in(ref)
	if a.discard {
		return ref, nil
	}
	return a.out(a.inner.AppendExemplar(r, l, e))
}

func (a *appender) AppendHistogram(ref storage.SeriesRef, l labels.Labels, t int64, h *histogram.Histogram, fh *histogram.FloatHistogram) (storage.SeriesRef, error) {
	r := a.in(ref)
	if a.discard {
		return ref, nil
	}
	return a.out(a.inner.AppendHistogram(r, l, t, h, fh))
}

func (a *appender) AppendHistogramSTZeroSample(ref storage.SeriesRef, l labels.Labels, t, st int64, h *histogram.Histogram, fh *histogram.FloatHistogram) (storage.SeriesRef, error) {
	r := a.in(ref)
	if a.discard {
		return ref, nil
	}
	return a.out(a.inner.AppendHistogramSTZeroSample(r, l, t, st, h, fh))
}

func (a *appender) UpdateMetadata(ref storage.SeriesRef, l labels.Labels, m metadata.Metadata) (storage.SeriesRef, error) {
	r := a.in(ref)
	if a.discard {
		return ref, nil
	}
	return a.out(a.inner.UpdateMetadata(r, l, m))
}

func (a *appender) AppendSTZeroSample(ref storage.SeriesRef, l labels.Labels, t, st int64) (storage.SeriesRef, error) {
	r := a.in(ref)
	if a.discard {
		return ref, nil
	}
	return a.out(a.inner.AppendSTZeroSample(r, l, t, st))
}

func (a *appender) SetOptions(o *storage.AppendOptions) {
	if a.inner != nil {
		a.inner.SetOptions(o)
	}
	a.opts = o
}

// Commit commits; a commit that fails to reach the logs stops the store
// acknowledging writes and is reported by Sync(ctx), not here.
func (a *appender) Commit() error {
	if a.done {
		return errFinished
	}
	a.done = true
	if !a.started {
		return nil // nothing appended
	}
	if a.discard {
		a.s.commitFailed(a.ctx, a.s.notDurable())
		return nil
	}
	defer a.s.apps.leave()
	var before wlCounts
	if a.h != nil {
		before = a.h.wl.counts()
	}
	err := a.inner.Commit()
	kind := FailRemoteQueue
	if a.h != nil {
		// The TSDB only logs a failed WBL write (its samples are in
		// memory, Commit returns nil); a failed WAL write is an error.
		after := a.h.wl.counts()
		switch {
		case after.wal > before.wal:
			kind, err = FailWAL, errors.Join(err, errors.New("write to the WAL failed"))
		case after.wbl > before.wbl:
			kind, err = FailWBL, errors.Join(err, errors.New("write to the out-of-order WBL failed"))
		case err != nil && a.s.remote == nil:
			kind = FailWAL
		}
	}
	switch {
	case err != nil:
		a.s.fail(kind, err, kind != FailRemoteQueue)
	case a.h != nil:
		// Another commit's write failed before this one started and has
		// not said so yet: this commit's records follow a torn one.
		if k, e := a.h.wl.failed(); e != nil {
			if ok, _, _ := a.s.Writable(); ok {
				a.s.fail(k, e, true)
			}
		}
	}
	// Checked before leaving the gate: the store cannot recover (and start
	// acknowledging again) between this check and the caller's Sync.
	if ok, _, _ := a.s.Writable(); !ok {
		a.s.commitFailed(a.ctx, a.s.notDurable())
	}
	return nil
}

func (a *appender) Rollback() error {
	if a.done {
		return errFinished
	}
	a.done = true
	if !a.entered {
		return nil
	}
	defer a.s.apps.leave()
	return a.inner.Rollback()
}

var errFinished = errors.New("storage: appender already committed or rolled back")

// gate counts the users of the current TSDB so it can be closed (or its
// appends paused) once none is left. shut refuses new users; freeze makes
// them wait.
type gate struct {
	mu     sync.Mutex
	cond   *sync.Cond
	users  int
	closed bool
	frozen bool
}

func (g *gate) init() {
	if g.cond == nil {
		g.cond = sync.NewCond(&g.mu)
	}
}

func (g *gate) enter() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.init()
	for g.frozen && !g.closed {
		g.cond.Wait()
	}
	if g.closed {
		return false
	}
	g.users++
	return true
}

func (g *gate) leave() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.init()
	g.users--
	if g.users == 0 {
		g.cond.Broadcast()
	}
}

// shut refuses new users and waits until the current ones have left.
func (g *gate) shut(log *slog.Logger, what string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.init()
	g.closed = true
	g.cond.Broadcast()
	g.drain(log, what, 0)
}

// freeze makes new users wait and waits until the current ones have left,
// at most limit; false (and thawed) if they did not.
func (g *gate) freeze(log *slog.Logger, what string, limit time.Duration) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.init()
	g.frozen = true
	if !g.drain(log, what, limit) {
		g.frozen = false
		g.cond.Broadcast()
		return false
	}
	return true
}

// drain waits (g.mu held) until no user is left, or limit (0: no limit).
func (g *gate) drain(log *slog.Logger, what string, limit time.Duration) bool {
	warn := time.AfterFunc(30*time.Second, func() {
		g.mu.Lock()
		n := g.users
		g.mu.Unlock()
		log.Warn("storage: still waiting for users of the TSDB to finish", "what", what, "users", n)
	})
	defer warn.Stop()
	expired := false
	if limit > 0 {
		t := time.AfterFunc(limit, func() {
			g.mu.Lock()
			expired = true
			g.cond.Broadcast()
			g.mu.Unlock()
		})
		defer t.Stop()
	}
	for g.users > 0 && !expired {
		g.cond.Wait()
	}
	return g.users == 0
}

// open (after shut) and thaw (after freeze) let users in again.
func (g *gate) open() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.init()
	g.closed = false
	g.cond.Broadcast()
}

func (g *gate) thaw() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.init()
	g.frozen = false
	g.cond.Broadcast()
}

// wlWatch is the private registry an open TSDB registers its metrics in,
// from which the store reads the write logs' failed-write counters: the
// TSDB hides a failed WBL write from Commit.
type wlWatch struct {
	reg      *prometheus.Registry
	mu       sync.Mutex
	wal, wbl prometheus.Collector
	base     wlCounts
}

type wlCounts struct{ wal, wbl float64 }

const (
	walFailedName = "prometheus_tsdb_wal_writes_failed_total"
	wblFailedName = "prometheus_tsdb_out_of_order_wbl_writes_failed_total"
)

func newWLWatch() *wlWatch {
	w := &wlWatch{reg: prometheus.NewRegistry()}
	return w
}

// Register implements prometheus.Registerer for the TSDB.
func (w *wlWatch) Register(c prometheus.Collector) error {
	if err := w.reg.Register(c); err != nil {
		return err
	}
	ch := make(chan *prometheus.Desc, 16)
	go func() { c.Describe(ch); close(ch) }()
	for d := range ch {
		s := d.String()
		w.mu.Lock()
		switch {
		case strings.Contains(s, `"`+walFailedName+`"`):
			w.wal = c
		case strings.Contains(s, `"`+wblFailedName+`"`):
			w.wbl = c
		}
		w.mu.Unlock()
	}
	return nil
}

func (w *wlWatch) MustRegister(cs ...prometheus.Collector) {
	for _, c := range cs {
		if err := w.Register(c); err != nil {
			panic(err)
		}
	}
}

func (w *wlWatch) Unregister(c prometheus.Collector) bool { return w.reg.Unregister(c) }

func (w *wlWatch) counts() wlCounts {
	w.mu.Lock()
	wal, wbl := w.wal, w.wbl
	w.mu.Unlock()
	return wlCounts{wal: counterOf(wal), wbl: counterOf(wbl)}
}

// baseline remembers the counters after open (replay writes nothing).
func (w *wlWatch) baseline() {
	c := w.counts()
	w.mu.Lock()
	w.base = c
	w.mu.Unlock()
}

// failed reports a write-log write that failed since open.
func (w *wlWatch) failed() (string, error) {
	c := w.counts()
	w.mu.Lock()
	base := w.base
	w.mu.Unlock()
	switch {
	case c.wal > base.wal:
		return FailWAL, fmt.Errorf("%g writes to the WAL failed", c.wal-base.wal)
	case c.wbl > base.wbl:
		return FailWBL, fmt.Errorf("%g writes to the out-of-order WBL failed", c.wbl-base.wbl)
	}
	return "", nil
}

// unknownRefs reads, after open, how many samples replay dropped for want
// of their series record, per log.
func (w *wlWatch) unknownRefs() map[string]float64 {
	out := map[string]float64{}
	mfs, err := w.reg.Gather()
	if err != nil {
		return out
	}
	for _, mf := range mfs {
		var log string
		switch mf.GetName() {
		case "prometheus_tsdb_wal_replay_unknown_refs_total":
			log = "wal"
		case "prometheus_tsdb_wbl_replay_unknown_refs_total":
			log = "wbl"
		default:
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if lp.GetName() == "type" && (lp.GetValue() == "samples" || lp.GetValue() == "histograms") {
					out[log] += m.GetCounter().GetValue()
				}
			}
		}
	}
	return out
}

// corruptions is the TSDB's count of replay errors it repaired itself.
func (w *wlWatch) corruptions() float64 {
	mfs, err := w.reg.Gather()
	if err != nil {
		return 0
	}
	var n float64
	for _, mf := range mfs {
		if mf.GetName() == "prometheus_tsdb_wal_corruptions_total" || mf.GetName() == "prometheus_tsdb_mmap_chunk_corruptions_total" {
			for _, m := range mf.GetMetric() {
				n += m.GetCounter().GetValue()
			}
		}
	}
	return n
}

func counterOf(c prometheus.Collector) float64 {
	if c == nil {
		return 0
	}
	// A counter sends one metric: Collect returns without a reader.
	ch := make(chan prometheus.Metric, 16)
	c.Collect(ch)
	close(ch)
	var v float64
	for m := range ch {
		var pb dto.Metric
		if m.Write(&pb) == nil && pb.Counter != nil {
			v += pb.Counter.GetValue()
		}
	}
	return v
}

// guardLogs hard-links every write-log file into corrupt/.guard before
// the TSDB opens: if its own repair deletes or rewrites segments after
// all (a damage the check above did not see), the originals are kept.
func (s *Store) guardLogs() (string, error) {
	g := filepath.Join(s.o.CorruptDir, guardDir)
	if err := s.staleGuard(g); err != nil {
		return "", err
	}
	n := 0
	for _, d := range []string{"wal", "wbl"} {
		src := filepath.Join(s.o.Dir, d)
		filepath.WalkDir(src, func(p string, e os.DirEntry, err error) error {
			if err != nil || !e.Type().IsRegular() {
				return nil
			}
			rel, _ := filepath.Rel(s.o.Dir, p)
			dst := filepath.Join(g, rel)
			if os.MkdirAll(filepath.Dir(dst), 0o750) == nil && os.Link(p, dst) == nil {
				n++
			}
			return nil
		})
	}
	if n == 0 {
		os.RemoveAll(g)
		return "", nil
	}
	return g, nil
}

// staleGuard handles the guard an earlier start left (it died while the
// TSDB opened): if a guarded file was replaced or removed since, the
// TSDB's repair changed it, and the guard is kept as a set-aside copy.
func (s *Store) staleGuard(g string) error {
	if _, err := os.Stat(g); err != nil {
		return nil
	}
	changed := false
	filepath.WalkDir(g, func(p string, e os.DirEntry, err error) error {
		if err != nil || !e.Type().IsRegular() {
			return nil
		}
		rel, _ := filepath.Rel(g, p)
		a, err1 := os.Stat(p)
		b, err2 := os.Stat(filepath.Join(s.o.Dir, rel))
		if err1 != nil || err2 != nil || !os.SameFile(a, b) {
			changed = true
			return filepath.SkipAll
		}
		return nil
	})
	if !changed {
		return os.RemoveAll(g)
	}
	dst := filepath.Join(s.o.CorruptDir, time.Now().UTC().Format("20060102T150405Z")+"-tsdb-repair")
	if err := os.Rename(g, dst); err != nil {
		return fmt.Errorf("keep %s: %w", g, err)
	}
	s.logger.Error("an earlier start died while the TSDB repaired its log; the log as it was before is kept", "kept", dst)
	return nil
}

// releaseGuard removes the guard after the TSDB opened, unless the TSDB
// repaired something itself.
func (s *Store) releaseGuard(g string, wl *wlWatch) {
	if g == "" {
		return
	}
	if wl.corruptions() == 0 {
		os.RemoveAll(g)
		return
	}
	dst := filepath.Join(s.o.CorruptDir, time.Now().UTC().Format("20060102T150405Z")+"-tsdb-repair")
	if err := os.Rename(g, dst); err != nil {
		s.logger.Error("keeping the write log as it was before the TSDB's own repair failed", "guard", g, "err", err)
		return
	}
	s.logger.Error("the TSDB repaired its log itself (a damage the start-up check did not catch); the log as it was before is kept",
		"kept", dst)
}
