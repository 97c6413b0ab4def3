package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/statedb"
	"github.com/pantau-noc/pantau/collector/internal/storage"
	"github.com/pantau-noc/pantau/internal/buildinfo"
)

// Backups: the backup command copies state.db itself (SQLite's VACUUM
// INTO, safe beside the running collector) before it asks the running
// collector for the TSDB over its admin socket (storage.FetchBackup), so
// that every batch id and minute mark in the copy has its samples in the
// TSDB copy. Without a running collector the TSDB files are copied
// directly, holding the TSDB's lock.

const (
	manifestName   = "manifest.json"
	manifestFormat = 1
)

// manifest describes a backup directory.
type manifest struct {
	Format    int            `json:"format"`
	Created   time.Time      `json:"created"`
	Finished  time.Time      `json:"finished"`
	DataDir   string         `json:"data_dir"`
	Host      string         `json:"host"`
	TSDB      string         `json:"tsdb"` // online, offline or none
	Versions  map[string]any `json:"versions"`
	Files     []manifestFile `json:"files"`
	Bytes     int64          `json:"bytes"`
	StateDBV  int            `json:"state_db_schema"`
	Collector string         `json:"collector"`
}

type manifestFile struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

func versions() map[string]any {
	v := map[string]any{
		"pantau_collector": buildinfo.Version,
		"revision":         buildinfo.Rev(),
		"go":               buildinfo.GoVersion(),
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			switch d.Path {
			case "github.com/prometheus/prometheus", "modernc.org/sqlite":
				v[d.Path] = d.Version
			}
		}
	}
	return v
}

func cmdBackup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c common
	fs := newFlagSet("backup", "backup --config FILE --out DIR [--dated [--keep N]]", stderr)
	fs.StringVar(&c.config, "config", "", "path to collector.yml, for data_dir and storage")
	fs.StringVar(&c.dataDir, "data-dir", "", "data directory, overriding the config")
	out := fs.String("out", "", "directory to write the backup to; must not exist or be empty (required)")
	dated := fs.Bool("dated", false, "write into a new subdirectory of --out named by the UTC time (20261001T023000Z), for a timer")
	keep := fs.Int("keep", 0, "with --dated: keep this many complete backups in --out and remove older ones (0: keep all)")
	c.log.Register(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return usageError{errors.New("--out is required")}
	}
	if *keep < 0 || (*keep > 0 && !*dated) {
		return usageError{errors.New("--keep needs --dated and a positive count")}
	}
	cfg, err := c.load()
	if err != nil {
		return err
	}
	root := *out
	if *dated {
		*out = filepath.Join(root, time.Now().UTC().Format(datedLayout))
	}
	if _, err := os.Stat(filepath.Join(cfg.DataDir, statedb.FileName)); err != nil {
		return fmt.Errorf("no %s in data directory %s: nothing to back up (%w)", statedb.FileName, cfg.DataDir, err)
	}
	if err := emptyDir(*out); err != nil {
		return err
	}
	m := manifest{Format: manifestFormat, Created: time.Now().UTC(), DataDir: cfg.DataDir, TSDB: "none", Collector: buildinfo.String("pantau-collector")}
	m.Host, _ = os.Hostname()
	w := &backupWriter{dir: *out}

	// state.db first: whatever it says was stored is then in the TSDB copy.
	db, err := statedb.Open(ctx, cfg.DataDir)
	if err != nil {
		return err
	}
	err = db.BackupTo(ctx, filepath.Join(*out, statedb.FileName))
	if err == nil {
		m.StateDBV, err = db.SchemaVersion(ctx)
	}
	db.Close()
	if err != nil {
		return err
	}
	if err := w.add(statedb.FileName); err != nil {
		return err
	}

	if cfg.Storage.Local {
		m.TSDB, err = storage.FetchBackup(ctx, cfg.DataDir, w.write)
		if err != nil {
			return fmt.Errorf("back up the TSDB: %w (the partial backup in %s is not usable: remove it)", err, *out)
		}
	}
	m.Files, m.Bytes = w.files, w.bytes
	m.Versions = versions()
	m.Finished = time.Now().UTC()
	if err := writeManifest(*out, &m); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "backup of %s in %s: %d files, %.1f MB, TSDB %s, in %s\n", cfg.DataDir, *out, len(m.Files), float64(m.Bytes)/1e6, m.TSDB,
		m.Finished.Sub(m.Created).Round(time.Millisecond))
	if *keep > 0 {
		removed, err := pruneBackups(root, filepath.Base(*out), *keep)
		for _, r := range removed {
			fmt.Fprintf(stdout, "removed old backup %s\n", r)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

const datedLayout = "20060102T150405Z"

// pruneBackups keeps the newest keep complete dated backups in root and
// removes older ones, and incomplete ones older than newest (the backup
// just made).
func pruneBackups(root, newest string, keep int) ([]string, error) {
	ents, err := os.ReadDir(root)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", root, err)
	}
	var complete []string
	var removed []string
	for _, e := range ents {
		if _, err := time.Parse(datedLayout, e.Name()); err != nil || !e.IsDir() {
			continue
		}
		if _, err := os.Stat(filepath.Join(root, e.Name(), manifestName)); err == nil {
			complete = append(complete, e.Name())
		} else if e.Name() < newest {
			if err := os.RemoveAll(filepath.Join(root, e.Name())); err != nil {
				return removed, fmt.Errorf("remove incomplete backup: %w", err)
			}
			removed = append(removed, filepath.Join(root, e.Name())+" (incomplete)")
		}
	}
	slices.Sort(complete)
	for len(complete) > keep {
		if err := os.RemoveAll(filepath.Join(root, complete[0])); err != nil {
			return removed, fmt.Errorf("remove old backup: %w", err)
		}
		removed = append(removed, filepath.Join(root, complete[0]))
		complete = complete[1:]
	}
	return removed, nil
}

// backupWriter writes files into a backup directory and lists them.
type backupWriter struct {
	dir   string
	files []manifestFile
	bytes int64
	dirs  map[string]bool
}

// write copies r (size bytes) to name under the directory, fsynced.
func (w *backupWriter) write(name string, size int64, r io.Reader) error {
	rel, err := cleanRel(name)
	if err != nil {
		return err
	}
	p := filepath.Join(w.dir, rel)
	if err := w.mkdir(filepath.Dir(p)); err != nil {
		return err
	}
	f, err := os.OpenFile(p, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o640)
	if err != nil {
		return fmt.Errorf("create %s: %w", p, err)
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), io.LimitReader(r, size))
	if err == nil && n != size {
		err = fmt.Errorf("%s: got %d of %d bytes", name, n, size)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", p, err)
	}
	w.files = append(w.files, manifestFile{Path: filepath.ToSlash(rel), Size: size, SHA256: hex.EncodeToString(h.Sum(nil))})
	w.bytes += size
	return nil
}

