package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/prometheus/prometheus/tsdb/chunks"
	"github.com/prometheus/prometheus/tsdb/record"
	"github.com/prometheus/prometheus/tsdb/wlog"
)

// Before the TSDB opens, every write-log segment it will replay (WAL,
// its last checkpoint, WBL) is read the way replay reads it. Prometheus
// answers a damaged or torn segment by deleting every newer segment and
// cutting the damaged one at the damage; instead, a damaged segment is
// rewritten with every intact record, the original is kept under
// <data_dir>/corrupt/<UTC time>/, and the newer segments stay. The
// rewrite goes to a temporary file that is fsynced and then renamed over
// the original, so an interrupted repair leaves the original in place.

const (
	repairTmpDir = "pantau-repair.tmp" // inside wal/ or wbl/, removed at start
	guardDir     = ".guard"            // inside corrupt/: links kept while the TSDB opens
	tornDir      = "torn"              // corrupt/<time>/torn/: segments a crash cut short
)

// SetAside is a file the repair moved out of the TSDB's way.
type SetAside struct {
	File   string // relative to the TSDB directory (wal/00000004)
	Kept   string // where the original is now
	Reason string
	Bytes  int64
	// Unreadable is the part of the file no record could be read from;
	// Samples estimates the samples it held.
	Unreadable int64
	Samples    int64
	// Torn is set when the only damage was a record cut short at the end
	// of the newest segment: a write a crash interrupted, which was never
	// acknowledged.
	Torn bool
}

// NoSpaceError is returned when a repair needs more space than is free;
// nothing was changed.
type NoSpaceError struct {
	Dir  string
	File string
	Need int64
	Err  error
}

func (e *NoSpaceError) Error() string {
	return fmt.Sprintf("not enough free space in %s to repair %s (about %d bytes needed): free space and start again (nothing was changed): %v",
		e.Dir, e.File, e.Need, e.Err)
}

func (e *NoSpaceError) Unwrap() error { return e.Err }

// repairer checks and repairs one TSDB directory.
type repairer struct {
	dir     string // the TSDB directory
	corrupt string // <data_dir>/corrupt
	stamp   string // corrupt/<stamp>/ for this run
	log     *slog.Logger
	out     []SetAside
	// bytes per sample of the records read, for estimates
	samples, sampleBytes int64
}

func newRepairer(dir, corrupt string, now time.Time, log *slog.Logger) *repairer {
	return &repairer{dir: dir, corrupt: corrupt, stamp: now.UTC().Format("20060102T150405Z"), log: log}
}

// run checks everything replay reads and repairs what it must.
func (r *repairer) run(ctx context.Context) error {
	if _, err := os.Stat(r.dir); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	for _, l := range []string{"wal", "wbl"} {
		if err := r.leftovers(l); err != nil {
			return err
		}
	}
	walDir := filepath.Join(r.dir, "wal")
	first := 0
	cpDir, cpIdx, err := wlog.LastCheckpoint(walDir)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err == nil:
		rel, _ := filepath.Rel(r.dir, cpDir)
		if err := r.checkLog(ctx, rel, 0, false); err != nil {
			return err
		}
		first = cpIdx + 1
	case !errors.Is(err, record.ErrNotFound):
		return fmt.Errorf("find the last WAL checkpoint in %s: %w", walDir, err)
	}
	if err := r.checkLog(ctx, "wal", first, true); err != nil {
		return err
	}
	if err := r.checkLog(ctx, "wbl", 0, true); err != nil {
		return err
	}
	return r.checkChunks()
}

// leftovers restores what an interrupted repair left in the log
// directory rel (wal or wbl): Prometheus's repair renames a segment to
// <n>.repair and rewrites <n> from it, so <n>.repair holds the data and
// <n> a partial copy; our own temporary directory holds only a copy.
func (r *repairer) leftovers(rel string) error {
	dir := filepath.Join(r.dir, rel)
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("list %s: %w", dir, err)
	}
	for _, e := range ents {
		name := e.Name()
		if name == repairTmpDir {
			if err := os.RemoveAll(filepath.Join(dir, name)); err != nil {
				return fmt.Errorf("remove the temporary files of an interrupted repair in %s: %w", dir, err)
			}
			continue
		}
		seg, ok := strings.CutSuffix(name, ".repair")
		if _, err := strconv.Atoi(seg); !ok || err != nil {
			continue
		}
		orig := filepath.Join(dir, seg)
		if _, err := os.Stat(orig); err == nil {
			kept, err := r.keep(filepath.Join(rel, seg+".partial"), orig, true)
			if err != nil {
				return err
			}
			r.log.Warn("an interrupted repair left a partial segment; set aside", "file", filepath.Join(rel, seg), "kept", kept)
		}
		if err := os.Rename(filepath.Join(dir, name), orig); err != nil {
			return fmt.Errorf("restore %s from %s: %w", orig, name, err)
		}
		if err := syncDir(dir); err != nil {
			return err
		}
		r.log.Warn("restored a write-log segment from the copy an interrupted repair left", "file", filepath.Join(rel, seg))
	}
	return nil
}

