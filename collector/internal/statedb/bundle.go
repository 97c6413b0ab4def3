package statedb

import (
	"context"
	"fmt"
)

// FollowUpEvidence returns, per follow-up item, the uploaded files
// ("sha256:<hex>" references) its updates on or before date (YYYY-MM-DD)
// name, each once, in the order first named: the evidence of every
// status an item went through, not only its last (the evidence bundle).
func (s *DB) FollowUpEvidence(ctx context.Context, date string) (map[int64][]string, error) {
	rows, err := s.sql.QueryContext(ctx, `SELECT followup_id, evidence FROM followup_updates
		WHERE evidence LIKE ? AND on_date <= ?
		GROUP BY followup_id, evidence ORDER BY followup_id, MIN(seq)`, EvidenceRef+"%", date)
	if err != nil {
		return nil, fmt.Errorf("read follow-up evidence from %s: %w", s.path, err)
	}
	defer rows.Close()
	out := map[int64][]string{}
	for rows.Next() {
		var id int64
		var ev string
		if err := rows.Scan(&id, &ev); err != nil {
			return nil, fmt.Errorf("read follow-up evidence from %s: %w", s.path, err)
		}
		out[id] = append(out[id], ev)
	}
	return out, rows.Err()
}
