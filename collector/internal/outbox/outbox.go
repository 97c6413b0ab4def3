// Package outbox delivers notifications durably: a notification is stored
// in state.db before anything is sent, each notifier's entries go out one
// at a time in the order they were queued, failed attempts are retried
// with exponential backoff and full jitter (at least as long as the endpoint's
// Retry-After or Telegram's retry_after), an endpoint that refuses an entry
// for good (other 4xx) marks it failed without blocking the ones behind
// it, and every notifier is held to its rate limit.
//
// Nothing is sent twice: a message id is queued once per notifier, an
// entry is marked sent as soon as the endpoint accepts it, and a send in
// flight at shutdown is finished, not cancelled (a cancelled request may
// already have reached the endpoint). Only a crash (kill -9, power loss)
// between the endpoint's answer and that mark can repeat one entry.
package outbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pantau-noc/pantau/collector/internal/statedb"
	"github.com/pantau-noc/pantau/internal/retry"
)

// Channel is one notifier's sending side.
type Channel struct {
	Name      string // the notifier's name (outbox key, metric label)
	Type      string // its integration (metric label)
	PerMinute int    // rate limit: at most this many requests a minute (0: none)
	// Send delivers one payload; it should give up by itself after a
	// timeout (the notifier's HTTP client does).
	Send func(ctx context.Context, payload []byte) error
}

// Options configure an Outbox.
type Options struct {
	DB       *statedb.DB
	Channels []Channel
	// Classify tells a failed send's kind: permanent (do not retry) and
	// the endpoint's requested wait, if any.
	Classify func(err error) (permanent bool, retryAfter time.Duration)
	// Backoff bounds: the n-th retry of an entry waits between MinBackoff
	// and MinBackoff·2ⁿ⁻¹, at most MaxBackoff (defaults 2 s and 5 min;
	// full jitter, internal/retry).
	MinBackoff, MaxBackoff time.Duration
	// OnPermanent is called when an endpoint refused an entry for good (an
	// alert on the notifier itself).
	OnPermanent func(e statedb.OutboxEntry, err error)
	// OnSent is called after every delivery.
	OnSent     func(notifier string)
	Logger     *slog.Logger
	Registerer prometheus.Registerer
}

// idlePoll is how often an idle notifier looks for entries queued by
// another process.
const idlePoll = 5 * time.Second

// Outbox queues and delivers notifications.
type Outbox struct {
	o       Options
	backoff retry.Backoff
	chans   map[string]*channel
	m       *metrics
}

type channel struct {
	Channel
	wake chan struct{}
}

// New checks the options and registers the metrics.
func New(o Options) (*Outbox, error) {
	if o.DB == nil {
		return nil, errors.New("outbox: no state database")
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = 2 * time.Second
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 5 * time.Minute
	}
	if o.MaxBackoff < o.MinBackoff {
		o.MaxBackoff = o.MinBackoff
	}
	if o.Classify == nil {
		o.Classify = func(error) (bool, time.Duration) { return false, 0 }
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	ob := &Outbox{o: o, backoff: retry.Backoff{Min: o.MinBackoff, Max: o.MaxBackoff}, chans: map[string]*channel{}}
	for _, c := range o.Channels {
		if c.Name == "" || c.Send == nil {
			return nil, fmt.Errorf("outbox: channel %q has no name or no sender", c.Name)
		}
		if _, dup := ob.chans[c.Name]; dup {
			return nil, fmt.Errorf("outbox: channel %q defined twice", c.Name)
		}
		ob.chans[c.Name] = &channel{Channel: c, wake: make(chan struct{}, 1)}
	}
	ob.m = newMetrics(ob)
	if o.Registerer != nil {
		if err := o.Registerer.Register(ob.m); err != nil {
			return nil, fmt.Errorf("outbox: register metrics: %w", err)
		}
	}
	return ob, nil
}

// ErrUnknownChannel is returned for a notifier the outbox does not have.
var ErrUnknownChannel = errors.New("no such notifier")

// Enqueue stores a notification for a notifier and wakes its sender. A
// message id already queued for that notifier is ignored (false).
func (ob *Outbox) Enqueue(ctx context.Context, notifier, msgID string, payload []byte) (bool, error) {
	c, ok := ob.chans[notifier]
	if !ok {
		return false, fmt.Errorf("queue notification %s: %w: %q", msgID, ErrUnknownChannel, notifier)
	}
	added, err := ob.o.DB.OutboxEnqueue(ctx, notifier, msgID, payload, time.Now())
	if err != nil {
		return false, err
	}
	if added {
		select {
		case c.wake <- struct{}{}:
		default:
		}
	}
	return added, nil
}

// Run sends until ctx ends; a send in flight then is finished first.
func (ob *Outbox) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for _, c := range ob.chans {
		wg.Go(func() { ob.deliver(ctx, c) })
	}
	wg.Wait()
	return nil
}

