package sla

import (
	"context"
	"sort"
	"sync"
)

// Kinds of minute series.
const (
	KindLink      uint8 = 1 // class and slot bits of ICMP rounds; id is the link id
	KindSite      uint8 = 2 // heartbeat of a site's agent; id is the site id
	KindCollector uint8 = 3 // the collector was running; id is ""
	KindService   uint8 = 4 // class and slot bits of checks; id is the service id
	// KindPower: BitSeen when a UPS of the site reported on_battery=1 in
	// the minute (snmp_ups); id is the site id
	KindPower uint8 = 5
)

// Mark sets bits in one minute of one series.
type Mark struct {
	Kind   uint8
	ID     string
	Minute UnixMinute
	Bits   uint16
}

// DayKey names one day array.
type DayKey struct {
	Kind uint8
	ID   string
	Day  int64
}

// Store keeps the day arrays.
type Store interface {
	// Merge ORs marks into the stored arrays, atomically: after an error
	// nothing was stored.
	Merge(ctx context.Context, marks []Mark) error
	// Range returns the minutes [from, from+n) of one series, zero where
	// nothing is stored.
	Range(ctx context.Context, kind uint8, id string, from UnixMinute, n int) ([]uint16, error)
}

// GroupMarks ORs marks into per-day arrays, for a Store's Merge.
func GroupMarks(marks []Mark) map[DayKey]*[MinutesPerDay]uint16 {
	out := make(map[DayKey]*[MinutesPerDay]uint16)
	for _, m := range marks {
		day, off := DayOf(m.Minute)
		k := DayKey{m.Kind, m.ID, day}
		a := out[k]
		if a == nil {
			a = new([MinutesPerDay]uint16)
			out[k] = a
		}
		a[off] |= m.Bits
	}
	return out
}

// SortedKeys returns the keys of a grouping in a stable order (so that
// concurrent writers lock rows in the same order).
func SortedKeys(g map[DayKey]*[MinutesPerDay]uint16) []DayKey {
	keys := make([]DayKey, 0, len(g))
	for k := range g {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		if a.ID != b.ID {
			return a.ID < b.ID
		}
		return a.Day < b.Day
	})
	return keys
}

// CopyRange copies the part of day arrays that falls in [from, from+n)
// into out (len n); get returns a day's array or nil.
func CopyRange(out []uint16, from UnixMinute, get func(day int64) []uint16) {
	n := len(out)
	for i := 0; i < n; {
		day, off := DayOf(from + int64(i))
		c := MinutesPerDay - off
		if c > n-i {
			c = n - i
		}
		if a := get(day); a != nil {
			copy(out[i:i+c], a[off:off+c])
		}
		i += c
	}
}

// MemStore is a Store in memory, for tests and benchmarks.
type MemStore struct {
	mu   sync.Mutex
	days map[DayKey]*[MinutesPerDay]uint16
}

// NewMemStore returns an empty MemStore.
func NewMemStore() *MemStore {
	return &MemStore{days: map[DayKey]*[MinutesPerDay]uint16{}}
}

// Merge implements Store.
func (s *MemStore) Merge(_ context.Context, marks []Mark) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, a := range GroupMarks(marks) {
		d := s.days[k]
		if d == nil {
			s.days[k] = a
			continue
		}
		for i, b := range a {
			d[i] |= b
		}
	}
	return nil
}

// Range implements Store.
func (s *MemStore) Range(_ context.Context, kind uint8, id string, from UnixMinute, n int) ([]uint16, error) {
	out := make([]uint16, n)
	s.mu.Lock()
	defer s.mu.Unlock()
	CopyRange(out, from, func(day int64) []uint16 {
		if a := s.days[DayKey{kind, id, day}]; a != nil {
			return a[:]
		}
		return nil
	})
	return out, nil
}

// LinksWithData returns the links with any stored minute in UTC days
// [fromDay, toDay].
func (s *MemStore) LinksWithData(_ context.Context, fromDay, toDay int64) (map[string]bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]bool{}
	for k, a := range s.days {
		if k.Kind == KindLink && k.Day >= fromDay && k.Day <= toDay && anySet(a[:]) {
			out[k.ID] = true
		}
	}
	return out, nil
}
