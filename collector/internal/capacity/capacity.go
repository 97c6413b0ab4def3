// Package capacity computes the capacity figures of the SLA report for one
// link and one direction (receive or transmit) over a report period, from
// the rate samples the SNMP agent emits (receive_bits_per_second,
// transmit_bits_per_second).
//
// # Method
//
// This section is the method a report states.
//
// Samples. Only samples with Start <= T < End are used; the others are
// ignored without being counted. Of those, a sample whose value is NaN,
// infinite or negative is rejected and counted in Stats.Rejected. Samples
// may arrive in any order; when they are not already in order they are
// sorted by time (then value) on a copy, never in place.
// The period bounds are resolved to the millisecond.
//
// Mean. MeanBps is the arithmetic mean of the accepted samples, not a
// time-weighted mean: every sample counts once, whatever its spacing.
//
// Peak. PeakBps is the largest accepted sample.
//
// 5-minute averages. The period is cut into 5-minute buckets aligned to
// Start: bucket = floor((T - Start) / 5 min). Since a period starts at
// local midnight, buckets follow the wall clock (00:00-00:05, ...). A
// bucket's average is the arithmetic mean of its samples. A bucket without
// samples is skipped: it is not counted as zero.
//
// 95th percentile. P95Bps is the 95th percentile of the 5-minute averages
// by the nearest-rank method: the n averages are sorted ascending, rank =
// ceil(0.95 * n), and the value is the rank-th smallest (sorted[rank-1]).
// With 20 averages the rank is 19; with one month of 8,640 averages it is
// 8,208. No interpolation is done, so the value is always one of the
// averages.
//
// Busy hour. Every 5-minute average belongs to the hour of day (0..23) of
// its bucket's start in Options.Location (UTC when nil). BusyHour is the
// hour with the highest mean of its 5-minute averages over all days of the
// period, and BusyHourMeanBps that mean. On a tie the earliest hour wins.
// BusyHour is -1 when there is no data.
//
// Volume. VolumeBytes = sum over the sorted accepted samples of
// V * interval / 8, where interval is the gap to the previous accepted
// sample, capped at 2 * Step, and the first sample counts Step. So a gap in
// polling does not inflate the volume by more than one extra step. Samples
// with the same timestamp add nothing after the first. Step is
// Options.Step; when it is zero (or negative), it is inferred as the median
// of the positive gaps between consecutive accepted samples (the mean of
// the two middle gaps when their number is even), capped at 5 minutes; with
// no positive gap (fewer than two distinct timestamps) it is 5 minutes.
// Series longer than 4,096 samples take the median of about 4,096 gaps
// spread evenly through the series.
//
// Utilization. MeanUtilization, P95Utilization and PeakUtilization are the
// figures above divided by Options.CapacityBps (the contracted bandwidth,
// else the interface speed). When the capacity is not a finite number
// greater than zero it is unknown: UtilizationKnown is false and the
// utilizations are 0.
//
// Forecast. Each local calendar day (in Options.Location) with at least one
// 5-minute average gets a daily P95: the nearest-rank 95th percentile of
// that day's 5-minute averages. The day index x is the number of calendar
// days from the local date of Start (0 for the first day); days without
// data are left out. A linear least-squares line y = a + b*x is fitted to
// the (x, daily P95) points; TrendBpsPerDay is b. It is computed whenever
// there are at least 7 days with data, whether the capacity is known or
// not. The threshold is 0.8 * CapacityBps; the trend reaches it at
// x* = (0.8 * CapacityBps - a) / b, and Forecast80 is local midnight of day
// ceil(x*) (a tolerance of 1e-6 day absorbs rounding, so a crossing exactly
// on a day boundary gives that day). This is the first day on which the
// trend line is at or above 80 %. When the line is already at or above 80 %
// at Now, Forecast80 is therefore the day the line first crossed, which may
// be in the past (even before Start); callers word the report by comparing
// Forecast80 with Now. ForecastKnown is false when the capacity is unknown,
// when fewer than 7 days have data, when the slope is not positive, or when
// the crossing is more than 100,000 days (about 274 years) from Start.
//
// Horizon. With Options.Horizon set, a forecast is bounded: when the
// crossing day is after Now + Horizon (or more than 100,000 days away),
// or when the slope is not positive and the trend line at Now's day is
// below the threshold (a flat or falling trend never reaches it),
// BeyondHorizon is true, ForecastKnown false and Forecast80 zero; the
// report then says "beyond the horizon" instead of a date decades away.
package capacity

