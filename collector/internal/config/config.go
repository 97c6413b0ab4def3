// Package config is the configuration of pantau-collector: the embedded
// defaults, strict decoding of collector.yml (an unknown key or a wrong type
// is an error, never ignored), and semantic validation whose every error
// names its place as file:line:col: path: message, so that `pantau-collector
// check-config` points the operator at the exact spot.
package config

import (
	_ "embed"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/alert"
	"github.com/pantau-noc/pantau/collector/internal/calendar"
	"github.com/pantau-noc/pantau/collector/internal/docnum"
	"github.com/pantau-noc/pantau/collector/internal/inventory"
	"github.com/pantau-noc/pantau/collector/internal/notify"
	"github.com/pantau-noc/pantau/internal/yamlconf"
)

// ExampleYAML is the commented reference config (pantau-collector
// check-config --example).
//
//go:embed example.yml
var ExampleYAML []byte

// Enumerations.
const (
	FsyncBatch         = "batch"
	FsyncNever         = "never"
	StringFieldsReject = "reject"
	StringFieldsDrop   = "drop"
	ClientAuthNone     = "none"
	ClientAuthOptional = "optional"
	ClientAuthRequire  = "require"
)

// Config is collector.yml.
type Config struct {
	ListenAddress string        `yaml:"listen_address"`
	DataDir       string        `yaml:"data_dir"`
	TLS           TLSConfig     `yaml:"tls"`
	Storage       StorageConfig `yaml:"storage"`
	Limits        LimitsConfig  `yaml:"limits"`
	Ingest        IngestConfig  `yaml:"ingest"`
	Inventory     string        `yaml:"inventory"`
	Report        ReportConfig  `yaml:"report"`
	Auth          AuthConfig    `yaml:"auth"`
	// Notifiers are the chat and webhook endpoints alerts go to.
	Notifiers []notify.Config `yaml:"notifiers"`
	// Alerting holds the alert rules and routes (used when notifiers are
	// configured).
	Alerting alert.Config `yaml:"alerting"`
	// Fleet is fleet management over OpAMP (docs/fleet.md).
	Fleet FleetConfig `yaml:"fleet"`

	// File is the path the config was loaded from; "" for the defaults.
	File string `yaml:"-"`
	// doc is the parsed file, for error positions.
	doc *yamlconf.Doc
}

// FleetConfig configures fleet management (collector/internal/fleet).
type FleetConfig struct {
	// CredentialsKeyFile holds the 32-byte key that seals SNMP credential
	// profiles at rest; "" is <data_dir>/credentials.key.
	CredentialsKeyFile string             `yaml:"credentials_key_file"`
	Updates            FleetUpdatesConfig `yaml:"updates"`
}

// FleetUpdatesConfig configures agent updates.
type FleetUpdatesConfig struct {
	// Enabled offers agents the newest signed release for their platform
	// (pantau-collector release sign); off by default. Reloads.
	Enabled bool `yaml:"enabled"`
}

// CredentialsKeyFile is the credentials key file in force.
func (c *Config) CredentialsKeyFile() string {
	if c.Fleet.CredentialsKeyFile != "" {
		return c.Fleet.CredentialsKeyFile
	}
	return filepath.Join(c.DataDir, "credentials.key")
}

// TLSConfig configures TLS on the listener.
type TLSConfig struct {
	CertFile     string `yaml:"cert_file"`
	KeyFile      string `yaml:"key_file"`
	ClientCAFile string `yaml:"client_ca_file"`
	ClientAuth   string `yaml:"client_auth"`
}

// StorageConfig configures the embedded TSDB and remote write.
type StorageConfig struct {
	Retention        Duration `yaml:"retention"`
	OutOfOrderWindow Duration `yaml:"out_of_order_window"`
	Fsync            string   `yaml:"fsync"`
	// Local keeps the embedded TSDB. false (remote only) needs
	// remote_write and remote_query: the collector then stores no samples
	// and reads back through the engine's query API.
	Local       bool                `yaml:"local"`
	RemoteWrite []RemoteWriteConfig `yaml:"remote_write"`
	RemoteQueue RemoteQueueConfig   `yaml:"remote_queue"`
	RemoteQuery *EndpointConfig     `yaml:"remote_query"`
	// Instance is this collector's collector="..." label on its own
	// process series in the engine; default: host name and listen port.
	Instance string `yaml:"instance"`
}

