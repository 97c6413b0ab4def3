package statedb

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// TestBatchesBoundedPerAgent: UpdateBatches deletes what the collector
// evicted in the same transaction; TrimBatches keeps each agent's newest
// ids within the byte bound whatever was recorded.
func TestBatchesBoundedPerAgent(t *testing.T) {
	ctx := context.Background()
	db := open(t, t.TempDir())
	t0 := time.Now().Add(-time.Hour).Truncate(time.Second)
	var add []BatchKey
	for i := range 100 {
		add = append(add, BatchKey{"flood", fmt.Sprintf("flood/%03d", i)})
	}
	if err := db.UpdateBatches(ctx, add[:50], nil, t0); err != nil {
		t.Fatal(err)
	}
	if err := db.UpdateBatches(ctx, add[50:], add[:40], t0.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := db.RecordBatches(ctx, []BatchKey{{"good", "good/1"}}, t0); err != nil {
		t.Fatal(err)
	}
	count := func() map[string]int {
		n := map[string]int{}
		if err := db.LoadBatches(ctx, t0.Add(-time.Hour), func(k BatchKey, _ time.Time) { n[k.Agent]++ }); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(); n["flood"] != 60 || n["good"] != 1 {
		t.Fatalf("after update: %v", n)
	}
	// 9 bytes + 91 overhead = 100 per id: 10 ids fit in 1000 bytes
	n, err := db.TrimBatches(ctx, 1000, 91)
	if err != nil || n != 50 {
		t.Fatalf("trimmed %d, %v; want 50", n, err)
	}
	var kept []string
	db.LoadBatches(ctx, t0.Add(-time.Hour), func(k BatchKey, _ time.Time) {
		if k.Agent == "flood" {
			kept = append(kept, k.Batch)
		}
	})
	if len(kept) != 10 {
		t.Fatalf("kept %v, want the newest ten", kept)
	}
	for _, b := range kept {
		if b < "flood/090" {
			t.Fatalf("kept %v, want the newest ten", kept)
		}
	}
	if c := count(); c["good"] != 1 {
		t.Fatalf("another agent's id trimmed: %v", c)
	}
}
