package icmp

import (
	"context"
	"net/netip"
	"sync"
	"syscall"
	"testing"
	"time"
)

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchTargets runs b.N one-second rounds of n loopback targets, one
// packet each, in 20 start slots spread over the second (as the agent's
// scheduler does, 50 ms apart), and reports the CPU share of one core, loss and mean
// RTT. A BatchPinger gets one PingBatch call per slot, as the agent makes;
// any other Pinger gets one goroutine and Ping call per target.
func benchTargets(b *testing.B, p Pinger, n int) {
	const slots = 20
	addrs := make([]netip.Addr, n)
	for i := range addrs {
		addrs[i] = netip.AddrFrom4([4]byte{127, 1, byte(i / 250), byte(1 + i%250)})
	}
	var lost, got int64
	var rttSum time.Duration
	var mu sync.Mutex
	record := func(res Result) {
		mu.Lock()
		lost += int64(res.Sent - res.Received)
		got += int64(res.Received)
		for _, d := range res.RTTs {
			rttSum += d
		}
		mu.Unlock()
	}
	bp, batched := p.(BatchPinger)
	cpu0, wall0 := cpuTime(), time.Now()
	b.ResetTimer()
	for r := 0; r < b.N; r++ {
		start := time.Now()
		var wg sync.WaitGroup
		for s := 0; s < slots; s++ {
			var reqs []Request
			for i := s; i < n; i += slots {
				reqs = append(reqs, Request{Addr: addrs[i], Count: 1, Timeout: 900 * time.Millisecond, Size: 56})
			}
			at := start.Add(time.Duration(s) * time.Second / slots)
			if batched {
				wg.Add(1)
				go func() {
					defer wg.Done()
					time.Sleep(time.Until(at))
					res, _ := bp.PingBatch(context.Background(), reqs)
					for _, r := range res {
						record(r)
					}
				}()
				continue
			}
			for _, req := range reqs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					time.Sleep(time.Until(at))
					res, _ := p.Ping(context.Background(), req)
					record(res)
				}()
			}
		}
		wg.Wait()
		time.Sleep(time.Until(start.Add(time.Second))) // rounds start once a second
	}
	b.StopTimer()
	cpu, wall := cpuTime()-cpu0, time.Since(wall0)
	b.ReportMetric(100*cpu.Seconds()/wall.Seconds(), "cpu_%")
	b.ReportMetric(float64(lost)/float64(lost+got), "loss")
	if got > 0 {
		b.ReportMetric(float64(rttSum.Microseconds())/float64(got), "rtt_us")
	}
	b.ReportMetric(0, "ns/op")
}

// BenchmarkTargets1000 compares the shared engine with one pro-bing Pinger
// per target, at 1,000 loopback targets and one packet per second each.
// Run with -benchtime 10x (ten one-second rounds).
func BenchmarkTargets1000(b *testing.B) {
	for _, mode := range []string{ModeUnprivileged, ModeRaw} {
		for _, kind := range []string{"shared", "pinger"} {
			b.Run(mode+"/"+kind, func(b *testing.B) {
				var p Pinger
				var err error
				if kind == "shared" {
					p, err = NewEngine(mode, nil)
				} else {
					p, err = NewPingers(mode)
				}
				if err != nil {
					b.Skipf("%s mode unavailable here: %v", mode, err)
				}
				defer p.Close()
				benchTargets(b, p, 1000)
			})
		}
	}
}
