package config

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/pantau-noc/pantau/internal/fleetproto"
	"github.com/pantau-noc/pantau/internal/yamlconf"
)

// FleetConfig is fleet management: the agent enrols with a collector,
// takes its probes from the collector's inventory (OpAMP remote config,
// merged under this file) and reports its state back.
type FleetConfig struct {
	// Enabled turns fleet management on when a URL is known (here or in
	// the state dir's fleet.json, written by `pantau-agent enroll`).
	Enabled bool `yaml:"enabled"`
	// URL is the collector's base URL, such as https://noc.example.go.id:9810.
	URL string `yaml:"url"`
	// EnrollCode is a one-time code; the agent enrols with it at its first
	// start when the state dir holds no token yet.
	EnrollCode Secret `yaml:"enroll_code"`
	// PollInterval is how often the agent asks the collector for changes
	// and reports its status.
	PollInterval Duration `yaml:"poll_interval"`
}

// Files in the agent's state directory that fleet management keeps.
const (
	TokenFile        = "token"             // the agent's own token, 0600
	CollectorCAFile  = "collector-ca.pem"  // the collector certificate pinned at enrolment
	FleetStateFile   = "fleet.json"        // collector URL, agent id, site
	RemoteConfigFile = "remote-config.yml" // the last remote config applied
	FleetCollector   = "fleet"             // the name of the collectors entry fleet management adds
	pollMin, pollMax = time.Second, 10 * time.Minute
)

// LiveToken is a token that can change while senders use it (credential
// rotation). The zero value is empty.
type LiveToken struct {
	mu sync.RWMutex
	v  Secret
}

// NewLiveToken returns a holder of s.
func NewLiveToken(s Secret) *LiveToken { return &LiveToken{v: s} }

// Get returns the token in force.
func (l *LiveToken) Get() Secret {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.v
}

// Set replaces the token.
func (l *LiveToken) Set(s Secret) {
	l.mu.Lock()
	l.v = s
	l.mu.Unlock()
}

func (c *Config) finishFleet(p *yamlconf.Problems) {
	f := &c.Fleet
	if f.URL != "" {
		if u, err := url.Parse(f.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			p.Add("fleet.url", "must be the collector's http:// or https:// URL with a host (got %q)", f.URL)
		}
	}
	if f.PollInterval.Std() < pollMin || f.PollInterval.Std() > pollMax {
		p.Add("fleet.poll_interval", "must be between %s and %s (got %s)", Duration(pollMin), Duration(pollMax), f.PollInterval)
	}
	c.secret(p, "fleet.enroll_code", &f.EnrollCode, "", "", false)
	if f.EnrollCode != "" {
		code, err := fleetproto.ParseCode(f.EnrollCode.Reveal())
		switch {
		case err != nil:
			p.Add("fleet.enroll_code", "%v", err)
		case f.URL == "":
			p.AddNear("fleet.url", "must be set with fleet.enroll_code: the collector to enrol with")
		case len(code.Pin) > 0 && strings.HasPrefix(strings.ToLower(f.URL), "http://"):
			p.Add("fleet.url", "the enrolment code pins the collector's TLS certificate, but the URL is plain http://: use the collector's https:// URL")
		}
	}
}

// fleetWarnings: a fleet URL over plain http:// (the token travels in
// clear text), an enrolment code left in the file after the agent enrolled,
// a collector entry that duplicates the fleet's own.
func (c *Config) fleetWarnings() []*yamlconf.FieldError {
	f := c.Fleet
	if !f.Enabled || f.URL == "" {
		return nil
	}
	var out []*yamlconf.FieldError
	if u, err := url.Parse(f.URL); err == nil && u.Scheme == "http" && !loopback(u.Hostname()) {
		out = append(out, c.warn("fleet.url", "the collector is reached over plain http:// at %s, which is not a loopback address: "+
			"the agent's token, its remote config (SNMP credentials included) and the measurements travel in clear text; use https://", u.Host))
	}
	if f.EnrollCode != "" {
		if _, err := os.Stat(filepath.Join(c.Agent.StateDir, TokenFile)); err == nil {
			out = append(out, c.warn("fleet.enroll_code", "the agent has enrolled already (%s exists): the code is not used again and can be removed",
				filepath.Join(c.Agent.StateDir, TokenFile)))
		}
	}
	for i, col := range c.Collectors {
		if col.Name != FleetCollector && strings.TrimRight(col.URL, "/") == strings.TrimRight(f.URL, "/") {
			out = append(out, c.warn(fmt.Sprintf("collectors[%d].url", i), "fleet management already sends to %s as collector %q: "+
				"this entry sends every batch a second time; remove it (or name it %q to replace the fleet's entry)", col.URL, FleetCollector, FleetCollector))
		}
	}
	return out
}
