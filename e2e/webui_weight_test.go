package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/pantau-noc/pantau/internal/lab"
	"github.com/pantau-noc/pantau/internal/testbuild"
	"github.com/pantau-noc/pantau/internal/testproc"
)

// The office link of TestIntegrationWebUIPageWeight: a VSAT line of a
// district office.
const (
	vsatOneWay = 350 * time.Millisecond // 700 ms round trip
	vsatRate   = 256_000                // bit/s each way
	pageBudget = 150 << 10              // bytes on the wire per page
)

// TestIntegrationWebUIPageWeight measures the web UI as a district office
// sees it: headless Chromium in the office's namespace, behind a router
// that emulates a 256 kbit/s line with 350 ms each way (internal/lab
// DelayRate), and the collector in the NOC namespace with a realistic
// inventory (50 sites, 100 links, services, devices, agents, records).
// It logs in and opens the login page and every page of the menu with
// the browser's cache off (HTML and CSS each time, the first visit of
// the day), then the menu's pages again with the cache on (the
// stylesheet cached), and logs a table: bytes on the wire (gzip, headers
// included), the HTML's size, and when the page had its first
// (contentful) paint. It asserts only what must hold on any machine:
// every page arrives over the slow link (its first byte at least a round
// trip after its request), answers without a server error (a page not
// built yet is the not-found page, 404), is rendered (a first contentful
// paint, a main part) and weighs under 150 KB. Docs: docs/benchmarks.md.
func TestIntegrationWebUIPageWeight(t *testing.T) {
	lab.SkipShort(t, "root, network namespaces and headless chromium")
	t.Parallel()
	const chromium = "/usr/bin/chromium"
	if _, err := os.Stat(chromium); err != nil {
		t.Fatalf("chromium is needed to measure the web UI: %v; run `make deps` to install it", err)
	}
	colBin := testbuild.Collector(t)
	l, noc, router, office, rNoc, rOffice, _ := lab.ThreeHop(t)
	dir := t.TempDir()
	inv := writeFile(t, filepath.Join(dir, "inventory.yml"), weightInventory())
	ccfg := writeFile(t, filepath.Join(dir, "collector.yml"),
		fmt.Sprintf("listen_address: 10.250.1.1:9810\ndata_dir: %s\ninventory: %s\n", filepath.Join(dir, "data"), inv))
	admin := tokenCreate(t, colBin, "--config", ccfg, "--name", "seed", "--role", "admin")
	for i := 1; i <= 6; i++ {
		tokenCreate(t, colBin, "--config", ccfg, "--agent", fmt.Sprintf("agent-kec-%02d", i), "--site", fmt.Sprintf("kec-%02d", i))
	}
	const user, password = "kabid-tik", "kata-sandi-kabid-123"
	pw := writeFile(t, filepath.Join(dir, "pw"), password+"\n")
	if out, err := exec.Command(colBin, "user", "add", "--config", ccfg, "--name", user, "--role", "admin", "--password-file", pw).CombinedOutput(); err != nil {
		t.Fatalf("user add: %v: %s", err, out)
	}
	l.Start(noc, colBin, "serve", "--config", ccfg, "--log.level", "warn")
	api := lab.HTTPClient(noc)
	api.Transport = testproc.Bearer(admin, api.Transport)
	const base = "http://10.250.1.1:9810"
	if !lab.WaitFor(t.Context(), 20*time.Second, func() bool {
		resp, err := api.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil && resp.StatusCode == 200
	}) {
		t.Fatal("collector did not become ready")
	}
	seedRecords(t, api, base)

	// The office reaches the NOC only through the VSAT line.
	l.DelayRate(router, vsatOneWay, vsatRate, map[string]string{"10.250.1.1": rNoc, "10.250.2.2": rOffice})
	b := newWeightBrowser(t, office, chromium)

	b.navigate("/readyz") // the browser's first load, and its connection
	// The login page first (no session), then every page the menu offers.
	rows := []pageWeight{b.measure("/ui/masuk")}
	b.login(user, password)
	links := bgetW(b, "menu", chromedp.Evaluate[[]string](`[...document.querySelectorAll('header nav a')].map(a => a.getAttribute('href'))`))
	if len(links) < 2 {
		t.Fatalf("the menu offers %v", links)
	}
	for _, path := range links {
		rows = append(rows, b.measure(path))
	}
	// Then with the cache on, as the rest of a working day goes: the
	// stylesheet (cached for a day) comes once, each page brings its HTML.
	b.cache(true)
	b.navigate("/ui/")
	warm := map[string]pageWeight{}
	for _, path := range links {
		warm[path] = b.measure(path)
	}

	var tbl strings.Builder
	fmt.Fprintf(&tbl, "web UI over %d kbit/s, %s RTT; cold: cache off, warm: stylesheet cached:\n", vsatRate/1000, 2*vsatOneWay)
	fmt.Fprintf(&tbl, "%-18s %6s %4s %8s %9s %7s %7s %7s %7s %8s %8s %8s\n",
		"page", "status", "req", "wire B", "HTML wire", "HTML B", "TTFB ms", "FP ms", "FCP ms", "resEnd", "warm B", "warm FCP")
	for _, r := range rows {
		wireW, fcpW := "-", "-" // the login page has no warm visit: a session skips it
		if wr, ok := warm[r.Path]; ok {
			wireW, fcpW = fmt.Sprint(wr.Wire), fmt.Sprintf("%.0f", wr.FCP)
		}
		fmt.Fprintf(&tbl, "%-18s %6d %4d %8d %9d %7d %7.0f %7.0f %7.0f %8.0f %8s %8s\n",
			r.Path, r.Status, r.Requests, r.Wire, r.HTMLWire, r.HTMLBytes, r.TTFB, r.FP, r.FCP, r.ResponseEnd, wireW, fcpW)
	}
	t.Log(tbl.String())
	for _, r := range warm {
		rows = append(rows, r)
	}

	for _, r := range rows {
		if r.Status == 0 || r.Status >= 500 {
			t.Errorf("%s: status %d", r.Path, r.Status)
		}
		if r.Wire >= pageBudget {
			t.Errorf("%s: %d bytes on the wire, the budget is %d", r.Path, r.Wire, pageBudget)
		}
		if r.FCP <= 0 || r.MainText == 0 {
			t.Errorf("%s: not rendered (first contentful paint %.0f ms, %d characters in main)", r.Path, r.FCP, r.MainText)
		}
		// The request and its answer crossed the line: the first byte came
		// a round trip or more after the request.
		if rtt := float64(2*vsatOneWay/time.Millisecond) * 0.95; r.TTFB < rtt {
			t.Errorf("%s: first byte %.0f ms after the request, less than the line's round trip: not over the emulated link", r.Path, r.TTFB)
		}
	}
}

