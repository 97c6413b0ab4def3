package collector

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestRecoverPanics: a panicking handler answers 500 with an id that the
// ERROR log carries with the stack, and the server goes on.
func TestRecoverPanics(t *testing.T) {
	var logs bytes.Buffer
	mux := http.NewServeMux()
	mux.HandleFunc("/boom", func(http.ResponseWriter, *http.Request) { panic("makeslice: len out of range") })
	mux.HandleFunc("/ok", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok")) })
	srv := httptest.NewServer(recoverPanics(mux, slog.New(slog.NewTextHandler(&logs, nil))))
	defer srv.Close()
	res, err := http.Get(srv.URL + "/boom")
	if err != nil {
		t.Fatal(err)
	}
	var body bytes.Buffer
	body.ReadFrom(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusInternalServerError || !strings.Contains(body.String(), "internal error (id ") {
		t.Fatalf("panic answered %d %q", res.StatusCode, body.String())
	}
	id := strings.TrimSuffix(strings.SplitN(body.String(), "(id ", 2)[1][:12], ")")
	if l := logs.String(); !strings.Contains(l, "level=ERROR") || !strings.Contains(l, "error_id="+id) ||
		!strings.Contains(l, "makeslice: len out of range") || !strings.Contains(l, "middleware.go") {
		t.Errorf("log does not carry the error with id %s and its stack:\n%s", id, l)
	}
	res, err = http.Get(srv.URL + "/ok")
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("server after a panic: %v %v", res, err)
	}
	res.Body.Close()
}
