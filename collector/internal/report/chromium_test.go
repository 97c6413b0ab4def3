package report

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"log/slog"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/pantau-noc/pantau/collector/internal/pdf"
	"github.com/pantau-noc/pantau/internal/golden"
)

// chromiumPath is Debian's chromium, which `make deps` installs.
const chromiumPath = "/usr/bin/chromium"

// TestHTMLChromium loads the HTML report in headless chromium (through
// chromedp) and checks that it renders without any error and to a
// page-sized, non-blank screenshot; then prints it with the PDF renderer
// and counts its A4 portrait and landscape pages.
func TestHTMLChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("renders in headless chromium; skipped with -short")
	}
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("chromium is needed to check the HTML report: %v; run `make deps` to install it", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	actx, acancel := chromedp.NewExecAllocator(ctx, append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath), chromedp.DisableGPU, chromedp.Flag("disable-quic", true))...)
	defer acancel()
	bctx, bcancel := chromedp.NewContext(actx)
	defer bcancel()

	// Anything the page logs as an error, throws or asserts is a fault.
	var mu sync.Mutex
	var problems []string
	note := func(s string) { mu.Lock(); problems = append(problems, s); mu.Unlock() }
	if err := chromedp.Do(bctx, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		for _, enable := range []func() error{
			func() error { _, err := cdp.Call(ctx, t, runtime.Enable, cdp.Empty{}); return err },
			func() error { _, err := cdp.Call(ctx, t, cdplog.Enable, cdp.Empty{}); return err },
		} {
			if err := enable(); err != nil {
				return err
			}
		}
		return nil
	})); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	if err := chromedp.Listen(bctx, func(ev any) {
		switch e := ev.(type) {
		case *runtime.EventExceptionThrown:
			note(fmt.Sprintf("exception: %+v", e.ExceptionDetails))
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeAssert {
				var args []string
				for _, a := range e.Args {
					args = append(args, string(a.Value)+a.Description)
				}
				note(fmt.Sprintf("console %s: %s", e.Type, strings.Join(args, " ")))
			}
		case *cdplog.EventEntryAdded:
			if e.Entry.Level == cdplog.EntryLevelError {
				note(fmt.Sprintf("log error (%s) %s: %s", e.Entry.Source, e.Entry.URL, e.Entry.Text))
			}
		}
	}); err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	outDir := t.TempDir()
	if golden.Update() {
		outDir = filepath.Join("testdata", "render")
	}
	renderer := pdf.New(pdf.Config{Chromium: chromiumPath}, slog.New(slog.DiscardHandler))
	for _, lang := range []string{LangID, LangEN} {
		doc := renderHTML(t, lang)
		file := filepath.Join(dir, "report."+lang+".html")
		if err := os.WriteFile(file, doc, 0o644); err != nil {
			t.Fatal(err)
		}
		var raw []byte
		err := chromedp.Do(bctx,
			// A desktop-sized viewport (headless chromium's default is
			// 800x600, less the scroll bar).
			chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
				_, err := cdp.Call(ctx, t, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{Width: 1280, Height: 1024, DeviceScaleFactor: 1})
				return err
			}),
			chromedp.Navigate((&url.URL{Scheme: "file", Path: file}).String()),
			chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
				lm, err := cdp.Call(ctx, t, page.GetLayoutMetrics, cdp.Empty{})
				if err != nil {
					return err
				}
				shot, err := cdp.Call(ctx, t, page.CaptureScreenshot, page.CaptureScreenshotParams{
					Format: page.CaptureScreenshotFormatPng, CaptureBeyondViewport: new(true),
					Clip: &page.Viewport{Width: lm.CSSContentSize.Width, Height: lm.CSSContentSize.Height, Scale: 1},
				})
				raw = shot.Data
				return err
			}),
		)
		if err != nil {
			t.Fatalf("%s: %v", lang, err)
		}
		// The print layout, through the PDF renderer: A4 pages,
		// landscape ones for the wide tables.
		printed, err := renderer.Render(ctx, doc, pdf.Options{Lang: lang})
		if err != nil {
			t.Fatalf("%s: print: %v", lang, err)
		}
		portrait, landscape := pdfPages(printed)
		t.Logf("%s: printed to %d A4 portrait and %d A4 landscape pages", lang, portrait, landscape)
		if portrait < 5 || landscape < 1 {
			t.Errorf("%s: printed to %d A4 portrait and %d A4 landscape pages, want at least 5 and 1", lang, portrait, landscape)
		}
		mu.Lock()
		for _, p := range problems {
			t.Errorf("%s: %s", lang, p)
		}
		problems = nil
		mu.Unlock()
		shotFile := filepath.Join(outDir, "report."+lang+".png")
		if err := os.WriteFile(shotFile, raw, 0o644); err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("%s: screenshot is not a PNG: %v", lang, err)
		}
		b := img.Bounds()
		t.Logf("%s: screenshot %dx%d px in %s", lang, b.Dx(), b.Dy(), shotFile)
		if b.Dx() < 800 || b.Dy() < 1000 {
			t.Errorf("%s: screenshot %dx%d px, want at least 800x1000", lang, b.Dx(), b.Dy())
		}
		if n := colours(img, 16); n < 16 {
			t.Errorf("%s: screenshot has only %d colours: blank page?", lang, n)
		}
	}
}

// pdfPages counts the A4 portrait and landscape pages of a PDF by their
// media boxes, which chromium writes uncompressed.
func pdfPages(doc []byte) (portrait, landscape int) {
	for _, m := range regexp.MustCompile(`/MediaBox\s*\[\s*0\s+0\s+([0-9.]+)\s+([0-9.]+)\s*\]`).FindAllSubmatch(doc, -1) {
		w, _ := strconv.ParseFloat(string(m[1]), 64)
		h, _ := strconv.ParseFloat(string(m[2]), 64)
		a4 := func(a, b float64) bool { return math.Abs(a-595.28) < 2 && math.Abs(b-841.89) < 2 }
		switch {
		case a4(w, h):
			portrait++
		case a4(h, w):
			landscape++
		}
	}
	return portrait, landscape
}

// colours counts the distinct colours of img, up to limit.
func colours(img image.Image, limit int) int {
	seen := map[[4]uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 3 {
		for x := b.Min.X; x < b.Max.X; x += 3 {
			r, g, bl, a := img.At(x, y).RGBA()
			seen[[4]uint32{r, g, bl, a}] = true
			if len(seen) >= limit {
				return len(seen)
			}
		}
	}
	return len(seen)
}
