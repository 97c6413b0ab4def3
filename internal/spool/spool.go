// Package spool is a durable store-and-forward queue: the agent's queue of
// line protocol for its collectors, and the collector's queue of
// remote-write requests for its engines.
//
// Every batch is one file in Dir/data, named
// <seq>-<points>-<created unix ms><suffix>, written to a temporary name
// (.tmp-<name>) and renamed into place, so a reader never sees half a
// batch. A write that fails (disk full) removes its temporary file; one
// left by a crash mid-write is removed at the next start. The small state
// files (next, dropped, lost, cursors) are replaced the same way.
//
// Fsync policy: Append returns once the file is renamed into place, so a
// kill -9 of the agent loses nothing that Append acknowledged. The data
// files and the directory are fsynced in batches, every SyncInterval
// (default 1 s) by a background goroutine, never per point; power loss can
// lose at most the batches of the last SyncInterval. With SyncInterval 0
// every Append fsyncs.
//
// Each collector has a cursor (Dir/cursors/<name>) holding the highest
// sequence below which everything is delivered. Acks may come out of order
// (a fresh lane runs beside the backlog); the persisted watermark advances
// over contiguous acks only, so after a crash a few batches may be sent
// again, and the collector drops them by their Pantau-Batch id.
//
// Batch numbers are reserved on disk (the "next" file) in blocks before
// they are handed out, so none is ever reused, even after power loss.
//
// Bounds: beyond MaxBytes, or for batches older than MaxAge, the oldest
// batches are deleted first, delivered or not; the points of undelivered
// ones are added to a persisted dropped-points counter (Dir/dropped).
// Nothing is keyed on the configuration, so config edits and upgrades keep
// the queue.
//
// Losses: the points of an Append that failed (the disk is full) never
// reached the queue; the owner counts them with CountLost, per reason, in
// Dir/lost, persisted as soon as the disk allows. A failed Append leaves
// no file behind, and the next one works once there is room again.
package spool

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/klauspost/compress/gzip"
)

// Options configure Open.
type Options struct {
	Dir          string
	MaxBytes     int64         // default 512 MiB
	MaxAge       time.Duration // default 7 days
	SyncInterval time.Duration // 0: fsync every Append
	Logger       *slog.Logger
	Now          func() time.Time
	// Raw stores batches as given (already compressed, e.g. snappy'd
	// remote-write requests) under the suffix ".bin"; by default batches
	// are line protocol, gzip'd on Append, under ".lp.gz".
	Raw bool
}

// Record is one queued batch.
type Record struct {
	Seq     uint64
	Points  int
	Created time.Time
	Size    int64 // bytes on disk (gzip'd)
	path    string
}

// Body reads the batch as stored: gzip'd line protocol, or the raw bytes
// given to Append when Options.Raw is set.
func (r Record) Body() ([]byte, error) {
	b, err := os.ReadFile(r.path)
	if err != nil {
		return nil, fmt.Errorf("read queued batch %d: %w", r.Seq, err)
	}
	return b, nil
}

// Stats describe what is waiting for the slowest collector.
type Stats struct {
	Records int
	Points  int64
	Bytes   int64
	Oldest  time.Time
	// DroppedPoints are undelivered points deleted by MaxBytes or MaxAge.
	DroppedPoints uint64
	// Lost are the points counted by CountLost, by reason.
	Lost map[string]uint64
}

// Loss reasons for CountLost.
const (
	LostDiskFull = "disk_full" // ENOSPC or EDQUOT
	LostIOError  = "io_error"  // any other write or fsync error
)

// LossReason names why a write failed: LostDiskFull for ENOSPC and
// EDQUOT, LostIOError for anything else.
func LossReason(err error) string {
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return LostDiskFull
	}
	return LostIOError
}

// Spool is the queue.
type Spool struct {
	o       Options
	data    string
	mu      sync.Mutex
	cond    *sync.Cond
	recs    []Record // ascending seq
	bytes   int64
	next    uint64
	reserve uint64 // persisted bound: every seq handed out is below it
	dropped uint64
	cursors map[string]*Cursor
	writing map[uint64]struct{} // seqs whose Append is still running
	unsync  []string
	closed  bool
	stop    chan struct{}
	wg      sync.WaitGroup

	lost map[string]uint64 // CountLost's counters
	// A counter changed and is not yet on disk (the disk was full): tried
	// again after the next Append, at every sync and at Close.
	unsavedDropped, unsavedLost bool
}

