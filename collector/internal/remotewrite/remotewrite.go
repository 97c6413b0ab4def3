// Package remotewrite is the collector's durable Prometheus remote-write
// client (protocol 1.0: protobuf WriteRequest, snappy block compression):
// the collector tees every sample it acknowledges into a queue on disk, and
// senders deliver that queue to one or more engines (VictoriaMetrics,
// Grafana Mimir, Thanos Receive, Prometheus).
//
// Why not Prometheus's own storage/remote: its queue manager is fed by a
// watcher that tails the TSDB write-ahead log. The watcher drops every
// sample older than its own start (tsdb/wlog/watcher.go,
// s.T > w.startTimestamp) and never reads the out-of-order WBL, so an
// agent's backlog, delivered late after a WAN outage and exactly the data
// Pantau exists to keep, would never reach the engine. It also needs a
// local TSDB, and the collector can run without one.
//
// Durability: Commit of the tee appender returns once the encoded requests
// are files in the queue (internal/spool, one file per request), and Sync
// fsyncs them; the collector calls Sync in the group commit that precedes
// its acknowledgement of a write. So a write the collector acknowledged is
// in this queue, survives kill -9 and power loss, and is delivered to every
// endpoint at least once. After a crash a request that was sent but not yet
// marked delivered is sent again, with identical timestamps and values:
// Prometheus-based engines store such a sample once, VictoriaMetrics does
// with -dedup.minScrapeInterval=1ms (docs/scale-out.md).
//
// Batching: the queue holds one request per acknowledged write (tens of
// samples with agents' one-second batches). A sender joins consecutive
// queued requests into one of at most MaxSamplesPerRequest samples (a
// concatenation of WriteRequests is one WriteRequest), waiting up to
// BatchWait from the oldest for more to arrive; a joined request
// the engine refuses for good (4xx) is sent again one queued request at a
// time, so only what the engine refuses is dropped.
//
// Ordering: each endpoint has its own cursor in the queue and Shards
// concurrent senders, and a failed request goes back to the queue while
// later ones proceed, so requests can arrive out of order. Agents' backlogs
// are out of order anyway. The engine must therefore accept out-of-order
// samples at least as old as the agents' buffering window (7 days by
// default): VictoriaMetrics does so by default; Prometheus needs
// storage.tsdb.out_of_order_time_window in its configuration file (and
// --web.enable-remote-write-receiver); Mimir needs
// out_of_order_time_window in its limits.
//
// Drop policy: 2xx marks a request delivered. 429, 5xx, other non-4xx
// answers (a redirect that would turn the POST into a GET) and network
// errors are retried, after a backoff shared by the endpoint's shards:
// capped exponential with full jitter, at least Retry-After (capped at
// MaxBackoff). A failing endpoint is logged when it starts failing and when
// it recovers, not per retry. Any other 4xx means the engine will never
// take the request as is (bad labels, samples older than it accepts): it is
// dropped, its samples counted under result="dropped", and the engine's
// message logged at error level. The queue is bounded by MaxBytes and
// MaxAge; beyond them the oldest requests are deleted first, delivered or
// not, and the undelivered samples are counted in
// pantau_remote_write_queue_dropped_samples_total.
//
// The queue carries float samples only: native histograms, exemplars and
// metadata go to the local TSDB alone (the collector ingests none).
package remotewrite

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/http/httpguts"

	"github.com/pantau-noc/pantau/internal/spool"
)

// Endpoint is one engine that receives everything queued.
type Endpoint struct {
	Name          string            // unique; queue cursor name and metric label; [a-z0-9_-]+
	URL           string            // e.g. http://127.0.0.1:8428/api/v1/write
	Headers       map[string]string // extra headers (e.g. X-Scope-OrgID for Mimir)
	BearerToken   string            // resolved secret; never logged
	BasicUser     string
	BasicPassword string        // resolved secret; never logged
	TLS           *tls.Config   // nil: Go defaults
	Timeout       time.Duration // per request; default 30s
	Shards        int           // concurrent requests per endpoint; default 4
}

// String describes e without its secrets, so that printing an Endpoint
// (%v, %+v, %#v) or logging it cannot leak them.
func (e Endpoint) String() string {
	auth := "none"
	switch {
	case e.BearerToken != "":
		auth = "bearer <secret>"
	case e.BasicUser != "":
		auth = "basic " + e.BasicUser + ":<secret>"
	}
	u := e.URL
	if p, err := url.Parse(e.URL); err == nil {
		u = p.Redacted()
	}
	return fmt.Sprintf("endpoint %s (%s, auth %s)", e.Name, u, auth)
}

// GoString is String, for %#v.
func (e Endpoint) GoString() string { return e.String() }

// LogValue is String, for slog.
func (e Endpoint) LogValue() slog.Value { return slog.StringValue(e.String()) }

