package e2e

// Fleet management with real processes (issue 22, "How it is shown"): a
// pantau-collector serving TLS on loopback with a self-signed
// certificate, agents enrolled with one-time codes that probe only what
// the collector derives from its inventory (ICMP to 127.0.0.x).

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"database/sql"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite" // to backdate an enrolment code in state.db

	"github.com/pantau-noc/pantau/internal/lab"
	"github.com/pantau-noc/pantau/internal/testbuild"
	"github.com/pantau-noc/pantau/internal/testproc"
)

// fleetInventory is one district site with one link probed from 127.0.0.2.
const fleetInventory = `
sites:
  - {id: kec-a, name: Distrik A, kind: district, timezone: WIT}
links:
  - {id: kec-a-vsat, site: kec-a, type: vsat, icmp: {target: 127.0.0.2}}
`

// fastRounds is the per-agent override that makes the derived probes
// round every second (the derived default is 30 s, 5 packets).
const fastRounds = "defaults: {interval: 1s, timeout: 900ms, icmp: {packets: 1}}\n"

// selfSignedCert makes a certificate for 127.0.0.1 signed by itself and
// returns it and its key as PEM.
func selfSignedCert(t *testing.T) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: "pantau-collector e2e"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})
}

// fleetCollector is a pantau-collector serving https on loopback.
type fleetCollector struct {
	bin, dir, cfg, inv, addr, base string
	viewer, admin                  string // tokens
	client                         *http.Client
	proc                           *testproc.Proc
}

// startFleetCollector writes a config with TLS and the inventory inv,
// makes a viewer and an admin token and starts the collector.
func startFleetCollector(t *testing.T, inv string) *fleetCollector {
	t.Helper()
	certPEM, keyPEM := selfSignedCert(t)
	return startFleetCollectorCert(t, inv, certPEM, keyPEM)
}

// startFleetCollectorCert is startFleetCollector with a given certificate
// (chain) and key; the test's client trusts every certificate of the chain.
func startFleetCollectorCert(t *testing.T, inv string, certPEM, keyPEM []byte) *fleetCollector {
	t.Helper()
	c := &fleetCollector{bin: testbuild.Collector(t), dir: t.TempDir(), addr: testproc.FreePort(t)}
	c.base = "https://" + c.addr
	certFile := writeFile(t, filepath.Join(c.dir, "cert.pem"), string(certPEM))
	keyFile := writeFile(t, filepath.Join(c.dir, "key.pem"), string(keyPEM))
	c.inv = writeFile(t, filepath.Join(c.dir, "inventory.yml"), inv)
	c.cfg = writeFile(t, filepath.Join(c.dir, "collector.yml"), fmt.Sprintf(
		"listen_address: %s\ndata_dir: %s\ninventory: %s\ntls: {cert_file: %s, key_file: %s}\n",
		c.addr, filepath.Join(c.dir, "data"), c.inv, certFile, keyFile))
	c.viewer = tokenCreate(t, c.bin, "--config", c.cfg, "--name", "fleet-reader", "--role", "viewer")
	c.admin = tokenCreate(t, c.bin, "--config", c.cfg, "--name", "fleet-admin", "--role", "admin")
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(certPEM)
	c.client = &http.Client{Timeout: 10 * time.Second, Transport: testproc.Bearer(c.viewer,
		&http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}})}
	c.start(t)
	return c
}

// start runs `serve` and waits until this process answers /readyz.
func (c *fleetCollector) start(t *testing.T) {
	t.Helper()
	c.proc = testproc.Launch(t, c.bin, "--config", c.cfg)
	pid := c.proc.Cmd.Process.Pid
	if !lab.WaitFor(t.Context(), 30*time.Second, func() bool {
		if !testproc.Alive(pid) {
			t.Fatalf("collector exited at start:\n%s", c.proc.Logs)
		}
		res, err := c.client.Get(c.base + "/readyz")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == 200
	}) {
		t.Fatalf("collector %s did not become ready:\n%s", c.base, c.proc.Logs)
	}
}

// stop ends the collector with SIGTERM and waits for it.
func (c *fleetCollector) stop(t *testing.T) {
	t.Helper()
	c.proc.Cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- c.proc.Cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("collector exit after SIGTERM: %v\n%s", err, c.proc.Logs)
		}
	case <-time.After(30 * time.Second):
		c.proc.Cmd.Process.Kill()
		<-done
		t.Fatalf("collector did not stop within 30 s of SIGTERM:\n%s", c.proc.Logs)
	}
}

