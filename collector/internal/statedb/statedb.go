// Package statedb is the collector's non-time-series state: one SQLite file
// (state.db in the data directory, pure-Go driver, no cgo) holding agent
// tokens (hashed), the batch ids already stored, the SLA engine's minute
// states and maintenance windows, and the monthly or quarterly reviews
// with their follow-up items. Later schema versions add the notification outbox,
// access control, and the fleet's enrolment codes and agent state.
//
// The daemon and the CLI (token create/revoke) open the same file at the
// same time; WAL mode and a busy timeout make that safe.
package statedb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"modernc.org/sqlite" // registers the "sqlite" driver
	sqlite3 "modernc.org/sqlite/lib"
)

// FileName is the state file inside the data directory.
const FileName = "state.db"

// DB is the state database.
type DB struct {
	sql  *sql.DB
	path string

	// clock is the time the fleet tables record (SetClock); nil:
	// time.Now.
	clock func() time.Time

	rollupOnce sync.Once
	rollupStmt *sql.Stmt
	rollupErr  error
}

// migrations[i] moves the schema from version i to i+1.
var migrations = []string{
	`CREATE TABLE tokens (
		id          TEXT PRIMARY KEY,
		agent       TEXT NOT NULL,
		sites       TEXT NOT NULL DEFAULT '',
		hash        BLOB NOT NULL,
		description TEXT NOT NULL DEFAULT '',
		created_at  INTEGER NOT NULL,
		revoked_at  INTEGER
	);
	CREATE INDEX tokens_agent ON tokens(agent);
	CREATE TABLE batches (
		agent     TEXT NOT NULL,
		batch     TEXT NOT NULL,
		stored_at INTEGER NOT NULL,
		PRIMARY KEY (agent, batch)
	) WITHOUT ROWID;
	CREATE INDEX batches_stored_at ON batches(stored_at);`,
	// 2: the SLA engine's minute states, maintenance windows, and the
	// monthly review with its follow-up items.
	`CREATE TABLE minutes (
		kind   INTEGER NOT NULL,
		id     TEXT NOT NULL,
		day    INTEGER NOT NULL,
		states BLOB NOT NULL,
		PRIMARY KEY (kind, id, day)
	) WITHOUT ROWID;
	CREATE TABLE maintenance (
		id         INTEGER PRIMARY KEY,
		scope      TEXT NOT NULL,
		target     TEXT NOT NULL DEFAULT '',
		start_ns   INTEGER NOT NULL,
		end_ns     INTEGER NOT NULL,
		zone       TEXT NOT NULL,
		repeat     TEXT NOT NULL DEFAULT '',
		until_ns   INTEGER NOT NULL DEFAULT 0,
		reason     TEXT NOT NULL,
		created_at INTEGER NOT NULL,
		deleted_at INTEGER
	);
	CREATE TABLE reviews (
		id           INTEGER PRIMARY KEY,
		month        TEXT NOT NULL,
		held_on      TEXT NOT NULL,
		scope        TEXT NOT NULL DEFAULT '',
		participants TEXT NOT NULL,
		findings     TEXT NOT NULL,
		created_at   INTEGER NOT NULL
	);
	CREATE TABLE followups (
		id          INTEGER PRIMARY KEY,
		review_id   INTEGER REFERENCES reviews(id),
		opened      TEXT NOT NULL,
		item        TEXT NOT NULL,
		owner       TEXT NOT NULL,
		due         TEXT NOT NULL DEFAULT '',
		created_at  INTEGER NOT NULL
	);
	CREATE TABLE followup_updates (
		followup_id INTEGER NOT NULL REFERENCES followups(id),
		on_date     TEXT NOT NULL,
		status      TEXT NOT NULL,
		evidence    TEXT NOT NULL DEFAULT '',
		note        TEXT NOT NULL DEFAULT '',
		seq         INTEGER PRIMARY KEY
	);`,
	// 3: which links have data in a range of days (coverage), without
	// reading the day arrays.
	`CREATE INDEX minutes_by_day ON minutes(kind, day, id);`,
	// 4: capacity rollups, one row per link, direction and UTC day. A
	// rowid table: a 3.3 KB row fits in one leaf page there, where a
	// WITHOUT ROWID b-tree would spill it to overflow pages.
	`CREATE TABLE rollups (
		link        TEXT NOT NULL,
		dir         INTEGER NOT NULL,
		day         INTEGER NOT NULL,
		data        BLOB NOT NULL,
		computed_at INTEGER NOT NULL,
		UNIQUE (link, dir, day)
	);`,
	// 5: the notification outbox: a notification is stored before it is
	// sent, once per notifier and message id.
	`CREATE TABLE outbox (
		id         INTEGER PRIMARY KEY AUTOINCREMENT,
		notifier   TEXT NOT NULL,
		msg_id     TEXT NOT NULL,
		payload    BLOB NOT NULL,
		created_ms INTEGER NOT NULL,
		state      TEXT NOT NULL,
		attempts   INTEGER NOT NULL DEFAULT 0,
		next_ms    INTEGER NOT NULL,
		last_error TEXT NOT NULL DEFAULT '',
		done_ms    INTEGER NOT NULL DEFAULT 0,
		UNIQUE (notifier, msg_id)
	);
	CREATE INDEX outbox_queue ON outbox(notifier, state, id);`,
	// 6: alert instances that are pending or firing (resolved ones are
	// deleted), and ad-hoc silences.
	`CREATE TABLE alerts (
		fingerprint TEXT PRIMARY KEY,
		data        BLOB NOT NULL
	) WITHOUT ROWID;
	CREATE TABLE silences (
		id         INTEGER PRIMARY KEY,
		matchers   TEXT NOT NULL,
		author     TEXT NOT NULL,
		reason     TEXT NOT NULL,
		starts_ms  INTEGER NOT NULL,
		ends_ms    INTEGER NOT NULL,
		created_ms INTEGER NOT NULL
	);`,
	// 7: access control. Tokens get a role (agent tokens keep "agent"),
	// a name, an OPD scope and an expiry; users log in with a password
	// (argon2id); every change made through the API is on record in the
	// audit table; evidence files uploaded for follow-ups are listed by
	// their SHA-256.
	`ALTER TABLE tokens ADD COLUMN role TEXT NOT NULL DEFAULT 'agent';
	ALTER TABLE tokens ADD COLUMN name TEXT NOT NULL DEFAULT '';
	ALTER TABLE tokens ADD COLUMN opds TEXT NOT NULL DEFAULT '';
	ALTER TABLE tokens ADD COLUMN expires_at INTEGER;
	CREATE TABLE users (
		name          TEXT PRIMARY KEY,
		password_hash TEXT NOT NULL,
		role          TEXT NOT NULL,
		opds          TEXT NOT NULL DEFAULT '',
		created_at    INTEGER NOT NULL,
		expires_at    INTEGER,
		disabled_at   INTEGER
	);
	CREATE TABLE audit (
		id         INTEGER PRIMARY KEY,
		at_ms      INTEGER NOT NULL,
		actor_kind TEXT NOT NULL,
		actor_id   TEXT NOT NULL,
		actor_name TEXT NOT NULL,
		source     TEXT NOT NULL,
		action     TEXT NOT NULL,
		object     TEXT NOT NULL,
		summary    TEXT NOT NULL
	);
	CREATE INDEX audit_at ON audit(at_ms);
	CREATE TABLE evidence (
		sha256       TEXT PRIMARY KEY,
		size         INTEGER NOT NULL,
		content_type TEXT NOT NULL,
		filename     TEXT NOT NULL,
		uploaded_ms  INTEGER NOT NULL,
		uploaded_by  TEXT NOT NULL
	) WITHOUT ROWID;`,
	// 8: incident records (incidents.go), one per outage, keyed by
	// what was out and its start minute.
	`CREATE TABLE incidents (
		id              INTEGER PRIMARY KEY,
		scope           TEXT NOT NULL,
		target          TEXT NOT NULL,
		start_minute    INTEGER NOT NULL,
		end_minute      INTEGER,
		ticket          TEXT NOT NULL DEFAULT '',
		category        TEXT NOT NULL,
		impact          TEXT NOT NULL DEFAULT '',
		action          TEXT NOT NULL DEFAULT '',
		officer         TEXT NOT NULL,
		source          TEXT NOT NULL,
		cause_override  TEXT NOT NULL DEFAULT '',
		override_reason TEXT NOT NULL DEFAULT '',
		created_at      INTEGER NOT NULL,
		updated_at      INTEGER NOT NULL
	);
	CREATE UNIQUE INDEX incidents_outage ON incidents(scope, target, start_minute);`,
	// 9: declared monitored spans of imported history (monitored.go)
	`CREATE TABLE monitored_spans (
		id         INTEGER PRIMARY KEY,
		scope      TEXT NOT NULL,
		target     TEXT NOT NULL,
		start_ns   INTEGER NOT NULL,
		end_ns     INTEGER NOT NULL,
		zone       TEXT NOT NULL,
		reason     TEXT NOT NULL,
		created_at INTEGER NOT NULL
	);`,
	// 10: document numbers (docnums.go): one per (product, scope, period,
	// version), from a sequence per year of issue.
	`CREATE TABLE document_numbers (
		product   TEXT NOT NULL,
		scope     TEXT NOT NULL,
		period    TEXT NOT NULL,
		version   INTEGER NOT NULL,
		year      INTEGER NOT NULL,
		seq       INTEGER NOT NULL,
		number    TEXT NOT NULL,
		issued_ms INTEGER NOT NULL,
		PRIMARY KEY (product, scope, period, version),
		UNIQUE (year, seq)
	) WITHOUT ROWID;`,
	// 11: web UI sessions (sessions.go) and the users' login lockout.
	`CREATE TABLE sessions (
		id         TEXT PRIMARY KEY,
		user       TEXT NOT NULL,
		created_at INTEGER NOT NULL,
		last_seen  INTEGER NOT NULL,
		expires_at INTEGER NOT NULL
	) WITHOUT ROWID;
	CREATE INDEX sessions_user ON sessions (user);
	ALTER TABLE users ADD COLUMN failed_logins INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE users ADD COLUMN locked_until INTEGER;
	ALTER TABLE users ADD COLUMN password_changed_at INTEGER;`,
	// 12: a review is monthly or quarterly (reviews.go); a quarterly
	// one keeps its quarter's last month in month, so month ranges
	// still find it. Earlier rows were all monthly.
	`ALTER TABLE reviews ADD COLUMN kind TEXT NOT NULL DEFAULT 'monthly';`,
	// 13: fleet management (issue 22): one-time enrolment codes
	// (enrolments.go, the secret stored as its SHA-256), the agents'
	// reported state, per-agent config overrides, pending credential
	// rotations and the sealed credential profiles (fleet.go).
	`CREATE TABLE enrolments (
		id          TEXT PRIMARY KEY,
		hash        BLOB NOT NULL,
		site        TEXT NOT NULL,
		agent       TEXT NOT NULL DEFAULT '',
		description TEXT NOT NULL DEFAULT '',
		created_by  TEXT NOT NULL DEFAULT '',
		created_at  INTEGER NOT NULL,
		expires_at  INTEGER NOT NULL,
		used_at     INTEGER,
		used_agent  TEXT NOT NULL DEFAULT '',
		used_from   TEXT NOT NULL DEFAULT '',
		token_id    TEXT NOT NULL DEFAULT '',
		revoked_at  INTEGER
	) WITHOUT ROWID;
	CREATE TABLE fleet_agents (
		agent                    TEXT PRIMARY KEY,
		site                     TEXT NOT NULL DEFAULT '',
		hostname                 TEXT NOT NULL DEFAULT '',
		version                  TEXT NOT NULL DEFAULT '',
		token_id                 TEXT NOT NULL DEFAULT '',
		first_seen_ms            INTEGER NOT NULL,
		last_seen_ms             INTEGER NOT NULL,
		config_offered           TEXT NOT NULL DEFAULT '',
		config_applied           TEXT NOT NULL DEFAULT '',
		config_status            TEXT NOT NULL DEFAULT '',
		config_error             TEXT NOT NULL DEFAULT '',
		effective_config_hash    TEXT NOT NULL DEFAULT '',
		healthy                  INTEGER NOT NULL DEFAULT 0,
		health_status            TEXT NOT NULL DEFAULT '',
		health_error             TEXT NOT NULL DEFAULT '',
		queue_points             INTEGER NOT NULL DEFAULT 0,
		queue_bytes              INTEGER NOT NULL DEFAULT 0,
		queue_oldest_age_seconds REAL NOT NULL DEFAULT 0,
		clock_offset_seconds     REAL NOT NULL DEFAULT 0,
		update_state             TEXT NOT NULL DEFAULT '',
		update_version           TEXT NOT NULL DEFAULT '',
		update_message           TEXT NOT NULL DEFAULT ''
	) WITHOUT ROWID;
	CREATE TABLE fleet_overrides (
		agent      TEXT PRIMARY KEY,
		yaml       TEXT NOT NULL,
		updated_by TEXT NOT NULL,
		updated_at INTEGER NOT NULL
	) WITHOUT ROWID;
	CREATE TABLE fleet_rotations (
		agent        TEXT PRIMARY KEY,
		requested_by TEXT NOT NULL,
		requested_at INTEGER NOT NULL
	) WITHOUT ROWID;
	CREATE TABLE credential_profiles (
		site       TEXT NOT NULL,
		name       TEXT NOT NULL,
		sealed     BLOB NOT NULL,
		updated_by TEXT NOT NULL,
		updated_at INTEGER NOT NULL,
		PRIMARY KEY (site, name)
	) WITHOUT ROWID;`,
}

