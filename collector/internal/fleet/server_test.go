package fleet

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/open-telemetry/opamp-go/client"
	"github.com/open-telemetry/opamp-go/client/types"
	"github.com/open-telemetry/opamp-go/protobufs"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.yaml.in/yaml/v3"

	"github.com/pantau-noc/pantau/collector/internal/auth"
	"github.com/pantau-noc/pantau/collector/internal/inventory"
	"github.com/pantau-noc/pantau/collector/internal/statedb"
	"github.com/pantau-noc/pantau/internal/fleetproto"
	"github.com/pantau-noc/pantau/internal/lab"
)

// waitFor bounds every wait of these tests.
const waitFor = 20 * time.Second

type env struct {
	t        *testing.T
	store    *fakeStore
	authn    *statedb.Authenticator
	srv      *Server
	hs       *httptest.Server
	inv      atomic.Pointer[inventory.Inventory]
	updates  atomic.Bool
	releases *Releases
	keyring  *Keyring
	logs     *bytes.Buffer
}

func newEnv(t *testing.T, withTLS bool) *env {
	t.Helper()
	ctx := context.Background()
	e := &env{t: t, store: newFakeStore(t), logs: &bytes.Buffer{}}
	log := slog.New(slog.NewTextHandler(&lockedWriter{w: e.logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var err error
	if e.authn, err = statedb.NewAuthenticator(ctx, e.store.DB, log); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if e.keyring, err = LoadKey(filepath.Join(dir, "credentials.key"), true); err != nil {
		t.Fatal(err)
	}
	e.releases = NewReleases(filepath.Join(dir, "releases"))
	e.srv, err = New(Options{Store: e.store, Inventory: e.inv.Load, Keyring: e.keyring, Releases: e.releases,
		UpdatesEnabled: e.updates.Load, HeartbeatInterval: time.Second, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	e.srv.Register(mux)
	gate := auth.NewGate(auth.GateOptions{Verifier: e.authn, Logger: log, Guard: auth.NewGuard(1000, 100)}, mux)
	e.hs = httptest.NewUnstartedServer(gate)
	e.hs.Config.ConnContext = e.srv.ConnContext
	if withTLS {
		e.hs.StartTLS()
	} else {
		e.hs.Start()
	}
	t.Cleanup(e.hs.Close)
	return e
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (e *env) token(agent string, sites ...string) (string, string) {
	e.t.Helper()
	tok, tk, err := e.store.CreateToken(context.Background(), agent, sites, "test")
	if err != nil {
		e.t.Fatal(err)
	}
	return tok, tk.ID
}

// testAgent is a real opamp-go HTTP client, as the agent runs it.
type testAgent struct {
	c       client.OpAMPClient
	token   atomic.Pointer[string]
	mu      sync.Mutex
	configs []*protobufs.AgentRemoteConfig
	pkgs    []*protobufs.PackagesAvailable
	fails   atomic.Int64
	lastErr atomic.Pointer[string]
	applied atomic.Pointer[[]byte]
}

type agentOpts struct {
	version, os, arch string
	refuse            string // the remote config's FAILED message; "": APPLIED
	packages          *memPackages
}

func (e *env) startAgent(tok string, o agentOpts) *testAgent {
	e.t.Helper()
	a := &testAgent{}
	a.c = client.NewHTTP(clientLogger{a})
	a.token.Store(&tok)
	if o.version == "" {
		o.version = "1.0.0"
	}
	caps := protobufs.AgentCapabilities_AgentCapabilities_ReportsStatus | protobufs.AgentCapabilities_AgentCapabilities_AcceptsRemoteConfig |
		protobufs.AgentCapabilities_AgentCapabilities_ReportsRemoteConfig | protobufs.AgentCapabilities_AgentCapabilities_ReportsEffectiveConfig |
		protobufs.AgentCapabilities_AgentCapabilities_ReportsHealth | protobufs.AgentCapabilities_AgentCapabilities_AcceptsOpAMPConnectionSettings |
		protobufs.AgentCapabilities_AgentCapabilities_ReportsConnectionSettingsStatus | protobufs.AgentCapabilities_AgentCapabilities_ReportsHeartbeat
	attrs := []*protobufs.KeyValue{kv("host.name", "box-1")}
	if o.os != "" {
		attrs = append(attrs, kv("os.type", o.os), kv("host.arch", o.arch))
	}
	if err := a.c.SetAgentDescription(&protobufs.AgentDescription{
		IdentifyingAttributes:    []*protobufs.KeyValue{kv("service.name", "pantau-agent"), kv("service.version", o.version)},
		NonIdentifyingAttributes: attrs,
	}); err != nil {
		e.t.Fatal(err)
	}
	if err := a.c.SetHealth(&protobufs.ComponentHealth{Healthy: true, Status: "running", StartTimeUnixNano: uint64(time.Now().UnixNano())}); err != nil {
		e.t.Fatal(err)
	}
	if err := a.c.SetCustomCapabilities(&protobufs.CustomCapabilities{Capabilities: []string{fleetproto.StatusCapability}}); err != nil {
		e.t.Fatal(err)
	}
	hb := 50 * time.Millisecond
	st := types.StartSettings{
		OpAMPServerURL:    e.hs.URL + fleetproto.OpAMPPath,
		HeaderFunc:        func(h http.Header) http.Header { h.Set("Authorization", "Token "+*a.token.Load()); return h },
		InstanceUid:       types.InstanceUid{1, 2, 3},
		HeartbeatInterval: &hb,
		Callbacks: types.Callbacks{
			OnConnectFailed: func(_ context.Context, err error) { a.fails.Add(1); s := err.Error(); a.lastErr.Store(&s) },
			OnMessage: func(ctx context.Context, m *types.MessageData) {
				if rc := m.RemoteConfig; rc != nil {
					a.mu.Lock()
					a.configs = append(a.configs, rc)
					a.mu.Unlock()
					status := &protobufs.RemoteConfigStatus{LastRemoteConfigHash: rc.ConfigHash, Status: protobufs.RemoteConfigStatuses_RemoteConfigStatuses_APPLIED}
					if o.refuse != "" {
						status.Status, status.ErrorMessage = protobufs.RemoteConfigStatuses_RemoteConfigStatuses_FAILED, o.refuse
					} else {
						body := rc.Config.ConfigMap[fleetproto.ConfigFile].Body
						a.applied.Store(&body)
						a.c.UpdateEffectiveConfig(ctx)
					}
					a.c.SetRemoteConfigStatus(status)
				}
				if m.PackagesAvailable != nil {
					a.mu.Lock()
					a.pkgs = append(a.pkgs, m.PackagesAvailable)
					a.mu.Unlock()
					if m.PackageSyncer != nil {
						go m.PackageSyncer.Sync(context.Background())
					}
				}
			},
			OnOpampConnectionSettings: func(_ context.Context, s *protobufs.OpAMPConnectionSettings) error {
				for _, h := range s.GetHeaders().GetHeaders() {
					if h.Key == "Authorization" {
						nt := strings.TrimPrefix(h.Value, "Token ")
						a.token.Store(&nt)
					}
				}
				return nil
			},
			GetEffectiveConfig: func(context.Context) (*protobufs.EffectiveConfig, error) {
				body := []byte("local: true\n")
				if b := a.applied.Load(); b != nil {
					body = append(body, *b...)
				}
				return &protobufs.EffectiveConfig{ConfigMap: &protobufs.AgentConfigMap{ConfigMap: map[string]*protobufs.AgentConfigFile{"agent.yml": {Body: body}}}}, nil
			},
		},
	}
	if o.packages != nil {
		caps |= protobufs.AgentCapabilities_AgentCapabilities_AcceptsPackages | protobufs.AgentCapabilities_AgentCapabilities_ReportsPackageStatuses
		st.PackagesStateProvider = o.packages
	}
	st.Capabilities = caps
	if e.hs.TLS != nil {
		st.TLSConfig = e.hs.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
	}
	if err := a.c.Start(context.Background(), st); err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { a.c.Stop(context.Background()) })
	return a
}

// clientLogger records the client's errors (a refused request is
// reported only through its logger).
type clientLogger struct{ a *testAgent }

func (clientLogger) Debugf(context.Context, string, ...any) {}
func (l clientLogger) Errorf(_ context.Context, format string, v ...any) {
	s := fmt.Sprintf(format, v...)
	l.a.lastErr.Store(&s)
	l.a.fails.Add(1)
}

func kv(k, v string) *protobufs.KeyValue {
	return &protobufs.KeyValue{Key: k, Value: &protobufs.AnyValue{Value: &protobufs.AnyValue_StringValue{StringValue: v}}}
}

func (a *testAgent) lastConfig() *protobufs.AgentRemoteConfig {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.configs) == 0 {
		return nil
	}
	return a.configs[len(a.configs)-1]
}

func (a *testAgent) nConfigs() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.configs)
}

func (e *env) waitFor(what string, cond func() bool) {
	e.t.Helper()
	if !lab.WaitFor(context.Background(), waitFor, cond) {
		e.t.Fatalf("timed out waiting for %s\nlogs:\n%s", what, e.logs.String())
	}
}

func post(t *testing.T, url, authz string, body []byte) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/x-protobuf")
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

func TestOpAMPRefusesWithoutAgentToken(t *testing.T) {
	e := newEnv(t, false)
	ctx := context.Background()
	url := e.hs.URL + fleetproto.OpAMPPath
	api, _, err := e.store.CreateAPIToken(ctx, "grafana", statedb.RoleAdmin, nil, time.Time{}, "")
	if err != nil {
		t.Fatal(err)
	}
	agentTok, _ := e.token("a1", "kec-a")
	for _, tc := range []struct {
		name, authz string
		want        int
	}{
		{"no token", "", http.StatusUnauthorized},
		{"wrong token", "Token pantau_aaaaaaaaaaaaaaaa_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", http.StatusUnauthorized},
		{"an API token", "Bearer " + api, http.StatusForbidden},
		{"the agent token", "Token " + agentTok, http.StatusOK},
	} {
		if resp := post(t, url, tc.authz, nil); resp.StatusCode != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, resp.StatusCode, tc.want)
		}
	}
	// Too large a message, and a gzip bomb, are refused before decoding.
	if resp := post(t, url, "Token "+agentTok, make([]byte, DefaultMaxBodyBytes+1)); resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("large body: %d", resp.StatusCode)
	}
	var zb bytes.Buffer
	zw := gzip.NewWriter(&zb)
	zw.Write(make([]byte, 2*DefaultMaxBodyBytes))
	zw.Close()
	req, _ := http.NewRequest(http.MethodPost, url, &zb)
	req.Header.Set("Content-Type", "application/x-protobuf")
	req.Header.Set("Content-Encoding", "gzip")
	req.Header.Set("Authorization", "Token "+agentTok)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("gzip bomb: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	// A real client with a wrong token does not connect.
	a := e.startAgent("pantau_aaaaaaaaaaaaaaaa_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", agentOpts{})
	e.waitFor("the client's 401", func() bool { s := a.lastErr.Load(); return s != nil && strings.Contains(*s, "401") })
	if _, ok, _ := e.store.FleetAgent(ctx, "a1"); ok {
		// only the raw 200 above touched a1; a wrong token records nothing more
		if a := e.store.agent("a1"); a.Hostname != "" {
			t.Errorf("a refused client was recorded: %+v", a)
		}
	}
}

