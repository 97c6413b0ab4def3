package update

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/pantau-noc/pantau/internal/buildinfo"
)

const (
	// stopGrace is how long a trial child has to stop after SIGTERM
	// before it is killed.
	stopGrace = 30 * time.Second
	// pollHealthy is how often the launcher looks for the health mark.
	pollHealthy = 200 * time.Millisecond
)

// LaunchOptions configure Launch.
type LaunchOptions struct {
	StateDir      string        // agent.state_dir
	Enabled       bool          // update.enabled
	HealthTimeout time.Duration // update.health_timeout
	// Args is the command line after the program name (such as "run",
	// "--config", "/etc/pantau/agent.yml"), given to the release.
	Args   []string
	Logger *slog.Logger
}

// Launch is the launcher at the start of `pantau-agent run`, before the
// queue is opened. Unless this process was itself started by a launcher
// (EnvLaunched), it looks at <state>/update/:
//
//   - a committed release: Launch execs it (the process becomes the
//     release; Launch does not return).
//   - a release on trial: Launch runs it as a child process (same
//     arguments, EnvLaunched=1 and EnvTrial=1), forwards SIGTERM, SIGINT
//     and SIGHUP to it, and waits until it is marked healthy
//     (MarkHealthy), it exits, or HealthTimeout passes. Healthy: the
//     release is committed, the child stopped gracefully and the release
//     exec'd. Otherwise the child is stopped (killed after 30 s) and the
//     release rolled back: the previous release is exec'd, or the
//     packaged binary runs on. A trial is started once: one found
//     started (the box restarted during it) is rolled back.
//
// Launch returns true when this process runs the agent itself, false when
// it should exit with status 0 (it was stopped by a signal during a
// trial). Problems with the update directory are logged and recorded, and
// the packaged binary runs: they never keep the agent from starting.
func Launch(ctx context.Context, o LaunchOptions) bool {
	if os.Getenv(EnvLaunched) == "1" {
		return true
	}
	dir, err := filepath.Abs(Dir(o.StateDir))
	if err != nil {
		o.Logger.Error("update directory unknown: running the packaged binary", "err", err)
		return true
	}
	path := filepath.Join(dir, stateName)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return true
	}
	l := &launcher{o: o, dir: dir, log: o.Logger.With("launcher", "update")}
	st, err := readState(dir)
	if err != nil {
		bad := path + ".bad"
		os.Rename(path, bad)
		l.log.Error("update state unreadable: set aside; running the packaged binary", "err", err, "path", bad)
		return true
	}
	if !o.Enabled {
		if st.Current != nil || st.Trial != nil {
			l.log.Warn("update.enabled is false: running the packaged binary, not the staged release", "dir", dir)
		}
		return true
	}
	if st.Status.State == StateDownloading {
		// The agent stopped during an offer: the download is gone.
		st.setStatus(st.Status.Version, StateFailed, "the agent stopped while the release was being downloaded; it is fetched again when offered again")
		if err := writeState(dir, st); err != nil {
			l.log.Error("update state not written", "err", err)
		}
	}
	if id := packagedIdentity(); st.Base != id {
		if st.Base != "" && (st.Current != nil || st.Trial != nil) {
			l.log.Warn("the packaged binary changed (package installed or upgraded): staged releases discarded",
				"version", buildinfo.Version)
			st.Current, st.Trial, st.Status = nil, nil, Status{}
		}
		st.Base = id
		if err := writeState(dir, st); err != nil {
			l.log.Error("update state not written: running the packaged binary", "err", err)
			return true
		}
	}
	if st.Trial != nil {
		return l.trial(ctx, st)
	}
	return l.execCurrent(st)
}

type launcher struct {
	o   LaunchOptions
	dir string
	log *slog.Logger
}

// packagedIdentity names the packaged binary so that a package upgrade is
// noticed: its path, size and modification time. It is this executable,
// unless a launcher started this process and said which one it is.
func packagedIdentity() string {
	if id := os.Getenv(envBase); id != "" && os.Getenv(EnvLaunched) == "1" {
		return id
	}
	exe, err := os.Executable()
	if err != nil {
		return "unknown"
	}
	return identityOf(exe)
}

func identityOf(exe string) string {
	fi, err := os.Stat(exe)
	if err != nil {
		return exe
	}
	return fmt.Sprintf("%s size=%d mtime=%d", exe, fi.Size(), fi.ModTime().UnixNano())
}

