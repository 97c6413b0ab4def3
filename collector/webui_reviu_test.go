package collector

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/pantau-noc/pantau/collector/internal/config"
)

// reviuInventory has two OPDs and a district site of dinkes.
const reviuInventory = `sites:
  - {id: dinkes, name: Dinas Kesehatan, kind: opd, timezone: WIT}
  - {id: dishub, name: Dinas Perhubungan, kind: opd, timezone: WIT}
  - {id: pkm-aimas, name: Puskesmas Aimas, kind: district, opd: dinkes, timezone: WIT}
links:
  - {id: dinkes-wan, site: dinkes, type: fibre, bandwidth: 20Mbps, icmp: {target: 127.0.0.2}}
  - {id: dishub-wan, site: dishub, type: fibre, bandwidth: 20Mbps, icmp: {target: 127.0.0.3}}
`

// startReviuCollector starts a collector with reviuInventory; chromium
// false names no PDF printer (bundles then list their PDFs as missing,
// which is quick).
func startReviuCollector(t *testing.T, chromium bool, mods ...func(*config.Config)) *testCollector {
	t.Helper()
	dir := t.TempDir()
	inv := filepath.Join(dir, "inventory.yml")
	if err := os.WriteFile(inv, []byte(reviuInventory), 0o644); err != nil {
		t.Fatal(err)
	}
	return startCollector(t, func(c *config.Config) {
		c.Inventory = inv
		c.Notifiers = nil
		if !chromium {
			c.Report.Chromium = filepath.Join(dir, "no-chromium")
		}
		for _, m := range mods {
			m(c)
		}
	})
}

// reviuPost posts a form and returns the status, the Location and the body.
func reviuPost(t *testing.T, c *http.Client, u string, form url.Values) (int, string, string) {
	t.Helper()
	resp, err := c.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), string(b)
}

// reviuUpload posts the follow-up update form as a browser does
// (multipart, the file last).
func reviuUpload(t *testing.T, c *http.Client, u string, fields [][2]string, filename string, content []byte) (int, string, string) {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, f := range fields {
		mw.WriteField(f[0], f[1])
	}
	fw, err := mw.CreateFormFile("file", filename)
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(content)
	mw.Close()
	req, _ := http.NewRequest("POST", u, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), string(b)
}

// pemdaToday is today in the inventory's zone (WIT), as the pages and
// the records API count days.
func pemdaToday(d int) string {
	return time.Now().In(time.FixedZone("WIT", 9*3600)).AddDate(0, 0, d).Format("2006-01-02")
}

var idInLocation = regexp.MustCompile(`^/ui/(?:reviu|tindaklanjut)/(\d+)\?ok=`)

