package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	pstorage "github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/prometheus/prometheus/tsdb/chunks"
	"github.com/prometheus/prometheus/tsdb/record"
	"github.com/prometheus/prometheus/tsdb/wlog"
	"github.com/prometheus/prometheus/util/compression"
)

// sampleRecs returns n encoded sample records of size rough bytes each,
// the i-th holding samples with value i.
func sampleRecs(n, perRec int) [][]byte {
	var enc record.Encoder
	var out [][]byte
	for i := range n {
		var ss []record.RefSample
		for j := range perRec {
			ss = append(ss, record.RefSample{Ref: chunks.HeadSeriesRef(j + 1), T: int64(i*1000 + j), V: float64(i)})
		}
		out = append(out, enc.Samples(ss, nil))
	}
	return out
}

// writeLog writes recs as segment 0 of a log in dir and returns its path.
func writeLog(t *testing.T, dir string, recs [][]byte) string {
	t.Helper()
	w, err := wlog.NewSize(nil, nil, dir, 1<<30, compression.None)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if err := w.Log(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return wlog.SegmentName(dir, 0)
}

func TestSalvageKeepsRecordsAroundDamage(t *testing.T) {
	// Records of ~5 KB and one of ~80 KB (three pages).
	recs := sampleRecs(40, 400)
	recs = slices.Insert(recs, 20, sampleRecs(1, 7000)[0])
	path := writeLog(t, t.TempDir(), recs)
	data, _ := os.ReadFile(path)

	s := salvage(data)
	if s.damaged || s.torn || len(s.recs) != len(recs) || s.unreadable != 0 {
		t.Fatalf("intact segment: damaged=%v torn=%v %d of %d records, %d unreadable", s.damaged, s.torn, len(s.recs), len(recs), s.unreadable)
	}
	for i := range recs {
		if !bytes.Equal(s.recs[i], recs[i]) {
			t.Fatalf("record %d differs", i)
		}
	}

	// 64 bytes of garbage in the middle of page 3.
	bad := bytes.Clone(data)
	for i := range 64 {
		bad[3*wlPageSize+1000+i] ^= 0x5a
	}
	if _, err := readRecords(writeFile(t, bad)); err == nil {
		t.Fatal("the reader does not see the damage")
	}
	s = salvage(bad)
	if !s.damaged || s.torn {
		t.Fatalf("damaged=%v torn=%v", s.damaged, s.torn)
	}
	lost := len(recs) - len(s.recs)
	if lost < 1 || lost > 3 {
		t.Fatalf("lost %d records to 64 bytes in one page, want 1 to 3", lost)
	}
	// What was kept is in order, and the last records are all there.
	if !bytes.Equal(s.recs[len(s.recs)-1], recs[len(recs)-1]) || !bytes.Equal(s.recs[0], recs[0]) {
		t.Fatal("first or last record lost")
	}
	if s.unreadable < 64 || s.unreadable > 3*wlPageSize {
		t.Fatalf("unreadable %d bytes", s.unreadable)
	}

	// A write cut short inside the big record: torn, nothing else lost.
	cut := bytes.Clone(data)
	big := 0
	for off := 0; off < len(data); off += wlPageSize {
		if data[off]&fragTypeMask == fragMiddle {
			big = off
			break
		}
	}
	if big == 0 {
		t.Fatal("no middle fragment")
	}
	cut = cut[:big+100]
	s = salvage(cut)
	if s.damaged || !s.torn || len(s.recs) != 20 {
		t.Fatalf("cut inside record 20: damaged=%v torn=%v %d records", s.damaged, s.torn, len(s.recs))
	}
}

func writeFile(t *testing.T, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "00000000")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// tsdbDir makes a TSDB directory with WAL segments 0..n-1 of recs each
// and returns it.
func tsdbDir(t *testing.T, n int, recs [][]byte) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "tsdb")
	for i := range n {
		tmp := t.TempDir()
		p := writeLog(t, tmp, recs)
		os.MkdirAll(filepath.Join(dir, "wal"), 0o755)
		if err := os.Rename(p, wlog.SegmentName(filepath.Join(dir, "wal"), i)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestRepairSetsAsideAndKeepsNewerSegments(t *testing.T) {
	recs := sampleRecs(30, 300)
	dir := tsdbDir(t, 5, recs)
	corrupt := filepath.Join(filepath.Dir(dir), "corrupt")
	seg1 := wlog.SegmentName(filepath.Join(dir, "wal"), 1)
	orig, _ := os.ReadFile(seg1)
	bad := bytes.Clone(orig)
	copy(bad[wlPageSize+500:], bytes.Repeat([]byte{0xff}, 64))
	os.WriteFile(seg1, bad, 0o644)

	r := newRepairer(dir, corrupt, time.Date(2026, 10, 1, 2, 3, 4, 0, time.UTC), slog.New(slog.DiscardHandler))
	if err := r.run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(r.out) != 1 || r.out[0].File != filepath.Join("wal", "00000001") || r.out[0].Torn || r.out[0].Samples == 0 {
		t.Fatalf("set aside: %+v", r.out)
	}
	kept, _ := os.ReadFile(filepath.Join(corrupt, "20261001T020304Z", "wal", "00000001"))
	if !bytes.Equal(kept, bad) {
		t.Fatal("the original is not kept as it was")
	}
	got, err := readRecords(seg1)
	if err != nil {
		t.Fatalf("repaired segment: %v", err)
	}
	if len(got) < len(recs)-2 || len(got) >= len(recs) {
		t.Fatalf("repaired segment has %d of %d records", len(got), len(recs))
	}
	for i := range 5 {
		if i == 1 {
			continue
		}
		got, err := readRecords(wlog.SegmentName(filepath.Join(dir, "wal"), i))
		if err != nil || len(got) != len(recs) {
			t.Fatalf("segment %d: %d records, %v", i, len(got), err)
		}
	}
	// Nothing left behind; a second run changes nothing.
	if _, err := os.Stat(filepath.Join(dir, "wal", repairTmpDir)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("temporary directory left: %v", err)
	}
	r2 := newRepairer(dir, corrupt, time.Now(), slog.New(slog.DiscardHandler))
	if err := r2.run(context.Background()); err != nil || len(r2.out) != 0 {
		t.Fatalf("second run: %v %+v", err, r2.out)
	}
}

// TestRepairRestoresInterruptedPrometheusRepair: Prometheus's repair
// renamed segment 2 to 00000002.repair and was writing a new 00000002
// when it stopped (the disk was full): the data is restored from the
// .repair file, not lost.
func TestRepairRestoresInterruptedPrometheusRepair(t *testing.T) {
	recs := sampleRecs(20, 300)
	dir := tsdbDir(t, 3, recs)
	wal := filepath.Join(dir, "wal")
	seg2 := wlog.SegmentName(wal, 2)
	// The original was torn at its end: what made Prometheus repair it.
	data, _ := os.ReadFile(seg2)
	torn := append(bytes.Clone(data[:len(data)-wlPageSize]), data[len(data)-wlPageSize:len(data)-wlPageSize+200]...)
	os.WriteFile(seg2+".repair", torn, 0o644)
	os.WriteFile(seg2, nil, 0o644)
	// And a leftover of our own repair.
	os.MkdirAll(filepath.Join(wal, repairTmpDir), 0o755)
	os.WriteFile(filepath.Join(wal, repairTmpDir, "00000000"), []byte("partial"), 0o644)

	corrupt := filepath.Join(filepath.Dir(dir), "corrupt")
	r := newRepairer(dir, corrupt, time.Now(), slog.New(slog.DiscardHandler))
	if err := r.run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(seg2 + ".repair"); !errors.Is(err, os.ErrNotExist) {
		t.Fatal(".repair file still there")
	}
	if _, err := os.Stat(filepath.Join(wal, repairTmpDir)); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("temporary directory still there")
	}
	got, err := readRecords(seg2)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) < len(recs)-2 {
		t.Fatalf("segment 2 has %d of %d records after restoring the interrupted repair", len(got), len(recs))
	}
	if len(r.out) != 1 || !r.out[0].Torn {
		t.Fatalf("set aside %+v; want the torn segment 2", r.out)
	}
}

