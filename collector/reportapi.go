package collector

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/prometheus/storage"

	"github.com/pantau-noc/pantau/collector/internal/auth"
	"github.com/pantau-noc/pantau/collector/internal/calendar"
	"github.com/pantau-noc/pantau/collector/internal/inventory"
	"github.com/pantau-noc/pantau/collector/internal/report"
	"github.com/pantau-noc/pantau/collector/internal/sla"
)

// reportParams are the parameters GET /api/v1/report accepts.
var reportParams = []string{"period", "opd", "site", "format", "table", "lang", "zone", "csv_locale", "product", "version"}

// reportQuery is a GET /api/v1/report request whose format, table and
// zone are known to be valid; Build checks the period, language, site and
// OPD before it computes anything.
type reportQuery struct {
	opts          report.Options
	format, table string
	csvLocale     string // report.ParseCSVLocale's
	product       string
	version       int // the document's version (approval sheet), default 1
}

// parseReportQuery checks the parameters that Build does not: each given
// once, a known format, a table only with csv and a known one, a known
// zone (def when none). Every error is the caller's (400).
func parseReportQuery(v url.Values, def *time.Location) (reportQuery, error) {
	for _, k := range reportParams {
		if len(v[k]) > 1 {
			return reportQuery{}, fmt.Errorf("parameter %s is given %d times; give it once", k, len(v[k]))
		}
	}
	q := reportQuery{format: v.Get("format"), table: v.Get("table")}
	if q.format == "" {
		q.format = "json"
	}
	if !slices.Contains(report.Formats, q.format) {
		return q, fmt.Errorf("format %q: want one of %s", report.ClipValue(q.format), strings.Join(report.Formats, ", "))
	}
	var err error
	if q.product, err = report.ParseProduct(v.Get("product")); err != nil {
		return q, err
	}
	if err := report.CheckProductFormat(q.product, q.format); err != nil {
		return q, err
	}
	if q.table != "" {
		if q.format != "csv" {
			return q, fmt.Errorf("table=%s is for format=csv; the %s format carries every table", report.ClipValue(q.table), q.format)
		}
	}
	if q.format == "csv" {
		if err := report.CheckProductTable(q.product, q.table); err != nil {
			return q, err
		}
	}
	if v.Has("csv_locale") {
		if q.format != "csv" {
			return q, fmt.Errorf("csv_locale is for format=csv; the %s format is not a CSV", q.format)
		}
		var err error
		if q.csvLocale, err = report.ParseCSVLocale(v.Get("csv_locale")); err != nil {
			return q, err
		}
	}
	loc := def
	if z := v.Get("zone"); z != "" {
		var err error
		if loc, err = inventory.ParseZone(z); err != nil {
			return q, err
		}
	}
	if v.Get("period") == "" {
		return q, errors.New("period is required: 2026-10 (a month), 2026-Q4, 2026 or 2026-10-01..2026-10-15")
	}
	if v.Get("opd") != "" && v.Get("site") != "" {
		return q, errors.New("give opd or site, not both")
	}
	q.opts = report.Options{Period: v.Get("period"), OPD: v.Get("opd"), Site: v.Get("site"), Lang: v.Get("lang"), Zone: loc}
	if q.version, err = parseDocVersion(v.Get("version")); err != nil {
		return q, err
	}
	return q, nil
}

// errOutOfScope is a report request broader than, or outside, the
// caller's OPD scope (403).
var errOutOfScope = errors.New("forbidden")

// reportScope narrows a report request to the caller's OPD scope. A
// scoped principal's report defaults to its OPDs (one: as if opd named
// it; several: those OPDs' sites) and may name one of its OPDs or a site
// of one; anything else is refused with errOutOfScope, an unknown site
// alike (so that a refusal tells nothing of other OPDs' sites). The
// report's records are then those of a scoped reader (o.Reader).
// Unscoped principals, and nil (a request that did not pass the gate),
// keep the options as they are.
func reportScope(p *auth.Principal, o report.Options, inv *inventory.Inventory) (report.Options, error) {
	if !p.Scoped() {
		return o, nil
	}
	mine := strings.Join(p.OPDs, ", ")
	switch {
	case o.OPD != "":
		if !p.Sees(o.OPD) {
			return o, fmt.Errorf("%w: OPD %s is outside the scope of %s, which sees only %s; ask for one of those, or leave opd out for all of them",
				errOutOfScope, report.ClipValue(o.OPD), p, mine)
		}
	case o.Site != "":
		if s := inv.Site(o.Site); s == nil || !p.Sees(s.OPD) {
			return o, fmt.Errorf("%w: site %s is outside the scope of %s, which sees only the sites of %s; ask for one of those, or leave site out",
				errOutOfScope, report.ClipValue(o.Site), p, mine)
		}
	case len(o.OPDs) > 0:
		if !p.Covers(o.OPDs) {
			return o, fmt.Errorf("%w: OPDs %s are outside the scope of %s, which sees only %s", errOutOfScope, report.ClipValue(strings.Join(o.OPDs, ", ")), p, mine)
		}
	case len(p.OPDs) == 1:
		o.OPD = p.OPDs[0]
	default:
		o.OPDs = slices.Clone(p.OPDs)
	}
	o.Reader = slices.Clone(p.OPDs)
	return o, nil
}

