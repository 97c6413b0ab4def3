package collector

import (
	"encoding/json"
	"net/http"

	"github.com/pantau-noc/pantau/collector/internal/alert"
	"github.com/pantau-noc/pantau/collector/internal/auth"
	"github.com/pantau-noc/pantau/collector/internal/inventory"
)

// serveAlerts answers GET /api/v1/alerts: the active alerts (active nil:
// none, the collector has no notifiers), those within the caller's OPD
// scope for a scoped caller.
func serveAlerts(active func() []alert.Alert, inv func() *inventory.Inventory) http.HandlerFunc {
	return func(w http.ResponseWriter, req *http.Request) {
		list := []alert.Alert{}
		if active != nil {
			list = visibleAlerts(auth.FromContext(req.Context()), active(), inv())
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(list)
	}
}

// visibleAlerts returns the alerts p may see. An alert belongs to the
// OPDs its labels name: its opd label, and the OPD of the site, of the
// link's site and of the service (its owner) it names, by the inventory.
// A scoped principal sees the alerts that belong to one of its OPDs; an
// alert that belongs to none (an agent without a site, a target outside
// the inventory, the collector's own) only unscoped principals see.
func visibleAlerts(p *auth.Principal, list []alert.Alert, inv *inventory.Inventory) []alert.Alert {
	if !p.Scoped() {
		return list
	}
	out := []alert.Alert{}
	for _, a := range list {
		for _, opd := range alertOPDs(a.Labels, inv) {
			if p.Sees(opd) {
				out = append(out, a)
				break
			}
		}
	}
	return out
}

// alertOPDs lists the OPDs an alert's labels name (with repeats).
func alertOPDs(l map[string]string, inv *inventory.Inventory) []string {
	var out []string
	if o := l["opd"]; o != "" {
		out = append(out, o)
	}
	if inv == nil {
		return out
	}
	siteOPD := func(id string) {
		if s := inv.Site(id); id != "" && s != nil && s.OPD != "" {
			out = append(out, s.OPD)
		}
	}
	siteOPD(l["site"])
	if id := l["link"]; id != "" {
		if k := inv.Link(id); k != nil {
			siteOPD(k.Site)
		}
	}
	if id := l["service"]; id != "" {
		if sv := inv.Service(id); sv != nil {
			if sv.OPD != "" {
				out = append(out, sv.OPD)
			} else {
				siteOPD(sv.Site)
			}
		}
	}
	return out
}
