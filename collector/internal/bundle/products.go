package bundle

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/pdf"
	"github.com/pantau-noc/pantau/collector/internal/report"
	"github.com/pantau-noc/pantau/collector/internal/sla"
)

// Doc is one document of a product in a bundle: the product of one
// period of its own (and, for the OPD sheet, one OPD).
type Doc struct {
	Product string
	Period  string // the product's period: 2026, 2026-Q4, 2026-10 (monthly: the bundle's)
	OPD     string // opd-sheet: the OPD
}

// name is the document's file name without the extension:
// review-pack-2026-Q4, opd-sheet-dinkes-2026-10. An OPD id that is not
// kept as it is in a file name (a site's opd: is free text in the
// inventory: "a b" and "a-b", or "a" and "a-", would read alike) or is
// longer than maxOPDName is cut and followed by 8 hex digits of its
// SHA-256, so that two OPDs never share a name and the name stays
// within safeName's 80 bytes with its extension.
func (d Doc) name() string {
	n := d.Product
	if d.OPD != "" {
		o := d.OPD
		if safeName(o) != o || len(o) > maxOPDName {
			sum := sha256.Sum256([]byte(d.OPD))
			o = safeName(o)
			o = strings.TrimRight(o[:min(len(o), maxOPDName-9)], ".-_") + "-" + hex.EncodeToString(sum[:4])
		}
		n += "-" + o
	}
	return safeName(n + "-" + d.Period)
}

// maxOPDName is the longest OPD id a document's name holds as it is.
const maxOPDName = 40

// ProductPeriods are the periods a product's documents cover in a bundle
// of period (docs/spbe-report.md, Evidence bundle): monthly the bundle's
// period; annual the year it starts in; review-pack each quarter of it
// that has begun by now; opd-sheet the last month of it that has begun
// by now. Where none has begun, the first. per is the bundle's period
// parsed in the Pemda's zone.
func ProductPeriods(product, period string, per sla.Period, now time.Time) []string {
	loc := per.Start.Location()
	now = now.In(loc)
	switch product {
	case report.ProductAnnual:
		return []string{fmt.Sprintf("%04d", per.Start.Year())}
	case report.ProductReviewPack:
		var out []string
		y, m, _ := per.Start.Date()
		q := time.Date(y, (m-1)/3*3+1, 1, 0, 0, 0, 0, loc)
		for ; q.Before(per.End); q = q.AddDate(0, 3, 0) {
			if len(out) > 0 && q.After(now) {
				break
			}
			out = append(out, fmt.Sprintf("%04d-Q%d", q.Year(), (int(q.Month())-1)/3+1))
		}
		return out
	case report.ProductOPDSheet:
		months := per.Months()
		last := months[0].Label
		for _, m := range months {
			if !m.Start.After(now) {
				last = m.Label
			}
		}
		return []string{last}
	}
	return []string{period}
}

// ReportProducts renders the report's products (report.BuildProduct),
// each with its approval sheet and document number, in every format of
// the report: HTML, XLSX, JSON, CSV (monthly: the links table; the
// other products have no single CSV) and PDF (through PDF, waiting for a
// free render slot; without Chromium, ErrUnavailable naming the package
// to install). A product is built once for all its formats.
type ReportProducts struct {
	In report.Input
	// Base holds the report options from the config (forecast horizon,
	// contract completeness, ...); the period, scope, language, zone and
	// date are the bundle's.
	Base report.Options
	// Rule is the capacity plan's rule; Quality gives the OPD sheet's RTT
	// and loss (nil: none).
	Rule    report.CapacityRule
	Quality report.QualitySource
	// Approval is the approval sheet's setup (report.SetupFromConfig,
	// with ForOPD); Issuer issues the document numbers (statedb.DB).
	// A nil Issuer leaves the products without an approval sheet.
	Approval report.ApprovalSetup
	Issuer   report.NumberIssuer
	// PDF prints the products; nil: PDF is ErrUnavailable.
	PDF  *pdf.Renderer
	Zone *time.Location
	Lang string
	Now  time.Time // zero: time.Now

	mu sync.Mutex
	// the monthly product of the bundle's period (its tables are the
	// bundle's assets and methods) and the last other document built
	monthlyKey, lastKey string
	monthly, last       *report.Product
}

func (rp *ReportProducts) now() time.Time {
	if rp.Now.IsZero() {
		return time.Now()
	}
	return rp.Now
}

// Documents implements ProductRenderer: one document per period of
// ProductPeriods, and for opd-sheet one per OPD of the scope (the OPDs
// of the inventory's sites, narrowed to the scope's).
func (rp *ReportProducts) Documents(ctx context.Context, product string, s Scope, period string) ([]Doc, error) {
	zone := rp.Zone
	if zone == nil {
		zone = time.UTC
	}
	per, err := sla.ParsePeriod(period, zone)
	if err != nil {
		return nil, err
	}
	if s.OPD != "" && rp.In.Inv != nil && !slices.Contains(rp.scopeOPDs(Scope{}), s.OPD) {
		// before any limit: a bad OPD is the caller's mistake (400)
		return nil, fmt.Errorf("%w: no site of OPD %q in the inventory %s", report.ErrInvalid, s.OPD, rp.In.Inv.File)
	}
	var opds []string
	if product == report.ProductOPDSheet {
		opds = rp.scopeOPDs(s)
	}
	var out []Doc
	for _, p := range ProductPeriods(product, period, per, rp.now()) {
		if product != report.ProductOPDSheet {
			out = append(out, Doc{Product: product, Period: p})
			continue
		}
		for _, o := range opds {
			out = append(out, Doc{Product: product, Period: p, OPD: o})
		}
	}
	return out, nil
}