// Open opens (creating if needed) the state file in dataDir and brings its
// schema up to date.
func Open(ctx context.Context, dataDir string) (*DB, error) {
	if err := os.MkdirAll(dataDir, 0o750); err != nil {
		return nil, fmt.Errorf("create data directory %s: %w", dataDir, err)
	}
	path := filepath.Join(dataDir, FileName)
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "foreign_keys(ON)")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open state database %s: %w", path, err)
	}
	db.SetMaxOpenConns(4)
	s := &DB{sql: db, path: path}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, s.corruption(err)
	}
	return s, nil
}

// ErrCorrupt is matched (errors.Is) by the errors of a damaged state
// database; the error's text says how to recover.
var ErrCorrupt = errors.New("state database damaged")

// CorruptError is a damaged state database.
type CorruptError struct {
	Path   string
	Detail string
}

func (e *CorruptError) Is(target error) bool { return target == ErrCorrupt }

func (e *CorruptError) Error() string {
	return fmt.Sprintf(`state database %s is damaged (%s). Nothing was changed. To recover, stop every pantau-collector and either
  - restore it from a backup: copy state.db from the newest "pantau-collector backup" directory over it (check its SHA-256 against manifest.json), or restore the whole backup with "pantau-collector restore"; or
  - salvage what SQLite can still read: sqlite3 %s ".recover" > recovered.sql; sqlite3 state-recovered.db < recovered.sql; then move %s aside and state-recovered.db into its place.
What is lost with it is what was in the damaged pages: agent tokens (create them again), SLA minute states (rebuild them from the samples: pantau-collector sla rebuild), acknowledged batch ids (re-sent batches are stored again, harmlessly), maintenance windows, monthly reviews and follow-ups, alert state and queued notifications, enrolment codes and the fleet's agent state, overrides and credential profiles (set them again)`,
		e.Path, e.Detail, e.Path, e.Path)
}

