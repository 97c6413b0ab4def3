package collector

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/pantau-noc/pantau/collector/internal/alert"
	"github.com/pantau-noc/pantau/collector/internal/auth"
	"github.com/pantau-noc/pantau/collector/internal/inventory"
	"github.com/pantau-noc/pantau/collector/internal/report"
)

// alertSource is the alert engine as the alerts API reads it.
type alertSource interface {
	Active() []alert.Alert
	Annotations(alert.Alert) map[string]string
	Rules() []alert.RuleStatus
}

// promAlert is an alert in the shape of Prometheus's /api/v1/alerts (and
// of the alerts of a rule in /api/v1/rules), with Pantau's own record of
// it (fingerprint, notified, suppressed, inhibited, acked, ...) under
// "pantau".
type promAlert struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	State       string            `json:"state"`
	ActiveAt    time.Time         `json:"activeAt"`
	Value       string            `json:"value"`
	Pantau      alert.Alert       `json:"pantau"`
}

// promAlerts turns the pending and firing alerts into Prometheus's shape.
// Alerts whose condition has cleared (clearing, waiting for clear_for;
// resolving, waiting for late data) are not active, so not listed, as in
// Prometheus. The annotations say why an alert is not notified:
// inhibited_by (an inhibit rule's source), suppressed_by (a down parent
// site), silenced, acknowledged_by.
func promAlerts(src alertSource, list []alert.Alert) []promAlert {
	out := []promAlert{}
	for _, a := range list {
		if a.State != alert.StatePending && a.State != alert.StateFiring {
			continue
		}
		l := maps.Clone(a.Labels)
		if l == nil {
			l = map[string]string{}
		}
		l["alertname"], l["severity"] = a.Rule, a.Severity
		ann := src.Annotations(a)
		for k, v := range map[string]string{"inhibited_by": a.Inhibited, "suppressed_by": a.Suppressed, "acknowledged_by": a.Acked} {
			if v != "" {
				ann[k] = v
			}
		}
		if a.Silenced {
			ann["silenced"] = "true"
		}
		out = append(out, promAlert{Labels: l, Annotations: ann, State: a.State, ActiveAt: a.ActiveAt.UTC(),
			Value: strconv.FormatFloat(a.Value, 'e', -1, 64), Pantau: a})
	}
	return out
}

// serveAlerts answers GET /api/v1/alerts in Prometheus's shape
// ({"status":"success","data":{"alerts":[...]}}): the pending and firing
// alerts (src nil: none, the collector has no notifiers), those within
// the caller's OPD scope for a scoped caller.
func serveAlerts(src alertSource, inv func() *inventory.Inventory) http.HandlerFunc {
	return func(w http.ResponseWriter, req *http.Request) {
		list := []promAlert{}
		if src != nil {
			list = promAlerts(src, visibleAlerts(auth.FromContext(req.Context()), src.Active(), inv()))
		}
		writeSuccess(w, map[string]any{"alerts": list})
	}
}

// promRule is an alerting rule in the shape of Prometheus's /api/v1/rules.
type promRule struct {
	State          string            `json:"state"` // firing, pending or inactive
	Name           string            `json:"name"`
	Query          string            `json:"query"`
	Duration       float64           `json:"duration"`      // for, in seconds
	KeepFiringFor  float64           `json:"keepFiringFor"` // clear_for, in seconds
	Labels         map[string]string `json:"labels"`
	Annotations    map[string]string `json:"annotations"`
	Alerts         []promAlert       `json:"alerts"`
	Health         string            `json:"health"` // ok, err or unknown
	LastError      string            `json:"lastError,omitempty"`
	EvaluationTime float64           `json:"evaluationTime"`
	LastEvaluation time.Time         `json:"lastEvaluation"`
	Type           string            `json:"type"`
	Kind           string            `json:"pantauKind"`
}

// rulesFilter is the query of GET /api/v1/rules, as Prometheus reads it:
// type (alert or record; Pantau has alerting rules only), rule_name[],
// rule_group[], file[] (the group is "pantau", its file collector.yml's
// path), match[] (selectors over the rule's labels) and exclude_alerts.
// Prometheus 2.42 reads type only; the others are its later additions.
type rulesFilter struct {
	alerting      bool
	names, groups map[string]bool
	files         map[string]bool
	match         [][]*labels.Matcher
	excludeAlerts bool
}

// rulesParser parses match[] of GET /api/v1/rules.
var rulesParser = parser.NewParser(parser.Options{})

// parseRulesFilter reads q; an error names the parameter, as
// Prometheus's ("invalid parameter \"type\": ...").
func parseRulesFilter(q url.Values) (rulesFilter, error) {
	set := func(vs []string) map[string]bool {
		m := map[string]bool{}
		for _, v := range vs {
			m[v] = true
		}
		return m
	}
	f := rulesFilter{alerting: true, names: set(q["rule_name[]"]), groups: set(q["rule_group[]"]), files: set(q["file[]"])}
	switch typ := strings.ToLower(q.Get("type")); typ {
	case "", "alert":
	case "record":
		f.alerting = false
	default:
		return f, fmt.Errorf("invalid parameter \"type\": not supported value %q: use alert or record", report.ClipValue(typ))
	}
	if v := q.Get("exclude_alerts"); v != "" {
		b, err := strconv.ParseBool(strings.ToLower(v))
		if err != nil {
			return f, fmt.Errorf("invalid parameter \"exclude_alerts\": %q: use true or false", report.ClipValue(v))
		}
		f.excludeAlerts = b
	}
	for _, s := range q["match[]"] {
		ms, err := rulesParser.ParseMetricSelector(s)
		if err != nil {
			return f, fmt.Errorf("invalid parameter \"match[]\": %w", err)
		}
		f.match = append(f.match, ms)
	}
	return f, nil
}

