package report

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/tsdb"
	"github.com/xuri/excelize/v2"

	"github.com/pantau-noc/pantau/collector/internal/capacity"
	"github.com/pantau-noc/pantau/collector/internal/inventory"
	"github.com/pantau-noc/pantau/collector/internal/statedb"
)

// monthCapacity gives dinkes-wan (20 Mbit/s contracted) 17 Mbit/s in,
// 85 % of the contract, in the months of busy (local WIB months), and
// 10 Mbit/s (50 %) in the others; 2 Mbit/s out; a sample every 5 min.
type monthCapacity struct{ busy map[time.Month]bool }

func (c monthCapacity) Capacity(_ context.Context, l *inventory.Link, start, end time.Time, rx, tx []capacity.Sample) ([]capacity.Sample, []capacity.Sample, float64, error) {
	for t := start; t.Before(end); t = t.Add(5 * time.Minute) {
		v := 10e6
		if c.busy[t.In(wib).Month()] {
			v = 17e6
		}
		rx = append(rx, capacity.Sample{T: t.UnixMilli(), V: v})
		tx = append(tx, capacity.Sample{T: t.UnixMilli(), V: 2e6})
	}
	return rx, tx, 1e9, nil
}

func buildProduct(t *testing.T, in Input, o Options, po ProductOptions) *Product {
	t.Helper()
	if o.Zone == nil {
		o.Zone = wib
	}
	if o.Now.IsZero() {
		o.Now = time.Date(2027, 1, 5, 9, 0, 0, 0, wib)
	}
	p, err := BuildProduct(context.Background(), in, o, po)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestAnnualCapacityPlan: the capacity rule flags a link whose p95
// exceeds 80 % of its contracted bandwidth in N months of the year (N=3,
// the default) and lists the months; in N-1 months it does not; N and
// the threshold come from the options.
func TestAnnualCapacityPlan(t *testing.T) {
	inv, db := buildFixture(t)
	in := func(busy ...time.Month) Input {
		b := map[time.Month]bool{}
		for _, m := range busy {
			b[m] = true
		}
		return Input{Inv: inv, Store: db.Minutes(), Index: db.Minutes(), Reviews: db, Capacity: monthCapacity{b}}
	}
	// every sample of a busy month is 17 Mbit/s, so its p95 is 17e6 and
	// 17e6 / 20e6 = 85 % > 80 %; the other months 10e6 / 20e6 = 50 %
	three := buildProduct(t, in(time.March, time.July, time.August), Options{Period: "2026"}, ProductOptions{Product: ProductAnnual})
	if len(three.CapacityPlan) != 1 {
		t.Fatalf("capacity plan %+v, want dinkes-wan", three.CapacityPlan)
	}
	c := three.CapacityPlan[0]
	if c.Link != "dinkes-wan" || strings.Join(c.Months, " ") != "2026-03 2026-07 2026-08" || math.Abs(c.MaxP95Utilization-85) > 1e-9 ||
		c.CapacityBps != 20e6 || c.Action != "tambah kapasitas" {
		t.Errorf("capacity plan row %+v", c)
	}
	if three.Rule != (CapacityRule{Pct: 80, Months: 3}) {
		t.Errorf("rule %+v, want the default 80 %% and 3 months", three.Rule)
	}
	// the trends: one link with a p95 each month; three over 80 %
	if len(three.Trends) != 12 {
		t.Fatalf("%d months of trends", len(three.Trends))
	}
	for _, tr := range three.Trends {
		over := 0
		want := 50.0
		if tr.Month == "2026-03" || tr.Month == "2026-07" || tr.Month == "2026-08" {
			over, want = 1, 85
		}
		if tr.LinksWithP95 != 1 || tr.LinksOverCapacity != over || tr.MaxP95Utilization == nil || math.Abs(*tr.MaxP95Utilization-want) > 1e-9 {
			t.Errorf("%s: %d links with p95, %d over, max %v; want 1, %d, %g", tr.Month, tr.LinksWithP95, tr.LinksOverCapacity, tr.MaxP95Utilization, over, want)
		}
	}

	two := buildProduct(t, in(time.March, time.July), Options{Period: "2026", Lang: LangEN}, ProductOptions{Product: ProductAnnual})
	if len(two.CapacityPlan) != 0 {
		t.Errorf("2 months over 80 %% flagged: %+v", two.CapacityPlan)
	}
	// N=2 from the configuration flags it
	cfg := buildProduct(t, in(time.March, time.July), Options{Period: "2026", Lang: LangEN}, ProductOptions{Product: ProductAnnual, Rule: CapacityRule{Months: 2}})
	if len(cfg.CapacityPlan) != 1 || cfg.CapacityPlan[0].Action != "add capacity" || strings.Join(cfg.CapacityPlan[0].Months, " ") != "2026-03 2026-07" {
		t.Errorf("months: 2: %+v", cfg.CapacityPlan)
	}
	// a threshold of 85 %: 85 % is not over it
	hi := buildProduct(t, in(time.March, time.July, time.August), Options{Period: "2026"}, ProductOptions{Product: ProductAnnual, Rule: CapacityRule{Pct: 85}})
	if len(hi.CapacityPlan) != 0 {
		t.Errorf("threshold 85 %%: %+v", hi.CapacityPlan)
	}
}

// TestReviewPackFigures: the quarter's months, open and overdue items,
// and the recommendations, computed by hand from the fixture.
func TestReviewPackFigures(t *testing.T) {
	inv, db := buildFixture(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 2, 9, 0, 0, 0, wib)
	// overdue on 2026-12-31 (the quarter's last day): due 2026-11-15,
	// 15 days to the end of November + 31 of December = 46 days
	late, err := db.AddFollowUp(ctx, statedb.FollowUp{Opened: "2026-10-30", Item: "Pasang UPS Distrik Aimas", Owner: "Distrik Aimas", Due: "2026-11-15"}, now)
	if err != nil {
		t.Fatal(err)
	}
	// open, due after the quarter: not overdue
	if _, err := db.AddFollowUp(ctx, statedb.FollowUp{Opened: "2026-11-03", Item: "Kaji jalur cadangan Disdik", Owner: "Bidang TIK", Due: "2027-02-28"}, now); err != nil {
		t.Fatal(err)
	}
	// due on the quarter's last day: not yet overdue on that day
	if _, err := db.AddFollowUp(ctx, statedb.FollowUp{Opened: "2026-11-04", Item: "Laporkan gangguan ke Telkom", Owner: "NOC", Due: "2026-12-31"}, now); err != nil {
		t.Fatal(err)
	}
	p := buildProduct(t, Input{Inv: inv, Store: db.Minutes(), Index: db.Minutes(), Reviews: db, Capacity: fakeCapacity{}},
		Options{Period: "2026-Q4"}, ProductOptions{Product: ProductReviewPack})
	if p.AsOf != "2026-12-31" {
		t.Errorf("as of %s", p.AsOf)
	}
	// the item of the fixture was closed on 2026-11-20: not open
	if len(p.OpenItems) != 3 || p.OpenItems[0].ID != late || !p.OpenItems[0].Overdue || p.OpenItems[0].DaysOverdue != 46 ||
		p.OpenItems[1].Overdue || p.OpenItems[1].DaysOverdue != 0 || p.OpenItems[2].Due != "2026-12-31" || p.OpenItems[2].Overdue {
		t.Errorf("open items %+v", p.OpenItems)
	}
	// October: dinkes-wan 31 × 1440 = 44,640 minutes with data, 30 down
	// (10 Oct 10:00-10:30); aimas-vsat 44,640 up (its WIT October is
	// inside the data, 29 Sep to 2 Dec WIB); disdik-wan no data.
	// (2 × 44,640 − 30) / (2 × 44,640) = 89,250 / 89,280.
	// November: 2 × 30 × 1,440 minutes, all up: 100 %.
	// December: data ends 2 Dec 00:00 WIB: dinkes-wan 1,440 minutes,
	// aimas-vsat 1 Dec 00:00 WIT to 2 Dec 02:00 WIT = 1,560; all up.
	want := []struct {
		month           string
		avail           float64
		withData        int
		outages         int
		downSec         int64
		upSec, downSec2 int64
	}{
		{"2026-10", 100 * 89250.0 / 89280, 2, 1, 1800, 60 * 89250, 1800},
		{"2026-11", 100, 2, 0, 0, 60 * 2 * 43200, 0},
		{"2026-12", 100, 2, 0, 0, 60 * (1440 + 1560), 0},
	}
	if len(p.Trends) != 3 {
		t.Fatalf("trends %+v", p.Trends)
	}
	for i, w := range want {
		tr := p.Trends[i]
		if tr.Month != w.month || tr.Links != 3 || tr.LinksWithData != w.withData || tr.Outages != w.outages || tr.DowntimeSeconds != w.downSec ||
			tr.Availability == nil || math.Abs(*tr.Availability-w.avail) > 1e-9 {
			t.Errorf("trend %d: %+v (availability %v), want %+v", i, tr, tr.Availability, w)
		}
	}
	var up, down int64
	for _, l := range p.Report.Links {
		for i, m := range l.Months {
			if m.Month != want[i].month {
				t.Errorf("%s month %d is %s", l.Link, i, m.Month)
			}
			up += m.UpSeconds + m.DegradedSeconds
			down += m.DownSeconds
		}
	}
	if up != want[0].upSec+want[1].upSec+want[2].upSec || down != 1800 {
		t.Errorf("link months: %d s up, %d s down; want %d, 1800", up, down, want[0].upSec+want[1].upSec+want[2].upSec)
	}
	// recommendations: no link under its target over the quarter, none
	// over 80 % (10 of 20 Mbit/s), one overdue follow-up
	if len(p.Recommendations) != 1 || p.Recommendations[0].Rule != "overdue" || p.Recommendations[0].Subject != fmt.Sprintf("#%d", late) ||
		!strings.Contains(p.Recommendations[0].Text, "melewati tenggat 2026-11-15 sebanyak 46 hari") {
		t.Errorf("recommendations %+v", p.Recommendations)
	}
	// overdue rows stand out in the page
	var html bytes.Buffer
	if err := RenderProduct(&html, p, "html", ""); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(html.String(), `class="od"`) + strings.Count(html.String(), ` od"`); n != 7 {
		t.Errorf("%d cells marked overdue, want the 7 of the one overdue item's row", n)
	}
	// the review of October is the quarter's
	if len(p.Report.Reviews) != 1 || p.Report.Reviews[0].Month != "2026-10" {
		t.Errorf("reviews %+v", p.Report.Reviews)
	}
}

// TestReviewPackRecommendationRules: the SLA and capacity rules, on a
// report made by hand.
func TestReviewPackRecommendationRules(t *testing.T) {
	r := &Report{Lang: LangEN, Period: "2026-Q4", Start: time.Date(2026, 10, 1, 0, 0, 0, 0, wib), End: time.Date(2027, 1, 1, 0, 0, 0, 0, wib),
		Links: []LinkRow{
			{Link: "a", ISP: "Telkom", Target: 99.5, Met: fixBool(false)},
			{Link: "b", Target: 99, Met: fixBool(true)},
		},
		Capacity: []CapacityRow{
			{Link: "b", Direction: "in", CapacitySource: "contract", Months: []CapacityMonth{{Month: "2026-11", P95Utilization: fixPct(80)}, {Month: "2026-12", P95Utilization: fixPct(80.5)}}},
			{Link: "b", Direction: "out", CapacitySource: "contract", Months: []CapacityMonth{{Month: "2026-10", P95Utilization: fixPct(91)}}},
			// an interface speed is not a contract: no rule
			{Link: "a", Direction: "in", CapacitySource: "interface", Months: []CapacityMonth{{Month: "2026-10", P95Utilization: fixPct(99)}}},
		},
	}
	r.Links[0].Availability = fixPct(98.25)
	p := deriveProduct(r, ProductReviewPack, DefaultCapacityRule, time.Date(2027, 1, 5, 0, 0, 0, 0, wib))
	want := []Recommendation{
		{Rule: "sla", Subject: "a", Text: "Link a (Telkom): availability 98.250 % below its 99.500 % target in the period; raise it with the provider and check the restitution."},
		{Rule: "capacity", Subject: "b", Text: "Link b: p95 reached 91.000 % of the contracted bandwidth (threshold 80 %) in 2026-10, 2026-12; consider adding capacity."},
	}
	if fmt.Sprint(p.Recommendations) != fmt.Sprint(want) {
		t.Errorf("recommendations\n%+v\nwant\n%+v", p.Recommendations, want)
	}
}

// TestOPDSheetFigures: the sheet of OPD dinkes for October 2026, by hand.
func TestOPDSheetFigures(t *testing.T) {
	inv, db := buildFixture(t)
	in := Input{Inv: inv, Store: db.Minutes(), Index: db.Minutes(), Reviews: db, Capacity: fakeCapacity{}}
	p := buildProduct(t, in, Options{Period: "2026-10", OPD: "dinkes", Now: time.Date(2026, 11, 2, 9, 0, 0, 0, wib)}, ProductOptions{Product: ProductOPDSheet})
	tables := map[string]Table{}
	for _, tb := range p.Tables() {
		tables[tb.Name] = tb
	}
	// OPD dinkes: its own site and the district site Aimas (opd: dinkes)
	links := tables["sheet_links"]
	if len(links.Rows) != 2 {
		t.Fatalf("links %+v", links.Rows)
	}
	// dinkes-wan: (44,640 − 30) / 44,640 minutes; the contract counts
	// the 30-minute outage (min_outage 300 s): allowed ⌊44,640 × 0.5 %⌋
	// = 223 minutes, so met and no restitution
	wan := links.Rows[0]
	avail := 100 * 44610.0 / 44640
	if wan[0] != "dinkes-wan" || wan[2] != "Telkom" || wan[3] != "4700012345" || wan[4] != int64(20e6) || math.Abs(wan[5].(float64)-avail) > 1e-9 ||
		wan[6] != nil || wan[9] != 1 || wan[10] != Seconds(1800) || wan[11] != 99.5 || math.Abs(wan[12].(float64)-avail) > 1e-9 ||
		wan[13] != int64(15000000) || wan[14] != int64(0) {
		t.Errorf("dinkes-wan row %#v", wan)
	}
	vsat := links.Rows[1]
	if vsat[0] != "aimas-vsat" || vsat[5] != 100.0 || vsat[9] != 0 || vsat[11] != nil {
		t.Errorf("aimas-vsat row %#v", vsat)
	}
	out := tables["sheet_outages"]
	// the link's 30 minutes, and the service hosted at dinkes (sipd):
	// down with the link, and on its own 20 Oct 08:00-08:20
	if len(out.Rows) != 3 || out.Rows[0][0] != "dinkes-wan" || out.Rows[0][2] != "2026-10-10 10:00:00 WIB" || out.Rows[0][4] != Seconds(1800) ||
		out.Rows[1][0] != "sipd" || out.Rows[1][4] != Seconds(1800) || out.Rows[1][5] != "jaringan lokasi putus" ||
		out.Rows[2][0] != "sipd" || out.Rows[2][2] != "2026-10-20 08:00:00 WIB" || out.Rows[2][4] != Seconds(1200) {
		t.Errorf("outages %+v", out.Rows)
	}
	// p95 10 of 20 Mbit/s in, 2 of 20 out
	capT := tables["sheet_capacity"]
	if len(capT.Rows) != 2 || capT.Rows[0][3] != int64(10e6) || capT.Rows[0][4] != 50.0 || capT.Rows[0][5] != "tidak" || capT.Rows[1][4] != 10.0 {
		t.Errorf("capacity %+v", capT.Rows)
	}
	daily := tables["sheet_daily"]
	if len(daily.Columns) != 32 || daily.Rows[0][10] != 100*(1440-30)/1440.0 {
		t.Errorf("daily: %d columns, 10 Oct %v", len(daily.Columns), daily.Rows[0][10])
	}
	var html bytes.Buffer
	if err := RenderProduct(&html, p, "html", ""); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Mengetahui,", "Kepala OPD", `id="chart-daily"`} {
		if !strings.Contains(html.String(), want) {
			t.Errorf("the sheet lacks %q", want)
		}
	}
	// a district site: the camat signs
	d := buildProduct(t, in, Options{Period: "2026-10", Site: "distrik-aimas"}, ProductOptions{Product: ProductOPDSheet})
	html.Reset()
	if err := RenderProduct(&html, d, "html", ""); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(html.String(), "Kepala Distrik/Camat") {
		t.Error("the district sheet lacks the camat's signature block")
	}
}

