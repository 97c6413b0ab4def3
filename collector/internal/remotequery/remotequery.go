package remotequery

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/util/annotations"
	"golang.org/x/sync/errgroup"
)

const (
	// DefaultTimeout bounds one HTTP request when Options.Timeout is 0.
	DefaultTimeout = 2 * time.Minute
	// DefaultChunk is the longest window one request asks for when
	// Options.Chunk is 0: a day of 10 s samples is 8640 per series.
	DefaultChunk = 24 * time.Hour

	// maxWindows bounds the requests of one Select (27 years of days).
	maxWindows = 10_000
	// parallelWindows is how many windows of one Select are in flight.
	parallelWindows = 4
	// farFuture (year 2100) caps an open end of a range: no engine
	// keeps samples beyond it, and the window arithmetic cannot overflow.
	farFuture int64 = 4_102_444_800_000
)

// Options configures a Queryable.
type Options struct {
	// URL is the engine's base URL, e.g. http://127.0.0.1:8428 or
	// http://prom:9090; the package appends /api/v1/query and friends.
	URL           string
	Headers       map[string]string
	BearerToken   string // resolved secret, never logged
	BasicUser     string
	BasicPassword string // resolved secret, never logged
	TLS           *tls.Config
	// Timeout bounds each HTTP request (default DefaultTimeout); it is
	// also sent as the engine's own query timeout.
	Timeout time.Duration
	// Chunk splits long Selects into windows of this size (default
	// DefaultChunk, at least a second).
	Chunk  time.Duration
	Client *http.Client // optional, for tests; TLS is then ignored
	Logger *slog.Logger
}

// Queryable reads samples back from an engine's Prometheus HTTP API.
type Queryable struct {
	o        Options
	base     *url.URL
	endpoint string // base URL without credentials, for errors and logs
	client   *http.Client
	log      *slog.Logger
}

