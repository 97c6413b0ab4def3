// Package promapi serves the part of the Prometheus HTTP API that Grafana's
// stock Prometheus data source uses — query, query_range, series, labels,
// label values, metadata and build info — over the collector's embedded
// TSDB and the PromQL engine, with Prometheus's JSON shapes, error types
// and status codes, so Grafana needs no other database; and /federate
// and remote read (/api/v1/read), so a Prometheus server can take the
// series (federate.go, read.go).
//
// # OPD scoping
//
// Options.Scope names, per request, the OPDs a credential may read. A
// scoped request sees only series whose opd label matches one of them;
// series without an opd label are invisible to it. Two layers enforce
// this, each sufficient alone:
//
//  1. The request is rewritten with prom-label-proxy's injectproxy
//     enforcer (third_party/prom-label-proxy): every selector of a query
//     or query_range expression, every match[] set of series, labels and
//     label values, /federate and each remote read query, gets
//     opd=~"<a>|<b>" (the OPD names regexp-quoted).
//     The caller's own opd matchers are kept beside it, so a query that
//     names another OPD selects nothing: an empty result of the right
//     type, never an error and never the other OPD's data. labels and
//     label values without match[], and metadata, use {opd=~"..."} alone.
//  2. The storage the request reads through is wrapped: every Select,
//     LabelNames and LabelValues gets the same matcher, whatever
//     selector reached it.
//
// status/tsdb (cardinality across every metric and label) answers 403
// to a scoped request. The other endpoints read no series.
package promapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/util/annotations"
)

// Options configure the API.
type Options struct {
	Queryable storage.Queryable
	// Engine may be nil: New then creates one with Prometheus's defaults.
	Engine                                  *promql.Engine
	QueryTimeout                            time.Duration // default 2m
	Version, Revision, GoVersion, BuildDate string
	// Metadata returns type, help and unit for a metric name; nil derives
	// the type from the name (_total: counter, else gauge).
	Metadata func(metric string) (typ, help, unit string, ok bool)
	// Scope returns the OPDs a request may read and whether it is scoped
	// at all; nil means no request is scoped. A scoped request with no
	// OPD (or only empty names) sees no series.
	Scope  func(*http.Request) (opds []string, scoped bool)
	Logger *slog.Logger
	// Read bounds a remote read request; a zero MaxBodyBytes is 32 MiB.
	Read ReadLimits
	// FederateMaxSeries bounds the series one /federate answer holds
	// (422 above it); 0 = no limit.
	FederateMaxSeries int
	// MaxConcurrentExports bounds the /federate and remote read requests
	// served at once; one more waits up to ExportQueueWait (default
	// DefaultExportQueueWait) for a slot, then gets 503. 0 = no limit.
	MaxConcurrentExports int
	ExportQueueWait      time.Duration
	// MaxMatchSelectors bounds the match[] selectors of one request
	// (series, labels, label values, /federate); 0 = no limit.
	MaxMatchSelectors int
	// Now is the clock of /federate; nil is time.Now.
	Now func() time.Time
}

// Limits are the API's limits that SetLimits changes while it runs (a
// SIGHUP reload of collector.yml); Options holds their first values. A
// request reads them once and keeps that set to its end.
type Limits struct {
	Read                 ReadLimits
	FederateMaxSeries    int
	MaxConcurrentExports int
	MaxMatchSelectors    int
}

// SetLimits puts l in force for the requests that start from now on; a
// zero Read.MaxBodyBytes is 32 MiB. A lower MaxConcurrentExports lets
// no new export start until the ones served are below it.
func (a *API) SetLimits(l Limits) {
	if l.Read.MaxBodyBytes <= 0 {
		l.Read.MaxBodyBytes = 32 << 20
	}
	a.lim.Store(&l)
}

// Limits returns the limits in force.
func (a *API) Limits() Limits { return *a.lim.Load() }

// API serves /api/v1/.
type API struct {
	o      Options
	lim    atomic.Pointer[Limits]
	engine *promql.Engine
	parser parser.Parser
	layers int // scoping layers; tests turn one off

	readRefused     *prometheus.CounterVec
	federateRefused *prometheus.CounterVec
	exports         *exportGate
	matchRefused    prometheus.Counter
}