// TestRepairCheckpoint: a damaged checkpoint is repaired like a segment
// (Prometheus would delete every WAL segment after the checkpoint's
// index 0 instead).
func TestRepairCheckpoint(t *testing.T) {
	recs := sampleRecs(20, 300)
	dir := tsdbDir(t, 3, recs)
	cp := wlog.CheckpointDir(filepath.Join(dir, "wal"), 0)
	os.MkdirAll(cp, 0o755)
	p := writeLog(t, t.TempDir(), recs)
	data, _ := os.ReadFile(p)
	data[100] ^= 0xff
	os.WriteFile(filepath.Join(cp, "00000000"), data, 0o644)
	os.Remove(wlog.SegmentName(filepath.Join(dir, "wal"), 0)) // as truncation does

	corrupt := filepath.Join(filepath.Dir(dir), "corrupt")
	r := newRepairer(dir, corrupt, time.Now(), slog.New(slog.DiscardHandler))
	if err := r.run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(r.out) != 1 || r.out[0].File != filepath.Join("wal", "checkpoint.00000000", "00000000") || logOf(r.out[0].File) != "checkpoint" {
		t.Fatalf("set aside %+v", r.out)
	}
	if _, err := readRecords(filepath.Join(cp, "00000000")); err != nil {
		t.Fatal(err)
	}
}

