// Suppression: an alert below a parent site that is down is held back
// (the parent's message counts the sites it cuts off), and maintenance
// windows and ad-hoc silences silence alerts.

package alert

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/pantau-noc/pantau/collector/internal/inventory"
	"github.com/pantau-noc/pantau/collector/internal/statedb"
	"github.com/pantau-noc/pantau/internal/yamlconf"
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

// inhibitRule is an InhibitRule with its matchers parsed.
type inhibitRule struct {
	source, target []*labels.Matcher
	Equal          []string
}

// parseInhibitRules parses the configured inhibit rules (validated: a
// matcher that does not parse is left out).
func parseInhibitRules(c *Config) []inhibitRule {
	if c.InhibitRules == nil {
		return nil
	}
	var out []inhibitRule
	for _, ir := range *c.InhibitRules {
		probs := yamlconf.NewProblems(nil)
		out = append(out, inhibitRule{source: parseMatchers(probs, "source_matchers", ir.SourceMatchers),
			target: parseMatchers(probs, "target_matchers", ir.TargetMatchers), Equal: ir.Equal})
	}
	return out
}

// inhibition is what the inhibit rules mute in one step: per rule, the
// sources by the values of its equal labels.
type inhibition struct {
	rules   []inhibitRule
	sources []map[string][]inhibitSource // per rule: equal-label key → sources (at most 2)
}

type inhibitSource struct {
	fp   string // "" for a SiteDown source
	desc string // LinkDown{link="x"}
}

// matchLabels are the labels matchers see: the alert's, its alertname
// and severity.
func matchLabels(a *Alert) map[string]string {
	l := maps.Clone(a.Labels)
	if l == nil {
		l = map[string]string{}
	}
	l["alertname"] = a.Rule
	l["severity"] = a.Severity
	return l
}

func matchAll(ms []*labels.Matcher, l map[string]string) bool {
	for _, m := range ms {
		if !m.Matches(l[m.Name]) {
			return false
		}
	}
	return true
}

// equalKey is the values of the equal labels, as a map key.
func equalKey(equal []string, l map[string]string) string {
	var b strings.Builder
	for _, k := range equal {
		b.WriteString(l[k])
		b.WriteByte(0)
	}
	return b.String()
}

// describe names a source by its alertname and equal labels.
func describe(l map[string]string, equal []string) string {
	var parts []string
	for _, k := range equal {
		parts = append(parts, fmt.Sprintf("%s=%q", k, l[k]))
	}
	return l["alertname"] + "{" + strings.Join(parts, ",") + "}"
}

// inhibitors indexes the sources of the inhibit rules: the alerts whose
// condition holds or held within clear_for (as for the down sites: a link
// seen up again a moment before its own loss series), and a SiteDown
// source for each down site.
func (e *Engine) inhibitors(down map[string]bool) *inhibition {
	in := &inhibition{rules: e.inhibit}
	sources := make([]map[string]string, 0, len(e.alerts)+len(down))
	fps := make([]string, 0, cap(sources))
	for _, fp := range slices.Sorted(maps.Keys(e.alerts)) {
		a := e.alerts[fp]
		if a.State == StateResolving {
			continue
		}
		sources = append(sources, matchLabels(a))
		fps = append(fps, fp)
	}
	for _, site := range slices.Sorted(maps.Keys(down)) {
		sources = append(sources, map[string]string{"alertname": SiteDownAlert, "site": site})
		fps = append(fps, "")
	}
	for i := range in.rules {
		ir := &in.rules[i]
		idx := map[string][]inhibitSource{}
		for j, l := range sources {
			if len(ir.source) == 0 || !matchAll(ir.source, l) {
				continue
			}
			k := equalKey(ir.Equal, l)
			if len(idx[k]) < 2 { // two: one that is not the target itself
				idx[k] = append(idx[k], inhibitSource{fp: fps[j], desc: describe(l, ir.Equal)})
			}
		}
		in.sources = append(in.sources, idx)
	}
	return in
}

// by returns the source that inhibits a ("" none). An alert does not
// inhibit itself.
func (in *inhibition) by(a *Alert) string {
	var l map[string]string
	for i := range in.rules {
		ir := &in.rules[i]
		if len(in.sources[i]) == 0 || len(ir.target) == 0 {
			continue
		}
		if l == nil {
			l = matchLabels(a)
		}
		if !matchAll(ir.target, l) {
			continue
		}
		for _, s := range in.sources[i][equalKey(ir.Equal, l)] {
			if s.fp != a.Fingerprint {
				return s.desc
			}
		}
	}
	return ""
}
