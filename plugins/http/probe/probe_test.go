package probe

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/plugins/sdk"
)

// testTimeout bounds every probe in these tests.
const testTimeout = 2 * time.Second

func probeOne(t *testing.T, timeout time.Duration, c Config) sdk.Point {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	pts := Probe(ctx, c, time.Now)
	if len(pts) != 1 {
		t.Fatalf("Probe returned %d points, want 1", len(pts))
	}
	p := pts[0]
	if p.Measurement != "http" {
		t.Errorf("measurement = %q, want http", p.Measurement)
	}
	if p.Time.IsZero() {
		t.Error("point time is zero")
	}
	if p.Tags["target"] == "" {
		t.Error("target tag is empty")
	}
	for k, v := range p.Fields {
		switch v.(type) {
		case float64, int64, uint64, bool, string:
		default:
			t.Errorf("field %s has unsupported type %T", k, v)
		}
	}
	return p
}

func wantUp(t *testing.T, p sdk.Point) {
	t.Helper()
	if p.Fields["up"] != int64(1) {
		t.Fatalf("up = %v, want 1 (error %q); fields %v", p.Fields["up"], p.Fields["error"], p.Fields)
	}
	if _, ok := p.Fields["error"]; ok {
		t.Errorf("error field present on success: %v", p.Fields["error"])
	}
}

func wantDown(t *testing.T, p sdk.Point, errSubstr string) {
	t.Helper()
	if p.Fields["up"] != int64(0) {
		t.Fatalf("up = %v, want 0; fields %v", p.Fields["up"], p.Fields)
	}
	msg, _ := p.Fields["error"].(string)
	if msg == "" {
		t.Fatalf("error field missing or empty; fields %v", p.Fields)
	}
	if !strings.Contains(msg, errSubstr) {
		t.Errorf("error = %q, want it to contain %q", msg, errSubstr)
	}
	t.Logf("error field: %s", msg)
}

func floatField(t *testing.T, p sdk.Point, name string) float64 {
	t.Helper()
	v, ok := p.Fields[name].(float64)
	if !ok {
		t.Fatalf("field %s = %#v, want float64", name, p.Fields[name])
	}
	return v
}

// selfSignedCert returns a certificate for 127.0.0.1 and localhost that is
// valid from an hour ago for validFor, and a pool trusting it.
func selfSignedCert(t *testing.T, validFor time.Duration) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(now.UnixNano()),
		Subject:               pkix.Name{CommonName: "pantau test"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(validFor),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

func tlsPool(srv *httptest.Server) *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	return pool
}

func hello(w http.ResponseWriter, _ *http.Request) {
	io.WriteString(w, "hello pantau")
}

func TestPlain(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(hello))
	defer srv.Close()

	u := strings.Replace(srv.URL, "http://", "http://user:secret@", 1) + "/status?token=abc"
	p := probeOne(t, testTimeout, Config{Name: "portal", URL: u})
	wantUp(t, p)
	if got, want := p.Tags["url"], srv.URL+"/status"; got != want {
		t.Errorf("url tag = %q, want %q", got, want)
	}
	if p.Tags["target"] != "portal" || p.Tags["method"] != "GET" {
		t.Errorf("tags = %v", p.Tags)
	}
	if p.Fields["status_code"] != int64(200) {
		t.Errorf("status_code = %v", p.Fields["status_code"])
	}
	if p.Fields["http_version"] != "HTTP/1.1" {
		t.Errorf("http_version = %v", p.Fields["http_version"])
	}
	if p.Fields["content_length_bytes"] != int64(len("hello pantau")) {
		t.Errorf("content_length_bytes = %v", p.Fields["content_length_bytes"])
	}
	if p.Fields["redirects"] != int64(0) {
		t.Errorf("redirects = %v", p.Fields["redirects"])
	}
	ttfb, total := floatField(t, p, "time_to_first_byte_seconds"), floatField(t, p, "total_seconds")
	if ttfb <= 0 || total < ttfb || total > testTimeout.Seconds() {
		t.Errorf("ttfb = %v, total = %v", ttfb, total)
	}
	for _, f := range []string{"tls_version", "tls_cert_expiry_seconds", "content_match"} {
		if _, ok := p.Fields[f]; ok {
			t.Errorf("unexpected field %s on plain http without content_match", f)
		}
	}
}