// TestRepairChunksHead: a head chunk file that fails its checksum is moved
// under corrupt/ with every newer one (Prometheus deletes them; their
// chunks are in the WAL).
func TestRepairChunksHead(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tsdb")
	cdir := filepath.Join(dir, "chunks_head")
	cdm, err := chunks.NewChunkDiskMapper(nil, cdir, chunkenc.NewPool(), chunks.DefaultWriteBufferSize, 0)
	if err != nil {
		t.Fatal(err)
	}
	for f := range 3 {
		for i := range 10 {
			c := chunkenc.NewXORChunk()
			a, _ := c.Appender()
			for j := range 100 {
				a.Append(0, int64(j), float64(i))
			}
			cdm.WriteChunk(chunks.HeadSeriesRef(i+1), 0, 99, c, false, func(err error) {
				if err != nil {
					t.Error(err)
				}
			})
		}
		if f < 2 {
			cdm.CutNewFile()
		}
	}
	cdm.Close()
	ents, _ := os.ReadDir(cdir)
	if len(ents) != 3 {
		t.Fatalf("%d chunk files", len(ents))
	}
	second := filepath.Join(cdir, ents[1].Name())
	b, _ := os.ReadFile(second)
	b[100] ^= 0xff
	os.WriteFile(second, b, 0o644)

	corrupt := filepath.Join(filepath.Dir(dir), "corrupt")
	r := newRepairer(dir, corrupt, time.Now(), slog.New(slog.DiscardHandler))
	if err := r.run(context.Background()); err != nil {
		t.Fatal(err)
	}
	left, _ := os.ReadDir(cdir)
	if len(left) != 1 || len(r.out) != 2 {
		t.Fatalf("left %d chunk files, set aside %+v", len(left), r.out)
	}
}

// TestRepairRefusesWithoutSpace: with no room for the repaired copy the
// repair stops with a message saying to free space, and leaves the files
// as they were.
func TestRepairRefusesWithoutSpace(t *testing.T) {
	if testing.Short() {
		t.Skip("mounts a tmpfs")
	}
	if os.Geteuid() != 0 {
		t.Fatal("this test mounts a small tmpfs: run the tests as root (CI does)")
	}
	mnt := t.TempDir()
	if err := syscall.Mount("tmpfs", mnt, "tmpfs", 0, "size=4m"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Unmount(mnt, 0) })
	recs := sampleRecs(60, 300)
	src := tsdbDir(t, 1, recs)
	dir := filepath.Join(mnt, "tsdb")
	os.MkdirAll(filepath.Join(dir, "wal"), 0o755)
	data, _ := os.ReadFile(wlog.SegmentName(filepath.Join(src, "wal"), 0))
	data[wlPageSize+10] ^= 0xff
	seg := wlog.SegmentName(filepath.Join(dir, "wal"), 0)
	os.WriteFile(seg, data, 0o644)
	f, _ := os.Create(filepath.Join(mnt, "filler"))
	f.Write(make([]byte, 8<<20))
	f.Close()

	r := newRepairer(dir, filepath.Join(mnt, "corrupt"), time.Now(), slog.New(slog.DiscardHandler))
	err := r.run(context.Background())
	var ns *NoSpaceError
	if !errors.As(err, &ns) {
		t.Fatalf("got %v, want NoSpaceError", err)
	}
	t.Log(err)
	after, _ := os.ReadFile(seg)
	if !bytes.Equal(after, data) {
		t.Fatal("the segment changed")
	}
	ents, _ := os.ReadDir(filepath.Join(dir, "wal"))
	if len(ents) != 1 {
		t.Fatalf("left behind: %v", ents)
	}
}

