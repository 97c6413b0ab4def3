// Package testbuild builds Pantau's binaries for tests that run them as
// processes, laid out as `make build` lays them out in bin/.
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
)

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
		if o, err := exec.Command("go", "build", "-o", out, b.pkg).CombinedOutput(); err != nil {
			return "", fmt.Errorf("build %s: %v: %s", b.pkg, err, o)
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
