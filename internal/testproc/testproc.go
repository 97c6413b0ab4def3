// Package testproc runs pantau-collector as a process for tests (the
// collector's own ingest-guard tests and the cross-binary tests in e2e/),
// and holds the small helpers those tests share: free loopback ports,
// waiting on a condition, reading a value from /metrics. Test code only,
// like internal/testbuild.
package testproc

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/internal/lab"
)

// FreePort returns a loopback address (127.0.0.1:port) free right now.
func FreePort(t testing.TB) string {
	t.Helper()
	return FreePorts(t, 1)[0]
}

// FreePorts returns n distinct free loopback addresses: all are held
// open until every one is chosen, so none is handed out twice.
func FreePorts(t testing.TB, n int) []string {
	t.Helper()
	var out []string
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("find a free loopback port: %v", err)
		}
		defer l.Close()
		out = append(out, l.Addr().String())
	}
	return out
}

// Proc is a pantau-collector process a test started.
type Proc struct {
	Cmd  *exec.Cmd
	Logs *lab.SyncBuffer // its stdout and stderr
}

// Launch starts `bin serve --log.level warn args...`. The process dies
// with the test process and is killed by PID at cleanup.
func Launch(t testing.TB, bin string, args ...string) *Proc {
	t.Helper()
	p := &Proc{Logs: &lab.SyncBuffer{}}
	p.Cmd = exec.Command(bin, append([]string{"serve", "--log.level", "warn"}, args...)...)
	p.Cmd.Stdout, p.Cmd.Stderr = p.Logs, p.Logs
	p.Cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := p.Cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	t.Cleanup(func() {
		if p.Cmd.ProcessState == nil {
			p.Cmd.Process.Kill()
			p.Cmd.Wait()
		}
	})
	return p
}

// Start launches the collector (see Launch), waits until addr answers
// /readyz, and makes sure the answer is this process's: a collector that
// exited at start (its port taken) fails the test.
func Start(t testing.TB, bin, addr string, args ...string) *Proc {
	t.Helper()
	p := Launch(t, bin, args...)
	pid := p.Cmd.Process.Pid
	WaitFor(t, 60*time.Second, "collector "+addr+" ready", func() bool {
		if !Alive(pid) {
			t.Fatalf("collector %s exited at start:\n%s", addr, p.Logs)
		}
		res, err := http.Get("http://" + addr + "/readyz")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == 200
	})
	return p
}

// Kill sends SIGKILL to the process (by PID) and reaps it.
func (p *Proc) Kill() {
	p.Cmd.Process.Signal(syscall.SIGKILL)
	p.Cmd.Wait()
}

// Alive reports whether process pid runs (exists and is not a zombie).
func Alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(b, ')')
	return i > 0 && len(b) > i+2 && b[i+2] != 'Z'
}

// WaitFor polls ok every 200 ms until it holds, failing the test after d.
func WaitFor(t testing.TB, d time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// MetricValue returns the value of the sample line of a /metrics body
// that starts with series (a name with its labels exactly as printed), or
// -1.
func MetricValue(body, series string) float64 {
	for l := range strings.Lines(body) {
		if rest, ok := strings.CutPrefix(l, series+" "); ok {
			v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			if err == nil {
				return v
			}
		}
	}
	return -1
}

// GrepLines returns the lines of s that contain sub.
func GrepLines(s, sub string) string {
	var out []string
	for l := range strings.SplitSeq(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
