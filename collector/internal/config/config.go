// Package config is the configuration of pantau-collector: the embedded
// defaults, strict decoding of collector.yml (an unknown key or a wrong type
// is an error, never ignored), and semantic validation whose every error
// names its place as file:line:col: path: message, so that `pantau-collector
// check-config` points the operator at the exact spot.
package config

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"
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

	// File is the path the config was loaded from; "" for the defaults.
	File string `yaml:"-"`
	// root is the parsed document, for error positions.
	root *yaml.Node
}

// TLSConfig configures TLS on the listener.
type TLSConfig struct {
	CertFile     string `yaml:"cert_file"`
	KeyFile      string `yaml:"key_file"`
	ClientCAFile string `yaml:"client_ca_file"`
	ClientAuth   string `yaml:"client_auth"`
}

// StorageConfig configures the embedded TSDB.
type StorageConfig struct {
	Retention        Duration            `yaml:"retention"`
	OutOfOrderWindow Duration            `yaml:"out_of_order_window"`
	Fsync            string              `yaml:"fsync"`
	RemoteWrite      []RemoteWriteConfig `yaml:"remote_write"`
}

// RemoteWriteConfig is one remote-write target (not supported yet).
type RemoteWriteConfig struct {
	URL     string            `yaml:"url"`
	Headers map[string]string `yaml:"headers"`
}

// LimitsConfig bounds what one request or agent may cost.
type LimitsConfig struct {
	MaxBodyBytes        int64    `yaml:"max_body_bytes"`
	MaxSeriesPerAgent   int      `yaml:"max_series_per_agent"`
	MaxClockSkew        Duration `yaml:"max_clock_skew"`
	MaxInflightRequests int      `yaml:"max_inflight_requests"`
	BatchDedupWindow    Duration `yaml:"batch_dedup_window"`
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
		Storage: StorageConfig{
			Retention:        Duration(400 * 24 * time.Hour),
			OutOfOrderWindow: Duration(7 * 24 * time.Hour),
			Fsync:            FsyncBatch,
			RemoteWrite:      []RemoteWriteConfig{},
		},
		Limits: LimitsConfig{
			MaxBodyBytes:        32 << 20,
			MaxSeriesPerAgent:   100000,
			MaxClockSkew:        Duration(10 * time.Minute),
			MaxInflightRequests: 64,
			BatchDedupWindow:    Duration(7 * 24 * time.Hour),
		},
		Ingest: IngestConfig{StringFields: StringFieldsReject},
	}
}

// Duration is a time.Duration written as "30s", "7d", "400d" or "1h30m".
type Duration time.Duration

// Std returns the time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

func (d Duration) String() string { return model.Duration(d).String() }

// MarshalYAML writes the duration as a string.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// UnmarshalYAML reads a scalar only, so strict decoding stays in force.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: expected a duration such as \"30s\" or \"7d\"", n.Line)}}
	}
	v, err := ParseDuration(n.Value)
	if err != nil {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: %v", n.Line, err)}}
	}
	*d = Duration(v)
	return nil
}

// ParseDuration accepts Prometheus durations (units ms, s, m, h, d, w, y)
// and Go durations ("1h30m", "1.5h").
func ParseDuration(s string) (time.Duration, error) {
	if v, err := model.ParseDuration(s); err == nil {
		return time.Duration(v), nil
	}
	if v, err := time.ParseDuration(s); err == nil {
		return v, nil
	}
	return 0, fmt.Errorf("invalid duration %q: use a number with a unit, such as 30s, 10m, 7d or 400d", s)
}

// FieldError is one problem, located in the file when possible.
type FieldError struct {
	File      string
	Line, Col int
	Path      string
	Msg       string
}

