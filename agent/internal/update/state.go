package update

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"
)

// The states Status.State takes.
const (
	StateDownloading = "downloading" // Offer is fetching and checking a release
	StatePending     = "pending"     // staged and self-tested; on trial at the next start
	StateInstalled   = "installed"   // the trial reported healthy: committed
	StateFailed      = "failed"      // refused (signature, hash, version, key, disabled) or could not be staged
	StateRolledBack  = "rolled_back" // the trial did not report healthy in time: back to the previous version
)

// Status is what the fleet client reports as the package status of
// pantau-agent: the release it is about, its state and why.
type Status struct {
	Version string    `json:"version"`
	State   string    `json:"state"`
	Message string    `json:"message,omitempty"`
	Time    time.Time `json:"time"`
}

// staged is a release binary in the update directory.
type staged struct {
	Version string `json:"version"`
	SHA256  string `json:"sha256"` // hex
}

// trial is a staged release the launcher runs on trial at the next start.
type trial struct {
	staged
	// Started is set (and written) before the launcher starts the trial:
	// a trial found started is never started again.
	Started  bool      `json:"started,omitempty"`
	Deadline time.Time `json:"deadline,omitzero"`
}

// stateFile is <state>/update/state.json.
type stateFile struct {
	Format int `json:"format"`
	// Base identifies the packaged binary (the launcher) the staged
	// releases were installed over; when the package is upgraded or
	// reinstalled, the staged releases are discarded (the package wins).
	Base string `json:"base,omitempty"`
	// Current is the committed release the launcher execs; nil runs the
	// packaged binary. While a trial runs it is the version to go back to.
	Current *staged `json:"current,omitempty"`
	Trial   *trial  `json:"trial,omitempty"`
	Status  Status  `json:"status"`
	// RolledBack lists the versions that failed their trial, newest
	// last: they are not tried again.
	RolledBack []string `json:"rolled_back,omitempty"`
	// Refused is the last release whose signed file failed the
	// self-test (it does not run, or names another version): offered
	// again unchanged, it is refused without being downloaded again (over
	// VSAT that matters). A hash mismatch is not remembered: the file
	// served may be fixed.
	Refused *refusal `json:"refused,omitempty"`
}

type refusal struct {
	staged
	Message string `json:"message"`
}

const (
	stateFormat    = 1
	stateName      = "state.json"
	binPrefix      = "pantau-agent-"
	healthyPrefix  = "healthy-"
	downloadPrefix = ".download-"
	maxRolledBack  = 16
	maxStateBytes  = 64 << 10
	maxMessage     = 1024
)

// versionRE is what a release version may look like: it becomes part of
// a file name, so no path separators and no leading dot.
var versionRE = regexp.MustCompile(`^[0-9A-Za-z][0-9A-Za-z._+-]{0,63}$`)

func checkVersion(v string) error {
	if !versionRE.MatchString(v) {
		return fmt.Errorf("release version %q is not 1-64 letters, digits, '.', '_', '+' or '-' starting with a letter or digit", v)
	}
	return nil
}

// Dir is the update directory in the agent's state directory.
func Dir(stateDir string) string { return filepath.Join(stateDir, "update") }

func binPath(dir, version string) string { return filepath.Join(dir, binPrefix+version) }

// parseState decodes and checks a state file. Unknown fields are
// ignored (a newer release may add some); another format is an error.
func parseState(data []byte) (*stateFile, error) {
	if len(data) > maxStateBytes {
		return nil, fmt.Errorf("%d bytes, more than %d", len(data), maxStateBytes)
	}
	var s stateFile
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, err
	}
	if s.Format != stateFormat {
		return nil, fmt.Errorf("format %d, this agent reads format %d", s.Format, stateFormat)
	}
	check := func(what string, r *staged) error {
		if r == nil {
			return nil
		}
		if err := checkVersion(r.Version); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if b, err := hex.DecodeString(r.SHA256); err != nil || len(b) != 32 {
			return fmt.Errorf("%s: sha256 %q is not 64 hex digits", what, r.SHA256)
		}
		return nil
	}
	if err := check("current", s.Current); err != nil {
		return nil, err
	}
	if s.Trial != nil {
		if err := check("trial", &s.Trial.staged); err != nil {
			return nil, err
		}
	}
	if s.Refused != nil {
		if err := check("refused", &s.Refused.staged); err != nil {
			return nil, err
		}
	}
	switch s.Status.State {
	case "", StateDownloading, StatePending, StateInstalled, StateFailed, StateRolledBack:
	default:
		return nil, fmt.Errorf("unknown status state %q", s.Status.State)
	}
	if len(s.RolledBack) > maxRolledBack {
		return nil, fmt.Errorf("%d rolled back versions, more than %d", len(s.RolledBack), maxRolledBack)
	}
	for _, v := range s.RolledBack {
		if err := checkVersion(v); err != nil {
			return nil, fmt.Errorf("rolled_back: %w", err)
		}
	}
	return &s, nil
}

