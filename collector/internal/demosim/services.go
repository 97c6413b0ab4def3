package demosim

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// Schedule says whether a simulated service is down, or slow, at t.
type Schedule func(t time.Time) (down, slow bool)

// SlowDelay is how long a slow response of the portal takes.
const SlowDelay = 1500 * time.Millisecond

// Services are the Pemda's public services as the demo's agent checks
// them: the web portal and the e-office over HTTP, and the mail server's
// SMTP greeting over TCP, all on loopback.
type Services struct {
	// PortalURL and EOfficeURL are the pages the http plugin checks.
	PortalURL, EOfficeURL string
	// MailAddr is the host:port the tcp plugin checks.
	MailAddr string

	web  *http.Server
	mail net.Listener
}

// StartServices starts the services; portal and eoffice say when each
// is down (an error status) or slow. They stop when ctx ends.
func StartServices(ctx context.Context, portal, eoffice Schedule) (*Services, error) {
	wl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("simulated web services: listen: %w", err)
	}
	ml, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		wl.Close()
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
		PortalURL:  "http://" + wl.Addr().String() + "/",
		EOfficeURL: "http://" + wl.Addr().String() + "/eoffice/",
		MailAddr:   ml.Addr().String(),
		web:        &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second},
		mail:       ml,
	}
	go s.web.Serve(wl)
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
		if err := s.web.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
			s.web.Close()
		}
		ml.Close()
	})
	return s, nil
}