// keeps tells whether the filter keeps a rule of the group "pantau" in
// file.
func (f rulesFilter) keeps(name, file string, ls map[string]string) bool {
	if !f.alerting || (len(f.names) > 0 && !f.names[name]) || (len(f.groups) > 0 && !f.groups["pantau"]) || (len(f.files) > 0 && !f.files[file]) {
		return false
	}
	if len(f.match) == 0 {
		return true
	}
	for _, ms := range f.match {
		if matchAll(ms, ls) {
			return true
		}
	}
	return false
}

func matchAll(ms []*labels.Matcher, ls map[string]string) bool {
	for _, m := range ms {
		if !m.Matches(ls[m.Name]) {
			return false
		}
	}
	return true
}

// serveRules answers GET /api/v1/rules in Prometheus's shape: one group,
// "pantau", of the alert rules (alerting rules; ?type=record gives none),
// each with its state and its alerts within the caller's OPD scope, so
// Grafana's alert list panel shows them. As in Prometheus, a group the
// filter leaves without rules is left out, a bad parameter is 400
// bad_data.
func serveRules(src alertSource, inv func() *inventory.Inventory, file string, every time.Duration) http.HandlerFunc {
	return func(w http.ResponseWriter, req *http.Request) {
		f, err := parseRulesFilter(req.URL.Query())
		if err != nil {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			json.NewEncoder(w).Encode(map[string]any{"status": "error", "errorType": "bad_data", "error": err.Error()})
			return
		}
		groups := []any{}
		if src != nil {
			visible := promAlerts(src, visibleAlerts(auth.FromContext(req.Context()), src.Active(), inv()))
			rules := []promRule{}
			var last time.Time
			var took float64
			for _, rs := range src.Rules() {
				r := rs.Rule
				pr := promRule{State: "inactive", Name: r.Name, Query: r.Query(), Duration: r.For.Std().Seconds(),
					Labels: map[string]string{"severity": r.Severity}, Annotations: map[string]string{}, Alerts: []promAlert{},
					Health: "unknown", EvaluationTime: rs.Health.EvaluationTime.Seconds(), LastEvaluation: rs.Health.LastEvaluation.UTC(),
					Type: "alerting", Kind: r.Kind}
				if r.ClearFor != nil {
					pr.KeepFiringFor = r.ClearFor.Std().Seconds()
				}
				maps.Copy(pr.Labels, r.Labels)
				if rs.Health.LastEvaluation.After(last) {
					last = rs.Health.LastEvaluation
				}
				took += pr.EvaluationTime
				if !f.keeps(r.Name, file, pr.Labels) {
					continue
				}
				switch {
				case rs.Health.Err != nil:
					pr.Health, pr.LastError = "err", rs.Health.Err.Error()
				case !rs.Health.LastEvaluation.IsZero():
					pr.Health = "ok"
				}
				for _, a := range visible {
					if a.Pantau.Rule != r.Name {
						continue
					}
					pr.Alerts = append(pr.Alerts, a)
					if a.State == alert.StateFiring || pr.State == "inactive" {
						pr.State = a.State
					}
				}
				if f.excludeAlerts {
					pr.Alerts = nil // as Prometheus: "alerts": null
				}
				rules = append(rules, pr)
			}
			if len(rules) > 0 {
				groups = append(groups, map[string]any{"name": "pantau", "file": file, "rules": rules, "interval": every.Seconds(),
					"limit": 0, "evaluationTime": took, "lastEvaluation": last.UTC()})
			}
		}
		writeSuccess(w, map[string]any{"groups": groups})
	}
}

// writeSuccess writes Prometheus's success envelope around data.
func writeSuccess(w http.ResponseWriter, data any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"status": "success", "data": data})
}

// visibleAlerts returns the alerts p may see. An alert belongs to the
// OPDs its labels name: its opd label, and the OPD of the site, of the
// link's site and of the service (its owner) it names, by the inventory.
// A scoped principal sees the alerts that belong to one of its OPDs; an
// alert that belongs to none (an agent without a site, a target outside
// the inventory, the collector's own) only unscoped principals see.
func visibleAlerts(p *auth.Principal, list []alert.Alert, inv *inventory.Inventory) []alert.Alert {
	if !p.Scoped() {
		return list
	}
	out := []alert.Alert{}
	for _, a := range list {
		for _, opd := range alertOPDs(a.Labels, inv) {
			if p.Sees(opd) {
				out = append(out, a)
				break
			}
		}
	}
	return out
}

// alertOPDs lists the OPDs an alert's labels name (with repeats).
func alertOPDs(l map[string]string, inv *inventory.Inventory) []string {
	var out []string
	if o := l["opd"]; o != "" {
		out = append(out, o)
	}
	if inv == nil {
		return out
	}
	siteOPD := func(id string) {
		if s := inv.Site(id); id != "" && s != nil && s.OPD != "" {
			out = append(out, s.OPD)
		}
	}
	siteOPD(l["site"])
	if id := l["link"]; id != "" {
		if k := inv.Link(id); k != nil {
			siteOPD(k.Site)
		}
	}
	if id := l["service"]; id != "" {
		if sv := inv.Service(id); sv != nil {
			if sv.OPD != "" {
				out = append(out, sv.OPD)
			} else {
				siteOPD(sv.Site)
			}
		}
	}
	return out
}
