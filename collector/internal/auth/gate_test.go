package auth

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/statedb"
)

// Real-shaped tokens: "pantau_" + 16-character id + "_" + 52-character secret.
const (
	tokViewer    = "pantau_viewerviewerview_" + "secretsecretsecretsecretsecretsecretsecretsecretsecr"
	tokScoped    = "pantau_scopedscopedscop_" + "s3cr3ts3cr3ts3cr3ts3cr3ts3cr3ts3cr3ts3cr3ts3cr3ts3cr"
	tokAdmin     = "pantau_adminadminadmina_" + "adminsecretadminsecretadminsecretadminsecretadminsec"
	tokScopedAdm = "pantau_scopedadminscop_" + "zzzzsecretzzzzsecretzzzzsecretzzzzsecretzzzzsecretzz"
	tokAgent     = "pantau_agentagentagenta_" + "agentsecretagentsecretagentsecretagentsecretagentsec"
	tokExpired   = "pantau_expiredexpiredex_" + "expiredsecretexpiredsecretexpiredsecretexpiredsecret"
	tokWrong     = "pantau_wrongwrongwrongw_" + "guessedsecretguessedsecretguessedsecretguessedsecret"
	userPassword = "correct horse battery staple"
)

// fakeVerifier knows a few tokens and one user; err, when set, is what
// every check returns (the store is unreadable).
type fakeVerifier struct {
	mu    sync.Mutex
	err   error
	calls int
}

func (f *fakeVerifier) Authenticate(_ context.Context, tok string) (statedb.Identity, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.err != nil {
		return statedb.Identity{}, f.err
	}
	switch tok {
	case tokViewer:
		return statedb.Identity{TokenID: "viewerviewerview", Name: "grafana", Role: RoleViewer}, nil
	case tokScoped:
		return statedb.Identity{TokenID: "scopedscopedscop", Name: "dinkes-grafana", Role: RoleViewer, OPDs: []string{"dinkes"}}, nil
	case tokAdmin:
		return statedb.Identity{TokenID: "adminadminadmina", Name: "root", Role: RoleAdmin}, nil
	case tokScopedAdm:
		return statedb.Identity{TokenID: "scopedadminscop", Name: "dinkes-admin", Role: RoleAdmin, OPDs: []string{"dinkes"}}, nil
	case tokAgent:
		return statedb.Identity{TokenID: "agentagentagenta", Agent: "a-dinkes", Role: RoleAgent}, nil
	case tokExpired:
		return statedb.Identity{}, statedb.ErrExpiredToken
	}
	return statedb.Identity{}, statedb.ErrUnknownToken
}

func (f *fakeVerifier) AuthenticateUser(_ context.Context, name, password string) (statedb.Identity, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.err != nil {
		return statedb.Identity{}, f.err
	}
	if name == "ani" && password == userPassword {
		return statedb.Identity{User: "ani", Name: "ani", Role: RoleOperator, OPDs: []string{"dinkes", "dishub"}}, nil
	}
	return statedb.Identity{}, statedb.ErrBadPassword
}

type gateFixture struct {
	gate    *Gate
	v       *fakeVerifier
	log     *bytes.Buffer
	reached []*Principal // the principal of each request that reached the handler
	refused map[int]int
	mu      sync.Mutex
}

func newGate(t *testing.T, anonymous string, limit int) *gateFixture {
	t.Helper()
	f := &gateFixture{v: &fakeVerifier{}, log: &bytes.Buffer{}, refused: map[int]int{}}
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.reached = append(f.reached, FromContext(r.Context()))
		f.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	})
	f.gate = NewGate(GateOptions{
		Verifier:  f.v,
		Anonymous: anonymous,
		Guard:     NewGuard(limit, 64),
		Logger:    slog.New(slog.NewTextHandler(f.log, nil)),
		Refused:   func(code int) { f.mu.Lock(); f.refused[code]++; f.mu.Unlock() },
	}, next)
	return f
}

type cred func(h http.Header)