// Limits mirrored from Prometheus.
const (
	maxPointsPerSeries = 11000
	defaultMaxSamples  = 50_000_000
	lookbackDelta      = 5 * time.Minute
)

// New returns the API.
func New(o Options) (*API, error) {
	if o.Queryable == nil || o.Logger == nil {
		return nil, errors.New("promapi: Queryable and Logger are required")
	}
	if o.QueryTimeout <= 0 {
		o.QueryTimeout = 2 * time.Minute
	}
	a := &API{o: o, engine: o.Engine, parser: parser.NewParser(parser.Options{}), layers: layersAll, readRefused: newReadRefused(), federateRefused: newFederateRefused(),
		exports: newExportGate(o.ExportQueueWait),
		matchRefused: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "pantau_collector_match_selectors_refused_total",
			Help: "Requests of the query API and /federate refused with 400 because they held more match[] selectors than limits.max_match_selectors.",
		})}
	if a.engine == nil {
		a.engine = promql.NewEngine(promql.EngineOpts{
			Logger:               o.Logger.With("component", "promql"),
			MaxSamples:           defaultMaxSamples,
			Timeout:              o.QueryTimeout,
			LookbackDelta:        lookbackDelta,
			EnableAtModifier:     true,
			EnableNegativeOffset: true,
			NoStepSubqueryIntervalFn: func(int64) int64 {
				return time.Minute.Milliseconds()
			},
			Parser: a.parser,
		})
	}
	a.SetLimits(Limits{Read: o.Read, FederateMaxSeries: o.FederateMaxSeries, MaxConcurrentExports: o.MaxConcurrentExports, MaxMatchSelectors: o.MaxMatchSelectors})
	return a, nil
}

// Collectors are the API's own metrics.
func (a *API) Collectors() []prometheus.Collector {
	return []prometheus.Collector{a.readRefused, a.federateRefused, a.matchRefused}
}

func (a *API) now() time.Time {
	if a.o.Now != nil {
		return a.o.Now()
	}
	return time.Now()
}

// Register adds the endpoints to mux.
func (a *API) Register(mux *http.ServeMux) {
	for path, h := range map[string]func(*http.Request) (any, annotations.Annotations, *apiError){
		"/api/v1/query":               a.query,
		"/api/v1/query_range":         a.queryRange,
		"/api/v1/series":              a.series,
		"/api/v1/labels":              a.labelNames,
		"/api/v1/label/{name}/values": a.labelValues,
		"/api/v1/metadata":            a.metadata,
		"/api/v1/status/buildinfo":    a.buildInfo,
		"/api/v1/status/runtimeinfo":  a.runtimeInfo,
		"/api/v1/query_exemplars":     emptyList,
		"/api/v1/rules": func(*http.Request) (any, annotations.Annotations, *apiError) {
			return map[string]any{"groups": []any{}}, nil, nil
		},
		"/api/v1/alerts": func(*http.Request) (any, annotations.Annotations, *apiError) {
			return map[string]any{"alerts": []any{}}, nil, nil
		},
		"/api/v1/format_query": a.formatQuery,
		"/api/v1/parse_query":  a.parseQuery,
		"/api/v1/status/config": func(*http.Request) (any, annotations.Annotations, *apiError) {
			return map[string]string{"yaml": ""}, nil, nil
		},
		"/api/v1/status/flags":     func(*http.Request) (any, annotations.Annotations, *apiError) { return map[string]string{}, nil, nil },
		"/api/v1/status/tsdb":      a.tsdbStatus,
		"/api/v1/targets/metadata": a.targetsMetadata,
		"/api/v1/status/walreplay": func(*http.Request) (any, annotations.Annotations, *apiError) {
			return map[string]int{"min": 0, "max": 0, "current": 0}, nil, nil
		},
	} {
		mux.HandleFunc(path, a.wrap(h))
	}
	mux.HandleFunc("GET /federate", a.federate)
	mux.HandleFunc("/api/v1/read", a.read)
	mux.HandleFunc("/api/v1/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, response{Status: "error", ErrorType: "not_found", Error: fmt.Sprintf("unknown API endpoint %s", r.URL.Path)})
	})
}

func emptyList(*http.Request) (any, annotations.Annotations, *apiError) { return []any{}, nil, nil }

