package remotewrite

import (
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/pantau-noc/pantau/collector/internal/config"
	"github.com/pantau-noc/pantau/internal/buildinfo"
)

// FromConfig opens the remote-write queue of the engines that
// storage.remote_write names (in cfg.DataDir/remote_write), or returns nil
// when there are none: for the daemon.
func FromConfig(cfg *config.Config, log *slog.Logger) (*Queue, error) {
	s := cfg.Storage
	if len(s.RemoteWrite) == 0 {
		return nil, nil
	}
	var eps []Endpoint
	for i, rw := range s.RemoteWrite {
		a, err := rw.Resolve(fmt.Sprintf("storage.remote_write[%d] (%s)", i, rw.Name))
		if err != nil {
			return nil, err
		}
		eps = append(eps, Endpoint{
			Name: rw.Name, URL: rw.URL, Headers: rw.Headers,
			BearerToken: a.Bearer, BasicUser: a.User, BasicPassword: a.Password, TLS: a.TLS,
			Timeout: rw.Timeout.Std(), Shards: rw.Shards,
		})
	}
	q, err := Open(Options{
		Dir:                  filepath.Join(cfg.DataDir, "remote_write"),
		Endpoints:            eps,
		MaxBytes:             s.RemoteQueue.MaxSizeBytes,
		MaxAge:               s.RemoteQueue.MaxAge.Std(),
		MaxSamplesPerRequest: s.RemoteQueue.MaxSamplesPerRequest,
		UserAgent:            "pantau-collector/" + buildinfo.Version,
		Logger:               log.With("component", "remote-write"),
	})
	if err != nil {
		return nil, fmt.Errorf("open remote-write queue: %w", err)
	}
	return q, nil
}
