package notify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/internal/yamlconf"
)

// theSecret is put in every secret place; none of its parts may show.
const theSecret = "Zq9SECRETsecret0xDEADBEEF"

var secretParts = []string{theSecret, "SECRETsecret", "0xDEADBEEF", "Zq9SECRET"}

// assertNoSecret fails if any text shows a part of theSecret.
func assertNoSecret(t *testing.T, what string, texts ...string) {
	t.Helper()
	for _, s := range texts {
		for _, p := range secretParts {
			if strings.Contains(s, p) {
				t.Errorf("%s shows the secret: %s", what, s)
				return
			}
		}
	}
}

// errorTexts is every way an error may be printed or inspected.
func errorTexts(err error) []string {
	texts := []string{err.Error(), fmt.Sprintf("%v", err), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err), fmt.Sprintf("%q", err)}
	for e := errors.Unwrap(err); e != nil; e = errors.Unwrap(e) {
		texts = append(texts, e.Error(), fmt.Sprintf("%+v", e))
	}
	var ne *Error
	if errors.As(err, &ne) {
		texts = append(texts, ne.Msg)
	}
	return texts
}

// secretConfigs has one notifier of every type with theSecret wherever a
// secret goes, sending to base (scheme://host:port).
func secretConfigs(base string) []Config {
	hostport := strings.TrimPrefix(base, "http://")
	return []Config{
		{Name: "tg", Type: "telegram", URL: base, BotToken: "123456789:" + theSecret, ChatID: "-100123"},
		{Name: "slack", Type: "slack", URL: base + "/services/T0/B0/" + theSecret + "?token=" + theSecret + "q"},
		{Name: "discord", Type: "discord", URL: base + "/api/webhooks/1/" + theSecret},
		{Name: "gchat", Type: "googlechat", URL: base + "/v1/spaces/A/messages?key=" + theSecret + "&token=" + theSecret + "2"},
		{Name: "teams", Type: "teams", URL: base + "/workflows/" + theSecret + "/invoke?sig=" + theSecret},
		{Name: "hook", Type: "webhook", URL: base + "/hooks/" + theSecret, Secret: theSecret,
			Headers: map[string]string{"Authorization": "Bearer " + theSecret}},
		{Name: "gw", Type: "http", URL: base + "/send/{{urlquery .ID}}?apikey=" + theSecret,
			Headers: map[string]string{"X-Api-Key": theSecret, "Authorization": "Token " + theSecret},
			Body:    `{"token": "` + theSecret + `", "text": {{json .Text}}}`},
		{Name: "am", Type: "alertmanager", URL: "http://noc:" + theSecret + "@" + hostport + "/am/" + theSecret,
			Headers: map[string]string{"Authorization": "Basic " + theSecret}},
	}
}

// echo answers status with everything it received: the request URI, every
// header and the body, as a careless endpoint might.
func echo(status int, asTelegram bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var b strings.Builder
		fmt.Fprintf(&b, "%s %s ", r.Method, r.URL.RequestURI())
		for k, v := range r.Header {
			fmt.Fprintf(&b, "%s: %s ", k, strings.Join(v, ","))
		}
		b.Write(body)
		text := b.String()
		if asTelegram {
			text = fmt.Sprintf(`{"ok":false,"error_code":%d,"description":%q}`, status, "Bad Request: "+text)
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, text)
	}
}

