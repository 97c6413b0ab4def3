package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/inventory"
	"github.com/pantau-noc/pantau/collector/internal/statedb"
)

// registerIncidents puts the incident record endpoints on mux.
func (rc *Records) registerIncidents(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/incidents", rc.listIncidents)
	mux.HandleFunc("POST /api/v1/incidents", rc.addIncident)
	mux.HandleFunc("POST /api/v1/incidents/{id}/updates", rc.updateIncident)
}

// IncidentIn is the body of POST /api/v1/incidents.
type IncidentIn struct {
	Scope          string `json:"scope"`
	Target         string `json:"target"`
	Start          string `json:"start"`
	End            string `json:"end"`
	Zone           string `json:"zone"`
	Ticket         string `json:"ticket"`
	Category       string `json:"category"`
	Impact         string `json:"impact"`
	Action         string `json:"action"`
	Officer        string `json:"officer"`
	Source         string `json:"source"`
	CauseOverride  string `json:"cause_override"`
	OverrideReason string `json:"override_reason"`
}

// ParseIncident checks a POST /api/v1/incidents body against the
// inventory (nil: targets are not checked) and returns the record and
// the OPD it belongs to; times without an offset are read in loc (or
// in.Zone). officer defaults to the caller's name. Errors name the field.
func ParseIncident(in IncidentIn, inv *inventory.Inventory, loc *time.Location, officer string) (statedb.Incident, string, error) {
	rec := statedb.Incident{Scope: in.Scope, Target: in.Target, Ticket: in.Ticket, Category: in.Category, Impact: in.Impact,
		Action: in.Action, Officer: in.Officer, Source: in.Source, CauseOverride: in.CauseOverride, OverrideReason: in.OverrideReason}
	if strings.TrimSpace(rec.Officer) == "" {
		rec.Officer = officer
	}
	if rec.Scope == "" {
		rec.Scope = statedb.IncidentLink
	}
	switch rec.Scope {
	case statedb.IncidentLink, statedb.IncidentSite, statedb.IncidentService:
	default:
		return rec, "", fmt.Errorf("scope %q: want link, site or service", clipParam(rec.Scope))
	}
	if rec.Target == "" {
		return rec, "", fmt.Errorf("target is required (the %s id from the inventory)", rec.Scope)
	}
	if err := CheckIncidentTarget(inv, rec.Scope, rec.Target, in.End == ""); err != nil {
		return rec, "", err
	}
	if in.Zone != "" {
		l, err := inventory.ParseZone(in.Zone)
		if err != nil {
			return rec, "", fmt.Errorf("zone: %w", err)
		}
		loc = l
	}
	if in.Start == "" {
		return rec, "", errors.New("start is required: the outage's first minute, YYYY-MM-DDTHH:MM (in zone) or RFC 3339")
	}
	var err error
	if rec.Start, err = ParseWindowTime("start", in.Start, loc); err != nil {
		return rec, "", err
	}
	if in.End != "" {
		e, err := ParseWindowTime("end", in.End, loc)
		if err != nil {
			return rec, "", err
		}
		rec.End = &e
	}
	if err := rec.Validate(); err != nil {
		return rec, "", err
	}
	return rec, TargetOPD(inv, rec.Scope, rec.Target), nil
}

// incidentOut is a record with the OPD it belongs to.
type incidentOut struct {
	statedb.Incident
	OPD string `json:"opd,omitempty"`
}

