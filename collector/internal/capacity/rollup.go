package capacity

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"
)

// Rollups. A month of 60 s samples for thousands of links is hundreds of
// millions of samples; reading them for every report does not scale. A
// Rollup keeps, for one link, one direction and one UTC day, exactly what
// the figures need:
//
//   - per 5-minute bucket (aligned to UTC, hence to every period that
//     starts on a whole hour, as all Indonesian zones do) the sum and count
//     of the samples, giving the 5-minute averages and the mean;
//   - per hour the largest sample (the peak) and the volume, integrated by
//     the same rule as Compute; the first sample of a day counts the step.
//
// ComputeRollups gives the same figures as Compute over the same samples
// when the period starts and ends on whole hours; the volume differs only
// where a day's first sample follows a gap other than the step.

// BucketsPerDay is the number of 5-minute buckets in a day.
const BucketsPerDay = 288

// Rollup is one UTC day of one direction of one link.
type Rollup struct {
	Day int64 // days since the Unix epoch (UTC)
	Sum [BucketsPerDay]float64
	N   [BucketsPerDay]uint16
	Max [24]float64 // per UTC hour; -1 when the hour has no sample
	Vol [24]float64 // bytes per UTC hour
	// Speed is the interface speed last seen that day (bits/s; 0 unknown),
	// for utilization when the link has no contracted bandwidth.
	Speed float64
}

// RollupDay reduces one UTC day of samples (any order; values outside the
// day or invalid are skipped) to a Rollup. step is the polling step for
// the volume (0: inferred as Compute does).
func RollupDay(samples []Sample, day int64, step time.Duration) *Rollup {
	return RollupDayInto(new(Rollup), samples, day, step)
}

// RollupDayInto is RollupDay into r (overwritten whole), for a caller
// that reuses its rollups; it returns r.
func RollupDayInto(r *Rollup, samples []Sample, day int64, step time.Duration) *Rollup {
	*r = Rollup{Day: day}
	for h := range r.Max {
		r.Max[h] = -1
	}
	d0 := day * 86400000
	d1 := d0 + 86400000
	// samples already of the day, valid and in order (a poller's day) are
	// used as they are; else the day's valid ones are copied (and sorted)
	src := samples
	if !slices.IsSortedFunc(samples, cmpSample) || slices.ContainsFunc(samples, func(s Sample) bool { return s.T < d0 || s.T >= d1 || !valid(s.V) }) {
		src = make([]Sample, 0, len(samples))
		for _, s := range samples {
			if s.T >= d0 && s.T < d1 && valid(s.V) {
				src = append(src, s)
			}
		}
		if !slices.IsSortedFunc(src, cmpSample) {
			slices.SortFunc(src, cmpSample)
		}
	}
	if len(src) == 0 {
		return r
	}
	if step <= 0 {
		step = inferStep(src)
	}
	stepSec := step.Seconds()
	capSec := 2 * stepSec
	var prevT int64
	for i, s := range src {
		interval := stepSec
		if i > 0 {
			interval = min(float64(s.T-prevT)/1000, capSec)
		}
		prevT = s.T
		b := (s.T - d0) / bucketMs
		h := (s.T - d0) / hourMs
		r.Sum[b] += s.V
		if r.N[b] < math.MaxUint16 {
			r.N[b]++
		}
		r.Max[h] = max(r.Max[h], s.V)
		r.Vol[h] += s.V * interval / 8
	}
	return r
}

// RollupSize is the encoded size of a Rollup. Sums, peaks and volumes are
// stored as float32 (7 significant digits, far more than a report shows),
// which halves what a year of rollups takes: 1,952 bytes per link,
// direction and day.
const RollupSize = 8 + BucketsPerDay*(4+2) + 24*(4+4) + 8

// MarshalBinary encodes a Rollup (little endian).
func (r *Rollup) MarshalBinary() ([]byte, error) {
	b := make([]byte, 0, RollupSize)
	f := func(v float64) { b = binary.LittleEndian.AppendUint32(b, math.Float32bits(float32(v))) }
	b = binary.LittleEndian.AppendUint64(b, uint64(r.Day))
	for _, v := range r.Sum {
		f(v)
	}
	for _, v := range r.N {
		b = binary.LittleEndian.AppendUint16(b, v)
	}
	for _, v := range r.Max {
		f(v)
	}
	for _, v := range r.Vol {
		f(v)
	}
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(r.Speed))
	return b, nil
}

// UnmarshalBinary decodes what MarshalBinary wrote.
func (r *Rollup) UnmarshalBinary(b []byte) error {
	if len(b) != RollupSize {
		return fmt.Errorf("capacity rollup is %d bytes, want %d", len(b), RollupSize)
	}
	f := func() float64 {
		v := float64(math.Float32frombits(binary.LittleEndian.Uint32(b)))
		b = b[4:]
		return v
	}
	r.Day = int64(binary.LittleEndian.Uint64(b))
	b = b[8:]
	for i := range r.Sum {
		r.Sum[i] = f()
	}
	for i := range r.N {
		r.N[i] = binary.LittleEndian.Uint16(b)
		b = b[2:]
	}
	for i := range r.Max {
		r.Max[i] = f()
	}
	for i := range r.Vol {
		r.Vol[i] = f()
	}
	r.Speed = math.Float64frombits(binary.LittleEndian.Uint64(b))
	for i := range r.Sum {
		if !valid(r.Sum[i]) || (r.N[i] == 0 && r.Sum[i] != 0) {
			return fmt.Errorf("capacity rollup of day %d: bad 5-minute bucket %d", r.Day, i)
		}
	}
	for h := range r.Max {
		if (r.Max[h] != -1 && !valid(r.Max[h])) || !valid(r.Vol[h]) {
			return fmt.Errorf("capacity rollup of day %d: bad hour %d", r.Day, h)
		}
	}
	if !valid(r.Speed) {
		return fmt.Errorf("capacity rollup of day %d: bad speed", r.Day)
	}
	return nil
}

