package httpapi

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/pantau-noc/pantau/collector/internal/auth"
	"github.com/pantau-noc/pantau/collector/internal/inventory"
	"github.com/pantau-noc/pantau/collector/internal/sla"
)

// GET /api/v1/status: ?within= bounds, in days; an expiry that passed
// less than EndedDays ago is listed too.
const (
	DefaultEndingWithin = 90
	MaxEndingWithin     = 3650
	EndedDays           = 30
)

// ParseStatusQuery reads the query of GET /api/v1/status: within, the
// days ahead in which a contract or warranty ending is listed (1 to
// MaxEndingWithin, default DefaultEndingWithin), at most once; nothing
// else. The error is a *ParamError naming the parameter.
func ParseStatusQuery(q url.Values) (int, error) {
	if err := checkParams(q, "within"); err != nil {
		return 0, err
	}
	v, ok := q["within"]
	if !ok {
		return DefaultEndingWithin, nil
	}
	n, err := strconv.Atoi(v[0])
	if err != nil || n < 1 || n > MaxEndingWithin {
		return 0, &ParamError{"within", fmt.Errorf("%q: use a whole number of days from 1 to %d", clipParam(v[0]), MaxEndingWithin)}
	}
	return n, nil
}

// StatusView is the answer of GET /api/v1/status.
type StatusView struct {
	At         time.Time       `json:"at"`          // when the states were read
	WithinDays int             `json:"within_days"` // the window of Ending
	Sites      []SiteStatus    `json:"sites"`
	Services   []ServiceStatus `json:"services"`
	Ending     []Ending        `json:"ending"`
}

// SiteStatus is a site with its current state and its links'.
type SiteStatus struct {
	ID       string   `json:"id"`
	Name     string   `json:"name"`
	Kind     string   `json:"kind"`
	OPD      string   `json:"opd"`
	District string   `json:"district"`
	Lat      *float64 `json:"lat"` // null when the inventory has none
	Lon      *float64 `json:"lon"`
	// State is the site's, as pantau_site_state: the best of its links'
	// (redundant links keep a site up), nodata without links.
	State string       `json:"state"`
	Links []LinkStatus `json:"links"`
}

// LinkStatus is a link's current state and its latest ICMP figures.
type LinkStatus struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Type  string `json:"type"`
	ISP   string `json:"isp"`
	State string `json:"state"` // up, degraded, down, maintenance, nodata
	// LossRatio and RTTSeconds are the latest (within 5 minutes) of
	// pantau_icmp_loss_ratio and pantau_icmp_rtt_avg_seconds of the link,
	// the worst over its agents; null without one.
	LossRatio  *float64 `json:"loss_ratio"`
	RTTSeconds *float64 `json:"rtt_seconds"`
}

// ServiceStatus is a service's current state.
type ServiceStatus struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	OPD   string `json:"opd"`
	Site  string `json:"site"`
	State string `json:"state"`
}

// Ending is a contract or warranty that ends soon or ended lately.
type Ending struct {
	// Kind is isp_contract (a link's contract end), warranty or
	// support_contract (a device's warranty_end, contract_end), as the
	// report's expiries.
	Kind string `json:"kind"`
	ID   string `json:"id"` // the link or device
	Site string `json:"site"`
	OPD  string `json:"opd"`
	Date string `json:"date"` // the last day, YYYY-MM-DD
	// DaysLeft counts from today in the site's zone to the last day: 0
	// on the last day, negative once ended.
	DaysLeft int `json:"days_left"`
}

// staleFigures is how old the latest loss and RTT may be: PromQL's
// lookback, as the Telegram console's /site reads them.
const staleFigures = 5 * time.Minute

