package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/statedb"
)

// Access is what an endpoint asks of its caller.
type Access int

const (
	// NeedRole needs a credential whose role includes Rule.Role.
	NeedRole Access = iota
	// Public needs nothing (/healthz, /readyz).
	Public
	// PassThrough lets the handler authenticate (the write API checks
	// agent tokens itself).
	PassThrough
	// AnyCredential needs a valid credential of any role, agents too
	// (/ping and /health, which InfluxDB clients probe before writing).
	AnyCredential
)

// Rule is one line of a Policy. Method "" matches any method, "read"
// GET and HEAD, "change" every other method. Path ending in "/" is a
// prefix; else it must match exactly.
type Rule struct {
	Method   string
	Path     string
	Access   Access
	Role     string
	Unscoped bool // an OPD-scoped credential is refused (403)
}

func (r Rule) matches(method, path string) bool {
	switch r.Method {
	case "":
	case "read":
		if method != http.MethodGet && method != http.MethodHead {
			return false
		}
	case "change":
		if method == http.MethodGet || method == http.MethodHead {
			return false
		}
	default:
		if method != r.Method {
			return false
		}
	}
	if strings.HasSuffix(r.Path, "/") && r.Path != "/" {
		return strings.HasPrefix(path, r.Path) || path == strings.TrimSuffix(r.Path, "/")
	}
	return path == r.Path
}

// Policy is an ordered list of rules; the first that matches decides.
// A request no rule matches needs a viewer.
type Policy []Rule

// Lookup returns the rule for a request.
func (p Policy) Lookup(method, path string) Rule {
	for _, r := range p {
		if r.matches(method, path) {
			return r
		}
	}
	return Rule{Access: NeedRole, Role: RoleViewer}
}

// queryPaths are the Prometheus query API's endpoints: reads, whatever
// the method (Grafana POSTs its queries as forms). An OPD-scoped
// credential may use them: the handlers read only its OPDs' series.
var queryPaths = []string{
	"/api/v1/query", "/api/v1/query_range", "/api/v1/series", "/api/v1/labels", "/api/v1/label/",
	"/api/v1/metadata", "/api/v1/status/", "/api/v1/query_exemplars", "/api/v1/format_query",
	"/api/v1/parse_query", "/api/v1/rules", "/api/v1/targets/metadata",
	// Prometheus's federation and remote read (remote read POSTs).
	"/federate", "/api/v1/read",
}

// DefaultPolicy is the collector's.
var DefaultPolicy = func() Policy {
	p := Policy{
		{Path: "/healthz", Access: Public},
		{Path: "/readyz", Access: Public},
		{Method: http.MethodPost, Path: "/api/v2/write", Access: PassThrough},
		{Method: http.MethodPost, Path: "/write", Access: PassThrough},
		{Path: "/ping", Access: AnyCredential},
		// InfluxDB 1.x clients' CREATE DATABASE at start (ingest's /query)
		{Path: "/query", Access: AnyCredential},
		{Method: "read", Path: "/health", Access: AnyCredential},
		// The root sends browsers to the web UI and tells other clients
		// what the collector serves (webui.Browser).
		{Method: "read", Path: "/", Access: Public},
		// The web UI authenticates its session itself (a login page, not
		// a 401) and checks this policy on every API call it makes
		// (collector/internal/webui).
		{Path: "/ui/", Access: PassThrough},
		// Fleet management (collector/internal/fleet): OpAMP and release
		// downloads take agent tokens only.
		{Method: http.MethodPost, Path: "/v1/opamp", Role: RoleAgent},
		{Method: "read", Path: "/api/v1/fleet/releases/", Role: RoleAgent},
		{Path: "/metrics", Role: RoleViewer, Unscoped: true},
		{Path: "/debug/pprof/", Role: RoleAdmin, Unscoped: true},
		{Path: "/api/v1/tokens/", Role: RoleAdmin, Unscoped: true},
		{Path: "/api/v1/users/", Role: RoleAdmin, Unscoped: true},
		{Path: "/api/v1/audit/", Role: RoleAdmin, Unscoped: true},
		{Path: "/api/v1/notifiers/", Role: RoleAdmin, Unscoped: true},
		{Path: "/api/v1/outbox/", Role: RoleAdmin, Unscoped: true},
		{Method: "change", Path: "/api/v1/inventory/", Role: RoleAdmin, Unscoped: true},
		// Fleet (issue 22): a box trades its enrolment code for its token
		// (the code is the credential; the handler counts failures
		// towards the Guard's limit); codes, per-agent overrides and
		// rotations are an unscoped admin's. The agent list stays a read
		// for viewers (scoped by OPD in the handler).
		{Method: http.MethodPost, Path: "/api/v1/enroll", Access: PassThrough},
		{Path: "/api/v1/enrollments/", Role: RoleAdmin, Unscoped: true},
		{Method: "read", Path: "/api/v1/agents", Role: RoleViewer},
		{Path: "/api/v1/agents/", Role: RoleAdmin, Unscoped: true},
	}
	for _, q := range queryPaths {
		p = append(p, Rule{Path: q, Role: RoleViewer})
	}
	return append(p,
		Rule{Method: "change", Path: "/api/v1/", Role: RoleOperator},
		Rule{Path: "/", Role: RoleViewer},
	)
}()

