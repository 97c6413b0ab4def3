package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/pantau-noc/pantau/collector/internal/auth"
	"github.com/pantau-noc/pantau/collector/internal/inventory"
	"github.com/pantau-noc/pantau/collector/internal/statedb"
	"github.com/pantau-noc/pantau/internal/fleetproto"
)

// newFleetHarness is the fleet API and the agent list on a real state
// database behind the real gate, whose guard refuses a source after
// limit failures a minute (0: never).
func newFleetHarness(t *testing.T, limit int) *harness {
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
	discard := slog.New(slog.DiscardHandler)
	authn, err := statedb.NewAuthenticator(ctx, db, discard)
	if err != nil {
		t.Fatal(err)
	}
	guard := auth.NewGuard(limit, 0)
	mux := http.NewServeMux()
	invf := func() *inventory.Inventory { return inv }
	NewFleet(FleetOptions{DB: db, Auth: authn, Guard: guard, Inventory: invf, Logger: discard,
		Pin: func() ([]byte, error) { return make([]byte, 32), nil }, CollectorURL: func() string { return "https://collector.example:9090" }}).Register(mux)
	NewOverview(OverviewOptions{DB: db, Inventory: invf, Logger: discard}).Register(mux)
	srv := httptest.NewServer(auth.NewGate(auth.GateOptions{Verifier: authn, Guard: guard, Logger: discard}, mux))
	t.Cleanup(srv.Close)
	h.url = srv.URL
	return h
}

// newCode creates a code through the API as admin.
func (h *harness) newCode(site, agent string) string {
	h.t.Helper()
	code, body := h.do("POST", "/api/v1/enrollments", "admin", map[string]string{"site": site, "agent": agent, "valid": "2h"})
	if code != http.StatusCreated {
		h.t.Fatalf("create code: %d %s", code, body)
	}
	v := decode[struct {
		Code, Command string
		Data          EnrolmentView
	}](h.t, body)
	if !strings.Contains(v.Command, "pantau-agent enroll --collector https://collector.example:9090 --code "+v.Code+" --state-dir /var/lib/pantau-agent") {
		h.t.Fatalf("command %q", v.Command)
	}
	c, err := fleetproto.ParseCode(v.Code)
	if err != nil || len(c.Pin) != 32 || c.ID != v.Data.ID {
		h.t.Fatalf("code %q: %+v %v", v.Code, c, err)
	}
	return v.Code
}

