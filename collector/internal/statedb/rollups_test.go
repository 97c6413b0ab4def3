package statedb

import (
	"context"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/capacity"
)

// Rollups are stored per link, direction and day, replaced when a day is
// recomputed, read back in day order for a day range, and pruned by age.
func TestRollupsStoreReplacePrune(t *testing.T) {
	ctx := context.Background()
	db := open(t, t.TempDir())
	const day0 = 20400 // 2025-11-09
	day := func(d int64, v float64) *capacity.Rollup {
		return capacity.RollupDay([]capacity.Sample{{T: d*86400000 + 60000, V: v}}, d, time.Minute)
	}
	now := time.Unix(day0*86400, 0)
	if err := db.PutRollups(ctx, "l1", DirReceive, []*capacity.Rollup{day(day0+2, 3), day(day0, 1), day(day0+1, 2)}, now); err != nil {
		t.Fatal(err)
	}
	if err := db.PutRollups(ctx, "l1", DirTransmit, []*capacity.Rollup{day(day0, 10)}, now); err != nil {
		t.Fatal(err)
	}
	if err := db.PutRollups(ctx, "l2", DirReceive, []*capacity.Rollup{day(day0, 99)}, now); err != nil {
		t.Fatal(err)
	}
	// day0+1 recomputed with late data
	if err := db.PutRollups(ctx, "l1", DirReceive, []*capacity.Rollup{day(day0+1, 20)}, now); err != nil {
		t.Fatal(err)
	}
	rx, tx, err := db.Rollups(ctx, "l1", day0, day0+1, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rx) != 2 || rx[0].Day != day0 || rx[1].Day != day0+1 || rx[0].Sum[0] != 1 || rx[1].Sum[0] != 20 {
		t.Fatalf("rx = %d rollups %+v", len(rx), rx)
	}
	if len(tx) != 1 || tx[0].Sum[0] != 10 {
		t.Fatalf("tx = %d rollups", len(tx))
	}
	if err := db.PruneRollups(ctx, time.Unix((day0+1)*86400, 0)); err != nil {
		t.Fatal(err)
	}
	rx, tx, err = db.Rollups(ctx, "l1", 0, day0+10, append(rx, tx...))
	if err != nil {
		t.Fatal(err)
	}
	if len(rx) != 2 || rx[0].Day != day0+1 || len(tx) != 0 {
		t.Fatalf("after prune: rx %d (first day %d), tx %d", len(rx), rx[0].Day, len(tx))
	}
	if rx, _, _ := db.Rollups(ctx, "l2", 0, day0+10, nil); len(rx) != 0 {
		t.Fatalf("l2 after prune: %d", len(rx))
	}
}