// Verifier checks credentials (statedb.Authenticator).
type Verifier interface {
	Authenticate(ctx context.Context, token string) (statedb.Identity, error)
	AuthenticateUser(ctx context.Context, name, password string) (statedb.Identity, error)
}

// SessionVerifier is a Verifier that also knows the web UI's sessions
// (statedb.Authenticator): a request without an Authorization header but
// with the session cookie is that session's user.
type SessionVerifier interface {
	Session(ctx context.Context, secret string) (statedb.Identity, error)
}

// SessionCookie is the name of the web UI's session cookie.
const SessionCookie = "pantau_session"

// SessionSecret returns the request's session cookie ("" if none).
func SessionSecret(r *http.Request) string {
	c, err := r.Cookie(SessionCookie)
	if err != nil {
		return ""
	}
	return c.Value
}

// GateOptions configure a Gate.
type GateOptions struct {
	Verifier Verifier
	Policy   Policy // nil: DefaultPolicy
	// Anonymous is the role of a request without a credential: "" (none:
	// 401, the default) or viewer (for a lab). A wrong credential is
	// always refused.
	Anonymous string
	Guard     *Guard // failed authentications per source (429)
	// CrossOrigin refuses state-changing requests a browser sends from
	// another origin (CSRF); nil: a default http.CrossOriginProtection.
	// Clients that are not browsers send neither Sec-Fetch-Site nor
	// Origin and pass.
	CrossOrigin *http.CrossOriginProtection
	Logger      *slog.Logger
	// Refused counts refusals by HTTP status; may be nil.
	Refused func(status int)
}

// Gate authenticates and authorises every request before next.
type Gate struct {
	o    GateOptions
	next http.Handler
}

// NewGate wraps next.
func NewGate(o GateOptions, next http.Handler) *Gate {
	if o.Policy == nil {
		o.Policy = DefaultPolicy
	}
	if o.Guard == nil {
		o.Guard = NewGuard(20, 4096)
	}
	if o.CrossOrigin == nil {
		o.CrossOrigin = http.NewCrossOriginProtection()
	}
	return &Gate{o: o, next: next}
}

// Guard returns the gate's limit on failed authentications per source,
// which the web UI's login form shares.
func (g *Gate) Guard() *Guard { return g.o.Guard }

// ErrCrossOrigin is a state-changing request from another origin.
var ErrCrossOrigin = errors.New("cross-origin request refused")

// CheckOrigin refuses a state-changing browser request from another
// origin (http.CrossOriginProtection).
func (g *Gate) CheckOrigin(r *http.Request) error {
	if err := g.o.CrossOrigin.Check(r); err != nil {
		return fmt.Errorf("%w: %s %s came from another site (Origin %q, Sec-Fetch-Site %q); use the page on this collector",
			ErrCrossOrigin, r.Method, r.URL.Path, ClipHeader(r.Header.Get("Origin")), ClipHeader(r.Header.Get("Sec-Fetch-Site")))
	}
	return nil
}

// ClipHeader shortens a header value quoted back in an error.
func ClipHeader(v string) string {
	if len(v) > 100 {
		v = v[:100] + "…"
	}
	return strings.ToValidUTF8(v, "?")
}

func (g *Gate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := g.CheckOrigin(r); err != nil {
		g.o.Logger.Warn("cross-origin request refused", "path", r.URL.Path, "method", r.Method, "source", SourceOf(r))
		g.refuse(w, http.StatusForbidden, "forbidden", err.Error())
		return
	}
	rule := g.o.Policy.Lookup(r.Method, r.URL.Path)
	switch rule.Access {
	case Public, PassThrough:
		g.next.ServeHTTP(w, r)
		return
	}
	src := SourceOf(r)
	if wait := g.o.Guard.Blocked(src, time.Now()); wait > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
		g.refuse(w, http.StatusTooManyRequests, "too_many_requests",
			fmt.Sprintf("too many failed authentications from %s within a minute: check the credential, then retry", src))
		return
	}
	p, err := g.authenticate(r)
	if err != nil {
		g.failed(w, r, src, err)
		return
	}
	if msg := g.o.Policy.Authorize(p, r.Method, r.URL.Path); msg != "" {
		g.denied(w, r, src, p, msg)
		return
	}
	g.next.ServeHTTP(w, r.WithContext(WithPrincipal(r.Context(), p)))
}

// Authorize says why the policy does not let p make the request ("" if
// it does): the Gate's decision, which the web UI applies to the API
// calls it makes for its user.
func (p Policy) Authorize(pr *Principal, method, path string) string {
	rule := p.Lookup(method, path)
	switch {
	case rule.Access != NeedRole:
		return ""
	case !pr.Can(rule.Role):
		return fmt.Sprintf("%s needs the %s role; %s is %s", path, rule.Role, pr, article(pr.Role))
	case rule.Unscoped && pr.Scoped():
		return fmt.Sprintf("%s shows every OPD: it needs a credential without an OPD scope; %s sees only %s",
			path, pr, strings.Join(pr.OPDs, ", "))
	}
	return ""
}

