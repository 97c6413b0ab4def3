package statedb

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func open(t *testing.T, dir string) *DB {
	t.Helper()
	db, err := Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestTokenLifecycle(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := open(t, dir)
	auth, err := NewAuthenticator(ctx, db, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go auth.Watch(wctx, 10*time.Millisecond)

	// A second handle, as the CLI would open while the daemon runs.
	cli := open(t, dir)
	tok, rec, err := cli.CreateToken(ctx, "agent-dinkes", []string{"dinkes"}, "rack 2")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tok, "pantau_"+rec.ID+"_") {
		t.Fatalf("token %q does not carry id %q", tok, rec.ID)
	}
	id, err := auth.Authenticate(ctx, tok)
	if err != nil {
		t.Fatalf("new token not accepted at once: %v", err)
	}
	if id.Agent != "agent-dinkes" || len(id.Sites) != 1 || id.Sites[0] != "dinkes" {
		t.Fatalf("identity = %+v", id)
	}

	// Same id, wrong secret; garbage; empty.
	last := byte('a')
	if tok[len(tok)-1] == 'a' {
		last = 'b'
	}
	forged := tok[:len(tok)-1] + string(last)
	for _, bad := range []string{forged, "pantau_x_y", "", tok + "x"} {
		if _, err := auth.Authenticate(ctx, bad); !errors.Is(err, ErrUnknownToken) && !errors.Is(err, ErrBadToken) {
			t.Errorf("Authenticate(%q) error = %v", bad, err)
		}
	}

	// The stored row holds no secret.
	list, err := cli.ListTokens(ctx)
	if err != nil || len(list) != 1 {
		t.Fatalf("list = %v, %v", list, err)
	}
	secret := tok[strings.LastIndexByte(tok, '_')+1:]
	if strings.Contains(string(list[0].hash), secret) {
		t.Fatal("secret stored in clear")
	}

	if err := cli.RevokeToken(ctx, rec.ID); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := auth.Authenticate(ctx, tok)
		if errors.Is(err, ErrRevokedToken) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("revocation not seen by the running authenticator: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := cli.RevokeToken(ctx, "nosuchid"); !errors.Is(err, ErrTokenNotFound) {
		t.Errorf("revoke unknown = %v", err)
	}
}

func TestCreateTokenValidatesIDs(t *testing.T) {
	db := open(t, t.TempDir())
	for _, bad := range []string{"", "-x", "a b", strings.Repeat("a", 129), "a/b"} {
		if _, _, err := db.CreateToken(context.Background(), bad, nil, ""); !errors.Is(err, ErrBadAgentID) {
			t.Errorf("agent %q: err = %v", bad, err)
		}
	}
	if _, _, err := db.CreateToken(context.Background(), "ok", []string{"bad site"}, ""); !errors.Is(err, ErrBadAgentID) {
		t.Errorf("bad site: err = %v", err)
	}
}

func TestRevokeAgent(t *testing.T) {
	ctx := context.Background()
	db := open(t, t.TempDir())
	for range 2 {
		if _, _, err := db.CreateToken(ctx, "a1", nil, ""); err != nil {
			t.Fatal(err)
		}
	}
	db.CreateToken(ctx, "a2", nil, "")
	n, err := db.RevokeAgent(ctx, "a1")
	if err != nil || n != 2 {
		t.Fatalf("RevokeAgent = %d, %v", n, err)
	}
}

func TestBatchesPersistAndPrune(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := open(t, dir)
	old := time.Now().Add(-48 * time.Hour)
	if err := db.RecordBatches(ctx, []BatchKey{{"a", "a/1"}, {"a", "a/2"}}, old); err != nil {
		t.Fatal(err)
	}
	if err := db.RecordBatches(ctx, []BatchKey{{"a", "a/3"}, {"a", "a/3"}}, time.Now()); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db = open(t, dir) // reopen: persisted, schema already current
	var got []string
	db.LoadBatches(ctx, time.Now().Add(-72*time.Hour), func(k BatchKey, _ time.Time) { got = append(got, k.Batch) })
	if len(got) != 3 {
		t.Fatalf("loaded %v", got)
	}
	n, err := db.PruneBatches(ctx, time.Now().Add(-24*time.Hour))
	if err != nil || n != 2 {
		t.Fatalf("pruned %d, %v", n, err)
	}
}