func TestOpAMPFailuresCountTowardsTheSourceLimit(t *testing.T) {
	e := newEnv(t, false)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	mux := http.NewServeMux()
	e.srv.Register(mux)
	hs := httptest.NewUnstartedServer(auth.NewGate(auth.GateOptions{Verifier: e.authn, Logger: log, Guard: auth.NewGuard(3, 100)}, mux))
	hs.Config.ConnContext = e.srv.ConnContext
	hs.Start()
	defer hs.Close()
	codes := []int{}
	for range 5 {
		codes = append(codes, post(t, hs.URL+fleetproto.OpAMPPath, "Token pantau_aaaaaaaaaaaaaaaa_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", nil).StatusCode)
	}
	if codes[len(codes)-1] != http.StatusTooManyRequests {
		t.Errorf("codes %v: want 429 after 3 wrong tokens", codes)
	}
}

func TestOpAMPConfigOfferedAndStatusRecorded(t *testing.T) {
	e := newEnv(t, true)
	ctx := context.Background()
	e.inv.Store(parseInv(t, testInventory))
	sealed, err := e.keyring.Seal(PemdaWide, "default", &Profile{Version: "2c", Community: "rahasia-c"})
	if err != nil {
		t.Fatal(err)
	}
	e.store.PutCredentialProfile(ctx, PemdaWide, "default", sealed, "test")
	tok, tokID := e.token("agent-kec-a", "kec-a")
	a := e.startAgent(tok, agentOpts{version: "1.2.3"})
	e.waitFor("the config applied", func() bool { return e.store.agent("agent-kec-a").ConfigStatus == ConfigApplied })
	rc := a.lastConfig()
	body := rc.Config.ConfigMap[fleetproto.ConfigFile]
	if body.ContentType != fleetproto.ConfigContentType || sha256.Sum256(body.Body) != [32]byte(rc.ConfigHash) {
		t.Fatalf("config %q hash %x", body.ContentType, rc.ConfigHash)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(body.Body, &doc); err != nil {
		t.Fatal(err)
	}
	if find(doc["icmp"], "kec-a-vsat") == nil || find(doc["snmp"], "rtr-kec-a")["community"] != "rahasia-c" {
		t.Errorf("config over TLS:\n%s", body.Body)
	}
	rec := e.store.agent("agent-kec-a")
	if rec.Site != "kec-a" || rec.Version != "1.2.3" || rec.Hostname != "box-1" || rec.TokenID != tokID || !rec.Healthy || rec.HealthStatus != "running" ||
		rec.ConfigOffered != hex.EncodeToString(rc.ConfigHash) || rec.ConfigApplied != rec.ConfigOffered {
		t.Errorf("record %+v", rec)
	}
	e.waitFor("the effective config hash", func() bool { return e.store.agent("agent-kec-a").EffectiveConfigHash != "" })
	if strings.Contains(e.logs.String(), "rahasia") {
		t.Error("a secret reached the log")
	}

	// The status message: backlog and clock offset (agent 90 s ahead).
	data, _ := json.Marshal(fleetproto.Status{Time: time.Now().Add(90 * time.Second), QueuePoints: 1234, QueueBytes: 56789, QueueOldestAgeSeconds: 3600})
	if _, err := a.c.SendCustomMessage(&protobufs.CustomMessage{Capability: fleetproto.StatusCapability, Type: fleetproto.StatusMessageType, Data: data}); err != nil {
		t.Fatal(err)
	}
	e.waitFor("the status", func() bool { return e.store.agent("agent-kec-a").QueuePoints == 1234 })
	rec = e.store.agent("agent-kec-a")
	if rec.QueueBytes != 56789 || rec.QueueOldestAgeSeconds != 3600 || rec.ClockOffsetSeconds < 80 || rec.ClockOffsetSeconds > 91 {
		t.Errorf("status %+v", rec)
	}

	// Polls that change nothing are not written each time.
	n := a.nConfigs()
	e.store.mu.Lock()
	before := e.store.upserts
	e.store.mu.Unlock()
	e.waitFor("more polls", func() bool { return testutil.ToFloat64(e.srv.m.messages) > 20 })
	e.store.mu.Lock()
	after := e.store.upserts
	e.store.mu.Unlock()
	if after-before > 2 {
		t.Errorf("%d writes for polls that changed nothing", after-before)
	}
	if a.nConfigs() != n {
		t.Errorf("the unchanged config was offered again (%d offers, was %d)", a.nConfigs(), n)
	}

	// An inventory change reaches the agent.
	e.inv.Store(parseInv(t, strings.Replace(testInventory, "10.2.0.1}", "10.2.0.9}", 1)))
	e.waitFor("the new config", func() bool {
		rc := a.lastConfig()
		return bytes.Contains(rc.Config.ConfigMap[fleetproto.ConfigFile].Body, []byte("10.2.0.9"))
	})
	e.waitFor("the new config applied", func() bool {
		r := e.store.agent("agent-kec-a")
		return r.ConfigApplied == r.ConfigOffered && r.ConfigOffered != rec.ConfigOffered
	})
	// So does an override.
	e.store.setOverride("agent-kec-a", "icmp: [{name: extra, target: 192.0.2.7}]\n")
	e.waitFor("the override", func() bool {
		return bytes.Contains(a.lastConfig().Config.ConfigMap[fleetproto.ConfigFile].Body, []byte("192.0.2.7"))
	})
}

func TestOpAMPPlainHTTPSendsNoCredentialsAndRecordsRefusal(t *testing.T) {
	e := newEnv(t, false)
	ctx := context.Background()
	e.inv.Store(parseInv(t, testInventory))
	sealed, _ := e.keyring.Seal(PemdaWide, "default", &Profile{Version: "2c", Community: "rahasia-c"})
	e.store.PutCredentialProfile(ctx, PemdaWide, "default", sealed, "test")
	tok, _ := e.token("agent-kec-a", "kec-a")
	a := e.startAgent(tok, agentOpts{refuse: "icmp[0]: cannot resolve"})
	e.waitFor("the refusal recorded", func() bool { return e.store.agent("agent-kec-a").ConfigStatus == ConfigFailed })
	if r := e.store.agent("agent-kec-a"); r.ConfigError != "icmp[0]: cannot resolve" || r.ConfigApplied != "" {
		t.Errorf("record %+v", r)
	}
	body := a.lastConfig().Config.ConfigMap[fleetproto.ConfigFile].Body
	if bytes.Contains(body, []byte("rahasia")) || find(decodeYAML(t, body)["snmp"], "rtr-kec-a") != nil ||
		!bytes.Contains(body, []byte("device rtr-kec-a left out: SNMP credentials are sent only over TLS")) {
		t.Errorf("config over plain HTTP:\n%s", body)
	}
	// A refused config is not offered again until it changes.
	n := a.nConfigs()
	e.waitFor("more polls", func() bool { return testutil.ToFloat64(e.srv.m.messages) > 15 })
	if a.nConfigs() != n {
		t.Errorf("the refused config was offered again")
	}
}

func decodeYAML(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := yaml.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestOpAMPRotation(t *testing.T) {
	e := newEnv(t, false)
	ctx := context.Background()
	tok, oldID := e.token("agent-kec-a", "kec-a")
	a := e.startAgent(tok, agentOpts{})
	e.waitFor("the agent seen", func() bool { return e.store.agent("agent-kec-a").TokenID == oldID })
	e.store.RequestRotation(ctx, "agent-kec-a")
	e.waitFor("the rotation completed", func() bool {
		r, _ := e.store.RotationRequested(ctx, "agent-kec-a")
		return !r
	})
	newTok := *a.token.Load()
	if newTok == tok {
		t.Fatal("the agent did not get a new token")
	}
	e.authn.Reload(ctx)
	if _, err := e.authn.Authenticate(ctx, tok); !errors.Is(err, statedb.ErrRevokedToken) {
		t.Errorf("old token: %v, want revoked", err)
	}
	id, err := e.authn.Authenticate(ctx, newTok)
	if err != nil || id.Agent != "agent-kec-a" || strings.Join(id.Sites, ",") != "kec-a" {
		t.Errorf("new token: %+v %v", id, err)
	}
	e.waitFor("the record on the new token", func() bool { return e.store.agent("agent-kec-a").TokenID == id.TokenID })
	entries, _ := e.store.Audit(ctx, statedb.AuditFilter{})
	var actions []string
	for _, en := range entries {
		actions = append(actions, en.Action)
		if strings.Contains(en.Summary, strings.Split(newTok, "_")[2]) {
			t.Error("the audit log holds the new token's secret")
		}
	}
	if got := strings.Join(actions, ","); got != "fleet rotate complete,fleet rotate issue" {
		t.Errorf("audit %s", got)
	}
	if strings.Contains(e.logs.String(), strings.Split(newTok, "_")[2]) {
		t.Error("the new token's secret reached the log")
	}
}

func TestOpAMPRotationAfterRestartRevokesTheUnusedToken(t *testing.T) {
	e := newEnv(t, false)
	ctx := context.Background()
	tok, _ := e.token("agent-kec-a", "kec-a")
	// A rotation issued by a collector that then stopped: its token was
	// never delivered.
	_, lost, err := e.store.CreateToken(ctx, "agent-kec-a", []string{"kec-a"}, rotationDescription+"agent-kec-a (replaces x)")
	if err != nil {
		t.Fatal(err)
	}
	e.store.RequestRotation(ctx, "agent-kec-a")
	a := e.startAgent(tok, agentOpts{})
	e.waitFor("the rotation completed", func() bool {
		r, _ := e.store.RotationRequested(ctx, "agent-kec-a")
		return !r && *a.token.Load() != tok
	})
	toks, _ := e.store.ListTokens(ctx)
	active := 0
	for _, tk := range toks {
		if tk.ID == lost.ID && tk.RevokedAt.IsZero() {
			t.Error("the unused rotation token is still active")
		}
		if tk.RevokedAt.IsZero() {
			active++
		}
	}
	if active != 1 {
		t.Errorf("%d active tokens, want 1", active)
	}
}

// memPackages is an agent's package store that verifies what it gets.
type memPackages struct {
	pub      ed25519.PublicKey
	mu       sync.Mutex
	all      []byte
	states   map[string]types.PackageState
	content  map[string][]byte
	statuses *protobufs.PackageStatuses
	verified atomic.Int64
}

func (m *memPackages) AllPackagesHash() ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.all, nil
}
func (m *memPackages) SetAllPackagesHash(h []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.all = h
	return nil
}
func (m *memPackages) Packages() ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for k := range m.states {
		out = append(out, k)
	}
	return out, nil
}
func (m *memPackages) PackageState(n string) (types.PackageState, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.states[n], nil
}
func (m *memPackages) SetPackageState(n string, s types.PackageState) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.states[n] = s
	return nil
}
func (m *memPackages) CreatePackage(n string, typ protobufs.PackageType) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.states[n] = types.PackageState{Exists: true, Type: typ}
	return nil
}
func (m *memPackages) FileContentHash(n string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if c, ok := m.content[n]; ok {
		s := sha256.Sum256(c)
		return s[:], nil
	}
	return nil, nil
}
func (m *memPackages) UpdateContent(_ context.Context, n string, r io.Reader, hash, sig []byte) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(data)
	if !bytes.Equal(sum[:], hash) {
		return errors.New("content hash mismatch")
	}
	m.mu.Lock()
	st := m.states[n]
	m.mu.Unlock()
	_ = st
	// The version is not known here; the test checks the signature over
	// the offered version in the test itself.
	m.mu.Lock()
	m.content[n] = data
	m.mu.Unlock()
	if len(sig) == ed25519.SignatureSize {
		m.verified.Add(1)
	}
	return nil
}
func (m *memPackages) DeletePackage(n string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.states, n)
	return nil
}
func (m *memPackages) LastReportedStatuses() (*protobufs.PackageStatuses, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.statuses, nil
}
func (m *memPackages) SetLastReportedStatuses(s *protobufs.PackageStatuses) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.statuses = s
	return nil
}