import (
	"cmp"
	"math"
	"math/bits"
	"slices"
	"time"
)

// Sample is one rate sample: T in Unix milliseconds, V in bits per second.
type Sample struct {
	T int64
	V float64
}

// Options for a computation.
type Options struct {
	// Start and End bound the period [Start, End).
	Start, End time.Time
	// Location is the site's time zone, used for the busy hour and for the
	// calendar days of the forecast. Nil means UTC.
	Location *time.Location
	// CapacityBps is the contracted bandwidth, else the interface speed;
	// 0 means unknown.
	CapacityBps float64
	// Step is the nominal spacing used to integrate the volume; 0 means
	// infer it (median spacing of the samples, capped at 5 minutes).
	Step time.Duration
	// Now is the forecast reference; zero means End. Under the method in
	// the package documentation Forecast80 does not depend on it: it is the
	// reference callers compare Forecast80 with ("reached" or "expected").
	Now time.Time
	// Horizon bounds the forecast: a crossing later than Now + Horizon,
	// or none at all while the trend is below 80 % at Now (a flat or
	// falling trend), is BeyondHorizon rather than a date. 0: no horizon
	// (a far crossing is a date up to maxCrossingDays).
	Horizon time.Duration
}

// Stats is the capacity summary of one direction. The method behind every
// field is described in the package documentation.
type Stats struct {
	// Samples is the number of accepted samples in the period.
	Samples int
	// Rejected is the number of samples in the period whose value was NaN,
	// infinite or negative.
	Rejected int
	// MeanBps is the arithmetic mean of the accepted samples (not
	// time-weighted).
	MeanBps float64
	// P95Bps is the nearest-rank 95th percentile of the 5-minute averages.
	P95Bps float64
	// PeakBps is the largest accepted sample.
	PeakBps float64
	// BusyHour is the local hour of day (0..23) with the highest mean of
	// 5-minute averages; -1 if there is no data.
	BusyHour int
	// BusyHourMeanBps is the mean of the 5-minute averages in BusyHour.
	BusyHourMeanBps float64
	// VolumeBytes is the traffic volume in bytes.
	VolumeBytes float64
	// MeanUtilization, P95Utilization and PeakUtilization are the figures
	// above divided by the capacity; 0 when the capacity is unknown.
	MeanUtilization float64
	P95Utilization  float64
	PeakUtilization float64
	// UtilizationKnown is false when the capacity is unknown.
	UtilizationKnown bool
	// ForecastKnown is false when the capacity is unknown, fewer than 7
	// days have data, or the trend slope is not positive.
	ForecastKnown bool
	// Forecast80 is local midnight of the first day on which the daily P95
	// trend line reaches 80 % of the capacity; it may be in the past.
	Forecast80 time.Time
	// TrendBpsPerDay is the slope of the daily P95 trend line; 0 when fewer
	// than 7 days have data.
	TrendBpsPerDay float64
	// BeyondHorizon says the trend does not reach 80 % within
	// Options.Horizon of Now: it crosses later, or never while below
	// 80 % at Now. ForecastKnown is then false and Forecast80 zero.
	BeyondHorizon bool
}

const (
	bucketMs = int64(5 * time.Minute / time.Millisecond)
	// maxStep caps the inferred step.
	maxStep = 5 * time.Minute
	// minForecastDays is the number of days with data a trend needs.
	minForecastDays = 7
	// forecastThreshold is the utilization the forecast looks for.
	forecastThreshold = 0.8
	// crossingTolerance (in days) absorbs rounding in the crossing day.
	crossingTolerance = 1e-6
	// maxCrossingDays bounds the forecast horizon, from Start.
	maxCrossingDays = 100000
)

