package collector

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// Attacks on the web UI (/ui/) with real requests: each test names what
// it tried and what must hold.

// TestWebUIAttackUncleanAPIPath: a form value the UI puts into an API
// path ("", "." or "..": the token to revoke, the notifier to test)
// makes a path the API's mux answers with a redirect to its cleaned
// form. The UI must refuse it (4xx), not report a success it did not
// have ("Token dicabut") nor fail with 500.
func TestWebUIAttackUncleanAPIPath(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test (runs the collector)")
	}
	t.Parallel()
	tc := startHome(t)
	tc.uiUser("adi", "admin", "kata-sandi-adi-123")
	c := uiSession(t, tc, "adi", "kata-sandi-adi-123")
	for _, id := range []string{"..", ".", ""} {
		code, h, body := uiPost(t, c, tc.base+"/ui/agen/cabut", url.Values{"id": {id}})
		if code < 400 || code >= 500 || strings.Contains(h.Get("Location"), "ok=cabut") {
			t.Errorf("revoke token %q: %d to %q\n%.2000s", id, code, h.Get("Location"), body)
		}
	}
	for _, name := range []string{"", "..", "."} {
		code, h, body := uiPost(t, c, tc.base+"/ui/notifikasi/uji", url.Values{"name": {name}})
		if code < 400 || code >= 500 {
			t.Errorf("test notifier %q: %d to %q\n%.2000s", name, code, h.Get("Location"), body)
		}
	}
	if code, _, _ := uiGet(t, c, tc.base+"/ui/agen"); code != http.StatusOK {
		t.Fatalf("agen: %d", code)
	}
}

// TestWebUIAttackAddLinkInvalidUTF8: "Jadikan link" with a field that is
// not UTF-8 (a hand-made POST) is a 400 naming the field, not a 500
// (the merged inventory cannot be written as YAML), and the inventory
// stays as it was.
func TestWebUIAttackAddLinkInvalidUTF8(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test (runs the collector)")
	}
	t.Parallel()
	tc := startHome(t)
	tc.uiUser("adi", "admin", "kata-sandi-adi-123")
	c := uiSession(t, tc, "adi", "kata-sandi-adi-123")
	for _, f := range []string{"id", "name", "icmp_target", "icmp_agent"} {
		form := url.Values{"kind": {"icmp"}, "id": {"baru-wan"}, "site": {"dinkes"}, "type": {"fibre"}, "icmp_target": {"10.9.9.9"}}
		form.Set(f, "x\xff\xfe")
		code, h, body := uiPost(t, c, tc.base+"/ui/inventaris/link", form)
		if code != http.StatusBadRequest || !strings.Contains(body, f+": not valid UTF-8") {
			t.Errorf("%s not UTF-8: %d to %q\n%.1500s", f, code, h.Get("Location"), body)
		}
	}
	if n := len(tc.inventoryNow().Links); n != 3 {
		t.Errorf("%d links after the refused posts, want 3", n)
	}
}