// TestStoreRecoversAndRefsFollowTheReopen fills a small tmpfs until a
// commit fails: Sync reports ErrNotDurable for that request and later
// ones; after space is freed the store reopens the TSDB and acknowledges
// again, and a series ref cached before the reopen still names its own
// series.
func TestStoreRecoversAndRefsFollowTheReopen(t *testing.T) {
	if testing.Short() {
		t.Skip("mounts a tmpfs")
	}
	if os.Geteuid() != 0 {
		t.Fatal("this test mounts a small tmpfs: run the tests as root (CI does)")
	}
	mnt := t.TempDir()
	if err := syscall.Mount("tmpfs", mnt, "tmpfs", 0, "size=8m"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Unmount(mnt, 0) })
	st, _ := runStore(t, Options{Dir: filepath.Join(mnt, "tsdb"), Retention: time.Hour * 24 * 400, OutOfOrderWindow: time.Hour * 24,
		Fsync: true, Logger: slog.New(slog.DiscardHandler)})

	now := time.Now().UnixMilli()
	a := labels.FromStrings("__name__", "a")
	write := func(rctx context.Context, ref uint64, l labels.Labels, ts int64) (uint64, error) {
		app := st.Appender(rctx)
		r, err := app.Append(storageRef(ref), l, ts, 1)
		if err != nil {
			t.Fatal(err)
		}
		app.Commit()
		return uint64(r), st.Sync(rctx, nil)
	}
	refA, err := write(context.Background(), 0, a, now-1000)
	if err != nil {
		t.Fatal(err)
	}
	// Fill the file system, then write big new series until one fails.
	f, _ := os.Create(filepath.Join(mnt, "filler"))
	f.Write(make([]byte, 8<<20))
	f.Close()
	pad := string(bytes.Repeat([]byte("x"), 2000))
	var failed error
	for i := 0; i < 2000 && failed == nil; i++ {
		rctx, rcancel := context.WithCancel(context.Background())
		_, failed = write(rctx, 0, labels.FromStrings("__name__", "big", "i", strconv.Itoa(i), "pad", pad), now)
		rcancel()
	}
	if !errors.Is(failed, ErrNotDurable) {
		t.Fatalf("writes into a full disk: %v", failed)
	}
	if ok, reason, _ := st.Writable(); ok || reason == "" {
		t.Fatal("store still writable")
	}
	if _, err := write(context.Background(), refA, a, now); !errors.Is(err, ErrNotDurable) {
		t.Fatalf("write while not writable: %v", err)
	}
	os.Remove(filepath.Join(mnt, "filler"))
	deadline := time.Now().Add(30 * time.Second)
	for ok, _, _ := st.Writable(); !ok; ok, _, _ = st.Writable() {
		if time.Now().After(deadline) {
			t.Fatal("store did not recover")
		}
		time.Sleep(50 * time.Millisecond)
	}
	// New series take refs the failed commits' series had in memory.
	for i := range 50 {
		if _, err := write(context.Background(), 0, labels.FromStrings("__name__", "new", "i", strconv.Itoa(i)), now); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := write(context.Background(), refA, a, now+1000); err != nil {
		t.Fatal(err)
	}
	q, err := st.Querier(math.MinInt64, math.MaxInt64)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	ss := q.Select(context.Background(), false, nil, labels.MustNewMatcher(labels.MatchEqual, "__name__", "a"))
	var ts []int64
	for ss.Next() {
		it := ss.At().Iterator(nil)
		for it.Next() != chunkenc.ValNone {
			tt, _ := it.At()
			ts = append(ts, tt)
		}
	}
	if fmt.Sprint(ts) != fmt.Sprint([]int64{now - 1000, now + 1000}) {
		t.Fatalf("series a has samples at %v, want %v", ts, []int64{now - 1000, now + 1000})
	}
}