// cli runs a pantau-collector command on this collector's config and
// fails the test unless it exits 0; it returns the standard output.
func (c *fleetCollector) cli(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errOut := runCollector(t, c.bin, append(args, "--config", c.cfg)...)
	if code != 0 {
		t.Fatalf("pantau-collector %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// enrollCode creates an enrolment code for site (and agent name).
func (c *fleetCollector) enrollCode(t *testing.T, site, agent string, extra ...string) string {
	t.Helper()
	args := append([]string{"enroll", "create", "--site", site, "--collector-url", c.base}, extra...)
	if agent != "" {
		args = append(args, "--agent", agent)
	}
	out := c.cli(t, args...)
	for _, f := range strings.Fields(out) {
		if strings.HasPrefix(f, "PNT1-") {
			return f
		}
	}
	t.Fatalf("enroll create printed no code:\n%s", out)
	return ""
}

// override stores a per-agent override.
func (c *fleetCollector) override(t *testing.T, agent, yml string) {
	t.Helper()
	f := writeFile(t, filepath.Join(c.dir, "override-"+agent+".yml"), yml)
	c.cli(t, "fleet", "override", "set", "--agent", agent, "--file", f)
}

// fleetRow is what the tests read of `agents --json`.
type fleetRow struct {
	Agent  string `json:"agent"`
	Tokens int    `json:"active_tokens"`
	Fleet  *struct {
		LastContact   time.Time `json:"last_contact"`
		ConfigOffered string    `json:"config_offered"`
		ConfigApplied string    `json:"config_applied"`
		ConfigCurrent bool      `json:"config_current"`
		ConfigStatus  string    `json:"config_status"`
		ConfigError   string    `json:"config_error"`
		Healthy       bool      `json:"healthy"`
		ClockOffset   float64   `json:"clock_offset_seconds"`
	} `json:"fleet"`
}

// agentRow is the agent's row of `pantau-collector agents --json`.
func (c *fleetCollector) agentRow(t *testing.T, agent string) fleetRow {
	t.Helper()
	var rows []fleetRow
	if err := json.Unmarshal([]byte(c.cli(t, "agents", "--json")), &rows); err != nil {
		t.Fatalf("agents --json: %v", err)
	}
	for _, r := range rows {
		if r.Agent == agent {
			return r
		}
	}
	return fleetRow{Agent: agent}
}

// tokenRow is a row of `pantau-collector token list --format json`.
type tokenRow struct {
	ID, Role, Agent, Description, Revoked string
}

func (c *fleetCollector) tokens(t *testing.T) map[string]tokenRow {
	t.Helper()
	var rows []tokenRow
	if err := json.Unmarshal([]byte(c.cli(t, "token", "list", "--format", "json")), &rows); err != nil {
		t.Fatalf("token list: %v", err)
	}
	out := map[string]tokenRow{}
	for _, r := range rows {
		out[r.ID] = r
	}
	return out
}

// linkState is a link's state in GET /api/v1/status ("" when absent).
func (c *fleetCollector) linkState(t *testing.T, link string) string {
	t.Helper()
	res, err := c.client.Get(c.base + "/api/v1/status")
	if err != nil {
		t.Fatalf("GET /api/v1/status: %v", err)
	}
	defer res.Body.Close()
	var st struct {
		Data struct {
			Sites []struct {
				Links []struct{ ID, State string }
			}
		}
	}
	if err := json.NewDecoder(res.Body).Decode(&st); err != nil {
		t.Fatalf("GET /api/v1/status: %v", err)
	}
	for _, s := range st.Data.Sites {
		for _, l := range s.Links {
			if l.ID == link {
				return l.State
			}
		}
	}
	return ""
}

// putInventory replaces the inventory with PUT /api/v1/inventory.
func (c *fleetCollector) putInventory(t *testing.T, inv string) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPut, c.base+"/api/v1/inventory", strings.NewReader(inv))
	req.Header.Set("Authorization", "Bearer "+c.admin)
	req.Header.Set("Content-Type", "application/yaml")
	res, err := c.client.Do(req)
	if err != nil {
		t.Fatalf("PUT /api/v1/inventory: %v", err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		t.Fatalf("PUT /api/v1/inventory: %d %s", res.StatusCode, b)
	}
}

// enroll runs `pantau-agent enroll` and returns its exit code and output.
func enroll(t *testing.T, agentBin, url, code, stateDir string) (int, string) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), agentBin, "enroll", "--collector", url, "--code", code, "--state-dir", stateDir)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	cmd.WaitDelay = time.Second
	timer := time.AfterFunc(time.Minute, func() { cmd.Process.Kill() })
	defer timer.Stop()
	if err := cmd.Run(); err != nil {
		if _, ok := err.(*exec.ExitError); !ok {
			t.Fatalf("pantau-agent enroll: %v\n%s", err, out.String())
		}
	}
	return cmd.ProcessState.ExitCode(), out.String()
}

// fleetAgent is a pantau-agent run by a test: its processes one after
// the other (restarts), their logs, its state dir.
type fleetAgent struct {
	bin, state, metrics string
	args                []string // after "run"
	cmd                 *exec.Cmd
	logs                []*lab.SyncBuffer
}

