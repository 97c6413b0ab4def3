// Command pantau-plugin-dns is the bundled dns probe plugin of the Pantau
// agent (see README.md). The agent starts it; run alone, it says so.
package main

import (
	"github.com/pantau-noc/pantau/plugins/dns/probe"
	"github.com/pantau-noc/pantau/plugins/internal/svccheck"
)

func main() {
	svccheck.Serve("dns", "checks a DNS name: resolution time and expected answers", probe.Measurement,
		func(c *probe.Config, target string) error { c.Name = target; return c.Validate() },
		probe.Probe)
}
