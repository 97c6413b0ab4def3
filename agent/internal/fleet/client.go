package fleet

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/open-telemetry/opamp-go/client"
	"github.com/open-telemetry/opamp-go/client/types"
	"github.com/open-telemetry/opamp-go/protobufs"

	"github.com/pantau-noc/pantau/agent/internal/config"
	"github.com/pantau-noc/pantau/agent/internal/update"
	"github.com/pantau-noc/pantau/internal/buildinfo"
	"github.com/pantau-noc/pantau/internal/fleetproto"
)

// Updater installs an offered release of pantau-agent (the agent wires
// agent/internal/update in). Offer downloads, verifies and stages the
// file; staged reports that the agent must restart to run it on trial
// (Options.Restart), err why it was refused (reported to the collector).
// It is called for one offer at a time.
type Updater interface {
	Offer(ctx context.Context, version string, file *protobufs.DownloadableFile) (staged bool, err error)
}

// QueueStats is the part of the queue's statistics the status message
// carries.
type QueueStats struct {
	Points, Bytes int64
	Oldest        time.Time // zero when the queue is empty
}

// Options configure a Client.
type Options struct {
	StateDir     string
	State        State
	CollectorURL string
	Token        *config.LiveToken
	PollInterval time.Duration
	Logger       *slog.Logger
	// Apply validates a remote config fragment merged with the local
	// agent.yml and, when it loads, puts it in force without a restart.
	Apply func(ctx context.Context, fragment []byte) error
	// Effective returns the YAML document in force (unredacted).
	Effective func() []byte
	// Queue returns the queue's statistics (nil until the queue is open).
	Queue func() (QueueStats, bool)
	// RemoteHash is the hash of the cached remote config in force at
	// start (nil: none).
	RemoteHash []byte
	// UpdateEnabled advertises AcceptsPackages; Updater installs offers
	// (nil: every offer is refused).
	UpdateEnabled bool
	Updater       Updater
	// Restart stops the agent so that it exits with update.ExitCode and
	// the launcher runs the staged release on trial. It is called once an
	// offer was staged and its Installing status sent (or, with the
	// collector unreachable, after a poll interval).
	Restart func()
	// UpdateRetry is the wait before an offer whose download failed (not
	// a refusal) is taken again; it doubles at each failure, up to
	// maxUpdateRetry. Default DefaultUpdateRetry.
	UpdateRetry time.Duration
}

// DefaultUpdateRetry is Options.UpdateRetry's default; maxUpdateRetry
// bounds the doubling.
const (
	DefaultUpdateRetry = time.Minute
	maxUpdateRetry     = time.Hour
)

type opampClient interface {
	client.OpAMPClient
	SetPollingInterval(time.Duration)
}

// Client is the agent's OpAMP client (plain HTTP, polling).
type Client struct {
	o     Options
	log   *slog.Logger
	oc    opampClient
	start time.Time

	// reconnected is signalled when the collector answers again after
	// being unreachable: the status it gets first was stamped before
	// (opamp-go retries a request as it was prepared), so a fresh one
	// follows at once.
	reconnected chan struct{}

	mu          sync.Mutex
	appliedHash []byte // the remote config in force
	failedHash  []byte // the last one refused
	lastErr     string
	reach       int // 0 not tried yet, 1 reachable, 2 unreachable
	updating    bool
	// retry: the offer of version failed for a reason that may pass
	// (download, disk); it is taken again from at on.
	retry struct {
		version string
		at      time.Time
		wait    time.Duration
	}

	connected chan struct{} // a response came (OnConnect); capacity 1
	healthy   bool          // update.MarkHealthy done
	healthErr bool          // its failure was logged
}

// New makes a client; Run starts it.
func New(o Options) *Client {
	if o.UpdateRetry <= 0 {
		o.UpdateRetry = DefaultUpdateRetry
	}
	return &Client{o: o, log: o.Logger.With("component", "fleet"), start: time.Now(), appliedHash: o.RemoteHash,
		connected: make(chan struct{}, 1), reconnected: make(chan struct{}, 1)}
}