func TestEnrollAPI(t *testing.T) {
	h := newFleetHarness(t, 0)
	code := h.newCode("pkm-aimas", "")
	st, body := h.do("POST", "/api/v1/enroll", "", fleetproto.EnrollRequest{Code: code, Agent: "aimas-1", Hostname: "box", Version: "1.0.0"})
	if st != http.StatusOK {
		t.Fatalf("enroll: %d %s", st, body)
	}
	res := decode[fleetproto.EnrollResponse](t, body)
	if res.Agent != "aimas-1" || res.Site != "pkm-aimas" || res.OpAMPURL != fleetproto.OpAMPPath || !strings.HasPrefix(res.Token, "pantau_") {
		t.Fatalf("response %+v", res)
	}
	// The new token is an agent token: it reads nothing.
	h.tok["new"] = res.Token
	if st, _ := h.do("GET", "/api/v1/agents", "new", nil); st != http.StatusForbidden {
		t.Fatalf("agent token reads the agent list: %d", st)
	}
	// Reused: 401 with the one message.
	st, body = h.do("POST", "/api/v1/enroll", "", fleetproto.EnrollRequest{Code: code, Agent: "aimas-2"})
	if st != http.StatusUnauthorized || !strings.Contains(body, "enrolment code unknown, used or expired") {
		t.Fatalf("reuse: %d %s", st, body)
	}
	// Name taken by another enrolled agent: 409, and the code still works.
	code2 := h.newCode("pkm-aimas", "")
	st, body = h.do("POST", "/api/v1/enroll", "", fleetproto.EnrollRequest{Code: code2, Agent: "aimas-1"})
	if st != http.StatusConflict || !strings.Contains(body, "--agent aimas-1") {
		t.Fatalf("taken: %d %s", st, body)
	}
	if st, body := h.do("POST", "/api/v1/enroll", "", fleetproto.EnrollRequest{Code: code2}); st != http.StatusBadRequest || !strings.Contains(body, `send \"agent\"`) {
		t.Fatalf("no name: %d %s", st, body)
	}
	if st, body := h.do("POST", "/api/v1/enroll", "", fleetproto.EnrollRequest{Code: code2, Agent: "aimas-3"}); st != http.StatusOK {
		t.Fatalf("free name: %d %s", st, body)
	}
	// Listed with states; revoke.
	code3 := h.newCode("dinkes", "dinkes-1")
	c3, _ := fleetproto.ParseCode(code3)
	if st, body := h.do("DELETE", "/api/v1/enrollments/"+c3.ID, "admin", nil); st != http.StatusOK {
		t.Fatalf("revoke: %d %s", st, body)
	}
	if st, body := h.do("POST", "/api/v1/enroll", "", fleetproto.EnrollRequest{Code: code3}); st != http.StatusUnauthorized || !strings.Contains(body, "enrolment code unknown, used or expired") {
		t.Fatalf("revoked: %d %s", st, body)
	}
	st, body = h.do("GET", "/api/v1/enrollments", "admin", nil)
	list := decode[struct{ Data []EnrolmentView }](t, body)
	if st != http.StatusOK || len(list.Data) != 3 {
		t.Fatalf("list: %d %s", st, body)
	}
	states := map[string]int{}
	for _, e := range list.Data {
		states[e.State]++
		if strings.Contains(body, c3.Secret) {
			t.Fatal("the list shows a secret")
		}
	}
	if states["used"] != 2 || states["revoked"] != 1 {
		t.Fatalf("states %v", states)
	}
	// Every try is in the audit log, never with a secret or token.
	var tries int
	for _, a := range h.audit() {
		if a.Action == "POST /api/v1/enroll" {
			tries++
		}
		if strings.Contains(a.Summary, c3.Secret) || strings.Contains(a.Summary, res.Token) {
			t.Fatalf("audit leaks a secret: %+v", a)
		}
	}
	if tries != 6 {
		t.Fatalf("%d enrolment tries on record, want 6", tries)
	}
}

