package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/auth"
	"github.com/pantau-noc/pantau/collector/internal/inventory"
	"github.com/pantau-noc/pantau/collector/internal/statedb"
)

// AdminOptions configure the admin API: tokens, users, the audit log and
// the inventory.
type AdminOptions struct {
	DB *statedb.DB
	// Auth is the daemon's credential cache: reloaded after a token
	// changes, so that a revoked token stops working at once. May be nil.
	Auth *statedb.Authenticator
	// InventoryFile returns the config's inventory: key (it may change
	// when the config is reloaded); nil or "" refuses PUT (409).
	InventoryFile func() string
	// Inventory returns the inventory in force; SetInventory puts a new
	// one in force (the daemon's SLA builder). Either may be nil.
	Inventory    func() *inventory.Inventory
	SetInventory func(*inventory.Inventory)
	// MaxInventoryBytes bounds a PUT body (auth.max_inventory_bytes).
	MaxInventoryBytes int64
	Logger            *slog.Logger
}

// Admin serves /api/v1/tokens, /api/v1/users, /api/v1/audit and
// /api/v1/inventory.
type Admin struct {
	o   AdminOptions
	inv invState
	// maxInventory is o.MaxInventoryBytes, changed by
	// SetMaxInventoryBytes.
	maxInventory atomic.Int64
}

// SetMaxInventoryBytes changes auth.max_inventory_bytes for the PUTs that
// start from now on (a reload of collector.yml); n <= 0 is ignored.
func (a *Admin) SetMaxInventoryBytes(n int64) {
	if n > 0 {
		a.maxInventory.Store(n)
	}
}

// NewAdmin builds the admin API.
func NewAdmin(o AdminOptions) *Admin {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.MaxInventoryBytes <= 0 {
		o.MaxInventoryBytes = DefaultMaxInventoryBytes
	}
	a := &Admin{o: o}
	a.maxInventory.Store(o.MaxInventoryBytes)
	a.inv.init()
	return a
}

// Register puts the admin API on mux.
func (a *Admin) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/tokens", a.listTokens)
	mux.HandleFunc("POST /api/v1/tokens", a.createToken)
	mux.HandleFunc("DELETE /api/v1/tokens/{id}", a.revokeToken)
	mux.HandleFunc("GET /api/v1/users", a.listUsers)
	mux.HandleFunc("POST /api/v1/users", a.addUser)
	mux.HandleFunc("DELETE /api/v1/users/{name}", a.disableUser)
	mux.HandleFunc("GET /api/v1/audit", a.audit)
	mux.HandleFunc("GET /api/v1/inventory", a.getInventory)
	mux.HandleFunc("PUT /api/v1/inventory", a.putInventory)
}

// admin reports whether the request comes from an unscoped admin, and
// answers 403 when not. The Gate checks this first; the handlers check
// again, so that a route outside the Gate's policy cannot open them.
func admin(w http.ResponseWriter, r *http.Request) bool {
	p := auth.FromContext(r.Context())
	switch {
	case p == nil:
		writeError(w, http.StatusForbidden, "no credential reached this handler")
		return false
	case !p.Can(auth.RoleAdmin):
		writeError(w, http.StatusForbidden, fmt.Sprintf("%s needs the admin role; %s is %s", r.URL.Path, p, p.Role))
		return false
	case p.Scoped():
		writeError(w, http.StatusForbidden, fmt.Sprintf("%s needs a credential without an OPD scope; %s sees only %s",
			r.URL.Path, p, strings.Join(p.OPDs, ", ")))
		return false
	}
	return true
}

// record writes the audit row of a change that has been made. A failure
// is logged and returned as a warning for the answer: the change stands.
func (a *Admin) record(r *http.Request, object, summary string) string {
	return recordChange(r, a.o.DB, a.o.Logger, object, summary)
}

// recordChange is Admin.record on db, logging to log.
func recordChange(r *http.Request, db *statedb.DB, log *slog.Logger, object, summary string) string {
	if err := auth.Record(context.WithoutCancel(r.Context()), db, r, object, summary); err != nil {
		log.Error("a change made through the API is not on record in the audit log", "object", object, "err", err)
		return "the change is made but not on record in the audit log: " + err.Error()
	}
	return ""
}

