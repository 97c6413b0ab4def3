package statedb

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// TestSessionLifecycle logs in, uses the session, logs out; a disabled
// user's sessions end with it; the secret is stored only as a hash.
func TestSessionLifecycle(t *testing.T) {
	ctx := context.Background()
	db := open(t, t.TempDir())
	a := newAuthenticator(t, db)
	if _, err := db.AddUser(ctx, User{Name: "ani", Role: RoleOperator, OPDs: []string{"dinkes"}}, goodPassword); err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.Login(ctx, "ani", otherPassword); !errors.Is(err, ErrBadPassword) {
		t.Fatalf("login with a wrong password: %v", err)
	}
	sec, id, err := a.Login(ctx, "ani", goodPassword)
	if err != nil {
		t.Fatal(err)
	}
	if !IsSessionSecret(sec) || id.User != "ani" || id.Role != RoleOperator {
		t.Fatalf("login: %q %+v", sec, id)
	}
	var stored string
	if err := db.sql.QueryRowContext(ctx, `SELECT id FROM sessions`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(stored, sec[len(sessionPrefix):]) || stored != sessionID(sec) {
		t.Fatalf("the session is stored as %q, want the SHA-256 of the secret", stored)
	}
	got, err := a.Session(ctx, sec)
	if err != nil || got.User != "ani" || len(got.OPDs) != 1 || got.OPDs[0] != "dinkes" {
		t.Fatalf("session: %+v %v", got, err)
	}
	for _, bad := range []string{"", "pses_", sec + "x", "pantau_" + sec[5:], strings.ToUpper(sec)} {
		if _, err := a.Session(ctx, bad); !errors.Is(err, ErrNoSession) {
			t.Errorf("session %q: %v, want ErrNoSession", bad, err)
		}
	}
	if err := a.Logout(ctx, sec); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Session(ctx, sec); !errors.Is(err, ErrNoSession) {
		t.Fatalf("session after logout: %v", err)
	}
	sec, _, err = a.Login(ctx, "ani", goodPassword)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.DisableUser(ctx, "ani"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Session(ctx, sec); !errors.Is(err, ErrNoSession) {
		t.Fatalf("a disabled user's session: %v", err)
	}
}

// TestSessionExpiry ends sessions idle too long or older than their
// lifetime (the clock is moved by backdating the row).
func TestSessionExpiry(t *testing.T) {
	ctx := context.Background()
	db := open(t, t.TempDir())
	a := newAuthenticator(t, db)
	a.SetSessionPolicy(SessionPolicy{Idle: time.Hour, Lifetime: 3 * time.Hour})
	if _, err := db.AddUser(ctx, User{Name: "ani", Role: RoleViewer}, goodPassword); err != nil {
		t.Fatal(err)
	}
	idle, _, _ := a.Login(ctx, "ani", goodPassword)
	old, _, _ := a.Login(ctx, "ani", goodPassword)
	fresh, _, _ := a.Login(ctx, "ani", goodPassword)
	now := time.Now()
	db.sql.ExecContext(ctx, `UPDATE sessions SET last_seen = ? WHERE id = ?`, now.Add(-61*time.Minute).Unix(), sessionID(idle))
	db.sql.ExecContext(ctx, `UPDATE sessions SET created_at = ?, last_seen = ? WHERE id = ?`, now.Add(-3*time.Hour-time.Second).Unix(), now.Unix(), sessionID(old))
	db.sql.ExecContext(ctx, `UPDATE sessions SET last_seen = ? WHERE id = ?`, now.Add(-59*time.Minute).Unix(), sessionID(fresh))
	if _, err := a.Session(ctx, idle); !errors.Is(err, ErrNoSession) {
		t.Errorf("a session idle for 61 min (idle 1 h): %v", err)
	}
	if _, err := a.Session(ctx, old); !errors.Is(err, ErrNoSession) {
		t.Errorf("a session older than its lifetime: %v", err)
	}
	if _, err := a.Session(ctx, fresh); err != nil {
		t.Errorf("a session idle for 59 min: %v", err)
	}
	var seen int64
	db.sql.QueryRowContext(ctx, `SELECT last_seen FROM sessions WHERE id = ?`, sessionID(fresh)).Scan(&seen)
	if time.Since(time.Unix(seen, 0)) > time.Minute {
		t.Errorf("a used session's last_seen was not moved on")
	}
	if n, _ := db.SessionCount(ctx); n != 1 {
		t.Errorf("%d sessions stored, want the live one only", n)
	}
}

// TestLockout locks a user after 5 wrong passwords in a row: the right
// password is then refused too, without an argon2 hash, until the
// lockout ends or an admin unlocks; a right password resets the count.
func TestLockout(t *testing.T) {
	ctx := context.Background()
	db := open(t, t.TempDir())
	a := newAuthenticator(t, db)
	if _, err := db.AddUser(ctx, User{Name: "ani", Role: RoleViewer}, goodPassword); err != nil {
		t.Fatal(err)
	}
	for range 4 {
		if _, err := a.AuthenticateUser(ctx, "ani", otherPassword); !errors.Is(err, ErrBadPassword) {
			t.Fatal(err)
		}
	}
	// A right password resets the count: four more wrong ones do not lock.
	if _, err := a.AuthenticateUser(ctx, "ani", goodPassword); err != nil {
		t.Fatal(err)
	}
	for range 4 {
		a.AuthenticateUser(ctx, "ani", otherPassword)
	}
	if _, err := a.AuthenticateUser(ctx, "ani", goodPassword); err != nil {
		t.Fatalf("4 wrong passwords after a right one locked the user: %v", err)
	}
	for range 5 {
		a.AuthenticateUser(ctx, "ani", otherPassword)
	}
	_, err := a.AuthenticateUser(ctx, "ani", goodPassword)
	var le *LockedError
	if !errors.As(err, &le) || !errors.Is(err, ErrUserLocked) {
		t.Fatalf("the right password after 5 wrong ones: %v, want locked", err)
	}
	if d := time.Until(le.Until); d < 14*time.Minute || d > 15*time.Minute {
		t.Errorf("locked for %s, want 15 min", d)
	}
	if _, _, err := a.Login(ctx, "ani", goodPassword); !errors.Is(err, ErrUserLocked) {
		t.Errorf("login while locked: %v", err)
	}
	if err := db.UnlockUser(ctx, "ani"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.AuthenticateUser(ctx, "ani", goodPassword); err != nil {
		t.Fatalf("after unlock: %v", err)
	}
	if err := db.UnlockUser(ctx, "budi"); !errors.Is(err, ErrNoSuchUser) {
		t.Errorf("unlock an unknown user: %v", err)
	}
	// The lockout ends by itself.
	for range 5 {
		a.AuthenticateUser(ctx, "ani", otherPassword)
	}
	db.sql.ExecContext(ctx, `UPDATE users SET locked_until = ? WHERE name = 'ani'`, time.Now().Add(-time.Second).Unix())
	if _, err := a.AuthenticateUser(ctx, "ani", goodPassword); err != nil {
		t.Fatalf("after the lockout ended: %v", err)
	}
}

// TestChangePassword needs the current password, refuses a weak or
// unchanged one, and ends the user's other sessions but the kept one.
func TestChangePassword(t *testing.T) {
	ctx := context.Background()
	db := open(t, t.TempDir())
	a := newAuthenticator(t, db)
	if _, err := db.AddUser(ctx, User{Name: "ani", Role: RoleViewer}, goodPassword); err != nil {
		t.Fatal(err)
	}
	keep, _, _ := a.Login(ctx, "ani", goodPassword)
	other, _, _ := a.Login(ctx, "ani", goodPassword)
	if err := a.ChangePassword(ctx, "ani", otherPassword, "a-new-password-1", keep); !errors.Is(err, ErrBadPassword) {
		t.Fatalf("wrong current password: %v", err)
	}
	if err := a.ChangePassword(ctx, "ani", goodPassword, "short", keep); !errors.Is(err, ErrWeakPassword) {
		t.Fatalf("short new password: %v", err)
	}
	if err := a.ChangePassword(ctx, "ani", goodPassword, goodPassword, keep); !errors.Is(err, ErrWeakPassword) {
		t.Fatalf("unchanged password: %v", err)
	}
	if err := a.ChangePassword(ctx, "ani", goodPassword, "a-new-password-1", keep); err != nil {
		t.Fatal(err)
	}
	if _, err := a.AuthenticateUser(ctx, "ani", goodPassword); !errors.Is(err, ErrBadPassword) {
		t.Fatalf("the old password still works (cache?): %v", err)
	}
	if _, err := a.AuthenticateUser(ctx, "ani", "a-new-password-1"); err != nil {
		t.Fatalf("the new password: %v", err)
	}
	if _, err := a.Session(ctx, keep); err != nil {
		t.Errorf("the kept session ended: %v", err)
	}
	if _, err := a.Session(ctx, other); !errors.Is(err, ErrNoSession) {
		t.Errorf("the other session lives on: %v", err)
	}
}
