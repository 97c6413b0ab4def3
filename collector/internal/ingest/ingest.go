// Package ingest is the collector's write path: the InfluxDB 1 and 2 write
// APIs (/write, /api/v2/write). A request is authenticated by its agent
// token, decompressed within the body limit, decoded and checked line by
// line, mapped to Prometheus series (pantau_<measurement>_<field>, tags as
// labels, the agent label set from the token), appended to the TSDB in one
// transaction and acknowledged with 204 only after the group commit has
// made it durable. A bad line rejects the whole request with an error that
// names its line and column, and nothing of it is stored.
package ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/influxdata/line-protocol/v2/lineprotocol"
	"github.com/klauspost/compress/gzip"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"

	"github.com/pantau-noc/pantau/collector/internal/sla"
	"github.com/pantau-noc/pantau/collector/internal/statedb"
	"github.com/pantau-noc/pantau/internal/wire/lineproto"
	"github.com/pantau-noc/pantau/internal/wire/schema"
)

// Authenticator resolves a token to the agent it belongs to.
type Authenticator interface {
	Authenticate(ctx context.Context, token string) (statedb.Identity, error)
}

// Store is the durable sample store.
type Store interface {
	Appender(ctx context.Context) storage.Appender
	// Sync returns once everything committed before the call is durable;
	// item (a statedb.BatchKey or nil) is recorded with that commit.
	Sync(ctx context.Context, item any) error
}

// Options configure a Handler.
type Options struct {
	Auth  Authenticator
	Store Store
	// Batches records acknowledged Pantau-Batch ids; may be nil.
	Batches           *Dedup
	MaxBodyBytes      int64
	MaxSeriesPerAgent int
	MaxClockSkew      time.Duration
	OutOfOrderWindow  time.Duration
	MaxInflight       int
	DropStringFields  bool
	// SLA, when set, turns icmp rounds and agent heartbeats into minute
	// marks that travel with the batch to Store.Sync (as a Committed).
	SLA    *sla.Builder
	Logger *slog.Logger
	// Now returns the current time; nil means time.Now (tests override it).
	Now func() time.Time
}

// Handler serves the write endpoints.
type Handler struct {
	o       Options
	m       *metrics
	series  registry
	sem     chan struct{}
	bufs    sync.Pool
	gzips   sync.Pool
	scratch sync.Pool
}

// New returns a Handler.
func New(o Options) (*Handler, error) {
	switch {
	case o.Auth == nil || o.Store == nil || o.Logger == nil:
		return nil, errors.New("ingest: Auth, Store and Logger are required")
	case o.MaxBodyBytes <= 0 || o.MaxSeriesPerAgent <= 0 || o.MaxInflight <= 0:
		return nil, errors.New("ingest: MaxBodyBytes, MaxSeriesPerAgent and MaxInflight must be positive")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	h := &Handler{o: o, m: newMetrics(), series: registry{agents: map[string]*agentSeries{}}, sem: make(chan struct{}, o.MaxInflight)}
	h.bufs.New = func() any { return new(bytes.Buffer) }
	h.scratch.New = func() any { return new(scratch) }
	return h, nil
}

// Collectors returns the handler's metrics for the caller's registry.
func (h *Handler) Collectors() []prometheus.Collector {
	return append(h.m.collectors(), agentCollector{r: &h.series})
}

// Register adds the write endpoints to mux.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.HandleFunc("POST /api/v2/write", func(w http.ResponseWriter, r *http.Request) { h.serve(w, r, "v2") })
	mux.HandleFunc("POST /write", func(w http.ResponseWriter, r *http.Request) { h.serve(w, r, "v1") })
}

// PruneSeries forgets series idle for longer than idle, so they stop
// counting against the per-agent limit. Call it periodically.
func (h *Handler) PruneSeries(idle time.Duration) int { return h.series.prune(idle, h.o.Now()) }

// apiError is an error answered with a status and an InfluxDB-style code.
type apiError struct {
	status int
	code   string // InfluxDB 2 error code
	reason string // metric label
	err    error
}

func (e *apiError) Error() string { return e.err.Error() }
func (e *apiError) Unwrap() error { return e.err }