// checkLog reads the segments of the log directory rel from index first
// on, and repairs those replay would call corrupt. newestTorn: a torn end
// of the newest segment is a crash's unfinished write.
func (r *repairer) checkLog(ctx context.Context, rel string, first int, newestTorn bool) error {
	dir := filepath.Join(r.dir, rel)
	segs, err := segmentIndexes(dir)
	if err != nil {
		return err
	}
	for i, idx := range segs {
		if idx < first {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		path := wlog.SegmentName(dir, idx)
		cerr, err := r.scan(path)
		if err != nil {
			return err
		}
		if cerr == nil {
			continue
		}
		if err := r.repair(filepath.Join(rel, filepath.Base(path)), path, cerr, newestTorn && i == len(segs)-1); err != nil {
			return err
		}
	}
	return nil
}

// scan reads a segment as replay does; it returns the corruption found
// (nil if none) or an error reading the file at all.
func (r *repairer) scan(path string) (corruption, err error) {
	seg, err := wlog.OpenReadSegment(path)
	if err != nil {
		return nil, fmt.Errorf("open write-log segment %s: %w", path, err)
	}
	sr := wlog.NewSegmentBufReader(seg)
	defer sr.Close()
	rd := wlog.NewReader(sr)
	dec := record.NewDecoder(nil, nil)
	for rd.Next() {
		rec := rd.Record()
		n, err := checkRecord(&dec, rec)
		if err != nil {
			return fmt.Errorf("at offset %d: %w", rd.Offset(), err), nil
		}
		if n > 0 {
			r.samples += int64(n)
			r.sampleBytes += int64(len(rec))
		}
	}
	return rd.Err(), nil
}

// repair rewrites the segment at path with its intact records and keeps
// the original under corrupt/.
func (r *repairer) repair(rel, path string, cerr error, newest bool) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read damaged segment %s: %w", path, err)
	}
	s := salvage(data)
	r.samples += s.samples
	r.sampleBytes += s.sampleBytes
	torn := newest && s.torn && !s.damaged
	if s.firstBad >= 0 && s.after == 0 {
		return r.cut(rel, path, data, s, cerr, torn)
	}
	dir := filepath.Dir(path)
	tmp := filepath.Join(dir, repairTmpDir)
	if err := os.RemoveAll(tmp); err != nil {
		return fmt.Errorf("remove %s: %w", tmp, err)
	}
	if err := r.writeSegment(tmp, s.recs); err != nil {
		os.RemoveAll(tmp)
		if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
			return &NoSpaceError{Dir: dir, File: path, Need: int64(len(data)), Err: err}
		}
		return fmt.Errorf("repair %s: write the intact records to %s: %w", path, tmp, err)
	}
	keepAs := rel
	if torn {
		keepAs = filepath.Join(tornDir, rel) // not damage: no alert
	}
	kept, err := r.keep(keepAs, path, false)
	if err != nil {
		os.RemoveAll(tmp)
		return err
	}
	if err := os.Rename(wlog.SegmentName(tmp, 0), path); err != nil {
		os.RemoveAll(tmp)
		return fmt.Errorf("repair %s: replace it with the intact records: %w", path, err)
	}
	if err := syncDir(dir); err != nil {
		return err
	}
	if err := os.RemoveAll(tmp); err != nil {
		return fmt.Errorf("remove %s: %w", tmp, err)
	}
	if c, err := r.scan(path); err != nil || c != nil {
		return fmt.Errorf("repaired segment %s still does not read (%v %v): restore it from %s or a backup", path, c, err, kept)
	}
	sa := SetAside{
		File: rel, Kept: kept, Reason: cerr.Error(), Bytes: int64(len(data)),
		Unreadable: s.unreadable, Samples: r.estimate(s.unreadable),
		Torn: torn,
	}
	r.out = append(r.out, sa)
	return nil
}