// Compute returns the capacity summary of samples over o's period.
func Compute(samples []Sample, o Options) Stats {
	st := Stats{BusyHour: -1}
	loc := o.Location
	if loc == nil {
		loc = time.UTC
	}
	startMs, endMs := ceilMilli(o.Start), ceilMilli(o.End)

	// First pass: count, reject, and check whether the accepted samples
	// are already in order, so that the common case needs no copy.
	inOrder := true
	var prev Sample
	for _, s := range samples {
		if s.T < startMs || s.T >= endMs {
			continue
		}
		if !valid(s.V) {
			st.Rejected++
			continue
		}
		if st.Samples > 0 && cmpSample(prev, s) > 0 {
			inOrder = false
		}
		prev = s
		st.Samples++
	}
	if st.Samples == 0 {
		return st
	}
	// From here on src holds only accepted samples, in order.
	src := samples
	if !inOrder || st.Samples != len(samples) {
		src = make([]Sample, 0, st.Samples)
		for _, s := range samples {
			if s.T >= startMs && s.T < endMs && valid(s.V) {
				src = append(src, s)
			}
		}
		if !inOrder {
			slices.SortFunc(src, cmpSample)
		}
	}

	step := o.Step
	if step <= 0 {
		step = inferStep(src)
	}
	stepSec := step.Seconds()
	capSec := 2 * stepSec

	// Local calendar of the period's first day, for the day index.
	sy, sm, sd := o.Start.In(loc).Date()
	startDay := civilDay(sy, sm, sd)

	nBuckets := (endMs-startMs-1)/bucketMs + 1
	avgs := make([]float64, 0, min(int64(st.Samples), nBuckets))
	var days []dayRun
	var hourSum [24]float64
	var hourN [24]int

	var sum, volume float64
	peak := math.Inf(-1)
	first := true
	var prevT int64
	curBucket := int64(-1)
	var bSum float64
	var bN int
	// Day of the last flushed bucket, cached by local date.
	lastY, lastM, lastD, lastDay := 0, time.Month(0), 0, int64(0)
	_, off0 := o.Start.In(loc).Zone()
	_, off1 := o.End.In(loc).Zone()
	fixed := off0 == off1 && o.Start.In(loc).Hour() == 0 && o.Start.In(loc).Minute() == 0
	offMs := int64(off0) * 1000
	startLocalDay := floorDiv(startMs+offMs, dayMs)

	flush := func() {
		if bN == 0 {
			return
		}
		avg := bSum / float64(bN)
		var h int
		if fixed {
			// the zone's offset is the same all period (Indonesia has
			// no daylight saving): plain arithmetic on local time
			lms := startMs + curBucket*bucketMs + offMs
			lastDay = floorDiv(lms, dayMs) - startLocalDay
			h = int(floorDiv(lms, hourMs) % 24)
		} else {
			t := time.UnixMilli(startMs + curBucket*bucketMs).In(loc)
			y, m, d := t.Date()
			if y != lastY || m != lastM || d != lastD {
				lastY, lastM, lastD = y, m, d
				lastDay = civilDay(y, m, d) - startDay
			}
			h = t.Hour()
		}
		hourSum[h] += avg
		hourN[h]++
		if n := len(days); n > 0 && days[n-1].day == lastDay {
			days[n-1].end++
		} else {
			days = append(days, dayRun{day: lastDay, end: len(avgs) + 1})
		}
		avgs = append(avgs, avg)
	}

	bucketEnd := int64(math.MinInt64)
	for _, s := range src {
		sum += s.V
		peak = max(peak, s.V)
		interval := stepSec
		if !first {
			interval = min(float64(s.T-prevT)/1000, capSec)
		}
		volume += s.V * interval / 8
		first = false
		prevT = s.T

		if s.T >= bucketEnd {
			// a new 5-minute bucket (one division per bucket, not per sample)
			flush()
			curBucket, bSum, bN = (s.T-startMs)/bucketMs, 0, 0
			bucketEnd = startMs + (curBucket+1)*bucketMs
		}
		bSum += s.V
		bN++
	}
	flush()

	st.finish(sum, peak, volume, &hourSum, &hourN, avgs, days, o, loc, sy, sm, sd)
	return st
}

