package notify

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// sendErr sends the firing message and returns the *Error (nil if none).
func sendErr(t *testing.T, ctx context.Context, n Notifier) *Error {
	t.Helper()
	err := n.Send(ctx, firing())
	if err == nil {
		return nil
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %T is not *Error: %v", err, err)
	}
	if e.Notifier != n.Name() {
		t.Errorf("Notifier %q, want %q", e.Notifier, n.Name())
	}
	return e
}

func slackConfig(url string) Config {
	return Config{Name: "noc-slack", Type: "slack", URL: url + "/services/T0/B0/X0"}
}

func telegramConfig(url string) Config {
	return Config{Name: "noc-telegram", Type: "telegram", URL: url, BotToken: testToken, ChatID: "-1001234567890"}
}

// TestClassification: 2xx success; 408, 429, 5xx retryable; other 4xx and
// 3xx permanent; Retry-After and Telegram's retry_after honoured.
func TestClassification(t *testing.T) {
	httpDate := fixedNow.Add(30 * time.Second).Format(http.TimeFormat)
	for _, tc := range []struct {
		name       string
		telegram   bool
		rep        reply
		ok         bool
		status     int
		permanent  bool
		retryAfter time.Duration
		msg        string // the Msg expected, or a part of it ("…" first)
	}{
		{name: "200", rep: reply{status: 200, body: "ok"}, ok: true},
		{name: "204", rep: reply{status: 204}, ok: true},
		{name: "500", rep: reply{status: 500, body: "internal error"}, status: 500, msg: "slack: POST http://127.0.0.1:*: internal error"},
		{name: "502 html", rep: reply{status: 502, header: map[string]string{"Content-Type": "text/html"}, body: "<html><body>Bad Gateway</body></html>"}, status: 502, msg: "…: Bad Gateway"},
		{name: "503 retry-after date", rep: reply{status: 503, header: map[string]string{"Retry-After": httpDate}}, status: 503, retryAfter: 30 * time.Second, msg: "…: Service Unavailable"},
		{name: "408", rep: reply{status: 408}, status: 408},
		{name: "429 retry-after", rep: reply{status: 429, header: map[string]string{"Retry-After": "7"}, body: "rate_limited"}, status: 429, retryAfter: 7 * time.Second, msg: "…: rate_limited"},
		{name: "429 retry-after huge", rep: reply{status: 429, header: map[string]string{"Retry-After": "999999999999999"}}, status: 429, retryAfter: 24 * time.Hour},
		{name: "429 retry-after beyond int64", rep: reply{status: 429, header: map[string]string{"Retry-After": "99999999999999999999999"}}, status: 429, retryAfter: 24 * time.Hour},
		{name: "429 retry-after negative", rep: reply{status: 429, header: map[string]string{"Retry-After": "-5"}}, status: 429},
		{name: "429 retry-after junk", rep: reply{status: 429, header: map[string]string{"Retry-After": "soon"}}, status: 429},
		{name: "400", rep: reply{status: 400, body: "invalid_payload"}, status: 400, permanent: true, msg: "…: invalid_payload"},
		{name: "403", rep: reply{status: 403, body: "invalid_token"}, status: 403, permanent: true},
		{name: "404", rep: reply{status: 404, body: "no_service"}, status: 404, permanent: true, msg: "…: no_service"},
		{name: "301", rep: reply{status: 301, header: map[string]string{"Location": "https://elsewhere.example/x"}}, status: 301, permanent: true,
			msg: "…: Moved Permanently (redirects are not followed: set url to the final address)"},
		{name: "long body", rep: reply{status: 500, body: strings.Repeat("x ", 100000)}, status: 500},

		{name: "telegram ok", telegram: true, rep: reply{status: 200, body: `{"ok":true,"result":{"message_id":1}}`}, ok: true},
		{name: "telegram 200 not json", telegram: true, rep: reply{status: 200, body: "OK"}, ok: true},
		{name: "telegram 429", telegram: true,
			rep:    reply{status: 429, header: map[string]string{"Retry-After": "5"}, body: `{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 13","parameters":{"retry_after":13}}`},
			status: 429, retryAfter: 13 * time.Second, msg: "telegram: Too Many Requests: retry after 13"},
		{name: "telegram chat not found", telegram: true,
			rep:    reply{status: 400, body: `{"ok":false,"error_code":400,"description":"Bad Request: chat not found"}`},
			status: 400, permanent: true, msg: "telegram: Bad Request: chat not found"},
		{name: "telegram ok false on 200", telegram: true,
			rep:    reply{status: 200, body: `{"ok":false,"error_code":403,"description":"Forbidden: bot was kicked from the supergroup chat"}`},
			status: 403, permanent: true, msg: "telegram: Forbidden: bot was kicked from the supergroup chat"},
		{name: "telegram migrated", telegram: true,
			rep:    reply{status: 400, body: `{"ok":false,"error_code":400,"description":"Bad Request: group chat was upgraded to a supergroup chat","parameters":{"migrate_to_chat_id":-1009876543210}}`},
			status: 400, permanent: true, msg: "telegram: Bad Request: group chat was upgraded to a supergroup chat (the group is now the supergroup -1009876543210: set chat_id to it)"},
		{name: "telegram 502 html", telegram: true, rep: reply{status: 502, body: "<html>bad gateway</html>"}, status: 502, msg: "telegram: POST http://127.0.0.1:*: Bad Gateway"},
		{name: "telegram 404 no json", telegram: true, rep: reply{status: 404, body: "Not Found"}, status: 404, permanent: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, _ := server(t, tc.rep)
			cfg := slackConfig(srv.URL)
			if tc.telegram {
				cfg = telegramConfig(srv.URL)
			}
			e := sendErr(t, context.Background(), mustNew(t, cfg))
			if tc.ok {
				if e != nil {
					t.Fatalf("want success, got %v", e)
				}
				return
			}
			if e == nil {
				t.Fatal("want an error, got success")
			}
			if e.Status != tc.status || e.Permanent != tc.permanent || e.RetryAfter != tc.retryAfter {
				t.Errorf("Status %d Permanent %v RetryAfter %s, want %d %v %s (%v)", e.Status, e.Permanent, e.RetryAfter, tc.status, tc.permanent, tc.retryAfter, e)
			}
			if tc.msg != "" && !msgMatches(e.Msg, tc.msg, srv.URL) {
				t.Errorf("Msg %q, want %q", e.Msg, tc.msg)
			}
			if n := len([]rune(e.Msg)); n > 300 {
				t.Errorf("Msg is %d runes long", n)
			}
		})
	}
}

