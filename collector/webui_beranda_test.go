package collector

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/pantau-noc/pantau/collector/internal/config"
	"github.com/pantau-noc/pantau/collector/internal/notify"
)

// homeInventory has two OPDs with sites on the map (dinkes with a
// district office, dishub), a site of each without coordinates, a
// service of each, and contracts and warranties ending within 90 days.
func homeInventory() string {
	// Days in the sites' zone (WIT), as the page counts them: in UTC the
	// date is a day behind from 15:00 on.
	day := func(n int) string {
		return time.Now().In(time.FixedZone("WIT", 9*3600)).AddDate(0, 0, n).Format("2006-01-02")
	}
	return fmt.Sprintf(`sites:
  - {id: dinkes, name: Dinas Kesehatan, kind: opd, timezone: WIT, lat: -0.8762, lon: 131.2558}
  - {id: pkm-aimas, name: Puskesmas Aimas, kind: district, opd: dinkes, timezone: WIT, lat: -0.9320, lon: 131.3410}
  - {id: pkm-sayosa, name: Puskesmas Sayosa, kind: district, opd: dinkes, timezone: WIT}
  - {id: dishub, name: Dinas Perhubungan, kind: opd, timezone: WIT, lat: -0.8870, lon: 131.2890}
  - {id: gudang-dishub, name: Gudang Perhubungan, kind: district, opd: dishub, timezone: WIT}
links:
  - {id: dinkes-wan, name: WAN Kesehatan, site: dinkes, type: fibre, icmp: {target: 127.0.0.2}, contract: {target: 99.5, end: %s}}
  - {id: pkm-wan, site: pkm-aimas, type: vsat, icmp: {target: 127.0.0.3}}
  - {id: dishub-wan, name: WAN Perhubungan, site: dishub, type: fibre, icmp: {target: 127.0.0.4}, contract: {target: 99, end: %s}}
devices:
  - {id: rtr-dinkes, site: dinkes, vendor: MikroTik, model: CCR2004, serial: SER-DINKES, warranty_end: %s}
  - {id: rtr-dishub, site: dishub, vendor: MikroTik, model: CCR2004, serial: SER-DISHUB, warranty_end: %s}
services:
  - {id: simpus, name: SIMPUS Kesehatan, site: dinkes, probe: {measurement: http, target: simpus}}
  - {id: parkir-dishub, name: E-Parkir Perhubungan, site: dishub, probe: {measurement: http, target: parkir}}
`, day(20), day(10), day(40), day(-5))
}

// dinkesShown is a record of dinkes each page shows to the dinkes
// viewer (so that the absence of dishub's means something).
var dinkesShown = map[string]string{
	"/ui/":             "TIK-KES-1",
	"/ui/gangguan":     "pkm-wan",
	"/ui/pemeliharaan": "listrik puskesmas",
	"/ui/reviu":        "VSAT Aimas sering putus",
	"/ui/inventaris":   "Puskesmas Sayosa",
	"/ui/agen":         "agen-aimas",
}

// dishubNames are what of dishub a dinkes user must never see.
var dishubNames = []string{"dishub", "Dishub", "DISHUB", "Perhubungan", "Parkir", "parkir"}

// startHome runs a collector with homeInventory.
func startHome(t *testing.T) *testCollector {
	t.Helper()
	inv := filepath.Join(t.TempDir(), "inventory.yml")
	if err := os.WriteFile(inv, []byte(homeInventory()), 0o644); err != nil {
		t.Fatal(err)
	}
	return startCollector(t, func(c *config.Config) {
		c.Inventory = inv
		c.Notifiers = nil
		c.Limits.AuthFailuresPerMinute = 0
	})
}