func TestDefaultTargetName(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(hello))
	defer srv.Close()
	p := probeOne(t, testTimeout, Config{URL: srv.URL + "/x?q=1"})
	wantUp(t, p)
	if p.Tags["target"] != srv.URL+"/x" {
		t.Errorf("target = %q, want the redacted URL", p.Tags["target"])
	}
}

func TestHeadersAndHEAD(t *testing.T) {
	var mu sync.Mutex
	var gotMethod, gotHost, gotHeader, gotUA string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		gotMethod, gotHost, gotHeader, gotUA = r.Method, r.Host, r.Header.Get("X-Pantau"), r.UserAgent()
		mu.Unlock()
		io.WriteString(w, "ignored for HEAD")
	}))
	defer srv.Close()
	p := probeOne(t, testTimeout, Config{
		Name:    "head",
		URL:     srv.URL,
		Method:  "head",
		Headers: map[string]string{"X-Pantau": "yes", "Host": "portal.example.go.id"},
	})
	wantUp(t, p)
	mu.Lock()
	defer mu.Unlock()
	if gotMethod != "HEAD" || gotHost != "portal.example.go.id" || gotHeader != "yes" || gotUA != UserAgent {
		t.Errorf("server saw method %q host %q header %q ua %q", gotMethod, gotHost, gotHeader, gotUA)
	}
	if p.Tags["method"] != "HEAD" {
		t.Errorf("method tag = %q", p.Tags["method"])
	}
	if p.Fields["content_length_bytes"] != int64(0) {
		t.Errorf("content_length_bytes = %v, want 0 for HEAD", p.Fields["content_length_bytes"])
	}
}

func TestTLS(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(hello))
	defer srv.Close()

	p := probeOne(t, testTimeout, Config{Name: "tls", URL: srv.URL, RootCAs: tlsPool(srv)})
	wantUp(t, p)
	if v, _ := p.Fields["tls_version"].(string); !strings.HasPrefix(v, "TLS 1.") {
		t.Errorf("tls_version = %q", v)
	}
	want := time.Until(srv.Certificate().NotAfter).Seconds()
	if got := floatField(t, p, "tls_cert_expiry_seconds"); got > want+1 || got < want-60 {
		t.Errorf("tls_cert_expiry_seconds = %v, want about %v", got, want)
	}
	if p.Fields["http_version"] != "HTTP/1.1" {
		t.Errorf("http_version = %v", p.Fields["http_version"])
	}
}

func TestTLSUnknownAuthority(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(hello))
	defer srv.Close()

	p := probeOne(t, testTimeout, Config{Name: "tls", URL: srv.URL, RootCAs: x509.NewCertPool()})
	wantDown(t, p, "unknown authority")

	p = probeOne(t, testTimeout, Config{Name: "tls", URL: srv.URL, RootCAs: x509.NewCertPool(), InsecureSkipVerify: true})
	wantUp(t, p)
	floatField(t, p, "tls_cert_expiry_seconds")
}

func TestCAFile(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(hello))
	defer srv.Close()

	dir := t.TempDir()
	caFile := filepath.Join(dir, "ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(caFile, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	wantUp(t, probeOne(t, testTimeout, Config{Name: "ca", URL: srv.URL, CAFile: caFile}))

	p := probeOne(t, testTimeout, Config{Name: "ca", URL: srv.URL, CAFile: filepath.Join(dir, "missing.pem")})
	wantDown(t, p, "ca_file")

	notPEM := filepath.Join(dir, "bad.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	p = probeOne(t, testTimeout, Config{Name: "ca", URL: srv.URL, CAFile: notPEM})
	wantDown(t, p, "no PEM certificates")
}

func TestHTTP2(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(hello))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()

	p := probeOne(t, testTimeout, Config{Name: "h2", URL: srv.URL, RootCAs: tlsPool(srv), ContentMatch: "pantau"})
	wantUp(t, p)
	if p.Fields["http_version"] != "HTTP/2.0" {
		t.Errorf("http_version = %v, want HTTP/2.0", p.Fields["http_version"])
	}
	if p.Fields["content_match"] != int64(1) {
		t.Errorf("content_match = %v", p.Fields["content_match"])
	}
	if p.Fields["content_length_bytes"] != int64(len("hello pantau")) {
		t.Errorf("content_length_bytes = %v", p.Fields["content_length_bytes"])
	}
}