func (ov *Overview) status(w http.ResponseWriter, r *http.Request) {
	p, ok := viewer(w, r)
	if !ok {
		return
	}
	within, err := ParseStatusQuery(r.URL.Query())
	if err != nil {
		badParam(w, err)
		return
	}
	now := ov.o.Now()
	inv := ov.o.Inventory()
	out := StatusView{At: now.UTC(), WithinDays: within, Sites: []SiteStatus{}, Services: []ServiceStatus{}, Ending: []Ending{}}
	if inv == nil {
		writeJSON(w, http.StatusOK, map[string]any{"status": "success", "data": out})
		return
	}
	loss, rtt, err := ov.linkFigures(r.Context(), now)
	if err != nil {
		ov.internal(w, "read the links' latest loss and RTT", err)
		return
	}
	for i := range inv.Sites {
		s := &inv.Sites[i]
		if !p.Sees(s.OPD) {
			continue
		}
		ss := SiteStatus{ID: s.ID, Name: s.Name, Kind: s.Kind, OPD: s.OPD, District: s.District, Lat: s.Lat, Lon: s.Lon, Links: []LinkStatus{}}
		var states []sla.State
		for _, l := range inv.LinksOfSite(s.ID) {
			st := ov.linkState(l, s.ID)
			states = append(states, st)
			ls := LinkStatus{ID: l.ID, Name: l.Name, Type: l.Type, ISP: l.ISP, State: st.String()}
			if v, ok := loss[l.ID]; ok {
				ls.LossRatio = finite(v)
			}
			if v, ok := rtt[l.ID]; ok {
				ls.RTTSeconds = finite(v)
			}
			ss.Links = append(ss.Links, ls)
		}
		ss.State = sla.SiteState(states).String()
		out.Sites = append(out.Sites, ss)
	}
	for i := range inv.Services {
		sv := &inv.Services[i]
		opd := TargetOPD(inv, sla.ScopeService, sv.ID)
		if !p.Sees(opd) {
			continue
		}
		st := sla.NoData
		if ov.o.States != nil {
			st = ov.o.States.CurrentService(sv)
		}
		out.Services = append(out.Services, ServiceStatus{ID: sv.ID, Name: sv.Name, OPD: opd, Site: sv.Site, State: st.String()})
	}
	out.Ending = ending(inv, p, now, within)
	writeJSON(w, http.StatusOK, map[string]any{"status": "success", "data": out})
}

func (ov *Overview) linkState(l *inventory.Link, site string) sla.State {
	if ov.o.States == nil {
		return sla.NoData
	}
	return ov.o.States.Current(l, site)
}

// linkFigures are the latest loss ratio and mean RTT of every link: the
// worst over the series (agents) of a link.
func (ov *Overview) linkFigures(ctx context.Context, now time.Time) (loss, rtt map[string]float64, err error) {
	read := func(metric string) (map[string]float64, error) {
		m := map[string]float64{}
		err := eachLatest(ctx, ov.o.TSDB, now.Add(-staleFigures), now, func(ls labels.Labels, _ int64, v float64) {
			link := ls.Get("link")
			if old, ok := m[link]; link != "" && (!ok || v > old) {
				m[link] = v
			}
		}, nameIs(metric), labels.MustNewMatcher(labels.MatchNotEqual, "link", ""))
		return m, err
	}
	if loss, err = read("pantau_icmp_loss_ratio"); err != nil {
		return nil, nil, err
	}
	if rtt, err = read("pantau_icmp_rtt_avg_seconds"); err != nil {
		return nil, nil, err
	}
	return loss, rtt, nil
}

// ending lists the link contracts, device warranties and support
// contracts in p's scope whose last day is at most within days ahead or
// less than EndedDays past, the soonest first.
func ending(inv *inventory.Inventory, p *auth.Principal, now time.Time, within int) []Ending {
	out := []Ending{}
	add := func(kind, id string, s *inventory.Site, end inventory.Date) {
		if end.IsZero() || s == nil || !p.Sees(s.OPD) {
			return
		}
		loc := s.Location
		if loc == nil {
			loc = time.UTC
		}
		n := now.In(loc)
		today := time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, loc)
		// whole days (rounded: a zone with a DST change has a 23 h day)
		days := int(math.Round(end.In(loc).Sub(today).Hours() / 24))
		if days > within || days <= -EndedDays {
			return
		}
		out = append(out, Ending{Kind: kind, ID: id, Site: s.ID, OPD: s.OPD, Date: end.String(), DaysLeft: days})
	}
	for i := range inv.Links {
		l := &inv.Links[i]
		if l.Contract != nil {
			add("isp_contract", l.ID, inv.Site(l.Site), l.Contract.End)
		}
	}
	for i := range inv.Devices {
		d := &inv.Devices[i]
		add("warranty", d.ID, inv.Site(d.Site), d.WarrantyEnd)
		add("support_contract", d.ID, inv.Site(d.Site), d.ContractEnd)
	}
	slices.SortStableFunc(out, func(a, b Ending) int {
		return cmp.Or(cmp.Compare(a.DaysLeft, b.DaysLeft), cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.ID, b.ID))
	})
	return out
}