func storageRef(r uint64) pstorage.SeriesRef { return pstorage.SeriesRef(r) }

// runStore opens a store and runs its group commits until the test ends;
// ctx ends with them.
func runStore(t *testing.T, o Options) (*Store, context.Context) {
	t.Helper()
	st, err := Open(o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { st.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done; st.Close() })
	return st, ctx
}

// An appender that is made and never used holds nothing a backup waits
// for; one left open mid-transaction makes the backup give up after the
// limit, not hang the writes behind it.
func TestBackupAndOpenAppenders(t *testing.T) {
	st, err := Open(Options{Dir: filepath.Join(t.TempDir(), "tsdb"), Retention: time.Hour * 24, OutOfOrderWindow: time.Hour,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	l := labels.FromStrings("__name__", "x")
	app := st.Appender(ctx)
	app.Append(0, l, time.Now().UnixMilli(), 1)
	app.Commit()
	_ = st.Appender(ctx) // never used
	var names []string
	emit := func(name string, _ int64, _ io.Reader) error { names = append(names, name); return nil }
	if err := st.Backup(ctx, emit); err != nil {
		t.Fatalf("backup beside an unused appender: %v", err)
	}
	if !slices.Contains(names, "wal/00000000") {
		t.Fatalf("backup emitted %v", names)
	}
	stuck := st.Appender(ctx)
	stuck.Append(0, l, time.Now().UnixMilli()+1, 2)
	defer func(d time.Duration) { freezeLimit = d }(freezeLimit)
	freezeLimit = 200 * time.Millisecond
	if err := st.Backup(ctx, emit); err == nil {
		t.Fatal("backup did not give up on an appender left open")
	}
	// Writes go on.
	other := st.Appender(ctx)
	other.Append(0, labels.FromStrings("__name__", "y"), time.Now().UnixMilli(), 1)
	if err := other.Commit(); err != nil {
		t.Fatal(err)
	}
	stuck.Rollback()
}

// TestRepairCutsATornEnd: a crash in the middle of a record that spans
// pages leaves the newest segment torn: only its end is set aside (under
// torn/, no alert) and the segment is cut there, which needs room for the
// end only.
func TestRepairCutsATornEnd(t *testing.T) {
	recs := append(sampleRecs(10, 300), sampleRecs(1, 9000)[0])
	dir := tsdbDir(t, 2, recs)
	seg := wlog.SegmentName(filepath.Join(dir, "wal"), 1)
	data, _ := os.ReadFile(seg)
	torn := data[:len(data)-wlPageSize+300] // inside the big last record
	os.WriteFile(seg, torn, 0o644)
	corrupt := filepath.Join(filepath.Dir(dir), "corrupt")
	r := newRepairer(dir, corrupt, time.Now(), slog.New(slog.DiscardHandler))
	if err := r.run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(r.out) != 1 || !r.out[0].Torn || !strings.Contains(r.out[0].Kept, filepath.Join(tornDir, "wal", "00000001.tail")) {
		t.Fatalf("set aside %+v", r.out)
	}
	got, err := readRecords(seg)
	if err != nil || len(got) != 10 {
		t.Fatalf("cut segment: %d records, %v", len(got), err)
	}
	fi, _ := os.Stat(seg)
	tail, _ := os.ReadFile(r.out[0].Kept)
	if fi.Size()+int64(len(tail)) != int64(len(torn)) {
		t.Fatalf("cut at %d, kept %d bytes of %d", fi.Size(), len(tail), len(torn))
	}
}

// TestGroupCommitSyncsTheSegmentTheTSDBWrites: the group commit fsyncs the
// TSDB's log by opening its newest wal/ and wbl/ segment by file name. This
// drives the real TSDB (in-order samples into the WAL, out-of-order ones
// into the WBL, small segments so both rotate) and checks after every
// group commit that the file it synced is the very file (same inode) the
// TSDB holds open for writing in that directory, so a Prometheus upgrade
// that names, preallocates or rotates segments differently cannot turn
// acknowledged writes into unsynced ones unnoticed.
func TestGroupCommitSyncsTheSegmentTheTSDBWrites(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tsdb")
	const segSize = 128 << 10 // a multiple of the log's 32 KiB page
	st, ctx := runStore(t, Options{Dir: dir, Retention: 24 * time.Hour, OutOfOrderWindow: time.Hour,
		Fsync: true, WALSegmentSize: segSize, Logger: slog.New(slog.DiscardHandler)})

	const series = 500
	ls := make([]labels.Labels, series)
	for i := range ls {
		ls[i] = labels.FromStrings("__name__", "rtt_seconds", "target", strconv.Itoa(i))
	}
	now := time.Now().UnixMilli()
	var checks = map[string]int{} // log -> group commits checked while it had a segment
	var last = map[string]int{}   // log -> newest segment index the TSDB wrote
	for batch := 0; batch < 5000 && (last["wal"] < 2 || last["wbl"] < 1); batch++ {
		app := st.Appender(ctx)
		for i, l := range ls {
			if _, err := app.Append(0, l, now+int64(batch)*1000, float64(i)); err != nil {
				t.Fatal(err)
			}
			// Half an hour behind the series' newest sample: out of
			// order, inside the window, so it goes to the WBL.
			if _, err := app.Append(0, l, now-30*60*1000+int64(batch), float64(i)); err != nil {
				t.Fatalf("out-of-order append: %v", err)
			}
		}
		if err := app.Commit(); err != nil {
			t.Fatal(err)
		}
		if err := st.Sync(ctx, nil); err != nil {
			t.Fatalf("batch %d: group commit: %v", batch, err)
		}
		for _, lg := range []struct {
			name string
			g    *segmentSyncer
		}{{"wal", &st.wal}, {"wbl", &st.wbl}} {
			idx, want := writingSegment(t, filepath.Join(dir, lg.name))
			if want == nil {
				continue // no segment yet
			}
			if lg.g.f == nil {
				t.Fatalf("batch %d: the TSDB writes %s segment %08d, the group commit synced no %s file", batch, lg.name, idx, lg.name)
			}
			got, err := lg.g.f.Stat()
			if err != nil {
				t.Fatal(err)
			}
			if !os.SameFile(got, want) {
				t.Fatalf("batch %d: the group commit synced %s, the TSDB writes %s segment %08d", batch, lg.g.f.Name(), lg.name, idx)
			}
			checks[lg.name]++
			last[lg.name] = idx
		}
	}
	t.Logf("newest segments %v, checked group commits %v", last, checks)
	// Both logs existed and rotated while checked: WAL past two segment
	// changes, the WBL past one.
	if last["wal"] < 2 || last["wbl"] < 1 || checks["wal"] == 0 || checks["wbl"] == 0 {
		t.Fatalf("logs did not rotate: newest segments %v after %v checked group commits", last, checks)
	}
}

// writingSegment returns the newest segment of the write-ahead log
// directory dir that this process holds open for writing (the TSDB's
// writer; a segment being closed after a rotation may still be open beside
// it), found through /proc/self/fd, or nil if there is none.
func writingSegment(t *testing.T, dir string) (int, os.FileInfo) {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	best, idx := os.FileInfo(nil), -1
	for _, fd := range fds {
		p, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name()))
		if err != nil || filepath.Dir(p) != dir {
			continue
		}
		n, err := strconv.Atoi(filepath.Base(p))
		if err != nil || n <= idx {
			continue
		}
		info, err := os.ReadFile(filepath.Join("/proc/self/fdinfo", fd.Name()))
		if err != nil {
			continue // closed meanwhile
		}
		var flags int
		for _, line := range strings.Split(string(info), "\n") {
			if v, ok := strings.CutPrefix(line, "flags:"); ok {
				f, err := strconv.ParseInt(strings.TrimSpace(v), 8, 64)
				if err != nil {
					t.Fatalf("/proc/self/fdinfo/%s: %q", fd.Name(), line)
				}
				flags = int(f)
			}
		}
		if flags&syscall.O_ACCMODE == syscall.O_RDONLY {
			continue // a reader, such as the group commit's own descriptor
		}
		fi, err := os.Stat(filepath.Join("/proc/self/fd", fd.Name()))
		if err != nil {
			continue
		}
		best, idx = fi, n
	}
	return idx, best
}
