// Command pantau-loadgen measures write load on loopback: `compare` runs
// the same load against pantau-collector and, in the same run, Debian's
// victoria-metrics and influxdb; `scale` simulates a province of agents
// writing live to a collector that loads the province's inventory. See
// --help.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/pantau-noc/pantau/collector/internal/loadgen"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := loadgen.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
