// Package lab starts real network daemons (snmpd, snmpsimd, ...) on
// loopback addresses for integration tests. Every helper kills only the
// processes it started and cleans up through t.Cleanup.
package lab

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// SnmpdUser is one SNMPv3 user configured in a lab snmpd. Protocol names
// use the spelling of the pantau snmp package (SHA, SHA256, AES, AES256).
type SnmpdUser struct {
	Name           string
	SecurityLevel  string // noAuthNoPriv, authNoPriv or authPriv
	AuthProtocol   string
	AuthPassphrase string
	PrivProtocol   string
	PrivPassphrase string
}

// SnmpdOptions configures StartSnmpd.
type SnmpdOptions struct {
	// Netns runs snmpd (and the readiness probe) inside this network
	// namespace with `ip netns exec`. Listen must then be set by the caller.
	Netns string
	// Listen is the agent address host:port (default 127.0.0.1:<free port>).
	Listen string
	// Community is the v1/v2c read-only community (default "pantau-lab").
	Community string
	// ExtraConfig is appended to the generated snmpd.conf.
	ExtraConfig string
}

// Snmpd is a running net-snmp agent.
type Snmpd struct {
	Addr      string // host:port to poll
	Community string
	// Users holds the v3 users; the first ones are the conventional
	// authPriv SHA/AES and authNoPriv SHA users (see V3AuthPriv, V3AuthNoPriv).
	Users []SnmpdUser

	opts     SnmpdOptions
	dir      string // config directory
	stateDir string // persistentDir
	conf     string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
	out  *lockedBuffer
}

// V3AuthPriv returns the authPriv SHA/AES user.
func (s *Snmpd) V3AuthPriv() SnmpdUser { return s.User("pantau-priv") }

// V3AuthNoPriv returns the authNoPriv SHA user.
func (s *Snmpd) V3AuthNoPriv() SnmpdUser { return s.User("pantau-auth") }

// User returns the configured v3 user called name (zero value if none).
func (s *Snmpd) User(name string) SnmpdUser {
	for _, u := range s.Users {
		if u.Name == name {
			return u
		}
	}
	return SnmpdUser{}
}

var labUsers = []SnmpdUser{
	{Name: "pantau-priv", SecurityLevel: "authPriv", AuthProtocol: "SHA", AuthPassphrase: "lab-auth-pass-1", PrivProtocol: "AES", PrivPassphrase: "lab-priv-pass-1"},
	{Name: "pantau-auth", SecurityLevel: "authNoPriv", AuthProtocol: "SHA", AuthPassphrase: "lab-auth-pass-2"},
	{Name: "pantau-sha256", SecurityLevel: "authPriv", AuthProtocol: "SHA256", AuthPassphrase: "lab-auth-pass-3", PrivProtocol: "AES", PrivPassphrase: "lab-priv-pass-3"},
	{Name: "pantau-sha512", SecurityLevel: "authPriv", AuthProtocol: "SHA512", AuthPassphrase: "lab-auth-pass-4", PrivProtocol: "AES256", PrivPassphrase: "lab-priv-pass-4"},
	{Name: "pantau-md5des", SecurityLevel: "authPriv", AuthProtocol: "MD5", AuthPassphrase: "lab-auth-pass-5", PrivProtocol: "DES", PrivPassphrase: "lab-priv-pass-5"},
	{Name: "pantau-noauth", SecurityLevel: "noAuthNoPriv"},
}

// netsnmpProto maps a protocol name to net-snmp's spelling.
func netsnmpProto(p string) string {
	switch strings.ToUpper(p) {
	case "SHA224":
		return "SHA-224"
	case "SHA256":
		return "SHA-256"
	case "SHA384":
		return "SHA-384"
	case "SHA512":
		return "SHA-512"
	case "AES192":
		return "AES-192"
	case "AES256":
		return "AES-256"
	}
	return strings.ToUpper(p)
}

// NetsnmpArgs returns the snmpget/snmpbulkwalk authentication arguments for u.
func (u SnmpdUser) NetsnmpArgs() []string {
	args := []string{"-v3", "-u", u.Name, "-l", u.SecurityLevel}
	if u.AuthProtocol != "" {
		args = append(args, "-a", netsnmpProto(u.AuthProtocol), "-A", u.AuthPassphrase)
	}
	if u.PrivProtocol != "" {
		args = append(args, "-x", netsnmpProto(u.PrivProtocol), "-X", u.PrivPassphrase)
	}
	return args
}

