package httpapi

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/unmatched"
)

// GET /api/v1/inventory/unmatched: the default look-back and the
// longest.
const (
	DefaultUnmatchedSince = 7 * 24 * time.Hour
	MaxUnmatchedSince     = 92 * 24 * time.Hour
)

// ParseUnmatchedQuery reads the query of GET /api/v1/inventory/unmatched:
// since, how far back to look for series with data, as a duration (7d,
// 12h, 30m; days are 24 h), a UTC date or an RFC 3339 time, at most
// MaxUnmatchedSince before now (default DefaultUnmatchedSince), at most
// once; nothing else. It returns the start of the window. The error is
// a *ParamError naming the parameter.
func ParseUnmatchedQuery(q url.Values, now time.Time) (time.Time, error) {
	if err := checkParams(q, "since"); err != nil {
		return time.Time{}, err
	}
	v, ok := q["since"]
	if !ok {
		return now.Add(-DefaultUnmatchedSince), nil
	}
	s := v[0]
	bad := func(why string) (time.Time, error) {
		return time.Time{}, &ParamError{"since", fmt.Errorf("%q: %s", clipParam(s), why)}
	}
	var from time.Time
	switch {
	case strings.HasSuffix(s, "d") && len(s) > 1 && !strings.ContainsAny(s[:len(s)-1], "hmsuµn"):
		n, err := strconv.Atoi(s[:len(s)-1])
		if err != nil || n < 1 || n > int(MaxUnmatchedSince.Hours()/24) {
			return bad(fmt.Sprintf("days must be a whole number from 1 to %d", int(MaxUnmatchedSince.Hours()/24)))
		}
		from = now.Add(-time.Duration(n) * 24 * time.Hour)
	default:
		if d, err := time.ParseDuration(s); err == nil {
			if d <= 0 {
				return bad("use a positive duration such as 7d or 12h")
			}
			if d > MaxUnmatchedSince {
				d = MaxUnmatchedSince + 1 // refused below
			}
			from = now.Add(-d)
			break
		}
		t, err := auditTime(s, false)
		if err != nil {
			return bad("use a duration (7d, 12h), a date (2026-12-01, UTC) or an RFC 3339 time")
		}
		if !t.Before(now) {
			return bad("is not in the past")
		}
		from = t
	}
	if now.Sub(from) > MaxUnmatchedSince {
		return bad(fmt.Sprintf("more than %d days back: the TSDB is read for at most that", int(MaxUnmatchedSince.Hours()/24)))
	}
	return from, nil
}

// UnmatchedView is a series that matches no link or service, with the
// OPD of its site.
type UnmatchedView struct {
	unmatched.Row
	OPD string `json:"opd"` // "" when its site is not in the inventory
}

func (ov *Overview) unmatched(w http.ResponseWriter, r *http.Request) {
	p, ok := viewer(w, r)
	if !ok {
		return
	}
	now := ov.o.Now()
	from, err := ParseUnmatchedQuery(r.URL.Query(), now)
	if err != nil {
		badParam(w, err)
		return
	}
	out := []UnmatchedView{}
	if ov.o.TSDB != nil {
		inv := ov.o.Inventory()
		rows, err := unmatched.Find(r.Context(), ov.o.TSDB, inv, from, now)
		if err != nil {
			ov.internal(w, "list the unmatched series", err)
			return
		}
		for _, row := range rows {
			opd := siteOPD(inv, row.Site)
			if p.Sees(opd) {
				out = append(out, UnmatchedView{Row: row, OPD: opd})
			}
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "success", "data": out, "since": from.UTC()})
}
