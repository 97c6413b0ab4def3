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

// QueueTest queues the test message (notify.TestMessage in lang) for
// notifier, as `pantau-collector notify test --queue` and POST
// /api/v1/notifiers/{name}/test do, and returns it. The caller checks
// that notifier is configured and lang valid.
func QueueTest(ctx context.Context, enqueue EnqueueFunc, notifier, lang string, now time.Time) (*notify.Message, error) {
	m := notify.TestMessage(lang, now)
	payload, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encode test notification for %s: %w", notifier, err)
	}
	added, err := enqueue(ctx, notifier, m.ID, payload)
	if err != nil {
		return nil, err
	}
	if !added {
		return nil, fmt.Errorf("a notification %s is already queued for %s", m.ID, notifier)
	}
	return m, nil
}
