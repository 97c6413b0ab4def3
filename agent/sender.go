package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pantau-noc/pantau/agent/internal/config"
	"github.com/pantau-noc/pantau/internal/retry"
	"github.com/pantau-noc/pantau/internal/spool"
)

// sendMetrics are the sender's self-metrics.
type sendMetrics struct {
	requests   *prometheus.CounterVec
	bytes      *prometheus.CounterVec
	points     *prometheus.CounterVec
	deadLetter *prometheus.CounterVec
}

func newSendMetrics(reg prometheus.Registerer) *sendMetrics {
	m := &sendMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "pantau_agent_send_requests_total",
			Help: "Write requests to collectors, by collector and HTTP status (\"error\" for network errors)."}, []string{"collector", "code"}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "pantau_agent_send_bytes_total",
			Help: "Compressed bytes delivered to collectors."}, []string{"collector"}),
		points: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "pantau_agent_send_points_total",
			Help: "Points delivered (acknowledged) by collectors."}, []string{"collector"}),
		deadLetter: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "pantau_agent_dead_letter_batches_total",
			Help: "Batches a collector rejected permanently (4xx), moved to the dead-letter file."}, []string{"collector"}),
	}
	reg.MustRegister(m.requests, m.bytes, m.points, m.deadLetter)
	return m
}

// sender drains one cursor to one collector: an oldest-first lane and a
// newest-first lane, so fresh data keeps flowing while a backlog drains.
type sender struct {
	col        config.CollectorConfig
	agentID    string
	client     *http.Client
	cur        *spool.Cursor
	deadLetter *deadLetters
	log        *slog.Logger
	m          *sendMetrics
	minBackoff time.Duration
	maxBackoff time.Duration
	// maxRequestBytes bounds a request of several batches (the oldest
	// lane's, queue.max_request_bytes); 0: one batch per request.
	maxRequestBytes int64
	multi           multiState
}

func (s *sender) run(ctx context.Context) {
	var wg sync.WaitGroup
	lanes := []bool{false, true}
	if s.maxRequestBytes > 0 {
		// A second oldest-first lane sends while the first waits for its
		// answer, so a long round trip does not leave the line idle.
		lanes = append(lanes, false)
	}
	for _, fresh := range lanes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.lane(ctx, fresh)
		}()
	}
	wg.Wait()
}

func (s *sender) lane(ctx context.Context, fresh bool) {
	backoff := retry.Backoff{Min: s.minBackoff, Max: s.maxBackoff}
	failures := 0 // consecutive failed sends
	for ctx.Err() == nil {
		var recs []spool.Record
		if fresh {
			recs = s.cur.Newest(1)
			if len(recs) == 0 {
				if retry.Sleep(ctx, 200*time.Millisecond) != nil {
					return
				}
				continue
			}
		} else {
			var err error
			if recs, err = s.cur.Next(ctx, s.multi.batches(s.maxRequestBytes)); err != nil {
				return
			}
			recs = s.trim(recs)
		}
		r := recs[0]
		var (
			wait time.Duration
			err  error
		)
		if len(recs) == 1 {
			wait, err = s.send(ctx, r)
		} else {
			wait, err = s.sendBatches(ctx, recs)
		}
		if err != nil {
			for _, r := range recs {
				s.cur.Release(r.Seq) // nothing for those acked meanwhile
			}
			if ctx.Err() != nil {
				return
			}
			failures++
			d := backoff.Delay(failures)
			if wait > 0 {
				d = min(wait, s.maxBackoff)
			}
			s.log.Debug("send failed; retrying", "collector", s.col.Name, "batch", r.Seq, "batches", len(recs), "in", d.Round(time.Millisecond), "err", err)
			if retry.Sleep(ctx, d) != nil {
				return
			}
			continue
		}
		failures = 0
	}
}