// deliver sends one notifier's entries in order.
func (ob *Outbox) deliver(ctx context.Context, c *channel) {
	log := ob.o.Logger.With("notifier", c.Name)
	var spacing time.Duration
	if c.PerMinute > 0 {
		spacing = time.Minute / time.Duration(c.PerMinute)
	}
	var last time.Time // the last request, for the rate limit
	// bg keeps database updates and a send in flight from being cut by
	// shutdown
	bg := context.WithoutCancel(ctx)
	for ctx.Err() == nil {
		e, ok, err := ob.o.DB.OutboxHead(ctx, c.Name)
		if err != nil {
			if ctx.Err() == nil {
				log.Error("cannot read the outbox", "err", err)
				retry.Sleep(ctx, time.Second)
			}
			continue
		}
		if !ok {
			// another process (the CLI) may queue too: look again soon
			retry.SleepOrWake(ctx, idlePoll, c.wake)
			continue
		}
		wait := time.Until(e.Next)
		if spacing > 0 && !last.IsZero() {
			wait = max(wait, time.Until(last.Add(spacing)))
		}
		if wait > 0 {
			retry.Sleep(ctx, wait)
			continue
		}
		sendErr := c.Send(bg, e.Payload)
		now := time.Now()
		last = now
		if sendErr == nil {
			if err := ob.mark(func() error { return ob.o.DB.OutboxSent(bg, e.ID, now) }); err != nil {
				log.Error("sent, but cannot record it; the notification may be sent again after a restart", "id", e.MsgID, "err", err)
			}
			ob.m.sent.WithLabelValues(c.Name, c.Type).Inc()
			if ob.o.OnSent != nil {
				ob.o.OnSent(c.Name)
			}
			continue
		}
		permanent, retryAfter := ob.o.Classify(sendErr)
		if permanent {
			ob.m.failed.WithLabelValues(c.Name, c.Type).Inc()
			log.Error("notification refused; not retried", "id", e.MsgID, "attempts", e.Attempts+1, "err", sendErr)
			if err := ob.mark(func() error { return ob.o.DB.OutboxFail(bg, e.ID, now, sendErr.Error()) }); err != nil {
				log.Error("cannot record a refused notification", "id", e.MsgID, "err", err)
			}
			if ob.o.OnPermanent != nil {
				e.State, e.LastError = statedb.OutboxFailed, sendErr.Error()
				ob.o.OnPermanent(e, sendErr)
			}
			continue
		}
		// Rounded up to the millisecond state.db keeps, so that the retry
		// never comes before the wait the endpoint asked for.
		delay := max(ob.backoff.Delay(e.Attempts+1), retryAfter)
		next := ceilMilli(now.Add(delay))
		ob.m.retried.WithLabelValues(c.Name, c.Type).Inc()
		log.Warn("notification not delivered; will retry", "id", e.MsgID, "attempts", e.Attempts+1, "retry_in", delay.Round(time.Millisecond).String(), "err", sendErr)
		if err := ob.mark(func() error { return ob.o.DB.OutboxRetry(bg, e.ID, next, sendErr.Error()) }); err != nil {
			log.Error("cannot record a failed attempt", "id", e.MsgID, "err", err)
			retry.Sleep(ctx, time.Second)
		}
	}
}

// mark records an outcome, trying a few times (the database may be busy).
func (ob *Outbox) mark(f func() error) error {
	var err error
	for range 5 {
		if err = f(); err == nil {
			return nil
		}
		time.Sleep(200 * time.Millisecond)
	}
	return err
}

// metrics are the outbox's self-metrics.
type metrics struct {
	ob                    *Outbox
	sent, failed, retried *prometheus.CounterVec
	pending, oldest       *prometheus.Desc
}

func newMetrics(ob *Outbox) *metrics {
	lbl := []string{"notifier", "type"}
	m := &metrics{
		ob:      ob,
		sent:    prometheus.NewCounterVec(prometheus.CounterOpts{Name: "pantau_notifications_sent_total", Help: "Notifications the endpoint accepted."}, lbl),
		failed:  prometheus.NewCounterVec(prometheus.CounterOpts{Name: "pantau_notifications_failed_total", Help: "Notifications the endpoint refused for good (not retried)."}, lbl),
		retried: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "pantau_notifications_retried_total", Help: "Failed attempts that will be retried (network errors, 5xx, 408, 429)."}, lbl),
		pending: prometheus.NewDesc("pantau_notification_outbox_entries", "Notifications queued and not yet delivered.", []string{"notifier"}, nil),
		oldest:  prometheus.NewDesc("pantau_notification_outbox_oldest_age_seconds", "Age of the oldest undelivered notification (0 when none).", []string{"notifier"}, nil),
	}
	for _, c := range ob.chans {
		for _, v := range []*prometheus.CounterVec{m.sent, m.failed, m.retried} {
			v.WithLabelValues(c.Name, c.Type)
		}
	}
	return m
}

func (m *metrics) Describe(ch chan<- *prometheus.Desc) {
	m.sent.Describe(ch)
	m.failed.Describe(ch)
	m.retried.Describe(ch)
	ch <- m.pending
	ch <- m.oldest
}

func (m *metrics) Collect(ch chan<- prometheus.Metric) {
	m.sent.Collect(ch)
	m.failed.Collect(ch)
	m.retried.Collect(ch)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	stats, err := m.ob.o.DB.OutboxStats(ctx)
	if err != nil {
		m.ob.o.Logger.Warn("outbox depth not available for /metrics", "err", err)
		return
	}
	depth := map[string]statedb.OutboxDepth{}
	for _, d := range stats {
		depth[d.Notifier] = d
	}
	now := time.Now()
	for name := range m.ob.chans {
		d := depth[name]
		age := 0.0
		if d.Pending > 0 {
			age = max(0, now.Sub(d.Oldest).Seconds())
		}
		ch <- prometheus.MustNewConstMetric(m.pending, prometheus.GaugeValue, float64(d.Pending), name)
		ch <- prometheus.MustNewConstMetric(m.oldest, prometheus.GaugeValue, age, name)
	}
}

// ceilMilli rounds t up to a whole millisecond.
func ceilMilli(t time.Time) time.Time {
	if r := t.Sub(t.Truncate(time.Millisecond)); r > 0 {
		return t.Add(time.Millisecond - r)
	}
	return t
}
