package promapi

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"time"

	"github.com/gogo/protobuf/proto"
	"github.com/klauspost/compress/snappy"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
)

// Remote read (/api/v1/read): Prometheus's remote read protocol, the
// SAMPLES response type. The request and the response are prompb's
// ReadRequest and ReadResponse (protobuf, snappy block compressed), as
// Prometheus's storage/remote codec reads and writes them. That package
// itself is not imported: it links the OpenTelemetry collector's OTLP
// translation (28 more modules) for the write side. The glue here
// follows storage/remote's DecodeReadRequest, FromLabelMatchers,
// ToQueryResult and EncodeReadResponse.
//
// A client that accepts only STREAMED_XOR_CHUNKS gets 400: Prometheus
// itself lists SAMPLES too, and takes the sampled answer by its content
// type (application/x-protobuf).

// ReadLimits bound one remote read request.
type ReadLimits struct {
	// MaxBodyBytes bounds the request body, compressed and decoded.
	MaxBodyBytes int64
	// MaxSamples and MaxSeries bound the answer, over all its queries;
	// 0 = no limit.
	MaxSamples, MaxSeries int
	// MaxQueries bounds the queries of one request; 0 = no limit.
	MaxQueries int
}

// Reasons remote read requests are refused, the values of
// pantau_collector_remote_read_refused_total's reason label.
const (
	refusedBody    = "body"    // too large, not snappy, not a ReadRequest, bad matcher
	refusedType    = "type"    // no response type we serve
	refusedSamples = "samples" // limits.remote_read_max_samples
	refusedSeries  = "series"  // limits.remote_read_max_series
	refusedQueries = "queries" // limits.remote_read_max_queries
	refusedBusy    = "busy"    // limits.max_concurrent_exports
)

func newReadRefused() *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "pantau_collector_remote_read_refused_total",
		Help: "Remote read requests (/api/v1/read) refused, by reason: body (too large or not a snappy-compressed ReadRequest, 400/413), type (only STREAMED_XOR_CHUNKS accepted, 400), samples or series (the answer would exceed limits.remote_read_max_samples or limits.remote_read_max_series, 413), queries (more than limits.remote_read_max_queries in one request, 413), busy (no slot of limits.max_concurrent_exports came free in time, 503).",
	}, []string{"reason"})
	for _, r := range []string{refusedBody, refusedType, refusedSamples, refusedSeries, refusedQueries, refusedBusy} {
		c.WithLabelValues(r)
	}
	return c
}

// readError is a refused remote read request.
type readError struct {
	status int
	reason string
	err    error
}

func (e *readError) Error() string { return e.err.Error() }

// decodeReadRequest reads a snappy-compressed ReadRequest of at most
// maxBytes (compressed and decoded).
func decodeReadRequest(body io.Reader, maxBytes int64) (*prompb.ReadRequest, error) {
	compressed, err := io.ReadAll(io.LimitReader(body, maxBytes+1))
	if err != nil {
		return nil, &readError{http.StatusBadRequest, refusedBody, fmt.Errorf("read the request body: %w", err)}
	}
	if int64(len(compressed)) > maxBytes {
		return nil, &readError{http.StatusRequestEntityTooLarge, refusedBody, fmt.Errorf("the request body is larger than %d bytes (limits.max_body_bytes)", maxBytes)}
	}
	n, err := snappy.DecodedLen(compressed)
	if err != nil {
		return nil, &readError{http.StatusBadRequest, refusedBody, fmt.Errorf("the request body is not snappy block compressed: %w", err)}
	}
	if int64(n) > maxBytes {
		return nil, &readError{http.StatusRequestEntityTooLarge, refusedBody, fmt.Errorf("the decoded request is %d bytes, more than %d (limits.max_body_bytes)", n, maxBytes)}
	}
	raw, err := snappy.Decode(nil, compressed)
	if err != nil {
		return nil, &readError{http.StatusBadRequest, refusedBody, fmt.Errorf("the request body is not snappy block compressed: %w", err)}
	}
	var req prompb.ReadRequest
	if err := proto.Unmarshal(raw, &req); err != nil {
		return nil, &readError{http.StatusBadRequest, refusedBody, fmt.Errorf("the request is not a prometheus.ReadRequest: %w", err)}
	}
	for i, q := range req.Queries {
		if q == nil {
			return nil, &readError{http.StatusBadRequest, refusedBody, fmt.Errorf("query %d is empty", i)}
		}
		if q.StartTimestampMs > q.EndTimestampMs {
			return nil, &readError{http.StatusBadRequest, refusedBody, fmt.Errorf("query %d: start %d is after end %d", i, q.StartTimestampMs, q.EndTimestampMs)}
		}
	}
	return &req, nil
}

