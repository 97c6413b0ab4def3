package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pantau-noc/pantau/collector/internal/alert"
	"github.com/pantau-noc/pantau/collector/internal/auth"
	"github.com/pantau-noc/pantau/collector/internal/inventory"
	"github.com/pantau-noc/pantau/collector/internal/sla"
	"github.com/pantau-noc/pantau/collector/internal/statedb"
)

// Acker is the alert engine as the acknowledgement endpoint uses it
// (alert.Engine).
type Acker interface {
	Active() []alert.Alert
	Ack(ctx context.Context, prefix, author string) (alert.Alert, error)
}

// RecordsOptions configure the records API.
type RecordsOptions struct {
	DB *statedb.DB
	// Inventory returns the loaded inventory (nil: none); it maps a
	// maintenance window's or silence's target to its OPD.
	Inventory func() *inventory.Inventory
	// Alerts is the alert engine; nil when no notifier is configured
	// (acknowledgements then get 409).
	Alerts Acker
	// DataDir holds the evidence files, in DataDir/evidence.
	DataDir string
	// MaxEvidenceBytes bounds one evidence file (auth.max_evidence_bytes).
	MaxEvidenceBytes int64
	// TimeZone is report.time_zone: the Pemda's zone for dates given
	// without one ("": the inventory's, else WIB).
	TimeZone   string
	Logger     *slog.Logger
	Registerer prometheus.Registerer // may be nil
	Now        func() time.Time      // nil: time.Now
}

// Records serves maintenance windows, silences, acknowledgements,
// reviews, follow-ups and evidence files (docs/api.md).
type Records struct {
	o       RecordsOptions
	refused *prometheus.CounterVec
	// maxEvidence is o.MaxEvidenceBytes, changed by SetMaxEvidenceBytes.
	maxEvidence atomic.Int64
}

// SetMaxEvidenceBytes changes auth.max_evidence_bytes for the uploads
// that start from now on (a reload of collector.yml); n <= 0 is ignored.
func (rc *Records) SetMaxEvidenceBytes(n int64) {
	if n > 0 {
		rc.maxEvidence.Store(n)
	}
}

// NewRecords returns the records API; it registers its metrics with
// o.Registerer.
func NewRecords(o RecordsOptions) *Records {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Inventory == nil {
		o.Inventory = func() *inventory.Inventory { return nil }
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	rc := &Records{o: o, refused: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "pantau_collector_evidence_uploads_refused_total",
		Help: "Evidence file uploads refused, by reason (too_large: over auth.max_evidence_bytes; type: not an allowed file type; bad_request: malformed upload).",
	}, []string{"reason"})}
	rc.maxEvidence.Store(o.MaxEvidenceBytes)
	for _, r := range []string{"too_large", "type", "bad_request"} {
		rc.refused.WithLabelValues(r)
	}
	if o.Registerer != nil {
		o.Registerer.MustRegister(rc.refused)
	}
	return rc
}

// Register puts the records endpoints on mux.
func (rc *Records) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/maintenance", rc.listMaintenance)
	mux.HandleFunc("POST /api/v1/maintenance", rc.addMaintenance)
	mux.HandleFunc("PUT /api/v1/maintenance/{id}", rc.updateMaintenance)
	mux.HandleFunc("DELETE /api/v1/maintenance/{id}", rc.deleteMaintenance)
	mux.HandleFunc("GET /api/v1/silences", rc.listSilences)
	mux.HandleFunc("POST /api/v1/silences", rc.addSilence)
	mux.HandleFunc("DELETE /api/v1/silences/{id}", rc.expireSilence)
	mux.HandleFunc("POST /api/v1/alerts/{fingerprint}/ack", rc.ack)
	mux.HandleFunc("GET /api/v1/reviews", rc.listReviews)
	mux.HandleFunc("POST /api/v1/reviews", rc.addReview)
	mux.HandleFunc("GET /api/v1/followups", rc.listFollowUps)
	mux.HandleFunc("POST /api/v1/followups", rc.addFollowUp)
	mux.HandleFunc("POST /api/v1/followups/{id}/updates", rc.updateFollowUp)
	mux.HandleFunc("POST /api/v1/evidence", rc.uploadEvidence)
	mux.HandleFunc("GET /api/v1/evidence/{sha256}", rc.serveEvidence)
	rc.registerIncidents(mux)
}

// --- principals, scope and audit ---

// principal returns the request's principal, answering 401 when there is
// none (the handler was reached without the Gate).
func principal(w http.ResponseWriter, r *http.Request) (*auth.Principal, bool) {
	p := auth.FromContext(r.Context())
	if p == nil {
		writeError(w, http.StatusUnauthorized, "no credential: this endpoint is served behind the access-control gate")
		return nil, false
	}
	return p, true
}

// principalAnd returns the request's principal and its JSON body,
// answering 401 or 400 when there is none.
func principalAnd[T any](w http.ResponseWriter, r *http.Request) (*auth.Principal, T, bool) {
	var in T
	p, ok := principal(w, r)
	if !ok {
		return nil, in, false
	}
	if err := decodeJSON(r, &in); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return nil, in, false
	}
	return p, in, true
}

