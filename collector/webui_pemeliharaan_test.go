package collector

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/pantau-noc/pantau/collector/internal/report"
	"github.com/pantau-noc/pantau/collector/internal/sla"
)

// recInventory has two OPDs, each with one site and one link.
const recInventory = `
sites:
  - {id: dinkes, name: Dinas Kesehatan, kind: opd, timezone: WIB, sla_target: 99.5}
  - {id: dishub, name: Dinas Perhubungan, kind: opd, timezone: WIB}
links:
  - {id: dinkes-wan, site: dinkes, type: fibre, bandwidth: 20Mbps, icmp: {target: 127.0.0.2}}
  - {id: dishub-wan, site: dishub, type: fibre, bandwidth: 20Mbps, icmp: {target: 127.0.0.3}}
`

// startRecCollector starts a collector with recInventory, the rest of
// its collector.yml from rest, and the users of the records pages: adi
// (admin), ani (operator of dinkes) and vina (viewer).
func startRecCollector(t *testing.T, rest string) *testCollector {
	t.Helper()
	dir := t.TempDir()
	invPath := filepath.Join(dir, "inventory.yml")
	if err := os.WriteFile(invPath, []byte(recInventory), 0o644); err != nil {
		t.Fatal(err)
	}
	tc := startFromFile(t, filepath.Join(dir, "collector.yml"), func(dataDir string) string {
		return fmt.Sprintf("data_dir: %s\ninventory: %s\n%s", dataDir, invPath, rest)
	})
	tc.uiUser("adi", "admin", "kata-sandi-adi-123")
	tc.uiUser("ani", "operator", "kata-sandi-ani-123", "dinkes")
	tc.uiUser("vina", "viewer", "kata-sandi-vina-123")
	return tc
}

// uiSession logs in and returns the client.
func uiSession(t *testing.T, tc *testCollector, name, password string) *http.Client {
	t.Helper()
	c := browserClient(t)
	if r := uiLogin(t, c, tc.base, name, password); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("login %s: %d", name, r.StatusCode)
	}
	return c
}

// apiWindows reads the maintenance windows with the admin token.
func apiWindows(t *testing.T, tc *testCollector) []sla.Window {
	t.Helper()
	code, js := tc.get("/api/v1/maintenance")
	if code != 200 {
		t.Fatalf("GET /api/v1/maintenance: %d %s", code, js)
	}
	var env struct{ Data []sla.Window }
	if err := json.Unmarshal([]byte(js), &env); err != nil || env.Data == nil {
		var ws []sla.Window
		if err2 := json.Unmarshal([]byte(js), &ws); err2 != nil {
			t.Fatalf("maintenance list %s: %v", js, err)
		}
		return ws
	}
	return env.Data
}

func wibZone(t *testing.T) *time.Location {
	wib, err := time.LoadLocation("Asia/Jakarta")
	if err != nil {
		t.Fatal(err)
	}
	return wib
}

// section is the part of a page between the heading with id and the next
// h2 (or the end).
func section(body, id string) string {
	i := strings.Index(body, `id="`+id+`"`)
	if i < 0 {
		return ""
	}
	rest := body[i:]
	if j := strings.Index(rest[1:], "<h2"); j >= 0 {
		return rest[:j+1]
	}
	return rest
}

