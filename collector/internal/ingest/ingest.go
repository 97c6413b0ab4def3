// Package ingest is the collector's write path: the InfluxDB 1 and 2 write
// APIs (/write, /api/v2/write). A request is authenticated by its agent
// token, decompressed within the body limit, decoded and checked line by
// line, mapped to Prometheus series (pantau_<measurement>_<field>, tags as
// labels, the agent label set from the token), appended to the TSDB in one
// transaction and acknowledged with 204 only after the group commit has
// made it durable. A bad line rejects the whole request with an error that
// names its line and column, and nothing of it is stored. Lines of
// Telegraf's ping, snmp interface, http_response, net_response and
// dns_query are read as Pantau's own measurements (telegraf.go); /query
// answers InfluxDB 1.x clients' database statements (query.go). A write
// may carry several of an agent's queued batches, each de-duplicated and
// stored on its own, with one durable commit (batches.go).
//
// What one writer may cost is bounded (limits.go, authguard.go): its
// agent's requests in flight, the rate its body must arrive at, the memory
// bodies share, its source address's failed authentications, the length
// of its names (names.go) and its remembered batch ids (dedup.go). What a
// token may decide in the SLA engine is sla.Scope.
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
	"sync/atomic"
	"time"

	"github.com/influxdata/line-protocol/v2/lineprotocol"
	"github.com/klauspost/compress/gzip"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"

	"github.com/pantau-noc/pantau/collector/internal/auth"
	"github.com/pantau-noc/pantau/collector/internal/sla"
	"github.com/pantau-noc/pantau/collector/internal/statedb"
	"github.com/pantau-noc/pantau/internal/wire/batches"
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
	// Guard counts failed authentications per source address; nil: the
	// handler makes its own from AuthFailuresPerMinute and
	// AuthFailureAddresses. The daemon shares one with the API gate.
	Guard *auth.Guard
	// Batches records acknowledged Pantau-Batch ids; may be nil.
	Batches           *Dedup
	MaxBodyBytes      int64
	MaxSeriesPerAgent int
	MaxClockSkew      time.Duration
	OutOfOrderWindow  time.Duration
	MaxInflight       int
	// MaxInflightPerAgent bounds the requests one agent has in flight
	// (429 above it); 0 means no limit of its own.
	MaxInflightPerAgent int
	// MinBodyRate (bytes per second) is how fast a body must arrive once
	// BodyReadGrace (0: 10 s) has passed (408 when slower); 0 means no
	// minimum. BodyTimeout (0: 10 minutes) bounds reading one body.
	MinBodyRate   float64
	BodyReadGrace time.Duration
	BodyTimeout   time.Duration
	// MaxDecodedBytesInFlight bounds the memory the bodies being read and
	// decoded hold together (503 above it); 0 means 8 × MaxBodyBytes.
	MaxDecodedBytesInFlight int64
	// Name limits, checked after normalisation; 0 means the default
	// (256, 256, 256 bytes and 64 labels).
	MaxMeasurementBytes int
	MaxTagKeyBytes      int
	MaxFieldKeyBytes    int
	MaxLabelsPerSeries  int
	// MaxBatchesPerRequest bounds the batches (frames) of one
	// multi-batch request (413 above it); 0 means
	// DefaultMaxBatchesPerRequest.
	MaxBatchesPerRequest int
	// AuthFailuresPerMinute is how many 401s one source address may get
	// within a minute before its requests get 429 (0: no limit);
	// AuthFailureAddresses bounds the addresses remembered (0: 4096).
	AuthFailuresPerMinute int
	AuthFailureAddresses  int
	// RejectStringFields answers a write holding a string field with 400
	// (ingest.string_fields: reject); by default string fields are
	// dropped and counted per agent, and the rest of the batch is stored.
	RejectStringFields bool
	// NoTelegraf stores Telegraf's lines as they come, without the
	// translation into Pantau's measurements (telegraf.go).
	NoTelegraf bool
	// SLA, when set, turns icmp rounds and agent heartbeats into minute
	// marks that travel with the batch to Store.Sync (as a Committed).
	SLA    *sla.Builder
	Logger *slog.Logger
	// Now returns the current time; nil means time.Now (tests override it).
	Now func() time.Time
}

// Limits are the Handler's limits that SetLimits changes while it runs
// (a SIGHUP reload of collector.yml); Options holds their first values.
// A request reads them once, when it starts, and keeps that set to its
// end: it sees the old set or the new one, never a mix.
type Limits struct {
	MaxBodyBytes            int64
	MaxSeriesPerAgent       int
	MaxClockSkew            time.Duration
	MaxInflight             int
	MaxInflightPerAgent     int
	MinBodyRate             float64
	BodyReadGrace           time.Duration
	MaxDecodedBytesInFlight int64
	MaxMeasurementBytes     int
	MaxTagKeyBytes          int
	MaxFieldKeyBytes        int
	MaxLabelsPerSeries      int
	MaxBatchesPerRequest    int
	RejectStringFields      bool
}

