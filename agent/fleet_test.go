package agent

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"io"
	stdlog "log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/open-telemetry/opamp-go/protobufs"
	"github.com/open-telemetry/opamp-go/server"
	srvtypes "github.com/open-telemetry/opamp-go/server/types"

	"github.com/pantau-noc/pantau/agent/internal/config"
	"github.com/pantau-noc/pantau/agent/internal/fleet"
	"github.com/pantau-noc/pantau/internal/fleetproto"
	"github.com/pantau-noc/pantau/internal/lab"
	"github.com/pantau-noc/pantau/internal/testbuild"
)

// fakeFleet is a collector's fleet side for tests: enrolment, a real
// opamp-go server offering a remote config (and, on demand, a token
// rotation), and the write endpoint, each checking the agent's token.
type fakeFleet struct {
	mu       sync.Mutex
	code     string
	tokens   map[string]bool // accepted agent tokens
	offer    []byte          // the remote config offered; nil: none
	rotateTo string          // offered in the connection settings until used

	statuses   []*protobufs.RemoteConfigStatus
	effective  string
	status     []fleetproto.Status
	health     *protobufs.ComponentHealth
	opampAuth  []string
	desc       *protobufs.AgentDescription
	caps       uint64
	batches    map[string]string // Pantau-Batch → line protocol
	writeAuths map[string]int
}

// newFakeFleet returns the fake, its server and the (pinned) enrolment
// code it takes once.
func newFakeFleet(t *testing.T) (*fakeFleet, *httptest.Server, string) {
	f := &fakeFleet{tokens: map[string]bool{}, batches: map[string]string{}, writeAuths: map[string]int{}}
	op := server.New(nil)
	handler, connContext, err := op.Attach(server.Settings{CustomCapabilities: []string{fleetproto.StatusCapability},
		Callbacks: srvtypes.Callbacks{OnConnecting: func(r *http.Request) srvtypes.ConnectionResponse {
			if !f.auth(r) {
				return srvtypes.ConnectionResponse{Accept: false, HTTPStatusCode: http.StatusUnauthorized}
			}
			return srvtypes.ConnectionResponse{Accept: true, ConnectionCallbacks: srvtypes.ConnectionCallbacks{OnMessage: f.onMessage}}
		}}})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+fleetproto.OpAMPPath, handler)
	mux.HandleFunc("POST "+fleetproto.EnrollPath, f.enroll)
	mux.HandleFunc("POST /api/v2/write", f.write)
	srv := httptest.NewUnstartedServer(mux)
	srv.Config.ConnContext = connContext
	srv.Config.ErrorLog = stdlog.New(io.Discard, "", 0) // the tcp plugin's probes connect and leave
	srv.StartTLS()
	t.Cleanup(srv.Close)
	pin := fleetproto.SPKIPin(srv.Certificate())
	code := fleetproto.Code{ID: "abcd2345", Secret: strings.Repeat("k", 32), Pin: pin[:]}.String()
	f.mu.Lock()
	f.code = code
	f.mu.Unlock()
	return f, srv, code
}

// auth checks the agent token; the first use of a rotated token revokes
// the others, as the collector does.
func (f *fakeFleet) auth(r *http.Request) bool {
	tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Token ")
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.tokens[tok] {
		return false
	}
	if tok == f.rotateTo {
		f.tokens, f.rotateTo = map[string]bool{tok: true}, ""
	}
	if r.URL.Path == fleetproto.OpAMPPath {
		f.opampAuth = append(f.opampAuth, tok)
	} else {
		f.writeAuths[tok]++
	}
	return true
}

func (f *fakeFleet) enroll(w http.ResponseWriter, r *http.Request) {
	var req fleetproto.EnrollRequest
	json.NewDecoder(r.Body).Decode(&req)
	f.mu.Lock()
	defer f.mu.Unlock()
	if req.Code != f.code {
		http.Error(w, `{"message":"enrolment code unknown, used or expired"}`, http.StatusUnauthorized)
		return
	}
	f.code = "used"
	f.tokens["tok-1"] = true
	json.NewEncoder(w).Encode(fleetproto.EnrollResponse{Agent: "camat-1", Site: "distrik-1", Token: "tok-1"})
}

