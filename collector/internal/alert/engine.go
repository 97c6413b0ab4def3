// Package alert evaluates alert rules and turns their results into
// notifications: pending, firing and resolved with flap damping, persisted
// in state.db across restarts, suppressed below a parent site that is
// down (the parent's message counts the affected sites instead), silenced
// by maintenance windows and ad-hoc silences, and routed by labels to the
// durable outbox.
package alert

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"text/template"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pantau-noc/pantau/collector/internal/inventory"
	"github.com/pantau-noc/pantau/collector/internal/notify"
	"github.com/pantau-noc/pantau/collector/internal/statedb"
	"github.com/pantau-noc/pantau/internal/yamlconf"
)

// Sample is one series for which a rule's condition holds now.
type Sample struct {
	Labels map[string]string
	Value  float64
}

// Evaluator returns the series for which a rule's condition holds at now.
type Evaluator interface {
	Eval(ctx context.Context, r *Rule, now time.Time) ([]Sample, error)
}

// Options configure an Engine.
type Options struct {
	Config *Config // validated
	Eval   Evaluator
	// Inventory returns the current inventory (nil: none).
	Inventory func() *inventory.Inventory
	// InMaintenance tells whether a link or site is in a maintenance
	// window at t (nil: never).
	InMaintenance func(link, site string, t time.Time) bool
	DB            *statedb.DB
	// Enqueue stores a notification in the outbox of a notifier.
	Enqueue func(ctx context.Context, notifier, msgID string, payload []byte) (bool, error)
	// Notifiers are the configured notifier names (the default route).
	Notifiers []string
	// Explain returns a site's outages that overlap [from, to] from the
	// SLA engine's minute states (nil: none). When an agent that was
	// silent is back, its resolved message waits LateWait for the agent's
	// backlog to land and then says when the site was down and why.
	Explain func(ctx context.Context, site string, from, to time.Time) ([]Outage, error)
	// ExplainLink returns a link's outages that overlap [from, to] from
	// the SLA engine's slots (nil: none). A resolved link_down message
	// then gives the outage's real start, end and duration, from its
	// first failed round to the first good round after it, to the 10-s
	// slot, instead of the rule's evaluation times.
	ExplainLink func(ctx context.Context, link string, from, to time.Time) ([]Outage, error)
	LateWait    time.Duration // default 2m
	Logger      *slog.Logger
	Registerer  prometheus.Registerer
}

// States of an alert.
const (
	StatePending = "pending"
	StateFiring  = "firing"
	// StateResolving is an agent_silent alert whose agent is back, waiting
	// for its backlog before the resolved message.
	StateResolving = "resolving"
)

// Outage is a period a site was down, as the SLA engine sees it.
type Outage struct {
	Start, End time.Time
	Cause      string // parent, isp, power, unknown
}

// KindNotifierFailing is the engine's own rule: a notifier refused a
// notification for good. Its alert goes to the other notifiers.
const KindNotifierFailing = "notifier_failing"

// notifierFailingFor is how long a refused notification keeps the
// notifier's alert firing without a later success.
const notifierFailingFor = time.Hour

// Alert is one instance of a rule: one label set.
type Alert struct {
	Fingerprint string            `json:"fingerprint"`
	Rule        string            `json:"rule"`
	Kind        string            `json:"kind"`
	Severity    string            `json:"severity"`
	Labels      map[string]string `json:"labels"`
	State       string            `json:"state"`
	Value       float64           `json:"value"`
	ActiveAt    time.Time         `json:"active_at"`            // the condition first held
	LastTrue    time.Time         `json:"last_true"`            // the condition last held
	FiredAt     time.Time         `json:"fired_at,omitzero"`    // became firing
	Notified    bool              `json:"notified"`             // its firing message is queued
	LastSent    time.Time         `json:"last_sent,omitzero"`   // last firing message (repeats)
	Repeats     int               `json:"repeats"`              // repeat messages sent
	Suppressed  string            `json:"suppressed,omitempty"` // parent site that explains it
	Silenced    bool              `json:"silenced,omitempty"`
	Acked       string            `json:"acked,omitempty"`      // who acknowledged it (no repeats)
	ResolvedAt  time.Time         `json:"resolved_at,omitzero"` // resolving: when the condition cleared
	Outages     []Outage          `json:"outages,omitempty"`    // resolved agent_silent: what the late data showed
	// DownFrom and DownUntil are a resolved link_down alert's outage as
	// the SLA engine measured it (zero: not measured).
	DownFrom  time.Time `json:"down_from,omitzero"`
	DownUntil time.Time `json:"down_until,omitzero"`
}

