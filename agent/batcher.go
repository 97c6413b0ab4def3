package agent

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pantau-noc/pantau/agent/internal/point"
	"github.com/pantau-noc/pantau/internal/spool"
)

// batcher collects points from every probe into line-protocol batches
// and appends each to the queue when it holds max points or has waited
// linger, whichever comes first.
type batcher struct {
	sp       *spool.Spool
	max      int
	linger   time.Duration
	log      *slog.Logger
	m        *queueMetrics
	loss     *lossLog
	stateDir string

	mu     sync.Mutex
	enc    *point.Encoder
	n      int
	timer  *time.Timer
	closed bool
}

func newBatcher(sp *spool.Spool, max int, linger time.Duration, m *queueMetrics, loss *lossLog, stateDir string, log *slog.Logger) *batcher {
	return &batcher{sp: sp, max: max, linger: linger, log: log, m: m, loss: loss, stateDir: stateDir, enc: point.NewEncoder()}
}

// Add encodes points into the current batch.
func (b *batcher) Add(pts []*point.Point) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return
	}
	for _, p := range pts {
		if err := b.enc.Add(p); err != nil {
			b.log.Warn("point not encodable; dropped", "err", err)
			continue
		}
		b.n++
		if b.n >= b.max {
			b.flushLocked()
		}
	}
	if b.n > 0 && b.timer == nil {
		b.timer = time.AfterFunc(b.linger, func() {
			b.mu.Lock()
			defer b.mu.Unlock()
			b.timer = nil
			b.flushLocked()
		})
	}
}

func (b *batcher) flushLocked() {
	if b.n == 0 {
		return
	}
	data := append([]byte(nil), b.enc.Bytes()...)
	n := b.n
	b.enc.Reset()
	b.n = 0
	if _, err := b.sp.Append(context.Background(), data, n); err != nil {
		// The points are lost: counted, and logged once per run of
		// failures. The next batch tries again, so queueing resumes by
		// itself once there is room.
		reason := spool.LossReason(err)
		b.sp.CountLost(reason, n)
		b.m.appendErrors.Inc()
		msg := "cannot queue measurements: the disk holding agent.state_dir is full; points are lost (counted in queue_dropped_points_total) until space is freed"
		if reason != spool.LostDiskFull {
			msg = "cannot queue measurements: writing to agent.state_dir fails; points are lost (counted in queue_dropped_points_total) until it works again"
		}
		b.loss.failed(b.log, msg, n, err, "reason", reason, "state_dir", b.stateDir)
		return
	}
	b.loss.ok(b.log, "queueing measurements works again", "state_dir", b.stateDir)
}

// Close queues what is pending.
func (b *batcher) Close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.timer != nil {
		b.timer.Stop()
		b.timer = nil
	}
	b.flushLocked()
	b.closed = true
}

// queueMetrics expose the queue's state on /metrics.
type queueMetrics struct {
	appendErrors prometheus.Counter
}

func newQueueMetrics(reg prometheus.Registerer, sp *spool.Spool) *queueMetrics {
	m := &queueMetrics{appendErrors: prometheus.NewCounter(prometheus.CounterOpts{
		Name: "pantau_agent_queue_append_errors_total", Help: "Batches that could not be written to the queue (disk full, I/O error)."})}
	stat := func(f func(spool.Stats) float64) func() float64 { return func() float64 { return f(sp.Stats()) } }
	reg.MustRegister(m.appendErrors,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "pantau_agent_queue_points", Help: "Points queued and not yet delivered to every collector."},
			stat(func(s spool.Stats) float64 { return float64(s.Points) })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "pantau_agent_queue_bytes", Help: "Bytes (compressed) queued and not yet delivered to every collector."},
			stat(func(s spool.Stats) float64 { return float64(s.Bytes) })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "pantau_agent_queue_batches", Help: "Batches queued and not yet delivered to every collector."},
			stat(func(s spool.Stats) float64 { return float64(s.Records) })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "pantau_agent_queue_oldest_age_seconds", Help: "Age of the oldest undelivered batch (0 when none)."},
			stat(func(s spool.Stats) float64 {
				if s.Records == 0 {
					return 0
				}
				return time.Since(s.Oldest).Seconds()
			})),
		&droppedCollector{sp: sp, desc: prometheus.NewDesc("pantau_agent_queue_dropped_points_total",
			"Points measured and lost, by reason: limit (undelivered, deleted by queue.max_bytes or queue.max_age), "+
				"disk_full (a batch could not be queued or dead-lettered: ENOSPC, EDQUOT), io_error (the same for any other write error). "+
				"Persisted across restarts; the heartbeat's queue_dropped_points_total is their sum.", []string{"reason"}, nil)},
	)
	return m
}

// droppedCollector reads the queue's dropped and lost counters at scrape
// time.
type droppedCollector struct {
	sp   *spool.Spool
	desc *prometheus.Desc
}

func (c *droppedCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *droppedCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.sp.Stats()
	ch <- prometheus.MustNewConstMetric(c.desc, prometheus.CounterValue, float64(st.DroppedPoints), "limit")
	for _, r := range []string{spool.LostDiskFull, spool.LostIOError} {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.CounterValue, float64(st.Lost[r]), r)
	}
	for r, v := range st.Lost {
		if r != spool.LostDiskFull && r != spool.LostIOError {
			ch <- prometheus.MustNewConstMetric(c.desc, prometheus.CounterValue, float64(v), r)
		}
	}
}
