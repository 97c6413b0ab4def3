package report

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/inventory"
	"github.com/pantau-noc/pantau/collector/internal/pdf"
	"github.com/pantau-noc/pantau/collector/internal/sla"
	"github.com/pantau-noc/pantau/collector/internal/statedb"
)

// BenchmarkMonthlyReportPDF500Links prints the October report of 500
// links (250 sites under 25 OPD, two links each, an outage every third
// day, capacity polled every 5 minutes) to PDF in headless Chromium:
// build, approval sheet (number from state.db, data hash), HTML, PDF.
// The bound is 30 s per PDF.
func BenchmarkMonthlyReportPDF500Links(b *testing.B) {
	const sites = 250
	var inv strings.Builder
	inv.WriteString("sites:\n")
	for i := range sites {
		fmt.Fprintf(&inv, "  - {id: s%d, name: Site %d, kind: opd, opd: opd%d, timezone: WIT}\n", i, i, i%25)
	}
	inv.WriteString("links:\n")
	for i := range sites {
		for j := range 2 {
			fmt.Fprintf(&inv, "  - {id: l%d-%d, site: s%d, type: fibre, bandwidth: 100Mbps, icmp: {target: 127.%d.0.%d}, snmp: {device: d%d, interface: e%d}}\n", i, j, i, 1+j, i, i, j)
		}
	}
	in, err := inventory.Parse("bench.yml", []byte(inv.String()))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	db, err := statedb.Open(ctx, b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	wit := time.FixedZone("WIT", 9*3600)
	p, _ := sla.ParsePeriod("2026-10", wit)
	from, n := p.Minutes()
	d0, _ := sla.DayOf(from - sla.MinutesPerDay)
	d1, _ := sla.DayOf(from + int64(n) + sla.MinutesPerDay)
	g := map[sla.DayKey]*[sla.MinutesPerDay]uint16{}
	for d := d0; d <= d1; d++ {
		a := new([sla.MinutesPerDay]uint16)
		for m := range a {
			a[m] = sla.BitSeen
		}
		g[sla.DayKey{Kind: sla.KindCollector, Day: d}] = a
		for i := range in.Links {
			a := new([sla.MinutesPerDay]uint16)
			for m := range a {
				a[m] = sla.BitUp | sla.BitSlotGood
			}
			if (d+int64(i))%3 == 0 {
				for m := 600; m < 620; m++ {
					a[m] = sla.BitDown | sla.BitSlotDown
				}
			}
			g[sla.DayKey{Kind: sla.KindLink, ID: in.Links[i].ID, Day: d}] = a
		}
	}
	if err := db.Minutes().MergeDays(ctx, g); err != nil {
		b.Fatal(err)
	}
	pr := pdf.New(pdf.Config{}, slog.New(slog.DiscardHandler))
	if _, err := pr.Chromium(); err != nil {
		b.Fatal(err)
	}
	pages := 0
	for b.Loop() {
		t0 := time.Now()
		r, err := Build(ctx, Input{Inv: in, Store: db.Minutes(), Index: db.Minutes(), Reviews: db, Capacity: synthCapacity{5 * time.Minute}},
			Options{Period: "2026-10", Zone: wit, Now: time.Date(2026, 11, 2, 0, 0, 0, 0, wit)})
		if err != nil {
			b.Fatal(err)
		}
		if err := Approve(ctx, r, ApprovalSetup{Zone: wit}, db); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		doc, err := WritePDF(ctx, r, pr)
		if err != nil {
			b.Fatal(err)
		}
		if len(r.Links) != 500 || len(doc) < 100<<10 {
			b.Fatalf("%d links, a PDF of %d bytes", len(r.Links), len(doc))
		}
		pages = pageCount(doc)
		b.ReportMetric(float64(len(doc))/(1<<20), "pdf_MiB")
		b.ReportMetric(t1.Sub(t0).Seconds(), "build_s")
		b.ReportMetric(time.Since(t1).Seconds(), "html+pdf_s")
	}
	b.ReportMetric(float64(pages), "pages")
}

// pageCount counts a PDF's page objects.
func pageCount(doc []byte) int {
	return len(regexp.MustCompile(`/Type\s*/Page\b[^s]`).FindAll(doc, -1))
}
