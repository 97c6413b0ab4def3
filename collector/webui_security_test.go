package collector

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/pantau-noc/pantau/collector/internal/webui"
)

// wantCSP is the pages' Content-Security-Policy, spelled out: a change
// to webui.CSP must change this test too.
const wantCSP = "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// uiDo sends a request with the client's session and extra headers.
func uiDo(t *testing.T, c *http.Client, method, u, contentType, body string, hdr map[string]string) (int, string, string) {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), string(b)
}

// maintenanceCount is how many windows the API lists.
func maintenanceCount(tc *testCollector) int {
	tc.t.Helper()
	code, body := tc.get("/api/v1/maintenance")
	var list []json.RawMessage
	if err := json.Unmarshal([]byte(body), &list); code != 200 || err != nil {
		var env struct{ Data []json.RawMessage }
		if err := json.Unmarshal([]byte(body), &env); code != 200 || err != nil {
			tc.t.Fatalf("maintenance list: %d %s", code, body)
		}
		list = env.Data
	}
	return len(list)
}

// TestIntegrationWebCrossOrigin: a state-changing request with the
// victim's session from another origin (Origin of another site, or
// Sec-Fetch-Site cross-site or same-site) is 403 on UI and API paths and
// changes nothing; the same request from the collector's own origin, or
// without those headers (curl), goes through.
func TestIntegrationWebCrossOrigin(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test (runs the collector)")
	}
	t.Parallel()
	tc := startHome(t)
	tc.uiUser("adi", "admin", "kata-sandi-adi-123")
	c := browserClient(t)
	uiLogin(t, c, tc.base, "adi", "kata-sandi-adi-123")
	window := `{"scope":"link","target":"dinkes-wan","start":"2026-10-20T08:00","end":"2026-10-20T09:00","reason":"csrf"}`
	form := "scope=link&target=dinkes-wan&start=2026-10-20T08%3A00&end=2026-10-20T09%3A00&reason=csrf"
	type req struct{ method, path, ctype, body string }
	reqs := []req{
		{"POST", "/ui/keluar", "", ""},
		{"POST", "/ui/pemeliharaan", "application/x-www-form-urlencoded", form},
		{"POST", "/ui/notifikasi/uji", "application/x-www-form-urlencoded", "name=x"},
		{"POST", "/ui/sandi", "application/x-www-form-urlencoded", "current=kata-sandi-adi-123&new=sandi-baru-penyerang&repeat=sandi-baru-penyerang"},
		{"POST", "/api/v1/maintenance", "application/json", window},
		{"POST", "/api/v1/maintenance", "text/plain", window},
		{"DELETE", "/api/v1/maintenance/1", "", ""},
	}
	for _, hdr := range []map[string]string{
		{"Origin": "http://evil.example"},
		{"Origin": "null"},
		{"Sec-Fetch-Site": "cross-site"},
		{"Sec-Fetch-Site": "same-site"},
		{"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"},
	} {
		for _, r := range reqs {
			code, _, body := uiDo(t, c, r.method, tc.base+r.path, r.ctype, r.body, hdr)
			if code != http.StatusForbidden || !strings.Contains(body, "cross-origin request refused") {
				t.Errorf("%s %s with %v: %d %s", r.method, r.path, hdr, code, body)
			}
		}
	}
	if n := maintenanceCount(tc); n != 0 {
		t.Errorf("%d maintenance windows after the refused requests", n)
	}
	if code, _, _ := uiGet(t, c, tc.base+"/ui/"); code != 200 {
		t.Fatalf("the session ended after the refused requests: %d", code)
	}
	// A GET from another site is no change: it is answered.
	if code, _, _ := uiDo(t, c, "GET", tc.base+"/ui/", "", "", map[string]string{"Sec-Fetch-Site": "cross-site"}); code != 200 {
		t.Errorf("a cross-site GET of /ui/: %d", code)
	}
	// The collector's own origin and a client without those headers pass.
	for _, hdr := range []map[string]string{{"Origin": tc.base, "Sec-Fetch-Site": "same-origin"}, {"Sec-Fetch-Site": "none"}, nil} {
		if code, _, body := uiDo(t, c, "POST", tc.base+"/api/v1/maintenance", "application/json", window, hdr); code != http.StatusCreated {
			t.Errorf("same-origin POST with %v: %d %s", hdr, code, body)
		}
	}
	if n := maintenanceCount(tc); n != 3 {
		t.Errorf("%d maintenance windows, want 3", n)
	}
	code, loc, _ := uiDo(t, c, "POST", tc.base+"/ui/keluar", "", "", map[string]string{"Origin": tc.base, "Sec-Fetch-Site": "same-origin"})
	if code != http.StatusSeeOther || loc != "/ui/masuk?ok=logout" {
		t.Errorf("same-origin logout: %d %q", code, loc)
	}
}