// readState reads the state file of dir; a missing file is an empty
// state.
func readState(dir string) (*stateFile, error) {
	data, err := os.ReadFile(filepath.Join(dir, stateName))
	if errors.Is(err, fs.ErrNotExist) {
		return &stateFile{Format: stateFormat}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the update state: %w", err)
	}
	s, err := parseState(data)
	if err != nil {
		return nil, fmt.Errorf("update state %s: %w", filepath.Join(dir, stateName), err)
	}
	return s, nil
}

// writeState replaces the state file atomically (write, fsync, rename,
// fsync the directory).
func writeState(dir string, s *stateFile) error {
	s.Format = stateFormat
	if len(s.Status.Message) > maxMessage {
		s.Status.Message = s.Status.Message[:maxMessage]
	}
	if s.Refused != nil && len(s.Refused.Message) > maxMessage {
		s.Refused.Message = s.Refused.Message[:maxMessage]
	}
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(dir, stateName), append(data, '\n'), 0o600)
}

func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return syncDir(filepath.Dir(path))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func (s *stateFile) setStatus(version, state, msg string) {
	s.Status = Status{Version: version, State: state, Message: msg, Time: time.Now().UTC()}
}

func (s *stateFile) rolledBack(version string) {
	s.RolledBack = append(slices.DeleteFunc(s.RolledBack, func(v string) bool { return v == version }), version)
	if n := len(s.RolledBack); n > maxRolledBack {
		s.RolledBack = s.RolledBack[n-maxRolledBack:]
	}
}

// ErrorMessage is the status as an OpAMP PackageStatus.ErrorMessage:
// empty unless the state is failed or rolled_back; a rollback's starts
// with "rolled back: ".
func (s Status) ErrorMessage() string {
	switch s.State {
	case StateFailed:
		return s.Message
	case StateRolledBack:
		return "rolled back: " + s.Message
	}
	return ""
}

// State returns the update status for the fleet client to report as the
// pantau-agent package status: the zero Status when no release was ever
// offered.
func State(stateDir string) (Status, error) {
	s, err := readState(Dir(stateDir))
	if err != nil {
		return Status{}, err
	}
	return s.Status, nil
}

// MarkHealthy records that version runs healthy: the fleet client calls
// it once its first status report was accepted by the collector. While
// that version is on trial, the launcher (the parent process) commits it
// when it sees the mark. It does nothing when no release was ever
// offered (there is no update directory), and is cheap to call again.
func MarkHealthy(stateDir, version string) error {
	if err := checkVersion(version); err != nil {
		return err
	}
	dir := Dir(stateDir)
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	p := filepath.Join(dir, healthyPrefix+version)
	if _, err := os.Stat(p); err == nil {
		return nil
	}
	if err := writeFileAtomic(p, []byte(time.Now().UTC().Format(time.RFC3339Nano)+"\n"), 0o600); err != nil {
		return fmt.Errorf("mark %s healthy: %w", version, err)
	}
	return nil
}

// InTrial reports whether this process is a release on trial (started by
// the launcher, which waits for MarkHealthy).
func InTrial() bool { return os.Getenv(EnvTrial) == "1" }

// cleanup removes the release binaries, health marks and leftover
// downloads that s no longer refers to.
func cleanup(dir string, s *stateFile) {
	keep := map[string]bool{stateName: true}
	if s.Current != nil {
		keep[binPrefix+s.Current.Version] = true
	}
	if s.Trial != nil {
		keep[binPrefix+s.Trial.Version] = true
		keep[healthyPrefix+s.Trial.Version] = true
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		n := e.Name()
		if keep[n] || !(strings.HasPrefix(n, binPrefix) || strings.HasPrefix(n, healthyPrefix) || strings.HasPrefix(n, downloadPrefix)) {
			continue
		}
		os.Remove(filepath.Join(dir, n))
	}
}
