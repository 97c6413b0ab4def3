package collector

import (
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pantau-noc/pantau/collector/internal/auth"
	"github.com/pantau-noc/pantau/collector/internal/bundle"
	"github.com/pantau-noc/pantau/collector/internal/config"
	"github.com/pantau-noc/pantau/collector/internal/inventory"
	"github.com/pantau-noc/pantau/collector/internal/report"
	"github.com/pantau-noc/pantau/internal/buildinfo"
)

// bundleRetryAfter is the Retry-After of a bundle refused because others
// are being built.
const bundleRetryAfter = 30 * time.Second

// bundleAPI serves GET /api/v1/evidence: the SPBE evidence bundle
// (docs/api.md; docs/spbe-report.md, Evidence bundle).
type bundleAPI struct {
	p     *parts
	slots chan struct{} // report.bundle_max_concurrent
	// maxBytes and maxEntries are report.bundle_max_bytes and
	// bundle_max_entries, changed by a reload.
	maxBytes, maxEntries atomic.Int64
	refused              *prometheus.CounterVec
	served               prometheus.Counter
}

func (p *parts) evidenceBundles() *bundleAPI {
	a := &bundleAPI{p: p, slots: make(chan struct{}, max(p.cfg.Report.BundleMaxConcurrent, 1)),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pantau_collector_evidence_bundles_refused_total",
			Help: "Evidence bundles refused, by reason (busy: report.bundle_max_concurrent being built; too_large: over report.bundle_max_bytes; too_many_entries: over report.bundle_max_entries).",
		}, []string{"reason"}),
		served: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "pantau_collector_evidence_bundles_total",
			Help: "Evidence bundles written in full.",
		}),
	}
	for _, r := range []string{"busy", "too_large", "too_many_entries"} {
		a.refused.WithLabelValues(r)
	}
	p.reg.MustRegister(a.refused, a.served)
	a.setLimits(p.cfg.Report)
	p.bundles = a
	return a
}

// setLimits puts report.bundle_max_bytes and bundle_max_entries in force
// for the bundles that start from now on.
func (a *bundleAPI) setLimits(c config.ReportConfig) {
	a.maxBytes.Store(c.BundleMaxBytes)
	a.maxEntries.Store(int64(c.BundleMaxEntries))
}

// Register puts the bundle on mux; GET /api/v1/evidence/{sha256} (one
// uploaded file) is the records API's.
func (a *bundleAPI) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/evidence", a.serve)
}

// serve answers 400 for a bad parameter, 403 for an OPD outside the
// caller's scope, 404 without an inventory, 413 over a limit, 503 while
// report.bundle_max_concurrent bundles are being built; else the ZIP,
// streamed as it is written.
func (a *bundleAPI) serve(w http.ResponseWriter, req *http.Request) {
	r := a.p.slarun
	log := r.log
	inv := r.builder.Inventory()
	if inv == nil {
		http.Error(w, "no inventory: set inventory in the collector config", http.StatusNotFound)
		return
	}
	m, err := report.BundleMap()
	if err != nil {
		internalError(w, req, log, err, nil)
		return
	}
	bp, err := bundle.ParseParams(req.URL.Query(), m)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	opts, err := reportScope(auth.FromContext(req.Context()), report.Options{OPD: bp.OPD}, inv)
	if err != nil {
		http.Error(w, err.Error(), http.StatusForbidden)
		return
	}
	select {
	case a.slots <- struct{}{}:
		defer func() { <-a.slots }()
	default:
		a.refused.WithLabelValues("busy").Inc()
		w.Header().Set("Retry-After", fmt.Sprint(int(bundleRetryAfter.Seconds())))
		http.Error(w, fmt.Sprintf("%d evidence bundles are being built (report.bundle_max_concurrent in collector.yml); try again in %s",
			cap(a.slots), bundleRetryAfter), http.StatusServiceUnavailable)
		return
	}
	rin, err := r.reportInput(req.Context(), inv, a.p.store.Queryable())
	if err != nil {
		internalError(w, req, log, err, nil)
		return
	}
	zone := inventory.PemdaZone(r.cfg.Report.TimeZone, inv)
	products := &bundle.ReportProducts{Zone: zone, Lang: bp.Lang, In: rin, Base: report.Options{ForecastHorizon: r.cfg.Report.ForecastHorizon.Std(), MinContractCompleteness: r.cfg.Report.MinContractCompleteness}}
	in := bundle.Input{Products: products, Tables: products, Records: r.state, EvidenceDir: filepath.Join(r.cfg.DataDir, "evidence"),
		Zone: zone, Generator: "pantau-collector " + buildinfo.Version, Now: time.Now(), OPDName: inv.OPDName}
	if err := bundle.Setup(products, &in, r.cfg.Report, inv, r.state, report.TSDBQuality{Q: a.p.store.Queryable()}, r.pdf); err != nil {
		internalError(w, req, log, err, nil)
		return
	}
	scope := bundle.Scope{OPD: opts.OPD, OPDs: opts.OPDs, Reader: opts.Reader}
	b, err := bundle.Plan(req.Context(), in, m, bp, scope, bundle.Limits{MaxBytes: a.maxBytes.Load(), MaxEntries: int(a.maxEntries.Load())})
	var le *bundle.LimitError
	if errors.As(err, &le) {
		a.refused.WithLabelValues(le.Reason).Inc()
		http.Error(w, le.Error(), http.StatusRequestEntityTooLarge)
		return
	}
	if buildFailed(w, req, log, err) {
		return
	}
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s"`, bundle.FileName(bp, scope)))
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if _, err := b.Write(req.Context(), w); err != nil {
		if req.Context().Err() == nil {
			log.Error("writing an evidence bundle failed after it began; the connection is cut", "period", bp.Period, "indicator", bp.Indicator, "err", err)
		}
		panic(http.ErrAbortHandler) // a ZIP cut short must not look whole
	}
	a.served.Inc()
}