// dayRun marks the 5-minute averages of one local day: the averages before
// index end that follow the previous run; day is the day index.
// finish fills in the figures that follow from the pass over the data:
// mean, peak, volume, busy hour, the P95s and the forecast. Samples must
// be set. It is shared by Compute (samples) and ComputeRollups.
func (st *Stats) finish(sum, peak, volume float64, hourSum *[24]float64, hourN *[24]int, avgs []float64, days []dayRun, o Options, loc *time.Location, sy int, sm time.Month, sd int) {
	st.MeanBps = sum / float64(st.Samples)
	st.PeakBps = peak
	st.VolumeBytes = volume

	for h := range 24 {
		if hourN[h] == 0 {
			continue
		}
		m := hourSum[h] / float64(hourN[h])
		if st.BusyHour < 0 || m > st.BusyHourMeanBps {
			st.BusyHour, st.BusyHourMeanBps = h, m
		}
	}

	// Daily P95 on each day's run of averages, then the period's P95 (the
	// selections reorder avgs in place, which is no longer needed in time
	// order).
	daily := make([]point, 0, len(days))
	from := 0
	for _, r := range days {
		daily = append(daily, point{x: float64(r.day), y: nearestRank95(avgs[from:r.end])})
		from = r.end
	}
	st.P95Bps = nearestRank95(avgs)

	c := o.CapacityBps
	if c > 0 && !math.IsInf(c, 0) {
		st.UtilizationKnown = true
		st.MeanUtilization = st.MeanBps / c
		st.P95Utilization = st.P95Bps / c
		st.PeakUtilization = st.PeakBps / c
	}

	if len(daily) >= minForecastDays {
		a, b := fitLine(daily)
		st.TrendBpsPerDay = b
		if st.UtilizationKnown && b > 0 {
			x := (forecastThreshold*c - a) / b
			if !math.IsNaN(x) && math.Abs(x) <= maxCrossingDays {
				day := int(math.Ceil(x - crossingTolerance))
				st.ForecastKnown = true
				st.Forecast80 = time.Date(sy, sm, sd+day, 0, 0, 0, 0, loc)
			}
			if o.Horizon > 0 && (x > maxCrossingDays || st.ForecastKnown && st.Forecast80.After(forecastNow(o).Add(o.Horizon))) {
				st.ForecastKnown, st.Forecast80, st.BeyondHorizon = false, time.Time{}, true
			}
		}
		if st.UtilizationKnown && b <= 0 && o.Horizon > 0 {
			// never reached while below 80 % at Now
			now := forecastNow(o).In(loc)
			ny, nm, nd := now.Date()
			xNow := math.Round(time.Date(ny, nm, nd, 0, 0, 0, 0, time.UTC).Sub(time.Date(sy, sm, sd, 0, 0, 0, 0, time.UTC)).Hours() / 24)
			st.BeyondHorizon = a+b*xNow < forecastThreshold*c
		}
	}
}

type dayRun struct {
	day int64
	end int
}

// point is one (day index, daily P95) point of the trend.
type point struct{ x, y float64 }

// valid reports whether v is an acceptable rate.
func valid(v float64) bool {
	return v >= 0 && !math.IsInf(v, 1) // NaN fails v >= 0
}

// cmpSample orders samples by time, then value, so equal timestamps give
// the same result whatever the input order.
func cmpSample(a, b Sample) int {
	if c := cmp.Compare(a.T, b.T); c != 0 {
		return c
	}
	return cmp.Compare(a.V, b.V)
}

// ceilMilli returns t in Unix milliseconds, rounded up, so that a sample
// time T (whole milliseconds) is >= t exactly when T >= ceilMilli(t).
func ceilMilli(t time.Time) int64 {
	ms := t.Unix() * 1000
	ns := int64(t.Nanosecond())
	ms += ns / 1e6
	if ns%1e6 != 0 {
		ms++
	}
	return ms
}

// civilDay returns the number of days from 1970-01-01 to the given date.
func civilDay(y int, m time.Month, d int) int64 {
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400
}

// inferStep returns the median positive gap between consecutive accepted
// samples of the sorted src, capped at maxStep; maxStep when there is none.
// maxGapSample bounds the gaps inferStep looks at.
const maxGapSample = 4096

