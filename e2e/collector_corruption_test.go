package e2e

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/tsdb"
	"github.com/prometheus/prometheus/tsdb/record"
	"github.com/prometheus/prometheus/tsdb/wlog"

	"github.com/pantau-noc/pantau/internal/testbuild"
	"github.com/pantau-noc/pantau/internal/testproc"
)

// cxSample is one sample written to the TSDB and where its records went.
type cxSample struct {
	id        string // series id as rawSeries keys it
	t         int64
	v         string
	log       string // wal or wbl: the log its sample record is in
	seg       int    // segment of its sample record
	seriesSeg int    // WAL segment of its series record
}

// buildSegmentedTSDB writes batches of new series (one in-order sample
// each, then one out-of-order sample each in a second commit, which goes
// to the WBL) into a TSDB with small log segments (the Prometheus TSDB
// the collector embeds, opened with its retention and out-of-order
// window), closes it, and
// returns every sample with the segments its records are in.
func buildSegmentedTSDB(t *testing.T, dataDir string, batches int) []cxSample {
	t.Helper()
	opts := tsdb.DefaultOptions()
	opts.RetentionDuration = (400 * 24 * time.Hour).Milliseconds()
	opts.OutOfOrderTimeWindow = (7 * 24 * time.Hour).Milliseconds()
	opts.WALSegmentSize = 128 << 10
	db, err := tsdb.Open(filepath.Join(dataDir, "tsdb"), nil, nil, opts, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	base := time.Now().Add(-30 * time.Minute).UnixMilli()
	for n := range batches {
		for _, ooo := range []bool{false, true} {
			app := db.Appender(ctx)
			for i := range 40 {
				ts, v := base+int64(n)*1000, float64(n)
				if ooo {
					ts, v = ts-20*60*1000, -float64(n)
				}
				l := labels.FromStrings("__name__", "pantau_cx_v", "b", strconv.Itoa(n), "i", strconv.Itoa(i), "pad", dwPad)
				if _, err := app.Append(0, l, ts, v); err != nil {
					t.Fatal(err)
				}
			}
			if err := app.Commit(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return decodeLogs(t, filepath.Join(dataDir, "tsdb"))
}

// decodeLogs reads the WAL and WBL segments and places every sample.
func decodeLogs(t *testing.T, dir string) []cxSample {
	t.Helper()
	series := map[uint64]struct {
		id  string
		seg int
	}{}
	var out []cxSample
	for _, log := range []string{"wal", "wbl"} {
		first, last, err := wlog.Segments(filepath.Join(dir, log))
		if err != nil {
			t.Fatal(err)
		}
		for seg := first; seg <= last && seg >= 0; seg++ {
			s, err := wlog.OpenReadSegment(wlog.SegmentName(filepath.Join(dir, log), seg))
			if err != nil {
				t.Fatal(err)
			}
			sr := wlog.NewSegmentBufReader(s)
			r := wlog.NewReader(sr)
			dec := record.NewDecoder(nil, nil)
			for r.Next() {
				switch dec.Type(r.Record()) {
				case record.Series:
					ss, err := dec.Series(r.Record(), nil)
					if err != nil {
						t.Fatal(err)
					}
					for _, x := range ss {
						var keys []string
						x.Labels.Range(func(l labels.Label) { keys = append(keys, l.Name+"="+l.Value) })
						series[uint64(x.Ref)] = struct {
							id  string
							seg int
						}{strings.Join(keys, ","), seg}
					}
				case record.Samples, record.SamplesV2:
					ss, err := dec.Samples(r.Record(), nil)
					if err != nil {
						t.Fatal(err)
					}
					for _, x := range ss {
						sr, ok := series[uint64(x.Ref)]
						if !ok {
							t.Fatalf("sample of unknown series %d in %s segment %d", x.Ref, log, seg)
						}
						out = append(out, cxSample{id: sr.id, t: x.T, v: strconv.FormatFloat(x.V, 'f', -1, 64), log: log, seg: seg, seriesSeg: sr.seg})
					}
				}
			}
			if err := r.Err(); err != nil {
				t.Fatalf("%s segment %d: %v", log, seg, err)
			}
			sr.Close()
		}
	}
	return out
}

// TestIntegrationCorruptSegmentSetAside: 64 random bytes in one WAL or
// WBL segment (of many; segment 0 too): the collector starts, the damaged
// segment is under data_dir/corrupt, every sample whose records are in
// the other segments is queryable, and the log and the metrics say what
// was set aside.
func TestIntegrationCorruptSegmentSetAside(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test (starts the collector binary)")
	}
	t.Parallel()
	bin := testbuild.Collector(t)
	for _, tc := range []struct {
		name string
		log  string
		seg  func(n int) int
	}{
		{"wal-middle", "wal", func(n int) int { return n / 3 }},
		{"wal-0", "wal", func(int) int { return 0 }},
		{"wbl-middle", "wbl", func(n int) int { return n / 2 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dataDir := t.TempDir()
			samples := buildSegmentedTSDB(t, dataDir, 600)
			logDir := filepath.Join(dataDir, "tsdb", tc.log)
			_, last, err := wlog.Segments(logDir)
			if err != nil {
				t.Fatal(err)
			}
			if last < 8 {
				t.Fatalf("only %d %s segments; the test needs many", last+1, tc.log)
			}
			k := tc.seg(last + 1)
			path := wlog.SegmentName(logDir, k)
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(uint64(k), uint64(len(data))))
			off := rng.IntN(len(data) - 64)
			for i := range 64 {
				data[off+i] = byte(rng.UintN(256))
			}
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			// The TSDB logs an out-of-order sample to the WAL and to the
			// WBL (and replays it from the WBL): a sample counts as
			// damaged if any of its records, or its series record, is in
			// the damaged segment.
			type key struct {
				id string
				t  int64
				v  string
			}
			damaged := map[key]bool{}
			for _, s := range samples {
				k0 := key{s.id, s.t, s.v}
				damaged[k0] = damaged[k0] || (s.log == tc.log && s.seg == k) || (tc.log == "wal" && s.seriesSeg == k)
			}
			var want, inDamaged int
			expect := ackedSamples{}
			for s, d := range damaged {
				if d {
					inDamaged++
					continue
				}
				want++
				expect.add(s.id, s.t, s.v)
			}
			t.Logf("%s: 64 random bytes at offset %d of segment %d of %d; %d samples elsewhere, %d in or depending on it",
				tc.name, off, k, last+1, want, inDamaged)

			// A webhook notifier turns the alert engine on: the default
			// StorageDataSetAside rule must fire.
			hooks := make(chan string, 10)
			hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				select {
				case hooks <- string(b):
				default:
				}
			}))
			defer hook.Close()
			cfgPath := filepath.Join(t.TempDir(), "collector.yml")
			os.WriteFile(cfgPath, []byte(fmt.Sprintf("notifiers:\n  - {name: hook, type: webhook, url: %q}\n", hook.URL)), 0o600)
			addr := testproc.FreePort(t)
			p := testproc.Start(t, bin, addr, "--auth.anonymous", "viewer", "--config", cfgPath, "--listen-address", addr, "--data-dir", dataDir)
			base := "http://" + addr
			n, ex := expect.missing(t, base, time.Now(), 3*time.Hour, "pantau_cx_v")
			if n > 0 {
				t.Errorf("%d of %d samples outside the damaged segment missing, e.g. %s", n, want, strings.Join(ex, "; "))
			}
			kept := filepath.Join(dataDir, "corrupt")
			var found []string
			filepath.WalkDir(kept, func(p string, d os.DirEntry, err error) error {
				if err == nil && !d.IsDir() {
					rel, _ := filepath.Rel(kept, p)
					found = append(found, rel)
				}
				return nil
			})
			if len(found) != 1 || !strings.HasSuffix(found[0], filepath.Join(tc.log, filepath.Base(path))) {
				t.Errorf("set aside under %s: %v; want the damaged %s segment %d", kept, found, tc.log, k)
			} else if b, _ := os.ReadFile(filepath.Join(kept, found[0])); string(b) != string(data) {
				t.Errorf("the set-aside copy differs from the damaged segment")
			}
			_, metrics := getText(t, base, "/metrics")
			if v := testproc.MetricValue(metrics, fmt.Sprintf(`pantau_collector_storage_corrupt_segments_total{damage="corrupt",log=%q}`, tc.log)); v != 1 {
				t.Errorf("corrupt_segments_total{log=%q} = %v, want 1", tc.log, v)
			}
			if v := testproc.MetricValue(metrics, `pantau_collector_storage_set_aside_bytes{damage="corrupt"}`); v != float64(len(data)) {
				t.Errorf("set_aside_bytes = %v, want %d", v, len(data))
			}
			if tc.name == "wal-middle" {
				deadline := time.After(90 * time.Second)
			wait:
				for {
					select {
					case b := <-hooks:
						if strings.Contains(b, "StorageDataSetAside") {
							if !strings.Contains(b, "Kolektor menyisihkan berkas penyimpanan yang rusak") {
								t.Errorf("alert message: %s", b)
							}
							break wait
						}
					case <-deadline:
						t.Errorf("StorageDataSetAside did not fire within 90 s")
						break wait
					}
				}
			}
			p.Kill() // its log is complete once it is gone
			if logs := p.Logs.String(); !strings.Contains(logs, "damaged write-log segment repaired") || !strings.Contains(logs, "samples_estimate=") || t.Failed() {
				t.Errorf("the ERROR log about the set-aside segment (or the log of a failure):\n%s", logs)
			}
			// The next start finds nothing to repair.
			p = testproc.Start(t, bin, addr, "--auth.anonymous", "viewer", "--config", cfgPath, "--listen-address", addr, "--data-dir", dataDir)
			if n2, _ := expect.missing(t, base, time.Now(), 3*time.Hour, "pantau_cx_v"); n2 != n {
				t.Errorf("second start: %d missing, first %d", n2, n)
			}
			p.Kill()
			if strings.Contains(p.Logs.String(), "repaired") {
				t.Errorf("second start repaired again:\n%s", p.Logs)
			}
		})
	}
}
