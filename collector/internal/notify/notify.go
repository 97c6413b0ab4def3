package notify

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/pantau-noc/pantau/internal/retry"
	"github.com/pantau-noc/pantau/internal/yamlconf"
)

// Message is one rendered notification.
type Message struct {
	ID       string            // stable id of this notification (outbox key); idempotency
	Status   string            // "firing" or "resolved"
	Severity string            // "critical", "warning", "info"
	Title    string            // one line, plain text (untrusted)
	Text     string            // body, plain text, may be multi-line (untrusted)
	Labels   map[string]string // e.g. site, opd, district, link, alertname, severity
	StartsAt time.Time
	EndsAt   time.Time // zero while firing
	URL      string    // optional link to the NOC dashboard ("" none)
}

// Notifier sends messages of one configured integration. It is safe for
// concurrent use.
type Notifier interface {
	Name() string                               // Config.Name
	Type() string                               // Config.Type
	RateLimit() int                             // messages per minute
	Send(ctx context.Context, m *Message) error // nil on success (2xx); otherwise *Error
}

// Error is a failed send. Its Error() text never contains a secret.
type Error struct {
	Notifier   string        // Config.Name
	Status     int           // HTTP status (Telegram: error_code); 0 for a network error or a message that could not be built
	Permanent  bool          // other 4xx (not 408/429), 3xx, or a message that cannot be built: do not retry
	RetryAfter time.Duration // from Telegram's parameters.retry_after or a Retry-After header; 0 if none
	Msg        string        // short reason, e.g. "telegram: Bad Request: chat not found"

	cause error // for errors.Is (context.DeadlineExceeded, ...); its text is secret-free too
}

// Error reads like "notify noc-telegram: telegram: Bad Request: chat not
// found (HTTP 400, permanent)".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("notify ")
	b.WriteString(e.Notifier)
	b.WriteString(": ")
	b.WriteString(e.Msg)
	b.WriteString(" (")
	if e.Status != 0 {
		b.WriteString("HTTP ")
		b.WriteString(strconv.Itoa(e.Status))
		b.WriteString(", ")
	}
	if e.Permanent {
		b.WriteString("permanent")
	} else {
		b.WriteString("retryable")
	}
	if e.RetryAfter > 0 {
		b.WriteString(", retry after ")
		b.WriteString(e.RetryAfter.String())
	}
	b.WriteString(")")
	return b.String()
}

// Unwrap returns the underlying cause, such as context.DeadlineExceeded;
// nil when there is none. It never returns an error whose text holds a
// secret (in particular never Go's *url.Error, which quotes the full URL).
func (e *Error) Unwrap() error { return e.cause }

// Limits and defaults.
const (
	userAgent      = "pantau-collector"
	maxRespBody    = 64 << 10 // bytes of a response read at most
	maxSnippet     = 200      // runes of a response body quoted in an error
	maxRetryAfter  = 24 * time.Hour
	defaultTimeout = 10 * time.Second
	redacted       = "[redacted]"
)

