package statedb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"modernc.org/sqlite"

	"github.com/pantau-noc/pantau/collector/internal/sla"
)

// Minutes is the SLA engine's minute store (sla.Store) on the state
// database: one row per series per UTC day holding 16 bits a minute (the
// classes seen and the 10-second slots of the rounds, see package sla),
// run-length encoded (see sla.EncodeDay) so that the usual day is a few dozen
// bytes and a row stays in its b-tree page. It caches the day arrays it
// has merged into recently, so that a merge that sets no new bit (a
// replayed round, a heartbeat's minute already seen) costs no I/O at all;
// every new round sets its slot's bit and rewrites its day's row.
type Minutes struct {
	db *DB

	mu        sync.Mutex
	cache     map[sla.DayKey]*[sla.MinutesPerDay]uint16
	lastEvict time.Time
	inserts   map[int]*sql.Stmt // prepared upserts by row count

	prepare   sync.Once
	rangeStmt *sql.Stmt
	prepErr   error
}

// Minutes returns the minute store.
func (s *DB) Minutes() *Minutes {
	return &Minutes{db: s, cache: map[sla.DayKey]*[sla.MinutesPerDay]uint16{}}
}

// cacheDays is how many days back merged arrays stay cached.
const cacheDays = 2

// Merge implements sla.Store: one transaction, rows written only when a
// bit changes; a mark that sets no new bit costs a map lookup.
func (m *Minutes) Merge(ctx context.Context, marks []sla.Mark) error {
	if len(marks) == 0 {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	changed := map[sla.DayKey]*[sla.MinutesPerDay]uint16{}
	for _, mk := range marks {
		day, off := sla.DayOf(mk.Minute)
		k := sla.DayKey{Kind: mk.Kind, ID: mk.ID, Day: day}
		if a := changed[k]; a != nil {
			a[off] |= mk.Bits
			continue
		}
		cur, err := m.cached(ctx, k)
		if err != nil {
			return err
		}
		if cur[off]|mk.Bits == cur[off] {
			continue
		}
		// in place: write forgets the days it could not store
		cur[off] |= mk.Bits
		changed[k] = cur
	}
	return m.write(ctx, changed)
}

// cached returns the stored day array of k (zero when none), reading it
// once. m.mu is held.
func (m *Minutes) cached(ctx context.Context, k sla.DayKey) (*[sla.MinutesPerDay]uint16, error) {
	if a := m.cache[k]; a != nil {
		return a, nil
	}
	a := new([sla.MinutesPerDay]uint16)
	var b []byte
	err := m.db.sql.QueryRowContext(ctx, `SELECT states FROM minutes WHERE kind = ? AND id = ? AND day = ?`, k.Kind, k.ID, k.Day).Scan(&b)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("read minute states of %s from %s: %w", k.ID, m.db.path, err)
	}
	sla.DecodeDay(b, a)
	m.cache[k] = a
	return a, nil
}

// write stores changed day arrays in one transaction and caches them;
// after an error it drops them from the cache (they may hold bits that
// were not stored: the next merge reads the rows again). m.mu is held.
func (m *Minutes) write(ctx context.Context, changed map[sla.DayKey]*[sla.MinutesPerDay]uint16) error {
	if len(changed) > 0 {
		if err := m.writeRows(ctx, changed); err != nil {
			for k := range changed {
				delete(m.cache, k)
			}
			return err
		}
		for k, a := range changed {
			m.cache[k] = a
		}
	}
	m.evict()
	return nil
}

func (m *Minutes) writeRows(ctx context.Context, changed map[sla.DayKey]*[sla.MinutesPerDay]uint16) error {
	tx, err := m.db.sql.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("merge minute states into %s: %w", m.db.path, err)
	}
	defer tx.Rollback()
	// many rows per statement: the driver's per-call cost, not SQLite's,
	// dominated one-row statements
	keys := sla.SortedKeys(changed)
	args := make([]any, 0, 4*min(len(keys), rowsPerInsert))
	for len(keys) > 0 {
		n := min(len(keys), rowsPerInsert)
		args = args[:0]
		for _, k := range keys[:n] {
			args = append(args, k.Kind, k.ID, k.Day, sla.EncodeDay(changed[k]))
		}
		var err error
		if st := m.insert(ctx, n); st != nil {
			_, err = tx.StmtContext(ctx, st).ExecContext(ctx, args...)
		} else {
			_, err = tx.ExecContext(ctx, insertSQL(n), args...)
		}
		if err != nil {
			return fmt.Errorf("write minute states of %d series to %s: %w", n, m.db.path, err)
		}
		keys = keys[n:]
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("merge minute states into %s: %w", m.db.path, err)
	}
	return nil
}

