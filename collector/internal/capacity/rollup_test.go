package capacity

import (
	"math"
	"math/rand/v2"
	"strings"
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
	var rs, mem []*Rollup
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
		if again, _ := back.MarshalBinary(); string(again) != string(b) {
			t.Fatalf("day %d does not round-trip", d)
		}
		mem = append(mem, r)
		rs = append(rs, &back)
	}
	// in memory: exact for counts, peak, percentiles, busy hour, forecast
	// day; sums in another order equal to 1e-12
	got := ComputeRollups(mem, o)
	if got.Samples != want.Samples || got.PeakBps != want.PeakBps || got.P95Bps != want.P95Bps ||
		got.BusyHour != want.BusyHour || got.Forecast80 != want.Forecast80 || got.ForecastKnown != want.ForecastKnown {
		t.Errorf("rollups:\n got %+v\nwant %+v", got, want)
	}
	near := func(what string, got Stats, tol float64) {
		for name, g := range map[string][2]float64{
			"mean": {got.MeanBps, want.MeanBps}, "volume": {got.VolumeBytes, want.VolumeBytes},
			"trend": {got.TrendBpsPerDay, want.TrendBpsPerDay}, "busy mean": {got.BusyHourMeanBps, want.BusyHourMeanBps},
			"p95": {got.P95Bps, want.P95Bps}, "peak": {got.PeakBps, want.PeakBps},
		} {
			if d := (g[0] - g[1]) / g[1]; d > tol || d < -tol {
				t.Errorf("%s %s: rollups %v, samples %v", what, name, g[0], g[1])
			}
		}
	}
	near("in memory", got, 1e-12)
	// stored (float32): to 1e-6, the same samples and busy hour
	stored := ComputeRollups(rs, o)
	near("stored", stored, 1e-6)
	if stored.Samples != want.Samples || stored.BusyHour != want.BusyHour || stored.ForecastKnown != want.ForecastKnown ||
		stored.Forecast80.Sub(want.Forecast80).Abs() > 24*time.Hour {
		t.Errorf("stored rollups:\n got %+v\nwant %+v", stored, want)
	}
	if (&Rollup{}).UnmarshalBinary(make([]byte, 10)) == nil {
		t.Error("a short rollup was accepted")
	}
}

// FuzzRollupUnmarshal: any bytes either decode to a rollup whose figures
// are usable (and encode back to the same bytes) or give an error.
func FuzzRollupUnmarshal(f *testing.F) {
	r := RollupDay([]Sample{{T: 86400000*20000 + 60000, V: 1e6}, {T: 86400000*20000 + 120000, V: 2e6}}, 20000, time.Minute)
	good, _ := r.MarshalBinary()
	f.Add(good)
	f.Add(good[:len(good)-1])
	f.Add([]byte{})
	bad := append([]byte(nil), good...)
	for i := 8; i < 16; i++ {
		bad[i] = 0xff // a NaN 5-minute sum
	}
	f.Add(bad)
	f.Fuzz(func(t *testing.T, b []byte) {
		var r Rollup
		if err := r.UnmarshalBinary(b); err != nil {
			return
		}
		for i, v := range r.Sum {
			if !valid(v) || (r.N[i] == 0 && v != 0) {
				t.Fatalf("bucket %d accepted with sum %v, n %d", i, v, r.N[i])
			}
		}
		back, _ := r.MarshalBinary()
		if string(back) != string(b) {
			t.Fatal("decoded rollup does not encode to the same bytes")
		}
		st := ComputeRollups([]*Rollup{&r}, Options{Start: time.UnixMilli(r.Day * dayMs), End: time.UnixMilli((r.Day + 1) * dayMs), CapacityBps: 1e8})
		if math.IsNaN(st.MeanBps) || math.IsNaN(st.P95Bps) || st.MeanBps < 0 {
			t.Fatalf("figures from an accepted rollup: %+v", st)
		}
	})
}

func TestRollupUnmarshalRejects(t *testing.T) {
	r := RollupDay([]Sample{{T: 86400000*20000 + 60000, V: 1e6}}, 20000, time.Minute)
	good, _ := r.MarshalBinary()
	if err := new(Rollup).UnmarshalBinary(good[:10]); err == nil {
		t.Error("short rollup accepted")
	}
	bad := append([]byte(nil), good...)
	for i := 8; i < 16; i++ {
		bad[i] = 0xff
	}
	if err := new(Rollup).UnmarshalBinary(bad); err == nil || !strings.Contains(err.Error(), "bucket 0") {
		t.Errorf("NaN sum: err = %v", err)
	}
	var back Rollup
	if err := back.UnmarshalBinary(good); err != nil || back.Sum[0] != 1e6 || back.N[0] != 1 || back.N[1] != 0 || back.Max[0] != 1e6 || back.Max[1] != -1 {
		t.Errorf("round trip: %v, %+v", err, back)
	}
}
