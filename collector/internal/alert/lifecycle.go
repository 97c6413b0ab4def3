// The lifecycle of an alert: pending, firing (after `for`), resolving
// (a silent agent's backlog) and resolved (after `clear_for`), its
// acknowledgement, and which of its messages a step sends.

package alert

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// States of an alert.
const (
	StatePending = "pending"
	StateFiring  = "firing"
	// StateResolving is an agent_silent alert whose agent is back, waiting
	// for its backlog before the resolved message.
	StateResolving = "resolving"
	// StateClearing is a pending or firing alert whose condition no
	// longer holds, kept for `clear_for` (flap damping) before it resolves:
	// it is not shown as pending or firing, and not repeated. If the
	// condition holds again within clear_for it goes back to pending (its
	// `for` counting from its first start) or firing (no new message).
	StateClearing = "clearing"
)

// Outage is a period a site was down, as the SLA engine sees it.
type Outage struct {
	Start, End time.Time
	Cause      string // parent, isp, power, unknown
}

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
	Through     time.Time         `json:"through,omitzero"`     // the time of the newest data it held on (Sample.At; else LastTrue)
	FiredAt     time.Time         `json:"fired_at,omitzero"`    // became firing
	Notified    bool              `json:"notified"`             // its firing message is queued
	LastSent    time.Time         `json:"last_sent,omitzero"`   // last firing message (repeats)
	Repeats     int               `json:"repeats"`              // repeat messages sent
	Suppressed  string            `json:"suppressed,omitempty"` // parent site that explains it
	Inhibited   string            `json:"inhibited,omitempty"`  // the source alert of an inhibit rule that mutes it
	Silenced    bool              `json:"silenced,omitempty"`
	Acked       string            `json:"acked,omitempty"`      // who acknowledged it (no repeats)
	ResolvedAt  time.Time         `json:"resolved_at,omitzero"` // resolving: when the condition cleared
	Outages     []Outage          `json:"outages,omitempty"`    // resolved agent_silent: what the late data showed
	// DownFrom and DownUntil are a resolved link_down or service_down
	// alert's outage as the SLA engine measured it (zero: not measured).
	DownFrom  time.Time `json:"down_from,omitzero"`
	DownUntil time.Time `json:"down_until,omitzero"`
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

