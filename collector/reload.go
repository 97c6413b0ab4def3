package collector

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pantau-noc/pantau/collector/internal/config"
	"github.com/pantau-noc/pantau/collector/internal/ingest"
	"github.com/pantau-noc/pantau/collector/internal/inventory"
	"github.com/pantau-noc/pantau/collector/internal/memlimit"
	"github.com/pantau-noc/pantau/collector/internal/notify"
	"github.com/pantau-noc/pantau/collector/internal/promapi"
	"github.com/pantau-noc/pantau/collector/internal/statedb"
)

// reloadable are the collector.yml keys a reload (SIGHUP) puts in force
// while running; a change to any other key is logged as needing a
// restart. notifiers[] are checked apart: their settings reload, but a
// notifier added, removed, renamed or given another type needs a restart
// (the outbox has a sender per notifier), and so does rate_per_minute.
//
// Of limits, two need a restart: batch_dedup_window and
// batch_dedup_bytes_per_agent bound the batch ids loaded from state.db
// and trimmed at start (ids dropped under the old bound cannot come
// back). A request sees the limits of before a reload or of after it,
// never a mix: each part swaps its set in one atomic store.
var reloadable = []string{
	"inventory",
	"limits.memory_limit",
	"limits.max_body_bytes",
	"limits.max_series_per_agent",
	"limits.max_clock_skew",
	"limits.max_inflight_requests",
	"limits.max_inflight_requests_per_agent",
	"limits.min_body_rate_bytes_per_second",
	"limits.body_read_grace",
	"limits.max_decoded_bytes_in_flight",
	"limits.max_measurement_bytes",
	"limits.max_tag_key_bytes",
	"limits.max_field_key_bytes",
	"limits.max_labels_per_series",
	"limits.max_batches_per_request",
	"limits.auth_failures_per_minute",
	"limits.auth_failure_addresses",
	"limits.remote_read_max_samples",
	"limits.remote_read_max_series",
	"limits.remote_read_max_queries",
	"limits.federate_max_series",
	"limits.max_concurrent_exports",
	"limits.max_match_selectors",
	"ingest.string_fields",
	"auth.max_evidence_bytes",
	"auth.max_inventory_bytes",
	"report.bundle_max_bytes",
	"report.bundle_max_entries",
	"alerting.rules",
	"alerting.routes",
	"alerting.inhibit_rules",
	"alerting.dashboard_url",
	"alerting.repeat_interval",
	"fleet.updates.enabled",
}

// configReloader applies a reloaded config to the running parts.
type configReloader struct {
	p    *parts
	load func() (*config.Config, error)
	log  *slog.Logger
	// cur is the config in force (the reloadable keys from the last
	// successful reload, the others as at start).
	cur *config.Config

	ok      prometheus.Gauge
	okTime  prometheus.Gauge
	reloads *prometheus.CounterVec
}

func newConfigReloader(p *parts, load func() (*config.Config, error)) *configReloader {
	r := &configReloader{
		p: p, load: load, log: p.log.With("component", "config"), cur: p.cfg,
		ok: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "pantau_collector_config_last_reload_successful",
			Help: "Whether the last configuration reload (SIGHUP) succeeded (1; also before the first one) or was refused and the running configuration kept (0).",
		}),
		okTime: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "pantau_collector_config_last_reload_success_timestamp_seconds",
			Help: "When the configuration in force was loaded: the start, or the last successful reload (SIGHUP).",
		}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pantau_collector_config_reloads_total",
			Help: "Configuration reloads (SIGHUP), by result (success, failure: the running configuration kept).",
		}, []string{"result"}),
	}
	r.ok.Set(1)
	r.okTime.Set(float64(time.Now().UnixNano()) / 1e9)
	r.reloads.WithLabelValues("success")
	r.reloads.WithLabelValues("failure")
	p.reg.MustRegister(r.ok, r.okTime, r.reloads)
	return r
}

