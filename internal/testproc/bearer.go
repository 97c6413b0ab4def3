package testproc

import (
	"net/http"
	"time"
)

// BearerClient is an HTTP client that sends "Authorization: Bearer
// token" with every request that does not carry its own Authorization
// header: the reader tests use against an authenticated collector.
func BearerClient(token string, timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, Transport: Bearer(token, nil)}
}

// Bearer wraps base (nil: http.DefaultTransport) to add the token.
func Bearer(token string, base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return bearer{token: token, base: base}
}

type bearer struct {
	token string
	base  http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Header.Get("Authorization") != "" {
		return b.base.RoundTrip(r)
	}
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.base.RoundTrip(r)
}
