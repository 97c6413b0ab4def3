package config

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"strings"
)

// EndpointAuth is what an engine endpoint's config resolves to: secrets
// read from their files, and the TLS client config (nil for the
// defaults).
type EndpointAuth struct {
	Bearer, User, Password string
	TLS                    *tls.Config
}

// Resolve reads the endpoint's secret files and TLS files; what names
// the endpoint in errors (storage.remote_query, ...).
func (e EndpointConfig) Resolve(what string) (EndpointAuth, error) {
	var a EndpointAuth
	read := func(path string) (string, error) {
		b, err := os.ReadFile(path)
		if err != nil {
			return "", fmt.Errorf("%s: read secret: %w", what, err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	var err error
	if e.BearerTokenFile != "" {
		if a.Bearer, err = read(e.BearerTokenFile); err != nil {
			return a, err
		}
	}
	if e.BasicAuth != nil {
		a.User = e.BasicAuth.Username
		if a.Password, err = read(e.BasicAuth.PasswordFile); err != nil {
			return a, err
		}
	}
	t := e.TLS
	if t.CAFile == "" && t.CertFile == "" && t.ServerName == "" && !t.InsecureSkipVerify {
		return a, nil
	}
	a.TLS = &tls.Config{ServerName: t.ServerName, InsecureSkipVerify: t.InsecureSkipVerify, MinVersion: tls.VersionTLS12} //nolint:gosec // the operator's explicit choice
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return a, fmt.Errorf("%s: read CA: %w", what, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return a, fmt.Errorf("%s: no PEM certificate in %s", what, t.CAFile)
		}
		a.TLS.RootCAs = pool
	}
	if t.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return a, fmt.Errorf("%s: load client certificate: %w", what, err)
		}
		a.TLS.Certificates = []tls.Certificate{cert}
	}
	return a, nil
}