// insertSQL is the upsert of n day rows. It ORs in SQL, not a plain
// overwrite: another process (sla rebuild) may have added bits this
// cache has not seen.
func insertSQL(n int) string {
	var q strings.Builder
	q.WriteString("INSERT INTO minutes (kind, id, day, states) VALUES ")
	for i := range n {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString("(?, ?, ?, ?)")
	}
	q.WriteString(" ON CONFLICT (kind, id, day) DO UPDATE SET states = pantau_or_minutes(states, excluded.states)")
	return q.String()
}

// maxPrepared bounds the upserts kept prepared (by row count: a steady
// ingest writes the same few counts round after round).
const maxPrepared = 16

// insert returns the prepared upsert of n rows, nil when it cannot keep
// one (the statement is then parsed for the call). m.mu is held.
func (m *Minutes) insert(ctx context.Context, n int) *sql.Stmt {
	if st := m.inserts[n]; st != nil {
		return st
	}
	if len(m.inserts) >= maxPrepared {
		return nil
	}
	st, err := m.db.sql.PrepareContext(context.WithoutCancel(ctx), insertSQL(n))
	if err != nil {
		return nil
	}
	if m.inserts == nil {
		m.inserts = map[int]*sql.Stmt{}
	}
	m.inserts[n] = st
	return st
}

// MergeDays ORs whole day arrays into the store (bulk loads and rebuilds).
func (m *Minutes) MergeDays(ctx context.Context, g map[sla.DayKey]*[sla.MinutesPerDay]uint16) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	changed := map[sla.DayKey]*[sla.MinutesPerDay]uint16{}
	for k, add := range g {
		cur, err := m.cached(ctx, k)
		if err != nil {
			return err
		}
		a := new([sla.MinutesPerDay]uint16)
		diff := false
		for i := range a {
			a[i] = cur[i] | add[i]
			diff = diff || a[i] != cur[i]
		}
		if diff {
			changed[k] = a
		}
	}
	return m.write(ctx, changed)
}

// evict drops cached days older than cacheDays (the out-of-order window
// can reach further back; those merges read the row again).
func (m *Minutes) evict() {
	now := time.Now()
	if now.Sub(m.lastEvict) < time.Minute {
		return
	}
	m.lastEvict = now
	today, _ := sla.DayOf(sla.MinuteOf(now.UnixNano()))
	for k := range m.cache {
		if k.Day < today-cacheDays {
			delete(m.cache, k)
		}
	}
}

// Range implements sla.Store.
func (m *Minutes) Range(ctx context.Context, kind uint8, id string, from sla.UnixMinute, n int) ([]uint16, error) {
	out := make([]uint16, n)
	if err := m.RangeInto(ctx, kind, id, from, out); err != nil {
		return nil, err
	}
	return out, nil
}

// RangeInto implements sla.RangeIntoStore: Range into out (its length is
// the number of minutes), so that a report reuses one buffer from series
// to series. Each stored day is decoded and copied as its row is read.
func (m *Minutes) RangeInto(ctx context.Context, kind uint8, id string, from sla.UnixMinute, out []uint16) error {
	clear(out)
	n := len(out)
	if n == 0 {
		return nil
	}
	d0, _ := sla.DayOf(from)
	d1, _ := sla.DayOf(from + int64(n) - 1)
	// reports read thousands of ranges: parse the query once
	m.prepare.Do(func() {
		m.rangeStmt, m.prepErr = m.db.sql.PrepareContext(context.WithoutCancel(ctx), `SELECT day, states FROM minutes WHERE kind = ? AND id = ? AND day BETWEEN ? AND ?`)
	})
	if m.prepErr != nil {
		return fmt.Errorf("read minute states from %s: %w", m.db.path, m.prepErr)
	}
	rows, err := m.rangeStmt.QueryContext(ctx, kind, id, d0, d1)
	if err != nil {
		return fmt.Errorf("read minute states of %s from %s: %w", id, m.db.path, err)
	}
	defer rows.Close()
	var a [sla.MinutesPerDay]uint16
	for rows.Next() {
		var (
			d int64
			b sql.RawBytes // decoded before the next row: no copy
		)
		if err := rows.Scan(&d, &b); err != nil {
			return fmt.Errorf("read minute states of %s from %s: %w", id, m.db.path, err)
		}
		if d < d0 || d > d1 {
			continue
		}
		sla.DecodeDay(b, &a)
		// the part of the day inside [from, from+n)
		lo := max(d*sla.MinutesPerDay, from)
		hi := min((d+1)*sla.MinutesPerDay, from+int64(n))
		copy(out[lo-from:hi-from], a[lo-d*sla.MinutesPerDay:hi-d*sla.MinutesPerDay])
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read minute states of %s from %s: %w", id, m.db.path, err)
	}
	return nil
}