// New checks the options; it does not contact the engine.
func New(o Options) (*Queryable, error) {
	u, err := url.Parse(o.URL)
	if err != nil {
		// url.Error repeats the URL, which may carry a password.
		if ue := (*url.Error)(nil); errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("remote query URL: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("remote query URL %s: want http://host:port or https://host:port", u.Redacted())
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("remote query URL %s: want a base URL without query or fragment", u.Redacted())
	}
	if o.BearerToken != "" && (o.BasicUser != "" || o.BasicPassword != "") {
		return nil, fmt.Errorf("remote query %s: set a bearer token or basic auth, not both", u.Redacted())
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Chunk == 0 {
		o.Chunk = DefaultChunk
	}
	if o.Timeout < 0 {
		return nil, fmt.Errorf("remote query %s: negative timeout %s", u.Redacted(), o.Timeout)
	}
	if o.Chunk < time.Second {
		return nil, fmt.Errorf("remote query %s: chunk %s is shorter than a second", u.Redacted(), o.Chunk)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	client := o.Client
	if client == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = o.TLS
		client = &http.Client{Transport: tr}
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawPath = ""
	return &Queryable{
		o:        o,
		base:     u,
		endpoint: u.Redacted(),
		client:   client,
		log:      o.Logger.With("component", "remote-query", "endpoint", u.Redacted()),
	}, nil
}

// Querier reads samples in [mint, maxt], the closed range a TSDB
// querier covers.
func (q *Queryable) Querier(mint, maxt int64) (storage.Querier, error) {
	return &querier{q: q, mint: mint, maxt: maxt}, nil
}

type querier struct {
	q          *Queryable
	mint, maxt int64
}

// Close is a no-op: a querier holds no connection of its own.
func (*querier) Close() error { return nil }

// window is one request of a Select: samples in (from, to].
type window struct{ from, to int64 }

// Select fetches the raw float samples of the matching series in the
// querier's range, narrowed by hints.Start and hints.End when given
// (both inclusive, as the PromQL engine sets them). The range is split
// into windows of Options.Chunk, each read by an instant query of a
// range selector, and merged per series. Series come sorted by labels
// whether or not sortSeries asks for it. hints.Func "series" asks the
// /api/v1/series endpoint for the label sets only.
func (qr *querier) Select(ctx context.Context, _ bool, hints *storage.SelectHints, ms ...*labels.Matcher) storage.SeriesSet {
	start, end := qr.mint, qr.maxt
	// A zero Start and End is a hints value that only carries Func or
	// Limit (promapi does so), not the range [0, 0].
	if hints != nil && (hints.Start != 0 || hints.End != 0) {
		start, end = max(start, hints.Start), min(end, hints.End)
	}
	sel, err := selector(ms)
	if errors.Is(err, errNoMatch) {
		return storage.EmptySeriesSet()
	}
	if err != nil {
		return storage.ErrSeriesSet(fmt.Errorf("select on %s: %w", qr.q.endpoint, err))
	}
	if hints != nil && hints.Func == "series" {
		return qr.selectSeries(ctx, sel, start, end, hints)
	}
	// Engines keep no samples before 1970 nor beyond farFuture.
	start, end = max(start, 0), min(end, farFuture)
	if start > end {
		return storage.EmptySeriesSet()
	}
	chunk := qr.q.o.Chunk.Milliseconds()
	lo := start - 1
	n := (end - lo + chunk - 1) / chunk
	if n > maxWindows {
		return storage.ErrSeriesSet(fmt.Errorf("select %s from %s to %s on %s: needs %d requests of %s; narrow the time range or raise the chunk",
			sel, fmtTime(start), fmtTime(end), qr.q.endpoint, n, qr.q.o.Chunk))
	}
	wins := make([]window, n)
	for i := range wins {
		from := lo + int64(i)*chunk
		wins[i] = window{from: from, to: min(from+chunk, end)}
	}

	results := make([]*response, len(wins))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(parallelWindows)
	for i, w := range wins {
		g.Go(func() error {
			res, err := qr.q.queryWindow(gctx, sel, w)
			results[i] = res
			return err
		})
	}
	err = g.Wait()
	var warns annotations.Annotations
	for _, res := range results {
		if res != nil {
			warns.Merge(qr.q.annotations(res))
		}
	}
	if err != nil {
		return errSet{err: err, warnings: warns}
	}
	set := mergeWindows(wins, results)
	set.series = shardAndLimit(set.series, hints)
	set.warnings = warns
	return set
}

// queryWindow asks for the raw samples in (w.from, w.to]. The query
// time is rounded up and the window start down to whole seconds, since
// VictoriaMetrics truncates a fractional time to milliseconds through
// float64; the samples outside w are dropped when merging.
func (q *Queryable) queryWindow(ctx context.Context, sel string, w window) (*response, error) {
	at := ceilSecond(w.to)
	rng := at - floorSecond(w.from)
	query := sel + "[" + strconv.FormatInt(rng/1000, 10) + "s]"
	form := url.Values{
		"query":   {query},
		"time":    {strconv.FormatInt(at/1000, 10)},
		"timeout": {strconv.FormatFloat(q.o.Timeout.Seconds(), 'f', -1, 64)},
		// Older VictoriaMetrics shift a query time within
		// -search.latencyOffset of now back by that offset unless
		// nocache is set; Prometheus ignores the parameter.
		"nocache": {"1"},
	}
	return q.do(ctx, http.MethodPost, "/api/v1/query", form, matrixData,
		fmt.Sprintf("query %q at %s", query, fmtTime(at)))
}

// staleNaN is the Prometheus stale marker.
var staleNaN = math.Float64frombits(value.StaleNaN)

// mergeWindows joins the windows' series by label set, keeping only
// the samples inside each window, and sorts the series by labels.
func mergeWindows(wins []window, results []*response) *seriesSet {
	byKey := map[string]*series{}
	var all []*series
	var key []byte
	for i, res := range results {
		w := wins[i]
		for _, rs := range res.Series {
			key = rs.Labels.Bytes(key[:0])
			s := byKey[string(key)]
			if s == nil {
				s = &series{lset: rs.Labels}
				byKey[string(key)] = s
				all = append(all, s)
			}
			for j, t := range rs.T {
				if t > w.from && t <= w.to {
					v := rs.V[j]
					if res.nanIsStale && math.IsNaN(v) {
						v = staleNaN
					}
					s.samples = append(s.samples, fSample{t: t, f: v})
				}
			}
		}
	}
	out := all[:0]
	for _, s := range all {
		if len(s.samples) > 0 {
			s.normalize()
			out = append(out, s)
		}
	}
	sortSeries(out)
	return &seriesSet{series: out}
}

func sortSeries(ss []*series) {
	slices.SortFunc(ss, func(a, b *series) int { return labels.Compare(a.lset, b.lset) })
}

// shardAndLimit applies hints.ShardCount/ShardIndex and hints.Limit to
// sorted series.
func shardAndLimit(ss []*series, hints *storage.SelectHints) []*series {
	if hints == nil {
		return ss
	}
	if hints.ShardCount > 0 {
		out := ss[:0]
		for _, s := range ss {
			if labels.StableHash(s.lset)%hints.ShardCount == hints.ShardIndex {
				out = append(out, s)
			}
		}
		ss = out
	}
	if hints.Limit > 0 && len(ss) > hints.Limit {
		ss = ss[:hints.Limit]
	}
	return ss
}

// selectSeries answers a Select with Func "series": label sets from
// /api/v1/series, without samples.
func (qr *querier) selectSeries(ctx context.Context, sel string, start, end int64, hints *storage.SelectHints) storage.SeriesSet {
	form := url.Values{"match[]": {sel}}
	addRange(form, start, end)
	if hints.Limit > 0 {
		form.Set("limit", strconv.Itoa(hints.Limit))
	}
	res, err := qr.q.do(ctx, http.MethodPost, "/api/v1/series", form, seriesData, fmt.Sprintf("series %q", sel))
	if err != nil {
		return storage.ErrSeriesSet(err)
	}
	set := &seriesSet{warnings: qr.q.annotations(res)}
	for _, lset := range res.LabelSets {
		set.series = append(set.series, &series{lset: lset})
	}
	sortSeries(set.series)
	set.series = shardAndLimit(set.series, hints)
	return set
}

// LabelValues asks /api/v1/label/<name>/values.
func (qr *querier) LabelValues(ctx context.Context, name string, hints *storage.LabelHints, ms ...*labels.Matcher) ([]string, annotations.Annotations, error) {
	if name == "" {
		return nil, nil, nil
	}
	pathName := name
	if !legacyName(name) {
		// Prometheus 3 reads U__ escaped names in the path.
		pathName = model.EscapeName(name, model.ValueEncodingEscaping)
	}
	return qr.labelStrings(ctx, "/api/v1/label/"+url.PathEscape(pathName)+"/values", fmt.Sprintf("values of label %q", name), hints, ms)
}

// LabelNames asks /api/v1/labels.
func (qr *querier) LabelNames(ctx context.Context, hints *storage.LabelHints, ms ...*labels.Matcher) ([]string, annotations.Annotations, error) {
	return qr.labelStrings(ctx, "/api/v1/labels", "label names", hints, ms)
}

func (qr *querier) labelStrings(ctx context.Context, path, what string, hints *storage.LabelHints, ms []*labels.Matcher) ([]string, annotations.Annotations, error) {
	form := url.Values{}
	if len(ms) > 0 {
		sel, err := selector(ms)
		if errors.Is(err, errNoMatch) {
			return nil, nil, nil
		}
		if err != nil {
			return nil, nil, fmt.Errorf("%s on %s: %w", what, qr.q.endpoint, err)
		}
		form.Set("match[]", sel)
		what += " of " + sel
	}
	addRange(form, qr.mint, qr.maxt)
	limit := 0
	if hints != nil && hints.Limit > 0 {
		limit = hints.Limit
		form.Set("limit", strconv.Itoa(limit))
	}
	res, err := qr.q.do(ctx, http.MethodGet, path, form, stringsData, what)
	if err != nil {
		return nil, nil, err
	}
	out := res.Strings
	slices.Sort(out)
	out = slices.Compact(out)
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, qr.q.annotations(res), nil
}

// addRange sets start and end for the metadata endpoints; an open end
// is left out, so the engine uses its own default.
func addRange(form url.Values, start, end int64) {
	form.Set("start", fmtSeconds(max(start, 0)))
	if end < farFuture {
		form.Set("end", fmtSeconds(max(end, 0)))
	}
}

// APIError is an answer of the engine that is not a success.
type APIError struct {
	Endpoint string // the API URL, without credentials
	Request  string // what was asked, e.g. query "{…}[86400s]" at …
	Status   int    // HTTP status code
	Type     string // errorType of the answer, e.g. bad_data, execution
	Message  string // the engine's own error text
}

func (e *APIError) Error() string {
	typ := ""
	if e.Type != "" {
		typ = " " + e.Type
	}
	return fmt.Sprintf("%s on %s: HTTP %d%s: %s", e.Request, e.Endpoint, e.Status, typ, e.Message)
}

// do sends one request and decodes the answer.
func (q *Queryable) do(ctx context.Context, method, path string, form url.Values, kind dataKind, what string) (*response, error) {
	u := q.base.JoinPath(path)
	endpoint := u.Redacted()
	ctx, cancel := context.WithTimeoutCause(ctx, q.o.Timeout,
		fmt.Errorf("no answer within %s (the remote query timeout)", q.o.Timeout))
	defer cancel()
	var body io.Reader
	if method == http.MethodGet {
		u.RawQuery = form.Encode()
	} else {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return nil, fmt.Errorf("%s on %s: %w", what, endpoint, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "pantau-collector/remotequery")
	for k, v := range q.o.Headers {
		req.Header.Set(k, v)
	}
	switch {
	case q.o.BearerToken != "":
		req.Header.Set("Authorization", "Bearer "+q.o.BearerToken)
	case q.o.BasicUser != "" || q.o.BasicPassword != "":
		req.SetBasicAuth(q.o.BasicUser, q.o.BasicPassword)
	}
	began := time.Now()
	resp, err := q.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			err = context.Cause(ctx)
		}
		return nil, fmt.Errorf("%s on %s: %w", what, endpoint, err)
	}
	defer func() {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
	}()
	if resp.StatusCode/100 != 2 {
		return nil, q.apiError(resp, kind, endpoint, what)
	}
	res, err := decodeResponse(resp.Body, kind)
	if err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("%w: %w", context.Cause(ctx), err)
		}
		return nil, fmt.Errorf("%s on %s: %w", what, endpoint, err)
	}
	// VictoriaMetrics drops NaN samples at ingestion but keeps
	// Prometheus stale markers, which its JSON can only spell "NaN".
	res.nanIsStale = resp.Header.Get("X-Server-Hostname") != ""
	if res.Status != "success" {
		return nil, &APIError{Endpoint: endpoint, Request: what, Status: resp.StatusCode, Type: res.ErrorType, Message: res.Error}
	}
	if q.log.Enabled(ctx, slog.LevelDebug) {
		q.log.Debug("remote query answered", "request", what, "series", len(res.Series)+len(res.LabelSets),
			"duration_seconds", time.Since(began).Seconds())
	}
	return res, nil
}