// msgMatches: want is the Msg with "http://127.0.0.1:*" for the server,
// or, starting with "…", its ending.
func msgMatches(got, want, base string) bool {
	want = strings.ReplaceAll(want, "http://127.0.0.1:*", base)
	if rest, ok := strings.CutPrefix(want, "…"); ok {
		return strings.HasSuffix(got, rest)
	}
	return got == want
}

// TestErrorText shows the whole error as the outbox logs it.
func TestErrorText(t *testing.T) {
	for _, tc := range []struct {
		e    Error
		want string
	}{
		{Error{Notifier: "noc-telegram", Status: 400, Permanent: true, Msg: "telegram: Bad Request: chat not found"},
			"notify noc-telegram: telegram: Bad Request: chat not found (HTTP 400, permanent)"},
		{Error{Notifier: "noc-telegram", Status: 429, RetryAfter: 13 * time.Second, Msg: "telegram: Too Many Requests: retry after 13"},
			"notify noc-telegram: telegram: Too Many Requests: retry after 13 (HTTP 429, retryable, retry after 13s)"},
		{Error{Notifier: "s", Msg: "slack: POST https://hooks.slack.com: dial tcp: connection refused"},
			"notify s: slack: POST https://hooks.slack.com: dial tcp: connection refused (retryable)"},
	} {
		if got := tc.e.Error(); got != tc.want {
			t.Errorf("\n got %s\nwant %s", got, tc.want)
		}
	}
}