// tmpPrefix starts the name of every file being written; a file with it
// is never part of the queue.
const tmpPrefix = ".tmp-"

// legacyTmp are the temporary names of the state files before tmpPrefix.
var legacyTmp = map[string]bool{"next.tmp": true, "dropped.tmp": true}

var (
	nameRE    = regexp.MustCompile(`^(\d{20})-(\d+)-(\d+)\.lp\.gz$`)
	rawNameRE = regexp.MustCompile(`^(\d{20})-(\d+)-(\d+)\.bin$`)
)

// Open opens (or creates) the queue in o.Dir.
func Open(o Options) (*Spool, error) {
	if o.MaxBytes <= 0 {
		o.MaxBytes = 512 << 20
	}
	if o.MaxAge <= 0 {
		o.MaxAge = 7 * 24 * time.Hour
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	s := &Spool{o: o, data: filepath.Join(o.Dir, "data"), cursors: map[string]*Cursor{}, writing: map[uint64]struct{}{}, stop: make(chan struct{})}
	s.cond = sync.NewCond(&s.mu)
	for _, d := range []string{s.data, filepath.Join(o.Dir, "cursors")} {
		if err := os.MkdirAll(d, 0o750); err != nil {
			return nil, fmt.Errorf("create queue directory %s: %w", d, err)
		}
	}
	if err := removeTemps(o.Dir, o.Logger); err != nil {
		return nil, err
	}
	ents, err := os.ReadDir(s.data)
	if err != nil {
		return nil, fmt.Errorf("read queue directory %s: %w", s.data, err)
	}
	re := nameRE
	if o.Raw {
		re = rawNameRE
	}
	for _, e := range ents {
		m := re.FindStringSubmatch(e.Name())
		if m == nil {
			o.Logger.Warn("ignoring unknown file in the queue directory", "file", filepath.Join(s.data, e.Name()))
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		seq, _ := strconv.ParseUint(m[1], 10, 64)
		pts, _ := strconv.Atoi(m[2])
		ms, _ := strconv.ParseInt(m[3], 10, 64)
		s.recs = append(s.recs, Record{Seq: seq, Points: pts, Created: time.UnixMilli(ms), Size: info.Size(), path: filepath.Join(s.data, e.Name())})
		s.bytes += info.Size()
	}
	sort.Slice(s.recs, func(i, j int) bool { return s.recs[i].Seq < s.recs[j].Seq })
	// Seqs are reserved in blocks on disk before they are handed out, so a
	// seq is never reused, even after power loss took the newest batches:
	// the collector would take a reused Pantau-Batch id for a re-send.
	meta, err := readUint(filepath.Join(o.Dir, "next"))
	if err != nil {
		return nil, err
	}
	s.next = max(meta, 1)
	s.reserve = s.next
	if n := len(s.recs); n > 0 {
		s.next = max(s.next, s.recs[n-1].Seq+1)
	}
	if s.dropped, err = readUint(filepath.Join(o.Dir, "dropped")); err != nil {
		return nil, err
	}
	if s.lost, err = readLost(filepath.Join(o.Dir, "lost")); err != nil {
		return nil, err
	}
	if o.SyncInterval > 0 {
		s.wg.Add(1)
		go s.syncLoop()
	}
	return s, nil
}

func readUint(path string) (uint64, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", path, err)
	}
	v, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("read %s: not a number: %w", path, err)
	}
	return v, nil
}

// removeTemps removes the temporary files of writes a crash cut short
// (kill -9 or power loss mid-write) from the queue's directories.
func removeTemps(dir string, log *slog.Logger) error {
	var removed []string
	for _, d := range []string{dir, filepath.Join(dir, "data"), filepath.Join(dir, "cursors")} {
		ents, err := os.ReadDir(d)
		if err != nil {
			return fmt.Errorf("read queue directory %s: %w", d, err)
		}
		for _, e := range ents {
			if strings.HasPrefix(e.Name(), tmpPrefix) || d == dir && legacyTmp[e.Name()] {
				p := filepath.Join(d, e.Name())
				if err := os.Remove(p); err != nil {
					return fmt.Errorf("remove the temporary file %s left by an interrupted write: %w", p, err)
				}
				removed = append(removed, p)
			}
		}
	}
	if len(removed) > 0 {
		log.Info("removed temporary files left by interrupted writes", "files", len(removed), "first", removed[0])
	}
	return nil
}

