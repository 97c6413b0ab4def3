package loadgen

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Server is a process started for a run.
type Server struct {
	Name    string
	Target  Target
	BaseURL string // http://127.0.0.1:port
	cmd     *exec.Cmd
	dataDir string
	logs    *os.File
	exited  chan struct{} // closed when the process has exited
}

// Stop terminates the process it started (by PID) and removes its data.
func (s *Server) Stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.exited:
		case <-time.After(20 * time.Second):
			s.cmd.Process.Kill()
			<-s.exited
		}
	}
	if s.logs != nil {
		s.logs.Close()
	}
	os.RemoveAll(s.dataDir)
}

// Exited reports whether the process has exited.
func (s *Server) Exited() bool {
	select {
	case <-s.exited:
		return true
	default:
		return false
	}
}

// LogTail is the end of the process's output, for error messages.
func (s *Server) LogTail() string {
	if s.logs == nil {
		return ""
	}
	b, err := os.ReadFile(s.logs.Name())
	if err != nil {
		return ""
	}
	if len(b) > 2048 {
		b = b[len(b)-2048:]
	}
	return strings.TrimSpace(string(b))
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
	s := &Server{Name: name, cmd: cmd, dataDir: dataDir, logs: logs, exited: make(chan struct{})}
	go func() {
		cmd.Wait()
		close(s.exited)
	}()
	return s, nil
}

// waitReady polls url until ok accepts its status, the process exits
// (an error with the end of its log), or 90 s pass.
func (s *Server) waitReady(ctx context.Context, url string, ok func(int) bool) error {
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
		select {
		case <-s.exited:
			return fmt.Errorf("%s exited before it was ready: %s", s.Name, s.LogTail())
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("%s not ready after 90s", url)
}

// StartPantau starts the collector binary with a token per writer
// (agents load00, load01, ...) and pprof on.
func StartPantau(ctx context.Context, bin, workDir string, writers int) (*Server, error) {
	agents := make([]AgentToken, writers)
	for w := range agents {
		agents[w].ID = fmt.Sprintf("load%02d", w)
	}
	return StartCollector(ctx, CollectorOptions{Bin: bin, WorkDir: workDir, Agents: agents, Pprof: true})
}

// AgentToken is an agent to create a token for, and the site tags the
// token allows (none: any).
type AgentToken struct {
	ID    string
	Sites []string
}

// CollectorOptions is how StartCollector starts pantau-collector.
type CollectorOptions struct {
	Bin     string
	WorkDir string // the data directory, config and log are made in it
	Agents  []AgentToken
	// Inventory, if set, is written to a file the config names.
	Inventory []byte
	// RemoteWrite, if set, is the URL of storage.remote_write (one engine,
	// named "engine").
	RemoteWrite string
	// RemoteQuery, if set with RemoteWrite, turns the embedded TSDB off
	// (storage.local: false) and reads back from this engine base URL.
	RemoteQuery string
	Pprof       bool
}

// StartCollector makes a data directory under o.WorkDir and writes a
// collector.yml (listen address, data directory, inventory, remote
// write) beside it, checks it with `check-config`, creates a token per
// agent with `token create` and starts `serve` on a free loopback port.
// The tokens are in Target.Tokens, in the order of o.Agents.
func StartCollector(ctx context.Context, o CollectorOptions) (*Server, error) {
	dir, err := os.MkdirTemp(o.WorkDir, "pantau-")
	if err != nil {
		return nil, err
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	cfg := fmt.Sprintf("# written by pantau-loadgen\nlisten_address: %s\ndata_dir: %s\n", addr, yamlQuote(dir))
	if o.Inventory != nil {
		inv := dir + "-inventory.yml"
		if err := os.WriteFile(inv, o.Inventory, 0o644); err != nil {
			return nil, fmt.Errorf("write inventory: %w", err)
		}
		cfg += "inventory: " + yamlQuote(inv) + "\n"
	}
	if o.RemoteWrite != "" {
		cfg += "storage:\n  remote_write:\n    - name: engine\n      url: " + yamlQuote(o.RemoteWrite) + "\n"
		if o.RemoteQuery != "" {
			cfg += "  local: false\n  remote_query: {url: " + yamlQuote(o.RemoteQuery) + "}\n"
		}
	}
	cfgPath := dir + ".yml"
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		return nil, fmt.Errorf("write collector config: %w", err)
	}
	if out, err := exec.CommandContext(ctx, o.Bin, "check-config", "--config", cfgPath).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("generated collector config %s: %w: %s", cfgPath, err, bytes.TrimSpace(out))
	}
	tokens := make([]string, len(o.Agents))
	for i, a := range o.Agents {
		args := []string{"token", "create", "--config", cfgPath, "--agent", a.ID}
		for _, site := range a.Sites {
			args = append(args, "--site", site)
		}
		var stderr bytes.Buffer
		cmd := exec.CommandContext(ctx, o.Bin, args...)
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return nil, fmt.Errorf("create token for %s: %w: %s", a.ID, err, bytes.TrimSpace(stderr.Bytes()))
		}
		tokens[i] = strings.TrimSpace(string(out))
	}
	// An admin token for the harness's reads (/metrics, profiles).
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, o.Bin, "token", "create", "--config", cfgPath, "--name", "loadgen", "--role", "admin", "--description", "load generator reads")
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("create the load generator's admin token: %w: %s", err, bytes.TrimSpace(stderr.Bytes()))
	}
	readToken := strings.TrimSpace(string(out))
	args := []string{"serve", "--config", cfgPath, "--log.level", "warn"}
	if o.Pprof {
		args = append(args, "--debug.pprof")
	}
	s, err := start("pantau", dir, exec.CommandContext(ctx, o.Bin, args...))
	if err != nil {
		return nil, err
	}
	s.BaseURL = "http://" + addr
	s.Target = Target{Name: "pantau", URL: s.BaseURL + "/api/v2/write?precision=ns", Tokens: tokens, PID: s.cmd.Process.Pid, ReadToken: readToken}
	if o.Pprof {
		s.Target.ProfileURL = s.BaseURL + "/debug/pprof/profile"
	}
	return s, s.waitReady(ctx, s.BaseURL+"/readyz", func(c int) bool { return c == 200 })
}

// yamlQuote writes s as a double-quoted YAML scalar.
func yamlQuote(s string) string { return strconv.Quote(s) }

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
	s.BaseURL = "http://" + addr
	s.Target = Target{Name: "victoria-metrics", URL: s.BaseURL + "/write?precision=ns", PID: s.cmd.Process.Pid}
	return s, s.waitReady(ctx, s.BaseURL+"/health", func(c int) bool { return c == 200 })
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
	s.BaseURL = base
	if err := s.waitReady(ctx, base+"/ping", func(c int) bool { return c == 204 }); err != nil {
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
