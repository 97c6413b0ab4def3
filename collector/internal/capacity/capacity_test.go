package capacity

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
	_ "time/tzdata" // Asia/Jayapura without relying on the host's zoneinfo
)

const (
	mbps = 1e6
	ms5  = int64(5 * 60 * 1000)
)

func jayapura(t testing.TB) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Jayapura")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// tinyStart is the start of the tiny series' period.
var tinyStart = time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)

// tinySeries returns 40 samples in 20 non-empty 5-minute buckets of a
// two-hour period starting at tinyStart (24 buckets, 0..23).
//
// The j-th non-empty bucket (j = 0..19) is bucket k = j for j < 10 and
// k = j + 2 for j >= 10, so buckets 10 and 11 (00:50-01:00) are empty. It
// holds two samples, at 300k s and 300k+150 s from the start, of
// 1000(j+1) - 100 and 1000(j+1) + 100 bps: its average is 1000(j+1).
func tinySeries() []Sample {
	var out []Sample
	for j := range 20 {
		k := int64(j)
		if j >= 10 {
			k += 2
		}
		avg := 1000 * float64(j+1)
		t0 := tinyStart.UnixMilli() + k*ms5
		out = append(out, Sample{T: t0, V: avg - 100}, Sample{T: t0 + 150_000, V: avg + 100})
	}
	return out
}

func tinyOptions() Options {
	return Options{
		Start:       tinyStart,
		End:         tinyStart.Add(2 * time.Hour),
		CapacityBps: 100_000,
	}
}

// tinyWant is computed by hand:
//
//   - Samples: 20 buckets * 2 = 40.
//   - Mean: the two samples of a bucket sum to 2 * 1000(j+1), so the sum of
//     all samples is 2 * 1000 * (1+...+20) = 2 * 1000 * 210 = 420,000, and
//     the mean is 420,000 / 40 = 10,500.
//   - P95: the averages are 1000, 2000, ..., 20000; n = 20, rank =
//     ceil(0.95 * 20) = 19, so P95 = sorted[18] = 19,000.
//   - Peak: the second sample of j = 19, 20,000 + 100 = 20,100.
//   - Busy hour: hour 0 holds buckets 0..11, i.e. j = 0..9 (averages 1000
//     ..10000, mean 5,500); hour 1 holds buckets 12..23, i.e. j = 10..19
//     (averages 11000..20000, mean 15,500). Busy hour 1, mean 15,500.
//   - Step (inferred): 39 gaps, 38 of 150 s and one of 750 s (from 2,850 s,
//     the last sample of bucket 9, to 3,600 s, the first of bucket 12):
//     the median is 150 s. Intervals: the first sample counts Step = 150 s,
//     every other gap is 150 s <= 2*Step except the 750 s one, capped at
//     300 s; that sample is the first of j = 10, 11,000 - 100 = 10,900 bps.
//     Volume = (420,000 * 150 + 10,900 * (300 - 150)) / 8
//     = (63,000,000 + 1,635,000) / 8 = 8,079,375 bytes.
//   - Utilization, capacity 100,000 bps: 0.105, 0.19, 0.201.
//   - Forecast: a single day with data, so no trend.
func tinyWant() Stats {
	return Stats{
		Samples:          40,
		MeanBps:          10_500,
		P95Bps:           19_000,
		PeakBps:          20_100,
		BusyHour:         1,
		BusyHourMeanBps:  15_500,
		VolumeBytes:      8_079_375,
		MeanUtilization:  10_500.0 / 100_000,
		P95Utilization:   19_000.0 / 100_000,
		PeakUtilization:  20_100.0 / 100_000,
		UtilizationKnown: true,
	}
}