// ComputeRollups returns the capacity summary over o's period from the
// rollups of the UTC days it covers (missing days have no data). The
// period should start and end on whole hours.
func ComputeRollups(rs []*Rollup, o Options) Stats {
	st, _ := ComputeRollupsParts(rs, o, nil)
	return st
}

// Part is a part of a period: [Start, End), and what ComputeRollupsParts
// gives for it.
type Part struct {
	Start, End time.Time
	// Samples and P95Bps are what ComputeRollups gives over the part
	// alone (Start and End as the period).
	Samples int
	P95Bps  float64
}

// ComputeRollupsParts is ComputeRollups, and for each of parts (in time
// order, not overlapping, each inside o's period) the samples and P95 of
// 5-minute averages that ComputeRollups over that part alone gives, from
// the same pass over the rollups: an annual report's months take no
// second pass over the year. It fills in the parts' figures.
func ComputeRollupsParts(rs []*Rollup, o Options, parts []Part) (Stats, []Part) {
	st := Stats{BusyHour: -1}
	loc := o.Location
	if loc == nil {
		loc = time.UTC
	}
	startMs, endMs := ceilMilli(o.Start), ceilMilli(o.End)
	sy, sm, sd := o.Start.In(loc).Date()
	startDay := civilDay(sy, sm, sd)
	byDay := func(a, b *Rollup) int { return int(a.Day - b.Day) }
	if !slices.IsSortedFunc(rs, byDay) {
		rs = slices.Clone(rs)
		slices.SortFunc(rs, byDay)
	}

	var (
		sum, volume float64
		peak        = math.Inf(-1)
		hourSum     [24]float64
		hourN       [24]int
		avgs        = scratchFloats(len(rs) * BucketsPerDay)
		days        []dayRun
		lastKey     int64 = math.MinInt64
	)
	_, off0 := o.Start.In(loc).Zone()
	_, off1 := o.End.In(loc).Zone()
	fixed := off0 == off1
	offMs := int64(off0) * 1000
	startLocalDay := floorDiv(startMs+offMs, dayMs)
	type partRange struct{ lo, hi int64 }
	pr := make([]partRange, len(parts))
	partAvgs := make([][]float64, len(parts))
	defer func() {
		releaseFloats(avgs)
		for _, a := range partAvgs {
			releaseFloats(a)
		}
	}()
	for i, p := range parts {
		pr[i] = partRange{ceilMilli(p.Start), ceilMilli(p.End)}
		parts[i].Samples, parts[i].P95Bps = 0, 0
	}
	part := 0 // the part the latest bucket fell in
	for _, r := range rs {
		d0 := r.Day * dayMs
		if d0+dayMs <= startMs || d0 >= endMs {
			continue
		}
		for h := range 24 {
			t := d0 + int64(h)*hourMs
			if t < startMs || t >= endMs || r.Max[h] < 0 {
				continue
			}
			peak = max(peak, r.Max[h])
			volume += r.Vol[h]
		}
		for b := range BucketsPerDay {
			t := d0 + int64(b)*bucketMs
			if r.N[b] == 0 || t < startMs || t >= endMs {
				continue
			}
			st.Samples += int(r.N[b])
			sum += r.Sum[b]
			avg := r.Sum[b] / float64(r.N[b])
			var hr int
			var day int64
			if fixed {
				lms := t + offMs
				day = floorDiv(lms, dayMs) - startLocalDay
				hr = int(floorDiv(lms, hourMs) % 24)
			} else {
				lt := time.UnixMilli(t).In(loc)
				y, m, d := lt.Date()
				day = civilDay(y, m, d) - startDay
				hr = lt.Hour()
			}
			hourSum[hr] += avg
			hourN[hr]++
			if n := len(days); n > 0 && day == lastKey {
				days[n-1].end++
			} else {
				days = append(days, dayRun{day: day, end: len(avgs) + 1})
				lastKey = day
			}
			avgs = append(avgs, avg)
			if len(parts) > 0 {
				if t < pr[part].lo || t >= pr[part].hi {
					part = slices.IndexFunc(pr, func(p partRange) bool { return t >= p.lo && t < p.hi })
				}
				if part < 0 {
					part = 0
					continue
				}
				parts[part].Samples += int(r.N[b])
				if partAvgs[part] == nil {
					partAvgs[part] = scratchFloats(len(rs) * BucketsPerDay / len(parts))
				}
				partAvgs[part] = append(partAvgs[part], avg)
			}
		}
	}
	for i := range parts {
		if parts[i].Samples > 0 {
			parts[i].P95Bps = nearestRank95(partAvgs[i])
		}
	}
	if st.Samples == 0 {
		return st, parts
	}
	st.finish(sum, peak, volume, &hourSum, &hourN, avgs, days, o, loc, sy, sm, sd)
	return st, parts
}

// floatsPool holds the 5-minute averages' slices of ComputeRollupsParts
// (a year is 105,120 of them, 840 kB, for each link and direction of an
// annual report): no figure keeps them.
var floatsPool sync.Pool // *[]float64

// scratchFloats returns an empty slice with room for at least n.
func scratchFloats(n int) []float64 {
	if p, _ := floatsPool.Get().(*[]float64); p != nil && cap(*p) >= n {
		return (*p)[:0]
	}
	return make([]float64, 0, n)
}

func releaseFloats(s []float64) {
	if cap(s) > 0 {
		floatsPool.Put(&s)
	}
}
