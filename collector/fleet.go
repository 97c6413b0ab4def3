package collector

import (
	"errors"
	"io/fs"
	"path/filepath"

	"github.com/pantau-noc/pantau/collector/internal/fleet"
)

// newFleet builds the OpAMP server of fleet management
// (collector/internal/fleet) on the state database. The credentials key is read once
// at start (pantau-collector credentials set creates it); without it,
// devices are left out of the agents' configs with a note.
func (p *parts) newFleet() error {
	var store fleet.Store = p.state
	var keys *fleet.Keyring
	switch k, err := fleet.LoadKey(p.cfg.CredentialsKeyFile(), false); {
	case err == nil:
		keys = k
	case errors.Is(err, fs.ErrNotExist):
		p.log.Info("no credentials key file: SNMP devices are left out of agents' configs until a profile is set (pantau-collector credentials set)",
			"file", p.cfg.CredentialsKeyFile())
	default:
		return err
	}
	srv, err := fleet.New(fleet.Options{
		Store:          store,
		Inventory:      p.slarun.builder.Inventory,
		Keyring:        keys,
		Releases:       fleet.NewReleases(filepath.Join(p.cfg.DataDir, "releases")),
		UpdatesEnabled: p.fleetUpdates.Load,
		Logger:         p.log.With("component", "fleet"),
	})
	if err != nil {
		return err
	}
	p.reg.MustRegister(srv.Collectors()...)
	p.fleet = srv
	return nil
}
