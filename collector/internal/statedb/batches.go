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
	return s.UpdateBatches(ctx, keys, nil, at)
}

// UpdateBatches stores the batch ids add and deletes the ids forget (the
// oldest ids of an agent over its bound), in one transaction.
func (s *DB) UpdateBatches(ctx context.Context, add, forget []BatchKey, at time.Time) error {
	if len(add) == 0 && len(forget) == 0 {
		return nil
	}
	tx, err := s.sql.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("record batches in %s: %w", s.path, err)
	}
	defer tx.Rollback()
	if len(add) > 0 {
		st, err := tx.PrepareContext(ctx, `INSERT OR IGNORE INTO batches (agent, batch, stored_at) VALUES (?, ?, ?)`)
		if err != nil {
			return fmt.Errorf("record batches in %s: %w", s.path, err)
		}
		defer st.Close()
		for _, k := range add {
			if _, err := st.ExecContext(ctx, k.Agent, k.Batch, at.Unix()); err != nil {
				return fmt.Errorf("record batch %s/%s: %w", k.Agent, k.Batch, err)
			}
		}
	}
	if len(forget) > 0 {
		st, err := tx.PrepareContext(ctx, `DELETE FROM batches WHERE agent = ? AND batch = ?`)
		if err != nil {
			return fmt.Errorf("forget batches in %s: %w", s.path, err)
		}
		defer st.Close()
		for _, k := range forget {
			if _, err := st.ExecContext(ctx, k.Agent, k.Batch); err != nil {
				return fmt.Errorf("forget batch %s/%s: %w", k.Agent, k.Batch, err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("record batches in %s: %w", s.path, err)
	}
	return nil
}

// TrimBatches deletes each agent's oldest batch ids beyond maxBytes, an
// id counting its length plus overhead bytes (as the collector's memory
// does), and returns how many it deleted. The collector runs it at start
// and periodically, behind UpdateBatches, so state.db stays bounded even
// when evictions were not recorded (a crash between the two).
func (s *DB) TrimBatches(ctx context.Context, maxBytes, overhead int64) (int64, error) {
	res, err := s.sql.ExecContext(ctx, `DELETE FROM batches WHERE (agent, batch) IN (
		SELECT agent, batch FROM (
			SELECT agent, batch, SUM(length(CAST(batch AS BLOB)) + ?1)
				OVER (PARTITION BY agent ORDER BY stored_at DESC, batch DESC ROWS UNBOUNDED PRECEDING) AS newer
			FROM batches)
		WHERE newer > ?2)`, overhead, maxBytes)
	if err != nil {
		return 0, fmt.Errorf("trim batch ids in %s: %w", s.path, err)
	}
	return res.RowsAffected()
}

// LoadBatches calls fn for every batch id stored since since, oldest
// first.
func (s *DB) LoadBatches(ctx context.Context, since time.Time, fn func(BatchKey, time.Time)) error {
	rows, err := s.sql.QueryContext(ctx, `SELECT agent, batch, stored_at FROM batches WHERE stored_at >= ? ORDER BY stored_at`, since.Unix())
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
