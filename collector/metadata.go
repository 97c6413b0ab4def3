package collector

import (
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/pantau-noc/pantau/internal/wire/schema"
)

// seriesMetadata answers the query API's metadata and /federate's TYPE
// and HELP: wire schema v1 for the agents' series, the collector's own
// registry for the series it stores of itself (selfscrape.go). Other
// series (plugins, Telegraf) are left to the API's guess from the name.
type seriesMetadata struct {
	reg prometheus.Gatherer

	mu   sync.Mutex
	at   time.Time
	fams map[string]schema.Metadata
}

// refreshEvery bounds how often the registry is gathered for metadata.
const metadataRefreshEvery = time.Minute

func (m *seriesMetadata) lookup(name string) (typ, help, unit string, ok bool) {
	if md, ok := schema.MetadataOf(name); ok {
		return md.Type, md.Help, md.Unit, true
	}
	if m.reg == nil || !strings.HasPrefix(name, "pantau_") {
		return "", "", "", false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fams == nil || time.Since(m.at) > metadataRefreshEvery {
		mfs, err := m.reg.Gather()
		if err == nil {
			m.fams = make(map[string]schema.Metadata, len(mfs))
			for _, mf := range mfs {
				m.fams[mf.GetName()] = schema.Metadata{Type: promType(mf.GetType()), Help: mf.GetHelp(), Unit: mf.GetUnit()}
			}
			m.at = time.Now()
		}
	}
	md, ok := m.fams[name]
	return md.Type, md.Help, md.Unit, ok
}

func promType(t dto.MetricType) string {
	switch t {
	case dto.MetricType_COUNTER:
		return "counter"
	case dto.MetricType_GAUGE:
		return "gauge"
	case dto.MetricType_HISTOGRAM:
		return "histogram"
	case dto.MetricType_SUMMARY:
		return "summary"
	case dto.MetricType_GAUGE_HISTOGRAM:
		return "gaugehistogram"
	}
	return "unknown"
}
