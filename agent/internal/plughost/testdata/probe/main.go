// A probe plugin for the host's tests; its behaviour depends on the
// target: ok answers, boom panics, hang never answers, garbage returns a
// point that is not valid.
package main

import (
	"context"
	"math"
	"time"

	"github.com/pantau-noc/pantau/plugins/sdk"
)

type probe struct{}

func (probe) Describe() sdk.Description {
	return sdk.Description{Name: "testprobe", Version: "0.1", Measurements: []string{"testprobe"}}
}

func (probe) Configure(_ context.Context, ts []sdk.Target) map[string]error { return nil }

func (probe) Collect(ctx context.Context, target string) ([]sdk.Point, error) {
	switch target {
	case "boom":
		panic("boom")
	case "hang":
		select {} // ignores its deadline
	case "garbage":
		return []sdk.Point{{Measurement: "testprobe", Fields: map[string]any{"v": math.NaN()}, Time: time.Now()}}, nil
	}
	return []sdk.Point{{Measurement: "testprobe", Tags: map[string]string{"target": target}, Time: time.Now(),
		Fields: map[string]any{"up": int64(1), "seconds": 0.01}}}, nil
}

func main() { sdk.Serve(probe{}) }
