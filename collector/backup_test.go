package collector

import (
	"path/filepath"
	"strings"
	"testing"
)

// FuzzCleanRel: a file name from a backup's manifest or the collector's
// stream is accepted only if it stays inside the directory it is written
// to. (The backup and restore test, which runs the binary, is in e2e/.)
func FuzzCleanRel(f *testing.F) {
	for _, s := range []string{"state.db", "tsdb/wal/00000001", "../etc/passwd", "/etc/passwd", "tsdb/../../x", "a//b", ".", "tsdb/./x", "a\x00b", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		rel, err := cleanRel(name)
		if err != nil {
			return
		}
		root := "/backup"
		p := filepath.Join(root, rel)
		if !strings.HasPrefix(p, root+string(filepath.Separator)) || filepath.IsAbs(rel) || strings.Contains(rel, "\x00") {
			t.Fatalf("%q accepted as %q, which leaves %s", name, rel, root)
		}
	})
}