// run reloads at every request until ctx ends.
func (r *configReloader) run(ctx context.Context, requests <-chan struct{}) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-requests:
			r.reload()
		}
	}
}

// reload loads the config file again and puts it in force, all or
// nothing: a file that does not load or validate, a notifier that cannot
// be built, or an inventory that does not load leaves everything as it
// was.
func (r *configReloader) reload() {
	file := r.cur.File
	r.log.Info("reloading the configuration", "file", file)
	next, err := r.prepare()
	if err != nil {
		r.ok.Set(0)
		r.reloads.WithLabelValues("failure").Inc()
		// config.Load's errors say file:line:col for each problem
		r.log.Error("configuration reload refused; the running configuration is kept", "file", file, "err", err)
		return
	}
	next()
	r.ok.Set(1)
	r.okTime.Set(float64(time.Now().UnixNano()) / 1e9)
	r.reloads.WithLabelValues("success").Inc()
}

// prepare loads the new config and does everything that can fail; the
// function it returns puts the result in force and cannot fail.
func (r *configReloader) prepare() (func(), error) {
	// A file written in place (truncated, then written) may be read
	// empty: that would load as the defaults (no inventory, no rules of
	// the operator's), so it is refused.
	if b, err := os.ReadFile(r.cur.File); err == nil && len(bytes.TrimSpace(b)) == 0 {
		return nil, fmt.Errorf("%s is empty (read while being written?): send SIGHUP again once it is written; to run on the defaults, restart the collector", r.cur.File)
	}
	nc, err := r.load()
	if err != nil {
		return nil, err
	}
	p, old := r.p, r.cur
	// Notifiers: the same names and types (the outbox's senders), new
	// settings built and checked now.
	var ns map[string]notify.Notifier
	if !sameNotifiers(old.Notifiers, nc.Notifiers) {
		return nil, fmt.Errorf("%s: notifiers: adding, removing or renaming a notifier or changing its type needs a restart (systemctl restart pantau-collector); was %s, now %s",
			nc.File, notifierList(old.Notifiers), notifierList(nc.Notifiers))
	}
	if len(nc.Notifiers) > 0 {
		if ns, err = notify.Build(nc.Notifiers); err != nil {
			return nil, fmt.Errorf("%s: %w", nc.File, err)
		}
	}
	// The inventory, if the config names another file.
	invChanged := nc.Inventory != old.Inventory
	var inv *inventory.Inventory
	var invStat os.FileInfo
	if invChanged {
		if inv, invStat, err = loadInventoryFile(nc.Inventory); err != nil {
			return nil, fmt.Errorf("%s: inventory %s: %w", nc.File, nc.Inventory, err)
		}
	}
	// The limits, built and checked now.
	il := ingestLimits(nc)
	if err := il.Check(); err != nil {
		return nil, fmt.Errorf("%s: limits: %w", nc.File, err)
	}
	limitsChanged := nc.Limits != old.Limits || nc.Ingest != old.Ingest ||
		nc.Auth.MaxEvidenceBytes != old.Auth.MaxEvidenceBytes || nc.Auth.MaxInventoryBytes != old.Auth.MaxInventoryBytes ||
		nc.Report.BundleMaxBytes != old.Report.BundleMaxBytes || nc.Report.BundleMaxEntries != old.Report.BundleMaxEntries ||
		sessionPolicy(nc) != sessionPolicy(old)
	restart := changedKeys(reflect.ValueOf(*old), reflect.ValueOf(*nc), "")
	for i := range min(len(old.Notifiers), len(nc.Notifiers)) {
		if old.Notifiers[i].RatePerMinute != nc.Notifiers[i].RatePerMinute {
			restart = append(restart, fmt.Sprintf("notifiers[%d].rate_per_minute", i))
		}
	}
	return func() {
		var applied []string
		if p.alerts != nil {
			p.alerts.SetConfig(&nc.Alerting)
			applied = append(applied, "alerting")
		}
		if ns != nil {
			p.notifiers.set(ns)
			applied = append(applied, "notifiers")
		}
		if invChanged {
			p.slarun.useInventoryFile(nc.Inventory, inv, invStat)
			applied = append(applied, "inventory")
		} else {
			// the same file: read it now if it changed
			p.slarun.reloadInventory()
		}
		if nc.Limits.MemoryLimit != old.Limits.MemoryLimit {
			memlimit.Set(nc.Limits.MemoryLimit, r.log)
			applied = append(applied, "limits.memory_limit")
		}
		if limitsChanged {
			p.setLimits(nc, il)
			applied = append(applied, "limits")
		}
		// Keep the keys that did not reload as they run.
		kept := *old
		kept.Limits, kept.Ingest = nc.Limits, nc.Ingest
		kept.Limits.BatchDedupWindow, kept.Limits.BatchDedupBytesPerAgent = old.Limits.BatchDedupWindow, old.Limits.BatchDedupBytesPerAgent
		kept.Auth.MaxEvidenceBytes, kept.Auth.MaxInventoryBytes = nc.Auth.MaxEvidenceBytes, nc.Auth.MaxInventoryBytes
		kept.Auth.SessionIdle, kept.Auth.SessionLifetime = nc.Auth.SessionIdle, nc.Auth.SessionLifetime
		kept.Auth.LockoutFailures, kept.Auth.LockoutDuration = nc.Auth.LockoutFailures, nc.Auth.LockoutDuration
		kept.Report.BundleMaxBytes, kept.Report.BundleMaxEntries = nc.Report.BundleMaxBytes, nc.Report.BundleMaxEntries
		kept.Inventory, kept.Notifiers = nc.Inventory, nc.Notifiers
		if nc.Fleet.Updates != old.Fleet.Updates {
			p.fleetUpdates.Store(nc.Fleet.Updates.Enabled)
			applied = append(applied, "fleet.updates")
		}
		kept.Fleet.Updates = nc.Fleet.Updates
		kept.Alerting.Rules, kept.Alerting.Routes = nc.Alerting.Rules, nc.Alerting.Routes
		kept.Alerting.InhibitRules = nc.Alerting.InhibitRules
		kept.Alerting.DashboardURL, kept.Alerting.RepeatInterval = nc.Alerting.DashboardURL, nc.Alerting.RepeatInterval
		for i := range kept.Notifiers {
			if i < len(old.Notifiers) {
				kept.Notifiers[i].RatePerMinute = old.Notifiers[i].RatePerMinute
			}
		}
		r.cur = &kept
		if len(restart) > 0 {
			r.log.Warn("configuration reloaded, but these keys changed and take effect only after a restart (systemctl restart pantau-collector)",
				"file", nc.File, "keys", strings.Join(restart, ", "))
		}
		r.log.Info("configuration reloaded", "file", nc.File, "applied", strings.Join(applied, ", "))
	}, nil
}

