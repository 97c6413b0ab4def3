package fleet

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	messages      prometheus.Counter
	refused       *prometheus.CounterVec
	configOffers  prometheus.Counter
	rotations     *prometheus.CounterVec
	packageOffers prometheus.Counter
	downloads     *prometheus.CounterVec
	downloadBytes prometheus.Counter
	storeErrors   prometheus.Counter
	agents        prometheus.Gauge
}

func newMetrics() *metrics {
	m := &metrics{
		messages: prometheus.NewCounter(prometheus.CounterOpts{Name: "pantau_collector_fleet_messages_total",
			Help: "OpAMP messages (AgentToServer) handled."}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "pantau_collector_fleet_messages_refused_total",
			Help: "OpAMP requests refused before decoding, by reason (too_large, bad_body, content_type); authentication refusals count in pantau_collector_http_requests_refused_total."},
			[]string{"reason"}),
		configOffers: prometheus.NewCounter(prometheus.CounterOpts{Name: "pantau_collector_fleet_config_offers_total",
			Help: "Remote configs offered to agents with a hash different from the one offered before."}),
		rotations: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "pantau_collector_fleet_rotations_total",
			Help: "Agent token rotations, by stage (issued: a new token sent; completed: the agent used it and the old one was revoked)."},
			[]string{"stage"}),
		packageOffers: prometheus.NewCounter(prometheus.CounterOpts{Name: "pantau_collector_fleet_package_offers_total",
			Help: "Agent releases offered (one per agent and release)."}),
		downloads: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "pantau_collector_fleet_release_downloads_total",
			Help: "Release download requests, by result (ok, not_found, bad_request)."}, []string{"result"}),
		downloadBytes: prometheus.NewCounter(prometheus.CounterOpts{Name: "pantau_collector_fleet_release_download_bytes_total",
			Help: "Bytes of release binaries served."}),
		storeErrors: prometheus.NewCounter(prometheus.CounterOpts{Name: "pantau_collector_fleet_store_errors_total",
			Help: "Failures to read or write fleet state (state database, credential profiles)."}),
		agents: prometheus.NewGauge(prometheus.GaugeOpts{Name: "pantau_collector_fleet_agents",
			Help: "Agents that spoke OpAMP to this collector since it started."}),
	}
	for _, r := range []string{"too_large", "bad_body", "content_type"} {
		m.refused.WithLabelValues(r)
	}
	for _, r := range []string{"issued", "completed"} {
		m.rotations.WithLabelValues(r)
	}
	for _, r := range []string{"ok", "not_found", "bad_request"} {
		m.downloads.WithLabelValues(r)
	}
	return m
}

// Collectors are the server's metrics, for the collector's registry.
func (s *Server) Collectors() []prometheus.Collector {
	m := s.m
	return []prometheus.Collector{m.messages, m.refused, m.configOffers, m.rotations, m.packageOffers, m.downloads, m.downloadBytes, m.storeErrors, m.agents}
}
