package remotewrite

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pantau-noc/pantau/internal/spool"
)

// endpoint is one engine with its cursor in the queue.
type endpoint struct {
	Endpoint
	q      *Queue
	cur    *spool.Cursor
	client *http.Client
	log    *slog.Logger
	gate   gate

	sent, dropped prometheus.Counter
	duration      prometheus.Observer

	mu      sync.Mutex
	failing bool // logged as failing; the next success logs the recovery
	since   time.Time
	retries int
}

func newEndpoint(q *Queue, e Endpoint, cur *spool.Cursor) *endpoint {
	ep := &endpoint{Endpoint: e, q: q, cur: cur, client: q.o.Client,
		gate: gate{min: q.o.MinBackoff, max: q.o.MaxBackoff}}
	u, _ := url.Parse(e.URL) // validated
	ep.log = q.log.With("endpoint", e.Name, "url", u.Redacted())
	if ep.client == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		if e.TLS != nil {
			tr.TLSClientConfig = e.TLS.Clone()
		}
		tr.MaxIdleConnsPerHost = e.Shards
		ep.client = &http.Client{ // deadlines come from the request context
			Transport: tr,
			// Follow only redirects that keep the POST (307, 308): after a
			// 301, 302 or 303 the client would GET, and the engine's 4xx
			// would drop the data. The 3xx is retried and logged instead.
			CheckRedirect: func(req *http.Request, via []*http.Request) error {
				if req.Method != http.MethodPost || len(via) >= 10 {
					return http.ErrUseLastResponse
				}
				return nil
			},
		}
	}
	ep.sent = q.m.samples.WithLabelValues(e.Name, "sent")
	ep.dropped = q.m.samples.WithLabelValues(e.Name, "dropped")
	ep.duration = q.m.duration.WithLabelValues(e.Name)
	return ep
}

// shard sends one request at a time from the endpoint's cursor until ctx
// ends or the queue is closed.
func (ep *endpoint) shard(ctx context.Context) {
	for {
		recs, err := ep.cur.Next(ctx, 1)
		if err != nil {
			return // ctx ended, or the queue was closed
		}
		rec := recs[0]
		// Wait out the endpoint's backoff (after Next, which may have
		// waited long: the endpoint may have failed meanwhile).
		epoch, err := ep.gate.wait(ctx)
		if err != nil {
			ep.cur.Release(rec.Seq)
			return
		}
		switch res, after := ep.deliver(ctx, rec); res {
		case done:
			ep.gate.ok()
		case retry:
			if ctx.Err() != nil {
				ep.cur.Release(rec.Seq) // sent again at the next start
				return
			}
			// Close the gate before the batch is offered to another shard.
			ep.gate.failed(epoch, after)
			ep.cur.Release(rec.Seq)
		}
	}
}

// outcome is what became of one attempt to deliver a batch.
type outcome int

const (
	done    outcome = iota // delivered, or dropped for good (and acked)
	retry                  // still queued: back off, then send it again
	skipped                // deleted by the queue's bounds meanwhile
)

// deliver sends rec once. On retry the batch is still handed out to the
// shard, and after is the engine's Retry-After.
func (ep *endpoint) deliver(ctx context.Context, rec spool.Record) (res outcome, after time.Duration) {
	body, err := rec.Body()
	if errors.Is(err, fs.ErrNotExist) {
		// Deleted by the queue's bounds while it waited (and counted there).
		ep.cur.Release(rec.Seq)
		return skipped, 0
	}
	if err != nil {
		ep.fail(0, "", err)
		return retry, 0
	}
	code, msg, after, err := ep.post(ctx, body)
	switch {
	case err != nil:
		if ctx.Err() == nil {
			ep.fail(0, "", err)
		}
		return retry, 0
	case code/100 == 2:
		// Count and log before the ack: once Pending is 0, both are done.
		ep.sent.Add(float64(rec.Points))
		ep.recovered()
		ep.ack(rec)
		return done, 0
	case code == http.StatusTooManyRequests, code/100 != 4:
		// 429 and 5xx; also 1xx and 3xx, misconfigurations an operator
		// can fix: keep the data.
		ep.fail(code, msg, nil)
		return retry, after
	default:
		ep.dropped.Add(float64(rec.Points))
		ep.log.Error("remote-write endpoint rejected a request: its samples are dropped",
			"code", code, "response", msg, "samples", rec.Points, "batch", rec.Seq)
		ep.recovered()
		ep.ack(rec)
		return done, 0
	}
}

// ack marks rec delivered to this endpoint.
func (ep *endpoint) ack(rec spool.Record) {
	if err := ep.cur.Ack(rec.Seq); err != nil {
		// The ack holds in memory; after a crash the batch is sent again.
		ep.log.Error("cannot record remote-write progress", "err", err)
	}
}

// maxMessage bounds how much of an engine's answer is read and logged.
const maxMessage = 512