// Engine evaluates rules and keeps alert state.
type Engine struct {
	o      Options
	log    *slog.Logger
	rules  []*Rule
	mu     sync.Mutex
	alerts map[string]*Alert
	m      *metrics
	// failing notifiers: when they last refused, and why
	failing map[string]failure
	// groups of messages waiting for their route's group_wait, by key;
	// stored with the alerts (key groupPrefix+key) so a restart keeps them
	groups      map[string]*group
	groupsDirty map[string]bool
}

// groupPrefix marks stored groups among the stored alerts.
const groupPrefix = "group:"

// group is the messages of one route, notifier, status and group_by
// values that are waiting to go out as one.
type group struct {
	Key      string            `json:"key"`
	Notifier string            `json:"notifier"`
	Status   string            `json:"status"`
	Labels   map[string]string `json:"labels"` // the group_by labels
	First    time.Time         `json:"first"`
	Wait     time.Duration     `json:"wait"`
	Lang     string            `json:"lang"`
	Members  []member          `json:"members"`
}

type member struct {
	Msg  notify.Message `json:"msg"`
	Line string         `json:"line"`
}

type failure struct {
	at     time.Time
	reason string
}

// New loads the stored alert state.
func New(ctx context.Context, o Options) (*Engine, error) {
	if o.Config == nil || o.Eval == nil || o.DB == nil || o.Enqueue == nil {
		return nil, errors.New("alert: Config, Eval, DB and Enqueue are required")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Inventory == nil {
		o.Inventory = func() *inventory.Inventory { return nil }
	}
	if o.LateWait <= 0 {
		o.LateWait = 2 * time.Minute
	}
	e := &Engine{o: o, log: o.Logger, alerts: map[string]*Alert{}, failing: map[string]failure{}, groups: map[string]*group{}, groupsDirty: map[string]bool{}}
	for i := range o.Config.Rules {
		e.rules = append(e.rules, &o.Config.Rules[i])
	}
	if len(o.Notifiers) > 0 {
		zero := yamlconf.Duration(0)
		e.rules = append(e.rules, &Rule{Name: "NotifierFailing", Kind: KindNotifierFailing, Severity: SeverityWarning, ClearFor: &zero})
	}
	stored, err := o.DB.LoadAlerts(ctx)
	if err != nil {
		return nil, err
	}
	for fp, b := range stored {
		if key, ok := strings.CutPrefix(fp, groupPrefix); ok {
			var g group
			if err := json.Unmarshal(b, &g); err != nil {
				e.log.Warn("stored alert group does not decode; dropped", "group", key, "err", err)
				continue
			}
			e.groups[key] = &g
			continue
		}
		var a Alert
		if err := json.Unmarshal(b, &a); err != nil {
			e.log.Warn("stored alert state does not decode; dropped", "fingerprint", fp, "err", err)
			continue
		}
		e.alerts[fp] = &a
	}
	e.m = newMetrics(e)
	if o.Registerer != nil {
		if err := o.Registerer.Register(e.m); err != nil {
			return nil, fmt.Errorf("alert: register metrics: %w", err)
		}
	}
	return e, nil
}

// Run evaluates every EvaluationInterval until ctx ends.
func (e *Engine) Run(ctx context.Context) error {
	t := time.NewTicker(e.o.Config.EvaluationInterval.Std())
	defer t.Stop()
	for {
		if err := e.Step(ctx, time.Now()); err != nil && ctx.Err() == nil {
			e.log.Error("alert evaluation failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Active returns the pending and firing alerts, by fingerprint.
func (e *Engine) Active() []Alert {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]Alert, 0, len(e.alerts))
	for _, fp := range slices.Sorted(maps.Keys(e.alerts)) {
		out = append(out, *e.alerts[fp])
	}
	return out
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

// ErrNoAlert and ErrAmbiguousAlert are Ack's failures.
var (
	ErrNoAlert        = errors.New("no firing alert with that id")
	ErrAmbiguousAlert = errors.New("several firing alerts have ids starting so")
)

// Ack acknowledges the firing alert whose fingerprint starts with prefix:
// it is not sent again (repeat_interval) and lists who acknowledged it.
func (e *Engine) Ack(ctx context.Context, prefix, author string) (Alert, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	var found *Alert
	for fp, a := range e.alerts {
		if strings.HasPrefix(fp, prefix) && a.State == StateFiring {
			if found != nil {
				return Alert{}, ErrAmbiguousAlert
			}
			found = a
		}
	}
	if found == nil {
		return Alert{}, ErrNoAlert
	}
	found.Acked = author
	b, _ := json.Marshal(found)
	if err := e.o.DB.SaveAlerts(ctx, map[string][]byte{found.Fingerprint: b}, nil); err != nil {
		return Alert{}, err
	}
	e.log.Info("alert acknowledged", "alert", found.Fingerprint, "rule", found.Rule, "by", author)
	return *found, nil
}

// explain asks the SLA engine what a site's late data showed while its
// agent was silent.
func (e *Engine) explain(ctx context.Context, a *Alert) []Outage {
	// Value is how long the agent had been silent when it was last seen so
	from := a.LastTrue.Add(-time.Duration(a.Value * float64(time.Second)))
	os, err := e.o.Explain(ctx, a.Labels["site"], from, a.ResolvedAt)
	if err != nil {
		e.log.Warn("explaining a silent agent's outage failed", "site", a.Labels["site"], "err", err)
		return nil
	}
	return os
}

// measure asks the SLA engine for the real extent of a link_down alert
// that is resolving: its outages overlapping the time the condition held,
// from the first one's start to the last one's end.
func (e *Engine) measure(ctx context.Context, a *Alert) {
	if a.Kind != KindLinkDown || e.o.ExplainLink == nil || a.Labels["link"] == "" {
		return
	}
	os, err := e.o.ExplainLink(ctx, a.Labels["link"], a.ActiveAt, a.LastTrue)
	if err != nil {
		e.log.Warn("measuring a link outage failed; its message gives the rule's times", "link", a.Labels["link"], "err", err)
		return
	}
	if len(os) > 0 {
		a.DownFrom, a.DownUntil = os[0].Start, os[len(os)-1].End
	}
}

// Fingerprint identifies a rule's label set.
func Fingerprint(rule string, labels map[string]string) string {
	h := sha256.New()
	h.Write([]byte(rule))
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		h.Write([]byte{0})
		h.Write([]byte(k))
		h.Write([]byte{1})
		h.Write([]byte(labels[k]))
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// Step evaluates every rule once at now and queues the notifications that
// follow.
func (e *Engine) Step(ctx context.Context, now time.Time) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	changed := map[string]bool{}
	var resolved []*Alert
	var errs []error
	for _, r := range e.rules {
		var samples []Sample
		var err error
		if r.Kind == KindNotifierFailing {
			samples = e.failingSamples(now)
		} else {
			samples, err = e.o.Eval.Eval(ctx, r, now)
		}
		if err != nil {
			// keep the rule's alerts as they are: no data is not "clear"
			e.m.evalFailures.WithLabelValues(r.Name).Inc()
			errs = append(errs, fmt.Errorf("rule %s: %w", r.Name, err))
			continue
		}
		seen := map[string]bool{}
		for _, s := range samples {
			lbls := maps.Clone(s.Labels)
			if lbls == nil {
				lbls = map[string]string{}
			}
			delete(lbls, "__name__")
			for k, v := range r.Labels {
				lbls[k] = v
			}
			fp := Fingerprint(r.Name, lbls)
			seen[fp] = true
			a := e.alerts[fp]
			if a == nil {
				a = &Alert{Fingerprint: fp, Rule: r.Name, Kind: r.Kind, Severity: r.Severity, Labels: lbls, State: StatePending, ActiveAt: now}
				e.alerts[fp] = a
			}
			if a.State == StateResolving { // silent again before the report
				a.State, a.ResolvedAt = StateFiring, time.Time{}
			}
			a.LastTrue, a.Value = now, s.Value
			changed[fp] = true
		}
		for fp, a := range e.alerts {
			if a.Rule != r.Name || seen[fp] {
				continue
			}
			switch {
			case a.State == StateResolving:
				if now.Sub(a.ResolvedAt) >= e.o.LateWait {
					a.Outages = e.explain(ctx, a)
					delete(e.alerts, fp)
					resolved = append(resolved, a)
				}
			// clear: resolved once clear for clear_for (flap damping)
			case now.Sub(a.LastTrue) >= r.ClearFor.Std():
				if a.Kind == KindAgentSilent && a.Notified && a.Labels["site"] != "" && e.o.Explain != nil {
					// wait for the agent's backlog, then say what it showed
					a.State, a.ResolvedAt = StateResolving, now
					changed[fp] = true
					continue
				}
				e.measure(ctx, a)
				delete(e.alerts, fp)
				resolved = append(resolved, a)
			}
		}
		wait := r.For.Std()
		if r.Kind == KindAgentSilent {
			wait = 0 // the condition is "silent for `for`" already
		}
		for fp, a := range e.alerts {
			if a.Rule == r.Name && a.State == StatePending && now.Sub(a.ActiveAt) >= wait {
				a.State, a.FiredAt = StateFiring, now
				changed[fp] = true
			}
		}
	}
	e.notify(ctx, now, resolved, changed)
	e.flushGroups(ctx, now)
	put := map[string][]byte{}
	for fp := range changed {
		if a := e.alerts[fp]; a != nil {
			put[fp], _ = json.Marshal(a)
		}
	}
	var gone []string
	for _, a := range resolved {
		gone = append(gone, a.Fingerprint)
	}
	for key := range e.groupsDirty {
		if g := e.groups[key]; g != nil {
			put[groupPrefix+key], _ = json.Marshal(g)
		} else {
			gone = append(gone, groupPrefix+key)
		}
	}
	clear(e.groupsDirty)
	if err := e.o.DB.SaveAlerts(context.WithoutCancel(ctx), put, gone); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// notify queues the messages of this step: new firing alerts that are
// neither suppressed nor silenced, repeats, and the resolution of alerts
// whose firing message went out.
func (e *Engine) notify(ctx context.Context, now time.Time, resolved []*Alert, changed map[string]bool) {
	inv := e.o.Inventory()
	down := e.downSites(inv)
	silences, err := e.o.DB.Silences(ctx, now)
	if err != nil {
		e.log.Warn("reading silences failed; none applied", "err", err)
	}
	for _, fp := range slices.Sorted(maps.Keys(e.alerts)) {
		a := e.alerts[fp]
		if a.State != StateFiring {
			continue
		}
		r := e.rule(a.Rule)
		if a.Notified {
			if rep := e.o.Config.RepeatInterval.Std(); rep > 0 && a.Acked == "" && now.Sub(a.LastSent) >= rep {
				a.Repeats++
				a.LastSent = now
				changed[fp] = true
				e.send(ctx, now, r, a, inv, down, fmt.Sprintf("%s-%d-r%d", a.Fingerprint, a.FiredAt.Unix(), a.Repeats), false)
			}
			continue
		}
		if a.LastTrue.Before(now) {
			// held only by clear_for: an alert never sent is not sent now
			// (a child whose parent just recovered, a flap's clear spell)
			continue
		}
		sup := suppressedBy(inv, a.Labels["site"], down)
		if a.Kind == KindServiceDown && down[a.Labels["site"]] {
			sup = a.Labels["site"] // the hosting site's network is down: its link alert says so
		}
		sil := e.silenced(a, silences, now)
		if sup != a.Suppressed || sil != a.Silenced {
			a.Suppressed, a.Silenced = sup, sil
			changed[fp] = true
		}
		if sup != "" || sil {
			continue
		}
		a.Notified, a.LastSent = true, now
		changed[fp] = true
		e.send(ctx, now, r, a, inv, down, fmt.Sprintf("%s-%d", a.Fingerprint, a.FiredAt.Unix()), false)
	}
	for _, a := range resolved {
		if !a.Notified {
			continue
		}
		e.send(ctx, now, e.rule(a.Rule), a, inv, down, fmt.Sprintf("%s-%d-resolved", a.Fingerprint, a.FiredAt.Unix()), true)
	}
}

func (e *Engine) rule(name string) *Rule {
	for _, r := range e.rules {
		if r.Name == name {
			return r
		}
	}
	return &Rule{Name: name}
}

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

// addToGroup puts a message in its route's group for the notifier.
func (e *Engine) addToGroup(t target, m *notify.Message, d *messageData) {
	lbls := map[string]string{}
	var vals []string
	for _, k := range t.route.GroupBy {
		lbls[k] = m.Labels[k]
		vals = append(vals, k+"="+m.Labels[k])
	}
	key := fmt.Sprintf("%d|%s|%s|%s", t.index, t.notifier, m.Status, strings.Join(vals, ","))
	g := e.groups[key]
	if g == nil {
		g = &group{Key: key, Notifier: t.notifier, Status: m.Status, Labels: lbls, First: d.now, Wait: t.route.GroupWait.Std(), Lang: d.Lang}
		e.groups[key] = g
	}
	line := stripMark(m.Title)
	if m.Status == "resolved" {
		line += " (" + d.Duration() + ")"
	} else {
		line += " (" + sincePrefix(d.Lang) + d.Since() + ")"
	}
	g.Members = append(g.Members, member{Msg: *m, Line: line})
	e.groupsDirty[key] = true
}

// flushGroups queues the groups whose wait is over.
func (e *Engine) flushGroups(ctx context.Context, now time.Time) {
	for _, key := range slices.Sorted(maps.Keys(e.groups)) {
		g := e.groups[key]
		if now.Sub(g.First) < g.Wait {
			continue
		}
		m := combine(g)
		payload, err := json.Marshal(m)
		if err == nil {
			_, err = e.o.Enqueue(ctx, g.Notifier, m.ID, payload)
		}
		if err != nil {
			e.log.Error("queuing a grouped notification failed; will retry", "notifier", g.Notifier, "group", key, "err", err)
			continue
		}
		for _, mb := range g.Members {
			e.m.notifications.WithLabelValues(mb.Msg.Labels["alertname"], m.Status).Inc()
		}
		delete(e.groups, key)
		e.groupsDirty[key] = true
	}
}

// combine makes one message of a group: the member's own message when it
// is alone, else a list.
func combine(g *group) *notify.Message {
	if len(g.Members) == 1 {
		m := g.Members[0].Msg
		return &m
	}
	rank := map[string]int{SeverityInfo: 0, SeverityWarning: 1, SeverityCritical: 2}
	m := &notify.Message{Status: g.Status, Labels: maps.Clone(g.Labels), Severity: SeverityInfo}
	h := sha256.New()
	var lines []string
	for i, mb := range g.Members {
		h.Write([]byte(mb.Msg.ID))
		h.Write([]byte{0})
		if rank[mb.Msg.Severity] > rank[m.Severity] {
			m.Severity = mb.Msg.Severity
		}
		if m.StartsAt.IsZero() || mb.Msg.StartsAt.Before(m.StartsAt) {
			m.StartsAt = mb.Msg.StartsAt
		}
		if mb.Msg.EndsAt.After(m.EndsAt) {
			m.EndsAt = mb.Msg.EndsAt
		}
		m.URL = mb.Msg.URL
		if i < 30 {
			lines = append(lines, "• "+mb.Line)
		}
	}
	if n := len(g.Members) - 30; n > 0 {
		more := "… dan %d lainnya"
		if g.Lang == "en" {
			more = "… and %d more"
		}
		lines = append(lines, fmt.Sprintf(more, n))
	}
	m.ID = "g-" + hex.EncodeToString(h.Sum(nil)[:8])
	m.Labels["alertname"] = "PantauGroup"
	m.Labels["severity"] = m.Severity
	var vals []string
	for _, k := range slices.Sorted(maps.Keys(g.Labels)) {
		if v := g.Labels[k]; v != "" {
			vals = append(vals, v)
		}
	}
	what := fmt.Sprintf("%d peringatan", len(g.Members))
	if g.Lang == "en" {
		what = fmt.Sprintf("%d alerts", len(g.Members))
	}
	if len(vals) > 0 {
		what += " — " + strings.Join(vals, ", ")
	}
	switch {
	case g.Status == "resolved" && g.Lang == "en":
		m.Title = "✅ RESOLVED: " + what
	case g.Status == "resolved":
		m.Title = "✅ PULIH: " + what
	default:
		m.Title = severityMark(m.Severity) + what
	}
	m.Text = strings.Join(lines, "\n")
	return m
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

func siteOf(inv *inventory.Inventory, id string) *inventory.Site {
	if inv == nil || id == "" {
		return nil
	}
	return inv.Site(id)
}

// zoneOf is the site's zone, else WIB.
func zoneOf(inv *inventory.Inventory, site string) *time.Location {
	if s := siteOf(inv, site); s != nil && s.Location != nil {
		return s.Location
	}
	return wib
}

var wib = time.FixedZone("WIB", 7*3600)

// messageData is what message templates see.
type messageData struct {
	*Alert
	now      time.Time
	Lang     string
	Resolved bool
	SiteName string
	Affected int
	Zone     *time.Location
}

// measured tells whether the SLA engine measured the alert's outage.
func (d *messageData) measured() bool { return !d.DownFrom.IsZero() && d.DownUntil.After(d.DownFrom) }

// Since is when the problem began, in the site's zone: the first failed
// round of a measured link outage (to the second), else when the
// condition first held.
func (d *messageData) Since() string {
	if d.measured() {
		return localTimeSec(d.DownFrom, d.Zone)
	}
	return localTime(d.ActiveAt, d.Zone)
}

// Until is when the problem ended, in the site's zone: the first good
// round after a measured link outage, else when the condition last held.
func (d *messageData) Until() string {
	if d.measured() {
		return localTimeSec(d.DownUntil, d.Zone)
	}
	return localTime(d.LastTrue, d.Zone)
}

// Duration is how long the problem lasted, in words, to the second: the
// measured outage's, else the time the condition held.
func (d *messageData) Duration() string {
	if d.measured() {
		return duration(d.DownUntil.Sub(d.DownFrom), d.Lang)
	}
	return duration(d.LastTrue.Sub(d.ActiveAt), d.Lang)
}

func localTime(t time.Time, loc *time.Location) string {
	return localFormat(t, loc, "2006-01-02 15:04")
}

// localTimeSec is localTime to the second.
func localTimeSec(t time.Time, loc *time.Location) string {
	return localFormat(t, loc, "2006-01-02 15:04:05")
}

func localFormat(t time.Time, loc *time.Location, layout string) string {
	t = t.In(loc)
	name, _ := t.Zone()
	switch name {
	case "+07", "WIB":
		name = "WIB"
	case "+08", "WITA":
		name = "WITA"
	case "+09", "WIT":
		name = "WIT"
	}
	return t.Format(layout) + " " + name
}

// duration writes d to the second ("1 jam 5 menit 10 detik", "3 min
// 23 s"), leaving out units that are zero; under a second is "< 1 detik".
func duration(d time.Duration, lang string) string {
	d = d.Truncate(time.Second)
	units := [3]string{"jam", "menit", "detik"}
	less := "< 1 detik"
	if lang == "en" {
		units, less = [3]string{"h", "min", "s"}, "< 1 s"
	}
	if d <= 0 {
		return less
	}
	var parts []string
	for i, n := range []int64{int64(d / time.Hour), int64(d/time.Minute) % 60, int64(d/time.Second) % 60} {
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, units[i]))
		}
	}
	return strings.Join(parts, " ")
}

// render builds the notification of an alert.
func render(r *Rule, d *messageData) *notify.Message {
	m := &notify.Message{Status: "firing", Severity: d.Severity, StartsAt: d.ActiveAt.UTC()}
	if d.Resolved {
		m.Status = "resolved"
		m.EndsAt = d.LastTrue.UTC()
	}
	m.Labels = maps.Clone(d.Labels)
	m.Labels["alertname"] = d.Rule
	m.Labels["severity"] = d.Severity
	title, text := defaultMessage(d)
	tt, xt := r.title, r.text
	if m, ok := builtinMessages[r.Name]; ok && r.Kind == KindPromQL && tt == nil && xt == nil {
		tt, xt = m[0], m[1]
	}
	if tt != nil {
		title = execTemplate(tt, d, title)
	}
	if xt != nil {
		text = execTemplate(xt, d, text)
	}
	m.Title, m.Text = title, text
	return m
}

func execTemplate(t *template.Template, d *messageData, fallback string) string {
	var b bytes.Buffer
	if err := t.Execute(&b, d); err != nil {
		return fallback
	}
	return strings.TrimSpace(b.String())
}

// sortedLabels lists labels as k=v, for the generic message.
func sortedLabels(l map[string]string) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(l)) {
		parts = append(parts, k+"="+l[k])
	}
	return strings.Join(parts, ", ")
}
