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
)

var idRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// ValidID reports whether s is usable as an agent or site id: 1–128 of
// letters, digits, '.', '_' and '-', starting with a letter or digit.
func ValidID(s string) bool { return idRE.MatchString(s) }

// Token is a stored token; the secret itself is never stored.
type Token struct {
	ID          string
	Agent       string
	Sites       []string // allowed site tags; empty = any
	Description string
	CreatedAt   time.Time
	RevokedAt   time.Time // zero when active
	hash        []byte
}

// Identity is what a valid token proves.
type Identity struct {
	TokenID string
	Agent   string
	Sites   []string
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
	idb := make([]byte, 10)
	secret := make([]byte, 32)
	if _, err := rand.Read(idb); err != nil {
		return "", Token{}, fmt.Errorf("generate token id: %w", err)
	}
	if _, err := rand.Read(secret); err != nil {
		return "", Token{}, fmt.Errorf("generate token secret: %w", err)
	}
	id := strings.ToLower(b32.EncodeToString(idb))
	sec := strings.ToLower(b32.EncodeToString(secret))
	sum := sha256.Sum256([]byte(sec))
	t := Token{ID: id, Agent: agent, Sites: sites, Description: description, CreatedAt: time.Now().UTC().Truncate(time.Second), hash: sum[:]}
	_, err := s.sql.ExecContext(ctx,
		`INSERT INTO tokens (id, agent, sites, hash, description, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		id, agent, strings.Join(sites, ","), sum[:], description, t.CreatedAt.Unix())
	if err != nil {
		return "", Token{}, fmt.Errorf("store token for agent %s in %s: %w", agent, s.path, err)
	}
	return tokenPrefix + id + "_" + sec, t, nil
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
	rows, err := s.sql.QueryContext(ctx, `SELECT id, agent, sites, hash, description, created_at, revoked_at FROM tokens ORDER BY created_at DESC, id`)
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

func scanToken(r scanner) (Token, error) {
	var (
		t       Token
		sites   string
		created int64
		revoked sql.NullInt64
	)
	if err := r.Scan(&t.ID, &t.Agent, &sites, &t.hash, &t.Description, &created, &revoked); err != nil {
		return Token{}, err
	}
	if sites != "" {
		t.Sites = strings.Split(sites, ",")
	}
	t.CreatedAt = time.Unix(created, 0).UTC()
	if revoked.Valid {
		t.RevokedAt = time.Unix(revoked.Int64, 0).UTC()
	}
	return t, nil
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
	row := s.sql.QueryRowContext(ctx, `SELECT id, agent, sites, hash, description, created_at, revoked_at FROM tokens WHERE id = ?`, id)
	return scanToken(row)
}
