package bundle

import (
	"context"

	"github.com/pantau-noc/pantau/collector/internal/config"
	"github.com/pantau-noc/pantau/collector/internal/inventory"
	"github.com/pantau-noc/pantau/collector/internal/pdf"
	"github.com/pantau-noc/pantau/collector/internal/report"
)

// Setup completes rp and in from collector.yml's report section, as the
// report API and CLI make a product: the capacity plan's rule, the
// approval sheet (report.SetupFromConfig, the OPDs' own signatories from
// the inventory) with document numbers from iss, the OPD sheet's RTT and
// loss from q (nil: none), and PDF through pr for the products and
// index.pdf, each waiting for a free render slot. With a nil pr, or
// without Chromium, the PDFs are listed as missing (with the package to
// install) and the index is HTML only. rp.Zone must be set.
func Setup(rp *ReportProducts, in *Input, c config.ReportConfig, inv *inventory.Inventory, iss report.NumberIssuer, q report.QualitySource, pr *pdf.Renderer) error {
	a, err := report.SetupFromConfig(c, rp.Zone)
	if err != nil {
		return err
	}
	a.ForOPD = report.InventorySignatories(inv)
	rp.Approval, rp.Issuer, rp.Quality = a, iss, q
	rp.Rule = report.CapacityRule{Pct: c.CapacityPlan.ThresholdPct, Months: c.CapacityPlan.Months}
	if pr == nil {
		return nil
	}
	rp.PDF = pr // without Chromium, Unavailable says so per PDF, naming the package
	if _, err := pr.Chromium(); err != nil {
		return nil // and the index says why it has no PDF
	}
	lang := rp.Lang
	in.PDF = func(ctx context.Context, html []byte) ([]byte, error) {
		return pr.Render(ctx, html, pdf.Options{Lang: lang, Wait: true})
	}
	return nil
}
