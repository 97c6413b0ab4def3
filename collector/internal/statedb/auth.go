package statedb

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Authenticator checks tokens against an in-memory copy of the token table.
// A token created by another process (the CLI) is found on first use by a
// direct lookup; revocations reach the cache within one poll interval,
// because the cache is reloaded whenever SQLite's data_version changes.
type Authenticator struct {
	db     *DB
	logger *slog.Logger

	mu     sync.RWMutex
	tokens map[string]Token

	argon    chan struct{} // argon2 hashes running
	cacheKey []byte
	pwCache  map[string]pwEntry // user name: keyed hash of a recent right password
	policy   SessionPolicy      // zero: DefaultSessionPolicy
}

// NewAuthenticator loads the token table.
func NewAuthenticator(ctx context.Context, db *DB, logger *slog.Logger) (*Authenticator, error) {
	a := &Authenticator{db: db, logger: logger, argon: make(chan struct{}, 2), cacheKey: make([]byte, 32), pwCache: map[string]pwEntry{}}
	if _, err := rand.Read(a.cacheKey); err != nil {
		return nil, fmt.Errorf("generate password cache key: %w", err)
	}
	if err := a.reload(ctx); err != nil {
		return nil, err
	}
	return a, nil
}

func (a *Authenticator) reload(ctx context.Context) error {
	list, err := a.db.ListTokens(ctx)
	if err != nil {
		return err
	}
	m := make(map[string]Token, len(list))
	for _, t := range list {
		m[t.ID] = t
	}
	a.mu.Lock()
	a.tokens = m
	a.mu.Unlock()
	return nil
}

// Authenticate returns the identity a token string proves. Errors never
// contain the token.
func (a *Authenticator) Authenticate(ctx context.Context, tok string) (Identity, error) {
	id, secret, ok := splitToken(tok)
	if !ok {
		return Identity{}, ErrBadToken
	}
	a.mu.RLock()
	t, found := a.tokens[id]
	a.mu.RUnlock()
	if !found {
		var err error
		t, err = a.db.lookupToken(ctx, id)
		if errors.Is(err, sql.ErrNoRows) {
			return Identity{}, ErrUnknownToken
		}
		if err != nil {
			return Identity{}, fmt.Errorf("look up token: %w", err)
		}
		a.mu.Lock()
		a.tokens[id] = t
		a.mu.Unlock()
	}
	if !t.check(secret) {
		return Identity{}, ErrUnknownToken
	}
	if !t.RevokedAt.IsZero() {
		return Identity{}, ErrRevokedToken
	}
	if t.Expired(time.Now()) {
		return Identity{}, ErrExpiredToken
	}
	return t.Identity(), nil
}

// Agents returns the ids of agents with at least one active token.
func (a *Authenticator) Agents() []string {
	a.mu.RLock()
	defer a.mu.RUnlock()
	seen := map[string]bool{}
	var out []string
	for _, t := range a.tokens {
		if t.Role == RoleAgent && t.RevokedAt.IsZero() && !seen[t.Agent] {
			seen[t.Agent] = true
			out = append(out, t.Agent)
		}
	}
	return out
}

// Watch reloads the cache when another connection commits, until ctx ends.
func (a *Authenticator) Watch(ctx context.Context, every time.Duration) error {
	conn, err := a.db.sql.Conn(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil // shut down before the watch began
		}
		return fmt.Errorf("watch tokens in %s: %w", a.db.path, err)
	}
	defer conn.Close()
	last, err := dataVersion(ctx, conn)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("watch tokens in %s: %w", a.db.path, err)
	}
	// A commit between the first load and the version just read would
	// otherwise go unseen until the next one.
	if err := a.reload(ctx); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("watch tokens in %s: %w", a.db.path, err)
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		v, err := dataVersion(ctx, conn)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			a.logger.Warn("token watch failed", "err", err)
			continue
		}
		if v == last {
			continue
		}
		last = v
		if err := a.reload(ctx); err != nil && ctx.Err() == nil {
			a.logger.Warn("token reload failed", "err", err)
		}
	}
}

// Reload reads the token table again at once, for a change this process
// made (a token created or revoked through the API), so that it is in
// force before the watch would notice it.
func (a *Authenticator) Reload(ctx context.Context) error { return a.reload(ctx) }