// ingestLimits are the write API's limits in c.
func ingestLimits(c *config.Config) ingest.Limits {
	l := c.Limits
	return ingest.Limits{
		MaxBodyBytes:            l.MaxBodyBytes,
		MaxSeriesPerAgent:       l.MaxSeriesPerAgent,
		MaxClockSkew:            l.MaxClockSkew.Std(),
		MaxInflight:             l.MaxInflightRequests,
		MaxInflightPerAgent:     l.MaxInflightRequestsPerAgent,
		MinBodyRate:             float64(l.MinBodyRateBytesPerSecond),
		BodyReadGrace:           l.BodyReadGrace.Std(),
		MaxDecodedBytesInFlight: l.MaxDecodedBytesInFlight,
		MaxMeasurementBytes:     l.MaxMeasurementBytes,
		MaxTagKeyBytes:          l.MaxTagKeyBytes,
		MaxFieldKeyBytes:        l.MaxFieldKeyBytes,
		MaxLabelsPerSeries:      l.MaxLabelsPerSeries,
		MaxBatchesPerRequest:    l.MaxBatchesPerRequest,
		RejectStringFields:      c.Ingest.StringFields == config.StringFieldsReject,
	}
}

// apiLimits are the query API's limits in c.
func apiLimits(c *config.Config) promapi.Limits {
	l := c.Limits
	return promapi.Limits{
		Read: promapi.ReadLimits{MaxBodyBytes: l.MaxBodyBytes,
			MaxSamples: l.RemoteReadMaxSamples, MaxSeries: l.RemoteReadMaxSeries, MaxQueries: l.RemoteReadMaxQueries},
		FederateMaxSeries:    l.FederateMaxSeries,
		MaxConcurrentExports: l.MaxConcurrentExports,
		MaxMatchSelectors:    l.MaxMatchSelectors,
	}
}

