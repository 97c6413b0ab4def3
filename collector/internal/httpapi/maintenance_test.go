package httpapi

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/sla"
)

// TestUpdateMaintenance edits a window in place: same id, the POST's
// validation, 404 for an unknown id, the OPD scope checked against the
// old and the new target, one audit row with before and after.
func TestUpdateMaintenance(t *testing.T) {
	h := newHarness(t, nil)
	dinkesWin := h.window(sla.ScopeLink, "aimas-vsat")
	dishubWin := h.window(sla.ScopeService, "dishub-portal")
	mw := func(scope, target string) map[string]string {
		return map[string]string{"scope": scope, "target": target, "start": "2026-10-21T08:00", "end": "2026-10-21T09:00", "reason": "ganti modem"}
	}
	path := func(id int64) string { return fmt.Sprintf("/api/v1/maintenance/%d", id) }
	expect := func(who string, id int64, body any, want int, contains string) {
		t.Helper()
		code, got := h.do("PUT", path(id), who, body)
		if code != want || !strings.Contains(got, contains) {
			t.Errorf("PUT %s as %s: %d %s, want %d with %q", path(id), who, code, got, want, contains)
		}
	}
	before := len(h.audit())
	expect("", dinkesWin, mw("link", "aimas-vsat"), 401, "")
	expect("viewer", dinkesWin, mw("link", "aimas-vsat"), 403, "operator")
	expect("dinkes-viewer", dinkesWin, mw("link", "aimas-vsat"), 403, "operator")
	expect("agent", dinkesWin, mw("link", "aimas-vsat"), 403, "")
	// scope: the old target, the new target
	expect("dinkes-op", dishubWin, mw("link", "aimas-vsat"), 403, "OPD dishub")
	expect("dinkes-op", dinkesWin, mw("link", "dishub-wan"), 403, "OPD dishub")
	expect("dinkes-op", dinkesWin, mw("all", ""), 403, "scope all")
	// validation as POST
	expect("operator", dinkesWin, mw("link", "nope"), 400, `target \"nope\"`)
	expect("operator", dinkesWin, map[string]string{"scope": "link", "target": "aimas-vsat", "start": "2026-10-21T09:00", "end": "2026-10-21T08:00", "reason": "x"}, 400, "end")
	expect("operator", dinkesWin, mw("link", "aimas-vsat")["reason"], 400, "")
	expect("operator", dinkesWin, `{"scope":"link","bogus":1}`, 400, "bogus")
	expect("operator", 999, mw("link", "aimas-vsat"), 404, "999")
	code, _ := h.do("PUT", "/api/v1/maintenance/x1", "operator", mw("link", "aimas-vsat"))
	if code != 400 {
		t.Errorf("PUT a bad id: %d, want 400", code)
	}
	if n := len(h.audit()); n != before {
		t.Errorf("refused updates wrote %d audit rows", n-before)
	}

	expect("dinkes-op", dinkesWin, mw("site", "pkm-aimas"), 200, fmt.Sprintf(`"id":%d`, dinkesWin))
	ws, err := h.db.Maintenance(h.ctx)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(ws, func(w sla.Window) bool { return w.ID == dinkesWin })
	if len(ws) != 2 || i < 0 || ws[i].Target != "pkm-aimas" || ws[i].Reason != "ganti modem" {
		t.Errorf("after the update: %+v", ws)
	}
	a := h.audit()
	if len(a) != before+1 {
		t.Fatalf("the update wrote %d audit rows, want 1", len(a)-before)
	}
	row := a[0]
	if row.Object != fmt.Sprintf("maintenance/%d", dinkesWin) || !strings.Contains(row.Summary, `"target":"aimas-vsat"`) ||
		!strings.Contains(row.Summary, `"target":"pkm-aimas"`) || row.Action != "PUT "+path(dinkesWin) {
		t.Errorf("audit row %+v", row)
	}
	// a deleted window is gone
	if err := h.db.DeleteMaintenance(h.ctx, dishubWin, time.Now()); err != nil {
		t.Fatal(err)
	}
	expect("operator", dishubWin, mw("service", "dishub-portal"), 404, "")
}
