package remotequery

import (
	"fmt"
	"log/slog"

	"github.com/pantau-noc/pantau/collector/internal/config"
)

// FromConfig returns the engine's query API that storage.remote_query (e)
// names, or nil when e is nil: for the daemon and for the commands that
// read samples from a remote-only collector.
func FromConfig(e *config.EndpointConfig, log *slog.Logger) (*Queryable, error) {
	if e == nil {
		return nil, nil
	}
	a, err := e.Resolve("storage.remote_query")
	if err != nil {
		return nil, err
	}
	q, err := New(Options{
		URL: e.URL, Headers: e.Headers, BearerToken: a.Bearer, BasicUser: a.User, BasicPassword: a.Password,
		TLS: a.TLS, Timeout: e.Timeout.Std(), Logger: log.With("component", "remote-query"),
	})
	if err != nil {
		return nil, fmt.Errorf("storage.remote_query: %w", err)
	}
	return q, nil
}