// send posts one batch. A nil error means the batch is done with (stored,
// or dead-lettered); otherwise it is retried after the returned wait (from
// Retry-After) or a backoff.
func (s *sender) send(ctx context.Context, r spool.Record) (time.Duration, error) {
	body, err := r.Body()
	if err != nil {
		// The file is gone (dropped by the bounds meanwhile): nothing to send.
		return 0, s.cur.Ack(r.Seq)
	}
	u := strings.TrimRight(s.col.URL, "/") + "/api/v2/write?precision=ns"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("request to %s: %w", s.col.Name, err)
	}
	req.Header.Set("Authorization", "Token "+s.col.CurrentToken().Reveal())
	req.Header.Set("Content-Encoding", "gzip")
	req.Header.Set("Content-Type", "text/plain; charset=utf-8")
	req.Header.Set("Pantau-Batch", s.agentID+"/"+strconv.FormatUint(r.Seq, 10))
	req.Header.Set("User-Agent", "pantau-agent")
	resp, err := s.client.Do(req)
	if err != nil {
		s.m.requests.WithLabelValues(s.col.Name, "error").Inc()
		return 0, fmt.Errorf("send batch %d to %s: %w", r.Seq, s.col.Name, err)
	}
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	s.m.requests.WithLabelValues(s.col.Name, strconv.Itoa(resp.StatusCode)).Inc()
	switch code := resp.StatusCode; {
	case code == http.StatusTooManyRequests || code == http.StatusRequestTimeout || code >= 500:
		wait, _ := retry.ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now(), s.maxBackoff)
		return wait, fmt.Errorf("collector %s: %s: %s", s.col.Name, resp.Status, collectorMessage(msg))
	}
	ack, wait, err := s.outcome(r, body, resp.StatusCode, collectorMessage(msg), true)
	if ack {
		return 0, s.cur.Ack(r.Seq)
	}
	return wait, err
}

// outcome settles a batch by the status the collector gave it (the
// request's, or its frame's in a multi-batch answer): 2xx acknowledged;
// a configuration problem kept and retried; any other 4xx refused for
// good, moved to the dead-letter file. ack says the batch is done with
// (the caller acknowledges it); otherwise it is retried after wait.
// logRefusal logs a configuration problem (once per request).
func (s *sender) outcome(r spool.Record, body []byte, code int, msg string, logRefusal bool) (ack bool, wait time.Duration, err error) {
	switch {
	case code/100 == 2:
		s.m.bytes.WithLabelValues(s.col.Name).Add(float64(len(body)))
		s.m.points.WithLabelValues(s.col.Name).Add(float64(r.Points))
		return true, 0, nil
	case code == http.StatusUnauthorized || code == http.StatusForbidden || code == http.StatusNotFound || code == http.StatusMethodNotAllowed:
		// A configuration problem the operator fixes (token, scope, or a URL
		// that is not a collector's): keep the data, do not dead-letter it all.
		if logRefusal {
			s.log.Error("collector refuses the request: check the token and collectors[].url; keeping the data and retrying",
				"collector", s.col.Name, "url", s.col.URL, "status", code, "message", msg)
		}
		return false, s.maxBackoff, fmt.Errorf("collector %s: status %d", s.col.Name, code)
	case code == http.StatusTooManyRequests || code == http.StatusRequestTimeout || code >= 500:
		return false, 0, fmt.Errorf("collector %s: batch %d: status %d: %s", s.col.Name, r.Seq, code, msg)
	default:
		// Done with either way: a batch kept in the queue for want of room
		// in the dead-letter file would hold every later one on disk.
		if s.toDeadLetter(r, code, msg, body) {
			s.m.deadLetter.WithLabelValues(s.col.Name).Inc()
			s.log.Warn("collector rejected a batch permanently; moved to the dead-letter file", "collector", s.col.Name,
				"batch", r.Seq, "status", code, "message", msg, "file", s.deadLetter.path)
		}
		return true, 0, nil
	}
}

func collectorMessage(b []byte) string {
	var e struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(b, &e) == nil && e.Message != "" {
		return e.Message
	}
	s := strings.TrimSpace(string(b))
	if len(s) > 1024 {
		s = s[:1024]
	}
	return s
}

// toDeadLetter appends the batch as one JSON line to the dead-letter file
// and reports whether it was kept (else its points are counted as lost).
func (s *sender) toDeadLetter(r spool.Record, status int, msg string, gz []byte) bool {
	lp, _ := gunzip(gz)
	line, _ := json.Marshal(map[string]any{
		"time": time.Now().UTC().Format(time.RFC3339Nano), "collector": s.col.Name, "batch": r.Seq,
		"status": status, "message": msg, "points": r.Points, "line_protocol": string(lp),
	})
	return s.deadLetter.add(append(line, '\n'), r.Points, "collector", s.col.Name, "batch", r.Seq)
}