func TestCertExpiringSoon(t *testing.T) {
	cert, pool := selfSignedCert(t, 48*time.Hour)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(hello))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.StartTLS()
	defer srv.Close()

	p := probeOne(t, testTimeout, Config{Name: "soon", URL: srv.URL, RootCAs: pool})
	wantUp(t, p)
	const day = 24 * 60 * 60
	if got := floatField(t, p, "tls_cert_expiry_seconds"); got < day || got > 2*day {
		t.Errorf("tls_cert_expiry_seconds = %v, want between %d and %d", got, day, 2*day)
	}

	// With a clock three days ahead, the certificate has expired: the
	// expiry goes negative (verification uses the real clock).
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	pts := Probe(ctx, Config{Name: "soon", URL: srv.URL, RootCAs: pool}, func() time.Time {
		return time.Now().Add(72 * time.Hour)
	})
	if got := pts[0].Fields["tls_cert_expiry_seconds"].(float64); got >= 0 {
		t.Errorf("tls_cert_expiry_seconds = %v with a clock past NotAfter, want negative", got)
	}
}

func TestExpiredCertificate(t *testing.T) {
	cert, pool := selfSignedCert(t, -time.Minute)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(hello))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.StartTLS()
	defer srv.Close()

	wantDown(t, probeOne(t, testTimeout, Config{Name: "expired", URL: srv.URL, RootCAs: pool}), "expired")

	p := probeOne(t, testTimeout, Config{Name: "expired", URL: srv.URL, InsecureSkipVerify: true})
	wantUp(t, p)
	if got := floatField(t, p, "tls_cert_expiry_seconds"); got >= 0 {
		t.Errorf("tls_cert_expiry_seconds = %v, want negative", got)
	}
}

func redirectMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/a", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/b", http.StatusFound) })
	mux.HandleFunc("/b", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/c", http.StatusMovedPermanently) })
	mux.HandleFunc("/c", hello)
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/loop", http.StatusFound) })
	return mux
}

func TestRedirectsFollowed(t *testing.T) {
	srv := httptest.NewServer(redirectMux())
	defer srv.Close()

	p := probeOne(t, testTimeout, Config{Name: "r", URL: srv.URL + "/a", ContentMatch: "hello"})
	wantUp(t, p)
	if p.Fields["redirects"] != int64(2) || p.Fields["status_code"] != int64(200) {
		t.Errorf("redirects = %v, status_code = %v; want 2, 200", p.Fields["redirects"], p.Fields["status_code"])
	}
	if p.Tags["url"] != srv.URL+"/a" {
		t.Errorf("url tag = %q, want the configured URL", p.Tags["url"])
	}

	p = probeOne(t, testTimeout, Config{Name: "loop", URL: srv.URL + "/loop"})
	wantDown(t, p, "stopped after 10 redirects")
	if p.Fields["redirects"] != int64(MaxRedirects) {
		t.Errorf("redirects = %v, want %d", p.Fields["redirects"], MaxRedirects)
	}
}

func TestRedirectsNotFollowed(t *testing.T) {
	srv := httptest.NewServer(redirectMux())
	defer srv.Close()
	no := false

	p := probeOne(t, testTimeout, Config{Name: "r", URL: srv.URL + "/a", FollowRedirects: &no})
	wantUp(t, p) // 302 is a 3xx: up by default
	if p.Fields["status_code"] != int64(302) || p.Fields["redirects"] != int64(0) {
		t.Errorf("status_code = %v, redirects = %v; want 302, 0", p.Fields["status_code"], p.Fields["redirects"])
	}

	p = probeOne(t, testTimeout, Config{Name: "r", URL: srv.URL + "/a", FollowRedirects: &no, ExpectStatus: []int{302}})
	wantUp(t, p)

	p = probeOne(t, testTimeout, Config{Name: "r", URL: srv.URL + "/a", FollowRedirects: &no, ExpectStatus: []int{200}})
	wantDown(t, p, "unexpected status 302")
	if p.Fields["status_code"] != int64(302) {
		t.Errorf("status_code = %v", p.Fields["status_code"])
	}
}

