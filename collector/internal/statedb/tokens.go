package statedb

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base32"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Token format: "pantau_<id>_<secret>". The id is public and looked up; the
// secret is checked against its stored SHA-256 in constant time. A token is
// 256 bits of randomness, so a plain hash (not a password KDF) is right.
const tokenPrefix = "pantau_"

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// Errors returned by Authenticate and the token commands.
var (
	ErrBadToken      = errors.New("malformed token")
	ErrUnknownToken  = errors.New("unknown token")
	ErrRevokedToken  = errors.New("revoked token")
	ErrTokenNotFound = errors.New("no such token")
	ErrBadAgentID    = errors.New("invalid agent id")
	ErrExpiredToken  = errors.New("expired token")
	ErrBadRole       = errors.New("invalid role")
)

// Roles. An agent token writes measurements and reads nothing. A viewer
// reads the query API, reports, alerts and records; an operator also
// acknowledges, silences and records maintenance windows, reviews and
// follow-ups; an admin also changes the inventory, tokens and users.
const (
	RoleAgent    = "agent"
	RoleViewer   = "viewer"
	RoleOperator = "operator"
	RoleAdmin    = "admin"
)

// ValidRole reports whether r is a role an API token or user can hold.
func ValidRole(r string) bool { return r == RoleViewer || r == RoleOperator || r == RoleAdmin }

// checkScope validates a role and OPD list for an API token or a user.
func checkScope(role string, opds []string) error {
	if !ValidRole(role) {
		return fmt.Errorf("%w %q: use viewer, operator or admin", ErrBadRole, role)
	}
	for _, o := range opds {
		if !ValidID(o) {
			return fmt.Errorf("%w: OPD %q: use 1-128 letters, digits, '.', '_' or '-'", ErrBadAgentID, o)
		}
	}
	return nil
}

var idRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// ValidID reports whether s is usable as an agent or site id: 1–128 of
// letters, digits, '.', '_' and '-', starting with a letter or digit.
func ValidID(s string) bool { return idRE.MatchString(s) }

// Token is a stored token; the secret itself is never stored. An agent
// token (Role "agent") has Agent and Sites; an API token has Name, Role
// and OPDs.
type Token struct {
	ID          string
	Role        string
	Agent       string
	Sites       []string // allowed site tags; empty = any
	Name        string
	OPDs        []string // OPD scope of an API token; empty = every OPD
	Description string
	CreatedAt   time.Time
	ExpiresAt   time.Time // zero: never
	RevokedAt   time.Time // zero when active
	hash        []byte
}

// Identity is what a valid credential proves.
type Identity struct {
	TokenID string // the token id; "" for a user
	User    string // the user name; "" for a token
	Role    string
	Agent   string
	Sites   []string
	Name    string
	OPDs    []string
}

// CreateToken creates a token for agent (optionally restricted to sites)
// and returns the full token string, which is shown once and never stored.
func (s *DB) CreateToken(ctx context.Context, agent string, sites []string, description string) (string, Token, error) {
	if !ValidID(agent) {
		return "", Token{}, fmt.Errorf("%w %q: use 1-128 letters, digits, '.', '_' or '-'", ErrBadAgentID, agent)
	}
	for _, site := range sites {
		if !ValidID(site) {
			return "", Token{}, fmt.Errorf("%w: site %q: use 1-128 letters, digits, '.', '_' or '-'", ErrBadAgentID, site)
		}
	}
	return s.insertToken(ctx, Token{Role: RoleAgent, Agent: agent, Sites: sites, Description: description}, "agent "+agent)
}

// CreateAPIToken creates a viewer, operator or admin token named name,
// scoped to opds (none: every OPD), expiring at expires (zero: never).
func (s *DB) CreateAPIToken(ctx context.Context, name, role string, opds []string, expires time.Time, description string) (string, Token, error) {
	if !ValidID(name) {
		return "", Token{}, fmt.Errorf("%w: token name %q: use 1-128 letters, digits, '.', '_' or '-'", ErrBadAgentID, name)
	}
	if err := checkScope(role, opds); err != nil {
		return "", Token{}, err
	}
	return s.insertToken(ctx, Token{Role: role, Name: name, OPDs: opds, ExpiresAt: expires, Description: description}, "token "+name)
}

func (s *DB) insertToken(ctx context.Context, t Token, what string) (string, Token, error) {
	return s.insertTokenOn(ctx, s.sql, t, what, time.Now())
}

