package e2e

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/tsdb"
	_ "modernc.org/sqlite" // the "sqlite" driver, to read the copies of state.db

	"github.com/pantau-noc/pantau/internal/testbuild"
	"github.com/pantau-noc/pantau/internal/testproc"
)

// stateRows reads a table of a state.db as sorted text rows.
func stateRows(t *testing.T, path, query string) []string {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(query)
	if err != nil {
		t.Fatalf("%s on %s: %v", query, path, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprint(vals...))
	}
	sort.Strings(out)
	return out
}

// TestIntegrationBackupRestore: a backup taken while writes go on,
// restored into a new directory, starts a collector that has every write
// acknowledged before the backup began, with the same query results for
// that time and the same tokens and minute states; every batch id the
// copy of state.db holds has its samples in the copy of the TSDB. Restore
// refuses a live data directory and a damaged backup; a backup with the
// collector stopped is the same again.
func TestIntegrationBackupRestore(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test (starts the collector binary)")
	}
	t.Parallel()
	bin := testbuild.Collector(t)
	dir := t.TempDir()
	inv := filepath.Join(dir, "inventory.yml")
	if err := os.WriteFile(inv, []byte(slaTestInventory), 0o644); err != nil {
		t.Fatal(err)
	}
	dataDir := filepath.Join(dir, "data")
	cfg := filepath.Join(dir, "collector.yml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf("data_dir: %s\ninventory: %s\n", dataDir, inv)), 0o644); err != nil {
		t.Fatal(err)
	}
	tok := tokenCreate(t, bin, "--config", cfg, "--agent", "bk", "--site", "dinkes")
	tokenCreate(t, bin, "--config", cfg, "--agent", "other", "--description", "kept by the backup")
	prepopulate(t, dataDir) // 6 h of data in blocks
	addr := testproc.FreePort(t)
	base := "http://" + addr
	p := testproc.Start(t, bin, addr, "--auth.anonymous", "viewer", "--config", cfg, "--listen-address", addr)

	t0 := time.Now().Add(-time.Hour).Truncate(time.Minute)
	var (
		mu      sync.Mutex
		acked   = map[int]time.Time{} // batch -> when acknowledged
		stop    = make(chan struct{})
		stopped = make(chan struct{})
	)
	body := func(n int) []byte {
		var b bytes.Buffer
		ts := t0.Add(time.Duration(n) * 10 * time.Second).Unix()
		fmt.Fprintf(&b, "icmp,target=127.0.0.2 packets_sent=5u,packets_received=5u,loss_ratio=0,rtt_avg_seconds=0.004,up=1i %d\n", ts)
		for i := range 20 {
			fmt.Fprintf(&b, "bk,b=%d,i=%d v=%d %d\n", n, i, n, ts)
		}
		// Older than these series' newest samples: out of order (the WBL).
		for i := range 5 {
			fmt.Fprintf(&b, "bko,i=%d v=%d %d\nbko,i=%d v=-%d %d\n", i, n, ts, i, n, ts-90*60)
		}
		return b.Bytes()
	}
	go func() {
		defer close(stopped)
		for n := 0; n < 350; n++ {
			select {
			case <-stop:
				return
			default:
			}
			req := body(n)
			code, _, err := postPrecision(base, tok, fmt.Sprintf("bk-%d", n), req, "s")
			if err != nil || code != 204 {
				t.Errorf("batch %d: %d %v", n, code, err)
				return
			}
			mu.Lock()
			acked[n] = time.Now()
			mu.Unlock()
		}
	}()
	testproc.WaitFor(t, 30*time.Second, "100 acknowledged batches", func() bool { mu.Lock(); defer mu.Unlock(); return len(acked) >= 100 })
	if _, m := getText(t, base, "/metrics"); testproc.MetricValue(m, "pantau_collector_storage_blocks") < 2 {
		t.Fatalf("no blocks to back up:\n%s", testproc.GrepLines(m, "pantau_collector_storage_blocks"))
	}
	bak := filepath.Join(dir, "backup-1")
	mu.Lock()
	before := len(acked) // batches 0..before-1 acknowledged before the backup began
	mu.Unlock()
	code, msg := execCollector(t, bin, "backup", "--config", cfg, "--out", bak)
	if code != 0 || !strings.Contains(msg, "TSDB online") {
		p.Kill()
		t.Fatalf("backup while writing: exit %d: %s\n%s", code, msg, p.Logs)
	}
	t.Logf("%s", strings.TrimSpace(msg))
	time.Sleep(300 * time.Millisecond)
	close(stop)
	<-stopped
	mu.Lock()
	t.Logf("%d batches acknowledged before the backup, %d in all", before, len(acked))
	mu.Unlock()

	// Restore refuses a live data directory, a damaged backup, a missing manifest.
	if code, msg := execCollector(t, bin, "restore", "--from", bak, "--data-dir", dataDir); code == 0 || !strings.Contains(msg, "running") {
		t.Errorf("restore into the running collector's directory: exit %d: %s", code, msg)
	}
	damaged := filepath.Join(dir, "backup-damaged")
	copyTree(t, bak, damaged)
	corruptOneTSDBFile(t, damaged)
	if code, msg := execCollector(t, bin, "restore", "--from", damaged, "--data-dir", filepath.Join(dir, "r-damaged")); code == 0 || !strings.Contains(msg, "damaged") {
		t.Errorf("restore of a damaged backup: exit %d: %s", code, msg)
	}
	os.Remove(filepath.Join(damaged, "manifest.json"))
	if code, msg := execCollector(t, bin, "restore", "--from", damaged, "--data-dir", filepath.Join(dir, "r-damaged")); code == 0 || !strings.Contains(msg, "not a complete backup") {
		t.Errorf("restore without manifest: exit %d: %s", code, msg)
	}

	restored := filepath.Join(dir, "restored")
	if code, msg := execCollector(t, bin, "restore", "--from", bak, "--data-dir", restored); code != 0 {
		t.Fatalf("restore: exit %d: %s", code, msg)
	}
	if code, msg := execCollector(t, bin, "restore", "--from", bak, "--data-dir", restored); code == 0 || !strings.Contains(msg, "already holds data") {
		t.Errorf("restore over a restored directory: exit %d: %s", code, msg)
	}
	// Same tokens; the copy's batch ids and minute states are a consistent
	// earlier state of the original's.
	orig := filepath.Join(dataDir, "state.db")
	copyDB := filepath.Join(restored, "state.db")
	if a, b := stateRows(t, orig, "SELECT id, agent, sites, hash, description FROM tokens"), stateRows(t, copyDB, "SELECT id, agent, sites, hash, description FROM tokens"); fmt.Sprint(a) != fmt.Sprint(b) || len(a) != 2 {
		t.Errorf("tokens differ:\n%v\n%v", a, b)
	}
	copyBatches := stateRows(t, copyDB, "SELECT batch FROM batches")
	if len(copyBatches) < before {
		t.Errorf("the copy holds %d batch ids; %d were acknowledged before the backup", len(copyBatches), before)
	}
	copyMinutes := stateRows(t, copyDB, "SELECT kind, id, day FROM minutes")
	if len(copyMinutes) == 0 {
		t.Error("no minute states in the copy")
	}

	addr2 := testproc.FreePort(t)
	base2 := "http://" + addr2
	p2 := testproc.Start(t, bin, addr2, "--auth.anonymous", "viewer", "--listen-address", addr2, "--data-dir", restored, "--config", cfg)
	at := time.Now()
	got := rawSeries(t, base2, "pantau_bk_v", at, 7*time.Hour, "agent")
	has := map[string]bool{}
	for id, ss := range got {
		for _, s := range ss {
			has[fmt.Sprintf("%s@%d=%s", id, s.T, s.V)] = true
		}
	}
	for id, ss := range rawSeries(t, base2, "pantau_bko_v", at, 7*time.Hour, "agent") {
		for _, s := range ss {
			has[fmt.Sprintf("%s@%d=%s", id, s.T, s.V)] = true
		}
	}
	missing, checked := 0, 0
	for _, sel := range []string{"pantau_bk_v", "pantau_bko_v"} {
		for id, ss := range rawSeries(t, base, sel, at, 7*time.Hour, "agent") {
			for _, s := range ss {
				var b int
				fmt.Sscanf(strings.TrimPrefix(s.V, "-"), "%d", &b)
				if b < before {
					checked++
					if !has[fmt.Sprintf("%s@%d=%s", id, s.T, s.V)] {
						missing++
					}
				}
			}
		}
	}
	if missing > 0 || checked < before*30 {
		t.Errorf("%d of %d samples acknowledged before the backup missing from the restored collector", missing, checked)
	}
	// Every batch id in the copy has all its samples.
	for _, row := range copyBatches {
		var n int
		fmt.Sscanf(row, "bk-%d", &n)
		cnt := 0
		for id, ss := range got {
			if strings.Contains(id, fmt.Sprintf(",b=%d,", n)) {
				cnt += len(ss)
			}
		}
		if cnt != 20 {
			t.Errorf("batch %s is recorded in the copy of state.db but has %d of 20 samples in the copy of the TSDB", row, cnt)
		}
	}
	// The same query answers the same for the time before the backup.
	q := fmt.Sprintf(`sum(count_over_time({__name__=~"pantau_(bk|pre)_v"}[%ds]))`, int(9*time.Hour/time.Second))
	end := t0.Add(time.Duration(before-1) * 10 * time.Second).Add(time.Second)
	a := rawQuery(t, base, q, end)
	b := rawQuery(t, base2, q, end)
	if a != b || a == "" {
		t.Errorf("%s: original %s, restored %s", q, a, b)
	}
	p2.Kill()

	// With the collector stopped the backup copies the files; restored, it
	// answers exactly as the original.
	p.Cmd.Process.Signal(os.Interrupt)
	p.Cmd.Wait()
	bak2 := filepath.Join(dir, "backup-2")
	if code, msg := execCollector(t, bin, "backup", "--config", cfg, "--out", bak2); code != 0 || !strings.Contains(msg, "TSDB offline") {
		t.Fatalf("backup with the collector stopped: exit %d: %s", code, msg)
	}
	restored2 := filepath.Join(dir, "restored-2")
	if code, msg := execCollector(t, bin, "restore", "--from", bak2, "--data-dir", restored2); code != 0 {
		t.Fatalf("restore: exit %d: %s", code, msg)
	}
	for _, tbl := range []string{"SELECT * FROM tokens", "SELECT * FROM batches", "SELECT * FROM minutes"} {
		if a, b := stateRows(t, orig, tbl), stateRows(t, filepath.Join(restored2, "state.db"), tbl); fmt.Sprint(a) != fmt.Sprint(b) {
			t.Errorf("%s differs after the offline backup", tbl)
		}
	}
	// What the daily timer runs: dated directories, the newest 2 kept.
	daily := filepath.Join(dir, "daily")
	for i := range 3 {
		if i > 0 {
			time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second)))
		}
		if code, msg := execCollector(t, bin, "backup", "--config", cfg, "--out", daily, "--dated", "--keep", "2"); code != 0 {
			t.Fatalf("backup --dated: exit %d: %s", code, msg)
		}
	}
	if ents, _ := os.ReadDir(daily); len(ents) != 2 {
		t.Errorf("--keep 2 left %d backups", len(ents))
	}
	p = testproc.Start(t, bin, addr, "--auth.anonymous", "viewer", "--listen-address", addr, "--config", cfg)
	p3 := testproc.Start(t, bin, addr2, "--auth.anonymous", "viewer", "--listen-address", addr2, "--data-dir", restored2, "--config", cfg)
	if a, b := rawSeries(t, base, "pantau_pre_v", at, 9*time.Hour), rawSeries(t, base2, "pantau_pre_v", at, 9*time.Hour); fmt.Sprint(a) != fmt.Sprint(b) || sampleCount(a) < 6*60*20 {
		t.Errorf("blocks: original %d samples, restored %d", sampleCount(a), sampleCount(b))
	}
	for _, sel := range []string{"pantau_bk_v", "pantau_bko_v", "pantau_icmp_up", "pantau_pre_v"} {
		a := rawSeries(t, base, sel, at, 9*time.Hour, "agent")
		b := rawSeries(t, base2, sel, at, 9*time.Hour, "agent")
		if fmt.Sprint(a) != fmt.Sprint(b) || sampleCount(a) == 0 {
			t.Errorf("%s: original %d samples, restored %d", sel, sampleCount(a), sampleCount(b))
		}
	}
	p3.Kill()
	p.Kill()
}