// newFleetAgent enrols an agent with code into a new state dir.
func newFleetAgent(t *testing.T, c *fleetCollector, code string) *fleetAgent {
	t.Helper()
	return newFleetAgentVia(t, c.base, code)
}

// newFleetAgentVia enrols an agent that reaches the collector at url.
func newFleetAgentVia(t *testing.T, url, code string) *fleetAgent {
	t.Helper()
	a := &fleetAgent{bin: testbuild.Agent(t), state: filepath.Join(t.TempDir(), "state"), metrics: testproc.FreePort(t)}
	if rc, out := enroll(t, a.bin, url, code, a.state); rc != 0 {
		t.Fatalf("pantau-agent enroll: exit %d\n%s", rc, out)
	}
	// The self-metrics port is a free one (the default, 127.0.0.1:9811,
	// is shared by the tests running at once); a flag, not a config.
	a.args = []string{"--state-dir", a.state, "--listen-address", a.metrics, "--log.level", "info"}
	return a
}

// start runs `pantau-agent run` with the agent's arguments.
func (a *fleetAgent) start(t *testing.T) {
	t.Helper()
	cmd := exec.Command(a.bin, append([]string{"run"}, a.args...)...)
	out := &lab.SyncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	a.cmd = cmd
	a.logs = append(a.logs, out)
}

// stop ends the running agent with SIGTERM and waits for it (bounded).
func (a *fleetAgent) stop(t *testing.T) {
	t.Helper()
	a.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- a.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("agent exit after SIGTERM: %v\n%s", err, agentLogs(a.logs))
		}
	case <-time.After(30 * time.Second):
		a.cmd.Process.Kill()
		<-done
		t.Fatalf("agent did not stop within 30 s of SIGTERM:\n%s", agentLogs(a.logs))
	}
}

// metric is the sum of the agent's /metrics samples whose series (name
// and labels as exposed) starts with prefix.
func (a *fleetAgent) metric(t *testing.T, prefix string) float64 {
	t.Helper()
	res, err := http.Get("http://" + a.metrics + "/metrics")
	if err != nil {
		t.Fatalf("agent metrics: %v", err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	sum := 0.0
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, prefix) {
			var v float64
			fmt.Sscan(line[strings.LastIndexByte(line, ' ')+1:], &v)
			sum += v
		}
	}
	return sum
}

// noDeadLetters fails the test if the agent dead-lettered a batch.
func (a *fleetAgent) noDeadLetters(t *testing.T) {
	t.Helper()
	if b, err := os.ReadFile(filepath.Join(a.state, "dead-letter.jsonl")); err == nil {
		t.Errorf("batches were dead-lettered: %s", b)
	}
}

// roundGaps checks the rounds (unix ms) in [from, to], with a round on
// either side bounding it: it returns the rounds missing between them
// (a gap over 1.5 intervals of 1 s, except within excuse) and the gaps.
func roundGaps(ts []int64, from, to time.Time, excuse func(a, b int64) bool) (in []int64, missing int, gaps []string, bounded bool) {
	for _, v := range ts {
		if v >= from.Add(-2500*time.Millisecond).UnixMilli() && v <= to.Add(2500*time.Millisecond).UnixMilli() {
			in = append(in, v)
		}
	}
	for i := 1; i < len(in); i++ {
		gap := time.Duration(in[i]-in[i-1]) * time.Millisecond
		if gap > 1500*time.Millisecond && (excuse == nil || !excuse(in[i-1], in[i])) {
			missing += int((gap+500*time.Millisecond)/time.Second) - 1
			gaps = append(gaps, fmt.Sprintf("%s at %s", gap, time.UnixMilli(in[i-1]).Format("15:04:05.000")))
		}
	}
	bounded = len(in) > 0 && in[0] <= from.UnixMilli() && in[len(in)-1] >= to.UnixMilli()
	return in, missing, gaps, bounded
}