// post sends one request. It returns the status code and the start of the
// engine's answer, or a transport error.
func (ep *endpoint) post(ctx context.Context, body []byte) (code int, msg string, retryAfter time.Duration, err error) {
	rctx, cancel := context.WithTimeoutCause(ctx, ep.Timeout,
		fmt.Errorf("no answer from remote-write endpoint %s within %s (possible timeout)", ep.Name, ep.Timeout))
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, ep.URL, bytes.NewReader(body))
	if err != nil {
		return 0, "", 0, fmt.Errorf("build request for remote-write endpoint %s: %w", ep.Name, err)
	}
	for k, v := range ep.Headers {
		req.Header.Set(k, v)
	}
	req.Header.Set("Content-Encoding", "snappy")
	req.Header.Set("Content-Type", "application/x-protobuf")
	req.Header.Set("X-Prometheus-Remote-Write-Version", "0.1.0")
	req.Header.Set("User-Agent", ep.q.o.UserAgent)
	switch {
	case ep.BearerToken != "":
		req.Header.Set("Authorization", "Bearer "+ep.BearerToken)
	case ep.BasicUser != "":
		req.SetBasicAuth(ep.BasicUser, ep.BasicPassword)
	}
	start := time.Now()
	res, err := ep.client.Do(req)
	if err != nil {
		ep.duration.Observe(time.Since(start).Seconds())
		ep.q.m.requests.WithLabelValues(ep.Name, "error").Inc()
		if ctx.Err() == nil && rctx.Err() != nil {
			err = context.Cause(rctx)
		}
		return 0, "", 0, fmt.Errorf("post to remote-write endpoint %s: %w", ep.Name, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(res.Body, maxMessage))
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10)) // so the connection can be reused
	ep.duration.Observe(time.Since(start).Seconds())
	ep.q.m.requests.WithLabelValues(ep.Name, strconv.Itoa(res.StatusCode)).Inc()
	retryAfter, _ = parseRetryAfter(res.Header.Get("Retry-After"), time.Now())
	return res.StatusCode, strings.TrimSpace(string(b)), retryAfter, nil
}

// fail notes a failed attempt; only the first of a run is logged.
func (ep *endpoint) fail(code int, msg string, err error) {
	ep.mu.Lock()
	first := !ep.failing
	if first {
		ep.failing, ep.since, ep.retries = true, time.Now(), 0
	}
	ep.retries++
	ep.mu.Unlock()
	if !first {
		return
	}
	attrs := []any{}
	if code != 0 {
		attrs = append(attrs, "code", code, "response", msg)
	}
	if err != nil {
		attrs = append(attrs, "err", err)
	}
	ep.log.Warn("remote-write endpoint failing: retrying with backoff until it accepts", attrs...)
}

// recovered logs the end of a run of failures.
func (ep *endpoint) recovered() {
	ep.mu.Lock()
	was, since, retries := ep.failing, ep.since, ep.retries
	ep.failing = false
	ep.mu.Unlock()
	if was {
		ep.log.Info("remote-write endpoint recovered", "failed_seconds", time.Since(since).Seconds(), "failed_attempts", retries)
	}
}

// gate is an endpoint's backoff, shared by its shards: after a failure no
// shard starts a request until the wait is over, and a Retry-After holds
// them all. The wait is capped exponential with full jitter: after the n-th
// consecutive failed round it is uniform between min and min·2ⁿ⁻¹ (at
// most max), and at least Retry-After (at most max).
type gate struct {
	min, max time.Duration

	mu    sync.Mutex
	until time.Time     // no request starts before
	ceil  time.Duration // current ceiling; 0 after a success
	epoch uint64        // counts failed rounds
}

// wait blocks until the gate is open and returns the round it opened in.
func (g *gate) wait(ctx context.Context) (uint64, error) {
	for {
		g.mu.Lock()
		d, epoch := time.Until(g.until), g.epoch
		g.mu.Unlock()
		if d <= 0 {
			return epoch, nil
		}
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return 0, context.Cause(ctx)
		case <-t.C:
		}
	}
}

// failed closes the gate after a request of round epoch failed. Only the
// first failure of a round lengthens the wait: shards that were already
// sending fail together when an engine goes down.
func (g *gate) failed(epoch uint64, retryAfter time.Duration) {
	g.mu.Lock()
	defer g.mu.Unlock()
	until := time.Now().Add(min(retryAfter, g.max))
	if epoch == g.epoch {
		g.epoch++
		if g.ceil == 0 {
			g.ceil = g.min
		} else {
			g.ceil = min(2*g.ceil, g.max)
		}
		until = later(until, time.Now().Add(g.min+rand.N(g.ceil-g.min+1)))
	}
	g.until = later(g.until, until)
}

// ok resets the backoff after a request got through.
func (g *gate) ok() {
	g.mu.Lock()
	g.ceil = 0
	g.mu.Unlock()
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// parseRetryAfter reads a Retry-After header: delay-seconds or an HTTP
// date (RFC 9110 10.2.3). A date in the past is a zero delay.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if strings.Trim(v, "0123456789") == "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil || n > math.MaxInt64/uint64(time.Second) {
			return math.MaxInt64, true // overflow: "a very long time"
		}
		return time.Duration(n) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return max(t.Sub(now), 0), true
}