// postJSON sends body to the API as the test admin and wants status.
func (tc *testCollector) postJSON(path, body string, want int) string {
	tc.t.Helper()
	res, err := tc.httpCli.Post(tc.base+path, "application/json", strings.NewReader(body))
	if err != nil {
		tc.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != want {
		tc.t.Fatalf("POST %s %s: %d, want %d: %s", path, body, res.StatusCode, want, b)
	}
	return string(b)
}

// homeRecords makes records of both OPDs: maintenance windows, incident
// records (one handled, one not), reviews, silent agents and probe
// results (dishub's link down).
func homeRecords(tc *testCollector) {
	tc.t.Helper()
	day := time.Now().In(time.FixedZone("WIT", 9*3600)).AddDate(0, 0, -2).Format("2006-01-02")
	for _, w := range []string{
		`{"scope":"link","target":"dinkes-wan","start":"2026-10-20T08:00","end":"2026-10-20T09:00","reason":"ganti kabel kesehatan"}`,
		`{"scope":"link","target":"dishub-wan","start":"2026-10-21T08:00","end":"2026-10-21T09:00","reason":"ganti kabel dishub"}`,
		fmt.Sprintf(`{"scope":"site","target":"pkm-aimas","start":"%sT08:00","end":"%sT09:00","reason":"listrik puskesmas"}`, time.Now().AddDate(0, 0, 3).Format("2006-01-02"), time.Now().AddDate(0, 0, 3).Format("2006-01-02")),
		fmt.Sprintf(`{"scope":"site","target":"dishub","start":"%sT08:00","end":"%sT09:00","reason":"listrik dishub"}`, time.Now().AddDate(0, 0, 3).Format("2006-01-02"), time.Now().AddDate(0, 0, 3).Format("2006-01-02")),
	} {
		tc.postJSON("/api/v1/maintenance", w, 201)
	}
	old := time.Now().In(time.FixedZone("WIT", 9*3600)).AddDate(0, 0, -40).Format("2006-01-02")
	for _, in := range []string{
		fmt.Sprintf(`{"scope":"site","target":"pkm-sayosa","start":"%sT10:00","end":"%sT11:00","ticket":"TIK-KES-LAMA","category":"listrik","source":"telepon","officer":"Yohanis"}`, old, old),
		fmt.Sprintf(`{"scope":"link","target":"pkm-wan","start":"%sT10:00","end":"%sT11:00","ticket":"TIK-KES-1","category":"fo_putus","source":"whatsapp","officer":"Yohanis"}`, day, day),
		fmt.Sprintf(`{"scope":"link","target":"dinkes-wan","start":"%sT12:00","end":"%sT12:30","ticket":"TIK-KES-2","category":"fo_putus","source":"telepon","officer":"Yohanis","action":"sambung ulang"}`, day, day),
		fmt.Sprintf(`{"scope":"link","target":"dishub-wan","start":"%sT10:00","end":"%sT11:00","ticket":"TIK-DISHUB-1","category":"fo_putus","source":"whatsapp","officer":"Petugas Perhubungan"}`, day, day),
		fmt.Sprintf(`{"scope":"service","target":"parkir-dishub","start":"%sT13:00","end":"%sT14:00","ticket":"TIK-DISHUB-2","category":"perangkat","source":"tiket","officer":"Petugas Perhubungan"}`, day, day),
	} {
		tc.postJSON("/api/v1/incidents", in, 201)
	}
	tc.postJSON("/api/v1/reviews", `{"month":"2026-10","held_on":"2026-11-05","scope":"dinkes","participants":"Kabid TIK","findings":"VSAT Aimas sering putus"}`, 201)
	tc.postJSON("/api/v1/reviews", `{"month":"2026-10","held_on":"2026-11-05","scope":"dishub","participants":"Kabid Perhubungan","findings":"FO dishub sering putus"}`, 201)
	tc.token("agen-aimas", "pkm-aimas")
	tc.token("agen-dishub", "dishub")
	agent := tc.token("agen-noc")
	now := time.Now().Unix()
	var b strings.Builder
	for i := int64(0); i < 3; i++ {
		ts := now - 60*i
		fmt.Fprintf(&b, "icmp,target=127.0.0.2 packets_sent=5u,packets_received=5u,loss_ratio=0,rtt_avg_seconds=0.004,up=1i %d\n", ts)
		fmt.Fprintf(&b, "icmp,target=127.0.0.4 packets_sent=5u,packets_received=0u,loss_ratio=1,up=0i %d\n", ts)
	}
	if code, msg := tc.write(agent, b.String()); code != http.StatusNoContent {
		tc.t.Fatalf("write: %d %s", code, msg)
	}
}

// TestIntegrationWebBeranda: the home page of an unscoped admin shows
// both OPDs on the map and in the list with their states, the open
// incidents, the silent agents and the endings; a dinkes viewer's shows
// only dinkes; the filters and the page's size with 1,000 sites.
func TestIntegrationWebBeranda(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test (runs the collector)")
	}
	t.Parallel()
	tc := startHome(t)
	homeRecords(tc)
	tc.uiUser("adi", "admin", "kata-sandi-adi-123")
	tc.uiUser("vina", "viewer", "kata-sandi-vina-123", "dinkes")
	c := browserClient(t)
	uiLogin(t, c, tc.base, "adi", "kata-sandi-adi-123")
	code, _, body := uiGet(t, c, tc.base+"/ui/")
	if code != 200 {
		t.Fatalf("home: %d\n%s", code, body)
	}
	for _, want := range []string{
		`<svg class="map"`, `<title>Dinas Kesehatan: `, `<title>Dinas Perhubungan: `, `<title>Puskesmas Aimas: `,
		"Situs tanpa koordinat", "Puskesmas Sayosa (pkm-sayosa, dinkes)", "Gudang Perhubungan (gudang-dishub, dishub)",
		"Gangguan terbuka", "tautan pkm-wan", "tautan dishub-wan", "layanan parkir-dishub", "TIK-DISHUB-1",
		"Agen diam", `<th scope="row">agen-aimas</th>`, `<th scope="row">agen-dishub</th>`,
		"Kontrak dan garansi segera berakhir", `<th scope="row">dishub-wan</th>`, `<th scope="row">rtr-dinkes</th>`, "berakhir 5 hari lalu",
		`<option value="dishub">dishub</option>`, `<label for="f-state">`, "SIMPUS Kesehatan",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the admin's home lacks %q", want)
		}
	}
	if strings.Contains(body, "TIK-KES-2") || strings.Contains(body, "TIK-KES-LAMA") {
		t.Errorf("a handled incident on an up link, or one of 40 days ago, is listed as open")
	}
	if n := strings.Count(body, "<circle "); n != 3 {
		t.Errorf("%d points on the map, want 3", n)
	}
	if t.Failed() {
		t.Fatalf("home:\n%s", body)
	}
	// Problems first: the list's first row is down or degraded when any is.
	rows := regexp.MustCompile(`<tr><td><span class="badge s-([a-z]+)">`).FindAllStringSubmatch(body, -1)
	if len(rows) == 0 {
		t.Fatalf("no rows")
	}
	for i := 1; i < len(rows); i++ {
		if homeRank(rows[i][1]) < homeRank(rows[i-1][1]) {
			t.Errorf("row %d (%s) after %s: problems are not first", i, rows[i][1], rows[i-1][1])
		}
	}
	// Filters: OPD and kind.
	_, _, body = uiGet(t, c, tc.base+"/ui/?opd=dishub&kind=link")
	if !strings.Contains(body, "WAN Perhubungan") || strings.Contains(body, "WAN Kesehatan <span") || !strings.Contains(body, `<option value="dishub" selected>`) {
		t.Errorf("filter opd=dishub kind=link:\n%s", body)
	}
	_, _, body = uiGet(t, c, tc.base+"/ui/?state=up")
	if strings.Contains(body, `<tr><td><span class="badge s-nodata">`) {
		t.Errorf("state=up lists other states")
	}

	// In English, every text has its translation.
	for _, p := range []string{"/ui/", "/ui/notifikasi", "/ui/audit"} {
		_, _, id := uiGet(t, c, tc.base+p)
		uiGet(t, c, tc.base+"/ui/bahasa?lang=en&next=/ui/")
		_, _, en := uiGet(t, c, tc.base+p)
		uiGet(t, c, tc.base+"/ui/bahasa?lang=id&next=/ui/")
		if strings.Contains(id, "??") || strings.Contains(en, "??") || !strings.Contains(en, `<html lang="en">`) {
			t.Errorf("%s lacks a text:\n%s\n%s", p, id, en)
		}
	}
	if _, _, en := func() (int, http.Header, string) {
		uiGet(t, c, tc.base+"/ui/bahasa?lang=en&next=/ui/")
		defer uiGet(t, c, tc.base+"/ui/bahasa?lang=id&next=/ui/")
		return uiGet(t, c, tc.base+"/ui/")
	}(); !strings.Contains(en, "Open incidents") || !strings.Contains(en, "ended 5 days ago") || !strings.Contains(en, "<title>Dinas Perhubungan: down</title>") {
		t.Errorf("the English home:\n%s", en)
	}

	// The dinkes viewer.
	v := browserClient(t)
	uiLogin(t, v, tc.base, "vina", "kata-sandi-vina-123")
	code, _, body = uiGet(t, v, tc.base+"/ui/")
	if code != 200 || !strings.Contains(body, "<title>Dinas Kesehatan: ") || !strings.Contains(body, "tautan pkm-wan") || !strings.Contains(body, "agen-aimas") {
		t.Fatalf("viewer's home: %d\n%s", code, body)
	}
	for _, bad := range dishubNames {
		if strings.Contains(body, bad) {
			t.Errorf("the dinkes viewer's home shows %q", bad)
		}
	}
	if n := strings.Count(body, "<circle "); n != 2 {
		t.Errorf("%d points on the viewer's map, want 2", n)
	}
}