func fail(status int, code, reason string, err error) *apiError {
	return &apiError{status: status, code: code, reason: reason, err: err}
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request, api string) {
	start := time.Now()
	h.m.inflight.Inc()
	defer h.m.inflight.Dec()
	status, points := h.handle(w, r, api)
	h.m.requests.WithLabelValues(api, strconv.Itoa(status)).Inc()
	h.m.duration.WithLabelValues(api).Observe(time.Since(start).Seconds())
	_ = points
}

// handle processes one write and writes the response; it returns the status.
func (h *Handler) handle(w http.ResponseWriter, r *http.Request, api string) (int, int) {
	ctx := r.Context()
	id, aerr := h.authenticate(ctx, r, api)
	if aerr != nil {
		return h.reject(w, api, aerr, 0), 0
	}
	log := h.o.Logger.With("agent", id.Agent)
	prec, err := lineproto.ParsePrecision(r.URL.Query().Get("precision"))
	if err != nil {
		return h.reject(w, api, fail(http.StatusBadRequest, "invalid", reasonPrecision, err), 0), 0
	}
	select {
	case h.sem <- struct{}{}:
		defer func() { <-h.sem }()
	default:
		w.Header().Set("Retry-After", "1")
		return h.reject(w, api, fail(http.StatusServiceUnavailable, "unavailable", reasonOverload,
			fmt.Errorf("collector busy: %d write requests in flight (limits.max_inflight_requests); retry later", h.o.MaxInflight)), 0), 0
	}

	var batch statedb.BatchKey
	if b := r.Header.Get("Pantau-Batch"); b != "" {
		if len(b) > 256 {
			return h.reject(w, api, fail(http.StatusBadRequest, "invalid", reasonMalformed, errors.New("Pantau-Batch header longer than 256 bytes")), 0), 0
		}
		batch = statedb.BatchKey{Agent: id.Agent, Batch: b}
		if h.o.Batches != nil && h.o.Batches.Seen(batch) {
			h.m.batches.WithLabelValues("duplicate").Inc()
			w.WriteHeader(http.StatusNoContent)
			return http.StatusNoContent, 0
		}
	}

	buf := h.bufs.Get().(*bytes.Buffer)
	defer h.putBuf(buf)
	if aerr := h.readBody(r, buf); aerr != nil {
		if aerr.status == http.StatusRequestEntityTooLarge {
			// The connection may still hold unread body; don't reuse it.
			w.Header().Set("Connection", "close")
		}
		return h.reject(w, api, aerr, 0), 0
	}
	body := buf.Bytes()
	h.m.decodedBytes.Add(float64(len(body)))

	res, aerr := h.store(ctx, id, body, prec)
	if aerr != nil {
		if aerr.status >= 500 {
			log.Error("write failed", "err", aerr.err)
		} else {
			log.Debug("write rejected", "reason", aerr.reason, "err", aerr.err)
		}
		return h.reject(w, api, aerr, countLines(body)), 0
	}
	var item any
	if batch.Batch != "" || len(res.marks) > 0 {
		item = Committed{Batch: batch, Marks: res.marks}
	}
	if err := h.o.Store.Sync(ctx, item); err != nil {
		// The store says when it does not acknowledge writes for now (a
		// full disk): 503 and when to send again. It logs that itself.
		var ra interface{ RetryAfter() time.Duration }
		switch {
		case ctx.Err() != nil && errors.Is(err, ctx.Err()):
			// The writer went away before the group commit: no 204 was
			// sent, so the writer re-sends.
			log.Info("writer gone before the durable commit; not acknowledged", "err", err)
		case errors.As(err, &ra):
			log.Debug("write not acknowledged: storage not writable", "err", err)
			w.Header().Set("Retry-After", strconv.Itoa(max(1, int(ra.RetryAfter().Seconds()))))
			return h.reject(w, api, fail(http.StatusServiceUnavailable, "unavailable", reasonInternal, err), 0), 0
		default:
			log.Error("durable commit failed", "err", err)
		}
		return h.reject(w, api, fail(http.StatusInternalServerError, "internal error", reasonInternal,
			fmt.Errorf("commit to storage: %w", err)), 0), 0
	}
	if batch.Batch != "" {
		h.m.batches.WithLabelValues("stored").Inc()
		if h.o.Batches != nil {
			h.o.Batches.Add(batch, h.o.Now())
		}
	}
	h.m.points.Add(float64(res.points))
	h.m.samples.Add(float64(res.samples))
	h.series.get(id.Agent).lastWrite.Store(h.o.Now().Unix())
	if res.partial != nil {
		// Stored what fits; tell the writer what was dropped (InfluxDB's
		// partial-write status).
		return h.reject(w, api, res.partial, 0), res.points
	}
	w.WriteHeader(http.StatusNoContent)
	return http.StatusNoContent, res.points
}

