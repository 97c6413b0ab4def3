// Command pantau-agent probes devices and links at a site and pushes the
// measurements to a Pantau collector. See "pantau-agent --help".
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/pantau-noc/pantau/agent"
	"github.com/pantau-noc/pantau/internal/buildinfo"
	"github.com/pantau-noc/pantau/internal/logflags"
)

func main() {
	fs := flag.NewFlagSet("pantau-agent", flag.ContinueOnError)
	cfg := fs.String("config", "", "path to agent.yml")
	version := fs.Bool("version", false, "print the version and exit")
	var lf logflags.Flags
	lf.Register(fs)
	args := os.Args[1:]
	if len(args) > 0 && args[0] == "run" {
		args = args[1:]
	}
	if err := fs.Parse(args); err != nil {
		os.Exit(2)
	}
	if *version {
		fmt.Println(buildinfo.String("pantau-agent"))
		return
	}
	logger, err := lf.Logger(os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "pantau-agent:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := agent.Run(ctx, agent.Options{ConfigFile: *cfg, Logger: logger}); err != nil {
		fmt.Fprintln(os.Stderr, "pantau-agent:", err)
		os.Exit(1)
	}
}
