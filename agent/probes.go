package agent

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/pantau-noc/pantau/agent/internal/config"
	"github.com/pantau-noc/pantau/agent/internal/icmp"
	"github.com/pantau-noc/pantau/agent/internal/point"
	"github.com/pantau-noc/pantau/agent/internal/scheduler"
)

// icmpJobs makes the ICMP jobs. With an engine that can batch, targets
// given as addresses that share a start slot (the scheduler's splay) and
// the round settings are probed together by one job: one timer and one
// wake-up per slot rather than per target, each target still stamped and
// reported on its own. Targets given as host names get a job each, so a
// slow DNS answer delays nobody else.
func icmpJobs(p icmp.Pinger, targets []config.ICMPTarget, resolver *net.Resolver) []scheduler.Job {
	bp, ok := p.(icmp.BatchPinger)
	if !ok {
		jobs := make([]scheduler.Job, 0, len(targets))
		for _, t := range targets {
			j := icmpJob(p, t, resolver)
			j.FixedOffset, j.Offset = true, scheduler.SplayOn("icmp", t.Target, t.Interval.Std(), scheduler.FineQuantum)
			jobs = append(jobs, j)
		}
		return jobs
	}
	type key struct {
		interval, timeout, spacing, offset time.Duration
		packets                            int
	}
	groups := map[key][]config.ICMPTarget{}
	var order []key
	var jobs []scheduler.Job
	for _, t := range targets {
		if _, err := netip.ParseAddr(t.Target); err != nil {
			jobs = append(jobs, icmpJob(p, t, resolver))
			continue
		}
		k := key{t.Interval.Std(), t.Timeout.Std(), t.PacketInterval.Std(), scheduler.Splay("icmp", t.Target, t.Interval.Std()), t.Packets}
		if groups[k] == nil {
			order = append(order, k)
		}
		groups[k] = append(groups[k], t)
	}
	for _, k := range order {
		jobs = append(jobs, icmpBatchJob(bp, groups[k], k.offset))
	}
	return jobs
}

// icmpBatchJob pings targets (addresses, same settings) in one batch.
func icmpBatchJob(p icmp.BatchPinger, ts []config.ICMPTarget, offset time.Duration) scheduler.Job {
	reqs := make([]icmp.Request, len(ts))
	for i, t := range ts {
		reqs[i] = icmp.Request{Addr: netip.MustParseAddr(t.Target), Count: t.Packets, Spacing: t.PacketInterval.Std(),
			Timeout: t.Timeout.Std(), Size: t.Size, TOS: t.TOS}
	}
	name := ts[0].Target
	if len(ts) > 1 {
		name = fmt.Sprintf("%s and %d more", ts[0].Target, len(ts)-1)
	}
	return scheduler.Job{
		Kind: "icmp", Name: name, Interval: ts[0].Interval.Std(), Timeout: ts[0].Timeout.Std(),
		Targets: len(ts), FixedOffset: true, Offset: offset,
		Run: func(ctx context.Context) ([]*point.Point, error) {
			start := time.Now()
			res, errs := p.PingBatch(ctx, reqs)
			pts := make([]*point.Point, len(ts))
			var failed []error
			for i, t := range ts {
				if res[i].Sent == 0 {
					res[i].Sent = t.Packets // nothing could be sent: the whole round is lost
				}
				pts[i] = ICMPPoint(t, res[i], start)
				if errs[i] != nil {
					failed = append(failed, errs[i])
				}
			}
			if len(failed) == 0 {
				return pts, nil
			}
			return pts, &scheduler.GroupError{Failed: len(failed), Err: errors.Join(failed...)}
		},
	}
}

// icmpJob pings one target per round and produces the schema's icmp point.
func icmpJob(p icmp.Pinger, t config.ICMPTarget, resolver *net.Resolver) scheduler.Job {
	return scheduler.Job{
		Kind: "icmp", Name: t.Target, Interval: t.Interval.Std(), Timeout: t.Timeout.Std(),
		Run: func(ctx context.Context) ([]*point.Point, error) {
			start := time.Now()
			addr, err := resolve(ctx, resolver, t.Target)
			var res icmp.Result
			if err == nil {
				res, err = p.Ping(ctx, icmp.Request{Addr: addr, Count: t.Packets, Spacing: t.PacketInterval.Std(),
					Timeout: t.Timeout.Std(), Size: t.Size, TOS: t.TOS})
			}
			if res.Sent == 0 {
				res.Sent = t.Packets // nothing could be sent: the whole round is lost
			}
			return []*point.Point{ICMPPoint(t, res, start)}, err
		},
	}
}

// ICMPPoint is the icmp measurement of one round, stamped with the
// round's start.
func ICMPPoint(t config.ICMPTarget, res icmp.Result, at time.Time) *point.Point {
	s := icmp.Summarize(res)
	p := point.New("icmp", at).TagMap(t.Tags).Tag("target", t.Target).Tag("name", t.Name).
		Uint("packets_sent", uint64(res.Sent)).Uint("packets_received", uint64(res.Received)).
		Float("loss_ratio", s.Loss)
	if s.HasRTT {
		p.Float("rtt_min_seconds", s.Min.Seconds()).Float("rtt_avg_seconds", s.Avg.Seconds()).
			Float("rtt_max_seconds", s.Max.Seconds()).Float("rtt_stddev_seconds", s.StdDev.Seconds()).
			Float("jitter_seconds", s.Jitter.Seconds())
	}
	up := int64(0)
	if res.Received > 0 {
		up = 1
	}
	return p.Int("up", up)
}

func resolve(ctx context.Context, r *net.Resolver, host string) (netip.Addr, error) {
	if a, err := netip.ParseAddr(host); err == nil {
		return a, nil
	}
	addrs, err := r.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("resolve %s: %w", host, err)
	}
	if len(addrs) == 0 {
		return netip.Addr{}, fmt.Errorf("resolve %s: no address", host)
	}
	return addrs[0], nil
}