// serveReport answers GET /api/v1/report: 400 for a request that is the
// caller's mistake (named in the message), 403 for one outside the
// caller's OPD scope, 404 without an inventory, 500 with an error id for
// anything else.
// reportInput is what a report, a product or an evidence bundle reads
// besides the inventory: the state.db sources, the maintenance windows,
// capacity from q, and the holiday calendar, read on each request so an
// edited holiday file counts at once.
func (r *slaRuntime) reportInput(ctx context.Context, inv *inventory.Inventory, q storage.Queryable) (report.Input, error) {
	ws, err := r.state.Maintenance(ctx)
	if err != nil {
		return report.Input{}, err
	}
	cal, err := calendar.Load(r.cfg.Report.HolidaysDir)
	if err != nil {
		return report.Input{}, fmt.Errorf("holiday calendar (report.holidays_dir): %w", err)
	}
	return report.Input{
		Inv: inv, Store: r.minutes, Index: r.minutes, Windows: ws, Reviews: r.state, Capacity: report.TSDBCapacity{Q: q},
		Rollups: r.state, Incidents: r.state, Audit: r.state, Holidays: cal,
	}, nil
}

// buildFailed answers a report, product or bundle that could not be
// built (400 for a bad period or parameter, 500 with the stack of a
// panic, nothing when the caller went away) and says whether err was
// one; a nil err is left to the caller.
func buildFailed(w http.ResponseWriter, req *http.Request, log *slog.Logger, err error) bool {
	var pe *report.PanicError
	switch {
	case err == nil:
		return false
	case errors.Is(err, sla.ErrBadPeriod), errors.Is(err, report.ErrInvalid):
		http.Error(w, err.Error(), http.StatusBadRequest)
	case errors.As(err, &pe):
		internalError(w, req, log, err, pe.Stack)
	case req.Context().Err() != nil:
		// the caller went away
	default:
		internalError(w, req, log, err, nil)
	}
	return true
}

func (r *slaRuntime) serveReport(q storage.Queryable, log *slog.Logger) http.HandlerFunc {
	return func(w http.ResponseWriter, req *http.Request) {
		inv := r.builder.Inventory()
		if inv == nil {
			http.Error(w, "no inventory: set inventory in the collector config", http.StatusNotFound)
			return
		}
		rq, err := parseReportQuery(req.URL.Query(), inventory.PemdaZone(r.cfg.Report.TimeZone, inv))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if rq.format == "pdf" && !r.pdfAvailable(w) {
			return
		}
		if rq.opts, err = reportScope(auth.FromContext(req.Context()), rq.opts, inv); err != nil {
			http.Error(w, err.Error(), http.StatusForbidden)
			return
		}
		rq.opts.ForecastHorizon = r.cfg.Report.ForecastHorizon.Std()
		in, err := r.reportInput(req.Context(), inv, q)
		if err != nil {
			internalError(w, req, log, err, nil)
			return
		}
		rq.opts.MinContractCompleteness = r.cfg.Report.MinContractCompleteness
		plan := r.cfg.Report.CapacityPlan
		prod, err := report.BuildProduct(req.Context(), in, rq.opts, report.ProductOptions{
			Product: rq.product, Rule: report.CapacityRule{Pct: plan.ThresholdPct, Months: plan.Months}, Quality: report.TSDBQuality{Q: q},
		})
		if buildFailed(w, req, log, err) {
			return
		}
		if rq.format != "csv" {
			if err := r.approve(req.Context(), prod, inv, rq.version); err != nil {
				internalError(w, req, log, err, nil)
				return
			}
		}
		if rq.format == "pdf" {
			r.servePDF(w, req, prod, log)
			return
		}
		var buf bytes.Buffer
		if rq.format == "csv" {
			err = report.RenderProductCSV(&buf, prod, rq.table, rq.csvLocale)
		} else {
			err = report.RenderProduct(&buf, prod, rq.format, rq.table)
		}
		if err != nil {
			internalError(w, req, log, fmt.Errorf("render the %s report: %w", rq.format, err), nil)
			return
		}
		ctype := map[string]string{
			"json": "application/json", "csv": "text/csv; charset=utf-8", "html": "text/html; charset=utf-8",
			"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
		}[rq.format]
		w.Header().Set("Content-Type", ctype)
		switch {
		case rq.format == "xlsx" || rq.format == "csv":
			w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s"`, report.ProductFile(prod, rq.format)))
		case rq.product != report.ProductMonthly:
			w.Header().Set("Content-Disposition", fmt.Sprintf(`inline; filename="%s"`, report.ProductFile(prod, rq.format)))
		}
		w.Write(buf.Bytes())
	}
}
