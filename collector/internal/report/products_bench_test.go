package report

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/inventory"
	"github.com/pantau-noc/pantau/collector/internal/sla"
	"github.com/pantau-noc/pantau/collector/internal/statedb"
)

// BenchmarkAnnualReport5000Links builds the annual product of 2026 for
// 5,000 links (2,500 sites, two links each, under 50 OPD, WIT) from a
// year of one-minute states in a real state.db (the monthly benchmark's
// pattern: rounds every 30 s, a 20-minute outage every three days), with
// its twelve months of trends and the capacity plan; then the same with
// a year of capacity samples polled every 15 minutes per link and
// direction (350 million samples in all), p95 per month.
func BenchmarkAnnualReport5000Links(b *testing.B) {
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
	wit := time.FixedZone("WIT", 9*3600)
	// PANTAU_BENCH_STATEDB keeps the year of states in a directory for
	// the next run, so that a run measures the report alone (Go's Sys
	// never shrinks, and writing the states costs more than the report).
	dir := os.Getenv("PANTAU_BENCH_STATEDB")
	if dir == "" {
		dir = b.TempDir()
	}
	done := filepath.Join(dir, "annual-bench-complete")
	if _, err := os.Stat(done); err != nil {
		writeAnnualStates(b, in, dir, wit)
		if err := os.WriteFile(done, nil, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	db, err := statedb.Open(ctx, dir)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	for _, c := range []struct {
		name string
		src  CapacitySource
		rows int
	}{
		{"states", nil, 0},
		{"states+capacity-15m", synthCapacity{15 * time.Minute}, 10000},
	} {
		b.Run(c.name, func(b *testing.B) {
			runtime.GC()
			var before runtime.MemStats
			runtime.ReadMemStats(&before)
			b.ResetTimer()
			for b.Loop() {
				pr, err := BuildProduct(ctx, Input{Inv: in, Store: db.Minutes(), Index: db.Minutes(), Reviews: db, Capacity: c.src},
					Options{Period: "2026", Zone: wit, Now: time.Date(2027, 1, 2, 0, 0, 0, 0, wit)}, ProductOptions{Product: ProductAnnual})
				if err != nil {
					b.Fatal(err)
				}
				r := pr.Report
				if len(r.Links) != 5000 || len(r.Capacity) != c.rows || r.Summary.Outages == 0 || len(pr.Trends) != 12 || len(r.Links[0].Months) != 12 {
					b.Fatalf("report has %d links, %d capacity rows, %d outages, %d months", len(r.Links), len(r.Capacity), r.Summary.Outages, len(pr.Trends))
				}
			}
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			b.ReportMetric(float64(ms.Sys)/(1<<20), "sys_MiB")
			b.ReportMetric(float64(ms.TotalAlloc-before.TotalAlloc)/float64(b.N)/(1<<20), "alloc_MiB/op")
		})
	}
}

// writeAnnualStates stores 2026 and a day either side in WIT for every
// link of in (the monthly benchmark's pattern) in the state.db in dir.
func writeAnnualStates(b *testing.B, in *inventory.Inventory, dir string, wit *time.Location) {
	ctx := context.Background()
	db, err := statedb.Open(ctx, dir)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	p, _ := sla.ParsePeriod("2026", wit)
	from, n := p.Minutes()
	d0, _ := sla.DayOf(from - sla.MinutesPerDay)
	d1, _ := sla.DayOf(from + int64(n) + sla.MinutesPerDay)
	st := db.Minutes()
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
	// the two kinds of day of the monthly benchmark, shared by every link
	up := sla.BitUp | sla.BitSlotGood | sla.BitSlotGood<<3
	down := sla.BitDown | sla.BitSlotDown | sla.BitSlotDown<<3
	plain := new([sla.MinutesPerDay]uint16)
	for m := range plain {
		plain[m] = up
	}
	outage := new([sla.MinutesPerDay]uint16)
	*outage = *plain
	for m := 600; m < 620; m++ {
		outage[m] = down
	}
	outage[599] = sla.BitUp | sla.BitDown | sla.BitSlotGood | sla.BitSlotDown<<3
	outage[620] = sla.BitUp | sla.BitDown | sla.BitSlotDown | sla.BitSlotGood<<3
	for i := range in.Links {
		g := map[sla.DayKey]*[sla.MinutesPerDay]uint16{}
		for d := d0; d <= d1; d++ {
			a := plain
			if (d+int64(i))%3 == 0 {
				a = outage
			}
			g[sla.DayKey{Kind: sla.KindLink, ID: in.Links[i].ID, Day: d}] = a
		}
		if err := st.MergeDays(ctx, g); err != nil {
			b.Fatal(err)
		}
	}
}