type response struct {
	Status    string   `json:"status"`
	Data      any      `json:"data,omitempty"`
	ErrorType string   `json:"errorType,omitempty"`
	Error     string   `json:"error,omitempty"`
	Warnings  []string `json:"warnings,omitempty"`
	Infos     []string `json:"infos,omitempty"`
}

type apiError struct {
	typ    string // bad_data, execution, timeout, canceled, internal, forbidden
	status int
	err    error
}

func badData(err error) *apiError { return &apiError{"bad_data", http.StatusBadRequest, err} }

func (a *API) wrap(h func(*http.Request) (any, annotations.Annotations, *apiError)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodPost {
			w.Header().Set("Allow", "GET, POST")
			writeJSON(w, http.StatusMethodNotAllowed, response{Status: "error", ErrorType: "bad_data", Error: "method not allowed: use GET or POST"})
			return
		}
		if err := r.ParseForm(); err != nil {
			writeJSON(w, http.StatusBadRequest, response{Status: "error", ErrorType: "bad_data", Error: fmt.Sprintf("parse form: %v", err)})
			return
		}
		r, aerr := a.scoped(r)
		if aerr != nil {
			writeJSON(w, aerr.status, response{Status: "error", ErrorType: aerr.typ, Error: aerr.err.Error()})
			return
		}
		data, annos, aerr := h(r)
		if aerr != nil {
			a.o.Logger.Debug("query API error", "path", r.URL.Path, "error_type", aerr.typ, "err", aerr.err)
			writeJSON(w, aerr.status, response{Status: "error", ErrorType: aerr.typ, Error: aerr.err.Error()})
			return
		}
		warn, info := annos.AsStrings("", 10, 10)
		writeJSON(w, http.StatusOK, response{Status: "success", Data: data, Warnings: warn, Infos: info})
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

type queryData struct {
	ResultType parser.ValueType `json:"resultType"`
	Result     parser.Value     `json:"result"`
}

func (a *API) query(r *http.Request) (any, annotations.Annotations, *apiError) {
	ts := time.Now()
	if v := r.FormValue("time"); v != "" {
		t, err := ParseTime(v)
		if err != nil {
			return nil, nil, badData(fmt.Errorf("invalid parameter \"time\": %w", err))
		}
		ts = t
	}
	ctx, cancel, aerr := a.timeoutCtx(r)
	if aerr != nil {
		return nil, nil, aerr
	}
	defer cancel()
	sc := scopeFrom(ctx)
	qs, aerr := sc.expr(a.parser, r.FormValue("query"))
	if aerr != nil {
		return nil, nil, aerr
	}
	q, err := a.engine.NewInstantQuery(ctx, sc.queryable(a.o.Queryable), promql.NewPrometheusQueryOpts(false, 0, nil), qs, ts)
	if err != nil {
		return nil, nil, badData(fmt.Errorf("invalid parameter \"query\": %w", err))
	}
	return a.exec(ctx, q, r)
}

func (a *API) queryRange(r *http.Request) (any, annotations.Annotations, *apiError) {
	start, err := ParseTime(r.FormValue("start"))
	if err != nil {
		return nil, nil, badData(fmt.Errorf("invalid parameter \"start\": %w", err))
	}
	end, err := ParseTime(r.FormValue("end"))
	if err != nil {
		return nil, nil, badData(fmt.Errorf("invalid parameter \"end\": %w", err))
	}
	if end.Before(start) {
		return nil, nil, badData(errors.New("end timestamp must not be before start time"))
	}
	step, err := ParseDuration(r.FormValue("step"))
	if err != nil {
		return nil, nil, badData(fmt.Errorf("invalid parameter \"step\": %w", err))
	}
	if step <= 0 {
		return nil, nil, badData(errors.New("zero or negative query resolution step widths are not accepted. Try a positive integer"))
	}
	if end.Sub(start)/step > maxPointsPerSeries {
		return nil, nil, badData(errors.New("exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)"))
	}
	ctx, cancel, aerr := a.timeoutCtx(r)
	if aerr != nil {
		return nil, nil, aerr
	}
	defer cancel()
	sc := scopeFrom(ctx)
	qs, aerr := sc.expr(a.parser, r.FormValue("query"))
	if aerr != nil {
		return nil, nil, aerr
	}
	q, err := a.engine.NewRangeQuery(ctx, sc.queryable(a.o.Queryable), promql.NewPrometheusQueryOpts(false, 0, nil), qs, start, end, step)
	if err != nil {
		return nil, nil, badData(fmt.Errorf("invalid parameter \"query\": %w", err))
	}
	return a.exec(ctx, q, r)
}

func (a *API) timeoutCtx(r *http.Request) (context.Context, context.CancelFunc, *apiError) {
	ctx := r.Context()
	if v := r.FormValue("timeout"); v != "" {
		d, err := ParseDuration(v)
		if err != nil {
			return nil, nil, badData(fmt.Errorf("invalid parameter \"timeout\": %w", err))
		}
		c, cancel := context.WithTimeout(ctx, d)
		return c, cancel, nil
	}
	c, cancel := context.WithCancel(ctx)
	return c, cancel, nil
}

func (a *API) exec(ctx context.Context, q promql.Query, r *http.Request) (any, annotations.Annotations, *apiError) {
	defer q.Close()
	res := q.Exec(ctx)
	if res.Err != nil {
		return nil, res.Warnings, execError(res.Err)
	}
	limit, aerr := parseLimit(r)
	if aerr != nil {
		return nil, nil, aerr
	}
	val := res.Value
	// An empty result is [], as Prometheus answers, never null.
	switch v := val.(type) {
	case promql.Vector:
		if v == nil {
			val = promql.Vector{}
		}
	case promql.Matrix:
		if v == nil {
			val = promql.Matrix{}
		}
	}
	if limit > 0 {
		switch v := val.(type) {
		case promql.Vector:
			if len(v) > limit {
				val = v[:limit]
			}
		case promql.Matrix:
			if len(v) > limit {
				val = v[:limit]
			}
		}
	}
	return queryData{ResultType: val.Type(), Result: val}, res.Warnings, nil
}

func execError(err error) *apiError {
	var (
		eqc promql.ErrQueryCanceled
		eqt promql.ErrQueryTimeout
		es  promql.ErrStorage
	)
	switch {
	case errors.As(err, &eqc):
		return &apiError{"canceled", http.StatusServiceUnavailable, err}
	case errors.As(err, &eqt):
		return &apiError{"timeout", http.StatusServiceUnavailable, err}
	case errors.As(err, &es):
		return &apiError{"internal", http.StatusInternalServerError, err}
	case errors.Is(err, context.Canceled):
		return &apiError{"canceled", http.StatusServiceUnavailable, err}
	}
	return &apiError{"execution", http.StatusUnprocessableEntity, err}
}

func parseLimit(r *http.Request) (int, *apiError) {
	s := r.FormValue("limit")
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, badData(fmt.Errorf("invalid parameter \"limit\": %q is not a non-negative integer", s))
	}
	return n, nil
}

