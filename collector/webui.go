package collector

import (
	"net/http"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/inventory"
	"github.com/pantau-noc/pantau/collector/internal/webui"
	"github.com/pantau-noc/pantau/internal/buildinfo"
)

// webUI puts the web workspace (collector/internal/webui) on mux; its
// pages call the handlers of the same mux in-process.
func (p *parts) webUI(mux *http.ServeMux) error {
	ui, err := webui.New(webui.Options{
		API:            mux,
		Sessions:       p.auth,
		Guard:          p.guard,
		Audit:          p.state,
		Zone:           func() *time.Location { return inventory.PemdaZone(p.cfg.Report.TimeZone, p.slarun.builder.Inventory()) },
		MaxUploadBytes: p.cfg.Auth.MaxEvidenceBytes,
		PDF:            func() error { _, err := p.slarun.pdf.Chromium(); return err },
		Version:        buildinfo.Version,
		Logger:         p.log.With("component", "webui"),
		Registerer:     p.reg,
	})
	if err != nil {
		return err
	}
	ui.Register(mux)
	return nil
}