// limits returns the Limits part of o.
func (o *Options) limits() Limits {
	return Limits{
		MaxBodyBytes: o.MaxBodyBytes, MaxSeriesPerAgent: o.MaxSeriesPerAgent, MaxClockSkew: o.MaxClockSkew,
		MaxInflight: o.MaxInflight, MaxInflightPerAgent: o.MaxInflightPerAgent, MinBodyRate: o.MinBodyRate,
		BodyReadGrace: o.BodyReadGrace, MaxDecodedBytesInFlight: o.MaxDecodedBytesInFlight,
		MaxMeasurementBytes: o.MaxMeasurementBytes, MaxTagKeyBytes: o.MaxTagKeyBytes,
		MaxFieldKeyBytes: o.MaxFieldKeyBytes, MaxLabelsPerSeries: o.MaxLabelsPerSeries,
		MaxBatchesPerRequest: o.MaxBatchesPerRequest, RejectStringFields: o.RejectStringFields,
	}
}

// SetLimits sets the Limits part of o.
func (o *Options) SetLimits(l Limits) {
	o.MaxBodyBytes, o.MaxSeriesPerAgent, o.MaxClockSkew = l.MaxBodyBytes, l.MaxSeriesPerAgent, l.MaxClockSkew
	o.MaxInflight, o.MaxInflightPerAgent, o.MinBodyRate = l.MaxInflight, l.MaxInflightPerAgent, l.MinBodyRate
	o.BodyReadGrace, o.MaxDecodedBytesInFlight = l.BodyReadGrace, l.MaxDecodedBytesInFlight
	o.MaxMeasurementBytes, o.MaxTagKeyBytes = l.MaxMeasurementBytes, l.MaxTagKeyBytes
	o.MaxFieldKeyBytes, o.MaxLabelsPerSeries = l.MaxFieldKeyBytes, l.MaxLabelsPerSeries
	o.MaxBatchesPerRequest = l.MaxBatchesPerRequest
	o.RejectStringFields = l.RejectStringFields
}

// Check reports what SetLimits would refuse.
func (l Limits) Check() error { return l.normalize() }

// normalize puts in the defaults of zero values and checks l.
func (l *Limits) normalize() error {
	if l.MaxBodyBytes <= 0 || l.MaxSeriesPerAgent <= 0 || l.MaxInflight <= 0 {
		return errors.New("ingest: MaxBodyBytes, MaxSeriesPerAgent and MaxInflight must be positive")
	}
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&l.MaxMeasurementBytes, DefaultMaxMeasurementBytes)
	def(&l.MaxTagKeyBytes, DefaultMaxTagKeyBytes)
	def(&l.MaxFieldKeyBytes, DefaultMaxFieldKeyBytes)
	def(&l.MaxLabelsPerSeries, DefaultMaxLabelsPerSeries)
	def(&l.MaxBatchesPerRequest, DefaultMaxBatchesPerRequest)
	if l.BodyReadGrace <= 0 {
		l.BodyReadGrace = 10 * time.Second
	}
	if l.MaxDecodedBytesInFlight <= 0 {
		l.MaxDecodedBytesInFlight = 8 * l.MaxBodyBytes
	}
	if l.MaxDecodedBytesInFlight <= l.MaxBodyBytes {
		return fmt.Errorf("ingest: MaxDecodedBytesInFlight (%d) must be larger than MaxBodyBytes (%d)", l.MaxDecodedBytesInFlight, l.MaxBodyBytes)
	}
	return nil
}

// Handler serves the write endpoints.
type Handler struct {
	o Options
	// lim is the limits in force (SetLimits).
	lim    atomic.Pointer[Limits]
	m      *metrics
	series registry
	// inflight counts the requests holding a global slot
	// (Limits.MaxInflight).
	inflight atomic.Int64
	agents   agentSlots
	bg       budget
	guard    *authGuard
	bufs     sync.Pool // *bodyBuf
	gzips    sync.Pool
	scratch  sync.Pool
}

// Defaults of the name limits (the collector's config repeats them).
const (
	DefaultMaxMeasurementBytes = 256
	DefaultMaxTagKeyBytes      = 256
	DefaultMaxFieldKeyBytes    = 256
	DefaultMaxLabelsPerSeries  = 64
	// DefaultMaxBatchesPerRequest bounds the frames of a multi-batch
	// request (the agent sends at most 1,024).
	DefaultMaxBatchesPerRequest = 4096
	// MaxBatchIDBytes bounds a Pantau-Batch header (the agent's are
	// "<agent id>/<sequence>", at most 149 bytes).
	MaxBatchIDBytes = 256
)

