// Package testengine starts Debian's victoria-metrics and prometheus on
// loopback for tests: a free port, a temporary data directory, ready when
// the engine's health endpoint says so. An engine can be stopped with a
// chosen signal and started again on the same port and data (outage
// tests). Processes are stopped by PID at cleanup and die with the test
// process (Pdeathsig).
package testengine

import (
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// Kinds of engine.
const (
	VictoriaMetrics = "victoria-metrics"
	Prometheus      = "prometheus"
)

// Engine is a running (or stopped) engine process.
type Engine struct {
	Kind string
	Addr string // 127.0.0.1:port, kept across restarts
	Dir  string // data directory, kept across restarts

	t     testing.TB
	bin   string
	extra []string
	logs  string
	cmd   *exec.Cmd
	done  chan struct{}
}

// Start starts kind on a free loopback port with a new data directory.
// victoria-metrics runs with a 100-year retention and no query latency
// offset; prometheus with its remote-write receiver and a 30-day
// out-of-order window (agents' backlogs arrive late and out of order).
// extra flags are appended. A missing binary fails the test, naming the
// Debian package (`make deps` installs it).
func Start(t testing.TB, kind string, extra ...string) *Engine {
	t.Helper()
	return StartConfig(t, kind, "global: {}\nstorage:\n  tsdb:\n    out_of_order_time_window: 30d\n", extra...)
}

// StartConfig is Start with prometheus.yml given (prometheus only; the
// test's scrape jobs, remote_read and so on).
func StartConfig(t testing.TB, kind, prometheusYML string, extra ...string) *Engine {
	t.Helper()
	bin, err := exec.LookPath(kind)
	if err != nil {
		t.Fatalf("%s not found: run `make deps` (Debian package %s)", kind, kind)
	}
	root := t.TempDir()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e := &Engine{Kind: kind, Addr: l.Addr().String(), Dir: filepath.Join(root, "data"), t: t, bin: bin, extra: extra,
		logs: filepath.Join(root, kind+".log")}
	l.Close()
	if kind == Prometheus {
		if err := os.WriteFile(filepath.Join(root, "prometheus.yml"), []byte(prometheusYML), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		e.Stop(syscall.SIGKILL)
		if t.Failed() {
			t.Logf("%s output (end):\n%s", kind, e.LogTail())
		}
	})
	e.Restart()
	return e
}

// URL is the engine's base URL, http://127.0.0.1:port.
func (e *Engine) URL() string { return "http://" + e.Addr }

// WriteURL is the engine's Prometheus remote-write endpoint.
func (e *Engine) WriteURL() string { return e.URL() + "/api/v1/write" }

func (e *Engine) args() []string {
	var a []string
	if e.Kind == VictoriaMetrics {
		a = []string{"-storageDataPath", e.Dir, "-httpListenAddr", e.Addr, "-retentionPeriod", "100y",
			"-loggerLevel", "WARN", "-search.latencyOffset", "0s"}
	} else {
		a = []string{"--config.file", filepath.Join(filepath.Dir(e.Dir), "prometheus.yml"), "--storage.tsdb.path", e.Dir,
			"--storage.tsdb.retention.time", "60d", "--web.listen-address", e.Addr, "--web.enable-remote-write-receiver",
			"--log.level", "warn"}
	}
	return append(a, e.extra...)
}

// Restart starts the engine (again, after Stop) on its port and data
// directory and waits until it is ready.
func (e *Engine) Restart() {
	e.t.Helper()
	logs, err := os.OpenFile(e.logs, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		e.t.Fatal(err)
	}
	defer logs.Close() // the child has its own copy
	e.cmd = exec.Command(e.bin, e.args()...)
	e.cmd.Stdout, e.cmd.Stderr = logs, logs
	e.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := e.cmd.Start(); err != nil {
		e.t.Fatalf("start %s: %v", e.Kind, err)
	}
	e.done = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) { cmd.Wait(); close(done) }(e.cmd, e.done)
	ready := "/health"
	if e.Kind == Prometheus {
		ready = "/-/ready"
	}
	deadline := time.Now().Add(90 * time.Second)
	for {
		res, err := http.Get(e.URL() + ready)
		if err == nil {
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-e.done:
			e.t.Fatalf("%s exited at start:\n%s", e.Kind, e.LogTail())
		default:
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("%s not ready after 90s:\n%s", e.Kind, e.LogTail())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop signals the process by PID and waits for it (SIGKILL after 60 s).
func (e *Engine) Stop(sig syscall.Signal) {
	if e.cmd == nil || e.cmd.Process == nil {
		return
	}
	select {
	case <-e.done:
		return
	default:
	}
	e.cmd.Process.Signal(sig)
	select {
	case <-e.done:
	case <-time.After(60 * time.Second):
		e.cmd.Process.Kill()
		<-e.done
	}
}

// LogTail is the end of the engine's output.
func (e *Engine) LogTail() string {
	b, _ := os.ReadFile(e.logs)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}