func (e *FieldError) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			fmt.Fprintf(&b, ":%d:%d", e.Line, e.Col)
		}
		b.WriteString(": ")
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

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
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&root); err != nil && !errors.Is(err, io.EOF) {
		return nil, syntaxError(name, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, &FieldError{File: name, Line: extra.Line, Col: extra.Column, Msg: "more than one YAML document; a config file holds exactly one"}
	} else if !errors.Is(err, io.EOF) {
		return nil, syntaxError(name, err)
	}
	if root.Kind == 0 || (root.Kind == yaml.DocumentNode && len(root.Content) == 0) {
		return c, c.Validate() // empty file or comments only: the defaults
	}
	c.root = &root
	if doc := docBody(&root); doc.Kind != yaml.MappingNode {
		return nil, &FieldError{File: name, Line: doc.Line, Col: doc.Column, Msg: "the config must be a mapping of keys such as listen_address and storage"}
	}
	strict := yaml.NewDecoder(bytes.NewReader(data))
	strict.KnownFields(true)
	if err := strict.Decode(c); err != nil {
		var te *yaml.TypeError
		if errors.As(err, &te) {
			errs := make([]error, 0, len(te.Errors))
			for _, msg := range te.Errors {
				errs = append(errs, c.typeError(msg))
			}
			return nil, errors.Join(errs...)
		}
		return nil, syntaxError(name, err)
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

var lineRE = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

func syntaxError(name string, err error) error {
	if m := lineRE.FindStringSubmatch(err.Error()); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &FieldError{File: name, Line: line, Col: 1, Msg: "YAML syntax: " + m[2]}
	}
	return &FieldError{File: name, Msg: "YAML syntax: " + strings.TrimPrefix(err.Error(), "yaml: ")}
}

var unknownRE = regexp.MustCompile(`^field (\S+) not found in type`)

// typeError turns one of yaml's "line N: ..." messages into a FieldError.
func (c *Config) typeError(msg string) error {
	m := lineRE.FindStringSubmatch(msg)
	if m == nil {
		return &FieldError{File: c.File, Msg: msg}
	}
	line, _ := strconv.Atoi(m[1])
	text := m[2]
	if u := unknownRE.FindStringSubmatch(text); u != nil {
		path, key, _ := findKey(docBody(c.root), "", line, u[1])
		fe := &FieldError{File: c.File, Line: line, Col: 1, Path: path, Msg: "unknown field (check the spelling; `pantau-collector check-config --example` lists every key)"}
		if key != nil {
			fe.Col = key.Column
		}
		return fe
	}
	path, _, val := findKey(docBody(c.root), "", line, "")
	fe := &FieldError{File: c.File, Line: line, Col: 1, Path: path, Msg: strings.TrimPrefix(text, "cannot unmarshal ")}
	if strings.HasPrefix(text, "cannot unmarshal ") {
		fe.Msg = "wrong type: cannot decode " + strings.TrimPrefix(text, "cannot unmarshal ")
	}
	if val != nil {
		fe.Col = val.Column
	}
	return fe
}

// findKey finds the mapping entry on line (with key name, if given) and
// returns its dotted path, key node and value node.
func findKey(n *yaml.Node, prefix string, line int, name string) (string, *yaml.Node, *yaml.Node) {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := join(prefix, k.Value)
			if k.Line == line && (name == "" || k.Value == name) {
				return p, k, v
			}
			if v.Line == line && name == "" && v.Kind == yaml.ScalarNode {
				return p, k, v
			}
			if path, kk, vv := findKey(v, p, line, name); kk != nil || vv != nil {
				return path, kk, vv
			}
		}
	case yaml.SequenceNode:
		for i, item := range n.Content {
			p := fmt.Sprintf("%s[%d]", prefix, i)
			if item.Line == line && name == "" && item.Kind == yaml.ScalarNode {
				return p, nil, item
			}
			if path, kk, vv := findKey(item, p, line, name); kk != nil || vv != nil {
				return path, kk, vv
			}
		}
	}
	return "", nil, nil
}

func join(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

func docBody(root *yaml.Node) *yaml.Node {
	if root != nil && root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
		return root.Content[0]
	}
	return root
}

// locate returns the position of the value at a dotted path such as
// "storage.remote_write[0]", or of its nearest ancestor present in the file.
func (c *Config) locate(path string) (line, col int) {
	n := docBody(c.root)
	if n == nil {
		return 0, 0
	}
	for _, part := range strings.Split(path, ".") {
		name, idx := part, -1
		if i := strings.IndexByte(part, '['); i >= 0 {
			name = part[:i]
			idx, _ = strconv.Atoi(strings.TrimSuffix(part[i+1:], "]"))
		}
		next := lookup(n, name)
		if next == nil {
			return 0, 0 // not in the file: the value is a default
		}
		n = next
		if idx >= 0 {
			if n.Kind != yaml.SequenceNode || idx >= len(n.Content) {
				break
			}
			n = n.Content[idx]
		}
	}
	return n.Line, n.Column
}

func lookup(m *yaml.Node, key string) *yaml.Node {
	if m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// Validate checks the values; it returns every problem, joined.
func (c *Config) Validate() error {
	var errs []error
	add := func(path, format string, args ...any) {
		fe := &FieldError{File: c.File, Path: path, Msg: fmt.Sprintf(format, args...)}
		fe.Line, fe.Col = c.locate(path)
		errs = append(errs, fe)
	}
	oneOf := func(path, got string, allowed ...string) {
		for _, a := range allowed {
			if got == a {
				return
			}
		}
		add(path, "must be one of %s (got %q)", quoteList(allowed), got)
	}

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
	for i := range s.RemoteWrite {
		add(fmt.Sprintf("storage.remote_write[%d]", i), "not supported in this version yet; remove it or leave the list empty")
	}

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
	oneOf("ingest.string_fields", c.Ingest.StringFields, StringFieldsReject, StringFieldsDrop)

	if c.Inventory != "" {
		p := c.resolve(c.Inventory)
		if err := readable(p); err != nil {
			add("inventory", "%v", err)
		} else {
			c.Inventory = p
		}
	}
	sort.SliceStable(errs, func(i, j int) bool {
		a, b := errs[i].(*FieldError), errs[j].(*FieldError)
		return a.Line < b.Line || a.Line == b.Line && a.Col < b.Col
	})
	return errors.Join(errs...)
}

// resolve makes p relative to the config file's directory.
func (c *Config) resolve(p string) string {
	if filepath.IsAbs(p) || c.File == "" {
		return p
	}
	return filepath.Join(filepath.Dir(c.File), p)
}

func readable(p string) error {
	f, err := os.Open(p)
	if err != nil {
		return fmt.Errorf("cannot read %s: %w", p, errors.Unwrap(err))
	}
	f.Close()
	return nil
}

func quoteList(s []string) string {
	q := make([]string, len(s))
	for i, v := range s {
		q[i] = strconv.Quote(v)
	}
	return strings.Join(q, ", ")
}