// EndpointConfig is an engine's HTTP endpoint and how to authenticate.
type EndpointConfig struct {
	URL             string            `yaml:"url"`
	Headers         map[string]string `yaml:"headers"`
	BearerTokenFile string            `yaml:"bearer_token_file"`
	BasicAuth       *BasicAuthConfig  `yaml:"basic_auth"`
	TLS             ClientTLSConfig   `yaml:"tls"`
	Timeout         Duration          `yaml:"timeout"`
}

// RemoteWriteConfig is one remote-write engine.
type RemoteWriteConfig struct {
	Name           string `yaml:"name"` // queue cursor and metric label
	EndpointConfig `yaml:",inline"`
	Shards         int `yaml:"shards"`
}

// BasicAuthConfig is HTTP basic authentication; the password is read from
// a file.
type BasicAuthConfig struct {
	Username     string `yaml:"username"`
	PasswordFile string `yaml:"password_file"`
}

// ClientTLSConfig configures TLS to an engine.
type ClientTLSConfig struct {
	CAFile             string `yaml:"ca_file"`
	CertFile           string `yaml:"cert_file"`
	KeyFile            string `yaml:"key_file"`
	ServerName         string `yaml:"server_name"`
	InsecureSkipVerify bool   `yaml:"insecure_skip_verify"`
}

// RemoteQueueConfig bounds the on-disk remote-write queue.
type RemoteQueueConfig struct {
	MaxSizeBytes         int64    `yaml:"max_size_bytes"`
	MaxAge               Duration `yaml:"max_age"`
	MaxSamplesPerRequest int      `yaml:"max_samples_per_request"`
}

// LimitsConfig bounds what one request or agent may cost.
type LimitsConfig struct {
	MaxBodyBytes        int64    `yaml:"max_body_bytes"`
	MaxSeriesPerAgent   int      `yaml:"max_series_per_agent"`
	MaxClockSkew        Duration `yaml:"max_clock_skew"`
	MaxInflightRequests int      `yaml:"max_inflight_requests"`
	BatchDedupWindow    Duration `yaml:"batch_dedup_window"`
	// Fair share between agents, and the process's memory.
	MaxInflightRequestsPerAgent int      `yaml:"max_inflight_requests_per_agent"`
	MinBodyRateBytesPerSecond   int64    `yaml:"min_body_rate_bytes_per_second"`
	BodyReadGrace               Duration `yaml:"body_read_grace"`
	MaxDecodedBytesInFlight     int64    `yaml:"max_decoded_bytes_in_flight"`
	// MemoryLimit is the Go runtime's soft memory limit in bytes; 0
	// derives it from the machine (see MemoryLimitFraction*), and the
	// GOMEMLIMIT environment variable overrides both.
	MemoryLimit int64 `yaml:"memory_limit"`
	// Names and ids, checked after normalisation to Prometheus names.
	MaxMeasurementBytes int `yaml:"max_measurement_bytes"`
	MaxTagKeyBytes      int `yaml:"max_tag_key_bytes"`
	MaxFieldKeyBytes    int `yaml:"max_field_key_bytes"`
	MaxLabelsPerSeries  int `yaml:"max_labels_per_series"`
	// MaxBatchesPerRequest bounds the batches of one multi-batch write
	// request (413 above it).
	MaxBatchesPerRequest    int   `yaml:"max_batches_per_request"`
	BatchDedupBytesPerAgent int64 `yaml:"batch_dedup_bytes_per_agent"`
	// Failed authentications per source address.
	AuthFailuresPerMinute int `yaml:"auth_failures_per_minute"`
	AuthFailureAddresses  int `yaml:"auth_failure_addresses"`
	// Remote read (/api/v1/read): samples and series one request may
	// read, over all its queries (413 above them); 0 = no limit.
	RemoteReadMaxSamples int `yaml:"remote_read_max_samples"`
	RemoteReadMaxSeries  int `yaml:"remote_read_max_series"`
	// RemoteReadMaxQueries bounds the queries of one remote read request.
	RemoteReadMaxQueries int `yaml:"remote_read_max_queries"`
	// FederateMaxSeries bounds the series one /federate answer holds
	// (422 above it); 0 = no limit.
	FederateMaxSeries int `yaml:"federate_max_series"`
	// MaxConcurrentExports bounds the /federate and remote read requests
	// served at once (one more waits up to 10 s, then 503); 0 = no limit.
	MaxConcurrentExports int `yaml:"max_concurrent_exports"`
	// MaxMatchSelectors bounds the match[] selectors of one request
	// (series, labels, label values, /federate; 400 above); 0 = no limit.
	MaxMatchSelectors int `yaml:"max_match_selectors"`
}

