package httpapi

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/auth"
	"github.com/pantau-noc/pantau/collector/internal/inventory"
	"github.com/pantau-noc/pantau/collector/internal/statedb"
)

const adminInventory = `sites:
  - {id: dinkes, name: Dinas Kesehatan, kind: opd, timezone: WIT}
  - {id: bappeda, name: Bappeda, kind: opd}
links:
  - id: dinkes-wan
    site: dinkes
    type: fibre
    circuit: CID-DINKES-77
    icmp: {target: 127.0.0.2}
    contract: {target: 99.5, monthly_fee: 7500000}
  - {id: bappeda-wan, site: bappeda, type: fibre, circuit: CID-BAPPEDA-12, icmp: {target: 127.0.0.3}}
devices:
  - {id: sw-dinkes, site: dinkes, vendor: MikroTik}
  - {id: sw-bappeda, site: bappeda, vendor: Cisco}
services:
  - {id: simpus, name: SIMPUS, site: dinkes, probe: {measurement: http, target: simpus}}
`

// testEnv is the admin API behind a real auth Gate and Authenticator on
// a real state.db, served over loopback HTTP.
type testEnv struct {
	t       *testing.T
	db      *statedb.DB
	srv     *httptest.Server
	invFile string
	running atomic.Pointer[inventory.Inventory]
	admin   string // an unscoped admin token
	api     *Admin
}

type envOpts struct {
	noInventory bool
	maxInv      int64
}

