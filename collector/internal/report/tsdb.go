package report

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"

	"github.com/pantau-noc/pantau/collector/internal/capacity"
	"github.com/pantau-noc/pantau/collector/internal/inventory"
	"github.com/pantau-noc/pantau/collector/internal/statedb"
	pstore "github.com/pantau-noc/pantau/collector/internal/storage"
)

// TSDBCapacity reads a link's bit rates and interface speed from a TSDB
// (the daemon's, a read-only one, or an engine's query API), by the
// link's SNMP device and interface (or its link label).
type TSDBCapacity struct{ Q storage.Queryable }

// Capacity implements CapacitySource.
func (c TSDBCapacity) Capacity(ctx context.Context, l *inventory.Link, start, end time.Time, rx, tx []capacity.Sample) ([]capacity.Sample, []capacity.Sample, float64, error) {
	var speed float64
	q, err := c.Q.Querier(start.UnixMilli(), end.UnixMilli()-1)
	if err != nil {
		return nil, nil, 0, fmt.Errorf("query TSDB: %w", err)
	}
	defer q.Close()
	if err := pstore.ReadSeries(ctx, q, linkMatchers(l, "pantau_snmp_if_receive_bits_per_second"), func(t int64, v float64) {
		rx = append(rx, capacity.Sample{T: t, V: v})
	}); err != nil {
		return nil, nil, 0, fmt.Errorf("read receive rates of %s: %w", l.ID, err)
	}
	if err := pstore.ReadSeries(ctx, q, linkMatchers(l, "pantau_snmp_if_transmit_bits_per_second"), func(t int64, v float64) {
		tx = append(tx, capacity.Sample{T: t, V: v})
	}); err != nil {
		return nil, nil, 0, fmt.Errorf("read transmit rates of %s: %w", l.ID, err)
	}
	var lastT int64
	if err := pstore.ReadSeries(ctx, q, linkMatchers(l, "pantau_snmp_if_speed_bits_per_second"), func(t int64, v float64) {
		if t >= lastT {
			lastT, speed = t, v
		}
	}); err != nil {
		return nil, nil, 0, fmt.Errorf("read interface speed of %s: %w", l.ID, err)
	}
	return rx, tx, speed, nil
}

func linkMatchers(l *inventory.Link, metric string) []*labels.Matcher {
	ms := []*labels.Matcher{labels.MustNewMatcher(labels.MatchEqual, model.MetricNameLabel, metric)}
	if l.SNMP.Device != "" {
		ms = append(ms, labels.MustNewMatcher(labels.MatchEqual, "device", l.SNMP.Device))
	}
	if l.SNMP.Interface != "" {
		ms = append(ms, labels.MustNewMatcher(labels.MatchEqual, "ifname", l.SNMP.Interface))
	}
	if len(ms) == 1 {
		ms = append(ms, labels.MustNewMatcher(labels.MatchEqual, "link", l.ID))
	}
	return ms
}

// ComputeRollups recomputes and stores the rollups of UTC days [d0, d1]
// for every inventory link with an SNMP interface; it returns the links.
func ComputeRollups(ctx context.Context, inv *inventory.Inventory, src CapacitySource, st *statedb.DB, d0, d1 int64) (int, error) {
	if inv == nil || d1 < d0 {
		return 0, nil
	}
	n := 0
	for i := range inv.Links {
		l := &inv.Links[i]
		if l.SNMP.Device == "" && l.SNMP.Interface == "" {
			continue
		}
		rx, tx, err := LinkRollups(ctx, nil, src, l, d0, d1, nil)
		if err != nil {
			return n, err
		}
		now := time.Now()
		if err := st.PutRollups(ctx, l.ID, statedb.DirReceive, daysWithData(rx), now); err != nil {
			return n, err
		}
		if err := st.PutRollups(ctx, l.ID, statedb.DirTransmit, daysWithData(tx), now); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// daysWithData drops rollups of days without samples (nothing to store).
func daysWithData(rs []*capacity.Rollup) []*capacity.Rollup {
	out := rs[:0]
	for _, r := range rs {
		for _, c := range r.N {
			if c > 0 {
				out = append(out, r)
				break
			}
		}
	}
	return out
}
