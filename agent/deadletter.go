package agent

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pantau-noc/pantau/internal/spool"
)

// deadLetters is <state_dir>/dead-letter.jsonl: the batches collectors
// refused for good, one JSON line each, fsynced. It is bounded: when a
// line would take the file past max bytes, the file becomes
// dead-letter.jsonl.1 (the previous .1 is dropped, its batches counted)
// and a new file starts, so at most two generations, about 2 × max bytes,
// are kept (a single line longer than max gets a file of its own). A line
// that cannot be written (disk full) is not kept half: the file is cut
// back, and the batch's points are counted as lost.
type deadLetters struct {
	path string
	max  int64
	m    *deadLetterMetrics
	sp   *spool.Spool // counts the points of lines that cannot be written
	log  *slog.Logger

	mu   sync.Mutex
	fail *lossLog
}

type deadLetterMetrics struct {
	bytes   prometheus.Gauge
	dropped prometheus.Counter
}

func newDeadLetterMetrics(reg prometheus.Registerer) *deadLetterMetrics {
	m := &deadLetterMetrics{
		bytes: prometheus.NewGauge(prometheus.GaugeOpts{Name: "pantau_agent_dead_letter_bytes",
			Help: "Size of the dead-letter files (dead-letter.jsonl and its previous generation dead-letter.jsonl.1)."}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{Name: "pantau_agent_dead_letter_dropped_batches_total",
			Help: "Dead-lettered batches deleted with the oldest dead-letter file when queue.dead_letter_max_bytes rotated it out."}),
	}
	reg.MustRegister(m.bytes, m.dropped)
	return m
}

func newDeadLetters(path string, max int64, m *deadLetterMetrics, sp *spool.Spool, fail *lossLog, log *slog.Logger) *deadLetters {
	d := &deadLetters{path: path, max: max, m: m, sp: sp, fail: fail, log: log}
	d.m.bytes.Set(float64(fileSize(path) + fileSize(path+".1")))
	return d
}

func fileSize(path string) int64 {
	st, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return st.Size()
}

// add writes line (one JSON object and its newline) for a batch of
// points. It reports whether the line was kept; if not, the points are
// counted as lost and the failure is logged (once per run of failures).
func (d *deadLetters) add(line []byte, points int, attrs ...any) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	err := d.appendLocked(line)
	d.m.bytes.Set(float64(fileSize(d.path) + fileSize(d.path+".1")))
	if err != nil {
		reason := spool.LossReason(err)
		d.sp.CountLost(reason, points)
		msg := "cannot write the dead-letter file: batches the collector refused are lost (counted in queue_dropped_points_total); free space in agent.state_dir"
		if reason != spool.LostDiskFull {
			msg = "cannot write the dead-letter file: batches the collector refused are lost (counted in queue_dropped_points_total); check agent.state_dir"
		}
		d.fail.failed(d.log, msg, points, err, append(attrs, "reason", reason, "file", d.path)...)
		return false
	}
	d.fail.ok(d.log, "the dead-letter file can be written again", "file", d.path)
	return true
}

func (d *deadLetters) appendLocked(line []byte) error {
	size := fileSize(d.path)
	if size > 0 && size+int64(len(line)) > d.max {
		if err := d.rotateLocked(); err != nil {
			return err
		}
		size = 0
	}
	f, err := os.OpenFile(d.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return fmt.Errorf("open the dead-letter file: %w", err)
	}
	_, err = f.Write(line)
	if err == nil {
		err = f.Sync()
	}
	if err != nil {
		// No half line: cut the file back to what it held.
		_ = f.Truncate(size)
		f.Close()
		return fmt.Errorf("write the dead-letter file: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write the dead-letter file: %w", err)
	}
	return nil
}

// rotateLocked makes the file the previous generation, dropping (and
// counting) the one before.
func (d *deadLetters) rotateLocked() error {
	old := d.path + ".1"
	n, err := countLines(old)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("rotate the dead-letter file: %w", err)
	}
	if err := os.Rename(d.path, old); err != nil {
		return fmt.Errorf("rotate the dead-letter file: %w", err)
	}
	d.m.dropped.Add(float64(n))
	if n > 0 {
		d.log.Warn("dead-letter file rotated: the oldest dead-lettered batches are deleted (queue.dead_letter_max_bytes)",
			"file", d.path, "deleted_batches", n, "max_bytes", d.max)
	}
	if dir, err := os.Open(filepath.Dir(d.path)); err == nil {
		dir.Sync()
		dir.Close()
	}
	return nil
}

func countLines(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	n := 0
	buf := make([]byte, 64<<10)
	for {
		k, err := f.Read(buf)
		n += bytes.Count(buf[:k], []byte{'\n'})
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

// lossLog logs a run of write failures that lose points once, at ERROR,
// when it starts, and once when it ends with the points it lost, instead
// of once per batch.
type lossLog struct {
	mu      sync.Mutex
	failing bool
	points  int
}

func (l *lossLog) failed(log *slog.Logger, msg string, points int, err error, attrs ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.points += points
	if l.failing {
		return
	}
	l.failing = true
	log.Error(msg, append(attrs, "points", points, "err", err)...)
}

func (l *lossLog) ok(log *slog.Logger, msg string, attrs ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.failing {
		return
	}
	log.Warn(msg, append(attrs, "lost_points", l.points)...)
	l.failing, l.points = false, 0
}
