// Package daemon is what the collector daemon and the programs above it
// agree on: the Options its Run takes, and the cadences the command line
// tells operators about. The daemon itself is the collector root package
// (collector.Run); the command line (internal/cli) and the demo
// (internal/demo) are handed its Run by main, so that no package of the
// collector imports the root.
package daemon

import (
	"context"
	"log/slog"
	"net"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/config"
)

// Options configure Run.
type Options struct {
	Config *config.Config
	Logger *slog.Logger
	// Listening, if set, is called with the bound address once the
	// collector accepts requests (tests listen on port 0).
	Listening func(addr net.Addr)
	// ShutdownTimeout bounds the HTTP drain on shutdown; 0 means 30s.
	ShutdownTimeout time.Duration
	// SelfScrapeInterval is how often the collector stores its own
	// pantau_ series in its TSDB; 0 means SelfScrapeEvery.
	SelfScrapeInterval time.Duration
	// Pprof serves Go's profiler under /debug/pprof/ (for benchmarks and
	// support; off by default because it is unauthenticated).
	Pprof bool
	// Reload, if set, asks Run to load the config again with LoadConfig
	// and apply what can change while running (SIGHUP: see
	// collector/reload.go); a config that does not load is logged and the
	// running one kept.
	Reload     <-chan struct{}
	LoadConfig func() (*config.Config, error)
}

// RunFunc starts the collector and blocks until ctx is cancelled and
// shutdown has finished, or a component fails: collector.Run.
type RunFunc func(ctx context.Context, o Options) error

// SelfScrapeEvery is how often the collector stores its own series by
// default.
const SelfScrapeEvery = 15 * time.Second

// SLAReloadEvery is how often a running collector checks the inventory
// file and the maintenance windows for changes.
const SLAReloadEvery = 10 * time.Second