// New returns a Handler.
func New(o Options) (*Handler, error) {
	if o.Auth == nil || o.Store == nil || o.Logger == nil {
		return nil, errors.New("ingest: Auth, Store and Logger are required")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.BodyTimeout <= 0 {
		o.BodyTimeout = 10 * time.Minute
	}
	l := o.limits()
	if err := l.normalize(); err != nil {
		return nil, err
	}
	h := &Handler{o: o, m: newMetrics(), series: registry{agents: map[string]*agentSeries{}},
		agents: agentSlots{n: map[string]int{}}, guard: o.Guard}
	h.setLimits(&l)
	if h.guard == nil {
		h.guard = newAuthGuard(o.AuthFailuresPerMinute, o.AuthFailureAddresses)
	}
	h.scratch.New = func() any { return new(scratch) }
	return h, nil
}

// SetLimits puts l in force for the requests that start from now on
// (those in flight keep theirs); zero values take the defaults, as in
// Options. It refuses limits New would refuse and keeps the old ones.
// The auth failure limits are the Guard's (auth.Guard.SetLimits).
func (h *Handler) SetLimits(l Limits) error {
	if err := l.normalize(); err != nil {
		return err
	}
	h.setLimits(&l)
	return nil
}

func (h *Handler) setLimits(l *Limits) {
	h.lim.Store(l)
}

// Limits returns the limits in force.
func (h *Handler) Limits() Limits { return *h.lim.Load() }

// Collectors returns the handler's metrics for the caller's registry.
func (h *Handler) Collectors() []prometheus.Collector {
	cs := append(h.m.collectors(), agentCollector{r: &h.series}, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "pantau_collector_ingest_body_bytes_in_flight",
		Help: "Memory reserved by the request bodies being read and decoded (limits.max_decoded_bytes_in_flight bounds it).",
	}, func() float64 { return float64(h.bg.used.Load()) }), prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "pantau_collector_ingest_limit_max_body_bytes",
		Help: "The largest write request body accepted, compressed or decompressed (limits.max_body_bytes; follows a reload).",
	}, func() float64 { return float64(h.lim.Load().MaxBodyBytes) }))
	if h.o.Batches != nil {
		cs = append(cs, dedupCollector{h.o.Batches})
	}
	return cs
}

