package remotewrite

import (
	"math/bits"
	"sort"
	"sync"
	"time"
)

// index tracks, per queued request, which endpoints have not yet had it,
// so that Pending and the queue gauges can answer per endpoint (the spool
// reports only on its slowest cursor).
//
// Invariants that make reconcile exact: a request enters the index only
// after the spool has it, and an endpoint's bit is cleared before the
// spool's cursor acks it. So every request the index holds as pending is
// in the spool undelivered, or was deleted by the spool's bounds, which
// always delete the oldest first.
type index struct {
	mu      sync.Mutex
	recs    []entry // ascending seq; entries nobody waits for are trimmed from the front
	live    int     // entries with waiting != 0
	batches []int   // per endpoint
	samples []int64 // per endpoint
}

type entry struct {
	seq     uint64
	points  int
	created time.Time
	waiting uint64 // bit i: endpoint i has not had it
}

func newIndex(endpoints int) *index {
	return &index{batches: make([]int, endpoints), samples: make([]int64, endpoints)}
}

func (x *index) all() uint64 {
	return 1<<len(x.batches) - 1
}

// add records a queued request that the endpoints in waiting still need.
func (x *index) add(seq uint64, points int, created time.Time, waiting uint64) {
	if waiting == 0 {
		return
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	// Appends may finish out of order; keep recs sorted.
	i := sort.Search(len(x.recs), func(i int) bool { return x.recs[i].seq >= seq })
	if i < len(x.recs) && x.recs[i].seq == seq {
		return
	}
	x.recs = append(x.recs, entry{})
	copy(x.recs[i+1:], x.recs[i:])
	x.recs[i] = entry{seq: seq, points: points, created: created, waiting: waiting}
	x.live++
	for b := waiting; b != 0; b &= b - 1 {
		ep := bits.TrailingZeros64(b)
		x.batches[ep]++
		x.samples[ep] += int64(points)
	}
}

// done clears the bits in mask of request seq (delivered or dropped for
// those endpoints).
func (x *index) done(seq uint64, mask uint64) {
	x.mu.Lock()
	defer x.mu.Unlock()
	i := sort.Search(len(x.recs), func(i int) bool { return x.recs[i].seq >= seq })
	if i < len(x.recs) && x.recs[i].seq == seq {
		x.clearLocked(i, mask)
		x.trimLocked()
	}
}

func (x *index) clearLocked(i int, mask uint64) {
	e := &x.recs[i]
	hit := e.waiting & mask
	if hit == 0 {
		return
	}
	for b := hit; b != 0; b &= b - 1 {
		ep := bits.TrailingZeros64(b)
		x.batches[ep]--
		x.samples[ep] -= int64(e.points)
	}
	e.waiting &^= hit
	if e.waiting == 0 {
		x.live--
	}
}

func (x *index) trimLocked() {
	n := 0
	for n < len(x.recs) && x.recs[n].waiting == 0 {
		n++
	}
	x.recs = x.recs[n:] // append reallocates, and so frees the front, as the index grows
}

// reconcile forgets the oldest pending requests the spool no longer holds:
// undelivered reports how many requests the spool holds that some endpoint
// has not had. It is called with the index locked, so that no
// acknowledgement changes the index while the spool is counted.
func (x *index) reconcile(undelivered func() int) {
	x.mu.Lock()
	defer x.mu.Unlock()
	extra := x.live - undelivered()
	for i := 0; extra > 0 && i < len(x.recs); i++ {
		if x.recs[i].waiting != 0 {
			x.clearLocked(i, x.all())
			extra--
		}
	}
	x.trimLocked()
}

// pending reports what waits for endpoint ep.
func (x *index) pending(ep int) (batches int, samples int64, oldest time.Time) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.batches[ep] > 0 {
		for _, e := range x.recs {
			if e.waiting&(1<<ep) != 0 {
				oldest = e.created
				break
			}
		}
	}
	return x.batches[ep], x.samples[ep], oldest
}
