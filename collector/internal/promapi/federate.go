package promapi

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"google.golang.org/protobuf/proto"
)

// federate serves /federate as Prometheus's web/federate.go does: for
// every series the match[] selectors select, its latest sample within
// the lookback delta (5 min) before now, with its own timestamp, in the
// text exposition format 0.0.4 (or protobuf when the scraper asks for
// it). Series whose latest sample is a staleness marker, or older than
// 5 min, are left out. Every series without an instance label gets
// instance="", so that a scrape with honor_labels: true keeps the
// series without one rather than taking the scrape target's.
//
// Unlike Prometheus, which types every family untyped, the TYPE and
// HELP lines come from Options.Metadata (the wire schema and the
// collector's own metrics), so a federating Prometheus stores the
// metadata too. A scoped credential federates only its OPDs' series.
func (a *API) federate(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, fmt.Sprintf("parse form: %v", err), http.StatusBadRequest)
		return
	}
	r, l, release, ok := a.startExport(w, r, "federate", a.federateRefused)
	if !ok {
		return
	}
	defer release()
	sets, aerr := a.matchers(r, l, true)
	if aerr != nil {
		msg := aerr.err.Error()
		if len(r.Form["match[]"]) == 0 {
			msg += ` (federate needs at least one match[] selector, e.g. match[]={__name__=~"pantau_.+"})`
		}
		http.Error(w, msg, aerr.status)
		return
	}
	now := a.now()
	maxt := now.UnixMilli()
	mint := now.Add(-lookbackDelta).UnixMilli()
	q, err := scopeFrom(r.Context()).queryable(a.o.Queryable).Querier(mint, maxt)
	if err != nil {
		a.o.Logger.Warn("federate: open querier", "err", err)
		http.Error(w, fmt.Sprintf("open querier: %v", err), http.StatusServiceUnavailable)
		return
	}
	defer q.Close()
	hints := &storage.SelectHints{Start: mint, End: maxt}
	sss := make([]storage.SeriesSet, 0, len(sets))
	for _, ms := range sets {
		sss = append(sss, q.Select(r.Context(), true, hints, ms...))
	}
	set := storage.NewMergeSeriesSet(sss, 0, storage.ChainedSeriesMerge)

	type sample struct {
		l labels.Labels
		t int64
		f float64
	}
	var (
		out []sample
		it  chunkenc.Iterator
		buf = storage.NewBuffer(lookbackDelta.Milliseconds())
	)
	for set.Next() {
		s := set.At()
		it = s.Iterator(it)
		buf.Reset(it)
		var (
			t int64
			f float64
		)
		switch buf.Seek(maxt) {
		case chunkenc.ValFloat:
			t, f = buf.At()
		case chunkenc.ValNone:
			p, ok := buf.PeekBack(1)
			if !ok || p.Type() != chunkenc.ValFloat {
				continue
			}
			t, f = p.T(), p.F()
		default:
			// The store holds floats only; a histogram cannot be
			// written in the text format.
			continue
		}
		if value.IsStaleNaN(f) || t < mint {
			continue
		}
		if max := l.FederateMaxSeries; max > 0 && len(out) >= max {
			a.federateRefused.WithLabelValues(refusedSeries).Inc()
			a.o.Logger.Debug("federate refused: too many series", "limit", max, "match", fmt.Sprint(r.Form["match[]"]))
			http.Error(w, fmt.Sprintf("federate: match[] selects more than %d series (limits.federate_max_series): narrow match[], e.g. match[]={__name__=\"pantau_icmp_up\"} or add opd=\"...\", split it over several scrape jobs, or raise the limit", max),
				http.StatusUnprocessableEntity)
			return
		}
		out = append(out, sample{s.Labels(), t, f})
	}
	if err := set.Err(); err != nil {
		a.o.Logger.Warn("federate: select", "err", err)
		http.Error(w, fmt.Sprintf("select series: %v", err), http.StatusInternalServerError)
		return
	}
	slices.SortStableFunc(out, func(x, y sample) int {
		return strings.Compare(x.l.Get(model.MetricNameLabel), y.l.Get(model.MetricNameLabel))
	})

	format := expfmt.NegotiateAccept(r.Header, expfmt.NewFormat(expfmt.TypeProtoDelim), expfmt.NewFormat(expfmt.TypeTextPlain))
	w.Header().Set("Content-Type", string(format))
	enc := expfmt.NewEncoder(w, format)
	var fam *dto.MetricFamily
	flush := func() error {
		if fam == nil {
			return nil
		}
		return enc.Encode(fam)
	}
	for _, s := range out {
		name := s.l.Get(model.MetricNameLabel)
		if name == "" {
			continue
		}
		if fam == nil || fam.GetName() != name {
			if err := flush(); err != nil {
				a.o.Logger.Debug("federate: write", "err", err)
				return
			}
			m := a.meta(name)
			fam = &dto.MetricFamily{Name: proto.String(name), Type: dto.MetricType_UNTYPED.Enum()}
			switch m.Type {
			case "counter":
				fam.Type = dto.MetricType_COUNTER.Enum()
			case "gauge":
				fam.Type = dto.MetricType_GAUGE.Enum()
			}
			if m.Help != "" {
				fam.Help = proto.String(m.Help)
			}
		}
		pm := &dto.Metric{TimestampMs: proto.Int64(s.t)}
		hasInstance := false
		s.l.Range(func(l labels.Label) {
			if l.Name == model.MetricNameLabel || l.Value == "" {
				return
			}
			hasInstance = hasInstance || l.Name == model.InstanceLabel
			pm.Label = append(pm.Label, &dto.LabelPair{Name: proto.String(l.Name), Value: proto.String(l.Value)})
		})
		if !hasInstance {
			pm.Label = append(pm.Label, &dto.LabelPair{Name: proto.String(model.InstanceLabel), Value: proto.String("")})
			slices.SortFunc(pm.Label, func(x, y *dto.LabelPair) int { return strings.Compare(x.GetName(), y.GetName()) })
		}
		switch fam.GetType() {
		case dto.MetricType_COUNTER:
			pm.Counter = &dto.Counter{Value: proto.Float64(s.f)}
		case dto.MetricType_GAUGE:
			pm.Gauge = &dto.Gauge{Value: proto.Float64(s.f)}
		default:
			pm.Untyped = &dto.Untyped{Value: proto.Float64(s.f)}
		}
		fam.Metric = append(fam.Metric, pm)
	}
	if err := flush(); err != nil {
		a.o.Logger.Debug("federate: write", "err", err)
	}
	if c, ok := enc.(expfmt.Closer); ok {
		_ = c.Close()
	}
}

