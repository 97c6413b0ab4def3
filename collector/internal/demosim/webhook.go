package demosim

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Webhook receives the demo collector's alert notifications (its
// `webhook` notifier) and appends each, one JSON document per line, to a
// file, as a chat would show them.
type Webhook struct {
	// URL is the endpoint the notifier posts to.
	URL string
	// File is where the notifications are appended.
	File string

	received atomic.Int64
	mu       sync.Mutex
}

// StartWebhook starts the sink on loopback; it stops when ctx ends.
func StartWebhook(ctx context.Context, file string) (*Webhook, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("demo webhook: listen: %w", err)
	}
	w := &Webhook{URL: "http://" + ln.Addr().String() + "/notify", File: file}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /notify", func(rw http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(rw, err.Error(), http.StatusBadRequest)
			return
		}
		w.mu.Lock()
		defer w.mu.Unlock()
		f, err := os.OpenFile(file, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			http.Error(rw, err.Error(), http.StatusInternalServerError)
			return
		}
		defer f.Close()
		if _, err := f.Write(append(body, '\n')); err != nil {
			http.Error(rw, err.Error(), http.StatusInternalServerError)
			return
		}
		w.received.Add(1)
		rw.WriteHeader(http.StatusNoContent)
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	context.AfterFunc(ctx, func() { srv.Close() })
	return w, nil
}

// Received is how many notifications arrived.
func (w *Webhook) Received() int64 { return w.received.Load() }
