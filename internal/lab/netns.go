// Package lab is the test harness for real-kernel link tests: network
// namespaces joined by veth pairs (a NOC, district hubs, OPD sites), loss
// from nftables "numgen random" rules, outages from "ip link set down",
// delay and a slow line's rate from a userspace TUN link emulator (this
// kernel has no sch_netem), and real daemons (snmpd, snmpsim) inside the
// namespaces.
//
// Everything a Lab creates is removed by t.Cleanup, also when the test
// fails: namespaces by name, processes by the PID the lab started. If the
// test process dies before its cleanup (a -timeout panic), its daemons die
// with it (Pdeathsig) and the next lab removes its namespaces. Traffic
// stays inside the lab's namespaces and loopback.
package lab

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

var labSeq atomic.Int32

// Lab is one test's set of namespaces.
type Lab struct {
	t      testing.TB
	prefix string
	mu     sync.Mutex
	ns     []string
	procs  []*exec.Cmd
	links  int
	routes map[string][][2]string // ns → (dst, via), restored by Up
	closed []func()
}

// New creates an empty lab; it needs root and iproute2 (make deps).
func New(t testing.TB) *Lab {
	t.Helper()
	SkipShort(t, "root and network namespaces")
	if os.Geteuid() != 0 {
		t.Fatal("the link lab needs root (network namespaces); run the tests as root")
	}
	for _, tool := range []string{"ip", "nft"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not found: run `make deps` (Debian packages iproute2, nftables)", tool)
		}
	}
	sweepStale(t)
	l := &Lab{t: t, prefix: fmt.Sprintf("pl%d%d", os.Getpid()%100000, labSeq.Add(1))}
	t.Cleanup(l.cleanup)
	return l
}

// ownerDir holds a file per lab namespace naming the test process that
// created it (PID and start time), so that a later lab removes the
// namespaces of a test process that died before its cleanup ran (a
// `go test -timeout` panic, a SIGKILL). Their daemons died with it
// (Pdeathsig); the namespaces would otherwise stay.
const ownerDir = "/run/pantau-lab"

// procStart is the start time of pid in clock ticks since boot, or "".
func procStart(pid int) string {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ""
	}
	s := string(raw)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 20 {
		return ""
	}
	return f[19] // field 22 of stat
}

// sweepStale deletes the namespaces whose owning test process is gone.
func sweepStale(t testing.TB) {
	entries, _ := os.ReadDir(ownerDir)
	for _, e := range entries {
		path := ownerDir + "/" + e.Name()
		raw, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		var pid int
		var start string
		if _, err := fmt.Sscan(string(raw), &pid, &start); err != nil || pid <= 0 {
			continue
		}
		if procStart(pid) == start {
			continue // its test process is still running
		}
		if out, err := exec.Command("ip", "netns", "del", e.Name()).CombinedOutput(); err != nil && !strings.Contains(string(out), "No such file") {
			t.Logf("lab: removing namespace %s left by dead test process %d: %v: %s", e.Name(), pid, err, out)
			continue
		}
		os.Remove(path)
		t.Logf("lab: removed namespace %s left by test process %d, which died before its cleanup", e.Name(), pid)
	}
}

// own records that this process created namespace ns.
func own(ns string) error {
	if err := os.MkdirAll(ownerDir, 0o755); err != nil {
		return err
	}
	return os.WriteFile(ownerDir+"/"+ns, fmt.Appendf(nil, "%d %s\n", os.Getpid(), procStart(os.Getpid())), 0o644)
}

func (l *Lab) cleanup() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := len(l.closed) - 1; i >= 0; i-- {
		l.closed[i]()
	}
	for _, c := range l.procs {
		if c.Process != nil && c.ProcessState == nil {
			_ = c.Process.Kill()
			_, _ = c.Process.Wait()
		}
	}
	for _, ns := range l.ns {
		if out, err := exec.Command("ip", "netns", "del", ns).CombinedOutput(); err != nil {
			l.t.Logf("lab cleanup: ip netns del %s: %v: %s", ns, err, out)
			continue
		}
		os.Remove(ownerDir + "/" + ns)
	}
}

