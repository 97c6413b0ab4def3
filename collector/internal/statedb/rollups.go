package statedb

import (
	"context"
	"fmt"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/capacity"
)

// Directions of a link's capacity rollups.
const (
	DirReceive  = 0
	DirTransmit = 1
)

// PutRollups stores (replacing) a link's rollups of one direction.
func (s *DB) PutRollups(ctx context.Context, link string, dir int, rs []*capacity.Rollup, now time.Time) error {
	if len(rs) == 0 {
		return nil
	}
	tx, err := s.sql.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store capacity rollups of %s in %s: %w", link, s.path, err)
	}
	defer tx.Rollback()
	st, err := tx.PrepareContext(ctx, `INSERT OR REPLACE INTO rollups (link, dir, day, data, computed_at) VALUES (?, ?, ?, ?, ?)`)
	if err != nil {
		return fmt.Errorf("store capacity rollups of %s in %s: %w", link, s.path, err)
	}
	defer st.Close()
	for _, r := range rs {
		b, _ := r.MarshalBinary()
		if _, err := st.ExecContext(ctx, link, dir, r.Day, b, now.Unix()); err != nil {
			return fmt.Errorf("store capacity rollup of %s day %d in %s: %w", link, r.Day, s.path, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store capacity rollups of %s in %s: %w", link, s.path, err)
	}
	return nil
}

// Rollups returns a link's stored rollups of one direction for UTC days
// [d0, d1].
func (s *DB) Rollups(ctx context.Context, link string, dir int, d0, d1 int64) ([]*capacity.Rollup, error) {
	s.rollupOnce.Do(func() {
		s.rollupStmt, s.rollupErr = s.sql.PrepareContext(context.WithoutCancel(ctx),
			`SELECT data FROM rollups WHERE link = ? AND dir = ? AND day BETWEEN ? AND ? ORDER BY day`)
	})
	if s.rollupErr != nil {
		return nil, fmt.Errorf("read capacity rollups from %s: %w", s.path, s.rollupErr)
	}
	rows, err := s.rollupStmt.QueryContext(ctx, link, dir, d0, d1)
	if err != nil {
		return nil, fmt.Errorf("read capacity rollups of %s from %s: %w", link, s.path, err)
	}
	defer rows.Close()
	var out []*capacity.Rollup
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			return nil, fmt.Errorf("read capacity rollups of %s from %s: %w", link, s.path, err)
		}
		r := new(capacity.Rollup)
		if err := r.UnmarshalBinary(b); err != nil {
			return nil, fmt.Errorf("capacity rollup of %s in %s: %w", link, s.path, err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// PruneRollups deletes rollups of days before cutoff.
func (s *DB) PruneRollups(ctx context.Context, cutoff time.Time) error {
	if _, err := s.sql.ExecContext(ctx, `DELETE FROM rollups WHERE day < ?`, cutoff.Unix()/86400); err != nil {
		return fmt.Errorf("prune capacity rollups in %s: %w", s.path, err)
	}
	return nil
}
