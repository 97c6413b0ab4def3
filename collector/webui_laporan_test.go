package collector

import (
	"bytes"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

var (
	laporanHref   = regexp.MustCompile(`href="(/api/v1/[^"]*)"`)
	laporanOption = regexp.MustCompile(`<select id="opd" name="opd">(?s:(.*?))</select>`)
)

// laporanLinks are the API links of a Laporan page.
func laporanLinks(body string) []string {
	var out []string
	for _, m := range laporanHref.FindAllStringSubmatch(body, -1) {
		out = append(out, html.UnescapeString(m[1]))
	}
	return out
}

// fetchLaporan fetches link with the session of c and returns the status,
// content type and the first bytes.
func fetchLaporan(t *testing.T, c *http.Client, base, link string) (int, string, []byte) {
	t.Helper()
	resp, err := c.Get(base + link)
	if err != nil {
		t.Fatalf("GET %s: %v", link, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), b
}

// lastMonth is the page's default month: the one before this one in the
// Pemda's zone (WIT here).
func lastMonth() string {
	now := time.Now().In(time.FixedZone("WIT", 9*3600))
	return time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -1, 0).Format("2006-01")
}

// TestIntegrationWebLaporan fetches every link the Laporan page offers
// with the page's session: each product in each format (PDF printed by
// the installed Chromium) and each CSV table answers 200 with its type;
// the bundle form's query gives a ZIP. A user scoped to dinkes is
// offered dinkes only, and her links answer 200 too.
func TestIntegrationWebLaporan(t *testing.T) {
	if testing.Short() {
		t.Skip("prints PDFs with chromium; skipped with -short")
	}
	tc := startReviuCollector(t, true)
	tc.uiUser("vera", "viewer", "kata-sandi-vera-123")
	tc.uiUser("dina", "viewer", "kata-sandi-dina-123", "dinkes")
	month := lastMonth()

	// check fetches every link of a page; PDFs are printed (Chromium, a
	// few seconds each) for the first page only: on the others a PDF
	// link must be an HTML link of the same page with format=pdf.
	printed := false
	check := func(c *http.Client, who, page string, wantRows int) string {
		t.Helper()
		printPDF := !printed
		printed = true
		code, _, body := uiGet(t, c, tc.base+page)
		if code != 200 {
			t.Fatalf("%s %s: %d\n%s", who, page, code, body)
		}
		if !strings.Contains(body, "Chromium tersedia") {
			t.Errorf("%s: the page does not say PDFs can be printed", who)
		}
		links := laporanLinks(body)
		formats := map[string]int{}
		for _, l := range links {
			u, err := url.Parse(l)
			if err != nil || u.Path != "/api/v1/report" {
				t.Fatalf("%s: a link that is not a report: %q", who, l)
			}
			q := u.Query()
			if q.Get("lang") != "id" || q.Get("period") == "" {
				t.Errorf("%s: link %s lacks lang or period", who, l)
			}
			f := q.Get("format")
			formats[f]++
			if f == "pdf" && !printPDF {
				q.Set("format", "html")
				if !slices.Contains(links, "/api/v1/report?"+q.Encode()) {
					t.Errorf("%s: PDF link %s has no HTML twin", who, l)
				}
				continue
			}
			code, ctype, b := fetchLaporan(t, c, tc.base, l)
			want := map[string]string{"html": "text/html", "pdf": "application/pdf", "json": "application/json", "csv": "text/csv",
				"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}[f]
			if code != 200 || !strings.HasPrefix(ctype, want) {
				t.Errorf("%s: %s: %d %s %.300s", who, l, code, ctype, b)
			}
			if f == "pdf" && !bytes.HasPrefix(b, []byte("%PDF-")) {
				t.Errorf("%s: %s is not a PDF", who, l)
			}
		}
		for _, f := range []string{"html", "pdf", "xlsx", "json"} {
			if formats[f] != wantRows {
				t.Errorf("%s: %d %s links, want one per product (%d): %v", who, formats[f], f, wantRows, formats)
			}
		}
		if formats["csv"] < 30 {
			t.Errorf("%s: only %d CSV links", who, formats["csv"])
		}
		return body
	}

	vera := browserClient(t)
	uiLogin(t, vera, tc.base, "vera", "kata-sandi-vera-123")
	// Without an OPD there is no OPD sheet: five products.
	body := check(vera, "vera", "/ui/laporan", 5)
	if !strings.Contains(body, "Pilih satu OPD (atau satu distrik) untuk lembar OPD.") || !strings.Contains(body, `value="`+month+`"`) {
		t.Fatalf("vera's page without an OPD:\n%s", body)
	}
	opts := laporanOption.FindStringSubmatch(body)
	if opts == nil || !strings.Contains(opts[1], `<option value="dinkes">dinkes — Dinas Kesehatan</option>`) ||
		!strings.Contains(opts[1], `<option value="dishub">`) || !strings.Contains(opts[1], "Seluruh Pemda") {
		t.Fatalf("vera's OPDs: %q", opts)
	}
	body = check(vera, "vera", "/ui/laporan?bulan="+month+"&opd=dishub&bahasa=id&csv=id", 6)
	for _, l := range laporanLinks(body) {
		if !strings.Contains(l, "opd=dishub") {
			t.Errorf("a link of dishub's page without opd=dishub: %s", l)
		}
	}
	// The bundle form: a GET to the API with the period, indicator, OPD
	// and language.
	for _, want := range []string{`<form method="get" action="/api/v1/evidence"`, `<option value="` + month + `">`,
		`<option value="28">28 — Manajemen Layanan SPBE</option>`, `<input type="hidden" name="opd" value="dishub">`} {
		if !strings.Contains(body, want) {
			t.Fatalf("the bundle form lacks %s:\n%s", want, body)
		}
	}
	code, ctype, zb := fetchLaporan(t, vera, tc.base, "/api/v1/evidence?"+url.Values{"period": {month}, "indicator": {"28"}, "opd": {"dishub"}, "lang": {"id"}}.Encode())
	if code != 200 || ctype != "application/zip" || !bytes.HasPrefix(zb, []byte("PK")) {
		t.Fatalf("the bundle with vera's session: %d %s %.200s", code, ctype, zb)
	}

	// dina sees dinkes only; her OPD sheet is dinkes's without asking.
	dina := browserClient(t)
	uiLogin(t, dina, tc.base, "dina", "kata-sandi-dina-123")
	body = check(dina, "dina", "/ui/laporan", 6)
	opts = laporanOption.FindStringSubmatch(body)
	if opts == nil || !strings.Contains(opts[1], `<option value="dinkes">`) || strings.Contains(body, "dishub") ||
		strings.Contains(opts[1], "Seluruh Pemda") || !strings.Contains(opts[1], "Semua OPD saya") {
		t.Fatalf("dina's OPDs: %q", opts)
	}
	// A district site's OPD sheet (the other products are as above).
	_, _, body = uiGet(t, dina, tc.base+"/ui/laporan?distrik=pkm-aimas")
	if !strings.Contains(body, `<option value="pkm-aimas" selected>pkm-aimas — Puskesmas Aimas</option>`) {
		t.Fatalf("dina's page for the district:\n%s", body)
	}
	n := 0
	for _, l := range laporanLinks(body) {
		if !strings.Contains(l, "product=opd-sheet") {
			continue
		}
		n++
		if !strings.Contains(l, "site=pkm-aimas") || strings.Contains(l, "opd=") {
			t.Errorf("the district's OPD sheet: %s", l)
		}
		if code, _, b := fetchLaporan(t, dina, tc.base, l); code != 200 {
			t.Errorf("%s: %d %.300s", l, code, b)
		}
	}
	if n != 4+6 {
		t.Errorf("%d links of the district's OPD sheet, want 4 formats and 6 CSV tables", n)
	}
	code, _, body = uiGet(t, dina, tc.base+"/ui/laporan?opd=dishub")
	if code != 200 || !strings.Contains(body, "OPD &#34;dishub&#34; tidak ada dalam lingkup Anda") || strings.Contains(body, "opd=dishub") {
		t.Fatalf("dina asks for dishub: %d\n%s", code, body)
	}
}

// TestIntegrationWebLaporanNoChromium: without Chromium the page says so
// and its PDF links answer 501, the other formats 200.
func TestIntegrationWebLaporanNoChromium(t *testing.T) {
	tc := startReviuCollector(t, false)
	tc.uiUser("vera", "viewer", "kata-sandi-vera-123")
	vera := browserClient(t)
	uiLogin(t, vera, tc.base, "vera", "kata-sandi-vera-123")
	code, _, body := uiGet(t, vera, tc.base+"/ui/laporan?opd=dinkes")
	if code != 200 || !strings.Contains(body, "Chromium tidak terpasang di server collector: tautan PDF akan dijawab 501") {
		t.Fatalf("the page without Chromium: %d\n%s", code, body)
	}
	n := 0
	for _, l := range laporanLinks(body) {
		if !strings.Contains(l, "format=pdf") && !strings.Contains(l, "format=html") {
			continue
		}
		want := 200
		if strings.Contains(l, "format=pdf") {
			want, n = http.StatusNotImplemented, n+1
		}
		if code, _, b := fetchLaporan(t, vera, tc.base, l); code != want {
			t.Errorf("%s: %d, want %d: %.200s", l, code, want, b)
		}
	}
	if n != 6 {
		t.Errorf("%d PDF links, want 6", n)
	}
}

// TestBrowserLaporan chooses an OPD on the Laporan page with the form
// and finds its links.
func TestBrowserLaporan(t *testing.T) {
	if testing.Short() {
		t.Skip("drives headless chromium; skipped with -short")
	}
	tc := startReviuCollector(t, true)
	tc.uiUser("vera", "viewer", "kata-sandi-vera-123")
	b := newBrowser(t, tc.base, 2*time.Minute)
	b.login("vera", "kata-sandi-vera-123")
	b.open("/ui/laporan")
	if n := b.count("#opd option"); n != 3 {
		t.Fatalf("%d OPD options, want the whole Pemda, dinkes and dishub", n)
	}
	b.submit(map[string]string{"#opd": "dinkes"}, "#laporan-show")
	b.do("wait for the OPD sheet's links", chromedp.WaitVisible(chromedp.CSS(`a.dl-pdf[href*="product=opd-sheet"]`)))
	if loc := b.location(); !strings.Contains(loc, "opd=dinkes") {
		t.Fatalf("the form went to %s", loc)
	}
	if n := b.count(`a.dl-pdf[href*="opd=dinkes"]`); n != 6 {
		t.Fatalf("%d PDF links of dinkes, want 6", n)
	}
	b.screenshot("laporan")
}
