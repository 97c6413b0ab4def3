// Package pdf prints an HTML document to PDF in headless Chromium through
// the DevTools protocol (chromedp), as Grafana's image renderer does. It is
// generic over the HTML: every report product goes through Render.
//
// Each render starts its own Chromium (with a fresh temporary profile) and
// ends it before Render returns: no state is shared between documents, and
// a cancelled or timed-out render leaves no process behind (chromedp kills
// the browser and every child that carries its profile directory). At most
// Config.MaxConcurrent renders run at once; one more is refused at once
// with ErrBusy (the API answers 503 with Retry-After). The page may not
// load anything: the document is set into about:blank and every request
// it makes is failed (Fetch interception) and counted.
package pdf

import (
	"context"
	"errors"
	"fmt"
	"html"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/prometheus/client_golang/prometheus"
)

// DebianPackage is what an operator installs to get PDF output.
const DebianPackage = "chromium"

// Candidates are the Chromium binaries looked for, in order, when the
// config names none.
var Candidates = []string{"/usr/bin/chromium", "/usr/bin/chromium-headless-shell", "/usr/lib/chromium/chromium-headless-shell", "/usr/bin/chromium-browser"}

// ErrNoChromium is returned when no Chromium binary can be found or run:
// PDF output is not available (the API answers 501).
var ErrNoChromium = errors.New("PDF output needs Chromium, which is not installed: install it with `apt install " + DebianPackage + "` (or set report.chromium in collector.yml to its path)")

// ErrBusy is returned when report.pdf_max_concurrent renders are running.
var ErrBusy = errors.New("the PDF renderer is busy with other documents; retry in a few seconds")

// Defaults of Config.
const (
	DefaultMaxConcurrent = 1
	DefaultTimeout       = 2 * time.Minute
)

// Config configures a Renderer.
type Config struct {
	// Chromium is the browser binary; empty: the first of Candidates.
	Chromium string
	// MaxConcurrent bounds the renders running at once (default 1).
	MaxConcurrent int
	// Timeout bounds one render, from the browser's start to the last
	// byte of the PDF (default 2 minutes).
	Timeout time.Duration
}

// Options are one document's.
type Options struct {
	// Lang is the footer's language: "id" (Halaman X dari Y, the
	// default) or "en" (Page X of Y).
	Lang string
	// DocumentNumber and Hash are printed in every page's footer (either
	// may be empty).
	DocumentNumber string
	Hash           string
	// Wait, when set, waits for a free render slot (until ctx ends)
	// instead of failing with ErrBusy: for a document that is one of
	// many in a request (the evidence bundle).
	Wait bool
}

// Renderer prints HTML to PDF. Its methods are safe for concurrent use.
type Renderer struct {
	cfg Config
	log *slog.Logger
	sem chan struct{}

	renders  *prometheus.CounterVec
	refused  prometheus.Counter
	blocked  prometheus.Counter
	duration prometheus.Histogram

	// started, when set (tests), is called with the browser's PID once
	// the document is in the page, before it is printed.
	started func(pid int)
}

// New returns a Renderer. It does not look for Chromium: a missing
// browser is reported by Render, so that installing it later needs no
// restart.
func New(cfg Config, log *slog.Logger) *Renderer {
	if cfg.MaxConcurrent <= 0 {
		cfg.MaxConcurrent = DefaultMaxConcurrent
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	r := &Renderer{
		cfg: cfg, log: log, sem: make(chan struct{}, cfg.MaxConcurrent),
		renders: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pantau_collector_report_pdf_renders_total",
			Help: "PDF renders by result: ok, error, timeout, canceled, no_chromium.",
		}, []string{"result"}),
		refused: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "pantau_collector_report_pdf_refused_total",
			Help: "PDF renders refused because report.pdf_max_concurrent renders were running (503).",
		}),
		blocked: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "pantau_collector_report_pdf_blocked_requests_total",
			Help: "Network requests made by a document being printed to PDF, all refused (the document must be self-contained).",
		}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "pantau_collector_report_pdf_render_duration_seconds",
			Help:    "Time to print one document to PDF, browser start and stop included.",
			Buckets: []float64{0.5, 1, 2, 5, 10, 20, 30, 60, 120},
		}),
	}
	for _, v := range results {
		r.renders.WithLabelValues(v)
	}
	return r
}