// ReportConfig holds report settings.
type ReportConfig struct {
	// TimeZone is the Pemda's zone (WIB, WITA, WIT or an Indonesian IANA
	// name): dates on the command line and report periods without a zone
	// are read in it. Empty: the inventory's (inventory.Zone), else WIB.
	TimeZone string `yaml:"time_zone"`
	// HolidaysDir is a directory of holiday calendars (holidays-YYYY.yml)
	// that replace or extend the built-in years (2026, 2027) for service
	// hours; relative to the config file. Empty: the built-in years.
	HolidaysDir string `yaml:"holidays_dir"`
	// MinContractCompleteness is the share (percent) of a contract month
	// whose state must be known for the month to claim restitution;
	// under it the month is "data tidak lengkap". Default 90.
	MinContractCompleteness float64 `yaml:"min_contract_completeness_pct"`
	// ForecastHorizon bounds the capacity forecast: a trend that reaches
	// 80 % of the capacity later than this after the report date, or
	// never, is reported "beyond the horizon" instead of a date. Default
	// 2y (730 days).
	ForecastHorizon Duration `yaml:"forecast_horizon"`
	// BundleMaxBytes bounds an evidence bundle (GET /api/v1/evidence):
	// the sum of its files' sizes; larger ones are refused (413) before
	// any byte is sent. 0 = no limit.
	BundleMaxBytes int64 `yaml:"bundle_max_bytes"`
	// BundleMaxEntries bounds the files of an evidence bundle (413
	// above). 0 = no limit.
	BundleMaxEntries int `yaml:"bundle_max_entries"`
	// BundleMaxConcurrent is how many evidence bundles a collector builds
	// at once; one more is refused (503 with Retry-After).
	BundleMaxConcurrent int `yaml:"bundle_max_concurrent"`
	// CapacityPlan is the annual report's capacity rule: "tambah
	// kapasitas" for a link whose p95 exceeds ThresholdPct % of its
	// contracted bandwidth in at least Months months of the year.
	// Zero: 80 % and 3 months.
	CapacityPlan CapacityPlanConfig `yaml:"capacity_plan"`
	// Chromium is the browser that prints the PDF report (format=pdf);
	// empty: /usr/bin/chromium or chromium-headless-shell. Optional: without
	// it PDF output answers 501.
	Chromium string `yaml:"chromium"`
	// PDFMaxConcurrent bounds the PDF renders at once (one more: 503).
	PDFMaxConcurrent int `yaml:"pdf_max_concurrent"`
	// PDFTimeout bounds one PDF render.
	PDFTimeout Duration `yaml:"pdf_timeout"`
	// DocumentNumber is the pattern of the approval sheet's document
	// number (collector/internal/docnum).
	DocumentNumber string `yaml:"document_number"`
	// Approval names who prepares, checks and approves the reports.
	Approval ApprovalConfig `yaml:"approval"`
}

// CapacityPlanConfig is report.capacity_plan.
type CapacityPlanConfig struct {
	ThresholdPct float64 `yaml:"threshold_pct"`
	Months       int     `yaml:"months"`
}

// ApprovalConfig is the approval sheet's signatories (disusun, diperiksa,
// disetujui).
type ApprovalConfig struct {
	PreparedBy Signatory `yaml:"prepared_by"`
	CheckedBy  Signatory `yaml:"checked_by"`
	ApprovedBy Signatory `yaml:"approved_by"`
}

// Signatory is one signatory: name, position (jabatan) and NIP.
type Signatory struct {
	Name  string `yaml:"name"`
	Title string `yaml:"title"`
	NIP   string `yaml:"nip"`
}

// The automatic limits.memory_limit: this fraction of the cgroup's
// memory.max when the collector runs in a memory-limited cgroup (a
// systemd MemoryMax=, a container), else of the machine's MemTotal (a
// NOC server shared with Grafana and others).
const (
	MemoryLimitFractionCgroup = 0.8
	MemoryLimitFractionHost   = 0.5
)

