package report

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pantau-noc/pantau/collector/internal/capacity"
	"github.com/pantau-noc/pantau/collector/internal/inventory"
	"github.com/pantau-noc/pantau/collector/internal/sla"
	"github.com/pantau-noc/pantau/collector/internal/statedb"
)

// The products a report request can ask for (product= on the API,
// --product on the CLI).
const (
	ProductMonthly    = "monthly"
	ProductOPDSheet   = "opd-sheet"
	ProductReviewPack = "review-pack"
	ProductAnnual     = "annual"
)

// Products lists the products, the default first.
var Products = []string{ProductMonthly, ProductOPDSheet, ProductReviewPack, ProductAnnual}

// ProductFormats are the formats of the products other than monthly (the
// monthly report has every format of Formats); csv is one table of the
// product's (ProductTableNames), named by table=.
var ProductFormats = []string{"json", "xlsx", "html", "pdf", "csv"}

// ParseProduct checks a product name; "" is the monthly report.
func ParseProduct(s string) (string, error) {
	if s == "" {
		return ProductMonthly, nil
	}
	if !slices.Contains(Products, s) {
		return "", fmt.Errorf("product %q: want one of %s", ClipValue(s), strings.Join(Products, ", "))
	}
	return s, nil
}

// CheckProductFormat refuses a format a product does not come in.
func CheckProductFormat(product, format string) error {
	if product == ProductMonthly || product == "" || slices.Contains(ProductFormats, format) {
		return nil
	}
	return fmt.Errorf("product %s comes as %s, not %s", product, strings.Join(ProductFormats, ", "), ClipValue(format))
}

// ClipValue shortens a value quoted back in an error message to 40
// bytes, cut between characters and with invalid UTF-8 replaced, so that
// the message stays valid UTF-8 whatever the request carried.
func ClipValue(s string) string {
	s = strings.ToValidUTF8(s, "?")
	if len(s) <= 40 {
		return s
	}
	n := 40
	for n > 0 && !utf8.RuneStart(s[n]) {
		n-- // cut between characters, so that the message stays UTF-8
	}
	return s[:n] + "…"
}

