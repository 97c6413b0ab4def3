package collector

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/pantau-noc/pantau/collector/internal/pdf/pdftest"
	"github.com/pantau-noc/pantau/collector/internal/report"
)

// TestReportAPIProductPDFs opens the PDF of every product (monthly,
// opd-sheet, review-pack, annual) in Bahasa Indonesia and English:
// pdfinfo's page count within the product's bounds; page 1 is the
// approval sheet with the document number and the signatory from the
// config; every page's footer has the document number, "Halaman X dari
// Y" (Page X of Y) and the data hash; the hash is recomputed here from
// the product's own CSV tables as the API serves them, the table names
// written out from docs/spbe-report.md, not taken from the code.
func TestReportAPIProductPDFs(t *testing.T) {
	if testing.Short() {
		t.Skip("prints eight documents in headless chromium; skipped with -short")
	}
	pdftest.Need(t)
	srv := pdfServer(t, nil)
	reNumber := regexp.MustCompile(`^[0-9]+/LAP-INFRA/(PEMDA|dinkes)/[IVX]+/20[0-9]{2}$`)
	numbers := map[string]string{}
	for _, c := range []struct {
		product, query string
		tables         []string
		minPages       int
		maxPages       int
	}{
		// sheet, cover, then the tables
		{"monthly", "period=2026-10", []string{"summary", "coverage", "sites", "links", "services", "incidents", "incident_pareto", "incident_mttr",
			"contracts", "capacity", "reviews", "followups", "changes", "assets", "expiries", "evidence", "methods"}, 3, 20},
		// the sheet and the one or two pages of the OPD sheet
		{"opd-sheet", "period=2026-10&opd=dinkes", []string{"identity", "sheet_links", "sheet_outages", "sheet_capacity", "sheet_quality", "sheet_daily"}, 2, 3},
		{"review-pack", "period=2026-Q4", []string{"trends", "link_months", "reviews", "followups", "open_items", "recommendations"}, 2, 6},
		{"annual", "period=2026", []string{"trends", "link_months", "p95_months", "capacity_plan"}, 2, 6},
	} {
		for _, lang := range []string{"id", "en"} {
			name := c.product + "/" + lang
			base := srv.URL + "/api/v1/report?product=" + c.product + "&" + c.query + "&lang=" + lang
			resp, doc := get(t, t.Context(), base+"&format=pdf")
			if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/pdf" {
				t.Fatalf("%s: format=pdf: %s %.300s", name, resp.Status, doc)
			}
			// The hash, independently: the product's tables as CSV, in
			// the documented order, through crypto/sha256.
			h := sha256.New()
			for _, table := range c.tables {
				resp, b := get(t, t.Context(), base+"&format=csv&table="+table)
				if resp.StatusCode != 200 {
					t.Fatalf("%s: csv %s: %s %s", name, table, resp.Status, b)
				}
				h.Write(b)
			}
			hash := hex.EncodeToString(h.Sum(nil))
			// The document's number: the JSON of the same document.
			_, b := get(t, t.Context(), base+"&format=json")
			var j struct {
				Approval report.Approval `json:"approval"`
			}
			if err := json.Unmarshal(b, &j); err != nil {
				t.Fatalf("%s: json: %v", name, err)
			}
			number := j.Approval.DocumentNumber
			if !reNumber.MatchString(number) || j.Approval.Product != c.product {
				t.Errorf("%s: document number %q of product %q", name, number, j.Approval.Product)
			}
			if j.Approval.DataSHA256 != hash {
				t.Errorf("%s: the approval's data hash %s, recomputed from the CSV tables %s", name, j.Approval.DataSHA256, hash)
			}
			if lang == "id" {
				numbers[c.product] = number
			}

			info := pdftest.Info(t, doc)
			n, _ := strconv.Atoi(info["Pages"])
			if n < c.minPages || n > c.maxPages || !strings.Contains(info["Page size"], "A4") {
				t.Errorf("%s: pdfinfo: %d pages of %q, want %d to %d, A4", name, n, info["Page size"], c.minPages, c.maxPages)
			}
			pages := pdftest.Pages(t, doc)
			t.Logf("%s: %d pages, %s", name, n, number)
			if len(pages) != n {
				t.Fatalf("%s: pdftotext: %d pages, pdfinfo %d", name, len(pages), n)
			}
			sheet := []string{"LEMBAR PENGESAHAN", "Disusun oleh", "Diperiksa oleh", "Disetujui oleh"}
			numberLabel, hashLabel, pageOf := "Nomor: ", "SHA-256 data: ", "Halaman %d dari %d"
			if lang == "en" {
				sheet = []string{"APPROVAL SHEET", "Prepared by", "Checked by", "Approved by"}
				numberLabel, pageOf = "Number: ", "Page %d of %d"
			}
			for _, s := range append(sheet, number, "Drs. Petrus Yoku, M.Si.", "Kepala Dinas Kominfo") {
				if !strings.Contains(pages[0], s) {
					t.Errorf("%s: page 1 (the approval sheet) lacks %q:\n%s", name, s, pages[0])
				}
			}
			for i, p := range pages {
				for _, s := range []string{numberLabel + number, hashLabel + hash, fmt.Sprintf(pageOf, i+1, n)} {
					if !strings.Contains(p, s) {
						t.Errorf("%s: page %d's footer lacks %q:\n%s", name, i+1, s, p)
					}
				}
			}
		}
	}
	// Each product is its own document with its own number.
	seen := map[string]string{}
	for p, n := range numbers {
		if q, dup := seen[n]; dup {
			t.Errorf("%s and %s share the document number %s", p, q, n)
		}
		seen[n] = p
	}
}