func (h *Handler) putBuf(b *bytes.Buffer) {
	if b.Cap() > 4<<20 {
		return // don't pin huge buffers
	}
	b.Reset()
	h.bufs.Put(b)
}

func (h *Handler) authenticate(ctx context.Context, r *http.Request, api string) (statedb.Identity, *apiError) {
	tok := tokenFrom(r, api)
	if tok == "" {
		return statedb.Identity{}, fail(http.StatusUnauthorized, "unauthorized", reasonUnauth,
			errors.New("missing token: send \"Authorization: Token <token>\" (create one with: pantau-collector token create --agent ID)"))
	}
	id, err := h.o.Auth.Authenticate(ctx, tok)
	switch {
	case errors.Is(err, statedb.ErrBadToken), errors.Is(err, statedb.ErrUnknownToken):
		return id, fail(http.StatusUnauthorized, "unauthorized", reasonUnauth, errors.New("unknown token"))
	case errors.Is(err, statedb.ErrRevokedToken):
		return id, fail(http.StatusUnauthorized, "unauthorized", reasonUnauth, errors.New("token has been revoked"))
	case err != nil:
		return id, fail(http.StatusServiceUnavailable, "unavailable", reasonInternal, fmt.Errorf("check token: %w", err))
	}
	return id, nil
}

// tokenFrom extracts the token: "Token" or "Bearer" authorization, and for
// the InfluxDB 1 API also basic auth or the p query parameter (the token is
// the password; the user name is ignored).
func tokenFrom(r *http.Request, api string) string {
	if a := r.Header.Get("Authorization"); a != "" {
		scheme, rest, _ := strings.Cut(a, " ")
		switch {
		case strings.EqualFold(scheme, "Token"), strings.EqualFold(scheme, "Bearer"):
			return strings.TrimSpace(rest)
		case strings.EqualFold(scheme, "Basic") && api == "v1":
			if _, p, ok := r.BasicAuth(); ok {
				return p
			}
		}
		return ""
	}
	if api == "v1" {
		return r.URL.Query().Get("p")
	}
	return ""
}

func (h *Handler) readBody(r *http.Request, buf *bytes.Buffer) *apiError {
	limit := h.o.MaxBodyBytes
	tooLarge := fail(http.StatusRequestEntityTooLarge, "request too large", reasonTooLarge,
		fmt.Errorf("body larger than %d bytes (limits.max_body_bytes): split the batch", limit))
	if r.ContentLength > limit {
		return tooLarge
	}
	wire := &countingReader{r: io.LimitReader(r.Body, limit+1)}
	var src io.Reader = wire
	enc := "identity"
	switch ce := r.Header.Get("Content-Encoding"); ce {
	case "", "identity":
	case "gzip", "x-gzip":
		enc = "gzip"
		zr, err := h.gzipReader(wire)
		if err != nil {
			h.m.bytes.WithLabelValues(enc).Add(float64(wire.n))
			return fail(http.StatusBadRequest, "invalid", reasonEncoding,
				fmt.Errorf("body is not valid gzip although Content-Encoding says gzip: %w", err))
		}
		defer h.gzips.Put(zr)
		src = zr
	default:
		return fail(http.StatusUnsupportedMediaType, "invalid", reasonEncoding,
			fmt.Errorf("unsupported Content-Encoding %q: use gzip or none", ce))
	}
	n, err := buf.ReadFrom(io.LimitReader(src, limit+1))
	h.m.bytes.WithLabelValues(enc).Add(float64(wire.n))
	if wire.n > limit || n > limit {
		return tooLarge
	}
	if err != nil {
		if enc == "gzip" {
			return fail(http.StatusBadRequest, "invalid", reasonEncoding, fmt.Errorf("body is not valid gzip or was cut short: %w", err))
		}
		return fail(http.StatusBadRequest, "invalid", reasonMalformed, fmt.Errorf("read body: %w", err))
	}
	return nil
}

