package collector

import (
	"github.com/pantau-noc/pantau/collector/internal/httpapi"
)

// fleetAPI is the fleet's admin API (enrolment, enrolment codes,
// per-agent overrides, rotations) on the daemon's stores: an enrolment
// reloads the credential cache, its failures count towards the gate's
// per-source limit, and a code made through the API carries the pin of
// the certificate in tls.cert_file (read at each creation, so a renewed
// certificate is pinned from then on).
func (p *parts) fleetAPI() *httpapi.Fleet {
	f := httpapi.NewFleet(httpapi.FleetOptions{
		DB:        p.state,
		Auth:      p.auth,
		Guard:     p.guard,
		Inventory: p.slarun.builder.Inventory,
		Pin:       func() ([]byte, error) { return httpapi.CertPin(p.cfg.TLS.CertFile) },
		Logger:    p.log.With("component", "fleet-api"),
	})
	p.reg.MustRegister(f.Collectors()...)
	return f
}