// TestWebUIAttackCookieBehindTLSProxy: behind a reverse proxy that
// terminates TLS (the collector sees plain HTTP to its public name, with
// X-Forwarded-Proto: https), the session cookie must still be Secure,
// so that the browser never sends it over plain HTTP to that name; the
// page does not warn of an unencrypted connection. Without the header,
// plain HTTP to a name other than loopback keeps the warning.
func TestWebUIAttackCookieBehindTLSProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test (runs the collector)")
	}
	t.Parallel()
	tc := startHome(t)
	tc.uiUser("adi", "admin", "kata-sandi-adi-123")
	login := func(hdr map[string]string) *http.Response {
		req, _ := http.NewRequest("POST", tc.base+"/ui/masuk",
			strings.NewReader(url.Values{"name": {"adi"}, "password": {"kata-sandi-adi-123"}, "next": {"/ui/"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Host = "noc.example.go.id"
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := browserClient(t).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	resp := login(map[string]string{"X-Forwarded-Proto": "https"})
	if sc := resp.Header.Get("Set-Cookie"); resp.StatusCode != http.StatusSeeOther || !strings.Contains(sc, "; Secure") {
		t.Errorf("login behind a TLS proxy: %d, Set-Cookie %q lacks Secure", resp.StatusCode, sc)
	}
	page := func(hdr map[string]string) string {
		req, _ := http.NewRequest("GET", tc.base+"/ui/masuk", nil)
		req.Host = "noc.example.go.id"
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := browserClient(t).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b strings.Builder
		io.Copy(&b, resp.Body)
		return b.String()
	}
	const warn = "Koneksi ini tidak terenkripsi"
	if body := page(map[string]string{"X-Forwarded-Proto": "https"}); strings.Contains(body, warn) {
		t.Errorf("behind a TLS proxy the login page warns of plain HTTP")
	}
	if body := page(nil); !strings.Contains(body, warn) {
		t.Errorf("over plain HTTP to noc.example.go.id the login page does not warn")
	}
}

// TestWebUIAttackLargeInventoryPickers: with 3,000 links the outage and
// maintenance pages of an operator stay under 150 KB (their target
// pickers listed every link, site and service: about 250 KB); the
// target is then typed ("link:l0042") and the form still works.
func TestWebUIAttackLargeInventoryPickers(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test (runs the collector)")
	}
	t.Parallel()
	var b strings.Builder
	b.WriteString("sites:\n  - {id: dinkes, name: Dinas Kesehatan, kind: opd, timezone: WIT}\nlinks:\n")
	for i := range 3000 {
		fmt.Fprintf(&b, "  - {id: l%04d, site: dinkes, name: Link Puskesmas Pembantu Kampung nomor %04d, icmp: {target: 10.%d.%d.%d}}\n",
			i, i, i/65536, (i/256)%256, i%256)
	}
	tc := startInvCollector(t, b.String())
	tc.uiUser("ani", "operator", "kata-sandi-ani-123")
	c := uiSession(t, tc, "ani", "kata-sandi-ani-123")
	c.Timeout = 2 * time.Minute
	for _, p := range []string{"/ui/gangguan", "/ui/pemeliharaan"} {
		code, _, body := uiGet(t, c, tc.base+p)
		if code != http.StatusOK || len(body) > 150<<10 || !strings.Contains(body, `<input id="target" name="target" required`) {
			t.Errorf("%s with 3,000 links: %d, %d bytes", p, code, len(body))
		}
	}
	day := time.Now().AddDate(0, 0, 3).Format("2006-01-02")
	code, h, body := uiPost(t, c, tc.base+"/ui/pemeliharaan", url.Values{"target": {"link:l0042"}, "start": {day + "T08:00"},
		"end": {day + "T09:00"}, "repeat": {"none"}, "reason": {"ganti kabel"}})
	if code != http.StatusSeeOther || maintenanceCount(tc) != 1 {
		t.Errorf("a window for a typed target: %d to %q\n%.1500s", code, h.Get("Location"), body)
	}
}

// TestWebUIAttackReviewManyFollowUps: a review with 400 follow-up items
// (long ones) keeps its page under 150 KB: the items page as the list's
// do (?thal=), and the last page holds the rest.
func TestWebUIAttackReviewManyFollowUps(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test (runs the collector)")
	}
	t.Parallel()
	tc := startHome(t)
	tc.uiUser("adi", "admin", "kata-sandi-adi-123")
	tc.postJSON("/api/v1/reviews", `{"month":"2026-10","held_on":"2026-11-05","scope":"dinkes","participants":"Kabid TIK","findings":"banyak"}`, 201)
	long := strings.Repeat("Ganti perangkat jaringan yang sering putus di puskesmas ", 4)
	for i := range 400 {
		tc.postJSON("/api/v1/followups", fmt.Sprintf(`{"review_id":1,"item":"%s %d","owner":"Seksi Infrastruktur TIK","opened":"2026-11-05","due":"2026-11-30"}`, long, i), 201)
	}
	c := uiSession(t, tc, "adi", "kata-sandi-adi-123")
	code, _, body := uiGet(t, c, tc.base+"/ui/reviu/1")
	if code != http.StatusOK || len(body) > 150<<10 || !strings.Contains(body, `href="/ui/reviu/1?thal=2"`) {
		t.Fatalf("a review with 400 items: %d, %d bytes", code, len(body))
	}
	code, _, body = uiGet(t, c, tc.base+"/ui/reviu/1?thal=4")
	if n := strings.Count(body, `<tr id="tl-`); code != http.StatusOK || n != 100 || strings.Contains(body, `rel="next"`) {
		t.Errorf("the last page: %d, %d items", code, n)
	}
}

// TestWebUIAttackFollowUpLongNote: the follow-up form (multipart, as the
// browser sends it with its file field) with a note over 64 KiB is
// refused with 400, not saved cut at 64 KiB as if that were what was
// written; the item stays as it was.
func TestWebUIAttackFollowUpLongNote(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test (runs the collector)")
	}
	t.Parallel()
	tc := startHome(t)
	tc.uiUser("adi", "admin", "kata-sandi-adi-123")
	tc.postJSON("/api/v1/reviews", `{"month":"2026-10","held_on":"2026-11-05","scope":"dinkes","participants":"Kabid TIK","findings":"x"}`, 201)
	tc.postJSON("/api/v1/followups", `{"review_id":1,"item":"Ganti modem","owner":"TIK","opened":"2026-11-05","due":"2026-11-30"}`, 201)
	c := uiSession(t, tc, "adi", "kata-sandi-adi-123")
	note := strings.Repeat("catatan panjang ", 5000) // 80,000 bytes
	code, loc, body := reviuUpload(t, c, tc.base+"/ui/tindaklanjut/1", [][2]string{{"status", "proses"}, {"date", pemdaToday(0)}, {"note", note}}, "", nil)
	if code != http.StatusBadRequest || !strings.Contains(body, "note: longer than 65536 bytes") {
		t.Errorf("a note of 80,000 bytes: %d to %q\n%.1500s", code, loc, body)
	}
	var items []struct{ Status string }
	getJSON(t, tc, "/api/v1/followups", &items)
	if len(items) != 1 || items[0].Status != "belum" {
		t.Errorf("after the refused update the items are %+v", items)
	}
}

// TestWebUIAttackStoredXSS (a guard; nothing found): names in the
// inventory, incident, maintenance, review, follow-up and token texts
// holding markup are escaped on every page that shows them, and written
// evidence that is a javascript: or data: URL is never a link.
func TestWebUIAttackStoredXSS(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test (runs the collector)")
	}
	t.Parallel()
	const p = `"><img src=x onerror=alert(1)><script>alert(2)</script></title><svg onload=alert(3)>`
	q := fmt.Sprintf("%q", p)
	inv := fmt.Sprintf(`opds:
  - {id: dinkes, name: %s}
sites:
  - {id: dinkes, name: %s, kind: opd, timezone: WIT, lat: -0.87, lon: 131.25, district: %s}
  - {id: pkm, name: %s, kind: district, opd: dinkes, timezone: WIT}
links:
  - {id: dinkes-wan, name: %s, site: dinkes, type: fibre, isp: %s, icmp: {target: 127.0.0.2}}
devices:
  - {id: rtr, site: dinkes, vendor: %s, model: %s, serial: %s}
services:
  - {id: simpus, name: %s, site: dinkes, probe: {measurement: http, target: simpus}}
`, q, q, q, q, q, q, q, q, q, q)
	tc := startInvCollector(t, inv)
	tc.uiUser("adi", "admin", "kata-sandi-adi-123")
	js := strings.ReplaceAll(q, `\"`, `\u0022`)
	day := time.Now().AddDate(0, 0, -1).Format("2006-01-02")
	tc.postJSON("/api/v1/maintenance", fmt.Sprintf(`{"scope":"link","target":"dinkes-wan","start":"%sT08:00","end":"%sT09:00","reason":%s}`, day, day, js), 201)
	tc.postJSON("/api/v1/incidents", fmt.Sprintf(`{"scope":"link","target":"dinkes-wan","start":"%sT10:00","end":"%sT11:00","ticket":%s,"category":"fo_putus","source":"telepon","officer":%s,"impact":%s,"action":%s}`, day, day, js, js, js, js), 201)
	tc.postJSON("/api/v1/reviews", fmt.Sprintf(`{"month":"2026-10","held_on":"2026-11-05","scope":"dinkes","participants":%s,"findings":%s}`, js, js), 201)
	for _, ev := range []string{"javascript:alert(1)", "JavaScript:alert(1)", " javascript:alert(1)", "data:text/html,<script>alert(1)</script>", p} {
		b, _ := jsonMarshalString(ev)
		tc.postJSON("/api/v1/followups", fmt.Sprintf(`{"review_id":1,"item":%s,"owner":%s,"opened":"2026-11-05","due":"2026-11-30","status":"selesai","evidence":%s}`, js, js, b), 201)
	}
	tc.postJSON("/api/v1/tokens", fmt.Sprintf(`{"name":"xss","role":"viewer","description":%s}`, js), 201)
	c := uiSession(t, tc, "adi", "kata-sandi-adi-123")
	for _, pg := range []string{"/ui/", "/ui/gangguan", "/ui/gangguan/1", "/ui/pemeliharaan", "/ui/pemeliharaan/1", "/ui/pemeliharaan/1/hapus",
		"/ui/reviu?tampil=semua", "/ui/reviu/1", "/ui/tindaklanjut/1", "/ui/tindaklanjut/4", "/ui/tindaklanjut/5", "/ui/laporan", "/ui/inventaris",
		"/ui/inventaris?tab=links", "/ui/inventaris?tab=devices", "/ui/inventaris?tab=services", "/ui/agen", "/ui/audit",
		"/ui/agen?q=" + url.QueryEscape(p), "/ui/inventaris?q=" + url.QueryEscape(p), "/ui/gangguan?target=" + url.QueryEscape(p),
		"/ui/laporan?opd=" + url.QueryEscape(p), "/ui/?opd=" + url.QueryEscape(p), "/ui/inventaris/link?site=" + url.QueryEscape(p) + "&target=" + url.QueryEscape(p)} {
		code, _, body := uiGet(t, c, tc.base+pg)
		if code != http.StatusOK {
			t.Errorf("%s: %d", pg, code)
		}
		for _, raw := range []string{"<img src=x", "<script>alert", "<svg onload", `href="javascript:`, `href="JavaScript:`, `href=" javascript:`, `href="data:text`} {
			if strings.Contains(body, raw) {
				i := strings.Index(body, raw)
				t.Errorf("%s shows %q unescaped: …%s…", pg, raw, body[max(0, i-80):min(len(body), i+80)])
			}
		}
		if strings.HasPrefix(pg, "/ui/reviu/1") && (!strings.Contains(body, "&lt;img src=x") || !strings.Contains(body, "javascript:alert(1)")) {
			t.Errorf("%s does not show the texts escaped", pg)
		}
	}
}

func jsonMarshalString(s string) (string, error) {
	b, err := json.Marshal(s)
	return string(b), err
}
