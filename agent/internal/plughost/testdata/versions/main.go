// A probe plugin that serves the plugin protocol versions given at build
// time (go build -ldflags "-X main.versions=1,2"), each with the v1
// service: it stands in for plugins built against an older or newer SDK
// in the host's version negotiation tests.
package main

import (
	"context"
	"strconv"
	"strings"
	"time"

	plugin "github.com/hashicorp/go-plugin"

	"github.com/pantau-noc/pantau/plugins/sdk"
)

var versions = "1"

type probe struct{}

func (probe) Describe() sdk.Description {
	return sdk.Description{Name: "versions", Version: versions, Measurements: []string{"versions"}}
}

func (probe) Configure(context.Context, []sdk.Target) map[string]error { return nil }

func (probe) Collect(_ context.Context, target string) ([]sdk.Point, error) {
	return []sdk.Point{{Measurement: "versions", Time: time.Now(), Fields: map[string]any{"up": int64(1)}}}, nil
}

func main() {
	sets := map[int]plugin.PluginSet{}
	for _, v := range strings.Split(versions, ",") {
		n, err := strconv.Atoi(v)
		if err != nil {
			panic(err)
		}
		sets[n] = plugin.PluginSet{sdk.PluginName: &sdk.GRPCPlugin{Impl: probe{}}}
	}
	plugin.Serve(&plugin.ServeConfig{HandshakeConfig: sdk.Handshake, VersionedPlugins: sets, GRPCServer: plugin.DefaultGRPCServer})
}