// setLimits puts c's limits in force in every part that has some; il
// is ingestLimits(c), checked. Each part swaps its set at once.
func (p *parts) setLimits(c *config.Config, il ingest.Limits) {
	if p.ing != nil {
		_ = p.ing.SetLimits(il) // checked by the caller
	}
	if p.api != nil {
		p.api.SetLimits(apiLimits(c))
	}
	if p.guard != nil {
		p.guard.SetLimits(c.Limits.AuthFailuresPerMinute, c.Limits.AuthFailureAddresses)
	}
	if p.recs != nil {
		p.recs.SetMaxEvidenceBytes(c.Auth.MaxEvidenceBytes)
	}
	if p.auth != nil {
		p.auth.SetSessionPolicy(sessionPolicy(c))
	}
	if p.admin != nil {
		p.admin.SetMaxInventoryBytes(c.Auth.MaxInventoryBytes)
	}
	if p.bundles != nil {
		p.bundles.setLimits(c.Report)
	}
}

// sameNotifiers tells whether two notifier lists have the same names and
// types in the same order.
func sameNotifiers(a, b []notify.Config) bool {
	return slices.EqualFunc(a, b, func(x, y notify.Config) bool { return x.Name == y.Name && x.Type == y.Type })
}

func notifierList(ns []notify.Config) string {
	if len(ns) == 0 {
		return "none"
	}
	var out []string
	for _, n := range ns {
		out = append(out, n.Name+" ("+n.Type+")")
	}
	return strings.Join(out, ", ")
}

// changedKeys lists the yaml paths under prefix where a and b (the same
// struct type) differ and that do not reload; structs are compared field
// by field, anything else as a whole.
func changedKeys(a, b reflect.Value, prefix string) []string {
	var out []string
	t := a.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if !f.IsExported() || name == "-" {
			continue
		}
		path := name
		if prefix != "" {
			path = prefix + "." + name
		}
		if name == "" { // inline
			path = prefix
		}
		if path == "notifiers" || slices.Contains(reloadable, path) {
			continue
		}
		av, bv := a.Field(i), b.Field(i)
		if av.Kind() == reflect.Struct && hasYAMLFields(av.Type()) {
			out = append(out, changedKeys(av, bv, path)...)
			continue
		}
		if !reflect.DeepEqual(av.Interface(), bv.Interface()) {
			out = append(out, path)
		}
	}
	return out
}

func hasYAMLFields(t reflect.Type) bool {
	for i := range t.NumField() {
		if t.Field(i).Tag.Get("yaml") != "" {
			return true
		}
	}
	return false
}

// sessionPolicy is the web sessions' lifetimes and the users' lockout
// of a config (auth.session_*, auth.lockout_*).
func sessionPolicy(c *config.Config) statedb.SessionPolicy {
	return statedb.SessionPolicy{Idle: c.Auth.SessionIdle.Std(), Lifetime: c.Auth.SessionLifetime.Std(),
		LockoutFailures: c.Auth.LockoutFailures, LockoutDuration: c.Auth.LockoutDuration.Std()}
}