// TestProductScopeRefusals: each product refuses the periods and scopes
// it is not made for, with ErrInvalid (a 400).
func TestProductScopeRefusals(t *testing.T) {
	inv, db := buildFixture(t)
	in := Input{Inv: inv, Store: db.Minutes(), Index: db.Minutes()}
	for _, c := range []struct {
		o    Options
		prod string
		want string
	}{
		{Options{Period: "2026-10"}, "nope", `product "nope": want one of monthly, opd-sheet, review-pack, annual`},
		{Options{Period: "2026-10"}, ProductReviewPack, "covers a quarter"},
		{Options{Period: "2026"}, ProductReviewPack, "covers a quarter"},
		{Options{Period: "2026-Q4"}, ProductAnnual, "covers a year"},
		{Options{Period: "2026-10-01..2026-10-31"}, ProductAnnual, "covers a year"},
		{Options{Period: "2026-Q4", OPD: "dinkes"}, ProductOPDSheet, "covers a month"},
		{Options{Period: "2026-10"}, ProductOPDSheet, "one OPD or one district site"},
		{Options{Period: "2026-10", OPDs: []string{"dinkes", "disdik"}}, ProductOPDSheet, "one OPD or one district site"},
		{Options{Period: "2026-10", Site: "dc"}, ProductOPDSheet, "site dc is of kind datacenter"},
	} {
		c.o.Zone = wib
		_, err := BuildProduct(context.Background(), in, c.o, ProductOptions{Product: c.prod})
		if !errors.Is(err, ErrInvalid) || !strings.Contains(fmt.Sprint(err), c.want) {
			t.Errorf("%s %+v: %v; want ErrInvalid saying %q", c.prod, c.o, err, c.want)
		}
	}
}

