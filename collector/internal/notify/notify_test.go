package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/internal/golden"
)

// fixedNow is the clock of every notifier under test.
var fixedNow = time.Date(2026, 10, 10, 1, 0, 30, 0, time.UTC)

// firing is the hostile firing message every type is tested with.
func firing() *Message {
	return &Message{
		ID:       "linkdown-dinkes-20261010T010000Z",
		Status:   "firing",
		Severity: "critical",
		Title:    `Link DOWN: Dinkes <Kab. Sorong> & "RSUD"`,
		Text:     "Lokasi: Dinas Kesehatan\nPenyebab: ISP\nSejak: 2026-10-10 10:00 WIT 🚨",
		Labels: map[string]string{
			"site": "dinkes", "opd": "dinkes", "district": "aimas",
			"severity": "critical", "alertname": "LinkDown",
		},
		StartsAt: time.Date(2026, 10, 10, 1, 0, 0, 0, time.UTC),
		URL:      "https://noc.example.go.id/d/sites?var-site=dinkes",
	}
}

// resolved is the same alert, resolved.
func resolved() *Message {
	m := firing()
	m.ID = "linkdown-dinkes-20261010T010000Z-resolved"
	m.Status = "resolved"
	m.Title = `Link UP: Dinkes <Kab. Sorong> & "RSUD"`
	m.Text = "Lokasi: Dinas Kesehatan\nDurasi: 2 jam 30 menit ✅"
	m.EndsAt = time.Date(2026, 10, 10, 3, 30, 0, 0, time.UTC)
	return m
}

// captured is one request a test server received.
type captured struct {
	method, path, query string
	header              http.Header
	body                []byte
}

// reply is what a test server answers.
type reply struct {
	status int
	header map[string]string
	body   string
}

// server starts a test server that records each request and answers with
// rep (200 {"ok":true} by default).
func server(t *testing.T, rep reply) (*httptest.Server, <-chan captured) {
	t.Helper()
	if rep.status == 0 {
		rep.status = http.StatusOK
		rep.body = `{"ok":true,"result":{}}`
	}
	ch := make(chan captured, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		ch <- captured{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Clone(), b}
		for k, v := range rep.header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(rep.status)
		_, _ = io.WriteString(w, rep.body)
	}))
	t.Cleanup(srv.Close)
	return srv, ch
}

// mustNew builds a notifier on the fixed clock.
func mustNew(t *testing.T, c Config) Notifier {
	t.Helper()
	n, err := New(c, nil)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	n.(*notifier).now = func() time.Time { return fixedNow }
	return n
}

// checkGolden compares got with testdata/name (which ends in a newline
// that is not part of the body), or rewrites it with -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	want := golden.Want(t, path, append(bytes.Clone(got), '\n'))
	if string(want) != string(got)+"\n" {
		t.Errorf("body differs from %s:\n got: %s\nwant: %s", path, got, bytes.TrimSuffix(want, []byte("\n")))
	}
}

const (
	testToken  = "123456789:TESTtoken_abcdefghijklmnopqrstu"
	testSecret = "pantau-test-secret-0123456789"
)