func (f *fakeFleet) write(w http.ResponseWriter, r *http.Request) {
	if !f.auth(r) {
		http.Error(w, `{"message":"token unknown"}`, http.StatusUnauthorized)
		return
	}
	gz, _ := io.ReadAll(r.Body)
	lp, err := gunzip(gz)
	if err != nil {
		http.Error(w, "gzip", http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.batches[r.Header.Get("Pantau-Batch")] = string(lp)
	f.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (f *fakeFleet) onMessage(_ context.Context, _ srvtypes.Connection, m *protobufs.AgentToServer) *protobufs.ServerToAgent {
	f.mu.Lock()
	defer f.mu.Unlock()
	if m.RemoteConfigStatus != nil {
		f.statuses = append(f.statuses, m.RemoteConfigStatus)
	}
	if ec := m.GetEffectiveConfig().GetConfigMap().GetConfigMap()[fleetproto.ConfigFile]; ec != nil {
		f.effective = string(ec.Body)
	}
	if cm := m.CustomMessage; cm != nil && cm.Capability == fleetproto.StatusCapability && cm.Type == fleetproto.StatusMessageType {
		var st fleetproto.Status
		if json.Unmarshal(cm.Data, &st) == nil {
			f.status = append(f.status, st)
		}
	}
	if m.Health != nil {
		f.health = m.Health
	}
	if m.AgentDescription != nil {
		f.desc = m.AgentDescription
	}
	if m.Capabilities != 0 {
		f.caps = m.Capabilities
	}
	resp := &protobufs.ServerToAgent{InstanceUid: m.InstanceUid}
	if f.offer != nil {
		h := sha256.Sum256(f.offer)
		resp.RemoteConfig = &protobufs.AgentRemoteConfig{ConfigHash: h[:], Config: &protobufs.AgentConfigMap{ConfigMap: map[string]*protobufs.AgentConfigFile{
			fleetproto.ConfigFile: {Body: f.offer, ContentType: fleetproto.ConfigContentType}}}}
	}
	if f.rotateTo != "" {
		h := sha256.Sum256([]byte(f.rotateTo))
		resp.ConnectionSettings = &protobufs.ConnectionSettingsOffers{Hash: h[:], Opamp: &protobufs.OpAMPConnectionSettings{
			Headers: &protobufs.Headers{Headers: []*protobufs.Header{{Key: "Authorization", Value: "Token " + f.rotateTo}}}}}
	}
	return resp
}

// lastStatus is the last remote config status whose hash is that of body.
func (f *fakeFleet) lastStatus(body []byte) *protobufs.RemoteConfigStatus {
	h := sha256.Sum256(body)
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := len(f.statuses) - 1; i >= 0; i-- {
		if bytes.Equal(f.statuses[i].LastRemoteConfigHash, h[:]) {
			return f.statuses[i]
		}
	}
	return nil
}

// pings counts the stored icmp points for target.
func (f *fakeFleet) pings(target string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, lp := range f.batches {
		for _, l := range strings.Split(lp, "\n") {
			if strings.HasPrefix(l, "icmp,") && strings.Contains(l, "target="+target) {
				n++
			}
		}
	}
	return n
}

// TestIntegrationFleet: a box enrols with a pinned code, runs with a
// config that names only its state dir, takes its probes from a real
// opamp-go server and applies them without a restart, refuses a bad
// config with the reason (the old one runs on), switches to a rotated
// token without losing a batch, and after a restart with the collector
// gone probes with the cached remote config.
func TestIntegrationFleet(t *testing.T) {
	needICMP(t)
	bin := testbuild.Agent(t)
	f, srv, code := newFakeFleet(t)
	dir := t.TempDir()
	ctx := context.Background()
	wait := func(what string, cond func() bool) {
		t.Helper()
		if !lab.WaitFor(ctx, 40*time.Second, cond) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}

	// Enrol: a used code is refused with the operator's message.
	out, err := exec.Command(bin, "enroll", "--collector", srv.URL, "--code", code, "--state-dir", dir).CombinedOutput()
	if err != nil || !strings.Contains(string(out), `enrolled as agent "camat-1"`) {
		t.Fatalf("enroll: %v\n%s", err, out)
	}
	out, err = exec.Command(bin, "enroll", "--collector", srv.URL, "--code", code, "--state-dir", t.TempDir()).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "enrolment code unknown, used or expired") {
		t.Fatalf("a used code: %v\n%s", err, out)
	}

	// An ICMP target, and a service check through a bundled plugin named
	// by the remote config only (the agent finds its path and sum).
	good := []byte("agent: {site: distrik-1}\ndefaults: {interval: 1s, timeout: 500ms}\nicmp:\n  - {name: lo, target: 127.0.0.1, packets: 1}\n" +
		"plugins:\n  - name: tcp\n    targets: [{name: collector-port, config: {address: \"" + srv.Listener.Addr().String() + "\"}}]\n")
	f.mu.Lock()
	f.offer = good
	f.mu.Unlock()
	cfgPath := filepath.Join(dir, "agent.yml")
	os.WriteFile(cfgPath, []byte("agent: {state_dir: "+dir+", listen_address: \"\"}\nfleet: {poll_interval: 1s}\n"), 0o600)
	start := func() (*exec.Cmd, *lab.SyncBuffer) {
		cmd := exec.Command(bin, "run", "--config", cfgPath, "--log.level", "debug")
		buf := &lab.SyncBuffer{}
		cmd.Stdout, cmd.Stderr = buf, buf
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		return cmd, buf
	}
	cmd, log := start()
	defer func() {
		if t.Failed() {
			t.Logf("agent log:\n%s", log)
		}
	}()

	// The offered target is probed and delivered, without a restart.
	wait("pings of the remote target", func() bool { return f.pings("127.0.0.1") >= 3 })
	wait("the remote plugin target", func() bool {
		f.mu.Lock()
		defer f.mu.Unlock()
		for _, lp := range f.batches {
			if strings.Contains(lp, "tcp,address=") && strings.Contains(lp, "target=collector-port") && strings.Contains(lp, "up=1i") {
				return true
			}
		}
		return false
	})
	if s := f.lastStatus(good); s == nil || s.Status != protobufs.RemoteConfigStatuses_RemoteConfigStatuses_APPLIED {
		t.Fatalf("status of the good config: %v", s)
	}
	if !strings.Contains(log.String(), "config reloaded") {
		t.Fatal("the remote config was not applied through a reload")
	}
	wait("the effective config", func() bool {
		f.mu.Lock()
		defer f.mu.Unlock()
		return strings.Contains(f.effective, "127.0.0.1")
	})
	wait("a status message", func() bool {
		f.mu.Lock()
		defer f.mu.Unlock()
		return len(f.status) >= 2
	})
	f.mu.Lock()
	eff, st, health, desc, caps := f.effective, f.status[len(f.status)-1], f.health, f.desc, f.caps
	f.mu.Unlock()
	if strings.Contains(eff, "tok-1") || !strings.Contains(eff, filepath.Join(dir, "token")) || !strings.Contains(eff, "name: fleet") {
		t.Fatalf("effective config:\n%s", eff)
	}
	if time.Since(st.Time).Abs() > time.Minute || health == nil || !health.Healthy {
		t.Fatalf("status %+v, health %v", st, health)
	}
	if desc == nil || !strings.Contains(desc.String(), "pantau-agent") ||
		caps&uint64(protobufs.AgentCapabilities_AgentCapabilities_AcceptsRemoteConfig) == 0 ||
		caps&uint64(protobufs.AgentCapabilities_AgentCapabilities_AcceptsPackages) != 0 {
		t.Fatalf("description %v, capabilities %b", desc, caps)
	}
	if b, err := os.ReadFile(filepath.Join(dir, config.RemoteConfigFile)); err != nil || !bytes.Equal(b, good) {
		t.Fatalf("cached remote config: %q %v", b, err)
	}

	// A config that does not load: refused with the reason; the old one
	// runs on.
	bad := []byte("icmp:\n  - {name: lo, target: 127.0.0.1, timeout: 60s}\n")
	f.mu.Lock()
	f.offer = bad
	f.mu.Unlock()
	wait("the refusal", func() bool { return f.lastStatus(bad) != nil })
	if s := f.lastStatus(bad); s.Status != protobufs.RemoteConfigStatuses_RemoteConfigStatuses_FAILED ||
		!strings.Contains(s.ErrorMessage, "icmp[0].timeout: must not exceed the interval") {
		t.Fatalf("status of the bad config: %v", s)
	}
	n := f.pings("127.0.0.1")
	wait("pings with the old config", func() bool { return f.pings("127.0.0.1") >= n+2 })
	if b, _ := os.ReadFile(filepath.Join(dir, config.RemoteConfigFile)); !bytes.Equal(b, good) {
		t.Fatal("the refused config replaced the cached one")
	}

	// Rotation: the agent switches to tok-2; tok-1 is revoked at its
	// first use and everything keeps arriving.
	f.mu.Lock()
	f.tokens["tok-2"], f.rotateTo = true, "tok-2"
	f.mu.Unlock()
	wait("writes with the new token", func() bool {
		f.mu.Lock()
		defer f.mu.Unlock()
		return f.writeAuths["tok-2"] >= 3 && !f.tokens["tok-1"]
	})
	if tok, err := fleet.ReadToken(dir); err != nil || tok.Reveal() != "tok-2" {
		t.Fatalf("token file after rotation: %v", err)
	}
	f.mu.Lock()
	last := f.opampAuth[len(f.opampAuth)-1]
	f.mu.Unlock()
	if last != "tok-2" {
		t.Fatalf("OpAMP polls with %q after the rotation", last)
	}
	// No batch lost: every sequence number up to the newest stored one
	// arrives (a batch refused with the revoked token is sent again).
	wait("every batch", func() bool {
		f.mu.Lock()
		defer f.mu.Unlock()
		maxSeq, n := uint64(0), 0
		for id := range f.batches {
			if s, err := strconv.ParseUint(id[strings.LastIndexByte(id, '/')+1:], 10, 64); err == nil {
				maxSeq, n = max(maxSeq, s), n+1
			}
		}
		return n > 0 && uint64(n) == maxSeq
	})

	// Restart with the collector gone: the cached remote config runs.
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if strings.Count(log.String(), "msg=starting ") != 1 {
		t.Fatal("the agent restarted while applying configs")
	}
	srv.Close()
	_, log2 := start()
	wait("probing with the cached config", func() bool {
		s := log2.String()
		return strings.Contains(s, "running the cached remote config") && strings.Contains(s, "icmp_targets=1")
	})
	for _, s := range []string{log.String(), log2.String()} {
		if strings.Contains(s, "tok-1") || strings.Contains(s, "tok-2") || strings.Contains(s, strings.TrimPrefix(code, "PNT1-abcd2345-")[:16]) {
			t.Fatalf("a token or the code in the log:\n%s", s)
		}
	}
}

// TestSourceMinimal: with only a state dir that enrolment filled in, the
// agent builds its collector entry (token file, pinned certificate) and
// takes agent id and site from fleet.json.
func TestSourceMinimal(t *testing.T) {
	dir := t.TempDir()
	fleet.SaveState(dir, fleet.State{CollectorURL: "https://noc.example:9810", Agent: "camat-1", Site: "distrik-1"})
	fleet.WriteToken(dir, "tok-1")
	os.WriteFile(filepath.Join(dir, config.CollectorCAFile), []byte("x"), 0o644)
	src := &source{stateDir: dir, log: slog.New(slog.DiscardHandler)}
	cfg, err := src.load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Collectors) != 1 {
		t.Fatalf("collectors: %+v", cfg.Collectors)
	}
	c := cfg.Collectors[0]
	if c.Name != "fleet" || c.URL != "https://noc.example:9810" || c.CurrentToken().Reveal() != "tok-1" || c.TLS.CAFile != filepath.Join(dir, config.CollectorCAFile) ||
		cfg.Agent.ID != "camat-1" || cfg.Agent.Site != "distrik-1" || cfg.Agent.StateDir != dir {
		t.Fatalf("config: %+v %+v", c, cfg.Agent)
	}
	src.token.Set("tok-2")
	if cfg.Collectors[0].CurrentToken().Reveal() != "tok-2" {
		t.Fatal("the sender's token does not follow a rotation")
	}
	// check-config: a cached remote config that no longer loads with
	// agent.yml is pointed out.
	os.WriteFile(filepath.Join(dir, config.RemoteConfigFile), []byte("icmp: [{target: 10.0.0.1}]\n"), 0o600)
	local := filepath.Join(dir, "agent.yml")
	os.WriteFile(local, []byte("agent: {state_dir: "+dir+"}\n"), 0o600)
	lc, _ := config.Load(local)
	if w := checkCached(lc, local); w != "" {
		t.Fatalf("a cached config that loads: %s", w)
	}
	os.WriteFile(local, []byte("agent: {state_dir: "+dir+"}\ndefaults: {timeout: 40s}\n"), 0o600)
	lc, _ = config.Load(local)
	if w := checkCached(lc, local); !strings.Contains(w, "the cached remote config") || !strings.Contains(w, "icmp[0].timeout") {
		t.Fatalf("a cached config that does not load: %q", w)
	}

	// Fleet URL set but never enrolled, no code: says what to run.
	other := t.TempDir()
	p := filepath.Join(other, "agent.yml")
	os.WriteFile(p, []byte("agent: {state_dir: "+other+"}\nfleet: {url: 'https://noc.example:9810'}\n"), 0o600)
	if _, err := (&source{path: p, log: slog.New(slog.DiscardHandler)}).load(context.Background()); err == nil ||
		!strings.Contains(err.Error(), "pantau-agent enroll --collector https://noc.example:9810") {
		t.Fatalf("not enrolled: %v", err)
	}
}

// TestSourceEnrollAtFirstStart: fleet.enroll_code in agent.yml enrols at
// the first start (pinned), and only then: afterwards check-config warns
// that the code can go.
func TestSourceEnrollAtFirstStart(t *testing.T) {
	_, srv, code := newFakeFleet(t)
	dir := t.TempDir()
	p := filepath.Join(dir, "agent.yml")
	os.WriteFile(p, []byte("agent: {state_dir: "+dir+"}\nfleet: {url: '"+srv.URL+"', enroll_code: '"+code+"'}\n"), 0o600)
	for i := range 2 {
		src := &source{path: p, log: slog.New(slog.DiscardHandler)}
		cfg, err := src.load(context.Background())
		if err != nil {
			t.Fatalf("start %d: %v", i, err)
		}
		if c := cfg.Collectors[0]; c.URL != srv.URL || c.CurrentToken().Reveal() != "tok-1" || c.TLS.CAFile != filepath.Join(dir, config.CollectorCAFile) || cfg.Agent.ID != "camat-1" {
			t.Fatalf("start %d: %+v %+v", i, c, cfg.Agent)
		}
		warned := false
		for _, w := range cfg.Warnings() {
			warned = warned || strings.Contains(w.Error(), "fleet.enroll_code: the agent has enrolled already")
		}
		if !warned {
			t.Fatalf("start %d: no warning about the spent code", i)
		}
	}
}

// TestProbeOnceCachedConfig: on an enrolled box, probe --once probes what
// the collector sent last, as run would.
func TestProbeOnceCachedConfig(t *testing.T) {
	needICMP(t)
	dir := t.TempDir()
	fleet.SaveState(dir, fleet.State{CollectorURL: "https://noc.example:9810", Agent: "camat-1", Site: "distrik-1"})
	fleet.WriteToken(dir, "tok-1")
	os.WriteFile(filepath.Join(dir, config.RemoteConfigFile), []byte("icmp: [{name: lo, target: 127.0.0.1, packets: 1, timeout: 1s}]\n"), 0o600)
	p := filepath.Join(dir, "agent.yml")
	os.WriteFile(p, []byte("agent: {state_dir: "+dir+"}\n"), 0o600)
	var out, errb bytes.Buffer
	if rc := Main(context.Background(), []string{"probe", "--config", p, "--once"}, &out, &errb); rc != 0 {
		t.Fatalf("exit %d: %s", rc, errb.String())
	}
	if !strings.Contains(out.String(), "icmp,") || !strings.Contains(out.String(), "name=lo,target=127.0.0.1") {
		t.Fatalf("output:\n%s\n%s", out.String(), errb.String())
	}
}
