package remotewrite

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	samples  *prometheus.CounterVec
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	queue    *queueCollector
}

func newMetrics(q *Queue, endpoints []string) *metrics {
	m := &metrics{
		samples: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pantau_remote_write_samples_total",
			Help: "Samples taken off the remote-write queue per endpoint: sent (accepted by the engine) or dropped (rejected with a 4xx other than 429).",
		}, []string{"endpoint", "result"}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pantau_remote_write_requests_total",
			Help: "Remote-write requests per endpoint and HTTP status code (code=\"error\": no answer, e.g. connection refused or timeout).",
		}, []string{"endpoint", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "pantau_remote_write_request_duration_seconds",
			Help:    "Duration of remote-write requests per endpoint, answered or not.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"endpoint"}),
		queue: &queueCollector{
			q: q,
			batches: prometheus.NewDesc("pantau_remote_write_queue_batches",
				"Remote-write requests queued and not yet delivered to the endpoint.", []string{"endpoint"}, nil),
			samples: prometheus.NewDesc("pantau_remote_write_queue_samples",
				"Samples queued and not yet delivered to the endpoint.", []string{"endpoint"}, nil),
			oldest: prometheus.NewDesc("pantau_remote_write_queue_oldest_age_seconds",
				"Age of the oldest request not yet delivered to the endpoint (0 when none waits).", []string{"endpoint"}, nil),
			bytes: prometheus.NewDesc("pantau_remote_write_queue_bytes",
				"Size on disk of the queued requests some endpoint has not had yet.", nil, nil),
			dropped: prometheus.NewDesc("pantau_remote_write_queue_dropped_samples_total",
				"Undelivered samples deleted from the remote-write queue by its size or age bound (persisted across restarts).", nil, nil),
		},
	}
	for _, e := range endpoints {
		m.samples.WithLabelValues(e, "sent")
		m.samples.WithLabelValues(e, "dropped")
		m.duration.WithLabelValues(e)
	}
	return m
}

// Collectors returns the queue's metrics for registration.
func (q *Queue) Collectors() []prometheus.Collector {
	return []prometheus.Collector{q.m.samples, q.m.requests, q.m.duration, q.m.queue}
}

// queueCollector reads the queue's state at scrape time.
type queueCollector struct {
	q                                        *Queue
	batches, samples, oldest, bytes, dropped *prometheus.Desc
}

func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.batches, c.samples, c.oldest, c.bytes, c.dropped} {
		ch <- d
	}
}

func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.q.sp.Stats()
	now := time.Now()
	for _, ep := range c.q.eps {
		es := ep.cur.Stats()
		age := 0.0
		if !es.Oldest.IsZero() {
			age = max(now.Sub(es.Oldest).Seconds(), 0)
		}
		ch <- prometheus.MustNewConstMetric(c.batches, prometheus.GaugeValue, float64(es.Records), ep.Name)
		ch <- prometheus.MustNewConstMetric(c.samples, prometheus.GaugeValue, float64(es.Points), ep.Name)
		ch <- prometheus.MustNewConstMetric(c.oldest, prometheus.GaugeValue, age, ep.Name)
	}
	ch <- prometheus.MustNewConstMetric(c.bytes, prometheus.GaugeValue, float64(st.Bytes))
	ch <- prometheus.MustNewConstMetric(c.dropped, prometheus.CounterValue, float64(st.DroppedPoints))
}
