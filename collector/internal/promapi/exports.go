package promapi

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
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
// bounds the memory they take together.
type exportGate struct {
	slots chan struct{} // nil: no limit
	wait  time.Duration
}

func newExportGate(n int, wait time.Duration) *exportGate {
	g := &exportGate{wait: wait}
	if g.wait <= 0 {
		g.wait = DefaultExportQueueWait
	}
	if n > 0 {
		g.slots = make(chan struct{}, n)
	}
	return g
}

// acquire waits for a slot; false when none came free within the wait
// or ctx ended.
func (g *exportGate) acquire(ctx context.Context) (release func(), ok bool) {
	if g.slots == nil {
		return func() {}, true
	}
	select {
	case g.slots <- struct{}{}:
		return func() { <-g.slots }, true
	default:
	}
	t := time.NewTimer(g.wait)
	defer t.Stop()
	select {
	case g.slots <- struct{}{}:
		return func() { <-g.slots }, true
	case <-t.C:
	case <-ctx.Done():
	}
	return nil, false
}

// refuseBusy answers 503 to an export request that found no slot.
func (g *exportGate) refuseBusy(w http.ResponseWriter, what string) {
	w.Header().Set("Retry-After", strconv.Itoa(int(g.wait.Seconds())+1))
	http.Error(w, fmt.Sprintf("%s: %d federation and remote read requests are being served and no slot came free within %s (limits.max_concurrent_exports): spread the scrapes and reads over time, or raise the limit if the memory allows",
		what, cap(g.slots), g.wait), http.StatusServiceUnavailable)
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