// New builds a Notifier from a valid config; it returns the validation
// problems otherwise. client may be nil: then a client with c.Timeout that
// does not follow redirects is used. Either way every Send is bounded by
// c.Timeout (default 10s).
func New(c Config, client *http.Client) (Notifier, error) {
	probs := yamlconf.NewProblems(nil)
	c.Validate(probs, "")
	if err := probs.Err(); err != nil {
		return nil, fmt.Errorf("notifier %s: %w", c.Name, err)
	}
	c.applyDefaults()
	n := &notifier{
		name:    c.Name,
		typ:     c.Type,
		rate:    c.rateLimit(),
		timeout: c.Timeout.Std(),
		secrets: c.secrets(),
		now:     time.Now,
	}
	if client == nil {
		client = &http.Client{
			Timeout: n.timeout,
			// A redirect would carry the signed body and configured headers
			// to another address; an endpoint that moved is a config error.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	n.client = client
	var err error
	switch c.Type {
	case typeTelegram:
		n.build, err = newTelegram(&c)
	case typeSlack:
		n.build, err = newChat(&c, slackPayload)
	case typeDiscord:
		n.build, err = newChat(&c, discordPayload)
	case typeGoogleChat:
		n.build, err = newChat(&c, googleChatPayload)
	case typeTeams:
		n.build, err = newChat(&c, teamsPayload)
	case typeWebhook:
		n.build, err = newWebhook(&c)
	case typeHTTP:
		n.build, err = newTemplated(&c)
	case typeAlertmanager:
		n.build, err = newAlertmanager(&c)
	default:
		err = fmt.Errorf("unknown type %q", c.Type) // unreachable after validate
	}
	if err != nil {
		// not wrapped: the text is redacted, the error it came from is not
		return nil, fmt.Errorf("notifier %s: %s", c.Name, n.secrets.clean(err.Error()))
	}
	return n, nil
}

// request is one HTTP request to make.
type request struct {
	method  string
	url     string
	site    string // scheme://host of url: the only part of it ever shown
	header  http.Header
	body    []byte
	secrets redactor // values that appear only in this request (rendered templates)
}

func newRequest(method, rawURL, host string, body []byte, contentType string) *request {
	h := http.Header{}
	h.Set("User-Agent", userAgent)
	if contentType != "" {
		h.Set("Content-Type", contentType)
	}
	return &request{method: method, url: rawURL, site: host, header: h, body: body}
}

// builder turns a message into a request; its error is permanent.
type builder func(m *Message, now time.Time) (*request, error)

type notifier struct {
	name, typ string
	rate      int
	timeout   time.Duration
	client    *http.Client
	secrets   redactor
	build     builder
	now       func() time.Time
}

func (n *notifier) Name() string   { return n.name }
func (n *notifier) Type() string   { return n.typ }
func (n *notifier) RateLimit() int { return n.rate }

// String names the notifier without any secret.
func (n *notifier) String() string { return n.typ + " notifier " + n.name }

// Send delivers m with one HTTP request.
func (n *notifier) Send(ctx context.Context, m *Message) error {
	if m == nil {
		return n.fail(nil, 0, true, n.typ+": no message to send", nil)
	}
	if err := ctx.Err(); err != nil {
		return n.fail(nil, 0, false, n.typ+": not sent: "+err.Error(), err)
	}
	r, err := n.build(m, n.now())
	if err != nil {
		return n.fail(r, 0, true, n.typ+": "+err.Error(), nil)
	}
	ctx, cancel := context.WithTimeout(ctx, n.timeout)
	defer cancel()
	var body io.Reader = http.NoBody
	if len(r.body) > 0 {
		body = bytes.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, r.url, body)
	if err != nil {
		// the error quotes the URL: say only where
		return n.fail(r, 0, true, fmt.Sprintf("%s: cannot make a %s request to %s", n.typ, r.method, r.site), nil)
	}
	req.Header = r.header
	resp, err := n.client.Do(req)
	if err != nil {
		return n.networkError(r, err)
	}
	defer resp.Body.Close()
	// a short or failed read still leaves the status to judge by
	data, _ := io.ReadAll(io.LimitReader(resp.Body, maxRespBody))
	if n.typ == typeTelegram {
		return n.telegramResult(r, resp, data)
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	e := n.fail(r, resp.StatusCode, permanentStatus(resp.StatusCode),
		fmt.Sprintf("%s: %s %s: %s", n.typ, r.method, r.site, reason(resp, data, n.redactor(r))), nil)
	e.RetryAfter = retryAfter(resp.Header.Get("Retry-After"), n.now())
	return e
}

// permanentStatus classifies a non-2xx status: 408, 429 and 5xx are worth
// retrying; any other (4xx, and 3xx: redirects are not followed) is not.
func permanentStatus(code int) bool {
	return !(code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || code >= 500)
}

// redactor returns the secrets of the notifier and of request r.
func (n *notifier) redactor(r *request) redactor {
	if r == nil {
		return n.secrets
	}
	return n.secrets.with(r.secrets)
}

// fail makes an *Error, removing every known secret from its text.
func (n *notifier) fail(r *request, status int, permanent bool, msg string, cause error) *Error {
	red := n.redactor(r)
	return &Error{Notifier: n.name, Status: status, Permanent: permanent, Msg: red.clean(msg), cause: red.safeCause(cause)}
}

// networkError describes a failed round trip. Go's *url.Error quotes the
// whole URL (with the webhook token or bot token in it), so only the error
// it wraps is shown, after the host.
func (n *notifier) networkError(r *request, err error) *Error {
	inner := err
	for {
		var ue *url.Error
		if !errors.As(inner, &ue) || ue.Err == nil {
			break
		}
		inner = ue.Err
	}
	msg := fmt.Sprintf("%s: %s %s: %s", n.typ, r.method, r.site, inner.Error())
	var t interface{ Timeout() bool }
	if errors.As(err, &t) && t.Timeout() {
		msg += fmt.Sprintf(" (timeout %s)", n.timeout)
	}
	return n.fail(r, 0, false, msg, inner)
}

// reason summarizes an error response: a short, single-line quote of its
// body (secrets removed before it is cut, so that no part of one is left),
// or the status text when the body is empty or an HTML page.
func reason(resp *http.Response, body []byte, red redactor) string {
	text := strings.TrimSpace(red.clean(string(body)))
	ct := strings.ToLower(resp.Header.Get("Content-Type"))
	if text == "" || strings.Contains(ct, "html") || strings.HasPrefix(text, "<") {
		text = http.StatusText(resp.StatusCode)
		if text == "" {
			text = "status " + strconv.Itoa(resp.StatusCode)
		}
	}
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		text += " (redirects are not followed: set url to the final address)"
	}
	return snippet(text)
}

// snippet makes s one line of at most maxSnippet runes, printable only.
func snippet(s string) string {
	var b strings.Builder
	n, space := 0, false
	for _, r := range s {
		if unicode.IsSpace(r) || !unicode.IsPrint(r) {
			space = true
			continue
		}
		if n >= maxSnippet {
			b.WriteString("…")
			break
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
			n++
		}
		space = false
		b.WriteRune(r)
		n++
	}
	return b.String()
}

// retryAfter parses a Retry-After header (internal/retry: delay-seconds or
// an HTTP date), to the second. Zero when absent, invalid or past; capped
// at a day.
func retryAfter(v string, now time.Time) time.Duration {
	d, _ := retry.ParseRetryAfter(v, now, maxRetryAfter)
	return d.Round(time.Second)
}

// marshal encodes v as compact JSON without HTML escaping ("<" stays "<")
// and without a trailing newline.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("encode JSON: %w", err)
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// site reduces a URL to scheme://host, the only part of it shown anywhere.
func site(u *url.URL) string { return u.Scheme + "://" + u.Host }

// redactor holds the secret strings of a notifier, longest first, and
// replaces them in any text that is about to be shown.
type redactor []string

func (r redactor) with(more redactor) redactor {
	if len(more) == 0 {
		return r
	}
	out := append(append(redactor{}, r...), more...)
	out.sort()
	return out
}

func (r redactor) sort() {
	sort.SliceStable(r, func(i, j int) bool { return len(r[i]) > len(r[j]) })
}

func (r redactor) clean(s string) string {
	for _, sec := range r {
		if sec != "" && strings.Contains(s, sec) {
			s = strings.ReplaceAll(s, sec, redacted)
		}
	}
	return s
}

// safeCause keeps err for errors.Is unless its text holds a secret; then
// only the context sentinel it wraps, if any, is kept.
func (r redactor) safeCause(err error) error {
	if err == nil || r.clean(err.Error()) == err.Error() {
		return err
	}
	for _, s := range []error{context.DeadlineExceeded, context.Canceled} {
		if errors.Is(err, s) {
			return s
		}
	}
	return nil
}

// minRedact is the shortest value redacted: replacing shorter ones would
// garble every message, and protects nothing (a real token is longer).
const minRedact = 6

// add appends s, if at least min (and minRedact) bytes long, and, for
// multi-word values such as "Bearer xyz", each long enough word.
func (r *redactor) add(s string, min int) {
	if len(s) < max(min, minRedact) {
		return
	}
	*r = append(*r, s)
	if f := strings.Fields(s); len(f) > 1 {
		for _, w := range f {
			if len(w) >= 8 {
				*r = append(*r, w)
			}
		}
	}
}

// addURL adds the parts of a URL that may be secret: the user info, the
// path and query as a whole, and each path segment or query value that
// looks like a token (webhook URLs carry their credentials there).
func (r *redactor) addURL(raw string) {
	if raw == "" {
		return
	}
	u, err := url.Parse(raw)
	if err != nil {
		// cannot tell the parts apart: hide all of it, and its pieces
		r.add(raw, 1)
		for _, p := range strings.FieldsFunc(raw, func(c rune) bool { return strings.ContainsRune("/?&=#@: ", c) }) {
			r.addToken(p)
		}
		return
	}
	if u.User != nil {
		r.add(u.User.String(), 1)
		r.add(u.User.Username(), 1)
		if p, ok := u.User.Password(); ok {
			r.add(p, 1)
			// as the client sends it: Authorization: Basic base64(user:pass)
			r.add(base64.StdEncoding.EncodeToString([]byte(u.User.Username()+":"+p)), 1)
		}
	}
	for _, p := range []string{u.EscapedPath(), u.Path, u.RawQuery, u.Fragment} {
		r.add(p, 1)
	}
	for _, seg := range strings.Split(u.EscapedPath(), "/") {
		r.addToken(seg)
		if un, err := url.PathUnescape(seg); err == nil {
			r.addToken(un)
		}
	}
	if q, err := url.ParseQuery(u.RawQuery); err == nil {
		for _, vs := range q {
			for _, v := range vs {
				r.addToken(v)
				r.addToken(url.QueryEscape(v))
			}
		}
	}
}

// addToken adds s if it looks like a credential rather than a word: long,
// or holding a digit or a capital letter.
func (r *redactor) addToken(s string) {
	if len(s) >= 16 || len(s) >= minRedact && strings.IndexFunc(s, func(c rune) bool { return unicode.IsDigit(c) || unicode.IsUpper(c) }) >= 0 {
		*r = append(*r, s)
	}
}

// utf16Len is the length of s in UTF-16 code units, which is how Telegram
// and Discord count (a rune outside the BMP, such as an emoji, is 2).
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += runeUnits(r)
	}
	return n
}

func runeUnits(r rune) int {
	if r >= 0x10000 {
		return 2
	}
	return 1
}
