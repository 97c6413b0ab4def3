package alert

import (
	"net/url"
	"time"
)

// DefaultHACheckInterval is how often a standby asks its peer's /readyz
// (alerting.ha_check_interval).
const DefaultHACheckInterval = 10 * time.Second

// validateHA checks alerting.ha_peer and ha_check_interval. A standby
// (ha_peer set) evaluates every rule like its peer but sends
// notifications only while the peer does not answer /readyz with 200;
// the collector root package does the checking and the gating.
func (c *Config) validateHA(add func(path, format string, args ...any)) {
	if d := c.HACheckInterval.Std(); d < time.Second || d > 10*time.Minute {
		add("ha_check_interval", "must be between 1s and 10m (got %s)", c.HACheckInterval)
	}
	if c.HAPeer == "" {
		return
	}
	u, err := url.Parse(c.HAPeer)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		add("ha_peer", "must be the other collector's base URL, such as http://10.0.0.1:9810 (got %q)", c.HAPeer)
	}
}

// HAPeerReadyz is the URL of the peer's /readyz.
func (c *Config) HAPeerReadyz() string {
	u, err := url.Parse(c.HAPeer)
	if err != nil {
		return c.HAPeer
	}
	u = u.JoinPath("readyz")
	return u.String()
}