// AuthConfig configures access control. Every endpoint except /healthz
// and /readyz needs a credential (docs/api.md).
type AuthConfig struct {
	// Anonymous is the role of requests without a credential: "" (none,
	// the default: 401) or "viewer", for a lab on a trusted network.
	Anonymous string `yaml:"anonymous"`
	// MaxEvidenceBytes bounds one uploaded evidence file.
	MaxEvidenceBytes int64 `yaml:"max_evidence_bytes"`
	// MaxInventoryBytes bounds the inventory PUT /api/v1/inventory takes.
	MaxInventoryBytes int64 `yaml:"max_inventory_bytes"`
	// SessionIdle ends a web UI session after this long without a
	// request; SessionLifetime after this long since the login.
	SessionIdle     Duration `yaml:"session_idle"`
	SessionLifetime Duration `yaml:"session_lifetime"`
	// LockoutFailures wrong passwords in a row lock a user for
	// LockoutDuration (the web login and basic auth alike).
	LockoutFailures int      `yaml:"lockout_failures"`
	LockoutDuration Duration `yaml:"lockout_duration"`
}

// IngestConfig tunes the write path.
type IngestConfig struct {
	StringFields string `yaml:"string_fields"`
}

// Default returns the embedded defaults: a first run needs no file.
func Default() *Config {
	return &Config{
		ListenAddress: "0.0.0.0:9810",
		DataDir:       "pantau-data",
		TLS:           TLSConfig{ClientAuth: ClientAuthNone},
		Auth: AuthConfig{MaxEvidenceBytes: 20 << 20, MaxInventoryBytes: 8 << 20, SessionIdle: Duration(2 * time.Hour),
			SessionLifetime: Duration(12 * time.Hour), LockoutFailures: 5, LockoutDuration: Duration(15 * time.Minute)},
		Report: ReportConfig{ForecastHorizon: Duration(730 * 24 * time.Hour), MinContractCompleteness: 90, BundleMaxBytes: 1 << 30, BundleMaxEntries: 10000, BundleMaxConcurrent: 1,
			PDFMaxConcurrent: 1, PDFTimeout: Duration(2 * time.Minute), DocumentNumber: docnum.Default},
		Storage: StorageConfig{
			Retention:        Duration(400 * 24 * time.Hour),
			OutOfOrderWindow: Duration(7 * 24 * time.Hour),
			Fsync:            FsyncBatch,
			Local:            true,
			RemoteWrite:      []RemoteWriteConfig{},
			RemoteQueue: RemoteQueueConfig{
				MaxSizeBytes:         1 << 30,
				MaxAge:               Duration(7 * 24 * time.Hour),
				MaxSamplesPerRequest: 2000,
			},
		},
		Limits: LimitsConfig{
			MaxBodyBytes:        32 << 20,
			MaxSeriesPerAgent:   100000,
			MaxClockSkew:        Duration(10 * time.Minute),
			MaxInflightRequests: 64,
			BatchDedupWindow:    Duration(7 * 24 * time.Hour),

			MaxInflightRequestsPerAgent: 4,
			MinBodyRateBytesPerSecond:   1024,
			BodyReadGrace:               Duration(10 * time.Second),
			MaxDecodedBytesInFlight:     256 << 20,
			MaxMeasurementBytes:         256,
			MaxTagKeyBytes:              256,
			MaxFieldKeyBytes:            256,
			MaxLabelsPerSeries:          64,
			MaxBatchesPerRequest:        4096,
			BatchDedupBytesPerAgent:     1 << 20,
			AuthFailuresPerMinute:       20,
			AuthFailureAddresses:        4096,
			RemoteReadMaxSamples:        2_000_000,
			RemoteReadMaxSeries:         100_000,
			RemoteReadMaxQueries:        64,
			FederateMaxSeries:           100_000,
			MaxConcurrentExports:        2,
			MaxMatchSelectors:           64,
		},
		Ingest:    IngestConfig{StringFields: StringFieldsDrop},
		Notifiers: []notify.Config{},
		Alerting:  alert.DefaultConfig(),
	}
}

// Duration is a time.Duration written as "30s", "7d", "400d" or "1h30m".
type Duration = yamlconf.Duration

// ParseDuration accepts Prometheus and Go durations.
var ParseDuration = yamlconf.ParseDuration

// FieldError is one problem, located in the file when possible.
type FieldError = yamlconf.FieldError

// Load reads, decodes and validates the file at path.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config %s: %w", path, err)
	}
	return Parse(path, data)
}