// timeRange reads start and end, defaulting to all time.
func timeRange(r *http.Request) (int64, int64, *apiError) {
	start, end := MinTime, MaxTime
	var err error
	if v := r.FormValue("start"); v != "" {
		if start, err = ParseTime(v); err != nil {
			return 0, 0, badData(fmt.Errorf("invalid parameter \"start\": %w", err))
		}
	}
	if v := r.FormValue("end"); v != "" {
		if end, err = ParseTime(v); err != nil {
			return 0, 0, badData(fmt.Errorf("invalid parameter \"end\": %w", err))
		}
	}
	if end.Before(start) {
		return 0, 0, badData(errors.New("end timestamp must not be before start timestamp"))
	}
	return timestampMs(start), timestampMs(end), nil
}

func timestampMs(t time.Time) int64 {
	switch {
	case t.Equal(MinTime):
		return math.MinInt64
	case t.Equal(MaxTime):
		return math.MaxInt64
	}
	return t.UnixMilli()
}

// matchers parses match[], restricted to the request's scope.
func (a *API) matchers(r *http.Request, l *Limits, required bool) ([][]*labels.Matcher, *apiError) {
	ms := r.Form["match[]"]
	if max := l.MaxMatchSelectors; max > 0 && len(ms) > max {
		// each selector is a walk of the index, whatever the limits on
		// the answer: 10,000 of {__name__=~".+"} over 20,000 series took
		// 84 s and allocated 10 GB
		a.matchRefused.Inc()
		return nil, badData(fmt.Errorf("invalid parameter \"match[]\": %d selectors, more than %d (limits.max_match_selectors): join them into fewer with regexp matchers, e.g. {__name__=~\"a|b\"}, or raise the limit", len(ms), max))
	}
	if len(ms) == 0 {
		if required {
			return nil, badData(errors.New("no match[] parameter provided"))
		}
		return scopeFrom(r.Context()).matcherSets(nil)
	}
	sets, err := a.parser.ParseMetricSelectors(ms)
	if err != nil {
		return nil, badData(fmt.Errorf("invalid parameter \"match[]\": %w", err))
	}
	return scopeFrom(r.Context()).matcherSets(sets)
}

