// Package sla is the SLA engine: it turns ICMP probe rounds into states
// per link per minute and per 10-second slot, and those into availability,
// outages, causes, contract restitution and site availability for a
// period.
//
// # Minute states and slots
//
// Every ICMP round that matches a link is classified on arrival: down when
// no reply came, degraded when its loss or mean RTT is over the link's
// thresholds, up otherwise. A minute keeps, in 16 bits merged with bitwise
// OR, the set of classes seen in it (bits 0-2, so DataState still names
// the minute) and, for each of its six 10-second slots, whether a round
// timed in that slot was down (bits 4-9) or good, up or degraded (bits
// 10-15). OR is commutative and idempotent, so rounds may arrive in any
// order and be replayed any number of times: the minute ends in the same
// state.
//
// When a period is computed, every slot of a minute with data gets an
// effective state: down when it holds a down round and no good one, good
// when it holds a good round; a slot without a round takes the state of
// the latest earlier round no more than 60 s (six slots) before it, else
// that of the first round after it in the same minute (see slotStates).
// So an outage starts at its first failed round and ends at the first good
// round after it, to 10 s. A minute's down time is 10 s per down slot; its
// other slots are up, or degraded when a degraded round was seen in the
// minute. A minute without rounds is nodata. Minutes stored before slots
// existed (class bits only) read as six down slots when the minute was
// down and as six good slots otherwise, which gives the figures they gave.
// Maintenance windows and monitoring gaps (the collector itself was not
// running and no agent of the site was alive, outside any declared
// monitored span) are overlaid on whole minutes when a period is computed, so
// they may be declared afterwards.
//
// A link with a radio signal threshold (thresholds.signal_dbm: radio
// links by default) also gets bit 3, BitSignalLow, in every minute in which
// a snmp_radio point of its snmp device and interface reports a signal
// below the threshold. The bit alone is no data: it turns the minute's
// good slots degraded, never a minute without rounds into a minute with
// data, and never a down slot into a good one.
//
// Minutes are stored per UTC day (see statedb).
package sla

import (
	"fmt"
	"strings"
)

// Bits are the classes seen in one minute (of a link or service), or
// presence (of a site agent's heartbeat, or of the collector itself).
const (
	BitUp       uint16 = 1 << 0
	BitDegraded uint16 = 1 << 1
	BitDown     uint16 = 1 << 2
	// BitSignalLow marks a link minute in which the link's radio signal
	// was below its threshold (no class, no slot: see DataState).
	BitSignalLow uint16 = 1 << 3
	// BitSeen marks a heartbeat or collector minute.
	BitSeen uint16 = 1 << 0
	// ClassBits are the class bits of a minute.
	ClassBits = BitUp | BitDegraded | BitDown
	// SlotBits are the slot bits of a minute: BitSlotDown << s for a down
	// round in slot s, BitSlotGood << s for an up or degraded one.
	SlotBits    uint16 = 0xfff0
	BitSlotDown uint16 = 1 << 4
	BitSlotGood uint16 = 1 << 10
)

// Slots of a minute.
const (
	SlotsPerMinute = 6
	SlotSeconds    = 10
)

// SlotOf returns the 10-second slot of the minute that a Unix nanosecond
// timestamp falls in: floor((t mod 60 s) / 10 s), also before 1970.
func SlotOf(ns int64) int {
	r := ns % 60e9
	if r < 0 {
		r += 60e9
	}
	return int(r / 10e9)
}

// RoundBits returns the bits of one round of class (BitUp, BitDegraded or
// BitDown) at ns: the class and the round's slot.
func RoundBits(ns int64, class uint16) uint16 {
	s := SlotOf(ns)
	if class&BitDown != 0 {
		return class | BitSlotDown<<s
	}
	return class | BitSlotGood<<s
}

// MinutesPerDay is the length of a day array.
const MinutesPerDay = 1440

// State is the state of a link or site in one minute.
type State uint8

// States, in report order.
const (
	Up State = iota
	Degraded
	Down
	Maintenance
	NoData
	// Monitoring is a minute without data while the collector itself was
	// not running, no agent of the site sent a heartbeat and no declared
	// monitored span covers it: never an outage, never counted against a
	// site.
	Monitoring
	numStates
)

var stateNames = [...]string{"up", "degraded", "down", "maintenance", "nodata", "monitoring"}

func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("state(%d)", uint8(s))
}

// ParseState is the inverse of String.
func ParseState(s string) (State, error) {
	for i, n := range stateNames {
		if strings.EqualFold(s, n) {
			return State(i), nil
		}
	}
	return 0, fmt.Errorf("unknown state %q (want one of %s)", s, strings.Join(stateNames[:], ", "))
}

// DataState is the state that a minute's class bits give, before
// overlays: the classes seen, without slots (a minute with up and down
// rounds is degraded here; its figures count its down slots). An up
// minute whose radio signal was low (BitSignalLow) is degraded.
func DataState(bits uint16) State {
	switch bits & ClassBits {
	case 0:
		return NoData
	case BitUp:
		if bits&BitSignalLow != 0 {
			return Degraded
		}
		return Up
	case BitDown:
		return Down
	default:
		return Degraded
	}
}

// Thresholds decide when a round that got replies is degraded.
type Thresholds struct {
	LossRatio float64 // loss above this is degraded
	RTT       float64 // seconds; mean RTT above this is degraded
	// SignalDBm: a radio signal below this marks the minute BitSignalLow;
	// -Inf for none.
	SignalDBm float64
}

// SignalLow tells whether a radio signal reading (dBm) is below the
// threshold. NaN is never low.
func (t Thresholds) SignalLow(dbm float64) bool { return dbm < t.SignalDBm }

// Classify returns the bit of one ICMP round: up is the round's `up`
// field, loss its loss_ratio, rtt its rtt_avg_seconds (hasRTT false when
// absent).
func Classify(up bool, loss, rtt float64, hasRTT bool, t Thresholds) uint16 {
	switch {
	case !up:
		return BitDown
	case loss > t.LossRatio:
		return BitDegraded
	case hasRTT && rtt > t.RTT:
		return BitDegraded
	default:
		return BitUp
	}
}

// UnixMinute is minutes since the Unix epoch.
type UnixMinute = int64

// MinuteOf returns the Unix minute of a Unix nanosecond timestamp
// (floored, also before 1970).
func MinuteOf(ns int64) UnixMinute {
	m := ns / 60e9
	if ns%60e9 < 0 {
		m--
	}
	return m
}

// DayOf splits a Unix minute into its UTC day and the minute of that day.
func DayOf(m UnixMinute) (day int64, off int) {
	day = m / MinutesPerDay
	o := m % MinutesPerDay
	if o < 0 {
		o += MinutesPerDay
		day--
	}
	return day, int(o)
}
