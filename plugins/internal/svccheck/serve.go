package svccheck

import (
	"context"
	"encoding/json"
	"time"

	"github.com/pantau-noc/pantau/internal/buildinfo"
	"github.com/pantau-noc/pantau/plugins/sdk"
)

// Serve runs a bundled check as a plugin (a main calls it and nothing
// else): each target's config is decoded strictly into C, then named
// gives it the target's name from agent.yml and validates it.
func Serve[C any](name, description, measurement string, named func(c *C, target string) error,
	probe func(ctx context.Context, c C, now func() time.Time) []sdk.Point) {
	sdk.Serve(sdk.Targets(
		sdk.Description{Name: name, Version: buildinfo.Version, Description: description, Measurements: []string{measurement}},
		func(target string, raw json.RawMessage) (C, error) {
			var c C
			if err := sdk.DecodeJSON(raw, &c); err != nil {
				return c, err
			}
			return c, named(&c, target)
		},
		func(ctx context.Context, c C) []sdk.Point { return probe(ctx, c, time.Now) }))
}