// done answers a change that has been made: m with "status": "success",
// and the warning when its audit row could not be written.
func done(w http.ResponseWriter, status int, m map[string]any, warning string) {
	m["status"] = "success"
	if warning != "" {
		m["warning"] = warning
	}
	writeJSON(w, status, m)
}

// TokenView is a token as the API shows it: never its secret or hash.
type TokenView struct {
	ID          string    `json:"id"`
	Role        string    `json:"role"`
	Name        string    `json:"name,omitempty"`
	OPDs        []string  `json:"opds,omitempty"`
	Agent       string    `json:"agent,omitempty"`
	Sites       []string  `json:"sites,omitempty"`
	Description string    `json:"description"`
	Created     time.Time `json:"created"`
	Expires     time.Time `json:"expires,omitzero"`
	Revoked     time.Time `json:"revoked,omitzero"`
	State       string    `json:"state"` // active, expired or revoked
}

func tokenView(t statedb.Token, now time.Time) TokenView {
	v := TokenView{ID: t.ID, Role: t.Role, Name: t.Name, OPDs: t.OPDs, Agent: t.Agent, Sites: t.Sites,
		Description: t.Description, Created: t.CreatedAt, Expires: t.ExpiresAt, Revoked: t.RevokedAt, State: "active"}
	switch {
	case !t.RevokedAt.IsZero():
		v.State = "revoked"
	case t.Expired(now):
		v.State = "expired"
	}
	return v
}

func (a *Admin) listTokens(w http.ResponseWriter, r *http.Request) {
	if !admin(w, r) {
		return
	}
	list, err := a.o.DB.ListTokens(r.Context())
	if err != nil {
		a.internal(w, "list tokens", err)
		return
	}
	now := time.Now()
	out := make([]TokenView, 0, len(list))
	for _, t := range list {
		out = append(out, tokenView(t, now))
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "success", "data": out})
}

// TokenRequest is the body of POST /api/v1/tokens: an API token (name,
// role, opds, expires) or an agent token (agent, sites).
type TokenRequest struct {
	Name        string   `json:"name"`
	Role        string   `json:"role"`
	OPDs        []string `json:"opds"`
	Expires     string   `json:"expires"`
	Description string   `json:"description"`
	Agent       string   `json:"agent"`
	Sites       []string `json:"sites"`
	expiresAt   time.Time
}

// maxDescription bounds a token's description.
const maxDescription = 1024

// parseTokenRequest reads and checks a POST /api/v1/tokens body.
func parseTokenRequest(r *http.Request, now time.Time) (TokenRequest, error) {
	var q TokenRequest
	if err := decodeJSON(r, &q); err != nil {
		return q, err
	}
	switch {
	case q.Agent != "" && q.Name != "", q.Agent == "" && q.Name == "":
		return q, errors.New(`give exactly one of "agent" (an agent token) or "name" with "role" (an API token)`)
	case q.Agent != "" && (q.Role != "" && q.Role != statedb.RoleAgent || len(q.OPDs) > 0 || q.Expires != ""):
		return q, errors.New(`"role", "opds" and "expires" are for API tokens ("name"); an agent token has "sites"`)
	case q.Name != "" && len(q.Sites) > 0:
		return q, errors.New(`"sites" is for agent tokens ("agent"); an API token is scoped with "opds"`)
	case len(q.Description) > maxDescription:
		return q, fmt.Errorf(`"description": longer than %d bytes`, maxDescription)
	}
	if q.Agent != "" {
		if err := checkIDs("agent", []string{q.Agent}); err != nil {
			return q, err
		}
		return q, checkIDs("sites", q.Sites)
	}
	if err := checkIDs("name", []string{q.Name}); err != nil {
		return q, err
	}
	if err := checkRole(q.Role, q.OPDs); err != nil {
		return q, err
	}
	if q.Expires != "" {
		t, err := ParseExpiry(q.Expires, now)
		if err != nil {
			return q, fmt.Errorf(`"expires": %w`, err)
		}
		q.expiresAt = t
	}
	return q, nil
}

func checkIDs(field string, ids []string) error {
	if len(ids) > 256 {
		return fmt.Errorf("%q: more than 256 entries", field)
	}
	for _, id := range ids {
		if !statedb.ValidID(id) {
			return fmt.Errorf("%q: %q is not valid: use 1-128 letters, digits, '.', '_' or '-'", field, clipParam(id))
		}
	}
	return nil
}