// TestIntegrationWebReviu records a review and its follow-ups through the
// pages: the new items are listed, the overdue one marked with the class
// and a text label, a refused upload (HTML: 415) is shown with the form
// kept, an accepted one is linked and downloads with the session; a
// viewer sees no forms and its POST is refused; an operator of dinkes
// cannot add a follow-up to dishub's review.
func TestIntegrationWebReviu(t *testing.T) {
	tc := startReviuCollector(t, false)
	tc.uiUser("ops", "operator", "kata-sandi-ops-123")
	tc.uiUser("dina", "operator", "kata-sandi-dina-123", "dinkes")
	tc.uiUser("vera", "viewer", "kata-sandi-vera-123")
	ops := browserClient(t)
	if r := uiLogin(t, ops, tc.base, "ops", "kata-sandi-ops-123"); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: %d", r.StatusCode)
	}

	code, _, body := uiGet(t, ops, tc.base+"/ui/reviu")
	if code != 200 || !strings.Contains(body, `<label for="rv-month">`) || !strings.Contains(body, `<option value="dishub"`) {
		t.Fatalf("the review page: %d\n%s", code, body)
	}
	month := pemdaToday(0)[:7]
	addReview := func(c *http.Client, scope, findings string) string {
		t.Helper()
		code, loc, body := reviuPost(t, c, tc.base+"/ui/reviu", url.Values{"month": {month}, "held_on": {pemdaToday(-20)},
			"scope": {scope}, "participants": {"Kabid TIK, NOC"}, "findings": {findings}})
		m := idInLocation.FindStringSubmatch(loc)
		if code != http.StatusSeeOther || m == nil {
			t.Fatalf("add a review: %d to %q\n%s", code, loc, body)
		}
		return m[1]
	}
	dinkes := addReview(ops, "dinkes", "VSAT Aimas sering putus")
	dishub := addReview(ops, "dishub", "Jalur dishub lambat")
	code, _, body = uiGet(t, ops, tc.base+"/ui/reviu/"+dinkes+"?ok=reviu.added")
	if code != 200 || !strings.Contains(body, "Reviu sudah dicatat.") || !strings.Contains(body, "VSAT Aimas sering putus") {
		t.Fatalf("the new review: %d\n%s", code, body)
	}
	// A review the API refuses keeps the form.
	code, _, body = reviuPost(t, ops, tc.base+"/ui/reviu", url.Values{"month": {month}, "scope": {"dinkes"}, "participants": {"Kabid"}, "findings": {""}})
	if code != http.StatusBadRequest || !strings.Contains(body, "Reviu tidak tersimpan: findings is required") ||
		!strings.Contains(body, `>Kabid</textarea>`) {
		t.Fatalf("a review without findings: %d\n%s", code, body)
	}

	addItem := func(c *http.Client, review, item, due string) (int, string, string) {
		t.Helper()
		return reviuPost(t, c, tc.base+"/ui/reviu/"+review+"/tindaklanjut", url.Values{"item": {item}, "owner": {"Bidang TIK"},
			"opened": {pemdaToday(-20)}, "due": {due}})
	}
	code, loc, body := addItem(ops, dinkes, "Ganti modem VSAT", pemdaToday(-5))
	if code != http.StatusSeeOther || loc != "/ui/reviu/"+dinkes+"?ok=reviu.tl.added" {
		t.Fatalf("add a follow-up: %d to %q\n%s", code, loc, body)
	}
	if code, _, body := addItem(ops, dinkes, "Tambah bandwidth", pemdaToday(10)); code != http.StatusSeeOther {
		t.Fatalf("add a second follow-up: %d\n%s", code, body)
	}
	var items []struct {
		ID   int64
		Item string
	}
	getJSON(t, tc, "/api/v1/followups", &items)
	if len(items) != 2 {
		t.Fatalf("followups: %+v", items)
	}
	overdueID, laterID := fmt.Sprint(items[0].ID), fmt.Sprint(items[1].ID)

	// The overdue item: the row's class and a label in words.
	for _, page := range []string{"/ui/reviu", "/ui/reviu/" + dinkes} {
		_, _, body = uiGet(t, ops, tc.base+page)
		row := regexp.MustCompile(`<tr id="tl-` + overdueID + `"([^>]*)>(?s:(.*?))</tr>`).FindStringSubmatch(body)
		if row == nil || row[1] != ` class="overdue"` || !strings.Contains(row[2], `<span class="overdue-label">Terlambat 5 hari</span>`) {
			t.Fatalf("%s: the overdue item is not marked: %q\n%s", page, row, body)
		}
		later := regexp.MustCompile(`<tr id="tl-` + laterID + `"([^>]*)>(?s:(.*?))</tr>`).FindStringSubmatch(body)
		if later == nil || later[1] != "" || strings.Contains(later[2], "Terlambat") {
			t.Fatalf("%s: the item due later is marked: %q", page, later)
		}
	}

	// An HTML file is refused (415): the message says so, the form keeps
	// its values.
	item := tc.base + "/ui/tindaklanjut/" + overdueID
	code, _, body = reviuUpload(t, ops, item, [][2]string{{"status", "proses"}, {"date", pemdaToday(0)}, {"note", "modem dikirim"}, {"evidence_text", ""}},
		"bukti.html", []byte("<html><body><script>alert(1)</script></body></html>"))
	if code != http.StatusUnsupportedMediaType || !strings.Contains(body, "Berkas bukti ditolak (415): Jenis berkas tidak diterima") ||
		!strings.Contains(body, ">modem dikirim</textarea>") || !strings.Contains(body, `<option value="proses" selected>`) {
		t.Fatalf("an HTML upload: %d\n%s", code, body)
	}
	// A text file is taken, named on the item and downloads with the
	// session. An update the API refuses after the file was taken keeps
	// the file as the form's written evidence, to be sent again.
	evidence := []byte("Berita acara serah terima modem VSAT\n")
	sum := sha256.Sum256(evidence)
	sha := hex.EncodeToString(sum[:])
	code, _, body = reviuUpload(t, ops, item, [][2]string{{"status", "selesai"}, {"date", pemdaToday(-30)}, {"note", "terpasang"}},
		"berita-acara.txt", evidence)
	if code != http.StatusBadRequest || !strings.Contains(body, "Pembaruan tidak tersimpan: date "+pemdaToday(-30)+" is before the item was opened") ||
		!strings.Contains(body, `name="evidence_text" value="sha256:`+sha+`"`) {
		t.Fatalf("an update dated before the item: %d\n%s", code, body)
	}
	code, loc, body = reviuUpload(t, ops, item, [][2]string{{"status", "selesai"}, {"date", pemdaToday(0)}, {"note", "terpasang"}},
		"berita-acara.txt", evidence)
	if code != http.StatusSeeOther || loc != "/ui/tindaklanjut/"+overdueID+"?ok=reviu.tl.updated" {
		t.Fatalf("an upload: %d to %q\n%s", code, loc, body)
	}
	_, _, body = uiGet(t, ops, tc.base+loc)
	if !strings.Contains(body, `href="/api/v1/evidence/`+sha+`"`) || !strings.Contains(body, "Status tindak lanjut sudah diperbarui.") {
		t.Fatalf("the item after the upload:\n%s", body)
	}
	if strings.Contains(body, "overdue-label") {
		t.Fatalf("a done item is still marked overdue:\n%s", body)
	}
	code, _, got := uiGet(t, ops, tc.base+"/api/v1/evidence/"+sha)
	if code != 200 || got != string(evidence) {
		t.Fatalf("evidence download with the session: %d %q", code, got)
	}

	// A viewer reads, sees no forms, and may not post.
	vera := browserClient(t)
	uiLogin(t, vera, tc.base, "vera", "kata-sandi-vera-123")
	for _, page := range []string{"/ui/reviu", "/ui/reviu/" + dinkes, "/ui/tindaklanjut/" + laterID} {
		code, _, body := uiGet(t, vera, tc.base+page)
		if code != 200 || strings.Contains(body, `method="post" action="/ui/reviu`) || strings.Contains(body, `action="/ui/tindaklanjut`) ||
			!strings.Contains(body, "Tambah bandwidth") {
			t.Fatalf("viewer %s: %d\n%s", page, code, body)
		}
	}
	code, _, body = reviuPost(t, vera, tc.base+"/ui/reviu", url.Values{"month": {month}, "participants": {"x"}, "findings": {"y"}})
	if code != http.StatusForbidden || !strings.Contains(body, "Reviu tidak tersimpan") {
		t.Fatalf("a viewer's review: %d\n%s", code, body)
	}
	if code, _, _ := addItem(vera, dinkes, "x", ""); code != http.StatusForbidden {
		t.Fatalf("a viewer's follow-up: %d", code)
	}
	if code, _, _ := reviuUpload(t, vera, tc.base+"/ui/tindaklanjut/"+laterID, [][2]string{{"status", "proses"}}, "a.txt", []byte("a\n")); code != http.StatusForbidden {
		t.Fatalf("a viewer's upload: %d", code)
	}
	var reviews []json.RawMessage
	getJSON(t, tc, "/api/v1/reviews", &reviews)
	if len(reviews) != 2 {
		t.Fatalf("reviews after the viewer's attempts: %d", len(reviews))
	}

	// An operator of dinkes does not see dishub's review and may not add
	// to it.
	dina := browserClient(t)
	uiLogin(t, dina, tc.base, "dina", "kata-sandi-dina-123")
	_, _, body = uiGet(t, dina, tc.base+"/ui/reviu")
	if !strings.Contains(body, "VSAT Aimas") || strings.Contains(body, "Jalur dishub") || strings.Contains(body, `<option value="dishub"`) ||
		strings.Contains(body, `<option value="">Seluruh Pemda`) {
		t.Fatalf("dina's review page:\n%s", body)
	}
	if code, _, _ := uiGet(t, dina, tc.base+"/ui/reviu/"+dishub); code != http.StatusNotFound {
		t.Fatalf("dina opens dishub's review: %d", code)
	}
	code, _, body = addItem(dina, dishub, "Ganti switch dishub", "")
	if code != http.StatusForbidden || !strings.Contains(body, "belongs to OPD dishub") {
		t.Fatalf("dina adds to dishub's review: %d\n%s", code, body)
	}
	getJSON(t, tc, "/api/v1/followups", &items)
	if len(items) != 2 {
		t.Fatalf("followups after dina's attempt: %+v", items)
	}

	// Every page in both languages: no text without a translation, well
	// under 150 KB.
	for _, lang := range []string{"id", "en"} {
		uiGet(t, ops, tc.base+"/ui/bahasa?lang="+lang+"&next=/ui/reviu")
		for _, page := range []string{"/ui/reviu?tampil=semua", "/ui/reviu/" + dinkes, "/ui/tindaklanjut/" + overdueID, "/ui/tindaklanjut/" + laterID, "/ui/laporan"} {
			code, _, body := uiGet(t, ops, tc.base+page)
			if code != 200 || strings.Contains(body, "??") || len(body) > 150<<10 || !strings.Contains(body, `<html lang="`+lang+`">`) {
				t.Fatalf("%s in %s: %d, %d bytes\n%s", page, lang, code, len(body), body)
			}
		}
	}
	if _, _, body := uiGet(t, ops, tc.base+"/ui/tindaklanjut/"+overdueID); !strings.Contains(body, "Download the file") {
		t.Fatalf("the item in English:\n%s", body)
	}
}