// TestWebUIPemeliharaan drives the maintenance page over HTTP: the
// target picker in the user's scope, creating an upcoming window, the
// API's refusal shown with the form kept, an OPD operator refused a
// window for another OPD's link, editing, deleting with a confirmation,
// and a viewer who sees no forms and whose POST is refused.
func TestWebUIPemeliharaan(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: starts a collector")
	}
	tc := startRecCollector(t, "")
	wib := wibZone(t)
	local := func(tm time.Time) string { return tm.In(wib).Format("2006-01-02T15:04") }
	tomorrow := time.Now().Add(24 * time.Hour).Truncate(time.Minute)
	page := tc.base + "/ui/pemeliharaan"

	ani := uiSession(t, tc, "ani", "kata-sandi-ani-123")
	code, _, body := uiGet(t, ani, page)
	if code != 200 || !strings.Contains(body, `id="mnt-form"`) || !strings.Contains(body, `<label for="target">`) {
		t.Fatalf("operator's page: %d\n%s", code, body)
	}
	if !strings.Contains(body, `value="link:dinkes-wan"`) || strings.Contains(body, `value="link:dishub-wan"`) || strings.Contains(body, `value="all:"`) {
		t.Errorf("ani's targets are not dinkes's only:\n%s", body)
	}

	// another OPD's link: the API's 403, the form kept
	form := url.Values{"target": {"link:dishub-wan"}, "start": {local(tomorrow)}, "end": {local(tomorrow.Add(time.Hour))},
		"repeat": {"none"}, "reason": {"ganti router dishub"}}
	code, _, body = uiPost(t, ani, page, form)
	if code != http.StatusForbidden || !strings.Contains(body, "dishub") || !strings.Contains(body, `value="ganti router dishub"`) ||
		!strings.Contains(body, "Jendela pemeliharaan tidak disimpan") {
		t.Fatalf("a window for dishub by dinkes's operator: %d\n%s", code, body)
	}

	// end before start: the API's message, the form kept
	form = url.Values{"target": {"link:dinkes-wan"}, "start": {local(tomorrow)}, "end": {local(tomorrow.Add(-time.Hour))},
		"repeat": {"none"}, "reason": {"ganti kabel"}}
	code, _, body = uiPost(t, ani, page, form)
	if code != http.StatusBadRequest || !strings.Contains(body, "is not after its start") || !strings.Contains(body, `value="ganti kabel"`) ||
		!strings.Contains(body, `<option value="link:dinkes-wan" selected>`) || !strings.Contains(body, `value="`+local(tomorrow)+`"`) {
		t.Fatalf("end before start: %d\n%s", code, body)
	}
	if n := len(apiWindows(t, tc)); n != 0 {
		t.Fatalf("refused forms stored %d windows", n)
	}

	// an upcoming window and a past one
	form.Set("end", local(tomorrow.Add(2*time.Hour)))
	code, h, _ := uiPost(t, ani, page, form)
	if code != http.StatusSeeOther || h.Get("Location") != "/ui/pemeliharaan?ok=mnt-added" {
		t.Fatalf("add: %d to %q", code, h.Get("Location"))
	}
	yesterday := time.Now().Add(-24 * time.Hour).Truncate(time.Minute)
	past := url.Values{"target": {"link:dinkes-wan"}, "start": {local(yesterday)}, "end": {local(yesterday.Add(time.Hour))},
		"repeat": {"weekly"}, "until": {local(yesterday.Add(2 * time.Hour))}, "reason": {"uji genset"}}
	if code, _, body := uiPost(t, ani, page, past); code != http.StatusSeeOther {
		t.Fatalf("add a past window: %d\n%s", code, body)
	}
	ws := apiWindows(t, tc)
	if len(ws) != 2 {
		t.Fatalf("windows %+v", ws)
	}
	var upID, pastID int64
	for _, w := range ws {
		switch w.Reason {
		case "ganti kabel":
			upID = w.ID
			if w.Scope != "link" || w.Target != "dinkes-wan" || !w.Start.Equal(tomorrow) || !w.End.Equal(tomorrow.Add(2*time.Hour)) {
				t.Errorf("stored window %+v, want %s..%s", w, tomorrow, tomorrow.Add(2*time.Hour))
			}
		case "uji genset":
			pastID = w.ID
			if w.Repeat != "weekly" || !w.Until.Equal(yesterday.Add(2*time.Hour)) {
				t.Errorf("stored window %+v", w)
			}
		}
	}
	code, _, body = uiGet(t, ani, page+"?ok=mnt-added")
	if code != 200 || !strings.Contains(body, "Jendela pemeliharaan sudah ditambahkan.") {
		t.Fatalf("after the add: %d\n%s", code, body)
	}
	up, rest := section(body, "akan-datang"), section(body, "berlangsung")
	if !strings.Contains(up, "ganti kabel") || strings.Contains(up, "uji genset") || !strings.Contains(up, "akan datang") {
		t.Errorf("upcoming section:\n%s", up)
	}
	if !strings.Contains(rest, "uji genset") || strings.Contains(rest, "ganti kabel") || !strings.Contains(rest, "selesai") || !strings.Contains(rest, "mingguan") {
		t.Errorf("current and past section:\n%s", rest)
	}

	// edit: the form holds the window; the change is stored
	edit := fmt.Sprintf("%s/%d", page, upID)
	code, _, body = uiGet(t, ani, edit)
	if code != 200 || !strings.Contains(body, `value="ganti kabel"`) || !strings.Contains(body, `value="`+local(tomorrow)+`"`) ||
		!strings.Contains(body, `action="/ui/pemeliharaan/`+fmt.Sprint(upID)+`"`) {
		t.Fatalf("edit page: %d\n%s", code, body)
	}
	form.Set("reason", "ganti kabel dan konektor")
	form.Set("end", local(tomorrow.Add(3*time.Hour)))
	if code, h, body := uiPost(t, ani, edit, form); code != http.StatusSeeOther || h.Get("Location") != "/ui/pemeliharaan?ok=mnt-updated" {
		t.Fatalf("edit: %d %q\n%s", code, h.Get("Location"), body)
	}
	form.Set("end", local(tomorrow.Add(-time.Minute)))
	if code, _, body := uiPost(t, ani, edit, form); code != http.StatusBadRequest || !strings.Contains(body, "is not after its start") ||
		!strings.Contains(body, `value="ganti kabel dan konektor"`) {
		t.Fatalf("a bad edit: %d\n%s", code, body)
	}
	moved := url.Values{"target": {"link:dishub-wan"}, "start": {local(tomorrow)}, "end": {local(tomorrow.Add(time.Hour))}, "reason": {"pindah"}}
	if code, _, body := uiPost(t, ani, edit, moved); code != http.StatusForbidden || !strings.Contains(body, "dishub") {
		t.Fatalf("moving a window to dishub's link: %d\n%s", code, body)
	}
	for _, w := range apiWindows(t, tc) {
		if w.ID == upID && (w.Reason != "ganti kabel dan konektor" || !w.End.Equal(tomorrow.Add(3*time.Hour))) {
			t.Errorf("after the edit: %+v", w)
		}
	}

	// delete: a confirmation page; without the tick nothing goes
	del := fmt.Sprintf("%s/%d/hapus", page, pastID)
	code, _, body = uiGet(t, ani, del)
	if code != 200 || !strings.Contains(body, `type="checkbox" id="confirm"`) || !strings.Contains(body, "uji genset") {
		t.Fatalf("delete page: %d\n%s", code, body)
	}
	if code, _, body := uiPost(t, ani, del, url.Values{}); code != http.StatusBadRequest || !strings.Contains(body, "Centang konfirmasi") {
		t.Fatalf("delete without confirmation: %d\n%s", code, body)
	}
	if n := len(apiWindows(t, tc)); n != 2 {
		t.Fatalf("an unconfirmed delete left %d windows", n)
	}
	if code, h, _ := uiPost(t, ani, del, url.Values{"confirm": {"yes"}}); code != http.StatusSeeOther || h.Get("Location") != "/ui/pemeliharaan?ok=mnt-deleted" {
		t.Fatalf("delete: %d %q", code, h.Get("Location"))
	}
	if ws := apiWindows(t, tc); len(ws) != 1 || ws[0].ID != upID {
		t.Fatalf("after the delete: %+v", ws)
	}

	// the admin sees every target, and "all"
	adi := uiSession(t, tc, "adi", "kata-sandi-adi-123")
	_, _, body = uiGet(t, adi, page)
	if !strings.Contains(body, `value="link:dishub-wan"`) || !strings.Contains(body, `value="all:"`) || !strings.Contains(body, `value="site:dinkes"`) {
		t.Errorf("admin's targets:\n%s", body)
	}

	// a viewer: the list without forms; a POST is refused
	vina := uiSession(t, tc, "vina", "kata-sandi-vina-123")
	code, _, body = uiGet(t, vina, page)
	if code != 200 || !strings.Contains(body, "ganti kabel dan konektor") || strings.Contains(body, "<form method=\"post\" action=\"/ui/pemeliharaan") ||
		strings.Contains(body, "/hapus") {
		t.Fatalf("viewer's page: %d\n%s", code, body)
	}
	form.Set("end", local(tomorrow.Add(time.Hour)))
	for _, u := range []string{page, edit, fmt.Sprintf("%s/%d/hapus", page, upID)} {
		f := form
		if strings.HasSuffix(u, "/hapus") {
			f = url.Values{"confirm": {"yes"}}
		}
		if code, _, body := uiPost(t, vina, u, f); code != http.StatusForbidden || !strings.Contains(body, "tidak berhak") {
			t.Errorf("viewer's POST %s: %d\n%s", u, code, body)
		}
	}
	if code, _, _ := uiGet(t, vina, fmt.Sprintf("%s/%d/hapus", page, upID)); code != http.StatusForbidden {
		t.Errorf("viewer's delete page: %d", code)
	}
	if ws := apiWindows(t, tc); len(ws) != 1 || ws[0].Reason != "ganti kabel dan konektor" {
		t.Fatalf("the viewer changed windows: %+v", ws)
	}
	// unknown ids
	if code, _, _ := uiGet(t, ani, page+"/999"); code != http.StatusNotFound {
		t.Errorf("unknown window: %d", code)
	}

	// past windows page, 100 to a page
	for i := range 105 {
		s := yesterday.Add(-time.Duration(i+1) * 2 * time.Hour)
		js := fmt.Sprintf(`{"scope":"site","target":"dishub","start":%q,"end":%q,"reason":"lama %d"}`,
			s.Format(time.RFC3339), s.Add(time.Hour).Format(time.RFC3339), i)
		res, err := tc.httpCli.Post(tc.base+"/api/v1/maintenance", "application/json", strings.NewReader(js))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusCreated {
			t.Fatalf("POST /api/v1/maintenance: %d", res.StatusCode)
		}
	}
	code, _, body = uiGet(t, adi, page)
	rest = section(body, "berlangsung")
	if code != 200 || strings.Count(rest, "<tr id=") != 100 || !strings.Contains(rest, "halaman 1 dari 2 (105 baris)") ||
		!strings.Contains(rest, `<a href="/ui/pemeliharaan?hal=2" rel="next">`) || !strings.Contains(rest, ">lama 0<") || len(body) > 150<<10 {
		t.Fatalf("first page of 105 past windows (%d bytes): %d\n%s", len(body), code, rest)
	}
	_, _, body = uiGet(t, adi, page+"?hal=2")
	if rest := section(body, "berlangsung"); strings.Count(rest, "<tr id=") != 5 || !strings.Contains(rest, ">lama 104<") ||
		!strings.Contains(rest, `<a href="/ui/pemeliharaan" rel="prev">`) || !strings.Contains(body, "ganti kabel dan konektor") {
		t.Errorf("second page:\n%s", body)
	}
}