// writeFile writes data to a new file at path, fsynced if sync. On any
// error the file is removed, so a full disk leaves nothing behind.
func writeFile(path string, data []byte, sync bool) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil && sync {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(path)
	}
	return err
}

// writeAtomic replaces path with data: temp file, fsync, rename, fsync dir.
// A failed write leaves path as it was and no temporary file.
func writeAtomic(path string, data []byte) error {
	tmp := filepath.Join(filepath.Dir(path), tmpPrefix+filepath.Base(path))
	err := writeFile(tmp, data, true)
	if err == nil {
		if err = os.Rename(tmp, path); err != nil {
			_ = os.Remove(tmp)
		}
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return syncDir(filepath.Dir(path))
}

// readLost reads the lost-points counters: one "<reason> <points>" line
// per reason.
func readLost(path string) (map[string]uint64, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return map[string]uint64{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	lost := map[string]uint64{}
	for i, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if line == "" {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 2 {
			return nil, fmt.Errorf("read %s: line %d: want \"<reason> <points>\", got %q", path, i+1, line)
		}
		v, err := strconv.ParseUint(f[1], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("read %s: line %d: not a number: %w", path, i+1, err)
		}
		lost[f[0]] = v
	}
	return lost, nil
}

// CountLost adds points that never reached the queue, or that the owner
// could not keep elsewhere (a failed Append, a dead-letter file that
// cannot be written), to the counter of reason (LossReason), reported in
// Stats.Lost. The counters are persisted at once when the disk allows,
// else after the next Append, at the next sync or at Close.
func (s *Spool) CountLost(reason string, points int) {
	if points <= 0 {
		return
	}
	if reason = strings.Join(strings.Fields(reason), "_"); reason == "" {
		reason = LostIOError
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lost[reason] += uint64(points)
	s.unsavedLost = true
	s.saveCountersLocked()
}

// saveCountersLocked persists the dropped and lost counters that changed
// since they were last written.
func (s *Spool) saveCountersLocked() {
	if s.unsavedDropped && writeAtomic(filepath.Join(s.o.Dir, "dropped"), []byte(strconv.FormatUint(s.dropped, 10)+"\n")) == nil {
		s.unsavedDropped = false
	}
	if s.unsavedLost {
		var b strings.Builder
		for _, r := range slices.Sorted(maps.Keys(s.lost)) {
			fmt.Fprintf(&b, "%s %d\n", r, s.lost[r])
		}
		if writeAtomic(filepath.Join(s.o.Dir, "lost"), []byte(b.String())) == nil {
			s.unsavedLost = false
		}
	}
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("fsync directory %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("fsync directory %s: %w", dir, err)
	}
	return nil
}

// gzipWriters are reused: a compressor's state is hundreds of KiB, and a
// batch is queued every second.
var gzipWriters = sync.Pool{New: func() any {
	zw, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed)
	return zw
}}

// Append queues a batch of line protocol (or, with Options.Raw, any bytes)
// holding points points and returns its sequence number. It returns once
// the batch is in the file system.
func (s *Spool) Append(ctx context.Context, lineProtocol []byte, points int) (uint64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	var gz bytes.Buffer
	suffix := ".bin"
	if s.o.Raw {
		gz.Write(lineProtocol)
	} else {
		suffix = ".lp.gz"
		zw := gzipWriters.Get().(*gzip.Writer)
		zw.Reset(&gz)
		zw.Write(lineProtocol)
		zw.Close()
		zw.Reset(io.Discard) // do not keep the batch alive in the pool
		gzipWriters.Put(zw)
	}

	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return 0, errors.New("queue is closed")
	}
	seq := s.next
	if seq >= s.reserve {
		if err := writeAtomic(filepath.Join(s.o.Dir, "next"), []byte(strconv.FormatUint(seq+seqBlock, 10)+"\n")); err != nil {
			s.mu.Unlock()
			return 0, fmt.Errorf("reserve batch numbers: %w", err)
		}
		s.reserve = seq + seqBlock
	}
	s.next++
	s.writing[seq] = struct{}{}
	now := s.o.Now()
	s.mu.Unlock()
	done := false
	defer func() {
		if !done {
			s.mu.Lock()
			delete(s.writing, seq)
			s.mu.Unlock()
		}
	}()

	name := fmt.Sprintf("%020d-%d-%d%s", seq, points, now.UnixMilli(), suffix)
	path := filepath.Join(s.data, name)
	tmp := filepath.Join(s.data, tmpPrefix+name)
	// Whatever fails, no file is left: the batch is not queued, and the
	// caller counts its points as lost.
	if err := writeFile(tmp, gz.Bytes(), s.o.SyncInterval == 0); err != nil {
		return 0, fmt.Errorf("queue batch %d: %w", seq, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return 0, fmt.Errorf("queue batch %d: %w", seq, err)
	}
	if s.o.SyncInterval == 0 {
		if err := syncDir(s.data); err != nil {
			_ = os.Remove(path)
			return 0, fmt.Errorf("queue batch %d: %w", seq, err)
		}
	}
	s.mu.Lock()
	done = true
	delete(s.writing, seq)
	rec := Record{Seq: seq, Points: points, Created: now, Size: int64(gz.Len()), path: path}
	// Appends may finish out of order; keep recs sorted.
	i := sort.Search(len(s.recs), func(i int) bool { return s.recs[i].Seq > seq })
	s.recs = slices.Insert(s.recs, i, rec)
	s.bytes += rec.Size
	if s.o.SyncInterval > 0 {
		s.unsync = append(s.unsync, path)
	}
	s.enforceLocked()
	s.saveCountersLocked() // the disk has room again
	s.cond.Broadcast()
	s.mu.Unlock()
	return seq, nil
}

func fsyncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("fsync %s: %w", path, err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("fsync %s: %w", path, err)
	}
	return nil
}

// seqBlock is how many batch numbers one write of the "next" file reserves.
const seqBlock = 4096

// saveNext records the exact next seq at a clean close, so a restart
// continues without a gap.
func (s *Spool) saveNext() error {
	s.mu.Lock()
	next := s.next
	s.reserve = next
	s.mu.Unlock()
	return writeAtomic(filepath.Join(s.o.Dir, "next"), []byte(strconv.FormatUint(next, 10)+"\n"))
}

// Sync fsyncs every batch appended since the last Sync, and the directory.
func (s *Spool) Sync() error {
	s.mu.Lock()
	files := s.unsync
	s.unsync = nil
	s.mu.Unlock()
	var errs []error
	for _, f := range files {
		if err := fsyncFile(f); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	if len(files) > 0 {
		errs = append(errs, syncDir(s.data))
	}
	return errors.Join(errs...)
}

func (s *Spool) syncLoop() {
	defer s.wg.Done()
	t := time.NewTicker(s.o.SyncInterval)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			// Logged when it starts and ends failing, not every tick.
			err := s.Sync()
			switch {
			case err != nil && !failing:
				s.o.Logger.Error("queue fsync failed: queued batches may not survive a power loss; check the disk", "dir", s.data, "err", err)
			case err == nil && failing:
				s.o.Logger.Info("queue fsync works again", "dir", s.data)
			}
			failing = err != nil
			s.mu.Lock()
			s.enforceLocked() // MaxAge also applies when nothing is appended
			s.saveCountersLocked()
			s.mu.Unlock()
		}
	}
}

