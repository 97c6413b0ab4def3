package pdf

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/pantau-noc/pantau/collector/internal/pdf/pdftest"
)

// needTools fails (never skips on CI) without Chromium or poppler-utils.
func needTools(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts headless chromium; skipped with -short")
	}
	if _, err := New(Config{}, slog.New(slog.DiscardHandler)).Chromium(); err != nil {
		t.Fatalf("%v; run `make deps`", err)
	}
	pdftest.Need(t)
}

// longDoc is a document of several A4 pages: 150 paragraphs at 40 lines
// to a page.
func longDoc(extra string) []byte {
	var b bytes.Buffer
	b.WriteString(`<!DOCTYPE html><html lang="id"><head><meta charset="utf-8"><style>@page { size: A4 portrait; margin: 14mm 12mm 16mm 12mm; } body{font:11pt sans-serif}</style></head><body><h1>Lembar uji</h1>`)
	b.WriteString(extra)
	for i := range 150 {
		fmt.Fprintf(&b, "<p>Paragraf %d</p>\n", i+1)
	}
	b.WriteString(`</body></html>`)
	return b.Bytes()
}

const testHash = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

// TestRenderFooter prints a long document and opens the PDF with poppler:
// A4 pages, and on every page the document number, the hash and
// "Halaman i dari n" (English: "Page i of n").
func TestRenderFooter(t *testing.T) {
	needTools(t)
	r := New(Config{}, slog.New(slog.DiscardHandler))
	for _, lang := range []string{"id", "en"} {
		doc, err := r.Render(t.Context(), longDoc(""), Options{Lang: lang, DocumentNumber: "7/LAP-INFRA/DISKOMINFO/X/2026", Hash: testHash})
		if err != nil {
			t.Fatal(err)
		}
		info := pdftest.Info(t, doc)
		n, _ := strconv.Atoi(info["Pages"])
		if n < 3 {
			t.Fatalf("%s: %d pages, want at least 3 (150 paragraphs)", lang, n)
		}
		if !strings.Contains(info["Page size"], "(A4)") {
			t.Errorf("%s: page size %q, want A4", lang, info["Page size"])
		}
		pages := pdftest.Pages(t, doc)
		if len(pages) != n {
			t.Fatalf("%s: pdftotext gave %d pages, pdfinfo %d", lang, len(pages), n)
		}
		for i, p := range pages {
			want := fmt.Sprintf("Halaman %d dari %d", i+1, n)
			if lang == "en" {
				want = fmt.Sprintf("Page %d of %d", i+1, n)
			}
			for _, s := range []string{want, "7/LAP-INFRA/DISKOMINFO/X/2026", testHash} {
				if !strings.Contains(p, s) {
					t.Errorf("%s: page %d lacks %q in its footer:\n%s", lang, i+1, s, p)
				}
			}
		}
	}
	if got := testutil.ToFloat64(r.renders.WithLabelValues("ok")); got != 2 {
		t.Errorf("pantau_collector_report_pdf_renders_total{result=ok} = %v, want 2", got)
	}
}

// TestRenderBlocksNetwork gives the page an image, a style sheet and a
// script fetch on a loopback server: none reaches it, and each is counted.
func TestRenderBlocksNetwork(t *testing.T) {
	needTools(t)
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { hits.Add(1) }))
	defer srv.Close()
	extra := fmt.Sprintf(`<link rel="stylesheet" href="%[1]s/a.css"><img src="%[1]s/b.png"><script>fetch("%[1]s/c").catch(()=>{})</script>`, srv.URL)
	r := New(Config{}, slog.New(slog.DiscardHandler))
	doc, err := r.Render(t.Context(), longDoc(extra), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(doc, []byte("%PDF-")) {
		t.Fatal("no PDF")
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the page reached the server %d times, want 0", n)
	}
	// The style sheet and the image are requested during the load; the
	// script's fetch may still be pending when the print starts.
	if got := testutil.ToFloat64(r.blocked); got < 2 {
		t.Errorf("pantau_collector_report_pdf_blocked_requests_total = %v, want at least 2 (style sheet, image)", got)
	}
}

// TestRenderNoChromium points the renderer at a missing binary: the
// error names the Debian package, and nothing starts.
func TestRenderNoChromium(t *testing.T) {
	r := New(Config{Chromium: filepath.Join(t.TempDir(), "no-chromium")}, slog.New(slog.DiscardHandler))
	_, err := r.Render(t.Context(), longDoc(""), Options{})
	if !errors.Is(err, ErrNoChromium) {
		t.Fatalf("err = %v, want ErrNoChromium", err)
	}
	if !strings.Contains(err.Error(), "apt install chromium") {
		t.Errorf("error %q does not name the package to install", err)
	}
	if got := testutil.ToFloat64(r.renders.WithLabelValues("no_chromium")); got != 1 {
		t.Errorf("renders{result=no_chromium} = %v, want 1", got)
	}
}

// descendants lists the processes under pid (pid included), from /proc.
func descendants(pid int) []int {
	parent := map[int]int{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, so cut at
		// the last ')'.
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) > 1 {
			pp, _ := strconv.Atoi(f[1])
			parent[p] = pp
		}
	}
	out := []int{pid}
	for changed := true; changed; {
		changed = false
		for p, pp := range parent {
			if !contains(out, p) && contains(out, pp) {
				out = append(out, p)
				changed = true
			}
		}
	}
	return out
}

