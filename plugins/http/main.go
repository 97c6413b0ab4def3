// Command pantau-plugin-http is the bundled http probe plugin of the Pantau
// agent (see README.md). The agent starts it; run alone, it says so.
package main

import (
	"github.com/pantau-noc/pantau/plugins/http/probe"
	"github.com/pantau-noc/pantau/plugins/internal/svccheck"
)

func main() {
	svccheck.Serve("http", "checks a web service: status, time to first byte, total time, TLS certificate expiry, content", probe.Measurement,
		func(c *probe.Config, target string) error { c.Name = target; return c.Validate() },
		probe.Probe)
}
