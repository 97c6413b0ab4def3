package report

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"strconv"
	"strings"

	"github.com/pantau-noc/pantau/collector/internal/sla"
)

var (
	//go:embed product.html.tmpl
	productLayoutText string
	//go:embed opdsheet.html.tmpl
	opdSheetTemplateText string
	//go:embed reviewpack.html.tmpl
	reviewPackTemplateText string
	//go:embed annual.html.tmpl
	annualTemplateText string
)

// productTemplates are the products' pages; they share the report's
// "table" template (report.html.tmpl).
var productTemplates = func() *template.Template {
	t := template.Must(htmlTemplate.Clone())
	for _, s := range []string{productLayoutText, approvalTemplateText, opdSheetTemplateText, reviewPackTemplateText, annualTemplateText} {
		template.Must(t.Parse(s))
	}
	return t
}()

// productHTMLText holds the strings only the products' pages use.
var productHTMLText = map[string][2]string{
	"p.acknowledge":  {"Mengetahui,", "Acknowledged by,"},
	"p.head.opd":     {"Kepala OPD", "Head of the OPD"},
	"p.head.dist":    {"Kepala Distrik/Camat", "Head of the district (camat)"},
	"p.name":         {"Nama", "Name"},
	"p.nip":          {"NIP", "NIP"},
	"p.place":        {"Tempat, tanggal", "Place, date"},
	"p.trend":        {"Ketersediaan seluruh jalur per bulan", "Availability of all links by month"},
	"p.trend.d":      {"Batang: ketersediaan seluruh jalur pada bulan itu. Sumbu dimulai dari %s\u00a0%%.", "Bars: the availability of all links in the month. The axis starts at %s\u00a0%%."},
	"p.rule":         {"Aturan rencana kapasitas: tambah kapasitas bila p95 salah satu arah melebihi %s\u00a0%% bandwidth kontrak pada sedikitnya %d bulan dalam setahun.", "Capacity plan rule: add capacity when the p95 of either direction exceeds %s\u00a0%% of the contracted bandwidth in at least %d months of the year."},
	"p.rec.rules":    {"Rekomendasi diturunkan dengan tiga aturan: jalur di bawah target SLA pada triwulan; jalur dengan p95 di atas %s\u00a0%% bandwidth kontrak pada suatu bulan; tindak lanjut melewati tenggat per %s.", "Recommendations come from three rules: a link under its SLA target over the quarter; a link whose p95 exceeds %s\u00a0%% of its contracted bandwidth in some month; a follow-up past its due date as of %s."},
	"p.open.d":       {"Tindak lanjut yang belum selesai per %s; yang melewati tenggat ditandai.", "Follow-ups not done as of %s; those past their due date are marked."},
	"p.svchrs.d":     {"Ketersediaan jam layanan belum dihitung pada versi ini (kolom kosong).", "Service-hours availability is not computed in this version (empty column)."},
	"fig.overdue":    {"Tindak lanjut terlambat", "Overdue follow-ups"},
	"fig.open":       {"Butir terbuka", "Open items"},
	"fig.recs":       {"Rekomendasi", "Recommendations"},
	"fig.plan":       {"Jalur perlu tambah kapasitas", "Links needing capacity"},
	"fig.sheet_av":   {"Ketersediaan 24×7", "Availability 24×7"},
	"fig.sheet_meet": {"Jalur memenuhi SLA", "Links meeting SLA"},
}

// productPage is what a product's template shows.
type productPage struct {
	Lang, Title, Scope, Period, Generator string
	Meta                                  []htmlKV
	Figures                               []htmlFigure
	Approval                              *Approval
	Sections                              []productSection
	Signature                             *productSignature
	Footer                                []string
}

// productSection is a titled table or chart.
type productSection struct {
	ID, Title, Note string
	Table           *htmlTable
	Chart           *htmlChart
	Wide            bool
}

// productSignature is the acknowledgement block ("Mengetahui").
type productSignature struct {
	Heading, Role, Place, Name, NIP string
}

func (pg *productPage) s(key string) string {
	v := productHTMLText[key]
	if pg.Lang == LangEN {
		return v[1]
	}
	return v[0]
}

