package collector

import (
	"time"

	"github.com/pantau-noc/pantau/collector/internal/alert"
	"github.com/pantau-noc/pantau/collector/internal/httpapi"
)

// overviewAPI is the read-only overview the web UI shows: the current
// status of the inventory, the agents, outages and unmatched series
// (docs/api.md), on the daemon's SLA builder, TSDB and state database.
func (p *parts) overviewAPI() *httpapi.Overview {
	return httpapi.NewOverview(httpapi.OverviewOptions{
		DB:               p.state,
		Inventory:        p.slarun.builder.Inventory,
		TSDB:             p.store.Queryable(),
		States:           p.slarun.builder,
		AgentSilentAfter: agentSilentAfter(&p.cfg.Alerting),
		Logger:           p.log.With("component", "overview-api"),
	})
}

// agentSilentAfter is the AgentSilent rule's for: the first agent_silent
// rule's, else the default rule's.
func agentSilentAfter(c *alert.Config) time.Duration {
	rules := c.Rules
	if len(rules) == 0 {
		rules = alert.DefaultRules()
	}
	for _, r := range rules {
		if r.Kind == alert.KindAgentSilent && r.For.Std() > 0 {
			return r.For.Std()
		}
	}
	return httpapi.DefaultAgentSilentAfter
}