func (h *Handler) gzipReader(r io.Reader) (*gzip.Reader, error) {
	if zr, ok := h.gzips.Get().(*gzip.Reader); ok {
		if err := zr.Reset(r); err != nil {
			h.gzips.Put(zr)
			return nil, err
		}
		return zr, nil
	}
	return gzip.NewReader(r)
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// reject answers with a JSON error and counts the rejected points.
func (h *Handler) reject(w http.ResponseWriter, api string, e *apiError, lines int) int {
	if lines > 0 {
		h.m.rejectedPoints.WithLabelValues(e.reason).Add(float64(lines))
	} else if e.status != http.StatusUnprocessableEntity {
		h.m.rejectedPoints.WithLabelValues(e.reason).Add(0)
	}
	writeError(w, api, e.status, e.code, e.err.Error())
	return e.status
}

func countLines(body []byte) int {
	n := bytes.Count(body, []byte{'\n'})
	if len(body) > 0 && body[len(body)-1] != '\n' {
		n++
	}
	return n
}

// result is the outcome of storing one body.
type result struct {
	points, samples int
	partial         *apiError  // samples dropped for the series limit, if any
	marks           []sla.Mark // SLA minute marks of the stored points
}

// Committed is the item a write hands to Store.Sync: the batch id (empty
// without a Pantau-Batch header) and the SLA minute marks of its points,
// so that both are recorded by the group commit that made the samples
// durable, before the 204.
type Committed struct {
	Batch statedb.BatchKey
	Marks []sla.Mark
}

// scratch is per-request working memory, reused through a pool.
type scratch struct {
	key     []byte
	tags    []span // offsets into key
	fields  []byte // field keys of the current line, back to back
	pending []pendingSample
	lbls    labels.ScratchBuilder
	marks   []sla.Mark
}

// tag returns the value of tag k of the current line, or nil.
func (sc *scratch) tag(k string) []byte {
	for _, t := range sc.tags {
		if string(sc.key[t.k0:t.k1]) == k {
			return sc.key[t.v0:t.v1]
		}
	}
	return nil
}

// field returns the value of field k of the current line.
func (sc *scratch) field(k string) (float64, bool) {
	for _, p := range sc.pending {
		if string(sc.fields[p.f0:p.f1]) == k {
			return p.value, true
		}
	}
	return 0, false
}

// reservedPrefixes are the measurement names whose series would collide
// with the series the collector stores for itself (selfscrape.go):
// pantau_link_state, pantau_site_info, pantau_collector_*, ...
var reservedPrefixes = []string{"link", "site", "service", "collector", "inventory", "device", "alert", "alerts", "notification", "notifications"}

// reservedMeasurement returns the reserved name m is or starts (with
// "_"), or "".
func reservedMeasurement(m []byte) string {
	for _, r := range reservedPrefixes {
		if len(m) >= len(r) && string(m[:len(r)]) == r && (len(m) == len(r) || m[len(r)] == '_') {
			return r
		}
	}
	return ""
}

// slaMarks adds the SLA mark of an icmp round, an agent heartbeat or a
// plugin check of an inventory service.
func (h *Handler) slaMarks(sc *scratch, agent string, m []byte, ts int64) {
	switch string(m) {
	case "icmp":
		up, ok := sc.field("up")
		if !ok {
			return
		}
		loss, _ := sc.field("loss_ratio")
		rtt, hasRTT := sc.field("rtt_avg_seconds")
		sc.marks = h.o.SLA.ICMPBytes(sc.marks, agent, sc.tag("link"), sc.tag("target"), ts, up > 0, loss, rtt, hasRTT)
	case "agent":
		sc.marks = h.o.SLA.HeartbeatBytes(sc.marks, sc.tag("site"), ts)
	default:
		if !h.o.SLA.ChecksServices(m) {
			return
		}
		svc := h.o.SLA.ServiceOf(m, agent, sc.tag("target"))
		if svc == nil {
			return
		}
		up, ok := sc.field("up")
		if !ok {
			return
		}
		var rt float64
		hasRT := false
		if svc.Field != "" {
			rt, hasRT = sc.field(svc.Field)
		}
		sc.marks = append(sc.marks, svc.Mark(ts, up > 0, rt, hasRT))
	}
}

type span struct{ k0, k1, v0, v1 int }

type pendingSample struct {
	fs     *fieldSeries // nil until found or created
	f0, f1 int          // field key: scratch.fields[f0:f1]
	value  float64
}

// store decodes body and appends it in one transaction.
func (h *Handler) store(ctx context.Context, id statedb.Identity, body []byte, prec lineproto.Precision) (result, *apiError) {
	sc := h.scratch.Get().(*scratch)
	defer h.scratch.Put(sc)
	now := h.o.Now()
	nowNs := now.UnixNano()
	nowSec := now.Unix()
	maxT := nowNs + h.o.MaxClockSkew.Nanoseconds()
	minT := nowNs - h.o.OutOfOrderWindow.Nanoseconds()
	as := h.series.get(id.Agent)
	app := h.o.Store.Appender(ctx)
	sc.marks = sc.marks[:0]
	var (
		res      result
		dropped  int
		firstErr *lineproto.Error
	)
	abort := func(e *apiError) (result, *apiError) {
		if err := app.Rollback(); err != nil {
			h.o.Logger.Warn("rollback failed", "agent", id.Agent, "err", err)
		}
		return result{}, e
	}
	d := lineproto.NewDecoder(body, prec)
	for d.Next() {
		m, err := d.Measurement()
		if err != nil {
			return abort(fail(http.StatusBadRequest, "invalid", reasonMalformed, err))
		}
		if r := reservedMeasurement(m); r != "" {
			return abort(fail(http.StatusBadRequest, "invalid", reasonForbidden, d.ErrorAt(m,
				fmt.Errorf("measurement %q is reserved: the collector stores its own pantau_%s_* series (SLA states, inventory, its metrics)", m, r))))
		}
		meas, known := schema.V1[string(m)]
		sc.key = append(sc.key[:0], m...)
		sc.key = append(sc.key, 0)
		sc.tags = sc.tags[:0]
		hasSite := false
		for {
			k, v, err := d.NextTag()
			if err != nil {
				return abort(fail(http.StatusBadRequest, "invalid", reasonMalformed, err))
			}
			if k == nil {
				break
			}
			if aerr := checkTag(d, id, k, v); aerr != nil {
				return abort(aerr)
			}
			if string(k) == "agent" {
				continue // the agent label always comes from the token
			}
			if string(k) == "site" {
				hasSite = true
			}
			sc.addTag(k, v)
		}
		if !hasSite && len(id.Sites) == 1 {
			sc.addTag([]byte("site"), []byte(id.Sites[0]))
		}
		if len(sc.tags) > maxTags {
			return abort(fail(http.StatusBadRequest, "invalid", reasonMalformed,
				d.ErrorAt(m, fmt.Errorf("%d tags; at most %d are allowed", len(sc.tags), maxTags))))
		}
		sc.pending = sc.pending[:0]
		sc.fields = sc.fields[:0]
		for {
			k, val, err := d.NextField()
			if err != nil {
				return abort(fail(http.StatusBadRequest, "invalid", reasonMalformed, err))
			}
			if k == nil {
				break
			}
			f, keep, aerr := h.fieldValue(d, m, meas.Fields, known, k, val)
			if aerr != nil {
				return abort(aerr)
			}
			if !keep {
				dropped++
				continue
			}
			f0 := len(sc.fields)
			sc.fields = append(sc.fields, k...)
			sc.pending = append(sc.pending, pendingSample{value: f, f0: f0, f1: len(sc.fields)})
		}
		as.lookupAll(sc)
		ts, err := d.Time(nowNs)
		if err != nil {
			return abort(fail(http.StatusBadRequest, "invalid", reasonMalformed, err))
		}
		if ts > maxT {
			return abort(fail(http.StatusBadRequest, "invalid", reasonTimestamp, d.ErrorAt(nil,
				fmt.Errorf("timestamp %s is %s in the future, more than limits.max_clock_skew (%s): check the writer's clock and the precision parameter (%s)",
					time.Unix(0, ts).UTC().Format(time.RFC3339), time.Duration(ts-nowNs).Round(time.Second), h.o.MaxClockSkew, prec))))
		}
		if ts < minT {
			return abort(fail(http.StatusBadRequest, "invalid", reasonTimestamp, d.ErrorAt(nil,
				fmt.Errorf("timestamp %s is older than the out-of-order window (storage.out_of_order_window = %s); check the precision parameter (%s)",
					time.Unix(0, ts).UTC().Format(time.RFC3339), h.o.OutOfOrderWindow, prec))))
		}
		tms := floorDiv(ts, 1e6)
		if h.o.SLA != nil {
			h.slaMarks(sc, id.Agent, m, ts)
		}
		var (
			invLabels [][2]string
			invDone   bool
		)
		for i := range sc.pending {
			ps := &sc.pending[i]
			if ps.fs == nil {
				field := sc.fields[ps.f0:ps.f1]
				if !invDone && h.o.SLA != nil {
					invDone = true
					invLabels = h.o.SLA.SeriesLabels(string(m), id.Agent, string(sc.tag("link")), string(sc.tag("target")),
						string(sc.tag("device")), string(sc.tag("ifname")))
				}
				lset, aerr := sc.labels(d, id.Agent, m, field, invLabels)
				if aerr != nil {
					return abort(aerr)
				}
				ps.fs = as.insert(sc.key, field, lset, h.o.MaxSeriesPerAgent, nowSec)
				if ps.fs == nil {
					h.m.rejectedSample.WithLabelValues(reasonSeriesLimit).Inc()
					if firstErr == nil {
						firstErr = d.ErrorAt(nil, fmt.Errorf("new series %s dropped: agent %q is at limits.max_series_per_agent (%d)", lset, id.Agent, h.o.MaxSeriesPerAgent))
					}
					continue
				}
			} else {
				ps.fs.touch(nowSec)
			}
			ref, err := app.Append(ps.fs.seriesRef(), ps.fs.lset, tms, ps.value)
			switch {
			case err == nil:
				if ref != ps.fs.seriesRef() {
					ps.fs.ref.Store(uint64(ref))
				}
				res.samples++
			case errors.Is(err, storage.ErrDuplicateSampleForTimestamp):
				// A different value for a time already stored: the first write wins.
				h.m.rejectedSample.WithLabelValues(reasonDuplicate).Inc()
			case errors.Is(err, storage.ErrOutOfBounds), errors.Is(err, storage.ErrTooOldSample), errors.Is(err, storage.ErrOutOfOrderSample):
				return abort(fail(http.StatusBadRequest, "invalid", reasonTimestamp, d.ErrorAt(nil,
					fmt.Errorf("timestamp %s is too old for storage: %w", time.Unix(0, ts).UTC().Format(time.RFC3339), err))))
			default:
				return abort(fail(http.StatusInternalServerError, "internal error", reasonInternal, fmt.Errorf("append to TSDB: %w", err)))
			}
		}
		res.points++
	}
	if err := app.Commit(); err != nil {
		return result{}, fail(http.StatusInternalServerError, "internal error", reasonInternal, fmt.Errorf("commit to TSDB: %w", err))
	}
	if dropped > 0 {
		h.m.rejectedSample.WithLabelValues(reasonString).Add(float64(dropped))
	}
	if len(sc.marks) > 0 {
		res.marks = append([]sla.Mark(nil), sc.marks...)
	}
	if firstErr != nil {
		res.partial = fail(http.StatusUnprocessableEntity, "unprocessable entity", reasonSeriesLimit,
			fmt.Errorf("partial write: %w", firstErr))
	}
	return res, nil
}

const (
	maxTags        = 64
	maxTagValueLen = 2048
)

func (sc *scratch) addTag(k, v []byte) {
	var s span
	s.k0 = len(sc.key)
	sc.key = append(sc.key, k...)
	s.k1 = len(sc.key)
	sc.key = append(sc.key, 0)
	s.v0 = len(sc.key)
	sc.key = append(sc.key, v...)
	s.v1 = len(sc.key)
	sc.key = append(sc.key, 0)
	sc.tags = append(sc.tags, s)
}

// labels builds the label set of a new series.
func (sc *scratch) labels(d *lineproto.Decoder, agent string, m, field []byte, inv [][2]string) (labels.Labels, *apiError) {
	sc.lbls.Reset()
	sc.lbls.Add(model.MetricNameLabel, schema.MetricName(string(m), string(field)))
	sc.lbls.Add("agent", agent)
	for _, t := range sc.tags {
		sc.lbls.Add(schema.LabelName(string(sc.key[t.k0:t.k1])), string(sc.key[t.v0:t.v1]))
	}
	// inventory labels of the link the series belongs to, where the
	// writer did not set them
	for _, kv := range inv {
		if sc.tag(kv[0]) == nil {
			sc.lbls.Add(kv[0], kv[1])
		}
	}
	sc.lbls.Sort()
	lset := sc.lbls.Labels()
	if name, dup := lset.HasDuplicateLabelNames(); dup {
		return labels.EmptyLabels(), fail(http.StatusBadRequest, "invalid", reasonMalformed,
			d.ErrorAt(nil, fmt.Errorf("tags map to the same label %q more than once (after replacing characters outside [a-zA-Z0-9_])", name)))
	}
	return lset, nil
}

// checkTag enforces reserved names, sizes, and the token's scope.
func checkTag(d *lineproto.Decoder, id statedb.Identity, k, v []byte) *apiError {
	switch {
	case len(k) >= 2 && k[0] == '_' && k[1] == '_':
		return fail(http.StatusBadRequest, "invalid", reasonMalformed, d.ErrorAt(k, fmt.Errorf("tag key %q is reserved (keys starting with __)", k)))
	case len(v) > maxTagValueLen:
		return fail(http.StatusBadRequest, "invalid", reasonMalformed, d.ErrorAt(k, fmt.Errorf("tag %s value is %d bytes; at most %d are allowed", k, len(v), maxTagValueLen)))
	case string(k) == "agent" && string(v) != id.Agent:
		return fail(http.StatusForbidden, "forbidden", reasonForbidden, d.ErrorAt(v,
			fmt.Errorf("tag agent=%q claims another agent: this token belongs to agent %q", v, id.Agent)))
	case string(k) == "site" && len(id.Sites) > 0 && !contains(id.Sites, v):
		return fail(http.StatusForbidden, "forbidden", reasonForbidden, d.ErrorAt(v,
			fmt.Errorf("tag site=%q is not allowed for agent %q (allowed: %v)", v, id.Agent, id.Sites)))
	}
	return nil
}

func contains(list []string, v []byte) bool {
	for _, s := range list {
		if s == string(v) {
			return true
		}
	}
	return false
}

// fieldValue converts a field to a sample value, checking schema v1 types.
// keep is false for a string field dropped by configuration.
func (h *Handler) fieldValue(d *lineproto.Decoder, m []byte, kinds map[string]schema.Kind, known bool, k []byte, v lineprotocol.Value) (float64, bool, *apiError) {
	var f float64
	switch v.Kind() {
	case lineprotocol.Float:
		f = v.FloatV()
	case lineprotocol.Int:
		f = float64(v.IntV())
	case lineprotocol.Uint:
		f = float64(v.UintV())
	case lineprotocol.Bool:
		if v.BoolV() {
			f = 1
		}
	case lineprotocol.String:
		if h.o.DropStringFields {
			return 0, false, nil
		}
		return 0, false, fail(http.StatusBadRequest, "invalid", reasonString, d.ErrorAt(k,
			fmt.Errorf("field %s is a string; only numbers and booleans can be stored (or set ingest.string_fields: drop)", k)))
	}
	if !known {
		return f, true, nil
	}
	want, ok := kinds[string(k)]
	if !ok {
		return f, true, nil // additive schema: unknown fields are allowed
	}
	bad := false
	switch want {
	case schema.Int:
		bad = v.Kind() != lineprotocol.Int
	case schema.Uint:
		bad = !(v.Kind() == lineprotocol.Uint || v.Kind() == lineprotocol.Int && v.IntV() >= 0)
	case schema.Ratio:
		bad = v.Kind() == lineprotocol.Bool || f < 0 || f > 1 || math.IsNaN(f)
	case schema.Float:
		bad = v.Kind() == lineprotocol.Bool
	}
	if bad {
		return 0, false, fail(http.StatusBadRequest, "invalid", reasonType, d.ErrorAt(k,
			fmt.Errorf("field %s.%s must be %s (schema v1), got %s %s", m, k, want, kindName(v.Kind()), v)))
	}
	return f, true, nil
}

func kindName(k lineprotocol.ValueKind) string {
	switch k {
	case lineprotocol.Int:
		return "integer"
	case lineprotocol.Uint:
		return "unsigned"
	case lineprotocol.Float:
		return "float"
	case lineprotocol.Bool:
		return "boolean"
	case lineprotocol.String:
		return "string"
	}
	return "unknown"
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && (a < 0) {
		q--
	}
	return q
}
