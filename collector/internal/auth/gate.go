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
		{Method: "read", Path: "/", Access: AnyCredential},
		{Path: "/metrics", Role: RoleViewer, Unscoped: true},
		{Path: "/debug/pprof/", Role: RoleAdmin, Unscoped: true},
		{Path: "/api/v1/tokens/", Role: RoleAdmin, Unscoped: true},
		{Path: "/api/v1/users/", Role: RoleAdmin, Unscoped: true},
		{Path: "/api/v1/audit/", Role: RoleAdmin, Unscoped: true},
		{Path: "/api/v1/notifiers/", Role: RoleAdmin, Unscoped: true},
		{Path: "/api/v1/outbox/", Role: RoleAdmin, Unscoped: true},
		{Method: "change", Path: "/api/v1/inventory/", Role: RoleAdmin, Unscoped: true},
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

// GateOptions configure a Gate.
type GateOptions struct {
	Verifier Verifier
	Policy   Policy // nil: DefaultPolicy
	// Anonymous is the role of a request without a credential: "" (none:
	// 401, the default) or viewer (for a lab). A wrong credential is
	// always refused.
	Anonymous string
	Guard     *Guard // failed authentications per source (429)
	Logger    *slog.Logger
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
	return &Gate{o: o, next: next}
}

func (g *Gate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
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
	switch {
	case rule.Access == AnyCredential:
	case !p.Can(rule.Role):
		g.denied(w, r, src, p, fmt.Sprintf("%s needs the %s role; %s is %s", r.URL.Path, rule.Role, p, article(p.Role)))
		return
	case rule.Unscoped && p.Scoped():
		g.denied(w, r, src, p, fmt.Sprintf("%s shows every OPD: it needs a credential without an OPD scope; %s sees only %s",
			r.URL.Path, p, strings.Join(p.OPDs, ", ")))
		return
	}
	g.next.ServeHTTP(w, r.WithContext(WithPrincipal(r.Context(), p)))
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
	default:
		status, msg = http.StatusServiceUnavailable, "cannot check the credential now: retry"
		g.o.Logger.Error("checking a credential failed", "path", r.URL.Path, "source", src, "err", err)
	}
	if status == http.StatusUnauthorized {
		// A request without a credential, or with a malformed one, is a
		// client not configured yet, not a guess that could succeed: it is
		// not counted towards the source's limit (it is logged).
		guess := !errors.Is(err, errNoCredential) && !errors.Is(err, ErrBadCredential)
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
