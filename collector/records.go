package collector

import (
	"github.com/pantau-noc/pantau/collector/internal/httpapi"
)

// records is the HTTP API for the records the CLI also changes:
// maintenance windows, silences, acknowledgements, reviews, follow-ups
// and evidence files (docs/api.md).
func (p *parts) records() *httpapi.Records {
	o := httpapi.RecordsOptions{
		DB:               p.state,
		Inventory:        p.slarun.builder.Inventory,
		DataDir:          p.cfg.DataDir,
		MaxEvidenceBytes: p.cfg.Auth.MaxEvidenceBytes,
		TimeZone:         p.cfg.Report.TimeZone,
		Logger:           p.log.With("component", "records"),
		Registerer:       p.reg,
	}
	if p.alerts != nil { // a nil *alert.Engine in the interface would not be nil
		o.Alerts = p.alerts
	}
	p.recs = httpapi.NewRecords(o)
	return p.recs
}
