package statedb

import (
	"context"
	"database/sql"
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

// Rollups returns a link's stored rollups of both directions for UTC days
// [d0, d1], in day order, with one query. It decodes into the rollups of
// reuse first (a caller that is done with the previous result passes it
// back), allocating only when they run out.
func (s *DB) Rollups(ctx context.Context, link string, d0, d1 int64, reuse []*capacity.Rollup) (rx, tx []*capacity.Rollup, err error) {
	s.rollupOnce.Do(func() {
		s.rollupStmt, s.rollupErr = s.sql.PrepareContext(context.WithoutCancel(ctx),
			`SELECT dir, data FROM rollups WHERE link = ? AND dir IN (0, 1) AND day BETWEEN ? AND ? ORDER BY dir, day`)
	})
	if s.rollupErr != nil {
		return nil, nil, fmt.Errorf("read capacity rollups from %s: %w", s.path, s.rollupErr)
	}
	rows, err := s.rollupStmt.QueryContext(ctx, link, d0, d1)
	if err != nil {
		return nil, nil, fmt.Errorf("read capacity rollups of %s from %s: %w", link, s.path, err)
	}
	defer rows.Close()
	for rows.Next() {
		var dir int
		var b sql.RawBytes // decoded before the next row: no copy
		if err := rows.Scan(&dir, &b); err != nil {
			return nil, nil, fmt.Errorf("read capacity rollups of %s from %s: %w", link, s.path, err)
		}
		var r *capacity.Rollup
		if n := len(reuse); n > 0 {
			r, reuse = reuse[n-1], reuse[:n-1]
		} else {
			r = new(capacity.Rollup)
		}
		if err := r.UnmarshalBinary(b); err != nil {
			return nil, nil, fmt.Errorf("capacity rollup of %s in %s: %w", link, s.path, err)
		}
		switch dir {
		case DirReceive:
			rx = append(rx, r)
		case DirTransmit:
			tx = append(tx, r)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("read capacity rollups of %s from %s: %w", link, s.path, err)
	}
	return rx, tx, nil
}

// PruneRollups deletes rollups of days before cutoff.
func (s *DB) PruneRollups(ctx context.Context, cutoff time.Time) error {
	if _, err := s.sql.ExecContext(ctx, `DELETE FROM rollups WHERE day < ?`, cutoff.Unix()/86400); err != nil {
		return fmt.Errorf("prune capacity rollups in %s: %w", s.path, err)
	}
	return nil
}