func checkRole(role string, opds []string) error {
	if !statedb.ValidRole(role) {
		return fmt.Errorf(`"role": %q: use viewer, operator or admin`, clipParam(role))
	}
	return checkIDs("opds", opds)
}

func (a *Admin) createToken(w http.ResponseWriter, r *http.Request) {
	if !admin(w, r) {
		return
	}
	q, err := parseTokenRequest(r, time.Now())
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	var (
		tok string
		t   statedb.Token
	)
	if q.Agent != "" {
		tok, t, err = a.o.DB.CreateToken(r.Context(), q.Agent, q.Sites, q.Description)
	} else {
		tok, t, err = a.o.DB.CreateAPIToken(r.Context(), q.Name, q.Role, q.OPDs, q.expiresAt, q.Description)
	}
	if err != nil {
		if errors.Is(err, statedb.ErrBadAgentID) || errors.Is(err, statedb.ErrBadRole) {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		a.internal(w, "create token", err)
		return
	}
	a.reloadAuth(r.Context())
	warning := a.record(r, "token/"+t.ID, TokenSummary(t))
	done(w, http.StatusCreated, map[string]any{"token": tok, "data": tokenView(t, time.Now()),
		"note": "store the token now: it is not shown again"}, warning)
}

func (a *Admin) revokeToken(w http.ResponseWriter, r *http.Request) {
	if !admin(w, r) {
		return
	}
	id := r.PathValue("id")
	if err := a.o.DB.RevokeToken(r.Context(), id); err != nil {
		if errors.Is(err, statedb.ErrTokenNotFound) {
			writeError(w, http.StatusNotFound, fmt.Sprintf("no token with id %q (GET /api/v1/tokens lists them)", clipParam(id)))
			return
		}
		a.internal(w, "revoke token", err)
		return
	}
	a.reloadAuth(r.Context())
	warning := a.record(r, "token/"+id, "revoked")
	done(w, http.StatusOK, map[string]any{"id": id, "state": "revoked"}, warning)
}

// reloadAuth makes the daemon's credential cache see a change at once.
// Should it fail, the cache's watch picks the change up within a second.
func (a *Admin) reloadAuth(ctx context.Context) {
	if a.o.Auth == nil {
		return
	}
	if err := a.o.Auth.Reload(context.WithoutCancel(ctx)); err != nil {
		a.o.Logger.Warn("reloading tokens after a change failed; the watch retries", "err", err)
	}
}

// TokenSummary describes a token for the audit log (never its secret).
func TokenSummary(t statedb.Token) string {
	if t.Role == statedb.RoleAgent {
		s := "agent token for " + t.Agent
		if len(t.Sites) > 0 {
			s += ", sites " + strings.Join(t.Sites, ",")
		}
		return s
	}
	s := fmt.Sprintf("%s token %s, %s", t.Role, t.Name, ScopeText(t.OPDs))
	if !t.ExpiresAt.IsZero() {
		s += ", expires " + t.ExpiresAt.Format(time.RFC3339)
	}
	return s
}

// ScopeText names an OPD scope.
func ScopeText(opds []string) string {
	if len(opds) == 0 {
		return "every OPD"
	}
	return "OPD " + strings.Join(opds, ", ")
}

// UserView is a user as the API shows it: never the password hash.
type UserView struct {
	Name     string    `json:"name"`
	Role     string    `json:"role"`
	OPDs     []string  `json:"opds,omitempty"`
	Created  time.Time `json:"created"`
	Expires  time.Time `json:"expires,omitzero"`
	Disabled time.Time `json:"disabled,omitzero"`
	State    string    `json:"state"` // active, expired or disabled
}

// UserViewOf is u as the API and the CLI show it.
func UserViewOf(u statedb.User, now time.Time) UserView {
	v := UserView{Name: u.Name, Role: u.Role, OPDs: u.OPDs, Created: u.CreatedAt, Expires: u.ExpiresAt, Disabled: u.DisabledAt, State: "active"}
	switch {
	case !u.DisabledAt.IsZero():
		v.State = "disabled"
	case u.Expired(now):
		v.State = "expired"
	}
	return v
}

func (a *Admin) listUsers(w http.ResponseWriter, r *http.Request) {
	if !admin(w, r) {
		return
	}
	list, err := a.o.DB.ListUsers(r.Context())
	if err != nil {
		a.internal(w, "list users", err)
		return
	}
	now := time.Now()
	out := make([]UserView, 0, len(list))
	for _, u := range list {
		out = append(out, UserViewOf(u, now))
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "success", "data": out})
}

