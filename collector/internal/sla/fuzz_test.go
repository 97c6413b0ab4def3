package sla

import (
	"slices"
	"testing"
	"time"
)

// FuzzParsePeriod: any input gives an error or a period that starts
// before it ends, at local midnight, and whose months tile it exactly.
func FuzzParsePeriod(f *testing.F) {
	for _, s := range []string{"2026-10", "2026-Q4", "2026", "2026-10-01..2026-10-15", "2026-13", "..", "2026-Q", "9999-12", "1970-01-01..9999-12-31"} {
		f.Add(s)
	}
	loc := time.FixedZone("WITA", 8*3600)
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePeriod(s, loc)
		if err != nil {
			return
		}
		if !p.Start.Before(p.End) {
			t.Fatalf("%q: start %s not before end %s", s, p.Start, p.End)
		}
		if h, m, _ := p.Start.Clock(); h != 0 || m != 0 {
			t.Fatalf("%q: start %s is not midnight", s, p.Start)
		}
		if p.End.Sub(p.Start) > (MaxPeriodDays*24+1)*time.Hour || p.Start.Year() < MinYear || p.End.Year() > MaxYear+1 {
			t.Fatalf("%q: %s..%s is outside the bounds", s, p.Start, p.End)
		}
		at := p.Start
		for _, m := range p.Months() {
			if !m.Start.Equal(at) || !m.Start.Before(m.End) {
				t.Fatalf("%q: month %s does not continue at %s", s, m.Label, at)
			}
			at = m.End
		}
		if !at.Equal(p.End) {
			t.Fatalf("%q: months end at %s, period at %s", s, at, p.End)
		}
	})
}

// FuzzSlotStates: any stored minute bits (slots, legacy minutes, the
// collector's own minutes or not) give one valid state per slot, nodata
// or a monitoring gap exactly for the minutes without class bits, six
// slots per minute, and outages whose seconds add up.
func FuzzSlotStates(f *testing.F) {
	f.Add([]byte{0x01, 0xfc, 0x04, 0x03, 0x05, 0xe0}, []byte{1, 0, 1})
	f.Add([]byte{0x04, 0x00, 0x00, 0x00, 0x01, 0x00}, []byte{})
	f.Add([]byte{0x07, 0xff, 0x06, 0x10}, []byte{0, 0})
	f.Fuzz(func(t *testing.T, raw, coll []byte) {
		n := len(raw) / 2
		bits := make([]uint16, n)
		for i := range bits {
			bits[i] = uint16(raw[2*i]) | uint16(raw[2*i+1])<<8
		}
		var cl []uint16
		if len(coll) >= n {
			cl = make([]uint16, n)
			for i := range cl {
				cl[i] = uint16(coll[i])
			}
		}
		states := SlotStates(bits, cl)
		if len(states) != n {
			t.Fatalf("%d minutes give %d", n, len(states))
		}
		if ref := refSlotStates(bits, cl); !slices.Equal(states, ref) {
			t.Fatalf("bits %x: slots %x, the rule gives %x", bits, states, ref)
		}
		var c Counts
		for i, m := range states {
			for s := range SlotsPerMinute {
				st := m.At(s)
				data := st == Up || st == Degraded || st == Down
				if data != (bits[i]&ClassBits != 0) || st >= numStates {
					t.Fatalf("minute %d bits %016b: slot %d is %s", i, bits[i], s, st)
				}
			}
			m.addSeconds(&c)
		}
		var total int64
		for _, v := range c {
			total += v
		}
		if total != int64(60*n) {
			t.Fatalf("%d minutes count %d s", n, total)
		}
		var down int64
		for _, o := range outages(states, nil, 0, 30, 0, n) {
			if o.DownSeconds <= 0 || o.DownSeconds > o.DurationSeconds || o.InPeriodSeconds != o.DownSeconds {
				t.Fatalf("outage %+v", o)
			}
			down += o.DownSeconds
		}
		if down != c[Down] {
			t.Fatalf("outages hold %d s down, the minutes %d s", down, c[Down])
		}
	})
}

// refSlotStates is SlotStates written as the rule reads, slot by slot,
// without shortcuts.
func refSlotStates(bits, coll []uint16) []Slots {
	const none, good, down = 0, 1, 2
	round := make([]int, 6*len(bits)) // the round state of each slot
	for i, b := range bits {
		if b&ClassBits == 0 {
			continue
		}
		d, g := b>>4&0x3f, b>>10&0x3f
		if d|g == 0 {
			if DataState(b) == Down {
				d = 0x3f
			} else {
				g = 0x3f
			}
		}
		for s := range 6 {
			switch {
			case g&(1<<s) != 0:
				round[6*i+s] = good
			case d&(1<<s) != 0:
				round[6*i+s] = down
			}
		}
	}
	out := make([]Slots, len(bits))
	for i, b := range bits {
		if b&ClassBits == 0 {
			out[i] = Uniform(NoData)
			if coll != nil && coll[i] == 0 {
				out[i] = Uniform(Monitoring)
			}
			continue
		}
		goodState := Up
		if b&(BitDegraded|BitSignalLow) != 0 { // a low radio signal degrades the good slots
			goodState = Degraded
		}
		if b&SlotBits == 0 && DataState(b) != Down {
			goodState = DataState(b)
		}
		for s := range 6 {
			g := 6*i + s
			st := round[g]
			for k := 1; st == none && k <= 6 && g-k >= 0; k++ {
				st = round[g-k]
			}
			for k := s + 1; st == none && k < 6; k++ {
				st = round[6*i+k]
			}
			if st == down {
				out[i] = out[i].with(s, Down)
			} else {
				out[i] = out[i].with(s, goodState)
			}
		}
	}
	return out
}