// enforceLocked drops the oldest batches beyond MaxBytes or MaxAge.
func (s *Spool) enforceLocked() {
	cut := s.o.Now().Add(-s.o.MaxAge)
	var lost, n int
	for len(s.recs) > 0 && (s.bytes > s.o.MaxBytes || s.recs[0].Created.Before(cut)) {
		r := s.recs[0]
		if !s.deliveredLocked(r.Seq) {
			lost += r.Points
		}
		_ = os.Remove(r.path)
		s.recs = s.recs[1:]
		s.bytes -= r.Size
		n++
	}
	if n == 0 {
		return
	}
	if lost > 0 {
		s.dropped += uint64(lost)
		s.unsavedDropped = true
		s.saveCountersLocked()
		s.o.Logger.Warn("queue full or data too old: dropped the oldest undelivered batches",
			"batches", n, "points", lost, "max_bytes", s.o.MaxBytes, "max_age", s.o.MaxAge)
	}
	for _, c := range s.cursors {
		c.dropBelowLocked(s.firstSeqLocked())
	}
}

func (s *Spool) firstSeqLocked() uint64 {
	if len(s.recs) == 0 {
		return s.next
	}
	return s.recs[0].Seq
}

// deliveredLocked reports whether every cursor has acked seq. With no
// cursor, nothing counts as delivered.
func (s *Spool) deliveredLocked(seq uint64) bool {
	if len(s.cursors) == 0 {
		return false
	}
	for _, c := range s.cursors {
		if !c.ackedLocked(seq) {
			return false
		}
	}
	return true
}

