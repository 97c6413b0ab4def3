package update

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/internal/lab"
	"github.com/pantau-noc/pantau/internal/testbuild"
)

const badVersion = "v0.0.0-bad"

// supervisor runs `bin args...` as systemd runs the service: when it
// exits with ExitCode (Restart=on-failure, RestartForceExitStatus=75) it
// is started again, at most 5 times; any other exit ends it. Every
// process it starts is stopped by PID when the test ends.
type supervisor struct {
	out  lab.SyncBuffer
	mu   sync.Mutex
	cmd  *exec.Cmd
	code int
	done chan struct{}
}

func supervise(t *testing.T, env []string, bin string, args ...string) *supervisor {
	t.Helper()
	s := &supervisor{done: make(chan struct{})}
	start := func() error {
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), env...)
		cmd.Stdout, cmd.Stderr = &s.out, &s.out
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
			var ee *exec.ExitError
			code := 0
			if errors.As(err, &ee) {
				code = ee.ExitCode()
			}
			s.mu.Lock()
			s.code = code
			s.mu.Unlock()
			if code != ExitCode || restarts >= 5 || start() != nil {
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

func (s *supervisor) pid() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cmd.Process.Pid
}

// exe is the program the supervised process runs now (after any exec).
func (s *supervisor) exe() string {
	p, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", s.pid()))
	return p
}

// stop sends SIGTERM, as systemctl stop does, and returns the exit code.
func (s *supervisor) stop(t *testing.T) int {
	t.Helper()
	syscall.Kill(s.pid(), syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(60 * time.Second):
		t.Fatalf("the agent did not stop after SIGTERM:\n%s", s.out.String())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.code
}

func (s *supervisor) waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	if !lab.WaitFor(context.Background(), 60*time.Second, cond) {
		t.Fatalf("%s: not within 60s; output:\n%s", what, s.out.String())
	}
}

func (s *supervisor) count(sub string) int { return strings.Count(s.out.String(), sub) }

// updateEnv is an agent with updates on, its config and its state.
type updateEnv struct {
	dir, state, config string
	packaged           string // the launcher
	key                testKey
}

func newUpdateEnv(t *testing.T) *updateEnv {
	dir := t.TempDir()
	e := &updateEnv{dir: dir, state: filepath.Join(dir, "state"), config: filepath.Join(dir, "agent.yml"), key: newKey(t, dir),
		packaged: testbuild.Agent(t)}
	e.setTimeout(t, "60s")
	return e
}