// add lists a file written by someone else (state.db).
func (w *backupWriter) add(name string) error {
	sum, size, err := fileSHA256(filepath.Join(w.dir, name))
	if err != nil {
		return err
	}
	w.files = append(w.files, manifestFile{Path: name, Size: size, SHA256: sum})
	w.bytes += size
	return nil
}

func (w *backupWriter) mkdir(d string) error {
	if w.dirs[d] {
		return nil
	}
	if err := os.MkdirAll(d, 0o750); err != nil {
		return fmt.Errorf("create %s: %w", d, err)
	}
	if w.dirs == nil {
		w.dirs = map[string]bool{}
	}
	w.dirs[d] = true
	return nil
}

// cleanRel checks that name is a relative path inside the directory.
func cleanRel(name string) (string, error) {
	c := path.Clean(name)
	if c != name || path.IsAbs(c) || c == "." || c == ".." || strings.HasPrefix(c, "../") || strings.ContainsRune(c, 0) {
		return "", fmt.Errorf("bad file name %q in the backup", name)
	}
	return filepath.FromSlash(c), nil
}

func fileSHA256(p string) (string, int64, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, fmt.Errorf("read %s: %w", p, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// emptyDir creates dir, or accepts it if it exists and is empty.
func emptyDir(dir string) error {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return fmt.Errorf("create %s: %w", dir, err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", dir, err)
	}
	if len(ents) > 0 {
		return fmt.Errorf("%s is not empty: give a new directory (for example one per day)", dir)
	}
	return nil
}

func writeManifest(dir string, m *manifest) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, manifestName+".tmp")
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o640)
	if err != nil {
		return fmt.Errorf("write the manifest: %w", err)
	}
	_, err = f.Write(append(b, '\n'))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(dir, manifestName))
	}
	if err == nil {
		err = syncPath(dir)
	}
	if err != nil {
		return fmt.Errorf("write the manifest in %s: %w", dir, err)
	}
	return nil
}

func syncPath(p string) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

