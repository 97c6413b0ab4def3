package collector

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/pantau-noc/pantau/collector/internal/config"
	"github.com/pantau-noc/pantau/collector/internal/remotequery"
	"github.com/pantau-noc/pantau/collector/internal/remotewrite"
	"github.com/pantau-noc/pantau/internal/buildinfo"
)

// endpointAuth is what an engine endpoint's config resolves to: secrets
// read from their files, and the TLS client config.
type endpointAuth struct {
	bearer, user, pass string
	tls                *tls.Config
}

func resolveEndpoint(what string, e config.EndpointConfig) (endpointAuth, error) {
	var a endpointAuth
	read := func(path string) (string, error) {
		b, err := os.ReadFile(path)
		if err != nil {
			return "", fmt.Errorf("%s: read secret: %w", what, err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	var err error
	if e.BearerTokenFile != "" {
		if a.bearer, err = read(e.BearerTokenFile); err != nil {
			return a, err
		}
	}
	if e.BasicAuth != nil {
		a.user = e.BasicAuth.Username
		if a.pass, err = read(e.BasicAuth.PasswordFile); err != nil {
			return a, err
		}
	}
	t := e.TLS
	if t.CAFile == "" && t.CertFile == "" && t.ServerName == "" && !t.InsecureSkipVerify {
		return a, nil
	}
	a.tls = &tls.Config{ServerName: t.ServerName, InsecureSkipVerify: t.InsecureSkipVerify, MinVersion: tls.VersionTLS12} //nolint:gosec // the operator's explicit choice
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return a, fmt.Errorf("%s: read CA: %w", what, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return a, fmt.Errorf("%s: no PEM certificate in %s", what, t.CAFile)
		}
		a.tls.RootCAs = pool
	}
	if t.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return a, fmt.Errorf("%s: load client certificate: %w", what, err)
		}
		a.tls.Certificates = []tls.Certificate{cert}
	}
	return a, nil
}

// openRemoteWrite opens the remote-write queue of the configured engines,
// or returns nil when there are none.
func openRemoteWrite(cfg *config.Config, log *slog.Logger) (*remotewrite.Queue, error) {
	s := cfg.Storage
	if len(s.RemoteWrite) == 0 {
		return nil, nil
	}
	var eps []remotewrite.Endpoint
	for i, rw := range s.RemoteWrite {
		a, err := resolveEndpoint(fmt.Sprintf("storage.remote_write[%d] (%s)", i, rw.Name), rw.EndpointConfig)
		if err != nil {
			return nil, err
		}
		eps = append(eps, remotewrite.Endpoint{
			Name: rw.Name, URL: rw.URL, Headers: rw.Headers,
			BearerToken: a.bearer, BasicUser: a.user, BasicPassword: a.pass, TLS: a.tls,
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

// openRemoteQuery returns the engine's query API as a storage.Queryable,
// or nil when storage.remote_query is not set.
func openRemoteQuery(cfg *config.Config, log *slog.Logger) (*remotequery.Queryable, error) {
	e := cfg.Storage.RemoteQuery
	if e == nil {
		return nil, nil
	}
	a, err := resolveEndpoint("storage.remote_query", *e)
	if err != nil {
		return nil, err
	}
	q, err := remotequery.New(remotequery.Options{
		URL: e.URL, Headers: e.Headers, BearerToken: a.bearer, BasicUser: a.user, BasicPassword: a.pass,
		TLS: a.tls, Timeout: e.Timeout.Std(), Logger: log.With("component", "remote-query"),
	})
	if err != nil {
		return nil, fmt.Errorf("storage.remote_query: %w", err)
	}
	return q, nil
}
