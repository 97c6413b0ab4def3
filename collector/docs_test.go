package collector

import (
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/pantau-noc/pantau/collector/internal/config"
)

// TestReadmeYAML loads every yaml block of the README as a collector config,
// so the documented examples cannot drift from the code.
func TestReadmeYAML(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllSubmatch(b, -1)
	if len(blocks) == 0 {
		t.Fatal("README has no yaml block")
	}
	for i, m := range blocks {
		if _, err := config.Parse("README.md yaml block "+string(rune('1'+i)), m[1]); err != nil {
			t.Errorf("README yaml block %d: %v", i+1, err)
		}
	}
}

// TestReadmeLayout checks that every directory the README's layout lists
// exists.
func TestReadmeLayout(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	layout := regexp.MustCompile("(?s)## Layout\n\n```\n(.*?)```").FindSubmatch(b)
	if layout == nil {
		t.Fatal("README has no Layout block")
	}
	parent := ""
	for _, line := range strings.Split(string(layout[1]), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		dir := f[0]
		if !strings.HasPrefix(line, " ") {
			parent = strings.TrimSuffix(dir, "/")
		} else {
			dir = parent + "/" + dir
		}
		if _, err := os.Stat("../" + dir); err != nil {
			t.Errorf("README layout lists %s, which does not exist", dir)
		}
	}
}

// TestDependencyBoundaries: the agent binary must not link collector code.
func TestDependencyBoundaries(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "../agent/cmd/pantau-agent").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if strings.HasPrefix(pkg, "github.com/pantau-noc/pantau/collector") {
			t.Errorf("pantau-agent depends on %s", pkg)
		}
	}
}

// TestNoPackageImportsTheRoot: the packages of the collector (the command
// line, the demo, the engines) are below the root, which wires them; only
// the binaries' mains import it, to hand its Run to the command line.
// Tests count too: a package's tests import it no more than its code.
func TestNoPackageImportsTheRoot(t *testing.T) {
	const root = "github.com/pantau-noc/pantau/collector"
	out, err := exec.Command("go", "list", "-f",
		`{{.ImportPath}} {{join .Imports " "}} {{join .TestImports " "}} {{join .XTestImports " "}}`, "./...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		pkg := f[0]
		if pkg == root || strings.HasPrefix(pkg, root+"/cmd/") {
			continue
		}
		checked++
		if slices.Contains(f[1:], root) {
			t.Errorf("%s imports the collector root; pass what it needs in (as cli.Options.Run) or move it below the root", pkg)
		}
	}
	if checked < 10 {
		t.Fatalf("go list found only %d packages below the root:\n%s", checked, out)
	}
}
