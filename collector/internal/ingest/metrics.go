package ingest

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Rejection reasons, used as the reason label. The set is fixed.
const (
	reasonMalformed   = "malformed"       // line-protocol syntax
	reasonType        = "field_type"      // wrong field type or range for schema v1
	reasonString      = "string_field"    // string fields (rejected or dropped by config)
	reasonTimestamp   = "timestamp"       // future or beyond the out-of-order window
	reasonForbidden   = "forbidden"       // agent/site/link tags outside the token's scope
	reasonUnauth      = "unauthorized"    // missing, unknown or revoked token
	reasonTooLarge    = "too_large"       // body over max_body_bytes
	reasonEncoding    = "encoding"        // bad gzip, unknown content encoding
	reasonPrecision   = "precision"       // unknown precision parameter
	reasonSeriesLimit = "series_limit"    // per-agent active series limit
	reasonDuplicate   = "duplicate_value" // same series and time, different value
	reasonOverload    = "overload"        // max_inflight_requests reached
	reasonInternal    = "internal"        // storage failure
	reasonAgentBusy   = "agent_inflight"  // max_inflight_requests_per_agent reached
	reasonSlowBody    = "slow_body"       // body slower than min_body_rate_bytes_per_second
	reasonMemory      = "memory_budget"   // max_decoded_bytes_in_flight reached
	reasonAuthBlocked = "auth_blocked"    // auth_failures_per_minute reached by the source address
	reasonNameLength  = "name_length"     // measurement, tag key or field key too long
	reasonLabels      = "labels_limit"    // max_labels_per_series
	reasonReserved    = "reserved_name"   // a name that maps onto the collector's own or __ labels
)

var allReasons = []string{reasonMalformed, reasonType, reasonString, reasonTimestamp, reasonForbidden,
	reasonUnauth, reasonTooLarge, reasonEncoding, reasonPrecision, reasonSeriesLimit, reasonDuplicate,
	reasonOverload, reasonInternal, reasonAgentBusy, reasonSlowBody, reasonMemory, reasonAuthBlocked,
	reasonNameLength, reasonLabels, reasonReserved}

type metrics struct {
	requests       *prometheus.CounterVec
	points         prometheus.Counter
	samples        prometheus.Counter
	rejectedPoints *prometheus.CounterVec
	// rejectedRequests counts whole requests refused, by reason.
	rejectedRequests *prometheus.CounterVec
	rejectedSample   *prometheus.CounterVec
	// stringFields counts string fields dropped, per agent (agents are
	// the token table's, so the label is bounded).
	stringFields *prometheus.CounterVec
	// queries counts /query statements by kind (query.go).
	queries *prometheus.CounterVec
	batches *prometheus.CounterVec
	// perRequest is the batches of each multi-batch request (batches.go).
	perRequest   prometheus.Histogram
	bytes        *prometheus.CounterVec
	decodedBytes prometheus.Counter
	duration     *prometheus.HistogramVec
	inflight     prometheus.Gauge
}

