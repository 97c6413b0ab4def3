package fleet

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"
)

type issuer struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

var serial int64

// issue makes a certificate for ip with key, signed by by (self-signed
// when nil); ca makes it a CA.
func issue(t *testing.T, by *issuer, key *ecdsa.PrivateKey, ip string, ca bool, notAfter time.Time) issuer {
	t.Helper()
	serial++
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: ip},
		NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: notAfter, IPAddresses: []net.IP{net.ParseIP(ip)},
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: ca}
	parent, signer := tmpl, key
	if by != nil {
		parent, signer = by.cert, by.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, signer)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return issuer{c, key}
}

// TestTrustTLS: the agent pinned a certificate at enrolment; the
// collector's renewed certificates keep working when they have the same
// key, or chain to the pinned certificate for the right host; another
// key from a CA the agent does not trust is refused.
func TestTrustTLS(t *testing.T) {
	later := time.Now().Add(24 * time.Hour)
	ca := issue(t, nil, newKey(t), "10.0.0.1", true, later) // the Pemda's CA, not a system root
	k := newKey(t)
	enrolled := issue(t, &ca, k, "127.0.0.1", false, later)
	selfCA := issue(t, nil, newKey(t), "127.0.0.1", true, later) // a self-signed collector that signs its own leaves

	for _, c := range []struct {
		name   string
		pinned issuer
		chain  []issuer
		ok     bool
	}{
		{"the enrolled certificate", enrolled, []issuer{enrolled, ca}, true},
		{"renewed with the same key by the same CA", enrolled, []issuer{issue(t, &ca, k, "127.0.0.1", false, later), ca}, true},
		{"the same key, self-signed, expired, another name", enrolled, []issuer{issue(t, nil, k, "10.9.9.9", false, time.Now().Add(-time.Hour))}, true},
		{"a new key by the same CA (not a root of the agent's)", enrolled, []issuer{issue(t, &ca, newKey(t), "127.0.0.1", false, later), ca}, false},
		{"a new key, self-signed", enrolled, []issuer{issue(t, nil, newKey(t), "127.0.0.1", false, later)}, false},
		{"a new key chained to the pinned certificate", selfCA, []issuer{issue(t, &selfCA, newKey(t), "127.0.0.1", false, later)}, true},
		{"chained to the pinned certificate for another host", selfCA, []issuer{issue(t, &selfCA, newKey(t), "127.0.0.2", false, later)}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			caFile := filepath.Join(t.TempDir(), "collector-ca.pem")
			if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.pinned.cert.Raw}), 0o600); err != nil {
				t.Fatal(err)
			}
			var cert tls.Certificate
			for _, i := range c.chain {
				cert.Certificate = append(cert.Certificate, i.cert.Raw)
			}
			cert.PrivateKey = c.chain[0].key
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
			srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
			srv.StartTLS()
			defer srv.Close()
			tc, err := TrustTLS(caFile, URLHost(srv.URL))
			if err != nil {
				t.Fatal(err)
			}
			res, err := (&http.Client{Transport: &http.Transport{TLSClientConfig: tc}}).Get(srv.URL)
			if err == nil {
				res.Body.Close()
			}
			if ok := err == nil; ok != c.ok {
				t.Fatalf("accepted %v, want %v (err %v)", ok, c.ok, err)
			}
		})
	}
}