// results are the values of the renders counter's result label.
var results = []string{"ok", "error", "timeout", "canceled", "no_chromium"}

// Collectors returns the renderer's metrics.
func (r *Renderer) Collectors() []prometheus.Collector {
	return []prometheus.Collector{r.renders, r.refused, r.blocked, r.duration}
}

// Chromium returns the browser binary Render would run, or ErrNoChromium.
func (r *Renderer) Chromium() (string, error) {
	if p := r.cfg.Chromium; p != "" {
		if err := executable(p); err != nil {
			return "", fmt.Errorf("%w (report.chromium is %s: %w)", ErrNoChromium, p, err)
		}
		return p, nil
	}
	for _, p := range Candidates {
		if executable(p) == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("%w (looked for %s)", ErrNoChromium, strings.Join(Candidates, ", "))
}

func executable(p string) error {
	fi, err := os.Stat(p)
	if err != nil {
		return err
	}
	if fi.IsDir() || fi.Mode()&0o111 == 0 {
		return fmt.Errorf("%s is not an executable file", p)
	}
	_, err = exec.LookPath(p)
	return err
}

// Render prints doc (a complete, self-contained HTML document) to an A4
// PDF with its backgrounds, its CSS page sizes (landscape pages stay
// landscape) and a footer on every page with the document number, the
// hash and "Halaman X dari Y" (or "Page X of Y").
func (r *Renderer) Render(ctx context.Context, doc []byte, o Options) (_ []byte, err error) {
	path, err := r.Chromium()
	if err != nil {
		r.renders.WithLabelValues("no_chromium").Inc()
		return nil, err
	}
	select {
	case r.sem <- struct{}{}:
	default:
		if !o.Wait {
			r.refused.Inc()
			return nil, ErrBusy
		}
		select {
		case r.sem <- struct{}{}:
		case <-ctx.Done():
			return nil, fmt.Errorf("wait for a free PDF render slot (report.pdf_max_concurrent): %w", ctx.Err())
		}
	}
	defer func() { <-r.sem }()
	start := time.Now()
	defer func() {
		result := "ok"
		switch {
		case err == nil:
			r.duration.Observe(time.Since(start).Seconds())
		case errors.Is(err, context.DeadlineExceeded):
			result = "timeout"
		case errors.Is(err, context.Canceled):
			result = "canceled"
		default:
			result = "error"
		}
		r.renders.WithLabelValues(result).Inc()
	}()

	tctx, cancel := context.WithTimeout(ctx, r.cfg.Timeout)
	defer cancel()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.DisableGPU,
		// A second wall behind the request interception: no name
		// resolves, and nothing goes out directly.
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND"),
		chromedp.ProxyServer("socks5://127.0.0.1:9"),
		chromedp.Flag("proxy-bypass-list", "<-loopback>"),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-dev-shm-usage", !shmRoomy()),
	)
	actx, acancel := chromedp.NewExecAllocator(tctx, opts...)
	// acancel kills the browser and its children and waits for them.
	defer acancel()
	bctx, bcancel := chromedp.NewContext(actx, chromedp.WithErrorf(func(f string, a ...any) {
		r.log.Debug("chromium protocol error", "msg", fmt.Sprintf(f, a...))
	}))
	defer bcancel()

	// Start the browser and the tab, then refuse every request the page
	// makes before the document is put in.
	if err := chromedp.Do(bctx, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{{URLPattern: "*"}}})
		return err
	})); err != nil {
		return nil, r.fail(tctx, "start chromium", err)
	}
	lctx, lcancel := context.WithCancel(bctx)
	paused := chromedp.Events(lctx, fetch.RequestPaused)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for ev, err := range paused {
			if err != nil || lctx.Err() != nil {
				return
			}
			r.blocked.Inc()
			r.log.Warn("a document printed to PDF tried to load a resource; refused", "url", clip(ev.Request.URL))
			_, _ = chromedp.Call(lctx, fetch.FailRequest, fetch.FailRequestParams{RequestID: ev.RequestID, ErrorReason: network.ErrorReasonBlockedByClient})
		}
	}()
	defer func() { lcancel(); wg.Wait() }()

	footer := footerTemplate(o)
	r.log.Debug("PDF render: browser started", "after", time.Since(start))
	pdf, err := chromedp.Run(bctx, func(ctx context.Context, t *chromedp.Target) ([]byte, error) {
		tree, err := cdp.Call(ctx, t, page.GetFrameTree, cdp.Empty{})
		if err != nil {
			return nil, fmt.Errorf("frame tree: %w", err)
		}
		if _, err := cdp.Call(ctx, t, page.SetDocumentContent, page.SetDocumentContentParams{FrameID: tree.FrameTree.Frame.ID, HTML: string(doc)}); err != nil {
			return nil, fmt.Errorf("set the document: %w", err)
		}
		// Wait for the document's load (a refused request ends at once)
		// and its fonts.
		if _, err := chromedp.Evaluate[int](`new Promise(res => {
			const done = () => document.fonts.ready.then(() => res(1));
			if (document.readyState === "complete") done(); else addEventListener("load", done);
		})`, chromedp.EvalAwaitPromise)(ctx, t); err != nil {
			return nil, fmt.Errorf("wait for the document to load: %w", err)
		}
		r.log.Debug("PDF render: document loaded", "after", time.Since(start))
		if r.started != nil {
			if b := chromedp.FromContext(ctx).Browser; b != nil && b.Process() != nil {
				r.started(b.Process().Pid)
			}
		}
		defer func() { r.log.Debug("PDF render: printed", "after", time.Since(start)) }()
		return chromedp.PrintToPDF(
			chromedp.PDFPaper(chromedp.PaperA4),
			chromedp.PDFPreferCSSPageSize(),
			chromedp.PDFPrintBackground(),
			// The footer sits in the bottom margin: at least 16 mm.
			chromedp.PDFMargins(0.4, 0.4, 0.63, 0.4),
			chromedp.PDFHeaderTemplate(`<span></span>`),
			chromedp.PDFFooterTemplate(footer),
			chromedp.PDFStream(),
			// Headless Chromium tags the PDF by default: for a report of
			// hundreds of table pages that doubles the time and the size.
			func(p *page.PrintToPDFParams) { p.GenerateTaggedPDF = new(false) },
		)(ctx, t)
	})
	if err != nil {
		return nil, r.fail(tctx, "print to PDF", err)
	}
	return pdf, nil
}

