// Command pantau-collector receives metrics from Pantau agents, stores
// them and serves them to Grafana. See "pantau-collector --help".
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/pantau-noc/pantau/collector"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := collector.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