func homeRank(s string) int {
	return map[string]int{"down": 0, "degraded": 1, "nodata": 2, "maintenance": 4, "up": 5}[s]
}

// TestIntegrationWebBerandaLarge: with 1,000 sites (each with a link and
// coordinates) and 200 more without, the home page stays under 150 KB,
// draws every site with coordinates, lists 50 rows a page and caps the
// sites without coordinates.
func TestIntegrationWebBerandaLarge(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test (runs the collector)")
	}
	t.Parallel()
	var b bytes.Buffer
	b.WriteString("sites:\n")
	for i := range 1200 {
		if i < 1000 {
			fmt.Fprintf(&b, "  - {id: s%04d, name: Puskesmas Pembantu Kampung Nomor %04d Distrik, kind: district, opd: opd%02d, timezone: WIT, lat: %.4f, lon: %.4f}\n",
				i, i, i%40, -0.5-float64(i%37)*0.03, 131.0+float64(i/37)*0.03)
		} else {
			fmt.Fprintf(&b, "  - {id: s%04d, name: Kantor Tanpa Titik %04d, kind: district, opd: opd%02d, timezone: WIT}\n", i, i, i%40)
		}
	}
	b.WriteString("links:\n")
	for i := range 1200 {
		fmt.Fprintf(&b, "  - {id: l%04d, site: s%04d, type: vsat, icmp: {target: 10.%d.%d.1}}\n", i, i, i/250, i%250)
	}
	inv := filepath.Join(t.TempDir(), "inventory.yml")
	if err := os.WriteFile(inv, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	tc := startCollector(t, func(c *config.Config) { c.Inventory = inv; c.Notifiers = nil })
	tc.uiUser("adi", "admin", "kata-sandi-adi-123")
	c := browserClient(t)
	uiLogin(t, c, tc.base, "adi", "kata-sandi-adi-123")
	code, _, body := uiGet(t, c, tc.base+"/ui/")
	if code != 200 {
		t.Fatalf("home: %d\n%.3000s", code, body)
	}
	t.Logf("the home page with 1,200 sites: %d bytes", len(body))
	if len(body) > 150<<10 {
		t.Errorf("the home page has %d bytes with 1,200 sites, want under 150 KB", len(body))
	}
	if n := strings.Count(body, "<circle "); n != 1000 {
		t.Errorf("%d points, want 1000", n)
	}
	if n := strings.Count(body, `<tr><td><span class="badge`); n != 50 {
		t.Errorf("%d rows, want 50", n)
	}
	if !strings.Contains(body, "baris 1–50 dari 2400") || !strings.Contains(body, `<a href="/ui/?page=2#daftar" rel="next">`) {
		t.Errorf("no pager for 2,400 rows")
	}
	if !strings.Contains(body, "dan 170 lainnya") {
		t.Errorf("the sites without coordinates are not capped")
	}
	_, _, body = uiGet(t, c, tc.base+"/ui/?page=48")
	if n := strings.Count(body, `<tr><td><span class="badge`); n != 50 || strings.Contains(body, `rel="next"`) {
		t.Errorf("the last page: %d rows", n)
	}
}