// TestSecretsNeverLeak provokes every kind of failure with secrets in
// every place and checks no error, string or validation message shows one.
func TestSecretsNeverLeak(t *testing.T) {
	block := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-block:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(slow.Close)
	t.Cleanup(func() { close(block) })
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()

	servers := map[string]*httptest.Server{}
	for _, tc := range []struct {
		name     string
		status   int
		telegram bool
	}{{"500", 500, false}, {"400", 400, false}, {"429", 429, false}, {"telegram 400", 400, true}} {
		srv := httptest.NewServer(echo(tc.status, tc.telegram))
		t.Cleanup(srv.Close)
		servers[tc.name] = srv
	}

	for i, c := range secretConfigs("http://127.0.0.1:1") {
		t.Run(c.Type, func(t *testing.T) {
			assertNoSecret(t, "Config %v", fmt.Sprintf("%v", c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c), c.String())
			for name, srv := range servers {
				n := mustNew(t, secretConfigs(srv.URL)[i])
				assertNoSecret(t, "Notifier", fmt.Sprintf("%v", n), fmt.Sprintf("%+v", n))
				err := n.Send(context.Background(), firing())
				if err == nil {
					t.Fatalf("%s: no error", name)
				}
				assertNoSecret(t, name, errorTexts(err)...)
				if name == "500" && !strings.Contains(err.Error(), "[redacted]") {
					t.Errorf("the echoed secret was not redacted but dropped? %v", err)
				}
			}
			for name, base := range map[string]string{"refused": closed.URL, "timeout": slow.URL} {
				c := secretConfigs(base)[i]
				c.Timeout = yamlconf.Duration(100 * time.Millisecond)
				err := mustNew(t, c).Send(context.Background(), firing())
				var e *Error
				if !errors.As(err, &e) || e.Permanent || e.Status != 0 {
					t.Fatalf("%s: got %v", name, err)
				}
				assertNoSecret(t, name, errorTexts(err)...)
			}
		})
	}

	t.Run("url template renders a bad host", func(t *testing.T) {
		c := Config{Name: "gw", Type: "http", URL: `http://{{or .Labels.gw "127.0.0.1"}}/send/` + theSecret + "?key=" + theSecret, Body: "{}"}
		err := mustNew(t, c).Send(context.Background(), &Message{Labels: map[string]string{"gw": "bad host:x"}})
		if err == nil {
			t.Fatal("no error")
		}
		assertNoSecret(t, "error", errorTexts(err)...)
	})
	t.Run("dial error on a bad port", func(t *testing.T) {
		c := Config{Name: "gw", Type: "http", URL: `http://127.0.0.1:{{or .Labels.port "1"}}/send/` + theSecret, Body: "{}"}
		err := mustNew(t, c).Send(context.Background(), &Message{Labels: map[string]string{"port": "99999"}})
		if err == nil {
			t.Fatal("no error")
		}
		assertNoSecret(t, "error", errorTexts(err)...)
	})
}

// TestSecretsNotInValidation: invalid configs holding secrets give
// messages (and New errors) without them.
func TestSecretsNotInValidation(t *testing.T) {
	for _, c := range []Config{
		{Name: "tg", Type: "telegram", BotToken: theSecret, ChatID: "-1"},
		{Name: "tg", Type: "telegram", BotToken: "bot123:" + theSecret, ChatID: "-1"},
		{Name: "tg", Type: "telegram", BotToken: "123:" + theSecret + " ", ChatID: "-1"},
		{Name: "tg", Type: "telegram", BotToken: "123456:" + theSecret, ChatID: "-1", URL: "https://api.telegram.org/bot123456:" + theSecret},
		{Name: "s", Type: "slack", URL: "https://hooks.slack.com/services/" + theSecret + " x"},
		{Name: "s", Type: "slack", URL: "ftp://hooks.slack.com/services/" + theSecret},
		{Name: "s", Type: "slack", URL: "hooks.slack.com/services/" + theSecret},
		{Name: "s", Type: "slack", URL: "https://hooks.slack.com/services/%zz" + theSecret},
		{Name: "s", Type: "slack", URL: "https://exa mple.com/" + theSecret},
		{Name: "s", Type: "slack", URL: "http://127.0.0.1:99999/" + theSecret},
		{Name: "s", Type: "slack", URL: theSecret + ":" + theSecret},
		{Name: "s", Type: "slack", URL: "https://hooks.slack.com/x", BotToken: theSecret, Secret: theSecret},
		{Name: "h", Type: "webhook", URL: "https://x.example/" + theSecret, Secret: theSecret[:10]},
		{Name: "h", Type: "webhook", URL: "https://x.example/", Headers: map[string]string{"Authorization": "Bearer " + theSecret + "\nX: y", "Bad Name": theSecret}},
		{Name: "g", Type: "http", URL: "https://x.example/{{.Nope}}/" + theSecret, Body: `{"token": "` + theSecret + `", "t": {{json .Text}`},
		{Name: "g", Type: "http", URL: "https://x.example/", Body: `{"token": "` + theSecret + `", "t": "{{.Text}}"}`},
		{Name: "g", Type: "http", URL: "https://x.example/", ContentType: "form", Body: `token=` + theSecret + `&t={{.Text}}`},
		{Name: "g", Type: "http", URL: "https://x.example/", Body: "{}", Headers: map[string]string{"X-Key": theSecret + "{{.Text}}"}},
		{Name: "a", Type: "alertmanager", URL: "https://u:" + theSecret + "@am.example/api/v2/alerts"},
	} {
		probs := yamlconf.NewProblems(nil)
		c.Validate(probs, "notifiers[0]")
		err := probs.Err()
		if err == nil {
			t.Errorf("%s: no problem found", c.Type)
			continue
		}
		assertNoSecret(t, "Validate", err.Error())
		if _, err := New(c, nil); err == nil {
			t.Errorf("New accepted an invalid config")
		} else {
			assertNoSecret(t, "New", errorTexts(err)...)
		}
	}
}
