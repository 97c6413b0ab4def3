package httpapi

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/inventory"
	"github.com/pantau-noc/pantau/collector/internal/statedb"
)

// TestIncidentsAPI: an operator attaches a record to an outage, an
// OPD-scoped operator only to its OPD's (403 naming the other OPD), a
// viewer reads only; bad bodies get 400s naming the field; every change
// writes one audit row.
func TestIncidentsAPI(t *testing.T) {
	h := newHarness(t, nil)
	body := map[string]any{"scope": "link", "target": "dinkes-wan", "start": "2026-10-10T10:00", "ticket": "TIK-0042",
		"category": "fo_putus", "source": "whatsapp", "impact": "Dinkes tanpa internet", "action": "sambung FO", "officer": "Andi"}
	st, out := h.do("POST", "/api/v1/incidents", "dinkes-op", body)
	if st != http.StatusCreated {
		t.Fatalf("add: %d %s", st, out)
	}
	rec := decode[incidentOut](t, out)
	// 10:00 in the Pemda's zone: the inventory's sites are WIB and WIT, so
	// there is no shared zone and the default is WIB: 03:00 UTC.
	if want := time.Date(2026, 10, 10, 3, 0, 0, 0, time.UTC); !rec.Start.Equal(want) || rec.OPD != "dinkes" || !rec.Detected || rec.Ticket != "TIK-0042" {
		t.Fatalf("stored %+v, want start %s opd dinkes detected", rec, want)
	}
	if a := h.audit(); len(a) != 1 || a[0].Object != "incident/1" || a[0].ActorName != "dinkes-ops" || !strings.Contains(a[0].Summary, `"category":"fo_putus"`) {
		t.Fatalf("audit after add: %+v", a)
	}
	// the same outage twice: 409
	if st, out := h.do("POST", "/api/v1/incidents", "operator", body); st != http.StatusConflict || !strings.Contains(out, "incident record 1") {
		t.Errorf("duplicate: %d %s", st, out)
	}
	// an undetected outage of dishub's portal, by telephone, officer
	// defaulting to the caller
	st, out = h.do("POST", "/api/v1/incidents", "dishub-op", map[string]any{"scope": "service", "target": "dishub-portal",
		"start": "2026-10-12T08:00:00+07:00", "end": "2026-10-12T09:30:00+07:00", "category": "aplikasi_nasional", "source": "telepon"})
	if st != http.StatusCreated {
		t.Fatalf("add undetected: %d %s", st, out)
	}
	if rec := decode[incidentOut](t, out); rec.Detected || rec.Officer != "dishub-ops" || rec.OPD != "dishub" {
		t.Errorf("undetected record: %+v", rec)
	}

	// scope: dinkes' operator cannot record or change dishub's
	if st, out := h.do("POST", "/api/v1/incidents", "dinkes-op", map[string]any{"scope": "link", "target": "dishub-wan",
		"start": "2026-10-11T10:00", "category": "isp", "source": "otomatis", "officer": "Andi"}); st != http.StatusForbidden || !strings.Contains(out, "dishub") {
		t.Errorf("dinkes-op on dishub-wan: %d %s", st, out)
	}
	if st, out := h.do("POST", "/api/v1/incidents/2/updates", "dinkes-op", map[string]any{"action": "x"}); st != http.StatusForbidden ||
		!strings.Contains(out, "OPD dishub") || !strings.Contains(out, "dishub-portal") {
		t.Errorf("dinkes-op updating dishub's record: %d %s", st, out)
	}
	// viewers read, never change
	if st, _ := h.do("POST", "/api/v1/incidents", "viewer", body); st != http.StatusForbidden {
		t.Errorf("viewer add: %d", st)
	}
	if st, _ := h.do("POST", "/api/v1/incidents/1/updates", "dinkes-viewer", map[string]any{"action": "x"}); st != http.StatusForbidden {
		t.Errorf("dinkes-viewer update: %d", st)
	}
	st, out = h.do("GET", "/api/v1/incidents", "dinkes-viewer", nil)
	if list := decode[[]incidentOut](t, out); st != http.StatusOK || len(list) != 1 || list[0].Target != "dinkes-wan" {
		t.Errorf("dinkes-viewer list: %d %s", st, out)
	}
	st, out = h.do("GET", "/api/v1/incidents?from=2026-10-11&to=2026-10-13", "viewer", nil)
	if list := decode[[]incidentOut](t, out); st != http.StatusOK || len(list) != 1 || list[0].Target != "dishub-portal" {
		t.Errorf("viewer list 11-13 Oct: %d %s", st, out)
	}
	if st, out := h.do("GET", "/api/v1/incidents?from=10/11/2026", "viewer", nil); st != http.StatusBadRequest || !strings.Contains(out, "from") {
		t.Errorf("bad from: %d %s", st, out)
	}
	if st, _ := h.do("GET", "/api/v1/incidents", "", nil); st != http.StatusUnauthorized {
		t.Errorf("no credential: %d", st)
	}

	// update: the override with its reason, both kept beside the cause
	nAudit := len(h.audit())
	st, out = h.do("POST", "/api/v1/incidents/1/updates", "operator", map[string]any{"cause_override": "power", "override_reason": "PLN padam, agen ikut mati"})
	if st != http.StatusOK {
		t.Fatalf("update: %d %s", st, out)
	}
	if rec := decode[incidentOut](t, out); rec.CauseOverride != "power" || rec.Action != "sambung FO" {
		t.Errorf("updated: %+v", rec)
	}
	if a := h.audit(); len(a) != nAudit+1 || !strings.Contains(a[0].Summary, `"cause_override":"power"`) || !strings.Contains(a[0].Summary, "before: {") {
		t.Errorf("audit after update: %+v", a[0])
	}
	if st, _ := h.do("POST", "/api/v1/incidents/99/updates", "operator", map[string]any{"action": "x"}); st != http.StatusNotFound {
		t.Errorf("unknown id: %d", st)
	}

	// validation: each bad body is refused naming the field, changing nothing
	nAudit = len(h.audit())
	for _, c := range []struct {
		path string
		body any
		want string
	}{
		{"/api/v1/incidents", map[string]any{"target": "dinkes-wan", "start": "2026-10-20T10:00", "source": "tiket", "officer": "A"}, "category is required"},
		{"/api/v1/incidents", map[string]any{"target": "dinkes-wan", "start": "2026-10-20T10:00", "category": "banjir", "source": "tiket", "officer": "A"}, `category "banjir"`},
		{"/api/v1/incidents", map[string]any{"target": "dinkes-wan", "start": "2026-10-20T10:00", "category": "dns", "source": "email", "officer": "A"}, `source "email"`},
		{"/api/v1/incidents", map[string]any{"target": "dinkes-wan", "start": "2026-10-20T10:00", "category": "dns", "officer": "A"}, "source is required"},
		{"/api/v1/incidents", map[string]any{"target": "nope", "start": "2026-10-20T10:00", "category": "dns", "source": "tiket"}, `target "nope"`},
		{"/api/v1/incidents", map[string]any{"scope": "site", "target": "dinkes", "start": "2026-10-20T10:00", "category": "dns", "source": "tiket"}, "give scope link and target dinkes-wan"},
		{"/api/v1/incidents", map[string]any{"scope": "opd", "target": "dinkes", "start": "2026-10-20T10:00", "category": "dns", "source": "tiket"}, `scope "opd"`},
		{"/api/v1/incidents", map[string]any{"target": "dinkes-wan", "category": "dns", "source": "tiket"}, "start is required"},
		{"/api/v1/incidents", map[string]any{"target": "dinkes-wan", "start": "kemarin", "category": "dns", "source": "tiket"}, `start "kemarin"`},
		{"/api/v1/incidents", map[string]any{"target": "dinkes-wan", "start": "2026-10-20T10:00", "end": "2026-10-20T09:00", "category": "dns", "source": "tiket"}, "end 2026-10-20T09:00:00+07:00 is not after start"},
		{"/api/v1/incidents", map[string]any{"target": "dinkes-wan", "start": "2026-10-20T10:00:30", "category": "dns", "source": "tiket"}, "whole minute"},
		{"/api/v1/incidents", map[string]any{"target": "dinkes-wan", "start": "2026-10-20T10:00", "category": "dns", "source": "tiket", "cause_override": "isp"}, "override_reason is required"},
		{"/api/v1/incidents", map[string]any{"target": "dinkes-wan", "start": "2026-10-20T10:00", "category": "dns", "source": "tiket", "cause_override": "alien", "override_reason": "x"}, `cause_override "alien"`},
		{"/api/v1/incidents", map[string]any{"target": "dinkes-wan", "start": "2026-10-20T10:00", "category": "dns", "source": "tiket", "zone": "Mars"}, "zone"},
		{"/api/v1/incidents", `{"target": "dinkes-wan", "categori": "dns"}`, `unknown field "categori"`},
		{"/api/v1/incidents", map[string]any{"target": 12}, `field "target"`},
		{"/api/v1/incidents/1/updates", map[string]any{}, "nothing to change"},
		{"/api/v1/incidents/1/updates", map[string]any{"category": "gempa"}, `category "gempa"`},
		{"/api/v1/incidents/1/updates", map[string]any{"officer": " "}, "officer is required"},
		{"/api/v1/incidents/1/updates", map[string]any{"override_reason": ""}, "override_reason is required"},
		{"/api/v1/incidents/x1/updates", map[string]any{"action": "x"}, `id "x1"`},
	} {
		st, out := h.do("POST", c.path, "operator", c.body)
		if e := decode[struct{ Error string }](t, out); st != http.StatusBadRequest || !strings.Contains(e.Error, c.want) {
			t.Errorf("POST %s %v: %d %s, want 400 with %q", c.path, c.body, st, out, c.want)
		}
	}
	if a := h.audit(); len(a) != nAudit {
		t.Errorf("refused requests wrote %d audit rows", len(a)-nAudit)
	}
	st, out = h.do("GET", "/api/v1/incidents", "operator", nil)
	if list := decode[[]incidentOut](t, out); st != http.StatusOK || len(list) != 2 {
		t.Errorf("after refused requests: %d %s", st, out)
	}
}