// gcLocked deletes batches every cursor has acked.
func (s *Spool) gcLocked() {
	for len(s.recs) > 0 && s.deliveredLocked(s.recs[0].Seq) {
		_ = os.Remove(s.recs[0].path)
		s.bytes -= s.recs[0].Size
		s.recs = s.recs[1:]
	}
}

// Stats returns what waits for the slowest cursor.
func (s *Spool) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.statsLocked(s.recs, s.deliveredLocked)
}

// statsLocked sums the batches of recs that done does not exclude.
func (s *Spool) statsLocked(recs []Record, done func(seq uint64) bool) Stats {
	st := Stats{DroppedPoints: s.dropped}
	if len(s.lost) > 0 {
		st.Lost = maps.Clone(s.lost)
	}
	for _, r := range recs {
		if done(r.Seq) {
			continue
		}
		if st.Records == 0 {
			st.Oldest = r.Created
		}
		st.Records++
		st.Points += int64(r.Points)
		st.Bytes += r.Size
	}
	return st
}

// Close fsyncs and stops the background work; blocked readers return.
func (s *Spool) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.cond.Broadcast()
	s.mu.Unlock()
	close(s.stop)
	s.wg.Wait()
	s.mu.Lock()
	s.saveCountersLocked()
	s.mu.Unlock()
	return errors.Join(s.Sync(), s.saveNext())
}

// Cursor is one collector's position.
type Cursor struct {
	s         *Spool
	name      string
	path      string
	watermark uint64              // everything below is acked
	acked     map[uint64]struct{} // acked above the watermark
	out       map[uint64]struct{} // handed out, not yet acked or released
	saved     uint64              // the watermark on disk
	saveMu    sync.Mutex          // one write of the file at a time
}

var cursorNameRE = regexp.MustCompile(`[^A-Za-z0-9._-]`)

// cursorFile is the file name of the named cursor: never one that starts
// like a temporary file, which Open removes.
func cursorFile(name string) string {
	f := cursorNameRE.ReplaceAllString(name, "_")
	if strings.HasPrefix(f, tmpPrefix) {
		f = "_" + f[1:]
	}
	return f
}

// Cursor returns the named cursor, creating it at the oldest queued batch.
func (s *Spool) Cursor(name string) (*Cursor, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.cursors[name]; c != nil {
		return c, nil
	}
	path := filepath.Join(s.o.Dir, "cursors", cursorFile(name))
	w, err := readUint(path)
	if err != nil {
		return nil, err
	}
	c := &Cursor{s: s, name: name, path: path, watermark: max(w, s.firstSeqLocked()), acked: map[uint64]struct{}{}, out: map[uint64]struct{}{}, saved: w}
	if w == 0 {
		c.watermark = s.firstSeqLocked()
	}
	s.cursors[name] = c
	return c, nil
}

// RemoveCursorsExcept forgets cursors of collectors no longer configured,
// so their backlog no longer holds data on disk.
func (s *Spool) RemoveCursorsExcept(names []string) error {
	keep := map[string]bool{}
	for _, n := range names {
		keep[cursorFile(n)] = true
	}
	ents, err := os.ReadDir(filepath.Join(s.o.Dir, "cursors"))
	if err != nil {
		return fmt.Errorf("read cursors: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for name, c := range s.cursors {
		if !keep[filepath.Base(c.path)] {
			delete(s.cursors, name)
		}
	}
	for _, e := range ents {
		if !keep[e.Name()] {
			_ = os.Remove(filepath.Join(s.o.Dir, "cursors", e.Name()))
		}
	}
	s.gcLocked()
	return nil
}

func (c *Cursor) ackedLocked(seq uint64) bool {
	if seq < c.watermark {
		return true
	}
	_, ok := c.acked[seq]
	return ok
}

func (c *Cursor) dropBelowLocked(first uint64) {
	if c.watermark < first {
		c.watermark = first
	}
	for seq := range c.acked {
		if seq < c.watermark {
			delete(c.acked, seq)
		}
	}
	for seq := range c.out {
		if seq < first {
			delete(c.out, seq)
		}
	}
}

func (c *Cursor) availableLocked(r Record) bool {
	if c.ackedLocked(r.Seq) {
		return false
	}
	_, busy := c.out[r.Seq]
	return !busy
}

// Next hands out up to max of the oldest batches not yet acked or handed
// out, waiting until there is one or ctx ends.
func (c *Cursor) Next(ctx context.Context, max int) ([]Record, error) {
	s := c.s
	stop := context.AfterFunc(ctx, func() {
		s.mu.Lock()
		s.cond.Broadcast()
		s.mu.Unlock()
	})
	defer stop()
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if s.closed {
			return nil, io.EOF
		}
		var out []Record
		// Start at the watermark: everything below is acked.
		from := sort.Search(len(s.recs), func(i int) bool { return s.recs[i].Seq >= c.watermark })
		for _, r := range s.recs[from:] {
			if c.availableLocked(r) {
				out = append(out, r)
				c.out[r.Seq] = struct{}{}
				if len(out) == max {
					break
				}
			}
		}
		if len(out) > 0 {
			return out, nil
		}
		s.cond.Wait()
	}
}

