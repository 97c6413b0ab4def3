package golden

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestWant: without -update a golden file is read back as it is; with
// -update got is written first (its directory made) and returned.
func TestWant(t *testing.T) {
	path := filepath.Join(t.TempDir(), "render", "x.golden")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := string(Want(t, path, []byte("new"))); got != "old" {
		t.Fatalf("Want without -update = %q, want the file's %q", got, "old")
	}
	defer func(u bool) { *update = u }(*update)
	*update = true
	path = filepath.Join(t.TempDir(), "made", "y.golden")
	if got := string(Want(t, path, []byte("new"))); got != "new" {
		t.Fatalf("Want with -update = %q, want %q", got, "new")
	}
}

// TestOneUpdateFlag: no test file of the repository defines a boolean flag
// of its own (a golden-file flag by another name); they use this package's
// -update.
func TestOneUpdateFlag(t *testing.T) {
	root := filepath.Join("..", "..")
	fset := token.NewFileSet()
	var found []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "testdata" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if c, ok := n.(*ast.CallExpr); ok {
				if s, ok := c.Fun.(*ast.SelectorExpr); ok && (s.Sel.Name == "Bool" || s.Sel.Name == "BoolVar") {
					if x, ok := s.X.(*ast.Ident); ok && x.Name == "flag" {
						found = append(found, fset.Position(c.Pos()).String())
					}
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(found) > 0 {
		t.Errorf("test files define their own boolean flags (use golden.Update, the one -update): %s", strings.Join(found, ", "))
	}
}