// TestBrowserCrossOrigin: a page of another origin (another port of the
// same host: the same site, so the SameSite=Strict cookie is sent)
// submits forms to the collector with the victim's session, one a
// logout, one a maintenance window as JSON in a text/plain form. The
// collector answers 403; no window is added and the session lives on.
func TestBrowserCrossOrigin(t *testing.T) {
	if testing.Short() {
		t.Skip("drives headless chromium; skipped with -short")
	}
	t.Parallel()
	tc := startHome(t)
	tc.uiUser("adi", "admin", "kata-sandi-adi-123")
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		var f string
		switch r.URL.Path {
		case "/keluar":
			f = fmt.Sprintf(`<form method="post" action="%s/ui/keluar"></form>`, tc.base)
		case "/pemeliharaan":
			f = fmt.Sprintf(`<form method="post" action="%s/ui/pemeliharaan"><input name="scope" value="all"><input name="start" value="2026-10-20T08:00"><input name="end" value="2026-10-20T09:00"><input name="reason" value="csrf"></form>`, tc.base)
		case "/api":
			f = fmt.Sprintf(`<form method="post" enctype="text/plain" action="%s/api/v1/maintenance"><input name='{"scope":"all","start":"2026-10-20T08:00","end":"2026-10-20T09:00","reason":"csrf","x":"' value='"}'></form>`, tc.base)
		}
		fmt.Fprintf(w, `<!DOCTYPE html><html><body><p>Hadiah!</p>%s<script>document.forms[0].submit()</script></body></html>`, f)
	}))
	defer evil.Close()
	b := newBrowser(t, tc.base, 3*time.Minute)
	b.login("adi", "kata-sandi-adi-123")
	for _, page := range []string{"/keluar", "/pemeliharaan", "/api"} {
		b.do("open the attacker's page "+page, chromedp.Navigate(evil.URL+page))
		var href, text string
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			href = bget(b, "href", chromedp.Evaluate[string](`location.href`))
			if strings.HasPrefix(href, tc.base) {
				text = bget(b, "body", chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
				if text != "" {
					break
				}
			}
			time.Sleep(100 * time.Millisecond)
		}
		if !strings.HasPrefix(href, tc.base) || !strings.Contains(text, "cross-origin request refused") {
			t.Errorf("the attacker's %s: the browser is at %s showing %q; want the collector's 403", page, href, text)
		}
	}
	if n := maintenanceCount(tc); n != 0 {
		t.Errorf("%d maintenance windows after the attacks", n)
	}
	b.open("/ui/")
	if loc := b.location(); loc != "/ui/" || b.count("header nav") != 1 {
		t.Errorf("after the attacks the session is gone: at %s", loc)
	}
}

