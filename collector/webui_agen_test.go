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

	"github.com/chromedp/chromedp"
)

var tokenRE = regexp.MustCompile(`pantau_[A-Za-z0-9_]+`)

// apiTokens lists the tokens through the API.
func (tc *testCollector) apiTokens() map[string]string {
	tc.t.Helper()
	code, body := tc.get("/api/v1/tokens")
	var out struct {
		Data []struct{ ID, State, Agent, Name, Role string } `json:"data"`
	}
	if err := json.Unmarshal([]byte(body), &out); code != 200 || err != nil {
		tc.t.Fatalf("GET /api/v1/tokens: %d %s", code, body)
	}
	m := map[string]string{}
	for _, t := range out.Data {
		m[t.ID] = t.State
	}
	return m
}

// TestIntegrationWebAgenTokens: an admin makes an agent and an API
// token; each is shown once, in the POST's answer (no-store), never on
// the list; revoking asks first and stops the token at once; a viewer
// and an OPD-scoped admin get no token forms and their POSTs are
// refused.
func TestIntegrationWebAgenTokens(t *testing.T) {
	tc := startInvCollector(t, uiInventory)
	tc.uiUser("adi", "admin", "kata-sandi-adi-123")
	tc.uiUser("ado", "admin", "kata-sandi-ado-123", "dinkes")
	tc.uiUser("vina", "viewer", "kata-sandi-vina-12")
	now := time.Now()
	for agent, at := range map[string]time.Time{"agent-dishub": now, "agent-lama": now.Add(-20 * time.Minute)} {
		tok := tc.token(agent, "dishub")
		line := fmt.Sprintf("agent,version=1.2.3 uptime_seconds=100,queue_points=1234,queue_oldest_age_seconds=3720 %d\n", at.Unix())
		if code, body := tc.write(tok, line); code != http.StatusNoContent {
			t.Fatalf("heartbeat of %s: %d %s", agent, code, body)
		}
	}
	before := len(tc.apiTokens())

	for _, who := range []struct{ name, pw string }{{"vina", "kata-sandi-vina-12"}, {"ado", "kata-sandi-ado-123"}} {
		c := browserClient(t)
		uiLogin(t, c, tc.base, who.name, who.pw)
		code, _, body := uiGet(t, c, tc.base+"/ui/agen")
		if code != 200 || strings.Contains(body, `action="/ui/agen/token"`) || strings.Contains(body, "Cabut") {
			t.Errorf("%s sees the token forms: %d\n%s", who.name, code, body)
		}
		code, _, body = uiPost(t, c, tc.base+"/ui/agen/token", url.Values{"kind": {"agent"}, "agent": {"agent-x"}})
		if code != http.StatusForbidden || tokenRE.MatchString(body) || !strings.Contains(body, "Token tidak dibuat") {
			t.Errorf("%s's token: %d\n%s", who.name, code, body)
		}
		if code, _, _ := uiPost(t, c, tc.base+"/ui/agen/cabut", url.Values{"id": {"x"}}); code != http.StatusForbidden {
			t.Errorf("%s's revoke: %d", who.name, code)
		}
	}
	if n := len(tc.apiTokens()); n != before {
		t.Fatalf("refused POSTs made tokens: %d → %d", before, n)
	}

	c := browserClient(t)
	uiLogin(t, c, tc.base, "adi", "kata-sandi-adi-123")
	_, _, page := uiGet(t, c, tc.base+"/ui/agen")
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`<tr><th scope="row"><code>agent-dishub</code></th>\s*<td><span class="badge s-up">aktif</span></td>\s*<td>dishub</td><td>dishub</td><td>1.2.3</td>\s*<td>baru saja<br>`),
		regexp.MustCompile(`<tr class="silent"><th scope="row"><code>agent-lama</code></th>\s*<td><span class="badge s-down">diam</span></td>`),
		regexp.MustCompile(`<td class="n">1.234</td>\s*<td>1 jam 2 menit</td>`),
		regexp.MustCompile(`1 agen diam`),
	} {
		if !want.MatchString(page) {
			t.Errorf("the agent list does not match %s\n%s", want, page)
		}
	}
	// An OPD-scoped user sees its OPD's agents only.
	sc := browserClient(t)
	uiLogin(t, sc, tc.base, "ado", "kata-sandi-ado-123")
	if _, _, p := uiGet(t, sc, tc.base+"/ui/agen"); strings.Contains(p, "agent-dishub") {
		t.Errorf("the dinkes admin sees dishub's agent")
	}
	code, h, body := uiPost(t, c, tc.base+"/ui/agen/token", url.Values{"kind": {"agent"}, "agent": {"agent-dinkes"}, "sites": {"dinkes, dishub"}, "description": {"kantor Dinkes"}})
	secrets := tokenRE.FindAllString(body, -1)
	if code != 200 || len(secrets) != 1 || h.Get("Cache-Control") != "no-store" || h.Get("Location") != "" ||
		!strings.Contains(body, "token tidak akan ditampilkan lagi") {
		t.Fatalf("create an agent token: %d %q %v\n%s", code, h.Get("Cache-Control"), secrets, body)
	}
	agentTok := secrets[0]
	if code, body := tc.write(agentTok, fmt.Sprintf("icmp,site=dinkes,target=10.0.0.1 up=1i %d\n", time.Now().Unix())); code != http.StatusNoContent {
		t.Errorf("the new agent token does not write: %d %s", code, body)
	}
	if code, h, _ := uiGet(t, c, tc.base+"/ui/agen/token"); code != http.StatusSeeOther || h.Get("Location") != "/ui/agen" {
		t.Errorf("GET of the token's answer: %d %q", code, h.Get("Location"))
	}
	_, _, list := uiGet(t, c, tc.base+"/ui/agen")
	if strings.Contains(list, agentTok) || tokenRE.MatchString(list) {
		t.Fatalf("the token list shows a secret")
	}
	if !strings.Contains(list, "agent-dinkes") || !strings.Contains(list, "dinkes, dishub") {
		t.Errorf("the list lacks the new token:\n%s", list)
	}

	code, _, body = uiPost(t, c, tc.base+"/ui/agen/token", url.Values{"kind": {"api"}, "name": {"grafana"}, "role": {"viewer"}, "opds": {"dinkes"}, "expires": {"90d"}})
	if code != 200 || len(tokenRE.FindAllString(body, -1)) != 1 {
		t.Fatalf("create an API token: %d\n%s", code, body)
	}
	code, _, body = uiPost(t, c, tc.base+"/ui/agen/token", url.Values{"kind": {"api"}, "name": {"rusak"}, "role": {"raja"}, "description": {"coba"}})
	if code != http.StatusBadRequest || !strings.Contains(body, "Token tidak dibuat") || !strings.Contains(body, `value="rusak"`) ||
		!strings.Contains(body, `value="coba"`) || tokenRE.MatchString(body) {
		t.Errorf("a bad role: %d\n%s", code, body)
	}

	m := regexp.MustCompile(`<code>([a-z0-9]+)</code></th>\s*<td>agen</td>\s*<td>agent-dinkes`).FindStringSubmatch(list)
	if m == nil {
		t.Fatalf("no row of agent-dinkes's token:\n%s", list)
	}
	agentID := m[1]
	code, _, body = uiGet(t, c, tc.base+"/ui/agen/cabut?id="+agentID)
	if code != 200 || !strings.Contains(body, "Ya, cabut token") || !strings.Contains(body, `name="id" value="`+agentID+`"`) {
		t.Fatalf("the confirmation: %d\n%s", code, body)
	}
	if tc.apiTokens()[agentID] != "active" {
		t.Fatalf("the confirmation page revoked the token")
	}
	code, h, _ = uiPost(t, c, tc.base+"/ui/agen/cabut", url.Values{"id": {agentID}})
	if code != http.StatusSeeOther || h.Get("Location") != "/ui/agen?ok=cabut" {
		t.Fatalf("revoke: %d %q", code, h.Get("Location"))
	}
	if s := tc.apiTokens()[agentID]; s != "revoked" {
		t.Errorf("after revoke the token is %q", s)
	}
	if code, _ := tc.write(agentTok, fmt.Sprintf("icmp,site=dinkes,target=10.0.0.1 up=1i %d\n", time.Now().Unix())); code != http.StatusUnauthorized {
		t.Errorf("the revoked token still writes: %d", code)
	}
	if code, _, _ := uiGet(t, c, tc.base+"/ui/agen/cabut?id="+agentID); code != http.StatusNotFound {
		t.Errorf("confirming a revoked token: %d", code)
	}
	if code, _, body := uiPost(t, c, tc.base+"/ui/agen/cabut", url.Values{"id": {"tidakada"}}); code != http.StatusNotFound || !strings.Contains(body, "Token tidak dicabut") {
		t.Errorf("revoking an unknown token: %d\n%s", code, body)
	}
}