// fail names what failed, and the timeout when it was the cause.
func (r *Renderer) fail(ctx context.Context, what string, err error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("%s: the render took longer than report.pdf_timeout (%s): %w", what, r.cfg.Timeout, context.DeadlineExceeded)
	}
	if ctx.Err() != nil {
		return fmt.Errorf("%s: %w", what, ctx.Err())
	}
	return fmt.Errorf("%s with chromium: %w", what, err)
}

func clip(s string) string {
	if len(s) > 120 {
		return s[:120] + "…"
	}
	return s
}

// footerTemplate is Chromium's footer: the document number and the page
// on one line, the hash under them. Chromium fills the pageNumber and
// totalPages spans; the template has no page styles, so every size and
// colour is set here.
func footerTemplate(o Options) string {
	pageOf := `Halaman <span class="pageNumber"></span> dari <span class="totalPages"></span>`
	number, hash := "Nomor", "SHA-256 data"
	if o.Lang == "en" {
		pageOf = `Page <span class="pageNumber"></span> of <span class="totalPages"></span>`
		number = "Number"
	}
	var b strings.Builder
	b.WriteString(`<div style="width:100%;margin:0 10mm;font-family:'DejaVu Sans','Liberation Sans',Arial,sans-serif;font-size:7pt;line-height:1.35;color:#4a5a6a;-webkit-print-color-adjust:exact;">`)
	b.WriteString(`<div style="display:flex;justify-content:space-between;border-top:0.5pt solid #9aa7b3;padding-top:1.5pt;"><span>`)
	if o.DocumentNumber != "" {
		b.WriteString(number + ": " + html.EscapeString(o.DocumentNumber))
	}
	b.WriteString(`</span><span>` + pageOf + `</span></div>`)
	if o.Hash != "" {
		b.WriteString(`<div style="font-family:'DejaVu Sans Mono','Liberation Mono',monospace;font-size:6.5pt;">` + hash + ": " + html.EscapeString(o.Hash) + `</div>`)
	}
	b.WriteString(`</div>`)
	return b.String()
}
