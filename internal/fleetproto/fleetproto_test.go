package fleetproto

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestCodeRoundTrip(t *testing.T) {
	pin := sha256.Sum256([]byte("spki"))
	for _, c := range []Code{
		{ID: "abcd2345", Secret: strings.Repeat("q", 32)},
		{ID: "abcd2345", Secret: strings.Repeat("q", 32), Pin: pin[:]},
	} {
		s := c.String()
		got, err := ParseCode(s)
		if err != nil {
			t.Fatalf("ParseCode(%q): %v", s, err)
		}
		if got.ID != c.ID || got.Secret != c.Secret || !bytes.Equal(got.Pin, c.Pin) {
			t.Fatalf("ParseCode(%q) = %+v, want %+v", s, got, c)
		}
		// Read out over the phone: upper case and stray space.
		if up, err := ParseCode("  " + strings.ToUpper(s) + "\n"); err != nil || up.Secret != c.Secret || !bytes.Equal(up.Pin, c.Pin) {
			t.Fatalf("upper-case %q: %+v, %v", s, up, err)
		}
	}
}

func TestParseCodeRefuses(t *testing.T) {
	good := "PNT1-abcd2345-" + strings.Repeat("q", 32)
	for name, s := range map[string]string{
		"empty":        "",
		"prefix":       "XYZ1-abcd2345-" + strings.Repeat("q", 32),
		"short secret": "PNT1-abcd2345-qqqq",
		"bad alphabet": "PNT1-abcd2345-" + strings.Repeat("1", 32),
		"short id":     "PNT1-ab-" + strings.Repeat("q", 32),
		"bad pin":      good + "-zzzz",
		"extra part":   good + "-" + Encode(make([]byte, 32)) + "-x",
		"too long":     good + strings.Repeat("q", MaxCodeLength),
	} {
		if _, err := ParseCode(s); !errors.Is(err, ErrBadCode) {
			t.Errorf("%s: ParseCode(%q) = %v, want ErrBadCode", name, s, err)
		}
	}
}

func TestPinnedTLS(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") }))
	defer srv.Close()
	pin := SPKIPin(srv.Certificate())
	get := func(p []byte) error {
		tr := &http.Transport{TLSClientConfig: PinnedTLS(p)}
		defer tr.CloseIdleConnections()
		resp, err := (&http.Client{Transport: tr}).Get(srv.URL)
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
	if err := get(pin[:]); err != nil {
		t.Fatalf("the right pin: %v", err)
	}
	wrong := sha256.Sum256([]byte("another key"))
	if err := get(wrong[:]); err == nil || !strings.Contains(err.Error(), ErrPinMismatch.Error()) {
		t.Fatalf("a wrong pin: err = %v, want %v", err, ErrPinMismatch)
	}
	c, err := PinnedCert(tls.ConnectionState{PeerCertificates: []*x509.Certificate{srv.Certificate()}}, pin[:])
	if err != nil || !c.Equal(srv.Certificate()) {
		t.Fatalf("PinnedCert: %v, %v", c, err)
	}
}

func TestReleaseSignature(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	sum := sha256.Sum256([]byte("binary"))
	sig := ed25519.Sign(priv, ReleaseMessage("1.2.3", "linux", "arm64", sum[:]))
	pubPEM, _ := MarshalPublicKey(pub)
	privPEM, _ := MarshalPrivateKey(priv)
	pub2, err := ParsePublicKey(pubPEM)
	if err != nil || !pub2.Equal(pub) {
		t.Fatalf("ParsePublicKey: %v", err)
	}
	if priv2, err := ParsePrivateKey(privPEM); err != nil || !priv2.Equal(priv) {
		t.Fatalf("ParsePrivateKey: %v", err)
	}
	if err := VerifyRelease(pub2, "1.2.3", "linux", "arm64", sum[:], sig); err != nil {
		t.Fatal(err)
	}
	other := sha256.Sum256([]byte("other"))
	for name, f := range map[string]func() error{
		"version":  func() error { return VerifyRelease(pub, "1.2.4", "linux", "arm64", sum[:], sig) },
		"platform": func() error { return VerifyRelease(pub, "1.2.3", "linux", "amd64", sum[:], sig) },
		"file":     func() error { return VerifyRelease(pub, "1.2.3", "linux", "arm64", other[:], sig) },
		"short":    func() error { return VerifyRelease(pub, "1.2.3", "linux", "arm64", sum[:4], sig) },
	} {
		if f() == nil {
			t.Errorf("a signature verified for another %s", name)
		}
	}
	if _, err := ParsePublicKey(privPEM); err == nil {
		t.Error("a private key parsed as a public key")
	}
}

func FuzzParseCode(f *testing.F) {
	f.Add("PNT1-abcd2345-" + strings.Repeat("q", 32))
	f.Add("PNT1-abcd2345-" + strings.Repeat("q", 32) + "-" + Encode(make([]byte, 32)))
	f.Add("pnt1--")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCode(s)
		if err != nil {
			return
		}
		again, err := ParseCode(c.String())
		if err != nil || again.ID != c.ID || again.Secret != c.Secret || !bytes.Equal(again.Pin, c.Pin) {
			t.Fatalf("%q parsed to %+v, which does not round-trip: %+v, %v", s, c, again, err)
		}
	})
}

func FuzzParsePublicKey(f *testing.F) {
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	b, _ := MarshalPublicKey(pub)
	f.Add(b)
	f.Add([]byte("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if k, err := ParsePublicKey(b); err == nil && len(k) != ed25519.PublicKeySize {
			t.Fatalf("a %d-byte key parsed", len(k))
		}
	})
}
