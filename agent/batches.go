package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/pantau-noc/pantau/internal/retry"
	"github.com/pantau-noc/pantau/internal/spool"
	"github.com/pantau-noc/pantau/internal/wire/batches"
)

// maxRequestBatches bounds the batches of one multi-batch request (the
// collector's limits.max_batches_per_request defaults to 4,096).
const maxRequestBatches = 1024

// singleFor is how long the sender keeps to one batch per request after
// a collector did not take the multi-batch form (an older collector),
// before it tries the form again (the collector may have been upgraded).
const singleFor = time.Hour

// multiState is what a sender learnt about its collector and the
// multi-batch form: whether it takes it at all, and the largest request
// it took (halved at each 413).
type multiState struct {
	mu          sync.Mutex
	singleUntil time.Time
	maxBytes    int64 // 0: the configured bound
	maxBatches  int   // 0: maxRequestBatches
}

// batches is how many batches the oldest lane may take for one request.
func (m *multiState) batches(maxBytes int64) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	if maxBytes <= 0 || time.Now().Before(m.singleUntil) {
		return 1
	}
	if m.maxBatches > 0 {
		return m.maxBatches
	}
	return maxRequestBatches
}

// limit is the bytes a multi-batch request may take.
func (m *multiState) limit(maxBytes int64) int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.maxBytes > 0 {
		return min(m.maxBytes, maxBytes)
	}
	return maxBytes
}

// trim keeps the oldest of recs that fit one request (the first always)
// and hands the others back.
func (s *sender) trim(recs []spool.Record) []spool.Record {
	if len(recs) <= 1 {
		return recs
	}
	limit := s.multi.limit(s.maxRequestBytes)
	size := int64(len(batches.Magic))
	n := 0
	for ; n < len(recs); n++ {
		size += int64(batches.FrameSize(s.batchID(recs[n]), int(recs[n].Size)))
		if n > 0 && size > limit {
			break
		}
	}
	for _, r := range recs[n:] {
		s.cur.Release(r.Seq)
	}
	return recs[:n]
}

// requestSize is the queued (compressed) bytes of recs, as
// queue.max_request_bytes counts them.
func (s *sender) requestSize(recs []spool.Record) int {
	n := len(batches.Magic)
	for _, r := range recs {
		n += batches.FrameSize(s.batchID(r), int(r.Size))
	}
	return n
}

func (s *sender) batchID(r spool.Record) string {
	return s.agentID + "/" + strconv.FormatUint(r.Seq, 10)
}