func contains(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// alive reports whether pid runs (a zombie, reaped or not, does not).
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	return len(f) > 0 && f[0] != "Z" && f[0] != "X"
}

// TestRenderCancelNoOrphans cancels a render while chromium runs: Render
// returns the cancellation, and every process of that browser (found by
// PID through /proc while it ran) is gone when it returns. A finished
// render leaves none either.
func TestRenderCancelNoOrphans(t *testing.T) {
	needTools(t)
	for _, cancelIt := range []bool{true, false} {
		r := New(Config{}, slog.New(slog.DiscardHandler))
		ctx, cancel := context.WithCancel(t.Context())
		var pids []int
		r.started = func(pid int) {
			pids = descendants(pid)
			if cancelIt {
				cancel()
			}
		}
		_, err := r.Render(ctx, longDoc(""), Options{})
		cancel()
		switch {
		case cancelIt && !errors.Is(err, context.Canceled):
			t.Fatalf("cancelled render: err = %v, want context.Canceled", err)
		case !cancelIt && err != nil:
			t.Fatal(err)
		}
		if len(pids) < 2 {
			t.Fatalf("saw %d chromium processes (%v), want the browser and its children", len(pids), pids)
		}
		for _, p := range pids {
			if alive(p) {
				cmd, _ := os.ReadFile("/proc/" + strconv.Itoa(p) + "/cmdline")
				t.Errorf("cancel=%v: chromium process %d still runs after Render returned: %s", cancelIt, p, bytes.ReplaceAll(cmd, []byte{0}, []byte{' '}))
			}
		}
		t.Logf("cancel=%v: %d chromium processes, all gone", cancelIt, len(pids))
	}
}

// TestRenderBusy holds the only render slot (MaxConcurrent 1) while two
// more renders ask: both are refused with ErrBusy and counted; the first
// then completes.
func TestRenderBusy(t *testing.T) {
	needTools(t)
	r := New(Config{MaxConcurrent: 1}, slog.New(slog.DiscardHandler))
	inside, release := make(chan struct{}), make(chan struct{})
	r.started = func(int) { close(inside); <-release }
	var wg sync.WaitGroup
	var firstErr error
	wg.Go(func() { _, firstErr = r.Render(t.Context(), longDoc(""), Options{}) })
	<-inside
	for range 2 {
		if _, err := r.Render(t.Context(), longDoc(""), Options{}); !errors.Is(err, ErrBusy) {
			t.Errorf("second render while one runs: err = %v, want ErrBusy", err)
		}
	}
	close(release)
	wg.Wait()
	if firstErr != nil {
		t.Fatal(firstErr)
	}
	if got := testutil.ToFloat64(r.refused); got != 2 {
		t.Errorf("pantau_collector_report_pdf_refused_total = %v, want 2", got)
	}
}

// BenchmarkRenderOnePage is the fixed cost of a render: a browser
// started, one page printed, the browser stopped (what pooling browsers
// would save, per render).
func BenchmarkRenderOnePage(b *testing.B) {
	r := New(Config{}, slog.New(slog.DiscardHandler))
	doc := []byte(`<!DOCTYPE html><html><head><meta charset="utf-8"></head><body><p>Satu halaman</p></body></html>`)
	for b.Loop() {
		if _, err := r.Render(context.Background(), doc, Options{DocumentNumber: "1/X", Hash: testHash}); err != nil {
			b.Fatal(err)
		}
	}
}

// TestRenderWait holds the only render slot: a render with Options.Wait
// waits instead of ErrBusy, ends with its context when that ends first,
// and once the slot is free prints; none of it is counted as refused.
func TestRenderWait(t *testing.T) {
	needTools(t)
	r := New(Config{MaxConcurrent: 1}, slog.New(slog.DiscardHandler))
	inside, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	r.started = func(int) { once.Do(func() { close(inside); <-release }) }
	var wg sync.WaitGroup
	var firstErr error
	wg.Go(func() { _, firstErr = r.Render(t.Context(), longDoc(""), Options{}) })
	<-inside
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := r.Render(ctx, longDoc(""), Options{Wait: true}); !errors.Is(err, context.Canceled) || errors.Is(err, ErrBusy) {
		t.Errorf("waiting render whose context ends: err = %v, want context.Canceled", err)
	}
	var waitErr error
	var doc []byte
	wg.Go(func() { doc, waitErr = r.Render(t.Context(), longDoc(""), Options{Wait: true}) })
	close(release) // the waiting render now takes the slot
	wg.Wait()
	if firstErr != nil || waitErr != nil {
		t.Fatalf("first render: %v; waiting render: %v", firstErr, waitErr)
	}
	if !bytes.HasPrefix(doc, []byte("%PDF-")) {
		t.Errorf("waiting render gave %.20q, want a PDF", doc)
	}
	if got := testutil.ToFloat64(r.refused); got != 0 {
		t.Errorf("pantau_collector_report_pdf_refused_total = %v, want 0", got)
	}
}