// TestPayloads sends the hostile message through every type and checks
// the request: method, path, headers and the exact body.
func TestPayloads(t *testing.T) {
	type tc struct {
		name    string // golden file
		cfg     func(base string) Config
		msg     *Message
		method  string
		path    string
		query   string            // raw query expected, if any
		ctype   string            // Content-Type expected
		headers map[string]string // further headers expected
		check   func(t *testing.T, c captured)
	}
	tcs := []tc{
		{
			name: "telegram.golden.json",
			cfg: func(base string) Config {
				return Config{Name: "noc-telegram", Type: "telegram", URL: base, BotToken: testToken, ChatID: "-1001234567890", ThreadID: 42}
			},
			msg: firing(), method: "POST", path: "/bot" + testToken + "/sendMessage", ctype: "application/json",
			check: func(t *testing.T, c captured) {
				var p struct{ Text string }
				if err := json.Unmarshal(c.body, &p); err != nil {
					t.Fatal(err)
				}
				want := "<b>Link DOWN: Dinkes &lt;Kab. Sorong&gt; &amp; \"RSUD\"</b>\nLokasi: Dinas Kesehatan\nPenyebab: ISP\nSejak: 2026-10-10 10:00 WIT 🚨\n" +
					"<a href=\"https://noc.example.go.id/d/sites?var-site=dinkes\">Dashboard</a>"
				if p.Text != want {
					t.Errorf("text:\n got %q\nwant %q", p.Text, want)
				}
			},
		},
		{
			name: "telegram-resolved.golden.json",
			cfg: func(base string) Config {
				return Config{Name: "noc-telegram", Type: "telegram", URL: base + "/", BotToken: testToken, ChatID: "@pantau_noc"}
			},
			msg: resolved(), method: "POST", path: "/bot" + testToken + "/sendMessage", ctype: "application/json",
			check: func(t *testing.T, c captured) {
				if bytes.Contains(c.body, []byte("message_thread_id")) {
					t.Error("message_thread_id sent although thread_id is 0")
				}
			},
		},
		{
			name: "slack.golden.json",
			cfg: func(base string) Config {
				return Config{Name: "noc-slack", Type: "slack", URL: base + "/services/T0000/B0000/XXXXXXXX"}
			},
			msg: firing(), method: "POST", path: "/services/T0000/B0000/XXXXXXXX", ctype: "application/json",
		},
		{
			name: "discord.golden.json",
			cfg: func(base string) Config {
				return Config{Name: "noc-discord", Type: "discord", URL: base + "/api/webhooks/123456/tokenXYZ"}
			},
			msg: firing(), method: "POST", path: "/api/webhooks/123456/tokenXYZ", ctype: "application/json",
		},
		{
			name: "googlechat.golden.json",
			cfg: func(base string) Config {
				return Config{Name: "noc-googlechat", Type: "googlechat", URL: base + "/v1/spaces/AAAA/messages?key=KEY1&token=TOKEN1"}
			},
			msg: firing(), method: "POST", path: "/v1/spaces/AAAA/messages", query: "key=KEY1&token=TOKEN1", ctype: "application/json",
			check: func(t *testing.T, c captured) {
				// the golden file holds an invisible U+200B after each "<"
				if !bytes.Contains(c.body, []byte("<\u200bKab. Sorong>")) || bytes.Count(c.body, []byte("<\u200b")) != 1 {
					t.Errorf("no zero-width space after the text's <: %q", c.body)
				}
			},
		},
		{
			name: "teams.golden.json",
			cfg: func(base string) Config {
				return Config{Name: "noc-teams", Type: "teams", URL: base + "/workflows/abc/triggers/manual/paths/invoke?api-version=2016-06-01&sig=SIG1"}
			},
			msg: firing(), method: "POST", path: "/workflows/abc/triggers/manual/paths/invoke", query: "api-version=2016-06-01&sig=SIG1", ctype: "application/json",
		},
		{
			name: "webhook.golden.json",
			cfg: func(base string) Config {
				return Config{Name: "siem", Type: "webhook", URL: base + "/hooks/pantau", Secret: testSecret, Headers: map[string]string{"X-Tenant": "diskominfo"}}
			},
			msg: firing(), method: "POST", path: "/hooks/pantau", ctype: "application/json",
			headers: map[string]string{"X-Tenant": "diskominfo", "X-Pantau-Timestamp": strconv.FormatInt(fixedNow.Unix(), 10)},
			check: func(t *testing.T, c captured) {
				ts, err := strconv.ParseInt(c.header.Get("X-Pantau-Timestamp"), 10, 64)
				if err != nil {
					t.Fatal(err)
				}
				if got, want := c.header.Get("X-Pantau-Signature"), Sign([]byte(testSecret), ts, c.body); got != want || !strings.HasPrefix(got, "sha256=") {
					t.Errorf("X-Pantau-Signature = %q, want %q", got, want)
				}
			},
		},
		{
			name: "webhook-resolved.golden.json",
			cfg: func(base string) Config {
				return Config{Name: "siem", Type: "webhook", URL: base + "/hooks/pantau"}
			},
			msg: resolved(), method: "POST", path: "/hooks/pantau", ctype: "application/json",
			check: func(t *testing.T, c captured) {
				if s := c.header.Get("X-Pantau-Signature"); s != "" {
					t.Errorf("signed without a secret: %q", s)
				}
			},
		},
		{
			name: "http.golden.json",
			cfg: func(base string) Config {
				return Config{
					Name: "wa-wablas", Type: "http", URL: base + "/api/send-message",
					Headers:     map[string]string{"Authorization": "wablas-token-123", "X-Site": "{{.Labels.site}}"},
					ContentType: "json",
					Body:        `{"phone": "6281200000000", "message": {{json (printf "*%s*\n%s" .Title .Text)}}, "labels": {{json .Labels}}}`,
				}
			},
			msg: firing(), method: "POST", path: "/api/send-message", ctype: "application/json",
			headers: map[string]string{"Authorization": "wablas-token-123", "X-Site": "dinkes"},
		},
		{
			name: "http-form.golden.txt",
			cfg: func(base string) Config {
				return Config{
					Name: "wa-fonnte", Type: "http", Method: "post", URL: base + "/send",
					Headers:     map[string]string{"Authorization": "fonnte-token-123"},
					ContentType: "form",
					Body:        `target=6281200000000&message={{urlquery (printf "*%s*\n%s" .Title .Text)}}`,
				}
			},
			msg: firing(), method: "POST", path: "/send", ctype: "application/x-www-form-urlencoded",
			headers: map[string]string{"Authorization": "fonnte-token-123"},
			check: func(t *testing.T, c captured) {
				q, err := url.ParseQuery(string(c.body))
				if err != nil {
					t.Fatal(err)
				}
				m := firing()
				if got, want := q.Get("message"), "*"+m.Title+"*\n"+m.Text; got != want {
					t.Errorf("message = %q, want %q", got, want)
				}
			},
		},
		{
			name: "alertmanager.golden.json",
			cfg: func(base string) Config {
				return Config{Name: "am", Type: "alertmanager", URL: base, Headers: map[string]string{"X-Scope-OrgID": "noc"}}
			},
			msg: firing(), method: "POST", path: "/api/v2/alerts", ctype: "application/json",
			headers: map[string]string{"X-Scope-OrgID": "noc"},
		},
		{
			name: "alertmanager-resolved.golden.json",
			cfg: func(base string) Config {
				return Config{Name: "am", Type: "alertmanager", URL: base + "/"}
			},
			msg: resolved(), method: "POST", path: "/api/v2/alerts", ctype: "application/json",
		},
	}
	for _, tc := range tcs {
		t.Run(strings.TrimSuffix(tc.name, filepath.Ext(tc.name)), func(t *testing.T) {
			srv, reqs := server(t, reply{})
			n := mustNew(t, tc.cfg(srv.URL))
			if err := n.Send(context.Background(), tc.msg); err != nil {
				t.Fatalf("Send: %v", err)
			}
			c := <-reqs
			if c.method != tc.method || c.path != tc.path {
				t.Errorf("request %s %s, want %s %s", c.method, c.path, tc.method, tc.path)
			}
			if tc.query != "" && c.query != tc.query {
				t.Errorf("query %q, want %q", c.query, tc.query)
			}
			want := map[string]string{"Content-Type": tc.ctype, "User-Agent": "pantau-collector"}
			for k, v := range tc.headers {
				want[k] = v
			}
			for k, v := range want {
				if got := c.header.Get(k); got != v {
					t.Errorf("header %s = %q, want %q", k, got, v)
				}
			}
			if strings.HasSuffix(tc.name, ".json") {
				if !json.Valid(c.body) {
					t.Fatalf("body is not valid JSON: %s", c.body)
				}
				if bytes.Contains(c.body, []byte(`\u003c`)) || bytes.Contains(c.body, []byte(`\u0026`)) {
					t.Errorf("body has HTML-escaped JSON: %s", c.body)
				}
			}
			checkGolden(t, tc.name, c.body)
			if tc.check != nil {
				tc.check(t, c)
			}
		})
	}
}