// fixedQuality gives every link two rounds: 10 and 30 ms, loss 0 and 10 %.
type fixedQuality struct{}

func (fixedQuality) Quality(context.Context, *inventory.Link, time.Time, time.Time) ([]float64, []float64, error) {
	return []float64{0.010, 0.030}, []float64{0, 0.1}, nil
}

// goldenProducts builds each product of the fixture in a language.
func goldenProducts(t *testing.T, lang string) []*Product {
	inv, db := buildFixture(t)
	in := Input{Inv: inv, Store: db.Minutes(), Index: db.Minutes(), Reviews: db,
		Capacity: monthCapacity{map[time.Month]bool{time.October: true, time.November: true, time.December: true}}}
	now := time.Date(2027, 1, 5, 9, 0, 0, 0, wib)
	return []*Product{
		buildProduct(t, in, Options{Period: "2026-10", OPD: "dinkes", Lang: lang, Now: now}, ProductOptions{Product: ProductOPDSheet, Quality: fixedQuality{}}),
		buildProduct(t, in, Options{Period: "2026-Q4", Lang: lang, Now: now}, ProductOptions{Product: ProductReviewPack}),
		buildProduct(t, in, Options{Period: "2026", Lang: lang, Now: now}, ProductOptions{Product: ProductAnnual}),
	}
}

