package statedb

import (
	"context"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/sla"
)

// TestRangeIntoMatchesMemStore: RangeInto into a dirty reused buffer
// gives what MemStore's Range gives for the same marks, for ranges that
// start and end mid-day, cover missing days, or lie outside the data.
func TestRangeIntoMatchesMemStore(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rng := rand.New(rand.NewPCG(1, 7))
	m0 := sla.MinuteOf(time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	var marks []sla.Mark
	for d := range 6 {
		if d == 2 {
			continue // a day without a row
		}
		v := uint16(rng.IntN(1 << 16))
		for m := range sla.MinutesPerDay {
			if rng.IntN(50) == 0 {
				v = uint16(rng.IntN(1 << 16))
			}
			if v != 0 && (d != 4 || rng.IntN(3) == 0) { // day 4 sparse
				marks = append(marks, sla.Mark{Kind: sla.KindLink, ID: "l", Minute: m0 + int64(d*sla.MinutesPerDay+m), Bits: v})
			}
		}
	}
	mem := sla.NewMemStore()
	if err := mem.Merge(ctx, marks); err != nil {
		t.Fatal(err)
	}
	if err := db.Minutes().Merge(ctx, marks); err != nil {
		t.Fatal(err)
	}
	buf := make([]uint16, 0, 8*sla.MinutesPerDay)
	for range 200 {
		from := m0 + int64(rng.IntN(8*sla.MinutesPerDay)) - sla.MinutesPerDay
		n := rng.IntN(3 * sla.MinutesPerDay)
		buf = buf[:n]
		for i := range buf {
			buf[i] = uint16(rng.Uint32()) // the previous series' leftovers
		}
		if err := db.Minutes().RangeInto(ctx, sla.KindLink, "l", from, buf); err != nil {
			t.Fatal(err)
		}
		want, _ := mem.Range(ctx, sla.KindLink, "l", from, n)
		if !slices.Equal(buf, want) {
			t.Fatalf("RangeInto(%d, %d) differs from MemStore", from-m0, n)
		}
	}
}
