package cli

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/prometheus/prometheus/storage"

	"github.com/pantau-noc/pantau/collector/internal/calendar"
	"github.com/pantau-noc/pantau/collector/internal/config"
	"github.com/pantau-noc/pantau/collector/internal/daemon"
	"github.com/pantau-noc/pantau/collector/internal/inventory"
	"github.com/pantau-noc/pantau/collector/internal/remotequery"
	"github.com/pantau-noc/pantau/collector/internal/report"
	"github.com/pantau-noc/pantau/collector/internal/statedb"
	pstore "github.com/pantau-noc/pantau/collector/internal/storage"
	"github.com/pantau-noc/pantau/collector/internal/unmatched"
)

// stateFlags are the flags of the commands that work on a collector's
// data directory (report, inventory, maintenance, review, followup).
type stateFlags struct {
	c common
}

func (s *stateFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&s.c.config, "config", "", "path to collector.yml, for data_dir and inventory")
	fs.StringVar(&s.c.dataDir, "data-dir", "", "data directory, overriding the config")
	s.c.log.Register(fs)
}

func (s *stateFlags) open(ctx context.Context) (*config.Config, *statedb.DB, error) {
	cfg, err := s.c.load()
	if err != nil {
		return nil, nil, err
	}
	db, err := statedb.Open(ctx, cfg.DataDir)
	if err != nil {
		return nil, nil, err
	}
	return cfg, db, nil
}

func loadInventory(cfg *config.Config) (*inventory.Inventory, error) {
	if cfg.Inventory == "" {
		return nil, errors.New("no inventory: set `inventory:` in the collector config (see pantau-collector inventory --help)")
	}
	return inventory.Load(cfg.Inventory)
}

// datesZone is the zone a command reads the dates it is given in: --zone
// when given, else the Pemda's (inventory.PemdaZone; inv may be nil).
func datesZone(cfg *config.Config, inv *inventory.Inventory, zoneFlag string) (*time.Location, error) {
	if zoneFlag == "" {
		return inventory.PemdaZone(cfg.Report.TimeZone, inv), nil
	}
	loc, err := inventory.ParseZone(zoneFlag)
	if err != nil {
		return nil, usageError{err}
	}
	return loc, nil
}

// zoneHelp describes where a command's dates are read, for --help.
const zoneHelp = "time zone of the dates given: WIB, WITA, WIT or IANA (default: the Pemda's: report.time_zone in collector.yml, else the inventory's defaults.timezone or the zone all its sites share, else WIB)"

// openQueryable opens what the CLI reads samples from: the collector's
// TSDB read-only, or the engine's query API when the collector is remote
// only (storage.local: false). close releases it.
// reportInput is what every report and product of the CLI reads: the
// minute states, maintenance windows, records and incidents of state.db,
// the holiday calendar (report.holidays_dir) and capacity from the TSDB,
// opened read-only (without it the capacity figures are left out, with a
// warning). closeQ releases the TSDB; it is never nil.
func reportInput(ctx context.Context, cfg *config.Config, inv *inventory.Inventory, db *statedb.DB, log *slog.Logger) (in report.Input, quality report.QualitySource, closeQ func(), err error) {
	closeQ = func() {}
	ws, err := db.Maintenance(ctx)
	if err != nil {
		return in, nil, closeQ, err
	}
	in = report.Input{Inv: inv, Store: db.Minutes(), Index: db.Minutes(), Windows: ws, Reviews: db, Rollups: db, Audit: db, Incidents: db}
	if in.Holidays, err = calendar.Load(cfg.Report.HolidaysDir); err != nil {
		return in, nil, closeQ, fmt.Errorf("holiday calendar (report.holidays_dir): %w", err)
	}
	q, closeTSDB, qerr := openQueryable(cfg, log)
	if qerr != nil {
		log.Warn("capacity figures left out", "err", qerr)
		return in, nil, closeQ, nil
	}
	in.Capacity = report.TSDBCapacity{Q: q}
	return in, report.TSDBQuality{Q: q}, closeTSDB, nil
}

