// Routing: an alert's labels choose its notifiers (label routes, else
// every notifier), its message is rendered and queued in their outbox;
// a notifier that refuses raises the NotifierFailing alert at the others.

package alert

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/inventory"
)

// KindNotifierFailing is the engine's own rule: a notifier refused a
// notification for good. Its alert goes to the other notifiers.
const KindNotifierFailing = "notifier_failing"

// notifierFailingFor is how long a refused notification keeps the
// notifier's alert firing without a later success.
const notifierFailingFor = time.Hour

type failure struct {
	at     time.Time
	reason string
}

// NotifierFailed records that a notifier refused a notification for good
// (from the outbox); the NotifierFailing alert goes to the others.
func (e *Engine) NotifierFailed(notifier, reason string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.failing[notifier] = failure{time.Now(), reason}
}

// NotifierOK records a notifier's successful delivery.
func (e *Engine) NotifierOK(notifier string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.failing, notifier)
}

func (e *Engine) failingSamples(now time.Time) []Sample {
	var out []Sample
	for n, f := range e.failing {
		if now.Sub(f.at) > notifierFailingFor {
			delete(e.failing, n)
			continue
		}
		out = append(out, Sample{Labels: map[string]string{"notifier": n, "reason": f.reason}, Value: 1})
	}
	return out
}

// send renders a message and queues it for the routed notifiers.
func (e *Engine) send(ctx context.Context, now time.Time, r *Rule, a *Alert, inv *inventory.Inventory, down map[string]bool, id string, resolved bool) {
	site := a.Labels["site"]
	d := messageData{Alert: a, now: now, Lang: e.o.Config.Lang, Resolved: resolved, Zone: zoneOf(inv, site)}
	if s := siteOf(inv, site); s != nil {
		d.SiteName = s.Name
	}
	if a.Kind == KindLinkDown && down[site] {
		d.Affected = e.affected(inv, site)
	}
	m := render(r, &d)
	m.ID = id
	m.URL = e.o.Config.DashboardURL
	payload, err := json.Marshal(m)
	if err != nil {
		e.log.Error("notification does not encode", "rule", r.Name, "err", err)
		return
	}
	for _, t := range e.route(m.Labels) {
		n := t.notifier
		if a.Kind == KindNotifierFailing && n == a.Labels["notifier"] {
			continue // it would refuse this one too
		}
		if t.route != nil && len(t.route.GroupBy) > 0 {
			e.addToGroup(t, m, &d)
			continue
		}
		if _, err := e.o.Enqueue(ctx, n, id, payload); err != nil {
			e.log.Error("queuing a notification failed", "notifier", n, "rule", r.Name, "err", err)
			continue
		}
		e.m.notifications.WithLabelValues(r.Name, m.Status).Inc()
	}
}

// target is one notifier an alert goes to, and the route that sent it
// there (nil: the default route).
type target struct {
	notifier string
	route    *Route
	index    int
}

// route returns the notifiers for an alert's labels.
func (e *Engine) route(labels map[string]string) []target {
	if len(e.o.Config.Routes) == 0 {
		out := make([]target, 0, len(e.o.Notifiers))
		for _, n := range e.o.Notifiers {
			out = append(out, target{notifier: n, index: -1})
		}
		return out
	}
	var out []target
	for i := range e.o.Config.Routes {
		rt := &e.o.Config.Routes[i]
		ok := len(rt.Severity) == 0 || slices.Contains(rt.Severity, labels["severity"])
		for k, v := range rt.Match {
			ok = ok && labels[k] == v
		}
		if !ok {
			continue
		}
		for _, n := range rt.Notifiers {
			if !slices.ContainsFunc(out, func(t target) bool { return t.notifier == n }) {
				out = append(out, target{notifier: n, route: rt, index: i})
			}
		}
		if !rt.Continue {
			break
		}
	}
	return out
}