func bearer(tok string) cred { return func(h http.Header) { h.Set("Authorization", "Bearer "+tok) } }
func basic(user, pass string) cred {
	return func(h http.Header) {
		h.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(user+":"+pass)))
	}
}
func raw(v string) cred { return func(h http.Header) { h.Set("Authorization", v) } }

// do sends one request from source addr through the gate.
func (f *gateFixture) do(t *testing.T, method, path, addr string, c cred) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(method, path, nil)
	r.RemoteAddr = addr + ":40000"
	if c != nil {
		c(r.Header)
	}
	w := httptest.NewRecorder()
	f.gate.ServeHTTP(w, r)
	return w
}

func (f *gateFixture) last() *Principal {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.reached) == 0 {
		return nil
	}
	return f.reached[len(f.reached)-1]
}

func (f *gateFixture) nReached() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.reached)
}

// errorBody decodes a refusal and checks its shape.
func errorBody(t *testing.T, w *httptest.ResponseRecorder, typ string) string {
	t.Helper()
	var b struct{ Status, ErrorType, Error string }
	if err := json.Unmarshal(w.Body.Bytes(), &b); err != nil {
		t.Fatalf("%d answer is not JSON: %v: %q", w.Code, err, w.Body.String())
	}
	if b.Status != "error" || b.ErrorType != typ || b.Error == "" {
		t.Fatalf("answer %+v, want status error, errorType %s", b, typ)
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	return b.Error
}

func TestGatePublicAndPassThrough(t *testing.T) {
	f := newGate(t, "", 3)
	for _, c := range []struct{ method, path string }{
		{"GET", "/healthz"}, {"GET", "/readyz"}, {"POST", "/api/v2/write"}, {"POST", "/write"},
	} {
		for _, cr := range []cred{nil, bearer(tokWrong), raw("Nonsense")} {
			n := f.nReached()
			w := f.do(t, c.method, c.path, "10.0.0.1", cr)
			if w.Code != http.StatusNoContent || f.nReached() != n+1 {
				t.Fatalf("%s %s: %d, not passed on", c.method, c.path, w.Code)
			}
			if p := f.last(); p != nil {
				t.Errorf("%s %s: the gate set a principal %v on a request it did not check", c.method, c.path, p)
			}
		}
	}
	if f.v.calls != 0 {
		t.Errorf("the verifier was asked %d times about public and write requests", f.v.calls)
	}
	// Wrong credentials on the passed-through paths are the write API's
	// business: the gate counted none of them.
	if w := f.do(t, "GET", "/api/v1/query", "10.0.0.1", bearer(tokViewer)); w.Code != http.StatusNoContent {
		t.Errorf("a good token from the same source after 12 passed-through requests: %d", w.Code)
	}
}

func TestGateUnauthorized(t *testing.T) {
	f := newGate(t, "", 100)
	cases := []struct {
		name string
		c    cred
		msg  string
	}{
		{"none", nil, "no credential"},
		{"unknown token", bearer(tokWrong), "unknown token"},
		{"expired token", bearer(tokExpired), "expired"},
		{"wrong password", basic("ani", "wrong password!"), "wrong user name or password"},
		{"unknown user", basic("budi", userPassword), "wrong user name or password"},
		{"unknown scheme", raw("Digest abc"), "unknown scheme"},
		{"not base64", raw("Basic !!!"), "not base64"},
		{"empty bearer", raw("Bearer "), "Bearer"},
		{"token in basic user", basic(tokViewer, ""), "needs a user name and a password"},
		{"token with a space as basic password", basic("grafana", "pantau_abc def"), "no spaces"},
	}
	for _, c := range cases {
		w := f.do(t, "GET", "/api/v1/query", "10.0.0.1", c.c)
		if w.Code != http.StatusUnauthorized {
			t.Errorf("%s: %d, want 401", c.name, w.Code)
			continue
		}
		if h := w.Header().Get("WWW-Authenticate"); !strings.HasPrefix(h, `Basic realm="pantau"`) {
			t.Errorf("%s: WWW-Authenticate %q", c.name, h)
		}
		if msg := errorBody(t, w, "unauthorized"); !strings.Contains(msg, c.msg) {
			t.Errorf("%s: message %q, want %q", c.name, msg, c.msg)
		}
	}
	// /metrics and /ping need a credential too.
	for _, p := range []string{"/metrics", "/ping", "/api/v1/report", "/api/v1/alerts"} {
		if w := f.do(t, "GET", p, "10.0.0.2", nil); w.Code != http.StatusUnauthorized {
			t.Errorf("GET %s without a credential: %d", p, w.Code)
		}
	}
	if f.nReached() != 0 {
		t.Errorf("%d refused requests reached the handler", f.nReached())
	}
	if f.refused[401] != len(cases)+4 {
		t.Errorf("refusals counted: %v", f.refused)
	}
}

func TestGateAllowedAndForbidden(t *testing.T) {
	f := newGate(t, "", 100)
	cases := []struct {
		method, path string
		c            cred
		code         int
		msg          string // part of the 403's message
	}{
		{"GET", "/api/v1/query", bearer(tokViewer), 204, ""},
		{"POST", "/api/v1/query_range", basic("grafana", tokViewer), 204, ""}, // Grafana: the token as the password
		{"GET", "/api/v1/query", bearer(tokScoped), 204, ""},
		{"GET", "/metrics", bearer(tokViewer), 204, ""},
		{"GET", "/metrics", bearer(tokScoped), 403, "without an OPD scope"},
		{"GET", "/api/v1/tokens", bearer(tokViewer), 403, "needs the admin role"},
		{"GET", "/api/v1/tokens", bearer(tokAdmin), 204, ""},
		{"GET", "/api/v1/tokens", bearer(tokScopedAdm), 403, "sees only dinkes"},
		{"PUT", "/api/v1/inventory", bearer(tokScopedAdm), 403, "without an OPD scope"},
		{"GET", "/api/v1/audit", bearer(tokScopedAdm), 403, "without an OPD scope"},
		{"GET", "/debug/pprof/heap", basic("ani", userPassword), 403, "needs the admin role"},
		{"POST", "/api/v1/maintenance", bearer(tokViewer), 403, "needs the operator role"},
		{"POST", "/api/v1/maintenance", basic("ani", userPassword), 204, ""},
		{"GET", "/api/v1/query", bearer(tokAgent), 403, "agent tokens only write"},
		{"GET", "/ping", bearer(tokAgent), 204, ""},
		{"GET", "/health", bearer(tokAgent), 204, ""},
		// Telegraf's outputs.influxdb: its write token as the basic-auth
		// password, or "Authorization: Token", on /query
		{"POST", "/query", basic("telegraf", tokAgent), 204, ""},
		{"POST", "/query", func(h http.Header) { h.Set("Authorization", "Token "+tokAgent) }, 204, ""},
	}
	for _, c := range cases {
		n := f.nReached()
		w := f.do(t, c.method, c.path, "10.0.0.1", c.c)
		if w.Code != c.code {
			t.Errorf("%s %s: %d, want %d (%s)", c.method, c.path, w.Code, c.code, w.Body.String())
			continue
		}
		if c.code == 403 {
			if msg := errorBody(t, w, "forbidden"); !strings.Contains(msg, c.msg) {
				t.Errorf("%s %s: message %q, want %q", c.method, c.path, msg, c.msg)
			}
			if w.Header().Get("WWW-Authenticate") != "" {
				t.Errorf("%s %s: 403 asks for a credential", c.method, c.path)
			}
			if f.nReached() != n {
				t.Errorf("%s %s: refused, but reached the handler", c.method, c.path)
			}
		}
	}
	// The handler sees who asked, with the scope.
	f.do(t, "GET", "/api/v1/query", "10.0.0.1", bearer(tokScoped))
	if p := f.last(); p == nil || p.Kind != "token" || p.Name != "dinkes-grafana" || !p.Scoped() || !p.Sees("dinkes") || p.Sees("dishub") {
		t.Errorf("principal %+v", p)
	}
	f.do(t, "GET", "/api/v1/alerts", "10.0.0.1", basic("ani", userPassword))
	if p := f.last(); p == nil || p.Kind != "user" || p.ID != "ani" || p.Role != RoleOperator || len(p.OPDs) != 2 {
		t.Errorf("principal %+v", p)
	}
	// 403s are not guesses: a hundred of them do not block the source.
	for range 100 {
		f.do(t, "GET", "/api/v1/tokens", "10.0.0.3", bearer(tokViewer))
	}
	if w := f.do(t, "GET", "/api/v1/query", "10.0.0.3", bearer(tokViewer)); w.Code != 204 {
		t.Errorf("after 100 403s: %d", w.Code)
	}
}

func TestGateAnonymousViewer(t *testing.T) {
	f := newGate(t, RoleViewer, 100)
	w := f.do(t, "GET", "/api/v1/query", "10.0.0.1", nil)
	if w.Code != 204 {
		t.Fatalf("anonymous query: %d", w.Code)
	}
	if p := f.last(); p == nil || p.Kind != "anonymous" || p.Role != RoleViewer || p.Scoped() {
		t.Errorf("anonymous principal %+v", p)
	}
	if w := f.do(t, "GET", "/metrics", "10.0.0.1", nil); w.Code != 204 {
		t.Errorf("anonymous /metrics: %d", w.Code)
	}
	// Only a viewer: changes and admin endpoints are refused.
	if w := f.do(t, "POST", "/api/v1/maintenance", "10.0.0.1", nil); w.Code != 403 {
		t.Errorf("anonymous change: %d, want 403", w.Code)
	}
	if w := f.do(t, "GET", "/api/v1/tokens", "10.0.0.1", nil); w.Code != 403 {
		t.Errorf("anonymous tokens: %d, want 403", w.Code)
	}
	// A wrong credential is refused even though none would do.
	for _, c := range []cred{bearer(tokWrong), basic("ani", "wrong password!"), raw("Basic !!!")} {
		if w := f.do(t, "GET", "/api/v1/query", "10.0.0.1", c); w.Code != 401 {
			t.Errorf("anonymous mode, wrong credential: %d, want 401", w.Code)
		}
	}
	// A right one is used: the admin is an admin.
	if w := f.do(t, "GET", "/api/v1/tokens", "10.0.0.1", bearer(tokAdmin)); w.Code != 204 {
		t.Errorf("anonymous mode, admin token: %d", w.Code)
	}
}

func TestGateTooManyFailures(t *testing.T) {
	const limit = 3
	f := newGate(t, "", limit)
	for i := range limit {
		if w := f.do(t, "GET", "/api/v1/query", "192.0.2.7", bearer(tokWrong)); w.Code != 401 {
			t.Fatalf("failure %d: %d, want 401", i+1, w.Code)
		}
	}
	calls := f.v.calls
	for _, c := range []cred{bearer(tokWrong), bearer(tokViewer), nil} {
		w := f.do(t, "GET", "/api/v1/query", "192.0.2.7", c)
		if w.Code != http.StatusTooManyRequests {
			t.Fatalf("after %d failures: %d, want 429", limit, w.Code)
		}
		ra, err := strconv.Atoi(w.Header().Get("Retry-After"))
		if err != nil || ra < 1 || ra > 60 {
			t.Errorf("Retry-After %q", w.Header().Get("Retry-After"))
		}
		errorBody(t, w, "too_many_requests")
	}
	if f.v.calls != calls {
		t.Error("a blocked source's credentials were still checked")
	}
	// Another source is not blocked.
	if w := f.do(t, "GET", "/api/v1/query", "192.0.2.8", bearer(tokWrong)); w.Code != 401 {
		t.Errorf("another source: %d, want 401", w.Code)
	}
	if w := f.do(t, "GET", "/api/v1/query", "192.0.2.8", bearer(tokViewer)); w.Code != 204 {
		t.Errorf("another source, good token: %d", w.Code)
	}
	// One IPv6 host's /64 is one source.
	for i := range limit {
		f.do(t, "GET", "/api/v1/query", "[2001:db8:1:2::"+strconv.Itoa(i+1)+"]", bearer(tokWrong))
	}
	if w := f.do(t, "GET", "/api/v1/query", "[2001:db8:1:2::ffff]", bearer(tokViewer)); w.Code != 429 {
		t.Errorf("same /64: %d, want 429", w.Code)
	}
	if w := f.do(t, "GET", "/api/v1/query", "[2001:db8:1:3::1]", bearer(tokViewer)); w.Code != 204 {
		t.Errorf("another /64: %d", w.Code)
	}
	if f.refused[429] != 4 {
		t.Errorf("429s counted: %v", f.refused)
	}
}

// A client that sends no credential has not been configured yet: it gets
// 401s, never a 429, and does not use up its source's allowance.
func TestGateNoCredentialIsNotAGuess(t *testing.T) {
	const limit = 3
	f := newGate(t, "", limit)
	for i := range 10 * limit {
		if w := f.do(t, "GET", "/api/v1/query", "192.0.2.9", nil); w.Code != 401 {
			t.Fatalf("request %d without a credential: %d, want 401", i+1, w.Code)
		}
	}
	for i := range limit {
		if w := f.do(t, "GET", "/api/v1/query", "192.0.2.9", bearer(tokWrong)); w.Code != 401 {
			t.Fatalf("guess %d: %d, want 401 (the requests without credential counted)", i+1, w.Code)
		}
	}
	if w := f.do(t, "GET", "/api/v1/query", "192.0.2.9", bearer(tokWrong)); w.Code != 429 {
		t.Fatalf("guess %d: %d, want 429", limit+1, w.Code)
	}
}

// The log has at most one line per source a minute and never a secret:
// not the token's secret, not a password, not a base64 of either.
func TestGateLogRateLimitedWithoutSecrets(t *testing.T) {
	f := newGate(t, "", 1000)
	const (
		pw        = "hunter2-very-secret"
		malformed = "secret-in-a-basic-header-without-colon"
	)
	srcs := []string{"198.51.100.1", "198.51.100.2", "198.51.100.3", "198.51.100.4"}
	for range 20 {
		f.do(t, "GET", "/api/v1/query", srcs[0], bearer(tokWrong))
		f.do(t, "GET", "/api/v1/query", srcs[1], basic("ani", pw))
		f.do(t, "GET", "/api/v1/query", srcs[2], basic("grafana", tokWrong))
		f.do(t, "GET", "/api/v1/query", srcs[3], raw("Basic "+base64.StdEncoding.EncodeToString([]byte(malformed))))
		f.do(t, "GET", "/api/v1/tokens", srcs[3], bearer(tokViewer)) // a 403 shares the source's line
	}
	logText := f.log.String()
	lines := strings.Split(strings.TrimSpace(logText), "\n")
	if len(lines) != len(srcs) {
		t.Fatalf("%d log lines for %d sources, want one each:\n%s", len(lines), len(srcs), logText)
	}
	for _, s := range srcs {
		if n := strings.Count(logText, "source="+s+" "); n != 1 {
			t.Errorf("source %s: %d lines", s, n)
		}
	}
	secret := strings.TrimPrefix(tokWrong, "pantau_wrongwrongwrongw_")
	for _, s := range []string{secret, secret[:16], pw, malformed, tokWrong,
		base64.StdEncoding.EncodeToString([]byte("ani:" + pw)), base64.StdEncoding.EncodeToString([]byte(malformed)),
		strings.TrimPrefix(tokViewer, "pantau_viewerviewerview_")} {
		if strings.Contains(logText, s) {
			t.Errorf("the log contains a secret %q:\n%s", s, logText)
		}
	}
	// What it does say: the token's public id, the user name.
	if !strings.Contains(logText, "token_id=wrongwrongwrongw") || !strings.Contains(logText, "user=ani") {
		t.Errorf("the log does not name the token id and the user:\n%s", logText)
	}
	// The refused answers do not echo secrets either.
	for _, c := range []cred{bearer(tokWrong), basic("ani", pw), raw("Basic " + base64.StdEncoding.EncodeToString([]byte(malformed)))} {
		w := f.do(t, "GET", "/api/v1/query", "198.51.100.9", c)
		if b := w.Body.String(); strings.Contains(b, secret) || strings.Contains(b, pw) || strings.Contains(b, malformed) {
			t.Errorf("answer contains the secret: %s", b)
		}
	}
}

// The log's minute, on the guard's own clock: a line a minute per
// source, with the count of the lines left out; the failure count starts
// again with each minute.
func TestGuardMinute(t *testing.T) {
	g := NewGuard(2, 8)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if log, n := g.Refused("a", true, t0); !log || n != 0 {
		t.Fatalf("first refusal: log %v, suppressed %d", log, n)
	}
	for i := 1; i <= 5; i++ {
		if log, _ := g.Refused("a", false, t0.Add(time.Duration(i)*time.Second)); log {
			t.Fatalf("refusal %d within the minute logged", i)
		}
	}
	if log, _ := g.Refused("b", true, t0.Add(time.Second)); !log {
		t.Fatal("another source's first refusal not logged")
	}
	if log, n := g.Refused("a", true, t0.Add(time.Minute)); !log || n != 5 {
		t.Fatalf("a minute later: log %v, suppressed %d, want 5", log, n)
	}
	// "a" failed twice, at t0 and t0+1m: different windows.
	if w := g.Blocked("a", t0.Add(time.Minute+time.Second)); w != 0 {
		t.Fatalf("blocked after one failure in the window: %v", w)
	}
	g.Refused("a", true, t0.Add(time.Minute+2*time.Second))
	if w := g.Blocked("a", t0.Add(time.Minute+3*time.Second)); w != 57*time.Second {
		t.Fatalf("blocked for %v, want the rest of the window (57s)", w)
	}
	if w := g.Blocked("a", t0.Add(2*time.Minute)); w != 0 {
		t.Fatalf("still blocked after the window: %v", w)
	}
	// The table stays bounded.
	for i := range 100 {
		g.Refused(strconv.Itoa(i), true, t0)
	}
	if g.Len() > 8 {
		t.Fatalf("guard holds %d sources, limit 8", g.Len())
	}
	// Limit 0 never blocks.
	z := NewGuard(0, 8)
	for range 10 {
		z.Refused("a", true, t0)
	}
	if z.Blocked("a", t0) != 0 {
		t.Fatal("limit 0 blocked")
	}
}

func TestGateStoreError(t *testing.T) {
	f := newGate(t, "", 2)
	f.v.err = errors.New("database is locked")
	for i := range 5 {
		w := f.do(t, "GET", "/api/v1/query", "10.0.0.1", bearer(tokViewer))
		if w.Code != http.StatusServiceUnavailable {
			t.Fatalf("request %d with the store failing: %d, want 503", i+1, w.Code)
		}
		if w.Header().Get("WWW-Authenticate") != "" {
			t.Error("503 asks for another credential")
		}
		if msg := errorBody(t, w, "unauthorized"); !strings.Contains(msg, "retry") {
			t.Errorf("503 message %q", msg)
		}
	}
	if w := f.do(t, "GET", "/api/v1/query", "10.0.0.1", basic("ani", userPassword)); w.Code != 503 {
		t.Errorf("user with the store failing: %d", w.Code)
	}
	if !strings.Contains(f.log.String(), "database is locked") {
		t.Errorf("the store's error is not logged:\n%s", f.log.String())
	}
	// The store's failures are not the client's guesses.
	f.v.err = nil
	if w := f.do(t, "GET", "/api/v1/query", "10.0.0.1", bearer(tokViewer)); w.Code != 204 {
		t.Errorf("after the store recovered: %d", w.Code)
	}
	if f.refused[503] != 6 {
		t.Errorf("refusals counted: %v", f.refused)
	}
}
