// Package auth is the collector's access control: who a request comes
// from (a Principal, from an API token, a user's password, or the
// anonymous role a lab may allow), what its role lets it do, and which
// OPDs it may see.
//
// The Gate stands in front of the whole HTTP mux. Every request except
// the public health answers (/healthz, /readyz) needs a credential: an
// "Authorization: Bearer <token>" header, or HTTP basic auth with the
// token as the password (what Grafana's Prometheus data source and
// Prometheus scrape configs send), or a user's name and password. The
// write API is passed through: it authenticates agent tokens itself, on
// its hot path. The Gate's Policy maps method and path to the role the
// endpoint needs; handlers read the Principal from the request context
// for OPD scoping (FromContext) and record changes (Record).
//
// Roles: agent tokens write and read nothing; viewer reads; operator also
// acknowledges, silences and keeps maintenance windows, reviews and
// follow-ups; admin also changes the inventory, tokens and users. A
// credential scoped to OPDs sees only their sites, links, services and
// series; endpoints that cannot be filtered by OPD (/metrics, the audit
// log, tokens, users, the inventory's replacement, profiling) need an
// unscoped credential.
package auth

import (
	"context"
	"regexp"
	"slices"
	"strings"

	"github.com/pantau-noc/pantau/collector/internal/statedb"
)

// Roles, from statedb.
const (
	RoleAgent    = statedb.RoleAgent
	RoleViewer   = statedb.RoleViewer
	RoleOperator = statedb.RoleOperator
	RoleAdmin    = statedb.RoleAdmin
)

// rank orders the reading roles; agent has none (it reads nothing).
func rank(role string) int {
	switch role {
	case RoleViewer:
		return 1
	case RoleOperator:
		return 2
	case RoleAdmin:
		return 3
	}
	return 0
}

// Principal is who a request comes from.
type Principal struct {
	Kind string   `json:"kind"` // "token", "user" or "anonymous"
	ID   string   `json:"id"`   // the token id or the user name
	Name string   `json:"name"` // the token's name (an agent token: its agent) or the user name
	Role string   `json:"role"`
	OPDs []string `json:"opds,omitempty"` // empty: every OPD
	// Sites are an agent token's sites (its first is the agent's site in
	// fleet management); empty: any.
	Sites []string `json:"sites,omitempty"`
}

// FromIdentity is the principal a statedb identity proves.
func FromIdentity(id statedb.Identity) *Principal {
	if id.User != "" {
		return &Principal{Kind: "user", ID: id.User, Name: id.User, Role: id.Role, OPDs: id.OPDs}
	}
	name := id.Name
	if id.Role == RoleAgent || name == "" {
		name = id.Agent
	}
	p := &Principal{Kind: "token", ID: id.TokenID, Name: name, Role: id.Role, OPDs: id.OPDs}
	if id.Role == RoleAgent {
		p.Sites = id.Sites
	}
	return p
}

// Can reports whether the principal's role includes role.
func (p *Principal) Can(role string) bool {
	if p == nil {
		return false
	}
	if role == RoleAgent {
		return p.Role == RoleAgent
	}
	return rank(p.Role) >= rank(role) && rank(role) > 0
}

// Scoped reports whether the principal sees only some OPDs.
func (p *Principal) Scoped() bool { return p != nil && len(p.OPDs) > 0 }

// Sees reports whether the principal may see what belongs to opd (an
// object without an OPD is visible to unscoped principals only).
func (p *Principal) Sees(opd string) bool {
	if p == nil {
		return false
	}
	if !p.Scoped() {
		return true
	}
	return opd != "" && slices.Contains(p.OPDs, opd)
}

// Covers reports whether every OPD of want is within the principal's
// scope; an empty want (everything) is covered only by an unscoped one.
func (p *Principal) Covers(want []string) bool {
	if !p.Scoped() {
		return p != nil
	}
	if len(want) == 0 {
		return false
	}
	for _, o := range want {
		if !slices.Contains(p.OPDs, o) {
			return false
		}
	}
	return true
}

// OPDRegexp is the regular expression (for a PromQL =~ matcher) that
// matches exactly the principal's OPDs.
func (p *Principal) OPDRegexp() string {
	q := make([]string, len(p.OPDs))
	for i, o := range p.OPDs {
		q[i] = regexp.QuoteMeta(o)
	}
	return strings.Join(q, "|")
}

// String names the principal for logs and the audit log (never a secret).
func (p *Principal) String() string {
	if p == nil {
		return "nobody"
	}
	return p.Kind + " " + p.Name + " (" + p.ID + ")"
}

type ctxKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, ctxKey{}, p)
}

// FromContext returns the request's principal; nil when the request did
// not pass the Gate (tests, the CLI).
func FromContext(ctx context.Context) *Principal {
	p, _ := ctx.Value(ctxKey{}).(*Principal)
	return p
}
