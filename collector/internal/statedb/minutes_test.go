package statedb

import (
	"context"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/sla"
)

// Minute marks survive a reopen, merge by OR in any order, and a replay
// writes nothing new.
func TestMinutesMergeAndReopen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	m0 := sla.MinuteOf(time.Date(2026, 10, 31, 23, 58, 0, 0, time.UTC).UnixNano())
	marks := []sla.Mark{
		{Kind: sla.KindLink, ID: "a", Minute: m0, Bits: sla.BitUp},
		{Kind: sla.KindLink, ID: "a", Minute: m0 + 3, Bits: sla.BitDown}, // next UTC day
		{Kind: sla.KindLink, ID: "a", Minute: m0, Bits: sla.BitDown},
		{Kind: sla.KindSite, ID: "s", Minute: m0 + 1, Bits: sla.BitSeen},
	}
	mins := db.Minutes()
	for i := len(marks) - 1; i >= 0; i-- { // reverse order
		if err := mins.Merge(ctx, marks[i:i+1]); err != nil {
			t.Fatal(err)
		}
	}
	if err := mins.Merge(ctx, marks); err != nil { // replay
		t.Fatal(err)
	}
	db.Close()
	db, err = Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	got, err := db.Minutes().Range(ctx, sla.KindLink, "a", m0-1, 6)
	if err != nil {
		t.Fatal(err)
	}
	want := []uint16{0, sla.BitUp | sla.BitDown, 0, 0, sla.BitDown, 0}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("minutes %v, want %v", got, want)
		}
	}
	if sla.DataState(got[1]) != sla.Degraded || sla.DataState(got[4]) != sla.Down {
		t.Errorf("states %s %s", sla.DataState(got[1]), sla.DataState(got[4]))
	}
	d, _ := sla.DayOf(m0)
	ids, err := db.Minutes().LinksWithData(ctx, d, d)
	if err != nil || !ids["a"] || len(ids) != 1 {
		t.Errorf("links with data %v %v", ids, err)
	}
}

// A legacy 720-byte row stored by an older collector keeps reading, and a
// new round ORed into it by SQL keeps both.
func TestLegacyRowMerge(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	m0 := sla.MinuteOf(time.Date(2026, 10, 5, 0, 0, 0, 0, time.UTC).UnixNano())
	day, _ := sla.DayOf(m0)
	old := make([]byte, sla.MinutesPerDay/2)
	old[0] = byte(sla.BitDown) | byte(sla.BitUp)<<4 // minutes 0 and 1
	if _, err := db.sql.ExecContext(ctx, `INSERT INTO minutes (kind, id, day, states) VALUES (?, ?, ?, ?)`, sla.KindLink, "l", day, old); err != nil {
		t.Fatal(err)
	}
	round := sla.RoundMark(sla.KindLink, "l", (m0+2)*60e9+35e9, sla.BitDown)
	if err := db.Minutes().Merge(ctx, []sla.Mark{round}); err != nil {
		t.Fatal(err)
	}
	got, err := db.Minutes().Range(ctx, sla.KindLink, "l", m0, 3)
	if err != nil {
		t.Fatal(err)
	}
	if want := []uint16{sla.BitDown, sla.BitUp, sla.BitDown | sla.BitSlotDown<<3}; got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Errorf("minutes %b, want %b", got, want)
	}
}

// Two handles on one file (the daemon and `sla rebuild`) merging into the
// same day never lose each other's bits, although each caches the day.
func TestMinutesTwoWriters(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	a, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	m0 := sla.MinuteOf(time.Date(2026, 10, 5, 3, 0, 0, 0, time.UTC).UnixNano())
	ma, mb := a.Minutes(), b.Minutes()
	if err := ma.Merge(ctx, []sla.Mark{{Kind: sla.KindLink, ID: "l", Minute: m0, Bits: sla.BitUp}}); err != nil {
		t.Fatal(err)
	}
	if err := mb.Merge(ctx, []sla.Mark{{Kind: sla.KindLink, ID: "l", Minute: m0 + 1, Bits: sla.BitDown}}); err != nil {
		t.Fatal(err)
	}
	// a's cache does not know b's minute; its next write must keep it
	if err := ma.Merge(ctx, []sla.Mark{{Kind: sla.KindLink, ID: "l", Minute: m0 + 2, Bits: sla.BitDegraded}}); err != nil {
		t.Fatal(err)
	}
	got, err := b.Minutes().Range(ctx, sla.KindLink, "l", m0, 3)
	if err != nil {
		t.Fatal(err)
	}
	if got[0] != sla.BitUp || got[1] != sla.BitDown || got[2] != sla.BitDegraded {
		t.Errorf("minutes %v: a write lost another handle's bits", got)
	}
}
