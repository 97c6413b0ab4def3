package remotewrite

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/klauspost/compress/snappy"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/pantau-noc/pantau/internal/retry"
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
		gate: gate{backoff: retry.Backoff{Min: q.o.MinBackoff, Max: q.o.MaxBackoff}}}
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

// coalesce is how many queued batches one request may carry. The queue
// holds one batch per acknowledged write (tens of samples with agents'
// one-second batches); a request carries consecutive batches up to
// MaxSamplesPerRequest samples, as Prometheus's own remote write does.
const coalesce = 64

// shard sends one request at a time from the endpoint's cursor until ctx
// ends or the queue is closed.
func (ep *endpoint) shard(ctx context.Context) {
	for {
		recs, err := ep.cur.Next(ctx, coalesce)
		if err != nil {
			return // ctx ended, or the queue was closed
		}
		recs, err = ep.fill(ctx, recs)
		if err != nil {
			ep.cur.Release(seqs(recs)...)
			return
		}
		// Wait out the endpoint's backoff (after Next, which may have
		// waited long: the endpoint may have failed meanwhile).
		epoch, err := ep.gate.wait(ctx)
		if err != nil {
			ep.cur.Release(seqs(recs)...)
			return
		}
		switch res, after, held := ep.deliver(ctx, recs); res {
		case done:
			ep.gate.ok()
		case retryLater:
			if ctx.Err() != nil {
				ep.cur.Release(seqs(held)...) // sent again at the next start
				return
			}
			// Close the gate before the batches are offered to another shard.
			ep.gate.fail(epoch, after)
			ep.cur.Release(seqs(held)...)
		}
	}
}

// fill keeps of recs what fits in one request and hands the rest back.
// While there is room, it waits until BatchWait after the oldest was
// queued and takes what has been queued meanwhile.
func (ep *endpoint) fill(ctx context.Context, recs []spool.Record) ([]spool.Record, error) {
	limit := ep.q.o.MaxSamplesPerRequest
	keep := func(recs []spool.Record) ([]spool.Record, int) {
		n, pts := 1, recs[0].Points
		for n < len(recs) && pts+recs[n].Points <= limit {
			pts += recs[n].Points
			n++
		}
		ep.cur.Release(seqs(recs[n:])...)
		return recs[:n], pts
	}
	recs, pts := keep(recs)
	wait := time.Until(recs[0].Created.Add(ep.q.o.BatchWait))
	if pts >= limit || len(recs) >= coalesce || wait <= 0 {
		return recs, nil
	}
	if err := retry.Sleep(ctx, wait); err != nil {
		return recs, err
	}
	// Whatever is available now, without waiting: a deadline already
	// near lets Next look once and give up.
	nctx, cancel := context.WithTimeout(ctx, time.Millisecond)
	more, err := ep.cur.Next(nctx, coalesce-len(recs))
	cancel()
	if err != nil || len(more) == 0 {
		return recs, nil
	}
	// Joined in queue order; what does not fit goes back.
	all := append(recs, more...)
	slices.SortFunc(all, func(a, b spool.Record) int { return cmp.Compare(a.Seq, b.Seq) })
	all, _ = keep(all)
	return all, nil
}

func seqs(recs []spool.Record) []uint64 {
	out := make([]uint64, len(recs))
	for i, r := range recs {
		out[i] = r.Seq
	}
	return out
}

// outcome is what became of one attempt to deliver batches.
type outcome int

const (
	done       outcome = iota // delivered, or dropped for good (and acked)
	retryLater                // still queued: back off, then send again
	skipped                   // deleted by the queue's bounds meanwhile
)

// errUndecodable marks a queued batch that is not valid snappy: it cannot
// be joined with others, so it is sent as stored and the engine judges it.
var errUndecodable = errors.New("not a snappy block")

