// Package sla is the SLA engine: it turns ICMP probe rounds into one state
// per link per minute, and minute states into availability, outages,
// causes, contract restitution and site availability for a period.
//
// # Minute states
//
// Every ICMP round that matches a link is classified on arrival: down when
// no reply came, degraded when its loss or mean RTT is over the link's
// thresholds, up otherwise. A minute keeps the set of classes seen in it as
// three bits, merged with bitwise OR. OR is commutative and idempotent, so
// rounds may arrive in any order and be replayed any number of times: the
// minute ends in the same state. A minute is up when all its rounds were up,
// down when all were down, and degraded otherwise (some loss or delay, or
// part of the minute down). A minute without rounds is nodata. Maintenance
// windows and monitoring gaps (the collector itself was not running) are
// overlaid when a period is computed, so they may be declared afterwards.
//
// Minutes are stored per UTC day as a 1,440-byte array per link (see
// statedb), 1.4 kB per link-day, so a month of 5,000 links is about 216 MB.
package sla

import (
	"fmt"
	"strings"
)

// Bits are the classes seen in one minute (of a link), or presence (of a
// site agent's heartbeat, or of the collector itself).
const (
	BitUp       uint8 = 1 << 0
	BitDegraded uint8 = 1 << 1
	BitDown     uint8 = 1 << 2
	// BitSeen marks a heartbeat or collector minute.
	BitSeen uint8 = 1 << 0
)

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
	// not running: never an outage, never counted against a site.
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

// DataState is the state that a minute's bits give, before overlays.
func DataState(bits uint8) State {
	switch bits & (BitUp | BitDegraded | BitDown) {
	case 0:
		return NoData
	case BitUp:
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
}

// Classify returns the bit of one ICMP round: up is the round's `up`
// field, loss its loss_ratio, rtt its rtt_avg_seconds (hasRTT false when
// absent).
func Classify(up bool, loss, rtt float64, hasRTT bool, t Thresholds) uint8 {
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
