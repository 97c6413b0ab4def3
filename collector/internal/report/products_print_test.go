package report

import (
	"context"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestOPDSheetPrintsOnTwoPages prints the OPD sheet of the golden
// scenario with headless chromium (its own --print-to-pdf, A4 from the
// page's CSS) and counts the pages: one or two, in each language.
func TestOPDSheetPrintsOnTwoPages(t *testing.T) {
	if testing.Short() {
		t.Skip("prints in headless chromium; skipped with -short")
	}
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("chromium is needed to print the OPD sheet: %v; run `make deps` to install it", err)
	}
	dir := t.TempDir()
	for _, lang := range []string{LangID, LangEN} {
		p := goldenProducts(t, lang)[0]
		if p.Product != ProductOPDSheet {
			t.Fatalf("first golden product is %s", p.Product)
		}
		page := filepath.Join(dir, "sheet."+lang+".html")
		f, err := os.Create(page)
		if err != nil {
			t.Fatal(err)
		}
		if err := RenderProduct(f, p, "html", ""); err != nil {
			t.Fatal(err)
		}
		f.Close()
		out := filepath.Join(dir, "sheet."+lang+".pdf")
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		cmd := exec.CommandContext(ctx, chromiumPath, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
			"--disable-background-networking", "--disable-component-update", "--disable-sync",
			"--user-data-dir="+filepath.Join(dir, "profile"), "--no-pdf-header-footer", "--print-to-pdf="+out,
			(&url.URL{Scheme: "file", Path: page}).String())
		msg, err := cmd.CombinedOutput()
		cancel()
		if err != nil {
			t.Fatalf("chromium: %v\n%s", err, msg)
		}
		doc, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		portrait, landscape := pdfPages(doc)
		t.Logf("%s: %d A4 portrait and %d landscape pages", lang, portrait, landscape)
		if portrait < 1 || portrait+landscape > 2 {
			t.Errorf("%s: the OPD sheet prints on %d portrait and %d landscape pages; want one or two", lang, portrait, landscape)
		}
	}
}