// outOfScope answers 403 for a change to what (e.g. "maintenance window
// 12") belonging to opd ("" when it belongs to no single OPD).
func outOfScope(w http.ResponseWriter, p *auth.Principal, what, opd string) {
	writeError(w, http.StatusForbidden, scopeMessage(p, what, opd))
}

func scopeMessage(p *auth.Principal, what, opd string) string {
	if opd == "" {
		return fmt.Sprintf("%s does not belong to a single OPD: only a credential without an OPD scope may change it; %s sees only %s",
			what, p, strings.Join(p.OPDs, ", "))
	}
	return fmt.Sprintf("%s belongs to OPD %s; %s sees only %s", what, opd, p, strings.Join(p.OPDs, ", "))
}

// audit records a change made by r; when that fails the change stands,
// and the caller is told (500), as the change is not on record.
func (rc *Records) audit(w http.ResponseWriter, r *http.Request, object string, before, after any) bool {
	if err := auth.Record(r.Context(), rc.o.DB, r, object, Summary(before, after)); err != nil {
		rc.o.Logger.Error("writing an audit row failed", "object", object, "err", err)
		writeError(w, http.StatusInternalServerError, fmt.Sprintf("%s was changed, but its audit row could not be written: %v", object, err))
		return false
	}
	return true
}

// Summary is an audit row's before/after summary: both as compact JSON,
// "none" for nil.
func Summary(before, after any) string {
	enc := func(v any) string {
		if v == nil {
			return "none"
		}
		if s, ok := v.(string); ok {
			return s
		}
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Sprint(v)
		}
		return string(b)
	}
	return "before: " + enc(before) + "; after: " + enc(after)
}

func (rc *Records) inv() *inventory.Inventory { return rc.o.Inventory() }

// siteOPD is the OPD of a site ("" when unknown).
func siteOPD(inv *inventory.Inventory, site string) string {
	if inv == nil {
		return ""
	}
	if s := inv.Site(site); s != nil {
		return s.OPD
	}
	return ""
}

// TargetOPD is the OPD a maintenance window's target belongs to: a
// site's, a link's site's, a service's; "" for scope all and targets the
// inventory does not know.
func TargetOPD(inv *inventory.Inventory, scope, target string) string {
	if inv == nil {
		return ""
	}
	switch scope {
	case sla.ScopeSite:
		return siteOPD(inv, target)
	case sla.ScopeLink:
		if l := inv.Link(target); l != nil {
			return siteOPD(inv, l.Site)
		}
	case sla.ScopeService:
		if sv := inv.Service(target); sv != nil {
			if sv.OPD != "" {
				return sv.OPD
			}
			return siteOPD(inv, sv.Site)
		}
	}
	return ""
}

// LabelsOPD is the one OPD a label set (a silence's matchers, an alert's
// labels) pins through opd, site, link or service; "" when it pins none,
// names an unknown target, or pins several OPDs.
func LabelsOPD(inv *inventory.Inventory, labels map[string]string) string {
	var got []string
	if v, ok := labels["opd"]; ok {
		got = append(got, v)
	}
	for label, scope := range map[string]string{"site": sla.ScopeSite, "link": sla.ScopeLink, "service": sla.ScopeService} {
		if v, ok := labels[label]; ok {
			got = append(got, TargetOPD(inv, scope, v))
		}
	}
	if len(got) == 0 {
		return ""
	}
	for _, o := range got[1:] {
		if o != got[0] {
			return ""
		}
	}
	return got[0]
}

// --- request parameters ---

// ParseID parses a record id from a path: a positive decimal integer
// without sign or leading zeros.
func ParseID(s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 || strconv.FormatInt(id, 10) != s {
		return 0, fmt.Errorf("id %q: want a positive whole number such as 12", clipParam(s))
	}
	return id, nil
}

var fingerprintRE = regexp.MustCompile(`^[0-9a-f]{4,16}$`)

// ParseFingerprint parses an alert id (its fingerprint, or a prefix of at
// least 4 of its 16 hex digits, as pantau-collector alert list shows).
func ParseFingerprint(s string) (string, error) {
	l := strings.ToLower(s)
	if !fingerprintRE.MatchString(l) {
		return "", fmt.Errorf("alert id %q: want 4 to 16 hex digits of its fingerprint (see GET /api/v1/alerts)", clipParam(s))
	}
	return l, nil
}

var shaRE = regexp.MustCompile(`^[0-9a-f]{64}$`)

// ParseSHA256 parses an evidence file's id: 64 hex digits.
func ParseSHA256(s string) (string, error) {
	l := strings.ToLower(s)
	if !shaRE.MatchString(l) {
		return "", fmt.Errorf("evidence id %q: want the file's SHA-256 as 64 hex digits", clipParam(s))
	}
	return l, nil
}

// ParseMonth checks a YYYY-MM parameter or field named name.
func ParseMonth(name, v string) error {
	if _, err := time.Parse("2006-01", v); err != nil {
		return fmt.Errorf("%s %q: want a month as YYYY-MM", name, clipParam(v))
	}
	return nil
}

