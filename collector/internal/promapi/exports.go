package promapi

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// DefaultExportQueueWait is how long a /federate or remote read request
// waits for a slot (Options.MaxConcurrentExports) before 503, as
// VictoriaMetrics' -search.maxQueueDuration.
const DefaultExportQueueWait = 10 * time.Second

// exportGate bounds the /federate and remote read requests served at
// once: each holds up to limits.federate_max_series series or
// limits.remote_read_max_samples samples in memory, so their number
// bounds the memory they take together. The bound is the request's
// (Limits.MaxConcurrentExports), so that a reload resizes it: after a
// lower one, no export starts until those served are below it.
type exportGate struct {
	wait time.Duration

	mu    sync.Mutex
	n     int           // served now
	freed chan struct{} // closed when a slot is given back while someone waits
}

func newExportGate(wait time.Duration) *exportGate {
	g := &exportGate{wait: wait}
	if g.wait <= 0 {
		g.wait = DefaultExportQueueWait
	}
	return g
}

// acquire waits for one of max slots (0: no limit); false when none came
// free within the wait or ctx ended.
func (g *exportGate) acquire(ctx context.Context, max int) (release func(), ok bool) {
	var t *time.Timer
	for {
		g.mu.Lock()
		if max <= 0 || g.n < max {
			g.n++
			g.mu.Unlock()
			return g.release, true
		}
		if g.freed == nil {
			g.freed = make(chan struct{})
		}
		ch := g.freed
		g.mu.Unlock()
		if t == nil {
			t = time.NewTimer(g.wait)
			defer t.Stop()
		}
		select {
		case <-ch:
		case <-t.C:
			return nil, false
		case <-ctx.Done():
			return nil, false
		}
	}
}

func (g *exportGate) release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.n--
	if g.freed != nil {
		close(g.freed)
		g.freed = nil
	}
}

// refuseBusy answers 503 to an export request that found none of max
// slots.
func (g *exportGate) refuseBusy(w http.ResponseWriter, what string, max int) {
	w.Header().Set("Retry-After", strconv.Itoa(int(g.wait.Seconds())+1))
	http.Error(w, fmt.Sprintf("%s: %d federation and remote read requests are being served and no slot came free within %s (limits.max_concurrent_exports): spread the scrapes and reads over time, or raise the limit if the memory allows",
		what, max, g.wait), http.StatusServiceUnavailable)
}

func newFederateRefused() *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "pantau_collector_federate_refused_total",
		Help: "Federation requests (/federate) refused, by reason: series (match[] selected more than limits.federate_max_series series with a sample in the last 5 minutes, 422), busy (no slot of limits.max_concurrent_exports came free in time, 503).",
	}, []string{"reason"})
	for _, r := range []string{refusedSeries, refusedBusy} {
		c.WithLabelValues(r)
	}
	return c
}