func checkStats(t *testing.T, got, want Stats) {
	t.Helper()
	if !got.Forecast80.Equal(want.Forecast80) {
		t.Errorf("Forecast80 = %v, want %v", got.Forecast80, want.Forecast80)
	}
	got.Forecast80, want.Forecast80 = time.Time{}, time.Time{}
	if got != want {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

func TestTinySeries(t *testing.T) {
	checkStats(t, Compute(tinySeries(), tinyOptions()), tinyWant())
}

func TestExplicitStep(t *testing.T) {
	o := tinyOptions()
	o.Step = time.Minute
	got := Compute(tinySeries(), o)
	// Step 60 s, cap 120 s: the first sample (900 bps) counts 60 s, each
	// of the other 39 counts min(gap, 120 s) = 120 s (gaps are 150 s and
	// 750 s). Volume = (900*60 + (420,000 - 900)*120) / 8
	// = (54,000 + 50,292,000) / 8 = 6,293,250 bytes.
	if got.VolumeBytes != 6_293_250 {
		t.Errorf("VolumeBytes = %v, want 6293250", got.VolumeBytes)
	}
}

func TestUnsortedInput(t *testing.T) {
	s := tinySeries()
	slices.Reverse(s)
	checkStats(t, Compute(s, tinyOptions()), tinyWant())
	r := rand.New(rand.NewPCG(1, 2))
	for range 10 {
		r.Shuffle(len(s), func(i, j int) { s[i], s[j] = s[j], s[i] })
		checkStats(t, Compute(s, tinyOptions()), tinyWant())
	}
}

func TestOutOfPeriodIgnored(t *testing.T) {
	o := tinyOptions()
	s := tinySeries()
	s = append(s,
		Sample{T: o.Start.UnixMilli() - 1, V: 1e9},
		Sample{T: o.End.UnixMilli(), V: 1e9}, // End is excluded
		Sample{T: o.End.Add(time.Hour).UnixMilli(), V: 1e9},
		Sample{T: o.Start.Add(-time.Hour).UnixMilli(), V: math.NaN()}, // not counted as rejected
	)
	checkStats(t, Compute(s, o), tinyWant())
}

func TestInvalidRejected(t *testing.T) {
	o := tinyOptions()
	s := tinySeries()
	// Inside the period, in the empty bucket 10 and among the data: they
	// must neither create a bucket nor shorten a gap.
	at := o.Start.UnixMilli() + 10*ms5
	s = append(s,
		Sample{T: at, V: math.NaN()},
		Sample{T: at + 1000, V: math.Inf(1)},
		Sample{T: at + 2000, V: math.Inf(-1)},
		Sample{T: o.Start.UnixMilli() + 60_000, V: -5},
	)
	want := tinyWant()
	want.Rejected = 4
	checkStats(t, Compute(s, o), want)
}

func TestMissingBucketsSkipped(t *testing.T) {
	start := tinyStart
	o := Options{Start: start, End: start.Add(2 * time.Hour)}
	s := []Sample{
		{T: start.UnixMilli(), V: 100},       // bucket 0 (00:00)
		{T: start.UnixMilli() + ms5, V: 200}, // bucket 1 (00:05)
		// buckets 2..11 (00:10-00:59) have no sample
	}
	for k := int64(12); k < 24; k++ { // every bucket of hour 1
		s = append(s, Sample{T: start.UnixMilli() + k*ms5, V: 140})
	}
	got := Compute(s, o)
	// Hour 0: mean of {100, 200} = 150 (counting the 10 empty buckets as
	// zero would give 300/12 = 25). Hour 1: 140. Busy hour 0.
	if got.BusyHour != 0 || got.BusyHourMeanBps != 150 {
		t.Errorf("busy hour = %d (%v), want 0 (150)", got.BusyHour, got.BusyHourMeanBps)
	}
	// 14 averages: rank ceil(13.3) = 14, the largest, 200.
	if got.P95Bps != 200 {
		t.Errorf("P95Bps = %v, want 200", got.P95Bps)
	}
}

func TestBusyHourTimeZone(t *testing.T) {
	loc := jayapura(t)
	start := time.Date(2025, 1, 6, 0, 0, 0, 0, loc) // 2025-01-05 15:00 UTC
	var s []Sample
	for i := range 7 * 1440 {
		tm := start.Add(time.Duration(i) * time.Minute)
		v := 1 * mbps
		if tm.In(loc).Hour() == 10 { // 10:00-10:59 WIT = 01:00-01:59 UTC
			v = 10 * mbps
		}
		s = append(s, Sample{T: tm.UnixMilli(), V: v})
	}
	o := Options{Start: start, End: start.AddDate(0, 0, 7), Location: loc}
	got := Compute(s, o)
	if got.BusyHour != 10 || got.BusyHourMeanBps != 10*mbps {
		t.Errorf("Jayapura: busy hour = %d (%v), want 10 (10 Mbps)", got.BusyHour, got.BusyHourMeanBps)
	}
	o.Location = nil // UTC
	got = Compute(s, o)
	if got.BusyHour != 1 || got.BusyHourMeanBps != 10*mbps {
		t.Errorf("UTC: busy hour = %d (%v), want 1 (10 Mbps)", got.BusyHour, got.BusyHourMeanBps)
	}
}

// daySeries returns 60 s samples over days local days from start; f gives
// the value for a day index and a minute of the day.
func daySeries(start time.Time, days int, f func(day, minute int) float64) []Sample {
	s := make([]Sample, 0, days*1440)
	for i := range days * 1440 {
		s = append(s, Sample{T: start.UnixMilli() + int64(i)*60_000, V: f(i/1440, i%1440)})
	}
	return s
}

// growing gives a daily P95 of base + day Mbps: every 5-minute average of
// the day is base + day Mbps except 14 of them (20:00-21:10) at 50 Mbps.
// With 288 averages, rank = ceil(0.95 * 288) = ceil(273.6) = 274: the 274
// low averages come first, so sorted[273] = base + day Mbps.
func growing(base float64) func(day, minute int) float64 {
	return func(day, minute int) float64 {
		if minute >= 20*60 && minute < 20*60+70 {
			return 50 * mbps
		}
		return (base + float64(day)) * mbps
	}
}

func TestForecastLinear(t *testing.T) {
	loc := jayapura(t)
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, loc)
	o := Options{
		Start: start, End: start.AddDate(0, 0, 30), Location: loc,
		CapacityBps: 100 * mbps,
	}
	got := Compute(daySeries(start, 30, growing(10)), o)
	// Daily P95 = 10 + x Mbps for x = 0..29: slope 1 Mbps/day, intercept
	// 10 Mbps; 80 % of 100 Mbps is reached at x = (80 - 10) / 1 = 70,
	// 2025-01-01 + 70 days = 2025-03-12 00:00 WIT.
	if !got.ForecastKnown {
		t.Fatal("ForecastKnown = false")
	}
	if want := time.Date(2025, 3, 12, 0, 0, 0, 0, loc); !got.Forecast80.Equal(want) {
		t.Errorf("Forecast80 = %v, want %v", got.Forecast80, want)
	}
	if got.Forecast80.Location() != loc {
		t.Errorf("Forecast80 location = %v, want %v", got.Forecast80.Location(), loc)
	}
	if got.TrendBpsPerDay != 1*mbps {
		t.Errorf("TrendBpsPerDay = %v, want 1e6", got.TrendBpsPerDay)
	}
	// Period P95: 8,640 averages, rank ceil(0.95 * 8640) = 8,208. The
	// 8,220 low ones come first, 274 per day from 10 to 39 Mbps, and
	// index 8,207 is in the 30th group (8207 / 274 = 29.95): 39 Mbps.
	if got.P95Bps != 39*mbps {
		t.Errorf("P95Bps = %v, want 39e6", got.P95Bps)
	}
	if got.PeakBps != 50*mbps {
		t.Errorf("PeakBps = %v, want 50e6", got.PeakBps)
	}

	// Now does not move the crossing day.
	o.Now = start.AddDate(1, 0, 0)
	if g := Compute(daySeries(start, 30, growing(10)), o); !g.Forecast80.Equal(got.Forecast80) {
		t.Errorf("Forecast80 with Now = %v, want %v", g.Forecast80, got.Forecast80)
	}
}

func TestForecastAlreadyAbove(t *testing.T) {
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	o := Options{Start: start, End: start.AddDate(0, 0, 7), CapacityBps: 100 * mbps}
	// Daily P95 = 90 + x Mbps: the line crossed 80 Mbps at x = -10.
	got := Compute(daySeries(start, 7, growing(90)), o)
	if want := time.Date(2024, 12, 22, 0, 0, 0, 0, time.UTC); !got.ForecastKnown || !got.Forecast80.Equal(want) {
		t.Errorf("forecast = %v %v, want true %v", got.ForecastKnown, got.Forecast80, want)
	}
}

func TestForecastUnknown(t *testing.T) {
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	o := Options{Start: start, End: start.AddDate(0, 0, 30), CapacityBps: 100 * mbps}
	for _, tc := range []struct {
		name  string
		days  int
		f     func(day, minute int) float64
		trend float64
	}{
		{"decreasing", 10, func(day, _ int) float64 { return float64(40-day) * mbps }, -1 * mbps},
		{"flat", 10, func(int, int) float64 { return 20 * mbps }, 0},
		{"six days", 6, growing(10), 0}, // fewer than 7 days: no trend at all
	} {
		got := Compute(daySeries(start, tc.days, tc.f), o)
		if got.ForecastKnown || !got.Forecast80.IsZero() {
			t.Errorf("%s: forecast = %v %v, want unknown", tc.name, got.ForecastKnown, got.Forecast80)
		}
		if got.TrendBpsPerDay != tc.trend {
			t.Errorf("%s: TrendBpsPerDay = %v, want %v", tc.name, got.TrendBpsPerDay, tc.trend)
		}
	}
}

func TestCapacityUnknown(t *testing.T) {
	o := tinyOptions()
	o.CapacityBps = 0
	want := tinyWant()
	want.MeanUtilization, want.P95Utilization, want.PeakUtilization = 0, 0, 0
	want.UtilizationKnown = false
	checkStats(t, Compute(tinySeries(), o), want)

	for _, c := range []float64{-1, math.NaN(), math.Inf(1)} {
		o.CapacityBps = c
		checkStats(t, Compute(tinySeries(), o), want)
	}

	// The trend is still computed, the forecast is not.
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	got := Compute(daySeries(start, 30, growing(10)), Options{Start: start, End: start.AddDate(0, 0, 30)})
	if got.ForecastKnown || got.UtilizationKnown || got.TrendBpsPerDay != 1*mbps {
		t.Errorf("got ForecastKnown %v UtilizationKnown %v trend %v, want false false 1e6",
			got.ForecastKnown, got.UtilizationKnown, got.TrendBpsPerDay)
	}
}

func TestNoData(t *testing.T) {
	o := tinyOptions()
	want := Stats{BusyHour: -1}
	checkStats(t, Compute(nil, o), want)
	want.Rejected = 1
	checkStats(t, Compute([]Sample{{T: o.Start.UnixMilli(), V: math.NaN()}}, o), want)
	// An empty or inverted period holds no sample.
	o.End = o.Start
	checkStats(t, Compute(tinySeries(), o), Stats{BusyHour: -1})
}

func TestSingleSampleStep(t *testing.T) {
	o := tinyOptions()
	got := Compute([]Sample{{T: o.Start.UnixMilli() + 1, V: 8000}}, o)
	// No gap to infer from: Step is the 5-minute cap, 8000 * 300 / 8.
	if got.VolumeBytes != 300_000 || got.BusyHour != 0 || got.P95Bps != 8000 {
		t.Errorf("got %+v", got)
	}
}

func TestDuplicateTimestamps(t *testing.T) {
	o := tinyOptions()
	o.Step = time.Minute
	t0 := o.Start.UnixMilli()
	a := []Sample{{T: t0, V: 10}, {T: t0, V: 30}, {T: t0 + 60_000, V: 20}}
	b := []Sample{{T: t0, V: 30}, {T: t0, V: 10}, {T: t0 + 60_000, V: 20}}
	ga, gb := Compute(a, o), Compute(b, o)
	if ga != gb {
		t.Errorf("order changes the result:\n%+v\n%+v", ga, gb)
	}
	// Sorted by (T, V): 10 counts 60 s, 30 counts 0 s, 20 counts 60 s.
	if want := (10*60 + 20*60) / 8.0; ga.VolumeBytes != want {
		t.Errorf("VolumeBytes = %v, want %v", ga.VolumeBytes, want)
	}
}

func TestNearestRank95(t *testing.T) {
	for _, tc := range []struct{ n, rank int }{
		{1, 1}, {2, 2}, {19, 19}, {20, 19}, {21, 20}, {100, 95}, {288, 274}, {8640, 8208},
	} {
		v := make([]float64, tc.n)
		for i := range v {
			v[i] = float64(i + 1)
		}
		rand.New(rand.NewPCG(uint64(tc.n), 0)).Shuffle(len(v), func(i, j int) { v[i], v[j] = v[j], v[i] })
		if got := nearestRank95(v); got != float64(tc.rank) {
			t.Errorf("n = %d: rank %v, want %d", tc.n, got, tc.rank)
		}
	}
}

// monthSeries is one month (30 days) of 60 s samples, 43,200, with a
// diurnal pattern and some noise.
func monthSeries(start time.Time) []Sample {
	r := rand.New(rand.NewPCG(3, 4))
	return daySeries(start, 30, func(day, minute int) float64 {
		h := float64(minute) / 60
		return (20 + 15*math.Sin((h-8)/24*2*math.Pi) + 0.2*float64(day) + 3*r.Float64()) * mbps
	})
}

func BenchmarkComputeMonth(b *testing.B) {
	loc := jayapura(b)
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, loc)
	s := monthSeries(start)
	o := Options{Start: start, End: start.AddDate(0, 0, 30), Location: loc, CapacityBps: 100 * mbps}
	b.ReportAllocs()
	for b.Loop() {
		Compute(s, o)
	}
}

