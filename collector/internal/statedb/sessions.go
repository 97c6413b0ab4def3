package statedb

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// Errors of web sessions.
var (
	// ErrNoSession is a session cookie that names no live session:
	// unknown, logged out, expired or idle too long.
	ErrNoSession = errors.New("no such session (logged out or expired)")
)

// Session lifetimes: a session ends after SessionIdle without a request,
// and SessionLifetime after the login at the latest.
const (
	DefaultSessionIdle     = 2 * time.Hour
	DefaultSessionLifetime = 12 * time.Hour
	// sessionTouchEvery bounds how often a request writes last_seen.
	sessionTouchEvery = time.Minute
	// sessionPrefix marks a session secret, so that one sent where a
	// token is expected is recognised (and never logged).
	sessionPrefix = "pses_"
)

// SessionPolicy is how long sessions live and when users are locked out.
type SessionPolicy struct {
	Idle, Lifetime  time.Duration
	LockoutFailures int           // wrong passwords in a row that lock a user
	LockoutDuration time.Duration // how long
}

// DefaultSessionPolicy is the collector's default.
var DefaultSessionPolicy = SessionPolicy{Idle: DefaultSessionIdle, Lifetime: DefaultSessionLifetime,
	LockoutFailures: DefaultLockoutFailures, LockoutDuration: DefaultLockoutDuration}

// SetSessionPolicy changes the session lifetimes and the lockout (a
// zero field keeps the default).
func (a *Authenticator) SetSessionPolicy(p SessionPolicy) {
	d := DefaultSessionPolicy
	if p.Idle > 0 {
		d.Idle = p.Idle
	}
	if p.Lifetime > 0 {
		d.Lifetime = p.Lifetime
	}
	if p.LockoutFailures > 0 {
		d.LockoutFailures = p.LockoutFailures
	}
	if p.LockoutDuration > 0 {
		d.LockoutDuration = p.LockoutDuration
	}
	a.mu.Lock()
	a.policy = d
	a.mu.Unlock()
}

func (a *Authenticator) sessionPolicy() SessionPolicy {
	a.mu.RLock()
	defer a.mu.RUnlock()
	if a.policy == (SessionPolicy{}) {
		return DefaultSessionPolicy
	}
	return a.policy
}

func (a *Authenticator) lockoutFailures() int           { return a.sessionPolicy().LockoutFailures }
func (a *Authenticator) lockoutDuration() time.Duration { return a.sessionPolicy().LockoutDuration }

// loginFailed counts a wrong password for user; the failures-th in a row
// locks the user for d (and starts the count again).
func (s *DB) loginFailed(ctx context.Context, user string, now time.Time, failures int, d time.Duration) error {
	_, err := s.sql.ExecContext(ctx, `UPDATE users SET
		locked_until  = CASE WHEN failed_logins + 1 >= ? THEN ? ELSE locked_until END,
		failed_logins = CASE WHEN failed_logins + 1 >= ? THEN 0 ELSE failed_logins + 1 END
		WHERE name = ?`, failures, now.Add(d).Unix(), failures, user)
	if err != nil {
		return fmt.Errorf("count a failed login of user %s: %w", user, err)
	}
	return nil
}

