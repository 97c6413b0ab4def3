package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/oklog/ulid/v2"
	"github.com/prometheus/prometheus/tsdb/fileutil"
)

// A backup of the TSDB is its files as a restart would find them: the
// persisted blocks, and the write-ahead log (its last checkpoint and the
// segments after it) and the out-of-order log, which replay into the
// head. The head's m-mapped chunk files are left out: everything in them
// is also in the logs, and replay rebuilds them.

// EmitFunc receives one file of a backup: its path relative to the TSDB
// directory (slash-separated), its size and its content.
type EmitFunc func(name string, size int64, r io.Reader) error

// Backup emits a consistent snapshot of the open TSDB while writes go on.
// The logs' files are opened, and their sizes noted, while no commit is in
// progress (appends wait a few milliseconds); the blocks are taken after,
// so that a compaction in between leaves its data in both, never in
// neither (replay drops what a block already holds).
func (s *Store) Backup(ctx context.Context, emit EmitFunc) error {
	if s.o.NoLocal {
		return ErrNoLocal
	}
	s.excl.Lock()
	defer s.excl.Unlock()
	h := s.cur.Load()
	if h == nil {
		return ErrReopening
	}
	if !s.apps.freeze(s.logger, "backup", freezeLimit) {
		return fmt.Errorf("appends did not pause within %s for the backup; try again", freezeLimit)
	}
	logs, err := openLogs(s.o.Dir)
	s.apps.thaw()
	defer logs.close()
	if err != nil {
		return err
	}
	staging := filepath.Join(s.o.Dir, "snapshots", "backup-"+time.Now().UTC().Format("20060102T150405.000000000Z"))
	defer os.RemoveAll(staging)
	if err := os.MkdirAll(staging, 0o750); err != nil {
		return fmt.Errorf("create %s: %w", staging, err)
	}
	if err := h.db.Snapshot(staging, false); err != nil {
		return fmt.Errorf("snapshot the TSDB's blocks to %s: %w", staging, err)
	}
	if err := emitTree(ctx, staging, "", emit); err != nil {
		return err
	}
	return logs.emit(ctx, emit)
}

// freezeLimit bounds how long a backup waits for the commits in progress.
var freezeLimit = 30 * time.Second

// ErrNoLocal is returned by Backup without a local TSDB (remote only).
var ErrNoLocal = errors.New("storage: no local TSDB (remote only)")

// OfflineBackup emits the TSDB in dir while no collector runs on it: it
// holds the TSDB's lock meanwhile and fails if a collector has it.
func OfflineBackup(ctx context.Context, dir string, emit EmitFunc) error {
	if _, err := os.Stat(dir); err != nil {
		return fmt.Errorf("TSDB directory: %w", err)
	}
	lock, _, err := fileutil.Flock(filepath.Join(dir, "lock"))
	if err != nil {
		return fmt.Errorf("lock %s: %w (is a collector running on it?)", dir, err)
	}
	defer lock.Release()
	ents, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("list %s: %w", dir, err)
	}
	for _, e := range ents {
		if _, err := ulid.ParseStrict(e.Name()); err != nil || !e.IsDir() {
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, e.Name(), "meta.json")); err != nil {
			continue // a block being written when the collector stopped
		}
		if err := emitTree(ctx, filepath.Join(dir, e.Name()), e.Name(), emit); err != nil {
			return err
		}
	}
	logs, err := openLogs(dir)
	defer logs.close()
	if err != nil {
		return err
	}
	return logs.emit(ctx, emit)
}

// logFiles are the open files of the logs and the sizes to copy.
type logFiles struct {
	names []string
	files []*os.File
	sizes []int64
}

// openLogs opens what replay reads: wal/ (its last checkpoint and the
// segments after it) and wbl/.
func openLogs(dir string) (*logFiles, error) {
	l := &logFiles{}
	add := func(rel string) error {
		f, err := os.Open(filepath.Join(dir, rel))
		if err != nil {
			return fmt.Errorf("open %s for the backup: %w", rel, err)
		}
		fi, err := f.Stat()
		if err != nil {
			f.Close()
			return err
		}
		l.names = append(l.names, filepath.ToSlash(rel))
		l.files = append(l.files, f)
		l.sizes = append(l.sizes, fi.Size())
		return nil
	}
	for _, log := range []string{"wal", "wbl"} {
		ents, err := os.ReadDir(filepath.Join(dir, log))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return l, fmt.Errorf("list %s: %w", log, err)
		}
		cp := ""
		for _, e := range ents {
			if e.IsDir() && strings.HasPrefix(e.Name(), "checkpoint.") && !strings.HasSuffix(e.Name(), ".tmp") && e.Name() > cp {
				cp = e.Name()
			}
		}
		for _, e := range ents {
			switch {
			case e.Type().IsRegular() && isSegmentName(e.Name()):
				if err := add(filepath.Join(log, e.Name())); err != nil {
					return l, err
				}
			case e.IsDir() && e.Name() == cp:
				segs, err := os.ReadDir(filepath.Join(dir, log, cp))
				if err != nil {
					return l, fmt.Errorf("list %s: %w", cp, err)
				}
				for _, s := range segs {
					if s.Type().IsRegular() && isSegmentName(s.Name()) {
						if err := add(filepath.Join(log, cp, s.Name())); err != nil {
							return l, err
						}
					}
				}
			}
		}
	}
	return l, nil
}

func isSegmentName(n string) bool {
	if len(n) != 8 {
		return false
	}
	for _, c := range n {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func (l *logFiles) emit(ctx context.Context, emit EmitFunc) error {
	for i, f := range l.files {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := emit(l.names[i], l.sizes[i], io.NewSectionReader(f, 0, l.sizes[i])); err != nil {
			return err
		}
	}
	return nil
}

func (l *logFiles) close() {
	if l == nil {
		return
	}
	for _, f := range l.files {
		f.Close()
	}
}

// emitTree emits every regular file under root as prefix/<path>.
func emitTree(ctx context.Context, root, prefix string, emit EmitFunc) error {
	return filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		fi, err := f.Stat()
		if err != nil {
			return err
		}
		return emit(filepath.ToSlash(filepath.Join(prefix, rel)), fi.Size(), io.NewSectionReader(f, 0, fi.Size()))
	})
}