// Parse decodes and validates data; name is used in error positions and
// to resolve relative paths.
func Parse(name string, data []byte) (*Config, error) {
	c := Default()
	c.File = name
	doc, err := yamlconf.Decode(name, data, c, "; `pantau-collector check-config --example` lists every key")
	if err != nil {
		return nil, err
	}
	c.doc = doc
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// Validate checks the values; it returns every problem, joined.
func (c *Config) Validate() error {
	if c.doc == nil {
		c.doc = &yamlconf.Doc{File: c.File}
	}
	probs := yamlconf.NewProblems(c.doc)
	add, oneOf := probs.Add, probs.OneOf

	if _, port, err := net.SplitHostPort(c.ListenAddress); err != nil {
		add("listen_address", "must be host:port, such as 0.0.0.0:9810 or 127.0.0.1:9810 (got %q)", c.ListenAddress)
	} else if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		add("listen_address", "port must be a number 0-65535 (got %q)", port)
	}
	if strings.TrimSpace(c.DataDir) == "" {
		add("data_dir", "must not be empty: the TSDB and state.db live there")
	}

	t := c.TLS
	switch {
	case (t.CertFile == "") != (t.KeyFile == ""):
		if t.CertFile == "" {
			add("tls.cert_file", "must be set when tls.key_file is set")
		} else {
			add("tls.key_file", "must be set when tls.cert_file is set")
		}
	case t.ClientCAFile != "" && t.CertFile == "":
		add("tls.client_ca_file", "client certificates need TLS: set tls.cert_file and tls.key_file too")
	}
	for _, f := range []struct{ path, file string }{{"tls.cert_file", t.CertFile}, {"tls.key_file", t.KeyFile}, {"tls.client_ca_file", t.ClientCAFile}} {
		if f.file != "" {
			if err := readable(c.resolve(f.file)); err != nil {
				add(f.path, "%v", err)
			}
		}
	}
	oneOf("tls.client_auth", t.ClientAuth, ClientAuthNone, ClientAuthOptional, ClientAuthRequire)
	if (t.ClientAuth == ClientAuthOptional || t.ClientAuth == ClientAuthRequire) && t.ClientCAFile == "" {
		add("tls.client_auth", "%q needs tls.client_ca_file, the CA that signs client certificates", t.ClientAuth)
	}

	oneOf("auth.anonymous", c.Auth.Anonymous, "", "viewer")
	if c.Auth.MaxEvidenceBytes <= 0 || c.Auth.MaxEvidenceBytes > 1<<30 {
		add("auth.max_evidence_bytes", "must be between 1 and 1073741824 bytes (got %d)", c.Auth.MaxEvidenceBytes)
	}
	if c.Auth.MaxInventoryBytes <= 0 || c.Auth.MaxInventoryBytes > 1<<30 {
		add("auth.max_inventory_bytes", "must be between 1 and 1073741824 bytes (got %d)", c.Auth.MaxInventoryBytes)
	}
	if d := c.Auth.SessionIdle.Std(); d < time.Minute || d > 30*24*time.Hour {
		add("auth.session_idle", "must be between 1m and 30d (got %s)", c.Auth.SessionIdle)
	}
	if d := c.Auth.SessionLifetime.Std(); d < c.Auth.SessionIdle.Std() || d > 90*24*time.Hour {
		add("auth.session_lifetime", "must be at least auth.session_idle (%s) and at most 90d (got %s)", c.Auth.SessionIdle, c.Auth.SessionLifetime)
	}
	if c.Auth.LockoutFailures < 1 || c.Auth.LockoutFailures > 1000 {
		add("auth.lockout_failures", "must be between 1 and 1000 (got %d)", c.Auth.LockoutFailures)
	}
	if d := c.Auth.LockoutDuration.Std(); d < time.Second || d > 24*time.Hour {
		add("auth.lockout_duration", "must be between 1s and 24h (got %s)", c.Auth.LockoutDuration)
	}

	s := c.Storage
	if s.Retention <= 0 {
		add("storage.retention", "must be positive (got %s)", s.Retention)
	}
	if s.OutOfOrderWindow < 0 {
		add("storage.out_of_order_window", "must not be negative (got %s)", s.OutOfOrderWindow)
	} else if s.Retention > 0 && s.OutOfOrderWindow > s.Retention {
		add("storage.out_of_order_window", "must not exceed storage.retention (%s > %s)", s.OutOfOrderWindow, s.Retention)
	}
	oneOf("storage.fsync", s.Fsync, FsyncBatch, FsyncNever)
	c.validateRemote(add)

	l := c.Limits
	if l.MaxBodyBytes < 1024 || l.MaxBodyBytes > 1<<30 {
		add("limits.max_body_bytes", "must be between 1024 and 1073741824 (got %d)", l.MaxBodyBytes)
	}
	if l.MaxSeriesPerAgent < 1 {
		add("limits.max_series_per_agent", "must be at least 1 (got %d)", l.MaxSeriesPerAgent)
	}
	if l.MaxClockSkew < 0 {
		add("limits.max_clock_skew", "must not be negative (got %s)", l.MaxClockSkew)
	}
	if l.MaxInflightRequests < 1 {
		add("limits.max_inflight_requests", "must be at least 1 (got %d)", l.MaxInflightRequests)
	}
	if l.BatchDedupWindow < 0 {
		add("limits.batch_dedup_window", "must not be negative (got %s)", l.BatchDedupWindow)
	}
	c.validateFairShare(add)
	oneOf("ingest.string_fields", c.Ingest.StringFields, StringFieldsReject, StringFieldsDrop)

	names := map[string]int{}
	for i := range c.Notifiers {
		n := &c.Notifiers[i]
		path := fmt.Sprintf("notifiers[%d]", i)
		n.Validate(probs, path)
		if j, dup := names[n.Name]; dup && n.Name != "" {
			add(path+".name", "%q is already the name of notifiers[%d]; names must be unique", n.Name, j)
		}
		names[n.Name] = i
	}
	var notifierNames []string
	for _, n := range c.Notifiers {
		notifierNames = append(notifierNames, n.Name)
	}
	c.Alerting.Validate(probs, "alerting", notifierNames)
	for _, n := range c.Notifiers {
		if n.Name == c.Alerting.Console.Notifier && n.Type != "telegram" {
			add("alerting.console.notifier", "%q is a %s notifier; the console needs a telegram one", n.Name, n.Type)
		}
	}

	if z := c.Report.TimeZone; z != "" && inventory.Location(z) == nil {
		add("report.time_zone", "must be one of %s (got %q)", yamlconf.QuoteList(inventory.TimeZoneNames()), z)
	}
	if d := c.Report.HolidaysDir; d != "" {
		c.Report.HolidaysDir = c.resolve(d)
		if _, err := calendar.Load(c.Report.HolidaysDir); err != nil {
			add("report.holidays_dir", "%v", err)
		}
	}
	if v := c.Report.MinContractCompleteness; !(v > 0 && v <= 100) { // NaN (.nan) too
		add("report.min_contract_completeness_pct", "must be above 0 and at most 100 (got %v)", v)
	}
	if c.Report.ForecastHorizon <= 0 {
		add("report.forecast_horizon", "must be positive, such as 2y (got %s)", c.Report.ForecastHorizon)
	}
	if c.Report.BundleMaxBytes < 0 {
		add("report.bundle_max_bytes", "must be 0 (no limit) or more bytes (got %d)", c.Report.BundleMaxBytes)
	}
	if c.Report.BundleMaxEntries < 0 {
		add("report.bundle_max_entries", "must be 0 (no limit) or more files (got %d)", c.Report.BundleMaxEntries)
	}
	if c.Report.BundleMaxConcurrent < 1 || c.Report.BundleMaxConcurrent > 64 {
		add("report.bundle_max_concurrent", "must be between 1 and 64 (got %d)", c.Report.BundleMaxConcurrent)
	}
	if v := c.Report.CapacityPlan.ThresholdPct; v < 0 || v > 100 {
		add("report.capacity_plan.threshold_pct", "must be a percentage of the contracted bandwidth from 0 (default 80) to 100 (got %g)", v)
	}
	if v := c.Report.CapacityPlan.Months; v < 0 || v > 12 {
		add("report.capacity_plan.months", "must be a number of months of the year from 0 (default 3) to 12 (got %d)", v)
	}
	if c.Report.PDFMaxConcurrent < 1 {
		add("report.pdf_max_concurrent", "must be at least 1 (got %d)", c.Report.PDFMaxConcurrent)
	}
	if c.Report.PDFTimeout.Std() < time.Second {
		add("report.pdf_timeout", "must be at least 1s (got %s)", c.Report.PDFTimeout.Std())
	}
	if _, err := docnum.Parse(c.Report.DocumentNumber); err != nil {
		add("report.document_number", "%v", err)
	}

	if c.Inventory != "" {
		p := c.resolve(c.Inventory)
		if err := readable(p); err != nil {
			add("inventory", "%v", err)
		} else {
			c.Inventory = p
		}
	}
	return probs.Err()
}

