package collector

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/tsdb"

	"github.com/pantau-noc/pantau/collector/internal/alert"
	"github.com/pantau-noc/pantau/collector/internal/auth"
	"github.com/pantau-noc/pantau/collector/internal/inventory"
	"github.com/pantau-noc/pantau/collector/internal/report"
	"github.com/pantau-noc/pantau/collector/internal/statedb"
)

// scopeInventory has three OPDs: dinkes (with a district office),
// dishub and bappeda; bappeda's service is hosted at dishub.
const scopeInventory = `
sites:
  - {id: dinkes, name: Dinas Kesehatan, kind: opd, timezone: WIB}
  - {id: pkm-aimas, name: Puskesmas Aimas, kind: district, opd: dinkes, timezone: WIB}
  - {id: dishub, name: Dinas Perhubungan, kind: opd, timezone: WIB}
  - {id: bappeda, name: Bappeda, kind: opd, timezone: WIB}
links:
  - {id: dinkes-wan, site: dinkes, type: fibre, circuit: CIRC-DINKES, icmp: {target: 127.0.0.2}}
  - {id: pkm-wan, site: pkm-aimas, type: vsat, circuit: CIRC-PKM, icmp: {target: 127.0.0.3}}
  - {id: dishub-wan, site: dishub, type: fibre, circuit: CIRC-DISHUB, icmp: {target: 127.0.0.4}}
  - {id: bappeda-wan, site: bappeda, type: radio, circuit: CIRC-BAPPEDA, icmp: {target: 127.0.0.5}}
devices:
  - {id: rtr-dinkes, site: dinkes, vendor: MikroTik, model: CCR2004, serial: SER-DINKES}
  - {id: rtr-dishub, site: dishub, vendor: MikroTik, model: CCR2004, serial: SER-DISHUB}
services:
  - {id: sipd, name: SIPD, site: dishub, opd: bappeda, probe: {measurement: http, target: sipd}}
`

// scopeServer is the report and alerts API over a real state.db behind
// the auth gate, with viewer tokens: dinkes, dinkes+dishub, bappeda and
// unscoped.
type scopeServer struct {
	t      *testing.T
	h      http.Handler // behind the gate
	bare   http.Handler // without it (no principal)
	tokens map[string]string
}