func (e *updateEnv) setTimeout(t *testing.T, timeout string) {
	t.Helper()
	cfg := fmt.Sprintf("agent: {id: update-test, state_dir: %s, listen_address: \"\"}\nupdate: {enabled: true, public_key_file: %s, health_timeout: %s}\n",
		e.state, e.key.file, timeout)
	if err := os.WriteFile(e.config, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
}

// offer stages bin as version, as the fleet client of an agent running
// `running` would.
func (e *updateEnv) offer(t *testing.T, running, version, bin string) error {
	t.Helper()
	u, err := New(Options{StateDir: e.state, Enabled: true, PublicKeyFile: e.key.file, Running: running, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	// As the fleet client in a process the launcher started does.
	defer os.Unsetenv(EnvLaunched)
	defer os.Unsetenv(envBase)
	os.Setenv(EnvLaunched, "1")
	os.Setenv(envBase, identityOf(e.packaged))
	data := readFile(t, bin)
	f, _ := os.Open(bin)
	defer f.Close()
	staged, err := u.Offer(context.Background(), e.key.sign(version, data), f)
	if err == nil && !staged {
		t.Fatalf("offer of %s: nothing staged", version)
	}
	return err
}

func (e *updateEnv) status(t *testing.T) Status {
	t.Helper()
	st, err := State(e.state)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

var badPID = regexp.MustCompile(`badagent started pid=(\d+) trial=1`)

func gone(pid int) bool { return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH) }

// TestIntegrationUpdateTrialCommitRollback: a good release runs on trial
// under the packaged binary, is committed once it reports healthy and
// exec'd, and every later start execs it. A release that never reports
// healthy is then killed at the health timeout and rolled back to the
// committed one, which runs on; it is not tried again.
func TestIntegrationUpdateTrialCommitRollback(t *testing.T) {
	packaged := testbuild.Agent(t)
	good := testbuild.AgentVersion(t, goodVersion)
	bad := testbuild.Main(t, "github.com/pantau-noc/pantau/agent/internal/update/testdata/badagent")
	e := newUpdateEnv(t)
	staged := filepath.Join(e.state, "update", binPrefix+goodVersion)

	if err := e.offer(t, "dev", goodVersion, good); err != nil {
		t.Fatal(err)
	}
	if st := e.status(t); st.State != StatePending || st.Version != goodVersion {
		t.Fatalf("after the offer: %+v", st)
	}
	// The restart: the packaged binary starts the release on trial.
	s := supervise(t, nil, packaged, "run", "--config", e.config)
	s.waitFor(t, "the release on trial starts", func() bool {
		return s.count("msg=\"release on trial\"") == 1 && s.count("msg=starting version="+goodVersion) == 1
	})
	if s.exe() != packaged {
		t.Fatalf("the launcher is %s, want the packaged %s", s.exe(), packaged)
	}
	// What the fleet client does once its first status report is accepted.
	if err := MarkHealthy(e.state, goodVersion); err != nil {
		t.Fatal(err)
	}
	s.waitFor(t, "the release is committed and exec'd", func() bool {
		return s.exe() == staged && s.count("msg=starting version="+goodVersion) == 2
	})
	if st := e.status(t); st.State != StateInstalled || st.Version != goodVersion {
		t.Fatalf("after the trial: %+v", st)
	}
	if code := s.stop(t); code != 0 {
		t.Fatalf("exit code %d after SIGTERM:\n%s", code, s.out.String())
	}

	// The next start execs the installed release at once: no trial.
	s = supervise(t, nil, packaged, "run", "--config", e.config)
	s.waitFor(t, "the installed release runs", func() bool {
		return s.exe() == staged && s.count("msg=starting version="+goodVersion) == 1
	})
	if s.count("release on trial") != 0 || !strings.Contains(s.out.String(), "msg=\"running the installed release\"") {
		t.Fatalf("a trial again:\n%s", s.out.String())
	}

	// A release that never reports healthy, offered to the installed one.
	e.setTimeout(t, "2s")
	if err := e.offer(t, goodVersion, badVersion, bad); err != nil {
		t.Fatal(err)
	}
	if code := s.stop(t); code != 0 {
		t.Fatalf("exit code %d after SIGTERM:\n%s", code, s.out.String())
	}
	s = supervise(t, nil, packaged, "run", "--config", e.config)
	s.waitFor(t, "the bad release is rolled back and the installed one runs", func() bool {
		return s.exe() == staged && s.count("msg=starting version="+goodVersion) == 1
	})
	m := badPID.FindStringSubmatch(s.out.String())
	if m == nil || !strings.Contains(s.out.String(), "msg=\"release rolled back\"") {
		t.Fatalf("no trial of the bad release:\n%s", s.out.String())
	}
	if pid, _ := strconv.Atoi(m[1]); !gone(pid) {
		t.Fatalf("the bad release (pid %d) still runs", pid)
	}
	st := e.status(t)
	if st.State != StateRolledBack || st.Version != badVersion || !strings.Contains(st.Message, "did not report healthy within 2s") {
		t.Fatalf("after the bad trial: %+v", st)
	}
	// It is not tried again.
	if err := e.offer(t, goodVersion, badVersion, bad); !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "rolled back") {
		t.Fatalf("the rolled back release offered again: %v", err)
	}
	if f := stagedFiles(t, e.state); len(f) != 1 || f[0] != binPrefix+goodVersion {
		t.Fatalf("update directory: %v", f)
	}
	if code := s.stop(t); code != 0 {
		t.Fatalf("exit code %d after SIGTERM:\n%s", code, s.out.String())
	}
}

// TestIntegrationUpdateRollbackExited: a release that exits on trial is
// rolled back at once, and with no release installed before it the
// packaged binary runs on in the same process.
func TestIntegrationUpdateRollbackExited(t *testing.T) {
	packaged := testbuild.Agent(t)
	bad := testbuild.Main(t, "github.com/pantau-noc/pantau/agent/internal/update/testdata/badagent")
	e := newUpdateEnv(t)
	if err := e.offer(t, "dev", badVersion, bad); err != nil {
		t.Fatal(err)
	}
	s := supervise(t, []string{"BADAGENT=exit"}, packaged, "run", "--config", e.config)
	s.waitFor(t, "the packaged agent runs on after the rollback", func() bool {
		return s.count("msg=\"release rolled back\"") == 1 && s.count("msg=probing") == 1
	})
	if s.exe() != packaged || !badPID.MatchString(s.out.String()) {
		t.Fatalf("running %s:\n%s", s.exe(), s.out.String())
	}
	st := e.status(t)
	if st.State != StateRolledBack || st.Version != badVersion || !strings.Contains(st.Message, "exited (exit status 1)") {
		t.Fatalf("after the bad trial: %+v", st)
	}
	if f := stagedFiles(t, e.state); len(f) != 0 {
		t.Fatalf("update directory: %v", f)
	}
	if code := s.stop(t); code != 0 {
		t.Fatalf("exit code %d after SIGTERM:\n%s", code, s.out.String())
	}
}

// TestIntegrationUpdateStoppedDuringTrial: SIGTERM during a trial reaches
// the release, the service stops (exit 0), and the trial, interrupted
// before the release reported healthy, is rolled back, not tried again.
func TestIntegrationUpdateStoppedDuringTrial(t *testing.T) {
	packaged := testbuild.Agent(t)
	bad := testbuild.Main(t, "github.com/pantau-noc/pantau/agent/internal/update/testdata/badagent")
	e := newUpdateEnv(t)
	if err := e.offer(t, "dev", badVersion, bad); err != nil {
		t.Fatal(err)
	}
	s := supervise(t, nil, packaged, "run", "--config", e.config)
	s.waitFor(t, "the trial starts", func() bool { return badPID.MatchString(s.out.String()) })
	if code := s.stop(t); code != 0 {
		t.Fatalf("exit code %d after SIGTERM:\n%s", code, s.out.String())
	}
	pid, _ := strconv.Atoi(badPID.FindStringSubmatch(s.out.String())[1])
	if !gone(pid) {
		t.Fatalf("the release (pid %d) still runs", pid)
	}
	if st := e.status(t); st.State != StateRolledBack || !strings.Contains(st.Message, "stopped during the trial") {
		t.Fatalf("after the stop: %+v\n%s", st, s.out.String())
	}
}

// TestIntegrationUpdatePackageWins: with update.enabled false the
// packaged binary runs and leaves the staged release alone; after a
// package upgrade (another packaged binary than the one the release was
// staged over) the staged releases are discarded and the package runs.
func TestIntegrationUpdatePackageWins(t *testing.T) {
	packaged := testbuild.Agent(t)
	good := testbuild.AgentVersion(t, goodVersion)
	e := newUpdateEnv(t)
	if err := e.offer(t, "dev", goodVersion, good); err != nil {
		t.Fatal(err)
	}
	enabled := readFile(t, e.config)
	os.WriteFile(e.config, []byte(strings.Replace(string(enabled), "enabled: true", "enabled: false", 1)), 0o600)
	s := supervise(t, nil, packaged, "run", "--config", e.config)
	s.waitFor(t, "the packaged binary runs", func() bool { return s.count("msg=probing") == 1 })
	if s.exe() != packaged || s.count("update.enabled is false") != 1 || s.count("release on trial") != 0 {
		t.Fatalf("running %s:\n%s", s.exe(), s.out.String())
	}
	if code := s.stop(t); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	if st := e.status(t); st.State != StatePending {
		t.Fatalf("the staged release was touched: %+v", st)
	}

	os.WriteFile(e.config, enabled, 0o600)
	st, err := readState(Dir(e.state))
	if err != nil {
		t.Fatal(err)
	}
	st.Base = "/usr/bin/pantau-agent size=1 mtime=1"
	if err := writeState(Dir(e.state), st); err != nil {
		t.Fatal(err)
	}
	s = supervise(t, nil, packaged, "run", "--config", e.config)
	s.waitFor(t, "the upgraded package runs", func() bool { return s.count("msg=probing") == 1 })
	if s.exe() != packaged || s.count("staged releases discarded") != 1 || s.count("release on trial") != 0 {
		t.Fatalf("running %s:\n%s", s.exe(), s.out.String())
	}
	if st := e.status(t); st != (Status{}) {
		t.Fatalf("status after the upgrade: %+v", st)
	}
	if f := stagedFiles(t, e.state); len(f) != 0 {
		t.Fatalf("update directory: %v", f)
	}
	if code := s.stop(t); code != 0 {
		t.Fatalf("exit code %d", code)
	}
}
