package statedb

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"
)

const (
	goodPassword  = "correct horse battery staple"
	otherPassword = "tr0ub4dor&3-but-longer"
)

func newAuthenticator(t *testing.T, db *DB) *Authenticator {
	t.Helper()
	a, err := NewAuthenticator(context.Background(), db, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestAddUserValidates(t *testing.T) {
	ctx := context.Background()
	db := open(t, t.TempDir())
	cases := []struct {
		name string
		u    User
		pw   string
		want error
	}{
		{"short password", User{Name: "ani", Role: RoleViewer}, "elevenchars", ErrWeakPassword},
		{"empty password", User{Name: "ani", Role: RoleViewer}, "", ErrWeakPassword},
		{"huge password", User{Name: "ani", Role: RoleViewer}, strings.Repeat("p", maxPasswordLen+1), ErrWeakPassword},
		{"unknown role", User{Name: "ani", Role: "root"}, goodPassword, ErrBadRole},
		{"agent role", User{Name: "ani", Role: RoleAgent}, goodPassword, ErrBadRole},
		{"no role", User{Name: "ani"}, goodPassword, ErrBadRole},
		{"bad OPD", User{Name: "ani", Role: RoleViewer, OPDs: []string{"dinkes", "din kes"}}, goodPassword, ErrBadAgentID},
		{"OPD with a comma", User{Name: "ani", Role: RoleViewer, OPDs: []string{"a,b"}}, goodPassword, ErrBadAgentID},
		{"empty OPD", User{Name: "ani", Role: RoleViewer, OPDs: []string{""}}, goodPassword, ErrBadAgentID},
		{"bad name", User{Name: "ani:x", Role: RoleViewer}, goodPassword, ErrBadAgentID},
		{"empty name", User{Role: RoleViewer}, goodPassword, ErrBadAgentID},
	}
	for _, c := range cases {
		if _, err := db.AddUser(ctx, c.u, c.pw); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		} else if c.pw != "" && strings.Contains(err.Error(), c.pw) {
			t.Errorf("%s: the error %q contains the password", c.name, err)
		}
	}
	if users, err := db.ListUsers(ctx); err != nil || len(users) != 0 {
		t.Fatalf("refused users stored: %v %v", users, err)
	}
	u, err := db.AddUser(ctx, User{Name: "ani", Role: RoleOperator, OPDs: []string{"dinkes", "dishub"}}, goodPassword)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(u.hash, "$argon2id$v=19$m=19456,t=2,p=1$") || strings.Contains(u.hash, goodPassword) {
		t.Errorf("hash %q", u.hash)
	}
	if _, err := db.AddUser(ctx, User{Name: "ani", Role: RoleViewer}, otherPassword); !errors.Is(err, ErrUserExists) {
		t.Errorf("duplicate: %v, want ErrUserExists", err)
	}
	got, err := db.LookupUser(ctx, "ani")
	if err != nil || got.Role != RoleOperator || !slices.Equal(got.OPDs, []string{"dinkes", "dishub"}) || got.hash != u.hash {
		t.Errorf("stored %+v, %v (the duplicate changed it?)", got, err)
	}
	if _, err := db.LookupUser(ctx, "budi"); !errors.Is(err, ErrNoSuchUser) {
		t.Errorf("unknown user: %v", err)
	}
	if err := db.DisableUser(ctx, "budi"); !errors.Is(err, ErrNoSuchUser) {
		t.Errorf("disable unknown user: %v", err)
	}
}

func TestAuthenticateUser(t *testing.T) {
	ctx := context.Background()
	db := open(t, t.TempDir())
	for _, u := range []User{
		{Name: "ani", Role: RoleOperator, OPDs: []string{"dinkes"}},
		{Name: "budi", Role: RoleViewer},
		{Name: "citra", Role: RoleAdmin, ExpiresAt: time.Now().Add(-time.Hour)}, // expired already: backdated
		{Name: "dewi", Role: RoleViewer, ExpiresAt: time.Now().Add(24 * time.Hour)},
	} {
		if _, err := db.AddUser(ctx, u, goodPassword); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.DisableUser(ctx, "budi"); err != nil {
		t.Fatal(err)
	}
	a := newAuthenticator(t, db)
	id, err := a.AuthenticateUser(ctx, "ani", goodPassword)
	if err != nil {
		t.Fatal(err)
	}
	if id.User != "ani" || id.Name != "ani" || id.Role != RoleOperator || !slices.Equal(id.OPDs, []string{"dinkes"}) || id.TokenID != "" {
		t.Errorf("identity %+v", id)
	}
	if _, err := a.AuthenticateUser(ctx, "dewi", goodPassword); err != nil {
		t.Errorf("user expiring tomorrow: %v", err)
	}
	cases := []struct {
		name, user, pw string
		want           error
	}{
		{"wrong password", "ani", otherPassword, ErrBadPassword},
		{"empty password", "ani", "", ErrBadPassword},
		{"password with a prefix", "ani", goodPassword + "x", ErrBadPassword},
		{"disabled", "budi", goodPassword, ErrUserDisabled},
		{"disabled, wrong password", "budi", otherPassword, ErrBadPassword}, // says nothing about the user
		{"expired", "citra", goodPassword, ErrUserExpired},
		{"expired, wrong password", "citra", otherPassword, ErrBadPassword},
		{"unknown user", "eko", goodPassword, ErrBadPassword},
		{"invalid user name", "../etc", goodPassword, ErrBadPassword},
		{"huge password", "ani", strings.Repeat("x", maxPasswordLen+1), ErrBadPassword},
	}
	for _, c := range cases {
		if _, err := a.AuthenticateUser(ctx, c.user, c.pw); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		} else if c.pw != "" && strings.Contains(err.Error(), c.pw) {
			t.Errorf("%s: the error contains the password", c.name)
		}
	}
	// Disabling takes effect at once, also for a password in the cache.
	if err := db.DisableUser(ctx, "ani"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.AuthenticateUser(ctx, "ani", goodPassword); !errors.Is(err, ErrUserDisabled) {
		t.Errorf("cached password of a user disabled since: %v", err)
	}
}

// The cache of right passwords: it saves the hash on the next request,
// it never lets a wrong password in after a right one, and a changed
// hash (the user added again with another password) voids it.
func TestPasswordCache(t *testing.T) {
	ctx := context.Background()
	db := open(t, t.TempDir())
	if _, err := db.AddUser(ctx, User{Name: "ani", Role: RoleViewer}, goodPassword); err != nil {
		t.Fatal(err)
	}
	a := newAuthenticator(t, db)
	if _, err := a.AuthenticateUser(ctx, "ani", goodPassword); err != nil {
		t.Fatal(err)
	}
	if _, ok := a.pwCache["ani"]; !ok {
		t.Fatal("a right password is not cached")
	}
	// With both argon2 slots taken, a cached password is still checked
	// (no hash runs).
	a.argon <- struct{}{}
	a.argon <- struct{}{}
	if _, err := a.AuthenticateUser(ctx, "ani", goodPassword); err != nil {
		t.Fatalf("cached password with the hash slots busy: %v", err)
	}
	<-a.argon
	<-a.argon
	for range 2 {
		if _, err := a.AuthenticateUser(ctx, "ani", otherPassword); !errors.Is(err, ErrBadPassword) {
			t.Fatalf("wrong password after a right one: %v", err)
		}
		if _, err := a.AuthenticateUser(ctx, "ani", goodPassword); err != nil {
			t.Fatalf("right password after a wrong one: %v", err)
		}
	}
	// The user is added again with another password (the CLI deletes and
	// adds; here the row's hash is replaced as that would).
	h, err := HashPassword(otherPassword)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.sql.ExecContext(ctx, `UPDATE users SET password_hash = ? WHERE name = ?`, h, "ani"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.AuthenticateUser(ctx, "ani", goodPassword); !errors.Is(err, ErrBadPassword) {
		t.Fatalf("the old password, cached, after the hash changed: %v, want ErrBadPassword", err)
	}
	if _, err := a.AuthenticateUser(ctx, "ani", otherPassword); err != nil {
		t.Fatalf("the new password: %v", err)
	}
}

func TestCheckPasswordParameters(t *testing.T) {
	h, err := HashPassword(goodPassword)
	if err != nil {
		t.Fatal(err)
	}
	if !checkPassword(h, goodPassword) || checkPassword(h, otherPassword) {
		t.Fatal("checkPassword wrong on a real hash")
	}
	parts := strings.Split(h, "$")
	with := func(params string) string { p := slices.Clone(parts); p[3] = params; return strings.Join(p, "$") }
	for _, params := range []string{
		"m=19456,t=0,p=1",       // argon2 panics on 0 passes
		"m=19456,t=2,p=0",       // and on 0 lanes
		"m=4294967295,t=2,p=1",  // 4 TiB
		"m=262145,t=2,p=1",      // just above the bound
		"m=19456,t=17,p=1",      // too many passes
		"m=19456,t=2,p=9",       // too many lanes
		"m=19456,t=2,p=256",     // not a uint8
		"m=-1,t=2,p=1",          // negative
		"m=99999999999,t=2,p=1", // not a uint32
		"m=19456,t=2",
	} {
		if _, ok := parsePHC(with(params)); ok {
			t.Errorf("%s accepted", params)
		}
		if checkPassword(with(params), goodPassword) {
			t.Errorf("%s: password accepted", params)
		}
	}
	for _, bad := range []string{"", "$", h[1:], "x" + h, strings.Replace(h, "argon2id", "argon2i", 1), strings.Replace(h, "v=19", "v=16", 1),
		h + "$", strings.Join(append(slices.Clone(parts[:5]), ""), "$")} {
		if checkPassword(bad, goodPassword) {
			t.Errorf("%q accepted", bad)
		}
	}
}
