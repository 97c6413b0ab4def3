package collector

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// haPeer makes a collector the standby of an HA pair (alerting.ha_peer):
// it asks the peer's /readyz every interval, and while the peer answers
// 200 the standby's notifications are dropped before they reach the
// outbox. Rules are still evaluated, alerts still shown (alert list,
// /api/v1/alerts, the console): only sending is left to the peer. A peer
// that does not answer, or answers anything but 200, is not ready.
type haPeer struct {
	readyz string
	every  time.Duration
	client *http.Client
	log    *slog.Logger

	ready atomic.Bool
	// checked is closed after the first check: until then a notification
	// waits for it rather than guess.
	checked   chan struct{}
	closeOnce sync.Once

	readyGauge prometheus.Gauge
	checks     *prometheus.CounterVec
	suppressed prometheus.Counter
}

func newHAPeer(readyz string, every time.Duration, log *slog.Logger) *haPeer {
	h := &haPeer{
		readyz: readyz, every: every, log: log, checked: make(chan struct{}),
		// a check must end before the next one is due
		client: &http.Client{Timeout: min(every, 5*time.Second), CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		readyGauge: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "pantau_collector_alerting_ha_peer_ready",
			Help: "1 while the HA peer (alerting.ha_peer) answers /readyz with 200 and this standby leaves notifying to it, 0 while this standby notifies.",
		}),
		checks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pantau_collector_alerting_ha_peer_checks_total",
			Help: "Checks of the HA peer's /readyz, by result (ready, not_ready: any answer but 200, error: no answer).",
		}, []string{"result"}),
		suppressed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "pantau_collector_alerting_ha_suppressed_notifications_total",
			Help: "Notifications this standby did not send because its HA peer was ready (the peer sends them).",
		}),
	}
	for _, r := range []string{"ready", "not_ready", "error"} {
		h.checks.WithLabelValues(r)
	}
	return h
}

func (h *haPeer) collectors() []prometheus.Collector {
	return []prometheus.Collector{h.readyGauge, h.checks, h.suppressed}
}

// run checks the peer at once and then every interval until ctx ends.
func (h *haPeer) run(ctx context.Context) error {
	t := time.NewTicker(h.every)
	defer t.Stop()
	first := true
	for {
		ready, why := h.check(ctx)
		if ctx.Err() != nil {
			return nil
		}
		was := h.ready.Swap(ready)
		if ready {
			h.readyGauge.Set(1)
		} else {
			h.readyGauge.Set(0)
		}
		switch {
		case first && ready:
			h.log.Info("HA standby: the peer is ready; it sends the notifications", "peer", h.readyz)
		case first:
			h.log.Warn("HA standby: the peer is not ready; this collector sends the notifications", "peer", h.readyz, "reason", why)
		case was && !ready:
			h.log.Warn("HA standby: the peer is no longer ready; this collector sends the notifications from now on", "peer", h.readyz, "reason", why)
		case !was && ready:
			h.log.Info("HA standby: the peer is ready again; this collector stops sending notifications", "peer", h.readyz)
		}
		if first {
			first = false
			h.closeOnce.Do(func() { close(h.checked) })
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// check asks the peer's /readyz once.
func (h *haPeer) check(ctx context.Context) (bool, string) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.readyz, nil)
	if err != nil {
		h.checks.WithLabelValues("error").Inc()
		return false, err.Error()
	}
	res, err := h.client.Do(req)
	if err != nil {
		h.checks.WithLabelValues("error").Inc()
		return false, fmt.Sprintf("check %s: %v", h.readyz, err)
	}
	io.Copy(io.Discard, io.LimitReader(res.Body, 4096))
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		h.checks.WithLabelValues("not_ready").Inc()
		return false, fmt.Sprintf("%s answered %s", h.readyz, res.Status)
	}
	h.checks.WithLabelValues("ready").Inc()
	return true, ""
}

// gate wraps the outbox's Enqueue: while the peer is ready a notification
// is counted and dropped (reported as not queued), else queued as usual.
func (h *haPeer) gate(enqueue func(ctx context.Context, notifier, msgID string, payload []byte) (bool, error)) func(ctx context.Context, notifier, msgID string, payload []byte) (bool, error) {
	return func(ctx context.Context, notifier, msgID string, payload []byte) (bool, error) {
		select {
		case <-h.checked:
		case <-ctx.Done():
			return false, ctx.Err()
		}
		if h.ready.Load() {
			h.suppressed.Inc()
			h.log.Debug("HA standby: notification left to the peer", "notifier", notifier, "id", msgID)
			return false, nil
		}
		return enqueue(ctx, notifier, msgID, payload)
	}
}