func article(role string) string {
	switch role {
	case RoleAgent:
		return "an agent token (agent tokens only write)"
	case RoleAdmin, RoleOperator:
		return "an " + role
	}
	return "a " + role
}

// errNoCredential is a request without one.
var errNoCredential = errors.New("no credential: send \"Authorization: Bearer <token>\" or basic auth with the token as the password (create one with: pantau-collector token create --name NAME --role viewer)")

func (g *Gate) authenticate(r *http.Request) (*Principal, error) {
	c, err := ParseCredential(r.Header)
	if err != nil {
		return nil, err
	}
	if !c.Present() {
		if sec := SessionSecret(r); sec != "" {
			if sv, ok := g.o.Verifier.(SessionVerifier); ok {
				id, err := sv.Session(r.Context(), sec)
				if err != nil {
					return nil, err
				}
				return FromIdentity(id), nil
			}
		}
		if g.o.Anonymous != "" {
			return &Principal{Kind: "anonymous", ID: "anonymous", Name: "anonymous", Role: g.o.Anonymous}, nil
		}
		return nil, errNoCredential
	}
	var id statedb.Identity
	if c.Token != "" {
		id, err = g.o.Verifier.Authenticate(r.Context(), c.Token)
	} else {
		id, err = g.o.Verifier.AuthenticateUser(r.Context(), c.User, c.Password)
	}
	if err != nil {
		return nil, err
	}
	return FromIdentity(id), nil
}

// failed answers a failed authentication: 401 (503 when the store could
// not be read), logged at most once a minute per source, and counted
// towards the source's limit.
func (g *Gate) failed(w http.ResponseWriter, r *http.Request, src string, err error) {
	status, msg := http.StatusUnauthorized, ""
	switch {
	case errors.Is(err, errNoCredential), errors.Is(err, ErrBadCredential):
		msg = err.Error()
	case errors.Is(err, statedb.ErrBadToken), errors.Is(err, statedb.ErrUnknownToken):
		msg = "unknown token"
	case errors.Is(err, statedb.ErrRevokedToken):
		msg = "token has been revoked"
	case errors.Is(err, statedb.ErrExpiredToken):
		msg = "token has expired"
	case errors.Is(err, statedb.ErrBadPassword):
		msg = "wrong user name or password"
	case errors.Is(err, statedb.ErrUserDisabled):
		msg = "user is disabled"
	case errors.Is(err, statedb.ErrUserExpired):
		msg = "user has expired"
	case errors.Is(err, statedb.ErrUserLocked):
		msg = "user is locked after repeated wrong passwords: wait, or ask an admin (pantau-collector user unlock)"
	case errors.Is(err, statedb.ErrNoSession):
		msg = "session has ended (logged out or expired): log in again at /ui/masuk"
	default:
		status, msg = http.StatusServiceUnavailable, "cannot check the credential now: retry"
		g.o.Logger.Error("checking a credential failed", "path", r.URL.Path, "source", src, "err", err)
	}
	if status == http.StatusUnauthorized {
		// A request without a credential, or with a malformed one, is a
		// client not configured yet, not a guess that could succeed: it is
		// not counted towards the source's limit (it is logged).
		guess := !errors.Is(err, errNoCredential) && !errors.Is(err, ErrBadCredential) && !errors.Is(err, statedb.ErrNoSession)
		if logIt, suppressed := g.o.Guard.Refused(src, guess, time.Now()); logIt {
			c, _ := ParseCredential(r.Header)
			g.o.Logger.Warn("authentication failed", "path", r.URL.Path, "source", src, "token_id", TokenID(c.Token),
				"user", c.User, "reason", msg, "suppressed_since_last", suppressed)
		}
		w.Header().Set("WWW-Authenticate", `Basic realm="pantau", charset="UTF-8"`)
	}
	g.refuse(w, status, "unauthorized", msg)
}

// denied answers 403: a valid credential whose role or scope does not
// reach the endpoint. Logged like failures (rate-limited), not counted.
func (g *Gate) denied(w http.ResponseWriter, r *http.Request, src string, p *Principal, msg string) {
	if logIt, suppressed := g.o.Guard.Refused(src, false, time.Now()); logIt {
		g.o.Logger.Warn("request forbidden", "path", r.URL.Path, "method", r.Method, "source", src, "principal", p.String(),
			"suppressed_since_last", suppressed)
	}
	g.refuse(w, http.StatusForbidden, "forbidden", msg)
}

// refuse writes a Prometheus-shaped JSON error, which Grafana shows.
func (g *Gate) refuse(w http.ResponseWriter, status int, typ, msg string) {
	if g.o.Refused != nil {
		g.o.Refused(status)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"status": "error", "errorType": typ, "error": msg})
}
