package collector

import (
	"bytes"
	"crypto/x509"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCertReloader: a renewed certificate is served after the next check
// without a restart; a renewal that does not load keeps the previous
// certificate and is logged once.
func TestCertReloader(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "srv.pem"), filepath.Join(dir, "srv.key")
	renew := func(cn string, age time.Duration) *x509.Certificate {
		cert, key := selfSigned(t, cn, nil, nil, false)
		writePEM(t, certFile, "CERTIFICATE", cert.Raw)
		writeKey(t, keyFile, key)
		at := time.Now().Add(age) // distinct modification times
		for _, f := range []string{certFile, keyFile} {
			if err := os.Chtimes(f, at, at); err != nil {
				t.Fatal(err)
			}
		}
		return cert
	}
	served := func(r *certReloader) string {
		c, err := r.GetCertificate(nil)
		if err != nil {
			t.Fatal(err)
		}
		return c.Leaf.Subject.CommonName
	}
	var logs bytes.Buffer
	renew("first", -time.Hour)
	r, err := newCertReloader(certFile, keyFile, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if got := served(r); got != "first" {
		t.Fatalf("serving %q", got)
	}
	renew("second", -time.Minute)
	if got := served(r); got != "first" {
		t.Fatalf("serving %q before the next check", got)
	}
	r.checked = time.Time{} // the check is due
	if got := served(r); got != "second" {
		t.Fatalf("serving %q after the renewal", got)
	}
	if !strings.Contains(logs.String(), "TLS certificate reloaded") {
		t.Errorf("no reload logged:\n%s", logs.String())
	}

	// A half-written renewal: the previous certificate stays.
	if err := os.WriteFile(certFile, []byte("-----BEGIN CERTIFICATE-----\ntruncated"), 0o600); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		r.checked = time.Time{}
		if got := served(r); got != "second" {
			t.Fatalf("serving %q after a bad renewal", got)
		}
	}
	if n := strings.Count(logs.String(), "do not load"); n != 1 {
		t.Errorf("bad renewal logged %d times, want once:\n%s", n, logs.String())
	}

	os.Remove(keyFile)
	if _, err := newCertReloader(certFile, keyFile, slog.New(slog.DiscardHandler)); err == nil || !strings.Contains(err.Error(), keyFile) {
		t.Fatalf("missing key: %v", err)
	}
}
