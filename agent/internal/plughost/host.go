// Package plughost runs probe plugins for the agent: one process per
// plugin, started by absolute path (never through a shell) with a clean
// environment, verified against the SHA-256 checksum from agent.yml,
// spoken to over gRPC with mutual TLS (hashicorp/go-plugin AutoMTLS), and
// restarted with backoff when it dies. Every call carries the target's
// deadline. A plugin that crashes, hangs or returns garbage fails the
// target it was asked about, and nothing else.
package plughost

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/pantau-noc/pantau/internal/retry"
	"github.com/pantau-noc/pantau/plugins/sdk"
)

// Spec is one plugin from agent.yml.
type Spec struct {
	Name         string
	Path         string // absolute
	SHA256       string // hex
	StartTimeout time.Duration
	Targets      []sdk.Target
}

// Metrics are the plugin host's self-metrics.
type Metrics struct {
	restarts *prometheus.CounterVec
	failures *prometheus.CounterVec
}

// NewMetrics registers the metrics with reg (nil: not registered).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		restarts: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "pantau_agent_plugin_starts_total",
			Help: "Plugin process starts, the first included (more than one means restarts)."}, []string{"plugin"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "pantau_agent_plugin_failures_total",
			Help: "Plugin failures by reason: start, checksum, crash, timeout, garbage, error."}, []string{"plugin", "reason"}),
	}
	if reg != nil {
		reg.MustRegister(m.restarts, m.failures)
	}
	return m
}

// Failure reasons.
const (
	ReasonStart    = "start"
	ReasonChecksum = "checksum"
	ReasonCrash    = "crash"
	ReasonTimeout  = "timeout"
	ReasonGarbage  = "garbage"
	ReasonError    = "error"
)

// Host runs one plugin.
type Host struct {
	spec Spec
	sum  []byte
	log  *slog.Logger
	m    *Metrics

	mu        sync.Mutex
	client    *plugin.Client
	probe     *sdk.Client
	desc      sdk.Description
	rejected  map[string]string
	failed    int       // consecutive failed starts and crashes
	nextStart time.Time // no start before this (backoff)
	lastErr   error
	closed    bool
}

// restartBackoff is the wait before the next start after the n-th
// failed start or crash in a row: between 1 s and 1 s·2ⁿ⁻¹, at most 5 min
// (full jitter, internal/retry).
var restartBackoff = retry.Backoff{Min: time.Second, Max: 5 * time.Minute}

// New checks the spec; the plugin starts at the first Collect.
func New(spec Spec, log *slog.Logger, m *Metrics) (*Host, error) {
	if !filepath.IsAbs(spec.Path) {
		return nil, fmt.Errorf("plugin %s: path %q must be absolute", spec.Name, spec.Path)
	}
	sum, err := hex.DecodeString(spec.SHA256)
	if err != nil || len(sum) != sha256.Size {
		return nil, fmt.Errorf("plugin %s: sha256 must be 64 hex digits (sha256sum %s)", spec.Name, spec.Path)
	}
	if spec.StartTimeout <= 0 {
		spec.StartTimeout = 10 * time.Second
	}
	if m == nil {
		m = NewMetrics(nil)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m.restarts.WithLabelValues(spec.Name)
	for _, r := range []string{ReasonStart, ReasonChecksum, ReasonCrash, ReasonTimeout, ReasonGarbage, ReasonError} {
		m.failures.WithLabelValues(spec.Name, r)
	}
	return &Host{spec: spec, sum: sum, log: log.With("plugin", spec.Name), m: m}, nil
}

// Rejected returns the targets the plugin refused at Configure, with its
// reasons (known once it has started).
func (h *Host) Rejected() map[string]string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.rejected
}

// Collect probes one target through the plugin, starting it if needed.
func (h *Host) Collect(ctx context.Context, target string) ([]sdk.Point, error) {
	p, err := h.ensure(ctx)
	if err != nil {
		return nil, err
	}
	if msg, bad := h.Rejected()[target]; bad {
		return nil, fmt.Errorf("plugin %s refused target %s: %s", h.spec.Name, target, msg)
	}
	pts, err := p.Collect(ctx, target)
	if err == nil {
		return pts, nil
	}
	reason := ReasonError
	switch {
	case h.exited():
		reason = ReasonCrash
		h.crashed(err)
	case errors.Is(err, sdk.ErrBadPoint):
		reason = ReasonGarbage
	case status.Code(err) == codes.DeadlineExceeded || errors.Is(err, context.DeadlineExceeded):
		reason = ReasonTimeout
	case status.Code(err) == codes.Unavailable:
		reason = ReasonCrash
		h.crashed(err)
	}
	h.m.failures.WithLabelValues(h.spec.Name, reason).Inc()
	if s, ok := status.FromError(err); ok {
		err = errors.New(s.Message())
	}
	return nil, fmt.Errorf("plugin %s target %s (%s): %w", h.spec.Name, target, reason, err)
}

