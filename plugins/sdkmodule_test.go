// Package plugins holds the bundled probe plugins (http, dns, tcp) and the
// plugin SDK, plugins/sdk, which is a module of its own: a third-party plugin
// requires only github.com/pantau-noc/pantau/plugins/sdk and inherits its
// small go.mod, not the main module's Go version, gRPC, Prometheus or
// Kubernetes entries. This package's test keeps it so.
package plugins

import (
	"encoding/json"
	"go/version"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// modFile is what `go mod edit -json` prints of a go.mod.
type modFile struct {
	Module  struct{ Path string }
	Go      string
	Require []struct{ Path, Version string }
	Replace []struct {
		Old, New struct{ Path, Version string }
	}
}

func readMod(t *testing.T, dir string) modFile {
	t.Helper()
	out := goCmd(t, dir, "mod", "edit", "-json")
	var m modFile
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("go mod edit -json in %s: %v", dir, err)
	}
	return m
}

func goCmd(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	// The SDK alone, as a third party builds it: no workspace, and a go.sum
	// that must already be complete.
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=readonly")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go %s in %s: %v\n%s", strings.Join(args, " "), dir, err, out)
	}
	return string(out)
}

// heavy are module path prefixes a plugin must not inherit from the SDK.
var heavy = []string{
	"github.com/pantau-noc/pantau", // the main module (the SDK's own path is allowed)
	"github.com/prometheus/",
	"k8s.io/",
	"sigs.k8s.io/",
}

func isHeavy(path string) bool {
	if path == sdkPath || strings.HasPrefix(path, sdkPath+"/") {
		return false
	}
	for _, h := range heavy {
		if strings.HasPrefix(path, h) {
			return true
		}
	}
	return false
}

const sdkPath = "github.com/pantau-noc/pantau/plugins/sdk"

// TestSDKModuleIsSmall: plugins/sdk is its own module, with a go directive
// below the main module's, and neither its go.mod, its go.sum nor its module
// graph names the main module, Prometheus or Kubernetes; its packages and
// the example plugin build with its go.sum alone, and the main module uses
// it through a replace of ./plugins/sdk.
func TestSDKModuleIsSmall(t *testing.T) {
	const dir = "sdk"
	sdk := readMod(t, dir)
	if sdk.Module.Path != sdkPath {
		t.Fatalf("plugins/sdk/go.mod: module %q, want %q", sdk.Module.Path, sdkPath)
	}
	root := readMod(t, "..")
	if sdk.Go == "" || version.Compare("go"+sdk.Go, "go"+root.Go) >= 0 {
		t.Errorf("plugins/sdk/go.mod: go %s, want below the main module's go %s (a plugin inherits it)", sdk.Go, root.Go)
	}
	for _, r := range sdk.Require {
		if isHeavy(r.Path) {
			t.Errorf("plugins/sdk/go.mod requires %s %s: a plugin would inherit it", r.Path, r.Version)
		}
	}
	sum, err := os.ReadFile(dir + "/go.sum")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(sum), "\n") {
		if f := strings.Fields(line); len(f) > 0 && isHeavy(f[0]) {
			t.Errorf("plugins/sdk/go.sum names %s", line)
		}
	}
	// Build and list with the SDK's go.sum alone (-mod=readonly fails on a
	// missing entry): the module graph a plugin inherits.
	goCmd(t, dir, "build", "./...")
	for _, m := range strings.Fields(goCmd(t, dir, "list", "-m", "-f", "{{.Path}}", "all")) {
		if isHeavy(m) {
			t.Errorf("plugins/sdk's module graph holds %s", m)
		}
	}

	var required, replaced bool
	for _, r := range root.Require {
		required = required || r.Path == sdkPath
	}
	for _, r := range root.Replace {
		replaced = replaced || (r.Old.Path == sdkPath && r.New.Path == "./plugins/sdk")
	}
	if !required || !replaced {
		t.Errorf("go.mod: want `require %s` (%v) and `replace %s => ./plugins/sdk` (%v)", sdkPath, required, sdkPath, replaced)
	}
}
