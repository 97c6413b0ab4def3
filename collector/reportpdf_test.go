package collector

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/tsdb"

	"github.com/pantau-noc/pantau/collector/internal/pdf"
	"github.com/pantau-noc/pantau/collector/internal/pdf/pdftest"
	"github.com/pantau-noc/pantau/collector/internal/report"
)

// pdfServer is the report API on loopback, with the runtime to change.
func pdfServer(t *testing.T, setup func(r *slaRuntime)) *httptest.Server {
	t.Helper()
	r, _ := testSLARuntime(t, slaTestInventory)
	r.cfg.Report.Approval.ApprovedBy.Name = "Drs. Petrus Yoku, M.Si."
	r.cfg.Report.Approval.ApprovedBy.Title = "Kepala Dinas Kominfo"
	if setup != nil {
		setup(r)
	}
	tdb, err := tsdb.Open(filepath.Join(t.TempDir(), "tsdb"), nil, nil, tsdb.DefaultOptions(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tdb.Close() })
	mux := http.NewServeMux()
	r.register(mux, tdb)
	srv := httptest.NewServer(recoverPanics(mux, r.log))
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, ctx context.Context, url string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// TestReportAPIPDF: format=pdf gives an A4 PDF whose first page is the
// approval sheet, with the document number and the data hash in every
// page's footer; the hash is recomputed independently from the CSV of
// each table, and the JSON of the same document carries the same number.
func TestReportAPIPDF(t *testing.T) {
	if testing.Short() {
		t.Skip("prints in headless chromium; skipped with -short")
	}
	pdftest.Need(t)
	srv := pdfServer(t, nil)
	base := srv.URL + "/api/v1/report?period=2026-10"
	resp, doc := get(t, t.Context(), base+"&format=pdf")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/pdf" {
		t.Fatalf("format=pdf: %s %s: %.300s", resp.Status, resp.Header.Get("Content-Type"), doc)
	}
	info := pdftest.Info(t, doc)
	n, _ := strconv.Atoi(info["Pages"])
	if n < 3 || !strings.Contains(info["Page size"], "A4") {
		t.Fatalf("pdfinfo: %d pages of %q, want at least 3 (sheet, cover, tables), A4", n, info["Page size"])
	}
	pages := pdftest.Pages(t, doc)
	if len(pages) != n {
		t.Fatalf("pdftotext: %d pages, pdfinfo %d", len(pages), n)
	}

	// The hash, independently: every table's CSV as served, in the
	// documented order, through crypto/sha256.
	h := sha256.New()
	for _, table := range []string{"summary", "coverage", "sites", "links", "services", "incidents", "incident_pareto", "incident_mttr", "contracts", "capacity", "reviews", "followups", "changes", "assets", "expiries", "evidence", "methods"} {
		resp, b := get(t, t.Context(), base+"&format=csv&table="+table)
		if resp.StatusCode != 200 {
			t.Fatalf("csv %s: %s", table, resp.Status)
		}
		h.Write(b)
	}
	hash := hex.EncodeToString(h.Sum(nil))

	// The first document number of the year: 1/LAP-INFRA/PEMDA/<month of
	// issue in Roman numerals>/<year>, issued today in the Pemda's zone.
	now := time.Now().In(time.FixedZone("WIB", 7*3600))
	roman := []string{"I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII"}[now.Month()-1]
	number := fmt.Sprintf("1/LAP-INFRA/PEMDA/%s/%d", roman, now.Year())
	for _, s := range []string{"LEMBAR PENGESAHAN", number, "Disusun oleh", "Diperiksa oleh", "Disetujui oleh", "Drs. Petrus Yoku, M.Si.", "Kepala Dinas Kominfo"} {
		if !strings.Contains(pages[0], s) {
			t.Errorf("page 1 (the approval sheet) lacks %q:\n%s", s, pages[0])
		}
	}
	for i, p := range pages {
		for _, s := range []string{"Nomor: " + number, "SHA-256 data: " + hash, fmt.Sprintf("Halaman %d dari %d", i+1, n)} {
			if !strings.Contains(p, s) {
				t.Errorf("page %d's footer lacks %q", i+1, s)
			}
		}
	}

	// The same document again, as JSON: the same number and hash.
	_, b := get(t, t.Context(), base+"&format=json")
	var j struct {
		Approval report.Approval `json:"approval"`
	}
	if err := json.Unmarshal(b, &j); err != nil {
		t.Fatal(err)
	}
	if j.Approval.DocumentNumber != number || j.Approval.DataSHA256 != hash {
		t.Errorf("JSON approval %s %s, want %s %s", j.Approval.DocumentNumber, j.Approval.DataSHA256, number, hash)
	}
	// English: "Page i of n".
	resp, doc = get(t, t.Context(), base+"&format=pdf&lang=en&version=2")
	if resp.StatusCode != 200 {
		t.Fatalf("lang=en: %s", resp.Status)
	}
	en := pdftest.Pages(t, doc)
	if !strings.Contains(en[0], "APPROVAL SHEET") || !strings.Contains(en[0], fmt.Sprintf("Page 1 of %d", len(en))) ||
		!strings.Contains(en[0], fmt.Sprintf("2/LAP-INFRA/PEMDA/%s/%d", roman, now.Year())) {
		t.Errorf("English PDF, version 2, page 1:\n%s", en[0])
	}
}