// TestBrowserAgen makes an agent token through the form: the token is
// on the answer's page once, with the warning, and the list after it
// does not show it.
func TestBrowserAgen(t *testing.T) {
	if testing.Short() {
		t.Skip("drives headless chromium; skipped with -short")
	}
	tc := startInvCollector(t, uiInventory)
	tc.uiUser("adi", "admin", "kata-sandi-adi-123")
	agentTok := tc.token("agent-dishub", "dishub")
	if code, body := tc.write(agentTok, fmt.Sprintf("agent,version=1.2.3 uptime_seconds=100 %d\n", time.Now().Unix())); code != http.StatusNoContent {
		t.Fatalf("heartbeat: %d %s", code, body)
	}
	b := newBrowser(t, tc.base, 3*time.Minute)
	b.login("adi", "kata-sandi-adi-123")
	b.open("/ui/agen")
	submitWait(b, map[string]string{"#t-agent": "agent-dinkes", "#t-sites": "dinkes"}, "#buat-agen")
	secret := bget(b, "the new token", chromedp.Value(chromedp.ID("token-baru")))
	if !tokenRE.MatchString(secret) || !strings.Contains(b.mainText(), "tidak akan ditampilkan lagi") {
		t.Fatalf("the new token %q\n%s", secret, b.mainText())
	}
	if loc := b.location(); loc != "/ui/agen/token" {
		t.Errorf("the token's page is at %s", loc)
	}
	b.screenshot("agen")
	b.open("/ui/agen")
	if strings.Contains(b.mainText(), secret) || b.count("#token-baru") != 0 {
		t.Fatalf("the token is shown again")
	}
}