// WriteProductHTML writes a product as one printable page (A4), no
// script, no external resource, charts as inline SVG; the approval
// sheet comes first.
func WriteProductHTML(w io.Writer, p *Product) error {
	r := p.Report
	lang := LangID
	if r.Lang == LangEN {
		lang = LangEN
	}
	hp := &htmlPage{Lang: lang}
	pg := &productPage{Lang: lang, Title: p.Title, Scope: r.Scope.Name, Period: r.Period, Generator: r.Generator, Approval: p.Approval}
	pg.Meta = []htmlKV{
		{hp.s("scope"), r.Scope.Name},
		{T(lang, "period"), headerPeriod(lang, r)},
		{T(lang, "timezone"), r.TimeZone},
		{T(lang, "generated"), fmtStamp(lang, r.GeneratedAt)},
		{hp.s("generator"), r.Generator},
	}
	section := func(t Table, note string, wide bool) productSection {
		h := hp.table(t)
		h.Wide, h.Break = false, false
		return productSection{ID: "t-" + t.Name, Title: t.Title, Note: note, Table: &h, Wide: wide}
	}
	tables := p.Tables()
	name := p.Product
	switch p.Product {
	case ProductOPDSheet:
		s := r.Summary
		pg.Figures = []htmlFigure{
			{Label: pg.s("fig.sheet_av"), Value: fmtPct(lang, s.Availability)},
			{Label: pg.s("fig.sheet_meet"), Value: fmt.Sprintf("%d / %d", s.LinksMeetingSLA, s.Links)},
			{Label: hp.s("fig.outages"), Value: fmtInt(lang, int64(s.Outages)), Note: fmt.Sprintf(hp.s("note.down"), fmtCell(lang, mins(s.DowntimeSeconds)))},
			{Label: hp.s("fig.restitution"), Value: rupiah(lang, s.Restitution)},
		}
		for _, t := range tables[:len(tables)-1] { // the daily table is drawn as the strip
			note := ""
			if t.Name == "sheet_links" {
				note = pg.s("p.svchrs.d")
			}
			pg.Sections = append(pg.Sections, section(t, note, false))
		}
		ch := dailyChart(hp, r)
		pg.Sections = append(pg.Sections, productSection{ID: "s-daily", Title: T(lang, "t.sheet_daily"), Chart: &ch})
		role := pg.s("p.head.opd")
		if r.Scope.Kind == "site" {
			role = pg.s("p.head.dist")
		}
		pg.Signature = &productSignature{Heading: pg.s("p.acknowledge"), Role: role, Place: pg.s("p.place"), Name: pg.s("p.name"), NIP: pg.s("p.nip")}
	case ProductReviewPack, ProductAnnual:
		open, overdue := len(p.OpenItems), 0
		for _, it := range p.OpenItems {
			if it.Overdue {
				overdue++
			}
		}
		pg.Figures = []htmlFigure{
			{Label: hp.s("fig.link_avail"), Value: fmtPct(lang, r.Summary.Availability)},
			{Label: hp.s("fig.links_met"), Value: fmt.Sprintf("%d / %d", r.Summary.LinksMeetingSLA, r.Summary.Links)},
			{Label: hp.s("fig.outages"), Value: fmtInt(lang, int64(r.Summary.Outages)), Note: fmt.Sprintf(hp.s("note.down"), fmtCell(lang, mins(r.Summary.DowntimeSeconds)))},
		}
		if p.Product == ProductReviewPack {
			f := htmlFigure{Label: pg.s("fig.overdue"), Value: strconv.Itoa(overdue)}
			if overdue > 0 {
				f.Class = "bad"
			}
			pg.Figures = append(pg.Figures, htmlFigure{Label: pg.s("fig.open"), Value: strconv.Itoa(open)}, f,
				htmlFigure{Label: pg.s("fig.recs"), Value: strconv.Itoa(len(p.Recommendations))})
		} else {
			f := htmlFigure{Label: pg.s("fig.plan"), Value: strconv.Itoa(len(p.CapacityPlan))}
			if len(p.CapacityPlan) > 0 {
				f.Class = "bad"
			}
			pg.Figures = append(pg.Figures, f)
		}
		ch := trendChart(hp, pg, p)
		pg.Sections = append(pg.Sections, productSection{ID: "s-trend", Title: pg.s("p.trend"), Chart: &ch})
		for _, t := range tables {
			note := ""
			switch t.Name {
			case "open_items":
				note = fmt.Sprintf(pg.s("p.open.d"), p.AsOf)
			case "recommendations":
				note = fmt.Sprintf(pg.s("p.rec.rules"), printer(lang).Sprintf("%g", p.Rule.Pct), p.AsOf)
			case "capacity_plan":
				note = fmt.Sprintf(pg.s("p.rule"), printer(lang).Sprintf("%g", p.Rule.Pct), p.Rule.Months)
			}
			wide := t.Name == "link_months" || t.Name == "p95_months"
			sec := section(t, note, wide)
			if t.Name == "open_items" {
				markOverdue(sec.Table, p.OpenItems)
			}
			pg.Sections = append(pg.Sections, sec)
		}
	default:
		return WriteHTML(w, r)
	}
	pg.Footer = []string{hp.s("footer"), fmt.Sprintf(hp.s("footer.made"), r.Generator, fmtStamp(lang, r.GeneratedAt))}
	var b bytes.Buffer
	if err := productTemplates.ExecuteTemplate(&b, name, pg); err != nil {
		return fmt.Errorf("html %s: %w", name, err)
	}
	_, err := b.WriteTo(w)
	return err
}

// trendChart draws the monthly availability as bars, one row a month
// (the site chart's drawing, with months for sites).
func trendChart(hp *htmlPage, pg *productPage, p *Product) htmlChart {
	months := &Report{}
	for _, t := range p.Trends {
		months.Sites = append(months.Sites, SiteRow{Site: t.Month, Name: t.Month, Figures: sliceFigures(t.Availability)})
	}
	ch := siteChart(hp, months)
	var vals []float64
	for _, t := range p.Trends {
		if t.Availability != nil {
			vals = append(vals, *t.Availability)
		}
	}
	ch.ID, ch.Title = "chart-trend", pg.s("p.trend")
	ch.Desc = fmt.Sprintf(pg.s("p.trend.d"), f1(axisFloor(vals)))
	ch.Legend = nil
	return ch
}

// sliceFigures carries an availability alone.
func sliceFigures(a *float64) (f sla.Figures) {
	f.Availability = a
	return f
}

// markOverdue makes the overdue items' rows stand out (class od).
func markOverdue(h *htmlTable, items []OpenItem) {
	for i, it := range items {
		if !it.Overdue || i >= len(h.Rows) {
			continue
		}
		for j := range h.Rows[i] {
			h.Rows[i][j].Class = strings.TrimSpace(h.Rows[i][j].Class + " od")
		}
	}
}