// TestGoldenProducts: each product in each language, as HTML, and its
// workbook sheet by sheet (each sheet's cells as excelize reads them).
func TestGoldenProducts(t *testing.T) {
	for _, lang := range []string{LangID, LangEN} {
		for _, p := range goldenProducts(t, lang) {
			var html bytes.Buffer
			if err := RenderProduct(&html, p, "html", ""); err != nil {
				t.Fatal(err)
			}
			checkGolden(t, fmt.Sprintf("%s.%s.html", p.Product, lang), html.Bytes())
			if s := html.String(); strings.Contains(s, "http://") && !strings.Contains(s, `xmlns="http://www.w3.org/2000/svg"`) ||
				strings.Contains(s, "<script") || strings.Contains(s, "<link") || strings.Contains(s, "src=") {
				t.Errorf("%s %s: the page refers to an external resource", p.Product, lang)
			}
			var xb bytes.Buffer
			if err := RenderProduct(&xb, p, "xlsx", ""); err != nil {
				t.Fatal(err)
			}
			f, err := excelize.OpenReader(&xb)
			if err != nil {
				t.Fatal(err)
			}
			tables := p.Tables()
			sheets := f.GetSheetList()
			if len(sheets) != len(tables) {
				t.Errorf("%s %s: %d sheets for %d tables", p.Product, lang, len(sheets), len(tables))
			}
			var dump strings.Builder
			for i, sh := range sheets {
				rows, err := f.GetRows(sh)
				if err != nil {
					t.Fatal(err)
				}
				if i < len(tables) && len(rows) != 1+len(tables[i].Rows) {
					t.Errorf("%s %s sheet %q: %d rows, want a header and %d", p.Product, lang, sh, len(rows), len(tables[i].Rows))
				}
				fmt.Fprintf(&dump, "== %s\n", sh)
				for _, row := range rows {
					dump.WriteString(strings.Join(row, "\t") + "\n")
				}
			}
			f.Close()
			checkGolden(t, fmt.Sprintf("%s.%s.xlsx.txt", p.Product, lang), []byte(dump.String()))
		}
	}
}

