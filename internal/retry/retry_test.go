package retry

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

const s = time.Second

func TestBackoffCeiling(t *testing.T) {
	for _, tc := range []struct {
		min, max time.Duration
		n        int
		want     time.Duration
	}{
		{s, time.Minute, 1, s}, // the first retry waits Min
		{s, time.Minute, 2, 2 * s},
		{s, time.Minute, 3, 4 * s},
		{s, time.Minute, 6, 32 * s},
		{s, time.Minute, 7, time.Minute}, // 64 s capped
		{s, time.Minute, 1000, time.Minute},
		{s, time.Minute, math.MaxInt, time.Minute},
		{s, time.Minute, 0, s}, // below 1 counts as 1
		{s, time.Minute, -3, s},
		{2 * s, 5 * time.Minute, 8, 256 * s},
		{2 * s, 5 * time.Minute, 9, 5 * time.Minute},
		{time.Minute, s, 5, time.Minute}, // Max below Min: Min
		{-s, s, 3, 0},                    // negative Min counts as 0: no growth
		{0, s, 3, 0},
		{1, math.MaxInt64, 62, 1 << 61},
		{1, math.MaxInt64, 64, math.MaxInt64}, // doubling does not overflow
		{math.MaxInt64/2 + 1, math.MaxInt64, 2, math.MaxInt64},
	} {
		b := Backoff{Min: tc.min, Max: tc.max}
		if got := b.Ceiling(tc.n); got != tc.want {
			t.Errorf("Backoff{%s, %s}.Ceiling(%d) = %s, want %s", tc.min, tc.max, tc.n, got, tc.want)
		}
	}
}

// Growth: every ceiling is twice the last until it reaches Max, and stays.
func TestBackoffGrowth(t *testing.T) {
	b := Backoff{Min: 250 * time.Millisecond, Max: 30 * s}
	prev := b.Ceiling(1)
	for n := 2; n <= 40; n++ {
		c := b.Ceiling(n)
		if c != min(2*prev, b.Max) {
			t.Fatalf("Ceiling(%d) = %s after %s", n, c, prev)
		}
		prev = c
	}
	if prev != b.Max {
		t.Fatalf("ceiling ends at %s, want Max %s", prev, b.Max)
	}
}

// Delay is Min plus a draw from [0, Ceiling-Min]: the random source pins
// both ends, and an out-of-range source is clamped.
func TestBackoffDelayBounds(t *testing.T) {
	b := Backoff{Min: s, Max: time.Minute}
	for _, tc := range []struct {
		name string
		rnd  func(int64) int64
		n    int
		want time.Duration
	}{
		{"lowest", func(int64) int64 { return 0 }, 4, s},
		{"highest", func(n int64) int64 { return n - 1 }, 4, 8 * s},
		{"highest capped", func(n int64) int64 { return n - 1 }, 20, time.Minute},
		{"middle", func(n int64) int64 { return n / 2 }, 3, 2500 * time.Millisecond},
		{"source too high", func(n int64) int64 { return n + 5 }, 3, 4 * s},
		{"source negative", func(int64) int64 { return -1 }, 3, s},
		{"first retry", func(int64) int64 { t.Fatal("no draw for an empty range"); return 0 }, 1, s},
	} {
		b.Rand = tc.rnd
		if got := b.Delay(tc.n); got != tc.want {
			t.Errorf("%s: Delay(%d) = %s, want %s", tc.name, tc.n, got, tc.want)
		}
	}
	// The draw covers the whole range, both ends included.
	var asked int64
	b.Rand = func(n int64) int64 { asked = n; return 0 }
	b.Delay(3)
	if asked != int64(3*s)+1 {
		t.Errorf("drew from [0, %d), want [0, %d)", asked, int64(3*s)+1)
	}
	// The widest range does not overflow.
	wide := Backoff{Min: 1, Max: math.MaxInt64, Rand: func(n int64) int64 { return n - 1 }}
	if got := wide.Delay(100); got != math.MaxInt64 {
		t.Errorf("widest Delay = %d", got)
	}
}

