package sla

import "math/bits"

// Slots are the effective states of the six 10-second slots of one
// minute, four bits each: slot s in bits 4s to 4s+3. A minute whose slots
// are all alike is Uniform(state), the common case the computations take
// in one step.
type Slots uint32

// Uniform returns a minute whose six slots are all in state s.
func Uniform(s State) Slots { return Slots(s) * 0x111111 }

// At returns the state of slot s.
func (m Slots) At(s int) State { return State(m >> (4 * s) & 0xf) }

// uniform returns the state of a minute whose slots are alike.
func (m Slots) uniform() (State, bool) {
	s := State(m & 0xf)
	return s, m == Uniform(s)
}

// with returns m with slot s set to st.
func (m Slots) with(s int, st State) Slots {
	return m&^(0xf<<(4*s)) | Slots(st)<<(4*s)
}

// Mask returns the slots in state st, bit s for slot s.
func (m Slots) Mask(st State) uint8 {
	if u, ok := m.uniform(); ok {
		if u == st {
			return 0x3f
		}
		return 0
	}
	var out uint8
	for s := range SlotsPerMinute {
		if m.At(s) == st {
			out |= 1 << s
		}
	}
	return out
}

// addSeconds adds a minute's seconds per state to c.
func (m Slots) addSeconds(c *Counts) {
	if u, ok := m.uniform(); ok {
		c[u] += 60
		return
	}
	for s := range SlotsPerMinute {
		c[m.At(s)] += SlotSeconds
	}
}

// addSecondsN adds n minutes m's seconds per state to c.
func (m Slots) addSecondsN(c *Counts, n int64) {
	if u, ok := m.uniform(); ok {
		c[u] += 60 * n
		return
	}
	for s := range SlotsPerMinute {
		c[m.At(s)] += SlotSeconds * n
	}
}

// combineSlots is combine, slot by slot.
func combineSlots(a, b Slots) Slots {
	if a == b {
		return a // combine of a state with itself is the state
	}
	ua, oka := a.uniform()
	ub, okb := b.uniform()
	if oka && okb {
		return Uniform(combineTable[ua][ub])
	}
	var out Slots
	for s := range SlotsPerMinute {
		out = out.with(s, combineTable[a.At(s)][b.At(s)])
	}
	return out
}

// SlotStates gives the data states of a series' slots from its minute
// bits (coll, the minutes something was watching: the collector running,
// the site's agent alive or a declared monitored span, see presence; may
// be nil: a minute without data is then nodata, else a monitoring gap
// when nothing was watching either).
//
// A slot with a down round and no good round is down; a slot with a good
// round is good (10-second resolution: a slot holding both counts good).
// A slot without a round takes the state of the latest earlier round no
// more than 60 s (six slots) before it; otherwise that of the first round
// after it in the same minute. A minute without rounds is nodata. Good
// slots are up, or degraded when a degraded round was seen in the
// minute. A minute with class bits and no slot bits (stored before slots
// existed) is six down rounds when its state is down and six good rounds
// of its state otherwise (up, or degraded as it was).
func SlotStates(bitsOf, coll []uint16) []Slots {
	out := make([]Slots, len(bitsOf))
	slotStatesInto(out, bitsOf, coll)
	return out
}

// slotStatesInto is SlotStates into out (len(bitsOf) long; every minute
// is written).
func slotStatesInto(out []Slots, bitsOf, coll []uint16) {
	last := -(1 << 20) // slot index of the latest round seen (none: far before)
	lastDown := false
	// a minute's slots depend only on its bits, how far back the latest
	// round is (up to seven slots) and that round's state: a run of
	// minutes with the same bits (a link probed steadily) repeats the
	// previous minute's result
	type key struct {
		b    uint16
		back int
		down bool
	}
	var (
		memo              key
		memoOut           Slots
		memoTop           int
		memoTopDown, have bool
	)
	for i := 0; i < len(bitsOf); i++ {
		b := bitsOf[i]
		k := key{b, min(SlotsPerMinute*i-last, SlotsPerMinute+1), lastDown}
		if have && k == memo {
			out[i] = memoOut
			// when the memo is its own successor (the next minute's
			// latest round is as far back and in the same state), a run
			// of minutes with the same bits all take it
			if memo.back == SlotsPerMinute-memoTop && memo.down == memoTopDown {
				e := runEnd(bitsOf, i)
				fillRun(out[i:e], memoOut)
				i = e - 1
			}
			last, lastDown = SlotsPerMinute*i+memoTop, memoTopDown
			continue
		}
		cls := b & ClassBits
		if cls == 0 {
			out[i] = Uniform(NoData)
			if coll != nil && coll[i] == 0 {
				out[i] = Uniform(Monitoring)
			}
			continue
		}
		good := Up
		if cls&BitDegraded != 0 || b&BitSignalLow != 0 {
			good = Degraded
		}
		down := uint8(b>>4) & 0x3f
		gd := uint8(b>>10) & 0x3f
		if down|gd == 0 {
			// before slots: the minute's state, whole
			if good = DataState(b); good == Down {
				down = 0x3f
			} else {
				gd = 0x3f
			}
		}
		rounds := down | gd
		isDown := down &^ gd
		base := SlotsPerMinute * i
		first := bits.TrailingZeros8(rounds)
		top := 7 - bits.LeadingZeros8(rounds)
		// slots before the first round take the previous round when it
		// is no more than six slots back
		carried := first > 0 && base-last <= SlotsPerMinute
		switch {
		case isDown == 0 && !(carried && lastDown):
			out[i] = Uniform(good)
		case gd == 0 && (!carried || lastDown):
			out[i] = Uniform(Down)
		default:
			var m Slots
			st := lastDown
			for s := range SlotsPerMinute {
				switch {
				case rounds&(1<<s) != 0:
					st = isDown&(1<<s) != 0
					last = base + s
				case s < first && base+s-last > SlotsPerMinute:
					st = isDown&(1<<first) != 0
				}
				if st {
					m = m.with(s, Down)
				} else {
					m = m.with(s, good)
				}
			}
			out[i] = m
		}
		last = base + top
		lastDown = isDown&(1<<top) != 0
		memo, memoOut, memoTop, memoTopDown, have = k, out[i], top, lastDown, true
	}
}

// popcount6 counts the slots of a mask.
func popcount6(m uint8) int64 { return int64(bits.OnesCount8(m & 0x3f)) }
