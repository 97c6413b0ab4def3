package report

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/capacity"
	"github.com/pantau-noc/pantau/collector/internal/inventory"
	"github.com/pantau-noc/pantau/collector/internal/sla"
	"github.com/pantau-noc/pantau/collector/internal/statedb"
)

// synthCapacity gives every link rate samples every step; a value depends
// on its time only, so any range of days reads the same samples.
type synthCapacity struct{ step time.Duration }

func (c synthCapacity) Capacity(_ context.Context, l *inventory.Link, start, end time.Time, rx, tx []capacity.Sample) ([]capacity.Sample, []capacity.Sample, float64, error) {
	n := int(end.Sub(start) / c.step)
	t0 := start.UnixMilli()
	for i := range n {
		t := t0 + int64(i)*c.step.Milliseconds()
		h := float64((t / 3600000) % 24)
		rx = append(rx, capacity.Sample{T: t, V: 2e6 + h*4e5 + float64((t/60000)%7)*1e4})
		tx = append(tx, capacity.Sample{T: t, V: 5e5 + h*1e5})
	}
	return rx, tx, 1e8, nil
}

// BenchmarkMonthlyReport5000Links builds the October report of 5,000
// links (2,500 sites, two links each, under 50 OPD) from one-minute
// states in a real state.db; then with a month of capacity samples per
// link and direction polled every 60 s (432 million samples in all) and
// every 5 minutes (86 million), the usual polling of NOC capacity graphs.
func BenchmarkMonthlyReport5000Links(b *testing.B) {
	const sites = 2500
	var inv strings.Builder
	inv.WriteString("sites:\n")
	for i := range sites {
		fmt.Fprintf(&inv, "  - {id: s%d, name: Site %d, kind: opd, opd: opd%d, timezone: WIT}\n", i, i, i%50)
	}
	inv.WriteString("links:\n")
	for i := range sites {
		for j := range 2 {
			fmt.Fprintf(&inv, "  - {id: l%d-%d, site: s%d, type: fibre, bandwidth: 100Mbps, icmp: {target: 127.%d.%d.%d}, snmp: {device: d%d, interface: e%d}}\n",
				i, j, i, 1+j, i/250, i%250, i, j)
		}
	}
	in, err := inventory.Parse("bench.yml", []byte(inv.String()))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	dir := b.TempDir()
	db, err := statedb.Open(ctx, dir)
	if err != nil {
		b.Fatal(err)
	}
	wit := time.FixedZone("WIT", 9*3600)
	p, _ := sla.ParsePeriod("2026-10", wit)
	from, n := p.Minutes()
	d0, _ := sla.DayOf(from - sla.MinutesPerDay)
	d1, _ := sla.DayOf(from + int64(n) + sla.MinutesPerDay)
	st := db.Minutes()
	// every link up with a 20-minute outage every 3 days; the collector ran
	coll := map[sla.DayKey]*[sla.MinutesPerDay]uint16{}
	for d := d0; d <= d1; d++ {
		a := new([sla.MinutesPerDay]uint16)
		for i := range a {
			a[i] = sla.BitSeen
		}
		coll[sla.DayKey{Kind: sla.KindCollector, Day: d}] = a
	}
	if err := st.MergeDays(ctx, coll); err != nil {
		b.Fatal(err)
	}
	for i := range in.Links {
		g := map[sla.DayKey]*[sla.MinutesPerDay]uint16{}
		// rounds every 30 s, in slots 0 and 3; the outage starts and
		// ends with a partly down minute
		up := sla.BitUp | sla.BitSlotGood | sla.BitSlotGood<<3
		down := sla.BitDown | sla.BitSlotDown | sla.BitSlotDown<<3
		for d := d0; d <= d1; d++ {
			a := new([sla.MinutesPerDay]uint16)
			for m := range a {
				a[m] = up
			}
			if (d+int64(i))%3 == 0 {
				for m := 600; m < 620; m++ {
					a[m] = down
				}
				a[599] = sla.BitUp | sla.BitDown | sla.BitSlotGood | sla.BitSlotDown<<3
				a[620] = sla.BitUp | sla.BitDown | sla.BitSlotDown | sla.BitSlotGood<<3
			}
			g[sla.DayKey{Kind: sla.KindLink, ID: in.Links[i].ID, Day: d}] = a
		}
		if err := st.MergeDays(ctx, g); err != nil {
			b.Fatal(err)
		}
	}
	// reopen, as the report command does: the loading handle's cache of
	// day arrays must not count
	db.Close()
	st = nil
	if db, err = statedb.Open(ctx, dir); err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	for _, c := range []struct {
		name    string
		src     CapacitySource
		rollups bool
		rows    int
	}{
		{"states", nil, false, 0},
		{"states+capacity-rollups", nil, true, 10000},
		{"states+capacity-5m", synthCapacity{5 * time.Minute}, false, 10000},
		{"states+capacity", synthCapacity{time.Minute}, false, 10000},
	} {
		b.Run(c.name, func(b *testing.B) {
			var rollups RollupStore
			if c.rollups {
				// what the collector's rollup job stores for closed days:
				// the 60 s samples of every day of the period
				rollups = db
				d0 := p.Start.UnixMilli() / dayMs
				d1 := (p.End.UnixMilli() - 1) / dayMs
				var day []*capacity.Rollup
				var rx, tx []capacity.Sample
				rx, tx, _, _ = synthCapacity{time.Minute}.Capacity(ctx, nil, time.UnixMilli(d0*dayMs), time.UnixMilli((d1+1)*dayMs), nil, nil)
				for d := d0; d <= d1; d++ {
					day = append(day, capacity.RollupDay(rx, d, time.Minute))
				}
				dayTx := make([]*capacity.Rollup, 0, len(day))
				for d := d0; d <= d1; d++ {
					dayTx = append(dayTx, capacity.RollupDay(tx, d, time.Minute))
				}
				if n, _, _ := db.Rollups(ctx, in.Links[0].ID, d0, d1, nil); len(n) == 0 {
					for i := range in.Links {
						if err := db.PutRollups(ctx, in.Links[i].ID, 0, day, time.Now()); err != nil {
							b.Fatal(err)
						}
						if err := db.PutRollups(ctx, in.Links[i].ID, 1, dayTx, time.Now()); err != nil {
							b.Fatal(err)
						}
					}
				}
			}
			runtime.GC()
			var before runtime.MemStats
			runtime.ReadMemStats(&before)
			b.ResetTimer()
			for b.Loop() {
				r, err := Build(ctx, Input{Inv: in, Store: db.Minutes(), Index: db.Minutes(), Reviews: db, Capacity: c.src, Rollups: rollups},
					Options{Period: "2026-10", Zone: wit, Now: time.Date(2026, 11, 2, 0, 0, 0, 0, wit)})
				if err != nil {
					b.Fatal(err)
				}
				if len(r.Links) != 5000 || len(r.Capacity) != c.rows || r.Summary.Outages == 0 {
					b.Fatalf("report has %d links, %d capacity rows, %d outages", len(r.Links), len(r.Capacity), r.Summary.Outages)
				}
			}
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			b.ReportMetric(float64(ms.Sys)/(1<<20), "sys_MiB")
			b.ReportMetric(float64(ms.TotalAlloc-before.TotalAlloc)/float64(b.N)/(1<<20), "alloc_MiB/op")
		})
	}
}