// With the default source, delays stay in [Min, Ceiling] and spread over
// the range (full jitter, not a fixed fraction of the ceiling).
func TestBackoffDelaySpread(t *testing.T) {
	src := rand.New(rand.NewPCG(1, 2))
	for _, b := range []Backoff{
		{Min: 250 * time.Millisecond, Max: 30 * s, Rand: src.Int64N},
		{Min: 2 * s, Max: 5 * time.Minute, Rand: src.Int64N},
		{Min: time.Millisecond, Max: 10 * time.Millisecond}, // math/rand/v2
	} {
		for n := 1; n <= 12; n++ {
			c := b.Ceiling(n)
			var low, high bool
			for range 200 {
				d := b.Delay(n)
				if d < b.Min || d > c {
					t.Fatalf("%+v: Delay(%d) = %s outside [%s, %s]", b, n, d, b.Min, c)
				}
				mid := b.Min + (c-b.Min)/2
				low, high = low || d < mid, high || d > mid
			}
			if c > b.Min && !(low && high) {
				t.Errorf("%+v: Delay(%d) not spread over [%s, %s]", b, n, b.Min, c)
			}
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2025, 11, 24, 12, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	for _, tc := range []struct {
		in    string
		limit time.Duration
		want  time.Duration
		ok    bool
	}{
		{"", day, 0, false},
		{"   ", day, 0, false},
		{"0", day, 0, true},
		{"3", day, 3 * s, true},
		{" 120 ", day, 2 * time.Minute, true},
		{"007", day, 7 * s, true},
		{"86400", day, day, true},
		{"86401", day, day, true}, // capped
		{"120", time.Minute, time.Minute, true},
		{"3", 1500 * time.Millisecond, 1500 * time.Millisecond, true},
		{"9223372036", math.MaxInt64, 9223372036 * s, true},
		{"9223372037", math.MaxInt64, math.MaxInt64, true}, // overflows a Duration
		{"9223372036854775808", day, day, true},            // overflows int64
		{"99999999999999999999999", math.MaxInt64, math.MaxInt64, true},
		{"99999999999999999999999", time.Hour, time.Hour, true},
		{"5", -s, 0, true}, // a negative cap counts as 0
		{"-1", day, 0, false},
		{"+7", day, 0, false},
		{"1.5", day, 0, false},
		{"1e3", day, 0, false},
		{"0x10", day, 0, false},
		{"soon", day, 0, false},
		{"3 s", day, 0, false},
		{"Mon, 24 Nov 2025 12:00:30 GMT", day, 30 * s, true},       // RFC 1123 (IMF-fixdate)
		{"Monday, 24-Nov-25 12:01:00 GMT", day, time.Minute, true}, // RFC 850
		{"Mon Nov 24 12:00:05 2025", day, 5 * s, true},             // ANSI C asctime
		{"Mon, 24 Nov 2025 11:00:00 GMT", day, 0, true},            // in the past
		{"Mon, 24 Nov 2025 13:00:00 GMT", time.Minute, time.Minute, true},
		{"Fri, 31 Dec 9999 23:59:59 GMT", day, day, true},
		{"Mon, 01 Jan 0001 00:00:00 GMT", day, 0, true},
		{"Mon, 24 Nov 2025 12:00:30 UTC", day, 0, false}, // http.ParseTime wants GMT
		{"Mon, 32 Nov 2025 12:00:30 GMT", day, 0, false},
	} {
		got, ok := ParseRetryAfter(tc.in, now, tc.limit)
		if got != tc.want || ok != tc.ok {
			t.Errorf("ParseRetryAfter(%q, cap %s) = %s, %v; want %s, %v", tc.in, tc.limit, got, ok, tc.want, tc.ok)
		}
	}
}

func TestSeconds(t *testing.T) {
	for _, tc := range []struct {
		n     int64
		limit time.Duration
		want  time.Duration
	}{
		{0, time.Hour, 0},
		{-5, time.Hour, 0},
		{math.MinInt64, time.Hour, 0},
		{13, time.Hour, 13 * s},
		{3600, time.Hour, time.Hour},
		{3601, time.Hour, time.Hour},
		{math.MaxInt64, time.Hour, time.Hour},
		{math.MaxInt64, math.MaxInt64, math.MaxInt64},
		{2, 1500 * time.Millisecond, 1500 * time.Millisecond},
		{1, 500 * time.Millisecond, 500 * time.Millisecond},
		{1, -s, 0},
	} {
		if got := Seconds(tc.n, tc.limit); got != tc.want {
			t.Errorf("Seconds(%d, %s) = %s, want %s", tc.n, tc.limit, got, tc.want)
		}
	}
}

func TestSleep(t *testing.T) {
	ctx := context.Background()
	if err := Sleep(ctx, time.Millisecond); err != nil {
		t.Fatalf("full sleep: %v", err)
	}
	if err := Sleep(ctx, 0); err != nil {
		t.Fatalf("zero sleep: %v", err)
	}
	if err := Sleep(ctx, -s); err != nil {
		t.Fatalf("negative sleep: %v", err)
	}

	// Cancelled while sleeping an hour: returns at once with the cause.
	stop := errors.New("shutting down")
	cctx, cancel := context.WithCancelCause(ctx)
	done := make(chan error, 1)
	go func() { done <- Sleep(cctx, time.Hour) }()
	cancel(stop)
	if err := <-done; !errors.Is(err, stop) {
		t.Fatalf("cancelled sleep returned %v, want the cause", err)
	}
	// Already ended: reported even for no wait at all.
	if err := Sleep(cctx, 0); !errors.Is(err, stop) {
		t.Fatalf("sleep on an ended context returned %v", err)
	}
	dctx, dcancel := context.WithDeadline(ctx, time.Now().Add(-s))
	defer dcancel()
	if err := Sleep(dctx, time.Hour); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("sleep past the deadline returned %v", err)
	}
}

func TestSleepOrWake(t *testing.T) {
	wake := make(chan struct{}, 1)
	wake <- struct{}{}
	if err := SleepOrWake(context.Background(), time.Hour, wake); err != nil {
		t.Fatalf("woken: %v", err)
	}
	// A nil wake channel never wakes; the end of ctx still does.
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- SleepOrWake(ctx, time.Hour, nil) }()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
}

