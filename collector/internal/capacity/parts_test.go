package capacity

import (
	"math/rand/v2"
	"testing"
	"time"
)

// TestComputeRollupsParts: each month's samples and P95 from the
// quarter's single pass are exactly those of ComputeRollups over that
// month alone, and the quarter's figures are ComputeRollups' own: WIT
// months (starting at 15:00 UTC the day before), rollups out of day
// order, days without samples, random rates.
func TestComputeRollupsParts(t *testing.T) {
	wit := time.FixedZone("WIT", 9*3600)
	start := time.Date(2026, 7, 1, 0, 0, 0, 0, wit)
	end := time.Date(2026, 10, 1, 0, 0, 0, 0, wit)
	rng := rand.New(rand.NewPCG(3, 4))
	var rs []*Rollup
	for d := start.Unix()/86400 - 1; d <= end.Unix()/86400; d++ {
		if rng.IntN(10) == 0 {
			continue // a day without samples
		}
		var s []Sample
		for m := int64(0); m < 1440; m += 1 + int64(rng.IntN(15)) {
			s = append(s, Sample{T: (d*86400 + m*60) * 1000, V: rng.Float64() * 1e8})
		}
		rs = append(rs, RollupDay(s, d, 0))
	}
	rng.Shuffle(len(rs), func(i, j int) { rs[i], rs[j] = rs[j], rs[i] })
	o := Options{Start: start, End: end, Location: wit, CapacityBps: 1e8}
	var parts []Part
	for m := start; m.Before(end); m = m.AddDate(0, 1, 0) {
		parts = append(parts, Part{Start: m, End: m.AddDate(0, 1, 0)})
	}
	st, got := ComputeRollupsParts(append([]*Rollup(nil), rs...), o, parts)
	if want := ComputeRollups(append([]*Rollup(nil), rs...), o); st != want {
		t.Errorf("quarter %+v, want %+v", st, want)
	}
	if len(got) != 3 {
		t.Fatalf("%d parts", len(got))
	}
	for _, p := range got {
		w := ComputeRollups(append([]*Rollup(nil), rs...), Options{Start: p.Start, End: p.End, Location: wit, CapacityBps: 1e8})
		if p.Samples != w.Samples || p.P95Bps != w.P95Bps || w.Samples == 0 {
			t.Errorf("month %s: %d samples, p95 %v; want %d, %v", p.Start.Format("2006-01"), p.Samples, p.P95Bps, w.Samples, w.P95Bps)
		}
	}
}