// TestIntegrationWebReviuQuarterly records a quarterly review through the
// page: the form's Jenis select and quarter select (no script: both
// period fields are there, the kind picks one), the review stored as its
// quarter's last month with kind quarterly, the lists and the review's
// page naming "Triwulan IV 2026" (English "Q4 2026"); a quarterly review
// posted with a month that ends no quarter is refused naming month, the
// form kept.
func TestIntegrationWebReviuQuarterly(t *testing.T) {
	tc := startReviuCollector(t, false)
	tc.uiUser("ops", "operator", "kata-sandi-ops-123")
	ops := browserClient(t)
	if r := uiLogin(t, ops, tc.base, "ops", "kata-sandi-ops-123"); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: %d", r.StatusCode)
	}
	code, _, body := uiGet(t, ops, tc.base+"/ui/reviu")
	for _, want := range []string{`<select id="rv-kind" name="kind">`, `<option value="monthly" selected>Bulanan</option>`,
		`<option value="quarterly">Triwulanan</option>`, `<select id="rv-quarter" name="quarter">`, `<label for="rv-month">Bulan (reviu bulanan)</label>`} {
		if code != 200 || !strings.Contains(body, want) {
			t.Fatalf("the review page lacks %q: %d\n%s", want, code, body)
		}
	}
	if strings.Contains(body, "dicatat sebagai reviu bulan terakhir") {
		t.Errorf("the page still says a quarterly review is recorded as a month's:\n%s", body)
	}
	if n := strings.Count(body[strings.Index(body, `<select id="rv-quarter"`):], `<option value="20`); n < 8 {
		t.Errorf("the quarter select offers %d quarters, want 8", n)
	}

	code, loc, body := reviuPost(t, ops, tc.base+"/ui/reviu", url.Values{"kind": {"quarterly"}, "quarter": {"2026-Q4"}, "month": {"2026-11"},
		"held_on": {"2026-12-05"}, "scope": {"dinkes"}, "participants": {"Sekda, Kadis Kominfo"}, "findings": {"FO dinkes stabil sepanjang triwulan"}})
	m := idInLocation.FindStringSubmatch(loc)
	if code != http.StatusSeeOther || m == nil {
		t.Fatalf("add a quarterly review: %d to %q\n%s", code, loc, body)
	}
	var reviews []struct {
		ID                  int64
		Kind, Month, Period string
	}
	getJSON(t, tc, "/api/v1/reviews", &reviews)
	if len(reviews) != 1 || fmt.Sprint(reviews[0].ID) != m[1] || reviews[0].Kind != "quarterly" || reviews[0].Month != "2026-12" || reviews[0].Period != "2026-Q4" {
		t.Fatalf("stored: %+v, want one quarterly review of 2026-Q4 under 2026-12", reviews)
	}
	code, _, body = uiGet(t, ops, tc.base+"/ui/reviu/"+m[1])
	if code != 200 || !strings.Contains(body, "<h1>Reviu Triwulan IV 2026</h1>") || !strings.Contains(body, "<dd>Triwulanan</dd>") {
		t.Fatalf("the quarterly review's page: %d\n%s", code, body)
	}
	_, _, body = uiGet(t, ops, tc.base+"/ui/reviu")
	if !strings.Contains(body, `<a href="/ui/reviu/`+m[1]+`">Triwulan IV 2026</a></th>`+"\n<td>Triwulanan</td>") {
		t.Fatalf("the list does not name the quarter:\n%s", body)
	}

	// A month that ends no quarter, no quarter posted: refused, naming
	// month, with the form kept as sent.
	code, _, body = reviuPost(t, ops, tc.base+"/ui/reviu", url.Values{"kind": {"quarterly"}, "month": {"2026-11"},
		"scope": {"dinkes"}, "participants": {"Sekda"}, "findings": {"x"}})
	if code != http.StatusBadRequest ||
		!strings.Contains(body, "Reviu tidak tersimpan: month: a quarterly review names its quarter (2026-Q4) or the quarter&#39;s last month (2026-12)") ||
		!strings.Contains(body, `<option value="quarterly" selected>Triwulanan</option>`) || !strings.Contains(body, `>Sekda</textarea>`) {
		t.Fatalf("a quarterly review of November: %d\n%s", code, body)
	}

	// In English.
	u, _ := url.Parse(tc.base)
	ops.Jar.SetCookies(u, []*http.Cookie{{Name: "pantau_lang", Value: "en"}})
	_, _, body = uiGet(t, ops, tc.base+"/ui/reviu")
	if !strings.Contains(body, `>Q4 2026</a></th>`+"\n<td>Quarterly</td>") || !strings.Contains(body, `<option value="quarterly">Quarterly</option>`) {
		t.Fatalf("the English list:\n%s", body)
	}
	if _, _, body = uiGet(t, ops, tc.base+"/ui/reviu/"+m[1]); !strings.Contains(body, "<h1>Review of Q4 2026</h1>") {
		t.Fatalf("the English review page:\n%s", body)
	}
}

