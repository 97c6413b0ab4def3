package collector

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// certCheckEvery is how often the serving certificate's files are looked
// at for a change.
const certCheckEvery = 10 * time.Second

// certReloader serves the certificate in certFile and keyFile, and loads
// them again when either file changes (a renewed certificate from certbot
// or the Pemda's CA), so renewing it needs no restart. A new pair that
// does not load is logged and the previous one stays in service.
type certReloader struct {
	certFile, keyFile string
	log               *slog.Logger

	mu      sync.Mutex
	cert    *tls.Certificate
	stamp   string    // sizes and modification times of both files
	checked time.Time // last look at the files
}

func newCertReloader(certFile, keyFile string, log *slog.Logger) (*certReloader, error) {
	r := &certReloader{certFile: certFile, keyFile: keyFile, log: log}
	r.stamp = r.fileStamp()
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("load TLS certificate %s and key %s: %w", certFile, keyFile, err)
	}
	r.cert, r.checked = &cert, time.Now()
	return r, nil
}

// fileStamp identifies the files' current contents well enough to notice
// a renewal: size and modification time of each.
func (r *certReloader) fileStamp() string {
	s := ""
	for _, f := range []string{r.certFile, r.keyFile} {
		fi, err := os.Stat(f)
		if err != nil {
			s += "missing;"
			continue
		}
		s += fmt.Sprintf("%d@%d;", fi.Size(), fi.ModTime().UnixNano())
	}
	return s
}

// GetCertificate is tls.Config.GetCertificate.
func (r *certReloader) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if time.Since(r.checked) < certCheckEvery {
		return r.cert, nil
	}
	r.checked = time.Now()
	stamp := r.fileStamp()
	if stamp == r.stamp {
		return r.cert, nil
	}
	r.stamp = stamp // a pair that does not load is logged once per change
	cert, err := tls.LoadX509KeyPair(r.certFile, r.keyFile)
	if err != nil {
		r.log.Error("TLS certificate files changed but do not load; still serving the previous certificate",
			"cert_file", r.certFile, "key_file", r.keyFile, "err", err)
		return r.cert, nil
	}
	r.cert = &cert
	r.log.Info("TLS certificate reloaded", "cert_file", r.certFile, "not_after", cert.Leaf.NotAfter)
	return r.cert, nil
}
