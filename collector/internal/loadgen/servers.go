package loadgen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Server is a process started for a comparison run.
type Server struct {
	Name    string
	Target  Target
	cmd     *exec.Cmd
	dataDir string
	logs    *os.File
}

// Stop terminates the process it started (by PID) and removes its data.
func (s *Server) Stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		s.cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { s.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			s.cmd.Process.Kill()
			<-done
		}
	}
	if s.logs != nil {
		s.logs.Close()
	}
	os.RemoveAll(s.dataDir)
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func start(name string, dataDir string, cmd *exec.Cmd) (*Server, error) {
	logs, err := os.Create(filepath.Join(dataDir, "..", filepath.Base(dataDir)+".log"))
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = logs, logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logs.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	return &Server{Name: name, cmd: cmd, dataDir: dataDir, logs: logs}, nil
}

func waitHTTP(ctx context.Context, url string, ok func(int) bool) error {
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if res, err := http.DefaultClient.Do(req); err == nil {
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if ok(res.StatusCode) {
				return nil
			}
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("%s not ready after 90s", url)
}

// StartPantau starts the collector binary with a token per writer.
func StartPantau(ctx context.Context, bin, workDir string, writers int) (*Server, error) {
	dir, err := os.MkdirTemp(workDir, "pantau-")
	if err != nil {
		return nil, err
	}
	tokens := make([]string, writers)
	for w := range tokens {
		out, err := exec.CommandContext(ctx, bin, "token", "create", "--data-dir", dir, "--agent", fmt.Sprintf("load%02d", w)).Output()
		if err != nil {
			return nil, fmt.Errorf("create token: %w", err)
		}
		tokens[w] = strings.TrimSpace(string(out))
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	s, err := start("pantau", dir, exec.CommandContext(ctx, bin, "serve", "--listen-address", addr, "--data-dir", dir, "--log.level", "warn", "--debug.pprof"))
	if err != nil {
		return nil, err
	}
	s.Target = Target{Name: "pantau", URL: "http://" + addr + "/api/v2/write?precision=ns", Tokens: tokens, PID: s.cmd.Process.Pid,
		ProfileURL: "http://" + addr + "/debug/pprof/profile"}
	return s, waitHTTP(ctx, "http://"+addr+"/readyz", func(c int) bool { return c == 200 })
}

// StartVictoriaMetrics starts Debian's victoria-metrics single node.
func StartVictoriaMetrics(ctx context.Context, workDir string) (*Server, error) {
	bin, err := exec.LookPath("victoria-metrics")
	if err != nil {
		return nil, errors.New("victoria-metrics not found: run `make deps-bench`")
	}
	dir, err := os.MkdirTemp(workDir, "vm-")
	if err != nil {
		return nil, err
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	s, err := start("victoria-metrics", dir, exec.CommandContext(ctx, bin, "-storageDataPath", dir, "-httpListenAddr", addr, "-retentionPeriod", "400d", "-loggerLevel", "WARN"))
	if err != nil {
		return nil, err
	}
	s.Target = Target{Name: "victoria-metrics", URL: "http://" + addr + "/write?precision=ns", PID: s.cmd.Process.Pid}
	return s, waitHTTP(ctx, "http://"+addr+"/health", func(c int) bool { return c == 200 })
}

// StartInfluxDB starts Debian's influxd (1.x) with a database "bench".
func StartInfluxDB(ctx context.Context, workDir string) (*Server, error) {
	bin, err := exec.LookPath("influxd")
	if err != nil {
		return nil, errors.New("influxd not found: run `make deps-bench`")
	}
	dir, err := os.MkdirTemp(workDir, "influx-")
	if err != nil {
		return nil, err
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	rpc, err := freeAddr()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, bin, "run")
	cmd.Env = append(os.Environ(),
		"INFLUXDB_META_DIR="+dir+"/meta", "INFLUXDB_DATA_DIR="+dir+"/data", "INFLUXDB_DATA_WAL_DIR="+dir+"/wal",
		"INFLUXDB_HTTP_BIND_ADDRESS="+addr, "INFLUXDB_BIND_ADDRESS="+rpc, "INFLUXDB_REPORTING_DISABLED=true",
		"INFLUXDB_HTTP_LOG_ENABLED=false", "INFLUXDB_DATA_QUERY_LOG_ENABLED=false", "INFLUXDB_LOGGING_LEVEL=warn",
		"INFLUXDB_DATA_MAX_SERIES_PER_DATABASE=0", "INFLUXDB_DATA_MAX_VALUES_PER_TAG=0",
		"INFLUXDB_MONITOR_STORE_ENABLED=false", "INFLUXDB_HTTP_MAX_BODY_SIZE=0")
	s, err := start("influxdb", dir, cmd)
	if err != nil {
		return nil, err
	}
	base := "http://" + addr
	if err := waitHTTP(ctx, base+"/ping", func(c int) bool { return c == 204 }); err != nil {
		return s, err
	}
	res, err := http.Post(base+"/query?q=CREATE+DATABASE+bench", "", nil)
	if err != nil {
		return s, fmt.Errorf("create influxdb database: %w", err)
	}
	res.Body.Close()
	s.Target = Target{Name: "influxdb", URL: base + "/write?db=bench&precision=ns", PID: s.cmd.Process.Pid, Signed: true}
	return s, nil
}
