package storage

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Online backups: the running collector holds the TSDB open, so it makes
// the TSDB snapshot (Store.Backup) and streams it as a tar over a Unix
// socket in the data directory (run/admin.sock, in a directory only the
// collector's user may enter: the file system is the authentication,
// there is no admin role yet). FetchBackup is the other end; without a
// running collector it copies the TSDB files directly (OfflineBackup),
// holding the TSDB's lock.

const (
	adminSocketDir  = "run"
	adminSocketName = "admin.sock"
	backupTSDBPath  = "/v1/backup/tsdb"
	backupComplete  = ".complete" // the last entry of a complete stream
)

// AdminSocket is the path of the admin socket of a collector running on
// dataDir (its data directory, not the TSDB's).
func AdminSocket(dataDir string) string {
	return filepath.Join(dataDir, adminSocketDir, adminSocketName)
}

// ListenAdmin opens the admin socket of dataDir; nil (logged) if it
// cannot, since the collector runs without it.
func ListenAdmin(dataDir string, log *slog.Logger) net.Listener {
	p := AdminSocket(dataDir)
	if len(p) > 100 {
		log.Warn("data directory path too long for the admin socket: online backups are not available", "socket", p)
		return nil
	}
	err := os.MkdirAll(filepath.Dir(p), 0o700)
	if err == nil {
		err = os.Chmod(filepath.Dir(p), 0o700) // only the service's user may connect
	}
	if err != nil {
		log.Warn("cannot create the admin socket's directory: online backups are not available", "dir", filepath.Dir(p), "err", err)
		return nil
	}
	// A socket left by a collector that died: this one holds the TSDB
	// and state.db, so no other collector listens on it.
	os.Remove(p)
	ln, err := net.Listen("unix", p)
	if err != nil {
		log.Warn("cannot open the admin socket: online backups are not available", "socket", p, "err", err)
		return nil
	}
	return ln
}

// ServeBackups answers FetchBackup's requests on ln (from ListenAdmin)
// with online backups of store until ctx ends.
func ServeBackups(ctx context.Context, ln net.Listener, store *Store, log *slog.Logger) error {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+backupTSDBPath, func(w http.ResponseWriter, r *http.Request) {
		if !store.Local() {
			http.Error(w, "no local TSDB (storage.local: false): only state.db is backed up", http.StatusNotFound)
			return
		}
		start := time.Now()
		w.Header().Set("Content-Type", "application/x-tar")
		tw := tar.NewWriter(w)
		n, size := 0, int64(0)
		err := store.Backup(r.Context(), func(name string, sz int64, rd io.Reader) error {
			if err := tw.WriteHeader(&tar.Header{Name: "tsdb/" + name, Size: sz, Mode: 0o640, ModTime: time.Now(), Typeflag: tar.TypeReg}); err != nil {
				return err
			}
			_, err := io.Copy(tw, rd)
			n++
			size += sz
			return err
		})
		if err == nil {
			err = tw.WriteHeader(&tar.Header{Name: backupComplete, Size: 3, Mode: 0o640, ModTime: time.Now(), Typeflag: tar.TypeReg})
		}
		if err == nil {
			_, err = tw.Write([]byte("ok\n"))
		}
		if err == nil {
			err = tw.Close()
		}
		if err != nil {
			log.Error("online backup failed", "err", err)
			panic(http.ErrAbortHandler) // the client sees a cut stream
		}
		log.Info("online backup of the TSDB sent", "files", n, "bytes", size, "duration", time.Since(start).Round(time.Millisecond).String())
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelDebug)}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve the admin socket: %w", err)
	}
	os.Remove(ln.Addr().String())
	return nil
}

// FetchBackup asks the collector running on dataDir for a backup of its
// TSDB, or copies the TSDB's files when none runs (holding its lock), and
// emits each file under tsdb/. It returns how the TSDB was backed up:
// online, offline, or none (a collector without a local TSDB).
func FetchBackup(ctx context.Context, dataDir string, emit EmitFunc) (string, error) {
	sock := AdminSocket(dataDir)
	cl := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", sock)
	}}}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://collector"+backupTSDBPath, nil)
	res, err := cl.Do(req)
	if err != nil {
		if !errors.Is(err, syscall.ENOENT) && !errors.Is(err, syscall.ECONNREFUSED) {
			return "", fmt.Errorf("ask the collector on %s: %w", sock, err)
		}
		// No collector: copy the files, holding the TSDB's lock.
		err := OfflineBackup(ctx, filepath.Join(dataDir, "tsdb"), func(name string, size int64, r io.Reader) error {
			return emit(path.Join("tsdb", name), size, r)
		})
		if err != nil {
			return "", fmt.Errorf("%w; a running collector answers on %s (is it from before backups existed, or its data_dir path too long?)", err, sock)
		}
		return "offline", nil
	}
	defer res.Body.Close()
	if res.StatusCode == http.StatusNotFound {
		return "none", nil
	}
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
		return "", fmt.Errorf("the collector answered %s: %s", res.Status, strings.TrimSpace(string(b)))
	}
	tr := tar.NewReader(res.Body)
	complete := false
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return "", fmt.Errorf("read the collector's stream: %w", err)
		}
		if h.Name == backupComplete {
			complete = true
			continue
		}
		if h.Typeflag != tar.TypeReg || !strings.HasPrefix(h.Name, "tsdb/") {
			return "", fmt.Errorf("unexpected entry %q in the collector's stream", h.Name)
		}
		if err := emit(h.Name, h.Size, tr); err != nil {
			return "", err
		}
	}
	if !complete {
		return "", errors.New("the collector's stream ended early (see its log)")
	}
	return "online", nil
}
