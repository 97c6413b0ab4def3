package bundle

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/report"
)

// ReportProducts renders the products this build has from the report:
// monthly (the report of the period, report.Build and report.Render) in
// HTML, XLSX, CSV (the links table) and JSON, and its tables. Other
// products, and PDF, are ErrUnavailable; the lead's merge of the products
// and the PDF renderer extends Render. The report is built once per
// scope and period and kept (a bundle asks for several formats).
type ReportProducts struct {
	In report.Input
	// Base holds the report options from the config (forecast horizon,
	// contract completeness, ...); the period, scope, language, zone and
	// date are the bundle's.
	Base report.Options
	Zone *time.Location
	Lang string
	Now  time.Time // zero: time.Now

	mu     sync.Mutex
	key    string
	cached *report.Report
}

// build returns the report of a scope and period.
func (rp *ReportProducts) build(ctx context.Context, s Scope, period string) (*report.Report, error) {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	k := s.key() + "|" + period
	if rp.cached != nil && rp.key == k {
		return rp.cached, nil
	}
	o := rp.Base
	o.Period, o.OPD, o.OPDs, o.Reader, o.Site = period, s.OPD, s.OPDs, s.Reader, ""
	o.Lang, o.Zone, o.Now = rp.Lang, rp.Zone, rp.Now
	r, err := report.Build(ctx, rp.In, o)
	if err != nil {
		return nil, err
	}
	rp.key, rp.cached = k, r
	return r, nil
}

// Render implements ProductRenderer.
func (rp *ReportProducts) Render(ctx context.Context, product, format string, s Scope, period string) ([]byte, string, error) {
	if product != "monthly" {
		return nil, "", fmt.Errorf("%w: the %s product is not part of this version of Pantau", ErrUnavailable, product)
	}
	if format == "pdf" {
		return nil, "", fmt.Errorf("%w: no PDF renderer in this version of Pantau; the HTML prints to PDF from a browser", ErrUnavailable)
	}
	if !slices.Contains(report.Formats, format) {
		return nil, "", fmt.Errorf("%w: the %s product has no %s format", ErrUnavailable, product, format)
	}
	r, err := rp.build(ctx, s, period)
	if err != nil {
		return nil, "", err
	}
	var buf bytes.Buffer
	if err := report.Render(&buf, r, format, ""); err != nil {
		return nil, "", fmt.Errorf("render the %s report as %s: %w", period, format, err)
	}
	return buf.Bytes(), "", nil
}

// Table implements TableSource.
func (rp *ReportProducts) Table(ctx context.Context, name string, s Scope, period string) (report.Table, error) {
	r, err := rp.build(ctx, s, period)
	if err != nil {
		return report.Table{}, err
	}
	return r.Table(name)
}
