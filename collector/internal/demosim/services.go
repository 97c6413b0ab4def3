package demosim

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// selfSigned makes a certificate for 127.0.0.1 that expires at notAfter
// (to the second).
func selfSigned(notAfter time.Time) (tls.Certificate, []byte, time.Time, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, time.Time{}, fmt.Errorf("portal key: %w", err)
	}
	notAfter = notAfter.Truncate(time.Second)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "portal.sorongkab.go.id (Pantau demo)", Organization: []string{"Pemerintah Kabupaten Sorong"}},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     notAfter,
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:         true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, time.Time{}, fmt.Errorf("portal certificate: %w", err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), notAfter, nil
}

// Schedule says whether a simulated service is down, or slow, at t.
type Schedule func(t time.Time) (down, slow bool)

// SlowDelay is how long a slow response of the portal takes.
const SlowDelay = 1500 * time.Millisecond

// CertValidity is how long the portal's certificate is valid from the
// demo's start: a certificate that expires soon, for the dashboards.
const CertValidity = 25 * 24 * time.Hour

// Services are the Pemda's public services as the demo's agent checks
// them: the web portal over HTTPS and the e-office over HTTP, and the
// mail server's SMTP greeting over TCP, all on loopback.
type Services struct {
	// PortalURL and EOfficeURL are the pages the http plugin checks.
	PortalURL, EOfficeURL string
	// CAFile is the PEM of the portal's self-signed certificate, for the
	// http plugin's ca_file.
	CAFile string
	// CertNotAfter is when the portal's certificate expires.
	CertNotAfter time.Time
	// MailAddr is the host:port the tcp plugin checks.
	MailAddr string

	web  *http.Server
	mail net.Listener
}

// StartServices starts the services; portal and eoffice say when each
// is down (an error status) or slow. The portal's certificate is written
// to dir. They stop when ctx ends.
func StartServices(ctx context.Context, dir string, portal, eoffice Schedule) (*Services, error) {
	cert, certPEM, notAfter, err := selfSigned(time.Now().Add(CertValidity))
	if err != nil {
		return nil, err
	}
	caFile := filepath.Join(dir, "portal-ca.pem")
	if err := os.WriteFile(caFile, certPEM, 0o644); err != nil {
		return nil, fmt.Errorf("write the portal's certificate: %w", err)
	}
	wl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("simulated web services: listen: %w", err)
	}
	tl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		wl.Close()
		return nil, fmt.Errorf("simulated portal: listen: %w", err)
	}
	ml, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		wl.Close()
		tl.Close()
		return nil, fmt.Errorf("simulated mail server: listen: %w", err)
	}
	mux := http.NewServeMux()
	page := func(s Schedule, title string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			down, slow := s(time.Now())
			if slow {
				select {
				case <-time.After(SlowDelay):
				case <-r.Context().Done():
					return
				}
			}
			if down {
				http.Error(w, "503 Service Unavailable: pemeliharaan server aplikasi", http.StatusServiceUnavailable)
				return
			}
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprintf(w, "<!doctype html><title>%s</title><h1>%s</h1><p>Pemerintah Kabupaten Sorong</p>\n", title, title)
		}
	}
	mux.HandleFunc("/", page(portal, "Portal Resmi Pemerintah Kabupaten Sorong"))
	mux.HandleFunc("/eoffice/", page(eoffice, "E-Office Kabupaten Sorong"))
	s := &Services{
		PortalURL:    "https://" + tl.Addr().String() + "/",
		EOfficeURL:   "http://" + wl.Addr().String() + "/eoffice/",
		CAFile:       caFile,
		CertNotAfter: notAfter,
		MailAddr:     ml.Addr().String(),
		web:          &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second},
		mail:         ml,
	}
	go s.web.Serve(wl)
	go s.web.Serve(tls.NewListener(tl, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}))
	go func() {
		for {
			c, err := ml.Accept()
			if err != nil {
				return
			}
			c.SetDeadline(time.Now().Add(5 * time.Second))
			c.Write([]byte("220 mail.sorongkab.go.id ESMTP siap\r\n"))
			c.Close()
		}
	}()
	context.AfterFunc(ctx, func() {
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if err := s.web.Shutdown(sctx); err != nil {
			s.web.Close() // connections still open after 2 s
		}
		ml.Close()
	})
	return s, nil
}