// UnlockUser ends a user's lockout and clears its failure count.
func (s *DB) UnlockUser(ctx context.Context, name string) error {
	res, err := s.sql.ExecContext(ctx, `UPDATE users SET failed_logins = 0, locked_until = NULL WHERE name = ?`, name)
	if err != nil {
		return fmt.Errorf("unlock user %s: %w", name, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("unlock user %s: %w", name, ErrNoSuchUser)
	}
	return nil
}

// sessionID is the stored form of a session secret: its SHA-256, so
// that a copy of state.db does not hold working sessions.
func sessionID(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// IsSessionSecret reports whether s has the form of a session secret.
func IsSessionSecret(s string) bool {
	return len(s) == len(sessionPrefix)+43 && s[:len(sessionPrefix)] == sessionPrefix
}

// Login checks a user's password (with the lockout) and starts a
// session; it returns the session secret for the cookie, shown once.
func (a *Authenticator) Login(ctx context.Context, name, password string) (string, Identity, error) {
	id, err := a.AuthenticateUser(ctx, name, password)
	if err != nil {
		return "", Identity{}, err
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", Identity{}, fmt.Errorf("generate session: %w", err)
	}
	secret := sessionPrefix + base64.RawURLEncoding.EncodeToString(b)
	now := time.Now()
	p := a.sessionPolicy()
	_, err = a.db.sql.ExecContext(ctx, `INSERT INTO sessions (id, user, created_at, last_seen, expires_at) VALUES (?, ?, ?, ?, ?)`,
		sessionID(secret), id.User, now.Unix(), now.Unix(), now.Add(p.Lifetime).Unix())
	if err != nil {
		return "", Identity{}, fmt.Errorf("store session of user %s in %s: %w", id.User, a.db.path, err)
	}
	// Old sessions of anybody are swept now and then.
	if _, err := a.db.sql.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at <= ? OR last_seen <= ?`,
		now.Unix(), now.Add(-p.Idle).Unix()); err != nil {
		return "", Identity{}, fmt.Errorf("sweep expired sessions in %s: %w", a.db.path, err)
	}
	return secret, id, nil
}

// Session returns the identity of a live session: the user's record
// (disabled, expired, role, scope) is read each time, so a change to the
// user takes effect at the next request.
func (a *Authenticator) Session(ctx context.Context, secret string) (Identity, error) {
	if !IsSessionSecret(secret) {
		return Identity{}, ErrNoSession
	}
	sid := sessionID(secret)
	var (
		user                       string
		created, seen, expiresUnix int64
	)
	err := a.db.sql.QueryRowContext(ctx, `SELECT user, created_at, last_seen, expires_at FROM sessions WHERE id = ?`, sid).
		Scan(&user, &created, &seen, &expiresUnix)
	if errors.Is(err, sql.ErrNoRows) {
		return Identity{}, ErrNoSession
	}
	if err != nil {
		return Identity{}, fmt.Errorf("look up session in %s: %w", a.db.path, err)
	}
	now := time.Now()
	p := a.sessionPolicy()
	if now.Unix() >= expiresUnix || now.Sub(time.Unix(seen, 0)) >= p.Idle || now.Sub(time.Unix(created, 0)) >= p.Lifetime {
		if _, err := a.db.sql.ExecContext(ctx, `DELETE FROM sessions WHERE id = ?`, sid); err != nil {
			return Identity{}, fmt.Errorf("end expired session in %s: %w", a.db.path, err)
		}
		return Identity{}, ErrNoSession
	}
	u, err := a.db.LookupUser(ctx, user)
	if errors.Is(err, ErrNoSuchUser) {
		return Identity{}, ErrNoSession
	}
	if err != nil {
		return Identity{}, err
	}
	if !u.DisabledAt.IsZero() {
		return Identity{}, ErrUserDisabled
	}
	if u.Expired(now) {
		return Identity{}, ErrUserExpired
	}
	if now.Sub(time.Unix(seen, 0)) >= sessionTouchEvery {
		if _, err := a.db.sql.ExecContext(ctx, `UPDATE sessions SET last_seen = ? WHERE id = ?`, now.Unix(), sid); err != nil {
			return Identity{}, fmt.Errorf("touch session in %s: %w", a.db.path, err)
		}
	}
	return u.Identity(), nil
}

// Logout ends a session; an unknown one is not an error.
func (a *Authenticator) Logout(ctx context.Context, secret string) error {
	if _, err := a.db.sql.ExecContext(ctx, `DELETE FROM sessions WHERE id = ?`, sessionID(secret)); err != nil {
		return fmt.Errorf("end session in %s: %w", a.db.path, err)
	}
	return nil
}

// ChangePassword sets a user's new password after checking the current
// one (with the lockout), and ends the user's other sessions: keep is
// the session secret that stays ("" ends them all).
func (a *Authenticator) ChangePassword(ctx context.Context, name, current, next, keep string) error {
	if _, err := a.AuthenticateUser(ctx, name, current); err != nil {
		return err
	}
	if len(next) < MinPasswordLen || len(next) > maxPasswordLen {
		return fmt.Errorf("%w: use %d to %d characters", ErrWeakPassword, MinPasswordLen, maxPasswordLen)
	}
	if next == current {
		return fmt.Errorf("%w: the new password is the current one", ErrWeakPassword)
	}
	h, err := HashPassword(next)
	if err != nil {
		return err
	}
	now := time.Now()
	if _, err := a.db.sql.ExecContext(ctx, `UPDATE users SET password_hash = ?, password_changed_at = ?, failed_logins = 0 WHERE name = ?`,
		h, now.Unix(), name); err != nil {
		return fmt.Errorf("store the new password of user %s in %s: %w", name, a.db.path, err)
	}
	a.mu.Lock()
	delete(a.pwCache, name)
	a.mu.Unlock()
	if _, err := a.db.sql.ExecContext(ctx, `DELETE FROM sessions WHERE user = ? AND id != ?`, name, sessionID(keep)); err != nil {
		return fmt.Errorf("end the other sessions of user %s: %w", name, err)
	}
	return nil
}

// SessionCount is the number of stored sessions (live or not yet swept).
func (s *DB) SessionCount(ctx context.Context) (int, error) {
	var n int
	if err := s.sql.QueryRowContext(ctx, `SELECT count(*) FROM sessions`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count sessions in %s: %w", s.path, err)
	}
	return n, nil
}