func openQueryable(cfg *config.Config, log *slog.Logger) (storage.Queryable, func(), error) {
	if !cfg.Storage.Local {
		q, err := remotequery.FromConfig(cfg.Storage.RemoteQuery, log)
		if err != nil {
			return nil, nil, err
		}
		return q, func() {}, nil
	}
	ro, err := pstore.OpenReadOnly(filepath.Join(cfg.DataDir, "tsdb"), log)
	if err != nil {
		return nil, nil, err
	}
	return ro, func() {
		if err := ro.Close(); err != nil {
			log.Warn("closing the read-only TSDB failed", "err", err)
		}
	}, nil
}

const reportSynopsis = `report --config FILE --period 2026-10|2026-Q4|2026|2026-10-01..2026-10-15
         [--opd ID | --site ID] [--product monthly|opd-sheet|review-pack|annual]
         [--format json|csv|xlsx|html|pdf] [--table NAME] [--csv-locale id] [--lang id|en] [--out FILE] [--doc-version N]

Builds the SPBE infrastructure report for a period from the minute states
in state.db, the capacity data in the TSDB (opened read-only, so a running
collector is not disturbed), the reviews and follow-ups, and the inventory.
Each site's figures use its own time zone (WIB, WITA or WIT). CSV writes
one table (--table, default links; tables: ` + "summary, coverage, sites, links, incidents, incident_pareto, incident_mttr, contracts, capacity, reviews, followups, changes, assets, expiries, evidence, methods" + `).
--product chooses the product (default monthly, the report above):
opd-sheet (a month of one OPD, --opd, or one district site, --site),
review-pack (a quarter, --period 2026-Q4) or annual (a year, --period 2026,
with the capacity plan of report.capacity_plan in collector.yml); those
come as html, pdf, xlsx, json or csv (one of the product's own tables,
--table, the tables its approval sheet's data hash covers:
opd-sheet identity, sheet_links, sheet_outages, sheet_capacity,
sheet_quality, sheet_daily; review-pack trends, link_months, reviews,
followups, open_items, recommendations; annual trends, link_months,
p95_months, capacity_plan).
Every format but CSV starts with the approval sheet (document number,
signatories, data hash; report.document_number and report.approval in
collector.yml). PDF is printed by headless Chromium (apt install chromium).
The same report is served by a running collector at GET /api/v1/report.`

