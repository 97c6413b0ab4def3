package statedb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// SaveAlerts replaces the stored state of the given alert instances
// (fingerprint → encoded state) and deletes the fingerprints in gone, in
// one transaction.
func (s *DB) SaveAlerts(ctx context.Context, put map[string][]byte, gone []string) error {
	if len(put) == 0 && len(gone) == 0 {
		return nil
	}
	tx, err := s.sql.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("save alert states in %s: %w", s.path, err)
	}
	defer tx.Rollback()
	for _, fp := range slices.Sorted(maps.Keys(put)) {
		if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO alerts (fingerprint, data) VALUES (?, ?)`, fp, put[fp]); err != nil {
			return fmt.Errorf("save alert %s in %s: %w", fp, s.path, err)
		}
	}
	for _, fp := range gone {
		if _, err := tx.ExecContext(ctx, `DELETE FROM alerts WHERE fingerprint = ?`, fp); err != nil {
			return fmt.Errorf("delete alert %s in %s: %w", fp, s.path, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("save alert states in %s: %w", s.path, err)
	}
	return nil
}

// LoadAlerts returns every stored alert instance.
func (s *DB) LoadAlerts(ctx context.Context) (map[string][]byte, error) {
	rows, err := s.sql.QueryContext(ctx, `SELECT fingerprint, data FROM alerts`)
	if err != nil {
		return nil, fmt.Errorf("load alert states from %s: %w", s.path, err)
	}
	defer rows.Close()
	out := map[string][]byte{}
	for rows.Next() {
		var fp string
		var b []byte
		if err := rows.Scan(&fp, &b); err != nil {
			return nil, fmt.Errorf("load alert states from %s: %w", s.path, err)
		}
		out[fp] = b
	}
	return out, rows.Err()
}

// Silence mutes the alerts whose labels match all its matchers between
// Start and End.
type Silence struct {
	ID       int64             `json:"id"`
	Matchers map[string]string `json:"matchers"` // label → exact value
	Author   string            `json:"author"`
	Reason   string            `json:"reason"`
	Start    time.Time         `json:"start"`
	End      time.Time         `json:"end"`
	Created  time.Time         `json:"created"`
}

// Matches tells whether labels match every matcher.
func (s Silence) Matches(labels map[string]string) bool {
	for k, v := range s.Matchers {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// Active tells whether the silence is in force at t.
func (s Silence) Active(t time.Time) bool { return !t.Before(s.Start) && t.Before(s.End) }

// ErrBadSilence is a silence that cannot be stored.
var ErrBadSilence = errors.New("bad silence")

// AddSilence stores a silence and returns its id.
func (s *DB) AddSilence(ctx context.Context, sl Silence, now time.Time) (int64, error) {
	switch {
	case len(sl.Matchers) == 0:
		return 0, fmt.Errorf("%w: at least one matcher (label=value) is needed; a silence of everything is a maintenance window of scope all", ErrBadSilence)
	case strings.TrimSpace(sl.Author) == "":
		return 0, fmt.Errorf("%w: the author is required", ErrBadSilence)
	case strings.TrimSpace(sl.Reason) == "":
		return 0, fmt.Errorf("%w: the reason is required", ErrBadSilence)
	case !sl.End.After(sl.Start):
		return 0, fmt.Errorf("%w: it must end after it starts", ErrBadSilence)
	}
	m, _ := json.Marshal(sl.Matchers)
	res, err := s.sql.ExecContext(ctx, `INSERT INTO silences (matchers, author, reason, starts_ms, ends_ms, created_ms) VALUES (?, ?, ?, ?, ?, ?)`,
		string(m), sl.Author, sl.Reason, sl.Start.UnixMilli(), sl.End.UnixMilli(), now.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("store silence in %s: %w", s.path, err)
	}
	return res.LastInsertId()
}

// ExpireSilence ends a silence at now.
func (s *DB) ExpireSilence(ctx context.Context, id int64, now time.Time) error {
	res, err := s.sql.ExecContext(ctx, `UPDATE silences SET ends_ms = min(ends_ms, ?) WHERE id = ?`, now.UnixMilli(), id)
	if err != nil {
		return fmt.Errorf("expire silence %d in %s: %w", id, s.path, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("expire silence %d in %s: no such silence", id, s.path)
	}
	return nil
}

// Silences returns the silences that end after since, oldest first.
func (s *DB) Silences(ctx context.Context, since time.Time) ([]Silence, error) {
	rows, err := s.sql.QueryContext(ctx, `SELECT id, matchers, author, reason, starts_ms, ends_ms, created_ms FROM silences WHERE ends_ms > ? ORDER BY id`, since.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("read silences from %s: %w", s.path, err)
	}
	defer rows.Close()
	var out []Silence
	for rows.Next() {
		var sl Silence
		var m string
		var st, en, cr int64
		if err := rows.Scan(&sl.ID, &m, &sl.Author, &sl.Reason, &st, &en, &cr); err != nil {
			return nil, fmt.Errorf("read silences from %s: %w", s.path, err)
		}
		if err := json.Unmarshal([]byte(m), &sl.Matchers); err != nil {
			return nil, fmt.Errorf("silence %d in %s: %w", sl.ID, s.path, err)
		}
		sl.Start, sl.End, sl.Created = time.UnixMilli(st), time.UnixMilli(en), time.UnixMilli(cr)
		out = append(out, sl)
	}
	return out, rows.Err()
}
