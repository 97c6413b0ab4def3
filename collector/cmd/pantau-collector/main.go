// Command pantau-collector receives metrics from Pantau agents, stores
// them and serves them to Grafana. See "pantau-collector --help".
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/pantau-noc/pantau/collector"
	"github.com/pantau-noc/pantau/collector/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, cli.Options{Run: collector.Run}, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
