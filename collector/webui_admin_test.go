package collector

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/internal/testproc"
)

// homePost posts a form with the client's session and returns the status,
// the Location and the body.
func homePost(t *testing.T, c *http.Client, u string, form url.Values) (int, string, string) {
	t.Helper()
	resp, err := c.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), string(b)
}

// TestIntegrationWebNotifikasi: an unscoped admin sees the notifiers and
// the outbox, sends a test in English through the form and sees it
// queued, then sent; bad filters and unknown notifiers are shown on the
// page; a scoped admin and an operator are refused.
func TestIntegrationWebNotifikasi(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test (runs the collector)")
	}
	t.Parallel()
	var got atomic.Int32
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		got.Add(1)
	}))
	defer hook.Close()
	tc := startFromFile(t, filepath.Join(t.TempDir(), "collector.yml"), func(dataDir string) string {
		return fmt.Sprintf("data_dir: %s\nnotifiers:\n  - {name: noc-hook, type: webhook, url: %q}\n", dataDir, hook.URL+"/hook")
	})
	tc.uiUser("adi", "admin", "kata-sandi-adi-123")
	tc.uiUser("ops", "operator", "kata-sandi-ops-123")
	tc.uiUser("adi-dinkes", "admin", "kata-sandi-adk-123", "dinkes")
	c := browserClient(t)
	uiLogin(t, c, tc.base, "adi", "kata-sandi-adi-123")

	code, _, body := uiGet(t, c, tc.base+"/ui/notifikasi")
	for _, want := range []string{`<th scope="row">noc-hook</th>`, `<td>webhook</td>`, `<label for="lang-0" class="sr">`, ">Kirim uji</button>", `<option value="noc-hook">noc-hook</option>`} {
		if code != 200 || !strings.Contains(body, want) {
			t.Fatalf("notifikasi: %d, lacks %q\n%s", code, want, body)
		}
	}
	if strings.Contains(body, hook.URL) {
		t.Errorf("the page shows the notifier's URL")
	}
	code, loc, body := homePost(t, c, tc.base+"/ui/notifikasi/uji", url.Values{"name": {"noc-hook"}, "lang": {"en"}})
	m := regexp.MustCompile(`^/ui/notifikasi\?uji=(\d+)&ok=notiftest$`).FindStringSubmatch(loc)
	if code != http.StatusSeeOther || m == nil {
		t.Fatalf("test send: %d to %q\n%s", code, loc, body)
	}
	code, _, body = uiGet(t, c, tc.base+loc)
	if code != 200 || !strings.Contains(body, "Pesan uji sudah masuk antrean.") || !strings.Contains(body, "Pesan uji ke noc-hook masuk antrean sebagai entri #"+m[1]) {
		t.Fatalf("after the test: %d\n%s", code, body)
	}
	testproc.WaitFor(t, 30*time.Second, "the webhook to get the test", func() bool { return got.Load() >= 1 })
	testproc.WaitFor(t, 10*time.Second, "the outbox to show it sent", func() bool {
		_, _, body = uiGet(t, c, tc.base+"/ui/notifikasi?state=sent&notifier=noc-hook")
		return strings.Contains(body, `<td class="n">`+m[1]+`</td><td>noc-hook</td>`) && strings.Contains(body, "<td>terkirim</td>")
	})
	if !strings.Contains(body, `<option value="sent" selected>terkirim</option>`) {
		t.Errorf("the filter is not kept:\n%s", body)
	}
	// An unknown notifier: the API's 404 on the page.
	code, _, body = homePost(t, c, tc.base+"/ui/notifikasi/uji", url.Values{"name": {"nope"}, "lang": {"id"}})
	if code != http.StatusNotFound || !strings.Contains(body, "Pesan uji tidak dapat dikirim: ") || !strings.Contains(body, "noc-hook") {
		t.Fatalf("unknown notifier: %d\n%s", code, body)
	}
	code, _, body = uiGet(t, c, tc.base+"/ui/notifikasi?state=lost")
	if code != http.StatusBadRequest || !strings.Contains(body, "Saringan tidak dapat dipakai: state") {
		t.Fatalf("bad state: %d\n%s", code, body)
	}
	// Paging: 55 more tests make two pages of 50.
	for range 55 {
		if code, _, body := homePost(t, c, tc.base+"/ui/notifikasi/uji", url.Values{"name": {"noc-hook"}}); code != http.StatusSeeOther {
			t.Fatalf("test send: %d\n%s", code, body)
		}
	}
	_, _, body = uiGet(t, c, tc.base+"/ui/notifikasi")
	if !strings.Contains(body, "Antrean, entri 1–50") || !strings.Contains(body, `<a href="/ui/notifikasi?page=2" rel="next">`) {
		t.Fatalf("first page:\n%s", body)
	}
	_, _, body = uiGet(t, c, tc.base+"/ui/notifikasi?page=2")
	if !strings.Contains(body, "Antrean, entri 51–56") || !strings.Contains(body, `<a href="/ui/notifikasi" rel="prev">`) || strings.Contains(body, `rel="next"`) {
		t.Fatalf("second page:\n%s", body)
	}

	for _, who := range [][2]string{{"ops", "kata-sandi-ops-123"}, {"adi-dinkes", "kata-sandi-adk-123"}} {
		oc := browserClient(t)
		uiLogin(t, oc, tc.base, who[0], who[1])
		code, _, body := uiGet(t, oc, tc.base+"/ui/notifikasi")
		if code != http.StatusForbidden || strings.Contains(body, "noc-hook") {
			t.Errorf("%s on notifikasi: %d\n%s", who[0], code, body)
		}
		if strings.Contains(body, `href="/ui/notifikasi"`) || strings.Contains(body, `href="/ui/audit"`) {
			t.Errorf("%s's menu offers the admin pages", who[0])
		}
		code, _, body = homePost(t, oc, tc.base+"/ui/notifikasi/uji", url.Values{"name": {"noc-hook"}})
		if code != http.StatusForbidden {
			t.Errorf("%s sends a test: %d\n%s", who[0], code, body)
		}
	}
}