// pageWeight is one page's measurement; times in ms from the navigation's
// start.
type pageWeight struct {
	Path                       string
	Status, Requests, MainText int
	Wire, HTMLWire, HTMLBytes  int64
	TTFB, FP, FCP, ResponseEnd float64
}

// weightBrowser is headless Chromium running inside a lab namespace.
type weightBrowser struct {
	t    *testing.T
	ctx  context.Context
	base string

	mu       sync.Mutex
	sent     map[network.RequestID]*network.EventRequestWillBeSent
	finished map[network.RequestID]float64
}

// newWeightBrowser starts Chromium in namespace ns (through a wrapper
// that `ip netns exec`s it; chromedp talks to it over a pipe, so its
// DevTools need no address) with the cache off.
func newWeightBrowser(t *testing.T, ns, chromium string) *weightBrowser {
	t.Helper()
	wrapper := filepath.Join(t.TempDir(), "chromium-in-"+ns)
	writeFile(t, wrapper, fmt.Sprintf("#!/bin/sh\nexec ip netns exec %s %s \"$@\"\n", ns, chromium))
	if err := os.Chmod(wrapper, 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	actx, acancel := chromedp.NewExecAllocator(ctx, append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(wrapper), chromedp.DisableGPU, chromedp.Flag("disable-quic", true),
		chromedp.WindowSize(1280, 900))...)
	bctx, bcancel := chromedp.NewContext(actx)
	t.Cleanup(func() { bcancel(); acancel(); cancel() })
	b := &weightBrowser{t: t, ctx: bctx, base: "http://10.250.1.1:9810",
		sent: map[network.RequestID]*network.EventRequestWillBeSent{}, finished: map[network.RequestID]float64{}}
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("start chromium in %s: %v", ns, err)
	}
	b.cache(false)
	if err := chromedp.Listen(bctx, func(ev any) {
		b.mu.Lock()
		defer b.mu.Unlock()
		switch e := ev.(type) {
		case *network.EventRequestWillBeSent:
			b.sent[e.RequestID] = e
		case *network.EventLoadingFinished:
			b.finished[e.RequestID] = e.EncodedDataLength
		}
	}); err != nil {
		t.Fatal(err)
	}
	return b
}

// cache turns the browser's cache on or off.
func (b *weightBrowser) cache(on bool) {
	b.t.Helper()
	b.do("cache", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, network.SetCacheDisabled, network.SetCacheDisabledParams{CacheDisabled: !on})
		return err
	}))
}

func bgetW[T any](b *weightBrowser, what string, a chromedp.Action[T]) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, a)
	if err != nil {
		b.t.Fatalf("browser: %s: %v", what, err)
	}
	return v
}

