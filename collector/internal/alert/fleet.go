package alert

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/statedb"
)

// The fleet kinds (issue 22) are decided on what the agents report over
// OpAMP (statedb's fleet_agents), not on series:
//
//   - config_not_applied: the agent reported FAILED for the remote config
//     last offered to it (fires at once, with the agent's reason), or has
//     not reported it applied for the rule's `for` (default 10m);
//   - agent_outdated: the agent's version is older than the collector's
//     own (agents and collector are released together, so an older agent
//     lacks what this collector offers); a collector built without a
//     release tag (0.0.0-dev) compares nothing;
//   - clock_skew: |agent clock − collector clock| over the threshold in
//     seconds (default 10): the SLA minute marks are stamped by the agent.
//
// Agents whose last contact is older than fleetStale are left to
// agent_silent: what they last reported is no longer news.

// Fleet rule kinds.
const (
	KindConfigNotApplied = "config_not_applied"
	KindAgentOutdated    = "agent_outdated"
	KindClockSkew        = "clock_skew"
)

// fleetStale is how old an agent's last contact may be for its report
// to be judged.
const fleetStale = time.Hour

// FleetLister lists the agents' fleet state (statedb.DB).
type FleetLister interface {
	ListFleetAgents(ctx context.Context) ([]statedb.FleetAgent, error)
}

var _ FleetLister = (*statedb.DB)(nil)

// SetFleet gives the evaluator the fleet state and the collector's own
// (semantic) version, for the fleet kinds; without it they find nothing.
func (ev *KindEval) SetFleet(f FleetLister, collectorVersion string) {
	ev.fleet, ev.version = f, collectorVersion
}

// fleetLabels are the labels of an agent's fleet alert.
func fleetLabels(a statedb.FleetAgent) map[string]string {
	l := map[string]string{"agent": a.Agent}
	if a.Site != "" {
		l["site"] = a.Site
	}
	return l
}

func (ev *KindEval) fleetAlerts(ctx context.Context, r *Rule, now time.Time) ([]Sample, error) {
	if ev.fleet == nil {
		return nil, nil
	}
	agents, err := ev.fleet.ListFleetAgents(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the fleet state: %w", err)
	}
	var out []Sample
	for _, a := range agents {
		if now.Sub(a.LastSeen) > fleetStale {
			continue
		}
		switch r.Kind {
		case KindConfigNotApplied:
			if a.ConfigOffered == "" || a.ConfigApplied == a.ConfigOffered {
				continue
			}
			s := Sample{Labels: fleetLabels(a), Value: 1}
			if a.ConfigStatus == statedb.ConfigFailed {
				// refused: no need to wait `for`
				s.Since, s.Value = now.Add(-r.For.Std()), 2
				s.Labels["reason"] = clipReason(a.ConfigError)
			}
			out = append(out, s)
		case KindAgentOutdated:
			if older, ok := versionOlder(a.Version, ev.version); ok && older {
				l := fleetLabels(a)
				l["version"] = a.Version
				out = append(out, Sample{Labels: l, Value: 1})
			}
		case KindClockSkew:
			if math.Abs(a.ClockOffsetSeconds) > r.Threshold {
				out = append(out, Sample{Labels: fleetLabels(a), Value: a.ClockOffsetSeconds})
			}
		}
	}
	return out, nil
}

// clipReason bounds an agent's error text in a label.
func clipReason(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if s == "" {
		return "refused by the agent"
	}
	if len(s) > 200 {
		s = strings.ToValidUTF8(s[:200], "") + "…"
	}
	return s
}

// semver is major.minor.patch and a pre-release ("" none).
type semver struct {
	n   [3]int
	pre string
}

// parseSemver reads X.Y.Z[-pre][+build], with an optional "v".
func parseSemver(s string) (semver, bool) {
	s = strings.TrimPrefix(s, "v")
	if i := strings.IndexByte(s, '+'); i >= 0 {
		s = s[:i]
	}
	var v semver
	core := s
	if i := strings.IndexByte(s, '-'); i >= 0 {
		core, v.pre = s[:i], s[i+1:]
	}
	parts := strings.Split(core, ".")
	if len(parts) != 3 {
		return v, false
	}
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || len(p) > 9 {
			return v, false
		}
		v.n[i] = n
	}
	return v, true
}

// versionOlder reports whether agent is older than collector; ok is
// false when either does not parse or the collector is a development
// build (0.0.0).
func versionOlder(agent, collector string) (older, ok bool) {
	a, okA := parseSemver(agent)
	c, okC := parseSemver(collector)
	if !okA || !okC || c.n == [3]int{} {
		return false, false
	}
	for i := range 3 {
		if a.n[i] != c.n[i] {
			return a.n[i] < c.n[i], true
		}
	}
	// same X.Y.Z: a pre-release is older than the release
	return a.pre != "" && c.pre == "", true
}
