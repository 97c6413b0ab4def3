package report

import (
	"bytes"
	"context"
	"log/slog"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/config"
	"github.com/pantau-noc/pantau/collector/internal/docnum"
	"github.com/pantau-noc/pantau/collector/internal/pdf"
)

// PDFRenderer is the renderer collector.yml's report section configures.
func PDFRenderer(c config.ReportConfig, log *slog.Logger) *pdf.Renderer {
	return pdf.New(pdf.Config{Chromium: c.Chromium, MaxConcurrent: c.PDFMaxConcurrent, Timeout: c.PDFTimeout.Std()}, log)
}

// SetupFromConfig is the approval setup of collector.yml's report
// section, for reports in the Pemda's zone.
func SetupFromConfig(c config.ReportConfig, zone *time.Location) (ApprovalSetup, error) {
	pat := c.DocumentNumber
	if pat == "" {
		pat = docnum.Default
	}
	p, err := docnum.Parse(pat)
	if err != nil {
		return ApprovalSetup{}, err
	}
	s := ApprovalSetup{Pattern: p, Zone: zone}
	for i, g := range []config.Signatory{c.Approval.PreparedBy, c.Approval.CheckedBy, c.Approval.ApprovedBy} {
		s.Signatories = append(s.Signatories, Signatory{Role: Roles[i], Name: g.Name, Title: g.Title, NIP: g.NIP})
	}
	return s, nil
}

// WritePDF prints the report's HTML (approval sheet first when it has
// one) to PDF, with its document number and data hash in every page's
// footer.
func WritePDF(ctx context.Context, r *Report, pr *pdf.Renderer) ([]byte, error) {
	var b bytes.Buffer
	if err := WriteHTML(&b, r); err != nil {
		return nil, err
	}
	return pr.Render(ctx, b.Bytes(), PDFOptions(r))
}

// PDFOptions are the footer of a product's PDF: its language, and its
// approval sheet's document number and data hash. Every product prints
// its own HTML with them: pr.Render(ctx, html, PDFOptions(r)).
func PDFOptions(r *Report) pdf.Options {
	o := pdf.Options{Lang: r.Lang}
	if a := r.Approval; a != nil {
		o.DocumentNumber, o.Hash = a.DocumentNumber, a.DataSHA256
	}
	return o
}

// WriteProductPDF prints a product's HTML (approval sheet first when it
// has one) to PDF, with its document number and data hash in every
// page's footer; the monthly product is WritePDF's report.
func WriteProductPDF(ctx context.Context, p *Product, pr *pdf.Renderer) ([]byte, error) {
	if p.Product == ProductMonthly {
		return WritePDF(ctx, p.Report, pr)
	}
	var b bytes.Buffer
	if err := WriteProductHTML(&b, p); err != nil {
		return nil, err
	}
	return pr.Render(ctx, b.Bytes(), PDFOptions(p.Report))
}
