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
	want := []uint8{0, sla.BitUp | sla.BitDown, 0, 0, sla.BitDown, 0}
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

func TestPackUnpack(t *testing.T) {
	var a, b [sla.MinutesPerDay]uint8
	for i := range a {
		a[i] = uint8(i*7) & 0x07
	}
	unpack(pack(&a), &b)
	if a != b {
		t.Fatal("pack/unpack does not round-trip")
	}
	unpack(a[:], &b) // the one-byte-per-minute rows of schema 2
	if a != b {
		t.Fatal("unpacked rows are not read as they are")
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
