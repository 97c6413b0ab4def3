// Package config is agent.yml: embedded defaults, strict decoding with
// file:line:col errors (shared with the collector through yamlconf), and
// validation. Secrets (tokens, communities, SNMPv3 passphrases) come from
// the file, from *_file paths or from ${ENV} references, and are of type
// Secret, which never prints its value.
package config

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/pantau-noc/pantau/agent/internal/mib"
	"github.com/pantau-noc/pantau/internal/yamlconf"
)

// ExampleYAML is the commented reference config (pantau-agent check-config --example).
//
//go:embed example.yml
var ExampleYAML []byte

// Duration is a time.Duration written as "30s" or "7d".
type Duration = yamlconf.Duration

// Secret is a credential. It prints as "<redacted>" in logs, errors and %v.
type Secret string

func (Secret) String() string { return "<redacted>" }

// GoString hides the value from %#v too.
func (Secret) GoString() string { return `"<redacted>"` }

// LogValue hides the value from slog.
func (Secret) LogValue() slog.Value { return slog.StringValue("<redacted>") }

// Reveal returns the value, for the one place that sends it.
func (s Secret) Reveal() string { return string(s) }

// Config is agent.yml.
type Config struct {
	Agent      AgentConfig       `yaml:"agent"`
	Collectors []CollectorConfig `yaml:"collectors"`
	Queue      QueueConfig       `yaml:"queue"`
	Defaults   DefaultsConfig    `yaml:"defaults"`
	ICMP       []ICMPTarget      `yaml:"icmp"`
	SNMP       []SNMPTarget      `yaml:"snmp"`
	// SNMPMetrics are user-defined scalars and tables (snmp_metrics.go).
	SNMPMetrics []SNMPMetricSet `yaml:"snmp_metrics"`
	Plugins     []PluginConfig  `yaml:"plugins"`
	Fleet       FleetConfig     `yaml:"fleet"`
	Update      UpdateConfig    `yaml:"update"`

	File string `yaml:"-"`
	// Merged is the YAML document the config was parsed from: agent.yml,
	// merged with the remote config when fleet management is on.
	Merged []byte        `yaml:"-"`
	doc    *yamlconf.Doc `yaml:"-"`
	mibs   *mib.Set      `yaml:"-"`
}

// AgentConfig is about the agent itself.
type AgentConfig struct {
	ID            string `yaml:"id"`   // agent id for batch ids and the heartbeat; default: host name
	Site          string `yaml:"site"` // site tag of the heartbeat
	StateDir      string `yaml:"state_dir"`
	ListenAddress string `yaml:"listen_address"` // self-metrics; "" to disable
	ICMPEngine    string `yaml:"icmp_engine"`    // shared (default) or pinger (one pro-bing Pinger per target)
	ICMPMode      string `yaml:"icmp_mode"`      // auto (default), unprivileged or raw
	// MaxProcs is how many CPUs run Go code at once (GOMAXPROCS); 0 means
	// all. Default 1: the agent waits on the network almost all the time,
	// and a second thread mostly costs wake-ups (docs/benchmarks.md).
	MaxProcs int `yaml:"max_procs"`
	// MIBDirs are the directories of MIB files for the MIB names of
	// snmp_metrics; default mib.DefaultDirs (those that exist).
	MIBDirs []string `yaml:"mib_dirs"`
}

// CollectorConfig is one collector the queue drains to.
type CollectorConfig struct {
	Name      string    `yaml:"name"`
	URL       string    `yaml:"url"`
	Token     Secret    `yaml:"token"`
	TokenFile string    `yaml:"token_file"`
	Timeout   Duration  `yaml:"timeout"`
	TLS       TLSConfig `yaml:"tls"`
	// Live, when set, is the token in force: fleet credential rotation
	// replaces it while the sender runs (the fleet's own collector entry).
	Live *LiveToken `yaml:"-"`
}

// CurrentToken is the token to send now: Live's when set, else Token.
func (c CollectorConfig) CurrentToken() Secret {
	if c.Live != nil {
		return c.Live.Get()
	}
	return c.Token
}

