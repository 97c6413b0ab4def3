package collector

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/storage"

	"github.com/pantau-noc/pantau/collector/internal/daemon"
)

// selfScrapeEvery is how often the collector stores its own series.
const selfScrapeEvery = daemon.SelfScrapeEvery

// selfScrape stores the collector's own pantau_ series (current link,
// site and service states, inventory figures, ingest and storage metrics)
// in its TSDB every interval, so the query API, and so Grafana, sees them
// beside the agents' data. Go and process metrics stay on /metrics only.
//
// With remote write on, instance is set: the collector's own process
// figures (ingest, storage, queue, alert engine) then carry
// collector="<instance>", so that those of several collectors writing to
// one engine stay apart. Series derived from the inventory (link, site,
// service and device figures) do not: every collector of an HA pair writes
// the same ones, and the engine keeps one.
func selfScrape(ctx context.Context, g prometheus.Gatherer, app func(context.Context) storage.Appender, every time.Duration, instance string, log *slog.Logger) error {
	t := time.NewTicker(every)
	defer t.Stop()
	last := map[uint64]labels.Labels{}
	for {
		if err := scrapeOnce(ctx, g, app(ctx), time.Now(), instance, last); err != nil && ctx.Err() == nil {
			log.Warn("storing the collector's own series failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// scrapeOnce stores one scrape; last holds the series of the previous
// one, and a series gone since (a link removed from the inventory) gets a
// staleness marker, so that queries stop showing it at once.
func scrapeOnce(ctx context.Context, g prometheus.Gatherer, app storage.Appender, now time.Time, instance string, last map[uint64]labels.Labels) error {
	mfs, err := g.Gather()
	if err != nil {
		return fmt.Errorf("gather own metrics: %w", err)
	}
	ts := now.UnixMilli()
	var b labels.ScratchBuilder
	seen := make(map[uint64]labels.Labels, len(last))
	add := func(name string, m *dto.Metric, extra labels.Label, v float64) error {
		b.Reset()
		b.Add(model.MetricNameLabel, name)
		for _, lp := range m.GetLabel() {
			if lp.GetValue() != "" {
				b.Add(lp.GetName(), lp.GetValue())
			}
		}
		if extra.Name != "" {
			b.Add(extra.Name, extra.Value)
		}
		if instance != "" && !inventorySeries(name) {
			b.Add("collector", instance)
		}
		b.Sort()
		ls := b.Labels()
		seen[ls.Hash()] = ls
		_, err := app.Append(0, ls, ts, v)
		return err
	}
	var none labels.Label
	for _, mf := range mfs {
		name := mf.GetName()
		if !strings.HasPrefix(name, "pantau_") {
			continue
		}
		for _, m := range mf.GetMetric() {
			var err error
			switch mf.GetType() {
			case dto.MetricType_COUNTER:
				err = add(name, m, none, m.GetCounter().GetValue())
			case dto.MetricType_GAUGE:
				err = add(name, m, none, m.GetGauge().GetValue())
			case dto.MetricType_UNTYPED:
				err = add(name, m, none, m.GetUntyped().GetValue())
			case dto.MetricType_HISTOGRAM:
				h := m.GetHistogram()
				for _, bk := range h.GetBucket() {
					if err = add(name+"_bucket", m, labels.Label{Name: "le", Value: formatLe(bk.GetUpperBound())}, float64(bk.GetCumulativeCount())); err != nil {
						break
					}
				}
				if err == nil {
					err = add(name+"_bucket", m, labels.Label{Name: "le", Value: "+Inf"}, float64(h.GetSampleCount()))
				}
				if err == nil {
					err = add(name+"_sum", m, none, h.GetSampleSum())
				}
				if err == nil {
					err = add(name+"_count", m, none, float64(h.GetSampleCount()))
				}
			case dto.MetricType_SUMMARY:
				s := m.GetSummary()
				err = add(name+"_sum", m, none, s.GetSampleSum())
				if err == nil {
					err = add(name+"_count", m, none, float64(s.GetSampleCount()))
				}
			}
			if err != nil {
				app.Rollback()
				return fmt.Errorf("store own series %s: %w", name, err)
			}
		}
	}
	for h, ls := range last {
		if _, ok := seen[h]; !ok {
			if _, err := app.Append(0, ls, ts, math.Float64frombits(value.StaleNaN)); err != nil {
				app.Rollback()
				return fmt.Errorf("mark own series %s stale: %w", ls, err)
			}
		}
	}
	if err := app.Commit(); err != nil {
		return fmt.Errorf("store own series: %w", err)
	}
	clear(last)
	maps.Copy(last, seen)
	return nil
}

// inventorySeries reports whether a self-scraped series is derived from
// the inventory and SLA states rather than from this process.
func inventorySeries(name string) bool {
	for _, p := range []string{"pantau_link_", "pantau_site_", "pantau_service_", "pantau_inventory_", "pantau_device_"} {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

func formatLe(v float64) string {
	if math.IsInf(v, 1) {
		return "+Inf"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}