func (a *API) querier(r *http.Request) (storage.Querier, int64, int64, *apiError) {
	mint, maxt, aerr := timeRange(r)
	if aerr != nil {
		return nil, 0, 0, aerr
	}
	q, err := scopeFrom(r.Context()).queryable(a.o.Queryable).Querier(mint, maxt)
	if err != nil {
		return nil, 0, 0, &apiError{"internal", http.StatusInternalServerError, fmt.Errorf("open querier: %w", err)}
	}
	return q, mint, maxt, nil
}

func (a *API) series(r *http.Request) (any, annotations.Annotations, *apiError) {
	sets, aerr := a.matchers(r, a.lim.Load(), true)
	if aerr != nil {
		return nil, nil, aerr
	}
	limit, aerr := parseLimit(r)
	if aerr != nil {
		return nil, nil, aerr
	}
	q, mint, maxt, aerr := a.querier(r)
	if aerr != nil {
		return nil, nil, aerr
	}
	defer q.Close()
	hints := &storage.SelectHints{Start: mint, End: maxt, Func: "series", Limit: limit}
	sss := make([]storage.SeriesSet, 0, len(sets))
	for _, ms := range sets {
		sss = append(sss, q.Select(r.Context(), len(sets) > 1, hints, ms...))
	}
	set := storage.NewMergeSeriesSet(sss, 0, storage.ChainedSeriesMerge)
	out := []labels.Labels{}
	for set.Next() {
		out = append(out, set.At().Labels())
		if limit > 0 && len(out) >= limit {
			break
		}
	}
	if err := set.Err(); err != nil {
		return nil, set.Warnings(), execError(err)
	}
	return out, set.Warnings(), nil
}

func (a *API) labelNames(r *http.Request) (any, annotations.Annotations, *apiError) {
	sets, aerr := a.matchers(r, a.lim.Load(), false)
	if aerr != nil {
		return nil, nil, aerr
	}
	limit, aerr := parseLimit(r)
	if aerr != nil {
		return nil, nil, aerr
	}
	q, _, _, aerr := a.querier(r)
	if aerr != nil {
		return nil, nil, aerr
	}
	defer q.Close()
	hints := &storage.LabelHints{Limit: limit}
	var (
		names []string
		warns annotations.Annotations
	)
	if len(sets) == 0 {
		sets = [][]*labels.Matcher{nil}
	}
	for _, ms := range sets {
		n, w, err := q.LabelNames(r.Context(), hints, ms...)
		if err != nil {
			return nil, w, execError(err)
		}
		warns.Merge(w)
		names = append(names, n...)
	}
	return sortedLimit(names, limit), warns, nil
}

func (a *API) labelValues(r *http.Request) (any, annotations.Annotations, *apiError) {
	name := r.PathValue("name")
	if strings.HasPrefix(name, "U__") {
		name = model.UnescapeName(name, model.ValueEncodingEscaping)
	}
	if !model.UTF8Validation.IsValidLabelName(name) {
		return nil, nil, badData(fmt.Errorf("invalid label name: %q", name))
	}
	sets, aerr := a.matchers(r, a.lim.Load(), false)
	if aerr != nil {
		return nil, nil, aerr
	}
	limit, aerr := parseLimit(r)
	if aerr != nil {
		return nil, nil, aerr
	}
	q, _, _, aerr := a.querier(r)
	if aerr != nil {
		return nil, nil, aerr
	}
	defer q.Close()
	return a.values(r.Context(), q, name, sets, limit)
}

