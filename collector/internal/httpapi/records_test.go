package httpapi

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/alert"
	"github.com/pantau-noc/pantau/collector/internal/sla"
	"github.com/pantau-noc/pantau/collector/internal/statedb"
)

const (
	fpDinkes = "0123456789abcdef"
	fpDishub = "fedcba9876543210"
)

func firingAlerts() []alert.Alert {
	now := time.Now()
	return []alert.Alert{
		{Fingerprint: fpDinkes, Rule: "LinkDown", Kind: alert.KindLinkDown, Labels: map[string]string{"opd": "dinkes", "site": "dinkes", "link": "dinkes-wan"},
			State: alert.StateFiring, ActiveAt: now.Add(-10 * time.Minute), FiredAt: now.Add(-5 * time.Minute)},
		{Fingerprint: fpDishub, Rule: "LinkDown", Kind: alert.KindLinkDown, Labels: map[string]string{"opd": "dishub", "site": "dishub", "link": "dishub-wan"},
			State: alert.StateFiring, ActiveAt: now.Add(-10 * time.Minute), FiredAt: now.Add(-5 * time.Minute)},
	}
}

// window adds a maintenance window directly to the state database.
func (h *harness) window(scope, target string) int64 {
	h.t.Helper()
	start := time.Date(2026, 10, 20, 8, 30, 0, 0, time.UTC)
	id, err := h.db.AddMaintenance(h.ctx, sla.Window{Scope: scope, Target: target, Start: start, End: start.Add(time.Hour), Reason: "ganti kabel"}, time.Now())
	if err != nil {
		h.t.Fatal(err)
	}
	return id
}

func (h *harness) silence(m map[string]string) int64 {
	h.t.Helper()
	now := time.Now()
	id, err := h.db.AddSilence(h.ctx, statedb.Silence{Matchers: m, Author: "budi", Reason: "ISP", Start: now, End: now.Add(time.Hour)}, now)
	if err != nil {
		h.t.Fatal(err)
	}
	return id
}

func (h *harness) review(scope string) int64 {
	h.t.Helper()
	id, err := h.db.AddReview(h.ctx, statedb.Review{Month: "2026-10", HeldOn: "2026-11-05", Scope: scope, Participants: "NOC", Findings: "VSAT putus"}, time.Now())
	if err != nil {
		h.t.Fatal(err)
	}
	return id
}

func (h *harness) followUp(review int64) int64 {
	h.t.Helper()
	id, err := h.db.AddFollowUp(h.ctx, statedb.FollowUp{ReviewID: review, Opened: "2026-11-05", Item: "Ganti modem", Owner: "TIK"}, time.Now())
	if err != nil {
		h.t.Fatal(err)
	}
	return id
}

