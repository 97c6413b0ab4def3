package report

import (
	"context"
	"fmt"
	"strings"

	"github.com/pantau-noc/pantau/collector/internal/inventory"
	"github.com/pantau-noc/pantau/collector/internal/sla"
)

// scopeHasData tells whether a link of the sites has data (in the month
// data was read for).
func scopeHasData(inv *inventory.Inventory, sites []*inventory.Site, data map[string]bool) bool {
	for _, s := range sites {
		for _, l := range inv.LinksOfSite(s.ID) {
			if data[l.ID] {
				return true
			}
		}
	}
	return false
}

// coverageMethods adds to the methods how monitoring gaps and contract
// completeness are decided, and lists the declared monitored spans that
// touch the scope (also in Coverage.MonitoredSpans).
func coverageMethods(ctx context.Context, r *Report, in Input, sites []*inventory.Site, o Options) error {
	r.Coverage.MonitoredSpans = []sla.Span{}
	minPct := o.MinContractCompleteness
	if minPct <= 0 {
		minPct = sla.DefaultMinCompleteness
	}
	r.Methods = append(r.Methods, Note{Figure: "gap", Method: T(r.Lang, "m.gap")},
		Note{Figure: "contract_completeness", Method: printer(r.Lang).Sprintf(T(r.Lang, "m.contract_completeness"), minPct)})
	ms, ok := in.Store.(sla.MonitoredSource)
	if !ok {
		return nil
	}
	spans, err := ms.MonitoredSpans(ctx)
	if err != nil {
		return fmt.Errorf("read monitored spans: %w", err)
	}
	inScope := map[string]bool{}
	agents := map[string]bool{}
	for _, s := range sites {
		inScope[s.ID] = true
		for _, l := range in.Inv.LinksOfSite(s.ID) {
			if l.ICMP.Agent != "" {
				agents[l.ICMP.Agent] = true
			}
		}
	}
	var list []string
	for _, sp := range spans {
		if sp.Scope == sla.SpanSite && !inScope[sp.Target] || sp.Scope == sla.SpanAgent && !agents[sp.Target] {
			continue
		}
		if sp.End.Before(r.Start) || !sp.Start.Before(r.End) {
			continue
		}
		r.Coverage.MonitoredSpans = append(r.Coverage.MonitoredSpans, sp)
		what := T(r.Lang, "span."+sp.Scope)
		if sp.Target != "" {
			what += " " + sp.Target
		}
		item := fmt.Sprintf("%s %s – %s", what, sp.Start.Format("2006-01-02 15:04 MST"), sp.End.Format("2006-01-02 15:04 MST"))
		if sp.Reason != "" {
			item += " (" + sp.Reason + ")"
		}
		list = append(list, item)
	}
	if len(list) > 0 {
		r.Methods = append(r.Methods, Note{Figure: "monitored_spans", Method: fmt.Sprintf(T(r.Lang, "m.monitored_spans"), strings.Join(list, "; "))})
	}
	return nil
}