func cmdReport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var s stateFlags
	fs := newFlagSet("report", reportSynopsis, stderr)
	s.register(fs)
	period := fs.String("period", "", "period: a month 2026-10, a quarter 2026-Q4, a year 2026, or days 2026-10-01..2026-10-15 (required)")
	opd := fs.String("opd", "", "only the sites of this OPD")
	site := fs.String("site", "", "only this site")
	format := fs.String("format", "html", "output format: json, csv, xlsx, html or pdf")
	docVersion := fs.Int("doc-version", 1, "the document's version on its approval sheet (a new version gets a new document number)")
	table := fs.String("table", "", "with --format csv: the table to write (default links)")
	csvLocale := fs.String("csv-locale", "", "with --format csv: id for Excel in the Indonesian locale (semicolons between fields, decimal commas, a UTF-8 byte order mark); default: commas and decimal points, machine-readable")
	lang := fs.String("lang", "id", "language: id (Bahasa Indonesia) or en")
	out := fs.String("out", "", "output file (default: stdout; required for xlsx)")
	product := fs.String("product", "", "product: monthly (default), opd-sheet, review-pack or annual")
	zoneName := fs.String("zone", "", "time zone of the report header and period parsing; each site still uses its own calendar days. "+zoneHelp)
	if err := parse(fs, args); err != nil {
		return err
	}
	if *period == "" {
		return usageError{errors.New("--period is required (e.g. --period 2026-10)")}
	}
	csvLoc, err := report.ParseCSVLocale(*csvLocale)
	if err != nil {
		return usageError{err}
	}
	if *csvLocale != "" && *format != "csv" {
		return usageError{errors.New("--csv-locale is for --format csv")}
	}
	if _, err := report.ParseProduct(*product); err != nil {
		return usageError{err}
	}
	if err := report.CheckProductFormat(*product, *format); err != nil {
		return usageError{err}
	}
	if *format == "csv" {
		prod, _ := report.ParseProduct(*product)
		if err := report.CheckProductTable(prod, *table); err != nil {
			return usageError{err}
		}
	}
	if (*format == "xlsx" || *format == "pdf") && *out == "" {
		return usageError{fmt.Errorf("--format %s needs --out FILE", *format)}
	}
	if *docVersion < 1 || *docVersion > 999 {
		return usageError{fmt.Errorf("--doc-version %d: want 1 to 999", *docVersion)}
	}
	log, err := s.c.log.Logger(stderr)
	if err != nil {
		return usageError{err}
	}
	cfg, db, err := s.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	// Without Chromium a PDF fails now, before the report is computed.
	pdfr := report.PDFRenderer(cfg.Report, log)
	if *format == "pdf" {
		if _, err := pdfr.Chromium(); err != nil {
			return err
		}
	}
	inv, err := loadInventory(cfg)
	if err != nil {
		return err
	}
	loc, err := datesZone(cfg, inv, *zoneName)
	if err != nil {
		return err
	}
	in, quality, closeQ, err := reportInput(ctx, cfg, inv, db, log)
	if err != nil {
		return err
	}
	defer closeQ()
	last := time.Now()
	pr, err := report.BuildProduct(ctx, in, report.Options{
		Period: *period, OPD: *opd, Site: *site, Lang: *lang, Zone: loc, ForecastHorizon: cfg.Report.ForecastHorizon.Std(),
		MinContractCompleteness: cfg.Report.MinContractCompleteness,
		Progress: func(done, total int) {
			if time.Since(last) > 2*time.Second || done == total {
				last = time.Now()
				fmt.Fprintf(stderr, "report: %d/%d links\n", done, total)
			}
		},
	}, report.ProductOptions{Product: *product, Rule: report.CapacityRule{Pct: cfg.Report.CapacityPlan.ThresholdPct, Months: cfg.Report.CapacityPlan.Months}, Quality: quality})
	if err != nil {
		return err
	}
	r := pr.Report
	if *format != "csv" {
		s, err := report.SetupFromConfig(cfg.Report, inventory.PemdaZone(cfg.Report.TimeZone, inv))
		if err != nil {
			return err
		}
		s.Version, s.ForOPD = *docVersion, report.InventorySignatories(inv)
		if err := report.ApproveProduct(ctx, pr, s, db); err != nil {
			return err
		}
	}
	var w io.Writer = stdout
	var f *os.File
	if *out != "" {
		if f, err = os.Create(*out); err != nil {
			return fmt.Errorf("create %s: %w", *out, err)
		}
		defer f.Close()
		bw := bufio.NewWriter(f)
		defer bw.Flush()
		w = bw
	}
	if *format == "pdf" {
		doc, err := report.WriteProductPDF(ctx, pr, pdfr)
		if err != nil {
			return fmt.Errorf("print the report to PDF: %w", err)
		}
		if _, err := w.Write(doc); err != nil {
			return fmt.Errorf("write %s: %w", *out, err)
		}
	} else if *format == "csv" {
		err = report.RenderProductCSV(w, pr, *table, csvLoc)
	} else {
		err = report.RenderProduct(w, pr, *format, *table)
	}
	if err != nil {
		return fmt.Errorf("write %s report: %w", *format, err)
	}
	if f != nil {
		if bw, ok := w.(*bufio.Writer); ok {
			if err := bw.Flush(); err != nil {
				return fmt.Errorf("write %s: %w", *out, err)
			}
		}
		if err := f.Close(); err != nil {
			return fmt.Errorf("write %s: %w", *out, err)
		}
		fmt.Fprintf(stderr, "report %s (%s) written to %s: %d sites, %d links, %d incidents\n", r.Period, *format, *out, len(r.Sites), len(r.Links), len(r.Incidents))
	}
	return nil
}