func signTestRelease(t *testing.T, e *env, version, goos, goarch string, content []byte) (ed25519.PublicKey, *Manifest) {
	t.Helper()
	dir := t.TempDir()
	priv, pubPath, err := Keygen(filepath.Join(dir, "keys"))
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "pantau-agent")
	os.WriteFile(bin, content, 0o755)
	m, err := SignRelease(priv, bin, version, goos, goarch, e.releases.Dir(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	pb, _ := os.ReadFile(pubPath)
	pub, err := fleetproto.ParsePublicKey(pb)
	if err != nil {
		t.Fatal(err)
	}
	return pub, m
}

func TestOpAMPPackageOffer(t *testing.T) {
	e := newEnv(t, false)
	content := []byte("#!/bin/sh\necho new agent\n")
	pub, _ := signTestRelease(t, e, "1.1.0", "linux", "amd64", content)
	signTestRelease(t, e, "1.1.0", "linux", "arm64", []byte("arm"))

	tokArm, _ := e.token("agent-arm", "kec-b")
	arm := e.startAgent(tokArm, agentOpts{version: "1.0.0", os: "linux", arch: "riscv64", packages: &memPackages{states: map[string]types.PackageState{}, content: map[string][]byte{}}})
	tokOff, _ := e.token("agent-off", "kec-c")
	off := e.startAgent(tokOff, agentOpts{version: "1.0.0", os: "linux", arch: "amd64", packages: &memPackages{states: map[string]types.PackageState{}, content: map[string][]byte{}}})
	e.waitFor("both agents seen with updates off", func() bool {
		return e.store.agent("agent-arm").Version != "" && e.store.agent("agent-off").Version != "" && testutil.ToFloat64(e.srv.m.messages) > 10
	})
	if len(off.pkgs) != 0 {
		t.Fatal("a package was offered with fleet.updates.enabled off")
	}

	e.updates.Store(true)
	// An agent without update.enabled (no AcceptsPackages): nothing
	// offered, its update state untouched.
	tokNo, _ := e.token("agent-nopkg", "kec-d")
	nopkg := e.startAgent(tokNo, agentOpts{version: "1.0.0", os: "linux", arch: "amd64"})
	pk := &memPackages{pub: pub, states: map[string]types.PackageState{}, content: map[string][]byte{}}
	tok, _ := e.token("agent-kec-a", "kec-a")
	a := e.startAgent(tok, agentOpts{version: "1.0.0", os: "linux", arch: "amd64", packages: pk})
	e.waitFor("the release downloaded and installed", func() bool {
		r := e.store.agent("agent-kec-a")
		return pk.verified.Load() > 0 && r.UpdateState == "installed" && r.UpdateVersion == "1.1.0"
	})
	a.mu.Lock()
	p := a.pkgs[0].Packages[fleetproto.PackageName]
	a.mu.Unlock()
	if p.Version != "1.1.0" || p.Type != protobufs.PackageType_PackageType_TopLevel {
		t.Errorf("offer %+v", p)
	}
	if err := fleetproto.VerifyRelease(pub, p.Version, "linux", "amd64", p.File.ContentHash, p.File.Signature); err != nil {
		t.Errorf("offered signature: %v", err)
	}
	pk.mu.Lock()
	got := pk.content[fleetproto.PackageName]
	pk.mu.Unlock()
	if !bytes.Equal(got, content) {
		t.Errorf("downloaded %q", got)
	}
	// No arch match: nothing offered, even with updates on.
	e.waitFor("more polls", func() bool { return testutil.ToFloat64(e.srv.m.messages) > 40 })
	arm.mu.Lock()
	if len(arm.pkgs) != 0 {
		t.Error("a release was offered to an agent of another arch")
	}
	arm.mu.Unlock()
	nopkg.mu.Lock()
	if len(nopkg.pkgs) != 0 {
		t.Error("a release was offered to an agent that does not accept packages")
	}
	nopkg.mu.Unlock()
	if r := e.store.agent("agent-nopkg"); r.Version != "1.0.0" || r.UpdateState != "" || r.UpdateVersion != "" {
		t.Errorf("agent without AcceptsPackages: version %q, update state %q %q", r.Version, r.UpdateState, r.UpdateVersion)
	}
	// The download endpoint: agent tokens only, bad parameters 400.
	for _, tc := range []struct {
		path, authz string
		want        int
	}{
		{"1.1.0/linux-amd64", "Token " + tok, http.StatusOK},
		{"1.1.0/linux-amd64", "", http.StatusUnauthorized},
		{"1.1.0/linux-mips", "Token " + tok, http.StatusNotFound},
		{"1.1.0/linux", "Token " + tok, http.StatusBadRequest},
		{"..%2F..%2Fetc/linux-amd64", "Token " + tok, http.StatusBadRequest},
	} {
		req, _ := http.NewRequest(http.MethodGet, e.hs.URL+fleetproto.ReleasesPath+tc.path, nil)
		if tc.authz != "" {
			req.Header.Set("Authorization", tc.authz)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("GET %s: %d, want %d", tc.path, resp.StatusCode, tc.want)
		}
	}
}

func TestMetricsLint(t *testing.T) {
	e := newEnv(t, false)
	reg := prometheus.NewRegistry()
	reg.MustRegister(e.srv.Collectors()...)
	probs, err := testutil.GatherAndLint(reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range probs {
		t.Errorf("%s: %s", p.Metric, p.Text)
	}
}