// cut repairs a segment whose intact records all lie before its first
// damage (a write cut short: a crash, a full disk): the bytes from the
// damage on are kept under corrupt/ and the segment is truncated there,
// which needs room for those bytes only, not for a copy of the segment.
func (r *repairer) cut(rel, path string, data []byte, s salvaged, cerr error, torn bool) error {
	head := data[:s.firstBad]
	rd := wlog.NewReader(bytes.NewReader(head))
	n := 0
	for rd.Next() {
		n++
	}
	if rd.Err() != nil || n != len(s.recs) {
		return fmt.Errorf("repair %s: the part before the damage at %d does not read back (%d of %d records, %v)", path, s.firstBad, n, len(s.recs), rd.Err())
	}
	keepAs := rel + ".tail"
	if torn {
		keepAs = filepath.Join(tornDir, keepAs)
	}
	tail := data[s.firstBad:]
	kept, err := r.keepBytes(keepAs, tail)
	if err != nil {
		var ns *NoSpaceError
		if errors.As(err, &ns) {
			ns.File = path
		}
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err == nil {
		err = f.Truncate(int64(s.firstBad))
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		return fmt.Errorf("repair %s: cut it at the damage (offset %d): %w", path, s.firstBad, err)
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		return err
	}
	if c, err := r.scan(path); err != nil || c != nil {
		return fmt.Errorf("repaired segment %s still does not read (%v %v): restore its end from %s", path, c, err, kept)
	}
	r.out = append(r.out, SetAside{
		File: rel, Kept: kept, Reason: cerr.Error(), Bytes: int64(len(tail)),
		Unreadable: s.unreadable, Samples: r.estimate(s.unreadable), Torn: torn,
	})
	return nil
}

// dest is a new path for rel under corrupt/<stamp>/, its directory made.
func (r *repairer) dest(rel string) (string, error) {
	dst := filepath.Join(r.corrupt, r.stamp, rel)
	if err := os.MkdirAll(filepath.Dir(dst), 0o750); err != nil {
		return "", fmt.Errorf("create %s: %w", filepath.Dir(dst), err)
	}
	for i := 1; ; i++ { // two repairs within a second
		if _, err := os.Lstat(dst); errors.Is(err, os.ErrNotExist) {
			return dst, nil
		}
		dst = filepath.Join(r.corrupt, r.stamp, fmt.Sprintf("%s.%d", rel, i))
	}
}

// removeEmpty removes dir and its parents up to corrupt/ while they are
// empty (a repair that could not keep anything leaves nothing behind).
func (r *repairer) removeEmpty(dir string) {
	for d := dir; strings.HasPrefix(d, r.corrupt); d = filepath.Dir(d) {
		if os.Remove(d) != nil || d == r.corrupt {
			return
		}
	}
}

// keepBytes writes b to corrupt/<stamp>/rel, fsynced.
func (r *repairer) keepBytes(rel string, b []byte) (string, error) {
	dst, err := r.dest(rel)
	if err != nil {
		return "", err
	}
	f, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o640)
	if err == nil {
		_, err = f.Write(b)
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		os.Remove(dst)
		r.removeEmpty(filepath.Dir(dst))
		if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
			return "", &NoSpaceError{Dir: filepath.Dir(dst), File: rel, Need: int64(len(b)), Err: err}
		}
		return "", fmt.Errorf("keep the damaged end of %s in %s: %w", rel, dst, err)
	}
	for d := filepath.Dir(dst); ; d = filepath.Dir(d) {
		if err := syncDir(d); err != nil {
			return "", err
		}
		if d == r.corrupt || d == filepath.Dir(d) {
			break
		}
	}
	return dst, syncDir(filepath.Dir(r.corrupt))
}

// estimate converts unreadable write-log bytes to samples, at the ratio
// of the sample records read.
func (r *repairer) estimate(bytes int64) int64 {
	if bytes == 0 {
		return 0
	}
	if r.samples == 0 || r.sampleBytes == 0 {
		return bytes / 16 // a float sample record spends roughly this per sample
	}
	return int64(float64(bytes) * float64(r.samples) / float64(r.sampleBytes))
}

