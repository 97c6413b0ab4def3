package httpapi

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"mime"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pantau-noc/pantau/collector/internal/auth"
	"github.com/pantau-noc/pantau/collector/internal/inventory"
	"github.com/pantau-noc/pantau/collector/internal/statedb"
	"github.com/pantau-noc/pantau/internal/fleetproto"
)

// FleetOptions configure the fleet's admin API: enrolment (the public
// POST /api/v1/enroll and the admin's /api/v1/enrollments), per-agent
// config overrides and credential rotations (docs/api.md, "Fleet").
type FleetOptions struct {
	DB *statedb.DB
	// Auth is the daemon's credential cache, reloaded when an enrolment
	// made a token (may be nil).
	Auth *statedb.Authenticator
	// Guard counts failed enrolments per source, with the Gate's
	// failed authentications (nil: a private one, 20 a minute).
	Guard *auth.Guard
	// Inventory returns the inventory in force (nil or none: sites are
	// not checked).
	Inventory func() *inventory.Inventory
	// Pin returns the SPKI pin of the collector's certificate, put into
	// codes made through the API (nil func or nil pin: plain HTTP, no
	// pin; an error refuses the code: a pinned collector must not hand
	// out unpinned codes). CertPin reads it from tls.cert_file.
	Pin func() ([]byte, error)
	// CollectorURL returns the URL boxes reach the collector at, for the
	// command shown with a new code ("" unknown: the request's host).
	CollectorURL func() string
	// OpAMPURL is what an enrolment answers as opamp_url ("":
	// fleetproto.OpAMPPath, a path on the collector's URL).
	OpAMPURL string
	Now      func() time.Time // nil: time.Now
	Logger   *slog.Logger
}

// Fleet serves the fleet's admin API.
type Fleet struct {
	o FleetOptions
	// enrolments counts POST /api/v1/enroll by result.
	enrolments *prometheus.CounterVec
}

// Enrolment results, the values of pantau_collector_enrolments_total's
// result label.
var enrolResults = []string{"enrolled", "refused", "conflict", "bad_request", "too_many", "error"}

// Collectors are the fleet API's metrics.
func (f *Fleet) Collectors() []prometheus.Collector { return []prometheus.Collector{f.enrolments} }

// NewFleet builds the fleet's admin API.
func NewFleet(o FleetOptions) *Fleet {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Guard == nil {
		o.Guard = auth.NewGuard(20, 4096)
	}
	if o.Inventory == nil {
		o.Inventory = func() *inventory.Inventory { return nil }
	}
	if o.OpAMPURL == "" {
		o.OpAMPURL = fleetproto.OpAMPPath
	}
	f := &Fleet{o: o, enrolments: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "pantau_collector_enrolments_total",
		Help: "Enrolment requests (POST /api/v1/enroll) by result: enrolled, refused (unknown, used or expired code: 401), conflict (agent name taken: 409), bad_request (400, 413, 415), too_many (429), error (500).",
	}, []string{"result"})}
	for _, r := range enrolResults {
		f.enrolments.WithLabelValues(r)
	}
	return f
}

// Register puts the fleet's API on mux.
func (f *Fleet) Register(mux *http.ServeMux) {
	mux.HandleFunc("POST "+fleetproto.EnrollPath, f.enroll)
	mux.HandleFunc("GET /api/v1/enrollments", f.listEnrolments)
	mux.HandleFunc("POST /api/v1/enrollments", f.createEnrolment)
	mux.HandleFunc("DELETE /api/v1/enrollments/{id}", f.revokeEnrolment)
	mux.HandleFunc("GET /api/v1/agents/{agent}/override", f.getOverride)
	mux.HandleFunc("PUT /api/v1/agents/{agent}/override", f.putOverride)
	mux.HandleFunc("DELETE /api/v1/agents/{agent}/override", f.deleteOverride)
	mux.HandleFunc("POST /api/v1/agents/{agent}/rotate", f.rotate)
}

// DefaultStateDir is the agent's state directory in the command shown
// with a new code (deploy/ installs it).
const DefaultStateDir = "/var/lib/pantau-agent"

