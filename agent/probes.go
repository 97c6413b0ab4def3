package agent

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/pantau-noc/pantau/agent/internal/config"
	"github.com/pantau-noc/pantau/agent/internal/icmp"
	"github.com/pantau-noc/pantau/agent/internal/point"
	"github.com/pantau-noc/pantau/agent/internal/scheduler"
)

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