// writeOutage writes 20 minutes of ICMP rounds for dinkes-wan ending at
// end (a whole minute, in the past), the minutes 10 to 12 before end down,
// and returns the first down minute.
func writeOutage(t *testing.T, tc *testCollector, end time.Time) time.Time {
	t.Helper()
	tok := tc.token("agent-1", "dinkes")
	var body strings.Builder
	for i := 0; i < 40; i++ {
		ts := end.Add(-time.Duration(i) * 30 * time.Second)
		back := int(end.Sub(ts.Truncate(time.Minute)) / time.Minute)
		if back >= 10 && back <= 12 {
			fmt.Fprintf(&body, "icmp,target=127.0.0.2 packets_sent=5u,packets_received=0u,loss_ratio=1,up=0i %d\n", ts.Unix())
		} else {
			fmt.Fprintf(&body, "icmp,target=127.0.0.2 packets_sent=5u,packets_received=5u,loss_ratio=0,rtt_avg_seconds=0.004,up=1i %d\n", ts.Unix())
		}
		fmt.Fprintf(&body, "agent,version=t uptime_seconds=%d %d\n", 100+i, ts.Unix())
	}
	if code, msg := tc.write(tok, body.String()); code != http.StatusNoContent {
		t.Fatalf("write: %d %s", code, msg)
	}
	return end.Add(-12 * time.Minute)
}

