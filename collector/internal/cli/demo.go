package cli

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/daemon"
	"github.com/pantau-noc/pantau/collector/internal/demo"
	"github.com/pantau-noc/pantau/internal/logflags"
)

func cmdDemo(ctx context.Context, run daemon.RunFunc, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("demo", "demo [--listen-address 127.0.0.1:9810] [--duration 0] [--data-dir DIR] [--agent PATH|none]", stderr)
	listen := fs.String("listen-address", "127.0.0.1:9810", "loopback address for the demo collector")
	dataDir := fs.String("data-dir", "", "data directory (default: a temporary directory removed on exit)")
	duration := fs.Duration("duration", 0, "stop the live writes this long after the backfill (0: run until Ctrl-C)")
	interval := fs.Duration("interval", 10*time.Second, "how often each simulated site writes, and the demo agent's probe interval")
	history := fs.Duration("history", 6*time.Hour, "history to backfill at start, so graphs have data at once")
	agentPath := fs.String("agent", "", "pantau-agent binary to run as the NOC's agent (default: next to this binary, else in PATH; none: simulate its data)")
	pluginsDir := fs.String("plugins-dir", "", "directory with the bundled plugins and their SHA256SUMS (default: plugins/ next to the agent, else /usr/lib/pantau/plugins)")
	var lf logflags.Flags
	lf.Register(fs)
	lf.Level = "warn"
	if err := parse(fs, args); err != nil {
		return err
	}
	logger, err := lf.Logger(stderr)
	if err != nil {
		return usageError{err}
	}
	if *interval < time.Second {
		return usageError{errors.New("--interval must be at least 1s")}
	}
	return demo.Run(ctx, demo.Options{
		ListenAddress: *listen, DataDir: *dataDir, Duration: *duration, Interval: *interval, History: *history,
		AgentPath: *agentPath, PluginsDir: *pluginsDir, Logger: logger, Run: run,
	}, stdout)
}