// TLSConfig is the client side of TLS to a collector.
type TLSConfig struct {
	CAFile             string `yaml:"ca_file"`
	CertFile           string `yaml:"cert_file"`
	KeyFile            string `yaml:"key_file"`
	ServerName         string `yaml:"server_name"`
	InsecureSkipVerify bool   `yaml:"insecure_skip_verify"`
	// Pinned: CAFile is the certificate pinned at enrolment (the fleet's
	// own collector entry); its key is trusted as well as chains to it
	// and the system's roots, so a renewed certificate keeps working.
	Pinned bool `yaml:"-"`
}

// QueueConfig bounds the on-disk queue.
type QueueConfig struct {
	MaxBytes     int64    `yaml:"max_bytes"`
	MaxAge       Duration `yaml:"max_age"`
	SyncInterval Duration `yaml:"sync_interval"`
	BatchPoints  int      `yaml:"batch_points"` // points per queued batch at most
	BatchLinger  Duration `yaml:"batch_linger"` // how long points wait to fill a batch
	// DeadLetterMaxBytes bounds dead-letter.jsonl; beyond it the file
	// becomes dead-letter.jsonl.1 (replacing the previous one).
	DeadLetterMaxBytes int64 `yaml:"dead_letter_max_bytes"`
	// MaxRequestBytes bounds a write request that carries several queued
	// batches (compressed bytes) while a backlog drains; 0 sends one
	// batch per request.
	MaxRequestBytes int64 `yaml:"max_request_bytes"`
}

// DefaultsConfig applies to every target that does not say otherwise.
type DefaultsConfig struct {
	Interval Duration          `yaml:"interval"`
	Timeout  Duration          `yaml:"timeout"`
	Tags     map[string]string `yaml:"tags"`
	ICMP     ICMPDefaults      `yaml:"icmp"`
	SNMP     SNMPDefaults      `yaml:"snmp"`
}

// ICMPDefaults are the per-round ICMP settings.
type ICMPDefaults struct {
	Packets        int      `yaml:"packets"`
	PacketInterval Duration `yaml:"packet_interval"`
	Size           int      `yaml:"size"`
	TOS            int      `yaml:"tos"`
}

// SNMPDefaults are SNMP settings.
type SNMPDefaults struct {
	Version        string `yaml:"version"`
	MaxRepetitions uint32 `yaml:"max_repetitions"`
	Retries        int    `yaml:"retries"`
}

// PluginConfig is one probe plugin and its targets.
type PluginConfig struct {
	Name         string         `yaml:"name"`
	Path         string         `yaml:"path"`   // absolute
	SHA256       string         `yaml:"sha256"` // of the file at path (SHA256SUMS next to the bundled plugins)
	StartTimeout Duration       `yaml:"start_timeout"`
	Targets      []PluginTarget `yaml:"targets"`
}

// PluginTarget is one target of a plugin; Config goes to the plugin as
// JSON.
type PluginTarget struct {
	Name     string            `yaml:"name"`
	Interval Duration          `yaml:"interval"`
	Timeout  Duration          `yaml:"timeout"`
	Tags     map[string]string `yaml:"tags"`
	Config   map[string]any    `yaml:"config"`
}

// ICMPTarget is one address to ping every interval.
type ICMPTarget struct {
	Target         string            `yaml:"target"`
	Name           string            `yaml:"name"`
	Interval       Duration          `yaml:"interval"`
	Timeout        Duration          `yaml:"timeout"`
	Packets        int               `yaml:"packets"`
	PacketInterval Duration          `yaml:"packet_interval"`
	Size           int               `yaml:"size"`
	TOS            int               `yaml:"tos"`
	Tags           map[string]string `yaml:"tags"`
}

