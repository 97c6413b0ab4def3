package agent

import (
	"log/slog"

	"github.com/pantau-noc/pantau/agent/internal/config"
	"github.com/pantau-noc/pantau/agent/internal/scheduler"
)

// snmpJobs makes one job per SNMP device.
func snmpJobs(cfg *config.Config, log *slog.Logger) ([]scheduler.Job, func() error, error) {
	return nil, func() error { return nil }, nil
}