// CertPin is the SPKI pin (fleetproto.SPKIPin) of the first certificate
// in a PEM file: the collector's own certificate in tls.cert_file.
// "" is no TLS: no pin.
func CertPin(certFile string) ([]byte, error) {
	if certFile == "" {
		return nil, nil
	}
	b, err := os.ReadFile(certFile)
	if err != nil {
		return nil, fmt.Errorf("read the collector's certificate: %w", err)
	}
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			return nil, fmt.Errorf("%s holds no PEM CERTIFICATE block", certFile)
		}
		if blk.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parse the certificate in %s: %w", certFile, err)
		}
		pin := fleetproto.SPKIPin(c)
		return pin[:], nil
	}
}

// EnrollCommand is the command to run on the box.
func EnrollCommand(collectorURL, code string) string {
	if collectorURL == "" {
		collectorURL = "https://COLLECTOR:9810"
	}
	return "pantau-agent enroll --collector " + collectorURL + " --code " + code + " --state-dir " + DefaultStateDir
}

// errEnrollRefused is the message of every 401 of an enrolment.
const errEnrollRefused = "enrolment code unknown, used or expired"

// enroll trades a code for the agent's token (public: the code is the
// credential). Every refusal (not a 429) counts towards the source's
// failure limit and is in the audit log.
func (f *Fleet) enroll(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	now := f.o.Now()
	src := auth.SourceOf(r)
	if wait := f.o.Guard.Blocked(src, now); wait > 0 {
		f.enrolments.WithLabelValues("too_many").Inc()
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
		writeJSON(w, http.StatusTooManyRequests, map[string]string{"status": "error", "errorType": "too_many_requests",
			"error": fmt.Sprintf("too many failed enrolments or authentications from %s within a minute: check the code, then retry", src)})
		return
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	entry := statedb.AuditEntry{ActorKind: "enrolment", Source: host, Action: r.Method + " " + r.URL.Path}
	fail := func(status int, msg, reason string, audit bool) {
		switch status {
		case http.StatusUnauthorized:
			f.enrolments.WithLabelValues("refused").Inc()
		case http.StatusConflict:
			f.enrolments.WithLabelValues("conflict").Inc()
		default:
			f.enrolments.WithLabelValues("bad_request").Inc()
		}
		if logIt, suppressed := f.o.Guard.Refused(src, true, now); logIt {
			f.o.Logger.Warn("enrolment refused", "source", src, "status", status, "reason", reason, "suppressed_since_last", suppressed)
		}
		if audit {
			e := entry
			e.At, e.Object, e.Summary = now, "enrolment/?", "refused ("+reason+")"
			if _, err := f.o.DB.AddAudit(context.WithoutCancel(r.Context()), e); err != nil {
				f.o.Logger.Error("a refused enrolment is not on record in the audit log", "err", err)
			}
		}
		writeError(w, status, msg)
	}
	if ct := r.Header.Get("Content-Type"); !isJSON(ct) {
		fail(http.StatusUnsupportedMediaType, fmt.Sprintf("Content-Type %q: send application/json", auth.ClipHeader(ct)), "wrong content type", true)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxEnrollBody+1))
	if err != nil {
		fail(http.StatusBadRequest, "reading the body failed: "+err.Error(), "body not read", false)
		return
	}
	if len(body) > MaxEnrollBody {
		fail(http.StatusRequestEntityTooLarge, fmt.Sprintf("body larger than %d bytes", MaxEnrollBody), "body too large", true)
		return
	}
	q, code, err := ParseEnrollRequest(body)
	if err != nil {
		fail(http.StatusBadRequest, err.Error(), "malformed request: "+err.Error(), true)
		return
	}
	entry.ActorID, entry.ActorName = code.ID, q.Hostname
	res, err := f.o.DB.RedeemEnrolment(r.Context(), code.ID, code.Secret,
		statedb.Redemption{Agent: q.Agent, Hostname: q.Hostname, Version: q.Version, Source: host}, entry, now)
	switch {
	case errors.Is(err, statedb.ErrEnrolmentInvalid):
		// the statedb wrote the audit row with the reason
		fail(http.StatusUnauthorized, errEnrollRefused, "unknown, used or expired code", false)
		return
	case errors.Is(err, statedb.ErrAgentTaken):
		fail(http.StatusConflict, fmt.Sprintf("agent name %q taken by another enrolled agent: choose another name, or ask the admin for a code made for this agent (enroll create --agent %s), which replaces it", q.Agent, q.Agent), "agent name taken", false)
		return
	case errors.Is(err, statedb.ErrAgentNameNeeded):
		fail(http.StatusBadRequest, `the code names no agent: send "agent" with the agent's name`, "no agent name", false)
		return
	case errors.Is(err, statedb.ErrBadAgentID):
		fail(http.StatusBadRequest, `"agent": not a valid name`, "bad agent name", false)
		return
	case err != nil:
		f.enrolments.WithLabelValues("error").Inc()
		internalError(w, f.o.Logger, "enrolment", err)
		return
	}
	f.enrolments.WithLabelValues("enrolled").Inc()
	f.reloadAuth(r.Context())
	f.o.Logger.Info("agent enrolled", "agent", res.TokenInfo.Agent, "site", res.Enrolment.Site, "enrolment", code.ID,
		"token_id", res.TokenInfo.ID, "source", src, "revoked_tokens", res.Revoked)
	writeJSON(w, http.StatusOK, fleetproto.EnrollResponse{Agent: res.TokenInfo.Agent, Site: res.Enrolment.Site,
		Token: res.Token, OpAMPURL: f.o.OpAMPURL})
}

