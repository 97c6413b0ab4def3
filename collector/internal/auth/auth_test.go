package auth

import (
	"context"
	"net/http"
	"regexp"
	"slices"
	"testing"

	"github.com/pantau-noc/pantau/collector/internal/statedb"
)

// TestDefaultPolicyLookup asks the default policy about a request for
// every rule (each rule must be the one that decides at least one
// request, so a new rule without a case here fails) and about paths no
// rule names.
func TestDefaultPolicyLookup(t *testing.T) {
	type want struct {
		access   Access
		role     string
		unscoped bool
	}
	var (
		public   = want{access: Public}
		pass     = want{access: PassThrough}
		anyCred  = want{access: AnyCredential}
		viewer   = want{role: RoleViewer}
		operator = want{role: RoleOperator}
		admin    = want{role: RoleAdmin, unscoped: true}
		agent    = want{role: RoleAgent}
	)
	cases := []struct {
		method, path string
		want         want
	}{
		{"GET", "/healthz", public},
		{"POST", "/healthz", public},
		{"GET", "/readyz", public},
		{"HEAD", "/readyz", public},
		{"POST", "/api/v2/write", pass},
		{"POST", "/write", pass},
		{"GET", "/api/v2/write", viewer}, // only POST writes
		{"PUT", "/write", viewer},        // no rule: the default
		{"GET", "/ping", anyCred},
		{"POST", "/v1/opamp", agent},
		{"GET", "/v1/opamp", viewer}, // only POST: opamp-go's WebSocket upgrade is not served
		{"GET", "/api/v1/fleet/releases/1.2.0/linux-amd64", agent},
		{"DELETE", "/api/v1/fleet/releases/1.2.0/linux-amd64", operator},
		{"HEAD", "/ping", anyCred},
		{"POST", "/ping", anyCred},
		{"GET", "/query", anyCred},  // InfluxDB 1.x clients' CREATE DATABASE
		{"POST", "/query", anyCred}, // (Telegraf sends it with its write token)
		{"GET", "/health", anyCred},
		{"HEAD", "/health", anyCred},
		{"POST", "/health", viewer},
		{"GET", "/", public}, // browsers go to the web UI
		{"POST", "/", viewer},
		{"GET", "/ui/", pass}, // the UI checks its session and this policy itself
		{"POST", "/ui/masuk", pass},
		{"DELETE", "/", viewer},
		{"GET", "/metrics", want{role: RoleViewer, unscoped: true}},
		{"POST", "/metrics", want{role: RoleViewer, unscoped: true}},
		{"GET", "/debug/pprof/", admin},
		{"GET", "/debug/pprof", admin},
		{"GET", "/debug/pprof/heap", admin},
		{"GET", "/api/v1/tokens", admin},
		{"POST", "/api/v1/tokens", admin},
		{"DELETE", "/api/v1/tokens/abcdefghijklmnop", admin},
		{"GET", "/api/v1/users", admin},
		{"POST", "/api/v1/users/ani/disable", admin},
		{"GET", "/api/v1/audit", admin},
		{"GET", "/api/v1/audit/", admin},
		{"GET", "/api/v1/notifiers", admin}, // lists no secret, but names every endpoint's type
		{"POST", "/api/v1/notifiers/noc-telegram/test", admin},
		{"GET", "/api/v1/outbox", admin}, // error texts of every notifier
		{"GET", "/api/v1/outbox/", admin},
		{"PUT", "/api/v1/inventory", admin},
		{"POST", "/api/v1/inventory/validate", admin},
		{"GET", "/api/v1/inventory", viewer}, // filtered by scope in the handler
		{"GET", "/api/v1/inventory/unmatched", viewer},
		{"GET", "/api/v1/status", viewer}, // the web UI's status page, filtered by scope
		{"GET", "/api/v1/agents", viewer},
		{"HEAD", "/api/v1/agents", viewer},
		{"POST", "/api/v1/agents", admin},
		{"POST", "/api/v1/enroll", pass},  // the enrolment code is the credential
		{"GET", "/api/v1/enroll", viewer}, // only POST enrols
		{"GET", "/api/v1/enrollments", admin},
		{"POST", "/api/v1/enrollments", admin},
		{"DELETE", "/api/v1/enrollments/abcd", admin},
		{"GET", "/api/v1/agents/a1/override", admin}, // may hold credentials
		{"PUT", "/api/v1/agents/a1/override", admin},
		{"POST", "/api/v1/agents/a1/rotate", admin},
		{"GET", "/api/v1/outages", viewer},
		{"PUT", "/api/v1/maintenance/3", operator},
		{"GET", "/api/v1/query", viewer},
		{"POST", "/api/v1/query", viewer}, // Grafana POSTs queries: still a read
		{"POST", "/api/v1/query_range", viewer},
		{"GET", "/api/v1/series", viewer},
		{"POST", "/api/v1/series", viewer},
		{"GET", "/api/v1/labels", viewer},
		{"GET", "/api/v1/label/opd/values", viewer},
		{"GET", "/api/v1/label", viewer},
		{"GET", "/api/v1/metadata", viewer},
		{"GET", "/api/v1/status/buildinfo", viewer},
		{"GET", "/api/v1/query_exemplars", viewer},
		{"POST", "/api/v1/format_query", viewer},
		{"GET", "/api/v1/parse_query", viewer},
		{"GET", "/api/v1/rules", viewer},
		{"GET", "/api/v1/targets/metadata", viewer},
		{"GET", "/federate", viewer},
		{"POST", "/api/v1/read", viewer}, // remote read POSTs: still a read
		{"POST", "/api/v1/maintenance", operator},
		{"DELETE", "/api/v1/silences/7", operator},
		{"PATCH", "/api/v1/reviews/3", operator},
		{"GET", "/api/v1/maintenance", viewer},
		{"GET", "/api/v1/alerts", viewer},
		// Paths no rule names need a viewer (or an operator to change
		// something under /api/v1/); look-alikes of admin paths are not
		// the admin paths.
		{"GET", "/nope", viewer},
		{"GET", "/api/v1/tokensX", viewer},
		{"POST", "/api/v1/tokensX", operator},
		{"GET", "/api/v1/auditlog", viewer},
		{"GET", "/api/v1/notifiersX", viewer},
		{"GET", "/api/v1/outboxes", viewer},
		{"GET", "/metrics/", viewer},
		{"GET", "/healthz/", viewer},
		{"GET", "/api/v2/query", viewer},
		{"POST", "/api/v2/query", viewer},
		{"get", "/api/v1/inventory", admin}, // not GET: a change
	}
	decided := make([]bool, len(DefaultPolicy))
	for _, c := range cases {
		got := DefaultPolicy.Lookup(c.method, c.path)
		if got.Access != c.want.access || got.Role != c.want.role || got.Unscoped != c.want.unscoped {
			t.Errorf("%s %s: got %+v, want %+v", c.method, c.path, got, c.want)
		}
		if i := slices.Index(DefaultPolicy, got); i >= 0 {
			decided[i] = true
		}
	}
	for i, ok := range decided {
		if !ok {
			t.Errorf("no case is decided by rule %d %+v", i, DefaultPolicy[i])
		}
	}
	if got := (Policy{}).Lookup("DELETE", "/x"); got != (Rule{Access: NeedRole, Role: RoleViewer}) {
		t.Errorf("empty policy: %+v, want a viewer", got)
	}
}