// ParseDate checks a YYYY-MM-DD parameter or field named name.
func ParseDate(name, v string) error {
	if _, err := time.Parse("2006-01-02", v); err != nil {
		return fmt.Errorf("%s %q: want a date as YYYY-MM-DD", name, clipParam(v))
	}
	return nil
}

// query returns the single value of query parameter name, def when
// absent; a repeated parameter is an error.
func query(r *http.Request, name, def string) (string, error) {
	vs, ok := r.URL.Query()[name]
	switch {
	case !ok:
		return def, nil
	case len(vs) > 1:
		return "", fmt.Errorf("query parameter %s given %d times: give it once", name, len(vs))
	}
	return vs[0], nil
}

// ParseWindowTime reads a maintenance window's time: RFC 3339 with an
// offset, or YYYY-MM-DDTHH:MM[:SS] / "YYYY-MM-DD HH:MM" / YYYY-MM-DD in
// loc (the CLI's forms).
func ParseWindowTime(field, v string, loc *time.Location) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t.In(loc), nil
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, v, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%s %q: want YYYY-MM-DDTHH:MM (in zone) or RFC 3339", field, clipParam(v))
}

// today is the date in the Pemda's zone.
func (rc *Records) today() string {
	return rc.o.Now().In(inventory.PemdaZone(rc.o.TimeZone, rc.inv())).Format("2006-01-02")
}

