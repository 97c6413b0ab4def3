package sdk_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"time"

	"github.com/pantau-noc/pantau/plugins/sdk"
)

// A whole plugin: a config type, a probe function, and main calling
// Serve. This one checks that a TCP port accepts connections.
func Example() {
	type config struct {
		Address string `json:"address"`
	}
	probe := sdk.Targets(
		sdk.Description{Name: "port", Version: "1.0.0", Measurements: []string{"port"}},
		func(name string, raw json.RawMessage) (config, error) {
			var c config
			if err := sdk.DecodeJSON(raw, &c); err != nil {
				return c, err
			}
			if _, _, err := net.SplitHostPort(c.Address); err != nil {
				return c, fmt.Errorf("address must be host:port: %w", err)
			}
			return c, nil
		},
		func(ctx context.Context, c config) []sdk.Point {
			start := time.Now()
			conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", c.Address)
			up := int64(0)
			if err == nil {
				up = 1
				conn.Close()
			}
			return []sdk.Point{{Measurement: "port", Tags: map[string]string{"address": c.Address}, Time: start,
				Fields: map[string]any{"up": up, "connect_seconds": time.Since(start).Seconds()}}}
		})
	// In the plugin's main: sdk.Serve(probe). Here, configure and collect
	// directly.
	errs := probe.Configure(context.Background(), []sdk.Target{
		{Name: "closed", Config: json.RawMessage(`{"address": "127.0.0.1:1"}`)},
		{Name: "typo", Config: json.RawMessage(`{"adress": "127.0.0.1:1"}`)},
	})
	fmt.Println("refused:", errs["typo"])
	pts, _ := probe.Collect(context.Background(), "closed")
	fmt.Println(pts[0].Measurement, pts[0].Tags["address"], "up =", pts[0].Fields["up"])
	// Output:
	// refused: config: json: unknown field "adress"
	// port 127.0.0.1:1 up = 0
}

// Check says why the agent would refuse a point.
func ExamplePoint_Check() {
	p := sdk.Point{Measurement: "http", Fields: map[string]any{"total_seconds": math.NaN()}, Time: time.Now()}
	err := p.Check()
	fmt.Println(errors.Is(err, sdk.ErrBadPoint), err)
	// Output: true bad point: http field total_seconds is NaN
}
