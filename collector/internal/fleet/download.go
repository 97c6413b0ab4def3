package fleet

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/pantau-noc/pantau/collector/internal/auth"
)

// ParseReleasePath reads the download path's parameters: a version and
// "<os>-<arch>".
func ParseReleasePath(version, platform string) (goos, goarch string, err error) {
	goos, goarch, ok := strings.Cut(platform, "-")
	if !ok {
		return "", "", fmt.Errorf("platform %q: want <os>-<arch>, such as linux-amd64", platform)
	}
	if err := ValidRelease(version, goos, goarch); err != nil {
		return "", "", err
	}
	return goos, goarch, nil
}

// ServeRelease streams a signed release's binary:
// GET /api/v1/fleet/releases/{version}/{os}-{arch} (agent token).
func (s *Server) ServeRelease(w http.ResponseWriter, r *http.Request) {
	if p := auth.FromContext(r.Context()); p == nil || p.Role != auth.RoleAgent {
		http.Error(w, "release downloads need an agent token", http.StatusForbidden)
		return
	}
	goos, goarch, err := ParseReleasePath(r.PathValue("version"), r.PathValue("platform"))
	if err != nil {
		s.m.downloads.WithLabelValues("bad_request").Inc()
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	version := r.PathValue("version")
	if s.o.Releases == nil {
		s.m.downloads.WithLabelValues("not_found").Inc()
		http.Error(w, "no release store on this collector", http.StatusNotFound)
		return
	}
	f, m, err := s.o.Releases.Open(version, goos, goarch)
	if err != nil {
		s.m.downloads.WithLabelValues("not_found").Inc()
		if !isNotExist(err) {
			s.o.Logger.Warn("opening a release failed", "version", version, "os", goos, "arch", goarch, "err", err)
		}
		http.Error(w, fmt.Sprintf("no signed release %s for %s/%s (pantau-collector release sign)", version, goos, goarch), http.StatusNotFound)
		return
	}
	defer f.Close()
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.FormatInt(m.Size, 10))
	w.Header().Set("X-Pantau-Release-SHA256", m.SHA256)
	s.m.downloads.WithLabelValues("ok").Inc()
	n, _ := io.Copy(w, io.LimitReader(f, m.Size))
	s.m.downloadBytes.Add(float64(n))
}