// FuzzProductParams: product names and product periods and scopes are
// refused or accepted, never a panic; a refusal wraps ErrInvalid.
func FuzzProductParams(f *testing.F) {
	for _, s := range [][4]string{
		{"monthly", "2026-10", "", ""}, {"opd-sheet", "2026-10", "dinkes", ""}, {"opd-sheet", "2026-10", "", "distrik-aimas"},
		{"review-pack", "2026-Q4", "", ""}, {"annual", "2026", "", ""}, {"annual", "2026-q1", "", ""}, {"", "", "", ""},
		{"opd-sheet", "2026-13", "", "dc"}, {"review-pack", "2026-Q5", "x", "y"}, {"ANNUAL", "02026", "", ""},
	} {
		f.Add(s[0], s[1], s[2], s[3])
	}
	inv, err := inventory.Parse("inventory.yml", []byte(buildInventory))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, product, period, opd, site string) {
		name, err := ParseProduct(product)
		if err != nil {
			if !strings.Contains(err.Error(), "want one of") {
				t.Fatalf("%q: %v", product, err)
			}
			return
		}
		if err := CheckProductScope(name, Options{Period: period, OPD: opd, Site: site}, inv); err != nil && !errors.Is(err, ErrInvalid) {
			t.Fatalf("%q %q %q %q: %v", product, period, opd, site, err)
		}
		for _, fm := range append(Formats, "pdf", "") {
			_ = CheckProductFormat(name, fm)
		}
	})
}