func (a *API) values(ctx context.Context, q storage.Querier, name string, sets [][]*labels.Matcher, limit int) ([]string, annotations.Annotations, *apiError) {
	if len(sets) == 0 {
		sets = [][]*labels.Matcher{nil}
	}
	var (
		vals  []string
		warns annotations.Annotations
	)
	for _, ms := range sets {
		v, w, err := q.LabelValues(ctx, name, &storage.LabelHints{Limit: limit}, ms...)
		if err != nil {
			return nil, w, execError(err)
		}
		warns.Merge(w)
		vals = append(vals, v...)
	}
	return sortedLimit(vals, limit), warns, nil
}

func sortedLimit(s []string, limit int) []string {
	sort.Strings(s)
	s = slices.Compact(s)
	if s == nil {
		s = []string{}
	}
	if limit > 0 && len(s) > limit {
		s = s[:limit]
	}
	return s
}

type metadataEntry struct {
	Type string `json:"type"`
	Help string `json:"help"`
	Unit string `json:"unit"`
}

func (a *API) metadata(r *http.Request) (any, annotations.Annotations, *apiError) {
	limit, aerr := parseLimit(r)
	if aerr != nil {
		return nil, nil, aerr
	}
	// Scoped: only the names of series the scope can see.
	names, warns, aerr := a.metricNames(r)
	if aerr != nil {
		return nil, warns, aerr
	}
	want := r.FormValue("metric")
	out := map[string][]metadataEntry{}
	for _, n := range names {
		if want != "" && n != want {
			continue
		}
		if limit > 0 && len(out) >= limit {
			break
		}
		out[n] = []metadataEntry{a.meta(n)}
	}
	return out, warns, nil
}

// metricNames lists the metric names the request's scope can see.
func (a *API) metricNames(r *http.Request) ([]string, annotations.Annotations, *apiError) {
	sc := scopeFrom(r.Context())
	q, err := sc.queryable(a.o.Queryable).Querier(math.MinInt64, math.MaxInt64)
	if err != nil {
		return nil, nil, &apiError{"internal", http.StatusInternalServerError, err}
	}
	defer q.Close()
	sets, aerr := sc.matcherSets(nil)
	if aerr != nil {
		return nil, nil, aerr
	}
	return a.values(r.Context(), q, model.MetricNameLabel, sets, 0)
}

// The collector is the one "target" of /api/v1/targets/metadata: it
// scrapes nothing; its series come from its writers.
var metadataTarget = labels.FromStrings("job", "pantau")

type targetMetadata struct {
	Target map[string]string `json:"target"`
	Metric string            `json:"metric"`
	metadataEntry
}

// targetsMetadata answers /api/v1/targets/metadata as Prometheus does
// (match_target, metric, limit), with the metadata of /api/v1/metadata
// for the one target {job="pantau"}.
func (a *API) targetsMetadata(r *http.Request) (any, annotations.Annotations, *apiError) {
	limit, aerr := parseLimit(r)
	if aerr != nil {
		return nil, nil, aerr
	}
	out := []targetMetadata{}
	if mt := r.FormValue("match_target"); mt != "" {
		ms, err := a.parser.ParseMetricSelector(mt)
		if err != nil {
			return nil, nil, badData(fmt.Errorf("invalid parameter \"match_target\": %w", err))
		}
		for _, m := range ms {
			if !m.Matches(metadataTarget.Get(m.Name)) {
				return out, nil, nil
			}
		}
	}
	names, warns, aerr := a.metricNames(r)
	if aerr != nil {
		return nil, warns, aerr
	}
	want := r.FormValue("metric")
	for _, n := range names {
		if want != "" && n != want {
			continue
		}
		if limit > 0 && len(out) >= limit {
			break
		}
		out = append(out, targetMetadata{Target: metadataTarget.Map(), Metric: n, metadataEntry: a.meta(n)})
	}
	return out, warns, nil
}

