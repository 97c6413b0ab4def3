package httpapi

import (
	"bytes"
	"errors"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/statedb"
)

// FuzzAuditQuery: any query string gives a filter within bounds or a
// *ParamError; never a panic.
func FuzzAuditQuery(f *testing.F) {
	for _, s := range []string{"", "since=2026-12-01", "since=2026-12-01&until=2026-12-31&limit=50", "until=2026-12-01T08:00:00%2B07:00",
		"limit=10000", "limit=10001", "limit=-1", "since=0000-01-01", "until=9999-12-31", "foo=bar", "limit=1&limit=2", "since=2026-02-30"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		flt, err := ParseAuditQuery(q)
		if err != nil {
			var pe *ParamError
			if !errors.As(err, &pe) || pe.Param == "" {
				t.Fatalf("%q: error %v is not a ParamError", raw, err)
			}
			return
		}
		if flt.Limit < 1 || flt.Limit > MaxAuditLimit {
			t.Fatalf("%q: limit %d", raw, flt.Limit)
		}
		if !flt.Since.IsZero() && !flt.Until.IsZero() && !flt.Since.Before(flt.Until) {
			t.Fatalf("%q: since %v not before until %v", raw, flt.Since, flt.Until)
		}
	})
}

// FuzzAdminRequests: any body gives a checked token or user request or
// an error; never a panic.
func FuzzAdminRequests(f *testing.F) {
	for _, s := range []string{
		`{"name":"grafana","role":"viewer","opds":["dinkes"],"expires":"90d"}`, `{"agent":"a1","sites":["s1"]}`,
		`{"name":"ani","role":"admin","password":"kata-sandi-panjang"}`, `{"name":"x","role":"viewer","expires":"2027-06-30"}`,
		`{}`, `[]`, `{"name":1}`, `{"name":"a"}{}`, `{"opds":[` + `"a",` + `"b"]}`, "",
	} {
		f.Add([]byte(s))
	}
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, body []byte) {
		q, err := parseTokenRequest(httptest.NewRequest("POST", "/api/v1/tokens", bytes.NewReader(body)), now)
		if err == nil {
			if (q.Agent == "") == (q.Name == "") {
				t.Fatalf("%q: accepted with agent %q and name %q", body, q.Agent, q.Name)
			}
			if q.Name != "" && (!statedb.ValidRole(q.Role) || !statedb.ValidID(q.Name)) {
				t.Fatalf("%q: accepted role %q name %q", body, q.Role, q.Name)
			}
			if q.Expires != "" && !q.expiresAt.After(now) {
				t.Fatalf("%q: accepted expiry %v", body, q.expiresAt)
			}
		}
		u, err := parseUserRequest(httptest.NewRequest("POST", "/api/v1/users", bytes.NewReader(body)), now)
		if err == nil && (!statedb.ValidID(u.Name) || !statedb.ValidRole(u.Role) || len(u.Password) < statedb.MinPasswordLen) {
			t.Fatalf("%q: accepted user %+v", body, u)
		}
	})
}

// FuzzParseExpiry: an accepted expiry lies after now and within ten
// years (and a day); nothing panics.
func FuzzParseExpiry(f *testing.F) {
	for _, s := range []string{"90d", "12h", "30m", "2027-06-30", "2027-06-30T08:00:00+09:00", "0d", "-1h", "3661d", "9999999999999999999d", "", "d", "2026-02-30", "1e9h"} {
		f.Add(s)
	}
	now := time.Date(2026, 12, 7, 5, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		exp, err := ParseExpiry(s, now)
		if err != nil {
			return
		}
		if !exp.After(now) || exp.After(now.AddDate(10, 0, 1)) {
			t.Fatalf("ParseExpiry(%q) = %v: not within (now, now+10y]", s, exp)
		}
	})
}