func TestContentMatch(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, "<title>Pemerintah Kabupaten Sorong</title>"+strings.Repeat("x", 5000)+"TAIL")
	}))
	defer srv.Close()

	p := probeOne(t, testTimeout, Config{Name: "m", URL: srv.URL, ContentMatch: `Pemerintah\s+Kabupaten`})
	wantUp(t, p)
	if p.Fields["content_match"] != int64(1) {
		t.Errorf("content_match = %v, want 1", p.Fields["content_match"])
	}

	p = probeOne(t, testTimeout, Config{Name: "m", URL: srv.URL, ContentMatch: "Kota Jayapura"})
	wantDown(t, p, "content did not match")
	if p.Fields["content_match"] != int64(0) {
		t.Errorf("content_match = %v, want 0", p.Fields["content_match"])
	}

	// The tail lies beyond max_body_bytes and is not seen.
	p = probeOne(t, testTimeout, Config{Name: "m", URL: srv.URL, ContentMatch: "TAIL", MaxBodyBytes: 1000})
	wantDown(t, p, "content did not match")
	if p.Fields["content_length_bytes"] != int64(1000) {
		t.Errorf("content_length_bytes = %v, want 1000", p.Fields["content_length_bytes"])
	}
}

func TestWrongStatus(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "broken", http.StatusInternalServerError)
	}))
	defer srv.Close()

	p := probeOne(t, testTimeout, Config{Name: "s", URL: srv.URL})
	wantDown(t, p, "unexpected status 500")
	if p.Fields["status_code"] != int64(500) {
		t.Errorf("status_code = %v", p.Fields["status_code"])
	}
	floatField(t, p, "total_seconds")

	wantUp(t, probeOne(t, testTimeout, Config{Name: "s", URL: srv.URL, ExpectStatus: []int{500, 503}}))
}

func TestTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slowbody" {
			io.WriteString(w, "partial")
			w.(http.Flusher).Flush()
		}
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)

	start := time.Now()
	p := probeOne(t, 300*time.Millisecond, Config{Name: "slow", URL: srv.URL})
	if d := time.Since(start); d > time.Second {
		t.Errorf("probe took %v with a 300ms deadline", d)
	}
	wantDown(t, p, "timeout")
	if msg := p.Fields["error"].(string); !strings.Contains(msg, "waiting for response") {
		t.Errorf("error = %q, want it to name the phase", msg)
	}

	p = probeOne(t, 300*time.Millisecond, Config{Name: "slow", URL: srv.URL + "/slowbody"})
	wantDown(t, p, "timeout")
	if p.Fields["status_code"] != int64(200) {
		t.Errorf("status_code = %v, want 200 (headers arrived)", p.Fields["status_code"])
	}
}

func TestTLSHandshakeTimeout(t *testing.T) {
	// A listener that accepts but never speaks TLS.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	done := make(chan struct{})
	defer close(done)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { <-done; c.Close() }()
		}
	}()
	p := probeOne(t, 300*time.Millisecond, Config{Name: "hs", URL: "https://" + ln.Addr().String() + "/"})
	wantDown(t, p, "timeout during TLS handshake")
}

func TestConnectionRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()

	p := probeOne(t, testTimeout, Config{Name: "closed", URL: "http://" + addr + "/"})
	wantDown(t, p, "connection refused")
}

func TestProxy(t *testing.T) {
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "origin says hello via "+r.Header.Get("Via"))
	}))
	defer origin.Close()

	var mu sync.Mutex
	var seen []string
	upstream := &http.Transport{}
	defer upstream.CloseIdleConnections()
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.RequestURI)
		mu.Unlock()
		if !r.URL.IsAbs() {
			http.Error(w, "not a proxy request", http.StatusBadRequest)
			return
		}
		out, err := http.NewRequestWithContext(r.Context(), r.Method, r.URL.String(), nil)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		out.Header = r.Header.Clone()
		out.Header.Set("Via", "1.1 test-proxy")
		resp, err := upstream.RoundTrip(out)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
	}))
	defer proxy.Close()

	p := probeOne(t, testTimeout, Config{
		Name:         "proxied",
		URL:          origin.URL + "/page?x=1",
		Proxy:        proxy.URL,
		ContentMatch: "via 1.1 test-proxy",
	})
	wantUp(t, p)
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 1 || seen[0] != origin.URL+"/page?x=1" {
		t.Errorf("proxy saw request URIs %q, want [%q]", seen, origin.URL+"/page?x=1")
	}

	// Without a proxy the origin is reached directly.
	p = probeOne(t, testTimeout, Config{Name: "direct", URL: origin.URL, ContentMatch: "via $"})
	wantUp(t, p)
	if len(seen) != 1 {
		t.Errorf("proxy saw %d requests, want 1", len(seen))
	}
}