func newScopeServer(t *testing.T, alerts []alert.Alert) *scopeServer {
	t.Helper()
	ctx := context.Background()
	r, db := testSLARuntime(t, scopeInventory)
	tdb, err := tsdb.Open(filepath.Join(t.TempDir(), "tsdb"), nil, nil, tsdb.DefaultOptions(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tdb.Close() })
	// records of October 2026, backdated: reviews of the whole Pemda and
	// of dishub, and audit rows naming dishub
	now := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	for _, rv := range []statedb.Review{
		{Month: "2026-10", HeldOn: "2026-10-28", Participants: "NOC", Findings: "dishub-wan putus 3 kali"},
		{Month: "2026-10", HeldOn: "2026-10-29", Scope: "dishub", Participants: "Dishub", Findings: "radio dishub"},
		{Month: "2026-10", HeldOn: "2026-10-30", Scope: "dinkes", Participants: "Dinkes", Findings: "UPS Puskesmas"},
	} {
		if _, err := db.AddReview(ctx, rv, now); err != nil {
			t.Fatal(err)
		}
	}
	wib := time.FixedZone("WIB", 7*3600)
	for _, e := range []statedb.AuditEntry{
		{At: time.Date(2026, 10, 15, 10, 0, 0, 0, wib), ActorKind: "user", ActorID: "admin", ActorName: "admin", Action: "POST /api/v1/maintenance",
			Object: "maintenance/3", Summary: "link dishub-wan 2026-10-16 ganti kabel"},
		{At: time.Date(2026, 9, 30, 23, 0, 0, 0, wib), ActorKind: "user", ActorID: "admin", ActorName: "admin", Action: "PUT /api/v1/inventory",
			Object: "inventory", Summary: "september"},
	} {
		if _, err := db.AddAudit(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	s := &scopeServer{t: t, tokens: map[string]string{}}
	for name, opds := range map[string][]string{"dinkes": {"dinkes"}, "two": {"dinkes", "dishub"}, "bappeda": {"bappeda"}, "all": nil} {
		tok, _, err := db.CreateAPIToken(ctx, name, statedb.RoleViewer, opds, time.Time{}, "")
		if err != nil {
			t.Fatal(err)
		}
		s.tokens[name] = tok
	}
	mux := http.NewServeMux()
	r.register(mux, tdb)
	mux.HandleFunc("GET /api/v1/alerts", serveAlerts(fixedAlerts(alerts), r.builder.Inventory))
	mux.HandleFunc("GET /api/v1/rules", serveRules(fixedAlerts(alerts), r.builder.Inventory, "collector.yml", 15*time.Second))
	s.bare = recoverPanics(mux, r.log)
	v, err := statedb.NewAuthenticator(ctx, db, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	s.h = recoverPanics(auth.NewGate(auth.GateOptions{Verifier: v, Logger: slog.New(slog.DiscardHandler)}, mux), r.log)
	return s
}

// get sends a request over real HTTP on loopback with the named token
// ("" none; "bare": to the handler without the gate).
func (s *scopeServer) get(who, path string) (int, []byte) {
	s.t.Helper()
	h := s.h
	if who == "bare" {
		h = s.bare
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	req, err := http.NewRequest("GET", srv.URL+path, nil)
	if err != nil {
		s.t.Fatal(err)
	}
	if tok := s.tokens[who]; tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	res, err := srv.Client().Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	return res.StatusCode, b
}

// reportText is everything a report says, whatever its format (an xlsx
// workbook: the text of all its parts).
func reportText(t *testing.T, format string, body []byte) string {
	t.Helper()
	if format != "xlsx" {
		return string(body)
	}
	z, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
	if err != nil {
		t.Fatalf("xlsx: %v", err)
	}
	var b strings.Builder
	for _, f := range z.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(&b, rc)
		rc.Close()
	}
	return b.String()
}

// TestReportAPIScope: through the gate, a dinkes viewer's report is
// dinkes' in every format (no other OPD's site, link, circuit, device,
// review or change is named anywhere in it); another OPD or its site is
// a 403 naming it; a two-OPD viewer gets both and not the third; an
// unscoped viewer gets the whole Pemda with its change record, as a
// request without a principal does.
func TestReportAPIScope(t *testing.T) {
	s := newScopeServer(t, nil)
	others := []string{"dishub", "bappeda", "DISHUB", "BAPPEDA", "sipd"}
	for _, q := range []string{"format=json", "format=html", "format=xlsx", "format=html&lang=en", "format=csv&table=links", "format=csv&table=sites",
		"format=csv&table=assets", "format=csv&table=reviews", "format=csv&table=changes", "format=csv&table=services", "format=json&opd=dinkes", "format=json&site=pkm-aimas"} {
		code, body := s.get("dinkes", "/api/v1/report?period=2026-10&"+q)
		if code != http.StatusOK {
			t.Fatalf("dinkes %s: %d %s", q, code, body)
		}
		text := reportText(t, strings.TrimPrefix(strings.Split(q, "&")[0], "format="), body)
		for _, o := range others {
			if strings.Contains(text, o) {
				t.Errorf("dinkes %s: the report names %q", q, o)
			}
		}
		if strings.Contains(q, "table=links") && !strings.Contains(text, "dinkes-wan") {
			t.Errorf("dinkes %s: no dinkes-wan:\n%s", q, text)
		}
	}
	var rep report.Report
	code, body := s.get("dinkes", "/api/v1/report?period=2026-10")
	if err := json.Unmarshal(body, &rep); err != nil || code != 200 {
		t.Fatalf("%d %s", code, body)
	}
	if rep.Scope.Kind != "opd" || rep.Scope.ID != "dinkes" || len(rep.Sites) != 2 || len(rep.Links) != 2 || len(rep.Reviews) != 1 || len(rep.Changes) != 0 || rep.ChangesNote == "" {
		t.Errorf("dinkes report: scope %+v, %d sites, %d links, %d reviews, %d changes (%q)", rep.Scope, len(rep.Sites), len(rep.Links), len(rep.Reviews), len(rep.Changes), rep.ChangesNote)
	}

	for _, c := range []struct{ who, q, want string }{
		{"dinkes", "opd=dishub", "OPD dishub is outside the scope of token dinkes ("},
		{"dinkes", "site=dishub", "site dishub is outside the scope of token dinkes ("},
		{"dinkes", "site=nope", "site nope is outside the scope of token dinkes ("},
		{"dinkes", "opd=nope&format=csv", "OPD nope is outside the scope"},
		{"two", "opd=bappeda", "which sees only dinkes, dishub"},
		{"two", "site=bappeda&format=xlsx", "site bappeda is outside the scope of token two"},
		{"bappeda", "site=dinkes&format=html", "which sees only the sites of bappeda"},
	} {
		code, body := s.get(c.who, "/api/v1/report?period=2026-10&"+c.q)
		if code != http.StatusForbidden || !strings.Contains(string(body), c.want) {
			t.Errorf("%s %s: %d %q; want 403 saying %q", c.who, c.q, code, body, c.want)
		}
	}

	sites := func(who, q string) ([]string, report.Report) {
		t.Helper()
		code, body := s.get(who, "/api/v1/report?period=2026-10"+q)
		var r report.Report
		if err := json.Unmarshal(body, &r); err != nil || code != 200 {
			t.Fatalf("%s %s: %d %.300s", who, q, code, body)
		}
		var out []string
		for _, x := range r.Sites {
			out = append(out, x.Site)
		}
		return out, r
	}
	if got, r := sites("two", ""); !slices.Equal(got, []string{"dinkes", "pkm-aimas", "dishub"}) || r.Scope.Kind != "opds" || len(r.Services) != 1 || len(r.Reviews) != 2 {
		t.Errorf("two: sites %q scope %+v, %d services, %d reviews; want dinkes, pkm-aimas, dishub, sipd (hosted at dishub) and the dinkes and dishub reviews",
			got, r.Scope, len(r.Services), len(r.Reviews))
	}
	if got, _ := sites("two", "&opd=dishub"); !slices.Equal(got, []string{"dishub"}) {
		t.Errorf("two opd=dishub: %q", got)
	}
	if got, r := sites("bappeda", ""); !slices.Equal(got, []string{"bappeda"}) || len(r.Services) != 1 || len(r.Assets) != 0 {
		t.Errorf("bappeda: sites %q, %d services, %d assets", got, len(r.Services), len(r.Assets))
	}
	for _, who := range []string{"all", "bare"} {
		got, r := sites(who, "")
		if !slices.Equal(got, []string{"dinkes", "pkm-aimas", "dishub", "bappeda"}) || r.Scope.Kind != "pemda" || len(r.Reviews) != 3 {
			t.Errorf("%s: sites %q scope %+v, %d reviews; want the whole Pemda", who, got, r.Scope, len(r.Reviews))
		}
		if len(r.Changes) != 1 || r.Changes[0].Object != "maintenance/3" || r.ChangesNote != "" {
			t.Errorf("%s: changes %+v; want the October one", who, r.Changes)
		}
		if got, _ := sites(who, "&opd=dishub"); !slices.Equal(got, []string{"dishub"}) {
			t.Errorf("%s opd=dishub: %q", who, got)
		}
	}
	if code, body := s.get("", "/api/v1/report?period=2026-10"); code != http.StatusUnauthorized {
		t.Errorf("no credential: %d %s", code, body)
	}
}

// TestAlertsAPIScope: GET /api/v1/alerts lists, for a scoped viewer, the
// alerts whose labels name one of its OPDs (directly or by the site,
// link or service in the inventory), and an alert of no OPD only for
// unscoped callers.
func TestAlertsAPIScope(t *testing.T) {
	f := func(fp, kind string, l map[string]string) alert.Alert {
		return alert.Alert{Fingerprint: fp, Kind: kind, Rule: kind, Severity: "critical", State: alert.StateFiring, Labels: l}
	}
	alerts := []alert.Alert{
		f("a1", alert.KindLinkDown, map[string]string{"opd": "dinkes", "site": "dinkes", "link": "dinkes-wan"}),
		f("a2", alert.KindLinkDown, map[string]string{"link": "pkm-wan"}),
		f("a3", alert.KindAgentSilent, map[string]string{"agent": "agent-dishub", "site": "dishub"}),
		f("a4", alert.KindServiceDown, map[string]string{"service": "sipd", "site": "dishub", "opd": "bappeda"}),
		f("a5", alert.KindAgentSilent, map[string]string{"agent": "agent-9"}),
		f("a6", alert.KindLinkDown, map[string]string{"link": "gone-wan", "target": "127.0.0.9"}),
		f("a7", alert.KindServiceDown, map[string]string{"service": "sipd"}),
	}
	s := newScopeServer(t, alerts)
	for who, want := range map[string][]string{
		"dinkes":  {"a1", "a2"},
		"two":     {"a1", "a2", "a3", "a4"},
		"bappeda": {"a4", "a7"},
		"all":     {"a1", "a2", "a3", "a4", "a5", "a6", "a7"},
		"bare":    {"a1", "a2", "a3", "a4", "a5", "a6", "a7"},
	} {
		code, body := s.get(who, "/api/v1/alerts")
		var got struct {
			Status string
			Data   struct{ Alerts []promAlert }
		}
		if err := json.Unmarshal(body, &got); err != nil || code != 200 || got.Status != "success" {
			t.Fatalf("%s: %d %s", who, code, body)
		}
		var fps []string
		for _, a := range got.Data.Alerts {
			fps = append(fps, a.Pantau.Fingerprint)
			if who == "dinkes" && a.Pantau.Fingerprint == "a2" && !(len(a.Pantau.Labels) == 1 && a.Pantau.Labels["link"] == "pkm-wan") {
				t.Errorf("a2's labels changed: %v", a.Pantau.Labels)
			}
		}
		if !slices.Equal(fps, want) {
			t.Errorf("%s: alerts %q, want %q", who, fps, want)
		}
		// the rules' alerts are scoped alike
		code, body = s.get(who, "/api/v1/rules")
		var rules struct {
			Data struct {
				Groups []struct {
					Rules []struct {
						Name, State string
						Alerts      []promAlert
					}
				}
			}
		}
		if err := json.Unmarshal(body, &rules); err != nil || code != 200 || len(rules.Data.Groups) != 1 {
			t.Fatalf("%s rules: %d %s", who, code, body)
		}
		fps = nil
		for _, r := range rules.Data.Groups[0].Rules {
			for _, a := range r.Alerts {
				fps = append(fps, a.Pantau.Fingerprint)
			}
			if (len(r.Alerts) > 0) != (r.State == "firing") {
				t.Errorf("%s: rule %s is %s with %d alerts", who, r.Name, r.State, len(r.Alerts))
			}
		}
		slices.Sort(fps)
		if !slices.Equal(fps, want) {
			t.Errorf("%s: rules' alerts %q, want %q", who, fps, want)
		}
	}
	// a scoped viewer with no alert of its OPDs gets [], not null
	s = newScopeServer(t, alerts[4:6])
	if code, body := s.get("dinkes", "/api/v1/alerts"); code != 200 || strings.TrimSpace(string(body)) != `{"data":{"alerts":[]},"status":"success"}` {
		t.Errorf("dinkes, no alert of its own: %d %s", code, body)
	}
	if code, _ := s.get("", "/api/v1/alerts"); code != http.StatusUnauthorized {
		t.Errorf("alerts without a credential: %d", code)
	}
}

// fixedAlerts is an alert engine with fixed alerts, one rule per kind.
type fixedAlerts []alert.Alert

func (f fixedAlerts) Active() []alert.Alert                     { return f }
func (f fixedAlerts) Annotations(alert.Alert) map[string]string { return map[string]string{} }
func (f fixedAlerts) Rules() []alert.RuleStatus {
	var out []alert.RuleStatus
	for _, k := range []string{alert.KindLinkDown, alert.KindServiceDown, alert.KindAgentSilent} {
		out = append(out, alert.RuleStatus{Rule: &alert.Rule{Name: k, Kind: k, Severity: "critical"}})
	}
	return out
}

// FuzzReportScope: whatever the parameters and the credential's OPDs,
// reportScope either refuses or gives options within the scope: one of
// the principal's OPDs, a subset of them, or a site of one; never the
// whole Pemda for a scoped principal, and an unscoped one's options
// unchanged.
func FuzzReportScope(f *testing.F) {
	for _, s := range [][2]string{
		{"period=2026-10", "dinkes"}, {"period=2026-10&opd=dishub", "dinkes"}, {"period=2026-10&site=dishub", "dinkes,dishub"},
		{"period=2026-10&site=pkm-aimas", "dinkes"}, {"period=2026-10", ""}, {"period=2026-10&opd=dinkes&site=dinkes", "dinkes"},
		{"period=2026-10&opd=", "dinkes,bappeda"}, {"period=2026-10&site=%00", ","}, {"opd=dinkes&opd=dishub&period=2026", "dinkes"},
	} {
		f.Add(s[0], s[1])
	}
	inv, err := inventory.Parse("inventory.yml", []byte(scopeInventory))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, query, scope string) {
		v, err := url.ParseQuery(query)
		if err != nil {
			return
		}
		q, err := parseReportQuery(v, time.UTC)
		if err != nil {
			return
		}
		var opds []string
		for o := range strings.SplitSeq(scope, ",") {
			if o != "" && !slices.Contains(opds, o) {
				opds = append(opds, o)
			}
		}
		p := &auth.Principal{Kind: "token", ID: "t", Name: "fuzz", Role: auth.RoleViewer, OPDs: opds}
		o, err := reportScope(p, q.opts, inv)
		if len(opds) == 0 {
			if err != nil || o.OPD != q.opts.OPD || o.Site != q.opts.Site || len(o.OPDs) != 0 || len(o.Reader) != 0 {
				t.Fatalf("unscoped: %+v %v, want %+v", o, err, q.opts)
			}
			return
		}
		if err != nil {
			return
		}
		if !slices.Equal(o.Reader, opds) {
			t.Fatalf("reader %q, want %q", o.Reader, opds)
		}
		switch {
		case o.Site != "":
			if s := inv.Site(o.Site); s == nil || !slices.Contains(opds, s.OPD) || o.OPD != "" || len(o.OPDs) != 0 {
				t.Fatalf("site %q for %q: %+v", o.Site, opds, o)
			}
		case o.OPD != "":
			if !slices.Contains(opds, o.OPD) || len(o.OPDs) != 0 {
				t.Fatalf("opd %q for %q: %+v", o.OPD, opds, o)
			}
		case len(o.OPDs) > 0:
			if !p.Covers(o.OPDs) {
				t.Fatalf("opds %q for %q", o.OPDs, opds)
			}
		default:
			t.Fatalf("the whole Pemda for a principal scoped to %q: %+v", opds, o)
		}
	})
}
