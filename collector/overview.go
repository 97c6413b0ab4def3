package collector

import (
	"context"
	"fmt"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/alert"
	"github.com/pantau-noc/pantau/collector/internal/httpapi"
	"github.com/pantau-noc/pantau/collector/internal/sla"
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
		Outages:          p.slarun.siteOutages,
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

// siteOutages returns the outages of a site, its links and the services
// it hosts that overlap [from, to], from one SLA computation of the
// site's days (the code explainOutages, explainLinkOutages and
// explainServiceOutages run for the alert engine). An outage that
// reaches the last two minutes of a window ending now, of an object that
// is down now, is ongoing.
func (r *slaRuntime) siteOutages(ctx context.Context, siteID string, from, to time.Time) ([]httpapi.FoundOutage, error) {
	inv := r.builder.Inventory()
	if inv == nil || inv.Site(siteID) == nil {
		return nil, nil
	}
	site := inv.Site(siteID)
	comp, err := r.computation(ctx, inv, site, from, to)
	if err != nil {
		return nil, fmt.Errorf("outages of site %s: %w", siteID, err)
	}
	now := time.Now()
	live := to.After(now.Add(-time.Minute))
	var out []httpapi.FoundOutage
	add := func(kind, id string, os []sla.Outage, down bool) {
		for _, o := range os {
			if !o.End.After(from) || !o.Start.Before(to) {
				continue
			}
			out = append(out, httpapi.FoundOutage{Kind: kind, ID: id, Start: o.Start, End: o.End,
				DurationSeconds: o.DurationSeconds, DownSeconds: o.DownSeconds, Cause: o.Cause,
				Ongoing: live && down && !o.End.Before(now.Add(-2*time.Minute))})
		}
	}
	res, err := comp.Site(ctx, site)
	if err != nil {
		return nil, fmt.Errorf("outages of site %s: %w", siteID, err)
	}
	var states []sla.State
	for _, l := range inv.LinksOfSite(siteID) {
		states = append(states, r.builder.Current(l, siteID))
	}
	add(sla.ScopeSite, siteID, res.Outages, sla.SiteState(states) == sla.Down)
	for _, l := range inv.LinksOfSite(siteID) {
		lr, err := comp.Link(ctx, l)
		if err != nil {
			return nil, fmt.Errorf("outages of link %s: %w", l.ID, err)
		}
		add(sla.ScopeLink, l.ID, lr.Outages, r.builder.Current(l, siteID) == sla.Down)
	}
	for i := range inv.Services {
		sv := &inv.Services[i]
		if sv.Site != siteID {
			continue
		}
		sr, err := comp.Service(ctx, sv)
		if err != nil {
			return nil, fmt.Errorf("outages of service %s: %w", sv.ID, err)
		}
		add(sla.ScopeService, sv.ID, sr.Outages, r.builder.CurrentService(sv) == sla.Down)
	}
	return out, nil
}