// SNMPTarget is one device to poll every interval.
type SNMPTarget struct {
	Target             string            `yaml:"target"`
	Name               string            `yaml:"name"`
	Interval           Duration          `yaml:"interval"`
	Timeout            Duration          `yaml:"timeout"`
	Version            string            `yaml:"version"`
	Community          Secret            `yaml:"community"`
	CommunityFile      string            `yaml:"community_file"`
	Username           string            `yaml:"username"`
	SecurityLevel      string            `yaml:"security_level"`
	AuthProtocol       string            `yaml:"auth_protocol"`
	AuthPassphrase     Secret            `yaml:"auth_passphrase"`
	AuthPassphraseFile string            `yaml:"auth_passphrase_file"`
	PrivProtocol       string            `yaml:"priv_protocol"`
	PrivPassphrase     Secret            `yaml:"priv_passphrase"`
	PrivPassphraseFile string            `yaml:"priv_passphrase_file"`
	ContextName        string            `yaml:"context_name"`
	Interfaces         []string          `yaml:"interfaces"`
	MaxRepetitions     uint32            `yaml:"max_repetitions"`
	Retries            int               `yaml:"retries"`
	Tags               map[string]string `yaml:"tags"`
	// Profile is the vendor profile: auto (by sysObjectID, the
	// default), none, or one of SNMPProfiles to force it.
	Profile string   `yaml:"profile"`
	Metrics []string `yaml:"metrics"` // names of snmp_metrics sets to poll
}

// SNMPProfiles are the values snmp[].profile accepts: auto, none and the
// agent's built-in profiles (agent/internal/snmp ProfileNames; a test
// there keeps the two lists equal).
var SNMPProfiles = []string{"auto", "none", "airfiber", "airmax", "apc", "cisco", "entity-sensor", "epmp", "huawei", "juniper", "ltu", "mikrotik", "ptp650", "ups"}

// DefaultMaxRequestBytes is queue.max_request_bytes's default: 256 KiB
// of queued batches per request, about 110 KB on the wire (the frames
// gzip'd together), is about 0.9 s of a 1 Mbit/s VSAT line, long enough
// that the other oldest-first lane's round trip hides behind it, while a
// request fits the collectors' default timeout (30 s) down to about
// 30 kbit/s and a cut connection wastes little.
const DefaultMaxRequestBytes = 256 << 10

// Default returns the embedded defaults: no collector, no targets.
func Default() *Config {
	return &Config{
		Agent: AgentConfig{StateDir: "pantau-agent-state", ListenAddress: "127.0.0.1:9811", ICMPEngine: "shared", ICMPMode: "auto", MaxProcs: 1},
		Queue: QueueConfig{MaxBytes: 512 << 20, MaxAge: Duration(7 * 24 * time.Hour), SyncInterval: Duration(time.Second),
			BatchPoints: 5000, BatchLinger: Duration(time.Second), DeadLetterMaxBytes: 16 << 20,
			MaxRequestBytes: DefaultMaxRequestBytes},
		Update: UpdateConfig{HealthTimeout: Duration(DefaultHealthTimeout)},
		Defaults: DefaultsConfig{
			Interval: Duration(30 * time.Second),
			Timeout:  Duration(5 * time.Second),
			ICMP:     ICMPDefaults{Packets: 5, PacketInterval: Duration(500 * time.Millisecond), Size: 56},
			SNMP:     SNMPDefaults{Version: "2c", MaxRepetitions: 25, Retries: 1},
		},
		Fleet: FleetConfig{Enabled: true, PollInterval: Duration(15 * time.Second)},
	}
}

// Problems returns a problem list that locates config paths (such as
// "plugins[0].sha256") in the file, for checks made after loading.
func (c *Config) Problems() *yamlconf.Problems { return yamlconf.NewProblems(c.doc) }

// Load reads, decodes and validates the file at path.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config %s: %w", path, err)
	}
	return Parse(path, data)
}

// Parse decodes data, applies defaults to every target, reads secret
// files and environment references, and validates.
func Parse(name string, data []byte) (*Config, error) {
	c := Default()
	c.File, c.Merged = name, data
	doc, err := yamlconf.Decode(name, data, c, "; `pantau-agent check-config --example` lists every key")
	if err != nil {
		return nil, err
	}
	c.doc = doc
	if err := c.finish(); err != nil {
		return nil, err
	}
	return c, nil
}

var (
	envRef    = regexp.MustCompile(`^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$`)
	tagKeyRE  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	reserved  = map[string]bool{"agent": true, "target": true, "name": true, "device": true, "ifindex": true, "ifname": true, "ifalias": true, "sysname": true, "version": true}
	versions  = []string{"1", "2c", "3"}
	levels    = []string{"noAuthNoPriv", "authNoPriv", "authPriv"}
	authProts = []string{"MD5", "SHA", "SHA224", "SHA256", "SHA384", "SHA512"}
	privProts = []string{"DES", "AES", "AES192", "AES256", "AES192C", "AES256C"}
)

