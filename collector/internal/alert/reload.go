package alert

import "github.com/pantau-noc/pantau/internal/yamlconf"

// SetConfig puts the reloadable part of a new, validated alerting
// section in force (SIGHUP): the rules, routes, inhibit_rules,
// dashboard_url and repeat_interval. Alerts in progress keep their state; an alert of a
// rule that is gone stays as it is, as after a restart. The other keys
// (evaluation_interval, lang, console, ha_peer, ha_check_interval) take
// effect at the next start. They are copied into the engine's Config under
// its lock, so every reader of those keys must hold it (Step does).
func (e *Engine) SetConfig(c *Config) {
	e.mu.Lock()
	defer e.mu.Unlock()
	cur := e.o.Config
	cur.Rules, cur.Routes, cur.DashboardURL, cur.RepeatInterval = c.Rules, c.Routes, c.DashboardURL, c.RepeatInterval
	cur.InhibitRules = c.InhibitRules
	e.inhibit = parseInhibitRules(cur)
	e.rules = e.rules[:0:0]
	for i := range cur.Rules {
		e.rules = append(e.rules, &cur.Rules[i])
		e.m.evalFailures.WithLabelValues(cur.Rules[i].Name)
	}
	if len(e.o.Notifiers) > 0 {
		zero := yamlconf.Duration(0)
		e.rules = append(e.rules, &Rule{Name: "NotifierFailing", Kind: KindNotifierFailing, Severity: SeverityWarning, ClearFor: &zero})
	}
}