// execer is a *sql.DB or a *sql.Tx.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// insertTokenOn stores t, created at now, with ex (a transaction's or
// the database's).
func (s *DB) insertTokenOn(ctx context.Context, ex execer, t Token, what string, now time.Time) (string, Token, error) {
	idb := make([]byte, 10)
	secret := make([]byte, 32)
	if _, err := rand.Read(idb); err != nil {
		return "", Token{}, fmt.Errorf("generate token id: %w", err)
	}
	if _, err := rand.Read(secret); err != nil {
		return "", Token{}, fmt.Errorf("generate token secret: %w", err)
	}
	t.ID = strings.ToLower(b32.EncodeToString(idb))
	sec := strings.ToLower(b32.EncodeToString(secret))
	sum := sha256.Sum256([]byte(sec))
	t.hash = sum[:]
	t.CreatedAt = now.UTC().Truncate(time.Second)
	var expires sql.NullInt64
	if !t.ExpiresAt.IsZero() {
		t.ExpiresAt = t.ExpiresAt.UTC().Truncate(time.Second)
		expires = sql.NullInt64{Int64: t.ExpiresAt.Unix(), Valid: true}
	}
	_, err := ex.ExecContext(ctx,
		`INSERT INTO tokens (id, role, agent, sites, name, opds, hash, description, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		t.ID, t.Role, t.Agent, strings.Join(t.Sites, ","), t.Name, strings.Join(t.OPDs, ","), sum[:], t.Description, t.CreatedAt.Unix(), expires)
	if err != nil {
		return "", Token{}, fmt.Errorf("store %s in %s: %w", what, s.path, err)
	}
	return tokenPrefix + t.ID + "_" + sec, t, nil
}

// RevokeToken revokes one token by id. Revoking an already revoked token is
// not an error.
func (s *DB) RevokeToken(ctx context.Context, id string) error {
	res, err := s.sql.ExecContext(ctx, `UPDATE tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?`, time.Now().Unix(), id)
	if err != nil {
		return fmt.Errorf("revoke token %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("revoke token %s: %w", id, ErrTokenNotFound)
	}
	return nil
}

// RevokeAgent revokes every active token of agent and returns how many.
func (s *DB) RevokeAgent(ctx context.Context, agent string) (int, error) {
	res, err := s.sql.ExecContext(ctx, `UPDATE tokens SET revoked_at = ? WHERE agent = ? AND revoked_at IS NULL`, time.Now().Unix(), agent)
	if err != nil {
		return 0, fmt.Errorf("revoke tokens of agent %s: %w", agent, err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// ListTokens returns all tokens, newest first.
func (s *DB) ListTokens(ctx context.Context) ([]Token, error) {
	rows, err := s.sql.QueryContext(ctx, `SELECT `+tokenCols+` FROM tokens ORDER BY created_at DESC, id`)
	if err != nil {
		return nil, fmt.Errorf("list tokens in %s: %w", s.path, err)
	}
	defer rows.Close()
	var out []Token
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, fmt.Errorf("list tokens in %s: %w", s.path, err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

type scanner interface{ Scan(...any) error }

const tokenCols = `id, role, agent, sites, name, opds, hash, description, created_at, expires_at, revoked_at`

func scanToken(r scanner) (Token, error) {
	var (
		t                Token
		sites, opds      string
		created          int64
		expires, revoked sql.NullInt64
	)
	if err := r.Scan(&t.ID, &t.Role, &t.Agent, &sites, &t.Name, &opds, &t.hash, &t.Description, &created, &expires, &revoked); err != nil {
		return Token{}, err
	}
	t.Sites, t.OPDs = splitList(sites), splitList(opds)
	t.CreatedAt = time.Unix(created, 0).UTC()
	t.ExpiresAt, t.RevokedAt = unixOrZero(expires), unixOrZero(revoked)
	return t, nil
}

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

func unixOrZero(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return time.Unix(v.Int64, 0).UTC()
}

// Expired reports whether the token has expired at now.
func (t *Token) Expired(now time.Time) bool { return !t.ExpiresAt.IsZero() && !now.Before(t.ExpiresAt) }

// Identity is what the token proves.
func (t *Token) Identity() Identity {
	return Identity{TokenID: t.ID, Role: t.Role, Agent: t.Agent, Sites: t.Sites, Name: t.Name, OPDs: t.OPDs}
}

// splitToken returns the id and secret of a token string.
func splitToken(tok string) (id, secret string, ok bool) {
	rest, ok := strings.CutPrefix(tok, tokenPrefix)
	if !ok {
		return "", "", false
	}
	id, secret, ok = strings.Cut(rest, "_")
	if !ok || len(id) != 16 || len(secret) != 52 {
		return "", "", false
	}
	return id, secret, true
}

// check verifies secret against t in constant time.
func (t *Token) check(secret string) bool {
	sum := sha256.Sum256([]byte(secret))
	return subtle.ConstantTimeCompare(sum[:], t.hash) == 1
}

// lookupToken reads one token by id; sql.ErrNoRows when absent.
func (s *DB) lookupToken(ctx context.Context, id string) (Token, error) {
	row := s.sql.QueryRowContext(ctx, `SELECT `+tokenCols+` FROM tokens WHERE id = ?`, id)
	return scanToken(row)
}