// measure asks the SLA engine for the real extent of a link_down or
// service_down alert that is resolving: its outages overlapping the time
// the condition held, from the first one's start to the last one's end.
func (e *Engine) measure(ctx context.Context, a *Alert) {
	explain, id := e.o.ExplainLink, a.Labels["link"]
	switch a.Kind {
	case KindLinkDown:
	case KindServiceDown:
		explain, id = e.o.ExplainService, a.Labels["service"]
	default:
		return
	}
	if explain == nil || id == "" {
		return
	}
	os, err := explain(ctx, id, a.ActiveAt, a.LastTrue)
	if err != nil {
		e.log.Warn("measuring an outage failed; its message gives the rule's times", "rule", a.Rule, "id", id, "err", err)
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
	e.m.evaluations.WithLabelValues("tick").Inc()
	return e.step(ctx, now, nil)
}

// StepData evaluates, at now, the rules decided by the SLA engine's
// rounds (link_down, service_down): what the arrival of new rounds may
// change. Run calls it when Trigger says rounds were committed.
func (e *Engine) StepData(ctx context.Context, now time.Time) error {
	e.m.evaluations.WithLabelValues("rounds").Inc()
	return e.step(ctx, now, func(r *Rule) bool { return r.Kind == KindLinkDown || r.Kind == KindServiceDown })
}

// step evaluates the rules that only accepts (nil: all).
func (e *Engine) step(ctx context.Context, now time.Time, only func(*Rule) bool) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	changed := map[string]bool{}
	var resolved []*Alert
	var errs []error
	for _, r := range e.rules {
		if only != nil && !only(r) {
			continue
		}
		var samples []Sample
		var err error
		began := time.Now()
		if r.Kind == KindNotifierFailing {
			samples = e.failingSamples(now)
		} else {
			samples, err = e.o.Eval.Eval(ctx, r, now)
		}
		e.health[r.Name] = RuleHealth{LastEvaluation: now, EvaluationTime: time.Since(began), Err: err}
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
			// the data's time, never after now (a clock ahead)
			at := s.At
			if at.IsZero() || at.After(now) {
				at = now
			}
			a := e.alerts[fp]
			if a == nil {
				start := at
				if !s.Since.IsZero() && s.Since.Before(start) {
					start = s.Since // the first failed round
				}
				a = &Alert{Fingerprint: fp, Rule: r.Name, Kind: r.Kind, Severity: r.Severity, Labels: lbls, State: StatePending, ActiveAt: start}
				e.alerts[fp] = a
			}
			switch a.State {
			case StateResolving: // silent again before the report
				a.State, a.ResolvedAt = StateFiring, time.Time{}
			case StateClearing: // back within clear_for
				a.State = StatePending
				if !a.FiredAt.IsZero() {
					a.State = StateFiring
				}
			}
			a.LastTrue, a.Value = now, s.Value
			if at.After(a.Through) {
				a.Through = at
			}
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
			case a.State == StatePending || a.State == StateFiring:
				// cleared: no longer shown as pending or firing
				a.State = StateClearing
				changed[fp] = true
			}
		}
		wait := r.For.Std()
		if r.Kind == KindAgentSilent {
			wait = 0 // the condition is "silent for `for`" already
		}
		for fp, a := range e.alerts {
			// `for` counts in the data's time: from the first failed round
			// to the newest one for the SLA kinds, else to now
			if a.Rule == r.Name && a.State == StatePending && a.Through.Sub(a.ActiveAt) >= wait {
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
	gone = e.storeGroups(put, gone)
	if err := e.o.DB.SaveAlerts(context.WithoutCancel(ctx), put, gone); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// notify queues the messages of this step: new firing alerts that are
// neither suppressed, inhibited nor silenced, repeats, and the resolution
// of alerts whose firing message went out.
func (e *Engine) notify(ctx context.Context, now time.Time, resolved []*Alert, changed map[string]bool) {
	inv := e.o.Inventory()
	down := e.downSites(inv)
	inhibit := e.inhibitors(down)
	silences, err := e.o.DB.Silences(ctx, now)
	if err != nil {
		e.log.Warn("reading silences failed; none applied", "err", err)
	}
	for _, fp := range slices.Sorted(maps.Keys(e.alerts)) {
		a := e.alerts[fp]
		if a.State != StatePending && a.State != StateFiring {
			continue // clearing (held only by clear_for) or resolving
		}
		if inh := inhibit.by(a); inh != a.Inhibited {
			a.Inhibited = inh
			changed[fp] = true
		}
		if a.State != StateFiring {
			continue
		}
		r := e.rule(a.Rule)
		if a.Notified {
			if rep := e.o.Config.RepeatInterval.Std(); rep > 0 && a.Acked == "" && a.Inhibited == "" && now.Sub(a.LastSent) >= rep {
				a.Repeats++
				a.LastSent = now
				changed[fp] = true
				e.send(ctx, now, r, a, inv, down, fmt.Sprintf("%s-%d-r%d", a.Fingerprint, a.FiredAt.Unix(), a.Repeats), false)
			}
			continue
		}
		if a.LastTrue.Before(now) {
			// its rule was not evaluated in this step (StepData): an alert
			// is first sent by a step that saw its condition hold, so that
			// a source that just went (a link seen up a moment before its
			// own loss series) does not let it out
			continue
		}
		sup := suppressor(inv, a, down)
		sil := e.silenced(a, silences, now)
		if sup != a.Suppressed || sil != a.Silenced {
			a.Suppressed, a.Silenced = sup, sil
			changed[fp] = true
		}
		if sup != "" || sil || a.Inhibited != "" {
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
