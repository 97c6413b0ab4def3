package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pantau-noc/pantau/collector/internal/pdf/pdftest"
)

// TestReportPDF: report --format pdf writes a PDF whose first page is the
// approval sheet with collector.yml's signatories and document number;
// with report.chromium naming a missing binary it fails before computing
// anything, naming the Debian package.
func TestReportPDF(t *testing.T) {
	dir := t.TempDir()
	inv := filepath.Join(dir, "inventory.yml")
	os.WriteFile(inv, []byte(`sites:
  - {id: dinkes, name: Dinas Kesehatan, kind: opd, opd: DINKES, timezone: WIT}
links:
  - {id: dinkes-wan, site: dinkes, type: fibre, icmp: {target: 127.0.0.2}}
`), 0o600)
	data := filepath.Join(dir, "data")
	os.MkdirAll(filepath.Join(data, "tsdb", "wal"), 0o755) // an empty TSDB
	conf := func(extra string) string {
		cfg := filepath.Join(dir, "collector.yml")
		os.WriteFile(cfg, []byte("data_dir: "+data+"\ninventory: "+inv+`
report:
  document_number: "{seq:3}/LAP-INFRA/{opd}/{period}"
  approval:
    prepared_by: {name: Yohanes Wenda, title: Pranata Komputer}
`+extra), 0o600)
		return cfg
	}
	out := filepath.Join(dir, "report.pdf")

	cfg := conf("  chromium: " + filepath.Join(dir, "nope") + "\n")
	code, _, errOut := cli(t, "report", "--config", cfg, "--period", "2026-10", "--opd", "DINKES", "--format", "pdf", "--out", out)
	if code == 0 || !strings.Contains(errOut, "apt install chromium") {
		t.Errorf("--format pdf without chromium: exit %d, want an error naming apt install chromium:\n%s", code, errOut)
	}
	if code, _, errOut := cli(t, "report", "--config", cfg, "--period", "2026-10", "--format", "pdf"); code != 2 || !strings.Contains(errOut, "--format pdf needs --out FILE") {
		t.Errorf("--format pdf to stdout: exit %d\n%s", code, errOut)
	}

	if testing.Short() {
		return
	}
	pdftest.Need(t)
	cfg = conf("")
	if code, _, errOut := cli(t, "report", "--config", cfg, "--period", "2026-10", "--opd", "DINKES", "--format", "pdf", "--out", out, "--log.level", "warn"); code != 0 {
		t.Fatalf("report --format pdf: exit %d\n%s", code, errOut)
	}
	doc, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	pages := pdftest.Pages(t, doc)
	for _, s := range []string{"LEMBAR PENGESAHAN", "001/LAP-INFRA/DINKES/2026-10", "Yohanes Wenda", "Pranata Komputer"} {
		if !strings.Contains(pages[0], s) {
			t.Errorf("page 1 lacks %q:\n%s", s, pages[0])
		}
	}
	if !strings.Contains(pages[len(pages)-1], "Nomor: 001/LAP-INFRA/DINKES/2026-10") {
		t.Errorf("the last page's footer lacks the number:\n%s", pages[len(pages)-1])
	}
}
