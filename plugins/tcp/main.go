// Command pantau-plugin-tcp is the bundled tcp probe plugin of the Pantau
// agent (see README.md). The agent starts it; run alone, it says so.
package main

import (
	"github.com/pantau-noc/pantau/plugins/internal/svccheck"
	"github.com/pantau-noc/pantau/plugins/tcp/probe"
)

func main() {
	svccheck.Serve("tcp", "checks a TCP service: connect time, optional TLS handshake and certificate expiry, expected response", probe.Measurement,
		func(c *probe.Config, target string) error { c.Name = target; return c.Validate() },
		probe.Probe)
}
