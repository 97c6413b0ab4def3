package collector

import (
	"bytes"
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
	"github.com/pantau-noc/pantau/collector/internal/inventory"
)

const uiInventory = `sites:
  - {id: dinkes, name: Dinas Kesehatan, kind: opd, timezone: WIB}
  - {id: dishub, name: Dinas Perhubungan, kind: opd, timezone: WIB}
links:
  - {id: dinkes-wan, site: dinkes, isp: Telkom, icmp: {target: 10.0.0.1}}
  - {id: dishub-wan, site: dishub, icmp: {target: 10.0.0.2}}
devices:
  - {id: sw-dinkes, site: dinkes, vendor: MikroTik}
`

// startInvCollector starts a collector with the inventory text.
func startInvCollector(t *testing.T, text string) *testCollector {
	t.Helper()
	inv := filepath.Join(t.TempDir(), "inventory.yml")
	if err := os.WriteFile(inv, []byte(text), 0o640); err != nil {
		t.Fatal(err)
	}
	return startCollector(t, func(c *config.Config) { c.Inventory = inv })
}

// inventoryNow is the inventory in force, through the API.
func (tc *testCollector) inventoryNow() *inventory.Inventory {
	tc.t.Helper()
	code, body := tc.get("/api/v1/inventory")
	if code != 200 {
		tc.t.Fatalf("GET /api/v1/inventory: %d %s", code, body)
	}
	inv, err := inventory.Parse("api", []byte(body))
	if err != nil {
		tc.t.Fatal(err)
	}
	return inv
}

