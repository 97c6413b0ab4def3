package statedb

import (
	"context"
	"fmt"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/sla"
)

// AddMonitored stores a declared monitored span and returns its id.
func (s *DB) AddMonitored(ctx context.Context, sp sla.Span, now time.Time) (int64, error) {
	if err := sp.Validate(); err != nil {
		return 0, err
	}
	res, err := s.sql.ExecContext(ctx, `INSERT INTO monitored_spans (scope, target, start_ns, end_ns, zone, reason, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, sp.Scope, sp.Target, sp.Start.UnixNano(), sp.End.UnixNano(), sp.Start.Location().String(),
		sp.Reason, now.Unix())
	if err != nil {
		return 0, fmt.Errorf("store monitored span in %s: %w", s.path, err)
	}
	return res.LastInsertId()
}

// Monitored lists the declared monitored spans, oldest start first.
func (s *DB) Monitored(ctx context.Context) ([]sla.Span, error) {
	rows, err := s.sql.QueryContext(ctx, `SELECT id, scope, target, start_ns, end_ns, zone, reason
		FROM monitored_spans ORDER BY start_ns, id`)
	if err != nil {
		return nil, fmt.Errorf("read monitored spans from %s: %w", s.path, err)
	}
	defer rows.Close()
	var out []sla.Span
	for rows.Next() {
		var (
			sp     sla.Span
			st, en int64
			zone   string
		)
		if err := rows.Scan(&sp.ID, &sp.Scope, &sp.Target, &st, &en, &zone, &sp.Reason); err != nil {
			return nil, fmt.Errorf("read monitored spans from %s: %w", s.path, err)
		}
		loc, err := time.LoadLocation(zone)
		if err != nil {
			loc = time.UTC
		}
		sp.Start, sp.End = time.Unix(0, st).In(loc), time.Unix(0, en).In(loc)
		out = append(out, sp)
	}
	return out, rows.Err()
}

// MonitoredSpans implements sla.MonitoredSource: the SLA engine reads the
// declared spans beside the minutes.
func (m *Minutes) MonitoredSpans(ctx context.Context) ([]sla.Span, error) {
	return m.db.Monitored(ctx)
}
