package statedb

import (
	"context"
	"fmt"
	"time"
)

// AuditEntry is one change on record: who (the credential's kind, id and
// name), from where, what (the action, the object it changed and a
// before/after summary) and when.
type AuditEntry struct {
	ID        int64     `json:"id"`
	At        time.Time `json:"at"`
	ActorKind string    `json:"actor_kind"` // "token", "user", "anonymous" or "cli"
	ActorID   string    `json:"actor_id"`
	ActorName string    `json:"actor_name"`
	Source    string    `json:"source"` // the client address, or "local" for the CLI
	Action    string    `json:"action"` // e.g. "POST /api/v1/maintenance" or "cli maintenance add"
	Object    string    `json:"object"` // e.g. "maintenance/12"
	Summary   string    `json:"summary"`
}

// maxAuditField bounds what one row may hold of a caller's text.
const maxAuditField = 4096

func clip(s string) string {
	if len(s) <= maxAuditField {
		return s
	}
	return s[:maxAuditField] + "…"
}

// AddAudit records a change. At defaults to now.
func (s *DB) AddAudit(ctx context.Context, e AuditEntry) (int64, error) {
	if e.At.IsZero() {
		e.At = time.Now()
	}
	res, err := s.sql.ExecContext(ctx,
		`INSERT INTO audit (at_ms, actor_kind, actor_id, actor_name, source, action, object, summary) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		e.At.UnixMilli(), e.ActorKind, clip(e.ActorID), clip(e.ActorName), clip(e.Source), clip(e.Action), clip(e.Object), clip(e.Summary))
	if err != nil {
		return 0, fmt.Errorf("record audit entry %q in %s: %w", e.Action, s.path, err)
	}
	return res.LastInsertId()
}

// AuditFilter selects audit entries: [Since, Until) (zero: unbounded),
// at most Limit (0: 1000), newest first.
type AuditFilter struct {
	Since, Until time.Time
	Limit        int
}

// Audit returns the entries the filter selects, newest first.
func (s *DB) Audit(ctx context.Context, f AuditFilter) ([]AuditEntry, error) {
	if f.Limit <= 0 {
		f.Limit = 1000
	}
	until := int64(1<<62 - 1)
	if !f.Until.IsZero() {
		until = f.Until.UnixMilli()
	}
	var since int64
	if !f.Since.IsZero() {
		since = f.Since.UnixMilli()
	}
	rows, err := s.sql.QueryContext(ctx,
		`SELECT id, at_ms, actor_kind, actor_id, actor_name, source, action, object, summary FROM audit
		 WHERE at_ms >= ? AND at_ms < ? ORDER BY at_ms DESC, id DESC LIMIT ?`, since, until, f.Limit)
	if err != nil {
		return nil, fmt.Errorf("read audit log in %s: %w", s.path, err)
	}
	defer rows.Close()
	out := []AuditEntry{}
	for rows.Next() {
		var e AuditEntry
		var at int64
		if err := rows.Scan(&e.ID, &at, &e.ActorKind, &e.ActorID, &e.ActorName, &e.Source, &e.Action, &e.Object, &e.Summary); err != nil {
			return nil, fmt.Errorf("read audit log in %s: %w", s.path, err)
		}
		e.At = time.UnixMilli(at).UTC()
		out = append(out, e)
	}
	return out, rows.Err()
}