func (rc *Records) listIncidents(w http.ResponseWriter, r *http.Request) {
	p, ok := principal(w, r)
	if !ok {
		return
	}
	inv := rc.inv()
	loc := inventory.PemdaZone(rc.o.TimeZone, inv)
	var bounds [2]time.Time
	for i, name := range []string{"from", "to"} {
		v, err := query(r, name, "")
		if err == nil && v != "" {
			err = ParseDate(name, v)
			bounds[i], _ = time.ParseInLocation("2006-01-02", v, loc)
		}
		if err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
	}
	list, err := rc.o.DB.Incidents(r.Context(), bounds[0], bounds[1], 0)
	if err != nil {
		rc.storeError(w, "reading incident records", err)
		return
	}
	out := []incidentOut{}
	for _, in := range list {
		if opd := TargetOPD(inv, in.Scope, in.Target); p.Sees(opd) {
			out = append(out, incidentOut{in, opd})
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func (rc *Records) addIncident(w http.ResponseWriter, r *http.Request) {
	p, in, ok := principalAnd[IncidentIn](w, r)
	if !ok {
		return
	}
	inv := rc.inv()
	rec, opd, err := ParseIncident(in, inv, inventory.PemdaZone(rc.o.TimeZone, inv), p.Name)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if !p.Sees(opd) {
		outOfScope(w, p, fmt.Sprintf("%s %s", rec.Scope, rec.Target), opd)
		return
	}
	id, err := rc.o.DB.AddIncident(r.Context(), rec, rc.o.Now())
	if errors.Is(err, statedb.ErrDuplicateIncident) {
		writeError(w, http.StatusConflict, err.Error())
		return
	}
	if err != nil {
		rc.storeError(w, "storing the incident record", err)
		return
	}
	if rec, err = rc.o.DB.IncidentByID(r.Context(), id); err != nil {
		rc.storeError(w, "reading the incident record", err)
		return
	}
	if !rc.audit(w, r, "incident/"+strconv.FormatInt(id, 10), nil, rec) {
		return
	}
	writeJSON(w, http.StatusCreated, incidentOut{rec, opd})
}

func (rc *Records) updateIncident(w http.ResponseWriter, r *http.Request) {
	p, ok := principal(w, r)
	if !ok {
		return
	}
	id, err := ParseID(r.PathValue("id"))
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	var patch statedb.IncidentPatch
	if err := decodeJSON(r, &patch); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	cur, err := rc.o.DB.IncidentByID(r.Context(), id)
	if errors.Is(err, statedb.ErrNoIncident) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no incident record with id %d (see GET /api/v1/incidents)", id))
		return
	}
	if err != nil {
		rc.storeError(w, "reading the incident record", err)
		return
	}
	opd := TargetOPD(rc.inv(), cur.Scope, cur.Target)
	if !p.Sees(opd) {
		outOfScope(w, p, fmt.Sprintf("incident record %d (%s %s)", id, cur.Scope, cur.Target), opd)
		return
	}
	before, after, err := rc.o.DB.UpdateIncident(r.Context(), id, patch, rc.o.Now())
	if err != nil {
		rc.storeError(w, "storing the incident record", err)
		return
	}
	if !rc.audit(w, r, "incident/"+strconv.FormatInt(id, 10), before, after) {
		return
	}
	writeJSON(w, http.StatusOK, incidentOut{after, opd})
}

// CheckIncidentTarget checks a record's target against the inventory
// (nil: not checked): it must exist, and a detected outage of a site
// with a single link is that link's (the report lists it once, as the
// link's), so a record for it names the link.
func CheckIncidentTarget(inv *inventory.Inventory, scope, target string, detected bool) error {
	if inv == nil {
		return nil
	}
	known := false
	switch scope {
	case statedb.IncidentLink:
		known = inv.Link(target) != nil
	case statedb.IncidentSite:
		known = inv.Site(target) != nil
		if links := inv.LinksOfSite(target); known && detected && len(links) == 1 {
			return fmt.Errorf("target %q: site %s has one link, so its outages are listed as link %s's: give scope link and target %s",
				clipParam(target), target, links[0].ID, links[0].ID)
		}
	case statedb.IncidentService:
		known = inv.Service(target) != nil
	default:
		return nil // Validate names the bad scope
	}
	if !known {
		return fmt.Errorf("target %q: no %s with that id in the inventory", clipParam(target), scope)
	}
	return nil
}