// Register adds the write endpoints to mux, and /query (query.go).
func (h *Handler) Register(mux *http.ServeMux) {
	mux.HandleFunc("POST /api/v2/write", func(w http.ResponseWriter, r *http.Request) { h.serve(w, r, "v2") })
	mux.HandleFunc("POST /write", func(w http.ResponseWriter, r *http.Request) { h.serve(w, r, "v1") })
	mux.HandleFunc("GET /query", h.query)
	mux.HandleFunc("POST /query", h.query)
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
	// retryAfter, when set, is sent as Retry-After; closeConn drops
	// the connection after the answer (part of the body may be unread).
	retryAfter string
	closeConn  bool
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
//
// The order bounds what one sender can hold: the source address's
// authentication failures (429), the token, the agent's own slots (429),
// the body read at a minimum rate into memory reserved from the shared
// budget (408, 413, 503), and only then a global slot for decoding,
// appending and the durable commit (503).
func (h *Handler) handle(w http.ResponseWriter, r *http.Request, api string) (int, int) {
	ctx := r.Context()
	l := h.lim.Load()
	rc := http.NewResponseController(w)
	var rd *rateReader
	defer func() {
		// Answered before the body was read to its end: net/http then
		// drains what is left; give the sender a second, not the
		// server's read timeout, so that a trickling body is cut.
		if r.ContentLength != 0 && (rd == nil || !rd.eof) {
			_ = rc.SetReadDeadline(time.Now().Add(time.Second))
		}
	}()
	src := sourceOf(r)
	if wait := h.guard.Blocked(src, time.Now()); wait > 0 {
		e := fail(http.StatusTooManyRequests, "too many requests", reasonAuthBlocked,
			fmt.Errorf("more than %d failed authentications from %s within a minute (limits.auth_failures_per_minute): check the token, then retry", h.guard.Limit(), src))
		e.retryAfter = strconv.Itoa(int(math.Ceil(wait.Seconds())))
		return h.reject(w, api, e, 0), 0
	}
	id, aerr := h.authenticate(ctx, r, api)
	if aerr != nil {
		if aerr.status == http.StatusUnauthorized {
			h.refused(src, tokenID(tokenFrom(r, api)), aerr)
		}
		return h.reject(w, api, aerr, 0), 0
	}
	log := h.o.Logger.With("agent", id.Agent)
	prec, err := lineproto.ParsePrecision(r.URL.Query().Get("precision"))
	if err != nil {
		return h.reject(w, api, fail(http.StatusBadRequest, "invalid", reasonPrecision, err), 0), 0
	}
	held, ok := h.agents.acquire(id.Agent, l.MaxInflightPerAgent)
	if !ok {
		e := fail(http.StatusTooManyRequests, "too many requests", reasonAgentBusy,
			fmt.Errorf("agent %q has %d write requests in flight already (limits.max_inflight_requests_per_agent); retry later", id.Agent, l.MaxInflightPerAgent))
		e.retryAfter = "1"
		return h.reject(w, api, e, 0), 0
	}
	if held {
		defer h.agents.release(id.Agent)
	}

	if batches.IsContentType(r.Header.Get("Content-Type")) {
		return h.handleBatches(w, r, api, l, id, prec, src, log, rc, &rd)
	}

	var batch statedb.BatchKey
	if b := r.Header.Get("Pantau-Batch"); b != "" {
		if len(b) > MaxBatchIDBytes {
			return h.reject(w, api, fail(http.StatusBadRequest, "invalid", reasonMalformed, fmt.Errorf("Pantau-Batch header longer than %d bytes", MaxBatchIDBytes)), 0), 0
		}
		batch = statedb.BatchKey{Agent: id.Agent, Batch: b}
		if h.o.Batches != nil && h.o.Batches.Seen(batch) {
			h.m.batches.WithLabelValues("duplicate").Inc()
			w.WriteHeader(http.StatusNoContent)
			return http.StatusNoContent, 0
		}
	}

	bb := h.getBuf(l.MaxDecodedBytesInFlight)
	defer h.putBuf(bb)
	if r.ContentLength != 0 {
		now := time.Now()
		rd = &rateReader{r: r.Body, rc: rc, start: now, grace: l.BodyReadGrace, rate: l.MinBodyRate, hard: now.Add(h.o.BodyTimeout)}
		if aerr := h.readBody(r, l, rd, bb); aerr != nil {
			if aerr.status == http.StatusRequestTimeout {
				log.Info("slow request body cut", "source", src, "bytes", rd.n, "seconds", time.Since(now).Seconds())
			}
			return h.reject(w, api, aerr, 0), 0
		}
	}
	body := bb.b
	h.m.decodedBytes.Add(float64(len(body)))
	// The global slot is taken once the body is in memory: a slow
	// sender holds no more than its own agent's slots.
	if h.inflight.Add(1) > int64(l.MaxInflight) {
		h.inflight.Add(-1)
		e := fail(http.StatusServiceUnavailable, "unavailable", reasonOverload,
			fmt.Errorf("collector busy: %d write requests in flight (limits.max_inflight_requests); retry later", l.MaxInflight))
		e.retryAfter = "1"
		return h.reject(w, api, e, 0), 0
	}
	defer h.inflight.Add(-1)

	res, aerr := h.store(ctx, l, id, body, prec)
	if aerr != nil {
		if aerr.status >= 500 {
			log.Error("write failed", "err", aerr.err)
		} else {
			log.Debug("write rejected", "reason", aerr.reason, "err", aerr.err)
		}
		if aerr.status == http.StatusForbidden {
			h.refused(src, id.TokenID, aerr)
		}
		return h.reject(w, api, aerr, countLines(body)), 0
	}
	var item any
	if batch.Batch != "" {
		item = Committed{Batches: []statedb.BatchKey{batch}, Marks: res.marks}
	} else if len(res.marks) > 0 {
		item = Committed{Marks: res.marks}
	}
	if aerr := h.sync(ctx, w, log, item); aerr != nil {
		return h.reject(w, api, aerr, 0), 0
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

// sync waits for the durable commit of what the request appended,
// recording item with it; the error is the request's answer otherwise.
func (h *Handler) sync(ctx context.Context, w http.ResponseWriter, log *slog.Logger, item any) *apiError {
	err := h.o.Store.Sync(ctx, item)
	if err == nil {
		return nil
	}
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
		return fail(http.StatusServiceUnavailable, "unavailable", reasonInternal, err)
	default:
		log.Error("durable commit failed", "err", err)
	}
	return fail(http.StatusInternalServerError, "internal error", reasonInternal, fmt.Errorf("commit to storage: %w", err))
}

// getBuf returns a body buffer whose capacity is reserved from the
// memory budget (a pooled buffer that does not fit is left to the GC).
func (h *Handler) getBuf(max int64) *bodyBuf {
	bb, _ := h.bufs.Get().(*bodyBuf)
	if bb == nil {
		return &bodyBuf{}
	}
	if !h.bg.tryReserve(int64(cap(bb.b)), 0, max) {
		bb.b = nil
		return bb
	}
	bb.reserved = int64(cap(bb.b))
	return bb
}

func (h *Handler) putBuf(bb *bodyBuf) {
	h.bg.release(bb.reserved)
	bb.reserved = 0
	if cap(bb.b) > maxPooledBuf {
		return // don't pin huge buffers
	}
	bb.b = bb.b[:0]
	h.bufs.Put(bb)
}

// refused logs a 401 or 403 at WARN, at most once a minute per source
// address (with the number of refusals not logged since), and counts a
// 401 towards the address's limit. The token's secret is never logged;
// its public id is when the token has the right shape.
func (h *Handler) refused(src, tokenID string, e *apiError) {
	logIt, suppressed := h.guard.Refused(src, e.status == http.StatusUnauthorized, time.Now())
	if !logIt {
		return
	}
	h.o.Logger.Warn("write refused", "status", e.status, "source", src, "token_id", tokenID,
		"err", e.err, "suppressed_since_last", suppressed)
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
	case errors.Is(err, statedb.ErrExpiredToken):
		return id, fail(http.StatusUnauthorized, "unauthorized", reasonUnauth, errors.New("token has expired"))
	case err != nil:
		return id, fail(http.StatusServiceUnavailable, "unavailable", reasonInternal, fmt.Errorf("check token: %w", err))
	}
	if id.Role != statedb.RoleAgent && id.Role != "" {
		return id, fail(http.StatusForbidden, "forbidden", reasonForbidden,
			fmt.Errorf("token %s is a %s token: only agent tokens write (pantau-collector token create --agent ID)", id.TokenID, id.Role))
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

// readBody reads the body through rd (the minimum rate) into bb (the
// memory budget), decompressing it; both limits apply to the wire bytes
// and to the decompressed ones.
func (h *Handler) readBody(r *http.Request, l *Limits, rd *rateReader, bb *bodyBuf) *apiError {
	limit := l.MaxBodyBytes
	tooLarge := fail(http.StatusRequestEntityTooLarge, "request too large", reasonTooLarge,
		fmt.Errorf("body larger than %d bytes (limits.max_body_bytes): split the batch", limit))
	// The connection may still hold unread body; don't reuse it.
	tooLarge.closeConn = true
	if r.ContentLength > limit {
		return tooLarge
	}
	tooSlow := func() *apiError {
		e := fail(http.StatusRequestTimeout, "invalid", reasonSlowBody,
			fmt.Errorf("request body arrived slower than %.0f bytes per second after %s (limits.min_body_rate_bytes_per_second) or took longer than %s: %d bytes read",
				rd.rate, rd.grace, h.o.BodyTimeout, rd.n))
		e.closeConn = true
		return e
	}
	wire := &countingReader{r: io.LimitReader(rd, limit+1)}
	var src io.Reader = wire
	enc := "identity"
	hint := max(r.ContentLength, 0)
	switch ce := r.Header.Get("Content-Encoding"); ce {
	case "", "identity":
	case "gzip", "x-gzip":
		enc, hint = "gzip", 0
		zr, err := h.gzipReader(wire)
		if err != nil {
			h.m.bytes.WithLabelValues(enc).Add(float64(wire.n))
			if rd.slow {
				return tooSlow()
			}
			return fail(http.StatusBadRequest, "invalid", reasonEncoding,
				fmt.Errorf("body is not valid gzip although Content-Encoding says gzip: %w", err))
		}
		defer h.gzips.Put(zr)
		src = zr
	default:
		return fail(http.StatusUnsupportedMediaType, "invalid", reasonEncoding,
			fmt.Errorf("unsupported Content-Encoding %q: use gzip or none", ce))
	}
	err := bb.fill(r.Context(), src, limit, hint, &h.bg, l.MaxDecodedBytesInFlight)
	h.m.bytes.WithLabelValues(enc).Add(float64(wire.n))
	switch {
	case errors.Is(err, errBudget):
		e := fail(http.StatusServiceUnavailable, "unavailable", reasonMemory,
			fmt.Errorf("collector busy: the bodies being read hold %d bytes already (limits.max_decoded_bytes_in_flight) and none was given back within %s; retry later", l.MaxDecodedBytesInFlight, budgetWait))
		e.retryAfter, e.closeConn = "1", true
		return e
	case rd.slow:
		return tooSlow()
	case wire.n > limit || int64(len(bb.b)) > limit:
		return tooLarge
	case err != nil && enc == "gzip":
		return fail(http.StatusBadRequest, "invalid", reasonEncoding, fmt.Errorf("body is not valid gzip or was cut short: %w", err))
	case err != nil:
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
	if e.status != http.StatusUnprocessableEntity {
		h.m.rejectedRequests.WithLabelValues(e.reason).Inc()
	}
	if e.retryAfter != "" {
		w.Header().Set("Retry-After", e.retryAfter)
	}
	if e.closeConn {
		w.Header().Set("Connection", "close")
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

// Committed is the item a write hands to Store.Sync: the batch ids it
// stored (none without a Pantau-Batch header; several for a multi-batch
// request) and the SLA minute marks of its points, so that both are
// recorded by the group commit that made the samples durable, before the
// answer.
type Committed struct {
	Batches []statedb.BatchKey
	Marks   []sla.Mark
}

// scratch is per-request working memory, reused through a pool.
type scratch struct {
	key     []byte
	tags    []span // offsets into key
	fields  []byte // field keys of the current line, back to back
	pending []pendingSample
	lbls    labels.ScratchBuilder
	marks   []sla.Mark
	// tr holds the translation of the current line when it is one of
	// Telegraf's (telegraf.go); wide tells which of its octet counters
	// (receive, transmit) are 64-bit.
	tr   *scratch
	wide [2]bool
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

// slaMarks adds the SLA mark of an icmp round, an agent heartbeat (also
// Telegraf's internal_agent) or a plugin check of an inventory service.
func (h *Handler) slaMarks(sc *scratch, scope sla.Scope, m []byte, ts int64) {
	switch string(m) {
	case "icmp":
		up, ok := sc.field("up")
		if !ok {
			return
		}
		loss, _ := sc.field("loss_ratio")
		rtt, hasRTT := sc.field("rtt_avg_seconds")
		sc.marks = h.o.SLA.ICMPScoped(sc.marks, scope, sc.tag("link"), sc.tag("target"), ts, up > 0, loss, rtt, hasRTT)
	case "snmp_radio":
		// a radio link's signal below its threshold degrades its minute
		if signal, ok := sc.field("signal_dbm"); ok {
			sc.marks = h.o.SLA.RadioScoped(sc.marks, scope, sc.tag("link"), sc.tag("device"), sc.tag("ifname"), ts, signal)
		}
	case "snmp_ups":
		// a site whose UPS is on battery has lost mains power
		if ob, ok := sc.field("on_battery"); ok && ob > 0 {
			sc.marks = h.o.SLA.UPSScoped(sc.marks, scope, sc.tag("site"), sc.tag("device"), ts)
		}
	case "agent", "internal_agent":
		// Pantau's agent's heartbeat, or Telegraf's own statistics
		// (inputs.internal), gathered on the box at every interval
		sc.marks = h.o.SLA.HeartbeatBytes(sc.marks, sc.tag("site"), ts)
	default:
		if !h.o.SLA.ChecksServices(m) {
			return
		}
		svc := h.o.SLA.ServiceScoped(m, scope, sc.tag("target"))
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
func (h *Handler) store(ctx context.Context, l *Limits, id statedb.Identity, body []byte, prec lineproto.Precision) (result, *apiError) {
	sc := h.scratch.Get().(*scratch)
	defer h.scratch.Put(sc)
	now := h.o.Now()
	nowNs := now.UnixNano()
	nowSec := now.Unix()
	maxT := nowNs + l.MaxClockSkew.Nanoseconds()
	minT := nowNs - h.o.OutOfOrderWindow.Nanoseconds()
	as := h.series.get(id.Agent)
	app := h.o.Store.Appender(ctx)
	sc.marks = sc.marks[:0]
	// what the token may write and decide (sla.Scope)
	scope := sla.Scope{Agent: id.Agent, Sites: id.Sites}
	var (
		res         result
		dropped     int
		firstErr    *lineproto.Error
		firstReason string
	)
	abort := func(e *apiError) (result, *apiError) {
		if err := app.Rollback(); err != nil {
			h.o.Logger.Warn("rollback failed", "agent", id.Agent, "err", err)
		}
		return result{}, e
	}
	d := lineproto.NewDecoder(body, prec)
	// emit appends the samples of line ln (measurement m) and adds its
	// SLA marks to ln.marks.
	emit := func(ln *scratch, m []byte, ts, tms int64) *apiError {
		if h.o.SLA != nil {
			h.slaMarks(ln, scope, m, ts)
		}
		var (
			invLabels [][2]string
			invDone   bool
		)
		for i := range ln.pending {
			ps := &ln.pending[i]
			if ps.fs == nil {
				field := ln.fields[ps.f0:ps.f1]
				if !invDone && h.o.SLA != nil {
					invDone = true
					invLabels = h.o.SLA.SeriesLabelsScoped(scope, string(m), string(ln.tag("link")), string(ln.tag("target")),
						string(ln.tag("device")), string(ln.tag("ifname")))
				}
				lset, aerr := ln.labels(d, id.Agent, m, field, invLabels)
				if aerr != nil {
					return aerr
				}
				ps.fs = as.insert(ln.key, field, lset, l.MaxSeriesPerAgent, nowSec)
				if ps.fs == nil {
					h.m.rejectedSample.WithLabelValues(reasonSeriesLimit).Inc()
					if firstErr == nil {
						firstReason = reasonSeriesLimit
						firstErr = d.ErrorAt(nil, fmt.Errorf("new series %s dropped: agent %q is at limits.max_series_per_agent (%d)", lset, id.Agent, l.MaxSeriesPerAgent))
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
				// A different value for a time already stored: the first
				// write wins, and the writer is told (partial write).
				h.m.rejectedSample.WithLabelValues(reasonDuplicate).Inc()
				if firstErr == nil {
					firstReason = reasonDuplicate
					firstErr = d.ErrorAt(nil, fmt.Errorf("sample of %s at %s dropped: a different value is already stored for this series at this millisecond (the first write wins)",
						ps.fs.lset, time.UnixMilli(tms).UTC().Format("2006-01-02T15:04:05.000Z")))
				}
			case errors.Is(err, storage.ErrOutOfBounds), errors.Is(err, storage.ErrTooOldSample), errors.Is(err, storage.ErrOutOfOrderSample):
				return fail(http.StatusBadRequest, "invalid", reasonTimestamp, d.ErrorAt(nil,
					fmt.Errorf("timestamp %s is too old for storage: %w", time.Unix(0, ts).UTC().Format(time.RFC3339), err)))
			default:
				return fail(http.StatusInternalServerError, "internal error", reasonInternal, fmt.Errorf("append to TSDB: %w", err))
			}
		}
		return nil
	}
	for d.Next() {
		m, err := d.Measurement()
		if err != nil {
			return abort(fail(http.StatusBadRequest, "invalid", reasonMalformed, err))
		}
		if len(m) > l.MaxMeasurementBytes {
			return abort(fail(http.StatusBadRequest, "invalid", reasonNameLength, d.ErrorAt(m,
				fmt.Errorf("measurement %s is %d bytes; at most %d are allowed (limits.max_measurement_bytes)", quoteName(m), len(m), l.MaxMeasurementBytes))))
		}
		if r := reservedMeasurement(m); r != "" {
			return abort(fail(http.StatusBadRequest, "invalid", reasonReserved, d.ErrorAt(m,
				fmt.Errorf("measurement %s is reserved: the collector stores its own pantau_%s_* series (SLA states, inventory, its metrics)", quoteName(m), r))))
		}
		meas, known := schema.V1[string(m)]
		sc.key = append(sc.key[:0], m...)
		sc.key = append(sc.key, 0)
		sc.tags = sc.tags[:0]
		hasSite := false
		var linkAt []byte // the link tag's value, for the error position
		for {
			k, v, err := d.NextTag()
			if err != nil {
				return abort(fail(http.StatusBadRequest, "invalid", reasonMalformed, err))
			}
			if k == nil {
				break
			}
			if n := labelNameLen(k); n > l.MaxTagKeyBytes {
				return abort(fail(http.StatusBadRequest, "invalid", reasonNameLength, d.ErrorAt(k,
					fmt.Errorf("tag key %s is %d bytes as a label; at most %d are allowed (limits.max_tag_key_bytes)", quoteName(k), n, l.MaxTagKeyBytes))))
			}
			if aerr := checkTag(d, id, k, v); aerr != nil {
				return abort(aerr)
			}
			switch string(k) {
			case "agent":
				continue // the agent label always comes from the token
			case "site":
				hasSite = true
			case "link":
				linkAt = v
			}
			sc.addTag(k, v)
			if aerr := h.checkLabels(l, d, m, len(sc.tags)); aerr != nil {
				return abort(aerr)
			}
		}
		if !hasSite && len(id.Sites) == 1 {
			sc.addTag([]byte("site"), []byte(id.Sites[0]))
			if aerr := h.checkLabels(l, d, m, len(sc.tags)); aerr != nil {
				return abort(aerr)
			}
		}
		if h.o.SLA != nil && linkAt != nil {
			// A link tag naming an inventory link outside the token's
			// scope: refused, not stored under the link's name.
			if e := h.o.SLA.CheckLinkTag(scope, sc.tag("link")); e != nil {
				return abort(fail(http.StatusForbidden, "forbidden", reasonForbidden, d.ErrorAt(linkAt, e)))
			}
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
			if len(k) > l.MaxFieldKeyBytes {
				return abort(fail(http.StatusBadRequest, "invalid", reasonNameLength, d.ErrorAt(k,
					fmt.Errorf("field key %s is %d bytes; at most %d are allowed (limits.max_field_key_bytes)", quoteName(k), len(k), l.MaxFieldKeyBytes))))
			}
			f, keep, aerr := h.fieldValue(l, d, m, meas, known, k, val)
			if aerr != nil {
				return abort(aerr)
			}
			if !keep {
				dropped++
				continue
			}
			f0 := len(sc.fields)
			if n, ok := meas.Renamed[string(k)]; ok {
				sc.fields = append(sc.fields, n...) // a former name (older agent): stored under the current one
			} else {
				sc.fields = append(sc.fields, k...)
			}
			sc.pending = append(sc.pending, pendingSample{value: f, f0: f0, f1: len(sc.fields)})
		}
		var tm string // the measurement the line is translated to
		tr := sc.tr
		if tr == nil {
			tr = new(scratch)
			sc.tr = tr
		}
		if !h.o.NoTelegraf {
			tm = translateTelegraf(sc, tr, m)
		}
		as.lookupAll(sc)
		ts, err := d.Time(nowNs)
		if err != nil {
			return abort(fail(http.StatusBadRequest, "invalid", reasonMalformed, err))
		}
		if ts > maxT {
			return abort(fail(http.StatusBadRequest, "invalid", reasonTimestamp, d.ErrorAt(nil,
				fmt.Errorf("timestamp %s is %s in the future, more than limits.max_clock_skew (%s): check the writer's clock and the precision parameter (%s)",
					time.Unix(0, ts).UTC().Format(time.RFC3339), time.Duration(ts-nowNs).Round(time.Second), l.MaxClockSkew, prec))))
		}
		if ts < minT {
			return abort(fail(http.StatusBadRequest, "invalid", reasonTimestamp, d.ErrorAt(nil,
				fmt.Errorf("timestamp %s is older than the out-of-order window (storage.out_of_order_window = %s); check the precision parameter (%s)",
					time.Unix(0, ts).UTC().Format(time.RFC3339), h.o.OutOfOrderWindow, prec))))
		}
		tms := floorDiv(ts, 1e6)
		if aerr := emit(sc, m, ts, tms); aerr != nil {
			return abort(aerr)
		}
		if tm != "" {
			if tm == "snmp_if" {
				as.ifRates(tr, ts, l.MaxSeriesPerAgent)
			}
			as.lookupAll(tr)
			if aerr := emit(tr, []byte(tm), ts, tms); aerr != nil {
				return abort(aerr)
			}
			sc.marks = append(sc.marks, tr.marks...)
		}
		res.points++
	}
	if err := app.Commit(); err != nil {
		return result{}, fail(http.StatusInternalServerError, "internal error", reasonInternal, fmt.Errorf("commit to TSDB: %w", err))
	}
	if dropped > 0 {
		h.m.rejectedSample.WithLabelValues(reasonString).Add(float64(dropped))
		h.m.stringFields.WithLabelValues(id.Agent).Add(float64(dropped))
	}
	if len(sc.marks) > 0 {
		res.marks = append([]sla.Mark(nil), sc.marks...)
	}
	if firstErr != nil {
		res.partial = fail(http.StatusUnprocessableEntity, "unprocessable entity", firstReason,
			fmt.Errorf("partial write: %w", firstErr))
	}
	return res, nil
}

const maxTagValueLen = 2048

// checkLabels bounds the labels of a line's series: n tags, __name__ and
// agent.
func (h *Handler) checkLabels(l *Limits, d *lineproto.Decoder, m []byte, n int) *apiError {
	if n+2 <= l.MaxLabelsPerSeries {
		return nil
	}
	return fail(http.StatusBadRequest, "invalid", reasonLabels, d.ErrorAt(m,
		fmt.Errorf("too many tags: the series would have more than %d labels (its tags, __name__ and agent; limits.max_labels_per_series)", l.MaxLabelsPerSeries)))
}

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
	case reservedLabel(k):
		return fail(http.StatusBadRequest, "invalid", reasonReserved, d.ErrorAt(k,
			fmt.Errorf("tag key %s is reserved: it becomes label %s, and labels starting with __ are Prometheus's own", quoteName(k), quoteName([]byte(schema.LabelName(string(k)))))))
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
func (h *Handler) fieldValue(l *Limits, d *lineproto.Decoder, m []byte, meas schema.Measurement, known bool, k []byte, v lineprotocol.Value) (float64, bool, *apiError) {
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
		if !l.RejectStringFields {
			return 0, false, nil
		}
		return 0, false, fail(http.StatusBadRequest, "invalid", reasonString, d.ErrorAt(k,
			fmt.Errorf("field %s is a string; only numbers and booleans can be stored (ingest.string_fields is reject; with drop, the default, string fields are dropped and counted)", k)))
	}
	if !known {
		return f, true, nil
	}
	want, ok := meas.Fields[string(k)]
	if n, renamed := meas.Renamed[string(k)]; !ok && renamed {
		want, ok = meas.Fields[n] // a former name is checked as the current one
	}
	if !ok {
		return f, true, nil // additive schema: unknown fields are allowed
	}
	t := schema.FloatValue
	switch v.Kind() {
	case lineprotocol.Int:
		t = schema.IntValue
	case lineprotocol.Uint:
		t = schema.UintValue
	case lineprotocol.Bool:
		t = schema.BoolValue
	}
	if !want.Accepts(t, f) {
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
