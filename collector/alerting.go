package collector

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/prometheus/storage"

	"github.com/pantau-noc/pantau/collector/internal/alert"
	"github.com/pantau-noc/pantau/collector/internal/sla"
)

// alertEval is the alert package's rule-kind evaluator as the daemon
// wires it on its own storage and SLA engine; the Telegram console also
// asks it for a link's loss and latency.
type alertEval struct{ *alert.KindEval }

func newAlertEval(q storage.Queryable, b *sla.Builder, log *slog.Logger) *alertEval {
	return &alertEval{alert.NewKindEval(q, b, log)}
}

// query runs an instant PromQL query; every series is a sample.
func (ev *alertEval) query(ctx context.Context, expr string, now time.Time) ([]alert.Sample, error) {
	return ev.Query(ctx, expr, now)
}
