package probe

import (
	"bufio"
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
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/plugins/sdk"
)

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
	if p.Measurement != "tcp" {
		t.Errorf("measurement = %q, want tcp", p.Measurement)
	}
	if p.Time.IsZero() || p.Tags["target"] == "" {
		t.Errorf("time %v, tags %v", p.Time, p.Tags)
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
	if v, ok := p.Fields["connect_seconds"].(float64); !ok || v <= 0 {
		t.Errorf("connect_seconds = %#v", p.Fields["connect_seconds"])
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

// server accepts connections on 127.0.0.1 and runs handle on each. Close
// stops it and waits for the handlers, which must return once done is
// closed.
type server struct {
	ln   net.Listener
	done chan struct{}
	wg   sync.WaitGroup
}

func serve(t *testing.T, ln net.Listener, handle func(c net.Conn, done <-chan struct{})) *server {
	t.Helper()
	s := &server{ln: ln, done: make(chan struct{})}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(5 * time.Second))
				handle(c, s.done)
			}()
		}
	}()
	t.Cleanup(func() {
		close(s.done)
		ln.Close()
		s.wg.Wait()
	})
	return s
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

func (s *server) addr() string { return s.ln.Addr().String() }

// smtpLike greets with a banner and answers EHLO with a multi-line reply.
func smtpLike(c net.Conn, _ <-chan struct{}) {
	fmt.Fprint(c, "220 mail.example.go.id ESMTP ready\r\n")
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return
	}
	if strings.HasPrefix(line, "EHLO ") {
		time.Sleep(20 * time.Millisecond) // a second packet
		fmt.Fprint(c, "250-mail.example.go.id\r\n250 OK\r\n")
	}
}

// silent accepts and never writes.
func silent(_ net.Conn, done <-chan struct{}) { <-done }

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
		DNSNames:              []string{"localhost", "mail.example.go.id"},
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

func TestPlainConnect(t *testing.T) {
	s := serve(t, listen(t), smtpLike)
	p := probeOne(t, testTimeout, Config{Name: "mx", Address: s.addr()})
	wantUp(t, p)
	if p.Tags["target"] != "mx" || p.Tags["address"] != s.addr() {
		t.Errorf("tags = %v", p.Tags)
	}
	for _, f := range []string{"response_match", "tls_handshake_seconds", "tls_cert_expiry_seconds", "tls_version"} {
		if _, ok := p.Fields[f]; ok {
			t.Errorf("unexpected field %s", f)
		}
	}
}

func TestBannerExpect(t *testing.T) {
	s := serve(t, listen(t), smtpLike)

	p := probeOne(t, testTimeout, Config{Name: "mx", Address: s.addr(), Expect: `^220 `})
	wantUp(t, p)
	if p.Fields["response_match"] != int64(1) {
		t.Errorf("response_match = %v", p.Fields["response_match"])
	}

	// The EHLO reply arrives in a second read after the banner.
	p = probeOne(t, testTimeout, Config{Address: s.addr(), Send: "EHLO pantau\r\n", Expect: `(?m)^250 OK`})
	wantUp(t, p)
	if p.Tags["target"] != s.addr() {
		t.Errorf("default target = %q, want the address", p.Tags["target"])
	}

	// The server closes after its banner; the expectation is never met.
	p = probeOne(t, testTimeout, Config{Name: "mx", Address: s.addr(), Send: "QUIT\r\n", Expect: `^554`})
	wantDown(t, p, "response did not match")
	if p.Fields["response_match"] != int64(0) {
		t.Errorf("response_match = %v", p.Fields["response_match"])
	}
}

func TestResponseLimit(t *testing.T) {
	s := serve(t, listen(t), func(c net.Conn, done <-chan struct{}) {
		c.Write([]byte(strings.Repeat("x", MaxResponseBytes) + "MARKER"))
		<-done
	})
	// MARKER lies beyond the first 4 KiB: no match, and no waiting for the
	// deadline either.
	start := time.Now()
	p := probeOne(t, testTimeout, Config{Name: "big", Address: s.addr(), Expect: "MARKER"})
	wantDown(t, p, "response did not match")
	if d := time.Since(start); d > time.Second {
		t.Errorf("probe took %v; it should stop after %d bytes", d, MaxResponseBytes)
	}
}