func (c *Config) resolve(p string) string { return c.doc.Resolve(p) }

// validateFairShare checks the limits that share the collector between
// agents and bound names and ids.
func (c *Config) validateFairShare(add func(path, format string, args ...any)) {
	l := c.Limits
	if l.MaxInflightRequestsPerAgent < 1 {
		add("limits.max_inflight_requests_per_agent", "must be at least 1 (got %d)", l.MaxInflightRequestsPerAgent)
	}
	if l.MinBodyRateBytesPerSecond < 0 {
		add("limits.min_body_rate_bytes_per_second", "must not be negative; 0 turns the minimum off (got %d)", l.MinBodyRateBytesPerSecond)
	}
	if l.BodyReadGrace < Duration(time.Second) {
		add("limits.body_read_grace", "must be at least 1s (got %s)", l.BodyReadGrace)
	}
	if l.MaxDecodedBytesInFlight <= l.MaxBodyBytes {
		add("limits.max_decoded_bytes_in_flight", "must be larger than limits.max_body_bytes (%d), so that one largest body fits (got %d)", l.MaxBodyBytes, l.MaxDecodedBytesInFlight)
	}
	if l.MemoryLimit != 0 && l.MemoryLimit < 64<<20 {
		add("limits.memory_limit", "must be 0 (automatic) or at least 67108864 bytes (got %d)", l.MemoryLimit)
	}
	for _, n := range []struct {
		path string
		v    int
	}{{"limits.max_measurement_bytes", l.MaxMeasurementBytes}, {"limits.max_tag_key_bytes", l.MaxTagKeyBytes}, {"limits.max_field_key_bytes", l.MaxFieldKeyBytes}} {
		if n.v < 16 || n.v > 65536 {
			add(n.path, "must be between 16 and 65536 (got %d)", n.v)
		}
	}
	if l.MaxLabelsPerSeries < 8 || l.MaxLabelsPerSeries > 1024 {
		add("limits.max_labels_per_series", "must be between 8 and 1024 (got %d)", l.MaxLabelsPerSeries)
	}
	if l.MaxBatchesPerRequest < 1 || l.MaxBatchesPerRequest > 65536 {
		add("limits.max_batches_per_request", "must be between 1 and 65536 (got %d)", l.MaxBatchesPerRequest)
	}
	if l.BatchDedupBytesPerAgent < 4096 {
		add("limits.batch_dedup_bytes_per_agent", "must be at least 4096 (got %d)", l.BatchDedupBytesPerAgent)
	}
	for _, k := range []struct {
		key string
		v   int
	}{
		{"limits.remote_read_max_samples", l.RemoteReadMaxSamples},
		{"limits.remote_read_max_series", l.RemoteReadMaxSeries},
		{"limits.remote_read_max_queries", l.RemoteReadMaxQueries},
		{"limits.federate_max_series", l.FederateMaxSeries},
		{"limits.max_match_selectors", l.MaxMatchSelectors},
		{"limits.max_concurrent_exports", l.MaxConcurrentExports},
	} {
		if k.v < 0 {
			add(k.key, "must not be negative; 0 turns the limit off (got %d)", k.v)
		}
	}
	if l.AuthFailuresPerMinute < 0 {
		add("limits.auth_failures_per_minute", "must not be negative; 0 turns the limit off (got %d)", l.AuthFailuresPerMinute)
	}
	if l.AuthFailureAddresses < 16 || l.AuthFailureAddresses > 1<<20 {
		add("limits.auth_failure_addresses", "must be between 16 and 1048576 (got %d)", l.AuthFailureAddresses)
	}
}

