package ingest

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// bodyOf returns lines of m whose total is at least n bytes, the last
// line holding a string field.
func bodyOf(n int) string {
	var b strings.Builder
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, "m,i=%d v=1 %d\n", i%10, ns(now))
	}
	fmt.Fprintf(&b, "m s=\"x\",v=2 %d\n", ns(now))
	return b.String()
}

func gaugeValue(t *testing.T, h *Handler, name string) float64 {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(h.Collectors()...)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}

// TestSetLimitsTakesEffect: limits changed while running (a reload)
// apply to the next request: a lower body limit refuses a body the old
// one took, naming the new value; string_fields: reject refuses what drop
// took; raising them again takes the body; bad limits are refused and
// the old ones kept; the limit's gauge follows.
func TestSetLimitsTakesEffect(t *testing.T) {
	e := newEnv(t, nil)
	body := bodyOf(4096)
	if r := e.do(req{agent: "agent-noc", body: body}); r.status != 204 {
		t.Fatalf("before: %d %s", r.status, r.msg)
	}
	l := e.h.Limits()
	l.MaxBodyBytes, l.MaxDecodedBytesInFlight = 2048, 0
	if err := e.h.SetLimits(l); err != nil {
		t.Fatal(err)
	}
	if r := e.do(req{agent: "agent-noc", body: body}); r.status != 413 || !strings.Contains(r.msg, "larger than 2048 bytes (limits.max_body_bytes)") {
		t.Fatalf("lowered max_body_bytes: got %d %q, want 413 naming 2048", r.status, r.msg)
	}
	if g := gaugeValue(t, e.h, "pantau_collector_ingest_limit_max_body_bytes"); g != 2048 {
		t.Errorf("limit gauge %v, want 2048", g)
	}
	l.MaxBodyBytes, l.RejectStringFields = 1<<20, true
	if err := e.h.SetLimits(l); err != nil {
		t.Fatal(err)
	}
	if r := e.do(req{agent: "agent-noc", body: body}); r.status != 400 || !strings.Contains(r.msg, "field s is a string") {
		t.Fatalf("string_fields reject: got %d %q, want 400", r.status, r.msg)
	}
	l.RejectStringFields, l.MaxMeasurementBytes = false, 1
	if err := e.h.SetLimits(l); err != nil {
		t.Fatal(err)
	}
	if r := e.do(req{agent: "agent-noc", body: "mm v=1\n"}); r.status != 400 || !strings.Contains(r.msg, "limits.max_measurement_bytes") {
		t.Fatalf("max_measurement_bytes 1: got %d %q, want 400", r.status, r.msg)
	}
	l.MaxMeasurementBytes = 0 // the default
	if err := e.h.SetLimits(l); err != nil {
		t.Fatal(err)
	}
	if r := e.do(req{agent: "agent-noc", body: body}); r.status != 204 {
		t.Fatalf("raised again: %d %s", r.status, r.msg)
	}
	l = e.h.Limits()
	bad := l
	bad.MaxDecodedBytesInFlight = bad.MaxBodyBytes
	if err := e.h.SetLimits(bad); err == nil {
		t.Fatal("MaxDecodedBytesInFlight == MaxBodyBytes accepted")
	}
	if got := e.h.Limits(); got != l {
		t.Fatalf("refused limits changed them: %+v, want %+v", got, l)
	}
}

// TestSetLimitsWhileWriting: writers and a reloader at once (run with
// -race). The two sets pair a small body limit with dropping string
// fields and a large one with refusing them: a body between the two
// limits with a string field gets 413 under the first and 400 under the
// second; a request that mixed the sets would get 204.
func TestSetLimitsWhileWriting(t *testing.T) {
	e := newEnv(t, nil)
	small := e.h.Limits()
	small.MaxBodyBytes, small.MaxDecodedBytesInFlight, small.RejectStringFields, small.MaxInflight = 2048, 0, false, 4
	large := small
	large.MaxBodyBytes, large.RejectStringFields, large.MaxInflight = 1<<20, true, 8
	body := bodyOf(4096)
	const writers, each = 4, 40
	stop := make(chan struct{})
	var reloads sync.WaitGroup
	reloads.Add(1)
	go func() {
		defer reloads.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			l := small
			if i%2 == 1 {
				l = large
			}
			if err := e.h.SetLimits(l); err != nil {
				t.Error(err)
				return
			}
			if i > 100_000 { // bounded
				return
			}
		}
	}()
	var wg sync.WaitGroup
	var mu sync.Mutex
	count := map[int]int{}
	for range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				r := e.do(req{agent: "agent-noc", body: body})
				mu.Lock()
				count[r.status]++
				mu.Unlock()
				switch {
				case r.status == 413 && strings.Contains(r.msg, "2048 bytes"):
				case r.status == 400 && strings.Contains(r.msg, "field s is a string"):
				case r.status == 503 && strings.Contains(r.msg, "limits.max_inflight_requests"):
				default:
					t.Errorf("got %d %q: neither set's answer", r.status, r.msg)
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	reloads.Wait()
	t.Logf("answers: %v", count)
	if n := e.h.inflight.Load(); n != 0 {
		t.Errorf("%d global slots still held", n)
	}
	if n := e.h.bg.used.Load(); n != 0 {
		t.Errorf("%d budget bytes still reserved", n)
	}
}
