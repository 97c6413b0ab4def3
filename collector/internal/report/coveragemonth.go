package report

import (
	"context"
	"slices"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/sla"
)

// linksWithDataIn returns the links with a stored minute in [from, to).
// The day index answers by UTC day, which for a month in WITA or WIT
// reaches into the next month (July in WIT ends at 15:00 UTC on 31 July:
// its UTC days hold the first 9 hours of August), so a deployment that
// began on 1 August showed July as monitored. Links with data on the
// whole UTC days inside the range are in; the others the index names are
// checked minute by minute on the partial days at the edges.
func linksWithDataIn(ctx context.Context, in Input, from, to time.Time) (map[string]bool, error) {
	m0, m1 := sla.MinuteOf(from.UnixNano()), sla.MinuteOf(to.UnixNano())
	d0, off0 := sla.DayOf(m0)
	d1, off1 := sla.DayOf(m1 - 1)
	all, err := in.Index.LinksWithData(ctx, d0, d1)
	if err != nil || in.Store == nil || off0 == 0 && off1 == sla.MinutesPerDay-1 {
		return all, err // whole UTC days: the index is exact
	}
	inner := map[string]bool{}
	first, last := d0, d1
	if off0 != 0 {
		first++
	}
	if off1 != sla.MinutesPerDay-1 {
		last--
	}
	if first <= last {
		if inner, err = in.Index.LinksWithData(ctx, first, last); err != nil {
			return nil, err
		}
	}
	// the partial days' minutes inside [m0, m1)
	var edges [][2]sla.UnixMinute
	if off0 != 0 {
		edges = append(edges, [2]sla.UnixMinute{m0, min(m1, (d0+1)*sla.MinutesPerDay)})
	}
	if off1 != sla.MinutesPerDay-1 && (off0 == 0 || d1 != d0) {
		edges = append(edges, [2]sla.UnixMinute{max(m0, d1*sla.MinutesPerDay), m1})
	}
	out := map[string]bool{}
	for id := range all {
		if inner[id] {
			out[id] = true
			continue
		}
		for _, e := range edges {
			mins, err := in.Store.Range(ctx, sla.KindLink, id, e[0], int(e[1]-e[0]))
			if err != nil {
				return nil, err
			}
			if slices.ContainsFunc(mins, func(v uint16) bool { return v != 0 }) {
				out[id] = true
				break
			}
		}
	}
	return out, nil
}
