package alert

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"

	"github.com/pantau-noc/pantau/collector/internal/inventory"
	"github.com/pantau-noc/pantau/collector/internal/sla"
)

// KindEval evaluates alert rules on the collector's own data: link states
// from the SLA engine, the rest with PromQL on the TSDB. It implements
// Evaluator, turning each rule kind into its query.
type KindEval struct {
	q       storage.Queryable
	engine  *promql.Engine
	builder *sla.Builder
	// fleet and version are for the fleet kinds (SetFleet).
	fleet   FleetLister
	version string
}

// NewKindEval evaluates rules on q (PromQL) and b (link and service states).
func NewKindEval(q storage.Queryable, b *sla.Builder, log *slog.Logger) *KindEval {
	return &KindEval{q: q, builder: b, engine: promql.NewEngine(promql.EngineOpts{
		Logger:        log.With("component", "alert-promql"),
		MaxSamples:    10_000_000,
		Timeout:       time.Minute,
		LookbackDelta: 5 * time.Minute,
		Parser:        parser.NewParser(parser.Options{}),
		NoStepSubqueryIntervalFn: func(int64) int64 {
			return time.Minute.Milliseconds()
		},
	})}
}

// agentSilentWindow is how far back the last heartbeat of an agent is
// looked for: an agent silent for longer is no longer known.
const agentSilentWindow = 7 * 24 * time.Hour

// Eval implements Evaluator.
func (ev *KindEval) Eval(ctx context.Context, r *Rule, now time.Time) ([]Sample, error) {
	switch r.Kind {
	case KindLinkDown:
		inv := ev.builder.Inventory()
		if inv == nil {
			return nil, nil
		}
		var out []Sample
		for i := range inv.Links {
			l := &inv.Links[i]
			if st, since, at := ev.builder.CurrentSince(l, l.Site); st == sla.Down {
				out = append(out, Sample{Labels: linkLabels(inv, l), Value: 1, Since: since, At: at})
			}
		}
		return out, nil
	case KindServiceDown:
		inv := ev.builder.Inventory()
		if inv == nil {
			return nil, nil
		}
		var out []Sample
		for i := range inv.Services {
			sv := &inv.Services[i]
			if st, since, at := ev.builder.CurrentServiceSince(sv); st == sla.Down {
				l := map[string]string{"service": sv.ID, "site": sv.Site}
				for k, v := range map[string]string{"opd": sv.OPD, "category": sv.Category} {
					if v != "" {
						l[k] = v
					}
				}
				out = append(out, Sample{Labels: l, Value: 1, Since: since, At: at})
			}
		}
		return out, nil
	case KindLoss:
		return ev.Query(ctx, fmt.Sprintf("pantau_icmp_loss_ratio > %g", r.Threshold), now)
	case KindLatency:
		return ev.Query(ctx, fmt.Sprintf("pantau_icmp_rtt_avg_seconds > %g", r.Threshold), now)
	case KindQueueBacklog:
		return ev.Query(ctx, fmt.Sprintf("pantau_agent_queue_oldest_age_seconds > %g", r.Threshold), now)
	case KindInterfaceDown:
		return ev.Query(ctx, `pantau_snmp_if_oper_status{link!=""} != 1 and on (agent, device, ifindex) pantau_snmp_if_admin_status == 1`, now)
	case KindDeviceRebooted:
		return ev.Query(ctx, `resets(pantau_snmp_device_uptime_seconds[15m]) > 0`, now)
	case KindPromQL:
		return ev.Query(ctx, r.Expr, now)
	case KindRadioSignalLow:
		return ev.radioSignalLow(ctx, r, now)
	case KindOnBattery:
		return ev.Query(ctx, onBatteryExpr, now)
	case KindUtilization:
		return ev.utilization(ctx, r, now)
	case KindAgentSilent:
		return ev.silentAgents(ctx, r, now)
	case KindConfigNotApplied, KindAgentOutdated, KindClockSkew:
		return ev.fleetAlerts(ctx, r, now)
	}
	return nil, fmt.Errorf("unknown rule kind %q", r.Kind)
}

// linkLabels are the inventory labels of a link's alerts.
func linkLabels(inv *inventory.Inventory, l *inventory.Link) map[string]string {
	m := map[string]string{}
	for _, kv := range inv.Labels(l) {
		if kv[1] != "" {
			m[kv[0]] = kv[1]
		}
	}
	if l.ISP != "" {
		m["isp"] = l.ISP
	}
	return m
}

// Query runs an instant PromQL query; every series is a sample.
func (ev *KindEval) Query(ctx context.Context, expr string, now time.Time) ([]Sample, error) {
	q, err := ev.engine.NewInstantQuery(ctx, ev.q, nil, expr, now)
	if err != nil {
		return nil, fmt.Errorf("query %q: %w", expr, err)
	}
	defer q.Close()
	res := q.Exec(ctx)
	if res.Err != nil {
		return nil, fmt.Errorf("query %q: %w", expr, res.Err)
	}
	var out []Sample
	switch v := res.Value.(type) {
	case promql.Vector:
		for _, s := range v {
			out = append(out, Sample{Labels: s.Metric.Map(), Value: s.F})
		}
	case promql.Scalar:
		if v.V != 0 {
			out = append(out, Sample{Value: v.V})
		}
	default:
		return nil, fmt.Errorf("query %q: gives a %s, want an instant vector", expr, res.Value.Type())
	}
	return out, nil
}