func (f *Fleet) reloadAuth(ctx context.Context) {
	if f.o.Auth == nil {
		return
	}
	if err := f.o.Auth.Reload(context.WithoutCancel(ctx)); err != nil {
		f.o.Logger.Warn("reloading tokens after an enrolment failed; the watch retries", "err", err)
	}
}

// EnrolmentView is a code as the API shows it: never its secret.
type EnrolmentView struct {
	ID          string    `json:"id"`
	Site        string    `json:"site"`
	Agent       string    `json:"agent,omitempty"`
	Description string    `json:"description,omitempty"`
	CreatedBy   string    `json:"created_by"`
	Created     time.Time `json:"created"`
	Expires     time.Time `json:"expires"`
	State       string    `json:"state"` // active, used, expired or revoked
	Used        time.Time `json:"used,omitzero"`
	UsedAgent   string    `json:"used_agent,omitempty"`
	UsedFrom    string    `json:"used_from,omitempty"`
	TokenID     string    `json:"token_id,omitempty"`
	Revoked     time.Time `json:"revoked,omitzero"`
}

// EnrolmentViewOf is e as the API and the CLI show it.
func EnrolmentViewOf(e statedb.Enrolment, now time.Time) EnrolmentView {
	return EnrolmentView{ID: e.ID, Site: e.Site, Agent: e.Agent, Description: e.Description, CreatedBy: e.CreatedBy,
		Created: e.CreatedAt, Expires: e.ExpiresAt, State: e.State(now), Used: e.UsedAt, UsedAgent: e.UsedAgent,
		UsedFrom: e.UsedFrom, TokenID: e.TokenID, Revoked: e.RevokedAt}
}

func (f *Fleet) listEnrolments(w http.ResponseWriter, r *http.Request) {
	if !admin(w, r) {
		return
	}
	if err := checkParams(r.URL.Query()); err != nil {
		badParam(w, err)
		return
	}
	list, err := f.o.DB.ListEnrolments(r.Context())
	if err != nil {
		internalError(w, f.o.Logger, "list enrolment codes", err)
		return
	}
	now := f.o.Now()
	out := make([]EnrolmentView, 0, len(list))
	for _, e := range list {
		out = append(out, EnrolmentViewOf(e, now))
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "success", "data": out})
}

// KnownSite is the inventory's site check for EnrolmentRequest.Spec
// (nil without an inventory, or one without sites).
func KnownSite(inv *inventory.Inventory) func(string) bool {
	if inv == nil || len(inv.Sites) == 0 {
		return nil
	}
	return func(s string) bool { return inv.Site(s) != nil }
}