// TestIntegrationWebSecurity: the security headers of every page (the
// CSP exactly), the session cookie's flags, the lockout after 5 wrong
// passwords through the form and its end by `user unlock`, a password
// change ending the other sessions, and `next` never leaving the
// collector.
func TestIntegrationWebSecurity(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test (runs the collector)")
	}
	t.Parallel()
	if webui.CSP != wantCSP {
		t.Errorf("webui.CSP = %q", webui.CSP)
	}
	tc := startHome(t)
	tc.uiUser("adi", "admin", "kata-sandi-adi-123")
	tc.uiUser("vina", "viewer", "kata-sandi-vina-123", "dinkes")
	tc.uiUser("budi", "operator", "kata-sandi-budi-123", "dinkes")
	c := browserClient(t)

	// Headers, also on the login, an error and a missing page.
	checkHeaders := func(who string, c *http.Client, path string) {
		t.Helper()
		code, h, _ := uiGet(t, c, tc.base+path)
		if code == http.StatusSeeOther {
			t.Errorf("%s %s: redirected to %s", who, path, h.Get("Location"))
			return
		}
		if got := h.Get("Content-Security-Policy"); got != wantCSP {
			t.Errorf("%s %s (%d): CSP %q", who, path, code, got)
		}
		if h.Get("X-Frame-Options") != "DENY" || h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Cache-Control") != "no-store" {
			t.Errorf("%s %s (%d): X-Frame-Options %q, X-Content-Type-Options %q, Cache-Control %q", who, path, code,
				h.Get("X-Frame-Options"), h.Get("X-Content-Type-Options"), h.Get("Cache-Control"))
		}
	}
	checkHeaders("nobody", c, "/ui/masuk")
	r := uiLogin(t, c, tc.base, "adi", "kata-sandi-adi-123")
	sc := r.Header.Get("Set-Cookie")
	for _, want := range []string{"pantau_session=pses_", "; Path=/", "; HttpOnly", "; Secure", "; SameSite=Strict"} {
		if !strings.Contains(sc, want) {
			t.Errorf("Set-Cookie %q lacks %q", sc, want)
		}
	}
	if strings.Contains(sc, "Domain=") || strings.Contains(sc, "Expires=") || strings.Contains(sc, "Max-Age=") {
		t.Errorf("the session cookie %q outlives the browser or reaches other hosts", sc)
	}
	pages := []string{"/ui/", "/ui/gangguan", "/ui/pemeliharaan", "/ui/reviu", "/ui/laporan", "/ui/inventaris", "/ui/agen",
		"/ui/notifikasi", "/ui/audit", "/ui/sandi", "/ui/tidak-ada", "/ui/audit?since=kemarin"}
	for _, p := range pages {
		checkHeaders("adi", c, p)
	}
	v := browserClient(t)
	uiLogin(t, v, tc.base, "vina", "kata-sandi-vina-123")
	for _, p := range pages {
		checkHeaders("vina", v, p) // the admin pages answer 403, with the headers
	}

	// Lockout: 5 wrong passwords, then the right one is refused too.
	l := browserClient(t)
	for i := range 5 {
		if r := uiLogin(t, l, tc.base, "budi", fmt.Sprintf("salah-sandi-%d-xyz", i)); r.StatusCode != http.StatusUnauthorized {
			t.Fatalf("wrong password %d: %d", i, r.StatusCode)
		}
	}
	code, _, body := uiDo(t, l, "POST", tc.base+"/ui/masuk", "application/x-www-form-urlencoded",
		url.Values{"name": {"budi"}, "password": {"kata-sandi-budi-123"}, "next": {"/ui/"}}.Encode(), nil)
	if code != http.StatusUnauthorized || !strings.Contains(body, "Akun ini dikunci karena kata sandi salah berulang kali, sampai ") {
		t.Fatalf("the right password after 5 wrong ones: %d\n%s", code, body)
	}
	if codeCLI, _, errOut := cli(t, "user", "unlock", "--data-dir", tc.cfg.DataDir, "--name", "budi"); codeCLI != 0 {
		t.Fatalf("user unlock: %d %s", codeCLI, errOut)
	}
	if r := uiLogin(t, l, tc.base, "budi", "kata-sandi-budi-123"); r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/ui/" {
		t.Fatalf("login after unlock: %d %q", r.StatusCode, r.Header.Get("Location"))
	}

	// A password change through the form ends budi's other sessions.
	other := browserClient(t)
	uiLogin(t, other, tc.base, "budi", "kata-sandi-budi-123")
	if code, _, _ := uiGet(t, other, tc.base+"/ui/"); code != 200 {
		t.Fatalf("second session: %d", code)
	}
	code, loc, body := homePost(t, l, tc.base+"/ui/sandi", url.Values{"current": {"kata-sandi-budi-123"}, "new": {"sandi-baru-budi-456"}, "repeat": {"sandi-baru-budi-456"}})
	if code != http.StatusSeeOther || loc != "/ui/sandi?ok=password" {
		t.Fatalf("password change: %d %q\n%s", code, loc, body)
	}
	if code, h, _ := uiGet(t, other, tc.base+"/ui/"); code != http.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), "/ui/masuk") {
		t.Errorf("the other session survived the password change: %d %q", code, h.Get("Location"))
	}
	if code, _, _ := uiGet(t, l, tc.base+"/ui/"); code != 200 {
		t.Errorf("the changing session ended: %d", code)
	}
	if r := uiLogin(t, browserClient(t), tc.base, "budi", "kata-sandi-budi-123"); r.StatusCode != http.StatusUnauthorized {
		t.Errorf("the old password still logs in: %d", r.StatusCode)
	}
	if r := uiLogin(t, browserClient(t), tc.base, "budi", "sandi-baru-budi-456"); r.StatusCode != http.StatusSeeOther {
		t.Errorf("the new password does not log in: %d", r.StatusCode)
	}

	// next never leaves the collector.
	for _, next := range []string{"//evil.example", "//evil.example/ui/", `/\evil.example`, `/ui/\evil.example`, "https://evil.example/ui/",
		"/ui//evil.example", "http:/evil.example", "javascript:alert(1)", "/ui/\r\nSet-Cookie: x=1", " /ui/", "/ui/masuk"} {
		n := browserClient(t)
		code, loc, _ := uiDo(t, n, "POST", tc.base+"/ui/masuk", "application/x-www-form-urlencoded",
			url.Values{"name": {"adi"}, "password": {"kata-sandi-adi-123"}, "next": {next}}.Encode(), nil)
		if code != http.StatusSeeOther || loc != "/ui/" {
			t.Errorf("login with next=%q: %d to %q", next, code, loc)
		}
		// Logged in, the login page sends on to next as well.
		if code, h, _ := uiGet(t, n, tc.base+"/ui/masuk?next="+url.QueryEscape(next)); code != http.StatusSeeOther || h.Get("Location") != "/ui/" {
			t.Errorf("login page with next=%q: %d to %q", next, code, h.Get("Location"))
		}
		if next == "/ui/masuk" {
			continue // the language switch goes back to the login page
		}
		if code, h, _ := uiGet(t, n, tc.base+"/ui/bahasa?lang=en&next="+url.QueryEscape(next)); code != http.StatusSeeOther || h.Get("Location") != "/ui/" {
			t.Errorf("language switch with next=%q: %d to %q", next, code, h.Get("Location"))
		}
	}
	if code, loc, _ := uiDo(t, browserClient(t), "POST", tc.base+"/ui/masuk", "application/x-www-form-urlencoded",
		url.Values{"name": {"adi"}, "password": {"kata-sandi-adi-123"}, "next": {"/ui/audit?since=2026-12-01"}}.Encode(), nil); code != http.StatusSeeOther || loc != "/ui/audit?since=2026-12-01" {
		t.Errorf("a next within the UI: %d to %q", code, loc)
	}
}