// Options configure Open.
type Options struct {
	Dir                  string        // queue directory, e.g. <data_dir>/remote_write
	Endpoints            []Endpoint    // at least one
	MaxBytes             int64         // queue bound; default 1 GiB (oldest dropped first, counted)
	MaxAge               time.Duration // default 7 days
	MaxSamplesPerRequest int           // default 2000
	// BatchWait is how long a request that has room waits for more
	// queued samples, counted from its oldest; default 1s, negative for
	// none. Data reaches the engine that much later; nothing is less
	// durable (the queue is on disk).
	BatchWait  time.Duration
	MinBackoff time.Duration // default 250ms
	MaxBackoff time.Duration // default 30s
	UserAgent  string        // e.g. "pantau-collector/1.2.3"
	Logger     *slog.Logger  // required
	Client     *http.Client  // optional (tests); else one per endpoint built from TLS/Timeout
}

// Defaults for zero Options and Endpoint fields.
const (
	DefaultMaxBytes             = 1 << 30
	DefaultMaxAge               = 7 * 24 * time.Hour
	DefaultMaxSamplesPerRequest = 2000
	DefaultBatchWait            = time.Second
	DefaultMinBackoff           = 250 * time.Millisecond
	DefaultMaxBackoff           = 30 * time.Second
	DefaultTimeout              = 30 * time.Second
	DefaultShards               = 4
	defaultUserAgent            = "pantau-collector"
	// maxEndpoints bounds the endpoints of one queue (each has a cursor
	// and senders).
	maxEndpoints = 64
	// syncInterval is how often the spool fsyncs on its own and applies
	// MaxAge; the group commit's Sync makes acknowledged writes durable
	// sooner.
	syncInterval = time.Second
)

// Queue is the open remote-write queue with its senders.
type Queue struct {
	o       Options
	log     *slog.Logger
	sp      *spool.Spool
	eps     []*endpoint
	m       *metrics
	running atomic.Bool
	closed  atomic.Bool
}

var endpointNameRE = regexp.MustCompile(`^[a-z0-9_-]+$`)

// reservedHeaders are set by the client itself (Prometheus's
// config.reservedHeaders, plus Authorization: use BearerToken or
// BasicUser/BasicPassword, which are kept out of logs).
var reservedHeaders = map[string]bool{
	"authorization": true, "host": true, "content-encoding": true, "content-length": true,
	"content-type": true, "user-agent": true, "connection": true, "keep-alive": true,
	"proxy-authenticate": true, "proxy-authorization": true, "www-authenticate": true,
	"accept-encoding": true, "x-prometheus-remote-write-version": true,
	"x-prometheus-remote-read-version": true,
}

// validate fills in defaults and reports every problem at once.
func (o *Options) validate() error {
	var errs []error
	bad := func(path, format string, args ...any) {
		errs = append(errs, fmt.Errorf("remote write: %s: %s", path, fmt.Sprintf(format, args...)))
	}
	if o.Logger == nil {
		bad("logger", "required")
	}
	if o.Dir == "" {
		bad("dir", "required (the queue directory, e.g. <data_dir>/remote_write)")
	}
	if len(o.Endpoints) == 0 {
		bad("endpoints", "at least one endpoint is required")
	}
	if len(o.Endpoints) > maxEndpoints {
		bad("endpoints", "at most %d endpoints (got %d)", maxEndpoints, len(o.Endpoints))
	}
	if o.MaxBytes < 0 {
		bad("max_bytes", "must not be negative (got %d)", o.MaxBytes)
	}
	if o.MaxAge < 0 {
		bad("max_age", "must not be negative (got %s)", o.MaxAge)
	}
	if o.MaxSamplesPerRequest < 0 {
		bad("max_samples_per_request", "must not be negative (got %d)", o.MaxSamplesPerRequest)
	}
	if o.MinBackoff < 0 || o.MaxBackoff < 0 {
		bad("min_backoff", "backoffs must not be negative (got %s and %s)", o.MinBackoff, o.MaxBackoff)
	}
	o.MaxBytes = or(o.MaxBytes, DefaultMaxBytes)
	o.MaxAge = or(o.MaxAge, DefaultMaxAge)
	o.MaxSamplesPerRequest = or(o.MaxSamplesPerRequest, DefaultMaxSamplesPerRequest)
	o.BatchWait = max(or(o.BatchWait, DefaultBatchWait), 0)
	o.MinBackoff = or(o.MinBackoff, DefaultMinBackoff)
	o.MaxBackoff = or(o.MaxBackoff, DefaultMaxBackoff)
	if o.MinBackoff > o.MaxBackoff {
		bad("min_backoff", "must not exceed max_backoff (%s > %s)", o.MinBackoff, o.MaxBackoff)
	}
	o.UserAgent = or(o.UserAgent, defaultUserAgent)
	names := map[string]bool{}
	for i := range o.Endpoints {
		e := &o.Endpoints[i]
		p := fmt.Sprintf("endpoints[%d]", i)
		switch {
		case !endpointNameRE.MatchString(e.Name):
			bad(p+".name", "must match [a-z0-9_-]+ (got %q)", e.Name)
		case names[e.Name]:
			bad(p+".name", "%q is used by another endpoint; names must be unique", e.Name)
		}
		names[e.Name] = true
		if u, err := url.Parse(e.URL); err != nil {
			bad(p+".url", "not a URL (%v)", err)
		} else if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad(p+".url", "must be an absolute http:// or https:// URL, e.g. http://127.0.0.1:8428/api/v1/write (got %q)", u.Redacted())
		} else if u.User != nil {
			bad(p+".url", "must not contain credentials: use basic auth or a bearer token")
		}
		if e.BearerToken != "" && (e.BasicUser != "" || e.BasicPassword != "") {
			bad(p, "set either a bearer token or basic auth, not both")
		}
		if e.BasicPassword != "" && e.BasicUser == "" {
			bad(p+".basic_user", "required with a basic auth password")
		}
		for k, v := range e.Headers {
			switch {
			case !httpguts.ValidHeaderFieldName(k):
				bad(p+".headers", "%q is not a valid header name", k)
			case reservedHeaders[strings.ToLower(k)]:
				bad(p+".headers", "%s is set by the client and cannot be configured", k)
			case !httpguts.ValidHeaderFieldValue(v):
				bad(p+".headers", "the value of %s is not a valid header value", k)
			}
		}
		if e.Timeout < 0 {
			bad(p+".timeout", "must not be negative (got %s)", e.Timeout)
		}
		if e.Shards < 0 {
			bad(p+".shards", "must not be negative (got %d)", e.Shards)
		}
		e.Timeout = or(e.Timeout, DefaultTimeout)
		e.Shards = or(e.Shards, DefaultShards)
	}
	return errors.Join(errs...)
}

