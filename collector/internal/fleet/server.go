package fleet

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/open-telemetry/opamp-go/protobufs"
	"github.com/open-telemetry/opamp-go/server"
	"github.com/open-telemetry/opamp-go/server/types"

	"github.com/pantau-noc/pantau/collector/internal/auth"
	"github.com/pantau-noc/pantau/collector/internal/inventory"
	"github.com/pantau-noc/pantau/internal/fleetproto"
)

// Defaults of Options.
const (
	DefaultMaxBodyBytes      = 1 << 20
	DefaultLastSeenFlush     = time.Minute
	DefaultHeartbeatInterval = 30 * time.Second
)

// Options configure a Server.
type Options struct {
	Store Store
	// Inventory returns the current inventory (the collector reloads it);
	// nil or returning nil: configs hold only the overrides.
	Inventory func() *inventory.Inventory
	// Keyring opens credential profiles; nil: no SNMP credentials (devices
	// are left out of configs).
	Keyring *Keyring
	// Releases is the release store; nil: no updates offered.
	Releases *Releases
	// UpdatesEnabled is fleet.updates.enabled, read on every request
	// (a reload changes it); nil: off.
	UpdatesEnabled func() bool
	// MaxBodyBytes bounds an OpAMP request body, also decompressed;
	// default DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// LastSeenFlush: a poll that changes nothing but the last-seen time
	// is written at most this often per agent; default one minute.
	LastSeenFlush time.Duration
	// HeartbeatInterval is offered with a rotation's connection settings
	// (an HTTP agent's polling interval); default 30 s.
	HeartbeatInterval time.Duration
	Logger            *slog.Logger
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Server is the collector's OpAMP server (plain-HTTP transport).
type Server struct {
	o       Options
	handler server.HTTPHandlerFunc
	connCtx server.ConnContext
	m       *metrics

	mu     sync.Mutex
	agents map[string]*agentState
}

// agentState is what the server keeps in memory of an agent between
// requests; rec is the stored record as last written (plus updates).
type agentState struct {
	mu      sync.Mutex
	loaded  bool
	rec     FleetAgent
	flushed time.Time // when rec was last written
	// described: the agent sent its description since this process
	// started (else the server asks for the full state).
	described    bool
	osType, arch string
	// acceptsPackages: the agent's last capabilities include
	// AcceptsPackages (it runs with update.enabled).
	acceptsPackages bool
	reportedHash    string // the remote config hash the agent last reported (any status)
	packagesHash    []byte // ServerProvidedAllPackagesHash the agent last reported
	rotation        *rotation
	lastNotesHash   string
}

// rotation is a token issued to an agent that has not used it yet.
type rotation struct {
	newID, token string // the new token's id and full string (memory only)
	oldID        string // the token the agent used when it was issued
}

// New builds the OpAMP server.
func New(o Options) (*Server, error) {
	if o.Store == nil || o.Logger == nil {
		return nil, errors.New("fleet: Store and Logger are required")
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if o.LastSeenFlush <= 0 {
		o.LastSeenFlush = DefaultLastSeenFlush
	}
	if o.HeartbeatInterval <= 0 {
		o.HeartbeatInterval = DefaultHeartbeatInterval
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Inventory == nil {
		o.Inventory = func() *inventory.Inventory { return nil }
	}
	if o.UpdatesEnabled == nil {
		o.UpdatesEnabled = func() bool { return false }
	}
	s := &Server{o: o, m: newMetrics(), agents: map[string]*agentState{}}
	h, cc, err := server.New(opampLogger{o.Logger}).Attach(server.Settings{
		Callbacks:          types.Callbacks{OnConnecting: s.onConnecting},
		CustomCapabilities: []string{fleetproto.StatusCapability},
	})
	if err != nil {
		return nil, fmt.Errorf("attach the OpAMP server: %w", err)
	}
	s.handler = h
	s.connCtx = cc
	return s, nil
}

type connMarker struct{}

// ConnContext must be the collector's http.Server ConnContext: opamp-go
// finds a request's connection through it.
func (s *Server) ConnContext(ctx context.Context, c net.Conn) context.Context {
	return context.WithValue(s.connCtx(ctx, c), connMarker{}, true)
}

// Register puts POST /v1/opamp and the release download on mux. The
// Gate authenticates both (role agent).
func (s *Server) Register(mux *http.ServeMux) {
	mux.HandleFunc("POST "+fleetproto.OpAMPPath, s.ServeOpAMP)
	mux.HandleFunc("GET "+fleetproto.ReleasesPath+"{version}/{platform}", s.ServeRelease)
}

// ServeOpAMP serves one plain-HTTP OpAMP request: an agent's
// AgentToServer, answered with a ServerToAgent. The request body is
// bounded (also once gunzipped); WebSocket upgrades are refused.
func (s *Server) ServeOpAMP(w http.ResponseWriter, r *http.Request) {
	if r.Context().Value(connMarker{}) == nil {
		s.o.Logger.Error("OpAMP request without the server's ConnContext: set http.Server.ConnContext to fleet.Server.ConnContext")
		http.Error(w, "OpAMP is not wired on this collector", http.StatusInternalServerError)
		return
	}
	if p := auth.FromContext(r.Context()); p == nil || p.Role != auth.RoleAgent || p.Name == "" {
		http.Error(w, "OpAMP needs an agent token", http.StatusForbidden)
		return
	}
	if r.Header.Get("Content-Type") != "application/x-protobuf" {
		s.m.refused.WithLabelValues("content_type").Inc()
		http.Error(w, "OpAMP over plain HTTP only: Content-Type must be application/x-protobuf (WebSocket is not served)", http.StatusUnsupportedMediaType)
		return
	}
	body, err := readBody(w, r, s.o.MaxBodyBytes)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) || errors.Is(err, errTooLarge) {
			s.m.refused.WithLabelValues("too_large").Inc()
			http.Error(w, fmt.Sprintf("OpAMP message larger than %d bytes", s.o.MaxBodyBytes), http.StatusRequestEntityTooLarge)
			return
		}
		s.m.refused.WithLabelValues("bad_body").Inc()
		http.Error(w, "cannot read the OpAMP message: "+err.Error(), http.StatusBadRequest)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.Header.Del("Content-Encoding")
	r.ContentLength = int64(len(body))
	s.handler(w, r)
}

var errTooLarge = errors.New("body too large")

// readBody reads a bounded body, gunzipping it within the same bound.
func readBody(w http.ResponseWriter, r *http.Request, max int64) ([]byte, error) {
	var rd io.Reader = http.MaxBytesReader(w, r.Body, max)
	if strings.EqualFold(r.Header.Get("Content-Encoding"), "gzip") {
		zr, err := gzip.NewReader(rd)
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		defer zr.Close()
		rd = zr
	}
	data, err := io.ReadAll(io.LimitReader(rd, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, errTooLarge
	}
	return data, nil
}

// onConnecting accepts a request the Gate let through, with callbacks
// bound to its principal.
func (s *Server) onConnecting(r *http.Request) types.ConnectionResponse {
	p := auth.FromContext(r.Context())
	if p == nil || p.Role != auth.RoleAgent {
		return types.ConnectionResponse{Accept: false, HTTPStatusCode: http.StatusForbidden}
	}
	c := &call{s: s, principal: p, tls: r.TLS != nil, authz: r.Header.Get("Authorization"), base: baseURL(r)}
	return types.ConnectionResponse{Accept: true, ConnectionCallbacks: types.ConnectionCallbacks{OnMessage: c.onMessage}}
}

// baseURL is the collector's URL as the agent reached it.
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// call is one OpAMP request.
type call struct {
	s         *Server
	principal *auth.Principal
	tls       bool
	authz     string
	base      string
}

func (s *Server) state(agent string) *agentState {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.agents[agent]
	if st == nil {
		st = &agentState{}
		s.agents[agent] = st
		s.m.agents.Set(float64(len(s.agents)))
	}
	return st
}

func (c *call) onMessage(ctx context.Context, _ types.Connection, msg *protobufs.AgentToServer) *protobufs.ServerToAgent {
	s := c.s
	now := s.o.Now()
	agent := c.principal.Name
	site := ""
	if len(c.principal.Sites) > 0 {
		site = c.principal.Sites[0]
	}
	log := s.o.Logger.With("agent", agent)
	s.m.messages.Inc()
	st := s.state(agent)
	st.mu.Lock()
	defer st.mu.Unlock()
	resp := &protobufs.ServerToAgent{InstanceUid: msg.InstanceUid}

	if !st.loaded {
		rec, ok, err := s.o.Store.FleetAgent(ctx, agent)
		if err != nil {
			s.m.storeErrors.Inc()
			log.Error("reading the fleet state failed", "err", err)
			return serverError(resp, "the collector cannot read its state now: retry")
		}
		if ok {
			st.rec = rec
			switch rec.ConfigStatus {
			case ConfigApplied:
				st.reportedHash = rec.ConfigApplied
			case ConfigFailed:
				st.reportedHash = rec.ConfigOffered
			}
		} else {
			st.rec = FleetAgent{Agent: agent, FirstSeen: now}
		}
		st.loaded = true
	}
	before := st.rec
	rec := &st.rec
	rec.Agent, rec.Site, rec.TokenID = agent, site, c.principal.ID
	applyStatus(st, msg, now)
	if msg.AgentDescription == nil && !st.described {
		// The collector restarted or the agent is new to it: ask for all.
		resp.Flags |= uint64(protobufs.ServerToAgentFlags_ServerToAgentFlags_ReportFullState)
	}

	// Rotation first: a completed one revokes the old token.
	c.rotate(ctx, st, resp, log)

	// The config, offered when it differs from what the agent has.
	if d, err := c.derive(ctx, agent, site); err != nil {
		s.m.storeErrors.Inc()
		log.Error("deriving the agent's config failed", "err", err)
	} else {
		h := d.HashHex()
		if nh := strings.Join(d.Notes, "\n"); nh != st.lastNotesHash {
			st.lastNotesHash = nh
			if nh != "" {
				log.Info("parts of the agent's config left out", "notes", nh)
			}
		}
		if h != st.reportedHash {
			resp.RemoteConfig = &protobufs.AgentRemoteConfig{
				Config:     &protobufs.AgentConfigMap{ConfigMap: map[string]*protobufs.AgentConfigFile{fleetproto.ConfigFile: {Body: d.YAML, ContentType: fleetproto.ConfigContentType}}},
				ConfigHash: d.Hash[:],
			}
			if rec.ConfigOffered != h {
				s.m.configOffers.Inc()
				rec.ConfigOffered = h
				rec.ConfigStatus, rec.ConfigError = ConfigApplying, ""
			}
		}
	}

	c.offerPackage(st, resp, now, log)

	rec.LastSeen = now
	if changed(before, *rec) || now.Sub(st.flushed) >= s.o.LastSeenFlush {
		if err := s.o.Store.UpsertFleetAgent(ctx, *rec); err != nil {
			s.m.storeErrors.Inc()
			log.Error("storing the fleet state failed", "err", err)
		} else {
			st.flushed = now
		}
	}
	return resp
}

func serverError(resp *protobufs.ServerToAgent, msg string) *protobufs.ServerToAgent {
	resp.ErrorResponse = &protobufs.ServerErrorResponse{Type: protobufs.ServerErrorResponseType_ServerErrorResponseType_Unavailable, ErrorMessage: msg}
	return resp
}

// changed reports a change other than the last-seen time.
func changed(a, b FleetAgent) bool {
	a.LastSeen, b.LastSeen = time.Time{}, time.Time{}
	return a != b
}

// applyStatus records what the message reports.
func applyStatus(st *agentState, msg *protobufs.AgentToServer, now time.Time) {
	rec := &st.rec
	if msg.Capabilities != 0 {
		// opamp-go sends the capabilities in every message.
		st.acceptsPackages = msg.Capabilities&uint64(protobufs.AgentCapabilities_AgentCapabilities_AcceptsPackages) != 0
	}
	if d := msg.AgentDescription; d != nil {
		st.described = true
		for _, kv := range d.IdentifyingAttributes {
			if kv.Key == "service.version" {
				rec.Version = kv.GetValue().GetStringValue()
			}
		}
		for _, kv := range append(append([]*protobufs.KeyValue{}, d.IdentifyingAttributes...), d.NonIdentifyingAttributes...) {
			v := kv.GetValue().GetStringValue()
			switch kv.Key {
			case "host.name":
				rec.Hostname = clip(v, 255)
			case "os.type":
				st.osType = v
			case "host.arch":
				st.arch = v
			}
		}
		rec.Version = clip(rec.Version, 64)
	}
	if rs := msg.RemoteConfigStatus; rs != nil && len(rs.LastRemoteConfigHash) > 0 {
		h := hex.EncodeToString(rs.LastRemoteConfigHash)
		st.reportedHash = h
		switch rs.Status {
		case protobufs.RemoteConfigStatuses_RemoteConfigStatuses_APPLIED:
			rec.ConfigApplied, rec.ConfigStatus, rec.ConfigError = h, ConfigApplied, ""
		case protobufs.RemoteConfigStatuses_RemoteConfigStatuses_FAILED:
			rec.ConfigStatus, rec.ConfigError = ConfigFailed, clip(rs.ErrorMessage, 1024)
		case protobufs.RemoteConfigStatuses_RemoteConfigStatuses_APPLYING:
			rec.ConfigStatus = ConfigApplying
		}
	}
	if ec := msg.EffectiveConfig; ec != nil && ec.ConfigMap != nil {
		rec.EffectiveConfigHash = effectiveHash(ec.ConfigMap)
	}
	if h := msg.Health; h != nil {
		rec.Healthy, rec.HealthStatus, rec.HealthError = h.Healthy, clip(h.Status, 255), clip(h.LastError, 1024)
	}
	if cm := msg.CustomMessage; cm != nil && cm.Capability == fleetproto.StatusCapability && cm.Type == fleetproto.StatusMessageType {
		if sm, err := ParseStatus(cm.Data); err == nil {
			// Rounded (age to the second, offset to 0.1 s) so that jitter
			// alone does not make a poll a change worth a write.
			rec.QueuePoints, rec.QueueBytes, rec.QueueOldestAgeSeconds = sm.QueuePoints, sm.QueueBytes, math.Round(sm.QueueOldestAgeSeconds)
			if !sm.Time.IsZero() {
				rec.ClockOffsetSeconds = math.Round(sm.Time.Sub(now).Seconds()*10) / 10
			}
		}
	}
	if ps := msg.PackageStatuses; ps != nil {
		st.packagesHash = ps.ServerProvidedAllPackagesHash
		if p := ps.Packages[fleetproto.PackageName]; p != nil {
			rec.UpdateVersion = clip(p.ServerOfferedVersion, 64)
			rec.UpdateMessage = clip(p.ErrorMessage, 1024)
			switch p.Status {
			case protobufs.PackageStatusEnum_PackageStatusEnum_InstallPending:
				rec.UpdateState = "offered"
			case protobufs.PackageStatusEnum_PackageStatusEnum_Downloading, protobufs.PackageStatusEnum_PackageStatusEnum_Installing:
				rec.UpdateState = "downloading"
			case protobufs.PackageStatusEnum_PackageStatusEnum_Installed:
				rec.UpdateState = "installed"
			case protobufs.PackageStatusEnum_PackageStatusEnum_InstallFailed:
				rec.UpdateState = "failed"
				if strings.HasPrefix(strings.ToLower(p.ErrorMessage), "rolled back") {
					rec.UpdateState = "rolled_back"
				}
			}
		}
	}
}

// ParseStatus decodes the custom status message (fleetproto.Status).
func ParseStatus(data []byte) (fleetproto.Status, error) {
	var sm fleetproto.Status
	if len(data) > 4096 {
		return sm, errors.New("status message larger than 4096 bytes")
	}
	if err := json.Unmarshal(data, &sm); err != nil {
		return sm, fmt.Errorf("decode status message: %w", err)
	}
	if sm.QueuePoints < 0 || sm.QueueBytes < 0 || sm.QueueOldestAgeSeconds < 0 || sm.QueueOldestAgeSeconds != sm.QueueOldestAgeSeconds {
		return sm, errors.New("status message: negative or NaN queue figures")
	}
	return sm, nil
}

// effectiveHash is the hex SHA-256 of the effective config files, in
// name order (the single file's body when there is one).
func effectiveHash(m *protobufs.AgentConfigMap) string {
	h := sha256.New()
	if len(m.ConfigMap) == 1 {
		for _, f := range m.ConfigMap {
			h.Write(f.Body)
		}
		return hex.EncodeToString(h.Sum(nil))
	}
	names := make([]string, 0, len(m.ConfigMap))
	for n := range m.ConfigMap {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		fmt.Fprintf(h, "%s\x00%d\x00", n, len(m.ConfigMap[n].Body))
		h.Write(m.ConfigMap[n].Body)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func clip(s string, n int) string {
	if len(s) > n {
		s = s[:n]
	}
	return strings.ToValidUTF8(s, "?")
}

// derive builds the agent's current config.
func (c *call) derive(ctx context.Context, agent, site string) (*Derived, error) {
	s := c.s
	ov, _, err := s.o.Store.FleetOverride(ctx, agent)
	if err != nil {
		return nil, fmt.Errorf("read the override of agent %s: %w", agent, err)
	}
	in := DeriveInput{Inventory: s.o.Inventory(), Agent: agent, Site: site, Override: ov, WithSecrets: c.tls}
	if s.o.Keyring != nil {
		in.Credential = func(site, name string) (*Profile, bool, error) {
			sealed, ok, err := s.o.Store.CredentialProfile(ctx, site, name)
			if err != nil || !ok {
				return nil, ok, err
			}
			p, err := s.o.Keyring.Open(site, name, sealed)
			if err != nil {
				return nil, false, err
			}
			return p, true, nil
		}
	}
	return Derive(in)
}

// opampLogger adapts slog to opamp-go's logger (debug only: its messages
// are per request).
type opampLogger struct{ l *slog.Logger }

func (o opampLogger) Debugf(ctx context.Context, format string, v ...any) {
	o.l.DebugContext(ctx, "opamp", "msg_text", fmt.Sprintf(format, v...))
}

func (o opampLogger) Errorf(ctx context.Context, format string, v ...any) {
	o.l.WarnContext(ctx, "opamp error", "err", fmt.Sprintf(format, v...))
}