func TestTLS(t *testing.T) {
	cert, pool := selfSignedCert(t, 48*time.Hour)
	ln := tls.NewListener(listen(t), &tls.Config{Certificates: []tls.Certificate{cert}})
	s := serve(t, ln, func(c net.Conn, _ <-chan struct{}) {
		fmt.Fprint(c, "+OK POP3 ready\r\n")
	})

	p := probeOne(t, testTimeout, Config{Name: "pop3s", Address: s.addr(), TLS: true, RootCAs: pool, Expect: `^\+OK`})
	wantUp(t, p)
	if p.Fields["response_match"] != int64(1) {
		t.Errorf("response_match = %v", p.Fields["response_match"])
	}
	if v, ok := p.Fields["tls_handshake_seconds"].(float64); !ok || v <= 0 {
		t.Errorf("tls_handshake_seconds = %#v", p.Fields["tls_handshake_seconds"])
	}
	if v, _ := p.Fields["tls_version"].(string); !strings.HasPrefix(v, "TLS 1.") {
		t.Errorf("tls_version = %q", v)
	}
	const day = 24 * 60 * 60
	if v, ok := p.Fields["tls_cert_expiry_seconds"].(float64); !ok || v < day || v > 2*day {
		t.Errorf("tls_cert_expiry_seconds = %#v, want between 1 and 2 days", p.Fields["tls_cert_expiry_seconds"])
	}

	// The name in server_name is checked against the certificate.
	wantUp(t, probeOne(t, testTimeout, Config{Name: "pop3s", Address: s.addr(), TLS: true, RootCAs: pool, ServerName: "mail.example.go.id"}))
	wantDown(t, probeOne(t, testTimeout, Config{Name: "pop3s", Address: s.addr(), TLS: true, RootCAs: pool, ServerName: "other.example.go.id"}),
		"not valid for other.example.go.id")

	// Unknown issuer, unless verification is off.
	wantDown(t, probeOne(t, testTimeout, Config{Name: "pop3s", Address: s.addr(), TLS: true, RootCAs: x509.NewCertPool()}), "unknown authority")
	p = probeOne(t, testTimeout, Config{Name: "pop3s", Address: s.addr(), TLS: true, RootCAs: x509.NewCertPool(), InsecureSkipVerify: true})
	wantUp(t, p)

	// CAFile.
	dir := t.TempDir()
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Leaf.Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	wantUp(t, probeOne(t, testTimeout, Config{Name: "pop3s", Address: s.addr(), TLS: true, CAFile: caFile}))
	wantDown(t, probeOne(t, testTimeout, Config{Name: "pop3s", Address: s.addr(), TLS: true, CAFile: filepath.Join(dir, "nope.pem")}), "ca_file")
}

func TestRefused(t *testing.T) {
	ln := listen(t)
	addr := ln.Addr().String()
	ln.Close()
	p := probeOne(t, testTimeout, Config{Name: "closed", Address: addr})
	wantDown(t, p, "connection refused")
	if _, ok := p.Fields["connect_seconds"]; ok {
		t.Error("connect_seconds reported for a failed connect")
	}
}

func TestNeverAnswers(t *testing.T) {
	s := serve(t, listen(t), silent)
	start := time.Now()
	p := probeOne(t, 300*time.Millisecond, Config{Name: "quiet", Address: s.addr(), Expect: "^220"})
	if d := time.Since(start); d > time.Second {
		t.Errorf("probe took %v with a 300ms deadline", d)
	}
	wantDown(t, p, "timeout waiting for response")
	if p.Fields["response_match"] != int64(0) {
		t.Errorf("response_match = %v", p.Fields["response_match"])
	}
	if _, ok := p.Fields["connect_seconds"].(float64); !ok {
		t.Error("connect_seconds missing although the connect succeeded")
	}
}

