package collector

import (
	"github.com/pantau-noc/pantau/collector/internal/httpapi"
)

// overviewAPI is the read-only overview the web UI shows: the current
// status of the inventory, the agents, outages and unmatched series
// (docs/api.md), on the daemon's SLA builder, TSDB and state database.
func (p *parts) overviewAPI() *httpapi.Overview {
	return httpapi.NewOverview(httpapi.OverviewOptions{
		DB:        p.state,
		Inventory: p.slarun.builder.Inventory,
		TSDB:      p.store.Queryable(),
		States:    p.slarun.builder,
		Logger:    p.log.With("component", "overview-api"),
	})
}
