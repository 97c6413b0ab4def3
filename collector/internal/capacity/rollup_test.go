package capacity

import (
	"math/rand/v2"
	"testing"
	"time"
)

// A month of 60 s samples with gaps and noise gives the same figures from
// day rollups (stored and read back) as from the samples themselves.
func TestRollupsMatchCompute(t *testing.T) {
	wit := time.FixedZone("WIT", 9*3600)
	start := time.Date(2026, 10, 1, 0, 0, 0, 0, wit)
	end := start.AddDate(0, 1, 0)
	rng := rand.New(rand.NewPCG(7, 9))
	var samples []Sample
	for tm := start.Add(-time.Hour); tm.Before(end.Add(time.Hour)); tm = tm.Add(time.Minute) {
		if tm.Day() == 12 && tm.Hour() < 3 { // a polling gap
			continue
		}
		h := float64(tm.In(wit).Hour())
		v := 1e6*float64(tm.Sub(start)/(24*time.Hour)) + 3e7 + 2e7*h/23 + rng.Float64()*1e6
		samples = append(samples, Sample{T: tm.UnixMilli(), V: v})
	}
	o := Options{Start: start, End: end, Location: wit, CapacityBps: 1e8}
	want := Compute(samples, o)

	d0 := start.UnixMilli() / dayMs
	d1 := (end.UnixMilli() - 1) / dayMs
	var rs []*Rollup
	for d := d0; d <= d1; d++ {
		r := RollupDay(samples, d, time.Minute)
		b, err := r.MarshalBinary()
		if err != nil || len(b) != RollupSize {
			t.Fatalf("marshal: %v, %d bytes", err, len(b))
		}
		var back Rollup
		if err := back.UnmarshalBinary(b); err != nil {
			t.Fatal(err)
		}
		if back != *r {
			t.Fatalf("day %d does not round-trip", d)
		}
		rs = append(rs, &back)
	}
	got := ComputeRollups(rs, o)
	// exact: counts, peak, percentiles, busy hour, forecast day
	if got.Samples != want.Samples || got.PeakBps != want.PeakBps || got.P95Bps != want.P95Bps ||
		got.BusyHour != want.BusyHour || got.Forecast80 != want.Forecast80 || got.ForecastKnown != want.ForecastKnown {
		t.Errorf("rollups:\n got %+v\nwant %+v", got, want)
	}
	// sums in another order: equal to 1e-12
	for name, g := range map[string][2]float64{
		"mean": {got.MeanBps, want.MeanBps}, "volume": {got.VolumeBytes, want.VolumeBytes},
		"trend": {got.TrendBpsPerDay, want.TrendBpsPerDay}, "busy mean": {got.BusyHourMeanBps, want.BusyHourMeanBps},
	} {
		if d := (g[0] - g[1]) / g[1]; d > 1e-12 || d < -1e-12 {
			t.Errorf("%s: rollups %v, samples %v", name, g[0], g[1])
		}
	}
	if (&Rollup{}).UnmarshalBinary(make([]byte, 10)) == nil {
		t.Error("a short rollup was accepted")
	}
}
