package outbox

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/notify"
	"github.com/pantau-noc/pantau/collector/internal/statedb"
)

// EnqueueFunc stores a notification for a notifier; false when that
// message id is queued for it already. (*Outbox).Enqueue is one (the
// daemon's, which wakes the sender at once); DBEnqueue another.
type EnqueueFunc func(ctx context.Context, notifier, msgID string, payload []byte) (bool, error)

// DBEnqueue queues straight into state.db, for a process without the
// outbox (the CLI): the running collector finds the entry within its idle
// poll (5 s).
func DBEnqueue(db *statedb.DB) EnqueueFunc {
	return func(ctx context.Context, notifier, msgID string, payload []byte) (bool, error) {
		return db.OutboxEnqueue(ctx, notifier, msgID, payload, time.Now())
	}
}

// KeepsAlerts tells whether a notifier type's receiver keeps an alert
// active until it is resolved (Alertmanager: for 24 h). The chat types
// only show messages: a resolution there would be a second message.
func KeepsAlerts(typ string) bool { return typ == "alertmanager" }

// TestResolution is the resolution of a test message, ending at now.
func TestResolution(m *notify.Message, now time.Time) *notify.Message {
	r := *m
	r.ID, r.Status, r.EndsAt = m.ID+"-resolved", "resolved", now.UTC()
	if !r.EndsAt.After(r.StartsAt) {
		r.EndsAt = r.StartsAt.Add(time.Second)
	}
	return &r
}

// QueueTest queues the test message (notify.TestMessage in lang) for
// notifier, of type typ, as `pantau-collector notify test --queue` and
// POST /api/v1/notifiers/{name}/test do, and returns it with its
// resolution: for a type whose receiver keeps alerts (KeepsAlerts) the
// resolution is queued right after the test (the outbox sends a
// notifier's entries in order), so that no test alert stays active;
// otherwise the resolution is nil. The caller checks that notifier is
// configured and lang valid.
func QueueTest(ctx context.Context, enqueue EnqueueFunc, notifier, typ, lang string, now time.Time) (m, resolution *notify.Message, err error) {
	m = notify.TestMessage(lang, now)
	if err := queue(ctx, enqueue, notifier, m); err != nil {
		return nil, nil, err
	}
	if !KeepsAlerts(typ) {
		return m, nil, nil
	}
	resolution = TestResolution(m, now)
	if err := queue(ctx, enqueue, notifier, resolution); err != nil {
		return nil, nil, fmt.Errorf("queued the test notification %s, but not its resolution: %w", m.ID, err)
	}
	return m, resolution, nil
}

func queue(ctx context.Context, enqueue EnqueueFunc, notifier string, m *notify.Message) error {
	payload, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode test notification %s for %s: %w", m.ID, notifier, err)
	}
	added, err := enqueue(ctx, notifier, m.ID, payload)
	if err != nil {
		return fmt.Errorf("queue test notification %s for %s: %w", m.ID, notifier, err)
	}
	if !added {
		return fmt.Errorf("a notification %s is already queued for %s", m.ID, notifier)
	}
	return nil
}
