package report

import (
	"context"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/capacity"
	"github.com/pantau-noc/pantau/collector/internal/inventory"
	"github.com/pantau-noc/pantau/collector/internal/sla"
)

// randCapacity gives each link its own random samples: a step of 1 to 15
// minutes, days without samples, samples out of order, invalid rates,
// repeated timestamps.
type randCapacity struct{}

func (randCapacity) Capacity(_ context.Context, l *inventory.Link, start, end time.Time, rx, tx []capacity.Sample) ([]capacity.Sample, []capacity.Sample, float64, error) {
	h := fnv.New64a()
	h.Write([]byte(l.ID))
	rng := rand.New(rand.NewPCG(h.Sum64(), uint64(start.Unix())))
	step := int64(1+rng.IntN(15)) * 60000
	bad := []float64{math.NaN(), -1, math.Inf(1)}
	for t := start.UnixMilli(); t < end.UnixMilli(); t += step {
		if (t/dayMs)%(5+int64(rng.IntN(3))) == 0 {
			continue // a day (or part) without samples
		}
		v := rng.Float64() * 8e7
		if rng.IntN(500) == 0 {
			v = bad[rng.IntN(len(bad))]
		}
		rx = append(rx, capacity.Sample{T: t, V: v})
		tx = append(tx, capacity.Sample{T: t + int64(rng.IntN(2))*step/2, V: rng.Float64() * 2e7})
		if rng.IntN(1000) == 0 {
			rx = append(rx, capacity.Sample{T: t, V: v / 2}) // same time again
		}
	}
	if strings.HasSuffix(l.ID, "2") && len(tx) > 10 {
		tx[3], tx[7] = tx[7], tx[3] // out of order
	}
	return rx, tx, 1e8, nil
}

// randRollups holds rollups of some days of some links, decoded into the
// caller's rollups as statedb does.
type randRollups map[string][2][]*capacity.Rollup

func (s randRollups) Rollups(_ context.Context, link string, d0, d1 int64, reuse []*capacity.Rollup) (rx, tx []*capacity.Rollup, err error) {
	k := 0
	get := func(r *capacity.Rollup) *capacity.Rollup {
		var out *capacity.Rollup
		if k < len(reuse) {
			out = reuse[k]
		} else {
			out = new(capacity.Rollup)
		}
		k++
		*out = *r
		return out
	}
	for _, r := range s[link][0] {
		if r.Day >= d0 && r.Day <= d1 {
			rx = append(rx, get(r))
		}
	}
	for _, r := range s[link][1] {
		if r.Day >= d0 && r.Day <= d1 {
			tx = append(tx, get(r))
		}
	}
	return rx, tx, nil
}

// TestCapacityRowsReuse: a worker's capacity rows, link after link with
// one capBuf (rollups decoded and computed for the previous link reused,
// months from the period's own pass), are exactly those of each link with
// fresh buffers and months computed apart (capacityMonths), for a year
// and a quarter in WIT and WIB (months starting mid UTC day), with and without stored
// rollups.
func TestCapacityRowsReuse(t *testing.T) {
	var y strings.Builder
	y.WriteString("sites:\n  - {id: s, name: S, kind: opd, opd: o, timezone: WIT}\n  - {id: e, name: E, kind: opd, opd: o, timezone: WIB}\nlinks:\n")
	for i := range 4 {
		fmt.Fprintf(&y, "  - {id: l%d, site: %s, type: fibre, bandwidth: %dMbps, icmp: {target: 127.0.0.%d}, snmp: {device: d, interface: e%d}}\n", i, []string{"s", "e"}[i%2], []int{30, 0, 100, 0}[i], i+1, i)
	}
	in, err := inventory.Parse("t.yml", []byte(y.String()))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	stored := randRollups{}
	rng := rand.New(rand.NewPCG(8, 9))
	for i := range in.Links[:3] {
		l := &in.Links[i]
		d0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Unix() / 86400
		var dirs [2][]*capacity.Rollup
		for d := d0 - 1; d < d0+366; d++ {
			if rng.IntN(3) == 0 {
				continue
			}
			s, _, _, _ := randCapacity{}.Capacity(ctx, l, time.UnixMilli(d*dayMs), time.UnixMilli((d+1)*dayMs), nil, nil)
			r := capacity.RollupDay(s, d, 0)
			r.Speed = 1e8
			dirs[0] = append(dirs[0], r)
			if rng.IntN(4) > 0 { // some days stored in one direction only
				dirs[1] = append(dirs[1], r)
			}
		}
		stored[l.ID] = dirs
	}
	now := time.Date(2027, 1, 2, 0, 0, 0, 0, time.UTC)
	rows := 0
	for _, store := range []RollupStore{nil, stored} {
		for _, period := range []string{"2026", "2026-Q3"} {
			var buf capBuf
			for round := range 2 {
				for i := range in.Links {
					l := &in.Links[i]
					s := in.Site(l.Site)
					p, err := sla.ParsePeriod(period, s.Location)
					if err != nil {
						t.Fatal(err)
					}
					input := Input{Inv: in, Capacity: randCapacity{}, Rollups: store}
					got, err := capacityRows(ctx, input, l, s, p, now, 0, &buf, true)
					if err != nil {
						t.Fatal(err)
					}
					want, err := capacityRows(ctx, input, l, s, p, now, 0, &capBuf{}, false)
					if err != nil {
						t.Fatal(err)
					}
					rx, tx, err := LinkRollups(ctx, store, randCapacity{}, l, p.Start.UnixMilli()/dayMs, (p.End.UnixMilli()-1)/dayMs, nil)
					if err != nil {
						t.Fatal(err)
					}
					for k, rs := range [][]*capacity.Rollup{rx, tx} {
						want[k].Months = capacityMonths(rs, p, s.Location, want[k].CapacityBps)
					}
					if !reflect.DeepEqual(got, want) {
						t.Fatalf("%s round %d link %s (store %v): rows\n%+v\nwant\n%+v", period, round, l.ID, store != nil, got, want)
					}
					rows += len(got)
				}
			}
		}
	}
	t.Logf("%d rows", rows)
}
