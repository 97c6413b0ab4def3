package ingest

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// agentSlots bounds the write requests one agent has in flight, so that
// one agent (a trickling or flooding one) cannot take the slots and the
// memory every other agent needs.
type agentSlots struct {
	mu sync.Mutex
	n  map[string]int // agents with requests in flight only
}

// acquire takes one of agent's max slots (0: no limit); held says whether
// a slot was taken, to be given back with release. A smaller max after a
// reload applies to new requests: those in flight keep their slots.
func (a *agentSlots) acquire(agent string, max int) (held, ok bool) {
	if max <= 0 {
		return false, true
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.n[agent] >= max {
		return false, false
	}
	a.n[agent]++
	return true, true
}

func (a *agentSlots) release(agent string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.n[agent] <= 1 {
		delete(a.n, agent)
		return
	}
	a.n[agent]--
}

// budget is the memory the request bodies being read and decoded may
// hold together (limits.max_decoded_bytes_in_flight). A body reserves
// its buffer's capacity as the buffer grows and gives it back when the
// request ends. A reservation that does not fit waits a little for
// others to give memory back: bodies hold memory for milliseconds. And a
// body larger than smallBody may not take the last eighth of the budget,
// so that the small bodies of honest agents get in between the large
// ones of a flood (gzip bombs).
type budget struct {
	// used is shared; the bound (max) is the one of the request's
	// Limits, passed in, so that a reload applies to the next request.
	used atomic.Int64

	mu      sync.Mutex
	waiters int
	freed   chan struct{} // closed when memory is given back while someone waits
}

// budgetWait is how long a reservation waits for memory before the
// request gets 503.
const budgetWait = 2 * time.Second

// smallBody is the largest buffer that may use the whole budget (a round
// of 5,000 lines is about 600 kB).
const smallBody = 1 << 20

// tryReserve takes n bytes if that leaves keep bytes of max free.
func (b *budget) tryReserve(n, keep, max int64) bool {
	if n <= 0 {
		return true
	}
	for {
		u := b.used.Load()
		if u+n > max-keep {
			return false
		}
		if b.used.CompareAndSwap(u, u+n) {
			return true
		}
	}
}

// reserve takes n bytes, leaving keep free, waiting up to wait (or until
// ctx ends) for others to give memory back.
func (b *budget) reserve(ctx context.Context, n, keep, max int64, wait time.Duration) bool {
	if b.tryReserve(n, keep, max) {
		return true
	}
	if wait <= 0 || n > max-keep {
		return false
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		b.mu.Lock()
		if b.freed == nil {
			b.freed = make(chan struct{})
		}
		ch := b.freed
		b.waiters++
		b.mu.Unlock()
		// again after registering, so that a release in between is seen
		ok := b.tryReserve(n, keep, max)
		done := false
		if !ok {
			select {
			case <-ch:
			case <-timer.C:
				done = true
			case <-ctx.Done():
				done = true
			}
		}
		b.mu.Lock()
		b.waiters--
		b.mu.Unlock()
		if ok || b.tryReserve(n, keep, max) {
			return true
		}
		if done {
			return false
		}
	}
}

func (b *budget) release(n int64) {
	if n <= 0 {
		return
	}
	b.used.Add(-n)
	b.mu.Lock()
	if b.waiters > 0 && b.freed != nil {
		close(b.freed)
		b.freed = nil
	}
	b.mu.Unlock()
}

// bodyBuf is a request body in memory and the budget it holds.
type bodyBuf struct {
	b        []byte
	reserved int64
}

// errBudget is returned by fill when the memory budget is exhausted.
var errBudget = errors.New("memory budget exhausted")

const (
	minBodyBuf   = 64 << 10 // first allocation when the size is unknown
	maxPooledBuf = 4 << 20  // larger buffers are not kept for reuse
)

// fill reads src to EOF into bb, growing the buffer (and its share of
// bg) as the data arrives: at most limit+1 bytes are read, so the caller
// sees a body over limit by its length. hint is the expected size (0 when
// unknown).
func (bb *bodyBuf) fill(ctx context.Context, src io.Reader, limit, hint int64, bg *budget, bgMax int64) error {
	for {
		if len(bb.b) == cap(bb.b) {
			if int64(len(bb.b)) > limit {
				return nil
			}
			c := max(int64(cap(bb.b))*2, minBodyBuf)
			if hint > 0 && int64(cap(bb.b)) <= hint {
				c = max(c, hint+1)
			}
			c = min(c, limit+1)
			keep := int64(0)
			if c > smallBody {
				keep = bgMax / 8
			}
			if !bg.reserve(ctx, c-bb.reserved, keep, bgMax, budgetWait) {
				return errBudget
			}
			bb.reserved = max(bb.reserved, c)
			nb := make([]byte, len(bb.b), c)
			copy(nb, bb.b)
			bb.b = nb
		}
		n, err := src.Read(bb.b[len(bb.b):cap(bb.b)])
		bb.b = bb.b[:len(bb.b)+n]
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// rateReader makes a request body arrive at a minimum rate: before each
// read it sets the connection's read deadline to start + grace + the time
// the bytes read so far allow at rate, never later than hard. A sender
// slower than that gets a timeout (408) and its request ends, giving
// back its slots.
type rateReader struct {
	r     io.Reader
	rc    *http.ResponseController
	start time.Time
	grace time.Duration
	rate  float64 // bytes per second; 0: no minimum
	hard  time.Time
	n     int64
	set   time.Time // the deadline set last
	eof   bool      // the body was read to its end
	slow  bool      // a read ran into the deadline
}

// deadlineStep is how far the deadline must move before it is set again.
const deadlineStep = 100 * time.Millisecond

func (t *rateReader) Read(p []byte) (int, error) {
	if t.eof {
		// net/http reads ahead once the body is done; a deadline set
		// now would cut that read and cancel the request's context.
		return 0, io.EOF
	}
	dl := t.hard
	if t.rate > 0 {
		dl = t.start.Add(t.grace + time.Duration(float64(t.n)/t.rate*float64(time.Second)))
		if dl.After(t.hard) {
			dl = t.hard
		}
	}
	if t.set.IsZero() || dl.Sub(t.set) >= deadlineStep || dl.Before(t.set) {
		_ = t.rc.SetReadDeadline(dl) // not supported: only the server's own timeouts apply
		t.set = dl
	}
	n, err := t.r.Read(p)
	t.n += int64(n)
	switch {
	case err == io.EOF:
		t.eof = true
	case err != nil && isTimeout(err):
		t.slow = true
	}
	return n, err
}

func isTimeout(err error) bool {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