// TestRecordsRoles asserts every endpoint for every kind of caller: no
// credential 401, an agent token 403, a viewer 200 on reads and 403 on
// changes, an operator and an admin allowed; a refused change changes
// nothing and writes no audit row, an allowed one writes exactly one
// naming the caller, the action and the object.
func TestRecordsRoles(t *testing.T) {
	h := newHarness(t, firingAlerts())
	win := h.window(sla.ScopeLink, "dinkes-wan")
	win2 := h.window(sla.ScopeLink, "dinkes-wan")
	sil := h.silence(map[string]string{"site": "dinkes"})
	sil2 := h.silence(map[string]string{"site": "dinkes"})
	rev := h.review("")
	fu := h.followUp(rev)
	// an evidence file to read
	code, body := h.do("POST", "/api/v1/evidence?filename=bukti.txt", "operator", []byte("BA serah terima modem\n"))
	if code != http.StatusCreated {
		t.Fatalf("upload: %d %s", code, body)
	}
	sha := decode[evidenceOut](t, body).SHA256

	type endpoint struct {
		method, path string
		body         any
		ok           int
		object       string // of the audit row; "" for a read
		// the path the admin (after the operator) changes
		adminPath string
		adminObj  string
	}
	mwin := map[string]string{"scope": "link", "target": "dinkes-wan", "start": "2026-10-20T08:30", "end": "2026-10-20T10:00", "reason": "ganti kabel"}
	endpoints := []endpoint{
		{"GET", "/api/v1/maintenance", nil, 200, "", "", ""},
		{"GET", "/api/v1/silences", nil, 200, "", "", ""},
		{"GET", "/api/v1/reviews", nil, 200, "", "", ""},
		{"GET", "/api/v1/followups", nil, 200, "", "", ""},
		{"GET", "/api/v1/evidence/" + sha, nil, 200, "", "", ""},
		{"POST", "/api/v1/maintenance", mwin, 201, "maintenance/3", "", "maintenance/4"},
		{"DELETE", fmt.Sprintf("/api/v1/maintenance/%d", win), nil, 200, fmt.Sprintf("maintenance/%d", win),
			fmt.Sprintf("/api/v1/maintenance/%d", win2), fmt.Sprintf("maintenance/%d", win2)},
		{"POST", "/api/v1/silences", map[string]any{"matchers": map[string]string{"site": "dinkes"}, "duration": "2h", "reason": "ISP"}, 201, "silence/3", "", "silence/4"},
		{"DELETE", fmt.Sprintf("/api/v1/silences/%d", sil), nil, 200, fmt.Sprintf("silence/%d", sil),
			fmt.Sprintf("/api/v1/silences/%d", sil2), fmt.Sprintf("silence/%d", sil2)},
		{"POST", "/api/v1/alerts/" + fpDinkes[:8] + "/ack", nil, 200, "alert/" + fpDinkes, "/api/v1/alerts/" + fpDishub + "/ack", "alert/" + fpDishub},
		{"POST", "/api/v1/reviews", map[string]string{"month": "2026-10", "held_on": "2026-11-05", "participants": "NOC", "findings": "ok"}, 201, "review/2", "", "review/3"},
		{"POST", "/api/v1/followups", map[string]any{"review_id": rev, "opened": "2026-11-05", "item": "Ganti modem", "owner": "TIK"}, 201, "followup/2", "", "followup/3"},
		{"POST", fmt.Sprintf("/api/v1/followups/%d/updates", fu), map[string]string{"date": "2026-11-20", "status": "proses"}, 200, fmt.Sprintf("followup/%d", fu), "", fmt.Sprintf("followup/%d", fu)},
		{"POST", "/api/v1/evidence?filename=b.txt", []byte("foto terlampir\n"), 201, "", "", ""},
	}
	for _, e := range endpoints {
		t.Run(e.method+" "+e.path, func(t *testing.T) {
			change := e.method != "GET"
			before := len(h.audit())
			cells := []struct {
				who  string
				want int
			}{{"", 401}, {"agent", 403}, {"viewer", 403}}
			if !change {
				cells[2].want = e.ok
			}
			for _, c := range cells {
				if code, body := h.do(e.method, e.path, c.who, e.body); code != c.want {
					t.Errorf("as %q: %d %s, want %d", c.who, code, body, c.want)
				}
			}
			if n := len(h.audit()); n != before {
				t.Errorf("refused requests wrote %d audit rows", n-before)
			}
			if !change {
				for _, who := range []string{"operator", "admin"} {
					if code, body := h.do(e.method, e.path, who, nil); code != e.ok {
						t.Errorf("as %s: %d %s", who, code, body)
					}
				}
				return
			}
			for _, c := range []struct{ who, name, path, object string }{
				{"operator", "noc", e.path, e.object},
				{"admin", "root", cmp.Or(e.adminPath, e.path), e.adminObj},
			} {
				code, body := h.do(e.method, c.path, c.who, e.body)
				if c.path == "/api/v1/evidence?filename=b.txt" && c.who == "admin" {
					e.ok = http.StatusOK // the same file again: a duplicate
				}
				if code != e.ok {
					t.Errorf("as %s: %d %s, want %d", c.who, code, body, e.ok)
					continue
				}
				rows := h.audit()
				if len(rows) != before+1 {
					t.Errorf("as %s: %d audit rows written, want 1", c.who, len(rows)-before)
					continue
				}
				before = len(rows)
				a := rows[0]
				wantObj := c.object
				if strings.HasPrefix(c.path, "/api/v1/evidence") {
					wantObj = "evidence/" + decode[evidenceOut](t, body).SHA256
				}
				if a.ActorKind != "token" || a.ActorName != c.name || a.Action != e.method+" "+strings.Split(c.path, "?")[0] ||
					a.Object != wantObj || a.Source != "127.0.0.1" || !strings.Contains(a.Summary, "after: ") {
					t.Errorf("as %s: audit row %+v, want actor %s, object %s", c.who, a, c.name, wantObj)
				}
			}
		})
	}
}

// errText is the message of an error answer (the body when it is not
// one).
func errText(body string) string {
	var e struct{ Error string }
	if json.Unmarshal([]byte(body), &e) == nil && e.Error != "" {
		return e.Error
	}
	return body
}

