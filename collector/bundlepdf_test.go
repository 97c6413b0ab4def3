package collector

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/pantau-noc/pantau/collector/internal/pdf/pdftest"
)

// TestEvidenceBundlePDF writes the bundle of every indicator for a month
// with real Chromium (pantau-collector evidence bundle) and unzips it:
// every manifest hash matches; each product the bundle block of spbe.yml
// maps is there as PDF with its document number in the manifest, the
// same document under the same number in every folder and each document
// under its own, printed on its approval sheet; index.pdf is there.
func TestEvidenceBundlePDF(t *testing.T) {
	if testing.Short() {
		t.Skip("prints six documents in headless chromium; skipped with -short")
	}
	pdftest.Need(t)
	dir, dataDir := t.TempDir(), t.TempDir()
	inv := filepath.Join(dir, "inventory.yml")
	if err := os.WriteFile(inv, []byte(bundleInventory), 0o644); err != nil {
		t.Fatal(err)
	}
	cfgFile := filepath.Join(dir, "collector.yml")
	cfg := fmt.Sprintf("data_dir: %s\ninventory: %s\nreport:\n  approval:\n    approved_by: {name: \"Drs. Petrus Yoku, M.Si.\", title: Kepala Dinas Kominfo}\n", dataDir, inv)
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "bukti.zip")
	var o, e bytes.Buffer
	if code := Main(t.Context(), []string{"evidence", "bundle", "--config", cfgFile, "--period", "2026-10", "--out", out}, &o, &e); code != 0 {
		t.Fatalf("evidence bundle: exit %d: %s", code, e.String())
	}
	zb, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	files, names := bundleZip(t, zb) // every manifest hash and size matches
	var man struct {
		Files []struct {
			Path           string `json:"path"`
			DocumentNumber string `json:"document_number"`
			Kind           string `json:"kind"`
		} `json:"files"`
		Missing []struct {
			What   string `json:"what"`
			Reason string `json:"reason"`
		} `json:"missing"`
	}
	if err := json.Unmarshal(files["manifest.json"], &man); err != nil {
		t.Fatal(err)
	}
	if len(man.Missing) != 0 {
		t.Errorf("missing with Chromium installed: %+v", man.Missing)
	}
	// The PDFs of a bundle of 2026-10 (spbe.yml's bundle block): the
	// monthly report of 2026-10, the annual report of 2026, the review
	// pack of 2026-Q4 (the month's quarter), an OPD sheet of 2026-10 for
	// each OPD (dinkes, dishub).
	const (
		d16 = "indikator-16-layanan-pusat-data/produk/"
		d17 = "indikator-17-layanan-jaringan-intra/produk/"
		d18 = "indikator-18-sistem-penghubung-layanan/produk/"
		d24 = "indikator-24-manajemen-aset-tik/produk/"
		d28 = "indikator-28-manajemen-layanan-spbe/produk/"
		d29 = "indikator-29-audit-infrastruktur-spbe/produk/"
	)
	want := map[string][]string{ // document: its paths
		"monthly-2026-10":          {d16, d17, d18, d28},
		"annual-2026":              {d16, d17, d24, d29},
		"review-pack-2026-Q4":      {d28, d29},
		"opd-sheet-dinkes-2026-10": {d17},
		"opd-sheet-dishub-2026-10": {d17},
	}
	var got []string
	for _, n := range names {
		if strings.HasSuffix(n, ".pdf") && strings.Contains(n, "/produk/") {
			got = append(got, n)
		}
	}
	var wantPaths []string
	for doc, dirs := range want {
		for _, d := range dirs {
			wantPaths = append(wantPaths, d+doc+".pdf")
		}
	}
	slices.Sort(got)
	slices.Sort(wantPaths)
	if !slices.Equal(got, wantPaths) {
		t.Errorf("product PDFs:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(wantPaths, "\n"))
	}
	reNumber := regexp.MustCompile(`^[0-9]+/LAP-INFRA/(PEMDA|dinkes|dishub)/[IVX]+/20[0-9]{2}$`)
	numberOf := map[string]string{} // document: number
	byNumber := map[string]string{} // number: document
	for _, f := range man.Files {
		if f.Kind != "product" {
			continue
		}
		if !reNumber.MatchString(f.DocumentNumber) {
			t.Errorf("%s: document number %q", f.Path, f.DocumentNumber)
			continue
		}
		doc := strings.TrimSuffix(filepath.Base(f.Path), filepath.Ext(f.Path))
		if n, ok := numberOf[doc]; ok && n != f.DocumentNumber {
			t.Errorf("%s: number %s, another copy of %s has %s", f.Path, f.DocumentNumber, doc, n)
		}
		if d, ok := byNumber[f.DocumentNumber]; ok && d != doc {
			t.Errorf("%s and %s share the number %s", doc, d, f.DocumentNumber)
		}
		numberOf[doc], byNumber[f.DocumentNumber] = f.DocumentNumber, doc
	}
	for doc, dirs := range want {
		pages := pdftest.Pages(t, files[dirs[0]+doc+".pdf"])
		if len(pages) == 0 || !strings.Contains(pages[0], "LEMBAR PENGESAHAN") || !strings.Contains(pages[0], numberOf[doc]) ||
			!strings.Contains(pages[0], "Drs. Petrus Yoku, M.Si.") {
			t.Errorf("%s: page 1 is not its approval sheet with number %q:\n%.2000s", doc, numberOf[doc], strings.Join(pages, "\f"))
		}
	}
	if !strings.Contains(numberOf["opd-sheet-dinkes-2026-10"], "/dinkes/") || !strings.Contains(numberOf["opd-sheet-dishub-2026-10"], "/dishub/") {
		t.Errorf("OPD sheets' numbers %q %q, want each its OPD's", numberOf["opd-sheet-dinkes-2026-10"], numberOf["opd-sheet-dishub-2026-10"])
	}
	idx, ok := files["index.pdf"]
	if !ok {
		t.Fatalf("no index.pdf in:\n%s", strings.Join(names, "\n"))
	}
	if p := pdftest.Pages(t, idx); len(p) == 0 || !strings.Contains(p[0], "Berkas Bukti SPBE") {
		t.Errorf("index.pdf:\n%s", strings.Join(p, "\f"))
	}
}