// storeError answers an error of the state database: statedb's own
// validation errors (which wrap nothing) are the caller's (400), the
// rest the server's (500).
func (rc *Records) storeError(w http.ResponseWriter, what string, err error) {
	if errors.Unwrap(err) == nil || errors.Is(err, statedb.ErrBadSilence) {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	rc.o.Logger.Error(what+" failed", "err", err)
	writeError(w, http.StatusInternalServerError, fmt.Sprintf("%s failed: %v", what, err))
}

// --- maintenance windows ---

func (rc *Records) listMaintenance(w http.ResponseWriter, r *http.Request) {
	p, ok := principal(w, r)
	if !ok {
		return
	}
	ws, err := rc.o.DB.Maintenance(r.Context())
	if err != nil {
		rc.storeError(w, "reading maintenance windows", err)
		return
	}
	inv := rc.inv()
	out := []sla.Window{}
	for _, win := range ws {
		if p.Sees(TargetOPD(inv, win.Scope, win.Target)) {
			out = append(out, win)
		}
	}
	writeJSON(w, http.StatusOK, out)
}

type maintenanceIn struct {
	Scope  string `json:"scope"`
	Target string `json:"target"`
	Start  string `json:"start"`
	End    string `json:"end"`
	Zone   string `json:"zone"`
	Repeat string `json:"repeat"`
	Until  string `json:"until"`
	Reason string `json:"reason"`
}

// window checks in and returns the window it describes, or the status and
// message to answer.
func (rc *Records) window(p *auth.Principal, in maintenanceIn) (sla.Window, int, string) {
	bad := func(format string, a ...any) (sla.Window, int, string) {
		return sla.Window{}, http.StatusBadRequest, fmt.Sprintf(format, a...)
	}
	inv := rc.inv()
	var site *inventory.Site
	switch in.Scope {
	case sla.ScopeAll:
		if in.Target != "" {
			return bad("target %q: a window of scope all has no target", clipParam(in.Target))
		}
	case sla.ScopeLink, sla.ScopeSite, sla.ScopeService:
		if in.Target == "" {
			return bad("target is required for scope %s (a %s id from the inventory)", in.Scope, in.Scope)
		}
		if inv != nil {
			switch in.Scope {
			case sla.ScopeSite:
				site = inv.Site(in.Target)
			case sla.ScopeLink:
				if l := inv.Link(in.Target); l != nil {
					site = inv.Site(l.Site)
				}
			case sla.ScopeService:
				if sv := inv.Service(in.Target); sv != nil {
					site = inv.Site(sv.Site)
				}
			}
			if site == nil {
				return bad("target %q: no %s with that id in the inventory", clipParam(in.Target), in.Scope)
			}
		}
	case "":
		return bad("scope is required: link, site, service or all")
	default:
		return bad("scope %q: want link, site, service or all", clipParam(in.Scope))
	}
	if opd := TargetOPD(inv, in.Scope, in.Target); !p.Sees(opd) {
		what := fmt.Sprintf("%s %s", in.Scope, in.Target)
		if in.Scope == sla.ScopeAll {
			what = "a window of scope all"
		}
		return sla.Window{}, http.StatusForbidden, scopeMessage(p, what, opd)
	}
	var loc *time.Location
	switch {
	case in.Zone != "":
		l, err := inventory.ParseZone(in.Zone)
		if err != nil {
			return bad("zone: %v", err)
		}
		loc = l
	case site != nil && site.Location != nil:
		loc = site.Location
	default:
		loc = inventory.PemdaZone(rc.o.TimeZone, inv)
	}
	win := sla.Window{Scope: in.Scope, Target: in.Target, Repeat: in.Repeat, Reason: in.Reason}
	var err error
	if in.Start == "" {
		return bad("start is required (YYYY-MM-DDTHH:MM)")
	}
	if win.Start, err = ParseWindowTime("start", in.Start, loc); err != nil {
		return bad("%v", err)
	}
	if in.End == "" {
		return bad("end is required (YYYY-MM-DDTHH:MM)")
	}
	if win.End, err = ParseWindowTime("end", in.End, loc); err != nil {
		return bad("%v", err)
	}
	if in.Until != "" {
		if win.Until, err = ParseWindowTime("until", in.Until, loc); err != nil {
			return bad("%v", err)
		}
	}
	if strings.TrimSpace(in.Reason) == "" {
		return bad("reason is required (it appears in reports)")
	}
	if err := win.Validate(); err != nil {
		return bad("%v", err)
	}
	return win, 0, ""
}

func (rc *Records) addMaintenance(w http.ResponseWriter, r *http.Request) {
	p, in, ok := principalAnd[maintenanceIn](w, r)
	if !ok {
		return
	}
	win, status, msg := rc.window(p, in)
	if status != 0 {
		writeError(w, status, msg)
		return
	}
	id, err := rc.o.DB.AddMaintenance(r.Context(), win, rc.o.Now())
	if err != nil {
		rc.storeError(w, "storing the maintenance window", err)
		return
	}
	win.ID = id
	if !rc.audit(w, r, "maintenance/"+strconv.FormatInt(id, 10), nil, win) {
		return
	}
	writeJSON(w, http.StatusCreated, win)
}

// updateMaintenance replaces a window by the body (the POST's fields and
// checks), keeping its id. The caller's scope must reach both the old
// target and the new one: else a scoped operator could move another
// OPD's window into its own OPD, or its own window out of it.
func (rc *Records) updateMaintenance(w http.ResponseWriter, r *http.Request) {
	p, ok := principal(w, r)
	if !ok {
		return
	}
	id, err := ParseID(r.PathValue("id"))
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	var in maintenanceIn
	if err := decodeJSON(r, &in); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	old, ok := rc.scopedWindow(w, r, p, id)
	if !ok {
		return
	}
	win, status, msg := rc.window(p, in)
	if status != 0 {
		writeError(w, status, msg)
		return
	}
	win.ID = id
	if err := rc.o.DB.UpdateMaintenance(r.Context(), win); err != nil {
		if errors.Is(err, statedb.ErrNoMaintenance) { // deleted meanwhile
			writeError(w, http.StatusNotFound, fmt.Sprintf("no maintenance window with id %d (see GET /api/v1/maintenance)", id))
			return
		}
		rc.storeError(w, "updating the maintenance window", err)
		return
	}
	if !rc.audit(w, r, "maintenance/"+strconv.FormatInt(id, 10), old, win) {
		return
	}
	writeJSON(w, http.StatusOK, win)
}

// scopedWindow reads maintenance window id for a change by p: 404 when
// there is none, 403 naming the OPD when its target is outside p's scope
// (answered here; ok false).
func (rc *Records) scopedWindow(w http.ResponseWriter, r *http.Request, p *auth.Principal, id int64) (sla.Window, bool) {
	ws, err := rc.o.DB.Maintenance(r.Context())
	if err != nil {
		rc.storeError(w, "reading maintenance windows", err)
		return sla.Window{}, false
	}
	i := slices.IndexFunc(ws, func(win sla.Window) bool { return win.ID == id })
	if i < 0 {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no maintenance window with id %d (see GET /api/v1/maintenance)", id))
		return sla.Window{}, false
	}
	win := ws[i]
	if opd := TargetOPD(rc.inv(), win.Scope, win.Target); !p.Sees(opd) {
		outOfScope(w, p, fmt.Sprintf("maintenance window %d (%s %s)", id, win.Scope, win.Target), opd)
		return sla.Window{}, false
	}
	return win, true
}

func (rc *Records) deleteMaintenance(w http.ResponseWriter, r *http.Request) {
	p, ok := principal(w, r)
	if !ok {
		return
	}
	id, err := ParseID(r.PathValue("id"))
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	win, ok := rc.scopedWindow(w, r, p, id)
	if !ok {
		return
	}
	if err := rc.o.DB.DeleteMaintenance(r.Context(), id, rc.o.Now()); err != nil {
		rc.storeError(w, "deleting the maintenance window", err)
		return
	}
	if !rc.audit(w, r, "maintenance/"+strconv.FormatInt(id, 10), win, "deleted") {
		return
	}
	writeJSON(w, http.StatusOK, win)
}

// --- silences and acknowledgements ---

type silenceOut struct {
	statedb.Silence
	Active bool `json:"active"`
}

func (rc *Records) listSilences(w http.ResponseWriter, r *http.Request) {
	p, ok := principal(w, r)
	if !ok {
		return
	}
	now := rc.o.Now()
	list, err := rc.o.DB.Silences(r.Context(), now)
	if err != nil {
		rc.storeError(w, "reading silences", err)
		return
	}
	inv := rc.inv()
	out := []silenceOut{}
	for _, sl := range list {
		if p.Sees(LabelsOPD(inv, sl.Matchers)) {
			out = append(out, silenceOut{sl, sl.Active(now)})
		}
	}
	writeJSON(w, http.StatusOK, out)
}

type silenceIn struct {
	Matchers map[string]string `json:"matchers"`
	Duration string            `json:"duration"`
	End      string            `json:"end"`
	Reason   string            `json:"reason"`
}

var labelNameRE = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

func (rc *Records) addSilence(w http.ResponseWriter, r *http.Request) {
	p, in, ok := principalAnd[silenceIn](w, r)
	if !ok {
		return
	}
	if len(in.Matchers) == 0 {
		writeError(w, http.StatusBadRequest, `matchers is required: the labels the alerts must have, such as {"site": "dinkes"}`)
		return
	}
	for k, v := range in.Matchers {
		if !labelNameRE.MatchString(k) {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("matchers: %q is not a label name", clipParam(k)))
			return
		}
		if v == "" {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("matchers: label %s needs a value", k))
			return
		}
	}
	if strings.TrimSpace(in.Reason) == "" {
		writeError(w, http.StatusBadRequest, "reason is required")
		return
	}
	now := rc.o.Now()
	var end time.Time
	switch {
	case in.Duration != "" && in.End != "":
		writeError(w, http.StatusBadRequest, "give duration or end, not both")
		return
	case in.Duration != "":
		d, err := time.ParseDuration(in.Duration)
		if err != nil || d <= 0 {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("duration %q: want a positive duration such as 2h", clipParam(in.Duration)))
			return
		}
		end = now.Add(d)
	case in.End != "":
		t, err := time.Parse(time.RFC3339, in.End)
		if err != nil || !t.After(now) {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("end %q: want a time in the future, RFC 3339 (2026-10-20T10:00:00+07:00)", clipParam(in.End)))
			return
		}
		end = t
	default:
		writeError(w, http.StatusBadRequest, "duration (such as 2h) or end (RFC 3339) is required")
		return
	}
	if opd := LabelsOPD(rc.inv(), in.Matchers); !p.Sees(opd) {
		if opd == "" {
			writeError(w, http.StatusForbidden, fmt.Sprintf("a silence of %s pins no single OPD: an OPD-scoped credential must match opd or a site, link or service of its OPDs; %s sees only %s",
				matchString(in.Matchers), p, strings.Join(p.OPDs, ", ")))
			return
		}
		outOfScope(w, p, "a silence of "+matchString(in.Matchers), opd)
		return
	}
	sl := statedb.Silence{Matchers: in.Matchers, Author: p.Name, Reason: in.Reason, Start: now, End: end}
	id, err := rc.o.DB.AddSilence(r.Context(), sl, now)
	if err != nil {
		rc.storeError(w, "storing the silence", err)
		return
	}
	sl.ID, sl.Created = id, now
	if !rc.audit(w, r, "silence/"+strconv.FormatInt(id, 10), nil, sl) {
		return
	}
	writeJSON(w, http.StatusCreated, silenceOut{sl, true})
}