// UserRequest is the body of POST /api/v1/users.
type UserRequest struct {
	Name      string   `json:"name"`
	Role      string   `json:"role"`
	OPDs      []string `json:"opds"`
	Expires   string   `json:"expires"`
	Password  string   `json:"password"`
	expiresAt time.Time
}

// parseUserRequest reads and checks a POST /api/v1/users body. Its
// errors never contain the password.
func parseUserRequest(r *http.Request, now time.Time) (UserRequest, error) {
	var q UserRequest
	if err := decodeJSON(r, &q); err != nil {
		return q, err
	}
	if err := checkIDs("name", []string{q.Name}); err != nil {
		return q, err
	}
	if err := checkRole(q.Role, q.OPDs); err != nil {
		return q, err
	}
	if n := len(q.Password); n < statedb.MinPasswordLen || n > 1024 {
		return q, fmt.Errorf(`"password": use %d to 1024 characters (got %d)`, statedb.MinPasswordLen, n)
	}
	if q.Expires != "" {
		t, err := ParseExpiry(q.Expires, now)
		if err != nil {
			return q, fmt.Errorf(`"expires": %w`, err)
		}
		q.expiresAt = t
	}
	return q, nil
}

func (a *Admin) addUser(w http.ResponseWriter, r *http.Request) {
	if !admin(w, r) {
		return
	}
	q, err := parseUserRequest(r, time.Now())
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	u, err := a.o.DB.AddUser(r.Context(), statedb.User{Name: q.Name, Role: q.Role, OPDs: q.OPDs, ExpiresAt: q.expiresAt}, q.Password)
	switch {
	case errors.Is(err, statedb.ErrUserExists):
		writeError(w, http.StatusConflict, fmt.Sprintf("user %s exists: choose another name, or disable it first (a disabled name stays taken)", q.Name))
		return
	case errors.Is(err, statedb.ErrBadAgentID), errors.Is(err, statedb.ErrBadRole), errors.Is(err, statedb.ErrWeakPassword):
		writeError(w, http.StatusBadRequest, err.Error())
		return
	case err != nil:
		a.internal(w, "add user", err)
		return
	}
	warning := a.record(r, "user/"+u.Name, UserSummary(u))
	done(w, http.StatusCreated, map[string]any{"data": UserViewOf(u, time.Now())}, warning)
}

// UserSummary describes a user for the audit log (never the password).
func UserSummary(u statedb.User) string {
	s := fmt.Sprintf("%s user %s, %s", u.Role, u.Name, ScopeText(u.OPDs))
	if !u.ExpiresAt.IsZero() {
		s += ", expires " + u.ExpiresAt.Format(time.RFC3339)
	}
	return s
}

func (a *Admin) disableUser(w http.ResponseWriter, r *http.Request) {
	if !admin(w, r) {
		return
	}
	name := r.PathValue("name")
	if err := a.o.DB.DisableUser(r.Context(), name); err != nil {
		if errors.Is(err, statedb.ErrNoSuchUser) {
			writeError(w, http.StatusNotFound, fmt.Sprintf("no user %q (GET /api/v1/users lists them)", clipParam(name)))
			return
		}
		a.internal(w, "disable user", err)
		return
	}
	warning := a.record(r, "user/"+name, "disabled")
	done(w, http.StatusOK, map[string]any{"name": name, "state": "disabled"}, warning)
}

func (a *Admin) audit(w http.ResponseWriter, r *http.Request) {
	if !admin(w, r) {
		return
	}
	f, err := ParseAuditQuery(r.URL.Query())
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	list, err := a.o.DB.Audit(r.Context(), f)
	if err != nil {
		a.internal(w, "read the audit log", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "success", "data": list})
}

// internal answers 500 for a failure of the collector's own stores,
// logged with its cause.
func (a *Admin) internal(w http.ResponseWriter, what string, err error) {
	internalError(w, a.o.Logger, what, err)
}

// internalError is Admin.internal, logging to log.
func internalError(w http.ResponseWriter, log *slog.Logger, what string, err error) {
	log.Error(what+" failed", "err", err)
	writeError(w, http.StatusInternalServerError, what+" failed: "+err.Error())
}
