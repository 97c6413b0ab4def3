package statedb

import (
	"context"
	"fmt"
	"time"
)

// BatchKey identifies one Pantau-Batch of one agent.
type BatchKey struct {
	Agent string
	Batch string
}

// RecordBatches stores batch ids in one transaction.
func (s *DB) RecordBatches(ctx context.Context, keys []BatchKey, at time.Time) error {
	if len(keys) == 0 {
		return nil
	}
	tx, err := s.sql.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("record batches in %s: %w", s.path, err)
	}
	defer tx.Rollback()
	st, err := tx.PrepareContext(ctx, `INSERT OR IGNORE INTO batches (agent, batch, stored_at) VALUES (?, ?, ?)`)
	if err != nil {
		return fmt.Errorf("record batches in %s: %w", s.path, err)
	}
	defer st.Close()
	for _, k := range keys {
		if _, err := st.ExecContext(ctx, k.Agent, k.Batch, at.Unix()); err != nil {
			return fmt.Errorf("record batch %s/%s: %w", k.Agent, k.Batch, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("record batches in %s: %w", s.path, err)
	}
	return nil
}

// LoadBatches calls fn for every batch id stored since since.
func (s *DB) LoadBatches(ctx context.Context, since time.Time, fn func(BatchKey, time.Time)) error {
	rows, err := s.sql.QueryContext(ctx, `SELECT agent, batch, stored_at FROM batches WHERE stored_at >= ?`, since.Unix())
	if err != nil {
		return fmt.Errorf("load batch ids from %s: %w", s.path, err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			k  BatchKey
			at int64
		)
		if err := rows.Scan(&k.Agent, &k.Batch, &at); err != nil {
			return fmt.Errorf("load batch ids from %s: %w", s.path, err)
		}
		fn(k, time.Unix(at, 0))
	}
	return rows.Err()
}

// PruneBatches deletes batch ids stored before cutoff.
func (s *DB) PruneBatches(ctx context.Context, cutoff time.Time) (int64, error) {
	res, err := s.sql.ExecContext(ctx, `DELETE FROM batches WHERE stored_at < ?`, cutoff.Unix())
	if err != nil {
		return 0, fmt.Errorf("prune batch ids in %s: %w", s.path, err)
	}
	return res.RowsAffected()
}
