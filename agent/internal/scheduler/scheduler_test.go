package scheduler

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/pantau-noc/pantau/agent/internal/point"
)

func TestSplaySpreadsTargets(t *testing.T) {
	buckets := make([]int, 10)
	for i := 0; i < 1000; i++ {
		s := Splay("icmp", "10.0."+string(rune('a'+i%26))+"."+time.Duration(i).String(), time.Second)
		if s < 0 || s >= time.Second {
			t.Fatalf("splay %v outside the interval", s)
		}
		buckets[s/(100*time.Millisecond)]++
	}
	for i, n := range buckets {
		if n < 50 || n > 150 { // 100 expected per tenth
			t.Errorf("tenth %d of the interval holds %d of 1000 targets", i, n)
		}
	}
	a, b := Splay("icmp", "a", time.Second), Splay("icmp", "a", time.Second)
	if a != b || a%SplayQuantum != 0 {
		t.Errorf("splay %v, then %v: not stable or not on a %s slot", a, b, SplayQuantum)
	}
}

// A slow target's rounds are skipped and counted while a fast target keeps
// running; every point is emitted with the time its probe stamped.
func TestOverrunSkippedAndOthersUnaffected(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	var mu sync.Mutex
	counts := map[string]int{}
	mk := func(kind string, d time.Duration) Job {
		return Job{Kind: kind, Name: kind, Interval: 50 * time.Millisecond, Timeout: 50 * time.Millisecond,
			Run: func(ctx context.Context) ([]*point.Point, error) {
				time.Sleep(d) // ignores ctx on purpose: a badly behaved probe
				return []*point.Point{point.New(kind, time.Now()).Int("up", 1)}, nil
			}}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		Run(ctx, []Job{mk("fast", 0), mk("slow", 180*time.Millisecond)}, func(p []*point.Point) {
			mu.Lock()
			counts[p[0].Measurement]++
			mu.Unlock()
		}, m, slog.New(slog.DiscardHandler))
		close(done)
	}()
	// Wait (bounded) until the slow job has run three rounds.
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		mu.Lock()
		n := counts["slow"]
		mu.Unlock()
		if n >= 3 {
			break
		}
	}
	cancel()
	<-done
	mu.Lock()
	defer mu.Unlock()
	if counts["slow"] < 3 {
		t.Fatalf("slow job ran %d rounds", counts["slow"])
	}
	if counts["fast"] <= counts["slow"] {
		t.Fatalf("fast job (%d rounds) was held back by the slow one (%d)", counts["fast"], counts["slow"])
	}
	if s := testutil.ToFloat64(m.skipped.WithLabelValues("slow")); s < float64(counts["slow"]-1) {
		t.Fatalf("slow skipped %v for %d rounds", s, counts["slow"])
	}
	if s := testutil.ToFloat64(m.rounds.WithLabelValues("fast")); int(s) != counts["fast"] {
		t.Fatalf("rounds metric %v, emitted %d", s, counts["fast"])
	}
}

// A job covering several targets starts at its fixed offset and counts
// rounds per target and failures per failed target.
func TestGroupJobCountsPerTarget(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	ctx, cancel := context.WithCancel(context.Background())
	var mu sync.Mutex
	var starts []time.Time
	epoch := time.Now()
	job := Job{Kind: "icmp", Name: "group", Interval: 40 * time.Millisecond, Timeout: 30 * time.Millisecond,
		Targets: 5, FixedOffset: true, Offset: 20 * time.Millisecond,
		Run: func(context.Context) ([]*point.Point, error) {
			mu.Lock()
			starts = append(starts, time.Now())
			n := len(starts)
			mu.Unlock()
			if n >= 3 {
				cancel()
			}
			return []*point.Point{point.New("icmp", time.Now()).Int("up", 1)}, &GroupError{Failed: 2, Err: errors.New("two down")}
		}}
	Run(ctx, []Job{job}, func([]*point.Point) {}, m, slog.New(slog.DiscardHandler))
	if len(starts) < 3 {
		t.Fatalf("%d rounds", len(starts))
	}
	if first := starts[0].Sub(epoch); first < 20*time.Millisecond {
		t.Fatalf("first round %v after start, before its 20ms offset", first)
	}
	rounds := testutil.ToFloat64(m.rounds.WithLabelValues("icmp"))
	failures := testutil.ToFloat64(m.failures.WithLabelValues("icmp"))
	// The last round was cut by shutdown: it is not a measurement, so it
	// counts neither as a round nor as a failure (rounds match what was
	// emitted).
	if rounds != 5*float64(len(starts)-1) || failures != 2*float64(len(starts)-1) {
		t.Fatalf("%d group rounds counted %v rounds and %v failures", len(starts), rounds, failures)
	}
}
