package statedb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Outbox entry states.
const (
	OutboxPending = "pending"
	OutboxSent    = "sent"
	OutboxFailed  = "failed" // permanently: the endpoint refused it
)

// OutboxEntry is one stored notification for one notifier.
type OutboxEntry struct {
	ID        int64
	Notifier  string
	MsgID     string
	Payload   []byte
	Created   time.Time
	State     string
	Attempts  int
	Next      time.Time // earliest time of the next attempt
	LastError string
	Done      time.Time // when sent or failed
}

// OutboxEnqueue stores a notification for a notifier before anything is
// sent. A message id already stored for that notifier is not stored again
// (false): the same notification is never queued twice.
func (s *DB) OutboxEnqueue(ctx context.Context, notifier, msgID string, payload []byte, now time.Time) (bool, error) {
	res, err := s.sql.ExecContext(ctx, `INSERT OR IGNORE INTO outbox (notifier, msg_id, payload, created_ms, state, next_ms)
		VALUES (?, ?, ?, ?, ?, ?)`, notifier, msgID, payload, now.UnixMilli(), OutboxPending, now.UnixMilli())
	if err != nil {
		return false, fmt.Errorf("queue notification %s for %s in %s: %w", msgID, notifier, s.path, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// OutboxHead returns the oldest pending entry of a notifier (false when
// there is none). Entries go out in the order they were queued.
func (s *DB) OutboxHead(ctx context.Context, notifier string) (OutboxEntry, bool, error) {
	var e OutboxEntry
	var created, next, done int64
	err := s.sql.QueryRowContext(ctx, `SELECT id, notifier, msg_id, payload, created_ms, state, attempts, next_ms, last_error, done_ms
		FROM outbox WHERE notifier = ? AND state = ? ORDER BY id LIMIT 1`, notifier, OutboxPending).
		Scan(&e.ID, &e.Notifier, &e.MsgID, &e.Payload, &created, &e.State, &e.Attempts, &next, &e.LastError, &done)
	if errors.Is(err, sql.ErrNoRows) {
		return e, false, nil
	}
	if err != nil {
		return e, false, fmt.Errorf("read the outbox of %s in %s: %w", notifier, s.path, err)
	}
	e.Created, e.Next = time.UnixMilli(created), time.UnixMilli(next)
	if done != 0 {
		e.Done = time.UnixMilli(done)
	}
	return e, true, nil
}

// OutboxSent marks an entry delivered.
func (s *DB) OutboxSent(ctx context.Context, id int64, now time.Time) error {
	return s.outboxUpdate(ctx, id, `UPDATE outbox SET state = ?, attempts = attempts + 1, done_ms = ?, last_error = '' WHERE id = ?`,
		OutboxSent, now.UnixMilli(), id)
}

// OutboxRetry records a failed attempt and when to try again.
func (s *DB) OutboxRetry(ctx context.Context, id int64, next time.Time, reason string) error {
	return s.outboxUpdate(ctx, id, `UPDATE outbox SET attempts = attempts + 1, next_ms = ?, last_error = ? WHERE id = ?`,
		next.UnixMilli(), reason, id)
}

// OutboxFail records that the endpoint refused an entry for good.
func (s *DB) OutboxFail(ctx context.Context, id int64, now time.Time, reason string) error {
	return s.outboxUpdate(ctx, id, `UPDATE outbox SET state = ?, attempts = attempts + 1, done_ms = ?, last_error = ? WHERE id = ?`,
		OutboxFailed, now.UnixMilli(), reason, id)
}

func (s *DB) outboxUpdate(ctx context.Context, id int64, q string, args ...any) error {
	res, err := s.sql.ExecContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("update outbox entry %d in %s: %w", id, s.path, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("update outbox entry %d in %s: no such entry", id, s.path)
	}
	return nil
}

// OutboxDepth is the pending entries of one notifier.
type OutboxDepth struct {
	Notifier string
	Pending  int
	Oldest   time.Time // created time of the oldest pending entry
}

// OutboxStats returns the pending entries per notifier (notifiers with
// none are absent).
func (s *DB) OutboxStats(ctx context.Context) ([]OutboxDepth, error) {
	rows, err := s.sql.QueryContext(ctx, `SELECT notifier, count(*), min(created_ms) FROM outbox WHERE state = ? GROUP BY notifier ORDER BY notifier`, OutboxPending)
	if err != nil {
		return nil, fmt.Errorf("read outbox depth from %s: %w", s.path, err)
	}
	defer rows.Close()
	var out []OutboxDepth
	for rows.Next() {
		var d OutboxDepth
		var oldest int64
		if err := rows.Scan(&d.Notifier, &d.Pending, &oldest); err != nil {
			return nil, fmt.Errorf("read outbox depth from %s: %w", s.path, err)
		}
		d.Oldest = time.UnixMilli(oldest)
		out = append(out, d)
	}
	return out, rows.Err()
}

// OutboxList returns the latest entries (newest first), at most limit;
// notifier "" lists every notifier.
func (s *DB) OutboxList(ctx context.Context, notifier string, limit int) ([]OutboxEntry, error) {
	rows, err := s.sql.QueryContext(ctx, `SELECT id, notifier, msg_id, payload, created_ms, state, attempts, next_ms, last_error, done_ms
		FROM outbox WHERE ? = '' OR notifier = ? ORDER BY id DESC LIMIT ?`, notifier, notifier, limit)
	if err != nil {
		return nil, fmt.Errorf("list the outbox in %s: %w", s.path, err)
	}
	defer rows.Close()
	var out []OutboxEntry
	for rows.Next() {
		var e OutboxEntry
		var created, next, done int64
		if err := rows.Scan(&e.ID, &e.Notifier, &e.MsgID, &e.Payload, &created, &e.State, &e.Attempts, &next, &e.LastError, &done); err != nil {
			return nil, fmt.Errorf("list the outbox in %s: %w", s.path, err)
		}
		e.Created, e.Next = time.UnixMilli(created), time.UnixMilli(next)
		if done != 0 {
			e.Done = time.UnixMilli(done)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// OutboxFilter selects outbox entries: Notifier and State "" select
// every one; Limit bounds the answer (at least 1).
type OutboxFilter struct {
	Notifier string
	State    string
	Limit    int
}

// OutboxEntries returns the entries f selects, newest first, without
// their payloads (which may hold what a notifier should not show).
func (s *DB) OutboxEntries(ctx context.Context, f OutboxFilter) ([]OutboxEntry, error) {
	rows, err := s.sql.QueryContext(ctx, `SELECT id, notifier, msg_id, created_ms, state, attempts, next_ms, last_error, done_ms
		FROM outbox WHERE (? = '' OR notifier = ?) AND (? = '' OR state = ?) ORDER BY id DESC LIMIT ?`,
		f.Notifier, f.Notifier, f.State, f.State, max(f.Limit, 1))
	if err != nil {
		return nil, fmt.Errorf("list the outbox in %s: %w", s.path, err)
	}
	defer rows.Close()
	var out []OutboxEntry
	for rows.Next() {
		var e OutboxEntry
		var created, next, done int64
		if err := rows.Scan(&e.ID, &e.Notifier, &e.MsgID, &created, &e.State, &e.Attempts, &next, &e.LastError, &done); err != nil {
			return nil, fmt.Errorf("list the outbox in %s: %w", s.path, err)
		}
		e.Created, e.Next = time.UnixMilli(created), time.UnixMilli(next)
		if done != 0 {
			e.Done = time.UnixMilli(done)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// OutboxPrune deletes sent and failed entries finished before cutoff.
// Their message ids are forgotten, so keep them longer than any message
// could be queued again (the alert engine's resolved alerts).
func (s *DB) OutboxPrune(ctx context.Context, cutoff time.Time) (int64, error) {
	res, err := s.sql.ExecContext(ctx, `DELETE FROM outbox WHERE state != ? AND done_ms < ?`, OutboxPending, cutoff.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("prune the outbox in %s: %w", s.path, err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// OutboxSummary is what the outbox knows about one notifier: counts by
// state (sent and failed within the outbox's retention) and its newest
// entry with an error.
type OutboxSummary struct {
	Notifier              string
	Pending, Sent, Failed int
	Oldest                time.Time // created time of the oldest pending entry (zero: none)
	LastSent              time.Time // zero: none
	// LastError is the newest entry with an error text: a failed entry,
	// or a pending one that is being retried (zero ID: none).
	LastError OutboxEntry
}

// OutboxSummaries returns the summary of every notifier that has
// entries, by name.
func (s *DB) OutboxSummaries(ctx context.Context) (map[string]*OutboxSummary, error) {
	out := map[string]*OutboxSummary{}
	get := func(n string) *OutboxSummary {
		if out[n] == nil {
			out[n] = &OutboxSummary{Notifier: n}
		}
		return out[n]
	}
	rows, err := s.sql.QueryContext(ctx, `SELECT notifier, state, count(*), min(created_ms), max(done_ms) FROM outbox GROUP BY notifier, state`)
	if err != nil {
		return nil, fmt.Errorf("summarise the outbox in %s: %w", s.path, err)
	}
	defer rows.Close()
	for rows.Next() {
		var n, state string
		var count int
		var oldest, done int64
		if err := rows.Scan(&n, &state, &count, &oldest, &done); err != nil {
			return nil, fmt.Errorf("summarise the outbox in %s: %w", s.path, err)
		}
		sum := get(n)
		switch state {
		case OutboxPending:
			sum.Pending, sum.Oldest = count, time.UnixMilli(oldest)
		case OutboxSent:
			sum.Sent = count
			if done != 0 {
				sum.LastSent = time.UnixMilli(done)
			}
		case OutboxFailed:
			sum.Failed = count
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("summarise the outbox in %s: %w", s.path, err)
	}
	rows.Close()
	rows, err = s.sql.QueryContext(ctx, `SELECT id, notifier, msg_id, created_ms, state, attempts, next_ms, last_error, done_ms
		FROM outbox WHERE id IN (SELECT max(id) FROM outbox WHERE last_error != '' GROUP BY notifier)`)
	if err != nil {
		return nil, fmt.Errorf("summarise the outbox in %s: %w", s.path, err)
	}
	defer rows.Close()
	for rows.Next() {
		var e OutboxEntry
		var created, next, done int64
		if err := rows.Scan(&e.ID, &e.Notifier, &e.MsgID, &created, &e.State, &e.Attempts, &next, &e.LastError, &done); err != nil {
			return nil, fmt.Errorf("summarise the outbox in %s: %w", s.path, err)
		}
		e.Created, e.Next = time.UnixMilli(created), time.UnixMilli(next)
		if done != 0 {
			e.Done = time.UnixMilli(done)
		}
		get(e.Notifier).LastError = e
	}
	return out, rows.Err()
}

// OutboxFind returns the entry of a message id for a notifier (false when
// there is none).
func (s *DB) OutboxFind(ctx context.Context, notifier, msgID string) (OutboxEntry, bool, error) {
	var e OutboxEntry
	var created, next, done int64
	err := s.sql.QueryRowContext(ctx, `SELECT id, notifier, msg_id, payload, created_ms, state, attempts, next_ms, last_error, done_ms
		FROM outbox WHERE notifier = ? AND msg_id = ?`, notifier, msgID).
		Scan(&e.ID, &e.Notifier, &e.MsgID, &e.Payload, &created, &e.State, &e.Attempts, &next, &e.LastError, &done)
	if errors.Is(err, sql.ErrNoRows) {
		return e, false, nil
	}
	if err != nil {
		return e, false, fmt.Errorf("find notification %s of %s in %s: %w", msgID, notifier, s.path, err)
	}
	e.Created, e.Next = time.UnixMilli(created), time.UnixMilli(next)
	if done != 0 {
		e.Done = time.UnixMilli(done)
	}
	return e, true, nil
}