func BenchmarkComputeMonthShuffled(b *testing.B) {
	loc := jayapura(b)
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, loc)
	s := monthSeries(start)
	rand.New(rand.NewPCG(5, 6)).Shuffle(len(s), func(i, j int) { s[i], s[j] = s[j], s[i] })
	o := Options{Start: start, End: start.AddDate(0, 0, 30), Location: loc, CapacityBps: 100 * mbps}
	b.ReportAllocs()
	for b.Loop() {
		Compute(s, o)
	}
}

func TestSelectKth(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, n := range []int{1, 2, 3, 17, 100, 1000, 5000} {
		for _, distinct := range []int{1, 2, 5, 1 << 30} {
			v := make([]int64, n)
			for i := range v {
				v[i] = int64(r.IntN(distinct))
			}
			sorted := slices.Sorted(slices.Values(v))
			for _, k := range []int{0, n / 2, n - 1, r.IntN(n)} {
				w := slices.Clone(v)
				got := selectKth(w, k)
				if got != sorted[k] {
					t.Fatalf("n %d distinct %d k %d: got %d, want %d", n, distinct, k, got, sorted[k])
				}
				if slices.Max(w[:k+1]) != got || slices.Min(w[k:]) != got {
					t.Fatalf("n %d distinct %d k %d: not partitioned", n, distinct, k)
				}
			}
		}
	}
	// Already sorted and reversed inputs.
	v := make([]float64, 10000)
	for i := range v {
		v[i] = float64(i)
	}
	if got := selectKth(slices.Clone(v), 9499); got != 9499 {
		t.Errorf("sorted: got %v", got)
	}
	slices.Reverse(v)
	if got := selectKth(v, 9499); got != 9499 {
		t.Errorf("reversed: got %v", got)
	}
}
