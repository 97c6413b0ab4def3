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

// Days round-trip through both stored formats, the runs where they are
// shorter and the raw array where they are not.
func TestEncodeDecode(t *testing.T) {
	var a, b [sla.MinutesPerDay]uint16
	for _, c := range []struct {
		name string
		fill func(i int) uint16
		max  int // longest encoding allowed
	}{
		{"empty", func(int) uint16 { return 0 }, 4},
		{"10-s rounds all day", func(int) uint16 { return sla.BitUp | sla.SlotBits&^(sla.BitSlotDown*0x3f) }, 6},
		{"half a day, then nodata", func(i int) uint16 { return uint16(min(i/720, 1)) * sla.BitSeen }, 8},
		{"a partial minute every 10", func(i int) uint16 {
			if i%10 == 0 {
				return sla.BitUp | sla.BitDown | sla.BitSlotDown | sla.BitSlotGood<<3
			}
			return sla.BitUp | sla.BitSlotGood | sla.BitSlotGood<<3
		}, 1000},
		{"every minute different", func(i int) uint16 { return uint16(i*7919) | 1 }, rawLen},
	} {
		for i := range a {
			a[i] = c.fill(i)
		}
		enc := encode(&a)
		if len(enc) > c.max {
			t.Errorf("%s: %d bytes, want at most %d", c.name, len(enc), c.max)
		}
		decode(enc, &b)
		if a != b {
			t.Errorf("%s: does not round-trip", c.name)
		}
	}
}

// Rows of the formats before slots read as their class bits: one byte a
// minute (schema 2) and two minutes a byte (720 bytes).
func TestDecodeLegacyRows(t *testing.T) {
	var want, got [sla.MinutesPerDay]uint16
	bytes1 := make([]byte, sla.MinutesPerDay)
	nibbles := make([]byte, sla.MinutesPerDay/2)
	for i := range want {
		v := uint8(i*7) & 0x07
		want[i] = uint16(v)
		bytes1[i] = v
		nibbles[i/2] |= v << (4 * (i % 2))
	}
	decode(bytes1, &got)
	if got != want {
		t.Error("one-byte-per-minute rows are not read as they are")
	}
	decode(nibbles, &got)
	if got != want {
		t.Error("packed 720-byte rows are not read as they are")
	}
	// a legacy down minute is six down slots, any other none
	if s := sla.SlotStates([]uint16{got[4], got[7]}, nil); s[0] != sla.Uniform(sla.Down) || s[1] != sla.Uniform(sla.Up) {
		t.Errorf("legacy minutes %b %b give slots %x %x", got[4], got[7], s[0], s[1])
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
