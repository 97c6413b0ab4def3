package collector

import (
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/pantau-noc/pantau/collector/internal/config"
	"github.com/pantau-noc/pantau/collector/internal/remotewrite"
	"github.com/pantau-noc/pantau/internal/buildinfo"
)

// openRemoteWrite opens the remote-write queue of the configured engines,
// or returns nil when there are none.
func openRemoteWrite(cfg *config.Config, log *slog.Logger) (*remotewrite.Queue, error) {
	s := cfg.Storage
	if len(s.RemoteWrite) == 0 {
		return nil, nil
	}
	var eps []remotewrite.Endpoint
	for i, rw := range s.RemoteWrite {
		a, err := rw.Resolve(fmt.Sprintf("storage.remote_write[%d] (%s)", i, rw.Name))
		if err != nil {
			return nil, err
		}
		eps = append(eps, remotewrite.Endpoint{
			Name: rw.Name, URL: rw.URL, Headers: rw.Headers,
			BearerToken: a.Bearer, BasicUser: a.User, BasicPassword: a.Password, TLS: a.TLS,
			Timeout: rw.Timeout.Std(), Shards: rw.Shards,
		})
	}
	q, err := remotewrite.Open(remotewrite.Options{
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