// TestIntegrationWebReviuTooLarge uploads files over
// auth.max_evidence_bytes through the follow-up form: just over it, and
// far over the form's own bound. Both are shown as the API's 413 with the
// limit, the form kept, and nothing is recorded on the item.
func TestIntegrationWebReviuTooLarge(t *testing.T) {
	tc := startReviuCollector(t, false, func(c *config.Config) { c.Auth.MaxEvidenceBytes = 4 << 10 })
	tc.uiUser("ops", "operator", "kata-sandi-ops-123")
	ops := browserClient(t)
	uiLogin(t, ops, tc.base, "ops", "kata-sandi-ops-123")
	_, loc, _ := reviuPost(t, ops, tc.base+"/ui/reviu", url.Values{"month": {pemdaToday(0)[:7]}, "scope": {"dinkes"},
		"participants": {"NOC"}, "findings": {"putus"}})
	m := idInLocation.FindStringSubmatch(loc)
	if m == nil {
		t.Fatalf("add a review: %q", loc)
	}
	reviuPost(t, ops, tc.base+"/ui/reviu/"+m[1]+"/tindaklanjut", url.Values{"item": {"Ganti kabel"}, "owner": {"TIK"}})
	var items []struct{ ID int64 }
	getJSON(t, tc, "/api/v1/followups", &items)
	if len(items) != 1 {
		t.Fatalf("followups: %+v", items)
	}
	item := fmt.Sprintf("%s/ui/tindaklanjut/%d", tc.base, items[0].ID)
	for _, size := range []int{5 << 10, 200 << 10} {
		pdf := append([]byte("%PDF-1.4\n"), bytes.Repeat([]byte("x"), size)...)
		code, _, body := reviuUpload(t, ops, item, [][2]string{{"status", "proses"}, {"note", "foto modem"}}, "foto.pdf", pdf)
		if code != http.StatusRequestEntityTooLarge || !strings.Contains(body, "Berkas bukti ditolak (413): Berkas terlalu besar (batas 4 KiB).") ||
			!strings.Contains(body, ">foto modem</textarea>") {
			t.Fatalf("a file of %d bytes: %d\n%s", len(pdf), code, body)
		}
	}
	var after []struct{ Status, Evidence string }
	getJSON(t, tc, "/api/v1/followups", &after)
	if len(after) != 1 || after[0].Status != "belum" || after[0].Evidence != "" {
		t.Fatalf("the item after refused uploads: %+v", after)
	}
}