// finish fills defaults in, resolves secrets and validates everything.
func (c *Config) finish() error {
	p := yamlconf.NewProblems(c.doc)
	d := c.Defaults
	if c.Agent.ID == "" {
		h, _ := os.Hostname()
		c.Agent.ID = h
	}
	if strings.TrimSpace(c.Agent.StateDir) == "" {
		p.Add("agent.state_dir", "must not be empty: the queue lives there")
	}
	if a := c.Agent.ListenAddress; a != "" {
		if _, _, err := net.SplitHostPort(a); err != nil {
			p.Add("agent.listen_address", "must be host:port such as 127.0.0.1:9811, or empty to disable (got %q)", a)
		}
	}
	p.OneOf("agent.icmp_engine", c.Agent.ICMPEngine, "shared", "pinger")
	p.OneOf("agent.icmp_mode", c.Agent.ICMPMode, "auto", "unprivileged", "raw")
	if c.Agent.MaxProcs < 0 || c.Agent.MaxProcs > 1024 {
		p.Add("agent.max_procs", "must be between 0 (all CPUs) and 1024 (got %d)", c.Agent.MaxProcs)
	}

	names := map[string]bool{}
	for i := range c.Collectors {
		col := &c.Collectors[i]
		at := fmt.Sprintf("collectors[%d]", i)
		u, err := url.Parse(col.URL)
		switch {
		case col.URL == "":
			p.AddNear(at+".url", "must be set, such as https://noc.example.go.id:9810")
		case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
			p.Add(at+".url", "must be an http:// or https:// URL with a host (got %q)", col.URL)
		}
		if col.Name == "" && u != nil {
			col.Name = u.Host
		}
		if names[col.Name] {
			p.Add(at+".name", "duplicate collector name %q: each collector keeps its own queue cursor by name", col.Name)
		}
		names[col.Name] = true
		c.secret(p, at+".token", &col.Token, at+".token_file", col.TokenFile, true)
		if col.Timeout == 0 {
			col.Timeout = Duration(30 * time.Second)
		}
		for _, f := range []struct{ path, file string }{{at + ".tls.ca_file", col.TLS.CAFile}, {at + ".tls.cert_file", col.TLS.CertFile}, {at + ".tls.key_file", col.TLS.KeyFile}} {
			if f.file != "" {
				if err := yamlconf.Readable(c.doc.Resolve(f.file)); err != nil {
					p.Add(f.path, "%v", err)
				}
			}
		}
		if (col.TLS.CertFile == "") != (col.TLS.KeyFile == "") {
			p.Add(at+".tls", "cert_file and key_file go together (client certificate)")
		}
	}

	q := c.Queue
	if q.MaxBytes < 1<<20 {
		p.Add("queue.max_bytes", "must be at least 1048576 (1 MiB) (got %d)", q.MaxBytes)
	}
	if q.MaxAge <= 0 {
		p.Add("queue.max_age", "must be positive (got %s)", q.MaxAge)
	}
	if q.SyncInterval < 0 || q.SyncInterval.Std() > time.Minute {
		p.Add("queue.sync_interval", "must be between 0 (fsync every batch) and 1m (got %s)", q.SyncInterval)
	}
	if q.BatchPoints < 1 {
		p.Add("queue.batch_points", "must be at least 1 (got %d)", q.BatchPoints)
	}
	if q.BatchLinger < 0 {
		p.Add("queue.batch_linger", "must not be negative (got %s)", q.BatchLinger)
	}
	if q.DeadLetterMaxBytes < 64<<10 {
		p.Add("queue.dead_letter_max_bytes", "must be at least 65536 (64 KiB) (got %d)", q.DeadLetterMaxBytes)
	}
	if q.MaxRequestBytes != 0 && (q.MaxRequestBytes < 4096 || q.MaxRequestBytes > 32<<20) {
		p.Add("queue.max_request_bytes", "must be 0 (one batch per request) or between 4096 and 33554432 (32 MiB) (got %d)", q.MaxRequestBytes)
	}
	if d.Interval <= 0 {
		p.Add("defaults.interval", "must be positive (got %s)", d.Interval)
	}
	c.tags(p, "defaults.tags", d.Tags)

	for i := range c.ICMP {
		t := &c.ICMP[i]
		at := fmt.Sprintf("icmp[%d]", i)
		if _, err := netip.ParseAddr(strings.Trim(t.Target, "[]")); err != nil {
			if t.Target == "" || strings.ContainsAny(t.Target, " /:") {
				p.Add(at+".target", "must be an IPv4 or IPv6 address or a host name (got %q)", t.Target)
			}
		}
		if t.Name == "" {
			t.Name = t.Target
		}
		fill(&t.Interval, d.Interval)
		fill(&t.Timeout, d.Timeout)
		if t.Packets == 0 {
			t.Packets = d.ICMP.Packets
		}
		fill(&t.PacketInterval, d.ICMP.PacketInterval)
		if t.Size == 0 {
			t.Size = d.ICMP.Size
		}
		if !c.doc.Has(at + ".tos") {
			t.TOS = d.ICMP.TOS
		}
		t.Tags = merge(d.Tags, t.Tags)
		c.tags(p, at+".tags", t.Tags)
		c.timing(p, at, t.Interval, t.Timeout)
		if t.Packets < 1 || t.Packets > 1000 {
			p.Add(at+".packets", "must be 1-1000 (got %d)", t.Packets)
		}
		if t.Size < 16 || t.Size > 65000 {
			p.Add(at+".size", "payload must be 16-65000 bytes (got %d)", t.Size)
		}
		if t.TOS < 0 || t.TOS > 255 {
			p.Add(at+".tos", "must be 0-255, e.g. 184 for DSCP EF (got %d)", t.TOS)
		}
		if t.Packets > 1 && time.Duration(t.Packets-1)*t.PacketInterval.Std() >= t.Timeout.Std() {
			p.AddNear(at+".packet_interval", "%d packets %s apart do not fit in the timeout %s", t.Packets, t.PacketInterval, t.Timeout)
		}
	}

	for i := range c.SNMP {
		t := &c.SNMP[i]
		at := fmt.Sprintf("snmp[%d]", i)
		if t.Target == "" {
			p.AddNear(at+".target", "must be set: host or host:port (default port 161)")
		} else if _, _, err := net.SplitHostPort(t.Target); err != nil {
			t.Target = net.JoinHostPort(strings.Trim(t.Target, "[]"), "161")
		}
		if t.Name == "" {
			t.Name, _, _ = net.SplitHostPort(t.Target)
		}
		fill(&t.Interval, d.Interval)
		fill(&t.Timeout, d.Timeout)
		if t.Version == "" {
			t.Version = d.SNMP.Version
		}
		if t.MaxRepetitions == 0 {
			t.MaxRepetitions = d.SNMP.MaxRepetitions
		}
		if !c.doc.Has(at + ".retries") {
			t.Retries = d.SNMP.Retries
		}
		t.Tags = merge(d.Tags, t.Tags)
		c.tags(p, at+".tags", t.Tags)
		c.timing(p, at, t.Interval, t.Timeout)
		p.OneOf(at+".version", t.Version, versions...)
		for j, re := range t.Interfaces {
			if _, err := regexp.Compile("^(?:" + re + ")$"); err != nil {
				p.Add(fmt.Sprintf("%s.interfaces[%d]", at, j), "bad regular expression: %v", err)
			}
		}
		if t.Retries < 0 || t.Retries > 10 {
			p.Add(at+".retries", "must be 0-10 (got %d)", t.Retries)
		}
		if t.Profile == "" {
			t.Profile = "auto"
		}
		p.OneOf(at+".profile", t.Profile, SNMPProfiles...)
		if t.MaxRepetitions > 200 {
			p.Add(at+".max_repetitions", "must be 1-200 (got %d)", t.MaxRepetitions)
		}
		switch t.Version {
		case "1", "2c":
			c.secret(p, at+".community", &t.Community, at+".community_file", t.CommunityFile, true)
		case "3":
			if t.Username == "" {
				p.AddNear(at+".username", "SNMPv3 needs a username")
			}
			if t.SecurityLevel == "" {
				t.SecurityLevel = "authPriv"
			}
			p.OneOf(at+".security_level", t.SecurityLevel, levels...)
			if t.SecurityLevel != "noAuthNoPriv" {
				if t.AuthProtocol == "" {
					t.AuthProtocol = "SHA"
				}
				p.OneOf(at+".auth_protocol", t.AuthProtocol, authProts...)
				c.secret(p, at+".auth_passphrase", &t.AuthPassphrase, at+".auth_passphrase_file", t.AuthPassphraseFile, true)
				if len(t.AuthPassphrase) > 0 && len(t.AuthPassphrase) < 8 {
					p.Add(at+".auth_passphrase", "must be at least 8 characters (RFC 3414)")
				}
			}
			if t.SecurityLevel == "authPriv" {
				if t.PrivProtocol == "" {
					t.PrivProtocol = "AES"
				}
				p.OneOf(at+".priv_protocol", t.PrivProtocol, privProts...)
				c.secret(p, at+".priv_passphrase", &t.PrivPassphrase, at+".priv_passphrase_file", t.PrivPassphraseFile, true)
				if len(t.PrivPassphrase) > 0 && len(t.PrivPassphrase) < 8 {
					p.Add(at+".priv_passphrase", "must be at least 8 characters (RFC 3414)")
				}
			}
		}
	}
	c.finishSNMPMetrics(p)
	c.checkUpdate(p)

	pluginNames := map[string]bool{}
	for i := range c.Plugins {
		pl := &c.Plugins[i]
		at := fmt.Sprintf("plugins[%d]", i)
		if !pluginName.MatchString(pl.Name) {
			p.AddNear(at+".name", "must be letters, digits, - or _ (got %q)", pl.Name)
		} else if pluginNames[pl.Name] {
			p.Add(at+".name", "%q is already the name of another plugin", pl.Name)
		}
		pluginNames[pl.Name] = true
		if !filepath.IsAbs(pl.Path) {
			p.AddNear(at+".path", "must be an absolute path to the plugin program, such as /usr/lib/pantau/plugins/pantau-plugin-http (got %q)", pl.Path)
		} else if st, err := os.Stat(pl.Path); err != nil {
			p.Add(at+".path", "%v", err)
		} else if st.IsDir() || st.Mode()&0o111 == 0 {
			p.Add(at+".path", "%s is not an executable file", pl.Path)
		}
		if !sha256Hex.MatchString(pl.SHA256) {
			p.AddNear(at+".sha256", "must be the file's SHA-256, 64 hex digits (sha256sum %s, or SHA256SUMS next to the bundled plugins)", pl.Path)
		}
		if pl.StartTimeout == 0 {
			pl.StartTimeout = Duration(10 * time.Second)
		}
		if len(pl.Targets) == 0 {
			p.AddNear(at+".targets", "a plugin needs at least one target")
		}
		tnames := map[string]bool{}
		for j := range pl.Targets {
			t := &pl.Targets[j]
			tat := fmt.Sprintf("%s.targets[%d]", at, j)
			if t.Name == "" || tnames[t.Name] {
				p.AddNear(tat+".name", "every target of a plugin needs its own name (got %q)", t.Name)
			}
			tnames[t.Name] = true
			fill(&t.Interval, d.Interval)
			fill(&t.Timeout, d.Timeout)
			t.Tags = merge(d.Tags, t.Tags)
			c.tags(p, tat+".tags", t.Tags)
			c.timing(p, tat, t.Interval, t.Timeout)
			if _, err := json.Marshal(t.Config); err != nil {
				p.Add(tat+".config", "cannot be passed to the plugin as JSON: %v", err)
			}
		}
	}
	c.finishFleet(p)
	return p.Err()
}

