// Package golden is the golden-file flag every test package shares:
// `go test ./pkg/ -run TestX -update` rewrites the golden files the tests
// it runs compare with; review the diff before committing it. Import it
// from _test.go files only (it defines the -update flag).
package golden

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files (testdata/) the selected tests compare with; review the diff")

// Update reports whether the tests run with -update.
func Update() bool { return *update }

// Want returns the golden file at path to compare got with. With -update it
// first writes got there (making its directory). A missing file fails t
// with the command that writes it.
func Want(t testing.TB, path string, got []byte) []byte {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run '%s' -update to write it)", err, t.Name())
	}
	return want
}