func TestPrincipalCan(t *testing.T) {
	roles := []string{RoleAgent, RoleViewer, RoleOperator, RoleAdmin}
	// can[holder][needed]
	can := map[string][]bool{
		RoleAgent:    {true, false, false, false},
		RoleViewer:   {false, true, false, false},
		RoleOperator: {false, true, true, false},
		RoleAdmin:    {false, true, true, true},
		"":           {false, false, false, false},
		"root":       {false, false, false, false},
	}
	for holder, row := range can {
		p := &Principal{Kind: "token", Role: holder}
		for i, need := range roles {
			if got := p.Can(need); got != row[i] {
				t.Errorf("%q can %q: %v, want %v", holder, need, got, row[i])
			}
		}
		if p.Can("") || p.Can("root") {
			t.Errorf("%q can an unknown role", holder)
		}
	}
	var nobody *Principal
	for _, need := range roles {
		if nobody.Can(need) {
			t.Errorf("nil principal can %s", need)
		}
	}
}

func TestPrincipalScope(t *testing.T) {
	all := &Principal{Role: RoleViewer}
	one := &Principal{Role: RoleViewer, OPDs: []string{"dinkes"}}
	two := &Principal{Role: RoleViewer, OPDs: []string{"dinkes", "dishub"}}
	var nobody *Principal

	sees := []struct {
		p    *Principal
		opd  string
		want bool
	}{
		{all, "dinkes", true}, {all, "", true},
		{one, "dinkes", true}, {one, "dishub", false}, {one, "", false}, {one, "dinke", false}, {one, "DINKES", false},
		{two, "dishub", true}, {two, "bappeda", false},
		{nobody, "dinkes", false}, {nobody, "", false},
	}
	for _, c := range sees {
		if got := c.p.Sees(c.opd); got != c.want {
			t.Errorf("%v sees %q: %v, want %v", c.p, c.opd, got, c.want)
		}
	}
	covers := []struct {
		p    *Principal
		want []string
		ok   bool
	}{
		{all, nil, true}, {all, []string{"dinkes"}, true},
		{one, nil, false}, {one, []string{}, false}, {one, []string{"dinkes"}, true}, {one, []string{"dinkes", "dishub"}, false},
		{two, []string{"dishub", "dinkes"}, true}, {two, []string{"dinkes", "x"}, false},
		{nobody, nil, false}, {nobody, []string{"dinkes"}, false},
	}
	for _, c := range covers {
		if got := c.p.Covers(c.want); got != c.ok {
			t.Errorf("%v covers %q: %v, want %v", c.p, c.want, got, c.ok)
		}
	}
	if all.Scoped() || !one.Scoped() || nobody.Scoped() {
		t.Error("Scoped wrong")
	}

	// The regexp matches exactly the OPDs (PromQL anchors it), with
	// regexp characters in an id taken literally.
	p := &Principal{OPDs: []string{"dinkes", "a.b", "c-d_e"}}
	re := regexp.MustCompile("^(?:" + p.OPDRegexp() + ")$")
	for _, s := range []string{"dinkes", "a.b", "c-d_e"} {
		if !re.MatchString(s) {
			t.Errorf("OPDRegexp %q does not match %q", p.OPDRegexp(), s)
		}
	}
	for _, s := range []string{"axb", "dinkes2", "xdinkes", "", "dinkes|a.b"} {
		if re.MatchString(s) {
			t.Errorf("OPDRegexp %q matches %q", p.OPDRegexp(), s)
		}
	}
}