// reportLink is dinkes-wan's row of the report of period (JSON).
func reportLink(t *testing.T, tc *testCollector, period string) report.LinkRow {
	t.Helper()
	code, js := tc.get("/api/v1/report?format=json&period=" + period)
	if code != 200 {
		t.Fatalf("report API: %d %s", code, js)
	}
	var r report.Report
	if err := json.Unmarshal([]byte(js), &r); err != nil {
		t.Fatal(err)
	}
	for _, l := range r.Links {
		if l.Link == "dinkes-wan" {
			return l
		}
	}
	t.Fatalf("report has no link dinkes-wan: %+v", r.Links)
	return report.LinkRow{}
}

// TestBrowserMaintenanceExcludesOutage is the scenario: an admin
// logs in, creates a maintenance window through the form for a link that
// had an outage, and the next report counts those minutes as
// maintenance, not downtime.
func TestBrowserMaintenanceExcludesOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("drives headless chromium; skipped with -short")
	}
	tc := startRecCollector(t, "")
	wib := wibZone(t)
	end := time.Now().Truncate(time.Minute).Add(-time.Minute)
	first := writeOutage(t, tc, end)
	day := func(t time.Time) string { return t.In(wib).Format("2006-01-02") }
	period := day(first) + ".." + day(end)
	if l := reportLink(t, tc, period); l.Down != 3 || l.Maint != 0 || l.Outages != 1 {
		t.Fatalf("before the window: %+v", l.Figures)
	}

	b := newBrowser(t, tc.base, 3*time.Minute)
	b.login("adi", "kata-sandi-adi-123")
	b.open("/ui/pemeliharaan")
	if n := b.count(`#target option[value="link:dinkes-wan"]`); n != 1 {
		t.Fatalf("the target picker lacks dinkes-wan")
	}
	b.submit(map[string]string{
		"#target": "link:dinkes-wan",
		"#start":  first.In(wib).Format("2006-01-02T15:04"),
		"#end":    first.Add(3 * time.Minute).In(wib).Format("2006-01-02T15:04"),
		"#reason": "ganti kabel FO",
	}, "#mnt-save")
	b.do("wait for the flash", chromedp.WaitVisible(chromedp.CSS("p.ok")))
	if loc := b.location(); loc != "/ui/pemeliharaan?ok=mnt-added" {
		t.Fatalf("after the form the browser is at %s: %s", loc, b.mainText())
	}
	main := b.mainText()
	if !strings.Contains(main, "Jendela pemeliharaan sudah ditambahkan.") || !strings.Contains(main, "ganti kabel FO") {
		t.Fatalf("the page after the add:\n%s", main)
	}
	if !strings.Contains(b.text("#berlangsung + table"), "selesai") {
		t.Errorf("the past window is not listed as ended: %s", b.text("#berlangsung + table"))
	}
	b.screenshot("pemeliharaan")

	// the next report: the outage's minutes are maintenance
	if l := reportLink(t, tc, period); l.Down != 0 || l.Maint != 3 {
		t.Fatalf("after the window: %+v", l.Figures)
	}

	// the outage's incident record through the outages page's form
	b.open("/ui/gangguan")
	if got := b.text("h1"); got != "Gangguan" {
		t.Fatalf("outages page heading %q", got)
	}
	b.submit(map[string]string{
		"#target":   "link:dinkes-wan",
		"#start":    first.In(wib).Format("2006-01-02T15:04"),
		"#ticket":   "TIK/2026/12/001",
		"#category": "fo_putus",
		"#source":   "telepon",
		"#action":   "Kabel FO diganti saat pemeliharaan",
	}, "#inc-add")
	b.do("wait for the flash", chromedp.WaitVisible(chromedp.CSS("p.ok")))
	if loc := b.location(); loc != "/ui/gangguan/1?ok=inc-added" {
		t.Fatalf("after the incident form the browser is at %s: %s", loc, b.mainText())
	}
	if rec := b.text("#record"); !strings.Contains(rec, "TIK/2026/12/001") || !strings.Contains(rec, "Telepon") || !strings.Contains(rec, "adi") {
		t.Errorf("the record:\n%s", rec)
	}
	b.open("/ui/gangguan")
	if rec := b.text("#records"); !strings.Contains(rec, "TIK/2026/12/001") {
		t.Errorf("the records table:\n%s", rec)
	}
	b.screenshot("gangguan")
}