var (
	pluginName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	sha256Hex  = regexp.MustCompile(`^[0-9a-fA-F]{64}$`)
)

func (c *Config) timing(p *yamlconf.Problems, at string, interval, timeout Duration) {
	if interval.Std() < 100*time.Millisecond {
		p.Add(at+".interval", "must be at least 100ms (got %s)", interval)
	}
	if timeout <= 0 {
		p.Add(at+".timeout", "must be positive (got %s)", timeout)
	} else if timeout > interval {
		p.Add(at+".timeout", "must not exceed the interval %s (got %s): a round must end before the next starts", interval, timeout)
	}
}

func (c *Config) tags(p *yamlconf.Problems, at string, tags map[string]string) {
	for k, v := range tags {
		switch {
		case !tagKeyRE.MatchString(k) || strings.HasPrefix(k, "__"):
			p.Add(at+"."+k, "tag names are letters, digits and _ and do not start with a digit or __")
		case reserved[k]:
			p.Add(at+"."+k, "%q is set by the agent or the collector and cannot be an inventory tag", k)
		case v == "":
			p.Add(at+"."+k, "tag value must not be empty")
		}
	}
}

// secret resolves a credential: inline (or ${ENV}) at path, or the file at
// filePath. required means one of them must be given.
func (c *Config) secret(p *yamlconf.Problems, path string, s *Secret, filePath, file string, required bool) {
	switch {
	case *s != "" && file != "":
		p.Add(filePath, "set either %s or %s, not both", lastPart(path), lastPart(filePath))
	case file != "":
		b, err := os.ReadFile(c.doc.Resolve(file))
		if err != nil {
			p.Add(filePath, "cannot read secret file %s: %v", c.doc.Resolve(file), unwrapPath(err))
			return
		}
		*s = Secret(strings.TrimSpace(string(b)))
		if *s == "" {
			p.Add(filePath, "secret file %s is empty", c.doc.Resolve(file))
		}
	case *s != "":
		if m := envRef.FindStringSubmatch(string(*s)); m != nil {
			v, ok := os.LookupEnv(m[1])
			if !ok || v == "" {
				p.Add(path, "environment variable %s is not set or empty", m[1])
				return
			}
			*s = Secret(v)
		}
	case required:
		p.AddNear(path, "must be set (inline, as ${ENV_VAR}, or through %s)", lastPart(filePath))
	}
}

