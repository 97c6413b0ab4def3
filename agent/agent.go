// Package agent is the pantau-agent process. The probes (ICMP, SNMP,
// plugins), the durable queue and the sender are being built under issue 3;
// this release ships only the command-line skeleton, so that packaging and
// scripts can rely on the binary's name and flags.
package agent

import (
	"context"
	"errors"
	"log/slog"
)

// Options configure Run.
type Options struct {
	ConfigFile string
	Logger     *slog.Logger
}

// ErrNotAvailable is returned by Run until the agent's probes land.
var ErrNotAvailable = errors.New("the agent's probes are not part of this release yet; write line protocol to the collector with Telegraf or any InfluxDB client meanwhile (see README)")

// Run runs the agent until ctx ends.
func Run(ctx context.Context, o Options) error {
	if o.Logger == nil {
		return errors.New("agent: Logger is required")
	}
	return ErrNotAvailable
}