// execCurrent execs the committed release, if any and intact; it returns
// true (run the packaged binary) when there is none or it cannot be
// exec'd.
func (l *launcher) execCurrent(st *stateFile) bool {
	cleanup(l.dir, st)
	if st.Current == nil {
		return true
	}
	v := st.Current.Version
	bin := binPath(l.dir, v)
	err := verifyFile(bin, st.Current.SHA256)
	if err == nil {
		args := append([]string{bin}, l.o.Args...)
		l.log.Info("running the installed release", "release", v, "path", bin)
		err = syscall.Exec(bin, args, launchedEnv(false))
		err = fmt.Errorf("exec %s: %w", bin, err)
	}
	l.log.Error("installed release cannot run: running the packaged binary", "release", v, "err", err)
	st.Current = nil
	st.setStatus(v, StateFailed, "cannot run the installed release: "+err.Error()+"; running the packaged binary")
	if err := writeState(l.dir, st); err != nil {
		l.log.Error("update state not written", "err", err)
	}
	return true
}

func verifyFile(path, want string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		return fmt.Errorf("%s changed on disk: SHA-256 %s, staged as %s", path, got, want)
	}
	return nil
}

// rollback records the trial as rolled back and returns what runs next.
func (l *launcher) rollback(st *stateFile, reason string) bool {
	v := st.Trial.Version
	l.log.Error("release rolled back", "release", v, "reason", reason)
	st.rolledBack(v)
	st.Trial = nil
	st.setStatus(v, StateRolledBack, reason)
	if err := writeState(l.dir, st); err != nil {
		l.log.Error("update state not written", "err", err)
	}
	return l.execCurrent(st)
}

func (l *launcher) commit(st *stateFile, took time.Duration) {
	v := st.Trial.Version
	l.log.Info("release reported healthy: installed", "release", v, "after_seconds", took.Seconds())
	st.Current = &st.Trial.staged
	st.Trial = nil
	st.setStatus(v, StateInstalled, fmt.Sprintf("reported healthy %.1fs after its start", took.Seconds()))
	if err := writeState(l.dir, st); err != nil {
		l.log.Error("update state not written", "err", err)
	}
}

// trial runs the release on trial as a child process.
func (l *launcher) trial(ctx context.Context, st *stateFile) bool {
	t := st.Trial
	if t.Started {
		return l.rollback(st, "the agent was restarted during the trial, before the release reported healthy")
	}
	bin := binPath(l.dir, t.Version)
	if err := verifyFile(bin, t.SHA256); err != nil {
		return l.rollback(st, "cannot run the staged release: "+err.Error())
	}
	mark := filepath.Join(l.dir, healthyPrefix+t.Version)
	os.Remove(mark)
	timeout := l.o.HealthTimeout
	if timeout <= 0 {
		timeout = DefaultHealthTimeout
	}
	start := time.Now()
	t.Started, t.Deadline = true, start.Add(timeout).UTC()
	if err := writeState(l.dir, st); err != nil {
		// Without the record, a crash could start the trial again.
		l.log.Error("update state not written: the release is not tried; running the packaged binary", "err", err)
		return true
	}
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	defer signal.Stop(sigs)
	cmd := exec.Command(bin, l.o.Args...)
	cmd.Env = launchedEnv(true)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	cmd.SysProcAttr = childAttr()
	if err := cmd.Start(); err != nil {
		return l.rollback(st, fmt.Sprintf("cannot start the release: %v", err))
	}
	log := l.log.With("release", t.Version, "pid", cmd.Process.Pid)
	log.Info("release on trial", "health_timeout_seconds", timeout.Seconds())
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop := func() {
		cmd.Process.Signal(syscall.SIGTERM)
		grace := time.NewTimer(stopGrace)
		defer grace.Stop()
		select {
		case <-exited:
		case <-grace.C:
			log.Warn("release did not stop in time: killed", "grace_seconds", stopGrace.Seconds())
			cmd.Process.Kill()
			<-exited
		}
	}
	healthy := func() bool { _, err := os.Stat(mark); return err == nil }
	tick := time.NewTicker(pollHealthy)
	defer tick.Stop()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	done := ctx.Done()
	stopping := false
	for {
		select {
		case <-done:
			done = nil
			stopping = true
			cmd.Process.Signal(syscall.SIGTERM)
		case s := <-sigs:
			log.Info("signal passed to the release on trial", "signal", s.String())
			cmd.Process.Signal(s)
			if s != syscall.SIGHUP {
				stopping = true
			}
		case err := <-exited:
			if healthy() {
				l.commit(st, time.Since(start))
				if stopping {
					return false
				}
				return l.execCurrent(st)
			}
			if stopping {
				l.rollback(st, "the agent was stopped during the trial, before the release reported healthy")
				return false
			}
			return l.rollback(st, fmt.Sprintf("the release exited (%v) before it reported healthy", err))
		case <-tick.C:
			if !healthy() {
				continue
			}
			l.commit(st, time.Since(start))
			stop()
			if stopping {
				return false
			}
			return l.execCurrent(st)
		case <-deadline.C:
			if healthy() {
				continue // the tick commits it
			}
			stop()
			return l.rollback(st, fmt.Sprintf("the release did not report healthy within %s (update.health_timeout)", timeout))
		}
	}
}