// TestRecordsScope: an operator scoped to dinkes sees only dinkes's
// windows, silences, reviews, follow-ups and evidence, and may change
// only those (403 naming the OPD); records of no single OPD (scope all,
// a silence of a rule, a review of the whole Pemda) are for unscoped
// credentials only.
func TestRecordsScope(t *testing.T) {
	h := newHarness(t, firingAlerts())
	dinkesWin := h.window(sla.ScopeLink, "aimas-vsat") // the puskesmas's link: OPD dinkes through its site
	dishubWin := h.window(sla.ScopeService, "dishub-portal")
	allWin := h.window(sla.ScopeAll, "")
	unknownWin := h.window(sla.ScopeSite, "gone") // no longer in the inventory

	ids := func(body string) []int64 {
		var out []int64
		for _, v := range decode[[]struct{ ID int64 }](t, body) {
			out = append(out, v.ID)
		}
		return out
	}
	list := func(path, who string) []int64 {
		t.Helper()
		code, body := h.do("GET", path, who, nil)
		if code != 200 {
			t.Fatalf("GET %s as %s: %d %s", path, who, code, body)
		}
		return ids(body)
	}
	expect := func(who, method, path string, body any, want int, contains string) {
		t.Helper()
		code, got := h.do(method, path, who, body)
		if code != want || !strings.Contains(got, contains) {
			t.Errorf("%s %s as %s: %d %s, want %d with %q", method, path, who, code, got, want, contains)
		}
	}

	// maintenance
	if got := list("/api/v1/maintenance", "dinkes-op"); !slices.Equal(got, []int64{dinkesWin}) {
		t.Errorf("dinkes sees windows %v, want [%d]", got, dinkesWin)
	}
	if got := list("/api/v1/maintenance", "dishub-op"); !slices.Equal(got, []int64{dishubWin}) {
		t.Errorf("dishub sees windows %v, want [%d]", got, dishubWin)
	}
	if got := list("/api/v1/maintenance", "viewer"); len(got) != 4 {
		t.Errorf("an unscoped viewer sees windows %v, want all 4", got)
	}
	before := len(h.audit())
	expect("dinkes-op", "DELETE", fmt.Sprintf("/api/v1/maintenance/%d", dishubWin), nil, 403, "OPD dishub")
	expect("dinkes-op", "DELETE", fmt.Sprintf("/api/v1/maintenance/%d", allWin), nil, 403, "without an OPD scope")
	expect("dinkes-op", "DELETE", fmt.Sprintf("/api/v1/maintenance/%d", unknownWin), nil, 403, "without an OPD scope")
	mw := func(scope, target string) map[string]string {
		return map[string]string{"scope": scope, "target": target, "start": "2026-10-21T08:00", "end": "2026-10-21T09:00", "reason": "x"}
	}
	expect("dinkes-op", "POST", "/api/v1/maintenance", mw("link", "dishub-wan"), 403, "OPD dishub")
	expect("dinkes-op", "POST", "/api/v1/maintenance", mw("service", "dishub-portal"), 403, "OPD dishub")
	expect("dinkes-op", "POST", "/api/v1/maintenance", mw("all", ""), 403, "scope all")
	if n := len(h.audit()); n != before {
		t.Errorf("refused changes wrote %d audit rows", n-before)
	}
	if ws, _ := h.db.Maintenance(h.ctx); len(ws) != 4 {
		t.Errorf("refused changes changed the windows: %d left", len(ws))
	}
	expect("dinkes-op", "POST", "/api/v1/maintenance", mw("site", "pkm-aimas"), 201, `"target":"pkm-aimas"`)
	expect("dinkes-op", "DELETE", fmt.Sprintf("/api/v1/maintenance/%d", dinkesWin), nil, 200, "aimas-vsat")
	expect("operator", "DELETE", fmt.Sprintf("/api/v1/maintenance/%d", allWin), nil, 200, `"scope":"all"`)

	// silences
	s1 := h.silence(map[string]string{"opd": "dinkes"})
	s2 := h.silence(map[string]string{"site": "dishub"})
	s3 := h.silence(map[string]string{"alertname": "AgentSilent"})
	s4 := h.silence(map[string]string{"opd": "dinkes", "site": "dishub"}) // pins two OPDs: none
	s5 := h.silence(map[string]string{"link": "aimas-vsat", "rule": "LinkDown"})
	if got := list("/api/v1/silences", "dinkes-op"); !slices.Equal(got, []int64{s1, s5}) {
		t.Errorf("dinkes sees silences %v, want [%d %d]", got, s1, s5)
	}
	if got := list("/api/v1/silences", "viewer"); len(got) != 5 {
		t.Errorf("an unscoped viewer sees silences %v", got)
	}
	expect("dinkes-op", "DELETE", fmt.Sprintf("/api/v1/silences/%d", s2), nil, 403, "OPD dishub")
	expect("dinkes-op", "DELETE", fmt.Sprintf("/api/v1/silences/%d", s3), nil, 403, "without an OPD scope")
	expect("dinkes-op", "DELETE", fmt.Sprintf("/api/v1/silences/%d", s4), nil, 403, "without an OPD scope")
	sil := func(m map[string]string) map[string]any {
		return map[string]any{"matchers": m, "duration": "1h", "reason": "x"}
	}
	expect("dinkes-op", "POST", "/api/v1/silences", sil(map[string]string{"site": "dishub"}), 403, "OPD dishub")
	expect("dinkes-op", "POST", "/api/v1/silences", sil(map[string]string{"alertname": "AgentSilent"}), 403, "pins no single OPD")
	expect("dinkes-op", "POST", "/api/v1/silences", sil(map[string]string{"site": "pkm-aimas"}), 201, `"author":"dinkes-ops"`)
	expect("dinkes-op", "DELETE", fmt.Sprintf("/api/v1/silences/%d", s1), nil, 200, `"active":false`)

	// acknowledgements
	expect("dinkes-op", "POST", "/api/v1/alerts/"+fpDishub+"/ack", nil, 403, "OPD dishub")
	expect("dinkes-op", "POST", "/api/v1/alerts/"+fpDinkes+"/ack", nil, 200, `"acked":"dinkes-ops"`)

	// reviews and follow-ups
	rAll, rDinkes, rDishub := h.review(""), h.review("dinkes"), h.review("dishub")
	fAll, fNone, fDinkes, fDishub := h.followUp(rAll), h.followUp(0), h.followUp(rDinkes), h.followUp(rDishub)
	if got := list("/api/v1/reviews", "dinkes-viewer"); !slices.Equal(got, []int64{rDinkes}) {
		t.Errorf("dinkes sees reviews %v, want [%d]", got, rDinkes)
	}
	if got := list("/api/v1/followups?as_of=2026-12-31", "dinkes-viewer"); !slices.Equal(got, []int64{fDinkes}) {
		t.Errorf("dinkes sees follow-ups %v, want [%d]", got, fDinkes)
	}
	if got := list("/api/v1/followups?as_of=2026-12-31", "viewer"); !slices.Equal(got, []int64{fAll, fNone, fDinkes, fDishub}) {
		t.Errorf("an unscoped viewer sees follow-ups %v", got)
	}
	rv := func(scope string) map[string]string {
		return map[string]string{"month": "2026-11", "participants": "NOC", "findings": "ok", "scope": scope}
	}
	expect("dinkes-op", "POST", "/api/v1/reviews", rv(""), 403, "without an OPD scope")
	expect("dinkes-op", "POST", "/api/v1/reviews", rv("dishub"), 403, "OPD dishub")
	expect("dinkes-op", "POST", "/api/v1/reviews", rv("dinkes"), 201, `"scope":"dinkes"`)
	qrv := func(scope string) map[string]string {
		return map[string]string{"kind": "quarterly", "month": "2026-Q4", "participants": "NOC", "findings": "ok", "scope": scope}
	}
	expect("dinkes-op", "POST", "/api/v1/reviews", qrv(""), 403, "without an OPD scope")
	expect("dinkes-op", "POST", "/api/v1/reviews", qrv("dishub"), 403, "OPD dishub")
	expect("dinkes-op", "POST", "/api/v1/reviews", qrv("dinkes"), 201, `"period":"2026-Q4"`)
	fu := func(review int64) map[string]any {
		return map[string]any{"review_id": review, "opened": "2026-11-06", "item": "x", "owner": "y"}
	}
	expect("dinkes-op", "POST", "/api/v1/followups", fu(0), 403, "without an OPD scope")
	expect("dinkes-op", "POST", "/api/v1/followups", fu(rDishub), 403, "OPD dishub")
	expect("dinkes-op", "POST", "/api/v1/followups", fu(rDinkes), 201, `"scope":"dinkes"`)
	upd := map[string]string{"date": "2026-11-20", "status": "proses"}
	expect("dinkes-op", "POST", fmt.Sprintf("/api/v1/followups/%d/updates", fDishub), upd, 403, "OPD dishub")
	expect("dinkes-op", "POST", fmt.Sprintf("/api/v1/followups/%d/updates", fAll), upd, 403, "without an OPD scope")
	expect("dinkes-op", "POST", fmt.Sprintf("/api/v1/followups/%d/updates", fDinkes), upd, 200, `"status":"proses"`)

	// evidence: a scoped credential reads a file it uploaded, or one that
	// is the evidence of a follow-up item of its OPD
	up := func(who, content string) string {
		code, body := h.do("POST", "/api/v1/evidence?filename=ba.txt", who, []byte(content))
		if code != 201 {
			t.Fatalf("upload as %s: %d %s", who, code, body)
		}
		return decode[evidenceOut](t, body).SHA256
	}
	shaDishub, shaDinkes, shaOwn := up("dishub-op", "BA dishub\n"), up("operator", "BA dinkes\n"), up("dinkes-op", "foto\n")
	expect("dishub-op", "POST", fmt.Sprintf("/api/v1/followups/%d/updates", fDishub),
		map[string]string{"date": "2026-11-21", "status": "selesai", "evidence": "sha256:" + shaDishub}, 200, "selesai")
	expect("operator", "POST", fmt.Sprintf("/api/v1/followups/%d/updates", fDinkes),
		map[string]string{"date": "2026-11-21", "status": "selesai", "evidence": shaDinkes}, 200, `"evidence":"sha256:`+shaDinkes)
	expect("dinkes-viewer", "GET", "/api/v1/evidence/"+shaDishub, nil, 403, "not the evidence of a follow-up item of dinkes")
	expect("dinkes-viewer", "GET", "/api/v1/evidence/"+shaDinkes, nil, 200, "BA dinkes")
	expect("dinkes-op", "GET", "/api/v1/evidence/"+shaOwn, nil, 200, "foto")
	expect("dishub-op", "GET", "/api/v1/evidence/"+shaOwn, nil, 403, "not the evidence")
	expect("viewer", "GET", "/api/v1/evidence/"+shaDishub, nil, 200, "BA dishub")
}

