// Command pantau-plugin-port is the example plugin of the SDK README: it
// connects to a TCP address and, if asked, reads the server's greeting.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/pantau-noc/pantau/plugins/sdk"
)

// config is what a target's `config:` in agent.yml holds.
type config struct {
	Address string `json:"address"` // host:port
	Expect  string `json:"expect"`  // optional: the greeting must contain this
}

var log = sdk.Logger(slog.LevelInfo) // records reach the agent's log

// decode checks one target's config; an error refuses that target only.
func decode(name string, raw json.RawMessage) (config, error) {
	var c config
	if err := sdk.DecodeJSON(raw, &c); err != nil { // unknown keys are errors
		return c, err
	}
	if _, _, err := net.SplitHostPort(c.Address); err != nil {
		return c, errors.New("address must be host:port")
	}
	return c, nil
}

// collect probes one target. ctx carries the target's timeout: give up by
// its deadline, on the dial and on every read and write after it.
func collect(ctx context.Context, c config) []sdk.Point {
	start := time.Now()
	p := sdk.Point{
		Measurement: "port",
		Tags:        map[string]string{"address": c.Address},
		Fields:      map[string]any{"up": int64(0)},
		Time:        start,
	}
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", c.Address)
	if err != nil {
		p.Fields["error"] = err.Error() // strings are logged by the agent, not stored
		return []sdk.Point{p}
	}
	defer conn.Close()
	p.Fields["connect_seconds"] = time.Since(start).Seconds()
	if c.Expect != "" {
		if dl, ok := ctx.Deadline(); ok {
			conn.SetDeadline(dl)
		}
		buf := make([]byte, 512)
		n, err := conn.Read(buf)
		if err != nil || !strings.Contains(string(buf[:n]), c.Expect) {
			log.Warn("greeting did not match", "address", c.Address, "err", err)
			p.Fields["error"] = "greeting did not match"
			return []sdk.Point{p}
		}
	}
	p.Fields["up"] = int64(1)
	return []sdk.Point{p}
}

func main() {
	sdk.Serve(sdk.Targets(sdk.Description{Name: "port", Version: "1.0.0", Measurements: []string{"port"}}, decode, collect))
}