// FuzzParseRetryAfter: whatever the header and the cap, the delay is
// between 0 and the cap; delay-seconds are always accepted and exact when
// below the cap; HTTP dates are their distance from now, clamped.
func FuzzParseRetryAfter(f *testing.F) {
	for _, v := range []string{"", "0", "3", " 120 ", "007", "86401", "9223372037", "99999999999999999999999",
		"-1", "+7", "1.5", "1e3", "soon", "\x00", "Mon, 24 Nov 2025 12:00:30 GMT", "Monday, 24-Nov-25 12:01:00 GMT",
		"Mon Nov 24 12:00:05 2025", "Mon, 24 Nov 2025 11:00:00 GMT", "Fri, 31 Dec 9999 23:59:59 GMT"} {
		for _, limit := range []int64{int64(24 * time.Hour), int64(time.Minute), 0, -1, math.MaxInt64, math.MinInt64} {
			f.Add(v, limit)
		}
	}
	now := time.Date(2025, 11, 24, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, v string, limitNs int64) {
		limit := time.Duration(limitNs)
		d, ok := ParseRetryAfter(v, now, limit)
		if d < 0 || d > max(limit, 0) || (!ok && d != 0) {
			t.Fatalf("ParseRetryAfter(%q, cap %s) = %s, %v", v, limit, d, ok)
		}
		tv := strings.TrimSpace(v)
		if tv != "" && strings.Trim(tv, "0123456789") == "" {
			if !ok {
				t.Fatalf("delay-seconds %q not accepted", v)
			}
			if n, err := strconv.ParseUint(tv, 10, 64); err == nil && n < 1<<32 && d != min(time.Duration(n)*s, max(limit, 0)) {
				t.Fatalf("ParseRetryAfter(%q, cap %s) = %s", v, limit, d)
			}
		} else if at, err := http.ParseTime(tv); err == nil {
			if want := min(max(at.Sub(now), 0), max(limit, 0)); !ok || d != want {
				t.Fatalf("ParseRetryAfter(%q, cap %s) = %s, %v; want %s", v, limit, d, ok, want)
			}
		} else if ok {
			t.Fatalf("garbage %q accepted as %s", v, d)
		}
	})
}