func matchString(m map[string]string) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, k+"="+m[k])
	}
	return strings.Join(parts, ",")
}

func (rc *Records) expireSilence(w http.ResponseWriter, r *http.Request) {
	p, ok := principal(w, r)
	if !ok {
		return
	}
	id, err := ParseID(r.PathValue("id"))
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	list, err := rc.o.DB.Silences(r.Context(), time.Time{})
	if err != nil {
		rc.storeError(w, "reading silences", err)
		return
	}
	i := slices.IndexFunc(list, func(sl statedb.Silence) bool { return sl.ID == id })
	if i < 0 {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no silence with id %d (see GET /api/v1/silences)", id))
		return
	}
	sl := list[i]
	if opd := LabelsOPD(rc.inv(), sl.Matchers); !p.Sees(opd) {
		outOfScope(w, p, fmt.Sprintf("silence %d (%s)", id, matchString(sl.Matchers)), opd)
		return
	}
	now := rc.o.Now()
	if err := rc.o.DB.ExpireSilence(r.Context(), id, now); err != nil {
		rc.storeError(w, "expiring the silence", err)
		return
	}
	before := sl
	if now.Before(sl.End) {
		sl.End = now
	}
	if !rc.audit(w, r, "silence/"+strconv.FormatInt(id, 10), map[string]any{"end": before.End}, map[string]any{"end": sl.End}) {
		return
	}
	writeJSON(w, http.StatusOK, silenceOut{sl, false})
}