// corruption turns SQLite's "not a database" and "malformed" errors into
// a CorruptError; other errors are returned as they are.
func (s *DB) corruption(err error) error {
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB:
			return &CorruptError{Path: s.path, Detail: se.Error()}
		}
	}
	return err
}

// Check runs SQLite's quick_check (every page and b-tree is well formed;
// not the cross-checks of integrity_check, which take much longer) and
// returns a CorruptError naming the first problems.
func (s *DB) Check(ctx context.Context) error {
	rows, err := s.sql.QueryContext(ctx, "PRAGMA quick_check(100)")
	if err != nil {
		return s.corruption(fmt.Errorf("check state database %s: %w", s.path, err))
	}
	defer rows.Close()
	var probs []string
	for rows.Next() {
		var r string
		if err := rows.Scan(&r); err != nil {
			return s.corruption(fmt.Errorf("check state database %s: %w", s.path, err))
		}
		if r != "ok" {
			probs = append(probs, r)
		}
	}
	if err := rows.Err(); err != nil {
		return s.corruption(fmt.Errorf("check state database %s: %w", s.path, err))
	}
	if len(probs) > 0 {
		more := ""
		if len(probs) > 3 {
			more = fmt.Sprintf("; and %d more", len(probs)-3)
			probs = probs[:3]
		}
		return &CorruptError{Path: s.path, Detail: "quick_check: " + strings.ReplaceAll(strings.Join(probs, "; "), "\n", " ") + more}
	}
	return nil
}