// utilization compares each inventory link's traffic with its contracted
// bandwidth, per direction.
func (ev *KindEval) utilization(ctx context.Context, r *Rule, now time.Time) ([]Sample, error) {
	inv := ev.builder.Inventory()
	if inv == nil {
		return nil, nil
	}
	var out []Sample
	for _, dir := range []struct{ name, metric string }{{"in", "receive"}, {"out", "transmit"}} {
		rates, err := ev.Query(ctx, fmt.Sprintf(`max by (link) (pantau_snmp_if_%s_bits_per_second{link!=""})`, dir.metric), now)
		if err != nil {
			return nil, err
		}
		for _, s := range rates {
			l := inv.Link(s.Labels["link"])
			if l == nil || l.Bandwidth <= 0 {
				continue
			}
			if u := s.Value / float64(l.Bandwidth); u > r.Threshold {
				lbls := linkLabels(inv, l)
				lbls["direction"] = dir.name
				out = append(out, Sample{Labels: lbls, Value: u})
			}
		}
	}
	return out, nil
}

// The radio and UPS kinds' queries: the weakest reading (of the
// interface and its peers) per inventory link's interface, and every UPS
// on battery.
const (
	radioSignalExpr = `min by (link, device, ifname) (pantau_snmp_radio_signal_dbm{link!=""})`
	onBatteryExpr   = `pantau_snmp_ups_on_battery == 1`
)

// radioSignalLow compares each inventory link's weakest radio signal
// with the rule's threshold, else the link's thresholds.signal_dbm.
func (ev *KindEval) radioSignalLow(ctx context.Context, r *Rule, now time.Time) ([]Sample, error) {
	inv := ev.builder.Inventory()
	if inv == nil {
		return nil, nil
	}
	readings, err := ev.Query(ctx, radioSignalExpr, now)
	if err != nil {
		return nil, err
	}
	var out []Sample
	for _, s := range readings {
		l := inv.Link(s.Labels["link"])
		if l == nil {
			continue
		}
		thr := r.Threshold
		if thr == 0 {
			if p := l.Thresholds.SignalDBm; p != nil {
				thr = *p
			}
		}
		if thr == 0 || !(s.Value < thr) {
			continue
		}
		lbls := linkLabels(inv, l)
		for _, k := range []string{"device", "ifname"} {
			if v := s.Labels[k]; v != "" {
				lbls[k] = v
			}
		}
		out = append(out, Sample{Labels: lbls, Value: s.Value})
	}
	return out, nil
}

// silentAgents are the agents whose last heartbeat is older than the
// rule's `for` (and younger than agentSilentWindow). Only a short recent
// window is read for every agent; the long one only for silent agents.
func (ev *KindEval) silentAgents(ctx context.Context, r *Rule, now time.Time) ([]Sample, error) {
	hb := labels.MustNewMatcher(labels.MatchEqual, model.MetricNameLabel, "pantau_agent_uptime_seconds")
	recent := r.For.Std() + time.Minute
	last, site, err := ev.lastHeartbeats(ctx, now.Add(-recent), now, hb)
	if err != nil {
		return nil, err
	}
	qr, err := ev.q.Querier(now.Add(-agentSilentWindow).UnixMilli(), now.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("read agent heartbeats: %w", err)
	}
	agents, _, err := qr.LabelValues(ctx, "agent", nil, hb)
	qr.Close()
	if err != nil {
		return nil, fmt.Errorf("list agents with heartbeats: %w", err)
	}
	var out []Sample
	for _, agent := range agents {
		t, ok := last[agent]
		if !ok {
			// silent for longer than the recent window: find its last one
			l, s, err := ev.lastHeartbeats(ctx, now.Add(-agentSilentWindow), now.Add(-recent), hb, labels.MustNewMatcher(labels.MatchEqual, "agent", agent))
			if err != nil {
				return nil, err
			}
			if t, ok = l[agent]; !ok {
				continue
			}
			site[agent] = s[agent]
		}
		silent := now.Sub(time.UnixMilli(t))
		if silent >= r.For.Std() {
			l := map[string]string{"agent": agent}
			if site[agent] != "" {
				l["site"] = site[agent]
			}
			out = append(out, Sample{Labels: l, Value: silent.Seconds()})
		}
	}
	return out, nil
}

// lastHeartbeats returns the time (ms) and site of each agent's last
// heartbeat in [from, to].
func (ev *KindEval) lastHeartbeats(ctx context.Context, from, to time.Time, ms ...*labels.Matcher) (map[string]int64, map[string]string, error) {
	qr, err := ev.q.Querier(from.UnixMilli(), to.UnixMilli())
	if err != nil {
		return nil, nil, fmt.Errorf("read agent heartbeats: %w", err)
	}
	defer qr.Close()
	set := qr.Select(ctx, false, nil, ms...)
	last := map[string]int64{}
	site := map[string]string{}
	for set.Next() {
		s := set.At()
		agent := s.Labels().Get("agent")
		it := s.Iterator(nil)
		var t int64
		for it.Next() != chunkenc.ValNone {
			if ts := it.AtT(); ts <= to.UnixMilli() {
				t = ts
			}
		}
		if err := it.Err(); err != nil {
			return nil, nil, fmt.Errorf("read heartbeats of agent %s: %w", agent, err)
		}
		if t > last[agent] {
			last[agent], site[agent] = t, s.Labels().Get("site")
		}
	}
	if err := set.Err(); err != nil {
		return nil, nil, fmt.Errorf("read agent heartbeats: %w", err)
	}
	return last, site, nil
}