// TestIntegrationWebInventarisAgenTexts: every tab of Inventaris and the
// Agen page have all their texts in both languages.
func TestIntegrationWebInventarisAgenTexts(t *testing.T) {
	tc := startInvCollector(t, uiInventory)
	tc.uiUser("adi", "admin", "kata-sandi-adi-123")
	for _, lang := range []string{"id", "en"} {
		c := browserClient(t)
		uiLogin(t, c, tc.base, "adi", "kata-sandi-adi-123")
		u, _ := url.Parse(tc.base)
		c.Jar.SetCookies(u, []*http.Cookie{{Name: "pantau_lang", Value: lang, Path: "/"}})
		for _, p := range []string{"/ui/inventaris", "/ui/inventaris?tab=links", "/ui/inventaris?tab=devices", "/ui/inventaris?tab=services",
			"/ui/inventaris?tab=unmatched", "/ui/inventaris?tab=import", "/ui/inventaris/link?kind=snmp&site=dinkes&target=sw1&interface=ether1",
			"/ui/agen"} {
			code, _, body := uiGet(t, c, tc.base+p)
			if code != 200 || strings.Contains(body, "??") || !strings.Contains(body, `<html lang="`+lang+`">`) {
				t.Errorf("%s %s: %d\n%s", lang, p, code, body)
			}
		}
	}
}