// backdateCode makes an enrolment code expired an hour ago, as if it
// had been created with --valid 1m two hours ago.
func backdateCode(t *testing.T, c *fleetCollector, code string) {
	t.Helper()
	id := strings.Split(code, "-")[1]
	db, err := sql.Open("sqlite", "file:"+filepath.Join(c.dir, "data", "state.db")+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.Now()
	res, err := db.ExecContext(t.Context(), `UPDATE enrolments SET created_at = ?, expires_at = ? WHERE id = ?`,
		now.Add(-2*time.Hour).Unix(), now.Add(-time.Hour).Unix(), id)
	if err != nil {
		t.Fatalf("backdate enrolment code %s: %v", id, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		t.Fatalf("backdate enrolment code %s: %d rows", id, n)
	}
}

// TestIntegrationFleetEnrolAndInventory: an agent enrolled with a
// one-time code runs with nothing but its state dir (no agent.yml), and
// the inventory link goes up; the code cannot be used again, an expired
// code is refused; an inventory change reaches the running agent within
// 30 s (the default poll interval, 15 s) and applies without a restart.
func TestIntegrationFleetEnrolAndInventory(t *testing.T) {
	lab.SkipShort(t, "root (raw ICMP to 127.0.0.x) and the binaries")
	t.Parallel()
	c := startFleetCollector(t, fleetInventory)
	const name = "kec-a-1"
	code := c.enrollCode(t, "kec-a", name)
	c.override(t, name, fastRounds)

	testbuild.Agent(t) // built before the clock starts
	enrolled := time.Now()
	a := newFleetAgent(t, c, code)
	for _, f := range []string{"token", "collector-ca.pem", "fleet.json"} {
		if _, err := os.Stat(filepath.Join(a.state, f)); err != nil {
			t.Errorf("after enroll: %v", err)
		}
	}
	if fi, err := os.Stat(filepath.Join(a.state, "token")); err == nil && fi.Mode().Perm() != 0o600 {
		t.Errorf("token file mode %v, want 0600", fi.Mode().Perm())
	}
	started := time.Now()
	a.start(t)
	pid := a.cmd.Process.Pid
	if !lab.WaitFor(t.Context(), 60*time.Second, func() bool { return c.linkState(t, "kec-a-vsat") == "up" }) {
		t.Fatalf("link kec-a-vsat not up within 60 s of enrolment (state %q)\nagent log:\n%s\ncollector log:\n%s",
			c.linkState(t, "kec-a-vsat"), agentLogs(a.logs), c.proc.Logs)
	}
	t.Logf("enrolled %s in %s; link kec-a-vsat up %s after the enrolment began, %s after the agent started (no agent.yml)", name,
		started.Sub(enrolled).Round(10*time.Millisecond), time.Since(enrolled).Round(10*time.Millisecond), time.Since(started).Round(10*time.Millisecond))

	// The code works once.
	if rc, out := enroll(t, a.bin, c.base, code, filepath.Join(t.TempDir(), "state")); rc == 0 || !strings.Contains(out, "enrolment code unknown, used or expired") {
		t.Errorf("a used code: exit %d, want refused with \"enrolment code unknown, used or expired\":\n%s", rc, out)
	}
	// An expired code is refused (created valid for a minute, backdated
	// two hours in state.db: the same row an old code would be).
	old := c.enrollCode(t, "kec-a", "kec-a-2", "--valid", "1m")
	backdateCode(t, c, old)
	if rc, out := enroll(t, a.bin, c.base, old, filepath.Join(t.TempDir(), "state")); rc == 0 || !strings.Contains(out, "enrolment code unknown, used or expired") {
		t.Errorf("an expired code: exit %d, want refused with \"enrolment code unknown, used or expired\":\n%s", rc, out)
	}
	// The audit log has each refusal's reason.
	audit := c.cli(t, "audit", "list")
	for _, want := range []string{"refused (used)", "refused (expired)"} {
		if !strings.Contains(audit, want) {
			t.Errorf("audit list names no refusal %q:\n%s", want, audit)
		}
	}

	// The inventory gains a link of the site and the first link's target
	// moves: the running agent probes the new link and the new target.
	before := c.agentRow(t, name)
	if before.Fleet == nil || !before.Fleet.ConfigCurrent || before.Fleet.ConfigStatus != "applied" {
		t.Fatalf("before the change, agents --json: %+v", before.Fleet)
	}
	changed := time.Now()
	c.putInventory(t, strings.Replace(fleetInventory, "127.0.0.2", "127.0.0.4", 1)+
		"  - {id: kec-a-lte, site: kec-a, type: radio, icmp: {target: 127.0.0.3}}\n")
	const sel = `pantau_icmp_up{agent="kec-a-1",link="kec-a-lte"}`
	const moved = `pantau_icmp_up{agent="kec-a-1",link="kec-a-vsat",target="127.0.0.4"}`
	var first, firstMoved, applied time.Time
	if !lab.WaitFor(t.Context(), 30*time.Second, func() bool {
		if first.IsZero() {
			if r := rounds(t, c.client, c.base, sel, changed.UnixMilli()); len(r) > 0 {
				first = time.UnixMilli(r[0].ms)
			}
		}
		if firstMoved.IsZero() {
			if r := rounds(t, c.client, c.base, moved, changed.UnixMilli()); len(r) > 0 {
				firstMoved = time.UnixMilli(r[0].ms)
			}
		}
		if applied.IsZero() {
			if r := c.agentRow(t, name); r.Fleet != nil && r.Fleet.ConfigCurrent && r.Fleet.ConfigStatus == "applied" && r.Fleet.ConfigApplied != before.Fleet.ConfigApplied {
				applied = time.Now()
			}
		}
		return !first.IsZero() && !firstMoved.IsZero() && !applied.IsZero()
	}) {
		t.Fatalf("the inventory change did not reach the agent within 30 s (first round of the new link %v, of the moved target %v, applied %v; agents --json %+v)\nagent log:\n%s",
			first, firstMoved, applied, c.agentRow(t, name).Fleet, agentLogs(a.logs))
	}
	if a.cmd.ProcessState != nil || a.cmd.Process.Pid != pid || !testproc.Alive(pid) {
		t.Errorf("the agent restarted (pid %d)", pid)
	}
	t.Logf("inventory change: first round of the new link %s after the PUT, of the moved target %s, agents --json shows it applied after %s (seen %s after the PUT)",
		first.Sub(changed).Round(10*time.Millisecond), firstMoved.Sub(changed).Round(10*time.Millisecond), applied.Sub(changed).Round(10*time.Millisecond), time.Since(changed).Round(10*time.Millisecond))
	// The old target is no longer probed: no round of it after the new
	// one's first (and a round of the new link after that, so the rounds
	// up to then are in).
	lab.WaitFor(t.Context(), 5*time.Second, func() bool {
		r := rounds(t, c.client, c.base, sel, 0)
		return len(r) > 0 && r[len(r)-1].ms > firstMoved.Add(2*time.Second).UnixMilli()
	})
	if r := rounds(t, c.client, c.base, `pantau_icmp_up{agent="kec-a-1",link="kec-a-vsat",target="127.0.0.2"}`, firstMoved.UnixMilli()); len(r) > 0 {
		t.Errorf("the old target 127.0.0.2 was probed after the change: %v", r)
	}
	a.noDeadLetters(t)
	a.stop(t)
}

// TestIntegrationFleetCollectorDown stops the collector: the agent keeps
// probing with the config the collector sent, also after its own restart
// while the collector is down (from <state>/remote-config.yml), and every
// round reaches the collector once it is back. The agent runs with no
// agent.yml.
func TestIntegrationFleetCollectorDown(t *testing.T) {
	lab.SkipShort(t, "root (raw ICMP to 127.0.0.x) and the binaries")
	t.Parallel()
	c := startFleetCollector(t, fleetInventory)
	const name = "kec-a-1"
	code := c.enrollCode(t, "kec-a", name)
	c.override(t, name, fastRounds)
	a := newFleetAgent(t, c, code)
	a.start(t)
	const sel = `pantau_icmp_up{agent="kec-a-1",link="kec-a-vsat"}`
	if !lab.WaitFor(t.Context(), 30*time.Second, func() bool { return len(rounds(t, c.client, c.base, sel, 0)) >= 3 }) {
		t.Fatalf("no rounds reached the collector\nagent log:\n%s", agentLogs(a.logs))
	}
	if _, err := os.Stat(filepath.Join(a.state, "remote-config.yml")); err != nil {
		t.Fatalf("no cached remote config: %v", err)
	}

	// 12 s without the collector; the agent restarts in the middle.
	const outage = 12 * time.Second
	cut := time.Now()
	c.stop(t)
	time.Sleep(outage / 2)
	var restartGap [2]time.Time
	restartGap[0] = time.Now()
	a.stop(t)
	a.start(t)
	restartGap[1] = time.Now()
	if !lab.WaitFor(t.Context(), 20*time.Second, func() bool { _, ok := probingSince(a.logs[1].String()); return ok }) {
		t.Fatalf("the agent restarted without the collector does not probe:\n%s", a.logs[1])
	}
	if up, _ := probingSince(a.logs[1].String()); up.After(restartGap[1]) {
		restartGap[1] = up
	}
	if log := a.logs[1].String(); !strings.Contains(log, "running the cached remote config") {
		t.Errorf("the restarted agent did not load its cached remote config:\n%s", log)
	}
	time.Sleep(time.Until(cut.Add(outage)))
	restored := time.Now()
	c.start(t)

	// Every round from before the cut to after the restore arrives: no gap
	// over 1.5 intervals but the agent's restart and logged skips.
	inRestart := func(a, b int64) bool {
		return a <= restartGap[1].Add(2*time.Second).UnixMilli() && b >= restartGap[0].UnixMilli()
	}
	var (
		during           []int64
		missing, skipped int
		gaps             []string
		bounded          bool
	)
	lab.WaitFor(t.Context(), 40*time.Second, func() bool {
		skipped = loggedSkips(a.logs, cut.Add(-2500*time.Millisecond), restored.Add(5*time.Second))
		var ts []int64
		for _, r := range rounds(t, c.client, c.base, sel, cut.Add(-5*time.Second).UnixMilli()) {
			ts = append(ts, r.ms)
		}
		during, missing, gaps, bounded = roundGaps(ts, cut, restored, inRestart)
		return bounded && missing <= skipped
	})
	if !bounded {
		t.Fatalf("no rounds from before the cut (%s) and after the restore (%s) reached the collector: %v\nagent log:\n%s",
			cut.Format(time.TimeOnly), restored.Format(time.TimeOnly), during, agentLogs(a.logs))
	}
	if missing > skipped {
		t.Errorf("gaps between rounds (%s) miss %d rounds, the agent logged %d skipped (restart %s–%s): rounds were lost\nagent log:\n%s",
			strings.Join(gaps, ", "), missing, skipped, restartGap[0].Format("15:04:05.000"), restartGap[1].Format("15:04:05.000"), agentLogs(a.logs))
	}
	// The restarted agent reports the cached config as the one it runs:
	// the restarted collector finds it current (nothing pending), at the
	// agent's next poll (15 s).
	contact := time.Now()
	if !lab.WaitFor(t.Context(), 30*time.Second, func() bool {
		r := c.agentRow(t, name)
		return r.Fleet != nil && r.Fleet.LastContact.After(restored) && r.Fleet.ConfigCurrent && r.Fleet.ConfigStatus == "applied"
	}) {
		t.Errorf("after the restore, agents --json: %+v\nagent log:\n%s", c.agentRow(t, name).Fleet, agentLogs(a.logs))
	}
	// The agent runs on the collector's host: its clock offset is ~0.
	// The status messages queued during the outage carry the time they
	// were queued; a fresh one follows at once after the reconnection,
	// not at the next poll (15 s).
	var offset float64
	if !lab.WaitFor(t.Context(), 5*time.Second, func() bool {
		r := c.agentRow(t, name)
		offset = r.Fleet.ClockOffset
		return offset >= -1 && offset <= 1
	}) {
		t.Errorf("5 s after the agent's first contact since the restore, the fleet view shows a clock offset of %.1f s (agent and collector on one host)", offset)
	}
	t.Logf("the restarted agent's config current in the fleet view %s after the restore (waited %s for it)",
		time.Since(restored).Round(10*time.Millisecond), time.Since(contact).Round(10*time.Millisecond))
	n := 0
	for _, v := range during {
		if v > cut.UnixMilli() && v < restored.UnixMilli() {
			n++
		}
	}
	t.Logf("collector down %s, agent restarted (no agent.yml) in %s: %d rounds taken meanwhile reached the collector, %d checked for gaps, %d skipped",
		restored.Sub(cut).Round(10*time.Millisecond), restartGap[1].Sub(restartGap[0]).Round(10*time.Millisecond), n, len(during), skipped)
	a.noDeadLetters(t)
	a.stop(t)
}

// TestIntegrationFleetRotationUnderLoad rotates the agent's token while
// it sends a batch every second: the agent stores and uses the new
// token, the collector revokes the old one, no round is lost and nothing
// is dead-lettered. The agent.yml holds only agent.state_dir, fleet.url
// and fleet.poll_interval (1 s, so the rotation is not waiting on the
// default 15-s poll).
func TestIntegrationFleetRotationUnderLoad(t *testing.T) {
	lab.SkipShort(t, "root (raw ICMP to 127.0.0.x) and the binaries")
	t.Parallel()
	// Straight, and through a proxy that delays each direction by 350 ms
	// (a VSAT round trip): a write built with the old token then travels
	// as long as the poll that makes the collector revoke it.
	for _, d := range []time.Duration{0, 350 * time.Millisecond} {
		t.Run(fmt.Sprintf("rtt=%s", 2*d), func(t *testing.T) {
			t.Parallel()
			rotationUnderLoad(t, d)
		})
	}
}

func rotationUnderLoad(t *testing.T, delay time.Duration) {
	c := startFleetCollector(t, fleetInventory)
	const name = "kec-a-1"
	code := c.enrollCode(t, "kec-a", name)
	c.override(t, name, fastRounds)
	url := c.base
	if delay > 0 {
		url = "https://" + delayProxy(t, c.addr, delay)
	}
	a := newFleetAgentVia(t, url, code)
	cfg := writeFile(t, filepath.Join(filepath.Dir(a.state), "agent.yml"),
		fmt.Sprintf("agent: {state_dir: %s}\nfleet: {url: %q, poll_interval: 1s}\n", a.state, url))
	a.args = append(a.args, "--config", cfg)
	a.start(t)
	const sel = `pantau_icmp_up{agent="kec-a-1",link="kec-a-vsat"}`
	var before []round
	if !lab.WaitFor(t.Context(), 30*time.Second, func() bool { before = rounds(t, c.client, c.base, sel, 0); return len(before) >= 3 }) {
		t.Fatalf("no rounds reached the collector\nagent log:\n%s", agentLogs(a.logs))
	}
	// The gap check starts at a round that arrived before the rotation.
	from := time.UnixMilli(before[len(before)-1].ms)
	tokenID := func() string {
		b, err := os.ReadFile(filepath.Join(a.state, "token"))
		if err != nil {
			t.Fatal(err)
		}
		f := strings.Split(strings.TrimSpace(string(b)), "_")
		if len(f) != 3 {
			t.Fatalf("token file holds no pantau_<id>_<secret> token")
		}
		return f[1]
	}
	old := tokenID()
	first, err := os.ReadFile(filepath.Join(a.state, "token"))
	if err != nil {
		t.Fatal(err)
	}

	// Three rotations one after the other, each complete (the agent uses
	// the new token, the collector revoked the old one) before the next.
	asked := time.Now()
	var revoked time.Time
	for i := range 3 {
		ask := time.Now()
		c.cli(t, "agents", "rotate", "--agent", name)
		var switched time.Time
		var now string
		revoked = time.Time{}
		if !lab.WaitFor(t.Context(), 20*time.Second, func() bool {
			if switched.IsZero() {
				if now = tokenID(); now != old {
					switched = time.Now()
				}
			}
			if !switched.IsZero() && revoked.IsZero() {
				toks := c.tokens(t)
				if toks[old].Revoked != "" && toks[now].Revoked == "" && toks[now].Agent == name {
					revoked = time.Now()
				}
			}
			return !revoked.IsZero()
		}) {
			t.Fatalf("rotation %d: token switched %v, old revoked %v\nagent log:\n%s\ncollector log:\n%s", i+1, switched, revoked, agentLogs(a.logs), c.proc.Logs)
		}
		t.Logf("rotation %d: agent switched token %s after agents rotate, old token revoked after %s", i+1,
			switched.Sub(ask).Round(10*time.Millisecond), revoked.Sub(ask).Round(10*time.Millisecond))
		if r := c.agentRow(t, name); r.Tokens != 1 || r.Fleet == nil || !r.Fleet.Healthy || r.Fleet.ConfigStatus != "applied" {
			t.Errorf("after rotation %d, agents --json: %d active tokens, %+v", i+1, r.Tokens, r.Fleet)
		}
		old = now
	}
	// The first token no longer works: neither for a write nor for OpAMP.
	for _, path := range []string{"/api/v2/write?precision=s", "/v1/opamp"} {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, c.base+path, strings.NewReader("x v=1 1\n"))
		req.Header.Set("Authorization", "Token "+strings.TrimSpace(string(first)))
		req.Header.Set("Content-Type", "application/x-protobuf")
		res, err := c.client.Do(req)
		if err != nil {
			t.Fatalf("POST %s: %v", path, err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusUnauthorized {
			t.Errorf("POST %s with the rotated-out token: %d, want 401", path, res.StatusCode)
		}
	}
	// The new token writes: rounds after the rotation arrive.
	end := revoked.Add(3 * time.Second)
	var (
		during           []int64
		missing, skipped int
		gaps             []string
		bounded          bool
	)
	lab.WaitFor(t.Context(), 30*time.Second, func() bool {
		skipped = loggedSkips(a.logs, from.Add(-2500*time.Millisecond), end.Add(5*time.Second))
		var ts []int64
		for _, r := range rounds(t, c.client, c.base, sel, from.Add(-5*time.Second).UnixMilli()) {
			ts = append(ts, r.ms)
		}
		during, missing, gaps, bounded = roundGaps(ts, from, end, nil)
		return bounded && missing <= skipped
	})
	if !bounded {
		t.Fatalf("rounds around the rotation (%s to %s) did not all arrive: %v\nagent log:\n%s",
			from.Format("15:04:05.000"), end.Format("15:04:05.000"), during, agentLogs(a.logs))
	}
	if missing > skipped {
		t.Errorf("gaps between rounds (%s) miss %d rounds, the agent logged %d skipped: rounds were lost\nagent log:\n%s",
			strings.Join(gaps, ", "), missing, skipped, agentLogs(a.logs))
	}
	if audit := c.cli(t, "audit", "list"); !strings.Contains(audit, "fleet rotate complete") {
		t.Errorf("audit list has no \"fleet rotate complete\":\n%s", audit)
	}
	// A write that raced the revocation with the old token would be
	// refused (401) and retried later with the new one: not lost, but late.
	if a.metric(t, `pantau_agent_send_requests_total{code="204"`) == 0 {
		t.Error("the agent's metrics show no accepted write: pantau_agent_send_requests_total not read")
	}
	refused := a.metric(t, `pantau_agent_send_requests_total{code="401"`)
	t.Logf("3 rotations in %s: %d rounds checked for gaps, %d skipped, %v writes refused 401",
		revoked.Sub(asked).Round(10*time.Millisecond), len(during), skipped, refused)
	a.noDeadLetters(t)

	// Restarted, the agent writes and polls with the last token from its
	// state dir.
	a.stop(t)
	restart := time.Now()
	a.start(t)
	if !lab.WaitFor(t.Context(), 20*time.Second, func() bool {
		return len(rounds(t, c.client, c.base, sel, restart.Add(time.Second).UnixMilli())) >= 2
	}) {
		t.Fatalf("after a restart with the rotated token, no rounds arrive\nagent log:\n%s", agentLogs(a.logs))
	}
	if n := a.metric(t, `pantau_agent_send_requests_total{code="401"`); n != 0 {
		t.Errorf("after a restart, %v writes refused 401", n)
	}
	a.stop(t)
}

// delayProxy listens on a free loopback port (returned) and forwards
// each connection to target, every chunk in each direction delayed by d
// (no rate limit: the lab's userspace delay needs namespaces, this test
// only latency). It stops accepting at cleanup; open connections end with
// the processes.
func delayProxy(t *testing.T, target string, d time.Duration) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	pump := func(dst, src net.Conn) {
		type chunk struct {
			at time.Time
			b  []byte
		}
		ch := make(chan chunk, 1024)
		go func() {
			defer close(ch)
			for {
				b := make([]byte, 32<<10)
				n, err := src.Read(b)
				if n > 0 {
					ch <- chunk{time.Now().Add(d), b[:n]}
				}
				if err != nil {
					return
				}
			}
		}()
		for c := range ch {
			time.Sleep(time.Until(c.at))
			if _, err := dst.Write(c.b); err != nil {
				break
			}
		}
		if tc, ok := dst.(*net.TCPConn); ok {
			tc.CloseWrite()
		}
		io.Copy(io.Discard, src)
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				u, err := net.Dial("tcp", target)
				if err != nil {
					c.Close()
					return
				}
				go pump(u, c)
				pump(c, u)
				c.Close()
				u.Close()
			}()
		}
	}()
	return ln.Addr().String()
}

