package collector

import (
	"context"
	"fmt"
	"net/http"

	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/prometheus/prometheus/storage"

	"github.com/pantau-noc/pantau/collector/internal/alert"
	"github.com/pantau-noc/pantau/collector/internal/config"
	"github.com/pantau-noc/pantau/collector/internal/daemon"
	"github.com/pantau-noc/pantau/collector/internal/ingest"
	"github.com/pantau-noc/pantau/collector/internal/inventory"
	"github.com/pantau-noc/pantau/collector/internal/pdf"
	"github.com/pantau-noc/pantau/collector/internal/report"
	"github.com/pantau-noc/pantau/collector/internal/sla"
	"github.com/pantau-noc/pantau/collector/internal/statedb"
)

// slaRuntime is the SLA engine inside the daemon: it builds minute states
// from what is ingested, marks the collector's own running minutes, and
// picks up inventory and maintenance changes without a restart.
type slaRuntime struct {
	cfg     *config.Config
	state   *statedb.DB
	minutes *statedb.Minutes
	builder *sla.Builder
	log     *slog.Logger
	// invMu guards invFile (cfg.Inventory at start; a reload may change
	// it) and invStat.
	invMu   sync.Mutex
	invFile string
	invStat os.FileInfo
	// onReload runs after a new inventory is in force (the daemon forgets
	// its cached series, so new samples carry the new inventory labels).
	onReload func()
	// onCommitted runs after a commit's marks are the current state (the
	// alert engine evaluates link_down and service_down on them).
	onCommitted func()
	// pdf prints format=pdf reports (reportpdf.go).
	pdf *pdf.Renderer
}

// How often the collector marks its own minute, and checks the inventory
// file and maintenance windows for changes.
const (
	collectorMarkEvery = 20 * time.Second
	slaReloadEvery     = daemon.SLAReloadEvery
)

func newSLARuntime(ctx context.Context, cfg *config.Config, state *statedb.DB, log *slog.Logger) (*slaRuntime, error) {
	r := &slaRuntime{cfg: cfg, state: state, minutes: state.Minutes(), log: log, invFile: cfg.Inventory}
	r.pdf = report.PDFRenderer(cfg.Report, log.With("component", "pdf"))
	var inv *inventory.Inventory
	if cfg.Inventory != "" {
		var err error
		if inv, err = inventory.Load(cfg.Inventory); err != nil {
			return nil, err
		}
		r.invStat, _ = os.Stat(cfg.Inventory)
		log.Info("inventory loaded", "file", cfg.Inventory, "sites", len(inv.Sites), "links", len(inv.Links), "devices", len(inv.Devices), "services", len(inv.Services))
	}
	r.builder = sla.NewBuilder(inv, nil)
	ws, err := state.Maintenance(ctx)
	if err != nil {
		return nil, err
	}
	r.builder.SetWindows(ws)
	if err := r.builder.MarkCollector(ctx, r.minutes); err != nil {
		return nil, err
	}
	return r, nil
}

// onSync stores the SLA marks of a group commit (called by the store
// after the fsync and before the writers get their 204).
func (r *slaRuntime) onSync(ctx context.Context, items []any) ([]statedb.BatchKey, error) {
	var (
		keys  []statedb.BatchKey
		marks []sla.Mark
	)
	for _, it := range items {
		if c, ok := it.(ingest.Committed); ok {
			keys = append(keys, c.Batches...)
			marks = append(marks, c.Marks...)
		}
	}
	if len(marks) > 0 {
		if err := r.minutes.Merge(ctx, marks); err != nil {
			// The writes are not acknowledged; their re-sends merge again.
			return nil, fmt.Errorf("store %d SLA minute marks: %w", len(marks), err)
		}
		r.builder.Committed(marks)
		if r.onCommitted != nil {
			r.onCommitted()
		}
	}
	return keys, nil
}

// run marks the collector's minutes and reloads the inventory and the
// maintenance windows when they change.
func (r *slaRuntime) run(ctx context.Context) error {
	mark := time.NewTicker(collectorMarkEvery)
	defer mark.Stop()
	reload := time.NewTicker(slaReloadEvery)
	defer reload.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-mark.C:
			if err := r.builder.MarkCollector(ctx, r.minutes); err != nil && ctx.Err() == nil {
				r.log.Warn("marking the collector's running minute failed", "err", err)
			}
		case <-reload.C:
			r.reloadInventory()
			if ws, err := r.state.Maintenance(ctx); err == nil {
				r.builder.SetWindows(ws)
			} else if ctx.Err() == nil {
				r.log.Warn("reading maintenance windows failed", "err", err)
			}
		}
	}
}