// getJSON reads an API answer with the test's admin token.
func getJSON(t *testing.T, tc *testCollector, path string, out any) {
	t.Helper()
	resp, err := tc.httpCli.Get(tc.base + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
	}
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatalf("GET %s: %v: %s", path, err, b)
	}
}

// TestBrowserReviuEvidenceInBundle is issue 21's story: an operator
// records a review and a follow-up through the pages, uploads a PDF
// through the follow-up's file input, and the evidence bundle of the
// month holds the file's bytes under reviu/bukti/.
func TestBrowserReviuEvidenceInBundle(t *testing.T) {
	if testing.Short() {
		t.Skip("drives headless chromium; skipped with -short")
	}
	tc := startReviuCollector(t, false)
	tc.uiUser("ani", "operator", "kata-sandi-ani-123", "dinkes")
	pdfFile := filepath.Join(t.TempDir(), "berita-acara.pdf")
	pdfBytes := []byte("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
	if err := os.WriteFile(pdfFile, pdfBytes, 0o644); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, tc.base, 3*time.Minute)
	b.login("ani", "kata-sandi-ani-123")
	b.open("/ui/reviu")
	month := pemdaToday(0)[:7]
	b.submit(map[string]string{"#rv-month": month, "#rv-held": pemdaToday(0), "#rv-participants": "Kabid TIK, NOC",
		"#rv-findings": "VSAT Aimas sering putus"}, "#rv-submit")
	b.do("wait for the review", chromedp.WaitVisible(chromedp.ID("tl-item")))
	m := idInLocation.FindStringSubmatch(b.location())
	if m == nil {
		t.Fatalf("after the review the browser is at %s: %s", b.location(), b.mainText())
	}
	reviewID := m[1]
	b.submit(map[string]string{"#tl-item": "Ganti modem VSAT", "#tl-owner": "Bidang TIK", "#tl-opened": pemdaToday(0),
		"#tl-due": pemdaToday(14)}, "#tl-submit")
	b.do("wait for the item", chromedp.WaitVisible(chromedp.CSS(`tr[id^="tl-"] a`)))
	b.do("open the item", chromedp.Click(chromedp.CSS(`tr[id^="tl-"] th a`)), chromedp.WaitVisible(chromedp.ID("evidence")))
	b.submit(map[string]string{"#up-status": "selesai", "#up-note": "modem terpasang", "file:#evidence": pdfFile}, "#up-submit")
	b.do("wait for the update", chromedp.WaitVisible(chromedp.CSS(`#tl-evidence a`)))
	if txt := b.mainText(); !strings.Contains(txt, "Status tindak lanjut sudah diperbarui.") || !strings.Contains(txt, "selesai") {
		t.Fatalf("after the upload: %s", txt)
	}
	sum := sha256.Sum256(pdfBytes)
	sha := hex.EncodeToString(sum[:])
	href := bget(b, "evidence link", chromedp.AttributeValue(chromedp.CSS(`#tl-evidence a`), "href"))
	if href.Value != "/api/v1/evidence/"+sha {
		t.Fatalf("the evidence link is %q, want the uploaded file's", href.Value)
	}
	// An item past its due date, added over the API, stands out on the
	// list: the row's class and a label in words.
	js := `{"review_id":` + reviewID + `,"opened":"` + pemdaToday(-30) + `","item":"Perbarui diagram jaringan","owner":"NOC","due":"` + pemdaToday(-3) + `"}`
	resp, err := tc.httpCli.Post(tc.base+"/api/v1/followups", "application/json", strings.NewReader(js))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("add an overdue item: %d", resp.StatusCode)
	}
	b.open("/ui/reviu?tampil=semua")
	if n := b.count("tr.overdue"); n != 1 {
		t.Fatalf("%d overdue rows, want 1", n)
	}
	if l := b.text("tr.overdue .overdue-label"); l != "Terlambat 3 hari" {
		t.Fatalf("the overdue label is %q", l)
	}
	b.screenshot("reviu")

	// The month's bundle of indicator 28, fetched with the admin token.
	resp, err = tc.httpCli.Get(tc.base + "/api/v1/evidence?period=" + month + "&indicator=28")
	if err != nil {
		t.Fatal(err)
	}
	zb, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("bundle: %d %s", resp.StatusCode, zb)
	}
	zr, err := zip.NewReader(bytes.NewReader(zb), int64(len(zb)))
	if err != nil {
		t.Fatalf("the bundle is not a ZIP: %v", err)
	}
	var found []string
	for _, f := range zr.File {
		if !strings.Contains(f.Name, "/reviu/bukti/") {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(rc)
		rc.Close()
		if bytes.Equal(got, pdfBytes) {
			found = append(found, f.Name)
		}
	}
	if len(found) != 1 || !strings.HasSuffix(found[0], "/reviu/bukti/"+sha[:12]+"-berita-acara.pdf") {
		var names []string
		for _, f := range zr.File {
			names = append(names, f.Name)
		}
		t.Fatalf("the uploaded PDF in the bundle: %v; the bundle holds %v", found, names)
	}
}