// TestHTTPGet renders a GET whose URL is a template: no body, no
// Content-Type, the values escaped into the query.
func TestHTTPGet(t *testing.T) {
	srv, reqs := server(t, reply{status: http.StatusOK, body: "sent"})
	n := mustNew(t, Config{Name: "gw", Type: "http", Method: "GET", URL: srv.URL + "/send?to=62812&text={{urlquery .Title}}"})
	if err := n.Send(context.Background(), firing()); err != nil {
		t.Fatal(err)
	}
	c := <-reqs
	q, _ := url.ParseQuery(c.query)
	if c.method != "GET" || c.path != "/send" || q.Get("to") != "62812" || q.Get("text") != firing().Title {
		t.Errorf("got %s %s?%s", c.method, c.path, c.query)
	}
	if len(c.body) != 0 || c.header.Get("Content-Type") != "" {
		t.Errorf("GET with a body %q or Content-Type %q", c.body, c.header.Get("Content-Type"))
	}
}

// TestTelegramTruncation: a huge text with characters to escape is cut to
// Telegram's limit, ending with "…", its escapes intact.
func TestTelegramTruncation(t *testing.T) {
	srv, reqs := server(t, reply{})
	n := mustNew(t, Config{Name: "tg", Type: "telegram", URL: srv.URL, BotToken: testToken, ChatID: "-100123"})
	for _, tc := range []struct {
		name string
		m    Message
	}{
		{"no link", Message{Title: "Judul <x>", Text: strings.Repeat("a<b&c>d\"", 1250)}},
		{"link", Message{Title: "Judul", Text: strings.Repeat("<", 10000), URL: "https://noc.example.go.id/d/x?a=1&b=\"2\""}},
		{"emoji", Message{Title: strings.Repeat("🚨<", 5000), Text: strings.Repeat("🚨&", 5000)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := n.Send(context.Background(), &tc.m); err != nil {
				t.Fatal(err)
			}
			var p struct{ Text string }
			if err := json.Unmarshal((<-reqs).body, &p); err != nil {
				t.Fatal(err)
			}
			text := p.Text
			if r := len([]rune(text)); r > 4096 || utf16Len(text) > 4096 {
				t.Errorf("%d runes, %d UTF-16 units: over 4096", r, utf16Len(text))
			}
			if tc.m.URL != "" {
				i := strings.LastIndex(text, "\n<a href=")
				if i < 0 || !strings.HasSuffix(text, "\">Dashboard</a>") {
					t.Fatalf("link missing: ...%s", text[max(0, len(text)-100):])
				}
				if !strings.Contains(text, "?a=1&amp;b=&quot;2&quot;") {
					t.Errorf("href not escaped: %s", text[i:])
				}
				text = text[:i]
			}
			if !strings.HasSuffix(text, "…") {
				t.Errorf("does not end with …: %q", text[max(0, len(text)-20):])
			}
			checkEntities(t, text)
		})
	}
}