// TestOPDSheetQuality: the sheet's RTT and loss from a real TSDB, over
// each site's month, computed by hand.
func TestOPDSheetQuality(t *testing.T) {
	inv, db := buildFixture(t)
	tdb, err := tsdb.Open(t.TempDir(), nil, nil, tsdb.DefaultOptions(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tdb.Close()
	app := tdb.Appender(context.Background())
	rttL := labels.FromStrings("__name__", "pantau_icmp_rtt_avg_seconds", "link", "dinkes-wan")
	lossL := labels.FromStrings("__name__", "pantau_icmp_loss_ratio", "link", "dinkes-wan")
	// 30 Sep 23:00 WIB is September: left out (it would raise the mean)
	if _, err := app.Append(0, rttL, time.Date(2026, 9, 30, 23, 0, 0, 0, wib).UnixMilli(), 5); err != nil {
		t.Fatal(err)
	}
	// 20 rounds in October: 10 of 10 ms, 9 of 20 ms, 1 of 100 ms; loss 0,
	// 0, 0 and 0.2 repeating
	t0 := time.Date(2026, 10, 1, 0, 0, 0, 0, wib)
	for i := range 20 {
		v := 0.010
		switch {
		case i == 19:
			v = 0.100
		case i >= 10:
			v = 0.020
		}
		ts := t0.Add(time.Duration(i) * time.Hour).UnixMilli()
		if _, err := app.Append(0, rttL, ts, v); err != nil {
			t.Fatal(err)
		}
		loss := 0.0
		if i%4 == 3 {
			loss = 0.2
		}
		if _, err := app.Append(0, lossL, ts, loss); err != nil {
			t.Fatal(err)
		}
	}
	if err := app.Commit(); err != nil {
		t.Fatal(err)
	}
	in := Input{Inv: inv, Store: db.Minutes(), Index: db.Minutes(), Reviews: db}
	p := buildProduct(t, in, Options{Period: "2026-10", OPD: "dinkes"}, ProductOptions{Product: ProductOPDSheet, Quality: TSDBQuality{Q: tdb}})
	if len(p.Quality) != 2 {
		t.Fatalf("quality %+v", p.Quality)
	}
	// mean (10 × 10 + 9 × 20 + 100) / 20 = 380 / 20 = 19 ms; p95 the
	// ⌈0.95 × 20⌉ = 19th of the sorted values = 20 ms; loss 5 of 20
	// rounds at 20 %: 100 × (5 × 0.2) / 20 = 5 %
	q := p.Quality[0]
	if q.Link != "dinkes-wan" || q.Rounds != 20 || q.RTTMeanMs == nil || math.Abs(*q.RTTMeanMs-19) > 1e-9 || math.Abs(*q.RTTP95Ms-20) > 1e-9 ||
		math.Abs(*q.LossPct-5) > 1e-9 {
		t.Errorf("dinkes-wan %+v", q)
	}
	if v := p.Quality[1]; v.Link != "aimas-vsat" || v.Rounds != 0 || v.RTTMeanMs != nil || v.LossPct != nil {
		t.Errorf("aimas-vsat %+v", v)
	}
	var tb Table
	for _, x := range p.Tables() {
		if x.Name == "sheet_quality" {
			tb = x
		}
	}
	if len(tb.Rows) != 2 || tb.Rows[0][1] != 20 {
		t.Errorf("quality table %+v", tb)
	}
}