var (
	reMonth   = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}$`)
	reQuarter = regexp.MustCompile(`^[0-9]{4}-[Qq][1-4]$`)
	reYear    = regexp.MustCompile(`^[0-9]{4}$`)
)

// CheckProductScope refuses a period or scope a product is not made
// for: review-pack needs a quarter, annual a year, opd-sheet a month and
// one OPD or one district site. The error wraps ErrInvalid (a 400).
func CheckProductScope(product string, o Options, inv *inventory.Inventory) error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, a...))
	}
	switch product {
	case ProductReviewPack:
		if !reQuarter.MatchString(o.Period) {
			return bad("product review-pack covers a quarter, such as 2026-Q4 (got %q)", ClipValue(o.Period))
		}
	case ProductAnnual:
		if !reYear.MatchString(o.Period) {
			return bad("product annual covers a year, such as 2026 (got %q)", ClipValue(o.Period))
		}
	case ProductOPDSheet:
		if !reMonth.MatchString(o.Period) {
			return bad("product opd-sheet covers a month, such as 2026-10 (got %q)", ClipValue(o.Period))
		}
		switch {
		case o.OPD != "":
		case o.Site != "":
			if s := inv.Site(o.Site); s != nil && s.Kind != inventory.KindDistrict {
				return bad("product opd-sheet covers one OPD (opd=) or one district site (site= of a site of kind district); site %s is of kind %s: ask for opd=%s", s.ID, s.Kind, s.OPD)
			}
		default:
			return bad("product opd-sheet covers one OPD or one district site: give opd= or site= (a district site)")
		}
	}
	return nil
}

// CapacityRule is the capacity plan's rule: a link needs more capacity
// ("tambah kapasitas") when the p95 of either direction exceeds Pct % of
// its contracted bandwidth in at least Months months of the year.
type CapacityRule struct {
	Pct    float64 `json:"threshold_pct"`
	Months int     `json:"months"`
}

// DefaultCapacityRule is the rule without configuration.
var DefaultCapacityRule = CapacityRule{Pct: 80, Months: 3}

// ProductOptions choose a product besides the report's Options.
type ProductOptions struct {
	Product string
	// Rule is the capacity plan rule (zero fields: the default's).
	Rule CapacityRule
	// Quality gives the OPD sheet's RTT and loss (nil: none shown).
	Quality QualitySource
}

// Product is one report product: the report it is made from and the
// figures derived from it.
type Product struct {
	Product string       `json:"product"`
	Title   string       `json:"title"`
	Rule    CapacityRule `json:"capacity_rule"`
	// AsOf is the date open items are judged on: the period's last day,
	// or the report date when that is earlier.
	AsOf            string           `json:"as_of"`
	Trends          []MonthTrend     `json:"trends,omitempty"`
	OpenItems       []OpenItem       `json:"open_items,omitempty"`
	Recommendations []Recommendation `json:"recommendations,omitempty"`
	CapacityPlan    []CapacityPlan   `json:"capacity_plan,omitempty"`
	// Quality is the OPD sheet's RTT and loss per link.
	Quality []LinkQuality `json:"quality,omitempty"`
	Report  *Report       `json:"report"`
	// Approval is the approval sheet's data, shown first by the
	// template "approval" (approval.html.tmpl).
	Approval *Approval `json:"approval,omitempty"`
}

// LinkMonth is one link's figures in one calendar month (local to its
// site). An outage counts in the month it starts in, with its down time
// in the period.
type LinkMonth struct {
	Month           string   `json:"month"`
	UpSeconds       int64    `json:"up_seconds"`
	DegradedSeconds int64    `json:"degraded_seconds"`
	DownSeconds     int64    `json:"down_seconds"`
	NoDataSeconds   int64    `json:"nodata_seconds"`
	Availability    *float64 `json:"availability_pct"`
	Completeness    *float64 `json:"completeness_pct"`
	Met             *bool    `json:"sla_met"`
	Outages         int      `json:"outages"`
	DowntimeSeconds int64    `json:"downtime_seconds"`
}

// CapacityMonth is one link direction's p95 in one calendar month.
type CapacityMonth struct {
	Month          string   `json:"month"`
	Samples        int      `json:"samples"`
	P95Bps         float64  `json:"p95_bps"`
	P95Utilization *float64 `json:"p95_utilization_pct"`
}

// MonthTrend is the scope's figures in one month.
type MonthTrend struct {
	Month           string   `json:"month"`
	Links           int      `json:"links"`
	LinksWithData   int      `json:"links_with_data"`
	LinksMeetingSLA int      `json:"links_meeting_sla"`
	LinksMissingSLA int      `json:"links_missing_sla"`
	Availability    *float64 `json:"availability_pct"` // over all links' known time
	Outages         int      `json:"outages"`
	DowntimeSeconds int64    `json:"downtime_seconds"`
	// Links whose p95 (either direction) is known against a capacity,
	// and of those the ones over the capacity rule's threshold.
	LinksWithP95      int      `json:"links_with_p95"`
	LinksOverCapacity int      `json:"links_over_capacity"`
	MaxP95Utilization *float64 `json:"max_p95_utilization_pct"`
}

// OpenItem is a follow-up not done by the product's date.
type OpenItem struct {
	statedb.FollowUp
	Overdue     bool `json:"overdue"`
	DaysOverdue int  `json:"days_overdue"`
}

// Recommendation is one recommendation derived by a documented rule.
type Recommendation struct {
	Rule    string `json:"rule"` // sla | capacity | overdue
	Subject string `json:"subject"`
	Text    string `json:"text"`
}

// CapacityPlan is one link the capacity rule flags.
type CapacityPlan struct {
	Link              string   `json:"link"`
	Site              string   `json:"site"`
	ISP               string   `json:"isp"`
	CapacityBps       float64  `json:"capacity_bps"`
	Months            []string `json:"months"`
	MaxP95Utilization float64  `json:"max_p95_utilization_pct"`
	Action            string   `json:"action"`
}

// BuildProduct builds a product: the report of the period and scope (with
// the figures per month for the review pack and the annual report), and
// what the product derives from it.
func BuildProduct(ctx context.Context, in Input, o Options, po ProductOptions) (*Product, error) {
	name, err := ParseProduct(po.Product)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if in.Inv != nil {
		if err := CheckProductScope(name, o, in.Inv); err != nil {
			return nil, err
		}
	}
	rule := po.Rule
	if rule.Pct <= 0 {
		rule.Pct = DefaultCapacityRule.Pct
	}
	if rule.Months <= 0 {
		rule.Months = DefaultCapacityRule.Months
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	o.Monthly = name == ProductReviewPack || name == ProductAnnual
	r, err := Build(ctx, in, o)
	if err != nil {
		return nil, err
	}
	p := deriveProduct(r, name, rule, o.Now)
	if name == ProductOPDSheet && po.Quality != nil {
		if p.Quality, err = sheetQuality(ctx, in, po.Quality, r); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// deriveProduct computes a product's figures from a report built with
// Options.Monthly for the review pack and the annual report.
func deriveProduct(r *Report, name string, rule CapacityRule, now time.Time) *Product {
	p := &Product{Product: name, Title: T(r.Lang, "product."+name), Rule: rule, Report: r}
	last := r.End.Add(-time.Nanosecond)
	asOf := last.Format("2006-01-02")
	if !now.IsZero() && r.Start.Location() != nil {
		if d := now.In(r.Start.Location()).Format("2006-01-02"); d < asOf {
			asOf = d
		}
	}
	p.AsOf = asOf
	switch name {
	case ProductReviewPack:
		p.Trends = trends(r, rule)
		p.OpenItems = openItems(r.FollowUps, asOf)
		p.Recommendations = recommendations(r, rule, p.OpenItems)
	case ProductAnnual:
		p.Trends = trends(r, rule)
		p.CapacityPlan = capacityPlan(r, rule)
	}
	return p
}

// linkMonths sums a link's day counts into calendar months of p (the
// period in the site's zone) and counts its outages in the month they
// start in.
func linkMonths(lr *sla.LinkResult, p sla.Period, loc *time.Location) []LinkMonth {
	months := p.Months()
	out := make([]LinkMonth, len(months))
	day := 0
	for i, m := range months {
		var c sla.Counts
		for d := m.Start; d.Before(m.End); d = d.AddDate(0, 0, 1) {
			if day < len(lr.DayCounts) {
				for st, v := range lr.DayCounts[day] {
					c[st] += v
				}
			}
			day++
		}
		known := c[sla.Up] + c[sla.Degraded] + c[sla.Down]
		lm := LinkMonth{
			Month: m.Label, UpSeconds: c[sla.Up], DegradedSeconds: c[sla.Degraded], DownSeconds: c[sla.Down], NoDataSeconds: c[sla.NoData],
			Availability: sla.Pct(c[sla.Up]+c[sla.Degraded], known), Completeness: sla.Pct(known, known+c[sla.NoData]),
		}
		if lm.Availability != nil && lr.Target > 0 {
			met := *lm.Availability >= lr.Target
			lm.Met = &met
		}
		out[i] = lm
	}
	for _, o := range lr.Outages {
		i := 0
		label := o.Start.In(loc).Format("2006-01")
		for j, m := range months {
			if m.Label == label {
				i = j
			}
		}
		if len(out) > 0 {
			out[i].Outages++
			out[i].DowntimeSeconds += o.InPeriodSeconds
		}
	}
	return out
}

// capacityMonths computes one direction's p95 in each calendar month of
// p (in the site's zone) from the period's daily rollups.
func capacityMonths(rs []*capacity.Rollup, p sla.Period, loc *time.Location, capBps float64) []CapacityMonth {
	var out []CapacityMonth
	var sub []*capacity.Rollup
	for _, m := range p.Months() {
		d0 := m.Start.UnixMilli() / dayMs
		d1 := (m.End.UnixMilli() - 1) / dayMs
		sub = sub[:0]
		for _, r := range rs {
			if r.Day >= d0 && r.Day <= d1 {
				sub = append(sub, r)
			}
		}
		st := capacity.ComputeRollups(sub, capacity.Options{Start: m.Start, End: m.End, Location: loc, CapacityBps: capBps})
		cm := CapacityMonth{Month: m.Label, Samples: st.Samples, P95Bps: st.P95Bps}
		if st.UtilizationKnown {
			v := 100 * st.P95Utilization
			cm.P95Utilization = &v
		}
		out = append(out, cm)
	}
	return out
}

// linkP95 is each link's highest p95 utilization of its two directions
// per month label, for links whose capacity is their contracted
// bandwidth.
func linkP95(r *Report) map[string]map[string]float64 {
	out := map[string]map[string]float64{}
	for _, c := range r.Capacity {
		if c.CapacitySource != "contract" {
			continue
		}
		for _, m := range c.Months {
			if m.P95Utilization == nil {
				continue
			}
			if out[c.Link] == nil {
				out[c.Link] = map[string]float64{}
			}
			if v, ok := out[c.Link][m.Month]; !ok || *m.P95Utilization > v {
				out[c.Link][m.Month] = *m.P95Utilization
			}
		}
	}
	return out
}

// monthLabels are the calendar months of the report's period.
func monthLabels(r *Report) []string {
	var out []string
	for _, m := range (sla.Period{Start: r.Start, End: r.End}).Months() {
		out = append(out, m.Label)
	}
	return out
}

// trends sums the links' months.
func trends(r *Report, rule CapacityRule) []MonthTrend {
	labels := monthLabels(r)
	out := make([]MonthTrend, len(labels))
	idx := map[string]int{}
	for i, l := range labels {
		out[i].Month = l
		idx[l] = i
	}
	up := make([]int64, len(labels))
	known := make([]int64, len(labels))
	for _, l := range r.Links {
		for _, m := range l.Months {
			i, ok := idx[m.Month]
			if !ok {
				continue
			}
			t := &out[i]
			t.Links++
			k := m.UpSeconds + m.DegradedSeconds + m.DownSeconds
			if k > 0 {
				t.LinksWithData++
			}
			if m.Met != nil {
				if *m.Met {
					t.LinksMeetingSLA++
				} else {
					t.LinksMissingSLA++
				}
			}
			up[i] += m.UpSeconds + m.DegradedSeconds
			known[i] += k
			t.Outages += m.Outages
			t.DowntimeSeconds += m.DowntimeSeconds
		}
	}
	for i := range out {
		out[i].Availability = sla.Pct(up[i], known[i])
	}
	for _, months := range linkP95(r) {
		for label, v := range months {
			i, ok := idx[label]
			if !ok {
				continue
			}
			t := &out[i]
			t.LinksWithP95++
			if v > rule.Pct {
				t.LinksOverCapacity++
			}
			if t.MaxP95Utilization == nil || v > *t.MaxP95Utilization {
				x := v
				t.MaxP95Utilization = &x
			}
		}
	}
	return out
}

// openItems are the follow-ups not done, overdue when their due date is
// before asOf.
func openItems(fs []statedb.FollowUp, asOf string) []OpenItem {
	var out []OpenItem
	ref, _ := time.Parse("2006-01-02", asOf)
	for _, f := range fs {
		if f.Status == statedb.StatusSelesai {
			continue
		}
		it := OpenItem{FollowUp: f}
		if due, err := time.Parse("2006-01-02", f.Due); err == nil && due.Before(ref) {
			it.Overdue = true
			it.DaysOverdue = int(ref.Sub(due).Hours() / 24)
		}
		out = append(out, it)
	}
	// overdue first, the longest overdue first
	slices.SortStableFunc(out, func(a, b OpenItem) int { return b.DaysOverdue - a.DaysOverdue })
	return out
}

// recommendations derives the review pack's recommendations by three
// rules (docs/spbe-report.md, Products): a link under its SLA target
// over the quarter; a link whose p95 exceeds the capacity threshold in
// some month of the quarter; a follow-up past its due date.
func recommendations(r *Report, rule CapacityRule, open []OpenItem) []Recommendation {
	lang := r.Lang
	var out []Recommendation
	for _, l := range r.Links {
		if l.Met == nil || *l.Met {
			continue
		}
		isp := l.ISP
		if isp == "" {
			isp = "-"
		}
		out = append(out, Recommendation{Rule: "sla", Subject: l.Link,
			Text: fmt.Sprintf(T(lang, "rec.sla"), l.Link, isp, fmtCell(lang, *l.Availability), fmtCell(lang, l.Target))})
	}
	p95 := linkP95(r)
	for _, l := range r.Links {
		var over []string
		var top float64
		for _, m := range monthLabels(r) {
			if v, ok := p95[l.Link][m]; ok && v > rule.Pct {
				over = append(over, m)
				top = max(top, v)
			}
		}
		if len(over) > 0 {
			out = append(out, Recommendation{Rule: "capacity", Subject: l.Link,
				Text: fmt.Sprintf(T(lang, "rec.capacity"), l.Link, fmtCell(lang, top), printer(lang).Sprintf("%g", rule.Pct), strings.Join(over, ", "))})
		}
	}
	for _, it := range open {
		if it.Overdue {
			out = append(out, Recommendation{Rule: "overdue", Subject: fmt.Sprintf("#%d", it.ID),
				Text: fmt.Sprintf(T(lang, "rec.overdue"), it.ID, it.Item, it.Owner, it.Due, it.DaysOverdue)})
		}
	}
	return out
}

// capacityPlan applies the capacity rule to every link of the year.
func capacityPlan(r *Report, rule CapacityRule) []CapacityPlan {
	p95 := linkP95(r)
	var out []CapacityPlan
	labels := monthLabels(r)
	for _, l := range r.Links {
		var over []string
		var top float64
		for _, m := range labels {
			if v, ok := p95[l.Link][m]; ok && v > rule.Pct {
				over = append(over, m)
				top = max(top, v)
			}
		}
		if len(over) < rule.Months {
			continue
		}
		var capBps float64
		for _, c := range r.Capacity {
			if c.Link == l.Link {
				capBps = c.CapacityBps
				break
			}
		}
		out = append(out, CapacityPlan{Link: l.Link, Site: l.Site, ISP: l.ISP, CapacityBps: capBps, Months: over, MaxP95Utilization: top,
			Action: T(r.Lang, "action.add_capacity")})
	}
	return out
}

// RenderProduct writes a product in a format: the monthly report in any
// of Formats (table names the CSV table), the others in ProductFormats.
func RenderProduct(w io.Writer, p *Product, format, table string) error {
	if p.Product == ProductMonthly {
		return Render(w, p.Report, format, table)
	}
	if err := CheckProductFormat(p.Product, format); err != nil {
		return err
	}
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(p)
	case "xlsx":
		return writeXLSXTables(w, p.Report, withApproval(p.Report, p.Tables()))
	case "csv":
		return RenderProductCSV(w, p, table, "")
	default:
		return WriteProductHTML(w, p)
	}
}

// ProductFile is the file name a product is downloaded as.
func ProductFile(p *Product, format string) string {
	scope := ""
	if id := p.Report.Scope.ID; id != "" {
		scope = "-" + strings.NewReplacer(",", "_", "/", "_", "\"", "_", " ", "_").Replace(id)
	}
	name := "pantau-" + p.Report.Period
	if p.Product != ProductMonthly {
		name = "pantau-" + p.Product + scope + "-" + p.Report.Period
	}
	return name + "." + format
}
