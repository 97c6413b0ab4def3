package fleet

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/pantau-noc/pantau/agent/internal/config"
	"github.com/pantau-noc/pantau/internal/fleetproto"
)

// enrollServer implements POST /api/v1/enroll for one code.
type enrollServer struct {
	mu   sync.Mutex
	code string
	used bool
	reqs []fleetproto.EnrollRequest
}

func (e *enrollServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != fleetproto.EnrollPath || r.Method != http.MethodPost {
		http.NotFound(w, r)
		return
	}
	var req fleetproto.EnrollRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, `{"message":"malformed"}`, http.StatusBadRequest)
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.reqs = append(e.reqs, req)
	if req.Code != e.code || e.used {
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"code":"unauthorized","message":"enrolment code unknown, used or expired"}`))
		return
	}
	e.used = true
	json.NewEncoder(w).Encode(fleetproto.EnrollResponse{Agent: "kantor-camat", Site: "distrik-1", Token: "pantau_agent_tok", OpAMPURL: fleetproto.OpAMPPath})
}

func TestEnroll(t *testing.T) {
	es := &enrollServer{}
	srv := httptest.NewTLSServer(es)
	defer srv.Close()
	pin := fleetproto.SPKIPin(srv.Certificate())
	code := fleetproto.Code{ID: "abcd2345", Secret: strings.Repeat("q", 32), Pin: pin[:]}
	es.code = code.String()
	wrongPin := sha256.Sum256([]byte("another key"))
	wrong := fleetproto.Code{ID: code.ID, Secret: code.Secret, Pin: wrongPin[:]}
	ctx := context.Background()

	// A wrong pin: refused before anything is sent, nothing stored.
	dir := t.TempDir()
	_, err := Enroll(ctx, EnrollOptions{CollectorURL: srv.URL, Code: wrong.String(), StateDir: dir})
	if !errors.Is(err, fleetproto.ErrPinMismatch) || !strings.Contains(err.Error(), "certificate does not match the enrolment code") {
		t.Fatalf("wrong pin: %v", err)
	}
	if len(es.reqs) != 0 {
		t.Fatal("a request went to a collector whose certificate does not match")
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Fatalf("wrong pin left files: %v", ents)
	}
	// A pinned code over plain http://: refused.
	if _, err := Enroll(ctx, EnrollOptions{CollectorURL: "http://127.0.0.1:1", Code: code.String(), StateDir: dir}); !errors.Is(err, ErrPlainPinned) {
		t.Fatalf("pinned code over http: %v", err)
	}
	// The right pin: token, certificate and fleet.json stored.
	st, err := Enroll(ctx, EnrollOptions{CollectorURL: srv.URL + "/", Code: code.String(), StateDir: dir, Hostname: "box-1", Version: "v9"})
	if err != nil {
		t.Fatal(err)
	}
	if st.Agent != "kantor-camat" || st.Site != "distrik-1" || st.CollectorURL != srv.URL || st.OpAMPURL != srv.URL+fleetproto.OpAMPPath || st.InstanceUID == "" {
		t.Fatalf("state: %+v", st)
	}
	if r := es.reqs[0]; r.Hostname != "box-1" || r.Version != "v9" {
		t.Fatalf("request: %+v", r)
	}
	fi, err := os.Stat(filepath.Join(dir, config.TokenFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("token file: %v %v", fi, err)
	}
	if tok, err := ReadToken(dir); err != nil || tok.Reveal() != "pantau_agent_tok" {
		t.Fatalf("token: %v", err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, config.CollectorCAFile))
	if blk, _ := pem.Decode(b); blk == nil || string(blk.Bytes) != string(srv.Certificate().Raw) {
		t.Fatal("collector-ca.pem is not the collector's certificate")
	}
	if got, ok, err := LoadState(dir); !ok || err != nil || got.Agent != st.Agent || got.InstanceUID != st.InstanceUID {
		t.Fatalf("fleet.json: %+v %v %v", got, ok, err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 3 {
		t.Fatalf("state dir holds %d files, want 3 (no temporary files left)", len(ents))
	}
	// The code works once: 401 becomes the operator's message.
	_, err = Enroll(ctx, EnrollOptions{CollectorURL: srv.URL, Code: code.String(), StateDir: t.TempDir()})
	if !errors.Is(err, ErrCodeRefused) || !strings.Contains(err.Error(), "unknown, used or expired") || !strings.Contains(err.Error(), "pantau-collector enroll create") {
		t.Fatalf("used code: %v", err)
	}
	// A malformed code never leaves the box.
	if _, err := Enroll(ctx, EnrollOptions{CollectorURL: srv.URL, Code: "PNT1-x", StateDir: t.TempDir()}); !errors.Is(err, fleetproto.ErrBadCode) {
		t.Fatalf("bad code: %v", err)
	}
}

func TestWriteFileAtomic(t *testing.T) {
	p := filepath.Join(t.TempDir(), "sub", "f")
	for _, s := range []string{"one", "two"} {
		if err := WriteFileAtomic(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(p); string(b) != s {
			t.Fatalf("got %q", b)
		}
	}
	if ents, _ := os.ReadDir(filepath.Dir(p)); len(ents) != 1 {
		t.Fatalf("%d entries, want 1", len(ents))
	}
}
