package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/pantau-noc/pantau/collector/internal/sla"
	"github.com/pantau-noc/pantau/collector/internal/statedb"
	"github.com/pantau-noc/pantau/internal/wire/batches"
	"github.com/pantau-noc/pantau/internal/wire/lineproto"
)

// handleBatches serves a multi-batch request (internal/wire/batches):
// several queued batches of one agent, each with its own batch id, in
// one body, gzip'd as a whole or not. The body is read and bounded as a
// single write's is (its wire and decompressed bytes by
// limits.max_body_bytes, the memory budget, the body rate) and its
// frames by limits.max_batches_per_request. Each frame is de-duplicated
// by its own id (a batch stored before is answered duplicate and stored
// nothing again) and stored in its own transaction, so a frame refused
// (a bad line, a timestamp out of bounds) takes nothing of the others
// with it; one durable commit covers the request and records the ids of
// the frames stored, and the answer (200, batches.Response) says what
// happened to each frame. A failure of the whole (framing, limits,
// storage) is answered as a single write's would be, and nothing of the
// request is acknowledged.
func (h *Handler) handleBatches(w http.ResponseWriter, r *http.Request, api string, l *Limits, id statedb.Identity,
	prec lineproto.Precision, src string, log *slog.Logger, rc *http.ResponseController, rdp **rateReader) (int, int) {
	ctx := r.Context()
	if r.Header.Get("Pantau-Batch") != "" {
		return h.reject(w, api, fail(http.StatusBadRequest, "invalid", reasonMalformed,
			fmt.Errorf("a Pantau-Batch header on a %s body: its frames carry the batch ids; drop the header", batches.ContentType)), 0), 0
	}
	bb := h.getBuf(l.MaxDecodedBytesInFlight)
	defer h.putBuf(bb)
	if r.ContentLength != 0 {
		now := time.Now()
		rd := &rateReader{r: r.Body, rc: rc, start: now, grace: l.BodyReadGrace, rate: l.MinBodyRate, hard: now.Add(h.o.BodyTimeout)}
		*rdp = rd
		if aerr := h.readBody(r, l, rd, bb); aerr != nil {
			if aerr.status == http.StatusRequestTimeout {
				log.Info("slow request body cut", "source", src, "bytes", rd.n, "seconds", time.Since(now).Seconds())
			}
			return h.reject(w, api, aerr, 0), 0
		}
	}
	h.m.decodedBytes.Add(float64(len(bb.b)))
	frames, err := batches.Decode(bb.b, l.MaxBatchesPerRequest)
	switch {
	case errors.Is(err, batches.ErrTooManyFrames):
		return h.reject(w, api, fail(http.StatusRequestEntityTooLarge, "request too large", reasonTooLarge,
			fmt.Errorf("%w (limits.max_batches_per_request): send fewer batches per request", err)), 0), 0
	case err != nil:
		return h.reject(w, api, fail(http.StatusBadRequest, "invalid", reasonMalformed, err), 0), 0
	}
	h.m.perRequest.Observe(float64(len(frames)))
	res := make([]batches.Result, len(frames))
	for i, f := range frames {
		res[i].ID = f.ID
		if h.o.Batches != nil && h.o.Batches.Seen(statedb.BatchKey{Agent: id.Agent, Batch: f.ID}) {
			res[i].Result, res[i].Status = batches.Duplicate, http.StatusNoContent
		}
	}

	// The global slot is taken once the body is in memory, as for a
	// single write.
	if h.inflight.Add(1) > int64(l.MaxInflight) {
		h.inflight.Add(-1)
		e := fail(http.StatusServiceUnavailable, "unavailable", reasonOverload,
			fmt.Errorf("collector busy: %d write requests in flight (limits.max_inflight_requests); retry later", l.MaxInflight))
		e.retryAfter = "1"
		return h.reject(w, api, e, 0), 0
	}
	defer h.inflight.Add(-1)

	var (
		keys             []statedb.BatchKey
		marks            []sla.Mark
		points, samples  int
		stored, rejected int
	)
	for i, f := range frames {
		if res[i].Result != "" {
			continue
		}
		body := f.Body
		out, aerr := h.store(ctx, l, id, body, prec)
		if aerr != nil {
			if aerr.status >= 500 {
				// Nothing is acknowledged: the agent sends the request
				// again, and what was appended of it is appended again
				// (the same samples: no change).
				log.Error("write failed", "batch", f.ID, "err", aerr.err)
				return h.reject(w, api, aerr, 0), 0
			}
			log.Debug("batch rejected", "batch", f.ID, "reason", aerr.reason, "err", aerr.err)
			if aerr.status == http.StatusForbidden {
				h.refused(src, id.TokenID, aerr)
			}
			h.m.rejectedPoints.WithLabelValues(aerr.reason).Add(float64(countLines(body)))
			res[i].Result, res[i].Status, res[i].Message = batches.Rejected, aerr.status, aerr.err.Error()
			continue
		}
		keys = append(keys, statedb.BatchKey{Agent: id.Agent, Batch: f.ID})
		marks = append(marks, out.marks...)
		points += out.points
		samples += out.samples
		res[i].Result, res[i].Status = batches.Stored, http.StatusNoContent
		if out.partial != nil {
			res[i].Status, res[i].Message = out.partial.status, out.partial.err.Error()
		}
	}
	var item any
	if len(keys) > 0 || len(marks) > 0 {
		item = Committed{Batches: keys, Marks: marks}
	}
	if aerr := h.sync(ctx, w, log, item); aerr != nil {
		return h.reject(w, api, aerr, 0), 0
	}
	now := h.o.Now()
	for _, k := range keys {
		if h.o.Batches != nil {
			h.o.Batches.Add(k, now)
		}
	}
	resp := batches.Response{Results: res}
	for _, x := range res {
		switch x.Result {
		case batches.Stored:
			stored++
		case batches.Duplicate:
			resp.Duplicate++
		default:
			rejected++
		}
	}
	resp.Stored, resp.Rejected = stored, rejected
	h.m.batches.WithLabelValues(batches.Stored).Add(float64(stored))
	h.m.batches.WithLabelValues(batches.Duplicate).Add(float64(resp.Duplicate))
	h.m.batches.WithLabelValues(batches.Rejected).Add(float64(rejected))
	h.m.points.Add(float64(points))
	h.m.samples.Add(float64(samples))
	if stored > 0 {
		h.series.get(id.Agent).lastWrite.Store(now.Unix())
	}
	writeBatches(w, r, &resp)
	return http.StatusOK, points
}

// writeBatches answers a multi-batch request: 200 and the JSON response,
// gzip'd when the client takes it (a thousand results compress to a
// tenth, which counts on a slow uplink's return path).
func writeBatches(w http.ResponseWriter, r *http.Request, resp *batches.Response) {
	body, _ := json.Marshal(resp)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if len(body) > 1024 && acceptsGzip(r.Header.Get("Accept-Encoding")) {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
		zw.Write(body)
		zw.Close()
		body = buf.Bytes()
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Add("Vary", "Accept-Encoding")
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	w.Write(body)
}

func acceptsGzip(ae string) bool {
	for _, part := range strings.Split(ae, ",") {
		enc, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(enc), "gzip") && strings.ReplaceAll(strings.TrimSpace(q), " ", "") != "q=0" {
			return true
		}
	}
	return false
}