// apiError reads an error answer: the Prometheus error JSON when there
// is one, else the start of the body (a proxy's page, say).
func (q *Queryable) apiError(resp *http.Response, kind dataKind, endpoint, what string) error {
	e := &APIError{Endpoint: endpoint, Request: what, Status: resp.StatusCode}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if res, err := decodeResponse(bytes.NewReader(b), kind); err == nil && res.Status == "error" {
		e.Type, e.Message = res.ErrorType, res.Error
		return e
	}
	msg := strings.TrimSpace(string(b))
	if len(msg) > 512 {
		msg = msg[:512]
		for !utf8.ValidString(msg) {
			msg = msg[:len(msg)-1]
		}
		msg += "…"
	}
	if msg == "" {
		msg = http.StatusText(resp.StatusCode)
	}
	e.Message = msg
	return e
}

// annotations turns the answer's warnings and infos into annotations
// naming the engine.
func (q *Queryable) annotations(res *response) annotations.Annotations {
	if len(res.Warnings) == 0 && len(res.Infos) == 0 {
		return nil
	}
	var a annotations.Annotations
	for _, w := range res.Warnings {
		a.Add(fmt.Errorf("%w: %s: %s", annotations.PromQLWarning, q.endpoint, w))
	}
	for _, w := range res.Infos {
		a.Add(fmt.Errorf("%w: %s: %s", annotations.PromQLInfo, q.endpoint, w))
	}
	return a
}

func floorSecond(ms int64) int64 {
	r := ms % 1000
	if r < 0 {
		r += 1000
	}
	return ms - r
}

func ceilSecond(ms int64) int64 {
	f := floorSecond(ms)
	if f == ms {
		return ms
	}
	return f + 1000
}

// fmtSeconds renders milliseconds as exact decimal seconds.
func fmtSeconds(ms int64) string {
	s := strconv.FormatInt(ms/1000, 10)
	if r := ms % 1000; r != 0 {
		if r < 0 {
			r = -r
			if ms > -1000 {
				s = "-" + s
			}
		}
		s += "." + strconv.FormatInt(1000+r, 10)[1:]
	}
	return s
}

func fmtTime(ms int64) string {
	return time.UnixMilli(ms).UTC().Format(time.RFC3339Nano)
}
