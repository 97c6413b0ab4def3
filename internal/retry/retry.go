// Package retry is the one retry policy of both binaries: capped
// exponential backoff with full jitter, a Retry-After parser with a cap,
// and a context-aware sleep.
//
// The backoff after the n-th consecutive failure is uniform between Min and
// min(Min·2ⁿ⁻¹, Max): the first retry waits Min, later ones spread over a
// range that doubles up to Max, so clients that failed together do not
// retry together. Each caller keeps its own bounds (and its own Retry-After
// cap); none is defaulted here.
//
// Neither github.com/cenkalti/backoff (jitter ± a factor around the ceiling)
// nor github.com/jpillora/backoff (jitter before the cap, so most waits at
// the cap equal Max) has this policy or an injectable random source, and
// neither parses Retry-After.
package retry

import (
	"context"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Backoff is capped exponential backoff with full jitter. The zero Rand
// uses math/rand/v2.
type Backoff struct {
	Min, Max time.Duration
	// Rand returns a uniform integer in [0, n) for n > 0; nil means
	// math/rand/v2's Int64N. Tests pin delays with it.
	Rand func(n int64) int64
}

// Ceiling is the longest wait after the n-th consecutive failure (n from
// 1): min(Min·2ⁿ⁻¹, Max), never below Min. A negative Min counts as 0, a
// Max below Min as Min; n below 1 counts as 1.
func (b Backoff) Ceiling(n int) time.Duration {
	lo, hi := b.bounds()
	c := lo
	for i := 1; i < n && c < hi; i++ {
		if c > hi/2 {
			return hi
		}
		c *= 2
	}
	return min(c, hi)
}

// Delay is the wait after the n-th consecutive failure (n from 1): uniform
// in [Min, Ceiling(n)], both ends included.
func (b Backoff) Delay(n int) time.Duration {
	lo, _ := b.bounds()
	c := b.Ceiling(n)
	span := int64(c - lo)
	if span <= 0 {
		return lo
	}
	rnd := b.Rand
	if rnd == nil {
		rnd = rand.Int64N
	}
	return lo + time.Duration(min(max(rnd(span+1), 0), span))
}

func (b Backoff) bounds() (lo, hi time.Duration) {
	lo = max(b.Min, 0)
	return lo, max(b.Max, lo)
}

// ParseRetryAfter reads a Retry-After header value (RFC 9110 10.2.3):
// delay-seconds (digits only) or an HTTP date in any of the three formats
// net/http accepts, taken relative to now. Surrounding spaces are ignored.
// The result is between 0 and limit (a negative limit counts as 0): a date
// in the past is 0, a longer or overflowing delay is limit. ok is false
// when v is empty or neither form (a negative or fractional number,
// garbage), with a zero delay.
func ParseRetryAfter(v string, now time.Time, limit time.Duration) (d time.Duration, ok bool) {
	limit = max(limit, 0)
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if strings.Trim(v, "0123456789") == "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil || n > math.MaxInt64 {
			return limit, true // too many digits: "a very long time"
		}
		return Seconds(int64(n), limit), true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	d = t.Sub(now) // saturates at the extremes of time.Duration
	return min(max(d, 0), limit), true
}

// Seconds converts a count of seconds (Telegram's retry_after, or
// delay-seconds) to a duration between 0 and limit: 0 when n is not
// positive, limit when it is longer or overflows a time.Duration.
func Seconds(n int64, limit time.Duration) time.Duration {
	limit = max(limit, 0)
	switch {
	case n <= 0:
		return 0
	case n > int64(limit/time.Second):
		return limit
	}
	return min(time.Duration(n)*time.Second, limit)
}

// Sleep waits d or until ctx ends. It returns nil after the full wait and
// context.Cause(ctx) when ctx ended first (also when d is not positive and
// ctx has already ended).
func Sleep(ctx context.Context, d time.Duration) error {
	return SleepOrWake(ctx, d, nil)
}

// SleepOrWake is Sleep that also returns nil as soon as wake receives (a
// nil wake never does): an idle loop's poll interval that new work cuts
// short.
func SleepOrWake(ctx context.Context, d time.Duration, wake <-chan struct{}) error {
	if err := context.Cause(ctx); err != nil {
		return err
	}
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-t.C:
		return nil
	case <-wake:
		return nil
	}
}
