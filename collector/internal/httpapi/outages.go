package httpapi

import (
	"cmp"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/sla"
)

// GET /api/v1/outages: the default window and the longest one.
const (
	DefaultOutageWindow = 7 * 24 * time.Hour
	MaxOutageWindow     = 92 * 24 * time.Hour
)

// ParseOutagesQuery reads the query of GET /api/v1/outages: since and
// until as the audit log's (UTC dates, a date as until meaning the end
// of that day, or RFC 3339 times), each at most once, nothing else.
// until defaults to now (and is at most now), since to DefaultOutageWindow
// before until; the window is at most MaxOutageWindow. The error is a
// *ParamError naming the parameter.
func ParseOutagesQuery(q url.Values, now time.Time) (from, to time.Time, err error) {
	if err := checkParams(q, "since", "until"); err != nil {
		return from, to, err
	}
	if from, err = auditTime(q.Get("since"), false); err != nil {
		return from, to, &ParamError{"since", err}
	}
	if to, err = auditTime(q.Get("until"), true); err != nil {
		return from, to, &ParamError{"until", err}
	}
	if to.IsZero() || to.After(now) {
		to = now
	}
	if from.IsZero() {
		from = to.Add(-DefaultOutageWindow)
	}
	if !from.Before(to) {
		return from, to, &ParamError{"since", fmt.Errorf("%s is not before until (%s)", from.Format(time.RFC3339), to.Format(time.RFC3339))}
	}
	if to.Sub(from) > MaxOutageWindow {
		return from, to, &ParamError{"since", fmt.Errorf("%s is more than %d days before until (%s): ask for at most %d days at a time",
			from.Format(time.RFC3339), int(MaxOutageWindow.Hours()/24), to.Format(time.RFC3339), int(MaxOutageWindow.Hours()/24))}
	}
	return from.UTC(), to.UTC(), nil
}

// OutageView is an outage as GET /api/v1/outages shows it.
type OutageView struct {
	Kind  string     `json:"kind"` // site, link or service
	ID    string     `json:"id"`
	Site  string     `json:"site"` // the site, the link's site, the service's host
	OPD   string     `json:"opd"`
	Start time.Time  `json:"start"`
	End   *time.Time `json:"end"` // null while it goes on
	// DurationSeconds is from start to end (to now while it goes on),
	// flaps merged into it included; DownSeconds the down time in it.
	DurationSeconds int64  `json:"duration_seconds"`
	DownSeconds     int64  `json:"down_seconds"`
	Cause           string `json:"cause"`
}

func (ov *Overview) outages(w http.ResponseWriter, r *http.Request) {
	p, ok := viewer(w, r)
	if !ok {
		return
	}
	now := ov.o.Now()
	from, to, err := ParseOutagesQuery(r.URL.Query(), now)
	if err != nil {
		badParam(w, err)
		return
	}
	if ov.o.Outages == nil {
		writeError(w, http.StatusConflict, "this collector computes no outages")
		return
	}
	inv := ov.o.Inventory()
	out := []OutageView{}
	if inv != nil {
		for i := range inv.Sites {
			s := &inv.Sites[i]
			// a service may belong to another OPD than its host
			visible := p.Sees(s.OPD)
			for j := range inv.Services {
				if sv := &inv.Services[j]; sv.Site == s.ID && p.Sees(TargetOPD(inv, sla.ScopeService, sv.ID)) {
					visible = true
				}
			}
			if !visible {
				continue
			}
			found, err := ov.o.Outages(r.Context(), s.ID, from, to)
			if err != nil {
				ov.internal(w, "compute the outages of site "+s.ID, err)
				return
			}
			for _, o := range found {
				opd := s.OPD
				if o.Kind == sla.ScopeService {
					opd = TargetOPD(inv, sla.ScopeService, o.ID)
				}
				if !p.Sees(opd) {
					continue
				}
				v := OutageView{Kind: o.Kind, ID: o.ID, Site: s.ID, OPD: opd, Start: o.Start.UTC(),
					DurationSeconds: o.DurationSeconds, DownSeconds: o.DownSeconds, Cause: o.Cause}
				if o.Ongoing {
					v.DurationSeconds = int64(now.Sub(o.Start).Seconds())
				} else {
					e := o.End.UTC()
					v.End = &e
				}
				out = append(out, v)
			}
		}
	}
	slices.SortStableFunc(out, func(a, b OutageView) int {
		return cmp.Or(b.Start.Compare(a.Start), cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.ID, b.ID))
	})
	writeJSON(w, http.StatusOK, map[string]any{"status": "success", "data": map[string]any{
		"since": from, "until": to, "outages": out}})
}