func cmdRestore(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c common
	fs := newFlagSet("restore", "restore --from DIR --data-dir DIR", stderr)
	from := fs.String("from", "", "backup directory (made by pantau-collector backup; required)")
	fs.StringVar(&c.config, "config", "", "path to collector.yml, for data_dir")
	fs.StringVar(&c.dataDir, "data-dir", "", "data directory to restore into, overriding the config; must be empty or new")
	c.log.Register(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if *from == "" {
		return usageError{errors.New("--from is required")}
	}
	if c.config == "" && c.dataDir == "" {
		return usageError{errors.New("give --data-dir (or --config with data_dir)")}
	}
	cfg, err := c.load()
	if err != nil {
		return err
	}
	m, err := verifyBackup(*from)
	if err != nil {
		return err
	}
	if m.StateDBV > statedb.SchemaVersions() {
		return fmt.Errorf("the backup's state.db has schema version %d, newer than this binary knows (%d): restore it with the pantau-collector that made it (%v)",
			m.StateDBV, statedb.SchemaVersions(), m.Versions["pantau_collector"])
	}
	dst := cfg.DataDir
	if err := restoreTarget(dst); err != nil {
		return err
	}
	staging := filepath.Join(dst, ".restore-"+time.Now().UTC().Format("20060102T150405Z"))
	w := &backupWriter{dir: staging}
	for _, f := range m.Files {
		src, err := os.Open(filepath.Join(*from, filepath.FromSlash(f.Path)))
		if err != nil {
			os.RemoveAll(staging)
			return err
		}
		err = w.write(f.Path, f.Size, src)
		src.Close()
		if err != nil {
			os.RemoveAll(staging)
			return err
		}
		if got := w.files[len(w.files)-1].SHA256; got != f.SHA256 {
			os.RemoveAll(staging)
			return fmt.Errorf("%s changed while it was copied (SHA-256 %s, manifest %s)", f.Path, got, f.SHA256)
		}
	}
	for _, name := range []string{statedb.FileName, "tsdb"} {
		if _, err := os.Stat(filepath.Join(staging, name)); err != nil {
			continue
		}
		if err := os.Rename(filepath.Join(staging, name), filepath.Join(dst, name)); err != nil {
			return fmt.Errorf("move %s into %s: %w", name, dst, err)
		}
	}
	if err := syncPath(dst); err != nil {
		return err
	}
	os.RemoveAll(staging)
	fmt.Fprintf(stdout, "restored the backup of %s (made %s, %d files, TSDB %s) into %s; start the collector on it\n",
		m.DataDir, m.Created.Format(time.RFC3339), len(m.Files), m.TSDB, dst)
	return nil
}

// verifyBackup reads the manifest and checks every file's size and
// SHA-256.
func verifyBackup(dir string) (*manifest, error) {
	b, err := os.ReadFile(filepath.Join(dir, manifestName))
	if err != nil {
		return nil, fmt.Errorf("%s is not a complete backup (no %s: the backup did not finish): %w", dir, manifestName, err)
	}
	var m manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("read %s: %w", filepath.Join(dir, manifestName), err)
	}
	if m.Format != manifestFormat {
		return nil, fmt.Errorf("%s: backup format %d, this binary reads %d", dir, m.Format, manifestFormat)
	}
	if !slices.ContainsFunc(m.Files, func(f manifestFile) bool { return f.Path == statedb.FileName }) {
		return nil, fmt.Errorf("%s: the manifest lists no %s", dir, statedb.FileName)
	}
	for _, f := range m.Files {
		rel, err := cleanRel(f.Path)
		if err != nil {
			return nil, err
		}
		sum, size, err := fileSHA256(filepath.Join(dir, rel))
		if err != nil {
			return nil, fmt.Errorf("backup %s is incomplete: %w", dir, err)
		}
		if size != f.Size || sum != f.SHA256 {
			return nil, fmt.Errorf("backup %s is damaged: %s has %d bytes, SHA-256 %s; the manifest says %d bytes, %s", dir, f.Path, size, sum, f.Size, f.SHA256)
		}
	}
	return &m, nil
}

// restoreTarget refuses a data directory that holds data or that a
// collector uses.
func restoreTarget(dst string) error {
	conn, err := net.DialTimeout("unix", storage.AdminSocket(dst), time.Second)
	if err == nil {
		conn.Close()
		return fmt.Errorf("a collector is running on %s: stop it, move the data directory aside, and restore into an empty one", dst)
	}
	for _, name := range []string{statedb.FileName, "tsdb"} {
		if _, err := os.Stat(filepath.Join(dst, name)); err == nil {
			return fmt.Errorf("%s already holds data (%s): restore into an empty or new directory, or move it aside first (mv %s %s.old)", dst, name, dst, dst)
		}
	}
	if err := os.MkdirAll(dst, 0o750); err != nil {
		return fmt.Errorf("create %s: %w", dst, err)
	}
	return nil
}
