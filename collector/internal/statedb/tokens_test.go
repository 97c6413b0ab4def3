package statedb

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestAPITokens(t *testing.T) {
	ctx := context.Background()
	db := open(t, t.TempDir())
	a := newAuthenticator(t, db)
	for _, c := range []struct {
		name, role string
		opds       []string
		want       error
	}{
		{"grafana", "root", nil, ErrBadRole},
		{"grafana", RoleAgent, nil, ErrBadRole}, // agent tokens come from CreateToken
		{"grafana", "", nil, ErrBadRole},
		{"grafana", RoleViewer, []string{"din kes"}, ErrBadAgentID},
		{"graf ana", RoleViewer, nil, ErrBadAgentID},
	} {
		if _, _, err := db.CreateAPIToken(ctx, c.name, c.role, c.opds, time.Time{}, ""); !errors.Is(err, c.want) {
			t.Errorf("%s %s %v: %v, want %v", c.name, c.role, c.opds, err, c.want)
		}
	}

	tok, rec, err := db.CreateAPIToken(ctx, "grafana-dinkes", RoleViewer, []string{"dinkes", "dishub"}, time.Now().Add(90*24*time.Hour), "dashboards")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tok, "pantau_"+rec.ID+"_") || len(tok) != len("pantau_")+16+1+52 {
		t.Fatalf("token %q", tok)
	}
	id, err := a.Authenticate(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	want := Identity{TokenID: rec.ID, Role: RoleViewer, Name: "grafana-dinkes", OPDs: []string{"dinkes", "dishub"}}
	if id.TokenID != want.TokenID || id.Role != want.Role || id.Name != want.Name || !slices.Equal(id.OPDs, want.OPDs) || id.Agent != "" || id.User != "" {
		t.Errorf("identity %+v, want %+v", id, want)
	}
	// After a reload (from the table, not the insert) the same.
	if err := a.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if id2, err := a.Authenticate(ctx, tok); err != nil || id2.Name != id.Name || !slices.Equal(id2.OPDs, id.OPDs) || id2.Role != id.Role {
		t.Errorf("after reload: %+v %v", id2, err)
	}
	// A wrong secret for the right id, and the secret of another id.
	wrong := tok[:len(tok)-1] + map[bool]string{true: "b", false: "a"}[tok[len(tok)-1] == 'a']
	if _, err := a.Authenticate(ctx, wrong); !errors.Is(err, ErrUnknownToken) {
		t.Errorf("wrong secret: %v", err)
	}

	// Expiry, backdated rather than waited for.
	old, _, err := db.CreateAPIToken(ctx, "old", RoleAdmin, nil, time.Now().Add(-time.Minute), "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Authenticate(ctx, old); !errors.Is(err, ErrExpiredToken) {
		t.Errorf("expired token: %v, want ErrExpiredToken", err)
	}
	if err := a.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Authenticate(ctx, old); !errors.Is(err, ErrExpiredToken) {
		t.Errorf("expired token after reload: %v, want ErrExpiredToken", err)
	}
	// Revoked wins over expired; a revoked API token is refused at once
	// after a reload.
	if err := db.RevokeToken(ctx, rec.ID); err != nil {
		t.Fatal(err)
	}
	if err := a.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Authenticate(ctx, tok); !errors.Is(err, ErrRevokedToken) {
		t.Errorf("revoked: %v", err)
	}
}

// Agents lists agents with an active agent token: not API tokens' names,
// not agents whose tokens are all revoked.
func TestAgentsListsOnlyAgentTokens(t *testing.T) {
	ctx := context.Background()
	db := open(t, t.TempDir())
	for _, agent := range []string{"a-dinkes", "a-dinkes", "a-dishub", "a-gone"} {
		if _, _, err := db.CreateToken(ctx, agent, nil, ""); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.RevokeAgent(ctx, "a-gone"); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"grafana", "a-api"} {
		if _, _, err := db.CreateAPIToken(ctx, name, RoleViewer, nil, time.Time{}, ""); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.AddUser(ctx, User{Name: "a-user", Role: RoleAdmin}, goodPassword); err != nil {
		t.Fatal(err)
	}
	a := newAuthenticator(t, db)
	got := a.Agents()
	slices.Sort(got)
	if want := []string{"a-dinkes", "a-dishub"}; !slices.Equal(got, want) {
		t.Errorf("Agents() = %q, want %q", got, want)
	}
}
