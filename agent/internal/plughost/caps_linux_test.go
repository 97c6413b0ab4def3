package plughost

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

const capNetRaw = 1 << 13 // CAP_NET_RAW

// procCaps reads a capability set (CapEff, CapAmb, ...) of pid ("self").
func procCaps(t *testing.T, pid, set string) int64 {
	t.Helper()
	raw, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, set+":"); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 16, 64)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatalf("no %s in /proc/%s/status", set, pid)
	return 0
}

// TestPluginDropsAmbientCaps runs this test binary again as nobody with
// CAP_NET_RAW in its ambient set, the way systemd starts an agent that
// needs raw ICMP sockets (deploy/systemd/pantau-agent-raw-icmp.conf). In
// there, a plugin started by the host must have no capabilities, while a
// child started the ordinary way inherits CAP_NET_RAW (the control) and
// the agent can still open a raw ICMP socket.
func TestPluginDropsAmbientCaps(t *testing.T) {
	if os.Getenv("PANTAU_CAPS_CHILD") != "" {
		capsChild(t)
		return
	}
	if testing.Short() {
		t.Skip("-short: runs a child as nobody with ambient CAP_NET_RAW, which needs root; make test runs it")
	}
	if os.Geteuid() != 0 {
		t.Fatal("this test needs root (it runs a child as nobody with ambient CAP_NET_RAW); run the tests as root")
	}
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Fatal("setpriv (util-linux) not found")
	}
	// nobody must be able to run both binaries: copy them to a 0755 dir.
	dir, err := os.MkdirTemp("", "pantau-caps-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin, plug := filepath.Join(dir, "plughost.test"), filepath.Join(dir, "probe")
	copyExec(t, self, bin)
	copyExec(t, plugins(t)["probe"], plug)
	cmd := exec.Command(setpriv, "--reuid=65534", "--regid=65534", "--clear-groups",
		"--inh-caps=+net_raw", "--ambient-caps=+net_raw", "--",
		bin, "-test.run=^TestPluginDropsAmbientCaps$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), "PANTAU_CAPS_CHILD=1", "PANTAU_CAPS_PLUGIN="+plug, "HOME="+dir)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestPluginDropsAmbientCaps") {
		t.Fatalf("child as nobody with ambient CAP_NET_RAW: %v\n%s", err, out)
	}
	t.Logf("child:\n%s", out)
}

func capsChild(t *testing.T) {
	if eff, amb := procCaps(t, "self", "CapEff"), procCaps(t, "self", "CapAmb"); eff&capNetRaw == 0 || amb&capNetRaw == 0 || os.Geteuid() == 0 {
		t.Fatalf("precondition: want a non-root process with CAP_NET_RAW effective and ambient, have uid %d, CapEff %x, CapAmb %x", os.Geteuid(), eff, amb)
	}
	// Control: a child started the ordinary way inherits CAP_NET_RAW.
	out, err := exec.Command("grep", "^CapEff:", "/proc/self/status").Output()
	if err != nil {
		t.Fatal(err)
	}
	if n, err := strconv.ParseInt(strings.TrimSpace(strings.TrimPrefix(string(out), "CapEff:")), 16, 64); err != nil || n&capNetRaw == 0 {
		t.Fatalf("control: an ordinary child's CapEff is %q; it should inherit CAP_NET_RAW", out)
	}

	plug := os.Getenv("PANTAU_CAPS_PLUGIN")
	h, _, logs := newHost(t, plug, sum(t, plug))
	pts, err := collect(h, "caps", 20*time.Second)
	if err != nil || len(pts) != 1 {
		t.Fatalf("collect caps: %v %v\n%s", pts, err, logs)
	}
	f := pts[0].Fields
	for _, set := range []string{"capinh", "capprm", "capeff", "capamb"} {
		v, ok := f[set].(int64)
		if !ok {
			t.Fatalf("plugin reported no %s: %v", set, f)
		}
		if v != 0 {
			t.Errorf("plugin's %s is %x, want no capabilities", set, v)
		}
	}
	// The agent keeps its own capability: a raw ICMP socket still opens.
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_RAW, syscall.IPPROTO_ICMP)
	if err != nil {
		t.Fatalf("raw ICMP socket after starting the plugin: %v", err)
	}
	syscall.Close(fd)
	if procCaps(t, "self", "CapEff")&capNetRaw == 0 {
		t.Fatal("the host lost CAP_NET_RAW")
	}
}

func copyExec(t *testing.T, from, to string) {
	t.Helper()
	src, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
}