// Run connects to the collector's OpAMP endpoint and keeps polling it
// until ctx ends. The collector being unreachable is not an error: the
// agent keeps probing with the config it has and polls again.
func (c *Client) Run(ctx context.Context) error {
	url := c.o.State.OpAMPURL
	if url == "" {
		url = strings.TrimRight(c.o.CollectorURL, "/") + fleetproto.OpAMPPath
	}
	tlsConf, err := c.tlsConfig(URLHost(url))
	if err != nil {
		return err
	}
	uid, err := uuid.Parse(c.o.State.InstanceUID)
	if err != nil {
		uid, _ = uuid.NewV7() // fleet.json of another version: a new instance
	}
	oc := client.NewHTTP(&logger{l: c.log})
	c.oc = oc
	host, _ := os.Hostname()
	if err := oc.SetAgentDescription(&protobufs.AgentDescription{
		IdentifyingAttributes: []*protobufs.KeyValue{kv("service.name", "pantau-agent"), kv("service.version", buildinfo.Version)},
		NonIdentifyingAttributes: []*protobufs.KeyValue{kv("host.name", host), kv("os.type", runtime.GOOS), kv("host.arch", runtime.GOARCH),
			kv("pantau.agent", c.o.State.Agent), kv("pantau.site", c.o.State.Site)},
	}); err != nil {
		return fmt.Errorf("opamp agent description: %w", err)
	}
	caps := protobufs.AgentCapabilities_AgentCapabilities_ReportsStatus |
		protobufs.AgentCapabilities_AgentCapabilities_AcceptsRemoteConfig |
		protobufs.AgentCapabilities_AgentCapabilities_ReportsRemoteConfig |
		protobufs.AgentCapabilities_AgentCapabilities_ReportsEffectiveConfig |
		protobufs.AgentCapabilities_AgentCapabilities_ReportsHealth |
		protobufs.AgentCapabilities_AgentCapabilities_AcceptsOpAMPConnectionSettings
	if err := oc.SetHealth(c.health()); err != nil {
		return fmt.Errorf("opamp health: %w", err)
	}
	var pkgs types.PackagesStateProvider
	var startCaps protobufs.AgentCapabilities
	if c.o.UpdateEnabled {
		// opamp-go v0.23.0 checks the package capabilities against the
		// package state, which only Start takes: SetCapabilities refuses
		// them before Start, and Start refuses the state without them. The
		// (deprecated) StartSettings.Capabilities is the one way in.
		pkgs = &memPackages{statuses: c.startStatuses()}
		startCaps = caps | protobufs.AgentCapabilities_AgentCapabilities_AcceptsPackages | protobufs.AgentCapabilities_AgentCapabilities_ReportsPackageStatuses
	} else if err := oc.SetCapabilities(&caps); err != nil {
		return fmt.Errorf("opamp capabilities: %w", err)
	}
	if err := oc.SetCustomCapabilities(&protobufs.CustomCapabilities{Capabilities: []string{fleetproto.StatusCapability}}); err != nil {
		return fmt.Errorf("opamp custom capabilities: %w", err)
	}
	var rcs *protobufs.RemoteConfigStatus
	if c.appliedHash != nil {
		rcs = &protobufs.RemoteConfigStatus{LastRemoteConfigHash: c.appliedHash, Status: protobufs.RemoteConfigStatuses_RemoteConfigStatuses_APPLIED}
	}
	// Status messages drive the polls (one each interval); the client's
	// own timer is the fallback when a message is pending.
	oc.SetPollingInterval(2 * c.o.PollInterval)
	err = oc.Start(ctx, types.StartSettings{
		OpAMPServerURL: url,
		HeaderFunc: func(h http.Header) http.Header {
			h.Set("Authorization", "Token "+c.o.Token.Get().Reveal())
			h.Set("User-Agent", "pantau-agent/"+buildinfo.Version)
			return h
		},
		TLSConfig:             tlsConf,
		InstanceUid:           types.InstanceUid(uid),
		RemoteConfigStatus:    rcs,
		PackagesStateProvider: pkgs,
		Capabilities:          startCaps,
		Callbacks: types.Callbacks{
			OnConnect: func(context.Context) {
				c.setConnected(true, nil)
				c.markHealthy()
				select {
				case c.connected <- struct{}{}:
				default:
				}
			},
			OnConnectFailed: func(_ context.Context, err error) { c.setConnected(false, err) },
			OnError: func(_ context.Context, e *protobufs.ServerErrorResponse) {
				c.log.Warn("collector answered an error", "message", e.GetErrorMessage())
			},
			OnMessage:                 c.onMessage,
			OnOpampConnectionSettings: c.onConnectionSettings,
			GetEffectiveConfig:        c.effectiveConfig,
		},
	})
	if err != nil {
		return fmt.Errorf("start the OpAMP client for %s: %w", url, err)
	}
	c.log.Info("fleet management on", "url", url, "agent", c.o.State.Agent, "poll_interval_seconds", c.o.PollInterval.Seconds())
	t := time.NewTicker(c.o.PollInterval)
	defer t.Stop()
	c.sendStatus()
	for {
		select {
		case <-ctx.Done():
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			return oc.Stop(sctx)
		case <-t.C:
			c.sendStatus()
		case <-c.reconnected:
			c.sendFreshStatus(ctx)
		}
	}
}