func lastPart(path string) string { return path[strings.LastIndexByte(path, '.')+1:] }

func unwrapPath(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

func fill(d *Duration, def Duration) {
	if *d == 0 {
		*d = def
	}
}

func merge(a, b map[string]string) map[string]string {
	out := make(map[string]string, len(a)+len(b))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

// Warnings are what check-config and the agent's start point out without
// refusing the config: a collector reached over plain http:// at an
// address that is not loopback, where the token travels in clear text;
// and, with update.enabled, a release public key that cannot be read
// (every release is then refused).
func (c *Config) Warnings() []*yamlconf.FieldError {
	var out []*yamlconf.FieldError
	out = append(out, c.updateWarnings()...)
	out = append(out, c.mibWarnings()...)
	for i, col := range c.Collectors {
		u, err := url.Parse(col.URL)
		if err != nil || u.Scheme != "http" || loopback(u.Hostname()) {
			continue
		}
		w := &yamlconf.FieldError{File: c.File, Path: fmt.Sprintf("collectors[%d].url", i),
			Msg: fmt.Sprintf("collector %q is reached over plain http:// at %s, which is not a loopback address: "+
				"its token and the measurements travel in clear text; use https:// (docs/install.md, \"Firewall and TLS\")", col.Name, u.Host)}
		if c.doc != nil {
			w.Line, w.Col = c.doc.Locate(w.Path)
		}
		out = append(out, w)
	}
	return append(out, c.fleetWarnings()...)
}

// warn makes a warning located at path.
func (c *Config) warn(path, format string, args ...any) *yamlconf.FieldError {
	w := &yamlconf.FieldError{File: c.File, Path: path, Msg: fmt.Sprintf(format, args...)}
	if c.doc != nil {
		w.Line, w.Col = c.doc.Locate(path)
	}
	return w
}

// loopback reports whether host (a URL's host name) is localhost or an
// address in 127.0.0.0/8 or ::1.
func loopback(host string) bool {
	if h := strings.ToLower(strings.TrimSuffix(host, ".")); h == "localhost" {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.Unmap().IsLoopback()
}

// Targets is the number of probe targets.
func (c *Config) Targets() int {
	n := len(c.ICMP) + len(c.SNMP)
	for _, pl := range c.Plugins {
		n += len(pl.Targets)
	}
	return n
}