func (h *Host) exited() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.client == nil || h.client.Exited()
}

// crashed forgets a dead plugin; the next Collect after the backoff
// starts it again.
func (h *Host) crashed(err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.client != nil {
		h.client.Kill()
		h.client, h.probe = nil, nil
	}
	h.lastErr = err
	d := h.failedStart()
	h.log.Error("plugin died; restarting after backoff", "err", err, "restart_in", d.String())
}

// failedStart counts a failed start or a crash and sets the earliest next
// start; it returns the wait (h.mu held).
func (h *Host) failedStart() time.Duration {
	h.failed++
	d := restartBackoff.Delay(h.failed).Round(time.Millisecond)
	h.nextStart = time.Now().Add(d)
	return d
}

// ensure returns the running plugin, starting it when it is not running
// and its backoff has passed.
func (h *Host) ensure(ctx context.Context) (*sdk.Client, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, fmt.Errorf("plugin %s: agent shutting down", h.spec.Name)
	}
	if h.client != nil && !h.client.Exited() {
		return h.probe, nil
	}
	if h.client != nil { // exited between calls
		h.client.Kill()
		h.client, h.probe = nil, nil
		d := h.failedStart()
		h.m.failures.WithLabelValues(h.spec.Name, ReasonCrash).Inc()
		h.log.Error("plugin exited; restarting after backoff", "restart_in", d.String())
	}
	if wait := time.Until(h.nextStart); wait > 0 {
		return nil, fmt.Errorf("plugin %s is not running (restarting in %s; last error: %v)", h.spec.Name, wait.Round(time.Second), h.lastErr)
	}
	p, err := h.start(ctx)
	if err != nil {
		h.lastErr = err
		h.failedStart()
		return nil, err
	}
	h.failed = 0
	return p, nil
}

// start launches the plugin (h.mu held).
func (h *Host) start(ctx context.Context) (*sdk.Client, error) {
	h.m.restarts.WithLabelValues(h.spec.Name).Inc()
	cmd := exec.Command(h.spec.Path) // no shell, no arguments
	cmd.Env = []string{"PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8"}
	cmd.Dir = "/"
	dieWithAgent(cmd)
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  sdk.Handshake,
		VersionedPlugins: hostPluginSets(),
		Cmd:              cmd,
		SecureConfig:     &plugin.SecureConfig{Checksum: h.sum, Hash: sha256.New()},
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:         true,
		StartTimeout:     h.spec.StartTimeout,
		Logger: hclog.New(&hclog.LoggerOptions{
			// every level: the agent's own handler filters
			Name: h.spec.Name, Output: &slogWriter{log: h.log}, JSONFormat: true, Level: hclog.Trace,
		}),
		SyncStdout: &slogWriter{log: h.log, stream: "stdout"},
		SyncStderr: &slogWriter{log: h.log, stream: "stderr"},
	})
	var rpc plugin.ClientProtocol
	err := withoutAmbientCaps(func() (err error) {
		rpc, err = client.Client() // starts the process from this goroutine
		return err
	})
	if err != nil {
		client.Kill()
		if errors.Is(err, plugin.ErrChecksumsDoNotMatch) {
			h.m.failures.WithLabelValues(h.spec.Name, ReasonChecksum).Inc()
			return nil, fmt.Errorf("plugin %s: %s does not match the sha256 in agent.yml (the file's is %s); refusing to run it", h.spec.Name, h.spec.Path, fileSum(h.spec.Path))
		}
		h.m.failures.WithLabelValues(h.spec.Name, ReasonStart).Inc()
		if m := incompatible.FindStringSubmatch(err.Error()); m != nil {
			return nil, fmt.Errorf("plugin %s: %s speaks plugin protocol %s and this agent speaks %s: rebuild the plugin with this agent's SDK, or run an agent that speaks protocol %s",
				h.spec.Name, h.spec.Path, m[1], versionList(hostPluginSets()), m[1])
		}
		return nil, fmt.Errorf("plugin %s: start %s: %w", h.spec.Name, h.spec.Path, err)
	}
	raw, err := rpc.Dispense(sdk.PluginName)
	if err != nil {
		client.Kill()
		h.m.failures.WithLabelValues(h.spec.Name, ReasonStart).Inc()
		return nil, fmt.Errorf("plugin %s: %w", h.spec.Name, err)
	}
	p, ok := raw.(*sdk.Client)
	if !ok {
		client.Kill()
		return nil, fmt.Errorf("plugin %s: unexpected client type %T", h.spec.Name, raw)
	}
	cctx, cancel := context.WithTimeout(ctx, h.spec.StartTimeout)
	defer cancel()
	desc, err := p.Describe(cctx)
	if err == nil {
		h.rejected, err = p.Configure(cctx, h.spec.Targets)
	}
	if err != nil {
		client.Kill()
		h.m.failures.WithLabelValues(h.spec.Name, ReasonStart).Inc()
		return nil, fmt.Errorf("plugin %s: describe and configure: %w", h.spec.Name, err)
	}
	for t, msg := range h.rejected {
		h.log.Error("plugin refused a target's configuration", "target", t, "reason", msg)
	}
	h.client, h.probe, h.desc = client, p, desc
	h.log.Info("plugin started", "name", desc.Name, "version", desc.Version, "protocol", client.NegotiatedVersion(), "targets", len(h.spec.Targets))
	return p, nil
}

