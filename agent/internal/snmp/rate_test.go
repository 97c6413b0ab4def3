package snmp

import (
	"math"
	"testing"
	"time"
)

func c32(v uint64) counter { return counter{V: v, OK: true} }
func c64(v uint64) counter { return counter{V: v, Wide: true, OK: true} }

func TestCounterDelta(t *testing.T) {
	tests := []struct {
		name        string
		prev, cur   counter
		want        uint64
		wantWrapped bool
		wantOK      bool
	}{
		{"64 increase", c64(100), c64(250), 150, false, true},
		{"64 equal", c64(7), c64(7), 0, false, true},
		{"64 backwards is reset", c64(1000), c64(10), 0, false, false},
		{"64 wrap at 2^64 treated as reset", c64(math.MaxUint64 - 9), c64(5), 0, false, false},
		{"64 near max increase", c64(math.MaxUint64 - 100), c64(math.MaxUint64), 100, false, true},
		{"32 increase", c32(10), c32(20), 10, false, true},
		{"32 wrap", c32(math.MaxUint32 - 9), c32(5), 15, true, true},
		{"32 wrap from max", c32(math.MaxUint32), c32(0), 1, true, true},
		{"32 bogus value above 2^32", c32(math.MaxUint32 + 10), c32(5), 0, false, false},
		{"width change", c32(10), c64(20), 0, false, false},
		{"missing prev", counter{}, c64(20), 0, false, false},
		{"missing cur", c64(20), counter{}, 0, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, wrapped, ok := counterDelta(tt.prev, tt.cur)
			if got != tt.want || wrapped != tt.wantWrapped || ok != tt.wantOK {
				t.Fatalf("counterDelta(%+v, %+v) = %d, %v, %v; want %d, %v, %v", tt.prev, tt.cur, got, wrapped, ok, tt.want, tt.wantWrapped, tt.wantOK)
			}
		})
	}
}

func TestBitRate(t *testing.T) {
	if r, ok := bitRate(c64(0), c64(1000), 10, 0); !ok || r != 800 {
		t.Fatalf("bitRate = %v, %v; want 800", r, ok)
	}
	if _, ok := bitRate(c64(0), c64(1000), 0, 0); ok {
		t.Fatal("zero interval must give no rate")
	}
	if _, ok := bitRate(c64(0), c64(1000), -1, 0); ok {
		t.Fatal("negative interval must give no rate")
	}
	// 32-bit wrap on a 100 Mbit/s link: 15 bytes in 10 s is fine.
	if r, ok := bitRate(c32(math.MaxUint32-9), c32(5), 10, 100e6); !ok || r != 12 {
		t.Fatalf("wrap rate = %v, %v; want 12", r, ok)
	}
	// A counter clear looks like a huge wrap: implausible for the link speed.
	if r, ok := bitRate(c32(1000), c32(5), 10, 100e6); ok {
		t.Fatalf("counter clear gave spike rate %v", r)
	}
	// Absurd 64-bit jump (e.g. garbage) is refused.
	if r, ok := bitRate(c64(0), c64(math.MaxUint64), 1, 0); ok {
		t.Fatalf("spike rate %v accepted", r)
	}
}

// poll feeds one crafted poll into the tracker.
func poll(rt *rateTracker, at time.Time, uptime uint64, s map[uint32]ifSample) map[uint32]ifRates {
	return rt.update(at, uptime, true, s)
}