func kv(k, v string) *protobufs.KeyValue {
	return &protobufs.KeyValue{Key: k, Value: &protobufs.AnyValue{Value: &protobufs.AnyValue_StringValue{StringValue: v}}}
}

func (c *Client) tlsConfig(host string) (*tls.Config, error) { return TLSConfig(c.o.StateDir, host) }

// TLSConfig is the TLS client config for the collector at host: it
// trusts the key pinned at enrolment (<state>/collector-ca.pem, through
// TrustTLS, so a renewal that keeps the key or comes from a trusted CA
// goes on working), else the system's roots. The OpAMP client and
// release downloads use it.
func TLSConfig(stateDir, host string) (*tls.Config, error) {
	path := Path(stateDir, config.CollectorCAFile)
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return &tls.Config{MinVersion: tls.VersionTLS12}, nil
	}
	return TrustTLS(path, host)
}

func (c *Client) health() *protobufs.ComponentHealth {
	c.mu.Lock()
	defer c.mu.Unlock()
	status := "running"
	if c.lastErr != "" {
		status = "running; the last remote config was refused"
	}
	return &protobufs.ComponentHealth{Healthy: true, StartTimeUnixNano: uint64(c.start.UnixNano()), Status: status,
		LastError: c.lastErr, StatusTimeUnixNano: uint64(time.Now().UnixNano())}
}

// setConnected logs when the collector becomes reachable or unreachable.
func (c *Client) setConnected(ok bool, err error) {
	now := 2
	if ok {
		now = 1
	}
	c.mu.Lock()
	was := c.reach
	c.reach = now
	c.mu.Unlock()
	if ok && was == 2 {
		select {
		case c.reconnected <- struct{}{}:
		default:
		}
	}
	switch {
	case now == was:
	case ok:
		c.log.Info("collector reachable")
	default:
		c.log.Warn("collector unreachable; probing on with the config in force", "err", err)
	}
}

// sendStatus sends the status custom message: the agent's clock and its
// queue.
func (c *Client) sendStatus() {
	_, err := c.oc.SendCustomMessage(c.statusMessage())
	if err != nil && !errors.Is(err, types.ErrCustomMessagePending) {
		c.log.Debug("status message not sent", "err", err)
	}
}

// sendFreshStatus sends a status stamped now, after the one pending (if
// any) has left. After an outage the status messages the collector gets
// first were stamped when they were queued, before or during the outage:
// it would take the time they waited for a clock offset (minus the
// outage's length) and show the backlog as it was, until the next poll.
func (c *Client) sendFreshStatus(ctx context.Context) {
	for range 3 { // the pending one, and one queued meanwhile
		sending, err := c.oc.SendCustomMessage(c.statusMessage())
		if !errors.Is(err, types.ErrCustomMessagePending) {
			if err != nil {
				c.log.Debug("status message not sent", "err", err)
			}
			return
		}
		select {
		case <-sending:
		case <-ctx.Done():
			return
		}
	}
}

