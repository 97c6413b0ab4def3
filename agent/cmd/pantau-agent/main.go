// Command pantau-agent probes devices and links at a site and pushes the
// measurements to a Pantau collector. See "pantau-agent --help".
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/pantau-noc/pantau/agent"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := agent.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
