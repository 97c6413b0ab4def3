package statedb

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestFleetAgents(t *testing.T) {
	ctx := context.Background()
	db := open(t, t.TempDir())
	t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	clock := t0
	db.SetClock(func() time.Time { return clock })
	a := FleetAgent{Agent: "a1", Site: "s", Version: "1.0.0", ConfigOffered: "abc", ConfigStatus: ConfigApplying, QueuePoints: 10, ClockOffsetSeconds: -1.5}
	if err := db.UpsertFleetAgent(ctx, a); err != nil {
		t.Fatal(err)
	}
	clock = t0.Add(time.Hour)
	a.ConfigApplied, a.ConfigStatus, a.Healthy, a.UpdateState = "abc", ConfigApplied, true, UpdateInstalled
	a.ConfigError = strings.Repeat("x", 10000)
	if err := db.UpsertFleetAgent(ctx, a); err != nil {
		t.Fatal(err)
	}
	got, ok, err := db.FleetAgent(ctx, "a1")
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	if !got.FirstSeen.Equal(t0) || !got.LastSeen.Equal(t0.Add(time.Hour)) || !got.Healthy || got.ConfigApplied != "abc" ||
		got.ClockOffsetSeconds != -1.5 || got.QueuePoints != 10 || got.UpdateState != UpdateInstalled || len(got.ConfigError) != maxFleetText {
		t.Fatalf("got %+v", got)
	}
	if _, ok, _ := db.FleetAgent(ctx, "none"); ok {
		t.Fatal("unknown agent found")
	}
	if err := db.UpsertFleetAgent(ctx, FleetAgent{Agent: "a0", LastSeen: t0}); err != nil {
		t.Fatal(err)
	}
	list, err := db.ListFleetAgents(ctx)
	if err != nil || len(list) != 2 || list[0].Agent != "a0" {
		t.Fatalf("list %+v, %v", list, err)
	}
	if err := db.UpsertFleetAgent(ctx, FleetAgent{Agent: ""}); !errors.Is(err, ErrBadAgentID) {
		t.Fatalf("empty agent: %v", err)
	}
}

func TestFleetOverridesAndRotations(t *testing.T) {
	ctx := context.Background()
	db := open(t, t.TempDir())
	t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	db.SetClock(func() time.Time { return t0 })
	if _, ok, err := db.FleetOverride(ctx, "a1"); ok || err != nil {
		t.Fatal(ok, err)
	}
	if err := db.SetFleetOverride(ctx, "a1", "icmp:\n  count: 5\n", "user admin"); err != nil {
		t.Fatal(err)
	}
	if err := db.SetFleetOverride(ctx, "a1", "icmp:\n  count: 3\n", "user admin"); err != nil {
		t.Fatal(err)
	}
	y, ok, err := db.FleetOverride(ctx, "a1")
	if err != nil || !ok || y != "icmp:\n  count: 3\n" {
		t.Fatalf("%q %v %v", y, ok, err)
	}
	info, _, _ := db.FleetOverrideInfo(ctx, "a1")
	if info.UpdatedBy != "user admin" || !info.UpdatedAt.Equal(t0) {
		t.Fatalf("info %+v", info)
	}
	if err := db.SetFleetOverride(ctx, "a1", strings.Repeat("x", MaxOverrideBytes+1), "u"); !errors.Is(err, ErrOverrideTooLarge) {
		t.Fatalf("too large: %v", err)
	}
	if l, _ := db.ListFleetOverrides(ctx); len(l) != 1 {
		t.Fatalf("list %+v", l)
	}
	if err := db.DeleteFleetOverride(ctx, "a1", "u"); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := db.FleetOverride(ctx, "a1"); ok {
		t.Fatal("override survived its deletion")
	}

	if ok, _ := db.RotationRequested(ctx, "a1"); ok {
		t.Fatal("rotation pending before a request")
	}
	if err := db.RequestRotation(ctx, "a1", "cli root"); err != nil {
		t.Fatal(err)
	}
	db.SetClock(func() time.Time { return t0.Add(time.Hour) })
	if err := db.RequestRotation(ctx, "a1", "cli other"); err != nil {
		t.Fatal(err)
	}
	rs, err := db.PendingRotations(ctx)
	if err != nil || rs["a1"].RequestedBy != "cli root" || !rs["a1"].RequestedAt.Equal(t0) {
		t.Fatalf("pending %+v %v", rs, err)
	}
	if ok, _ := db.RotationRequested(ctx, "a1"); !ok {
		t.Fatal("rotation not pending")
	}
	if err := db.ClearRotation(ctx, "a1"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := db.RotationRequested(ctx, "a1"); ok {
		t.Fatal("rotation pending after clear")
	}
}

func TestCredentialProfiles(t *testing.T) {
	ctx := context.Background()
	db := open(t, t.TempDir())
	sealed := []byte{1, 2, 3, 0, 255}
	if err := db.PutCredentialProfile(ctx, "s", "router", sealed, "cli root"); err != nil {
		t.Fatal(err)
	}
	if err := db.PutCredentialProfile(ctx, "s", "../x", sealed, "cli root"); !errors.Is(err, ErrBadAgentID) {
		t.Fatalf("bad name: %v", err)
	}
	if err := db.PutCredentialProfile(ctx, "s", "empty", nil, "cli root"); err == nil {
		t.Fatal("empty sealed profile stored")
	}
	b, ok, err := db.CredentialProfile(ctx, "s", "router")
	if err != nil || !ok || !bytes.Equal(b, sealed) {
		t.Fatalf("%v %v %v", b, ok, err)
	}
	l, err := db.ListCredentialProfiles(ctx)
	if err != nil || len(l) != 1 || l[0].Name != "router" {
		t.Fatalf("%+v %v", l, err)
	}
	if err := db.DeleteCredentialProfile(ctx, "s", "router", "u"); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteCredentialProfile(ctx, "s", "router", "u"); !errors.Is(err, ErrNoCredentialProfile) {
		t.Fatalf("delete twice: %v", err)
	}
}
