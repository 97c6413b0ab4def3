package fleet

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"os"

	"github.com/pantau-noc/pantau/internal/fleetproto"
)

// TrustTLS is the client TLS config for the collector the agent enrolled
// with; caFile holds the certificate pinned at enrolment
// (collector-ca.pem), host is the collector URL's host. The collector's
// certificate chain is accepted when
//
//   - some certificate of it has the public key pinned at enrolment: the
//     certificate was renewed with the same key (certbot --reuse-key, a
//     self-signed certificate made again, the Pemda's CA issuing a new one
//     for the same key); the key is the identity, as at enrolment, so the
//     certificate's dates and names are not checked; or
//   - it verifies for host against the system's roots and the pinned
//     certificate: a certificate of a public CA renewed with a new key.
//
// Trusting only the pinned certificate as a root, as before, lost the
// collector at its first renewal: a renewed certificate is another
// certificate, and the CA that issued it is not a root the agent had.
func TrustTLS(caFile, host string) (*tls.Config, error) {
	b, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("read the collector certificate: %w", err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("%s holds no PEM certificate", caFile)
	}
	pinned, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", caFile, err)
	}
	roots, err := x509.SystemCertPool()
	if err != nil {
		roots = x509.NewCertPool()
	}
	roots.AddCert(pinned)
	pin := fleetproto.SPKIPin(pinned)
	return &tls.Config{
		MinVersion:         tls.VersionTLS12,
		InsecureSkipVerify: true, // replaced by VerifyConnection
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("the collector presented no certificate")
			}
			if _, err := fleetproto.PinnedCert(cs, pin[:]); err == nil {
				return nil
			}
			inter := x509.NewCertPool()
			for _, c := range cs.PeerCertificates[1:] {
				inter.AddCert(c)
			}
			if _, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, DNSName: host}); err != nil {
				return fmt.Errorf("the collector's certificate has neither the key pinned at enrolment (%s) nor a chain to a trusted root: %w", caFile, err)
			}
			return nil
		},
	}, nil
}

// URLHost is the host of a URL (without port or brackets), for TrustTLS.
func URLHost(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Hostname()
}
