// Package fleet is the agent's side of fleet management: enrolment with
// a one-time code, the files it keeps in the state directory (token,
// pinned collector certificate, fleet.json, the last remote config), and
// the OpAMP client that takes remote configs, credential rotations and
// update offers from the collector and reports the agent's state.
package fleet

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pantau-noc/pantau/agent/internal/config"
)

// State is fleet.json: what enrolment decided.
type State struct {
	CollectorURL string    `json:"collector_url"`
	OpAMPURL     string    `json:"opamp_url"`
	Agent        string    `json:"agent"`
	Site         string    `json:"site"`
	InstanceUID  string    `json:"instance_uid"` // OpAMP instance, a UUID
	EnrolledAt   time.Time `json:"enrolled_at"`
}

// Path is the file name in the state directory dir.
func Path(dir, name string) string { return filepath.Join(dir, name) }

// LoadState reads fleet.json from dir; ok is false when the agent has not
// enrolled (no file).
func LoadState(dir string) (st State, ok bool, err error) {
	b, err := os.ReadFile(Path(dir, config.FleetStateFile))
	if errors.Is(err, fs.ErrNotExist) {
		return State{}, false, nil
	}
	if err != nil {
		return State{}, false, fmt.Errorf("read the fleet state: %w", err)
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return State{}, false, fmt.Errorf("fleet state %s: %w", Path(dir, config.FleetStateFile), err)
	}
	return st, true, nil
}

// SaveState writes fleet.json to dir atomically.
func SaveState(dir string, st State) error {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	return WriteFileAtomic(Path(dir, config.FleetStateFile), append(b, '\n'), 0o644)
}

// ReadToken reads the agent's token from dir.
func ReadToken(dir string) (config.Secret, error) {
	b, err := os.ReadFile(Path(dir, config.TokenFile))
	if err != nil {
		return "", fmt.Errorf("read the agent token: %w", err)
	}
	t := config.Secret(strings.TrimSpace(string(b)))
	if t == "" {
		return "", fmt.Errorf("the agent token %s is empty", Path(dir, config.TokenFile))
	}
	return t, nil
}

// WriteToken stores the agent's token in dir (0600, atomically).
func WriteToken(dir string, t config.Secret) error {
	return WriteFileAtomic(Path(dir, config.TokenFile), []byte(t.Reveal()+"\n"), 0o600)
}

// WriteFileAtomic replaces path with data: a temporary file in the same
// directory, fsynced, renamed over path, and the directory fsynced, so a
// crash leaves the old file or the new one, never a torn one.
func WriteFileAtomic(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // after a successful rename: gone already
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("fsync %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("replace %s: %w", path, err)
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
