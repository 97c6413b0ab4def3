package collector

import (
	"github.com/pantau-noc/pantau/collector/internal/httpapi"
)

// notifiersAPI is the admin API of the configured notifiers, on the
// daemon's outbox (nil without notifiers: a test then answers 409): a
// test message wakes its notifier's sender at once.
func (p *parts) notifiersAPI() *httpapi.Notifiers {
	o := httpapi.NotifiersOptions{DB: p.state, Notifiers: p.cfg.Notifiers, Logger: p.log.With("component", "notifiers-api")}
	if p.ob != nil {
		o.Enqueue = p.ob.Enqueue
	}
	return httpapi.NewNotifiers(o)
}