func TestEnrollExpired(t *testing.T) {
	h := newFleetHarness(t, 0)
	// Backdated: made two days ago, valid one.
	sec, e, err := h.db.CreateEnrolment(h.ctx, statedb.EnrolmentSpec{Site: "dinkes", Valid: 24 * time.Hour}, statedb.AuditEntry{ActorKind: "cli"}, time.Now().Add(-48*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	code := fleetproto.Code{ID: e.ID, Secret: sec}.String()
	if st, body := h.do("POST", "/api/v1/enroll", "", fleetproto.EnrollRequest{Code: code, Agent: "a"}); st != http.StatusUnauthorized || !strings.Contains(body, "enrolment code unknown, used or expired") {
		t.Fatalf("expired: %d %s", st, body)
	}
}

func TestEnrollMalformed(t *testing.T) {
	h := newFleetHarness(t, 0)
	big := `{"code":"` + strings.Repeat("a", MaxEnrollBody) + `"}`
	for _, tc := range []struct {
		name, ct, body string
		status         int
		want           string
	}{
		{"oversized", "application/json", big, http.StatusRequestEntityTooLarge, "larger than"},
		{"wrong type", "text/plain", `{"code":"x"}`, http.StatusUnsupportedMediaType, "send application/json"},
		{"no type", "", `{"code":"x"}`, http.StatusUnsupportedMediaType, "send application/json"},
		{"not json", "application/json", `code=x`, http.StatusBadRequest, "JSON syntax error"},
		{"unknown field", "application/json", `{"code":"x","site":"dinkes"}`, http.StatusBadRequest, "unknown field"},
		{"no code", "application/json", `{}`, http.StatusBadRequest, `\"code\": missing`},
		{"bad code", "application/json", `{"code":"PNT2-aaaa-bbbb"}`, http.StatusBadRequest, "malformed enrolment code"},
		{"bad agent", "application/json", `{"code":"PNT1-aaaaaaaa-` + strings.Repeat("b", 32) + `","agent":"a b"}`, http.StatusBadRequest, `\"agent\"`},
		{"trailing", "application/json", `{"code":"x"} {}`, http.StatusBadRequest, "trailing data"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, body := h.send("POST", "/api/v1/enroll", "", tc.ct, strings.NewReader(tc.body))
			if st != tc.status || !strings.Contains(body, tc.want) {
				t.Fatalf("%d %s, want %d with %q", st, body, tc.status, tc.want)
			}
		})
	}
}

// TestEnrollBruteForce: guessed codes count towards the source's limit;
// past it, even a right code gets 429 with Retry-After.
func TestEnrollBruteForce(t *testing.T) {
	h := newFleetHarness(t, 5)
	code := h.newCode("dinkes", "dinkes-1")
	c, _ := fleetproto.ParseCode(code)
	for i := range 5 {
		guess := fleetproto.Code{ID: c.ID, Secret: strings.Repeat(string(rune('a'+i)), 32)}.String()
		if st, _ := h.do("POST", "/api/v1/enroll", "", fleetproto.EnrollRequest{Code: guess}); st != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d", i, st)
		}
	}
	req, _ := http.NewRequest("POST", h.url+"/api/v1/enroll", strings.NewReader(`{"code":"`+code+`"}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("after 5 guesses: %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	// The source's limit is the gate's: a token from it is refused too.
	if st, _ := h.do("GET", "/api/v1/enrollments", "admin", nil); st != http.StatusTooManyRequests {
		t.Fatalf("admin from the blocked source: %d", st)
	}
}

// TestEnrollConcurrent: two clients redeem one code at once; exactly one
// gets a token.
func TestEnrollConcurrent(t *testing.T) {
	h := newFleetHarness(t, 0)
	for round := range 3 {
		code := h.newCode("dinkes", "")
		var wg sync.WaitGroup
		sts := make([]int, 2)
		for i := range sts {
			wg.Go(func() {
				sts[i], _ = h.do("POST", "/api/v1/enroll", "", fleetproto.EnrollRequest{Code: code, Agent: "c" + string(rune('a'+round)) + string(rune('a'+i))})
			})
		}
		wg.Wait()
		ok, refused := 0, 0
		for _, s := range sts {
			switch s {
			case http.StatusOK:
				ok++
			case http.StatusUnauthorized:
				refused++
			}
		}
		if ok != 1 || refused != 1 {
			t.Fatalf("round %d: statuses %v", round, sts)
		}
	}
}

func TestEnrolmentsAdminOnly(t *testing.T) {
	h := newFleetHarness(t, 0)
	for _, who := range []string{"viewer", "operator", "dinkes-op", ""} {
		if st, _ := h.do("GET", "/api/v1/enrollments", who, nil); st != http.StatusForbidden && st != http.StatusUnauthorized {
			t.Errorf("GET as %q: %d", who, st)
		}
		if st, _ := h.do("POST", "/api/v1/enrollments", who, map[string]string{"site": "dinkes"}); st != http.StatusForbidden && st != http.StatusUnauthorized {
			t.Errorf("POST as %q: %d", who, st)
		}
		if st, _ := h.do("PUT", "/api/v1/agents/a1/override", who, "icmp: []"); st != http.StatusForbidden && st != http.StatusUnauthorized {
			t.Errorf("PUT override as %q: %d", who, st)
		}
		if st, _ := h.do("POST", "/api/v1/agents/a1/rotate", who, nil); st != http.StatusForbidden && st != http.StatusUnauthorized {
			t.Errorf("rotate as %q: %d", who, st)
		}
	}
	for _, tc := range []struct {
		body map[string]string
		want string
	}{
		{map[string]string{"site": "nowhere"}, "not in the inventory"},
		{map[string]string{"site": "dinkes", "valid": "31d"}, "from 1 to 30"},
		{map[string]string{"site": "dinkes", "valid": "1s"}, "from 1m to 30d"},
		{map[string]string{"site": "dinkes", "agent": "../x"}, `\"agent\"`},
	} {
		if st, body := h.do("POST", "/api/v1/enrollments", "admin", tc.body); st != http.StatusBadRequest || !strings.Contains(body, tc.want) {
			t.Errorf("%v: %d %s", tc.body, st, body)
		}
	}
	if st, _ := h.do("DELETE", "/api/v1/enrollments/nosuch", "admin", nil); st != http.StatusNotFound {
		t.Errorf("revoke unknown: %d", st)
	}
}

func TestOverrideAndRotateAPI(t *testing.T) {
	h := newFleetHarness(t, 0)
	put := func(who, ct, body string) (int, string) {
		return h.send("PUT", "/api/v1/agents/dinkes-1/override", who, ct, strings.NewReader(body))
	}
	if st, body := put("admin", "application/yaml", "icmp:\n  - {name: gw, host: 10.0.0.1}\n"); st != http.StatusOK {
		t.Fatalf("put: %d %s", st, body)
	}
	st, body := h.do("GET", "/api/v1/agents/dinkes-1/override", "admin", nil)
	if st != http.StatusOK || !strings.Contains(body, "10.0.0.1") || !strings.Contains(body, "token root") {
		t.Fatalf("get: %d %s", st, body)
	}
	for _, tc := range []struct{ ct, body, want string }{
		{"application/yaml", "collectors: []\n", "may set only"},
		{"application/yaml", "agent: {id: x}\n", "only agent.site"},
		{"application/yaml", "icmp:\n  - {host: 10.0.0.1}\n", "no name"},
		{"application/yaml", "- a\n", "not a mapping"},
		{"application/json", "{}", "application/yaml"},
		{"application/yaml", strings.Repeat("#", statedb.MaxOverrideBytes+1), "larger than"},
	} {
		if st, body := put("admin", tc.ct, tc.body); st < 400 || !strings.Contains(body, tc.want) {
			t.Errorf("%q: %d %s", tc.body[:min(len(tc.body), 30)], st, body)
		}
	}
	if st, _ := h.do("DELETE", "/api/v1/agents/dinkes-1/override", "admin", nil); st != http.StatusOK {
		t.Fatalf("delete: %d", st)
	}
	if st, _ := h.do("GET", "/api/v1/agents/dinkes-1/override", "admin", nil); st != http.StatusNotFound {
		t.Fatalf("get after delete: %d", st)
	}
	// Rotation needs an active token.
	if st, _ := h.do("POST", "/api/v1/agents/dinkes-1/rotate", "admin", nil); st != http.StatusNotFound {
		t.Fatalf("rotate without a token: %d", st)
	}
	if _, _, err := h.db.CreateToken(h.ctx, "dinkes-1", []string{"dinkes"}, ""); err != nil {
		t.Fatal(err)
	}
	if st, body := h.do("POST", "/api/v1/agents/dinkes-1/rotate", "admin", nil); st != http.StatusAccepted {
		t.Fatalf("rotate: %d %s", st, body)
	}
	if ok, _ := h.db.RotationRequested(h.ctx, "dinkes-1"); !ok {
		t.Fatal("rotation not pending")
	}
	var rec int
	for _, a := range h.audit() {
		if strings.HasPrefix(a.Object, "agent/dinkes-1") {
			rec++
			if strings.Contains(a.Summary, "10.0.0.1") {
				t.Fatalf("audit holds the override's text: %+v", a)
			}
		}
	}
	if rec != 3 {
		t.Fatalf("%d override/rotation changes on record, want 3", rec)
	}
}

// TestAgentsFleetScope: the agent list carries the fleet fields, and a
// scoped viewer sees only its OPD's agents.
func TestAgentsFleetScope(t *testing.T) {
	h := newFleetHarness(t, 0)
	now := time.Now()
	for _, a := range []statedb.FleetAgent{
		{Agent: "dinkes-1", Site: "dinkes", Version: "1.2.0", LastSeen: now, ConfigOffered: "aa", ConfigApplied: "aa", ConfigStatus: "applied", ClockOffsetSeconds: 0.2, Healthy: true},
		{Agent: "dishub-1", Site: "dishub", Version: "1.1.0", LastSeen: now, ConfigOffered: "bb", ConfigApplied: "aa", ConfigStatus: "failed", ConfigError: "bad"},
	} {
		if err := h.db.UpsertFleetAgent(h.ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.db.RequestRotation(h.ctx, "dishub-1", "t"); err != nil {
		t.Fatal(err)
	}
	st, body := h.do("GET", "/api/v1/agents", "viewer", nil)
	list := decode[struct{ Data []AgentView }](t, body)
	if st != http.StatusOK || len(list.Data) != 2 {
		t.Fatalf("viewer: %d %s", st, body)
	}
	d, x := list.Data[0], list.Data[1]
	if d.Fleet == nil || !d.Fleet.ConfigCurrent || d.Version != "1.2.0" || d.OPD != "dinkes" || x.Fleet.ConfigCurrent || !x.Fleet.RotationPending || x.Fleet.ConfigError != "bad" {
		t.Fatalf("fleet fields: %+v %+v / %+v %+v", d, d.Fleet, x, x.Fleet)
	}
	st, body = h.do("GET", "/api/v1/agents", "dinkes-viewer", nil)
	list = decode[struct{ Data []AgentView }](t, body)
	if st != http.StatusOK || len(list.Data) != 1 || list.Data[0].ID != "dinkes-1" || strings.Contains(body, "dishub") {
		t.Fatalf("scoped viewer: %d %s", st, body)
	}
}

// TestEnrolmentMetric: pantau_collector_enrolments_total counts each
// enrolment by result, every result present from the start.
func TestEnrolmentMetric(t *testing.T) {
	ctx := context.Background()
	db, err := statedb.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	f := NewFleet(FleetOptions{DB: db, Guard: auth.NewGuard(2, 0)})
	mux := http.NewServeMux()
	f.Register(mux)
	sec, e, err := db.CreateEnrolment(ctx, statedb.EnrolmentSpec{Site: "s", Agent: "a"}, statedb.AuditEntry{ActorKind: "cli"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	post := func(body string) int {
		r := httptest.NewRequest("POST", "/api/v1/enroll", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		return w.Code
	}
	code := fleetproto.Code{ID: e.ID, Secret: sec}.String()
	for _, c := range []struct {
		body string
		want int
	}{{`{"code":"` + code + `"}`, 200}, {`{"code":"` + code + `"}`, 401}, {`{}`, 400}, {`{}`, 429}} {
		if got := post(c.body); got != c.want {
			t.Fatalf("%s: %d, want %d", c.body, got, c.want)
		}
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(f.Collectors()...)
	want := `# HELP pantau_collector_enrolments_total Enrolment requests (POST /api/v1/enroll) by result: enrolled, refused (unknown, used or expired code: 401), conflict (agent name taken: 409), bad_request (400, 413, 415), too_many (429), error (500).
# TYPE pantau_collector_enrolments_total counter
pantau_collector_enrolments_total{result="bad_request"} 1
pantau_collector_enrolments_total{result="conflict"} 0
pantau_collector_enrolments_total{result="enrolled"} 1
pantau_collector_enrolments_total{result="error"} 0
pantau_collector_enrolments_total{result="refused"} 1
pantau_collector_enrolments_total{result="too_many"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "pantau_collector_enrolments_total"); err != nil {
		t.Fatal(err)
	}
}
