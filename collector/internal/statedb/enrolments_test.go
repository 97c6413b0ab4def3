package statedb

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

var cliActor = AuditEntry{ActorKind: "cli", ActorID: "root", ActorName: "root", Source: "local test", Action: "cli enroll create"}

func TestEnrolmentRedeemOnce(t *testing.T) {
	ctx := context.Background()
	db := open(t, t.TempDir())
	now := time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)
	secret, e, err := db.CreateEnrolment(ctx, EnrolmentSpec{Site: "kec-a", Description: "box 1"}, cliActor, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(secret) != 32 || len(e.ID) != 16 || !e.ExpiresAt.Equal(now.Add(DefaultEnrolmentValidity)) {
		t.Fatalf("secret %q id %q expires %s", secret, e.ID, e.ExpiresAt)
	}
	if st := e.State(now); st != EnrolmentActive {
		t.Fatalf("state %s", st)
	}
	// The secret is not stored.
	list, err := db.ListEnrolments(ctx)
	if err != nil || len(list) != 1 || strings.Contains(string(list[0].hash), secret) {
		t.Fatalf("list %+v, %v", list, err)
	}
	actor := AuditEntry{ActorKind: "anonymous", Action: "POST /api/v1/enroll", Source: "127.0.0.1"}
	// A wrong secret is refused with the one error and leaves the code usable.
	if _, err := db.RedeemEnrolment(ctx, e.ID, strings.Repeat("a", 32), Redemption{Agent: "a1"}, actor, now); !errors.Is(err, ErrEnrolmentInvalid) {
		t.Fatalf("wrong secret: %v", err)
	}
	if _, err := db.RedeemEnrolment(ctx, e.ID, secret, Redemption{}, actor, now); !errors.Is(err, ErrAgentNameNeeded) {
		t.Fatalf("no agent name: %v", err)
	}
	if _, err := db.RedeemEnrolment(ctx, e.ID, secret, Redemption{Agent: "../x"}, actor, now); !errors.Is(err, ErrBadAgentID) {
		t.Fatalf("bad agent name: %v", err)
	}
	got, err := db.RedeemEnrolment(ctx, e.ID, secret, Redemption{Agent: "a1", Hostname: "box1", Version: "1.2.0", Source: "127.0.0.1"}, actor, now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if got.TokenInfo.Agent != "a1" || len(got.TokenInfo.Sites) != 1 || got.TokenInfo.Sites[0] != "kec-a" || !strings.HasPrefix(got.Token, "pantau_"+got.TokenInfo.ID+"_") {
		t.Fatalf("redeemed %+v", got)
	}
	auth, err := NewAuthenticator(ctx, db, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if id, err := auth.Authenticate(ctx, got.Token); err != nil || id.Agent != "a1" || id.Role != RoleAgent {
		t.Fatalf("token from enrolment: %+v, %v", id, err)
	}
	// Used: a second try fails the same way, with the right secret too.
	if _, err := db.RedeemEnrolment(ctx, e.ID, secret, Redemption{Agent: "a2"}, actor, now.Add(2*time.Hour)); !errors.Is(err, ErrEnrolmentInvalid) {
		t.Fatalf("reuse: %v", err)
	}
	e2, _, _ := db.Enrolment(ctx, e.ID)
	if e2.State(now) != EnrolmentUsed || e2.UsedAgent != "a1" || e2.TokenID != got.TokenInfo.ID || e2.UsedFrom != "127.0.0.1" {
		t.Fatalf("after use: %+v", e2)
	}
	if err := db.RevokeEnrolment(ctx, e.ID, cliActor, now); !errors.Is(err, ErrEnrolmentUsed) {
		t.Fatalf("revoke used: %v", err)
	}
	// Every try is on record, without the secret.
	audit, err := db.Audit(ctx, AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var refused, redeemed, created int
	for _, a := range audit {
		if strings.Contains(a.Summary, secret) || strings.Contains(a.Summary, got.Token) {
			t.Fatalf("audit row leaks a secret: %+v", a)
		}
		switch {
		case strings.HasPrefix(a.Summary, "refused"):
			refused++
		case strings.HasPrefix(a.Summary, "redeemed"):
			redeemed++
		case strings.HasPrefix(a.Summary, "enrolment code for site kec-a"):
			created++
		}
	}
	if refused != 4 || redeemed != 1 || created != 1 {
		t.Fatalf("audit: %d refused, %d redeemed, %d created: %+v", refused, redeemed, created, audit)
	}
}

func TestEnrolmentExpiredAndRevoked(t *testing.T) {
	ctx := context.Background()
	db := open(t, t.TempDir())
	now := time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)
	// Backdated: created two days ago, valid one.
	old, eOld, err := db.CreateEnrolment(ctx, EnrolmentSpec{Site: "s", Valid: 24 * time.Hour}, cliActor, now.Add(-48*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if eOld.State(now) != EnrolmentExpired {
		t.Fatalf("state %s", eOld.State(now))
	}
	if _, err := db.RedeemEnrolment(ctx, eOld.ID, old, Redemption{Agent: "a"}, AuditEntry{}, now); !errors.Is(err, ErrEnrolmentInvalid) {
		t.Fatalf("expired: %v", err)
	}
	sec, e, err := db.CreateEnrolment(ctx, EnrolmentSpec{Site: "s"}, cliActor, now)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.RevokeEnrolment(ctx, e.ID, cliActor, now); err != nil {
		t.Fatal(err)
	}
	if err := db.RevokeEnrolment(ctx, e.ID, cliActor, now); err != nil {
		t.Fatalf("revoke twice: %v", err)
	}
	if err := db.RevokeEnrolment(ctx, "nosuchcode", cliActor, now); !errors.Is(err, ErrEnrolmentNotFound) {
		t.Fatalf("revoke unknown: %v", err)
	}
	if _, err := db.RedeemEnrolment(ctx, e.ID, sec, Redemption{Agent: "a"}, AuditEntry{}, now); !errors.Is(err, ErrEnrolmentInvalid) {
		t.Fatalf("revoked: %v", err)
	}
	if _, err := db.RedeemEnrolment(ctx, "nosuchcode", sec, Redemption{Agent: "a"}, AuditEntry{}, now); !errors.Is(err, ErrEnrolmentInvalid) {
		t.Fatalf("unknown: %v", err)
	}
	for _, sp := range []EnrolmentSpec{{Site: ""}, {Site: "s", Agent: "a b"}, {Site: "s", Valid: 31 * 24 * time.Hour}, {Site: "s", Valid: time.Second}} {
		if _, _, err := db.CreateEnrolment(ctx, sp, cliActor, now); err == nil {
			t.Errorf("spec %+v accepted", sp)
		}
	}
}

func TestEnrolmentAgentNames(t *testing.T) {
	ctx := context.Background()
	db := open(t, t.TempDir())
	now := time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)
	if _, _, err := db.CreateToken(ctx, "kec-b-1", []string{"kec-b"}, "by hand"); err != nil {
		t.Fatal(err)
	}
	// A code without a name refuses an agent with an active token, and
	// stays usable.
	sec, e, err := db.CreateEnrolment(ctx, EnrolmentSpec{Site: "kec-b"}, cliActor, now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.RedeemEnrolment(ctx, e.ID, sec, Redemption{Agent: "kec-b-1"}, AuditEntry{}, now); !errors.Is(err, ErrAgentTaken) {
		t.Fatalf("taken name: %v", err)
	}
	if got, err := db.RedeemEnrolment(ctx, e.ID, sec, Redemption{Agent: "kec-b-2"}, AuditEntry{}, now); err != nil || got.Revoked != 0 {
		t.Fatalf("free name after a refusal: %+v, %v", got, err)
	}
	// A code naming the agent replaces it: its name wins over the box's,
	// and the older tokens are revoked.
	sec, e, err = db.CreateEnrolment(ctx, EnrolmentSpec{Site: "kec-b", Agent: "kec-b-1"}, cliActor, now)
	if err != nil {
		t.Fatal(err)
	}
	got, err := db.RedeemEnrolment(ctx, e.ID, sec, Redemption{Agent: "other"}, AuditEntry{}, now)
	if err != nil || got.TokenInfo.Agent != "kec-b-1" || got.Revoked != 1 {
		t.Fatalf("replacement: %+v, %v", got, err)
	}
	toks, _ := db.ListTokens(ctx)
	active := 0
	for _, tk := range toks {
		if tk.Agent == "kec-b-1" && tk.RevokedAt.IsZero() {
			active++
			if tk.ID != got.TokenInfo.ID {
				t.Fatalf("old token still active: %+v", tk)
			}
		}
	}
	if active != 1 {
		t.Fatalf("%d active tokens of kec-b-1", active)
	}
}

// TestEnrolmentConcurrentRedeem: two clients (two handles, as two
// processes would have) redeem one code at once; exactly one wins.
func TestEnrolmentConcurrentRedeem(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := open(t, dir)
	other := open(t, dir)
	now := time.Now()
	for round := range 5 {
		sec, e, err := db.CreateEnrolment(ctx, EnrolmentSpec{Site: "s"}, cliActor, now)
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make([]error, 8)
		for i := range errs {
			h := db
			if i%2 == 1 {
				h = other
			}
			wg.Go(func() {
				_, errs[i] = h.RedeemEnrolment(ctx, e.ID, sec, Redemption{Agent: "c" + string(rune('a'+round)) + string(rune('a'+i))}, AuditEntry{}, now)
			})
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, ErrEnrolmentInvalid):
				t.Fatalf("round %d: unexpected error %v", round, err)
			}
		}
		if won != 1 {
			t.Fatalf("round %d: %d redemptions won", round, won)
		}
	}
	toks, _ := db.ListTokens(ctx)
	if len(toks) != 5 {
		t.Fatalf("%d tokens for 5 codes", len(toks))
	}
}