// fromLabelMatchers is storage/remote.FromLabelMatchers.
func fromLabelMatchers(ms []*prompb.LabelMatcher) ([]*labels.Matcher, error) {
	out := make([]*labels.Matcher, 0, len(ms))
	for _, m := range ms {
		if m == nil {
			return nil, errors.New("empty matcher")
		}
		var t labels.MatchType
		switch m.Type {
		case prompb.LabelMatcher_EQ:
			t = labels.MatchEqual
		case prompb.LabelMatcher_NEQ:
			t = labels.MatchNotEqual
		case prompb.LabelMatcher_RE:
			t = labels.MatchRegexp
		case prompb.LabelMatcher_NRE:
			t = labels.MatchNotRegexp
		default:
			return nil, fmt.Errorf("invalid matcher type %d", m.Type)
		}
		lm, err := labels.NewMatcher(t, m.Name, m.Value)
		if err != nil {
			return nil, fmt.Errorf("matcher %s: %w", m.Name, err)
		}
		out = append(out, lm)
	}
	return out, nil
}

// read serves POST /api/v1/read.
func (a *API) read(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		http.Error(w, "remote read takes POST with a snappy-compressed prometheus.ReadRequest", http.StatusMethodNotAllowed)
		return
	}
	refuse := func(err error) {
		var re *readError
		if !errors.As(err, &re) {
			a.o.Logger.Warn("remote read failed", "err", err)
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		a.readRefused.WithLabelValues(re.reason).Inc()
		a.o.Logger.Debug("remote read refused", "reason", re.reason, "err", re.err)
		http.Error(w, "remote read: "+re.err.Error(), re.status)
	}
	r, l, release, ok := a.startExport(w, r, "remote read", a.readRefused)
	if !ok {
		return
	}
	defer release()
	// a slot is held while the body arrives: a client that sends it
	// slowly gets 400 after the queue wait rather than holding it
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(a.exports.wait))
	req, err := decodeReadRequest(r.Body, l.Read.MaxBodyBytes)
	if err != nil {
		refuse(err)
		return
	}
	a.o.Logger.Debug("remote read", "queries", len(req.Queries), "accepted_response_types", fmt.Sprint(req.AcceptedResponseTypes))
	if len(req.AcceptedResponseTypes) > 0 && !containsType(req.AcceptedResponseTypes, prompb.ReadRequest_SAMPLES) {
		refuse(&readError{http.StatusBadRequest, refusedType, fmt.Errorf("the collector answers remote read with the SAMPLES response type only; the request accepts %v", req.AcceptedResponseTypes)})
		return
	}
	if max := l.Read.MaxQueries; max > 0 && len(req.Queries) > max {
		refuse(&readError{http.StatusRequestEntityTooLarge, refusedQueries, fmt.Errorf("the request holds %d queries, more than %d (limits.remote_read_max_queries): send fewer per request, or raise the limit", len(req.Queries), max)})
		return
	}
	resp, err := a.readSamples(r, l, req)
	if err != nil {
		refuse(err)
		return
	}
	data, err := proto.Marshal(resp)
	if err != nil {
		refuse(fmt.Errorf("encode the ReadResponse: %w", err))
		return
	}
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.Header().Set("Content-Encoding", "snappy")
	_, _ = w.Write(snappy.Encode(nil, data))
}

func containsType(ts []prompb.ReadRequest_ResponseType, t prompb.ReadRequest_ResponseType) bool {
	for _, x := range ts {
		if x == t {
			return true
		}
	}
	return false
}