// uiUpload posts a file as the multipart field csv.
func uiUpload(t *testing.T, c *http.Client, u, name string, data []byte) (int, string) {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, err := mw.CreateFormFile("csv", name)
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(data)
	mw.Close()
	req, _ := http.NewRequest("POST", u, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

var pendingRE = regexp.MustCompile(`name="id" value="([0-9a-f]{32})"`)

// TestIntegrationWebInventarisImport: who may import, the size bound,
// the problems with their FILE:LINE:COL, the preview, Apply through the
// API, and a preview that cannot be applied twice.
func TestIntegrationWebInventarisImport(t *testing.T) {
	tc := startInvCollector(t, uiInventory)
	tc.uiUser("adi", "admin", "kata-sandi-adi-123")
	tc.uiUser("ado", "admin", "kata-sandi-ado-123", "dinkes")
	tc.uiUser("vina", "viewer", "kata-sandi-vina-12")
	good := []byte("site_id,site_name,kind,link_id,isp,bandwidth,icmp_target\n" +
		"dinkes,Dinas Kesehatan,opd,dinkes-wan,Lintasarta,100M,10.0.0.1\n" +
		"bappeda,Bappeda,opd,bappeda-wan,Telkom,20M,10.0.0.3\n")

	for _, who := range []struct{ name, pw string }{{"vina", "kata-sandi-vina-12"}, {"ado", "kata-sandi-ado-123"}} {
		c := browserClient(t)
		uiLogin(t, c, tc.base, who.name, who.pw)
		code, _, body := uiGet(t, c, tc.base+"/ui/inventaris?tab=import")
		if code != 200 || strings.Contains(body, `action="/ui/inventaris/impor"`) || strings.Contains(body, "Impor CSV") {
			t.Errorf("%s sees the import: %d", who.name, code)
		}
		if code, body := uiUpload(t, c, tc.base+"/ui/inventaris/impor", "daftar.csv", good); code != http.StatusForbidden {
			t.Errorf("%s's upload: %d, want 403\n%s", who.name, code, body)
		}
		if code, _, _ := uiPost(t, c, tc.base+"/ui/inventaris/terapkan", url.Values{"id": {"00"}}); code != http.StatusForbidden {
			t.Errorf("%s's apply: %d, want 403", who.name, code)
		}
	}
	if n := len(tc.inventoryNow().Sites); n != 2 {
		t.Fatalf("the refused uploads changed the inventory: %d sites", n)
	}

	c := browserClient(t)
	uiLogin(t, c, tc.base, "adi", "kata-sandi-adi-123")
	code, _, body := uiGet(t, c, tc.base+"/ui/inventaris?tab=import")
	if code != 200 || !strings.Contains(body, `<label for="csv">`) {
		t.Fatalf("the admin's import tab: %d\n%s", code, body)
	}

	big := bytes.Repeat([]byte("a"), 5<<20)
	if code, body := uiUpload(t, c, tc.base+"/ui/inventaris/impor", "besar.csv", big); code != http.StatusRequestEntityTooLarge ||
		!strings.Contains(body, "Berkas CSV lebih besar dari 4 MiB") {
		t.Errorf("a 5 MiB CSV: %d\n%s", code, body)
	}

	bad := []byte("site_id,bandwidth,site_name,kind,link_id\n" +
		"dinkes,100M,Dinas Kesehatan,opd,dinkes-wan\n" +
		"bpd,banyak,Bappeda,opd,bappeda-wan\n" +
		"bpd,,Bappeda,kota,\n")
	code, body = uiUpload(t, c, tc.base+"/ui/inventaris/impor", "salah.csv", bad)
	if code != http.StatusBadRequest || !strings.Contains(body, "salah.csv:3:5: bandwidth: invalid bandwidth &#34;banyak&#34;") ||
		!strings.Contains(body, "salah.csv:4:") || strings.Contains(body, `action="/ui/inventaris/terapkan"`) {
		t.Fatalf("a CSV with problems: %d\n%s", code, body)
	}

	code, body = uiUpload(t, c, tc.base+"/ui/inventaris/impor", "daftar.csv", good)
	m := pendingRE.FindStringSubmatch(body)
	if code != 200 || m == nil || !strings.Contains(body, "<code>bappeda</code>") ||
		!strings.Contains(body, "<code>dinkes-wan</code>: bandwidth, isp") {
		t.Fatalf("the preview: %d\n%s", code, body)
	}
	if n := len(tc.inventoryNow().Sites); n != 2 {
		t.Fatalf("the preview changed the inventory: %d sites", n)
	}
	// Another user cannot apply the admin's preview.
	other := browserClient(t)
	tc.uiUser("ana", "admin", "kata-sandi-ana-123")
	uiLogin(t, other, tc.base, "ana", "kata-sandi-ana-123")
	if code, _, _ := uiPost(t, other, tc.base+"/ui/inventaris/terapkan", url.Values{"id": {m[1]}}); code != http.StatusBadRequest {
		t.Errorf("another admin applied the preview: %d", code)
	}
	code, h, _ := uiPost(t, c, tc.base+"/ui/inventaris/terapkan", url.Values{"id": {m[1]}})
	if code != http.StatusSeeOther || h.Get("Location") != "/ui/inventaris?tab=links&ok=impor" {
		t.Fatalf("apply: %d to %q", code, h.Get("Location"))
	}
	inv := tc.inventoryNow()
	if inv.Site("bappeda") == nil || inv.Link("bappeda-wan") == nil || inv.Link("dinkes-wan").ISP != "Lintasarta" ||
		inv.Link("dishub-wan") == nil || inv.Device("sw-dinkes") == nil {
		t.Fatalf("after apply: %+v", inv)
	}
	if code, body := tc.get("/api/v1/audit"); code != 200 || !strings.Contains(body, "+bappeda") {
		t.Errorf("no audit row of the import: %d %s", code, body)
	}
	if code, _, _ := uiPost(t, c, tc.base+"/ui/inventaris/terapkan", url.Values{"id": {m[1]}}); code != http.StatusBadRequest {
		t.Errorf("the preview applied twice: %d", code)
	}
}

// TestIntegrationWebInventarisMakeLink: "Jadikan link" pre-fills the
// form and adds exactly that link; a viewer's POST is refused.
func TestIntegrationWebInventarisMakeLink(t *testing.T) {
	tc := startInvCollector(t, uiInventory)
	tc.uiUser("adi", "admin", "kata-sandi-adi-123")
	tc.uiUser("vina", "viewer", "kata-sandi-vina-12")
	before := tc.inventoryNow()
	c := browserClient(t)
	uiLogin(t, c, tc.base, "adi", "kata-sandi-adi-123")
	code, _, body := uiGet(t, c, tc.base+"/ui/inventaris/link?kind=icmp&site=dishub&target=10.0.0.9&agent=agent-dishub")
	for _, want := range []string{`name="id" value="dishub-10.0.0.9"`, `<option value="dishub" selected>dishub</option>`, `name="icmp_target" value="10.0.0.9"`, `name="icmp_agent" value="agent-dishub"`} {
		if !strings.Contains(body, want) {
			t.Errorf("the form lacks %s: %d\n%s", want, code, body)
		}
	}
	form := url.Values{"kind": {"icmp"}, "id": {"dishub-10.0.0.9"}, "site": {"dishub"}, "name": {"Cadangan"}, "type": {"radio"},
		"icmp_target": {"10.0.0.9"}, "icmp_agent": {"agent-dishub"}}

	v := browserClient(t)
	uiLogin(t, v, tc.base, "vina", "kata-sandi-vina-12")
	if code, _, _ := uiPost(t, v, tc.base+"/ui/inventaris/link", form); code != http.StatusForbidden {
		t.Errorf("a viewer's link: %d", code)
	}

	code, h, body := uiPost(t, c, tc.base+"/ui/inventaris/link", form)
	if code != http.StatusSeeOther || h.Get("Location") != "/ui/inventaris?tab=links&q=dishub-10.0.0.9&ok=link" {
		t.Fatalf("add the link: %d %q\n%s", code, h.Get("Location"), body)
	}
	after := tc.inventoryNow()
	if len(after.Links) != len(before.Links)+1 || len(after.Sites) != len(before.Sites) || len(after.Devices) != len(before.Devices) {
		t.Fatalf("links %d → %d, sites %d → %d", len(before.Links), len(after.Links), len(before.Sites), len(after.Sites))
	}
	l := after.Link("dishub-10.0.0.9")
	if l == nil || l.Site != "dishub" || l.Name != "Cadangan" || l.Type != "radio" || l.ICMP.Target != "10.0.0.9" || l.ICMP.Agent != "agent-dishub" ||
		l.SNMP.Device != "" || l.Contract != nil {
		t.Fatalf("the new link: %+v", l)
	}
	for _, old := range before.Links {
		if n := after.Link(old.ID); n == nil || n.ICMP != old.ICMP || n.ISP != old.ISP {
			t.Errorf("link %s changed: %+v", old.ID, n)
		}
	}
	_, _, body = uiGet(t, c, tc.base+h.Get("Location"))
	if !strings.Contains(body, "Link ditambahkan ke inventaris.") || !strings.Contains(body, "<code>dishub-10.0.0.9</code>") {
		t.Errorf("the page after adding:\n%s", body)
	}
	// The same id again: the API's problem, the form kept.
	code, _, body = uiPost(t, c, tc.base+"/ui/inventaris/link", form)
	if code != http.StatusBadRequest || !strings.Contains(body, "Link tidak ditambahkan") || !strings.Contains(body, `value="Cadangan"`) {
		t.Errorf("a duplicate link: %d\n%s", code, body)
	}
}

// TestIntegrationWebInventarisLarge: 5,000 links are paged, 100 a page,
// and the page stays under 150 KB; the filter finds one link.
func TestIntegrationWebInventarisLarge(t *testing.T) {
	t.Parallel() // two page views of 5,000 links: about 25 s under -race, mostly waiting on the API
	var b strings.Builder
	b.WriteString("sites:\n")
	for i := range 50 {
		fmt.Fprintf(&b, "  - {id: s%02d, name: Lokasi %d, kind: district, opd: dinkes}\n", i, i)
	}
	b.WriteString("links:\n")
	for i := range 5000 {
		fmt.Fprintf(&b, "  - {id: l%04d, site: s%02d, name: Link nomor %d, isp: Telkom Indonesia, bandwidth: 20M, icmp: {target: 10.%d.%d.%d}, contract: {target: 99.5, end: 2027-12-31}}\n",
			i, i%50, i, i/65536, (i/256)%256, i%256)
	}
	tc := startInvCollector(t, b.String())
	tc.uiUser("vina", "viewer", "kata-sandi-vina-12")
	c := browserClient(t)
	c.Timeout = 2 * time.Minute // the API renders 5,000 links; slow under -race
	uiLogin(t, c, tc.base, "vina", "kata-sandi-vina-12")
	start := time.Now()
	code, _, body := uiGet(t, c, tc.base+"/ui/inventaris?tab=links&hal=3")
	if code != 200 || len(body) > 150<<10 || !strings.Contains(body, "100 dari 5.000 baris (halaman 3 dari 50)") ||
		!strings.Contains(body, "<code>l0200</code>") || strings.Contains(body, "<code>l0300</code>") ||
		!strings.Contains(body, `href="/ui/inventaris?hal=4&amp;tab=links"`) {
		t.Fatalf("page 3 of the links: %d, %d bytes\n%.3000s", code, len(body), body)
	}
	t.Logf("page 3 of 5,000 links: %d bytes in %s", len(body), time.Since(start))
	code, _, body = uiGet(t, c, tc.base+"/ui/inventaris?tab=links&q=10.0.18.255")
	if code != 200 || !strings.Contains(body, "<code>l4863</code>") || strings.Count(body, `<th scope="row">`) != 1 {
		t.Fatalf("the filter: %d\n%s", code, body)
	}
}

// TestBrowserInventarisImport is the browser test: an admin
// uploads a CSV with a bad bandwidth in row 3, column 5 and sees
// "name.csv:3:5: ..." in the preview while the inventory stays as it
// was; the fixed file's preview is applied and the new site is in the
// API's inventory.
func TestBrowserInventarisImport(t *testing.T) {
	if testing.Short() {
		t.Skip("drives headless chromium; skipped with -short")
	}
	tc := startInvCollector(t, uiInventory)
	tc.uiUser("adi", "admin", "kata-sandi-adi-123")
	dir := t.TempDir()
	bad := filepath.Join(dir, "lokasi.csv")
	if err := os.WriteFile(bad, []byte("site_id,bandwidth,site_name,kind,link_id,icmp_target\n"+
		"dinkes,100M,Dinas Kesehatan,opd,dinkes-wan,10.0.0.1\n"+
		"bpd,sepuluh,Bappeda,opd,bpd-wan,10.0.0.3\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(dir, "lokasi-baru.csv")
	if err := os.WriteFile(good, []byte("site_id,bandwidth,site_name,kind,link_id,icmp_target\n"+
		"dinkes,100M,Dinas Kesehatan,opd,dinkes-wan,10.0.0.1\n"+
		"bpd,10M,Bappeda,opd,bpd-wan,10.0.0.3\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, before := tc.get("/api/v1/inventory")

	b := newBrowser(t, tc.base, 3*time.Minute)
	b.login("adi", "kata-sandi-adi-123")
	b.open("/ui/inventaris")
	b.screenshot("inventaris")
	b.open("/ui/inventaris?tab=import")
	submitWait(b, map[string]string{"file:#csv": bad}, "#periksa")
	main := b.mainText()
	const want = `lokasi.csv:3:5: bandwidth: invalid bandwidth "sepuluh": use a number with a unit, such as 20Mbps, 1.5Gbps, 512kbps or 100M`
	if !strings.Contains(main, want) {
		t.Fatalf("the preview does not show %q:\n%s", want, main)
	}
	b.screenshot("inventaris-masalah")
	if n := b.count("#terapkan"); n != 0 {
		t.Fatalf("a CSV with problems can be applied")
	}
	if _, now := tc.get("/api/v1/inventory"); now != before {
		t.Fatalf("the inventory changed after a CSV with problems")
	}

	submitWait(b, map[string]string{"file:#csv": good}, "#periksa")
	main = b.mainText()
	if !strings.Contains(main, "Pratinjau impor lokasi-baru.csv") || !strings.Contains(main, "bpd") || !strings.Contains(main, "dinkes-wan: bandwidth") {
		t.Fatalf("the preview of the fixed file:\n%s", main)
	}
	b.screenshot("inventaris-pratinjau")
	submitWait(b, nil, "#terapkan")
	if loc := b.location(); loc != "/ui/inventaris?tab=links&ok=impor" {
		t.Fatalf("after Terapkan the browser is at %s", loc)
	}
	if !strings.Contains(b.mainText(), "Impor diterapkan") {
		t.Errorf("no success message:\n%s", b.mainText())
	}
	inv := tc.inventoryNow()
	if s := inv.Site("bpd"); s == nil || s.Name != "Bappeda" || inv.Link("bpd-wan") == nil || inv.Link("dinkes-wan").Bandwidth.String() != "100Mbps" {
		t.Fatalf("the new site is not in GET /api/v1/inventory: %+v", inv.Sites)
	}
}

// submitWait is b.submit that waits until the browser shows the next
// page (b.submit's wait for a body can see the old page's).
func submitWait(b *browser, fields map[string]string, button string) {
	b.t.Helper()
	b.do("mark the page", chromedp.Evaluate[chromedp.Void](`window.pantauOld = true`))
	b.submit(fields, button)
	deadline := time.Now().Add(time.Minute)
	for {
		next, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`window.pantauOld !== true && document.readyState === "complete"`))
		if err == nil && next {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("browser: no new page after clicking %s (%v)", button, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestIntegrationWebInventarisUnmatched: an ICMP target with data and no
// link is listed with "Jadikan link"; the pre-filled form adds the link
// and the row is gone.
func TestIntegrationWebInventarisUnmatched(t *testing.T) {
	tc := startInvCollector(t, uiInventory)
	tc.uiUser("adi", "admin", "kata-sandi-adi-123")
	tc.uiUser("vina", "viewer", "kata-sandi-vina-12")
	tok := tc.token("agent-dishub", "dishub")
	now := time.Now().Add(-time.Minute).Unix()
	line := fmt.Sprintf("icmp,target=10.0.0.9 packets_sent=5u,packets_received=5u,loss_ratio=0,rtt_avg_seconds=0.004,up=1i %d\n"+
		"icmp,target=10.0.0.2 packets_sent=5u,packets_received=5u,loss_ratio=0,rtt_avg_seconds=0.004,up=1i %d\n", now, now)
	if code, body := tc.write(tok, line); code != http.StatusNoContent {
		t.Fatalf("write: %d %s", code, body)
	}
	v := browserClient(t)
	uiLogin(t, v, tc.base, "vina", "kata-sandi-vina-12")
	code, _, body := uiGet(t, v, tc.base+"/ui/inventaris?tab=unmatched")
	if code != 200 || !strings.Contains(body, "<td>10.0.0.9</td>") || strings.Contains(body, "<td>10.0.0.2</td>") || strings.Contains(body, "Jadikan link") {
		t.Fatalf("the viewer's unmatched tab: %d\n%s", code, body)
	}
	c := browserClient(t)
	uiLogin(t, c, tc.base, "adi", "kata-sandi-adi-123")
	_, _, body = uiGet(t, c, tc.base+"/ui/inventaris?tab=unmatched")
	m := regexp.MustCompile(`href="(/ui/inventaris/link\?[^"]+)">Jadikan link`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no Jadikan link:\n%s", body)
	}
	_, _, form := uiGet(t, c, tc.base+strings.ReplaceAll(m[1], "&amp;", "&"))
	for _, want := range []string{`name="id" value="dishub-10.0.0.9"`, `<option value="dishub" selected>dishub</option>`, `name="icmp_target" value="10.0.0.9"`, `name="icmp_agent" value="agent-dishub"`} {
		if !strings.Contains(form, want) {
			t.Fatalf("the form lacks %s\n%s", want, form)
		}
	}
	code, h, _ := uiPost(t, c, tc.base+"/ui/inventaris/link", url.Values{"kind": {"icmp"}, "id": {"dishub-10.0.0.9"}, "site": {"dishub"},
		"type": {"fibre"}, "icmp_target": {"10.0.0.9"}, "icmp_agent": {"agent-dishub"}})
	if code != http.StatusSeeOther {
		t.Fatalf("add the link: %d %q", code, h.Get("Location"))
	}
	if l := tc.inventoryNow().Link("dishub-10.0.0.9"); l == nil || l.ICMP.Target != "10.0.0.9" {
		t.Fatalf("the link is not in the inventory: %+v", l)
	}
	if _, _, body := uiGet(t, c, tc.base+"/ui/inventaris?tab=unmatched"); strings.Contains(body, "<td>10.0.0.9</td>") {
		t.Errorf("the target is still unmatched:\n%s", body)
	}
}
