package agent

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/agent/internal/config"
	"github.com/pantau-noc/pantau/agent/internal/icmp"
	"github.com/pantau-noc/pantau/agent/internal/scheduler"
)

// fakeBatch answers every request with one 1 ms reply, except addresses
// listed in fail, which get an error and no reply.
type fakeBatch struct {
	fail    map[string]bool
	batches [][]icmp.Request
}

func (f *fakeBatch) Ping(ctx context.Context, r icmp.Request) (icmp.Result, error) {
	res, errs := f.PingBatch(ctx, []icmp.Request{r})
	return res[0], errs[0]
}

func (f *fakeBatch) PingBatch(_ context.Context, reqs []icmp.Request) ([]icmp.Result, []error) {
	f.batches = append(f.batches, reqs)
	res, errs := make([]icmp.Result, len(reqs)), make([]error, len(reqs))
	for i, r := range reqs {
		if f.fail[r.Addr.String()] {
			res[i], errs[i] = icmp.Result{Sent: r.Count}, fmt.Errorf("send echo request to %s: refused", r.Addr)
			continue
		}
		res[i] = icmp.Result{Sent: r.Count, Received: r.Count}
		for range r.Count {
			res[i].RTTs = append(res[i].RTTs, time.Millisecond)
		}
	}
	return res, errs
}

func (f *fakeBatch) Mode() string { return "fake" }
func (f *fakeBatch) Close() error { return nil }

// Address targets that share a start slot and settings become one job at
// that slot; host names and targets with other settings get their own;
// every target is in exactly one job and gets its own point.
func TestICMPJobsGroupBySlot(t *testing.T) {
	var targets []config.ICMPTarget
	for i := 0; i < 300; i++ {
		targets = append(targets, config.ICMPTarget{Target: fmt.Sprintf("127.2.%d.%d", i/200, 1+i%200), Interval: config.Duration(time.Second),
			Timeout: config.Duration(900 * time.Millisecond), Packets: 1, Size: 56})
	}
	slow := targets[7]
	slow.Interval = config.Duration(10 * time.Second) // other settings: never grouped with 1 s targets
	targets[7] = slow
	targets = append(targets, config.ICMPTarget{Target: "localhost", Interval: config.Duration(time.Second), Timeout: config.Duration(time.Second), Packets: 1})

	f := &fakeBatch{fail: map[string]bool{}}
	jobs := icmpJobs(f, targets, net.DefaultResolver)
	if len(jobs) > 110 { // 100 slots for the 1 s targets, plus the odd ones
		t.Fatalf("%d jobs for %d targets: not grouped", len(jobs), len(targets))
	}
	covered := 0
	for _, j := range jobs {
		covered += max(j.Targets, 1)
		if j.Name == "localhost" {
			if j.FixedOffset || j.Targets > 1 {
				t.Errorf("host name target batched: %+v", j)
			}
			continue
		}
		if !j.FixedOffset || j.Offset%scheduler.SplayQuantum != 0 || j.Offset >= j.Interval {
			t.Errorf("job %s: offset %v (fixed %v) not a slot inside %v", j.Name, j.Offset, j.FixedOffset, j.Interval)
		}
	}
	if covered != len(targets) {
		t.Fatalf("jobs cover %d targets, want %d", covered, len(targets))
	}

	// Run the largest group, with its second member failing.
	var job scheduler.Job
	for _, j := range jobs {
		if j.Targets > job.Targets {
			job = j
		}
	}
	if job.Targets < 3 {
		t.Fatalf("largest group holds %d targets; 300 targets in 100 slots should share", job.Targets)
	}
	if _, err := job.Run(context.Background()); err != nil {
		t.Fatalf("all answering: %v", err)
	}
	batch := f.batches[len(f.batches)-1]
	f.fail[batch[1].Addr.String()] = true
	f.batches = nil
	pts, err := job.Run(context.Background())
	if len(f.batches) != 1 || len(pts) != job.Targets {
		t.Fatalf("%d batches, %d points for %d targets", len(f.batches), len(pts), job.Targets)
	}
	var ge *scheduler.GroupError
	if !errors.As(err, &ge) || ge.Failed != 1 || !strings.Contains(err.Error(), batch[1].Addr.String()) {
		t.Fatalf("error %v: want a GroupError naming the one failed target", err)
	}
	for i, p := range pts {
		up, _ := p.FieldValue("up")
		want := 1.0
		if i == 1 {
			want = 0
		}
		if p.TagValue("target") != batch[i].Addr.String() || up != want {
			t.Errorf("point %d: target %s up %v, want %s up %v", i, p.TagValue("target"), up, batch[i].Addr, want)
		}
	}
}
