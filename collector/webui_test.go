package collector

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// uiUser adds a user with the CLI and returns a client with a cookie jar
// that does not follow redirects.
func (tc *testCollector) uiUser(name, role, password string, opds ...string) {
	tc.t.Helper()
	pw := filepath.Join(tc.t.TempDir(), "pw")
	if err := os.WriteFile(pw, []byte(password+"\n"), 0o600); err != nil {
		tc.t.Fatal(err)
	}
	args := []string{"user", "add", "--data-dir", tc.cfg.DataDir, "--name", name, "--role", role, "--password-file", pw}
	for _, o := range opds {
		args = append(args, "--opd", o)
	}
	if code, _, errOut := cli(tc.t, args...); code != 0 {
		tc.t.Fatalf("user add: exit %d: %s", code, errOut)
	}
}

func browserClient(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func uiLogin(t *testing.T, c *http.Client, base, name, password string) *http.Response {
	t.Helper()
	resp, err := c.PostForm(base+"/ui/masuk", url.Values{"name": {name}, "password": {password}, "next": {"/ui/"}})
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

func uiGet(t *testing.T, c *http.Client, u string) (int, http.Header, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	req.Header.Set("Accept", "text/html")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

// TestIntegrationWebLogin logs in and out over HTTP: the session cookie's
// attributes, the redirect of a page without a session to the login, the
// CSP, wrong passwords, and the session working on the API.
func TestIntegrationWebLogin(t *testing.T) {
	tc := startCollector(t, nil)
	tc.uiUser("ani", "operator", "kata-sandi-ani-123", "dinkes")
	c := browserClient(t)

	code, h, _ := uiGet(t, c, tc.base+"/")
	if code != http.StatusSeeOther || h.Get("Location") != "/ui/" {
		t.Fatalf("GET / from a browser: %d to %q, want 303 to /ui/", code, h.Get("Location"))
	}
	code, h, _ = uiGet(t, c, tc.base+"/ui/gangguan")
	if code != http.StatusSeeOther || h.Get("Location") != "/ui/masuk?next=%2Fui%2Fgangguan" {
		t.Fatalf("a page without a session: %d to %q", code, h.Get("Location"))
	}
	code, h, body := uiGet(t, c, tc.base+"/ui/masuk")
	if code != 200 || !strings.Contains(body, `<label for="name">Nama pengguna</label>`) {
		t.Fatalf("login page: %d\n%s", code, body)
	}
	if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "unsafe") {
		t.Errorf("CSP %q", csp)
	}
	if r := uiLogin(t, c, tc.base, "ani", "salah-sandi-123456"); r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("wrong password: %d", r.StatusCode)
	}
	r := uiLogin(t, c, tc.base, "ani", "kata-sandi-ani-123")
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/ui/" {
		t.Fatalf("login: %d to %q", r.StatusCode, r.Header.Get("Location"))
	}
	sc := r.Header.Get("Set-Cookie")
	for _, want := range []string{"pantau_session=pses_", "HttpOnly", "SameSite=Strict", "Secure", "Path=/"} {
		if !strings.Contains(sc, want) {
			t.Errorf("Set-Cookie %q lacks %q", sc, want)
		}
	}
	code, _, body = uiGet(t, c, tc.base+"/ui/")
	if code != 200 || !strings.Contains(body, "<strong>ani</strong>") || !strings.Contains(body, "dinkes") {
		t.Fatalf("home: %d\n%s", code, body)
	}
	// The session reaches the API as its user: an operator scoped to dinkes.
	code, _, body = uiGet(t, c, tc.base+"/api/v1/tokens")
	if code != http.StatusForbidden {
		t.Fatalf("tokens with an operator's session: %d %s", code, body)
	}
	// Logout ends the session on the server.
	u, _ := url.Parse(tc.base)
	var secret string
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == "pantau_session" {
			secret = ck.Value
		}
	}
	req, _ := http.NewRequest("POST", tc.base+"/ui/keluar", nil)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	old := browserClient(t)
	old.Jar.SetCookies(u, []*http.Cookie{{Name: "pantau_session", Value: secret}})
	if code, h, _ := uiGet(t, old, tc.base+"/ui/"); code != http.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), "/ui/masuk") {
		t.Fatalf("the logged-out session still works: %d %q", code, h.Get("Location"))
	}
	if code, _, _ := uiGet(t, old, tc.base+"/api/v1/maintenance"); code != http.StatusUnauthorized {
		t.Fatalf("the logged-out session on the API: %d", code)
	}
}

// uiPost posts a form as a browser would and returns the answer.
func uiPost(t *testing.T, c *http.Client, u string, form url.Values) (int, http.Header, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "text/html")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}
