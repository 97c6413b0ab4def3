// A plugin that writes junk to stdout before the handshake.
package main

import (
	"context"
	"fmt"

	"github.com/pantau-noc/pantau/plugins/sdk"
)

type probe struct{}

func (probe) Describe() sdk.Description { return sdk.Description{Name: "junk"} }

func (probe) Configure(context.Context, []sdk.Target) map[string]error { return nil }

func (probe) Collect(context.Context, string) ([]sdk.Point, error) { return nil, nil }

func main() {
	fmt.Println("hello from a plugin that does not know the protocol")
	sdk.Serve(probe{})
}