// FuzzParseIncident: whatever the body, the parser never panics, and
// what it accepts is a valid record of a target in the inventory.
func FuzzParseIncident(f *testing.F) {
	inv, err := inventory.Parse("inventory.yml", []byte(testInventory))
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{
		`{"scope":"link","target":"dinkes-wan","start":"2026-10-10T10:00","category":"fo_putus","source":"whatsapp","officer":"A"}`,
		`{"scope":"service","target":"dishub-portal","start":"2026-10-12T08:00:00+07:00","end":"2026-10-12T09:30:00+07:00","category":"dns","source":"telepon"}`,
		`{"scope":"site","target":"pkm-aimas","start":"2026-10-10","zone":"WIT","category":"listrik","source":"tiket","cause_override":"power","override_reason":"PLN"}`,
		`{"target":"dinkes-wan","start":"2026-10-10T10:00:30","category":"x"}`,
		`{}`, `[]`, `{"start":"9999-99-99T99:99"}`,
	} {
		f.Add(s)
	}
	wib := time.FixedZone("WIB", 7*3600)
	f.Fuzz(func(t *testing.T, body string) {
		var in IncidentIn
		if json.Unmarshal([]byte(body), &in) != nil {
			return
		}
		rec, opd, err := ParseIncident(in, inv, wib, "noc")
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		if err := rec.Validate(); err != nil {
			t.Fatalf("accepted an invalid record %+v: %v", rec, err)
		}
		if TargetOPD(inv, rec.Scope, rec.Target) != opd || opd == "" {
			t.Fatalf("record %+v: opd %q", rec, opd)
		}
		if statedb.LabelOf(statedb.IncidentCategories, rec.Category) == nil || rec.Start.Truncate(time.Minute) != rec.Start {
			t.Fatalf("accepted %+v", rec)
		}
	})
}