// sendBatches posts recs as one multi-batch request and settles each
// batch by its frame's answer, as send does a single one. A nil error
// means every batch is done with; otherwise those not yet acknowledged
// are retried (the whole request, after a network error, a 5xx or a
// refusal of the request as a whole), after the returned wait or a
// backoff. A collector that does not take the form (400, 415: an older
// collector reads the body as a bad line and stores nothing; any other
// 4xx but 401, 403, 404, 405, 408 and 429 alike) or finds the request
// too large (413) gets the same batches again at once, one per request
// or in smaller requests.
func (s *sender) sendBatches(ctx context.Context, recs []spool.Record) (time.Duration, error) {
	var (
		body   []byte
		sent   []spool.Record
		bodies = map[string][]byte{}
		byID   = map[string]spool.Record{}
	)
	for _, r := range recs {
		b, err := r.Body()
		if err != nil {
			// Dropped by the bounds meanwhile: nothing to send.
			if err := s.cur.Ack(r.Seq); err != nil {
				return 0, err
			}
			continue
		}
		lp, err := gunzip(b)
		if err != nil {
			// A damaged queue file: the collector would refuse it too.
			if s.toDeadLetter(r, 0, fmt.Sprintf("queued batch is not valid gzip: %v", err), b) {
				s.m.deadLetter.WithLabelValues(s.col.Name).Inc()
			}
			if err := s.cur.Ack(r.Seq); err != nil {
				return 0, err
			}
			continue
		}
		id := s.batchID(r)
		body = batches.Append(body, batches.Frame{ID: id, Body: lp})
		bodies[id], byID[id] = b, r
		sent = append(sent, r)
	}
	if len(sent) == 0 {
		return 0, nil
	}
	// One gzip stream over every frame: the batches of a backlog repeat
	// each other's names and tags, and compress about twice as well
	// together as one by one.
	var zbuf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&zbuf, gzip.DefaultCompression)
	zw.Write(body)
	if err := zw.Close(); err != nil {
		return 0, fmt.Errorf("compress %d batches for %s: %w", len(sent), s.col.Name, err)
	}
	u := strings.TrimRight(s.col.URL, "/") + "/api/v2/write?precision=ns"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(zbuf.Bytes()))
	if err != nil {
		return 0, fmt.Errorf("request to %s: %w", s.col.Name, err)
	}
	req.Header.Set("Authorization", "Token "+s.col.CurrentToken().Reveal())
	req.Header.Set("Content-Encoding", "gzip")
	req.Header.Set("Content-Type", batches.ContentType)
	req.Header.Set("User-Agent", "pantau-agent")
	resp, err := s.client.Do(req)
	if err != nil {
		s.m.requests.WithLabelValues(s.col.Name, "error").Inc()
		return 0, fmt.Errorf("send %d batches from %d to %s: %w", len(sent), sent[0].Seq, s.col.Name, err)
	}
	defer resp.Body.Close()
	code := resp.StatusCode
	s.m.requests.WithLabelValues(s.col.Name, strconv.Itoa(code)).Inc()
	if code != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return s.refusedBatches(resp, code, collectorMessage(msg), sent, s.requestSize(sent))
	}
	var out batches.Response
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(&out); err != nil {
		return 0, fmt.Errorf("collector %s: answer to %d batches unreadable: %w", s.col.Name, len(sent), err)
	}
	var (
		wait time.Duration
		errs []error
		acks []uint64
		done = map[string]bool{}
	)
	for _, x := range out.Results {
		r, ok := byID[x.ID]
		if !ok || done[x.ID] || x.Status < 200 || x.Status > 599 {
			continue // not an answer for a batch sent: kept
		}
		done[x.ID] = true
		ack, w, err := s.outcome(r, bodies[x.ID], x.Status, x.Message, len(errs) == 0)
		if ack {
			acks = append(acks, r.Seq)
		} else {
			errs = append(errs, err)
			wait = max(wait, w)
		}
	}
	if len(done) < len(sent) {
		errs = append(errs, fmt.Errorf("collector %s: answered for %d of %d batches", s.col.Name, len(done), len(sent)))
	}
	// One acknowledgement (one write of the cursor) for the request.
	if err := s.cur.Ack(acks...); err != nil {
		errs = append(errs, err)
	}
	return wait, errors.Join(errs...)
}

// refusedBatches handles a multi-batch request refused as a whole.
func (s *sender) refusedBatches(resp *http.Response, code int, msg string, sent []spool.Record, size int) (time.Duration, error) {
	n := len(sent)
	resend := func() (time.Duration, error) {
		for _, r := range sent {
			s.cur.Release(r.Seq)
		}
		return 0, nil
	}
	switch code {
	case http.StatusRequestEntityTooLarge:
		s.multi.mu.Lock()
		s.multi.maxBytes = int64(size-len(batches.Magic))/2 + int64(len(batches.Magic))
		s.multi.maxBatches = max(n/2, 1)
		s.multi.mu.Unlock()
		s.log.Warn("collector finds the request too large; sending fewer batches per request",
			"collector", s.col.Name, "batches", n, "bytes", size, "message", msg)
		return resend()
	case http.StatusTooManyRequests, http.StatusRequestTimeout:
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound, http.StatusMethodNotAllowed:
		s.log.Error("collector refuses the request: check the token and collectors[].url; keeping the data and retrying",
			"collector", s.col.Name, "url", s.col.URL, "status", code, "message", msg)
		return s.maxBackoff, fmt.Errorf("collector %s: %s", s.col.Name, resp.Status)
	default:
		if code/100 == 4 {
			// 400 or 415 from a collector that does not know the form
			// (an older one reads the body as a bad line), or any other
			// refusal of the request as a whole: one batch per request,
			// whose answers settle each batch as before.
			s.multi.mu.Lock()
			s.multi.singleUntil = time.Now().Add(singleFor)
			s.multi.mu.Unlock()
			s.log.Warn("collector does not take several batches per request (an older collector?); sending one batch per request for an hour",
				"collector", s.col.Name, "status", code, "message", msg)
			return resend()
		}
	}
	wait, _ := retry.ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now(), s.maxBackoff)
	return wait, fmt.Errorf("collector %s: %d batches: %s: %s", s.col.Name, n, resp.Status, msg)
}