// prepopulate writes 6 hours of 20 series (pantau_pre_v), ending 2 h ago,
// into the TSDB of dataDir and compacts them into blocks.
func prepopulate(t *testing.T, dataDir string) {
	t.Helper()
	opts := tsdb.DefaultOptions()
	opts.RetentionDuration = (400 * 24 * time.Hour).Milliseconds()
	opts.OutOfOrderTimeWindow = (7 * 24 * time.Hour).Milliseconds()
	db, err := tsdb.Open(filepath.Join(dataDir, "tsdb"), nil, nil, opts, nil)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now().Add(-8 * time.Hour).Truncate(time.Minute)
	for m := range 6 * 60 {
		app := db.Appender(context.Background())
		for i := range 20 {
			if _, err := app.Append(0, labels.FromStrings("__name__", "pantau_pre_v", "i", strconv.Itoa(i)), start.Add(time.Duration(m)*time.Minute).UnixMilli(), float64(m)); err != nil {
				t.Fatal(err)
			}
		}
		if err := app.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Compact(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := len(db.Blocks()); n < 2 {
		t.Fatalf("%d blocks", n)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

func postPrecision(base, tok, batch string, body []byte, prec string) (int, string, error) {
	return postWith(context.Background(), base+"/api/v2/write?precision="+prec, tok, batch, body)
}

// copyTree copies a directory tree.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// corruptOneTSDBFile flips a byte in the largest file under tsdb/.
func corruptOneTSDBFile(t *testing.T, dir string) {
	t.Helper()
	var big string
	var size int64
	filepath.WalkDir(filepath.Join(dir, "tsdb"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, _ := d.Info(); fi.Size() > size {
				big, size = p, fi.Size()
			}
		}
		return nil
	})
	b, _ := os.ReadFile(big)
	b[len(b)/2] ^= 0xff
	os.WriteFile(big, b, 0o644)
}

// rawQuery returns the first value of an instant query's result, as text.
func rawQuery(t *testing.T, base, q string, at time.Time) string {
	t.Helper()
	u := base + "/api/v1/query?" + url.Values{"query": {q}, "time": {fmt.Sprintf("%.3f", float64(at.UnixMilli())/1e3)}}.Encode()
	res, err := get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var r struct {
		Data struct {
			Result []struct {
				Value [2]any
			}
		}
	}
	if err := json.NewDecoder(res.Body).Decode(&r); err != nil || len(r.Data.Result) == 0 {
		return ""
	}
	return fmt.Sprint(r.Data.Result[0].Value[1])
}