func TestFromIdentity(t *testing.T) {
	cases := []struct {
		id   statedb.Identity
		want Principal
	}{
		{statedb.Identity{User: "ani", Name: "ani", Role: RoleOperator, OPDs: []string{"dinkes"}},
			Principal{Kind: "user", ID: "ani", Name: "ani", Role: RoleOperator, OPDs: []string{"dinkes"}}},
		{statedb.Identity{TokenID: "t1", Name: "grafana", Role: RoleViewer},
			Principal{Kind: "token", ID: "t1", Name: "grafana", Role: RoleViewer}},
		{statedb.Identity{TokenID: "t2", Agent: "a-dinkes", Role: RoleAgent, Sites: []string{"s1"}},
			Principal{Kind: "token", ID: "t2", Name: "a-dinkes", Role: RoleAgent}},
	}
	for _, c := range cases {
		got := FromIdentity(c.id)
		if got.Kind != c.want.Kind || got.ID != c.want.ID || got.Name != c.want.Name || got.Role != c.want.Role || !slices.Equal(got.OPDs, c.want.OPDs) {
			t.Errorf("FromIdentity(%+v) = %+v, want %+v", c.id, got, c.want)
		}
	}
	if s := (&Principal{Kind: "token", ID: "t1", Name: "grafana"}).String(); s != "token grafana (t1)" {
		t.Errorf("String: %q", s)
	}
	if s := (*Principal)(nil).String(); s != "nobody" {
		t.Errorf("nil String: %q", s)
	}
	ctx := WithPrincipal(context.Background(), &Principal{ID: "x"})
	if p := FromContext(ctx); p == nil || p.ID != "x" {
		t.Errorf("FromContext: %v", p)
	}
	if p := FromContext(context.Background()); p != nil {
		t.Errorf("FromContext without a principal: %v", p)
	}
	r, _ := http.NewRequest("GET", "/", nil)
	if FromContext(r.Context()) != nil {
		t.Error("a fresh request has a principal")
	}
}