func (s *DB) migrate(ctx context.Context) error {
	conn, err := s.sql.Conn(ctx)
	if err != nil {
		return fmt.Errorf("open state database %s: %w", s.path, err)
	}
	defer conn.Close()
	// BEGIN IMMEDIATE serialises concurrent first opens (daemon and CLI).
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return fmt.Errorf("lock state database %s: %w", s.path, err)
	}
	var v int
	if err := conn.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		conn.ExecContext(ctx, "ROLLBACK")
		return fmt.Errorf("read schema version of %s: %w", s.path, err)
	}
	if v > len(migrations) {
		conn.ExecContext(ctx, "ROLLBACK")
		return fmt.Errorf("state database %s has schema version %d, newer than this binary knows (%d): upgrade pantau-collector", s.path, v, len(migrations))
	}
	for ; v < len(migrations); v++ {
		if _, err := conn.ExecContext(ctx, migrations[v]); err != nil {
			conn.ExecContext(ctx, "ROLLBACK")
			return fmt.Errorf("migrate %s to schema version %d: %w", s.path, v+1, err)
		}
		if _, err := conn.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", v+1)); err != nil {
			conn.ExecContext(ctx, "ROLLBACK")
			return fmt.Errorf("migrate %s: %w", s.path, err)
		}
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		return fmt.Errorf("migrate %s: %w", s.path, err)
	}
	return nil
}

// SetClock sets the clock the fleet tables take their times from
// (tests backdate with it); nil restores time.Now. Not safe to call
// while the database is in use.
func (s *DB) SetClock(now func() time.Time) { s.clock = now }

// now is the clock's time.
func (s *DB) now() time.Time {
	if s.clock != nil {
		return s.clock()
	}
	return time.Now()
}

// Path is the file's location.
func (s *DB) Path() string { return s.path }

// Close closes the database.
func (s *DB) Close() error { return s.sql.Close() }

// dataVersion reports SQLite's data_version on conn: it changes whenever
// another connection (another process included) commits.
func dataVersion(ctx context.Context, conn *sql.Conn) (int64, error) {
	var v int64
	err := conn.QueryRowContext(ctx, "PRAGMA data_version").Scan(&v)
	return v, err
}
