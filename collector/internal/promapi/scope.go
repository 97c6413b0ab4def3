package promapi

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/prometheus-community/prom-label-proxy/injectproxy"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/util/annotations"
)

// OPDLabel is the label that scoping restricts.
const OPDLabel = "opd"

// matchNothing is a regexp no label value matches, not even the empty
// one (a series without the label): the scope of a credential with no OPD.
const matchNothing = `[^\x00-\x{10FFFF}]`

// Layers of scoping; tests turn one off to show the other holds alone.
const (
	layerEnforcer = 1 << iota // rewrite the request's selectors (injectproxy)
	layerStorage              // add the matcher to every storage call
	layersAll     = layerEnforcer | layerStorage
)

// scope is what one scoped request may read: the series whose opd label
// matches one of its OPDs.
type scope struct {
	matcher  *labels.Matcher // opd=~"<a>|<b>"
	enforcer *injectproxy.PromQLEnforcer
	layers   int
}

// newScope builds the scope of a credential for opds. Empty names are
// dropped (an empty value would match series without an opd label); no
// OPD at all matches nothing.
func newScope(opds []string, layers int) (*scope, error) {
	var quoted []string
	for _, o := range opds {
		if o != "" {
			quoted = append(quoted, regexp.QuoteMeta(o))
		}
	}
	slices.Sort(quoted)
	quoted = slices.Compact(quoted)
	re := strings.Join(quoted, "|")
	if re == "" {
		re = matchNothing
	}
	m, err := labels.NewMatcher(labels.MatchRegexp, OPDLabel, re)
	if err != nil {
		return nil, fmt.Errorf("OPD scope matcher %q: %w", re, err)
	}
	return &scope{
		matcher: m,
		// With a regexp enforced matcher and errorOnReplace false, the
		// enforcer keeps a selector's own opd matcher and adds ours:
		// opd="dishub" becomes {opd="dishub",opd=~"dinkes"}, which
		// selects nothing rather than failing or being replaced.
		enforcer: injectproxy.NewPromQLEnforcer(false, m),
		layers:   layers,
	}, nil
}

type scopeKey struct{}

func contextWithScope(ctx context.Context, s *scope) context.Context {
	return context.WithValue(ctx, scopeKey{}, s)
}

// scopeFrom returns the request's scope, nil for an unscoped request.
func scopeFrom(ctx context.Context) *scope {
	s, _ := ctx.Value(scopeKey{}).(*scope)
	return s
}

// expr parses qs and, for a scoped request, adds the scope's matcher to
// every selector; it returns the query to evaluate.
func (s *scope) expr(p parser.Parser, qs string) (string, *apiError) {
	if s == nil || s.layers&layerEnforcer == 0 {
		return qs, nil
	}
	e, err := p.ParseExpr(qs)
	if err != nil {
		return "", badData(fmt.Errorf("invalid parameter \"query\": %w", err))
	}
	if err := s.enforcer.EnforceNode(e); err != nil {
		return "", badData(fmt.Errorf("invalid parameter \"query\": cannot restrict the query to the credential's OPDs: %w", err))
	}
	return e.String(), nil
}

// matcherSets adds the scope's matcher to every set; with no set it
// returns the single set {opd=~...}, so that a lookup without match[]
// sees only the scope.
func (s *scope) matcherSets(sets [][]*labels.Matcher) ([][]*labels.Matcher, *apiError) {
	if s == nil || s.layers&layerEnforcer == 0 {
		return sets, nil
	}
	if len(sets) == 0 {
		return [][]*labels.Matcher{{s.matcher}}, nil
	}
	out := make([][]*labels.Matcher, len(sets))
	for i, ms := range sets {
		e, err := s.enforcer.EnforceMatchers(ms)
		if err != nil {
			return nil, badData(fmt.Errorf("invalid parameter \"match[]\": cannot restrict it to the credential's OPDs: %w", err))
		}
		out[i] = e
	}
	return out, nil
}

// queryable wraps q so that every Select, LabelNames and LabelValues
// carries the scope's matcher: the second layer, which holds even for a
// selector the enforcer did not reach.
func (s *scope) queryable(q storage.Queryable) storage.Queryable {
	if s == nil || s.layers&layerStorage == 0 {
		return q
	}
	return scopedQueryable{q, s.matcher}
}

type scopedQueryable struct {
	q storage.Queryable
	m *labels.Matcher
}

func (s scopedQueryable) Querier(mint, maxt int64) (storage.Querier, error) {
	q, err := s.q.Querier(mint, maxt)
	if err != nil {
		return nil, err
	}
	return scopedQuerier{q: q, m: s.m}, nil
}

// scopedQuerier has no other methods than storage.Querier's, so no
// optional interface of the wrapped querier can be reached around it.
type scopedQuerier struct {
	q storage.Querier
	m *labels.Matcher
}

func (s scopedQuerier) with(ms []*labels.Matcher) []*labels.Matcher {
	return append(ms[:len(ms):len(ms)], s.m)
}

func (s scopedQuerier) Select(ctx context.Context, sortSeries bool, hints *storage.SelectHints, ms ...*labels.Matcher) storage.SeriesSet {
	return s.q.Select(ctx, sortSeries, hints, s.with(ms)...)
}

func (s scopedQuerier) LabelValues(ctx context.Context, name string, hints *storage.LabelHints, ms ...*labels.Matcher) ([]string, annotations.Annotations, error) {
	return s.q.LabelValues(ctx, name, hints, s.with(ms)...)
}

func (s scopedQuerier) LabelNames(ctx context.Context, hints *storage.LabelHints, ms ...*labels.Matcher) ([]string, annotations.Annotations, error) {
	return s.q.LabelNames(ctx, hints, s.with(ms)...)
}

func (s scopedQuerier) Close() error { return s.q.Close() }