// TestNetworkErrors: refused connections, timeouts and cancellation are
// retryable with Status 0, and unwrap to the context's error.
func TestNetworkErrors(t *testing.T) {
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()

	block := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-block:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(slow.Close)
	t.Cleanup(func() { close(block) })

	t.Run("refused", func(t *testing.T) {
		e := sendErr(t, context.Background(), mustNew(t, slackConfig(closed.URL)))
		if e == nil || e.Status != 0 || e.Permanent || !strings.Contains(e.Msg, "refused") {
			t.Fatalf("got %v", e)
		}
		if want := "slack: POST " + closed.URL + ": "; !strings.HasPrefix(e.Msg, want) {
			t.Errorf("Msg %q does not start with %q", e.Msg, want)
		}
	})
	t.Run("context deadline", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		e := sendErr(t, ctx, mustNew(t, slackConfig(slow.URL)))
		if e == nil || e.Status != 0 || e.Permanent || !errors.Is(e, context.DeadlineExceeded) {
			t.Fatalf("got %v (cause %v)", e, errors.Unwrap(e))
		}
	})
	t.Run("config timeout", func(t *testing.T) {
		cfg := slackConfig(slow.URL)
		cfg.Timeout = 100 * 1e6 // 100ms
		start := time.Now()
		e := sendErr(t, context.Background(), mustNew(t, cfg))
		if e == nil || e.Permanent || !strings.Contains(e.Msg, "(timeout 100ms)") {
			t.Fatalf("got %v", e)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("took %s", d)
		}
	})
	t.Run("config timeout with the caller's client", func(t *testing.T) {
		cfg := slackConfig(slow.URL)
		cfg.Timeout = 100 * 1e6
		n, err := New(cfg, &http.Client{}) // no timeout of its own
		if err != nil {
			t.Fatal(err)
		}
		e := sendErr(t, context.WithoutCancel(context.Background()), n)
		if e == nil || e.Permanent || !errors.Is(e, context.DeadlineExceeded) {
			t.Fatalf("got %v", e)
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		e := sendErr(t, ctx, mustNew(t, slackConfig(slow.URL)))
		if e == nil || e.Permanent || !errors.Is(e, context.Canceled) {
			t.Fatalf("got %v", e)
		}
	})
}

// TestBuildErrors: a message that cannot be built is a permanent error,
// and nothing is sent.
func TestBuildErrors(t *testing.T) {
	srv, reqs := server(t, reply{status: 200})
	for _, tc := range []struct {
		name string
		cfg  Config
		msg  *Message
		want string
	}{
		{"invalid JSON", Config{Name: "gw", Type: "http", URL: srv.URL,
			Body: `{{if eq .ID "raw"}}{"text": "{{.Text}}"}{{else}}{}{{end}}`},
			&Message{ID: "raw", Text: "a \"quoted\" word"},
			"http: the body template produced invalid JSON: quote each value with json, such as {\"message\": {{json .Text}}}"},
		{"invalid form", Config{Name: "gw", Type: "http", URL: srv.URL, ContentType: "form",
			Body: `{{if eq .ID "raw"}}text={{.Text}}{{else}}text=x{{end}}`},
			&Message{ID: "raw", Text: "100%"},
			"http: the body template produced an invalid form body: escape each value with urlquery, such as message={{urlquery .Text}}"},
		{"bad url", Config{Name: "gw", Type: "http", URL: `http://{{or .Labels.gw "127.0.0.1"}}/send`, Body: "{}"},
			&Message{Labels: map[string]string{"gw": "bad host"}},
			"http: the url template rendered a bad URL: must not contain spaces, line breaks or control characters (the value is not shown: it may hold a secret)"},
		{"header line break", Config{Name: "gw", Type: "http", URL: srv.URL, Method: "GET", Headers: map[string]string{"X-Title": `{{if eq .ID "1"}}{{.Text}}{{else}}x{{end}}`}},
			&Message{ID: "1", Text: "a\r\nInjected: yes"},
			"http: header X-Title rendered empty or with a line break or control character"},
		{"nil message", slackConfig(srv.URL), nil, "slack: no message to send"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := mustNew(t, tc.cfg).Send(context.Background(), tc.msg)
			var e *Error
			if !errors.As(err, &e) || !e.Permanent || e.Status != 0 {
				t.Fatalf("got %v, want a permanent *Error", err)
			}
			if e.Msg != tc.want {
				t.Errorf("Msg\n got %s\nwant %s", e.Msg, tc.want)
			}
			if len(reqs) != 0 {
				t.Errorf("a request was sent")
			}
		})
	}
}