// caIssued makes a CA and a certificate for 127.0.0.1 it signs with key
// (a new key when nil), as a public CA or the Pemda's issues them; it
// returns the chain (leaf, CA) and the key as PEM, and the CA and key for
// a renewal.
func caIssued(t *testing.T, ca *x509.Certificate, caKey, key *ecdsa.PrivateKey) (chainPEM, keyPEM []byte, _ *x509.Certificate, _, _ *ecdsa.PrivateKey) {
	t.Helper()
	gen := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	if ca == nil {
		caKey = gen()
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Pemda e2e CA"},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
			KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true, IsCA: true}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &caKey.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		if ca, err = x509.ParseCertificate(der); err != nil {
			t.Fatal(err)
		}
	}
	if key == nil {
		key = gen()
	}
	leaf := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(12 * time.Hour), IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, leaf, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	chainPEM = append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Raw})...)
	return chainPEM, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), ca, caKey, key
}

// TestIntegrationFleetCertRenewal renews the collector's certificate
// (issued by a CA; renewed with the same key, as certbot --reuse-key
// does) and restarts the collector: the enrolled agent, which pinned the
// certificate at enrolment, keeps writing and polling.
func TestIntegrationFleetCertRenewal(t *testing.T) {
	lab.SkipShort(t, "root (raw ICMP to 127.0.0.x) and the binaries")
	t.Parallel()
	chain, keyPEM, ca, caKey, key := caIssued(t, nil, nil, nil)
	c := startFleetCollectorCert(t, fleetInventory, chain, keyPEM)
	const name = "kec-a-1"
	code := c.enrollCode(t, "kec-a", name)
	c.override(t, name, fastRounds)
	a := newFleetAgent(t, c, code)
	cfg := writeFile(t, filepath.Join(filepath.Dir(a.state), "agent.yml"),
		fmt.Sprintf("agent: {state_dir: %s}\nfleet: {url: %q, poll_interval: 1s}\n", a.state, c.base))
	a.args = append(a.args, "--config", cfg)
	a.start(t)
	const sel = `pantau_icmp_up{agent="kec-a-1",link="kec-a-vsat"}`
	if !lab.WaitFor(t.Context(), 30*time.Second, func() bool { return len(rounds(t, c.client, c.base, sel, 0)) >= 2 }) {
		t.Fatalf("no rounds reached the collector\nagent log:\n%s", agentLogs(a.logs))
	}

	renewed, _, _, _, _ := caIssued(t, ca, caKey, key)
	writeFile(t, filepath.Join(c.dir, "cert.pem"), string(renewed))
	c.stop(t)
	c.start(t)
	restarted := time.Now()
	if !lab.WaitFor(t.Context(), 30*time.Second, func() bool {
		r := c.agentRow(t, name)
		return len(rounds(t, c.client, c.base, sel, restarted.Add(time.Second).UnixMilli())) >= 2 &&
			r.Fleet != nil && r.Fleet.LastContact.After(restarted)
	}) {
		t.Fatalf("after the certificate's renewal (same key, same CA) the agent neither writes nor polls\nagent log:\n%s", agentLogs(a.logs))
	}
	a.noDeadLetters(t)
	a.stop(t)
}