// keep puts the file at path under corrupt/<stamp>/rel: as a hard link
// when the original is being replaced (move false), else by renaming it.
func (r *repairer) keep(rel, path string, move bool) (string, error) {
	dst, err := r.dest(rel)
	if err != nil {
		return "", err
	}
	if move {
		err = os.Rename(path, dst)
	} else if err = os.Link(path, dst); err != nil {
		err = copyFile(path, dst)
	}
	if err != nil {
		r.removeEmpty(filepath.Dir(dst))
		if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
			return "", &NoSpaceError{Dir: filepath.Dir(dst), File: path, Err: err}
		}
		return "", fmt.Errorf("set %s aside to %s: %w", path, dst, err)
	}
	// The link and every directory made for it survive a crash before
	// the original is replaced.
	for d := filepath.Dir(dst); ; d = filepath.Dir(d) {
		if err := syncDir(d); err != nil {
			return "", err
		}
		if d == r.corrupt || d == filepath.Dir(d) {
			break
		}
	}
	if err := syncDir(filepath.Dir(r.corrupt)); err != nil {
		return "", err
	}
	return dst, nil
}

// checkChunks reads the m-mapped head chunk files as the TSDB's head does
// at start. Prometheus deletes a file that fails to read and all newer
// ones; their chunks are also in the WAL, so moving them under corrupt/
// instead loses nothing while the WAL is intact.
func (r *repairer) checkChunks() error {
	dir := filepath.Join(r.dir, "chunks_head")
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	cdm, err := chunks.NewChunkDiskMapper(nil, dir, chunkenc.NewPool(), chunks.DefaultWriteBufferSize, 0)
	if err != nil {
		return nil // the TSDB refuses to open with its own message
	}
	err = cdm.IterateAllChunks(func(chunks.HeadSeriesRef, chunks.ChunkDiskMapperRef, int64, int64, uint16, chunkenc.Encoding, bool) error {
		return nil
	})
	cdm.Close()
	var cerr *chunks.CorruptionErr
	if !errors.As(err, &cerr) {
		return nil
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("list %s: %w", dir, err)
	}
	for _, e := range ents {
		idx, err := strconv.Atoi(e.Name())
		if err != nil || idx < cerr.FileIndex {
			continue
		}
		path := filepath.Join(dir, e.Name())
		fi, _ := e.Info()
		rel := filepath.Join("chunks_head", e.Name())
		kept, err := r.keep(rel, path, true)
		if err != nil {
			return err
		}
		var size int64
		if fi != nil {
			size = fi.Size()
		}
		r.out = append(r.out, SetAside{File: rel, Kept: kept, Reason: cerr.Error(), Bytes: size})
	}
	return syncDir(dir)
}

// writeSegment writes recs as segment 0 in dir, fsyncs it, and checks
// that it reads back as replay reads it.
func (r *repairer) writeSegment(dir string, recs [][]byte) error {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	path := wlog.SegmentName(dir, 0)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o640)
	if err != nil {
		return err
	}
	_, err = f.Write(encodeSegment(recs))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	got, err := readRecords(path)
	if err != nil {
		return fmt.Errorf("the rewritten segment does not read back: %w", err)
	}
	if len(got) != len(recs) {
		return fmt.Errorf("the rewritten segment reads back %d of %d records", len(got), len(recs))
	}
	return syncDir(dir)
}

// readRecords reads a segment with the TSDB's reader.
func readRecords(path string) ([][]byte, error) {
	seg, err := wlog.OpenReadSegment(path)
	if err != nil {
		return nil, err
	}
	sr := wlog.NewSegmentBufReader(seg)
	defer sr.Close()
	rd := wlog.NewReader(sr)
	var out [][]byte
	for rd.Next() {
		out = append(out, append([]byte(nil), rd.Record()...))
	}
	return out, rd.Err()
}

// segmentIndexes lists the numbered segment files of a log directory.
func segmentIndexes(dir string) ([]int, error) {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", dir, err)
	}
	var out []int
	for _, e := range ents {
		if n, err := strconv.Atoi(e.Name()); err == nil && e.Type().IsRegular() {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out, nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o640)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		os.Remove(dst)
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		os.Remove(dst)
		return err
	}
	return out.Close()
}
