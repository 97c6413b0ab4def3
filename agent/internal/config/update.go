package config

import (
	"fmt"
	"os"
	"time"

	"github.com/pantau-noc/pantau/internal/fleetproto"
	"github.com/pantau-noc/pantau/internal/yamlconf"
)

// UpdateConfig is about releases the collector offers (docs/agent.md,
// "Updates"). Off unless Enabled.
type UpdateConfig struct {
	Enabled bool `yaml:"enabled"`
	// PublicKeyFile is the ed25519 public key (PEM, PKIX) every release
	// must be signed with; resolved against the config file's directory.
	// A missing or bad file is a warning: the agent runs, and refuses
	// every release with the reason.
	PublicKeyFile string `yaml:"public_key_file"`
	// HealthTimeout is how long a release on trial has to report healthy
	// before it is rolled back.
	HealthTimeout Duration `yaml:"health_timeout"`
}

// DefaultHealthTimeout is update.health_timeout's default.
const DefaultHealthTimeout = 2 * time.Minute

// checkUpdate resolves and validates the update section. The key file's
// content is not checked here (see updateWarnings): an edge box whose key
// file is missing keeps probing.
func (c *Config) checkUpdate(p *yamlconf.Problems) {
	u := &c.Update
	if u.PublicKeyFile != "" {
		u.PublicKeyFile = c.doc.Resolve(u.PublicKeyFile)
	} else if u.Enabled {
		p.AddNear("update.public_key_file", "must be set when update.enabled is true: the ed25519 public key (PEM) releases are signed for (pantau-collector release keygen)")
	}
	if h := u.HealthTimeout.Std(); h < time.Second || h > time.Hour {
		p.Add("update.health_timeout", "must be between 1s and 1h (got %s)", u.HealthTimeout)
	}
}

// updateWarnings: with update.enabled, a release public key that cannot
// be read or holds no ed25519 key (every release is then refused).
func (c *Config) updateWarnings() []*yamlconf.FieldError {
	f := c.Update.PublicKeyFile
	if !c.Update.Enabled || f == "" {
		return nil
	}
	var msg string
	if data, err := os.ReadFile(f); err != nil {
		msg = fmt.Sprintf("cannot read %s: %v", f, unwrapPath(err))
	} else if _, err := fleetproto.ParsePublicKey(data); err != nil {
		msg = fmt.Sprintf("%s: %v", f, err)
	}
	if msg == "" {
		return nil
	}
	w := &yamlconf.FieldError{File: c.File, Path: "update.public_key_file",
		Msg: msg + ": every release offered to this agent is refused until the file holds the release public key (PEM, from pantau-collector release keygen)"}
	if c.doc != nil {
		w.Line, w.Col = c.doc.Locate(w.Path)
	}
	return []*yamlconf.FieldError{w}
}