// TestReportAPIPDFWithoutChromium: report.chromium naming a missing
// binary gives 501 naming the Debian package; the other formats work.
func TestReportAPIPDFWithoutChromium(t *testing.T) {
	srv := pdfServer(t, func(r *slaRuntime) {
		r.cfg.Report.Chromium = filepath.Join(t.TempDir(), "chromium")
		r.pdf = report.PDFRenderer(r.cfg.Report, r.log)
	})
	resp, b := get(t, t.Context(), srv.URL+"/api/v1/report?period=2026-10&format=pdf")
	if resp.StatusCode != http.StatusNotImplemented || !strings.Contains(string(b), "apt install chromium") {
		t.Errorf("format=pdf without chromium: %s %s, want 501 naming `apt install chromium`", resp.Status, b)
	}
	if resp, _ := get(t, t.Context(), srv.URL+"/api/v1/report?period=2026-10&format=html"); resp.StatusCode != 200 {
		t.Errorf("format=html without chromium: %s", resp.Status)
	}
}

// TestReportAPIPDFBusy: with report.pdf_max_concurrent 1 and a render
// running (a stand-in browser that never answers, its PID written to a
// file), another request is refused with 503 and Retry-After, counted;
// when the first caller goes away its browser process is killed.
func TestReportAPIPDFBusy(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "pid")
	fake := filepath.Join(dir, "chromium")
	if err := os.WriteFile(fake, []byte("#!/bin/sh\necho $$ > "+pidFile+".tmp && mv "+pidFile+".tmp "+pidFile+"\nexec sleep 300\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	var rt *slaRuntime
	srv := pdfServer(t, func(r *slaRuntime) {
		r.cfg.Report.Chromium, r.cfg.Report.PDFMaxConcurrent = fake, 1
		r.pdf = report.PDFRenderer(r.cfg.Report, r.log)
		rt = r
	})
	url := srv.URL + "/api/v1/report?period=2026-10&format=pdf"
	ctx, cancel := context.WithCancel(t.Context())
	first := make(chan int, 1)
	go func() {
		req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			first <- 0
			return
		}
		resp.Body.Close()
		first <- resp.StatusCode
	}()
	pid := waitPID(t, pidFile)
	resp, b := get(t, t.Context(), url)
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "10" || !strings.Contains(string(b), "pdf_max_concurrent") {
		t.Errorf("second render: %s Retry-After %q %s, want 503, 10, naming report.pdf_max_concurrent", resp.Status, resp.Header.Get("Retry-After"), b)
	}
	if got := refusedPDF(rt.pdf); got != 1 {
		t.Errorf("pantau_collector_report_pdf_refused_total = %v, want 1", got)
	}
	cancel()
	if code := <-first; code != 0 {
		t.Errorf("first request: status %d, want the client's cancellation", code)
	}
	// The browser dies with the request (wait on the condition, at most 30 s).
	deadline := time.Now().Add(30 * time.Second)
	for syscall.Kill(pid, 0) == nil && !zombie(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("the stand-in browser (PID %d) still runs 30 s after its request was cancelled", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func refusedPDF(r *pdf.Renderer) float64 {
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(r.Collectors()...)
	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		if mf.GetName() == "pantau_collector_report_pdf_refused_total" {
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	return -1
}

func waitPID(t *testing.T, file string) int {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if b, err := os.ReadFile(file); err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
				return pid
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the stand-in browser did not start within 30 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func zombie(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	return len(f) > 0 && (f[0] == "Z" || f[0] == "X")
}
