package collector

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
)

// The helpers of the tests here that run the collector binary as a
// process (the ingest guards); the tests that start several binaries
// together live in e2e/.

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

type proc struct {
	cmd  *exec.Cmd
	logs *bytes.Buffer
}

// startProc runs `bin serve` with args, waits until addr answers
// /readyz, and makes sure the answer is this process's: a collector that
// exited at start (its port taken) fails the test. The process dies with
// the test process and is killed by PID at cleanup.
func startProc(t *testing.T, bin, addr string, args ...string) *proc {
	t.Helper()
	p := &proc{logs: &bytes.Buffer{}}
	p.cmd = exec.Command(bin, append([]string{"serve", "--log.level", "warn"}, args...)...)
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			p.cmd.Process.Kill()
			p.cmd.Wait()
		}
	})
	pid := p.cmd.Process.Pid
	waitFor(t, 60*time.Second, "collector "+addr+" ready", func() bool {
		if !alive(pid) {
			t.Fatalf("collector %s exited at start:\n%s", addr, p.logs)
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

// alive reports whether process pid runs (exists and is not a zombie).
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(b, ')')
	return i > 0 && len(b) > i+2 && b[i+2] != 'Z'
}

// metricValue returns the value of the sample line of /metrics that starts
// with series (a name with its labels exactly as printed), or -1.
func metricValue(body, series string) float64 {
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