// readSamples answers each query of req, within the request's scope and
// the limits (counted over all queries).
func (a *API) readSamples(r *http.Request, l *Limits, req *prompb.ReadRequest) (*prompb.ReadResponse, error) {
	ctx := r.Context()
	sc := scopeFrom(ctx)
	lim := l.Read
	resp := &prompb.ReadResponse{Results: make([]*prompb.QueryResult, len(req.Queries))}
	nSamples, nSeries := 0, 0
	// Samples are gathered in scratch, then copied to a slice of their
	// exact size: growing each series' own slice allocated ~5 times the
	// answer's samples (BenchmarkRemoteRead).
	var scratch []prompb.Sample
	// Every query's matchers are checked before any is answered.
	matchers := make([][]*labels.Matcher, len(req.Queries))
	for i, pq := range req.Queries {
		ms, err := fromLabelMatchers(pq.Matchers)
		if err != nil {
			return nil, &readError{http.StatusBadRequest, refusedBody, fmt.Errorf("query %d: %w", i, err)}
		}
		// As for a PromQL selector: a query whose every matcher matches
		// the empty string would select every series.
		if !slices.ContainsFunc(ms, func(m *labels.Matcher) bool { return !m.Matches("") }) {
			return nil, &readError{http.StatusBadRequest, refusedBody, fmt.Errorf("query %d: needs at least one matcher that does not match the empty string, e.g. __name__=\"...\"", i)}
		}
		sets, aerr := sc.matcherSets([][]*labels.Matcher{ms})
		if aerr != nil {
			return nil, &readError{http.StatusBadRequest, refusedBody, fmt.Errorf("query %d: %w", i, aerr.err)}
		}
		matchers[i] = sets[0]
	}
	for i, pq := range req.Queries {
		ms := matchers[i]
		res, err := func() (*prompb.QueryResult, error) {
			q, err := sc.queryable(a.o.Queryable).Querier(pq.StartTimestampMs, pq.EndTimestampMs)
			if err != nil {
				return nil, fmt.Errorf("open querier: %w", err)
			}
			defer q.Close()
			var hints *storage.SelectHints
			if h := pq.Hints; h != nil {
				hints = &storage.SelectHints{Start: h.StartMs, End: h.EndMs, Step: h.StepMs, Func: h.Func, Grouping: h.Grouping, Range: h.RangeMs, By: h.By}
			}
			set := q.Select(ctx, false, hints, ms...)
			out := &prompb.QueryResult{}
			var it chunkenc.Iterator
			for set.Next() {
				s := set.At()
				nSeries++
				if lim.MaxSeries > 0 && nSeries > lim.MaxSeries {
					return nil, &readError{http.StatusRequestEntityTooLarge, refusedSeries,
						fmt.Errorf("the request selects more than %d series (limits.remote_read_max_series): narrow the matchers or the time range, or raise the limit", lim.MaxSeries)}
				}
				it = s.Iterator(it)
				scratch = scratch[:0]
				for vt := it.Next(); vt != chunkenc.ValNone; vt = it.Next() {
					if vt != chunkenc.ValFloat {
						continue // the store holds floats only
					}
					nSamples++
					if lim.MaxSamples > 0 && nSamples > lim.MaxSamples {
						return nil, &readError{http.StatusRequestEntityTooLarge, refusedSamples,
							fmt.Errorf("the request selects more than %d samples (limits.remote_read_max_samples): narrow the matchers or the time range, or raise the limit", lim.MaxSamples)}
					}
					t, v := it.At()
					scratch = append(scratch, prompb.Sample{Timestamp: t, Value: v})
				}
				if err := it.Err(); err != nil {
					return nil, fmt.Errorf("read samples: %w", err)
				}
				out.Timeseries = append(out.Timeseries, &prompb.TimeSeries{Labels: prompb.FromLabels(s.Labels(), nil), Samples: slices.Clone(scratch)})
			}
			if err := set.Err(); err != nil {
				return nil, fmt.Errorf("select series: %w", err)
			}
			return out, nil
		}()
		if err != nil {
			return nil, err
		}
		resp.Results[i] = res
	}
	return resp, nil
}