// deliver sends recs in one request. On retry, held are the batches still
// handed out to the shard, and after is the engine's Retry-After. When the
// engine refuses a request of several batches for good (4xx), each is
// sent on its own, so only the samples it refuses are dropped.
func (ep *endpoint) deliver(ctx context.Context, recs []spool.Record) (res outcome, after time.Duration, held []spool.Record) {
	body, kept, err := ep.body(recs)
	switch {
	case errors.Is(err, errUndecodable) && len(recs) > 1:
		return ep.oneByOne(ctx, recs)
	case err != nil:
		ep.fail(0, "", err)
		return retryLater, 0, recs
	case len(kept) == 0:
		return skipped, 0, nil
	}
	recs = kept
	points := 0
	for _, r := range recs {
		points += r.Points
	}
	code, msg, after, err := ep.post(ctx, body)
	switch {
	case err != nil:
		if ctx.Err() == nil {
			ep.fail(0, "", err)
		}
		return retryLater, 0, recs
	case code/100 == 2:
		// Count and log before the ack: once Pending is 0, both are done.
		ep.sent.Add(float64(points))
		ep.recovered()
		ep.ack(recs)
		return done, 0, nil
	case code == http.StatusTooManyRequests, code/100 != 4:
		// 429 and 5xx; also 1xx and 3xx, misconfigurations an operator
		// can fix: keep the data.
		ep.fail(code, msg, nil)
		return retryLater, after, recs
	case len(recs) > 1:
		return ep.oneByOne(ctx, recs)
	default:
		ep.dropped.Add(float64(points))
		ep.log.Error("remote-write endpoint rejected a request: its samples are dropped",
			"code", code, "response", msg, "samples", points, "batch", recs[0].Seq)
		ep.recovered()
		ep.ack(recs)
		return done, 0, nil
	}
}

// oneByOne delivers recs one request each, in order, until one must be
// retried.
func (ep *endpoint) oneByOne(ctx context.Context, recs []spool.Record) (outcome, time.Duration, []spool.Record) {
	for i, r := range recs {
		if res, after, _ := ep.deliver(ctx, []spool.Record{r}); res == retryLater {
			return retryLater, after, recs[i:]
		}
	}
	return done, 0, nil
}

// body is the request of recs: one batch as queued, or several decoded,
// joined (concatenated WriteRequests are one WriteRequest with all their
// series) and compressed again. Batches the queue's bounds deleted
// meanwhile (and counted) are left out and released; kept are the rest.
func (ep *endpoint) body(recs []spool.Record) (body []byte, kept []spool.Record, err error) {
	var raw []byte
	kept = recs[:0:0]
	for _, r := range recs {
		b, err := r.Body()
		if errors.Is(err, fs.ErrNotExist) {
			ep.cur.Release(r.Seq)
			continue
		}
		if err != nil {
			return nil, recs, err
		}
		kept = append(kept, r)
		if len(recs) == 1 {
			return b, kept, nil
		}
		if raw, err = snappyAppend(raw, b); err != nil {
			return nil, recs, fmt.Errorf("queued remote-write batch %d: %w: %w", r.Seq, errUndecodable, err)
		}
	}
	if len(kept) == 0 {
		return nil, nil, nil
	}
	return snappy.Encode(nil, raw), kept, nil
}

// snappyAppend appends the decoded block b to dst.
func snappyAppend(dst, b []byte) ([]byte, error) {
	n, err := snappy.DecodedLen(b)
	if err != nil {
		return dst, err
	}
	dst = slices.Grow(dst, n)
	out, err := snappy.Decode(dst[len(dst):len(dst)+n], b)
	if err != nil {
		return dst, err
	}
	return dst[:len(dst)+len(out)], nil
}

// ack marks recs delivered to this endpoint.
func (ep *endpoint) ack(recs []spool.Record) {
	if err := ep.cur.Ack(seqs(recs)...); err != nil {
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
	retryAfter, _ = retry.ParseRetryAfter(res.Header.Get("Retry-After"), time.Now(), ep.q.o.MaxBackoff)
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
// them all. The wait is internal/retry's capped exponential with full
// jitter: after the n-th consecutive failed round it is uniform between Min
// and Min·2ⁿ⁻¹ (at most Max), and at least Retry-After (at most Max).
type gate struct {
	backoff retry.Backoff

	mu     sync.Mutex
	until  time.Time // no request starts before
	failed int       // consecutive failed rounds; 0 after a success
	epoch  uint64    // counts failed rounds
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
		if err := retry.Sleep(ctx, d); err != nil {
			return 0, err
		}
	}
}

// fail closes the gate after a request of round epoch failed. Only the
// first failure of a round lengthens the wait: shards that were already
// sending fail together when an engine goes down.
func (g *gate) fail(epoch uint64, retryAfter time.Duration) {
	g.mu.Lock()
	defer g.mu.Unlock()
	until := time.Now().Add(min(retryAfter, g.backoff.Max))
	if epoch == g.epoch {
		g.epoch++
		g.failed++
		until = later(until, time.Now().Add(g.backoff.Delay(g.failed)))
	}
	g.until = later(g.until, until)
}

// ok resets the backoff after a request got through.
func (g *gate) ok() {
	g.mu.Lock()
	g.failed = 0
	g.mu.Unlock()
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