func (f *Fleet) createEnrolment(w http.ResponseWriter, r *http.Request) {
	if !admin(w, r) {
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	var q EnrolmentRequest
	if err := decodeJSON(r, &q); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	spec, err := q.Spec(KnownSite(f.o.Inventory()))
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if f.o.Pin != nil {
		// fail before a code is made that could not be shown
		if _, err := f.o.Pin(); err != nil {
			internalError(w, f.o.Logger, "read the collector's certificate for the code's pin", err)
			return
		}
	}
	now := f.o.Now()
	secret, e, err := f.o.DB.CreateEnrolment(r.Context(), spec, auth.Entry(r, "", ""), now)
	if err != nil {
		if errors.Is(err, statedb.ErrBadAgentID) || errors.Is(err, statedb.ErrBadValidity) {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		internalError(w, f.o.Logger, "create enrolment code", err)
		return
	}
	c := fleetproto.Code{ID: e.ID, Secret: secret}
	if f.o.Pin != nil {
		if c.Pin, err = f.o.Pin(); err != nil {
			internalError(w, f.o.Logger, "read the collector's certificate for the code's pin", err)
			return
		}
	}
	url := ""
	if f.o.CollectorURL != nil {
		url = f.o.CollectorURL()
	}
	if url == "" && r.Host != "" {
		scheme := "http"
		if r.TLS != nil || len(c.Pin) > 0 {
			scheme = "https"
		}
		url = scheme + "://" + r.Host
	}
	m := map[string]any{"code": c.String(), "command": EnrollCommand(url, c.String()), "data": EnrolmentViewOf(e, now),
		"note": "give the code to whoever sets up the box now: it is not shown again, works once and expires " + e.ExpiresAt.Format(time.RFC3339)}
	if len(c.Pin) == 0 {
		m["warning"] = "the collector serves plain HTTP: the code carries no certificate pin, so the box's first contact is not protected against interception"
	}
	m["status"] = "success"
	writeJSON(w, http.StatusCreated, m)
}

func (f *Fleet) revokeEnrolment(w http.ResponseWriter, r *http.Request) {
	if !admin(w, r) {
		return
	}
	id := r.PathValue("id")
	err := f.o.DB.RevokeEnrolment(r.Context(), id, auth.Entry(r, "", ""), f.o.Now())
	switch {
	case errors.Is(err, statedb.ErrEnrolmentNotFound):
		writeError(w, http.StatusNotFound, fmt.Sprintf("no enrolment code with id %q (GET /api/v1/enrollments lists them)", clipParam(id)))
		return
	case errors.Is(err, statedb.ErrEnrolmentUsed):
		writeError(w, http.StatusConflict, fmt.Sprintf("enrolment code %s is already used: revoke the agent's token instead (DELETE /api/v1/tokens/{id})", id))
		return
	case err != nil:
		internalError(w, f.o.Logger, "revoke enrolment code", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "success", "id": id, "state": statedb.EnrolmentRevoked})
}

// agentParam reads and checks the {agent} path value.
func agentParam(w http.ResponseWriter, r *http.Request) (string, bool) {
	a := r.PathValue("agent")
	if !statedb.ValidID(a) {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("agent %q is not valid: use 1-128 letters, digits, '.', '_' or '-'", clipParam(a)))
		return "", false
	}
	return a, true
}

// OverrideView is an override as GET shows it.
type OverrideView struct {
	Agent     string    `json:"agent"`
	YAML      string    `json:"yaml"`
	SHA256    string    `json:"sha256"`
	UpdatedBy string    `json:"updated_by"`
	UpdatedAt time.Time `json:"updated_at"`
}

func (f *Fleet) getOverride(w http.ResponseWriter, r *http.Request) {
	if !admin(w, r) {
		return
	}
	agent, ok := agentParam(w, r)
	if !ok {
		return
	}
	o, found, err := f.o.DB.FleetOverrideInfo(r.Context(), agent)
	if err != nil {
		internalError(w, f.o.Logger, "read the override", err)
		return
	}
	if !found {
		writeError(w, http.StatusNotFound, fmt.Sprintf("agent %s has no config override", agent))
		return
	}
	sum := sha256.Sum256([]byte(o.YAML))
	writeJSON(w, http.StatusOK, map[string]any{"status": "success", "data": OverrideView{Agent: agent, YAML: o.YAML,
		SHA256: hex.EncodeToString(sum[:]), UpdatedBy: o.UpdatedBy, UpdatedAt: o.UpdatedAt}})
}

// isYAMLType accepts the YAML media types (and none).
func isYAMLType(ct string) bool {
	if ct == "" {
		return true
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	switch mt {
	case "application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml", "text/plain":
		return true
	}
	return false
}

func (f *Fleet) putOverride(w http.ResponseWriter, r *http.Request) {
	if !admin(w, r) {
		return
	}
	agent, ok := agentParam(w, r)
	if !ok {
		return
	}
	if ct := r.Header.Get("Content-Type"); !isYAMLType(ct) {
		writeError(w, http.StatusUnsupportedMediaType, fmt.Sprintf("Content-Type %q: send the override as application/yaml", auth.ClipHeader(ct)))
		return
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, statedb.MaxOverrideBytes+1))
	if err != nil {
		writeError(w, http.StatusBadRequest, "reading the body failed: "+err.Error())
		return
	}
	if len(b) > statedb.MaxOverrideBytes {
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("override larger than %d bytes", statedb.MaxOverrideBytes))
		return
	}
	if err := ValidateOverride(b); err != nil {
		writeError(w, http.StatusBadRequest, "override of agent "+agent+": "+err.Error())
		return
	}
	p := auth.FromContext(r.Context())
	if err := f.o.DB.SetFleetOverride(r.Context(), agent, string(b), p.String()); err != nil {
		internalError(w, f.o.Logger, "store the override", err)
		return
	}
	sum := sha256.Sum256(b)
	warning := recordChange(r, f.o.DB, f.o.Logger, "agent/"+agent+"/override", OverrideSummary(b))
	done(w, http.StatusOK, map[string]any{"agent": agent, "sha256": hex.EncodeToString(sum[:]),
		"note": "the fleet server offers the agent its new config at its next contact"}, warning)
}