func or[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// Open validates o, opens the queue in o.Dir, and positions a cursor per
// endpoint (a new endpoint starts at the oldest queued request). Cursors of
// endpoints no longer configured are removed, so their backlog no longer
// holds data on disk.
func Open(o Options) (*Queue, error) {
	o.Endpoints = append([]Endpoint(nil), o.Endpoints...) // defaults go into a copy
	if err := o.validate(); err != nil {
		return nil, err
	}
	sp, err := spool.Open(spool.Options{
		Dir:          o.Dir,
		MaxBytes:     o.MaxBytes,
		MaxAge:       o.MaxAge,
		SyncInterval: syncInterval,
		Logger:       o.Logger.With("queue", "remote_write"),
		Raw:          true,
	})
	if err != nil {
		return nil, fmt.Errorf("open remote-write queue %s: %w", o.Dir, err)
	}
	q := &Queue{o: o, log: o.Logger, sp: sp}
	names := make([]string, len(o.Endpoints))
	for i, e := range o.Endpoints {
		names[i] = e.Name
	}
	q.m = newMetrics(q, names)
	for _, e := range o.Endpoints {
		cur, err := sp.Cursor(e.Name)
		if err != nil {
			sp.Close()
			return nil, fmt.Errorf("open remote-write cursor for endpoint %s: %w", e.Name, err)
		}
		q.eps = append(q.eps, newEndpoint(q, e, cur))
	}
	// With every current cursor loaded, this also deletes what all of them
	// have had.
	if err := sp.RemoveCursorsExcept(names); err != nil {
		sp.Close()
		return nil, fmt.Errorf("open remote-write queue %s: %w", o.Dir, err)
	}
	for _, ep := range q.eps {
		if st := ep.cur.Stats(); st.Records > 0 {
			ep.log.Info("remote-write backlog from an earlier run", "batches", st.Records, "samples", st.Points,
				"oldest_age_seconds", time.Since(st.Oldest).Seconds())
		}
	}
	return q, nil
}

// Sync fsyncs every request queued so far. The collector calls it in its
// group commit, before it acknowledges a write.
func (q *Queue) Sync() error {
	if err := q.sp.Sync(); err != nil {
		return fmt.Errorf("fsync remote-write queue %s: %w", q.o.Dir, err)
	}
	return nil
}

// Close fsyncs and closes the queue; call it after Run has returned (a
// running sender stops at its next request).
func (q *Queue) Close() error {
	if q.closed.Swap(true) {
		return nil
	}
	if q.o.Client == nil {
		for _, ep := range q.eps {
			ep.client.CloseIdleConnections()
		}
	}
	if err := q.sp.Close(); err != nil {
		return fmt.Errorf("close remote-write queue %s: %w", q.o.Dir, err)
	}
	return nil
}

// Pending reports what waits for the named endpoint: queued requests not yet
// delivered to it, their samples, and when the oldest was queued (zero when
// nothing waits).
func (q *Queue) Pending(endpoint string) (batches int, samples int64, oldest time.Time) {
	for _, ep := range q.eps {
		if ep.Name == endpoint {
			st := ep.cur.Stats()
			return st.Records, st.Points, st.Oldest
		}
	}
	return 0, 0, time.Time{}
}

// Run sends the queue to every endpoint until ctx ends, and returns once
// the requests in flight have ended (they are cancelled with ctx; their
// requests stay queued and are sent again at the next start).
func (q *Queue) Run(ctx context.Context) error {
	if q.running.Swap(true) {
		return errors.New("remote write: Run is already running")
	}
	defer q.running.Store(false)
	var wg sync.WaitGroup
	for _, ep := range q.eps {
		for range ep.Shards {
			wg.Go(func() { ep.shard(ctx) })
		}
	}
	wg.Wait()
	return nil
}
