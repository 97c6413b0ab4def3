package sla

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/pantau-noc/pantau/collector/internal/inventory"
)

// Scopes of a monitored span.
const (
	SpanAll   = "all"   // every site
	SpanSite  = "site"  // one site's links and services
	SpanAgent = "agent" // the links whose icmp.agent is the agent
)

// Span is a declared monitored span: history imported without agent
// heartbeats (from another tool, a CSV) was monitored in [Start, End), so
// a minute of it without data is nodata, not a monitoring gap
// (`pantau-collector sla mark-monitored`).
type Span struct {
	ID     int64     `json:"id"`
	Scope  string    `json:"scope"`
	Target string    `json:"target,omitempty"`
	Start  time.Time `json:"start"`
	End    time.Time `json:"end"`
	Reason string    `json:"reason,omitempty"`
}

// Validate checks a span before it is stored.
func (s Span) Validate() error {
	switch s.Scope {
	case SpanSite, SpanAgent:
		if s.Target == "" {
			return fmt.Errorf("monitored span scope %s needs a %s id", s.Scope, s.Scope)
		}
	case SpanAll:
		if s.Target != "" {
			return fmt.Errorf("a monitored span of every site takes no target (got %q)", s.Target)
		}
	default:
		return fmt.Errorf("unknown monitored span scope %q (want all, site or agent)", s.Scope)
	}
	if !s.End.After(s.Start) {
		return fmt.Errorf("monitored span end %s is not after its start %s", s.End.Format(time.RFC3339), s.Start.Format(time.RFC3339))
	}
	if len(s.Reason) > MaxSpanReason {
		return fmt.Errorf("--reason is %d bytes: at most %d (it is printed in the report's methods)", len(s.Reason), MaxSpanReason)
	}
	if strings.ContainsFunc(s.Reason, unicode.IsControl) || !utf8.ValidString(s.Reason) {
		return fmt.Errorf("--reason: one line of text without control characters")
	}
	return nil
}

// MaxSpanReason is the longest reason a monitored span keeps, in bytes.
const MaxSpanReason = 500

// covers tells whether the span applies to a link of site probed by agent
// (agent "": any agent, which an agent span does not cover).
func (s Span) covers(site, agent string) bool {
	switch s.Scope {
	case SpanAll:
		return true
	case SpanSite:
		return s.Target == site
	case SpanAgent:
		return agent != "" && s.Target == agent
	}
	return false
}

// MonitoredSource is implemented by a Store that also keeps declared
// monitored spans (statedb's); a Store without it has none.
type MonitoredSource interface {
	MonitoredSpans(ctx context.Context) ([]Span, error)
}

// monitoredSpans reads the store's spans once per computation.
func (c *Computation) monitoredSpans(ctx context.Context) ([]Span, error) {
	c.spansOnce.Do(func() {
		if ms, ok := c.e.Store.(MonitoredSource); ok {
			c.spans, c.spansErr = ms.MonitoredSpans(ctx)
			if c.spansErr != nil {
				c.spansErr = fmt.Errorf("read monitored spans: %w", c.spansErr)
			}
		}
	})
	return c.spans, c.spansErr
}

// presence returns, over a site's range read, the minutes in which
// something was watching a link of the site probed by agent: the
// collector was running, the site's agent sent a heartbeat, or a declared
// monitored span covers it. A minute without data and without presence is
// a monitoring gap; one with presence is nodata. The collector's own
// minutes are returned unchanged (and shared) when nothing else adds.
func (c *Computation) presence(ctx context.Context, site *inventory.Site, agent string, sp extent) ([]uint16, error) {
	heart, err := c.load(ctx, KindSite, site.ID, sp.from, sp.n)
	if err != nil {
		return nil, err
	}
	return c.presenceFrom(ctx, site, agent, sp, heart, true)
}

// presenceFrom is presence from the site's heartbeats over the range
// (hasAgent false: none is set, and none is looked at).
func (c *Computation) presenceFrom(ctx context.Context, site *inventory.Site, agent string, sp extent, heart []uint16, hasAgent bool) ([]uint16, error) {
	coll, err := c.load(ctx, KindCollector, "", sp.from, sp.n)
	if err != nil {
		return nil, err
	}
	spans, err := c.monitoredSpans(ctx)
	if err != nil {
		return nil, err
	}
	var out []uint16
	own := func() {
		if out == nil {
			out = slices.Clone(coll)
		}
	}
	for i, h := range heart {
		if !hasAgent {
			break
		}
		if h != 0 && coll[i] == 0 {
			own()
			out[i] = BitSeen
		}
	}
	for _, s := range spans {
		if !s.covers(site.ID, agent) {
			continue
		}
		lo := max(MinuteOf(s.Start.UnixNano())-sp.from, 0)
		// a span ending mid-minute covers that minute
		hi := min(MinuteOf(s.End.UnixNano()-1)-sp.from+1, int64(sp.n))
		if lo >= hi {
			continue
		}
		own()
		for i := lo; i < hi; i++ {
			out[i] |= BitSeen
		}
	}
	if out == nil {
		return coll, nil
	}
	return out, nil
}