var endpointNameRE = regexp.MustCompile(`^[a-z0-9_-]{1,64}$`)

// validateRemote checks storage.remote_write, remote_queue and
// remote_query, and resolves their files relative to the config.
func (c *Config) validateRemote(add func(path, format string, args ...any)) {
	s := &c.Storage
	names := map[string]int{}
	for i := range s.RemoteWrite {
		rw := &s.RemoteWrite[i]
		p := fmt.Sprintf("storage.remote_write[%d]", i)
		switch {
		case rw.Name == "":
			add(p+".name", "must be set: it names the engine's queue cursor and metrics, e.g. victoria")
		case !endpointNameRE.MatchString(rw.Name):
			add(p+".name", "must be 1-64 of a-z, 0-9, _ and - (got %q)", rw.Name)
		default:
			if j, dup := names[rw.Name]; dup {
				add(p+".name", "%q is already the name of storage.remote_write[%d]; names must be unique", rw.Name, j)
			}
			names[rw.Name] = i
		}
		c.validateEndpoint(add, p, &rw.EndpointConfig, "/api/v1/write")
		if rw.Shards < 0 || rw.Shards > 64 {
			add(p+".shards", "must be between 1 and 64, or 0 for the default 4 (got %d)", rw.Shards)
		}
	}
	q := s.RemoteQueue
	if q.MaxSizeBytes < 1<<20 {
		add("storage.remote_queue.max_size_bytes", "must be at least 1048576 (got %d)", q.MaxSizeBytes)
	}
	if q.MaxAge <= 0 {
		add("storage.remote_queue.max_age", "must be positive (got %s)", q.MaxAge)
	}
	if q.MaxSamplesPerRequest < 1 || q.MaxSamplesPerRequest > 1_000_000 {
		add("storage.remote_queue.max_samples_per_request", "must be between 1 and 1000000 (got %d)", q.MaxSamplesPerRequest)
	}
	if s.RemoteQuery != nil {
		c.validateEndpoint(add, "storage.remote_query", s.RemoteQuery, "")
	}
	if !s.Local {
		if len(s.RemoteWrite) == 0 {
			add("storage.local", "false (remote only) needs storage.remote_write: samples would be stored nowhere")
		}
		if s.RemoteQuery == nil {
			add("storage.local", "false (remote only) needs storage.remote_query: alerts, reports and /api/v1 read the engine's query API, e.g. {url: http://127.0.0.1:8428}")
		}
	}
}