func TestRateTrackerSequence(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	var rt rateTracker
	sample := func(in, out uint64) ifSample { return ifSample{In: c64(in), Out: c64(out)} }

	// First poll: no rates.
	if r := poll(&rt, t0, 1000, map[uint32]ifSample{1: sample(0, 0), 2: sample(100, 100)}); len(r) != 0 {
		t.Fatalf("first poll rates = %v", r)
	}
	// Second poll 10 s later.
	r := poll(&rt, t0.Add(10*time.Second), 2000, map[uint32]ifSample{1: sample(1250, 2500), 2: sample(100, 100)})
	if r[1].In != 1000 || r[1].Out != 2000 || !r[1].HasIn || !r[1].HasOut {
		t.Fatalf("rates if1 = %+v", r[1])
	}
	if r[2].In != 0 || !r[2].HasIn {
		t.Fatalf("idle if2 = %+v", r[2])
	}
	// Interface 2 disappears.
	r = poll(&rt, t0.Add(20*time.Second), 3000, map[uint32]ifSample{1: sample(2500, 5000)})
	if _, ok := r[2]; ok || r[1].In != 1000 {
		t.Fatalf("after if2 vanished: %v", r)
	}
	// Interface 2 reappears (new counters): no rate on its first poll back.
	r = poll(&rt, t0.Add(30*time.Second), 4000, map[uint32]ifSample{1: sample(3750, 7500), 2: sample(5, 5)})
	if _, ok := r[2]; ok {
		t.Fatalf("reappeared if2 got a rate: %+v", r[2])
	}
	r = poll(&rt, t0.Add(40*time.Second), 5000, map[uint32]ifSample{1: sample(5000, 10000), 2: sample(1255, 5)})
	if r[2].In != 1000 {
		t.Fatalf("if2 second poll back: %+v", r[2])
	}
	// Device reboot: sysUpTime backwards, counters small: counters but no rates.
	r = poll(&rt, t0.Add(50*time.Second), 100, map[uint32]ifSample{1: sample(10, 10), 2: sample(10, 10)})
	if len(r) != 0 {
		t.Fatalf("rates after reboot: %v", r)
	}
	// And rates again on the poll after.
	r = poll(&rt, t0.Add(60*time.Second), 1100, map[uint32]ifSample{1: sample(1260, 10), 2: sample(10, 10)})
	if r[1].In != 1000 {
		t.Fatalf("after reboot: %+v", r[1])
	}
	// 64-bit counter going backwards without reboot (counter reset): no rate, no spike.
	r = poll(&rt, t0.Add(70*time.Second), 2100, map[uint32]ifSample{1: sample(5, 10), 2: sample(10, 10)})
	if r[1].HasIn {
		t.Fatalf("reset gave rate %+v", r[1])
	}
	// Discontinuity time change: no rate for that interface.
	rt.reset()
	poll(&rt, t0, 10, map[uint32]ifSample{1: {In: c64(0), Out: c64(0), Disc: 5, HasDisc: true}})
	r = poll(&rt, t0.Add(10*time.Second), 1010, map[uint32]ifSample{1: {In: c64(100), Out: c64(100), Disc: 900, HasDisc: true}})
	if len(r) != 0 {
		t.Fatalf("rate across discontinuity: %v", r)
	}
	// Same timestamp twice: no rate (no division by zero).
	r = poll(&rt, t0.Add(10*time.Second), 1010, map[uint32]ifSample{1: {In: c64(200), Out: c64(200), Disc: 900, HasDisc: true}})
	if len(r) != 0 {
		t.Fatalf("rate with zero interval: %v", r)
	}
}

func TestRateTracker32BitWrap(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	var rt rateTracker
	s := func(v uint64) map[uint32]ifSample {
		return map[uint32]ifSample{3: {In: c32(v), Out: c32(v), Speed: 1e9}}
	}
	poll(&rt, t0, 100, s(math.MaxUint32-999))
	r := poll(&rt, t0.Add(10*time.Second), 1100, s(1000))
	if !r[3].HasIn || r[3].In != 2000*8/10 {
		t.Fatalf("wrap rate = %+v, want %v", r[3], 2000*8/10)
	}
	// 32-bit counter lower after a reboot: no wrap, no rate.
	r = poll(&rt, t0.Add(20*time.Second), 50, s(10))
	if len(r) != 0 {
		t.Fatalf("reboot treated as wrap: %v", r)
	}
	// Rates are never negative nor above one full 32-bit turn per interval.
	vals := []uint64{10, 5, math.MaxUint32, 0, 7, 7, 3, math.MaxUint32 - 1, 2}
	up := uint64(100)
	for i, v := range vals {
		up += 1000
		for _, rr := range poll(&rt, t0.Add(time.Duration(30+10*i)*time.Second), up, s(v)) {
			if rr.In < 0 || rr.Out < 0 || rr.In > maxBitRate || rr.In > float64(math.MaxUint32)*8/10 {
				t.Fatalf("bad rate %+v at step %d", rr, i)
			}
		}
	}
}