// AddMaintenance stores a window and returns its id.
func (s *DB) AddMaintenance(ctx context.Context, w sla.Window, now time.Time) (int64, error) {
	if err := w.Validate(); err != nil {
		return 0, err
	}
	var until int64
	if !w.Until.IsZero() {
		until = w.Until.UnixNano()
	}
	res, err := s.sql.ExecContext(ctx, `INSERT INTO maintenance (scope, target, start_ns, end_ns, zone, repeat, until_ns, reason, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, w.Scope, w.Target, w.Start.UnixNano(), w.End.UnixNano(), w.Start.Location().String(),
		w.Repeat, until, w.Reason, now.Unix())
	if err != nil {
		return 0, fmt.Errorf("store maintenance window in %s: %w", s.path, err)
	}
	return res.LastInsertId()
}

// DeleteMaintenance removes a window (kept, marked deleted, for audit).
func (s *DB) DeleteMaintenance(ctx context.Context, id int64, now time.Time) error {
	res, err := s.sql.ExecContext(ctx, `UPDATE maintenance SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL`, now.Unix(), id)
	if err != nil {
		return fmt.Errorf("delete maintenance window %d in %s: %w", id, s.path, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("no maintenance window with id %d", id)
	}
	return nil
}

// ErrNoMaintenance is an unknown or deleted maintenance window id.
var ErrNoMaintenance = errors.New("no maintenance window with that id")

// UpdateMaintenance replaces the window with id w's id (kept: reports and
// the audit log go on naming it) by w. An unknown or deleted id is
// ErrNoMaintenance.
func (s *DB) UpdateMaintenance(ctx context.Context, w sla.Window) error {
	if err := w.Validate(); err != nil {
		return err
	}
	var until int64
	if !w.Until.IsZero() {
		until = w.Until.UnixNano()
	}
	res, err := s.sql.ExecContext(ctx, `UPDATE maintenance SET scope = ?, target = ?, start_ns = ?, end_ns = ?, zone = ?, repeat = ?,
		until_ns = ?, reason = ? WHERE id = ? AND deleted_at IS NULL`, w.Scope, w.Target, w.Start.UnixNano(), w.End.UnixNano(),
		w.Start.Location().String(), w.Repeat, until, w.Reason, w.ID)
	if err != nil {
		return fmt.Errorf("update maintenance window %d in %s: %w", w.ID, s.path, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("update maintenance window %d: %w", w.ID, ErrNoMaintenance)
	}
	return nil
}

// Maintenance lists the windows in force.
func (s *DB) Maintenance(ctx context.Context) ([]sla.Window, error) {
	rows, err := s.sql.QueryContext(ctx, `SELECT id, scope, target, start_ns, end_ns, zone, repeat, until_ns, reason
		FROM maintenance WHERE deleted_at IS NULL ORDER BY start_ns, id`)
	if err != nil {
		return nil, fmt.Errorf("read maintenance windows from %s: %w", s.path, err)
	}
	defer rows.Close()
	var out []sla.Window
	for rows.Next() {
		var (
			w             sla.Window
			st, en, until int64
			zone          string
		)
		if err := rows.Scan(&w.ID, &w.Scope, &w.Target, &st, &en, &zone, &w.Repeat, &until, &w.Reason); err != nil {
			return nil, fmt.Errorf("read maintenance windows from %s: %w", s.path, err)
		}
		loc, err := time.LoadLocation(zone)
		if err != nil {
			loc = time.UTC
		}
		w.Start = time.Unix(0, st).In(loc)
		w.End = time.Unix(0, en).In(loc)
		if until != 0 {
			w.Until = time.Unix(0, until).In(loc)
		}
		out = append(out, w)
	}
	return out, rows.Err()
}

// LinksWithData returns the links with any stored minute in UTC days
// [fromDay, toDay].
func (m *Minutes) LinksWithData(ctx context.Context, fromDay, toDay int64) (map[string]bool, error) {
	rows, err := m.db.sql.QueryContext(ctx, `SELECT DISTINCT id FROM minutes WHERE kind = ? AND day BETWEEN ? AND ?`, sla.KindLink, fromDay, toDay)
	if err != nil {
		return nil, fmt.Errorf("read links with data from %s: %w", m.db.path, err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("read links with data from %s: %w", m.db.path, err)
		}
		out[id] = true
	}
	return out, rows.Err()
}

func init() {
	// pantau_or_minutes(a, b) ORs two stored day arrays (any format).
	if err := sqlite.RegisterDeterministicScalarFunction("pantau_or_minutes", 2, func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
		a, _ := args[0].([]byte)
		b, _ := args[1].([]byte)
		return sla.OrDays(a, b), nil
	}); err != nil {
		panic(fmt.Sprintf("register SQLite function pantau_or_minutes: %v", err))
	}
}

// rowsPerInsert bounds one INSERT's rows (4 parameters each, well under
// SQLite's limit of 32,766).
const rowsPerInsert = 500