// OverrideSummary describes an override for the audit log: its size,
// hash and keys (not its text, which may hold credentials).
func OverrideSummary(b []byte) string {
	sum := sha256.Sum256(b)
	return fmt.Sprintf("config override set: %d bytes, sha256 %s", len(b), hex.EncodeToString(sum[:8]))
}

func (f *Fleet) deleteOverride(w http.ResponseWriter, r *http.Request) {
	if !admin(w, r) {
		return
	}
	agent, ok := agentParam(w, r)
	if !ok {
		return
	}
	_, found, err := f.o.DB.FleetOverride(r.Context(), agent)
	if err != nil {
		internalError(w, f.o.Logger, "read the override", err)
		return
	}
	if !found {
		writeError(w, http.StatusNotFound, fmt.Sprintf("agent %s has no config override", agent))
		return
	}
	p := auth.FromContext(r.Context())
	if err := f.o.DB.DeleteFleetOverride(r.Context(), agent, p.String()); err != nil {
		internalError(w, f.o.Logger, "delete the override", err)
		return
	}
	warning := recordChange(r, f.o.DB, f.o.Logger, "agent/"+agent+"/override", "config override cleared")
	done(w, http.StatusOK, map[string]any{"agent": agent}, warning)
}

// activeAgentToken reports whether agent has an active agent token.
func activeAgentToken(ctx context.Context, db *statedb.DB, agent string, now time.Time) (bool, error) {
	ts, err := db.ListTokens(ctx)
	if err != nil {
		return false, err
	}
	for _, t := range ts {
		if t.Role == statedb.RoleAgent && t.Agent == agent && t.RevokedAt.IsZero() && !t.Expired(now) {
			return true, nil
		}
	}
	return false, nil
}

func (f *Fleet) rotate(w http.ResponseWriter, r *http.Request) {
	if !admin(w, r) {
		return
	}
	agent, ok := agentParam(w, r)
	if !ok {
		return
	}
	if r.ContentLength > 0 {
		writeError(w, http.StatusBadRequest, "send no body: the agent is in the path")
		return
	}
	has, err := activeAgentToken(r.Context(), f.o.DB, agent, f.o.Now())
	if err != nil {
		internalError(w, f.o.Logger, "read the tokens", err)
		return
	}
	if !has {
		writeError(w, http.StatusNotFound, fmt.Sprintf("agent %s has no active token to rotate (GET /api/v1/agents lists the agents)", agent))
		return
	}
	p := auth.FromContext(r.Context())
	if err := f.o.DB.RequestRotation(r.Context(), agent, p.String()); err != nil {
		internalError(w, f.o.Logger, "request the rotation", err)
		return
	}
	warning := recordChange(r, f.o.DB, f.o.Logger, "agent/"+agent, "credential rotation requested")
	done(w, http.StatusAccepted, map[string]any{"agent": agent, "state": "pending",
		"note": "at the agent's next contact the collector sends it a new token, and revokes the old one once the agent uses the new one"}, warning)
}
