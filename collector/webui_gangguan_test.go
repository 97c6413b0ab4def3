package collector

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/internal/testproc"
)

// TestWebUIGangguan drives the outages page over HTTP: a firing alert
// acknowledged with its button, incident records added and changed
// through the forms (the API's refusals shown with the form kept, another
// OPD's link refused), the record's history for an admin, the period
// filter, and a viewer who sees no forms and whose POSTs are refused.
func TestWebUIGangguan(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: starts a collector")
	}
	hook := newHookSink(t)
	tc := startRecCollector(t, fmt.Sprintf("notifiers:\n  - {name: noc, type: webhook, url: %q}\nalerting: {evaluation_interval: 10m}\n", hook.srv.URL))
	wib := wibZone(t)
	local := func(tm time.Time) string { return tm.In(wib).Format("2006-01-02T15:04") }
	page := tc.base + "/ui/gangguan"

	// a past outage of dinkes-wan, and the link down again now: LinkDown fires
	first := writeOutage(t, tc, time.Now().Truncate(time.Minute).Add(-3*time.Minute))
	tok := tc.token("agent-2", "dinkes")
	now := time.Now().Add(-40 * time.Second).Truncate(10 * time.Second)
	for _, at := range []time.Time{now.Add(time.Second), now.Add(31 * time.Second)} {
		if code, msg := tc.write(tok, fmt.Sprintf("icmp,target=127.0.0.2 packets_sent=5u,packets_received=0u,loss_ratio=1,up=0i %d\n", at.Unix())); code != http.StatusNoContent {
			t.Fatalf("write: %d %s", code, msg)
		}
	}
	testproc.WaitFor(t, 30*time.Second, "LinkDown firing", func() bool {
		_, js := tc.get("/api/v1/alerts")
		return strings.Contains(js, `"state":"firing"`)
	})

	ani := uiSession(t, tc, "ani", "kata-sandi-ani-123")
	code, _, body := uiGet(t, ani, page)
	if code != 200 || !strings.Contains(body, `id="inc-form"`) || !strings.Contains(body, "LinkDown") {
		t.Fatalf("operator's page: %d\n%s", code, body)
	}
	for _, want := range []string{`<optgroup label="Fisik">`, `<option value="fo_putus">FO putus</option>`, `<optgroup label="Aplikasi nasional">`,
		`<option value="whatsapp">WhatsApp</option>`, `<option value="power">`, `value="link:dinkes-wan"`} {
		if !strings.Contains(body, want) {
			t.Errorf("the form lacks %s", want)
		}
	}
	if strings.Contains(body, `value="link:dishub-wan"`) {
		t.Errorf("ani may pick dishub's link")
	}

	// acknowledge the alert with its button
	m := regexp.MustCompile(`action="/ui/gangguan/akui/([0-9a-f]+)"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no Akui button:\n%s", section(body, "peringatan"))
	}
	code, h, _ := uiPost(t, ani, page+"/akui/"+m[1], nil)
	if code != http.StatusSeeOther || h.Get("Location") != "/ui/gangguan?ok=alert-acked" {
		t.Fatalf("ack: %d %q", code, h.Get("Location"))
	}
	_, _, body = uiGet(t, ani, page+"?ok=alert-acked")
	if al := section(body, "peringatan"); !strings.Contains(body, "Peringatan sudah diakui.") || !strings.Contains(al, "<td>ani</td>") ||
		strings.Contains(al, "/ui/gangguan/akui/") {
		t.Errorf("after the ack:\n%s", al)
	}
	if code, _, body := uiPost(t, ani, page+"/akui/00000000", nil); code != http.StatusNotFound || !strings.Contains(body, "Peringatan tidak dapat diakui") {
		t.Errorf("ack of an unknown alert: %d\n%s", code, body)
	}

	// an incident record: refusals keep the form
	form := url.Values{"target": {"link:dinkes-wan"}, "start": {local(first)}, "ticket": {"TIK/2026/12/007"}, "source": {"whatsapp"},
		"impact": {"Puskesmas tidak dapat mengirim data"}, "action": {"Sambung ulang FO"}, "officer": {"Yohanis"}}
	code, _, body = uiPost(t, ani, page, form)
	if code != http.StatusBadRequest || !strings.Contains(body, "category is required") || !strings.Contains(body, `value="TIK/2026/12/007"`) ||
		!strings.Contains(body, ">Puskesmas tidak dapat mengirim data</textarea>") || !strings.Contains(body, `<option value="link:dinkes-wan" selected>`) {
		t.Fatalf("no category: %d\n%s", code, body)
	}
	form.Set("category", "fo_putus")
	form.Set("target", "link:dishub-wan")
	if code, _, body := uiPost(t, ani, page, form); code != http.StatusForbidden || !strings.Contains(body, "dishub") {
		t.Fatalf("dishub's link by dinkes's operator: %d\n%s", code, body)
	}
	form.Set("target", "link:dinkes-wan")
	code, h, body = uiPost(t, ani, page, form)
	if code != http.StatusSeeOther || h.Get("Location") != "/ui/gangguan/1?ok=inc-added" {
		t.Fatalf("add: %d %q\n%s", code, h.Get("Location"), body)
	}
	if code, _, body := uiPost(t, ani, page, form); code != http.StatusConflict || !strings.Contains(body, "already has incident record 1") {
		t.Fatalf("the same outage again: %d\n%s", code, body)
	}
	code, _, body = uiGet(t, ani, page+"/1?ok=inc-added")
	if code != 200 || !strings.Contains(body, "Catatan insiden sudah disimpan.") || !strings.Contains(body, "TIK/2026/12/007") ||
		!strings.Contains(body, "FO putus") || !strings.Contains(body, `id="inc-edit"`) || !strings.Contains(body, "log audit") {
		t.Fatalf("record page: %d\n%s", code, body)
	}

	// edit: an override without its reason is refused, with the form kept
	edit := url.Values{"ticket": {"TIK/2026/12/007"}, "category": {"listrik"}, "source": {"whatsapp"}, "officer": {"Yohanis"},
		"impact": {"Puskesmas tidak dapat mengirim data"}, "action": {"Genset dinyalakan"}, "cause_override": {"power"}}
	code, _, body = uiPost(t, ani, page+"/1", edit)
	if code != http.StatusBadRequest || !strings.Contains(body, "override_reason is required") || !strings.Contains(body, ">Genset dinyalakan</textarea>") ||
		!strings.Contains(body, `<option value="power" selected>`) {
		t.Fatalf("override without reason: %d\n%s", code, body)
	}
	edit.Set("override_reason", "PLN padam, bukan ISP")
	if code, h, body := uiPost(t, ani, page+"/1", edit); code != http.StatusSeeOther || h.Get("Location") != "/ui/gangguan/1?ok=inc-updated" {
		t.Fatalf("edit: %d %q\n%s", code, h.Get("Location"), body)
	}
	_, js := tc.get("/api/v1/incidents")
	var recs []struct {
		ID                                                              int64
		Target, Category, Action, CauseOverride, OverrideReason, Ticket string
		Start                                                           time.Time
	}
	if err := json.Unmarshal([]byte(js), &recs); err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 || recs[0].Category != "listrik" || recs[0].Action != "Genset dinyalakan" || recs[0].Target != "dinkes-wan" ||
		!recs[0].Start.Equal(first) {
		t.Fatalf("stored records: %s", js)
	}

	// the admin sees the record's history from the audit log
	adi := uiSession(t, tc, "adi", "kata-sandi-adi-123")
	_, _, body = uiGet(t, adi, page+"/1")
	if hist := section(body, "riwayat"); strings.Count(hist, "<tr><td>") != 2 || !strings.Contains(hist, "ani") || !strings.Contains(hist, "PLN padam") {
		t.Errorf("history:\n%s", hist)
	}

	// the list in the period; the filter
	_, _, body = uiGet(t, ani, page)
	if recsec := section(body, "catatan"); !strings.Contains(recsec, `href="/ui/gangguan/1"`) || !strings.Contains(recsec, "Listrik") {
		t.Errorf("records section:\n%s", recsec)
	}
	// the detected outages: the recorded one links to its record, the
	// ongoing one offers a form filled with it
	out := section(body, "terdeteksi")
	if strings.Count(out, `href="/ui/gangguan/1"`) != 1 || strings.Count(out, "<td>Tautan") != 2 || !strings.Contains(out, "ISP") || !strings.Contains(out, "masih berlangsung") ||
		strings.Contains(out, "target=site:dinkes") {
		t.Errorf("detected outages:\n%s", out)
	}
	catat := regexp.MustCompile(`href="(/ui/gangguan\?[^"]*target=link(?::|%3a)dinkes-wan[^"]*)#catat"`).FindStringSubmatch(out)
	if catat == nil {
		t.Fatalf("no Catat link for the ongoing outage:\n%s", out)
	}
	_, _, body = uiGet(t, ani, tc.base+strings.ReplaceAll(catat[1], "&amp;", "&"))
	if f := section(body, "catat"); !strings.Contains(f, `<option value="link:dinkes-wan" selected>`) || !strings.Contains(f, `value="`+local(now)+`"`) {
		t.Errorf("the form from Catat (want start %s):\n%s", local(now), f)
	}
	_, _, body = uiGet(t, ani, page+"?from=2020-01-01&to=2020-01-31")
	if recsec := section(body, "catatan"); !strings.Contains(recsec, "Belum ada catatan insiden") || !strings.Contains(body, `value="2020-01-01"`) {
		t.Errorf("records of January 2020:\n%s", recsec)
	}
	if _, _, body := uiGet(t, ani, page+"?from=kemarin"); !strings.Contains(body, "Periode tidak dapat dibaca") {
		t.Errorf("a bad period is not named:\n%s", body)
	}

	// a viewer: no forms, no buttons; POSTs refused
	vina := uiSession(t, tc, "vina", "kata-sandi-vina-123")
	code, _, body = uiGet(t, vina, page)
	if code != 200 || strings.Contains(body, `id="inc-form"`) || strings.Contains(body, "/ui/gangguan/akui/") || !strings.Contains(body, "TIK/2026/12/007") {
		t.Fatalf("viewer's page: %d\n%s", code, body)
	}
	if _, _, body := uiGet(t, vina, page+"/1"); strings.Contains(body, `id="inc-edit"`) || !strings.Contains(body, "TIK/2026/12/007") {
		t.Errorf("viewer's record page:\n%s", body)
	}
	form.Set("start", local(first.Add(-time.Hour)))
	for u, f := range map[string]url.Values{page: form, page + "/1": edit, page + "/akui/" + m[1]: nil} {
		if code, _, body := uiPost(t, vina, u, f); code != http.StatusForbidden || !strings.Contains(body, "tidak berhak") {
			t.Errorf("viewer's POST %s: %d\n%s", u, code, body)
		}
	}
	if _, js := tc.get("/api/v1/incidents"); strings.Count(js, `"id":`) != 1 {
		t.Errorf("the viewer changed records: %s", js)
	}
	if code, _, _ := uiGet(t, ani, page+"/99"); code != http.StatusNotFound {
		t.Errorf("unknown record: %d", code)
	}
	noMissingTexts(t, tc, adi, page, page+"/1", tc.base+"/ui/pemeliharaan")
}

// noMissingTexts fetches pages in both languages and fails on a text
// key without a translation (shown as ??key??).
func noMissingTexts(t *testing.T, tc *testCollector, c *http.Client, pages ...string) {
	t.Helper()
	u, _ := url.Parse(tc.base)
	for _, lang := range []string{"id", "en"} {
		c.Jar.SetCookies(u, []*http.Cookie{{Name: "pantau_lang", Value: lang, Path: "/"}})
		for _, p := range pages {
			code, _, body := uiGet(t, c, p)
			if code != 200 || strings.Contains(body, "??") {
				t.Errorf("%s in %s: %d\n%s", p, lang, code, body)
			}
		}
	}
	c.Jar.SetCookies(u, []*http.Cookie{{Name: "pantau_lang", Value: "id", Path: "/"}})
}