func newMetrics() *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pantau_collector_ingest_requests_total",
			Help: "Write requests by API (v1 = /write, v2 = /api/v2/write) and HTTP status code.",
		}, []string{"api", "code"}),
		points: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "pantau_collector_ingest_points_total",
			Help: "Line-protocol points (lines) accepted and stored.",
		}),
		samples: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "pantau_collector_ingest_samples_total",
			Help: "Samples (fields) accepted and stored.",
		}),
		rejectedPoints: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pantau_collector_ingest_rejected_points_total",
			Help: "Points in write requests refused as a whole, by reason.",
		}, []string{"reason"}),
		rejectedRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pantau_collector_ingest_rejected_requests_total",
			Help: "Write requests refused as a whole (any status but 204 and 422), by reason.",
		}, []string{"reason"}),
		rejectedSample: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pantau_collector_ingest_rejected_samples_total",
			Help: "Individual samples dropped from otherwise accepted writes, by reason.",
		}, []string{"reason"}),
		stringFields: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pantau_collector_ingest_string_fields_dropped_total",
			Help: "String fields dropped from accepted writes (ingest.string_fields: drop, the default), by agent.",
		}, []string{"agent"}),
		queries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pantau_collector_ingest_query_statements_total",
			Help: "InfluxDB 1.x /query statements by kind: create_database and show_databases are answered, unsupported ones refused (400).",
		}, []string{"statement"}),
		batches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pantau_collector_ingest_batches_total",
			Help: "Batches with a Pantau-Batch id (a header, or a frame of a multi-batch request), by result: stored, duplicate, rejected (a frame refused while the rest of its request was stored).",
		}, []string{"result"}),
		perRequest: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "pantau_collector_ingest_batches_per_request",
			Help:    "Batches (frames) in each multi-batch write request (Content-Type application/vnd.pantau.batches).",
			Buckets: prometheus.ExponentialBuckets(1, 4, 7),
		}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pantau_collector_ingest_received_bytes_total",
			Help: "Request body bytes as received on the wire, by content encoding.",
		}, []string{"encoding"}),
		decodedBytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "pantau_collector_ingest_decoded_bytes_total",
			Help: "Line-protocol bytes after decompression.",
		}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "pantau_collector_ingest_request_duration_seconds",
			Help:    "Time from request start to response, including the durable commit.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 15),
		}, []string{"api"}),
		inflight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "pantau_collector_ingest_inflight_requests",
			Help: "Write requests being processed now.",
		}),
	}
	for _, r := range allReasons {
		m.rejectedPoints.WithLabelValues(r)
		m.rejectedRequests.WithLabelValues(r)
	}
	for _, r := range []string{reasonSeriesLimit, reasonDuplicate, reasonString} {
		m.rejectedSample.WithLabelValues(r)
	}
	for _, k := range []string{stmtCreateDatabase, stmtShowDatabases, stmtUnsupported} {
		m.queries.WithLabelValues(k)
	}
	m.batches.WithLabelValues("stored")
	m.batches.WithLabelValues("duplicate")
	m.batches.WithLabelValues("rejected")
	m.bytes.WithLabelValues("gzip")
	m.bytes.WithLabelValues("identity")
	return m
}

func (m *metrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.requests, m.points, m.samples, m.rejectedPoints, m.rejectedRequests, m.rejectedSample, m.stringFields, m.queries,
		m.batches, m.perRequest, m.bytes, m.decodedBytes, m.duration, m.inflight}
}

// agentCollector reports per-agent series counts and last write times at
// scrape time. Agents are bounded by the token table.
type agentCollector struct{ r *registry }

var (
	agentSeriesDesc = prometheus.NewDesc("pantau_collector_agent_active_series",
		"Series written by the agent recently (what max_series_per_agent limits).", []string{"agent"}, nil)
	agentLastDesc = prometheus.NewDesc("pantau_collector_agent_last_write_timestamp_seconds",
		"Time of the agent's last accepted write.", []string{"agent"}, nil)
)

func (c agentCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- agentSeriesDesc
	ch <- agentLastDesc
}

func (c agentCollector) Collect(ch chan<- prometheus.Metric) {
	for _, a := range c.r.all() {
		ch <- prometheus.MustNewConstMetric(agentSeriesDesc, prometheus.GaugeValue, float64(a.count()), a.agent)
		if t := a.lastWrite.Load(); t > 0 {
			ch <- prometheus.MustNewConstMetric(agentLastDesc, prometheus.GaugeValue, float64(t), a.agent)
		}
	}
}

// dedupCollector reports the Pantau-Batch ids remembered at scrape time.
type dedupCollector struct{ d *Dedup }

var (
	batchIDsDesc = prometheus.NewDesc("pantau_collector_ingest_batch_ids",
		"Pantau-Batch ids remembered for de-duplication.", nil, nil)
	batchIDBytesDesc = prometheus.NewDesc("pantau_collector_ingest_batch_id_bytes",
		"Bytes of the remembered Pantau-Batch ids, as counted against limits.batch_dedup_bytes_per_agent.", nil, nil)
	batchIDsEvictedDesc = prometheus.NewDesc("pantau_collector_ingest_batch_ids_evicted_total",
		"Pantau-Batch ids forgotten before limits.batch_dedup_window because their agent reached limits.batch_dedup_bytes_per_agent.", nil, nil)
)

func (c dedupCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- batchIDsDesc
	ch <- batchIDBytesDesc
	ch <- batchIDsEvictedDesc
}

func (c dedupCollector) Collect(ch chan<- prometheus.Metric) {
	n, b, ev := c.d.stats()
	ch <- prometheus.MustNewConstMetric(batchIDsDesc, prometheus.GaugeValue, float64(n))
	ch <- prometheus.MustNewConstMetric(batchIDBytesDesc, prometheus.GaugeValue, float64(b))
	ch <- prometheus.MustNewConstMetric(batchIDsEvictedDesc, prometheus.CounterValue, float64(ev))
}
