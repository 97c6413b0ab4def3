package collector

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/statedb"
)

// serveRefused runs `serve` in-process on dataDir and returns its exit
// code and stderr; a collector that starts instead fails the test.
func serveRefused(t *testing.T, dataDir string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var o, e bytes.Buffer
	code := Main(ctx, []string{"serve", "--data-dir", dataDir, "--listen-address", "127.0.0.1:0", "--log.level", "error"}, &o, &e)
	if ctx.Err() != nil {
		t.Fatalf("the collector started on a damaged state.db:\n%s", e.String())
	}
	return code, e.String()
}

// TestDamagedStateDBRefusesToStart: a state.db with a page that fails
// SQLite's quick_check, and one that is not a database at all: the
// collector refuses to start with a message about the damage that says
// how to recover, not about a writable directory.
func TestDamagedStateDBRefusesToStart(t *testing.T) {
	t.Run("damaged-page", func(t *testing.T) {
		dir := t.TempDir()
		ctx := context.Background()
		db, err := statedb.Open(ctx, dir)
		if err != nil {
			t.Fatal(err)
		}
		for i := range 400 {
			if _, _, err := db.CreateToken(ctx, fmt.Sprintf("agent-%03d-%s", i, strings.Repeat("x", 100)), nil, strings.Repeat("d", 200)); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.Check(ctx); err != nil {
			t.Fatalf("fresh database: %v", err)
		}
		db.Close()
		path := filepath.Join(dir, statedb.FileName)
		if _, err := os.Stat(path + "-wal"); err == nil {
			t.Fatal("the WAL was not checkpointed at close")
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		const page = 4096
		if len(b) < 10*page {
			t.Fatalf("state.db has only %d bytes", len(b))
		}
		// Garbage over the middle of a page in the middle of the tokens table.
		p := len(b) / page / 2
		copy(b[p*page+8:], bytes.Repeat([]byte{0xa5}, page-16))
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		code, msg := serveRefused(t, dir)
		if code != 1 || !strings.Contains(msg, "is damaged") || !strings.Contains(msg, ".recover") || !strings.Contains(msg, "backup") ||
			strings.Contains(msg, "writable directory") {
			t.Fatalf("exit %d:\n%s", code, msg)
		}
		t.Logf("refused:\n%s", msg)
	})
	t.Run("garbage", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, statedb.FileName), bytes.Repeat([]byte("not a database "), 1000), 0o600); err != nil {
			t.Fatal(err)
		}
		code, msg := serveRefused(t, dir)
		if code != 1 || !strings.Contains(msg, "is damaged") || !strings.Contains(msg, ".recover") || strings.Contains(msg, "writable directory") {
			t.Fatalf("exit %d:\n%s", code, msg)
		}
	})
}