// Run runs a command in the root namespace and fails the test on error.
func (l *Lab) run(args ...string) string {
	l.t.Helper()
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		l.t.Fatalf("lab: %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// Exec runs a command inside namespace ns and fails the test on error.
func (l *Lab) Exec(ns string, args ...string) string {
	l.t.Helper()
	return l.run(append([]string{"ip", "netns", "exec", ns}, args...)...)
}

// Output runs a command inside namespace ns and returns its standard
// output; it fails the test (showing standard error) on error.
func (l *Lab) Output(ns string, args ...string) string {
	l.t.Helper()
	cmd := exec.Command("ip", append([]string{"netns", "exec", ns}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		l.t.Fatalf("lab: %s in %s: %v: %s", strings.Join(args, " "), ns, err, stderr.String())
	}
	return string(out)
}

// Namespace creates a namespace named after name, with loopback up, and
// returns its full name.
func (l *Lab) Namespace(name string) string {
	l.t.Helper()
	ns := l.prefix + "-" + name
	if err := own(ns); err != nil {
		l.t.Fatalf("lab: record namespace %s: %v", ns, err)
	}
	l.run("ip", "netns", "add", ns)
	l.mu.Lock()
	l.ns = append(l.ns, ns)
	l.mu.Unlock()
	l.Exec(ns, "ip", "link", "set", "lo", "up")
	// Unprivileged ICMP sockets for every group inside the lab.
	l.Exec(ns, "sysctl", "-qw", "net.ipv4.ping_group_range=0 2147483647")
	return ns
}

// Link joins namespaces a and b with a veth pair and gives each end its
// address in CIDR form (e.g. 10.250.1.1/30). It returns the interface
// names in a and in b.
func (l *Lab) Link(a, aAddr, b, bAddr string) (ifA, ifB string) {
	l.t.Helper()
	l.mu.Lock()
	l.links++
	n := l.links
	l.mu.Unlock()
	ifA, ifB = fmt.Sprintf("v%da", n), fmt.Sprintf("v%db", n)
	tmpA, tmpB := l.prefix+"a"+fmt.Sprint(n), l.prefix+"b"+fmt.Sprint(n)
	tmpA, tmpB = tmpA[max(0, len(tmpA)-15):], tmpB[max(0, len(tmpB)-15):]
	l.run("ip", "link", "add", tmpA, "netns", a, "type", "veth", "peer", "name", tmpB, "netns", b)
	l.Exec(a, "ip", "link", "set", tmpA, "name", ifA)
	l.Exec(b, "ip", "link", "set", tmpB, "name", ifB)
	l.Exec(a, "ip", "addr", "add", aAddr, "dev", ifA)
	l.Exec(b, "ip", "addr", "add", bAddr, "dev", ifB)
	l.Exec(a, "ip", "link", "set", ifA, "up")
	l.Exec(b, "ip", "link", "set", ifB, "up")
	return ifA, ifB
}

// Route adds a route in ns.
func (l *Lab) Route(ns, dst, via string) {
	l.t.Helper()
	l.Exec(ns, "ip", "route", "add", dst, "via", via)
	l.mu.Lock()
	if l.routes == nil {
		l.routes = map[string][][2]string{}
	}
	l.routes[ns] = append(l.routes[ns], [2]string{dst, via})
	l.mu.Unlock()
}

// Router makes ns forward packets.
func (l *Lab) Router(ns string) {
	l.t.Helper()
	l.Exec(ns, "sysctl", "-qw", "net.ipv4.ip_forward=1")
	l.Exec(ns, "sysctl", "-qw", "net.ipv4.conf.all.rp_filter=0")
	l.Exec(ns, "sysctl", "-qw", "net.ipv4.conf.default.rp_filter=0")
}

// Loss drops percent % of the packets that arrive on iface in ns, at
// random (nftables numgen random). 0 removes the rule.
func (l *Lab) Loss(ns, iface string, percent int) {
	l.t.Helper()
	table := "pantau_lab_" + iface
	_, _ = exec.Command("ip", "netns", "exec", ns, "nft", "delete", "table", "inet", table).CombinedOutput()
	if percent <= 0 {
		return
	}
	rules := fmt.Sprintf(`table inet %s {
	chain in {
		type filter hook prerouting priority -300; policy accept;
		iifname %q numgen random mod 100 < %d drop
	}
}
`, table, iface, percent)
	cmd := exec.Command("ip", "netns", "exec", ns, "nft", "-f", "-")
	cmd.Stdin = strings.NewReader(rules)
	if out, err := cmd.CombinedOutput(); err != nil {
		l.t.Fatalf("lab: nft loss rule on %s/%s: %v: %s", ns, iface, err, out)
	}
}

// Down cuts the link at iface in ns (ip link set down); Up restores it.
func (l *Lab) Down(ns, iface string) { l.t.Helper(); l.Exec(ns, "ip", "link", "set", iface, "down") }

// Up restores a link cut by Down, and the routes of ns that the kernel
// flushed when the link went down.
func (l *Lab) Up(ns, iface string) {
	l.t.Helper()
	l.Exec(ns, "ip", "link", "set", iface, "up")
	l.mu.Lock()
	routes := l.routes[ns]
	l.mu.Unlock()
	for _, r := range routes {
		l.Exec(ns, "ip", "route", "replace", r[0], "via", r[1])
	}
}

// Start starts a long-running process inside ns; the lab kills it (by its
// PID) at cleanup. Output goes to the returned buffer.
func (l *Lab) Start(ns string, args ...string) (*exec.Cmd, *SyncBuffer) {
	l.t.Helper()
	full := args
	if ns != "" {
		full = append([]string{"ip", "netns", "exec", ns}, args...)
	}
	cmd := exec.Command(full[0], full[1:]...)
	out := &SyncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	// If the test binary dies without its cleanups (a -timeout panic, a
	// kill), the process goes with it: `ip netns exec` execs the program,
	// which keeps the parent-death signal.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		l.t.Fatalf("lab: start %s: %v", strings.Join(args, " "), err)
	}
	l.mu.Lock()
	l.procs = append(l.procs, cmd)
	l.mu.Unlock()
	return cmd, out
}

// WaitFor polls cond every 50 ms until it holds or timeout passes.
func WaitFor(ctx context.Context, timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if cond() {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return cond()
}

// SyncBuffer is a bytes.Buffer safe for a process's concurrent writes.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
