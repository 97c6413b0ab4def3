package probe

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/pantau-noc/pantau/plugins/internal/svccheck"
	"github.com/pantau-noc/pantau/plugins/sdk"
)

// Measurement is the measurement name of the points Probe returns.
const Measurement = "http"

// DefaultTimeout bounds a check whose context has no deadline.
const DefaultTimeout = svccheck.DefaultTimeout

// UserAgent is sent unless Config.Headers sets one.
const UserAgent = "pantau-http-probe/1"

// Probe runs one HTTP check against c and returns exactly one point. It
// never panics. On failure the point has up=0 and an "error" field with a
// short reason; the fields measured before the failure are kept. The
// context's deadline bounds the whole check: dial, TLS handshake, request,
// redirects and body read. now supplies the point time and the reference
// for the certificate expiry; nil means time.Now.
func Probe(ctx context.Context, c Config, now func() time.Time) []sdk.Point {
	return svccheck.Run(ctx, Measurement, now,
		func(tags map[string]string) error {
			verr := c.Validate()
			setTags(tags, &c)
			return verr
		},
		func(ctx context.Context, now func() time.Time, f map[string]any) error { return check(ctx, &c, now, f) })
}

func setTags(tags map[string]string, c *Config) {
	target := strings.TrimSpace(c.Name)
	tagURL := c.URL
	if c.parsedURL != nil {
		tagURL = redactURL(c.parsedURL)
	} else if u, err := url.Parse(c.URL); err == nil {
		tagURL = redactURL(u)
	}
	if target == "" {
		target = tagURL
	}
	if target == "" {
		target = "unknown"
	}
	method := strings.ToUpper(strings.TrimSpace(c.Method))
	if method == "" {
		method = DefaultMethod
	}
	tags["target"] = target
	tags["url"] = tagURL
	tags["method"] = method
}

// phaseTracker records which part of the exchange is in progress, for
// error messages. httptrace hooks may run on other goroutines.
type phaseTracker struct {
	mu        sync.Mutex
	phase     string
	firstByte time.Time
}

func (p *phaseTracker) set(phase string) {
	p.mu.Lock()
	p.phase = phase
	p.mu.Unlock()
}

func (p *phaseTracker) get() (string, time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.phase, p.firstByte
}

func check(ctx context.Context, c *Config, now func() time.Time, f map[string]any) error {
	tlsConf, err := svccheck.TLSConfig("", c.InsecureSkipVerify, c.RootCAs, c.CAFile)
	if err != nil {
		return err
	}
	tr := &http.Transport{
		DialContext:            (&net.Dialer{}).DialContext,
		TLSClientConfig:        tlsConf,
		ForceAttemptHTTP2:      true,
		MaxResponseHeaderBytes: 1 << 20,
	}
	switch {
	case c.proxyURL != nil:
		tr.Proxy = http.ProxyURL(c.proxyURL)
	case c.Proxy == ProxyFromEnvironment:
		tr.Proxy = http.ProxyFromEnvironment
	}
	defer tr.CloseIdleConnections()

	var redirects int
	client := &http.Client{
		Transport: tr,
		CheckRedirect: func(_ *http.Request, via []*http.Request) error {
			if !*c.FollowRedirects {
				return http.ErrUseLastResponse
			}
			if len(via) > MaxRedirects {
				return errTooManyRedirects
			}
			redirects = len(via)
			return nil
		},
	}

	pt := &phaseTracker{phase: "during connect"}
	trace := &httptrace.ClientTrace{
		DNSStart:          func(httptrace.DNSStartInfo) { pt.set("during DNS lookup") },
		ConnectStart:      func(string, string) { pt.set("during connect") },
		TLSHandshakeStart: func() { pt.set("during TLS handshake") },
		WroteRequest:      func(httptrace.WroteRequestInfo) { pt.set("waiting for response") },
		GotFirstResponseByte: func() {
			pt.mu.Lock()
			pt.firstByte = time.Now()
			pt.phase = "reading response headers"
			pt.mu.Unlock()
		},
	}

	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), c.Method, c.URL, nil)
	if err != nil {
		return fmt.Errorf("build request for %s: %w", redactURL(c.parsedURL), err)
	}
	req.Header.Set("User-Agent", UserAgent)
	for k, v := range c.Headers {
		if strings.EqualFold(k, "Host") {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}

	start := time.Now()
	resp, err := client.Do(req)
	f["redirects"] = int64(redirects)
	if err != nil {
		f["total_seconds"] = time.Since(start).Seconds()
		if errors.Is(err, errTooManyRedirects) {
			return errTooManyRedirects
		}
		phase, _ := pt.get()
		return errors.New(svccheck.Reason(ctx, err, phase))
	}
	defer resp.Body.Close()

	_, firstByte := pt.get()
	if !firstByte.IsZero() {
		f["time_to_first_byte_seconds"] = firstByte.Sub(start).Seconds()
	}
	f["status_code"] = int64(resp.StatusCode)
	f["http_version"] = resp.Proto
	if resp.TLS != nil {
		f["tls_version"] = tls.VersionName(resp.TLS.Version)
		if len(resp.TLS.PeerCertificates) > 0 {
			f["tls_cert_expiry_seconds"] = resp.TLS.PeerCertificates[0].NotAfter.Sub(now()).Seconds()
		}
	}

	pt.set("reading body")
	limited := io.LimitReader(resp.Body, c.MaxBodyBytes)
	var body []byte
	var n int64
	if c.contentRE != nil {
		body, err = io.ReadAll(limited)
		n = int64(len(body))
	} else {
		n, err = io.Copy(io.Discard, limited)
	}
	f["content_length_bytes"] = n
	f["total_seconds"] = time.Since(start).Seconds()
	if err != nil {
		return errors.New(svccheck.Reason(ctx, err, "reading body"))
	}

	matched := true
	if c.contentRE != nil {
		matched = c.contentRE.Match(body)
		f["content_match"] = svccheck.BoolInt(matched)
	}
	if !c.statusOK(resp.StatusCode) {
		return fmt.Errorf("unexpected status %d", resp.StatusCode)
	}
	if !matched {
		return errors.New("content did not match")
	}
	return nil
}

var errTooManyRedirects = fmt.Errorf("stopped after %d redirects", MaxRedirects)

func (c *Config) statusOK(code int) bool {
	if len(c.ExpectStatus) == 0 {
		return code >= 200 && code <= 399
	}
	for _, s := range c.ExpectStatus {
		if s == code {
			return true
		}
	}
	return false
}