func (b *weightBrowser) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		b.t.Fatalf("browser: %s: %v", what, err)
	}
}

// navigate opens path. Chromium in a fresh namespace may report its
// network as changed while its address tracker starts up and abort the
// first load (net::ERR_NETWORK_CHANGED); that load is tried again.
func (b *weightBrowser) navigate(path string) {
	b.t.Helper()
	for try := 0; ; try++ {
		err := chromedp.Do(b.ctx, chromedp.Navigate(b.base+path))
		if err == nil {
			return
		}
		if try == 2 || !strings.Contains(err.Error(), "ERR_NETWORK_CHANGED") {
			b.t.Fatalf("browser: open %s: %v", path, err)
		}
		b.t.Logf("open %s: %v; trying again", path, err)
		b.mu.Lock()
		clear(b.sent)
		clear(b.finished)
		b.mu.Unlock()
	}
}

// login logs in through the form.
func (b *weightBrowser) login(name, password string) {
	b.t.Helper()
	b.navigate("/ui/masuk")
	b.do("log in as "+name,
		chromedp.SendKeys(chromedp.ID("name"), name),
		chromedp.SendKeys(chromedp.ID("password"), password+kb.Enter),
		chromedp.WaitVisible(chromedp.CSS("header nav")))
}

// paintJS reads the page's navigation and paint timings.
const paintJS = `(() => {
	const n = performance.getEntriesByType('navigation')[0] || {};
	const p = Object.fromEntries(performance.getEntriesByType('paint').map(e => [e.name, e.startTime]));
	const m = document.querySelector('main');
	return {Status: n.responseStatus || 0, HTMLBytes: n.decodedBodySize || 0,
		TTFB: (n.responseStart || 0) - (n.requestStart || 0), ResponseEnd: n.responseEnd || 0,
		FP: p['first-paint'] || 0, FCP: p['first-contentful-paint'] || 0,
		MainText: m ? m.innerText.trim().length : 0};
})()`

