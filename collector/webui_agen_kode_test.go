package collector

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/pantau-noc/pantau/collector/internal/statedb"
	"github.com/pantau-noc/pantau/internal/fleetproto"
)

var codeRE = regexp.MustCompile(`PNT1-[a-z2-7]+-[a-z2-7]+`)

// enroll posts a code to POST /api/v1/enroll without a credential.
func (tc *testCollector) enroll(code, agent string) (int, string) {
	tc.t.Helper()
	b, _ := json.Marshal(fleetproto.EnrollRequest{Code: code, Agent: agent, Hostname: "box"})
	resp, err := http.Post(tc.base+fleetproto.EnrollPath, "application/json", bytes.NewReader(b))
	if err != nil {
		tc.t.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	buf.ReadFrom(resp.Body)
	return resp.StatusCode, buf.String()
}

// TestIntegrationWebAgenEnrolment: an admin creates an enrolment code on
// the Agen page; it is shown once with the command for the box (no-store,
// never on the list); a box redeems it once through the API; the list
// shows it used; an unused code is revoked; a viewer and an OPD-scoped
// admin get no code form and their POSTs are refused. The agents table
// shows the fleet columns.
func TestIntegrationWebAgenEnrolment(t *testing.T) {
	tc := startInvCollector(t, uiInventory)
	tc.uiUser("adi", "admin", "kata-sandi-adi-123")
	tc.uiUser("ado", "admin", "kata-sandi-ado-123", "dinkes")
	tc.uiUser("vina", "viewer", "kata-sandi-vina-12")

	for _, who := range []struct{ name, pw string }{{"vina", "kata-sandi-vina-12"}, {"ado", "kata-sandi-ado-123"}} {
		c := browserClient(t)
		uiLogin(t, c, tc.base, who.name, who.pw)
		if code, _, body := uiGet(t, c, tc.base+"/ui/agen"); code != 200 || strings.Contains(body, `action="/ui/agen/kode"`) {
			t.Errorf("%s sees the code form: %d", who.name, code)
		}
		code, _, body := uiPost(t, c, tc.base+"/ui/agen/kode", url.Values{"site": {"dinkes"}, "valid": {"24h"}})
		if code != http.StatusForbidden || codeRE.MatchString(body) || !strings.Contains(body, "Kode tidak dibuat") {
			t.Errorf("%s's code: %d\n%s", who.name, code, body)
		}
		if code, _, _ := uiPost(t, c, tc.base+"/ui/agen/kode/cabut", url.Values{"id": {"x"}}); code != http.StatusForbidden {
			t.Errorf("%s's revoke: %d", who.name, code)
		}
	}

	c := browserClient(t)
	uiLogin(t, c, tc.base, "adi", "kata-sandi-adi-123")
	_, _, page := uiGet(t, c, tc.base+"/ui/agen")
	if !strings.Contains(page, `<option value="dishub">dishub — Dinas Perhubungan</option>`) || !strings.Contains(page, `<option value="24h" selected>24 jam</option>`) {
		t.Fatalf("the code form:\n%s", page)
	}
	code, h, body := uiPost(t, c, tc.base+"/ui/agen/kode", url.Values{"site": {"dishub"}, "agent": {"dishub-1"}, "valid": {"7d"}})
	codes := codeRE.FindAllString(body, -1)
	if code != 200 || len(codes) != 2 || codes[0] != codes[1] || h.Get("Cache-Control") != "no-store" || h.Get("Location") != "" ||
		!strings.Contains(body, "kode tidak akan ditampilkan lagi") || !strings.Contains(body, "pantau-agent enroll --collector http://") ||
		!strings.Contains(body, "--state-dir /var/lib/pantau-agent") || !strings.Contains(body, "HTTP biasa") {
		t.Fatalf("create a code: %d %q %v\n%s", code, h.Get("Cache-Control"), codes, body)
	}
	secret := codes[0]
	if code, h, _ := uiGet(t, c, tc.base+"/ui/agen/kode"); code != http.StatusSeeOther || h.Get("Location") != "/ui/agen" {
		t.Errorf("GET of the code's answer: %d %q", code, h.Get("Location"))
	}
	_, _, list := uiGet(t, c, tc.base+"/ui/agen")
	if codeRE.MatchString(list) || !strings.Contains(list, "aktif") {
		t.Fatalf("the list shows the code, or not its state:\n%s", list)
	}
	// The box redeems it once.
	if code, body := tc.enroll(secret, ""); code != 200 || !strings.Contains(body, `"agent":"dishub-1"`) {
		t.Fatalf("enroll: %d %s", code, body)
	}
	if code, body := tc.enroll(secret, ""); code != http.StatusUnauthorized || !strings.Contains(body, "enrolment code unknown, used or expired") {
		t.Fatalf("enroll again: %d %s", code, body)
	}
	_, _, list = uiGet(t, c, tc.base+"/ui/agen")
	if !regexp.MustCompile(`terpakai<br><span class="hint">[^<]+ oleh dishub-1 dari 127.0.0.1</span>`).MatchString(list) {
		t.Errorf("the used code:\n%s", list)
	}

	// An unused code is revoked.
	_, _, body = uiPost(t, c, tc.base+"/ui/agen/kode", url.Values{"site": {"dinkes"}, "valid": {"1h"}})
	second, _ := fleetproto.ParseCode(codeRE.FindString(body))
	code, h, _ = uiPost(t, c, tc.base+"/ui/agen/kode/cabut", url.Values{"id": {second.ID}})
	if code != http.StatusSeeOther || h.Get("Location") != "/ui/agen?ok=kodecabut" {
		t.Fatalf("revoke: %d %q", code, h.Get("Location"))
	}
	if code, _ := tc.enroll(second.String(), "dinkes-1"); code != http.StatusUnauthorized {
		t.Errorf("the revoked code enrols: %d", code)
	}
	if code, _, body := uiPost(t, c, tc.base+"/ui/agen/kode/cabut", url.Values{"id": {second.ID}}); code != 200 && code != http.StatusSeeOther {
		t.Errorf("revoke twice: %d %s", code, body)
	}
	if code, _, body := uiPost(t, c, tc.base+"/ui/agen/kode", url.Values{"site": {"nowhere"}, "valid": {"24h"}}); code != http.StatusBadRequest ||
		!strings.Contains(body, "not in the inventory") || codeRE.MatchString(body) {
		t.Errorf("unknown site: %d\n%s", code, body)
	}

	// The fleet columns.
	db, err := statedb.Open(context.Background(), tc.cfg.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	err = db.UpsertFleetAgent(context.Background(), statedb.FleetAgent{Agent: "dishub-1", Site: "dishub", Version: "1.4.0", LastSeen: time.Now(),
		ConfigOffered: "abcdef0123", ConfigApplied: "9999999999", ConfigStatus: "failed", ConfigError: "icmp[0]: no host", ClockOffsetSeconds: -12.5,
		UpdateState: "rolled_back", UpdateVersion: "1.5.0"})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	_, _, list = uiGet(t, c, tc.base+"/ui/agen")
	for _, want := range []string{"GAGAL abcdef01", "icmp[0]: no host", "-12.5 s", "dikembalikan 1.5.0", "tidak sehat"} {
		if !strings.Contains(list, want) {
			t.Errorf("the agents table lacks %q:\n%s", want, list)
		}
	}

	// Every state of a code, and every fleet column, has its texts in
	// both languages (an expired code, backdated).
	db, err = statedb.Open(context.Background(), tc.cfg.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = db.CreateEnrolment(context.Background(), statedb.EnrolmentSpec{Site: "dinkes", Valid: time.Hour}, statedb.AuditEntry{ActorKind: "cli"}, time.Now().Add(-2*time.Hour))
	for _, st := range []string{"offered", "downloading", "installed", "failed"} {
		if err == nil {
			err = db.UpsertFleetAgent(context.Background(), statedb.FleetAgent{Agent: "a-" + st, Site: "dinkes", LastSeen: time.Now(), UpdateState: st, ConfigOffered: "aa", Healthy: true})
		}
	}
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	for lang, want := range map[string][]string{
		"id": {"kedaluwarsa", "dicabut", "terpakai", "ditawarkan", "mengunduh", "terpasang", "menunggu aa", "(dinamai perangkat)"},
		"en": {"expired", "revoked", "used", "offered", "downloading", "installed", "aa pending", "rolled back 1.5.0", "FAILED abcdef01", "Agent enrolment codes"},
	} {
		lc := browserClient(t)
		uiLogin(t, lc, tc.base, "adi", "kata-sandi-adi-123")
		u, _ := url.Parse(tc.base)
		lc.Jar.SetCookies(u, []*http.Cookie{{Name: "pantau_lang", Value: lang, Path: "/"}})
		_, _, page := uiGet(t, lc, tc.base+"/ui/agen")
		if strings.Contains(page, "??") {
			t.Errorf("%s: a text is missing:\n%s", lang, page)
		}
		for _, w := range want {
			if !strings.Contains(page, w) {
				t.Errorf("%s: the page lacks %q", lang, w)
			}
		}
	}
}

// TestBrowserAgenEnrolment creates an enrolment code through the form in
// a browser: the code and the command are on the answer's page once; the
// page with the code, the codes table and the fleet columns passes the
// axe accessibility checks in both languages.
func TestBrowserAgenEnrolment(t *testing.T) {
	if testing.Short() {
		t.Skip("drives headless chromium; skipped with -short")
	}
	tc := startInvCollector(t, uiInventory)
	tc.uiUser("adi", "admin", "kata-sandi-adi-123")
	db, err := statedb.Open(context.Background(), tc.cfg.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	err = db.UpsertFleetAgent(context.Background(), statedb.FleetAgent{Agent: "dinkes-1", Site: "dinkes", Version: "1.4.0", LastSeen: time.Now(),
		ConfigOffered: "abcdef0123", ConfigApplied: "abcdef0123", ConfigStatus: "applied", Healthy: true, ClockOffsetSeconds: 0.3, UpdateState: "installed"})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, tc.base, 3*time.Minute)
	b.login("adi", "kata-sandi-adi-123")
	b.open("/ui/agen")
	submitWait(b, map[string]string{"#k-site": "dishub", "#k-agent": "dishub-1"}, "#buat-kode")
	code := bget(b, "the new code", chromedp.Value(chromedp.ID("kode-baru")))
	cmd := bget(b, "the command", chromedp.Value(chromedp.ID("kode-cmd")))
	if !codeRE.MatchString(code) || !strings.Contains(cmd, "--code "+code) || !strings.Contains(b.mainText(), "tidak akan ditampilkan lagi") {
		t.Fatalf("the new code %q, command %q\n%s", code, cmd, b.mainText())
	}
	b.accessible("id /ui/agen/kode")
	b.screenshot("agen-kode")
	for _, lang := range []string{"id", "en"} {
		b.open("/ui/bahasa?lang=" + lang + "&next=/ui/agen")
		if strings.Contains(b.mainText(), code) || b.count("#kode-baru") != 0 {
			t.Fatalf("the code is shown again")
		}
		b.accessible(lang + " /ui/agen with codes and fleet columns")
	}
}