// scopeOPDs are the OPDs of the inventory's sites that the scope covers,
// sorted.
func (rp *ReportProducts) scopeOPDs(s Scope) []string {
	if s.OPD != "" {
		return []string{s.OPD}
	}
	var out []string
	if rp.In.Inv != nil {
		for _, site := range rp.In.Inv.Sites {
			if site.OPD != "" && !slices.Contains(out, site.OPD) && s.sees(site.OPD) {
				out = append(out, site.OPD)
			}
		}
	}
	slices.Sort(out)
	return out
}

// build returns a document's product, approved.
func (rp *ReportProducts) build(ctx context.Context, d Doc, s Scope) (*report.Product, error) {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	k := s.key() + "|" + d.Product + "|" + d.Period + "|" + d.OPD
	switch k {
	case rp.monthlyKey:
		return rp.monthly, nil
	case rp.lastKey:
		return rp.last, nil
	}
	o := rp.Base
	o.Period, o.OPD, o.OPDs, o.Reader, o.Site = d.Period, s.OPD, s.OPDs, s.Reader, ""
	if d.OPD != "" {
		o.OPD, o.OPDs = d.OPD, nil
	}
	o.Lang, o.Zone, o.Now = rp.Lang, rp.Zone, rp.now()
	p, err := report.BuildProduct(ctx, rp.In, o, report.ProductOptions{Product: d.Product, Rule: rp.Rule, Quality: rp.Quality})
	if err != nil {
		return nil, err
	}
	if d.Product == report.ProductMonthly && d.OPD == "" {
		rp.monthlyKey, rp.monthly = k, p
	} else {
		rp.lastKey, rp.last = k, p
	}
	return p, nil
}

// approve gives a product its approval sheet and document number, once
// (only documents the bundle holds are numbered).
func (rp *ReportProducts) approve(ctx context.Context, p *report.Product, d Doc) error {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	if rp.Issuer == nil || p.Approval != nil {
		return nil
	}
	a := rp.Approval
	if a.Zone == nil {
		a.Zone = rp.Zone
	}
	if err := report.ApproveProduct(ctx, p, a, rp.Issuer); err != nil {
		return fmt.Errorf("approval sheet of %s %s: %w", d.Product, d.Period, err)
	}
	return nil
}

// Unavailable implements FormatChecker: ErrUnavailable for PDF without
// a renderer or Chromium, the CSV of a product other than monthly, and a
// format the product does not come in.
func (rp *ReportProducts) Unavailable(product, format string) error {
	switch {
	case format == "pdf" && rp.PDF == nil:
		return fmt.Errorf("%w: no PDF renderer (apt install %s)", ErrUnavailable, pdf.DebianPackage)
	case format == "pdf":
		if _, err := rp.PDF.Chromium(); err != nil {
			return fmt.Errorf("%w: %w", ErrUnavailable, err)
		}
	case format == "csv" && product != report.ProductMonthly:
		return fmt.Errorf("%w: the %s product's CSV is one table at a time (product=%s&format=csv&table=NAME); its XLSX holds them all", ErrUnavailable, product, product)
	case product == report.ProductMonthly && !slices.Contains(report.Formats, format),
		product != report.ProductMonthly && !slices.Contains(report.ProductFormats, format):
		return fmt.Errorf("%w: the %s product has no %s format", ErrUnavailable, product, format)
	}
	return nil
}

// Render implements ProductRenderer.
func (rp *ReportProducts) Render(ctx context.Context, d Doc, format string, s Scope) ([]byte, string, error) {
	if err := rp.Unavailable(d.Product, format); err != nil {
		return nil, "", err
	}
	p, err := rp.build(ctx, d, s)
	if err != nil {
		return nil, "", err
	}
	if err := rp.approve(ctx, p, d); err != nil {
		return nil, "", err
	}
	doc := ""
	if p.Approval != nil {
		doc = p.Approval.DocumentNumber
	}
	if format == "pdf" {
		b, err := report.WriteProductPDFQueued(ctx, p, rp.PDF)
		if errors.Is(err, pdf.ErrNoChromium) {
			return nil, "", fmt.Errorf("%w: %w", ErrUnavailable, err)
		}
		if err != nil {
			return nil, "", fmt.Errorf("print %s %s to PDF: %w", d.Product, d.Period, err)
		}
		return b, doc, nil
	}
	var buf bytes.Buffer
	if err := report.RenderProduct(&buf, p, format, ""); err != nil {
		return nil, "", fmt.Errorf("render %s %s as %s: %w", d.Product, d.Period, format, err)
	}
	return buf.Bytes(), doc, nil
}

// Table implements TableSource: the monthly report's table of the
// bundle's period.
func (rp *ReportProducts) Table(ctx context.Context, name string, s Scope, period string) (report.Table, error) {
	p, err := rp.build(ctx, Doc{Product: report.ProductMonthly, Period: period}, s)
	if err != nil {
		return report.Table{}, err
	}
	return p.Report.Table(name)
}