func (c *Config) validateEndpoint(add func(path, format string, args ...any), p string, e *EndpointConfig, wantPath string) {
	u, err := url.Parse(e.URL)
	switch {
	case e.URL == "":
		add(p+".url", "must be set, e.g. http://127.0.0.1:8428%s", wantPath)
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		add(p+".url", "must be an http:// or https:// URL with a host (got %q)", e.URL)
	case u.User != nil:
		add(p+".url", "must not carry credentials; use basic_auth or bearer_token_file (the value is not shown)")
	}
	for k, v := range e.Headers {
		if strings.ContainsAny(k, " :\r\n\t") || k == "" {
			add(p+".headers", "%q is not a valid header name", k)
		}
		if strings.ContainsAny(v, "\r\n") {
			add(p+".headers."+k, "must not contain a line break (the value is not shown)")
		}
	}
	if e.BearerTokenFile != "" && e.BasicAuth != nil {
		add(p+".basic_auth", "use either basic_auth or bearer_token_file, not both")
	}
	files := []struct {
		path string
		file *string
	}{{p + ".bearer_token_file", &e.BearerTokenFile}, {p + ".tls.ca_file", &e.TLS.CAFile},
		{p + ".tls.cert_file", &e.TLS.CertFile}, {p + ".tls.key_file", &e.TLS.KeyFile}}
	if e.BasicAuth != nil {
		if e.BasicAuth.Username == "" {
			add(p+".basic_auth.username", "must be set")
		}
		if e.BasicAuth.PasswordFile == "" {
			add(p+".basic_auth.password_file", "must be set: a file holding the password")
		}
		files = append(files, struct {
			path string
			file *string
		}{p + ".basic_auth.password_file", &e.BasicAuth.PasswordFile})
	}
	for _, f := range files {
		if *f.file == "" {
			continue
		}
		path := c.resolve(*f.file)
		if err := readable(path); err != nil {
			add(f.path, "%v", err)
		} else {
			*f.file = path
		}
	}
	if (e.TLS.CertFile == "") != (e.TLS.KeyFile == "") {
		add(p+".tls", "cert_file and key_file go together")
	}
	if e.Timeout < 0 {
		add(p+".timeout", "must not be negative (got %s)", e.Timeout)
	}
}

var readable = yamlconf.Readable
