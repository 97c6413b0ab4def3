// Package alert evaluates alert rules and turns their results into
// notifications: pending, firing and resolved with flap damping, persisted
// in state.db across restarts, suppressed below a parent site that is
// down (the parent's message counts the affected sites instead), silenced
// by maintenance windows and ad-hoc silences, and routed by labels to the
// durable outbox.
package alert

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pantau-noc/pantau/collector/internal/inventory"
	"github.com/pantau-noc/pantau/collector/internal/statedb"
	"github.com/pantau-noc/pantau/internal/yamlconf"
)

// Sample is one series for which a rule's condition holds now.
type Sample struct {
	Labels map[string]string
	Value  float64
	// At is the time of the data the condition holds on, and Since when
	// it began to hold (the first failed round of a link's outage), for
	// the kinds decided by the SLA engine's rounds; zero for the others,
	// whose condition holds at the evaluation time. `for` counts in this
	// time: such an alert fires on the round that comes `for` after the
	// first failed one, whenever the rule is evaluated.
	At, Since time.Time
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
	// ExplainService is ExplainLink for a service's service_down alert
	// (from its first failed check to the first good one after it).
	ExplainService func(ctx context.Context, service string, from, to time.Time) ([]Outage, error)
	LateWait       time.Duration // default 2m
	Logger         *slog.Logger
	Registerer     prometheus.Registerer
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
	trigger     chan struct{} // Trigger → Run
	health      map[string]RuleHealth
	inhibit     []inhibitRule
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
	e := &Engine{o: o, log: o.Logger, alerts: map[string]*Alert{}, failing: map[string]failure{}, groups: map[string]*group{}, groupsDirty: map[string]bool{}, trigger: make(chan struct{}, 1), health: map[string]RuleHealth{}, inhibit: parseInhibitRules(o.Config)}
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

// Run evaluates every EvaluationInterval until ctx ends, and the rules
// decided by the SLA engine's rounds also when Trigger says new rounds
// were committed (at most once every triggerGap).
func (e *Engine) Run(ctx context.Context) error {
	t := time.NewTicker(e.o.Config.EvaluationInterval.Std())
	defer t.Stop()
	if err := e.Step(ctx, time.Now()); err != nil && ctx.Err() == nil {
		e.log.Error("alert evaluation failed", "err", err)
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if err := e.Step(ctx, time.Now()); err != nil && ctx.Err() == nil {
				e.log.Error("alert evaluation failed", "err", err)
			}
		case <-e.trigger:
			start := time.Now()
			if err := e.StepData(ctx, start); err != nil && ctx.Err() == nil {
				e.log.Error("alert evaluation failed", "err", err)
			}
			// commits come many a second under load: coalesce them
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(triggerGap - time.Since(start)):
			}
		}
	}
}

// triggerGap is the least time between two evaluations on new rounds.
const triggerGap = time.Second

// Trigger tells Run that new rounds were committed (the SLA engine's
// marks of an ingest commit): link_down and service_down are evaluated
// without waiting for the tick. It never blocks.
func (e *Engine) Trigger() {
	select {
	case e.trigger <- struct{}{}:
	default:
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

// RuleHealth is the outcome of a rule's last evaluation.
type RuleHealth struct {
	LastEvaluation time.Time // zero: not evaluated yet
	EvaluationTime time.Duration
	Err            error
}

// RuleStatus is a rule with its last evaluation (for GET /api/v1/rules).
type RuleStatus struct {
	Rule   *Rule
	Health RuleHealth
}

// Rules returns the rules the engine evaluates (NotifierFailing
// included) with their last evaluation.
func (e *Engine) Rules() []RuleStatus {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]RuleStatus, 0, len(e.rules))
	for _, r := range e.rules {
		out = append(out, RuleStatus{Rule: r, Health: e.health[r.Name]})
	}
	return out
}

// Annotations are an alert's summary (its title without the mark) and
// description (its text), as its firing message has them, in the
// engine's language.
func (e *Engine) Annotations(a Alert) map[string]string {
	inv := e.o.Inventory()
	d := messageData{Alert: &a, now: a.LastTrue, Lang: e.o.Config.Lang, Zone: zoneOf(inv, a.Labels["site"])}
	if s := siteOf(inv, a.Labels["site"]); s != nil {
		d.SiteName = s.Name
	}
	// e.rules changes at a reload (SetConfig): looked up under the lock;
	// a Rule itself is never changed once in force
	e.mu.Lock()
	r := e.rule(a.Rule)
	e.mu.Unlock()
	m := render(r, &d)
	return map[string]string{"summary": stripMark(m.Title), "description": m.Text}
}

// Query is the rule's condition as a PromQL expression over the
// collector's series, for GET /api/v1/rules (the engine evaluates the
// SLA kinds on the rounds themselves, which these series show).
func (r *Rule) Query() string {
	switch r.Kind {
	case KindLinkDown:
		return `pantau_link_state{state="down"} == 1`
	case KindServiceDown:
		return `pantau_service_state{state="down"} == 1`
	case KindLoss:
		return fmt.Sprintf("pantau_icmp_loss_ratio > %g", r.Threshold)
	case KindLatency:
		return fmt.Sprintf("pantau_icmp_rtt_avg_seconds > %g", r.Threshold)
	case KindUtilization:
		return fmt.Sprintf(`max by (link) (pantau_snmp_if_receive_bits_per_second{link!=""} or pantau_snmp_if_transmit_bits_per_second{link!=""}) / on (link) group_left max by (link) (pantau_link_bandwidth_bits_per_second) > %g`, r.Threshold)
	case KindQueueBacklog:
		return fmt.Sprintf("pantau_agent_queue_oldest_age_seconds > %g", r.Threshold)
	case KindRadioSignalLow:
		if r.Threshold != 0 {
			return fmt.Sprintf("%s < %g", radioSignalExpr, r.Threshold)
		}
		return radioSignalExpr + ` < the link's thresholds.signal_dbm`
	case KindOnBattery:
		return onBatteryExpr
	case KindInterfaceDown:
		return `pantau_snmp_if_oper_status{link!=""} != 1 and on (agent, device, ifindex) pantau_snmp_if_admin_status == 1`
	case KindDeviceRebooted:
		return `resets(pantau_snmp_device_uptime_seconds[15m]) > 0`
	case KindAgentSilent:
		return fmt.Sprintf(`time() - max by (agent, site) (timestamp(pantau_agent_uptime_seconds)) >= %g`, r.For.Std().Seconds())
	case KindNotifierFailing:
		return `increase(pantau_notifications_failed_total[1h]) > 0`
	// The fleet kinds read state.db, not series: a description.
	case KindConfigNotApplied:
		return fmt.Sprintf(`fleet: the agent reported the offered remote config FAILED, or has not applied it for %s`, r.For.Std())
	case KindAgentOutdated:
		return `fleet: the agent's version is older than the collector's`
	case KindClockSkew:
		return fmt.Sprintf(`fleet: abs(agent clock - collector clock) > %gs`, r.Threshold)
	}
	return r.Expr
}