const (
	hourMs = int64(time.Hour / time.Millisecond)
	dayMs  = 24 * hourMs
)

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func inferStep(src []Sample) time.Duration {
	n := len(src)
	if n < 2 {
		return maxStep
	}
	// Long series: the median of at most maxGapSample gaps taken evenly
	// through the series (the spacing of a poller is regular, so this is
	// its median too, at a fraction of the cost).
	every := 1
	if n > maxGapSample {
		every = n / maxGapSample
	}
	// a day of 1- to 15-minute polling fits on the stack (a year of
	// daily rollups called this 3.6 million times)
	var stack [512]int64
	gaps := stack[:0]
	if c := min(n-1, maxGapSample+1); c > len(stack) {
		gaps = make([]int64, 0, c)
	}
	for i := 1; i < n; i += every {
		if g := src[i].T - src[i-1].T; g > 0 {
			gaps = append(gaps, g)
		}
	}
	if len(gaps) == 0 {
		return maxStep
	}
	// The median; with an even number of gaps, the mean of the two middle
	// ones (after selectKth, the lower one is the largest of gaps[:k]).
	k := len(gaps) / 2
	med := time.Duration(selectKth(gaps, k)) * time.Millisecond
	if len(gaps)%2 == 0 {
		med = time.Duration(slices.Max(gaps[:k])+gaps[k]) * time.Millisecond / 2
	}
	return min(med, maxStep)
}

// nearestRank95 returns the nearest-rank 95th percentile of the non-empty
// values: sorted[ceil(0.95*n)-1], where sorted is values sorted ascending.
// It reorders values.
func nearestRank95(values []float64) float64 {
	n := len(values)
	// ceil(95*n/100) in integers, so no float64 rounding of 0.95*n can
	// move the rank.
	rank := (95*n + 99) / 100
	return selectKth(values, max(rank, 1)-1)
}

// selectKth returns the element that would be at index k if s were sorted
// ascending, and reorders s so that s[:k] <= s[k] <= s[k+1:]. It is a
// quickselect (median-of-three pivot, three-way partition, so runs of
// equal values cost linear time) that falls back to sorting after
// 2*log2(n) rounds, which bounds it by O(n log n). s must not hold NaN.
func selectKth[E cmp.Ordered](s []E, k int) E {
	lo, hi := 0, len(s)
	budget := 2 * bits.Len(uint(len(s)))
	for hi-lo > 16 && budget > 0 {
		budget--
		p := median3(s[lo], s[lo+(hi-lo)/2], s[hi-1])
		// [lo, lt) < p, [lt, gt) == p, [gt, hi) > p.
		lt, i, gt := lo, lo, hi
		for i < gt {
			switch {
			case s[i] < p:
				s[lt], s[i] = s[i], s[lt]
				lt++
				i++
			case s[i] > p:
				gt--
				s[i], s[gt] = s[gt], s[i]
			default:
				i++
			}
		}
		switch {
		case k < lt:
			hi = lt
		case k >= gt:
			lo = gt
		default:
			return s[k]
		}
	}
	slices.Sort(s[lo:hi])
	return s[k]
}

// median3 returns the median of a, b and c.
func median3[E cmp.Ordered](a, b, c E) E {
	if a > b {
		a, b = b, a
	}
	// a <= b; the median is b clamped to [a, c] when c < b.
	if c < b {
		return max(a, c)
	}
	return b
}

// fitLine returns the intercept a and slope b of the least-squares line
// y = a + b*x through pts (at least two distinct x).
func fitLine(pts []point) (a, b float64) {
	var mx, my float64
	for _, p := range pts {
		mx += p.x
		my += p.y
	}
	n := float64(len(pts))
	mx /= n
	my /= n
	var sxy, sxx float64
	for _, p := range pts {
		dx := p.x - mx
		sxy += dx * (p.y - my)
		sxx += dx * dx
	}
	b = sxy / sxx
	return my - b*mx, b
}

// forecastNow is the forecast's reference: Options.Now, else End.
func forecastNow(o Options) time.Time {
	if o.Now.IsZero() {
		return o.End
	}
	return o.Now
}
