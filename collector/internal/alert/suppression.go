// Suppression: an alert below a parent site that is down is held back
// (the parent's message counts the sites it cuts off), and maintenance
// windows and ad-hoc silences silence alerts.

package alert

import (
	"time"

	"github.com/pantau-noc/pantau/collector/internal/inventory"
	"github.com/pantau-noc/pantau/collector/internal/statedb"
)

// downSites are the inventory sites all of whose links have a pending or
// firing link_down alert.
func (e *Engine) downSites(inv *inventory.Inventory) map[string]bool {
	if inv == nil {
		return nil
	}
	downLinks := map[string]bool{}
	for _, a := range e.alerts {
		if a.Kind == KindLinkDown && a.Labels["link"] != "" {
			downLinks[a.Labels["link"]] = true
		}
	}
	out := map[string]bool{}
	for i := range inv.Sites {
		s := &inv.Sites[i]
		links := inv.LinksOfSite(s.ID)
		if len(links) == 0 {
			continue
		}
		all := true
		for _, l := range links {
			all = all && downLinks[l.ID]
		}
		if all {
			out[s.ID] = true
		}
	}
	return out
}

// suppressor returns the down site that explains an alert ("" none): the
// nearest ancestor of its site that is down, or for a service_down alert
// its own site.
func suppressor(inv *inventory.Inventory, a *Alert, down map[string]bool) string {
	if a.Kind == KindServiceDown && down[a.Labels["site"]] {
		return a.Labels["site"] // the hosting site's network is down: its link alert says so
	}
	return suppressedBy(inv, a.Labels["site"], down)
}

// suppressedBy returns the nearest ancestor of site that is down ("" none).
func suppressedBy(inv *inventory.Inventory, site string, down map[string]bool) string {
	if inv == nil || site == "" {
		return ""
	}
	seen := map[string]bool{}
	for s := inv.Site(site); s != nil && s.Parent != "" && !seen[s.Parent]; s = inv.Site(s.Parent) {
		seen[s.Parent] = true
		if down[s.Parent] {
			return s.Parent
		}
	}
	return ""
}

// affected counts the monitored sites (with a link) below site: a down
// site cuts them all off. Counting their alerts instead would depend on
// which of their probe rounds happened to arrive before the parent's
// alert was sent.
func (e *Engine) affected(inv *inventory.Inventory, site string) int {
	if inv == nil || site == "" {
		return 0
	}
	n := 0
	for i := range inv.Sites {
		s := inv.Sites[i].ID
		if s != site && len(inv.LinksOfSite(s)) > 0 && isDescendant(inv, s, site) {
			n++
		}
	}
	return n
}

func isDescendant(inv *inventory.Inventory, site, ancestor string) bool {
	seen := map[string]bool{}
	for s := inv.Site(site); s != nil && s.Parent != "" && !seen[s.Parent]; s = inv.Site(s.Parent) {
		seen[s.Parent] = true
		if s.Parent == ancestor {
			return true
		}
	}
	return false
}

func (e *Engine) silenced(a *Alert, silences []statedb.Silence, now time.Time) bool {
	if e.o.InMaintenance != nil && (a.Labels["link"] != "" || a.Labels["site"] != "") && e.o.InMaintenance(a.Labels["link"], a.Labels["site"], now) {
		return true
	}
	for _, s := range silences {
		if s.Active(now) && s.Matches(a.Labels) {
			return true
		}
	}
	return false
}