func TestCanceledContext(t *testing.T) {
	s := serve(t, listen(t), silent)
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	pts := Probe(ctx, Config{Name: "quiet", Address: s.addr(), Expect: "x"}, nil)
	if d := time.Since(start); d > time.Second {
		t.Errorf("probe took %v after cancel", d)
	}
	if len(pts) != 1 || pts[0].Fields["up"] != int64(0) {
		t.Fatalf("points = %+v", pts)
	}
	if msg, _ := pts[0].Fields["error"].(string); msg != "canceled waiting for response" {
		t.Errorf("error = %q", msg)
	}
}

func TestTLSHandshakeFailure(t *testing.T) {
	s := serve(t, listen(t), smtpLike)
	p := probeOne(t, testTimeout, Config{Name: "notls", Address: s.addr(), TLS: true})
	wantDown(t, p, "TLS handshake failed")
	if _, ok := p.Fields["tls_cert_expiry_seconds"]; ok {
		t.Error("tls_cert_expiry_seconds reported without a handshake")
	}

	// A server that closes at once.
	s = serve(t, listen(t), func(net.Conn, <-chan struct{}) {})
	wantDown(t, probeOne(t, testTimeout, Config{Name: "notls", Address: s.addr(), TLS: true}), "TLS handshake")

	// A server that says nothing: the handshake times out.
	s = serve(t, listen(t), silent)
	wantDown(t, probeOne(t, 300*time.Millisecond, Config{Name: "notls", Address: s.addr(), TLS: true}), "timeout during TLS handshake")
}

func TestInvalidConfigProbe(t *testing.T) {
	p := probeOne(t, testTimeout, Config{Name: "bad", Address: "no-port"})
	wantDown(t, p, "address")
	p = probeOne(t, testTimeout, Config{})
	wantDown(t, p, "address is required")
	if p.Tags["target"] != "unknown" {
		t.Errorf("target = %q", p.Tags["target"])
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		c       Config
		wantErr string
	}{
		{"minimal", Config{Address: "mail.go.id:25"}, ""},
		{"ipv6", Config{Address: "[2001:db8::1]:443", TLS: true}, ""},
		{"missing", Config{}, "address is required"},
		{"no port", Config{Address: "mail.go.id"}, "field address"},
		{"no host", Config{Address: ":25"}, "address has no host"},
		{"port zero", Config{Address: "h:0"}, `port "0"`},
		{"port too big", Config{Address: "h:70000"}, `port "70000"`},
		{"named port", Config{Address: "h:smtp"}, `port "smtp"`},
		{"server name without tls", Config{Address: "h:1", ServerName: "x"}, "server_name requires tls"},
		{"ca file without tls", Config{Address: "h:1", CAFile: "/x"}, "ca_file requires tls"},
		{"insecure without tls", Config{Address: "h:1", InsecureSkipVerify: true}, "insecure_skip_verify requires tls"},
		{"bad expect", Config{Address: "h:1", Expect: "[a-"}, "field expect"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.c
			err := c.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate() = %v", err)
				}
				if c.Name != c.Address {
					t.Errorf("Name = %q, want the address", c.Name)
				}
				if c.TLS && c.ServerName == "" {
					t.Error("ServerName default not applied")
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Validate() = %v, want an error containing %q", err, tt.wantErr)
			}
			if !errors.Is(err, ErrInvalidConfig) {
				t.Errorf("error %v does not wrap ErrInvalidConfig", err)
			}
		})
	}
	c := Config{Address: "[2001:db8::1]:443", TLS: true}
	if err := c.Validate(); err != nil || c.ServerName != "2001:db8::1" {
		t.Errorf("ServerName = %q, err %v", c.ServerName, err)
	}
	named := Config{Name: "smtp", Address: "x"}
	if err := named.Validate(); err == nil || !strings.Contains(err.Error(), `"smtp"`) {
		t.Errorf("error %v does not name the target", err)
	}
}

func TestExampleValidates(t *testing.T) {
	var c Config
	if err := decodeAndValidate([]byte(Example), &c); err != nil {
		t.Fatalf("Example does not validate: %v", err)
	}
	if c.Send != "EHLO pantau.sorongkab.go.id\r\n" {
		t.Errorf("send = %q", c.Send)
	}
}
