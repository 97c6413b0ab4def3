// Package probe implements the HTTP(S) service check of the pantau http
// plugin: it requests a URL, optionally follows redirects and matches the
// body against a regular expression, and reports timings, status and TLS
// certificate expiry as a single point.
package probe

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// Defaults applied by Validate.
const (
	DefaultMethod       = "GET"
	DefaultMaxBodyBytes = 1 << 20 // 1 MiB
	MaxRedirects        = 10
)

// ProxyFromEnvironment is the Proxy value that selects the proxy from the
// HTTP_PROXY, HTTPS_PROXY and NO_PROXY environment variables.
const ProxyFromEnvironment = "env"

// ErrInvalidConfig is wrapped by every error Validate returns.
var ErrInvalidConfig = errors.New("invalid config")

// Example is a JSON configuration for one target, used in documentation.
const Example = `{
  "url": "https://sorongkab.go.id/",
  "method": "GET",
  "headers": {"Accept-Language": "id"},
  "expect_status": [200],
  "content_match": "Pemerintah Kabupaten",
  "max_body_bytes": 1048576,
  "follow_redirects": true
}`

// Config is the per-target configuration of the HTTP check.
type Config struct {
	// Name is the target name, used as the "target" tag. When empty,
	// Validate sets it to the URL without query or userinfo.
	Name string `json:"name"`
	// URL to request; the scheme must be http or https.
	URL string `json:"url"`
	// Method is GET (default) or HEAD.
	Method string `json:"method"`
	// Headers are added to the request. A "Host" entry overrides the Host
	// header. On redirects, headers are carried over as net/http does:
	// Authorization and Cookie are dropped when the host changes.
	Headers map[string]string `json:"headers"`
	// ExpectStatus lists the final status codes that count as up. When
	// empty, any 2xx or 3xx final status counts as up.
	ExpectStatus []int `json:"expect_status"`
	// ContentMatch is a regular expression (RE2 syntax) the body must
	// match. Only the first MaxBodyBytes bytes of the body are examined.
	ContentMatch string `json:"content_match"`
	// MaxBodyBytes caps how much of the body is read (default 1 MiB).
	MaxBodyBytes int64 `json:"max_body_bytes"`
	// FollowRedirects defaults to true; at most MaxRedirects are followed.
	FollowRedirects *bool `json:"follow_redirects"`
	// Proxy is an http:// or https:// forward proxy URL, "env" to take
	// the proxy from the environment, or "" (default) for no proxy.
	Proxy string `json:"proxy"`
	// InsecureSkipVerify disables TLS certificate verification. The
	// certificate expiry is still reported.
	InsecureSkipVerify bool `json:"insecure_skip_verify"`
	// CAFile is a PEM file of additional trusted root certificates,
	// added to the system roots.
	CAFile string `json:"ca_file"`
	// RootCAs, when set, replaces the trusted roots entirely. It cannot
	// be set from JSON; it exists for tests and embedding programs.
	RootCAs *x509.CertPool `json:"-"`

	contentRE *regexp.Regexp
	parsedURL *url.URL
	proxyURL  *url.URL
}

// Validate checks the configuration and applies defaults. It does not read
// CAFile; a missing or invalid file is reported by Probe.
func (c *Config) Validate() error {
	c.URL = strings.TrimSpace(c.URL)
	if c.URL == "" {
		return c.fieldError("url", "is required")
	}
	u, err := url.Parse(c.URL)
	if err != nil {
		return c.fieldErrorWrap("url", err)
	}
	u.Scheme = strings.ToLower(u.Scheme)
	if u.Scheme != "http" && u.Scheme != "https" {
		return c.fieldError("url", fmt.Sprintf("scheme %q not supported (want http or https)", u.Scheme))
	}
	if u.Host == "" || u.Hostname() == "" {
		return c.fieldError("url", "has no host")
	}
	c.parsedURL = u
	if strings.TrimSpace(c.Name) == "" {
		c.Name = redactURL(u)
	}

	c.Method = strings.ToUpper(strings.TrimSpace(c.Method))
	switch c.Method {
	case "":
		c.Method = DefaultMethod
	case "GET", "HEAD":
	default:
		return c.fieldError("method", fmt.Sprintf("%q not supported (want GET or HEAD)", c.Method))
	}

	for k, v := range c.Headers {
		if !validHeaderName(k) {
			return c.fieldError("headers", fmt.Sprintf("invalid header name %q", k))
		}
		if strings.ContainsAny(v, "\r\n\x00") {
			return c.fieldError("headers", fmt.Sprintf("value of %q contains a control character", k))
		}
	}

	for _, s := range c.ExpectStatus {
		if s < 100 || s > 599 {
			return c.fieldError("expect_status", fmt.Sprintf("%d is not an HTTP status code (100-599)", s))
		}
	}

	if c.MaxBodyBytes < 0 {
		return c.fieldError("max_body_bytes", "must not be negative")
	}
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = DefaultMaxBodyBytes
	}

	c.contentRE = nil
	if c.ContentMatch != "" {
		if c.Method == "HEAD" {
			return c.fieldError("content_match", "requires method GET (HEAD responses have no body)")
		}
		re, err := regexp.Compile(c.ContentMatch)
		if err != nil {
			return c.fieldErrorWrap("content_match", err)
		}
		c.contentRE = re
	}

	if c.FollowRedirects == nil {
		t := true
		c.FollowRedirects = &t
	}

	c.proxyURL = nil
	switch p := strings.TrimSpace(c.Proxy); p {
	case "", ProxyFromEnvironment:
		c.Proxy = p
	default:
		pu, err := url.Parse(p)
		if err != nil {
			return c.fieldErrorWrap("proxy", err)
		}
		if pu.Scheme != "http" && pu.Scheme != "https" {
			return c.fieldError("proxy", fmt.Sprintf("scheme %q not supported (want http, https or the word %q)", pu.Scheme, ProxyFromEnvironment))
		}
		if pu.Host == "" {
			return c.fieldError("proxy", "has no host")
		}
		c.Proxy = p
		c.proxyURL = pu
	}

	c.CAFile = strings.TrimSpace(c.CAFile)
	return nil
}

func (c *Config) label() string {
	if c.Name != "" {
		return fmt.Sprintf("http target %q", c.Name)
	}
	return "http target"
}

func (c *Config) fieldError(field, msg string) error {
	return fmt.Errorf("%s: %w: field %s %s", c.label(), ErrInvalidConfig, field, msg)
}

func (c *Config) fieldErrorWrap(field string, err error) error {
	return fmt.Errorf("%s: %w: field %s: %w", c.label(), ErrInvalidConfig, field, err)
}

// validHeaderName reports whether s is a non-empty RFC 9110 token.
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case ch >= 'a' && ch <= 'z', ch >= 'A' && ch <= 'Z', ch >= '0' && ch <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", ch) >= 0:
		default:
			return false
		}
	}
	return true
}

// redactURL returns scheme://host/path: no userinfo, query or fragment.
func redactURL(u *url.URL) string {
	r := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path, RawPath: u.RawPath}
	return r.String()
}