// measure opens path and returns what it weighed and when it painted.
func (b *weightBrowser) measure(path string) pageWeight {
	b.t.Helper()
	b.mu.Lock()
	clear(b.sent)
	clear(b.finished)
	b.mu.Unlock()
	b.navigate(path)
	var w pageWeight
	// The paint entries come with the first frames after the load.
	for range 40 {
		w = bgetW(b, "timings of "+path, chromedp.Evaluate[pageWeight](paintJS))
		if w.FCP > 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	w.Path = path
	b.mu.Lock()
	defer b.mu.Unlock()
	// The page's requests are those of its document's loader (a late
	// answer to the page before has another).
	var loader cdp.LoaderID
	for _, e := range b.sent {
		if e.Type == network.ResourceTypeDocument && e.Request.URL == b.base+path {
			loader = e.LoaderID
		}
	}
	if loader == "" {
		b.t.Fatalf("browser: no document request for %s", path)
	}
	for id, n := range b.finished {
		e := b.sent[id]
		if e == nil || e.LoaderID != loader {
			continue
		}
		w.Wire += int64(n)
		w.Requests++
		if e.Type == network.ResourceTypeDocument {
			w.HTMLWire += int64(n)
		}
	}
	return w
}

// weightInventory is a Pemda of 10 OPD offices and 40 districts: 50
// sites, each with a fibre and a VSAT link (100 links), a device each,
// and 4 public services.
func weightInventory() string {
	var s strings.Builder
	opds := []struct{ id, name string }{
		{"diskominfo", "Dinas Komunikasi dan Informatika"}, {"setda", "Sekretariat Daerah"},
		{"dinkes", "Dinas Kesehatan"}, {"disdik", "Dinas Pendidikan"}, {"dishub", "Dinas Perhubungan"},
		{"bappeda", "Badan Perencanaan Pembangunan Daerah"}, {"dpmptsp", "Dinas Penanaman Modal dan PTSP"},
		{"bkpsdm", "Badan Kepegawaian dan Pengembangan SDM"}, {"dinsos", "Dinas Sosial"},
		{"dukcapil", "Dinas Kependudukan dan Pencatatan Sipil"},
	}
	s.WriteString("opds:\n")
	for _, o := range opds {
		fmt.Fprintf(&s, "  - {id: %s, name: %s}\n", o.id, o.name)
	}
	type site struct{ id, name, kind, opd string }
	var sites []site
	for _, o := range opds {
		sites = append(sites, site{o.id, o.name, "opd", o.id})
	}
	for i := 1; i <= 40; i++ {
		sites = append(sites, site{fmt.Sprintf("kec-%02d", i), fmt.Sprintf("Kantor Kecamatan Distrik %02d", i), "district", "setda"})
	}
	s.WriteString("sites:\n")
	for i, st := range sites {
		fmt.Fprintf(&s, "  - {id: %s, name: %s, kind: %s, opd: %s, timezone: WIT, lat: %.4f, lon: %.4f}\n",
			st.id, st.name, st.kind, st.opd, -0.86-float64(i%10)*0.05, 131.25+float64(i/10)*0.07)
	}
	s.WriteString("links:\n")
	for i, st := range sites {
		fmt.Fprintf(&s, "  - {id: %s-fo, site: %s, name: Internet utama, type: fibre, isp: Telkom Indonesia, circuit: \"47000%05d\", bandwidth: 20Mbps, icmp: {target: 10.60.%d.1}, contract: {target: 99.5, min_outage: 300s, monthly_fee: 15000000, end: 2026-12-31}}\n",
			st.id, st.id, i, i)
		fmt.Fprintf(&s, "  - {id: %s-vsat, site: %s, name: Cadangan VSAT, type: vsat, isp: Telkomsat, bandwidth: 512kbps, icmp: {target: 10.61.%d.1}, contract: {target: 98.0, monthly_fee: 9500000}}\n",
			st.id, st.id, i)
	}
	s.WriteString("devices:\n")
	for i, st := range sites {
		fmt.Fprintf(&s, "  - {id: rtr-%s, site: %s, vendor: MikroTik, model: RB4011, serial: HE50%05d, year_acquired: %d, asset_code: 02.06.03.02.%03d, warranty_end: 2027-03-31}\n",
			st.id, st.id, i, 2020+i%6, i+1)
	}
	s.WriteString(`services:
  - {id: portal, name: Portal Resmi Pemerintah Kabupaten, site: diskominfo, category: portal, url: "https://portal.example.go.id/", probe: {measurement: http, target: portal}}
  - {id: e-office, name: E-Office (Tata Naskah Dinas Elektronik), site: diskominfo, opd: setda, category: e-office, probe: {measurement: http, target: eoffice}}
  - {id: simpeg, name: Sistem Informasi Kepegawaian, site: diskominfo, opd: bkpsdm, category: kepegawaian, probe: {measurement: http, target: simpeg}}
  - {id: dns-pemda, name: DNS Pemerintah Kabupaten, site: diskominfo, category: dns, probe: {measurement: dns, target: portal-a}}
`)
	return s.String()
}

// seedRecords adds what an office's pages list: maintenance windows,
// silences, reviews and follow-ups, through the API.
func seedRecords(t *testing.T, c *http.Client, base string) {
	t.Helper()
	post := func(path string, body any) {
		t.Helper()
		raw, _ := json.Marshal(body)
		resp, err := c.Post(base+path, "application/json", bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("POST %s: %v", path, err)
		}
		defer resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			msg, _ := io.ReadAll(resp.Body)
			t.Fatalf("POST %s %s: %d %s", path, raw, resp.StatusCode, msg)
		}
	}
	wit := time.FixedZone("WIT", 9*3600)
	now := time.Now().In(wit)
	for i := range 8 {
		start := now.Add(time.Duration(i*24+2) * time.Hour).Truncate(time.Hour)
		post("/api/v1/maintenance", map[string]string{"scope": "link", "target": fmt.Sprintf("kec-%02d-vsat", i+1),
			"start": start.Format("2006-01-02T15:04"), "end": start.Add(90 * time.Minute).Format("2006-01-02T15:04"),
			"zone": "WIT", "reason": "Penggantian modem VSAT dan penataan kabel"})
	}
	for i := range 3 {
		post("/api/v1/silences", map[string]any{"matchers": map[string]string{"site": fmt.Sprintf("kec-%02d", 10+i)},
			"duration": "4h", "reason": "Pemadaman listrik PLN terjadwal"})
	}
	for i := range 3 {
		month := now.AddDate(0, -i-1, 0)
		post("/api/v1/reviews", map[string]string{"month": month.Format("2006-01"),
			"held_on": now.AddDate(0, -i, 0).Format("2006-01") + "-05", "participants": "Kabid TIK, NOC, perwakilan ISP",
			"findings": "VSAT distrik pegunungan sering putus saat hujan; laporan gangguan ISP terlambat."})
	}
	for i := range 5 {
		post("/api/v1/followups", map[string]any{"review_id": 1 + i%3, "opened": now.Format("2006-01-02"),
			"item": fmt.Sprintf("Tindak lanjut %d: ganti modem VSAT Distrik %02d", i+1, i+1), "owner": "Bidang TIK",
			"due": now.AddDate(0, 1, 0).Format("2006-01-02")})
	}
}