// statusMessage is the status custom message stamped now.
func (c *Client) statusMessage() *protobufs.CustomMessage {
	st := fleetproto.Status{Time: time.Now()}
	if c.o.Queue != nil {
		if q, ok := c.o.Queue(); ok {
			st.QueuePoints, st.QueueBytes = q.Points, q.Bytes
			if !q.Oldest.IsZero() {
				st.QueueOldestAgeSeconds = st.Time.Sub(q.Oldest).Seconds()
			}
		}
	}
	data, _ := json.Marshal(st)
	return &protobufs.CustomMessage{Capability: fleetproto.StatusCapability, Type: fleetproto.StatusMessageType, Data: data}
}

func (c *Client) onMessage(ctx context.Context, msg *types.MessageData) {
	if msg.RemoteConfig != nil {
		c.onRemoteConfig(ctx, msg.RemoteConfig)
	}
	if msg.PackagesAvailable != nil {
		c.onPackages(ctx, msg.PackagesAvailable)
	}
}

// onRemoteConfig applies a remote config the agent does not run yet, or
// reports why it cannot; the one in force stays then.
func (c *Client) onRemoteConfig(ctx context.Context, rc *protobufs.AgentRemoteConfig) {
	var body []byte
	if f := rc.GetConfig().GetConfigMap()[fleetproto.ConfigFile]; f != nil {
		body = f.Body
	}
	hash := rc.ConfigHash
	if len(hash) == 0 {
		s := sha256.Sum256(body)
		hash = s[:]
	}
	c.mu.Lock()
	same := bytes.Equal(hash, c.appliedHash) || bytes.Equal(hash, c.failedHash)
	c.mu.Unlock()
	if same {
		return
	}
	if err := c.o.Apply(ctx, body); err != nil {
		c.mu.Lock()
		c.failedHash, c.lastErr = hash, err.Error()
		c.mu.Unlock()
		c.log.Error("remote config refused; the config in force stays", "hash", fmt.Sprintf("%x", hash[:min(8, len(hash))]), "err", err)
		c.oc.SetRemoteConfigStatus(&protobufs.RemoteConfigStatus{LastRemoteConfigHash: hash,
			Status: protobufs.RemoteConfigStatuses_RemoteConfigStatuses_FAILED, ErrorMessage: err.Error()})
		c.oc.SetHealth(c.health())
		return
	}
	if err := WriteFileAtomic(Path(c.o.StateDir, config.RemoteConfigFile), body, 0o600); err != nil {
		c.log.Error("remote config applied but not cached: after a restart without the collector the agent runs the previous one", "err", err)
	}
	c.mu.Lock()
	c.appliedHash, c.failedHash, c.lastErr = hash, nil, ""
	c.mu.Unlock()
	c.log.Info("remote config applied", "hash", fmt.Sprintf("%x", hash[:min(8, len(hash))]), "bytes", len(body))
	c.oc.SetRemoteConfigStatus(&protobufs.RemoteConfigStatus{LastRemoteConfigHash: hash,
		Status: protobufs.RemoteConfigStatuses_RemoteConfigStatuses_APPLIED})
	c.oc.SetHealth(c.health())
	if err := c.oc.UpdateEffectiveConfig(ctx); err != nil {
		c.log.Debug("effective config not reported", "err", err)
	}
}

// ForgetRefused lets the remote config refused last be tried again when
// the collector offers it next (agent.yml was edited: it may load now).
func (c *Client) ForgetRefused() {
	c.mu.Lock()
	c.failedHash = nil
	c.mu.Unlock()
}

// effectiveConfig is the config in force, its secrets redacted.
func (c *Client) effectiveConfig(context.Context) (*protobufs.EffectiveConfig, error) {
	red, err := config.Redact(c.o.Effective())
	if err != nil {
		return nil, err
	}
	return &protobufs.EffectiveConfig{ConfigMap: &protobufs.AgentConfigMap{ConfigMap: map[string]*protobufs.AgentConfigFile{
		fleetproto.ConfigFile: {Body: red, ContentType: fleetproto.ConfigContentType},
	}}}, nil
}