// checkEntities fails if an & in s does not start &amp; &lt; &gt; or &quot;.
func checkEntities(t *testing.T, s string) {
	t.Helper()
	for i := strings.IndexByte(s, '&'); i >= 0; {
		rest := s[i:]
		if !(strings.HasPrefix(rest, "&amp;") || strings.HasPrefix(rest, "&lt;") || strings.HasPrefix(rest, "&gt;") || strings.HasPrefix(rest, "&quot;")) {
			t.Fatalf("dangling & at %d: %q", i, rest[:min(len(rest), 10)])
		}
		j := strings.IndexByte(s[i+1:], '&')
		if j < 0 {
			break
		}
		i += 1 + j
	}
}

// TestDiscordLimit: Discord's content stays within 2000 and pings no one.
func TestDiscordLimit(t *testing.T) {
	m := firing()
	m.Text = "@everyone " + strings.Repeat("ü", 3000)
	p := discordPayload(m).(discordMessage)
	if n := utf16Len(p.Content); n > 2000 {
		t.Errorf("content is %d units", n)
	}
	if !strings.Contains(p.Content, "…\n[Dashboard](https://noc.example.go.id/d/sites?var-site=dinkes)") {
		t.Errorf("no cut or no link: ...%s", p.Content[len(p.Content)-120:])
	}
	if b, _ := marshal(p); !bytes.Contains(b, []byte(`"allowed_mentions":{"parse":[]}`)) {
		t.Errorf("allowed_mentions missing: %s", b)
	}
}

