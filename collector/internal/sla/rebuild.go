package sla

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"

	"github.com/pantau-noc/pantau/collector/internal/inventory"
	pstore "github.com/pantau-noc/pantau/collector/internal/storage"
	"github.com/pantau-noc/pantau/internal/wire/schema"
)

// Rebuilding minute states from stored samples (pantau-collector sla
// rebuild): the marks ingest would have made, from the TSDB or the
// engine's query API.

// WriteScopes are the write scopes of the agents whose series a rebuild
// reads, so that a stored round counts for a link only when it did at
// ingest (the token's sites, the link's icmp.agent: Scope).
type WriteScopes map[string]Scope

// Of returns the scope of a stored series' agent. An agent without a
// token here (a report collector rebuilding a province from the shared
// engine holds no agent tokens) is taken to have written the site its
// series carry, since ingest refused any other; without a site label,
// every site.
func (w WriteScopes) Of(ls labels.Labels) Scope {
	agent := ls.Get("agent")
	if sc, ok := w[agent]; ok {
		return sc
	}
	sc := Scope{Agent: agent}
	if site := ls.Get("site"); site != "" {
		sc.Sites = []string{site}
	}
	return sc
}

// Rebuild reads ICMP rounds, service checks, radio signal and UPS
// readings and agent heartbeats from q and merges their minute marks into st, counting a series only
// for what its agent's write scope decides. It returns the marks and
// series read.
func Rebuild(ctx context.Context, q storage.Queryable, inv *inventory.Inventory, scopes WriteScopes, st Store, from, to time.Time, progress func(series, marks int)) (int, int, error) {
	qr, err := q.Querier(from.UnixMilli(), to.UnixMilli()-1)
	if err != nil {
		return 0, 0, fmt.Errorf("query TSDB: %w", err)
	}
	defer qr.Close()
	var (
		marks         []Mark
		total, series int
	)
	flush := func() error {
		if err := st.Merge(ctx, marks); err != nil {
			return err
		}
		total += len(marks)
		marks = marks[:0]
		progress(series, total)
		return nil
	}
	// the other field of the same line: same labels, another name
	sibling := func(ls labels.Labels, name string) (map[int64]float64, error) {
		ms := []*labels.Matcher{labels.MustNewMatcher(labels.MatchEqual, model.MetricNameLabel, name)}
		ls.Range(func(l labels.Label) {
			if l.Name != model.MetricNameLabel {
				ms = append(ms, labels.MustNewMatcher(labels.MatchEqual, l.Name, l.Value))
			}
		})
		out := map[int64]float64{}
		err := pstore.ReadSeries(ctx, qr, ms, func(t int64, v float64) { out[t] = v })
		return out, err
	}
	ups := qr.Select(ctx, false, nil, labels.MustNewMatcher(labels.MatchEqual, model.MetricNameLabel, "pantau_icmp_up"))
	for ups.Next() {
		ls := ups.At().Labels()
		l := inv.MatchICMP(ls.Get("link"), ls.Get("agent"), ls.Get("target"))
		if l == nil || !scopes.Of(ls).DecidesLink(l) {
			continue
		}
		series++
		thr := LinkThresholds(l)
		loss, err := sibling(ls, "pantau_icmp_loss_ratio")
		if err != nil {
			return total, series, fmt.Errorf("read loss of %s: %w", ls, err)
		}
		rtt, err := sibling(ls, "pantau_icmp_rtt_avg_seconds")
		if err != nil {
			return total, series, fmt.Errorf("read RTT of %s: %w", ls, err)
		}
		it := ups.At().Iterator(nil)
		for it.Next() != 0 {
			t, v := it.At()
			r, hasRTT := rtt[t]
			// the same mark as at ingest: class and 10-second slot
			marks = append(marks, RoundMark(KindLink, l.ID, t*1e6, Classify(v > 0, loss[t], r, hasRTT, thr)))
		}
		if err := it.Err(); err != nil {
			return total, series, fmt.Errorf("read %s: %w", ls, err)
		}
		if len(marks) > 100000 {
			if err := flush(); err != nil {
				return total, series, err
			}
		}
	}
	if err := ups.Err(); err != nil {
		return total, series, fmt.Errorf("query TSDB: %w", err)
	}
	// services: the `up` series of each measurement a service uses
	b := NewBuilder(inv, nil)
	done := map[string]bool{}
	for i := range inv.Services {
		m := inv.Services[i].Probe.Measurement
		if done[m] {
			continue
		}
		done[m] = true
		ups := qr.Select(ctx, false, nil, labels.MustNewMatcher(labels.MatchEqual, model.MetricNameLabel, schema.MetricName(m, "up")))
		for ups.Next() {
			ls := ups.At().Labels()
			sc := b.ServiceScoped([]byte(m), scopes.Of(ls), []byte(ls.Get("target")))
			if sc == nil {
				continue
			}
			series++
			var rts map[int64]float64
			if sc.Field != "" {
				if rts, err = sibling(ls, schema.MetricName(m, sc.Field)); err != nil {
					return total, series, fmt.Errorf("read response times of %s: %w", ls, err)
				}
			}
			it := ups.At().Iterator(nil)
			for it.Next() != 0 {
				t, v := it.At()
				rt, hasRT := rts[t]
				marks = append(marks, sc.Mark(t*1e6, v > 0, rt, hasRT))
			}
			if err := it.Err(); err != nil {
				return total, series, fmt.Errorf("read %s: %w", ls, err)
			}
		}
		if err := ups.Err(); err != nil {
			return total, series, fmt.Errorf("query TSDB: %w", err)
		}
	}
	// the vendor profiles' readings: a radio link's low signal, a UPS on
	// battery (the same marks as at ingest)
	for _, name := range []string{"pantau_snmp_radio_signal_dbm", "pantau_snmp_ups_on_battery"} {
		ss := qr.Select(ctx, false, nil, labels.MustNewMatcher(labels.MatchEqual, model.MetricNameLabel, name))
		for ss.Next() {
			ls := ss.At().Labels()
			sc := scopes.Of(ls)
			linkTag, device, ifname, site := []byte(ls.Get("link")), []byte(ls.Get("device")), []byte(ls.Get("ifname")), []byte(ls.Get("site"))
			series++
			it := ss.At().Iterator(nil)
			for it.Next() != 0 {
				t, v := it.At()
				if name == "pantau_snmp_ups_on_battery" {
					if v > 0 {
						marks = b.UPSScoped(marks, sc, site, device, t*1e6)
					}
					continue
				}
				marks = b.RadioScoped(marks, sc, linkTag, device, ifname, t*1e6, v)
			}
			if err := it.Err(); err != nil {
				return total, series, fmt.Errorf("read %s: %w", ls, err)
			}
			if len(marks) > 100000 {
				if err := flush(); err != nil {
					return total, series, err
				}
			}
		}
		if err := ss.Err(); err != nil {
			return total, series, fmt.Errorf("query TSDB: %w", err)
		}
	}
	// heartbeats: Pantau's agent's, and Telegraf's internal_agent (ingest
	// counts both)
	hbs := qr.Select(ctx, false, nil, labels.MustNewMatcher(labels.MatchRegexp, model.MetricNameLabel,
		"pantau_agent_uptime_seconds|pantau_internal_agent_metrics_gathered"))
	for hbs.Next() {
		site := inv.Site(hbs.At().Labels().Get("site"))
		if site == nil {
			continue
		}
		series++
		it := hbs.At().Iterator(nil)
		for it.Next() != 0 {
			t, _ := it.At()
			marks = append(marks, Mark{Kind: KindSite, ID: site.ID, Minute: MinuteOf(t * 1e6), Bits: BitSeen})
		}
		if err := it.Err(); err != nil {
			return total, series, fmt.Errorf("read heartbeats: %w", err)
		}
	}
	if err := hbs.Err(); err != nil {
		return total, series, fmt.Errorf("query TSDB: %w", err)
	}
	if err := flush(); err != nil {
		return total, series, err
	}
	return total, series, nil
}