// startExport begins a federation or remote read: r in its scope, the
// limits in force for the whole request, and an export slot (release
// frees it). ok is false when the request was answered: a scope
// refused, or no slot free within the queue wait (503, counted as busy
// in refused).
func (a *API) startExport(w http.ResponseWriter, r *http.Request, what string, refused *prometheus.CounterVec) (_ *http.Request, _ *Limits, release func(), ok bool) {
	r, aerr := a.scoped(r)
	if aerr != nil {
		http.Error(w, aerr.err.Error(), aerr.status)
		return nil, nil, nil, false
	}
	l := a.lim.Load()
	if release, ok = a.exports.acquire(r.Context(), l.MaxConcurrentExports); !ok {
		refused.WithLabelValues(refusedBusy).Inc()
		a.exports.refuseBusy(w, what, l.MaxConcurrentExports)
		return nil, nil, nil, false
	}
	return r, l, release, true
}

// scoped returns r with its scope in the context when Options.Scope
// scopes it.
func (a *API) scoped(r *http.Request) (*http.Request, *apiError) {
	if a.o.Scope == nil {
		return r, nil
	}
	opds, scoped := a.o.Scope(r)
	if !scoped {
		return r, nil
	}
	sc, err := newScope(opds, a.layers)
	if err != nil {
		return nil, &apiError{"internal", http.StatusInternalServerError, err}
	}
	return r.WithContext(contextWithScope(r.Context(), sc)), nil
}