// hostPluginSets are the plugin protocol versions the agent speaks, N
// and N-1 (sdk.PluginSets); tests stand in a next version.
var hostPluginSets = func() map[int]plugin.PluginSet { return sdk.PluginSets(nil) }

// incompatible is go-plugin's error when the plugin speaks none of the
// agent's protocol versions.
var incompatible = regexp.MustCompile(`(?i)Incompatible API version with plugin\. Plugin version: (\d+)`)

func versionList(sets map[int]plugin.PluginSet) string {
	vs := make([]int, 0, len(sets))
	for v := range sets {
		vs = append(vs, v)
	}
	slices.Sort(vs)
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = strconv.Itoa(v)
	}
	return strings.Join(parts, " and ")
}

// Close stops the plugin.
func (h *Host) Close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	if h.client != nil {
		h.client.Kill()
		h.client, h.probe = nil, nil
	}
}

func fileSum(path string) string {
	sum, err := FileSum(path)
	if err != nil {
		return "unreadable: " + err.Error()
	}
	return sum
}

// FileSum returns the SHA-256 of the file at path, in hex.
func FileSum(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("plugin file: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("read plugin file %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Check starts the plugin (as the first Collect would) and returns the
// targets it refused at Configure, with its reasons.
func (h *Host) Check(ctx context.Context) (map[string]string, error) {
	if _, err := h.ensure(ctx); err != nil {
		return nil, err
	}
	return h.Rejected(), nil
}

// slogWriter turns go-plugin's hclog lines (JSON) and a plugin's stray
// output into slog records with the plugin attribute.
type slogWriter struct {
	log    *slog.Logger
	stream string
	mu     sync.Mutex
	buf    []byte
}

func (w *slogWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	consumed := 0
	for {
		i := strings.IndexByte(string(w.buf[consumed:]), '\n')
		if i < 0 {
			break
		}
		w.line(string(w.buf[consumed : consumed+i]))
		consumed += i + 1
	}
	w.buf = w.buf[consumed:]
	if len(w.buf) > 64<<10 { // a runaway line
		w.line(string(w.buf))
		w.buf = w.buf[:0]
	}
	return len(p), nil
}

func (w *slogWriter) line(s string) {
	s = strings.TrimSpace(s)
	if s == "" {
		return
	}
	var rec map[string]any
	if w.stream != "" || json.Unmarshal([]byte(s), &rec) != nil {
		if len(s) > 512 {
			s = s[:512] + "…"
		}
		w.log.Warn("plugin wrote to "+firstNonEmpty(w.stream, "its log")+" outside the protocol", "line", s)
		return
	}
	level := slog.LevelInfo
	switch rec["@level"] {
	case "trace", "debug":
		level = slog.LevelDebug
	case "warn":
		level = slog.LevelWarn
	case "error":
		level = slog.LevelError
	}
	msg, _ := rec["@message"].(string)
	var attrs []any
	for k, v := range rec {
		// go-plugin repeats the plugin's record time as "timestamp"
		if strings.HasPrefix(k, "@") || k == "plugin" || k == "timestamp" {
			continue
		}
		attrs = append(attrs, k, v)
	}
	w.log.Log(context.Background(), level, msg, attrs...)
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