func TestInvalidConfigProbe(t *testing.T) {
	p := probeOne(t, testTimeout, Config{Name: "bad", URL: "ftp://example.go.id/"})
	wantDown(t, p, "url")
	if p.Tags["target"] != "bad" {
		t.Errorf("target = %q", p.Tags["target"])
	}
	p = probeOne(t, testTimeout, Config{})
	wantDown(t, p, "url")
}

func TestNoDeadlineAndNilClock(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(hello))
	defer srv.Close()
	pts := Probe(context.Background(), Config{URL: srv.URL}, nil)
	if len(pts) != 1 || pts[0].Fields["up"] != int64(1) {
		t.Fatalf("points = %+v", pts)
	}
}

func TestValidate(t *testing.T) {
	yes := true
	tests := []struct {
		name    string
		c       Config
		wantErr string // substring; "" means valid
	}{
		{"minimal", Config{URL: "https://sorongkab.go.id/"}, ""},
		{"missing url", Config{Name: "x"}, "url is required"},
		{"bad scheme", Config{URL: "ftp://x/"}, `field url scheme "ftp"`},
		{"no host", Config{URL: "http:///path"}, "url has no host"},
		{"unparsable url", Config{URL: "http://[::1"}, "field url"},
		{"bad method", Config{URL: "http://x/", Method: "POST"}, "field method"},
		{"bad status", Config{URL: "http://x/", ExpectStatus: []int{200, 999}}, "field expect_status 999"},
		{"bad regexp", Config{URL: "http://x/", ContentMatch: "("}, "field content_match"},
		{"head with match", Config{URL: "http://x/", Method: "HEAD", ContentMatch: "a"}, "content_match requires method GET"},
		{"negative max body", Config{URL: "http://x/", MaxBodyBytes: -1}, "field max_body_bytes"},
		{"bad proxy scheme", Config{URL: "http://x/", Proxy: "socks5://p:1080"}, "field proxy"},
		{"proxy without host", Config{URL: "http://x/", Proxy: "http://"}, "proxy has no host"},
		{"env proxy", Config{URL: "http://x/", Proxy: "env"}, ""},
		{"bad header name", Config{URL: "http://x/", Headers: map[string]string{"Bad Header": "v"}}, "field headers"},
		{"header injection", Config{URL: "http://x/", Headers: map[string]string{"X": "a\r\nB: c"}}, "field headers"},
		{"all set", Config{Name: "n", URL: "HTTPS://x:8443/p", Method: "get", ExpectStatus: []int{200}, ContentMatch: "a", MaxBodyBytes: 10, FollowRedirects: &yes, Proxy: "http://proxy:3128", CAFile: "/etc/ssl/ca.pem"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.c
			err := c.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				if c.Name == "" || c.Method == "" || c.MaxBodyBytes <= 0 || c.FollowRedirects == nil {
					t.Errorf("defaults not applied: %+v", c)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil, want error containing %q", tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Validate() = %q, want it to contain %q", err, tt.wantErr)
			}
			if !errors.Is(err, ErrInvalidConfig) {
				t.Errorf("error %v does not wrap ErrInvalidConfig", err)
			}
		})
	}

	c := Config{URL: "http://x/"}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Method != "GET" || c.MaxBodyBytes != DefaultMaxBodyBytes || !*c.FollowRedirects || c.Name != "http://x/" {
		t.Errorf("defaults = %+v", c)
	}
	named := Config{Name: "portal", URL: "gopher://x/"}
	if err := named.Validate(); err == nil || !strings.Contains(err.Error(), `"portal"`) {
		t.Errorf("error %v does not name the target", err)
	}
}

func TestExampleValidates(t *testing.T) {
	var c Config
	if err := decodeAndValidate([]byte(Example), &c); err != nil {
		t.Fatalf("Example does not validate: %v", err)
	}
	if c.ContentMatch == "" || len(c.ExpectStatus) != 1 {
		t.Errorf("Example decoded to %+v", c)
	}
}

func ExampleProbe() {
	srv := httptest.NewServer(http.HandlerFunc(hello))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	p := Probe(ctx, Config{Name: "local", URL: srv.URL, ContentMatch: "pantau"}, time.Now)[0]
	fmt.Println(p.Measurement, p.Tags["target"], p.Fields["up"], p.Fields["status_code"], p.Fields["content_match"])
	// Output: http local 1 200 1
}
