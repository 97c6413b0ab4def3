// Command pantau-plugin-http is the bundled http probe plugin of the Pantau
// agent (see README.md). The agent starts it; run alone, it says so.
package main

import (
	"context"
	"encoding/json"
	"time"

	"github.com/pantau-noc/pantau/internal/buildinfo"
	"github.com/pantau-noc/pantau/plugins/http/probe"
	"github.com/pantau-noc/pantau/plugins/sdk"
)

const description = "checks a web service: status, time to first byte, total time, TLS certificate expiry, content"

func main() {
	sdk.Serve(sdk.Targets(
		sdk.Description{Name: "http", Version: buildinfo.Version, Description: description, Measurements: []string{probe.Measurement}},
		decode,
		func(ctx context.Context, c probe.Config) []sdk.Point { return probe.Probe(ctx, c, time.Now) }))
}

// decode reads a target's config strictly; the target's name is its
// name in agent.yml.
func decode(name string, raw json.RawMessage) (probe.Config, error) {
	var c probe.Config
	if err := sdk.DecodeJSON(raw, &c); err != nil {
		return c, err
	}
	c.Name = name
	return c, c.Validate()
}