// FreeUDPPort returns a currently unused UDP port on host (a loopback address).
func FreeUDPPort(t testing.TB, host string) int {
	t.Helper()
	c, err := net.ListenPacket("udp", net.JoinHostPort(host, "0"))
	if err != nil {
		t.Fatalf("lab: find free UDP port on %s: %v", host, err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// snmpEnv keeps net-snmp tools away from system MIBs and state.
func snmpEnv(stateDir string) []string {
	env := []string{}
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "SNMP") || strings.HasPrefix(kv, "MIB") {
			continue
		}
		env = append(env, kv)
	}
	return append(env,
		"MIBS=", "MIBDIRS="+stateDir,
		"SNMPCONFPATH="+stateDir,
		"SNMP_PERSISTENT_DIR="+stateDir,
	)
}

// StartSnmpd starts /usr/sbin/snmpd in the foreground with a generated
// configuration (never the system /etc/snmp/snmpd.conf) and waits until it
// answers snmpget.
func StartSnmpd(t testing.TB, o SnmpdOptions) *Snmpd {
	t.Helper()
	SkipShort(t, "snmpd")
	bin := "/usr/sbin/snmpd"
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("lab: %s not found: run make deps (Debian package snmpd)", bin)
	}
	if _, err := exec.LookPath("snmpget"); err != nil {
		t.Fatalf("lab: snmpget not found: run make deps (Debian package snmp)")
	}
	if o.Netns != "" && o.Listen == "" {
		t.Fatalf("lab: StartSnmpd with Netns %q needs Listen", o.Netns)
	}
	if o.Listen == "" {
		o.Listen = fmt.Sprintf("127.0.0.1:%d", FreeUDPPort(t, "127.0.0.1"))
	}
	if o.Community == "" {
		o.Community = "pantau-lab"
	}
	dir := t.TempDir()
	s := &Snmpd{
		Addr:      o.Listen,
		Community: o.Community,
		Users:     append([]SnmpdUser(nil), labUsers...),
		opts:      o,
		dir:       dir,
		stateDir:  filepath.Join(dir, "state"),
		conf:      filepath.Join(dir, "snmpd.conf"),
	}
	if err := os.MkdirAll(s.stateDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(s.conf, []byte(s.config()), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	s.start(t)
	return s
}

func (s *Snmpd) config() string {
	var b strings.Builder
	host, _, _ := net.SplitHostPort(s.opts.Listen)
	proto := "udp"
	if strings.Contains(host, ":") {
		proto = "udp6"
	}
	fmt.Fprintf(&b, "agentAddress %s:%s\n", proto, s.opts.Listen)
	fmt.Fprintf(&b, "rocommunity %s default\n", s.Community)
	fmt.Fprintf(&b, "rocommunity6 %s default\n", s.Community)
	for _, u := range s.Users {
		line := "createUser " + u.Name
		if u.AuthProtocol != "" {
			line += fmt.Sprintf(" %s %q", netsnmpProto(u.AuthProtocol), u.AuthPassphrase)
			if u.PrivProtocol != "" {
				line += fmt.Sprintf(" %s %q", netsnmpProto(u.PrivProtocol), u.PrivPassphrase)
			}
		}
		b.WriteString(line + "\n")
		lvl := "noauth"
		switch u.SecurityLevel {
		case "authNoPriv":
			lvl = "auth"
		case "authPriv":
			lvl = "priv"
		}
		fmt.Fprintf(&b, "rouser %s %s\n", u.Name, lvl)
	}
	b.WriteString("sysName pantau-lab-snmpd\n")
	b.WriteString("sysLocation lab\n")
	b.WriteString("sysContact lab@example.invalid\n")
	b.WriteString("dontLogTCPWrappersConnects yes\n")
	b.WriteString(s.opts.ExtraConfig)
	b.WriteString("\n")
	return b.String()
}

func (s *Snmpd) command() *exec.Cmd {
	args := []string{"-f", "-Lo", "-C", "-c", s.conf, "-p", filepath.Join(s.dir, "snmpd.pid"), "-M", s.stateDir, "-m", ""}
	var cmd *exec.Cmd
	if s.opts.Netns != "" {
		cmd = exec.Command("ip", append([]string{"netns", "exec", s.opts.Netns, "/usr/sbin/snmpd"}, args...)...)
	} else {
		cmd = exec.Command("/usr/sbin/snmpd", args...)
	}
	cmd.Env = snmpEnv(s.stateDir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	return cmd
}

func (s *Snmpd) start(t testing.TB) {
	t.Helper()
	cmd := s.command()
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("lab: start snmpd: %v", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	s.mu.Lock()
	s.cmd, s.done, s.out = cmd, done, out
	s.mu.Unlock()

	deadline := time.Now().Add(15 * time.Second)
	for {
		select {
		case <-done:
			t.Fatalf("lab: snmpd exited early: %s", out.String())
		default:
		}
		if _, err := s.Get(context.Background(), "1.3.6.1.2.1.1.3.0"); err == nil {
			return
		}
		if time.Now().After(deadline) {
			s.Stop()
			t.Fatalf("lab: snmpd on %s did not answer within 15s; output:\n%s", s.Addr, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Output returns what snmpd logged so far.
func (s *Snmpd) Output() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.out == nil {
		return ""
	}
	return s.out.String()
}

// Tool runs a net-snmp command-line tool (snmpget, snmpbulkwalk, ...)
// against the agent with the v2c community, inside the namespace if any,
// and returns its standard output. args go before the agent address; oids after.
func (s *Snmpd) Tool(ctx context.Context, tool string, args []string, oids ...string) (string, error) {
	full := append([]string{}, args...)
	full = append(full, s.toolAddr())
	full = append(full, oids...)
	var cmd *exec.Cmd
	if s.opts.Netns != "" {
		cmd = exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", s.opts.Netns, tool}, full...)...)
	} else {
		cmd = exec.CommandContext(ctx, tool, full...)
	}
	cmd.Env = snmpEnv(s.stateDir + "-tools")
	_ = os.MkdirAll(s.stateDir+"-tools", 0o700)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("%s %v: %w: %s", tool, full, err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

func (s *Snmpd) toolAddr() string {
	host, _, _ := net.SplitHostPort(s.Addr)
	if strings.Contains(host, ":") {
		return "udp6:" + s.Addr
	}
	return "udp:" + s.Addr
}

// Get returns the value of numeric oids (snmpget -v2c -On -Oqv).
func (s *Snmpd) Get(ctx context.Context, oids ...string) (string, error) {
	out, err := s.Tool(ctx, "snmpget", []string{"-v2c", "-c", s.Community, "-On", "-Oqv", "-t", "0.5", "-r", "0"}, oids...)
	return strings.TrimSpace(out), err
}

// Restart stops snmpd and starts it again with the same configuration and
// state: the engine ID is kept and engineBoots increases, sysUpTime restarts.
func (s *Snmpd) Restart(t testing.TB) {
	t.Helper()
	s.Stop()
	s.start(t)
}

// RestartNewEngine stops snmpd, deletes its persistent state (so it
// generates a new engine ID and engineBoots starts again) and starts it.
func (s *Snmpd) RestartNewEngine(t testing.TB) {
	t.Helper()
	s.Stop()
	if err := os.RemoveAll(s.stateDir); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(s.stateDir, 0o700); err != nil {
		t.Fatal(err)
	}
	s.start(t)
}

// Stop kills the snmpd process this helper started and waits for it.
// It is safe to call more than once.
func (s *Snmpd) Stop() {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.cmd = nil
	s.mu.Unlock()
	stopProcess(cmd, done)
}

// stopProcess terminates the process group of cmd (its own group, created
// with Setpgid, so `ip netns exec` children go too) and waits for it.
func stopProcess(cmd *exec.Cmd, done chan struct{}) {
	if cmd == nil || cmd.Process == nil {
		return
	}
	pid := cmd.Process.Pid
	_ = syscall.Kill(-pid, syscall.SIGTERM)
	select {
	case <-done:
		return
	case <-time.After(3 * time.Second):
	}
	_ = syscall.Kill(-pid, syscall.SIGKILL)
	_ = cmd.Process.Kill()
	<-done
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.b.Len() > 1<<20 {
		return len(p), nil
	}
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