func (rc *Records) ack(w http.ResponseWriter, r *http.Request) {
	p, ok := principal(w, r)
	if !ok {
		return
	}
	prefix, err := ParseFingerprint(r.PathValue("fingerprint"))
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if rc.o.Alerts == nil {
		writeError(w, http.StatusConflict, "alerting is off (no notifiers in collector.yml), so there are no alerts to acknowledge")
		return
	}
	var found []alert.Alert
	for _, a := range rc.o.Alerts.Active() {
		if a.State != alert.StateFiring || !strings.HasPrefix(a.Fingerprint, prefix) {
			continue
		}
		// A prefix (4 hex digits can be tried one by one) names only the
		// alerts the credential sees: another OPD's neither counts nor
		// is named back with its fingerprint and OPD. A whole
		// fingerprint of another OPD's alert is 403 below.
		if len(prefix) < len(a.Fingerprint) && !p.Sees(LabelsOPD(rc.inv(), a.Labels)) {
			continue
		}
		found = append(found, a)
	}
	switch {
	case len(found) == 0:
		writeError(w, http.StatusNotFound, fmt.Sprintf("no firing alert with id %s (see GET /api/v1/alerts)", prefix))
		return
	case len(found) > 1:
		writeError(w, http.StatusConflict, fmt.Sprintf("%d firing alerts have ids starting with %s: give more digits", len(found), prefix))
		return
	}
	a := found[0]
	if opd := LabelsOPD(rc.inv(), a.Labels); !p.Sees(opd) {
		outOfScope(w, p, "alert "+a.Fingerprint, opd)
		return
	}
	acked, err := rc.o.Alerts.Ack(r.Context(), a.Fingerprint, p.Name)
	switch {
	case errors.Is(err, alert.ErrNoAlert):
		writeError(w, http.StatusNotFound, fmt.Sprintf("alert %s is no longer firing", a.Fingerprint))
		return
	case err != nil:
		rc.o.Logger.Error("acknowledging an alert failed", "alert", a.Fingerprint, "err", err)
		writeError(w, http.StatusInternalServerError, fmt.Sprintf("acknowledging alert %s failed: %v", a.Fingerprint, err))
		return
	}
	if !rc.audit(w, r, "alert/"+a.Fingerprint, map[string]string{"rule": a.Rule, "acked": a.Acked}, map[string]string{"rule": a.Rule, "acked": acked.Acked}) {
		return
	}
	writeJSON(w, http.StatusOK, acked)
}

// --- reviews and follow-ups ---

