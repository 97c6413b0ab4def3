package snmp

import (
	"math"
	"time"
)

// maxBitRate is the largest rate believed: anything above is a counter
// glitch, never a real 1-interface rate (100 Tbit/s).
const maxBitRate = 1e14

// counterDelta returns cur-prev computed in uint64 and whether it is a
// usable increase. 64-bit counters going backwards are resets (no delta);
// 32-bit counters going backwards wrapped once at 2^32. wrapped tells the
// caller the delta went through a 32-bit wrap.
func counterDelta(prev, cur counter) (delta uint64, wrapped, ok bool) {
	if !prev.OK || !cur.OK || prev.Wide != cur.Wide {
		return 0, false, false
	}
	if cur.V >= prev.V {
		return cur.V - prev.V, false, true
	}
	if cur.Wide || prev.V > math.MaxUint32 || cur.V > math.MaxUint32 {
		return 0, false, false // 64-bit reset (or a 32-bit value that is not one)
	}
	return cur.V + (1 << 32) - prev.V, true, true
}

// bitRate turns two octet counter readings taken seconds apart into bits
// per second. It refuses (ok=false) resets, implausible wraps (faster than
// 1.5x the interface speed when the speed is known) and glitches above
// maxBitRate, so it never returns a negative or spike rate.
func bitRate(prev, cur counter, seconds float64, speed uint64) (float64, bool) {
	if !(seconds > 0) || math.IsInf(seconds, 0) {
		return 0, false
	}
	d, wrapped, ok := counterDelta(prev, cur)
	if !ok {
		return 0, false
	}
	r := float64(d) * 8 / seconds
	if r < 0 || r > maxBitRate || math.IsNaN(r) {
		return 0, false
	}
	if wrapped && speed > 0 && r > 1.5*float64(speed) {
		return 0, false // a counter clear looks like a wrap: not believable
	}
	return r, true
}

// ifSample is what the rate tracker keeps per interface.
type ifSample struct {
	In, Out counter
	Speed   uint64
	Disc    uint64 // ifCounterDiscontinuityTime
	HasDisc bool
}

// ifRates are the rates of one interface for one poll.
type ifRates struct {
	In, Out       float64
	HasIn, HasOut bool
}

// rateTracker remembers the previous poll's counters of one device.
type rateTracker struct {
	at        time.Time
	uptime    uint64
	hasUptime bool
	ifs       map[uint32]ifSample
}

// rebooted reports whether sysUpTime went backwards between two polls.
func rebooted(prevUptime uint64, prevOK bool, cur uint64, curOK bool) bool {
	return prevOK && curOK && cur < prevUptime
}

// update records the samples of a poll received at `at` and returns the
// rates per ifIndex. No rates are returned on the first poll, after a
// device reboot (sysUpTime backwards), for interfaces that were absent in
// the previous poll, or whose ifCounterDiscontinuityTime changed.
// Interfaces absent now are forgotten.
func (rt *rateTracker) update(at time.Time, uptime uint64, hasUptime bool, samples map[uint32]ifSample) map[uint32]ifRates {
	out := make(map[uint32]ifRates, len(samples))
	valid := rt.ifs != nil && !rt.at.IsZero() && at.After(rt.at) &&
		!rebooted(rt.uptime, rt.hasUptime, uptime, hasUptime)
	seconds := at.Sub(rt.at).Seconds()
	for idx, cur := range samples {
		if !valid {
			continue
		}
		prev, ok := rt.ifs[idx]
		if !ok {
			continue
		}
		if prev.HasDisc && cur.HasDisc && prev.Disc != cur.Disc {
			continue
		}
		var r ifRates
		r.In, r.HasIn = bitRate(prev.In, cur.In, seconds, cur.Speed)
		r.Out, r.HasOut = bitRate(prev.Out, cur.Out, seconds, cur.Speed)
		if r.HasIn || r.HasOut {
			out[idx] = r
		}
	}
	rt.at, rt.uptime, rt.hasUptime = at, uptime, hasUptime
	rt.ifs = make(map[uint32]ifSample, len(samples))
	for idx, s := range samples {
		rt.ifs[idx] = s
	}
	return out
}

// reset forgets everything (the next poll has no rates).
func (rt *rateTracker) reset() { *rt = rateTracker{} }
