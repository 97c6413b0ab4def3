package report

import (
	"bytes"
	"context"

	"github.com/pantau-noc/pantau/collector/internal/pdf"
)

// WriteProductPDFQueued is WriteProductPDF that waits for a free render
// slot (until ctx ends) instead of failing with pdf.ErrBusy: for a
// document that is one of many in a request (the evidence bundle).
func WriteProductPDFQueued(ctx context.Context, p *Product, pr *pdf.Renderer) ([]byte, error) {
	var b bytes.Buffer
	var err error
	if p.Product == ProductMonthly {
		err = WriteHTML(&b, p.Report)
	} else {
		err = WriteProductHTML(&b, p)
	}
	if err != nil {
		return nil, err
	}
	o := PDFOptions(p.Report)
	o.Wait = true
	return pr.Render(ctx, b.Bytes(), o)
}