// onConnectionSettings takes a rotated token: stored first (a crash
// after this keeps the new one), then put in force for the write senders
// and the next OpAMP request.
func (c *Client) onConnectionSettings(_ context.Context, s *protobufs.OpAMPConnectionSettings) error {
	var tok string
	for _, h := range s.GetHeaders().GetHeaders() {
		if strings.EqualFold(h.Key, "Authorization") {
			v, ok := strings.CutPrefix(h.Value, "Token ")
			if !ok || strings.TrimSpace(v) == "" || strings.ContainsAny(v, " \r\n") {
				return errors.New("the Authorization header offered is not \"Token <token>\"")
			}
			tok = v
		}
	}
	if tok == "" || tok == c.o.Token.Get().Reveal() {
		return nil
	}
	if err := WriteToken(c.o.StateDir, config.Secret(tok)); err != nil {
		return fmt.Errorf("store the new token: %w", err)
	}
	c.o.Token.Set(config.Secret(tok))
	c.log.Info("agent token rotated; the write senders and fleet polls use the new one")
	return nil
}

// onPackages hands an offered pantau-agent release to the Updater and
// reports the outcome as the package status; a staged release restarts
// the agent.
func (c *Client) onPackages(ctx context.Context, pa *protobufs.PackagesAvailable) {
	p := pa.GetPackages()[fleetproto.PackageName]
	if p == nil || p.Version == "" || p.Version == buildinfo.Version {
		return
	}
	c.mu.Lock()
	busy := c.updating || c.retry.version == p.Version && time.Now().Before(c.retry.at)
	if !busy {
		c.updating = true
	}
	c.mu.Unlock()
	if busy {
		return
	}
	offered := pa.AllPackagesHash
	report := func(s protobufs.PackageStatusEnum, msg string) {
		if err := c.oc.SetPackageStatuses(&protobufs.PackageStatuses{ServerProvidedAllPackagesHash: offered,
			Packages: map[string]*protobufs.PackageStatus{fleetproto.PackageName: {Name: fleetproto.PackageName,
				AgentHasVersion: buildinfo.Version, ServerOfferedVersion: p.Version, ServerOfferedHash: p.Hash, Status: s, ErrorMessage: msg}}}); err != nil {
			c.log.Warn("package status not reported", "err", err)
		}
	}
	done := func() {
		c.mu.Lock()
		c.updating = false
		c.mu.Unlock()
	}
	if c.o.Updater == nil {
		done()
		report(protobufs.PackageStatusEnum_PackageStatusEnum_InstallFailed, "this agent cannot install updates (no updater built in)")
		return
	}
	report(protobufs.PackageStatusEnum_PackageStatusEnum_Downloading, "")
	c.log.Info("update offered", "version", p.Version)
	go func() {
		staged, err := c.o.Updater.Offer(ctx, p.Version, p.File)
		if err != nil {
			c.log.Error("update refused", "version", p.Version, "err", err)
		}
		// A response that arrives from now on carried the status below
		// (best effort: one in flight may not have).
		select {
		case <-c.connected:
		default:
		}
		if err != nil && !errors.Is(err, update.ErrRefused) {
			// A failure that may pass: reported without the offer's hash,
			// so the collector offers it again, and taken again after a
			// wait that doubles.
			offered = []byte{} // opamp-go refuses nil
			c.mu.Lock()
			if c.retry.version != p.Version {
				c.retry.version, c.retry.wait = p.Version, 0
			}
			wait := min(max(2*c.retry.wait, c.o.UpdateRetry), maxUpdateRetry)
			c.retry.wait, c.retry.at = wait, time.Now().Add(wait)
			c.mu.Unlock()
			c.log.Info("the release is fetched again when offered after the wait", "version", p.Version, "wait_seconds", wait.Seconds())
		} else {
			c.mu.Lock()
			if c.retry.version == p.Version {
				c.retry.version = ""
			}
			c.mu.Unlock()
		}
		report(c.offerStatus(p.Version, staged, err))
		if !staged || err != nil {
			done()
			return
		}
		// Staged: no further offer is taken; the agent stops once the
		// collector heard of it (bounded: it may be unreachable).
		c.log.Info("update staged; restarting to run it on trial", "version", p.Version)
		wait := time.NewTimer(c.o.PollInterval + 5*time.Second)
		defer wait.Stop()
		select {
		case <-c.connected:
		case <-wait.C:
		case <-ctx.Done():
			return
		}
		if c.o.Restart != nil {
			c.o.Restart()
		}
	}()
}

