// Package unmatched finds the series in the TSDB that match no link or
// service of the inventory: ICMP targets, SNMP interfaces and plugin
// checks an agent measures that the reports do not count. The command
// line (pantau-collector inventory unmatched) and the HTTP API (GET
// /api/v1/inventory/unmatched) share it.
package unmatched

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"

	"github.com/pantau-noc/pantau/collector/internal/inventory"
)

// Row is one unmatched series' identity.
type Row struct {
	// Kind is icmp, snmp, or a plugin check's measurement (dns, http, ...).
	Kind  string `json:"kind"`
	Agent string `json:"agent"`
	Site  string `json:"site"`
	// Target is an ICMP or plugin target, or an SNMP device.
	Target string `json:"target"`
	// Interface is an SNMP interface's ifName ("" for the other kinds).
	Interface string `json:"interface"`
}

func (r Row) key() string {
	return strings.Join([]string{r.Kind, r.Agent, r.Site, r.Target, r.Interface}, "\x00")
}

// Find lists ICMP targets, SNMP interfaces and plugin checks (the `up`
// series of a measurement other than the agent's own) that have data in
// [from, to) but match no inventory link or service, sorted by kind,
// agent, site, target and interface. A nil inventory matches nothing.
func Find(ctx context.Context, q storage.Queryable, inv *inventory.Inventory, from, to time.Time) ([]Row, error) {
	if inv == nil {
		inv = &inventory.Inventory{}
	}
	qr, err := q.Querier(from.UnixMilli(), to.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("query TSDB for unmatched series: %w", err)
	}
	defer qr.Close()
	seen := map[string]bool{}
	var out []Row
	add := func(r Row) {
		if k := r.key(); !seen[k] {
			seen[k] = true
			out = append(out, r)
		}
	}
	for _, m := range []string{"pantau_icmp_up", "pantau_snmp_if_oper_status"} {
		ss := qr.Select(ctx, false, nil, labels.MustNewMatcher(labels.MatchEqual, model.MetricNameLabel, m))
		for ss.Next() {
			ls := ss.At().Labels()
			if m == "pantau_icmp_up" {
				if inv.MatchICMP(ls.Get("link"), ls.Get("agent"), ls.Get("target")) != nil {
					continue
				}
				add(Row{Kind: "icmp", Agent: ls.Get("agent"), Site: ls.Get("site"), Target: ls.Get("target")})
			} else {
				if inv.MatchSNMP(ls.Get("link"), ls.Get("device"), ls.Get("ifname")) != nil {
					continue
				}
				add(Row{Kind: "snmp", Agent: ls.Get("agent"), Site: ls.Get("site"), Target: ls.Get("device"), Interface: ls.Get("ifname")})
			}
		}
		if err := ss.Err(); err != nil {
			return nil, fmt.Errorf("query TSDB for %s: %w", m, err)
		}
	}
	ups := qr.Select(ctx, false, nil, labels.MustNewMatcher(labels.MatchRegexp, model.MetricNameLabel, "pantau_.+_up"))
	for ups.Next() {
		ls := ups.At().Labels()
		m := strings.TrimSuffix(strings.TrimPrefix(ls.Get(model.MetricNameLabel), "pantau_"), "_up")
		if slices.Contains(inventory.ReservedMeasurements, m) || ls.Get("target") == "" {
			continue
		}
		if inv.MatchService(m, ls.Get("agent"), ls.Get("target")) != nil {
			continue
		}
		add(Row{Kind: m, Agent: ls.Get("agent"), Site: ls.Get("site"), Target: ls.Get("target")})
	}
	if err := ups.Err(); err != nil {
		return nil, fmt.Errorf("query TSDB for pantau_*_up: %w", err)
	}
	slices.SortFunc(out, func(a, b Row) int { return strings.Compare(a.key(), b.key()) })
	return out, nil
}