// TestBrowserScopedViewer is the test: a viewer scoped to dinkes
// logs in and visits every page of the menu, and the admin pages and
// API by URL; no page shows a name of dishub's sites, links, services
// or records (made for both OPDs), and the map has only dinkes's points.
func TestBrowserScopedViewer(t *testing.T) {
	if testing.Short() {
		t.Skip("drives headless chromium; skipped with -short")
	}
	t.Parallel()
	tc := startHome(t)
	homeRecords(tc)
	tc.uiUser("vina", "viewer", "kata-sandi-vina-123", "dinkes")
	b := newBrowser(t, tc.base, 3*time.Minute)
	b.login("vina", "kata-sandi-vina-123")
	menu := bget(b, "menu", chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("header nav a")).map(a => a.getAttribute("href"))`))
	if len(menu) < 7 || menu[0] != "/ui/" {
		t.Fatalf("the viewer's menu: %v", menu)
	}
	for _, p := range menu {
		if p == "/ui/notifikasi" || p == "/ui/audit" {
			t.Errorf("the dinkes viewer's menu offers %s", p)
		}
	}
	html := func() string {
		return bget(b, "page", chromedp.Evaluate[string](`document.documentElement.outerHTML`))
	}
	noDishub := func(where string) {
		t.Helper()
		h := html()
		for _, bad := range dishubNames {
			if strings.Contains(h, bad) {
				i := strings.Index(h, bad)
				t.Errorf("%s shows %q: …%s…", where, bad, h[max(0, i-200):min(len(h), i+100)])
			}
		}
	}
	pages := append(menu, "/ui/?opd=dishub", "/ui/?state=down", "/ui/?kind=service", "/ui/sandi", "/ui/gangguan?opd=dishub")
	for _, p := range pages {
		b.open(p)
		if h := b.text("h1"); strings.Contains(h, "Tidak dapat diproses") || strings.Contains(h, "tidak ditemukan") {
			t.Errorf("%s for the dinkes viewer: %s: %s", p, h, b.mainText())
		}
		noDishub(p)
		if want, ok := dinkesShown[p]; ok && !strings.Contains(html(), want) {
			t.Errorf("%s does not show dinkes's %q: the check for dishub is empty", p, want)
		}
	}
	// The map: dinkes's two sites with coordinates, nothing of dishub.
	b.open("/ui/")
	titles := bget(b, "map", chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("svg.map circle title")).map(e => e.textContent)`))
	if len(titles) != 2 {
		t.Errorf("map points %q, want dinkes's two", titles)
	}
	for _, ti := range titles {
		if !strings.HasPrefix(ti, "Dinas Kesehatan: ") && !strings.HasPrefix(ti, "Puskesmas Aimas: ") {
			t.Errorf("a map point %q is not dinkes's", ti)
		}
	}
	main := b.mainText()
	for _, want := range []string{"Puskesmas Sayosa", "SIMPUS Kesehatan", "agen-aimas", "pkm-wan", "rtr-dinkes"} {
		if !strings.Contains(main, want) {
			t.Errorf("the viewer's home lacks %q:\n%s", want, main)
		}
	}
	// The admin pages and APIs by URL: refused, nothing shown.
	for _, p := range []string{"/ui/notifikasi", "/ui/audit", "/ui/audit?since=2000-01-01", "/api/v1/audit", "/api/v1/outbox", "/api/v1/notifiers"} {
		b.open(p)
		h := html()
		if !strings.Contains(h, "403") && !strings.Contains(h, "needs the admin role") {
			t.Errorf("%s for the viewer is not refused:\n%.2000s", p, h)
		}
		for _, leak := range []string{"POST /api/v1/maintenance", "ganti kabel", "test-admin", "Kirim uji"} {
			if strings.Contains(h, leak) {
				t.Errorf("%s leaks %q to the viewer", p, leak)
			}
		}
		noDishub(p)
	}
}

