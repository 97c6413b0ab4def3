package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/bundle"
	"github.com/pantau-noc/pantau/collector/internal/report"
	"github.com/pantau-noc/pantau/internal/buildinfo"
)

const evidenceSynopsis = `evidence bundle --config FILE --period 2026|2026-Q4|2026-10 [--indicator 17] [--opd ID] [--lang id|en] --out FILE.zip

Writes the SPBE evidence bundle: a ZIP with one folder per SPBE indicator
(only --indicator's when given) holding the products that serve it
(spbe.yml), the review minutes, follow-ups and their uploaded evidence
files, the asset register and the methods, with index.html and
manifest.json (each file's SHA-256, size and document number). The same
bundle is served by a running collector at GET /api/v1/evidence.
Each product comes with its approval sheet and document number, PDF
included (headless Chromium; without it the PDFs are listed as missing:
apt install chromium): monthly of the period, annual of its year,
review-pack per quarter begun, opd-sheet per OPD for the last month
begun (docs/spbe-report.md, Evidence bundle).
report.bundle_max_bytes and report.bundle_max_entries apply.`

func cmdEvidence(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "bundle" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
			fmt.Fprintln(stderr, "usage: pantau-collector "+evidenceSynopsis)
			return nil
		}
		return usageError{errors.New("missing or unknown subcommand: the one is `evidence bundle` (see pantau-collector evidence bundle --help)")}
	}
	var s stateFlags
	fs := newFlagSet("evidence bundle", evidenceSynopsis, stderr)
	s.register(fs)
	period := fs.String("period", "", "period: a year 2026, a quarter 2026-Q4, a month 2026-10 or days 2026-10-01..2026-10-15 (required)")
	indicator := fs.Int("indicator", 0, "only this SPBE indicator (its number, e.g. 17); default every indicator of spbe.yml, one folder each")
	opd := fs.String("opd", "", "only this OPD's products and records")
	lang := fs.String("lang", "id", "language: id (Bahasa Indonesia) or en")
	out := fs.String("out", "", "the ZIP file to write (required); written to FILE.tmp and renamed when whole")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if *out == "" {
		return usageError{errors.New("--out FILE.zip is required")}
	}
	m, err := report.BundleMap()
	if err != nil {
		return err
	}
	v := url.Values{"period": {*period}, "lang": {*lang}}
	if *indicator != 0 {
		v.Set("indicator", strconv.Itoa(*indicator))
	}
	if *opd != "" {
		v.Set("opd", *opd)
	}
	bp, err := bundle.ParseParams(v, m)
	if err != nil {
		return usageError{err}
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
	inv, err := loadInventory(cfg)
	if err != nil {
		return err
	}
	loc, err := datesZone(cfg, inv, "")
	if err != nil {
		return err
	}
	in, quality, closeQ, err := reportInput(ctx, cfg, inv, db, log)
	if err != nil {
		return err
	}
	defer closeQ()
	products := &bundle.ReportProducts{In: in, Zone: loc, Lang: bp.Lang,
		Base: report.Options{ForecastHorizon: cfg.Report.ForecastHorizon.Std(), MinContractCompleteness: cfg.Report.MinContractCompleteness}}
	bin := bundle.Input{Products: products, Tables: products, Records: db, EvidenceDir: filepath.Join(cfg.DataDir, "evidence"),
		Zone: loc, Generator: "pantau-collector " + buildinfo.Version, Now: time.Now(), OPDName: inv.OPDName}
	if err := bundle.Setup(products, &bin, cfg.Report, inv, db, quality, report.PDFRenderer(cfg.Report, log)); err != nil {
		return err
	}
	b, err := bundle.Plan(ctx, bin, m, bp, bundle.Scope{OPD: bp.OPD}, bundle.Limits{MaxBytes: cfg.Report.BundleMaxBytes, MaxEntries: cfg.Report.BundleMaxEntries})
	if err != nil {
		return err
	}
	tmp := *out + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("create %s: %w", tmp, err)
	}
	man, err := b.Write(ctx, f)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", *out, err)
	}
	if err := os.Rename(tmp, *out); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", *out, err)
	}
	fmt.Fprintf(stderr, "evidence bundle %s written to %s: %d files, %d indicators, %d not available (see index.html)\n",
		bp.Period, *out, len(man.Files)+1, len(man.Indicators), len(man.Missing))
	return nil
}