// TestRecordsBadInput: bad input gets 400 naming the field or
// parameter, unknown ids 404; never a 500, and nothing is stored.
func TestRecordsBadInput(t *testing.T) {
	h := newHarness(t, firingAlerts())
	win := map[string]string{"scope": "link", "target": "dinkes-wan", "start": "2026-10-20T08:30", "end": "2026-10-20T10:00", "reason": "x"}
	with := func(k, v string) map[string]string {
		m := map[string]string{}
		for a, b := range win {
			m[a] = b
		}
		if v == "-" {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	h.review("")
	fu := h.followUp(1)
	for _, c := range []struct {
		method, path string
		body         any
		want         int
		msg          string
	}{
		{"POST", "/api/v1/maintenance", "{}", 400, "scope is required"},
		{"POST", "/api/v1/maintenance", `{"scop": "link"}`, 400, `unknown field "scop"`},
		{"POST", "/api/v1/maintenance", `{"scope": 1}`, 400, `field "scope"`},
		{"POST", "/api/v1/maintenance", `{"scope": "link",`, 400, "JSON"},
		{"POST", "/api/v1/maintenance", with("scope", "kabel"), 400, `scope "kabel"`},
		{"POST", "/api/v1/maintenance", with("target", "-"), 400, "target is required"},
		{"POST", "/api/v1/maintenance", with("target", "nope"), 400, `target "nope": no link`},
		{"POST", "/api/v1/maintenance", with("start", "2026-13-01T00:00"), 400, `start "2026-13-01T00:00"`},
		{"POST", "/api/v1/maintenance", with("start", "-"), 400, "start is required"},
		{"POST", "/api/v1/maintenance", with("end", "2026-10-20T08:00"), 400, "is not after its start"},
		{"POST", "/api/v1/maintenance", with("until", "soon"), 400, `until "soon"`},
		{"POST", "/api/v1/maintenance", with("repeat", "hourly"), 400, `unknown repeat "hourly"`},
		{"POST", "/api/v1/maintenance", with("zone", "Mars/Olympus"), 400, "zone: unknown time zone"},
		{"POST", "/api/v1/maintenance", with("reason", " "), 400, "reason is required"},
		{"DELETE", "/api/v1/maintenance/abc", nil, 400, `id "abc"`},
		{"DELETE", "/api/v1/maintenance/0", nil, 400, `id "0"`},
		{"DELETE", "/api/v1/maintenance/012", nil, 400, `id "012"`},
		{"DELETE", "/api/v1/maintenance/99999999999999999999", nil, 400, "id"},
		{"DELETE", "/api/v1/maintenance/999", nil, 404, "no maintenance window with id 999"},
		{"POST", "/api/v1/silences", `{"duration": "1h", "reason": "x"}`, 400, "matchers is required"},
		{"POST", "/api/v1/silences", `{"matchers": {"1x": "a"}, "duration": "1h", "reason": "x"}`, 400, `"1x" is not a label name`},
		{"POST", "/api/v1/silences", `{"matchers": {"site": ""}, "duration": "1h", "reason": "x"}`, 400, "label site needs a value"},
		{"POST", "/api/v1/silences", `{"matchers": {"site": "dinkes"}, "reason": "x"}`, 400, "duration"},
		{"POST", "/api/v1/silences", `{"matchers": {"site": "dinkes"}, "duration": "-1h", "reason": "x"}`, 400, `duration "-1h"`},
		{"POST", "/api/v1/silences", `{"matchers": {"site": "dinkes"}, "duration": "1h", "end": "2030-01-01T00:00:00Z", "reason": "x"}`, 400, "not both"},
		{"POST", "/api/v1/silences", `{"matchers": {"site": "dinkes"}, "end": "2020-01-01T00:00:00Z", "reason": "x"}`, 400, `end "2020-01-01T00:00:00Z"`},
		{"POST", "/api/v1/silences", `{"matchers": {"site": "dinkes"}, "duration": "1h"}`, 400, "reason is required"},
		{"DELETE", "/api/v1/silences/x1", nil, 400, `id "x1"`},
		{"DELETE", "/api/v1/silences/999", nil, 404, "no silence with id 999"},
		{"POST", "/api/v1/alerts/xyz/ack", nil, 400, `alert id "xyz"`},
		{"POST", "/api/v1/alerts/abc/ack", nil, 400, "4 to 16 hex digits"},
		{"POST", "/api/v1/alerts/aaaa/ack", nil, 404, "no firing alert with id aaaa"},
		{"POST", "/api/v1/reviews", `{"participants": "a", "findings": "b"}`, 400, "month is required"},
		{"POST", "/api/v1/reviews", `{"month": "2026-13", "participants": "a", "findings": "b"}`, 400, `month "2026-13"`},
		{"POST", "/api/v1/reviews", `{"month": "2026-10", "held_on": "5 Nov", "participants": "a", "findings": "b"}`, 400, `held_on "5 Nov"`},
		{"POST", "/api/v1/reviews", `{"month": "2026-Q4", "participants": "a", "findings": "b"}`, 400, `month "2026-Q4"`},
		{"POST", "/api/v1/reviews", `{"kind": "quarterly", "month": "2026-11", "participants": "a", "findings": "b"}`, 400,
			"month: a quarterly review names its quarter (2026-Q4) or the quarter's last month (2026-12)"},
		{"POST", "/api/v1/reviews", `{"kind": "quarterly", "month": "2026-Q5", "participants": "a", "findings": "b"}`, 400, "month: a quarterly review"},
		{"POST", "/api/v1/reviews", `{"kind": "quarterly", "participants": "a", "findings": "b"}`, 400, "month is required (the quarter reviewed"},
		{"POST", "/api/v1/reviews", `{"kind": "yearly", "month": "2026-12", "participants": "a", "findings": "b"}`, 400, `kind "yearly": want monthly or quarterly`},
		{"POST", "/api/v1/reviews", `{"month": "2026-10", "findings": "b"}`, 400, "participants is required"},
		{"POST", "/api/v1/reviews", `{"month": "2026-10", "participants": "a"}`, 400, "findings is required"},
		{"POST", "/api/v1/reviews", `{"month": "2026-10", "participants": "a", "findings": "b", "scope": "dinas-x"}`, 400, `scope "dinas-x": no OPD`},
		{"GET", "/api/v1/reviews?from=2026-13", nil, 400, `from "2026-13"`},
		{"GET", "/api/v1/reviews?to=x", nil, 400, `to "x"`},
		{"GET", "/api/v1/reviews?from=2026-01&from=2026-02", nil, 400, "from given 2 times"},
		{"GET", "/api/v1/followups?as_of=yesterday", nil, 400, `as_of "yesterday"`},
		{"GET", "/api/v1/followups?since=2026-02-30", nil, 400, `since "2026-02-30"`},
		{"POST", "/api/v1/followups", `{"owner": "TIK"}`, 400, "item is required"},
		{"POST", "/api/v1/followups", `{"item": "x"}`, 400, "owner is required"},
		{"POST", "/api/v1/followups", `{"item": "x", "owner": "y", "opened": "2026-11"}`, 400, `opened "2026-11"`},
		{"POST", "/api/v1/followups", `{"item": "x", "owner": "y", "due": "besok"}`, 400, `due "besok"`},
		{"POST", "/api/v1/followups", `{"item": "x", "owner": "y", "review_id": 99}`, 400, "review_id 99: no such review"},
		{"POST", "/api/v1/followups", `{"item": "x", "owner": "y", "review_id": -1}`, 400, "review_id -1"},
		{"POST", "/api/v1/followups", `{"item": "x", "owner": "y", "status": "done"}`, 400, `status "done"`},
		{"POST", "/api/v1/followups", `{"item": "x", "owner": "y", "status": "selesai"}`, 400, "evidence is required"},
		{"POST", "/api/v1/followups", `{"item": "x", "owner": "y", "evidence": "sha256:` + strings.Repeat("0", 64) + `"}`, 400, "no such file was uploaded"},
		{"POST", "/api/v1/followups", `{"item": "x", "owner": "y", "evidence": "sha256:abc"}`, 400, "evidence: evidence id"},
		{"POST", "/api/v1/followups/999/updates", `{"status": "proses"}`, 404, "no follow-up item with id 999"},
		{"POST", "/api/v1/followups/-1/updates", `{"status": "proses"}`, 400, `id "-1"`},
		{"POST", fmt.Sprintf("/api/v1/followups/%d/updates", fu), `{}`, 400, "status is required"},
		{"POST", fmt.Sprintf("/api/v1/followups/%d/updates", fu), `{"status": "proses", "date": "20-11-2026"}`, 400, `date "20-11-2026"`},
		{"POST", fmt.Sprintf("/api/v1/followups/%d/updates", fu), `{"status": "proses", "date": "2026-01-01"}`, 400, "before the item was opened"},
		{"POST", fmt.Sprintf("/api/v1/followups/%d/updates", fu), `{"status": "selesai", "evidence": " "}`, 400, "evidence is required"},
		{"POST", fmt.Sprintf("/api/v1/followups/%d/updates", fu), `{"status": "selesai", "evidence": "` + strings.Repeat("ab", 32) + `"}`, 400, "no such file"},
		{"GET", "/api/v1/evidence/zz", nil, 400, `evidence id "zz"`},
		{"GET", "/api/v1/evidence/" + strings.Repeat("0", 64), nil, 404, "no evidence file"},
		{"POST", "/api/v1/evidence?filename=a.txt&filename=b.txt", []byte("x"), 400, "filename given 2 times"},
		{"POST", "/api/v1/evidence", []byte{}, 400, "empty"},
	} {
		before := len(h.audit())
		code, body := h.do(c.method, c.path, "operator", c.body)
		if code != c.want || !strings.Contains(errText(body), c.msg) {
			t.Errorf("%s %s %v: %d %s, want %d with %q", c.method, c.path, c.body, code, body, c.want, c.msg)
		}
		if n := len(h.audit()); n != before {
			t.Errorf("%s %s %v: refused, yet %d audit rows written", c.method, c.path, c.body, n-before)
		}
	}
	if ws, _ := h.db.Maintenance(h.ctx); len(ws) != 0 {
		t.Errorf("bad input stored windows: %+v", ws)
	}
	if code, body := h.send("POST", "/api/v1/maintenance", "operator", "text/plain", strings.NewReader("{}")); code != 400 || !strings.Contains(body, "send application/json") {
		t.Errorf("text/plain body: %d %s", code, body)
	}
}

// TestMaintenanceZones: a window's times are read in its site's zone
// (the puskesmas is in WIT), in a zone given, or as RFC 3339; the CLI's
// validation applies (a daily window longer than a day is refused).
func TestMaintenanceZones(t *testing.T) {
	h := newHarness(t, nil)
	add := func(m map[string]string) sla.Window {
		t.Helper()
		code, body := h.do("POST", "/api/v1/maintenance", "operator", m)
		if code != 201 {
			t.Fatalf("%v: %d %s", m, code, body)
		}
		return decode[sla.Window](t, body)
	}
	w := add(map[string]string{"scope": "link", "target": "aimas-vsat", "start": "2026-10-20T08:30", "end": "2026-10-20T10:00", "reason": "x"})
	if got := w.Start.UTC(); !got.Equal(time.Date(2026, 10, 19, 23, 30, 0, 0, time.UTC)) {
		t.Errorf("WIT site: start %s", got)
	}
	w = add(map[string]string{"scope": "all", "start": "2026-10-20T08:30", "end": "2026-10-20T10:00", "zone": "WITA", "reason": "x"})
	if got := w.Start.UTC(); !got.Equal(time.Date(2026, 10, 20, 0, 30, 0, 0, time.UTC)) {
		t.Errorf("zone WITA: start %s", got)
	}
	w = add(map[string]string{"scope": "site", "target": "dinkes", "start": "2026-10-20T08:30:00Z", "end": "2026-10-20T10:00:00Z", "reason": "x", "repeat": "weekly"})
	if got := w.Start.UTC(); !got.Equal(time.Date(2026, 10, 20, 8, 30, 0, 0, time.UTC)) || w.Repeat != "weekly" {
		t.Errorf("RFC 3339: %+v", w)
	}
	code, body := h.do("POST", "/api/v1/maintenance", "operator", map[string]string{"scope": "site", "target": "dinkes", "start": "2026-10-20T08:30", "end": "2026-10-21T10:00", "reason": "x", "repeat": "daily"})
	if code != 400 || !strings.Contains(body, "longer than its repeat interval") {
		t.Errorf("daily window of 25 h: %d %s", code, body)
	}
	if ws, _ := h.db.Maintenance(h.ctx); len(ws) != 3 {
		t.Errorf("stored %d windows, want 3", len(ws))
	}
}

// TestAckWithoutAlerting: without notifiers there is no alert engine;
// acknowledging answers 409 saying so.
func TestAckWithoutAlerting(t *testing.T) {
	h := newHarness(t, nil)
	code, body := h.do("POST", "/api/v1/alerts/"+fpDinkes+"/ack", "operator", nil)
	if code != http.StatusConflict || !strings.Contains(body, "alerting is off") {
		t.Errorf("%d %s", code, body)
	}
}

// TestAck: an acknowledgement names the principal, is stored (a new
// engine loads it), and an ambiguous prefix is refused.
func TestAck(t *testing.T) {
	firing := firingAlerts()
	twin := firing[0]
	twin.Fingerprint = fpDinkes[:12] + "ffff"
	twin.Labels = map[string]string{"opd": "dinkes", "site": "pkm-aimas"}
	h := newHarness(t, append(firing, twin))
	if code, body := h.do("POST", "/api/v1/alerts/"+fpDinkes[:6]+"/ack", "operator", nil); code != 409 || !strings.Contains(body, "give more digits") {
		t.Errorf("ambiguous: %d %s", code, body)
	}
	code, body := h.do("POST", "/api/v1/alerts/"+strings.ToUpper(fpDinkes)+"/ack", "operator", nil)
	if a := decode[alert.Alert](t, body); code != 200 || a.Acked != "noc" || a.Fingerprint != fpDinkes {
		t.Fatalf("ack: %d %s", code, body)
	}
	stored, err := h.db.LoadAlerts(h.ctx)
	if err != nil || !strings.Contains(string(stored[fpDinkes]), `"acked":"noc"`) {
		t.Errorf("stored: %v %s", err, stored[fpDinkes])
	}
	if a := h.audit()[0]; a.Object != "alert/"+fpDinkes || !strings.Contains(a.Summary, `after: {"acked":"noc"`) {
		t.Errorf("audit row %+v", a)
	}
}

// TestQuarterlyReview: a quarterly review is named by its quarter or by
// the quarter's last month, stored under that month, and listed with its
// kind and period in month ranges that hold that month.
func TestQuarterlyReview(t *testing.T) {
	h := newHarness(t, firingAlerts())
	for _, c := range []struct{ body, period string }{
		{`{"kind": "quarterly", "month": "2026-Q4", "held_on": "2027-01-08", "participants": "NOC", "findings": "ok"}`, "2026-Q4"},
		{`{"kind": "quarterly", "month": "2026-09", "held_on": "2026-10-06", "participants": "NOC", "findings": "ok"}`, "2026-Q3"},
		{`{"month": "2026-11", "held_on": "2026-12-03", "participants": "NOC", "findings": "ok"}`, "2026-11"},
	} {
		code, body := h.do("POST", "/api/v1/reviews", "operator", c.body)
		if code != 201 {
			t.Fatalf("POST %s: %d %s", c.body, code, body)
		}
		rv := decode[statedb.Review](t, body)
		wantKind := statedb.KindMonthly
		if strings.Contains(c.period, "Q") {
			wantKind = statedb.KindQuarterly
		}
		if rv.Period != c.period || rv.Kind != wantKind {
			t.Errorf("POST %s answered kind %q period %q, want %s %s", c.body, rv.Kind, rv.Period, wantKind, c.period)
		}
	}
	code, body := h.do("GET", "/api/v1/reviews?from=2026-10&to=2026-12", "viewer", nil)
	if code != 200 {
		t.Fatalf("GET: %d %s", code, body)
	}
	var got []string
	for _, rv := range decode[[]statedb.Review](t, body) {
		got = append(got, rv.Kind+" "+rv.Month+" "+rv.Period)
	}
	if want := []string{"monthly 2026-11 2026-11", "quarterly 2026-12 2026-Q4"}; !slices.Equal(got, want) {
		t.Errorf("October to December lists %q, want %q", got, want)
	}
}
