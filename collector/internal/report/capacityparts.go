package report

import (
	"math"

	"github.com/pantau-noc/pantau/collector/internal/capacity"
	"github.com/pantau-noc/pantau/collector/internal/sla"
)

// monthParts are the calendar months of p as parts of the period, for
// the p95 per month from the period's own pass over the rollups
// (capacity.ComputeRollupsParts); nil when not monthly or when a month
// reaches outside p (capacityMonths then computes each month apart).
func monthParts(p sla.Period, monthly bool) []capacity.Part {
	if !monthly {
		return nil
	}
	var parts []capacity.Part
	for _, m := range p.Months() {
		if m.Start.Before(p.Start) || m.End.After(p.End) {
			return nil
		}
		parts = append(parts, capacity.Part{Start: m.Start, End: m.End})
	}
	return parts
}

// partMonths are the months of monthParts(p) as capacityMonths gives
// them.
func partMonths(p sla.Period, parts []capacity.Part, capBps float64) []CapacityMonth {
	out := make([]CapacityMonth, 0, len(parts))
	for i, m := range p.Months() {
		cm := CapacityMonth{Month: m.Label, Samples: parts[i].Samples, P95Bps: parts[i].P95Bps}
		if parts[i].Samples > 0 && capBps > 0 && !math.IsInf(capBps, 0) {
			v := 100 * (parts[i].P95Bps / capBps) // as capacityMonths: 100 × utilization
			cm.P95Utilization = &v
		}
		out = append(out, cm)
	}
	return out
}