const inventoryUsage = `inventory check   --file inventory.yml              validate (errors as file:line:col)
inventory import  --csv sites.csv [--out FILE]      convert a spreadsheet (CSV, ',' or ';') to inventory.yml
inventory unmatched --config FILE [--since 7d]      list ICMP targets, SNMP interfaces and plugin checks with data that match no link or service
inventory example                                   print the commented reference inventory`

func cmdInventory(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError{errors.New("missing subcommand:\n" + inventoryUsage)}
	}
	sub, rest := args[0], args[1:]
	var s stateFlags
	fs := newFlagSet("inventory "+sub, inventoryUsage, stderr)
	var file, csvPath, out string
	var since time.Duration
	switch sub {
	case "check":
		fs.StringVar(&file, "file", "", "inventory file (default: the one the config names)")
		s.register(fs)
	case "import":
		fs.StringVar(&csvPath, "csv", "", "CSV file, one row per link (required); see docs/spbe-report.md for the columns")
		fs.StringVar(&out, "out", "", "write inventory.yml here (default stdout); an existing file is replaced atomically")
	case "unmatched":
		s.register(fs)
		fs.DurationVar(&since, "since", 7*24*time.Hour, "look at series with data in this window")
	case "example":
	default:
		return usageError{fmt.Errorf("unknown subcommand %q:\n%s", sub, inventoryUsage)}
	}
	if err := parse(fs, rest); err != nil {
		return err
	}
	switch sub {
	case "example":
		_, err := stdout.Write(inventory.ExampleYAML)
		return err
	case "check":
		if file == "" {
			cfg, err := s.c.load()
			if err != nil {
				return err
			}
			if file = cfg.Inventory; file == "" {
				return usageError{errors.New("--file is required (or a config whose inventory is set)")}
			}
		}
		inv, err := inventory.Load(file)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return fmt.Errorf("%s is not valid", file)
		}
		fmt.Fprintf(stdout, "%s: OK (%d sites, %d links, %d devices, %d services)\n", file, len(inv.Sites), len(inv.Links), len(inv.Devices), len(inv.Services))
		return nil
	case "import":
		if csvPath == "" {
			return usageError{errors.New("--csv is required")}
		}
		f, err := os.Open(csvPath)
		if err != nil {
			return fmt.Errorf("open %s: %w", csvPath, err)
		}
		defer f.Close()
		inv, err := inventory.ImportCSV(csvPath, f)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return fmt.Errorf("%s is not valid; nothing written", csvPath)
		}
		if out == "" {
			return inv.WriteYAML(stdout, csvPath)
		}
		tmp := out + ".tmp"
		w, err := os.Create(tmp)
		if err != nil {
			return fmt.Errorf("create %s: %w", tmp, err)
		}
		if err := inv.WriteYAML(w, csvPath); err != nil {
			w.Close()
			os.Remove(tmp)
			return fmt.Errorf("write %s: %w", tmp, err)
		}
		if err := w.Sync(); err != nil {
			w.Close()
			return fmt.Errorf("write %s: %w", tmp, err)
		}
		w.Close()
		if err := os.Rename(tmp, out); err != nil {
			return fmt.Errorf("replace %s: %w", out, err)
		}
		fmt.Fprintf(stderr, "imported %d sites, %d links from %s into %s; a running collector reloads it within %s\n",
			len(inv.Sites), len(inv.Links), csvPath, out, daemon.SLAReloadEvery)
		return nil
	default: // unmatched
		log, err := s.c.log.Logger(stderr)
		if err != nil {
			return usageError{err}
		}
		cfg, err := s.c.load()
		if err != nil {
			return err
		}
		inv, err := loadInventory(cfg)
		if err != nil {
			return err
		}
		q, closeQ, err := openQueryable(cfg, log)
		if err != nil {
			return err
		}
		defer closeQ()
		rows, err := unmatched.Find(ctx, q, inv, time.Now().Add(-since), time.Now())
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "KIND\tAGENT\tSITE\tTARGET/DEVICE\tINTERFACE")
		for _, r := range rows {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Kind, r.Agent, r.Site, r.Target, r.Interface)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "%d series match no link or service in %s; add them to the inventory (or a link tag on the agent) so they count in reports\n", len(rows), inv.File)
		return nil
	}
}
