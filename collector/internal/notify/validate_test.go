package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/pantau-noc/pantau/internal/yamlconf"
)

// problems validates c under "notifiers[2]" and lists the messages.
func problems(c Config) []string {
	probs := yamlconf.NewProblems(nil)
	c.Validate(probs, "notifiers[2]")
	var out []string
	for _, e := range unjoin(probs.Err()) {
		out = append(out, e.Error())
	}
	return out
}

func unjoin(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

func TestValidate(t *testing.T) {
	const p = "notifiers[2]."
	tg := func(c Config) Config {
		c.Name, c.Type = "noc-telegram", "telegram"
		if c.BotToken == "" {
			c.BotToken = testToken
		}
		if c.ChatID == "" {
			c.ChatID = "-1001234567890"
		}
		return c
	}
	hook := func(typ string, c Config) Config {
		c.Name, c.Type = "n1", typ
		if c.URL == "" {
			c.URL = "https://example.go.id/hook"
		}
		return c
	}
	allTypes := `"telegram", "slack", "discord", "googlechat", "teams", "webhook", "http", "alertmanager"`
	for _, tc := range []struct {
		name string
		c    Config
		want []string
	}{
		{"empty", Config{}, []string{
			p + "name: is required: a unique name such as noc-telegram, which routes refer to",
			p + "type: is required: one of " + allTypes,
		}},
		{"bad name, unknown type", Config{Name: "NOC Telegram", Type: "whatsapp"}, []string{
			p + `name: must be 1 to 64 characters of a-z, 0-9, _ and - (got "NOC Telegram")`,
			p + `type: must be one of ` + allTypes + ` (got "whatsapp")`,
		}},
		{"name too long", Config{Name: strings.Repeat("a", 65), Type: "slack", URL: "https://x.example/"}, []string{
			p + `name: must be 1 to 64 characters of a-z, 0-9, _ and - (got "` + strings.Repeat("a", 65) + `")`,
		}},
		{"telegram ok", tg(Config{}), nil},
		{"telegram ok channel", tg(Config{ChatID: "@pantau_noc", ThreadID: 7, URL: "http://127.0.0.1:8081"}), nil},
		{"telegram missing", Config{Name: "tg", Type: "telegram"}, []string{
			p + "bot_token: telegram needs bot_token (from @BotFather)",
			p + "chat_id: telegram needs chat_id: a group or channel id such as -1001234567890, or a public channel's @username",
		}},
		{"telegram bot prefix", tg(Config{BotToken: "bot" + testToken}), []string{
			p + `bot_token: must not start with "bot": give the token as @BotFather shows it, such as 123456789:AAH... (the value is not shown)`,
		}},
		{"telegram bad token, chat, thread, url", tg(Config{BotToken: "12345", ChatID: "NOC group", ThreadID: -1, URL: "https://api.telegram.org/bot" + testToken}), []string{
			p + "bot_token: does not look like a token from @BotFather: digits, a colon, then 20 or more letters, digits, _ or - (the value is not shown)",
			p + `chat_id: must be a numeric chat id such as -1001234567890, or a public channel's @username (got "NOC group")`,
			p + "thread_id: must not be negative (got -1); it is the message_thread_id of a forum topic",
			p + "url: must be the Bot API base URL only, such as https://api.telegram.org, without /bot..., ? or #; leave it out for the default",
		}},
		{"fields of other types", hook("slack", Config{BotToken: "x", ChatID: "1", ThreadID: 1, Secret: "s", Method: "POST", Body: "b", ContentType: "json", Headers: map[string]string{"A": "b"}}), []string{
			p + "bot_token: is only used by type telegram, not by slack: remove it",
			p + "chat_id: is only used by type telegram, not by slack: remove it",
			p + "thread_id: is only used by type telegram, not by slack: remove it",
			p + "secret: is only used by type webhook, not by slack: remove it",
			p + "method: is only used by type http, not by slack: remove it",
			p + "body: is only used by type http, not by slack: remove it",
			p + "content_type: is only used by type http, not by slack: remove it",
			p + "headers: is only used by type webhook, http, alertmanager, not by slack: remove it",
		}},
		{"slack no url", Config{Name: "s", Type: "slack"}, []string{
			p + "url: slack needs url (the incoming webhook URL, such as https://hooks.slack.com/services/...; Mattermost and Rocket.Chat give one too)",
		}},
		{"discord no url", Config{Name: "d", Type: "discord"}, []string{
			p + "url: discord needs url (the channel's webhook URL, https://discord.com/api/webhooks/...)",
		}},
		{"ftp url", hook("googlechat", Config{URL: "ftp://chat.example/x"}), []string{p + "url: url must be http:// or https://"}},
		{"no scheme", hook("teams", Config{URL: "hooks.example/x"}), []string{p + "url: url must be http:// or https://"}},
		{"no host", hook("discord", Config{URL: "https:///x"}), []string{p + "url: url has no host: write it in full, such as https://host/path"}},
		{"bad port", hook("discord", Config{URL: "https://x.example:0/x"}), []string{p + "url: url has an invalid port: it must be 1-65535"}},
		{"space", hook("slack", Config{URL: "https://x.example/a b"}), []string{
			p + "url: must not contain spaces, line breaks or control characters (the value is not shown: it may hold a secret)",
		}},
		{"unparsable", hook("slack", Config{URL: "https://x.example/%zz"}), []string{
			p + "url: is not a valid URL (the value is not shown: it may hold a secret)",
		}},
		{"webhook ok", hook("webhook", Config{Secret: testSecret, Headers: map[string]string{"X-Tenant": "a"}}), nil},
		{"webhook short secret, bad headers", hook("webhook", Config{Secret: "short", Headers: map[string]string{
			"Bad Name": "x", "content-type": "text/plain", "X-Pantau-Signature": "x", "X-Empty": "", "X-Break": "a\nb",
		}}), []string{
			p + "secret: must be at least 16 characters (the value is not shown); generate one with: openssl rand -hex 32",
			p + `headers: header name "Bad Name" is not a valid HTTP header name`,
			p + "headers.X-Break: must not contain a line break or control character (the value is not shown)",
			p + "headers.X-Empty: must not contain a line break or control character (the value is not shown)",
			p + "headers.X-Pantau-Signature: is set by pantau (use content_type for Content-Type): remove it",
			p + "headers.content-type: is set by pantau (use content_type for Content-Type): remove it",
		}},
		{"http ok", hook("http", Config{Body: `{"text": {{json .Text}}}`, Headers: map[string]string{"Authorization": "Token {{.Labels.site}}"}}), nil},
		{"http ok form", hook("http", Config{Method: "put", ContentType: "form", Body: `a={{urlquery .Title}}&b={{urlquery .Text}}`}), nil},
		{"http ok get", hook("http", Config{Method: "GET", URL: "https://gw.example/send?text={{urlquery .Text}}"}), nil},
		{"http bad method, content type", hook("http", Config{Method: "DELETE", ContentType: "xml", Body: "x"}), []string{
			p + `method: method must be one of GET, POST, PUT, PATCH (got "DELETE")`,
			p + `content_type: content_type must be json or form (got "xml")`,
		}},
		{"http no url, no body", Config{Name: "g", Type: "http"}, []string{
			p + "url: http needs url (the gateway's endpoint; it may be a template)",
			p + `body: http needs body: a template over the alert, such as {"text": {{json .Text}}} or text={{urlquery .Text}} with content_type form`,
		}},
		{"http body does not parse", hook("http", Config{Body: `{"text": {{json .Text}`}), []string{
			p + "body: body does not parse as a template: template: body:1: bad character U+007D '}'",
		}},
		{"http body does not render", hook("http", Config{Body: `{"text": {{json .Texts}}}`}), []string{
			p + `body: body does not render for a sample alert: template: body:1:16: executing "body" at <.Texts>: can't evaluate field Texts in type *notify.Message`,
		}},
		{"http body unquoted", hook("http", Config{Body: `{"text": "{{.Text}}"}`}), []string{
			p + `body: body does not render valid JSON for a sample alert (invalid character '\n' in string literal): quote each value with json, such as {"message": {{json .Text}}}`,
		}},
		{"http form unescaped", hook("http", Config{ContentType: "form", Body: `text={{.Text}}`}), []string{
			p + "body: body does not render a valid form for a sample alert: escape each value with urlquery, such as message={{urlquery .Text}}",
		}},
		{"http get with body", hook("http", Config{Method: "get", Body: "x"}), []string{
			p + "body: a GET request has no body: put the values in url (it may be a template), or use POST",
		}},
		{"http url template", hook("http", Config{URL: "https://gw.example/{{.Nope}}", Body: "{}"}), []string{
			p + `url: url does not render for a sample alert: template: url:1:21: executing "url" at <.Nope>: can't evaluate field Nope in type *notify.Message`,
		}},
		{"http url renders badly", hook("http", Config{URL: "https://{{.Title}}/x", Body: "{}"}), []string{
			p + "url: must not contain spaces, line breaks or control characters (the value is not shown: it may hold a secret) (as rendered for a sample alert)",
		}},
		{"http url does not parse", hook("http", Config{URL: "https://gw.example/{{", Body: "{}"}), []string{
			p + "url: url does not parse as a template: template: url:1: unclosed action",
		}},
		{"http header templates", hook("http", Config{Body: "{}", Headers: map[string]string{"X-A": "{{.Text}}", "X-B": "{{", "User-Agent": "x"}}), []string{
			p + "headers.User-Agent: is set by pantau (use content_type for Content-Type): remove it",
			p + "headers.X-A: must not contain a line break or control character (the value is not shown)",
			p + "headers.X-B: does not parse as a template: template: header:1: unclosed action",
		}},
		{"alertmanager ok", hook("alertmanager", Config{URL: "http://127.0.0.1:9093/", Headers: map[string]string{"X-Scope-OrgID": "noc"}}), nil},
		{"alertmanager full path", hook("alertmanager", Config{URL: "http://127.0.0.1:9093/api/v2/alerts"}), []string{
			p + "url: must be Alertmanager's base URL, such as http://127.0.0.1:9093, without /api/v2/alerts (pantau adds it)",
		}},
		{"alertmanager query", hook("alertmanager", Config{URL: "http://127.0.0.1:9093/?x=1"}), []string{
			p + "url: must be Alertmanager's base URL, without ? or #",
		}},
		{"timeout, rate", hook("slack", Config{Timeout: -1, RatePerMinute: -1}), []string{
			p + "timeout: must not be negative (got -1ns)",
			p + "rate_per_minute: must not be negative (got -1); 0 means the default, 20 a minute for telegram and 60 for the others",
		}},
		{"timeout too long", hook("slack", Config{Timeout: yamlconf.Duration(maxTimeout + 1e9)}), []string{
			p + "timeout: must be at most 5m: a slow endpoint holds up the notifications queued behind it (got 5m1s)",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := problems(tc.c)
			if !slices.Equal(got, tc.want) {
				t.Errorf("problems:\n got %s\nwant %s", strings.Join(got, "\n     "), strings.Join(tc.want, "\n     "))
			}
		})
	}
}

// TestNewRejectsInvalid: New validates, and says which notifier.
func TestNewRejectsInvalid(t *testing.T) {
	_, err := New(Config{Name: "tg", Type: "telegram"}, nil)
	if err == nil || !strings.HasPrefix(err.Error(), "notifier tg: bot_token: telegram needs bot_token") {
		t.Errorf("got %v", err)
	}
	var fe *yamlconf.FieldError
	if !errors.As(err, &fe) {
		t.Errorf("%v does not wrap the field errors", err)
	}
}

// decodeExample decodes a notifiers list strictly, as collector.yml is.
func decodeExample(t *testing.T, data string) []Config {
	t.Helper()
	var doc struct {
		Notifiers []Config `yaml:"notifiers"`
	}
	dec := yaml.NewDecoder(strings.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("decode: %v", err)
	}
	return doc.Notifiers
}

// TestExampleFile: the embedded example decodes strictly, every entry is
// valid and builds, names are unique, and every type is there.
func TestExampleFile(t *testing.T) {
	all := decodeExample(t, Example(""))
	seen := map[string]bool{}
	types := map[string]int{}
	for i, c := range all {
		probs := yamlconf.NewProblems(nil)
		c.Validate(probs, fmt.Sprintf("notifiers[%d]", i))
		if err := probs.Err(); err != nil {
			t.Errorf("%s: %v", c.Name, err)
		}
		if _, err := New(c, nil); err != nil {
			t.Errorf("New(%s): %v", c.Name, err)
		}
		if seen[c.Name] {
			t.Errorf("name %s twice", c.Name)
		}
		seen[c.Name] = true
		types[c.Type]++
	}
	for _, typ := range allTypes {
		if types[typ] == 0 {
			t.Errorf("no example of type %s", typ)
		}
		ex := Example(typ)
		got := decodeExample(t, ex)
		if len(got) != types[typ] || !strings.Contains(ex, "\n  # ") {
			t.Errorf("Example(%q) has %d entries (want %d) or no comment:\n%s", typ, len(got), types[typ], ex)
		}
		for _, c := range got {
			if c.Type != typ {
				t.Errorf("Example(%q) has a %s", typ, c.Type)
			}
		}
	}
	if types[typeHTTP] < 2 || !strings.Contains(Example("http"), "fonnte") || !strings.Contains(Example("http"), "wablas") {
		t.Error("the http example should show both WhatsApp gateways")
	}
	if Example("whatsapp") != "" {
		t.Error("Example of an unknown type is not empty")
	}
}

// TestExampleWhatsApp renders the two gateway examples for the hostile
// message and checks the bodies carry the text intact.
func TestExampleWhatsApp(t *testing.T) {
	for _, c := range decodeExample(t, Example("http")) {
		srv, reqs := server(t, reply{status: 200, body: `{"status":true}`})
		c.URL = srv.URL + "/send"
		m := firing()
		m.Labels["phone"] = "6281234567890"
		if err := mustNew(t, c).Send(context.Background(), m); err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		got := <-reqs
		var text string
		if c.ContentType == "form" {
			q, err := url.ParseQuery(string(got.body))
			if err != nil {
				t.Fatal(err)
			}
			text = q.Get("message")
		} else {
			var p struct{ Phone, Message string }
			if err := json.Unmarshal(got.body, &p); err != nil || p.Phone != "6281234567890" {
				t.Fatalf("%s: %v, body %s", c.Name, err, got.body)
			}
			text = p.Message
		}
		if !strings.Contains(text, m.Text) {
			t.Errorf("%s: message %q does not hold the text", c.Name, text)
		}
	}
}
