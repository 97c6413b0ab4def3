package httpapi

import (
	"net/http"
	"strings"
	"testing"

	"github.com/pantau-noc/pantau/collector/internal/alert"
)

// TestAckPrefixScope: an operator scoped to dinkes who tries 4-digit
// prefixes (the web UI's "Akui" button posts any {fingerprint}) must not
// learn of dishub's firing alerts: a prefix of one is "no firing alert"
// (404), not a 403 naming its whole fingerprint and its OPD, and
// dishub's alerts do not make a prefix of dinkes's ambiguous (409).
func TestAckPrefixScope(t *testing.T) {
	twin := firingAlerts()
	// a dishub alert that shares its first 8 digits with dinkes's
	twin = append(twin, alert.Alert{Fingerprint: fpDinkes[:8] + "ffffffff", Rule: "LinkDown", Kind: alert.KindLinkDown,
		Labels: map[string]string{"opd": "dishub", "site": "dishub", "link": "dishub-wan"}, State: alert.StateFiring})
	h := newHarness(t, twin)
	for _, prefix := range []string{fpDishub[:4], fpDishub[:8], fpDishub[:15]} {
		code, body := h.do("POST", "/api/v1/alerts/"+prefix+"/ack", "dinkes-op", nil)
		if code != http.StatusNotFound || strings.Contains(body, "dishub") || strings.Contains(body, fpDishub) {
			t.Errorf("prefix %s of dishub's alert as dinkes-op: %d %s", prefix, code, body)
		}
	}
	if code, body := h.do("POST", "/api/v1/alerts/"+fpDinkes[:8]+"/ack", "dinkes-op", nil); code != http.StatusOK {
		t.Errorf("dinkes's prefix beside dishub's twin as dinkes-op: %d %s, want 200", code, body)
	}
	if code, body := h.do("POST", "/api/v1/alerts/"+fpDishub+"/ack", "dinkes-op", nil); code != http.StatusForbidden || !strings.Contains(body, "OPD dishub") {
		t.Errorf("dishub's whole fingerprint as dinkes-op: %d %s, want 403 naming the OPD", code, body)
	}
	if code, body := h.do("POST", "/api/v1/alerts/"+fpDinkes[:8]+"/ack", "operator", nil); code != http.StatusConflict {
		t.Errorf("the shared prefix as an unscoped operator: %d %s, want 409", code, body)
	}
}

// TestReviewScopeMessage: a scoped operator's review of another OPD is
// refused naming that review's scope, not as "a review of the whole
// Pemda" (which it is not); one of the whole Pemda says so.
func TestReviewScopeMessage(t *testing.T) {
	h := newHarness(t, nil)
	rv := func(scope string) map[string]string {
		return map[string]string{"month": "2026-10", "held_on": "2026-11-05", "scope": scope, "participants": "NOC", "findings": "ok"}
	}
	code, body := h.do("POST", "/api/v1/reviews", "dinkes-op", rv("dishub"))
	if code != http.StatusForbidden || !strings.Contains(body, "a review of scope dishub belongs to OPD dishub") {
		t.Errorf("a review of dishub as dinkes-op: %d %s", code, body)
	}
	code, body = h.do("POST", "/api/v1/reviews", "dinkes-op", rv(""))
	if code != http.StatusForbidden || !strings.Contains(body, "a review of the whole Pemda does not belong to a single OPD") {
		t.Errorf("a review of the whole Pemda as dinkes-op: %d %s", code, body)
	}
}
