package collector

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/pantau-noc/pantau/collector/internal/inventory"
	"github.com/pantau-noc/pantau/collector/internal/pdf"
	"github.com/pantau-noc/pantau/collector/internal/report"
)

// pdfRetryAfter is the Retry-After of a 503 when the PDF renderer is busy.
const pdfRetryAfter = "10"

// parseDocVersion reads the version parameter: the document's version on
// its approval sheet, 1 to 999, default 1.
func parseDocVersion(s string) (int, error) {
	if s == "" {
		return 1, nil
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < 1 || v > 999 {
		return 0, fmt.Errorf("version %q: want a whole number from 1 to 999 (the document's version on its approval sheet)", report.ClipValue(s))
	}
	return v, nil
}

// approve sets the product's approval sheet: its document number (issued
// once per document in state.db) and its data hash (over the product's
// own tables, report.ApproveProduct).
func (r *slaRuntime) approve(ctx context.Context, prod *report.Product, inv *inventory.Inventory, version int) error {
	s, err := report.SetupFromConfig(r.cfg.Report, inventory.PemdaZone(r.cfg.Report.TimeZone, inv))
	if err != nil {
		return err
	}
	s.Version, s.ForOPD = version, report.InventorySignatories(inv)
	return report.ApproveProduct(ctx, prod, s, r.state)
}

// pdfAvailable answers 501 when no Chromium can print the PDF.
func (r *slaRuntime) pdfAvailable(w http.ResponseWriter) bool {
	if _, err := r.pdf.Chromium(); err != nil {
		http.Error(w, err.Error(), http.StatusNotImplemented)
		return false
	}
	return true
}

// servePDF prints the report to PDF: 503 with Retry-After when
// report.pdf_max_concurrent renders are running or one ran out of
// report.pdf_timeout, 501 without Chromium.
func (r *slaRuntime) servePDF(w http.ResponseWriter, req *http.Request, prod *report.Product, log *slog.Logger) {
	doc, err := report.WriteProductPDF(req.Context(), prod, r.pdf)
	switch {
	case err == nil:
	case errors.Is(err, pdf.ErrNoChromium):
		http.Error(w, err.Error(), http.StatusNotImplemented)
		return
	case errors.Is(err, pdf.ErrBusy):
		w.Header().Set("Retry-After", pdfRetryAfter)
		http.Error(w, err.Error()+" (report.pdf_max_concurrent)", http.StatusServiceUnavailable)
		return
	case req.Context().Err() != nil:
		return // the caller went away; the browser is gone
	case errors.Is(err, context.DeadlineExceeded):
		w.Header().Set("Retry-After", pdfRetryAfter)
		http.Error(w, err.Error()+"; raise report.pdf_timeout or ask for a smaller scope", http.StatusServiceUnavailable)
		return
	default:
		internalError(w, req, log, fmt.Errorf("print the report to PDF: %w", err), nil)
		return
	}
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s"`, report.ProductFile(prod, "pdf")))
	w.Write(doc)
}
