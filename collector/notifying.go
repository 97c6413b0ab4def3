package collector

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pantau-noc/pantau/collector/internal/config"
	"github.com/pantau-noc/pantau/collector/internal/notify"
	"github.com/pantau-noc/pantau/collector/internal/outbox"
	"github.com/pantau-noc/pantau/collector/internal/statedb"
)

// outboxKeep is how long sent and refused notifications stay in the
// outbox (for `notify outbox` and so a message id is not queued again).
const outboxKeep = 30 * 24 * time.Hour

// classifyNotifyError tells the outbox whether a failed send may be
// retried and how long the endpoint asked to wait.
func classifyNotifyError(err error) (bool, time.Duration) {
	var ne *notify.Error
	if errors.As(err, &ne) {
		return ne.Permanent, ne.RetryAfter
	}
	return false, 0
}

// notifierHealth receives the outbox's outcomes per notifier (the alert
// engine, once it exists).
type notifierHealth interface {
	NotifierFailed(notifier, reason string)
	NotifierOK(notifier string)
}

// notifierSet holds the built notifiers by name; a config reload swaps in
// notifiers built from the new settings (same names and types).
type notifierSet struct {
	m atomic.Pointer[map[string]notify.Notifier]
}

func (s *notifierSet) get(name string) notify.Notifier   { return (*s.m.Load())[name] }
func (s *notifierSet) set(ns map[string]notify.Notifier) { s.m.Store(&ns) }

// newOutbox wires the notifiers of cfg to a durable outbox in db; nil
// when no notifier is configured. health() is asked at each outcome.
// Each send uses the notifier set holds at that moment.
func newOutbox(cfg *config.Config, set *notifierSet, db *statedb.DB, reg prometheus.Registerer, log *slog.Logger, health func() notifierHealth) (*outbox.Outbox, error) {
	if len(cfg.Notifiers) == 0 {
		return nil, nil
	}
	ns, err := notify.Build(cfg.Notifiers)
	if err != nil {
		return nil, err
	}
	set.set(ns)
	var chans []outbox.Channel
	for _, c := range cfg.Notifiers {
		n := ns[c.Name]
		name := n.Name()
		chans = append(chans, outbox.Channel{Name: name, Type: n.Type(), PerMinute: n.RateLimit(),
			Send: func(ctx context.Context, payload []byte) error {
				var m notify.Message
				if err := json.Unmarshal(payload, &m); err != nil {
					// not retryable: the entry itself is bad
					return &notify.Error{Notifier: name, Permanent: true, Msg: "stored notification does not decode: " + err.Error()}
				}
				return set.get(name).Send(ctx, &m)
			}})
	}
	return outbox.New(outbox.Options{
		DB: db, Channels: chans, Classify: classifyNotifyError, Logger: log.With("component", "outbox"), Registerer: reg,
		OnPermanent: func(e statedb.OutboxEntry, err error) {
			log.Error("a notifier refused a notification: check its configuration", "notifier", e.Notifier, "id", e.MsgID, "err", err)
			if h := health(); h != nil {
				h.NotifierFailed(e.Notifier, err.Error())
			}
		},
		OnSent: func(n string) {
			if h := health(); h != nil {
				h.NotifierOK(n)
			}
		},
	})
}

// runOutbox delivers notifications and prunes old entries until ctx ends.
func runOutbox(ctx context.Context, ob *outbox.Outbox, db *statedb.DB, log *slog.Logger) error {
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(time.Hour)
		defer t.Stop()
		for {
			if _, err := db.OutboxPrune(ctx, time.Now().Add(-outboxKeep)); err != nil && ctx.Err() == nil {
				log.Warn("pruning the notification outbox failed", "err", err)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	err := ob.Run(ctx)
	<-done
	return err
}