func newEnv(t *testing.T, o envOpts) *testEnv {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	db, err := statedb.Open(ctx, filepath.Join(dir, "data"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	log := slog.New(slog.DiscardHandler)
	authn, err := statedb.NewAuthenticator(ctx, db, log)
	if err != nil {
		t.Fatal(err)
	}
	e := &testEnv{t: t, db: db}
	opts := AdminOptions{DB: db, Auth: authn, Inventory: e.running.Load, SetInventory: e.running.Store, MaxInventoryBytes: o.maxInv, Logger: log}
	if !o.noInventory {
		e.invFile = filepath.Join(dir, "inventory.yml")
		if err := os.WriteFile(e.invFile, []byte(adminInventory), 0o640); err != nil {
			t.Fatal(err)
		}
		inv, err := inventory.Load(e.invFile)
		if err != nil {
			t.Fatal(err)
		}
		e.running.Store(inv)
		opts.InventoryFile = func() string { return e.invFile }
	}
	mux := http.NewServeMux()
	e.api = NewAdmin(opts)
	e.api.Register(mux)
	// No 429s in these tests: they send wrong credentials on purpose.
	e.srv = httptest.NewServer(auth.NewGate(auth.GateOptions{Verifier: authn, Guard: auth.NewGuard(0, 64), Logger: log}, mux))
	t.Cleanup(e.srv.Close)
	e.admin = e.token("root", statedb.RoleAdmin)
	return e
}

// token creates an API token directly in state.db.
func (e *testEnv) token(name, role string, opds ...string) string {
	e.t.Helper()
	tok, _, err := e.db.CreateAPIToken(context.Background(), name, role, opds, time.Time{}, "")
	if err != nil {
		e.t.Fatal(err)
	}
	return tok
}

func bearer(tok string) string { return "Bearer " + tok }

func basic(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

// do sends a request with the Authorization header cred ("" for none).
func (e *testEnv) do(method, path, cred, body string) (int, string) {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if cred != "" {
		req.Header.Set("Authorization", cred)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (e *testEnv) auditRows() []statedb.AuditEntry {
	e.t.Helper()
	rows, err := e.db.Audit(context.Background(), statedb.AuditFilter{})
	if err != nil {
		e.t.Fatal(err)
	}
	return rows
}

// TestAdminAccess: every admin endpoint × every kind of caller. Only an
// unscoped admin gets through; any reader may GET the inventory.
func TestAdminAccess(t *testing.T) {
	e := newEnv(t, envOpts{})
	agentTok, _, err := e.db.CreateToken(context.Background(), "agent-1", nil, "")
	if err != nil {
		t.Fatal(err)
	}
	callers := []struct {
		name, cred string
	}{
		{"admin", bearer(e.admin)},
		{"scoped admin", bearer(e.token("dinkes-admin", statedb.RoleAdmin, "dinkes"))},
		{"operator", bearer(e.token("ops", statedb.RoleOperator))},
		{"viewer", bearer(e.token("grafana", statedb.RoleViewer))},
		{"agent", bearer(agentTok)},
		{"none", ""},
		{"wrong token", bearer("pantau_aaaaaaaaaaaaaaaa_" + strings.Repeat("b", 52))},
	}
	endpoints := []struct {
		method, path, body string
		adminWant          int
		readers            bool // any viewer, operator or scoped admin may
	}{
		{"GET", "/api/v1/tokens", "", 200, false},
		{"POST", "/api/v1/tokens", `{"name":"t1","role":"viewer"}`, 201, false},
		{"DELETE", "/api/v1/tokens/nosuchtoken00000", "", 404, false},
		{"GET", "/api/v1/users", "", 200, false},
		{"POST", "/api/v1/users", `{"name":"u1","role":"viewer","password":"correct horse battery"}`, 201, false},
		{"DELETE", "/api/v1/users/u1", "", 200, false},
		{"GET", "/api/v1/audit", "", 200, false},
		{"GET", "/api/v1/inventory", "", 200, true},
		{"PUT", "/api/v1/inventory", adminInventory, 200, false},
	}
	for _, ep := range endpoints {
		for _, c := range callers {
			want := ep.adminWant
			switch {
			case c.name == "none" || c.name == "wrong token":
				want = 401
			case c.name == "admin":
			case c.name == "agent":
				want = 403
			case !ep.readers:
				want = 403
			}
			code, body := e.do(ep.method, ep.path, c.cred, ep.body)
			if code != want {
				t.Errorf("%s %s as %s: %d, want %d: %s", ep.method, ep.path, c.name, code, want, body)
			}
		}
	}
}

// TestAdminHandlersCheckRole: the handlers refuse a non-admin even
// without the Gate's policy in front (a route the policy missed).
func TestAdminHandlersCheckRole(t *testing.T) {
	e := newEnv(t, envOpts{})
	mux := http.NewServeMux()
	NewAdmin(AdminOptions{DB: e.db, InventoryFile: func() string { return e.invFile }}).Register(mux)
	for _, p := range []*auth.Principal{nil, {Kind: "token", Role: auth.RoleOperator}, {Kind: "token", Role: auth.RoleAdmin, OPDs: []string{"dinkes"}}} {
		for _, path := range []string{"/api/v1/tokens", "/api/v1/users", "/api/v1/audit"} {
			req := httptest.NewRequest("GET", path, nil)
			if p != nil {
				req = req.WithContext(auth.WithPrincipal(req.Context(), p))
			}
			rec := httptest.NewRecorder()
			mux.ServeHTTP(rec, req)
			if rec.Code != 403 {
				t.Errorf("GET %s as %v: %d, want 403", path, p, rec.Code)
			}
		}
	}
}

// TestAdminTokenLifecycle: a token created through the API works at
// once, never shows its secret or hash in the list, and stops working
// at once when revoked; both changes are on record.
func TestAdminTokenLifecycle(t *testing.T) {
	e := newEnv(t, envOpts{})
	code, body := e.do("POST", "/api/v1/tokens", bearer(e.admin), `{"name":"grafana","role":"viewer","opds":["dinkes"],"expires":"90d","description":"dashboard"}`)
	if code != 201 {
		t.Fatalf("create: %d %s", code, body)
	}
	var created struct {
		Token string    `json:"token"`
		Data  TokenView `json:"data"`
	}
	if err := json.Unmarshal([]byte(body), &created); err != nil {
		t.Fatal(err)
	}
	if created.Data.Role != "viewer" || created.Data.Expires.IsZero() || len(created.Data.OPDs) != 1 {
		t.Errorf("created: %+v", created.Data)
	}
	if code, body := e.do("GET", "/api/v1/inventory", bearer(created.Token), ""); code != 200 || !strings.Contains(body, "dinkes-wan") {
		t.Fatalf("the new token does not work at once: %d %s", code, body)
	}
	_, list := e.do("GET", "/api/v1/tokens", bearer(e.admin), "")
	secret := created.Token[strings.LastIndex(created.Token, "_")+1:]
	if !strings.Contains(list, created.Data.ID) || strings.Contains(list, secret) || strings.Contains(strings.ToLower(list), "hash") {
		t.Errorf("token list shows a secret or lacks the token:\n%s", list)
	}
	if code, body := e.do("DELETE", "/api/v1/tokens/"+created.Data.ID, bearer(e.admin), ""); code != 200 {
		t.Fatalf("revoke: %d %s", code, body)
	}
	if code, body := e.do("GET", "/api/v1/inventory", bearer(created.Token), ""); code != 401 || !strings.Contains(body, "revoked") {
		t.Errorf("the revoked token still works: %d %s", code, body)
	}
	// An agent token through the API: it writes and reads nothing.
	code, body = e.do("POST", "/api/v1/tokens", bearer(e.admin), `{"agent":"agent-7","sites":["dinkes"]}`)
	if code != 201 || !strings.Contains(body, `"role":"agent"`) {
		t.Fatalf("agent token: %d %s", code, body)
	}
	json.Unmarshal([]byte(body), &created)
	if code, _ := e.do("GET", "/api/v1/inventory", bearer(created.Token), ""); code != 403 {
		t.Errorf("agent token reads the inventory: %d", code)
	}
	for _, bad := range []string{
		`{"name":"x","role":"root"}`, `{"name":"x"}`, `{"agent":"a","name":"x","role":"viewer"}`, `{"name":"x","role":"viewer","sites":["s"]}`,
		`{"name":"x","role":"viewer","expires":"yesterday"}`, `{"name":"x y","role":"viewer"}`, `{"name":"x","role":"viewer","extra":1}`, `[`,
	} {
		if code, body := e.do("POST", "/api/v1/tokens", bearer(e.admin), bad); code != 400 {
			t.Errorf("POST %s: %d, want 400: %s", bad, code, body)
		}
	}

	rows := e.auditRows()
	want := []struct{ action, object string }{
		{"POST /api/v1/tokens", "token/" + created.Data.ID},
		{"DELETE /api/v1/tokens/", "token/"},
		{"POST /api/v1/tokens", "token/"},
	}
	if len(rows) != len(want) {
		t.Fatalf("audit rows: %+v", rows)
	}
	for i, w := range want {
		r := rows[i]
		if !strings.HasPrefix(r.Action, w.action) || !strings.HasPrefix(r.Object, w.object) || r.ActorName != "root" || r.ActorKind != "token" ||
			r.ActorID == "" || r.Source != "127.0.0.1" {
			t.Errorf("audit row %d: %+v, want %s %s by token root", i, r, w.action, w.object)
		}
		if strings.Contains(r.Summary, "pantau_") {
			t.Errorf("audit row %d holds a token: %q", i, r.Summary)
		}
	}
}

// TestAdminExpiredToken: a token past its expiry gets 401.
func TestAdminExpiredToken(t *testing.T) {
	e := newEnv(t, envOpts{})
	tok, _, err := e.db.CreateAPIToken(context.Background(), "old", statedb.RoleAdmin, nil, time.Now().Add(-time.Hour), "")
	if err != nil {
		t.Fatal(err)
	}
	if code, body := e.do("GET", "/api/v1/tokens", bearer(tok), ""); code != 401 || !strings.Contains(body, "expired") {
		t.Errorf("expired token: %d %s", code, body)
	}
}

// TestAdminUsers: a user added through the API logs in with basic auth
// at once, with its role; disabling it locks it out at once; the
// password is in no answer and no audit row.
func TestAdminUsers(t *testing.T) {
	e := newEnv(t, envOpts{})
	const pw = "kata-sandi-yang-panjang-7"
	code, body := e.do("POST", "/api/v1/users", bearer(e.admin), `{"name":"ani","role":"operator","opds":["dinkes"],"password":"`+pw+`"}`)
	if code != 201 || strings.Contains(body, pw) {
		t.Fatalf("add user: %d %s", code, body)
	}
	if code, body := e.do("GET", "/api/v1/inventory", basic("ani", pw), ""); code != 200 || strings.Contains(body, "bappeda-wan") {
		t.Errorf("user login: %d %s", code, body)
	}
	if code, _ := e.do("GET", "/api/v1/users", basic("ani", pw), ""); code != 403 {
		t.Errorf("an operator lists users: %d", code)
	}
	if code, _ := e.do("GET", "/api/v1/inventory", basic("ani", "wrong-password-here"), ""); code != 401 {
		t.Errorf("wrong password: %d", code)
	}
	if code, body := e.do("POST", "/api/v1/users", bearer(e.admin), `{"name":"ani","role":"viewer","password":"another-long-password"}`); code != 409 {
		t.Errorf("duplicate user: %d %s", code, body)
	}
	if code, body := e.do("POST", "/api/v1/users", bearer(e.admin), `{"name":"budi","role":"viewer","password":"short"}`); code != 400 || strings.Contains(body, "short\"") {
		t.Errorf("short password: %d %s", code, body)
	}
	_, list := e.do("GET", "/api/v1/users", bearer(e.admin), "")
	if !strings.Contains(list, `"name":"ani"`) || strings.Contains(list, "argon2") || strings.Contains(list, pw) {
		t.Errorf("user list: %s", list)
	}
	if code, body := e.do("DELETE", "/api/v1/users/ani", bearer(e.admin), ""); code != 200 {
		t.Fatalf("disable: %d %s", code, body)
	}
	if code, body := e.do("GET", "/api/v1/inventory", basic("ani", pw), ""); code != 401 || !strings.Contains(body, "disabled") {
		t.Errorf("disabled user still logs in: %d %s", code, body)
	}
	if code, _ := e.do("DELETE", "/api/v1/users/nobody", bearer(e.admin), ""); code != 404 {
		t.Errorf("disable unknown user: %d", code)
	}
	rows := e.auditRows()
	if len(rows) != 2 || rows[0].Object != "user/ani" || rows[0].Summary != "disabled" || rows[1].Object != "user/ani" ||
		rows[1].Action != "POST /api/v1/users" || !strings.Contains(rows[1].Summary, "operator user ani, OPD dinkes") {
		t.Errorf("audit rows: %+v", rows)
	}
	for _, r := range rows {
		if strings.Contains(r.Summary, pw) || strings.Contains(r.Action, pw) {
			t.Errorf("password in the audit log: %+v", r)
		}
	}
}

// TestAdminAuditQuery: the audit log by time and count; a bad parameter
// is a 400 naming it.
func TestAdminAuditQuery(t *testing.T) {
	e := newEnv(t, envOpts{})
	ctx := context.Background()
	for i, at := range []string{"2026-11-30T23:00:00Z", "2026-12-01T01:00:00Z", "2026-12-31T23:59:00Z", "2027-01-01T00:00:00Z"} {
		ts, _ := time.Parse(time.RFC3339, at)
		if _, err := e.db.AddAudit(ctx, statedb.AuditEntry{At: ts, ActorKind: "cli", ActorName: "ops", Action: "cli test", Object: "x/" + string(rune('a'+i))}); err != nil {
			t.Fatal(err)
		}
	}
	var got struct {
		Data []statedb.AuditEntry `json:"data"`
	}
	code, body := e.do("GET", "/api/v1/audit?since=2026-12-01&until=2026-12-31", bearer(e.admin), "")
	json.Unmarshal([]byte(body), &got)
	if code != 200 || len(got.Data) != 2 || got.Data[0].Object != "x/c" || got.Data[1].Object != "x/b" {
		t.Errorf("December: %d %s", code, body)
	}
	code, body = e.do("GET", "/api/v1/audit?limit=1", bearer(e.admin), "")
	json.Unmarshal([]byte(body), &got)
	if code != 200 || len(got.Data) != 1 || got.Data[0].Object != "x/d" {
		t.Errorf("limit=1: %d %s", code, body)
	}
	for q, param := range map[string]string{
		"since=yesterday": "since", "until=2026-13-01": "until", "limit=0": "limit", "limit=10001": "limit",
		"limit=x": "limit", "since=2026-12-02&until=2026-12-01": "until", "foo=1": "foo", "limit=1&limit=2": "limit",
	} {
		code, body := e.do("GET", "/api/v1/audit?"+q, bearer(e.admin), "")
		if code != 400 || !strings.Contains(body, `"error":"`+param+": ") {
			t.Errorf("%s: %d %s, want 400 naming %s", q, code, body, param)
		}
	}
}

// TestAdminInventoryGet: a scoped reader sees its OPD's part only; fees
// and circuit ids are for admins.
func TestAdminInventoryGet(t *testing.T) {
	e := newEnv(t, envOpts{})
	code, body := e.do("GET", "/api/v1/inventory", bearer(e.admin), "")
	if code != 200 || !strings.Contains(body, "monthly_fee: 7500000") || !strings.Contains(body, "CID-BAPPEDA-12") {
		t.Errorf("admin: %d %s", code, body)
	}
	if _, err := inventory.Parse("GET", []byte(body)); err != nil {
		t.Errorf("the admin's GET does not parse as an inventory: %v", err)
	}
	viewer := e.token("dinkes-viewer", statedb.RoleViewer, "dinkes")
	code, body = e.do("GET", "/api/v1/inventory", bearer(viewer), "")
	for _, leak := range []string{"bappeda", "7500000", "CID-", "sw-bappeda"} {
		if strings.Contains(body, leak) {
			t.Errorf("scoped viewer sees %q:\n%s", leak, body)
		}
	}
	if code != 200 || !strings.Contains(body, "dinkes-wan") || !strings.Contains(body, "simpus") || !strings.Contains(body, "sw-dinkes") {
		t.Errorf("scoped viewer: %d %s", code, body)
	}
	code, body = e.do("GET", "/api/v1/inventory?format=json", bearer(viewer), "")
	var doc struct {
		Sites []struct {
			ID string `json:"id"`
		} `json:"sites"`
	}
	if err := json.Unmarshal([]byte(body), &doc); code != 200 || err != nil || len(doc.Sites) != 1 || doc.Sites[0].ID != "dinkes" {
		t.Errorf("json: %d %v %s", code, err, body)
	}
	if code, _ := e.do("GET", "/api/v1/inventory?format=xml", bearer(viewer), ""); code != 400 {
		t.Errorf("format=xml: %d", code)
	}
	if code, _ := e.do("GET", "/api/v1/inventory", bearer(e.token("other", statedb.RoleViewer, "dishub")), ""); code != 200 {
		t.Errorf("viewer of an OPD without sites: %d", code)
	}
}

// TestAdminInventoryPut: a bad inventory is refused with every problem
// as "request body:line:col" and changes nothing; a good one replaces
// the file (the old one kept as .prev) and is in force at once, on
// record with what changed.
func TestAdminInventoryPut(t *testing.T) {
	e := newEnv(t, envOpts{})
	before := e.running.Load()
	bad := adminInventory + "  - {id: portal, name: Portal, site: nowhere, probe: {measurement: http, target: portal}}\n" +
		"  - {id: simpus, name: Dup, site: dinkes, probe: {measurement: http, target: x}, colour: red}\n"
	code, body := e.do("PUT", "/api/v1/inventory", bearer(e.admin), bad)
	var refused struct {
		Errors []string `json:"errors"`
	}
	json.Unmarshal([]byte(body), &refused)
	if code != 400 || len(refused.Errors) == 0 {
		t.Fatalf("bad inventory: %d %s", code, body)
	}
	for _, p := range refused.Errors {
		if !strings.HasPrefix(p, BodyName+":") || strings.Count(p, ":") < 3 {
			t.Errorf("problem without file:line:col: %q", p)
		}
	}
	if !strings.Contains(body, BodyName+":17:") && !strings.Contains(body, BodyName+":18:") {
		t.Errorf("no problem at line 17 or 18: %s", body)
	}
	if got, _ := os.ReadFile(e.invFile); string(got) != adminInventory {
		t.Error("a refused inventory changed the file")
	}
	if e.running.Load() != before {
		t.Error("a refused inventory changed the running one")
	}
	if _, err := os.Stat(e.invFile + ".prev"); err == nil {
		t.Error("a refused inventory left a backup")
	}

	good := strings.Replace(adminInventory, "links:\n", "  - {id: dishub, name: Dinas Perhubungan, kind: opd}\nlinks:\n", 1)
	good = strings.Replace(good, "  - {id: bappeda-wan", "  - {id: dishub-wan, site: dishub, icmp: {target: 127.0.0.4}}\n  - {id: bappeda-wan", 1)
	code, body = e.do("PUT", "/api/v1/inventory", bearer(e.admin), good)
	if code != 200 {
		t.Fatalf("good inventory: %d %s", code, body)
	}
	if got, _ := os.ReadFile(e.invFile); string(got) != good {
		t.Error("the file is not the new inventory")
	}
	if prev, _ := os.ReadFile(e.invFile + ".prev"); string(prev) != adminInventory {
		t.Error("the old inventory is not kept as .prev")
	}
	if inv := e.running.Load(); inv == before || inv.Site("dishub") == nil || inv.File != e.invFile {
		t.Errorf("the new inventory is not in force: %+v", inv)
	}
	if fi, _ := os.Stat(e.invFile); fi.Mode().Perm() != 0o640 {
		t.Errorf("mode %v, want the old file's 0640", fi.Mode().Perm())
	}
	if m, _ := filepath.Glob(filepath.Join(filepath.Dir(e.invFile), ".*.tmp")); len(m) > 0 {
		t.Errorf("temporary files left: %v", m)
	}
	rows := e.auditRows()
	if len(rows) != 1 || rows[0].Object != "inventory" || rows[0].Action != "PUT /api/v1/inventory" || rows[0].ActorName != "root" ||
		!strings.Contains(rows[0].Summary, "sites 2 → 3 (+dishub), links 2 → 3 (+dishub-wan), devices 2 → 2, services 1 → 1") {
		t.Errorf("audit: %+v", rows)
	}
}

// TestAdminInventoryLimits: an oversized body is 413 and changes
// nothing; without an inventory file PUT is 409 and GET 404.
func TestAdminInventoryLimits(t *testing.T) {
	e := newEnv(t, envOpts{maxInv: 100})
	if code, body := e.do("PUT", "/api/v1/inventory", bearer(e.admin), adminInventory); code != 413 || !strings.Contains(body, "auth.max_inventory_bytes") {
		t.Errorf("oversized: %d %s", code, body)
	}
	if got, _ := os.ReadFile(e.invFile); string(got) != adminInventory {
		t.Error("an oversized inventory changed the file")
	}
	// auth.max_inventory_bytes reloaded: the same body fits, and back
	e.api.SetMaxInventoryBytes(int64(len(adminInventory)))
	if code, body := e.do("PUT", "/api/v1/inventory", bearer(e.admin), adminInventory); code != 200 {
		t.Errorf("limit raised to the body's size: %d %s", code, body)
	}
	e.api.SetMaxInventoryBytes(100)
	if code, body := e.do("PUT", "/api/v1/inventory", bearer(e.admin), adminInventory); code != 413 || !strings.Contains(body, "larger than 100 bytes") {
		t.Errorf("limit lowered again: %d %s", code, body)
	}
	if code, _ := e.do("PUT", "/api/v1/inventory", bearer(e.admin), "   \n"); code != 400 {
		t.Errorf("empty body: %d", code)
	}
	n := newEnv(t, envOpts{noInventory: true})
	if code, body := n.do("PUT", "/api/v1/inventory", bearer(n.admin), adminInventory); code != 409 || !strings.Contains(body, "inventory:") {
		t.Errorf("no inventory configured: PUT %d %s", code, body)
	}
	if code, _ := n.do("GET", "/api/v1/inventory", bearer(n.admin), ""); code != 404 {
		t.Errorf("no inventory configured: GET %d", code)
	}
}

// TestAdminInventoryPutSymlink: a symbolic link to the inventory stays a
// link; the file it points to is replaced.
func TestAdminInventoryPutSymlink(t *testing.T) {
	e := newEnv(t, envOpts{})
	real := e.invFile + ".real"
	if err := os.Rename(e.invFile, real); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Base(real), e.invFile); err != nil {
		t.Fatal(err)
	}
	good := strings.Replace(adminInventory, "vendor: Cisco", "vendor: Juniper", 1)
	if code, body := e.do("PUT", "/api/v1/inventory", bearer(e.admin), good); code != 200 {
		t.Fatalf("%d %s", code, body)
	}
	if fi, err := os.Lstat(e.invFile); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Error("the symbolic link was replaced by a file")
	}
	if got, _ := os.ReadFile(real); !bytes.Contains(got, []byte("Juniper")) {
		t.Error("the link's target was not replaced")
	}
}
