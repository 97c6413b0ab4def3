package httpapi

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/statedb"
)

// MaxAuditLimit is the most audit entries one request or command returns.
const MaxAuditLimit = 10000

// ParseExpiry reads an expiry: a duration from now (90d, 12h, 30m; days
// are 24 h) or a UTC date (2027-06-30, meaning its start) or an RFC 3339
// time. It must lie in the future and within ten years.
func ParseExpiry(s string, now time.Time) (time.Time, error) {
	if len(s) > 40 {
		return time.Time{}, fmt.Errorf("%q is too long: use a duration like 90d or a date like 2027-06-30", s[:40])
	}
	var t time.Time
	switch {
	case strings.HasSuffix(s, "d") && len(s) > 1:
		n, err := strconv.Atoi(s[:len(s)-1])
		if err != nil || n <= 0 || n > 3660 {
			return time.Time{}, fmt.Errorf("%q: days must be a whole number from 1 to 3660", s)
		}
		t = now.Add(time.Duration(n) * 24 * time.Hour)
	default:
		if d, err := time.ParseDuration(s); err == nil {
			t = now.Add(d)
			break
		}
		if d, err := time.Parse("2006-01-02", s); err == nil {
			t = d
			break
		}
		d, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return time.Time{}, fmt.Errorf("%q: use a duration (90d, 12h) or a date (2027-06-30) or an RFC 3339 time", s)
		}
		t = d
	}
	if !t.After(now) {
		return time.Time{}, fmt.Errorf("%q is not in the future", s)
	}
	if t.After(now.AddDate(10, 0, 1)) {
		return time.Time{}, fmt.Errorf("%q is more than ten years away", s)
	}
	return t.UTC(), nil
}

// ParamError is a bad request parameter (or command-line flag): Param
// names it.
type ParamError struct {
	Param string
	Err   error
}

func (e *ParamError) Error() string { return e.Param + ": " + e.Err.Error() }
func (e *ParamError) Unwrap() error { return e.Err }

// ParseAuditFilter reads the audit log's selection: since and until are
// RFC 3339 times or UTC dates (a date as since is the start of that day,
// as until the end of it, so since=2026-12-01&until=2026-12-31 is all of
// December), limit is 1 to MaxAuditLimit (empty: 1000). Empty values
// leave their bound open. The error is a *ParamError naming the value.
func ParseAuditFilter(since, until, limit string) (statedb.AuditFilter, error) {
	var f statedb.AuditFilter
	var err error
	if f.Since, err = auditTime(since, false); err != nil {
		return f, &ParamError{"since", err}
	}
	if f.Until, err = auditTime(until, true); err != nil {
		return f, &ParamError{"until", err}
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Since.Before(f.Until) {
		return f, &ParamError{"until", fmt.Errorf("%s is not after since (%s)", f.Until.Format(time.RFC3339), f.Since.Format(time.RFC3339))}
	}
	f.Limit = 1000
	if limit != "" {
		n, err := strconv.Atoi(limit)
		if err != nil || n < 1 || n > MaxAuditLimit {
			return f, &ParamError{"limit", fmt.Errorf("%q: use a whole number from 1 to %d", clipParam(limit), MaxAuditLimit)}
		}
		f.Limit = n
	}
	return f, nil
}

// ParseAuditQuery is ParseAuditFilter of a request's query parameters.
func ParseAuditQuery(q url.Values) (statedb.AuditFilter, error) {
	for k := range q {
		switch k {
		case "since", "until", "limit":
			if len(q[k]) > 1 {
				return statedb.AuditFilter{}, &ParamError{k, fmt.Errorf("given %d times; give it once", len(q[k]))}
			}
		default:
			name := clipParam(k)
			if name == "" {
				name = `""`
			}
			return statedb.AuditFilter{}, &ParamError{name, fmt.Errorf("unknown parameter: use since, until and limit")}
		}
	}
	return ParseAuditFilter(q.Get("since"), q.Get("until"), q.Get("limit"))
}

// auditTime reads an RFC 3339 time or a UTC date; a date as an end is
// the end of that day.
func auditTime(s string, end bool) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := time.Parse("2006-01-02", s); err == nil {
		if end {
			d = d.AddDate(0, 0, 1)
		}
		return d, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q: use a date (2026-12-01, UTC) or an RFC 3339 time (2026-12-01T08:00:00+07:00)", clipParam(s))
	}
	if t.Year() < 1970 || t.Year() > 9999 {
		return time.Time{}, fmt.Errorf("%q: out of range", clipParam(s))
	}
	return t, nil
}

// clipParam shortens a caller's value for an error message.
func clipParam(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
