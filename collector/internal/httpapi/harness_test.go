package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pantau-noc/pantau/collector/internal/alert"
	"github.com/pantau-noc/pantau/collector/internal/auth"
	"github.com/pantau-noc/pantau/collector/internal/inventory"
	"github.com/pantau-noc/pantau/collector/internal/statedb"
)

// testInventory has two OPDs: dinkes (its office and a puskesmas in
// WIT) and dishub (its office and its portal service).
const testInventory = `sites:
  - {id: dinkes, name: Dinas Kesehatan, kind: opd, timezone: WIB}
  - {id: pkm-aimas, name: Puskesmas Aimas, kind: district, opd: dinkes, timezone: WIT}
  - {id: dishub, name: Dinas Perhubungan, kind: opd, timezone: WIB}
links:
  - {id: dinkes-wan, site: dinkes, icmp: {target: 127.0.0.2}}
  - {id: aimas-vsat, site: pkm-aimas, type: vsat, icmp: {target: 127.0.0.4}}
  - {id: dishub-wan, site: dishub, icmp: {target: 127.0.0.3}}
services:
  - {id: dishub-portal, name: Portal Dishub, site: dishub, probe: {measurement: http, target: portal}}
`

// The credentials every harness has, by key: the token's name is the
// principal's name in silences, acknowledgements and the audit log.
var testCredentials = []struct{ key, name, role, opd string }{
	{"viewer", "grafana", statedb.RoleViewer, ""},
	{"operator", "noc", statedb.RoleOperator, ""},
	{"admin", "root", statedb.RoleAdmin, ""},
	{"dinkes-op", "dinkes-ops", statedb.RoleOperator, "dinkes"},
	{"dinkes-viewer", "dinkes-view", statedb.RoleViewer, "dinkes"},
	{"dishub-op", "dishub-ops", statedb.RoleOperator, "dishub"},
}

// harness is the records API on a real state database, behind the real
// access-control gate, served over loopback HTTP.
type harness struct {
	t       *testing.T
	ctx     context.Context
	db      *statedb.DB
	dataDir string
	url     string
	tok     map[string]string
	inv     *inventory.Inventory
	rc      *Records
}

type noEval struct{}

func (noEval) Eval(context.Context, *alert.Rule, time.Time) ([]alert.Sample, error) { return nil, nil }

// newHarness starts the API; with firing alerts (may be empty, not nil)
// it runs a real alert engine that has them stored, without one (nil)
// none, as a collector without notifiers.
func newHarness(t *testing.T, firing []alert.Alert, opts ...func(*RecordsOptions)) *harness {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	db, err := statedb.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	inv, err := inventory.Parse("inventory.yml", []byte(testInventory))
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, ctx: ctx, db: db, dataDir: dir, tok: map[string]string{}, inv: inv}
	for _, c := range testCredentials {
		var opds []string
		if c.opd != "" {
			opds = []string{c.opd}
		}
		tok, _, err := db.CreateAPIToken(ctx, c.name, c.role, opds, time.Time{}, "")
		if err != nil {
			t.Fatal(err)
		}
		h.tok[c.key] = tok
	}
	agentTok, _, err := db.CreateToken(ctx, "agent-1", nil, "")
	if err != nil {
		t.Fatal(err)
	}
	h.tok["agent"] = agentTok
	discard := slog.New(slog.DiscardHandler)
	o := RecordsOptions{DB: db, Inventory: func() *inventory.Inventory { return inv }, DataDir: dir,
		MaxEvidenceBytes: 4096, Logger: discard, Registerer: prometheus.NewRegistry()}
	if firing != nil {
		put := map[string][]byte{}
		for _, a := range firing {
			b, _ := json.Marshal(a)
			put[a.Fingerprint] = b
		}
		if err := db.SaveAlerts(ctx, put, nil); err != nil {
			t.Fatal(err)
		}
		e, err := alert.New(ctx, alert.Options{Config: &alert.Config{}, Eval: noEval{}, DB: db, Logger: discard,
			Enqueue: func(context.Context, string, string, []byte) (bool, error) { return true, nil }})
		if err != nil {
			t.Fatal(err)
		}
		o.Alerts = e
	}
	for _, f := range opts {
		f(&o)
	}
	mux := http.NewServeMux()
	h.rc = NewRecords(o)
	h.rc.Register(mux)
	authn, err := statedb.NewAuthenticator(ctx, db, discard)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(auth.NewGate(auth.GateOptions{Verifier: authn, Guard: auth.NewGuard(0, 0), Logger: discard}, mux))
	t.Cleanup(srv.Close)
	h.url = srv.URL
	return h
}

// do sends a request as who (a key of h.tok; "" sends no credential)
// with a JSON body (nil: none) and returns the status and body.
func (h *harness) do(method, path, who string, body any) (int, string) {
	h.t.Helper()
	var rd io.Reader
	ct := ""
	switch b := body.(type) {
	case nil:
	case string:
		rd, ct = strings.NewReader(b), "application/json"
	case []byte:
		rd, ct = bytes.NewReader(b), "application/octet-stream"
	default:
		js, err := json.Marshal(b)
		if err != nil {
			h.t.Fatal(err)
		}
		rd, ct = bytes.NewReader(js), "application/json"
	}
	return h.send(method, path, who, ct, rd)
}

func (h *harness) send(method, path, who, contentType string, body io.Reader) (int, string) {
	h.t.Helper()
	req, err := http.NewRequest(method, h.url+path, body)
	if err != nil {
		h.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if who != "" {
		tok, ok := h.tok[who]
		if !ok {
			h.t.Fatalf("no credential %q", who)
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// decode unmarshals a JSON answer.
func decode[T any](t *testing.T, body string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatalf("answer %q: %v", body, err)
	}
	return v
}

// audit returns the audit log, newest first.
func (h *harness) audit() []statedb.AuditEntry {
	h.t.Helper()
	list, err := h.db.Audit(h.ctx, statedb.AuditFilter{})
	if err != nil {
		h.t.Fatal(err)
	}
	return list
}
