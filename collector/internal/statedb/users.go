package statedb

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/argon2"
)

// Errors of the user commands and of password authentication.
var (
	ErrUserExists   = errors.New("user exists")
	ErrNoSuchUser   = errors.New("no such user")
	ErrBadPassword  = errors.New("wrong user name or password")
	ErrUserDisabled = errors.New("user disabled")
	ErrUserExpired  = errors.New("user expired")
	ErrWeakPassword = errors.New("password too short")
	// ErrUserLocked is a user locked out after repeated wrong passwords
	// (LockedError says until when).
	ErrUserLocked = errors.New("user locked after repeated wrong passwords")
)

// LockedError is ErrUserLocked with the end of the lockout.
type LockedError struct{ Until time.Time }

func (e *LockedError) Error() string {
	return fmt.Sprintf("user locked after repeated wrong passwords until %s", e.Until.UTC().Format(time.RFC3339))
}

// Is makes errors.Is(err, ErrUserLocked) hold.
func (e *LockedError) Is(target error) bool { return target == ErrUserLocked }

// Lockout defaults: DefaultLockoutFailures wrong passwords in a row lock
// a user for DefaultLockoutDuration.
const (
	DefaultLockoutFailures = 5
	DefaultLockoutDuration = 15 * time.Minute
)

// MinPasswordLen is the shortest password a user may have.
const MinPasswordLen = 12

// maxPasswordLen bounds what one login attempt may make argon2 hash.
const maxPasswordLen = 1024

// User is a person who logs in with a name and password. Its role and
// OPD scope work as a token's.
type User struct {
	Name       string
	Role       string
	OPDs       []string
	CreatedAt  time.Time
	ExpiresAt  time.Time // zero: never
	DisabledAt time.Time // zero: active
	// FailedLogins counts wrong passwords since the last right one or
	// lockout; LockedUntil is the end of a lockout (zero: none).
	FailedLogins int
	LockedUntil  time.Time
	hash         string
}

// Locked reports whether the user is locked out at now.
func (u *User) Locked(now time.Time) bool { return now.Before(u.LockedUntil) }

// Expired reports whether the user has expired at now.
func (u *User) Expired(now time.Time) bool { return !u.ExpiresAt.IsZero() && !now.Before(u.ExpiresAt) }

// Identity is what the user's password proves.
func (u *User) Identity() Identity {
	return Identity{User: u.Name, Role: u.Role, Name: u.Name, OPDs: u.OPDs}
}

// argon2id parameters: OWASP's recommended minimum (19 MiB, 2 passes, 1
// lane). The Authenticator runs at most two hashes at a time, so failed
// logins cannot make the collector's memory grow.
const (
	argonTime    = 2
	argonMemory  = 19 * 1024
	argonThreads = 1
	argonKeyLen  = 32
)

