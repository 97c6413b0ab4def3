package collector

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"

	"github.com/pantau-noc/pantau/collector/internal/storage"
)

// errorID returns a short random id that ties a 500 to its log line.
func errorID() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// internalError answers 500 with an id and logs err at ERROR under the
// same id (with stack, when there is one): the caller sees that something
// broke and can quote the id, the log has the details.
func internalError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error, stack []byte) {
	id := errorID()
	attrs := []any{"error_id", id, "method", r.Method, "path", r.URL.Path, "err", err}
	if stack != nil {
		attrs = append(attrs, "stack", string(stack))
	}
	log.Error("request failed with an internal error", attrs...)
	http.Error(w, fmt.Sprintf("internal error (id %s): the collector logged the details", id), http.StatusInternalServerError)
}

// recoverPanics turns a panic in a handler into a 500 with an id logged at
// ERROR, so that no request can take the collector down or fail unseen
// (net/http's own recovery logs at the server's debug level only).
// Goroutines a handler starts recover their own panics (report.Build).
func recoverPanics(next http.Handler, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tw := &trackingWriter{ResponseWriter: w}
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler { //nolint:errorlint // a sentinel value, compared as net/http does
				panic(v)
			}
			err, ok := v.(error)
			if !ok {
				err = fmt.Errorf("panic: %v", v)
			}
			if tw.wrote {
				// The answer has begun: log it and cut the connection so the
				// client does not take half an answer for a whole one.
				log.Error("request panicked after its answer began", "method", r.Method, "path", r.URL.Path, "err", err, "stack", string(debug.Stack()))
				panic(http.ErrAbortHandler)
			}
			internalError(w, r, log, err, debug.Stack())
		}()
		next.ServeHTTP(tw, r)
	})
}

// trackingWriter notes whether the answer has begun. Unwrap lets
// http.ResponseController reach the connection (read deadlines, flush).
type trackingWriter struct {
	http.ResponseWriter
	wrote bool
}

func (t *trackingWriter) WriteHeader(code int) {
	t.wrote = true
	t.ResponseWriter.WriteHeader(code)
}

func (t *trackingWriter) Write(b []byte) (int, error) {
	t.wrote = true
	return t.ResponseWriter.Write(b)
}

func (t *trackingWriter) Flush() {
	t.wrote = true
	if f, ok := t.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (t *trackingWriter) Unwrap() http.ResponseWriter { return t.ResponseWriter }

var _ http.Flusher = (*trackingWriter)(nil)

// whileReopening answers the query API with 503 and Retry-After while the
// store closes and opens its TSDB again after a write failure (seconds),
// instead of the query error the closed TSDB would give.
func whileReopening(next http.Handler, store *storage.Store) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/api/v1/") && r.URL.Path != "/api/v1/alerts" && r.URL.Path != "/api/v1/rules" && store.Reopening() {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Retry-After", "5")
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintf(w, `{"status":"error","errorType":"unavailable","error":%q}`+"\n",
				"the TSDB is being reopened after a write failure; retry in a few seconds")
			return
		}
		next.ServeHTTP(w, r)
	})
}
