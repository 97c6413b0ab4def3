package e2e

// Agent updates end to end (docs/fleet.md, "Agent updates"): a collector
// and an agent as processes on 127.0.0.1, the agent under a
// systemd-like supervisor that starts it again when it exits with 75.

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/internal/fleetproto"
	"github.com/pantau-noc/pantau/internal/lab"
	"github.com/pantau-noc/pantau/internal/testbuild"
	"github.com/pantau-noc/pantau/internal/testproc"
)

// The releases of TestIntegrationFleetUpdate; the packaged agent is
// testbuild.Agent's "dev".
const (
	updForged = "v9.9.0-forged" // signed with another key
	updGood   = "v9.9.1"        // testbuild.AgentVersion
	updBad    = "v9.9.2-bad"    // a script that never reports healthy
)

// TestIntegrationFleetUpdate: a collector with fleet.updates.enabled
// (TLS, a self-signed certificate) and an enrolled agent with
// update.enabled, run as systemd runs it.
//
//   - A release signed with another key is refused: nothing is staged,
//     the agent runs on, and the fleet view says failed, and why.
//   - A good release is staged; the agent exits 75, is started again,
//     runs the release on trial, reports healthy and commits it: the
//     fleet view shows the new version installed.
//   - A bad release (signed with the right key; it names the right
//     version but never reports) is staged, run on trial, and rolled back
//     at update.health_timeout: the good release runs on, and the fleet
//     view says rolled_back, and why.
func TestIntegrationFleetUpdate(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: runs collector and agent processes")
	}
	t.Parallel()
	col := testbuild.Collector(t)
	packaged := testbuild.Agent(t)
	good := testbuild.AgentVersion(t, updGood)
	start := time.Now()
	dir := t.TempDir()
	bad := writeFile(t, filepath.Join(dir, "bad-agent"), "#!/bin/sh\n"+
		"# names the offered version for the self-test, then never reports\n"+
		"if [ \"$1\" = version ]; then echo 'pantau-agent "+updBad+" (revision bad)'; exit 0; fi\n"+
		"exec sleep 600\n")
	if err := os.Chmod(bad, 0o755); err != nil {
		t.Fatal(err)
	}

	// The collector: TLS, updates on, a key pair, and the forged release
	// (signed with a key the agent does not trust) in its store.
	certFile, keyFile := updCert(t, dir)
	addr := testproc.FreePort(t)
	base := "https://" + addr
	cfg := writeFile(t, filepath.Join(dir, "collector.yml"), fmt.Sprintf(
		"listen_address: %s\ndata_dir: %s\ntls: {cert_file: %s, key_file: %s}\nfleet: {updates: {enabled: true}}\n",
		addr, filepath.Join(dir, "data"), certFile, keyFile))
	keys, other := filepath.Join(dir, "keys"), filepath.Join(dir, "other-keys")
	updCLI(t, col, "release", "keygen", "--out-dir", keys)
	updCLI(t, col, "release", "keygen", "--out-dir", other)
	updCLI(t, col, "release", "sign", "--config", cfg, "--key", filepath.Join(other, "release-signing.key"),
		"--binary", good, "--version", updForged)
	out := updCLI(t, col, "enroll", "create", "--config", cfg, "--site", "kec-a", "--agent", "upd-1", "--collector-url", base)
	code := strings.SplitN(out, "\n", 2)[0]
	c := testproc.Launch(t, col, "--config", cfg)
	pc, err := fleetproto.ParseCode(code)
	if err != nil {
		t.Fatalf("enroll create printed %q: %v", out, err)
	}
	box := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: fleetproto.PinnedTLS(pc.Pin)}}
	testproc.WaitFor(t, 60*time.Second, "the collector ready over TLS", func() bool {
		if !testproc.Alive(c.Cmd.Process.Pid) {
			t.Fatalf("the collector exited:\n%s", c.Logs)
		}
		res, err := box.Get(base + "/readyz")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == 200
	})

	// The box: enrolled with the code, updates on with the right key.
	state := filepath.Join(dir, "agent-state")
	if out, err := exec.Command(packaged, "enroll", "--collector", base, "--code", code, "--state-dir", state).CombinedOutput(); err != nil {
		t.Fatalf("pantau-agent enroll: %v\n%s", err, out)
	}
	agentYML := writeFile(t, filepath.Join(dir, "agent.yml"), fmt.Sprintf(
		"agent: {state_dir: %s, listen_address: \"\"}\nfleet: {url: %s, poll_interval: 1s}\n"+
			"update: {enabled: true, public_key_file: %s, health_timeout: 4s}\n",
		state, base, filepath.Join(keys, "release-signing.pub")))
	a := updSupervise(t, packaged, "run", "--config", agentYML)
	fleet := func() updRow { return updAgent(t, col, cfg, "upd-1") }
	wait := func(what string, cond func(updRow) bool) updRow {
		t.Helper()
		var r updRow
		var last time.Time
		if !lab.WaitFor(t.Context(), 45*time.Second, func() bool {
			if time.Since(last) < 250*time.Millisecond { // one CLI run at a time, not 20 a second
				return false
			}
			last = time.Now()
			r = fleet()
			return cond(r)
		}) {
			t.Fatalf("%s: not within 45s; fleet view %+v\nagent:\n%s\ncollector:\n%s", what, r, a.out.String(), c.Logs)
		}
		return r
	}
	updDir := filepath.Join(state, "update")

	// (a) The forged release: refused before any download; nothing staged.
	r := wait("the forged release refused", func(r updRow) bool { return r.Fleet.UpdateState == "failed" })
	if r.Version != "dev" || r.Fleet.UpdateVersion != updForged || !strings.Contains(r.Fleet.UpdateMessage, "signed with another key") {
		t.Fatalf("forged release: fleet view %+v", r)
	}
	if _, err := os.Stat(filepath.Join(updDir, "pantau-agent-"+updForged)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the forged release was staged: %v", err)
	}
	if n := a.exits(); len(n) != 0 {
		t.Fatalf("the agent exited on a refused release: %v\n%s", n, a.out.String())
	}
	t.Logf("forged release refused after %.1fs: %s", time.Since(start).Seconds(), r.Fleet.UpdateMessage)

	// (b) The good release: staged, exit 75, trial, healthy, committed.
	phase := time.Now()
	updCLI(t, col, "release", "sign", "--config", cfg, "--key", filepath.Join(keys, "release-signing.key"),
		"--binary", good, "--version", updGood)
	r = wait("the good release installed", func(r updRow) bool {
		return r.Version == updGood && r.Fleet.UpdateState == "installed" && r.Fleet.UpdateVersion == updGood
	})
	goodBin := filepath.Join(updDir, "pantau-agent-"+updGood)
	a.waitFor(t, "the agent to run the committed release", func() bool { return a.exe() == goodBin })
	if n := a.exits(); len(n) != 1 || n[0] != 75 {
		t.Fatalf("exit codes %v, want one 75\n%s", n, a.out.String())
	}
	if !strings.Contains(a.out.String(), "release on trial") || !strings.Contains(a.out.String(), "release reported healthy: installed") {
		t.Fatalf("no trial and commit in the agent's log:\n%s", a.out.String())
	}
	t.Logf("good release installed %.1fs after it was signed", time.Since(phase).Seconds())

	// (c) The bad release: staged, on trial, rolled back at the health
	// timeout; the good release runs on.
	phase = time.Now()
	updCLI(t, col, "release", "sign", "--config", cfg, "--key", filepath.Join(keys, "release-signing.key"),
		"--binary", bad, "--version", updBad)
	r = wait("the bad release rolled back", func(r updRow) bool {
		return r.Fleet.UpdateState == "rolled_back" && r.Fleet.UpdateVersion == updBad
	})
	if r.Version != updGood || !strings.HasPrefix(r.Fleet.UpdateMessage, "rolled back: ") ||
		!strings.Contains(r.Fleet.UpdateMessage, "did not report healthy within 4s") {
		t.Fatalf("bad release: fleet view %+v", r)
	}
	a.waitFor(t, "the good release running again", func() bool { return a.exe() == goodBin })
	if n := a.exits(); len(n) != 2 || n[1] != 75 {
		t.Fatalf("exit codes %v, want two 75s\n%s", n, a.out.String())
	}
	// It stays rolled back (offered again after the restart, refused at
	// once) and the good release runs on.
	a.waitFor(t, "the rolled back release refused when offered again", func() bool {
		return strings.Contains(a.out.String(), "release "+updBad+" was rolled back on this agent and is not tried again")
	})
	r = fleet()
	if r.Version != updGood || r.Fleet.UpdateState != "rolled_back" || !r.Fleet.Healthy || a.exe() != goodBin {
		t.Fatalf("after the rollback: fleet view %+v", r)
	}
	t.Logf("bad release rolled back %.1fs after it was signed: %s", time.Since(phase).Seconds(), r.Fleet.UpdateMessage)
	if got := a.stop(t); got != 0 {
		t.Fatalf("the agent exited %d on SIGTERM\n%s", got, a.out.String())
	}
	t.Logf("whole test %.1fs", time.Since(start).Seconds())
}

