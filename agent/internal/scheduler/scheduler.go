// Package scheduler runs every probe target on its own interval. Start
// times are spread over the interval by a hash of the target (splay), so a
// thousand targets do not fire in the same millisecond; every round gets a
// context bounded by the target's timeout; a round still running when the
// next is due makes that next round skipped and counted, never queued.
package scheduler

import (
	"context"
	"errors"
	"hash/fnv"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pantau-noc/pantau/agent/internal/point"
)

// Job is one target.
type Job struct {
	Kind     string // icmp, snmp, agent, plugin name: the metrics label
	Name     string // target, for logs and splay
	Interval time.Duration
	Timeout  time.Duration
	// Run probes once. It stamps its points with the time it measured.
	// Points may come with an error (an snmp_device up=0 point, say); a
	// job that covers several targets returns a *GroupError.
	Run func(ctx context.Context) ([]*point.Point, error)
	// Targets is how many targets one round covers (0 means 1): rounds,
	// skips and failures are counted per target.
	Targets int
	// FixedOffset makes Offset the start inside the interval instead of
	// the hashed splay (for a job that groups targets sharing a slot).
	FixedOffset bool
	Offset      time.Duration
}

// GroupError is the error of a round that covers several targets.
type GroupError struct {
	Failed int   // targets that failed
	Err    error // their errors, joined
}

func (e *GroupError) Error() string { return e.Err.Error() }
func (e *GroupError) Unwrap() error { return e.Err }

// Metrics are the scheduler's self-metrics.
type Metrics struct {
	duration *prometheus.HistogramVec
	failures *prometheus.CounterVec
	skipped  *prometheus.CounterVec
	rounds   *prometheus.CounterVec
}

// NewMetrics registers the probe metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "pantau_agent_probe_duration_seconds",
			Help:    "Time one probe round took, by probe kind (ICMP targets that share a start slot and settings are probed in one round).",
			Buckets: []float64{.001, .005, .01, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"kind"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pantau_agent_probe_failures_total",
			Help: "Probe rounds that returned an error (target down, timeout, bad response), by kind.",
		}, []string{"kind"}),
		skipped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pantau_agent_probe_skipped_total",
			Help: "Rounds skipped because the previous round of the same target was still running, by kind.",
		}, []string{"kind"}),
		rounds: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pantau_agent_probe_rounds_total",
			Help: "Probe rounds run, by kind.",
		}, []string{"kind"}),
	}
	if reg != nil {
		reg.MustRegister(m.duration, m.failures, m.skipped, m.rounds)
	}
	return m
}

// Run runs jobs until ctx is done, handing every round's points to emit
// (which must be safe for concurrent use), and waits for rounds in
// progress to end.
func Run(ctx context.Context, jobs []Job, emit func([]*point.Point), m *Metrics, logger *slog.Logger) {
	if m == nil {
		m = NewMetrics(nil)
	}
	epoch := time.Now()
	var wg sync.WaitGroup
	for _, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runJob(ctx, j, epoch, emit, m, logger)
		}()
	}
	wg.Wait()
}

// Splay is the job's fixed offset inside its interval, on a slot of
// SplayQuantum.
func Splay(kind, name string, interval time.Duration) time.Duration {
	return SplayOn(kind, name, interval, SplayQuantum)
}

// SplayOn is Splay on slots of at most quantum. Jobs that probe one target
// each and cannot share a slot's work (one pro-bing Pinger per target) are
// better spread on finer slots: fifty Pingers woken together contend for
// the CPU and inflate each other's RTTs.
func SplayOn(kind, name string, interval, quantum time.Duration) time.Duration {
	if interval <= 0 {
		return 0
	}
	h := fnv.New64a()
	h.Write([]byte(kind))
	h.Write([]byte{0})
	h.Write([]byte(name))
	d := time.Duration(h.Sum64() % uint64(interval))
	// Quantize to slots of interval/20 (at most 50 ms): targets in the same
	// slot start together, so the process wakes 20 times per interval
	// rather than once per target, and the load stays spread. Each wake-up
	// of an idle process costs more than the work of a few probes (on a
	// VM, timer and IPI exits too): 50 ms slots rather than 10 ms halved
	// the CPU of 1,000 one-second ICMP targets (docs/benchmarks.md).
	if q := min(interval/20, quantum); q > 0 {
		d -= d % q
	}
	return d
}

// SplayQuantum is the largest slot that start times are rounded to;
// FineQuantum is the slot for jobs that gain nothing from sharing one.
const (
	SplayQuantum = 50 * time.Millisecond
	FineQuantum  = 10 * time.Millisecond
)

func runJob(ctx context.Context, j Job, epoch time.Time, emit func([]*point.Point), m *Metrics, logger *slog.Logger) {
	offset := Splay(j.Kind, j.Name, j.Interval)
	if j.FixedOffset {
		offset = j.Offset
	}
	targets := float64(max(j.Targets, 1))
	next := epoch.Add(offset)
	timer := time.NewTimer(time.Until(next))
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		start := time.Now()
		rctx, cancel := context.WithTimeout(ctx, j.Timeout)
		pts, err := j.Run(rctx)
		cancel()
		took := time.Since(start)
		if ctx.Err() != nil {
			return // a round cut short by shutdown is not a measurement
		}
		m.rounds.WithLabelValues(j.Kind).Add(targets)
		m.duration.WithLabelValues(j.Kind).Observe(took.Seconds())
		if err != nil {
			failed := 1.0
			var ge *GroupError
			if errors.As(err, &ge) {
				failed = float64(ge.Failed)
			}
			m.failures.WithLabelValues(j.Kind).Add(failed)
			logger.Debug("probe failed", "kind", j.Kind, "target", j.Name, "err", err)
		}
		if len(pts) > 0 {
			emit(pts)
		}
		// The next round is the first slot after now; slots that passed
		// while this round ran are skipped and counted.
		next = next.Add(j.Interval)
		if now := time.Now(); !next.After(now) {
			missed := now.Sub(next)/j.Interval + 1
			m.skipped.WithLabelValues(j.Kind).Add(float64(missed) * targets)
			next = next.Add(missed * j.Interval)
			logger.Warn("probe round overran its interval; skipped rounds", "kind", j.Kind, "target", j.Name,
				"took", took.Round(time.Millisecond), "interval", j.Interval, "skipped", int(missed))
		}
		timer.Reset(time.Until(next))
	}
}
