package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/pantau-noc/pantau/agent/internal/config"
	"github.com/pantau-noc/pantau/agent/internal/point"
	"github.com/pantau-noc/pantau/agent/internal/scheduler"
	"github.com/pantau-noc/pantau/agent/internal/snmp"
)

// snmpJobs makes one job per SNMP device; each device has its own poller
// and connection, so a slow or dead device delays nobody else.
func snmpJobs(cfg *config.Config, log *slog.Logger) ([]scheduler.Job, func() error, error) {
	var jobs []scheduler.Job
	var pollers []*snmp.Poller
	closeAll := func() error {
		var errs []error
		for _, p := range pollers {
			errs = append(errs, p.Close())
		}
		return errors.Join(errs...)
	}
	for _, t := range cfg.SNMP {
		retries := t.Retries
		if retries == 0 {
			retries = -1 // the snmp package reads 0 as "default"
		}
		p, err := snmp.NewPoller(snmp.Target{
			Name: t.Name, Address: t.Target, Version: t.Version, Community: t.Community.Reveal(),
			Username: t.Username, SecurityLevel: t.SecurityLevel, AuthProtocol: t.AuthProtocol,
			AuthPassphrase: t.AuthPassphrase.Reveal(), PrivProtocol: t.PrivProtocol, PrivPassphrase: t.PrivPassphrase.Reveal(),
			ContextName: t.ContextName, Interfaces: t.Interfaces, MaxRepetitions: t.MaxRepetitions,
			Timeout: t.Timeout.Std(), Retries: retries, Tags: t.Tags, Profile: t.Profile, Custom: customSets(cfg, t),
		}, log)
		if err != nil {
			closeAll()
			return nil, nil, fmt.Errorf("snmp device %s: %w", t.Name, err)
		}
		pollers = append(pollers, p)
		jobs = append(jobs, scheduler.Job{Kind: "snmp", Name: t.Name, Interval: t.Interval.Std(), Timeout: t.Timeout.Std(),
			Run: func(ctx context.Context) ([]*point.Point, error) { return p.Poll(ctx) }})
	}
	return jobs, closeAll, nil
}
