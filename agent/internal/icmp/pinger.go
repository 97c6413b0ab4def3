package icmp

import (
	"context"
	"fmt"
	"net"
	"time"

	probing "github.com/prometheus-community/pro-bing"
)

// Pingers is the baseline engine: one pro-bing Pinger (its own socket and
// receive loop) per target and round. It costs far more CPU per target than
// Engine (docs/benchmarks.md) but is kept for comparison and as a fallback
// (agent.icmp_engine: pinger).
type Pingers struct {
	mode string
}

// NewPingers resolves mode like NewEngine.
func NewPingers(mode string) (*Pingers, error) {
	m, err := detectMode(mode)
	if err != nil {
		return nil, err
	}
	return &Pingers{mode: m}, nil
}

// Mode is the socket mode in use.
func (p *Pingers) Mode() string { return p.mode }

// Close does nothing: every round closes its own socket.
func (p *Pingers) Close() error { return nil }

// Ping runs one round with a fresh pro-bing Pinger.
func (p *Pingers) Ping(ctx context.Context, req Request) (Result, error) {
	addr := req.Addr.Unmap()
	pg := probing.New("")
	pg.SetIPAddr(&net.IPAddr{IP: addr.AsSlice(), Zone: addr.Zone()})
	if addr.Is6() {
		pg.SetNetwork("ip6")
	} else {
		pg.SetNetwork("ip4")
	}
	pg.SetPrivileged(p.mode == ModeRaw)
	if p.mode == ModeRaw {
		id := allocID()
		defer freeID(id)
		pg.SetID(id)
	}
	pg.Count = max(req.Count, 1)
	pg.Interval = max(req.Spacing, time.Millisecond)
	pg.Timeout = req.Timeout
	if dl, ok := ctx.Deadline(); ok {
		// End the round just before the caller's deadline, with statistics.
		pg.Timeout = min(pg.Timeout, time.Until(dl)-20*time.Millisecond)
	}
	pg.Size = max(req.Size, 24)
	pg.SetTrafficClass(uint8(req.TOS))
	if err := pg.RunWithContext(ctx); err != nil {
		return Result{}, fmt.Errorf("ping %s: %w", addr, err)
	}
	st := pg.Statistics()
	return Result{Sent: st.PacketsSent, Received: st.PacketsRecv, RTTs: st.Rtts}, nil
}