// TestTeamsColor: the title's colour follows status and severity.
func TestTeamsColor(t *testing.T) {
	for _, tc := range []struct{ status, severity, want string }{
		{"firing", "critical", "Attention"},
		{"firing", "warning", "Warning"},
		{"firing", "info", "Default"},
		{"resolved", "critical", "Good"},
		{"", "", "Default"},
	} {
		m := &Message{Status: tc.status, Severity: tc.severity, Title: "t", Text: "a\nb"}
		card := teamsPayload(m).(teamsMessage).Attachments[0].Content
		if got := card.Body[0].Color; got != tc.want {
			t.Errorf("%s/%s: color %q, want %q", tc.status, tc.severity, got, tc.want)
		}
		if card.Body[1].Text != "a\n\nb" || card.Actions != nil {
			t.Errorf("text %q, actions %v", card.Body[1].Text, card.Actions)
		}
	}
}

// TestAlertmanagerLabels: alertname defaults to pantau, and severity comes
// from the message.
func TestAlertmanagerLabels(t *testing.T) {
	srv, reqs := server(t, reply{status: http.StatusOK})
	n := mustNew(t, Config{Name: "am", Type: "alertmanager", URL: srv.URL})
	m := &Message{Status: "resolved", Severity: "warning", Title: "t", Labels: map[string]string{"site": "x", "severity": "critical"}}
	if err := n.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	var alerts []map[string]any
	if err := json.Unmarshal((<-reqs).body, &alerts); err != nil || len(alerts) != 1 {
		t.Fatalf("%v: %v", err, alerts)
	}
	labels := alerts[0]["labels"].(map[string]any)
	if labels["alertname"] != "pantau" || labels["severity"] != "warning" || labels["site"] != "x" {
		t.Errorf("labels %v", labels)
	}
	// resolved without EndsAt: ends now; no StartsAt: left to Alertmanager
	if alerts[0]["endsAt"] != fixedNow.Format(time.RFC3339) || alerts[0]["startsAt"] != nil {
		t.Errorf("startsAt %v, endsAt %v", alerts[0]["startsAt"], alerts[0]["endsAt"])
	}
	if m.Labels["alertname"] != "" {
		t.Error("the message's labels were changed")
	}
}

// TestSign checks the signature against a value computed independently
// (Python's hmac module).
func TestSign(t *testing.T) {
	got := Sign([]byte(testSecret), 1760058000, []byte(`{"version":"1","id":"x"}`))
	if want := "sha256=b6d50ba407ef82edf802c50abdf6b31422511d2c1b372ee180700a0f4b908145"; got != want {
		t.Errorf("Sign = %s, want %s", got, want)
	}
}

// TestConcurrentSend: a notifier is used from many goroutines (run with
// -race).
func TestConcurrentSend(t *testing.T) {
	srv, reqs := server(t, reply{status: http.StatusNoContent})
	n := mustNew(t, Config{Name: "hook", Type: "webhook", URL: srv.URL, Secret: testSecret})
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if err := n.Send(context.Background(), firing()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if len(reqs) != 8 {
		t.Errorf("%d requests, want 8", len(reqs))
	}
}

// TestAccessors covers Name, Type, RateLimit and the defaults.
func TestAccessors(t *testing.T) {
	for _, tc := range []struct {
		c    Config
		rate int
	}{
		{Config{Name: "tg", Type: "telegram", BotToken: testToken, ChatID: "-1"}, 20},
		{Config{Name: "tg", Type: "telegram", BotToken: testToken, ChatID: "-1", RatePerMinute: 5}, 5},
		{Config{Name: "s", Type: "slack", URL: "https://hooks.slack.com/services/x"}, 60},
	} {
		n := mustNew(t, tc.c)
		if n.Name() != tc.c.Name || n.Type() != tc.c.Type || n.RateLimit() != tc.rate {
			t.Errorf("%s/%s/%d, want %s/%s/%d", n.Name(), n.Type(), n.RateLimit(), tc.c.Name, tc.c.Type, tc.rate)
		}
		if got := n.(*notifier).timeout; got != 10*time.Second {
			t.Errorf("timeout %s, want 10s", got)
		}
	}
}