// updRow is what the test reads of `pantau-collector agents --json`.
type updRow struct {
	Agent   string `json:"agent"`
	Version string `json:"version"`
	Fleet   struct {
		Healthy       bool   `json:"healthy"`
		UpdateState   string `json:"update_state"`
		UpdateVersion string `json:"update_version"`
		UpdateMessage string `json:"update_message"`
	} `json:"fleet"`
}

// updAgent is agent's row of the fleet view (`agents --json`), from the
// state database of the running collector.
func updAgent(t *testing.T, col, cfg, agent string) updRow {
	t.Helper()
	out := updCLI(t, col, "agents", "--json", "--config", cfg)
	var rows []updRow
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("agents --json: %v\n%s", err, out)
	}
	for _, r := range rows {
		if r.Agent == agent {
			return r
		}
	}
	return updRow{Agent: agent}
}

// updCLI runs a pantau-collector command and returns its stdout; it
// must succeed.
func updCLI(t *testing.T, bin string, args ...string) string {
	t.Helper()
	code, out, errOut := runCollector(t, bin, args...)
	if code != 0 {
		t.Fatalf("pantau-collector %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// updCert writes a self-signed certificate for 127.0.0.1 and its key
// into dir.
func updCert(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(22), Subject: pkix.Name{CommonName: "pantau-collector"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile = writeFile(t, filepath.Join(dir, "cert.pem"), string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
	keyFile = writeFile(t, filepath.Join(dir, "key.pem"), string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb})))
	if _, err := tls.LoadX509KeyPair(certFile, keyFile); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// updSupervisor runs `bin args...` as systemd runs pantau-agent.service:
// when it exits with 75 (Restart=on-failure, RestartForceExitStatus=75)
// it is started again, at most 5 times; any other exit ends it. The
// process is killed by PID when the test ends (a trial child dies with
// it: the launcher starts it with a parent-death signal).
type updSupervisor struct {
	out   lab.SyncBuffer
	mu    sync.Mutex
	cmd   *exec.Cmd
	codes []int // exit codes, in order
	done  chan struct{}
}

func updSupervise(t *testing.T, bin string, args ...string) *updSupervisor {
	t.Helper()
	s := &updSupervisor{done: make(chan struct{})}
	start := func() error {
		cmd := exec.Command(bin, args...)
		cmd.Stdout, cmd.Stderr = &s.out, &s.out
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		s.mu.Lock()
		defer s.mu.Unlock()
		s.cmd = cmd
		return cmd.Start()
	}
	if err := start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(s.done)
		for restarts := 0; ; restarts++ {
			s.mu.Lock()
			cmd := s.cmd
			s.mu.Unlock()
			err := cmd.Wait()
			code := 0
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				code = ee.ExitCode()
			}
			s.mu.Lock()
			s.codes = append(s.codes, code)
			s.mu.Unlock()
			if code != 75 || restarts >= 5 || start() != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		select {
		case <-s.done:
		default:
			s.mu.Lock()
			s.cmd.Process.Kill()
			s.mu.Unlock()
			<-s.done
		}
	})
	return s
}

func (s *updSupervisor) exits() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]int(nil), s.codes...)
}

func (s *updSupervisor) pid() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cmd.Process.Pid
}

// exe is the program the supervised process runs now (after any exec).
func (s *updSupervisor) exe() string {
	p, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", s.pid()))
	return p
}

func (s *updSupervisor) waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	if !lab.WaitFor(context.Background(), 30*time.Second, cond) {
		t.Fatalf("%s: not within 30s; agent:\n%s", what, s.out.String())
	}
}

// stop sends SIGTERM, as systemctl stop does, and returns the exit code.
func (s *updSupervisor) stop(t *testing.T) int {
	t.Helper()
	syscall.Kill(s.pid(), syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		t.Fatalf("the agent did not stop after SIGTERM:\n%s", s.out.String())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.codes[len(s.codes)-1]
}