// TestIntegrationWebAudit: the audit page lists the changes newest
// first, 100 a page, filters by date and shows a bad filter's error;
// only an unscoped admin reaches it.
func TestIntegrationWebAudit(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test (runs the collector)")
	}
	t.Parallel()
	tc := startHome(t)
	tc.uiUser("adi", "admin", "kata-sandi-adi-123")
	tc.uiUser("vina", "viewer", "kata-sandi-vina-123")
	tc.uiUser("adi-dinkes", "admin", "kata-sandi-adk-123", "dinkes")
	// Long reasons with quotes: summaries of 4 KiB that escaping makes
	// longer still.
	long := strings.Repeat(`\"kabel\" & <tiang> `, 200)
	for i := range 104 {
		tc.postJSON("/api/v1/maintenance", fmt.Sprintf(`{"scope":"link","target":"dinkes-wan","start":"2026-10-%02dT08:00","end":"2026-10-%02dT09:00","reason":"ganti kabel nomor %d %s"}`, i%28+1, i%28+1, i, long), 201)
	}
	c := browserClient(t)
	uiLogin(t, c, tc.base, "adi", "kata-sandi-adi-123")
	code, _, body := uiGet(t, c, tc.base+"/ui/audit")
	for _, want := range []string{"Baris 1–100", "<td>POST /api/v1/maintenance</td>", `<th scope="col">Pelaku</th>`, `rel="next"`, "ganti kabel nomor 103 \\&#34;kabel", `<label for="since">`} {
		if code != 200 || !strings.Contains(body, want) {
			t.Fatalf("audit: %d lacks %q\n%.3000s", code, want, body)
		}
	}
	if strings.Contains(body, "ganti kabel nomor 3 \\&#34;kabel") {
		t.Errorf("the first page holds the oldest rows")
	}
	if n := len(body); n > 150<<10 || strings.Contains(body, "??") {
		t.Errorf("the audit page has %d bytes, or a text is missing", n)
	}
	if !strings.Contains(body, "(dipotong; lengkapnya di GET /api/v1/audit") {
		t.Errorf("a clipped summary is not marked")
	}
	today := time.Now().UTC().Format("2006-01-02")
	code, _, body = uiGet(t, c, tc.base+"/ui/audit?page=2&since="+today)
	if code != 200 || !strings.Contains(body, "ganti kabel nomor 3 \\&#34;kabel") || !strings.Contains(body, `value="`+today+`"`) ||
		!strings.Contains(body, `<a href="/ui/audit?since=`+today+`" rel="prev">`) {
		t.Fatalf("audit page 2: %d\n%s", code, body)
	}
	_, _, body = uiGet(t, c, tc.base+"/ui/audit?until=2000-01-01")
	if strings.Contains(body, "POST /api/v1/maintenance") || !strings.Contains(body, "Tidak ada.") {
		t.Errorf("until 2000 still lists rows:\n%s", body)
	}
	code, _, body = uiGet(t, c, tc.base+"/ui/audit?since=kemarin")
	if code != http.StatusBadRequest || !strings.Contains(body, "Saringan tidak dapat dipakai: since") || !strings.Contains(body, `value="kemarin"`) {
		t.Fatalf("bad since: %d\n%s", code, body)
	}
	for _, who := range [][2]string{{"vina", "kata-sandi-vina-123"}, {"adi-dinkes", "kata-sandi-adk-123"}} {
		oc := browserClient(t)
		uiLogin(t, oc, tc.base, who[0], who[1])
		code, _, body := uiGet(t, oc, tc.base+"/ui/audit")
		if code != http.StatusForbidden || strings.Contains(body, "ganti kabel") {
			t.Errorf("%s on audit: %d\n%s", who[0], code, body)
		}
	}
}