// HashPassword returns the PHC-format argon2id hash of password.
func HashPassword(password string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("generate salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

// Bounds on the argon2 parameters of a stored hash, so that a damaged
// or hostile hash cannot make one login attempt take unbounded memory
// (m, in KiB) or time (t, p), nor make argon2 panic (t or p of 0).
const (
	maxArgonMemory  = 64 * 1024
	maxArgonTime    = 16
	maxArgonThreads = 8
	maxArgonKeyLen  = 64
)

// phc is a parsed PHC-format argon2id hash.
type phc struct {
	m, t      uint32
	p         uint8
	salt, key []byte
}

// parsePHC parses an argon2id hash within the bounds above.
func parsePHC(hash string) (phc, bool) {
	var h phc
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return h, false
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return h, false
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &h.m, &h.t, &h.p); err != nil ||
		h.m > maxArgonMemory || h.t == 0 || h.t > maxArgonTime || h.p == 0 || h.p > maxArgonThreads {
		return h, false
	}
	enc := base64.RawStdEncoding
	var err1, err2 error
	h.salt, err1 = enc.DecodeString(parts[4])
	h.key, err2 = enc.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(h.key) == 0 || len(h.key) > maxArgonKeyLen {
		return h, false
	}
	return h, true
}

// checkPassword verifies password against a PHC argon2id hash.
func checkPassword(hash, password string) bool {
	if len(password) > maxPasswordLen {
		return false
	}
	h, ok := parsePHC(hash)
	if !ok {
		return false
	}
	got := argon2.IDKey([]byte(password), h.salt, h.t, h.m, h.p, uint32(len(h.key)))
	return subtle.ConstantTimeCompare(got, h.key) == 1
}

// AddUser stores a user with password hashed (argon2id).
func (s *DB) AddUser(ctx context.Context, u User, password string) (User, error) {
	if !ValidID(u.Name) {
		return User{}, fmt.Errorf("%w: user name %q: use 1-128 letters, digits, '.', '_' or '-'", ErrBadAgentID, u.Name)
	}
	if err := checkScope(u.Role, u.OPDs); err != nil {
		return User{}, err
	}
	if len(password) < MinPasswordLen || len(password) > maxPasswordLen {
		return User{}, fmt.Errorf("%w: use %d to %d characters", ErrWeakPassword, MinPasswordLen, maxPasswordLen)
	}
	h, err := HashPassword(password)
	if err != nil {
		return User{}, err
	}
	u.hash = h
	u.CreatedAt = time.Now().UTC().Truncate(time.Second)
	var expires sql.NullInt64
	if !u.ExpiresAt.IsZero() {
		u.ExpiresAt = u.ExpiresAt.UTC().Truncate(time.Second)
		expires = sql.NullInt64{Int64: u.ExpiresAt.Unix(), Valid: true}
	}
	_, err = s.sql.ExecContext(ctx, `INSERT INTO users (name, password_hash, role, opds, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)`,
		u.Name, h, u.Role, strings.Join(u.OPDs, ","), u.CreatedAt.Unix(), expires)
	if err != nil {
		var se interface{ Code() int }
		if errors.As(err, &se) && se.Code()&0xff == 19 { // SQLITE_CONSTRAINT
			return User{}, fmt.Errorf("add user %s: %w", u.Name, ErrUserExists)
		}
		return User{}, fmt.Errorf("store user %s in %s: %w", u.Name, s.path, err)
	}
	return u, nil
}

const userCols = `name, password_hash, role, opds, created_at, expires_at, disabled_at, failed_logins, locked_until`

func scanUser(r scanner) (User, error) {
	var (
		u                 User
		opds              string
		created           int64
		expires, disabled sql.NullInt64
		locked            sql.NullInt64
	)
	if err := r.Scan(&u.Name, &u.hash, &u.Role, &opds, &created, &expires, &disabled, &u.FailedLogins, &locked); err != nil {
		return User{}, err
	}
	u.LockedUntil = unixOrZero(locked)
	u.OPDs = splitList(opds)
	u.CreatedAt = time.Unix(created, 0).UTC()
	u.ExpiresAt, u.DisabledAt = unixOrZero(expires), unixOrZero(disabled)
	return u, nil
}

// ListUsers returns every user, by name.
func (s *DB) ListUsers(ctx context.Context) ([]User, error) {
	rows, err := s.sql.QueryContext(ctx, `SELECT `+userCols+` FROM users ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list users in %s: %w", s.path, err)
	}
	defer rows.Close()
	var out []User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("list users in %s: %w", s.path, err)
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// LookupUser reads one user; ErrNoSuchUser when absent.
func (s *DB) LookupUser(ctx context.Context, name string) (User, error) {
	u, err := scanUser(s.sql.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE name = ?`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, fmt.Errorf("user %s: %w", name, ErrNoSuchUser)
	}
	if err != nil {
		return User{}, fmt.Errorf("look up user %s in %s: %w", name, s.path, err)
	}
	return u, nil
}

// DisableUser disables a user (its password stops working at once).
// Disabling a disabled user is not an error.
func (s *DB) DisableUser(ctx context.Context, name string) error {
	res, err := s.sql.ExecContext(ctx, `UPDATE users SET disabled_at = COALESCE(disabled_at, ?) WHERE name = ?`, time.Now().Unix(), name)
	if err != nil {
		return fmt.Errorf("disable user %s: %w", name, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("disable user %s: %w", name, ErrNoSuchUser)
	}
	if _, err := s.sql.ExecContext(ctx, `DELETE FROM sessions WHERE user = ?`, name); err != nil {
		return fmt.Errorf("end the sessions of user %s: %w", name, err)
	}
	return nil
}

// AuthenticateUser checks a user's password. A password that was right
// within the last passwordCacheTTL is checked against a keyed hash in
// memory, so that Grafana's basic auth on every request does not cost an
// argon2 hash each; at most two argon2 hashes run at a time. The user's
// record (disabled, expired, role, scope) is read every time.
func (a *Authenticator) AuthenticateUser(ctx context.Context, name, password string) (Identity, error) {
	if len(password) > maxPasswordLen || !ValidID(name) {
		return Identity{}, ErrBadPassword
	}
	now := time.Now()
	u, err := a.db.LookupUser(ctx, name)
	if errors.Is(err, ErrNoSuchUser) {
		// Spend the same time as a wrong password, so that probing for
		// user names learns nothing.
		if err := a.hashSlot(ctx); err != nil {
			return Identity{}, err
		}
		checkPassword(dummyHash(), password)
		<-a.argon
		return Identity{}, ErrBadPassword
	}
	if err != nil {
		return Identity{}, err
	}
	if u.Locked(now) {
		// No hash: a locked user's password is not checked at all, so
		// that guessing during the lockout learns nothing.
		return Identity{}, &LockedError{Until: u.LockedUntil}
	}
	mac := hmac.New(sha256.New, a.cacheKey)
	mac.Write([]byte(u.hash))
	mac.Write([]byte{0})
	mac.Write([]byte(password))
	sum := mac.Sum(nil)
	a.mu.RLock()
	c, hit := a.pwCache[name]
	a.mu.RUnlock()
	ok := hit && now.Sub(c.at) < passwordCacheTTL && hmac.Equal(c.sum, sum)
	if !ok {
		if err := a.hashSlot(ctx); err != nil {
			return Identity{}, err
		}
		ok = checkPassword(u.hash, password)
		<-a.argon
		if ok {
			a.mu.Lock()
			if len(a.pwCache) >= maxPasswordCache {
				clear(a.pwCache)
			}
			a.pwCache[name] = pwEntry{sum: sum, at: now}
			a.mu.Unlock()
		}
	}
	if !ok {
		if err := a.db.loginFailed(ctx, u.Name, now, a.lockoutFailures(), a.lockoutDuration()); err != nil {
			return Identity{}, err
		}
		return Identity{}, ErrBadPassword
	}
	if u.FailedLogins > 0 {
		if _, err := a.db.sql.ExecContext(ctx, `UPDATE users SET failed_logins = 0 WHERE name = ?`, u.Name); err != nil {
			return Identity{}, fmt.Errorf("reset the failed logins of user %s: %w", u.Name, err)
		}
	}
	if !u.DisabledAt.IsZero() {
		return Identity{}, ErrUserDisabled
	}
	if u.Expired(now) {
		return Identity{}, ErrUserExpired
	}
	return u.Identity(), nil
}

// hashSlot waits for one of the argon2 slots; the caller releases it.
func (a *Authenticator) hashSlot(ctx context.Context) error {
	select {
	case a.argon <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("check password: %w", ctx.Err())
	}
}

const (
	passwordCacheTTL = 5 * time.Minute
	maxPasswordCache = 4096
)

type pwEntry struct {
	sum []byte
	at  time.Time
}

// dummyHash is checked for unknown user names.
var dummyHash = sync.OnceValue(func() string {
	h, _ := HashPassword("pantau-no-such-user")
	return h
})
