package httpapi

import (
	"net/http"
	"strings"
	"testing"
)

// TestIncidentsAPIFieldLimits: a record's text fields are bounded (a
// ticket number of 10 kB, a paragraph of 5 kB, a ticket with a line
// break are refused with a 400 naming the field), on add and on update,
// and nothing is stored.
func TestIncidentsAPIFieldLimits(t *testing.T) {
	h := newHarness(t, nil)
	base := func() map[string]any {
		return map[string]any{"scope": "link", "target": "dinkes-wan", "start": "2026-10-10T10:00",
			"category": "fo_putus", "source": "whatsapp", "officer": "Andi"}
	}
	for _, c := range []struct {
		field string
		value string
		want  string
	}{
		{"ticket", strings.Repeat("T", 10000), "ticket is 10000 bytes: at most 200"},
		{"officer", strings.Repeat("é", 101), "officer is 202 bytes: at most 200"},
		{"impact", strings.Repeat("x", 5000), "impact is 5000 bytes: at most 4000"},
		{"action", strings.Repeat("x", 4001), "action is 4001 bytes: at most 4000"},
		{"ticket", "TIK-1\nTIK-2", `one line without control characters`},
	} {
		body := base()
		body[c.field] = c.value
		if st, out := h.do("POST", "/api/v1/incidents", "operator", body); st != http.StatusBadRequest || !strings.Contains(out, c.want) {
			t.Errorf("add with %s of %d bytes: %d %.300s, want 400 %q", c.field, len(c.value), st, out, c.want)
		}
	}
	st, out := h.do("GET", "/api/v1/incidents", "operator", nil)
	if st != http.StatusOK || strings.TrimSpace(out) != "[]" {
		t.Fatalf("refused records were stored: %d %.300s", st, out)
	}
	// a ticket of exactly 200 bytes (Indonesian text, unicode) is fine
	body := base()
	body["ticket"] = strings.Repeat("Ä", 100)
	if st, out := h.do("POST", "/api/v1/incidents", "operator", body); st != http.StatusCreated {
		t.Fatalf("add with a 200-byte ticket: %d %.300s", st, out)
	}
	if st, out := h.do("POST", "/api/v1/incidents/1/updates", "operator", map[string]any{"action": strings.Repeat("x", 100000)}); st != http.StatusBadRequest ||
		!strings.Contains(out, "action is 100000 bytes: at most 4000") {
		t.Errorf("update with a 100 kB action: %d %.300s", st, out)
	}
}

// TestIncidentsAPIConcurrentDuplicate: the same outage recorded by 16
// clients at once is stored once; every other answer is the 409 naming
// the record, none a 500 (the check and the insert were two statements,
// so a race reached the unique index as a server error).
func TestIncidentsAPIConcurrentDuplicate(t *testing.T) {
	h := newHarness(t, nil)
	body := map[string]any{"scope": "link", "target": "dinkes-wan", "start": "2026-10-10T10:00",
		"category": "fo_putus", "source": "whatsapp", "officer": "Andi"}
	const n = 16
	type answer struct {
		st  int
		out string
	}
	answers := make(chan answer, n)
	start := make(chan struct{})
	for range n {
		go func() {
			<-start
			st, out := h.do("POST", "/api/v1/incidents", "operator", body)
			answers <- answer{st, out}
		}()
	}
	close(start)
	created := 0
	for range n {
		a := <-answers
		switch {
		case a.st == http.StatusCreated:
			created++
		case a.st == http.StatusConflict && strings.Contains(a.out, "already has incident record"):
		default:
			t.Errorf("concurrent add: %d %.300s, want 201 once and 409 naming the record", a.st, a.out)
		}
	}
	if created != 1 {
		t.Errorf("%d records created, want 1", created)
	}
}

// TestIncidentsAPITimeBounds: a record's times lie in the years a report
// can cover (2000 to 2199, as periods and monitored spans): year 1 or
// 9999 is a 400 naming the field, not a record whose duration overflows
// (an undetected outage from year 1 to 9999 gave an MTTR of 292 years,
// time.Duration's saturation).
func TestIncidentsAPITimeBounds(t *testing.T) {
	h := newHarness(t, nil)
	for _, c := range []struct{ start, end, want string }{
		{"0001-01-01T00:01:00Z", "", "start 0001-01-01T"},
		{"9999-12-31T23:00:00Z", "", "start 9999-12-31T"},
		{"2026-10-10T10:00:00Z", "9999-12-31T23:00:00Z", "end 9999-12-31T"},
		{"1999-12-31T23:59:00+07:00", "", "in the years 2000 to 2199"},
	} {
		body := map[string]any{"scope": "service", "target": "dishub-portal", "start": c.start,
			"category": "dns", "source": "telepon", "officer": "Andi"}
		if c.end != "" {
			body["end"] = c.end
		}
		if st, out := h.do("POST", "/api/v1/incidents", "operator", body); st != http.StatusBadRequest || !strings.Contains(out, c.want) {
			t.Errorf("start %s end %s: %d %.300s, want 400 %q", c.start, c.end, st, out, c.want)
		}
	}
}