func (rc *Records) listReviews(w http.ResponseWriter, r *http.Request) {
	p, ok := principal(w, r)
	if !ok {
		return
	}
	from, to, err := monthRange(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	list, err := rc.o.DB.Reviews(r.Context(), from, to)
	if err != nil {
		rc.storeError(w, "reading reviews", err)
		return
	}
	out := []statedb.Review{}
	for _, rv := range list {
		if p.Sees(rv.Scope) {
			out = append(out, rv)
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// monthRange reads the from and to parameters (YYYY-MM, inclusive).
func monthRange(r *http.Request) (from, to string, err error) {
	if from, err = query(r, "from", ""); err != nil {
		return "", "", err
	}
	if to, err = query(r, "to", ""); err != nil {
		return "", "", err
	}
	if from == "" {
		from = "0000-00"
	} else if err := ParseMonth("from", from); err != nil {
		return "", "", err
	}
	if to == "" {
		to = "9999-99"
	} else if err := ParseMonth("to", to); err != nil {
		return "", "", err
	}
	return from, to, nil
}

type reviewIn struct {
	Kind         string `json:"kind"`  // monthly (default) or quarterly
	Month        string `json:"month"` // YYYY-MM; a quarterly review's may be 2026-Q4
	HeldOn       string `json:"held_on"`
	Scope        string `json:"scope"`
	Participants string `json:"participants"`
	Findings     string `json:"findings"`
}

// knownOPD reports whether opd is an OPD of the inventory (true without
// an inventory).
func knownOPD(inv *inventory.Inventory, opd string) bool {
	if inv == nil {
		return true
	}
	for i := range inv.Sites {
		if inv.Sites[i].OPD == opd {
			return true
		}
	}
	for i := range inv.Services {
		if inv.Services[i].OPD == opd {
			return true
		}
	}
	return false
}

func (rc *Records) addReview(w http.ResponseWriter, r *http.Request) {
	p, in, ok := principalAnd[reviewIn](w, r)
	if !ok {
		return
	}
	if in.HeldOn == "" {
		in.HeldOn = rc.today()
	}
	if in.Kind == "" {
		in.Kind = statedb.KindMonthly
	}
	month, periodErr := statedb.ReviewMonth(in.Kind, in.Month)
	var msg string
	switch {
	case in.Kind != statedb.KindMonthly && in.Kind != statedb.KindQuarterly:
		msg = fmt.Sprintf("kind %q: want monthly or quarterly", clipParam(in.Kind))
	case in.Month == "" && in.Kind == statedb.KindQuarterly:
		msg = "month is required (the quarter reviewed: 2026-Q4, or its last month 2026-12)"
	case in.Month == "":
		msg = "month is required (YYYY-MM, the month reviewed)"
	case in.Kind == statedb.KindMonthly && ParseMonth("month", in.Month) != nil:
		msg = ParseMonth("month", in.Month).Error()
	case periodErr != nil:
		msg = "month: " + periodErr.Error()
	case ParseDate("held_on", in.HeldOn) != nil:
		msg = ParseDate("held_on", in.HeldOn).Error()
	case strings.TrimSpace(in.Participants) == "":
		msg = "participants is required"
	case strings.TrimSpace(in.Findings) == "":
		msg = "findings is required"
	case in.Scope != "" && !knownOPD(rc.inv(), in.Scope):
		msg = fmt.Sprintf("scope %q: no OPD with that id in the inventory (empty: the whole Pemda)", clipParam(in.Scope))
	}
	if msg != "" {
		writeError(w, http.StatusBadRequest, msg)
		return
	}
	if !p.Sees(in.Scope) {
		what := "a review of the whole Pemda"
		if in.Scope != "" {
			what = "a review of scope " + in.Scope
		}
		outOfScope(w, p, what, in.Scope)
		return
	}
	rv := statedb.Review{Kind: in.Kind, Month: month, Period: statedb.ReviewPeriod(in.Kind, month),
		HeldOn: in.HeldOn, Scope: in.Scope, Participants: in.Participants, Findings: in.Findings}
	id, err := rc.o.DB.AddReview(r.Context(), rv, rc.o.Now())
	if err != nil {
		rc.storeError(w, "storing the review", err)
		return
	}
	rv.ID = id
	if !rc.audit(w, r, "review/"+strconv.FormatInt(id, 10), nil, rv) {
		return
	}
	writeJSON(w, http.StatusCreated, rv)
}

// followUpOut is a follow-up item with the scope of its review.
type followUpOut struct {
	statedb.FollowUp
	Scope string `json:"scope,omitempty"`
}

// reviewScopes maps review ids to their scopes.
func (rc *Records) reviewScopes(ctx context.Context) (map[int64]string, error) {
	list, err := rc.o.DB.Reviews(ctx, "0000-00", "9999-99")
	if err != nil {
		return nil, err
	}
	m := make(map[int64]string, len(list))
	for _, rv := range list {
		m[rv.ID] = rv.Scope
	}
	return m, nil
}

func (rc *Records) listFollowUps(w http.ResponseWriter, r *http.Request) {
	p, ok := principal(w, r)
	if !ok {
		return
	}
	asOf, err := query(r, "as_of", rc.today())
	if err == nil {
		err = ParseDate("as_of", asOf)
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	since, err := query(r, "since", "")
	if err == nil && since != "" {
		err = ParseDate("since", since)
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if since == "" {
		since = "0000-00-00"
	}
	scopes, err := rc.reviewScopes(r.Context())
	if err != nil {
		rc.storeError(w, "reading reviews", err)
		return
	}
	list, err := rc.o.DB.FollowUpsAsOf(r.Context(), since, asOf)
	if err != nil {
		rc.storeError(w, "reading follow-ups", err)
		return
	}
	out := []followUpOut{}
	for _, f := range list {
		if sc := scopes[f.ReviewID]; p.Sees(sc) {
			out = append(out, followUpOut{f, sc})
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// evidenceRef checks a follow-up's evidence: "sha256:<hex>" (or the bare
// hex) must name an uploaded file and is stored as "sha256:<hex>"; any
// other text (a link, a ticket) is kept as it is.
func (rc *Records) evidenceRef(ctx context.Context, v string) (string, int, error) {
	v = strings.TrimSpace(v)
	hex, isRef := strings.CutPrefix(strings.ToLower(v), statedb.EvidenceRef)
	if !isRef && !shaRE.MatchString(strings.ToLower(v)) {
		return v, 0, nil
	}
	sha, err := ParseSHA256(hex)
	if err != nil {
		return "", http.StatusBadRequest, fmt.Errorf("evidence: %w", err)
	}
	if _, err := rc.o.DB.EvidenceFile(ctx, sha); errors.Is(err, statedb.ErrNoEvidence) {
		return "", http.StatusBadRequest, fmt.Errorf("evidence %s%s: no such file was uploaded (POST /api/v1/evidence first)", statedb.EvidenceRef, sha)
	} else if err != nil {
		return "", http.StatusInternalServerError, err
	}
	return statedb.EvidenceRef + sha, 0, nil
}

type followUpIn struct {
	ReviewID int64  `json:"review_id"`
	Opened   string `json:"opened"`
	Item     string `json:"item"`
	Owner    string `json:"owner"`
	Due      string `json:"due"`
	Status   string `json:"status"`
	Evidence string `json:"evidence"`
}

func checkStatus(st, evidence string) string {
	switch st {
	case statedb.StatusBelum, statedb.StatusProses:
	case statedb.StatusSelesai:
		if evidence == "" {
			return "evidence is required to close an item (status selesai): an uploaded file (sha256:...), a link or a ticket"
		}
	default:
		return fmt.Sprintf("status %q: want belum, proses or selesai", clipParam(st))
	}
	return ""
}

func (rc *Records) addFollowUp(w http.ResponseWriter, r *http.Request) {
	p, in, ok := principalAnd[followUpIn](w, r)
	if !ok {
		return
	}
	if in.Opened == "" {
		in.Opened = rc.today()
	}
	if in.Status == "" {
		in.Status = statedb.StatusBelum
	}
	var msg string
	switch {
	case strings.TrimSpace(in.Item) == "":
		msg = "item is required (the recommendation)"
	case strings.TrimSpace(in.Owner) == "":
		msg = "owner is required (who is responsible)"
	case ParseDate("opened", in.Opened) != nil:
		msg = ParseDate("opened", in.Opened).Error()
	case in.Due != "" && ParseDate("due", in.Due) != nil:
		msg = ParseDate("due", in.Due).Error()
	case in.ReviewID < 0:
		msg = fmt.Sprintf("review_id %d: want a review's id", in.ReviewID)
	default:
		msg = checkStatus(in.Status, in.Evidence)
	}
	if msg != "" {
		writeError(w, http.StatusBadRequest, msg)
		return
	}
	scopes, err := rc.reviewScopes(r.Context())
	if err != nil {
		rc.storeError(w, "reading reviews", err)
		return
	}
	scope, found := scopes[in.ReviewID]
	if in.ReviewID != 0 && !found {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("review_id %d: no such review (see GET /api/v1/reviews)", in.ReviewID))
		return
	}
	if !p.Sees(scope) {
		what := "a follow-up item without a review"
		if in.ReviewID != 0 {
			what = fmt.Sprintf("a follow-up item of review %d", in.ReviewID)
		}
		outOfScope(w, p, what, scope)
		return
	}
	ev, status, err := rc.evidenceRef(r.Context(), in.Evidence)
	if err != nil {
		writeError(w, status, err.Error())
		return
	}
	f := statedb.FollowUp{ReviewID: in.ReviewID, Opened: in.Opened, Item: in.Item, Owner: in.Owner, Due: in.Due, Status: in.Status, Evidence: ev, Updated: in.Opened}
	id, err := rc.o.DB.AddFollowUp(r.Context(), f, rc.o.Now())
	if err != nil {
		rc.storeError(w, "storing the follow-up item", err)
		return
	}
	f.ID = id
	if !rc.audit(w, r, "followup/"+strconv.FormatInt(id, 10), nil, f) {
		return
	}
	writeJSON(w, http.StatusCreated, followUpOut{f, scope})
}

type followUpUpdateIn struct {
	Date     string `json:"date"`
	Status   string `json:"status"`
	Evidence string `json:"evidence"`
	Note     string `json:"note"`
}

func (rc *Records) updateFollowUp(w http.ResponseWriter, r *http.Request) {
	p, ok := principal(w, r)
	if !ok {
		return
	}
	id, err := ParseID(r.PathValue("id"))
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	var in followUpUpdateIn
	if err := decodeJSON(r, &in); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if in.Date == "" {
		in.Date = rc.today()
	}
	list, err := rc.o.DB.FollowUpsAsOf(r.Context(), "0000-00-00", "9999-12-31")
	if err != nil {
		rc.storeError(w, "reading follow-ups", err)
		return
	}
	i := slices.IndexFunc(list, func(f statedb.FollowUp) bool { return f.ID == id })
	if i < 0 {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no follow-up item with id %d (see GET /api/v1/followups)", id))
		return
	}
	before := list[i]
	scopes, err := rc.reviewScopes(r.Context())
	if err != nil {
		rc.storeError(w, "reading reviews", err)
		return
	}
	if sc := scopes[before.ReviewID]; !p.Sees(sc) {
		outOfScope(w, p, fmt.Sprintf("follow-up item %d", id), sc)
		return
	}
	var msg string
	switch {
	case in.Status == "":
		msg = "status is required: belum, proses or selesai"
	case ParseDate("date", in.Date) != nil:
		msg = ParseDate("date", in.Date).Error()
	case in.Date < before.Opened:
		msg = fmt.Sprintf("date %s is before the item was opened (%s)", in.Date, before.Opened)
	default:
		msg = checkStatus(in.Status, strings.TrimSpace(in.Evidence))
	}
	if msg != "" {
		writeError(w, http.StatusBadRequest, msg)
		return
	}
	ev, status, err := rc.evidenceRef(r.Context(), in.Evidence)
	if err != nil {
		writeError(w, status, err.Error())
		return
	}
	if err := rc.o.DB.UpdateFollowUp(r.Context(), id, in.Date, in.Status, ev, in.Note); err != nil {
		rc.storeError(w, "storing the follow-up update", err)
		return
	}
	after := before
	after.Status, after.Evidence, after.Updated = in.Status, ev, in.Date
	type state struct {
		Status   string `json:"status"`
		Evidence string `json:"evidence,omitempty"`
		On       string `json:"on"`
		Note     string `json:"note,omitempty"`
	}
	if !rc.audit(w, r, "followup/"+strconv.FormatInt(id, 10),
		state{before.Status, before.Evidence, before.Updated, ""}, state{in.Status, ev, in.Date, in.Note}) {
		return
	}
	writeJSON(w, http.StatusOK, followUpOut{after, scopes[before.ReviewID]})
}