// offerStatus is the package status after an offer of version: the
// update state when it is about that version (it says why, and a
// rollback's message starts with "rolled back: "), else err's.
func (c *Client) offerStatus(version string, staged bool, err error) (protobufs.PackageStatusEnum, string) {
	if st, serr := update.State(c.o.StateDir); serr == nil && st.Version == version && st.State != "" {
		s, msg := packageStatus(st)
		if err == nil || s == protobufs.PackageStatusEnum_PackageStatusEnum_InstallFailed {
			return s, msg
		}
	}
	switch {
	case err != nil:
		return protobufs.PackageStatusEnum_PackageStatusEnum_InstallFailed, err.Error()
	case staged:
		return protobufs.PackageStatusEnum_PackageStatusEnum_Installing, ""
	}
	return protobufs.PackageStatusEnum_PackageStatusEnum_Installed, ""
}

// packageStatus maps the update state to OpAMP's package status: a
// staged release (on trial at the next start, or now) is Installing.
func packageStatus(st update.Status) (protobufs.PackageStatusEnum, string) {
	switch st.State {
	case update.StateDownloading:
		return protobufs.PackageStatusEnum_PackageStatusEnum_Downloading, ""
	case update.StatePending:
		return protobufs.PackageStatusEnum_PackageStatusEnum_Installing, ""
	case update.StateInstalled:
		return protobufs.PackageStatusEnum_PackageStatusEnum_Installed, ""
	}
	return protobufs.PackageStatusEnum_PackageStatusEnum_InstallFailed, st.ErrorMessage()
}

// startStatuses is the package status the agent starts with: the update
// state of the last release offered (nil when none ever was). It carries
// no offer hash, so the collector offers its release again and the
// answer to that says where it stands.
func (c *Client) startStatuses() *protobufs.PackageStatuses {
	st, err := update.State(c.o.StateDir)
	if err != nil {
		c.log.Warn("update state unreadable; reporting no package status", "err", err)
		return nil
	}
	if st.State == "" {
		return nil
	}
	s, msg := packageStatus(st)
	return &protobufs.PackageStatuses{Packages: map[string]*protobufs.PackageStatus{fleetproto.PackageName: {Name: fleetproto.PackageName,
		AgentHasVersion: buildinfo.Version, ServerOfferedVersion: st.Version, Status: s, ErrorMessage: msg}}}
}

// markHealthy tells the launcher that this release, on trial, runs
// healthy: the collector accepted a report from it (update.MarkHealthy).
// Once per process; nothing unless on trial.
func (c *Client) markHealthy() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.healthy || !update.InTrial() {
		return
	}
	if err := update.MarkHealthy(c.o.StateDir, buildinfo.Version); err != nil {
		if c.healthErr {
			return
		}
		c.healthErr = true
		c.log.Error("cannot mark this release healthy: the launcher rolls it back at update.health_timeout", "err", err)
		return
	}
	c.healthy = true
	c.log.Info("release on trial reported to the collector: marked healthy", "version", buildinfo.Version)
}

// logger sends opamp-go's messages to slog: debug ones at debug level,
// an error at warning level when it differs from the previous one (the
// same error again, such as every retry against an unreachable
// collector, at debug level), so that a refused token ("invalid response
// from server: 401") shows once.
type logger struct {
	l    *slog.Logger
	mu   sync.Mutex
	last string
}

func (g *logger) Debugf(ctx context.Context, format string, v ...any) {
	g.l.DebugContext(ctx, "opamp", "detail", fmt.Sprintf(format, v...))
}

func (g *logger) Errorf(ctx context.Context, format string, v ...any) {
	msg := fmt.Sprintf(format, v...)
	if strings.HasPrefix(msg, "settings.Capabilities is deprecated") {
		// The one way in for the package capabilities (see Run): expected
		// with update.enabled, not worth a warning at every start.
		g.l.DebugContext(ctx, "opamp", "detail", msg)
		return
	}
	g.mu.Lock()
	repeat := msg == g.last
	g.last = msg
	g.mu.Unlock()
	if repeat {
		g.l.DebugContext(ctx, "opamp error", "detail", msg)
		return
	}
	g.l.WarnContext(ctx, "opamp error", "detail", msg)
}