// TestBrowserHomeAdmin: an admin's home, notifications (a test sent
// through the form) and audit pages in Chromium without a CSP violation;
// the screenshots of `make screenshots`.
func TestBrowserHomeAdmin(t *testing.T) {
	if testing.Short() {
		t.Skip("drives headless chromium; skipped with -short")
	}
	t.Parallel()
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.Copy(io.Discard, r.Body) }))
	defer hook.Close()
	inv := filepath.Join(t.TempDir(), "inventory.yml")
	if err := os.WriteFile(inv, []byte(homeInventory()), 0o644); err != nil {
		t.Fatal(err)
	}
	tc := startCollector(t, func(c *config.Config) {
		c.Inventory = inv
		c.Notifiers = []notify.Config{{Name: "noc-hook", Type: "webhook", URL: hook.URL + "/hook"}}
	})
	homeRecords(tc)
	tc.uiUser("adi", "admin", "kata-sandi-adi-123")
	b := newBrowser(t, tc.base, 3*time.Minute)
	b.open("/ui/masuk")
	b.screenshot("masuk")
	b.login("adi", "kata-sandi-adi-123")
	if n := b.count("svg.map circle"); n != 3 {
		t.Errorf("%d points on the admin's map, want 3", n)
	}
	b.screenshot("beranda")
	b.submit(map[string]string{"#f-opd": "dishub"}, `form[action="/ui/"] button`)
	if loc := waitLocation(b, "/ui/?"); loc != "/ui/?state=&opd=dishub&kind=" {
		t.Errorf("the filter went to %s", loc)
	}
	if txt := b.text("table.states tbody"); strings.Contains(txt, "Kesehatan") || !strings.Contains(txt, "Perhubungan") {
		t.Errorf("filtered to dishub: %s", txt)
	}
	b.open("/ui/notifikasi")
	b.submit(map[string]string{"#lang-0": "en"}, "#test-0")
	if loc := waitLocation(b, "/ui/notifikasi?"); !strings.HasPrefix(loc, "/ui/notifikasi?uji=") {
		t.Fatalf("after the test send the browser is at %s", loc)
	}
	if txt := b.mainText(); !strings.Contains(txt, "Pesan uji ke noc-hook masuk antrean sebagai entri #") {
		t.Errorf("the test's result is not shown:\n%s", txt)
	}
	b.screenshot("notifikasi")
	b.open("/ui/audit")
	if txt := b.mainText(); !strings.Contains(txt, "POST /api/v1/maintenance") || !strings.Contains(txt, "POST /api/v1/notifiers/noc-hook/test") {
		t.Errorf("the audit page lacks the changes:\n%s", txt)
	}
	b.screenshot("audit")
	// WCAG checks with data on the pages (the map, the tables, the
	// forms), in both languages.
	for _, lang := range []string{"en", "id"} {
		b.open("/ui/bahasa?lang=" + lang + "&next=/ui/")
		for _, p := range []string{"/ui/", "/ui/?page=1&state=problems", "/ui/notifikasi", "/ui/audit"} {
			b.open(p)
			b.accessible(lang + " " + p)
		}
	}
}

// waitLocation waits (up to 20 s) for the page a submit loads, whose
// path and query start with prefix, and returns its location: the
// click's navigation starts after the click returns.
func waitLocation(b *browser, prefix string) string {
	b.t.Helper()
	var loc string
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		loc = b.location()
		if strings.HasPrefix(loc, prefix) && bget(b, "ready", chromedp.Evaluate[string](`document.readyState`)) == "complete" {
			break
		}
	}
	return loc
}
