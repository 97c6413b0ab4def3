// Package testbuild builds Pantau's binaries for tests that run them as
// processes, laid out as `make build` lays them out in bin/: each once per
// test process, static (CGO_ENABLED=0) as released.
package testbuild

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

var (
	once sync.Once
	dir  string
	err  error

	collector = sync.OnceValues(func() (string, error) {
		d, err := os.MkdirTemp("", "pantau-testbuild-collector-")
		if err != nil {
			return "", err
		}
		bin := filepath.Join(d, "pantau-collector")
		return bin, goBuild(bin, "github.com/pantau-noc/pantau/collector/cmd/pantau-collector")
	})
)

// Collector builds pantau-collector once per test process and returns its
// path (in the system's temporary directory).
func Collector(t testing.TB) string {
	t.Helper()
	bin, err := collector()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

func goBuild(out, pkg string, flags ...string) error {
	cmd := exec.Command("go", append(append([]string{"build"}, flags...), "-o", out, pkg)...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if o, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build %s: %w: %s", pkg, err, o)
	}
	return nil
}

// Agent builds pantau-agent and the bundled http, dns and tcp plugins
// (with their SHA256SUMS, in plugins/ next to it) once per test process,
// and returns the agent's path. The directory is removed when the
// process's tests end only if the caller arranges it; it lives in the
// system's temporary directory.
func Agent(t testing.TB) string {
	t.Helper()
	once.Do(func() { dir, err = build() })
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, "pantau-agent")
}

func build() (string, error) {
	d, err := os.MkdirTemp("", "pantau-testbuild-")
	if err != nil {
		return "", err
	}
	var sums strings.Builder
	for _, b := range []struct{ out, pkg string }{
		{"pantau-agent", "github.com/pantau-noc/pantau/agent/cmd/pantau-agent"},
		{"plugins/pantau-plugin-http", "github.com/pantau-noc/pantau/plugins/http"},
		{"plugins/pantau-plugin-dns", "github.com/pantau-noc/pantau/plugins/dns"},
		{"plugins/pantau-plugin-tcp", "github.com/pantau-noc/pantau/plugins/tcp"},
	} {
		out := filepath.Join(d, b.out)
		if err := goBuild(out, b.pkg); err != nil {
			return "", err
		}
		if strings.HasPrefix(b.out, "plugins/") {
			data, err := os.ReadFile(out)
			if err != nil {
				return "", err
			}
			s := sha256.Sum256(data)
			fmt.Fprintf(&sums, "%s  %s\n", hex.EncodeToString(s[:]), filepath.Base(out))
		}
	}
	if err := os.WriteFile(filepath.Join(d, "plugins", "SHA256SUMS"), []byte(sums.String()), 0o644); err != nil {
		return "", err
	}
	return d, nil
}

// Plugin returns the path of a bundled plugin (http, dns or tcp) that
// Agent builds next to the agent.
func Plugin(t testing.TB, name string) string {
	t.Helper()
	return filepath.Join(filepath.Dir(Agent(t)), "plugins", "pantau-plugin-"+name)
}

var (
	mainsMu sync.Mutex
	mains   = map[string]func() (string, error){}
)

// Main builds the main package pkg (an import path, e.g. a test plugin
// under testdata) once per test process and returns the binary's path
// (in the system's temporary directory).
func Main(t testing.TB, pkg string) string {
	t.Helper()
	mainsMu.Lock()
	build, ok := mains[pkg]
	if !ok {
		build = sync.OnceValues(func() (string, error) {
			d, err := os.MkdirTemp("", "pantau-testbuild-main-")
			if err != nil {
				return "", err
			}
			bin := filepath.Join(d, filepath.Base(pkg))
			return bin, goBuild(bin, pkg)
		})
		mains[pkg] = build
	}
	mainsMu.Unlock()
	bin, err := build()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// AgentVersion builds pantau-agent alone (no plugins) with buildinfo.Version
// set to version, as `make build` stamps a release, once per test process
// and version, and returns its path (in the system's temporary directory):
// a second release of the agent for update tests.
func AgentVersion(t testing.TB, version string) string {
	t.Helper()
	mainsMu.Lock()
	key := "agent-version " + version
	build, ok := mains[key]
	if !ok {
		build = sync.OnceValues(func() (string, error) {
			d, err := os.MkdirTemp("", "pantau-testbuild-agent-")
			if err != nil {
				return "", err
			}
			bin := filepath.Join(d, "pantau-agent")
			return bin, goBuild(bin, "github.com/pantau-noc/pantau/agent/cmd/pantau-agent",
				"-ldflags", "-X github.com/pantau-noc/pantau/internal/buildinfo.Version="+version)
		})
		mains[key] = build
	}
	mainsMu.Unlock()
	bin, err := build()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}