// reloadInventory loads the inventory file again when its size or mtime
// changed. A file that fails validation is logged with its errors and the
// previous inventory stays in force.
func (r *slaRuntime) reloadInventory() {
	r.invMu.Lock()
	defer r.invMu.Unlock()
	file := r.invFile
	if file == "" {
		return
	}
	fi, err := os.Stat(file)
	if err != nil {
		r.log.Warn("inventory file unreadable; keeping the loaded one", "file", file, "err", err)
		return
	}
	if r.invStat != nil && fi.ModTime().Equal(r.invStat.ModTime()) && fi.Size() == r.invStat.Size() {
		return
	}
	if fi.Size() == 0 {
		// written in place and caught between truncating and writing: an
		// empty inventory would drop every link (alerts resolving, then
		// firing again); looked at again at the next check
		r.log.Warn("inventory file is empty (being written?); keeping the loaded one", "file", file)
		return
	}
	r.invStat = fi
	inv, err := inventory.Load(file)
	if err != nil {
		var errs []string
		for _, e := range unjoin(err) {
			errs = append(errs, e.Error())
		}
		r.log.Error("inventory reload rejected; keeping the loaded one", "file", file, "errors", errs)
		return
	}
	r.setInventory(inv)
	r.log.Info("inventory reloaded", "file", file, "sites", len(inv.Sites), "links", len(inv.Links), "devices", len(inv.Devices), "services", len(inv.Services))
}

// inventoryFile is the inventory file in force ("" none).
func (r *slaRuntime) inventoryFile() string {
	r.invMu.Lock()
	defer r.invMu.Unlock()
	return r.invFile
}

// loadInventoryFile loads and validates file for a config reload that
// names another inventory (nil for ""), without putting it in force.
func loadInventoryFile(file string) (*inventory.Inventory, os.FileInfo, error) {
	if file == "" {
		return nil, nil, nil
	}
	fi, err := os.Stat(file)
	if err != nil {
		return nil, nil, fmt.Errorf("inventory: %w", err)
	}
	if fi.Size() == 0 {
		return nil, nil, fmt.Errorf("inventory %s is empty (being written?): the running inventory is kept; reload again once it is written", file)
	}
	inv, err := inventory.Load(file)
	if err != nil {
		return nil, nil, err
	}
	return inv, fi, nil
}

// useInventoryFile puts a reloaded config's inventory file, loaded by
// loadInventoryFile, in force.
func (r *slaRuntime) useInventoryFile(file string, inv *inventory.Inventory, fi os.FileInfo) {
	r.invMu.Lock()
	defer r.invMu.Unlock()
	r.invFile, r.invStat = file, fi
	r.setInventory(inv)
	if inv == nil {
		r.log.Info("inventory unloaded: the config names none")
		return
	}
	r.log.Info("inventory loaded", "file", file, "sites", len(inv.Sites), "links", len(inv.Links), "devices", len(inv.Devices), "services", len(inv.Services))
}

// setInventory puts inv in force (the file check, and PUT
// /api/v1/inventory).
func (r *slaRuntime) setInventory(inv *inventory.Inventory) {
	r.builder.SetInventory(inv)
	if r.onReload != nil {
		r.onReload()
	}
}

func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// register serves the report API: GET /api/v1/report?period=2026-10
// [&opd=X|&site=Y][&format=json|csv|xlsx|html][&table=links][&lang=id|en]
// [&zone=WIB] (reportapi.go). Maintenance windows are served with the
// other records (collector/internal/httpapi).
func (r *slaRuntime) register(mux *http.ServeMux, q storage.Queryable) {
	mux.HandleFunc("GET /api/v1/report", r.serveReport(q, r.log))
}

// Capacity rollups: every rollupEvery the daemon recomputes the rollups of
// the last rollupDays closed UTC days from the TSDB (late data from an
// agent's backlog lands within the out-of-order window, so recent days
// are recomputed, not appended to), so that reports read a few kilobytes
// per link and day instead of every sample.
const (
	rollupEvery = 6 * time.Hour
	rollupDays  = 8
)