func (a *API) meta(name string) metadataEntry {
	if a.o.Metadata != nil {
		if typ, help, unit, ok := a.o.Metadata(name); ok {
			return metadataEntry{typ, help, unit}
		}
	}
	e := metadataEntry{Type: "gauge"}
	if strings.HasSuffix(name, "_total") {
		e.Type = "counter"
	}
	for _, u := range []string{"seconds", "bytes", "ratio", "bits_per_second"} {
		if strings.HasSuffix(strings.TrimSuffix(name, "_total"), "_"+u) {
			e.Unit = u
		}
	}
	return e
}

func (a *API) buildInfo(*http.Request) (any, annotations.Annotations, *apiError) {
	return map[string]string{
		"version": a.o.Version, "revision": a.o.Revision, "branch": "", "buildUser": "",
		"buildDate": a.o.BuildDate, "goVersion": a.o.GoVersion,
	}, nil, nil
}

var started = time.Now()

func (a *API) runtimeInfo(*http.Request) (any, annotations.Annotations, *apiError) {
	return map[string]any{"startTime": started.UTC(), "CWD": "", "reloadConfigSuccess": true, "storageRetention": "", "goroutineCount": 0}, nil, nil
}

func (a *API) tsdbStatus(r *http.Request) (any, annotations.Annotations, *apiError) {
	if scopeFrom(r.Context()) != nil {
		return nil, nil, &apiError{"forbidden", http.StatusForbidden, errors.New("status/tsdb reports the cardinality of every OPD's series; it is not available to a credential scoped to OPDs: use an unscoped credential")}
	}
	return map[string]any{"headStats": map[string]any{}, "seriesCountByMetricName": []any{}, "labelValueCountByLabelName": []any{}, "memoryInBytesByLabelName": []any{}, "seriesCountByLabelValuePair": []any{}}, nil, nil
}

func (a *API) formatQuery(r *http.Request) (any, annotations.Annotations, *apiError) {
	expr, err := a.parser.ParseExpr(r.FormValue("query"))
	if err != nil {
		return nil, nil, badData(err)
	}
	return expr.Pretty(0), nil, nil
}

func (a *API) parseQuery(r *http.Request) (any, annotations.Annotations, *apiError) {
	expr, err := a.parser.ParseExpr(r.FormValue("query"))
	if err != nil {
		return nil, nil, badData(err)
	}
	return map[string]string{"type": string(expr.Type()), "expr": expr.String()}, nil, nil
}

// MinTime and MaxTime are Prometheus's sentinels for an open time range.
var (
	MinTime = time.Unix(math.MinInt64/1000+62135596801, 0).UTC()
	MaxTime = time.Unix(math.MaxInt64/1000-62135596801, 999999999).UTC()

	minTimeFormatted = MinTime.Format(time.RFC3339Nano)
	maxTimeFormatted = MaxTime.Format(time.RFC3339Nano)
)

// ParseTime accepts unix seconds (with fraction) and RFC3339, like Prometheus.
func ParseTime(s string) (time.Time, error) {
	if t, err := strconv.ParseFloat(s, 64); err == nil {
		if math.IsNaN(t) || math.IsInf(t, 0) || t > 1e15 || t < -1e15 {
			return time.Time{}, fmt.Errorf("cannot parse %q to a valid timestamp", s)
		}
		sec, frac := math.Modf(t)
		return time.Unix(int64(sec), int64(math.Round(frac*1000))*int64(time.Millisecond)).UTC(), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	switch s {
	case minTimeFormatted:
		return MinTime, nil
	case maxTimeFormatted:
		return MaxTime, nil
	}
	return time.Time{}, fmt.Errorf("cannot parse %q to a valid timestamp", s)
}

// ParseDuration accepts float seconds and Prometheus durations ("15s", "1h").
func ParseDuration(s string) (time.Duration, error) {
	if d, err := strconv.ParseFloat(s, 64); err == nil {
		ts := d * float64(time.Second)
		if ts > float64(math.MaxInt64) || ts < float64(math.MinInt64) || math.IsNaN(ts) {
			return 0, fmt.Errorf("cannot parse %q to a valid duration. It overflows int64", s)
		}
		return time.Duration(ts), nil
	}
	if d, err := model.ParseDuration(s); err == nil {
		return time.Duration(d), nil
	}
	return 0, fmt.Errorf("cannot parse %q to a valid duration", s)
}
