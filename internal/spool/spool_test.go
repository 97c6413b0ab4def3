package spool

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/pantau-noc/pantau/internal/spool/spooltest"
)

func body(t testing.TB, r Record) string {
	t.Helper()
	b, err := r.Body()
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func open(t testing.TB, dir string, o Options) *Spool {
	t.Helper()
	o.Dir = dir
	s, err := Open(o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestAppendNextAckRestart(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	s := open(t, dir, Options{SyncInterval: 0})
	for i := 1; i <= 5; i++ {
		seq, err := s.Append(ctx, []byte(fmt.Sprintf("m v=%di %d\n", i, i)), 1)
		if err != nil || seq != uint64(i) {
			t.Fatalf("append %d: seq %d %v", i, seq, err)
		}
	}
	c, _ := s.Cursor("noc")
	recs, err := c.Next(ctx, 2)
	if err != nil || len(recs) != 2 || recs[0].Seq != 1 || recs[1].Seq != 2 || body(t, recs[0]) != "m v=1i 1\n" {
		t.Fatalf("next: %+v %v", recs, err)
	}
	// Out of order: 2 acked before 1 does not move the watermark past 1.
	if err := c.Ack(2); err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(); st.Records != 4 || st.Points != 4 {
		t.Fatalf("stats after ack 2: %+v", st)
	}
	c.Release(1)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// Restart: 1 comes again (its ack was never made); 2 may come again
	// too (only the contiguous watermark persists; the collector dedups).
	s = open(t, dir, Options{SyncInterval: 0})
	defer s.Close()
	c, _ = s.Cursor("noc")
	recs, _ = c.Next(ctx, 10)
	if len(recs) != 5 || recs[0].Seq != 1 {
		t.Fatalf("after restart: %+v", recs)
	}
	if err := c.Ack(1, 2, 3); err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(); st.Records != 2 {
		t.Fatalf("stats: %+v", st)
	}
	// Acked batches are deleted from disk; sequence numbers never repeat.
	ents, _ := os.ReadDir(filepath.Join(dir, "data"))
	if len(ents) != 2 {
		t.Fatalf("%d files left, want 2", len(ents))
	}
	seq, _ := s.Append(ctx, []byte("m v=6i 6\n"), 1)
	if seq != 6 {
		t.Fatalf("seq after restart %d", seq)
	}
}

func TestFreshLaneAndTwoCursors(t *testing.T) {
	ctx := context.Background()
	s := open(t, t.TempDir(), Options{SyncInterval: time.Second})
	defer s.Close()
	for i := 0; i < 10; i++ {
		s.Append(ctx, []byte("m v=1i\n"), 1)
	}
	a, _ := s.Cursor("a")
	b, _ := s.Cursor("b")
	old, _ := a.Next(ctx, 3)
	fresh := a.Newest(2)
	if old[0].Seq != 1 || fresh[0].Seq != 10 || fresh[1].Seq != 9 {
		t.Fatalf("old %v fresh %v", old, fresh)
	}
	if err := a.Ack(10, 9, 1, 2, 3); err != nil {
		t.Fatal(err)
	}
	// b has acked nothing: everything stays on disk.
	if st := s.Stats(); st.Records != 10 {
		t.Fatalf("stats %+v", st)
	}
	rb, _ := b.Next(ctx, 100)
	if len(rb) != 10 {
		t.Fatalf("b got %d", len(rb))
	}
	if err := s.RemoveCursorsExcept([]string{"a"}); err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(); st.Records != 5 { // 4..8 wait for a
		t.Fatalf("after removing b: %+v", st)
	}
}

func TestBoundsDropOldestAndCount(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	now := time.Unix(1764000000, 0)
	clock := func() time.Time { return now }
	s := open(t, dir, Options{SyncInterval: 0, MaxAge: time.Hour, MaxBytes: 1 << 30, Now: clock})
	c, _ := s.Cursor("noc")
	for i := 0; i < 5; i++ {
		s.Append(ctx, []byte("m v=1i\n"), 10)
		now = now.Add(20 * time.Minute)
	}
	// At 100 min the batches of 0 and 20 min are older than an hour and
	// are dropped by the next append.
	s.Append(ctx, []byte("m v=1i\n"), 10)
	st := s.Stats()
	if st.DroppedPoints != 20 || st.Records != 4 {
		t.Fatalf("after age bound: %+v", st)
	}
	recs, _ := c.Next(ctx, 10)
	if recs[0].Seq != 3 {
		t.Fatalf("cursor not moved past dropped batches: %+v", recs)
	}
	s.Close()
	s = open(t, dir, Options{SyncInterval: 0, MaxBytes: 1, Now: clock})
	defer s.Close()
	if st := s.Stats(); st.DroppedPoints != 20 {
		t.Fatalf("dropped counter not persisted: %+v", st)
	}
	s.Append(ctx, []byte("m v=1i\n"), 7) // MaxBytes 1: everything but nothing fits
	if st := s.Stats(); st.DroppedPoints != 20+40+7 || st.Records != 0 {
		t.Fatalf("after size bound: %+v", st)
	}
}

// TestKill9KeepsAppended runs a child that appends and prints each
// acknowledged seq, SIGKILLs it, and finds every printed seq on reopen.
func TestKill9KeepsAppended(t *testing.T) {
	if dir := os.Getenv("PANTAU_SPOOL_CHILD"); dir != "" {
		s, err := Open(Options{Dir: dir, SyncInterval: time.Second})
		if err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		for i := 0; i < 100000; i++ {
			seq, err := s.Append(context.Background(), bytes.Repeat([]byte("m v=1i\n"), 50), 50)
			if err != nil {
				os.Exit(1)
			}
			fmt.Println(seq)
		}
		os.Exit(0)
	}
	dir := t.TempDir()
	for round := 0; round < 3; round++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestKill9KeepsAppended$")
		cmd.Env = append(os.Environ(), "PANTAU_SPOOL_CHILD="+dir)
		out, _ := cmd.StdoutPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(out)
		var acked []uint64
		for sc.Scan() && len(acked) < 300 {
			v, err := strconv.ParseUint(sc.Text(), 10, 64)
			if err != nil {
				t.Fatalf("child: %s", sc.Text())
			}
			acked = append(acked, v)
		}
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		s := open(t, dir, Options{SyncInterval: 0})
		if tmp := spooltest.Temps(t, dir); len(tmp) > 0 {
			t.Fatalf("round %d: temporary files left after a restart: %v", round, tmp)
		}
		have := map[uint64]bool{}
		for _, r := range s.recs {
			have[r.Seq] = true
		}
		for _, seq := range acked {
			if !have[seq] {
				t.Fatalf("round %d: acknowledged batch %d lost after kill -9", round, seq)
			}
		}
		s.Close()
	}
}

func BenchmarkAppend(b *testing.B) {
	s := open(b, b.TempDir(), Options{SyncInterval: time.Second, MaxBytes: 1 << 40})
	defer s.Close()
	batch := bytes.Repeat([]byte("icmp,agent=a,target=10.0.0.1 loss_ratio=0,up=1i,rtt_avg_seconds=0.003 1764000000000000000\n"), 1000)
	b.SetBytes(int64(len(batch)))
	for i := 0; i < b.N; i++ {
		if _, err := s.Append(context.Background(), batch, 1000); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)*1000/b.Elapsed().Seconds(), "points/s")
}

// After power loss took the newest batches (files gone, no clean close),
// their seqs are not handed out again: the collector would take a reused
// Pantau-Batch id for a re-send and drop new data.
func TestSeqNotReusedAfterLostBatches(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	s := open(t, dir, Options{SyncInterval: 0})
	for i := 0; i < 3; i++ {
		s.Append(ctx, []byte("m v=1i\n"), 1)
	}
	// "Power loss": the last two files vanish and Close never runs.
	ents, _ := os.ReadDir(filepath.Join(dir, "data"))
	for _, e := range ents[1:] {
		os.Remove(filepath.Join(dir, "data", e.Name()))
	}
	s2 := open(t, dir, Options{SyncInterval: 0})
	seq, err := s2.Append(ctx, []byte("m v=1i\n"), 1)
	if err != nil || seq <= 3 {
		t.Fatalf("seq %d reused after a crash (%v)", seq, err)
	}
	// The cursor skips the gap at once.
	c, _ := s2.Cursor("noc")
	recs, _ := c.Next(ctx, 10)
	if len(recs) != 2 || recs[0].Seq != 1 || recs[1].Seq != seq {
		t.Fatalf("records %+v", recs)
	}
	if err := c.Ack(1, seq); err != nil {
		t.Fatal(err)
	}
	if st := s2.Stats(); st.Records != 0 {
		t.Fatalf("stats %+v", st)
	}
	// A clean close continues without a gap.
	s2.Close()
	s3 := open(t, dir, Options{SyncInterval: 0})
	defer s3.Close()
	if next, _ := s3.Append(ctx, []byte("m v=1i\n"), 1); next != seq+1 {
		t.Fatalf("after a clean close: seq %d, want %d", next, seq+1)
	}
}

// FuzzOpen: whatever is in the queue's state files, Open and a cursor
// either work or fail with an error naming the file; nothing panics.
func FuzzOpen(f *testing.F) {
	f.Add("17\n", "3\n", "5\n", "00000000000000000001-3-1764000000000.lp.gz", "disk_full 12\nio_error 1\n")
	f.Add("x", "", "-1", "garbage.lp.gz", "disk_full\n")
	f.Add("18446744073709551615", "18446744073709551615", "18446744073709551615", "99999999999999999999-99999999999-9.lp.gz", "a 18446744073709551616")
	f.Add("1", "0", "1", ".tmp-00000000000000000001-3-1764000000000.lp.gz", "\n\n x  3 \n")
	f.Fuzz(func(t *testing.T, next, dropped, cursor, name, lost string) {
		dir := t.TempDir()
		os.MkdirAll(filepath.Join(dir, "data"), 0o750)
		os.MkdirAll(filepath.Join(dir, "cursors"), 0o750)
		os.WriteFile(filepath.Join(dir, "next"), []byte(next), 0o600)
		os.WriteFile(filepath.Join(dir, "dropped"), []byte(dropped), 0o600)
		os.WriteFile(filepath.Join(dir, "cursors", "noc"), []byte(cursor), 0o600)
		os.WriteFile(filepath.Join(dir, "lost"), []byte(lost), 0o600)
		if filepath.Base(name) == name && name != "" && name != "." && name != ".." {
			os.WriteFile(filepath.Join(dir, "data", name), []byte("x"), 0o600)
		}
		s, err := Open(Options{Dir: dir})
		if err != nil {
			if !strings.Contains(err.Error(), dir) {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		defer s.Close()
		if _, err := s.Cursor("noc"); err != nil && !strings.Contains(err.Error(), dir) {
			t.Fatalf("cursor error does not name the file: %v", err)
		}
		s.Stats()
	})
}

// A raw queue keeps the bytes as given, under its own suffix, and reopens
// them; files of the other kind are left alone.
func TestRawKeepsBytesAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	s := open(t, dir, Options{Raw: true})
	payload := []byte{0xff, 0x06, 0x00, 0x00, 's', 'N', 'a', 'P', 'p', 'Y'}
	if _, err := s.Append(ctx, payload, 7); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(filepath.Join(dir, "data"))
	if len(ents) != 1 || !strings.HasSuffix(ents[0].Name(), "-7-"+strings.TrimSuffix(strings.SplitN(ents[0].Name(), "-", 3)[2], ".bin")+".bin") {
		t.Fatalf("files %v, want one <seq>-7-<ms>.bin", ents)
	}
	s = open(t, dir, Options{Raw: true})
	defer s.Close()
	c, _ := s.Cursor("engine")
	recs, err := c.Next(ctx, 10)
	if err != nil || len(recs) != 1 || recs[0].Points != 7 {
		t.Fatalf("next: %v %v", recs, err)
	}
	got, err := recs[0].Body()
	if err != nil || !bytes.Equal(got, payload) {
		t.Fatalf("body %q %v, want %q", got, err, payload)
	}
	// A line-protocol queue opened on the same directory ignores .bin files.
	s.Close()
	lp := open(t, dir, Options{})
	defer lp.Close()
	if st := lp.Stats(); st.Records != 0 {
		t.Fatalf("line-protocol queue saw %d raw batches", st.Records)
	}
}

// Each cursor reports what waits for it alone.
func TestCursorStats(t *testing.T) {
	ctx := context.Background()
	s := open(t, t.TempDir(), Options{})
	defer s.Close()
	fast, _ := s.Cursor("fast")
	slow, _ := s.Cursor("slow")
	for i := 1; i <= 4; i++ {
		if _, err := s.Append(ctx, []byte(fmt.Sprintf("m v=%di %d\n", i, i)), i); err != nil {
			t.Fatal(err)
		}
	}
	recs, err := fast.Next(ctx, 3)
	if err != nil || len(recs) != 3 {
		t.Fatalf("next: %v %v", recs, err)
	}
	if err := fast.Ack(recs[0].Seq, recs[2].Seq); err != nil {
		t.Fatal(err)
	}
	if st := fast.Stats(); st.Records != 2 || st.Points != 2+4 || st.Oldest != recs[1].Created {
		t.Errorf("fast cursor: %+v", st)
	}
	if st := slow.Stats(); st.Records != 4 || st.Points != 10 || st.Bytes != s.Stats().Bytes {
		t.Errorf("slow cursor: %+v, queue %+v", st, s.Stats())
	}
}

// TestOpenRemovesTempFiles: the temporary files of writes a crash cut
// short (batches, the next and dropped files of this and earlier
// versions, cursors) are removed at start; everything else stays.
func TestOpenRemovesTempFiles(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, Options{SyncInterval: 0})
	c, _ := s.Cursor("noc")
	for i := 0; i < 3; i++ {
		s.Append(context.Background(), []byte("m v=1i\n"), 1)
	}
	recs, _ := c.Next(context.Background(), 1)
	c.Ack(recs[0].Seq)
	s.Close()
	temps := []string{
		"data/.tmp-00000000000000000009-5-1764000000000.lp.gz", "data/.tmp-00000000000000000010-5-1764000000000.lp.gz",
		".tmp-next", ".tmp-dropped", ".tmp-lost", "next.tmp", "dropped.tmp", "cursors/.tmp-noc",
	}
	for _, p := range temps {
		if err := os.WriteFile(filepath.Join(dir, p), []byte("half"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	s = open(t, dir, Options{SyncInterval: 0})
	defer s.Close()
	for _, p := range temps {
		if _, err := os.Stat(filepath.Join(dir, p)); !os.IsNotExist(err) {
			t.Errorf("%s not removed at start (%v)", p, err)
		}
	}
	c, _ = s.Cursor("noc")
	if recs, _ := c.Next(context.Background(), 10); len(recs) != 2 || recs[0].Seq != 2 || s.Stats().Records != 2 {
		t.Fatalf("queue after start: %+v %+v", recs, s.Stats())
	}
	// A collector named like a temporary file keeps its cursor.
	odd, _ := s.Cursor(".tmp-odd")
	odd.Next(context.Background(), 1)
	if err := odd.Ack(2); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = open(t, dir, Options{SyncInterval: 0})
	odd, _ = s.Cursor(".tmp-odd")
	if recs, _ := odd.Next(context.Background(), 10); len(recs) != 1 || recs[0].Seq != 3 {
		t.Fatalf("cursor .tmp-odd lost at start: %+v", recs)
	}
}

// TestAppendDiskFull: on a full tmpfs an Append fails with a disk-full
// error and leaves no file, whether the disk fills mid-write or before;
// the owner's count of the lost points is persisted once there is room;
// and once space is freed the next Append works and nothing queued
// before is lost.
func TestAppendDiskFull(t *testing.T) {
	for _, sync := range []time.Duration{0, time.Hour} {
		t.Run(fmt.Sprintf("sync_interval=%s", sync), func(t *testing.T) {
			dir := spooltest.Tmpfs(t, 512<<10)
			ctx := context.Background()
			s := open(t, dir, Options{SyncInterval: sync})
			defer s.Close()
			c, _ := s.Cursor("noc")
			s.Cursor("other") // acks nothing: no batch is deleted to make room
			for i := 1; i <= 3; i++ {
				if _, err := s.Append(ctx, []byte(fmt.Sprintf("m v=%di\n", i)), 1); err != nil {
					t.Fatal(err)
				}
			}
			recs, _ := c.Next(ctx, 1)
			// 16 KiB left: a 64 KiB batch that does not compress fills the
			// disk mid-write.
			filler := spooltest.Fill(t, dir, 16<<10)
			big := make([]byte, 64<<10)
			mrand.NewChaCha8([32]byte{1}).Read(big)
			full := func(err error) {
				t.Helper()
				if err == nil || LossReason(err) != LostDiskFull || !strings.Contains(err.Error(), "no space left on device") {
					t.Fatalf("append on a full disk: %v", err)
				}
				if tmp := spooltest.Temps(t, dir); len(tmp) > 0 {
					t.Fatalf("temporary files left on a full disk: %v", tmp)
				}
			}
			_, err := s.Append(ctx, big, 100)
			full(err)
			s.CountLost(LossReason(err), 100)
			// Now not a page left: small batches fail at once, and acks
			// cannot be persisted either.
			rest := spooltest.Fill(t, dir, 0)
			for i := 0; i < 3; i++ {
				_, err := s.Append(ctx, []byte("m v=5i\n"), 10)
				full(err)
				s.CountLost(LossReason(err), 10)
			}
			full(c.Ack(recs[0].Seq))
			const lost = 100 + 3*10
			if st := s.Stats(); st.Lost[LostDiskFull] != lost || st.Records != 3 {
				t.Fatalf("stats on a full disk: %+v", st)
			}
			rest.Free()
			filler.Free()
			seq, err := s.Append(ctx, []byte("m v=9i\n"), 1)
			if err != nil {
				t.Fatalf("append after space was freed: %v", err)
			}
			if b, err := os.ReadFile(filepath.Join(dir, "lost")); err != nil || string(b) != fmt.Sprintf("disk_full %d\n", lost) {
				t.Fatalf("lost counter on disk: %q %v", b, err)
			}
			if err := c.Ack(); err != nil { // the watermark is written now
				t.Fatal(err)
			}
			if b, err := os.ReadFile(filepath.Join(dir, "cursors", "noc")); err != nil || string(b) != "2\n" {
				t.Fatalf("cursor on disk: %q %v", b, err)
			}
			all, _ := c.Next(ctx, 10)
			if len(all) != 3 || all[0].Seq != 2 || all[1].Seq != 3 || all[2].Seq != seq || body(t, all[2]) != "m v=9i\n" {
				t.Fatalf("queue after space was freed: %+v", all)
			}
			s.Close()
			s = open(t, dir, Options{SyncInterval: sync})
			defer s.Close()
			if st := s.Stats(); st.Lost[LostDiskFull] != lost || st.Records != 4 {
				t.Fatalf("after restart: %+v", st)
			}
		})
	}
}

func TestLossReason(t *testing.T) {
	for err, want := range map[error]string{
		&os.PathError{Op: "write", Path: "x", Err: syscall.ENOSPC}: LostDiskFull,
		fmt.Errorf("queue: %w", syscall.EDQUOT):                    LostDiskFull,
		&os.PathError{Op: "sync", Path: "x", Err: syscall.EIO}:     LostIOError,
		errors.New("queue is closed"):                              LostIOError,
	} {
		if got := LossReason(err); got != want {
			t.Errorf("LossReason(%v) = %s, want %s", err, got, want)
		}
	}
}
