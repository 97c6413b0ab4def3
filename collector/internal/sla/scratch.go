package sla

import (
	"context"
	"fmt"
	"sync"
)

// RangeIntoStore is a Store that also reads a range into the caller's
// slice (statedb's): Range into out, whose length is the number of
// minutes.
type RangeIntoStore interface {
	RangeInto(ctx context.Context, kind uint8, id string, from UnixMinute, out []uint16) error
}

// Scratch slices. A site's range read is a year and two days for an
// annual report: 1 MB of minute bits and 2 MB of slots per series. A
// report of thousands of sites used to allocate them afresh for each
// (30 GiB for a year of 5,000 links); SiteWithLinks now takes them from
// these pools and puts them back once the site's results are computed
// (no result keeps a reference to them).
var (
	u16Pool   slicePool[uint16]
	slotsPool slicePool[Slots]
)

// slicePool keeps slices of T for reuse.
type slicePool[T any] struct{ p sync.Pool } // of *[]T

// get returns a slice of n elements, not cleared.
func (p *slicePool[T]) get(n int) []T {
	if s, _ := p.p.Get().(*[]T); s != nil && cap(*s) >= n {
		return (*s)[:n]
	}
	return make([]T, n)
}

func (p *slicePool[T]) put(s []T) {
	if cap(s) > 0 {
		p.p.Put(&s)
	}
}

// scratch collects the scratch slices of one site's computation, to be
// released together; a slice added twice (a link's effective states that
// are its raw ones) is released once.
type scratch struct {
	u16   [][]uint16
	slots [][]Slots
}

func (s *scratch) addU16(b []uint16) []uint16 {
	s.u16 = append(s.u16, b)
	return b
}

func (s *scratch) addSlots(b []Slots) []Slots {
	s.slots = append(s.slots, b)
	return b
}

func (s *scratch) release() {
	seen := map[*uint16]bool{}
	for _, b := range s.u16 {
		if cap(b) > 0 && !seen[&b[:1][0]] {
			seen[&b[:1][0]] = true
			u16Pool.put(b)
		}
	}
	seenS := map[*Slots]bool{}
	for _, b := range s.slots {
		if cap(b) > 0 && !seenS[&b[:1][0]] {
			seenS[&b[:1][0]] = true
			slotsPool.put(b)
		}
	}
	s.u16, s.slots = nil, nil
}

// loadInto reads a link's or site's series into a scratch slice when the
// store can (else as load does); the collector's own minutes are shared
// and never scratch.
func (c *Computation) loadInto(ctx context.Context, sc *scratch, kind uint8, id string, from UnixMinute, n int) ([]uint16, error) {
	st, ok := c.e.Store.(RangeIntoStore)
	if sc == nil || !ok || kind == KindCollector {
		return c.load(ctx, kind, id, from, n)
	}
	out := sc.addU16(u16Pool.get(n))
	if err := st.RangeInto(ctx, kind, id, from, out); err != nil {
		return nil, fmt.Errorf("read minute states of %s: %w", id, err)
	}
	return out, nil
}