// Newest hands out up to max of the newest batches not yet acked or handed
// out (the fresh lane while a backlog drains); nil if there are none.
func (c *Cursor) Newest(max int) []Record {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Record
	// Look only near the top: what lies deeper is the backlog lane's work,
	// and a long backlog must not make every call walk it.
	stop := len(s.recs) - newestScan
	for i := len(s.recs) - 1; i >= 0 && i >= stop && len(out) < max; i-- {
		if r := s.recs[i]; c.availableLocked(r) {
			out = append(out, r)
			c.out[r.Seq] = struct{}{}
		}
	}
	return out
}

// newestScan bounds how far below the newest batch Newest looks.
const newestScan = 256

// Release hands batches back after a failed send; they are offered again.
func (c *Cursor) Release(seqs ...uint64) {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	for _, seq := range seqs {
		delete(c.out, seq)
	}
	c.s.cond.Broadcast()
}

// Ack marks batches delivered, in any order, and persists the watermark
// when it moved.
func (c *Cursor) Ack(seqs ...uint64) error {
	s := c.s
	s.mu.Lock()
	for _, seq := range seqs {
		delete(c.out, seq)
		if seq >= c.watermark {
			c.acked[seq] = struct{}{}
		}
	}
	// Advance over contiguous acks and over gaps no batch fills any more.
	for {
		if _, ok := c.acked[c.watermark]; ok {
			delete(c.acked, c.watermark)
			c.watermark++
			continue
		}
		// A seq with no batch (a failed Append, or one dropped by the
		// bounds) is skipped, unless its Append is still running.
		i := sort.Search(len(s.recs), func(i int) bool { return s.recs[i].Seq >= c.watermark })
		if c.watermark < s.next && (i == len(s.recs) || s.recs[i].Seq > c.watermark) {
			to := s.next
			if i < len(s.recs) {
				to = s.recs[i].Seq
			}
			for w := range s.writing {
				if w >= c.watermark && w < to {
					to = w
				}
			}
			if to > c.watermark {
				c.watermark = to
				continue
			}
		}
		break
	}
	s.gcLocked()
	s.mu.Unlock()
	return c.save()
}

// save persists the watermark if it moved since it was last written; a
// failed write (disk full) is tried again at the next Ack.
func (c *Cursor) save() error {
	c.saveMu.Lock()
	defer c.saveMu.Unlock()
	s := c.s
	s.mu.Lock()
	w, moved := c.watermark, c.watermark != c.saved
	s.mu.Unlock()
	if !moved {
		return nil
	}
	if err := writeAtomic(c.path, []byte(strconv.FormatUint(w, 10)+"\n")); err != nil {
		return err
	}
	s.mu.Lock()
	c.saved = w
	s.mu.Unlock()
	return nil
}

// Acked reports whether batch seq is delivered (acked, or below the
// watermark).
func (c *Cursor) Acked(seq uint64) bool {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	return c.ackedLocked(seq)
}

// Stats describes what waits for this cursor: the queued batches it has
// not acknowledged (handed out or not). DroppedPoints is the queue's.
func (c *Cursor) Stats() Stats {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	i := sort.Search(len(s.recs), func(i int) bool { return s.recs[i].Seq >= c.watermark })
	return s.statsLocked(s.recs[i:], c.ackedLocked)
}

// Name is the cursor's name.
func (c *Cursor) Name() string { return c.name }