// runRollups computes rollups shortly after start and then every
// rollupEvery.
func (r *slaRuntime) runRollups(ctx context.Context, q storage.Queryable, retention time.Duration) error {
	first := time.NewTimer(time.Minute)
	defer first.Stop()
	tick := time.NewTicker(rollupEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-first.C:
		case <-tick.C:
		}
		today := time.Now().UnixMilli() / 86400000
		start := time.Now()
		n, err := report.ComputeRollups(ctx, r.builder.Inventory(), report.TSDBCapacity{Q: q}, r.state, today-rollupDays, today-1)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			r.log.Warn("computing capacity rollups failed", "err", err)
			continue
		}
		if err := r.state.PruneRollups(ctx, time.Now().Add(-retention)); err != nil && ctx.Err() == nil {
			r.log.Warn("pruning capacity rollups failed", "err", err)
		}
		r.log.Info("capacity rollups computed", "links", n, "days", rollupDays, "duration_seconds", time.Since(start).Seconds())
	}
}

// explainOutages returns the outages of a site that overlap [from, to],
// from the minute states, to the 10-second slot (for the alert engine's
// message when a silent agent is back and its backlog has landed, and the
// Telegram console's last outage).
func (r *slaRuntime) explainOutages(ctx context.Context, siteID string, from, to time.Time) ([]alert.Outage, error) {
	inv := r.builder.Inventory()
	if inv == nil || inv.Site(siteID) == nil {
		return nil, nil
	}
	site := inv.Site(siteID)
	comp, err := r.computation(ctx, inv, site, from, to)
	if err != nil {
		return nil, err
	}
	res, err := comp.Site(ctx, site)
	if err != nil {
		return nil, fmt.Errorf("outages of site %s: %w", siteID, err)
	}
	return overlapping(res.Outages, from, to), nil
}

// explainLinkOutages returns the outages of a link that overlap [from,
// to], to the 10-second slot (for a resolved link_down message: the
// outage from its first failed round to the first good round after it).
func (r *slaRuntime) explainLinkOutages(ctx context.Context, linkID string, from, to time.Time) ([]alert.Outage, error) {
	inv := r.builder.Inventory()
	if inv == nil || inv.Link(linkID) == nil {
		return nil, nil
	}
	l := inv.Link(linkID)
	return r.measured(ctx, inv, l.Site, from, to, func(c *sla.Computation) ([]sla.Outage, error) {
		res, err := c.Link(ctx, l)
		if err != nil {
			return nil, fmt.Errorf("outages of link %s: %w", linkID, err)
		}
		return res.Outages, nil
	})
}

// explainServiceOutages is explainLinkOutages for a service (a resolved
// service_down message: from its first failed check to the first good
// one after it).
func (r *slaRuntime) explainServiceOutages(ctx context.Context, id string, from, to time.Time) ([]alert.Outage, error) {
	inv := r.builder.Inventory()
	if inv == nil || inv.Service(id) == nil {
		return nil, nil
	}
	sv := inv.Service(id)
	return r.measured(ctx, inv, sv.Site, from, to, func(c *sla.Computation) ([]sla.Outage, error) {
		res, err := c.Service(ctx, sv)
		if err != nil {
			return nil, fmt.Errorf("outages of service %s: %w", id, err)
		}
		return res.Outages, nil
	})
}

// measured runs outages on the SLA computation of site's days that hold
// [from, to] and keeps those that overlap it.
func (r *slaRuntime) measured(ctx context.Context, inv *inventory.Inventory, site string, from, to time.Time, outages func(*sla.Computation) ([]sla.Outage, error)) ([]alert.Outage, error) {
	if inv.Site(site) == nil {
		return nil, nil
	}
	comp, err := r.computation(ctx, inv, inv.Site(site), from, to)
	if err != nil {
		return nil, err
	}
	os, err := outages(comp)
	if err != nil {
		return nil, err
	}
	return overlapping(os, from, to), nil
}

// computation is an SLA computation of the site's local days that hold
// [from, to].
func (r *slaRuntime) computation(ctx context.Context, inv *inventory.Inventory, site *inventory.Site, from, to time.Time) (*sla.Computation, error) {
	loc := site.Location
	if loc == nil {
		loc = time.UTC
	}
	day := func(t time.Time) string { return t.In(loc).Format("2006-01-02") }
	p, err := sla.ParsePeriod(day(from)+".."+day(to), loc)
	if err != nil {
		return nil, err
	}
	ws, err := r.state.Maintenance(ctx)
	if err != nil {
		return nil, err
	}
	return (&sla.Engine{Inv: inv, Store: r.minutes, Windows: ws, NoContracts: true}).NewComputation(p), nil
}

// overlapping are the outages that overlap [from, to].
func overlapping(os []sla.Outage, from, to time.Time) []alert.Outage {
	var out []alert.Outage
	for _, o := range os {
		if o.End.After(from) && o.Start.Before(to) {
			out = append(out, alert.Outage{Start: o.Start, End: o.End, Cause: o.Cause})
		}
	}
	return out
}
