package notify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/pantau-noc/pantau/internal/retry"
)

// Length limits, in UTF-16 code units of the text sent (what Telegram and
// Discord count; for text without emoji that is the number of runes).
const (
	telegramLimit = 4096 // sendMessage text, counted here before entity parsing: conservative
	discordLimit  = 2000 // webhook content
	titleLimit    = 256  // the title line, so that a long title leaves room for the text
	linkLimit     = 1024 // a dashboard link longer than this is left out
)

const contentTypeJSON = "application/json"

// truncate escapes s rune by rune with esc and cuts the result to at most
// limit UTF-16 units, ending with "…" when anything was cut. It cuts
// between runes only, so an escape such as &lt; is never split. Invalid
// UTF-8 becomes U+FFFD.
func truncate(s string, limit int, esc func(rune) string) string {
	if limit < 1 {
		return ""
	}
	var b strings.Builder
	n, cut := 0, -1 // cut: the length of b when "…" last fitted after it
	for _, r := range s {
		e := esc(r)
		u := runeUnits(r)
		if e != "" {
			u = utf16Len(e)
		}
		if cut < 0 && n+u > limit-1 {
			cut = b.Len()
		}
		if n+u > limit {
			return b.String()[:cut] + "…"
		}
		if e != "" {
			b.WriteString(e)
		} else {
			b.WriteRune(r)
		}
		n += u
	}
	return b.String()
}

// escape escapes all of s with esc.
func escape(s string, esc func(rune) string) string { return truncate(s, math.MaxInt, esc) }

// escHTML escapes what Telegram's HTML parse mode and Slack's mrkdwn
// require (&, < and >), and nothing else.
func escHTML(r rune) string {
	switch r {
	case '&':
		return "&amp;"
	case '<':
		return "&lt;"
	case '>':
		return "&gt;"
	}
	return ""
}

// escHTMLAttr escapes a double-quoted HTML attribute value.
func escHTMLAttr(r rune) string {
	if r == '"' {
		return "&quot;"
	}
	return escHTML(r)
}

// escLinkURL keeps a URL from ending a <url|text> link early.
func escLinkURL(r rune) string {
	switch r {
	case '&':
		return "&amp;"
	case '<':
		return "%3C"
	case '>':
		return "%3E"
	case '|':
		return "%7C"
	}
	return ""
}

// escGoogleChat breaks Google Chat's <...> syntax, which has no escape:
// untrusted "<users/all>" would notify everyone in the space. A zero-width
// space after each "<" keeps the text looking the same.
func escGoogleChat(r rune) string {
	if r == '<' {
		return "<\u200b"
	}
	return ""
}

// escMarkdownURL keeps a URL inside a Markdown link's parentheses.
func escMarkdownURL(r rune) string {
	switch r {
	case '(':
		return "%28"
	case ')':
		return "%29"
	case ' ':
		return "%20"
	}
	return ""
}

func escNone(rune) string { return "" }

var lineBreaks = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ")

// oneLine joins the lines of an untrusted title.
func oneLine(s string) string { return lineBreaks.Replace(s) }

// dashboardURL is the message's link if it is a usable http(s) URL.
func dashboardURL(raw string) string {
	if len(raw) > linkLimit {
		return ""
	}
	if u, err := url.Parse(raw); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	return raw
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// staticEndpoint parses a validated endpoint URL.
func staticEndpoint(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "", errors.New("invalid url") // validated before; the value is not shown
	}
	return site(u), nil
}

// --- Telegram ---

type telegramPayload struct {
	ChatID                string `json:"chat_id"`
	ThreadID              int64  `json:"message_thread_id,omitempty"`
	Text                  string `json:"text"`
	ParseMode             string `json:"parse_mode"`
	DisableWebPagePreview bool   `json:"disable_web_page_preview"`
}

func newTelegram(c *Config) (builder, error) {
	base := strings.TrimRight(c.URL, "/")
	host, err := staticEndpoint(base)
	if err != nil {
		return nil, err
	}
	endpoint := base + "/bot" + c.BotToken + "/sendMessage"
	chat, thread := c.ChatID, c.ThreadID
	return func(m *Message, _ time.Time) (*request, error) {
		body, err := marshal(telegramPayload{ChatID: chat, ThreadID: thread, Text: telegramText(m), ParseMode: "HTML", DisableWebPagePreview: true})
		if err != nil {
			return nil, err
		}
		return newRequest(http.MethodPost, endpoint, host, body, contentTypeJSON), nil
	}, nil
}

// telegramText is the message in Telegram's HTML parse mode: the title in
// bold, the text, and a link to the dashboard, within Telegram's limit.
func telegramText(m *Message) string {
	var foot string
	if u := dashboardURL(m.URL); u != "" {
		foot = "\n<a href=\"" + escape(u, escHTMLAttr) + "\">Dashboard</a>"
		if utf16Len(foot) > linkLimit {
			foot = ""
		}
	}
	head := "<b>" + truncate(oneLine(m.Title), titleLimit, escHTML) + "</b>\n"
	return head + truncate(m.Text, telegramLimit-utf16Len(head)-utf16Len(foot), escHTML) + foot
}

// telegramResponse is the Bot API's answer.
type telegramResponse struct {
	OK          bool   `json:"ok"`
	ErrorCode   int    `json:"error_code"`
	Description string `json:"description"`
	Parameters  struct {
		RetryAfter      int64 `json:"retry_after"`
		MigrateToChatID int64 `json:"migrate_to_chat_id"`
	} `json:"parameters"`
}

// telegramResult judges the Bot API's answer: {"ok":true} is success, and
// {"ok":false} an error with its error_code and description, even on 200.
func (n *notifier) telegramResult(r *request, resp *http.Response, data []byte) error {
	var tr telegramResponse
	decoded := json.Unmarshal(data, &tr) == nil
	code := resp.StatusCode
	if code >= 200 && code < 300 && (!decoded || tr.OK) {
		return nil // a 2xx without a readable answer was still accepted
	}
	status := code
	if decoded && tr.ErrorCode != 0 {
		status = tr.ErrorCode
	}
	var msg string
	if decoded && tr.Description != "" {
		msg = "telegram: " + snippet(n.redactor(r).clean(tr.Description))
	} else {
		msg = fmt.Sprintf("telegram: %s %s: %s", r.method, r.site, reason(resp, data, n.redactor(r)))
	}
	if id := tr.Parameters.MigrateToChatID; id != 0 {
		msg += " (the group is now the supergroup " + strconv.FormatInt(id, 10) + ": set chat_id to it)"
	}
	e := n.fail(r, status, permanentStatus(status), msg, nil)
	if e.RetryAfter = retry.Seconds(tr.Parameters.RetryAfter, maxRetryAfter); e.RetryAfter == 0 {
		e.RetryAfter = retryAfter(resp.Header.Get("Retry-After"), n.now())
	}
	return e
}

// --- Slack, Discord, Google Chat, Teams: one POST of a JSON payload ---

func newChat(c *Config, payload func(*Message) any) (builder, error) {
	host, err := staticEndpoint(c.URL)
	if err != nil {
		return nil, err
	}
	endpoint := c.URL
	return func(m *Message, _ time.Time) (*request, error) {
		body, err := marshal(payload(m))
		if err != nil {
			return nil, err
		}
		return newRequest(http.MethodPost, endpoint, host, body, contentTypeJSON), nil
	}, nil
}

type textPayload struct {
	Text string `json:"text"`
}

// slackPayload is mrkdwn, which Mattermost and Rocket.Chat read too.
// Escaping <, > and & also keeps untrusted text from forming <!channel>.
func slackPayload(m *Message) any {
	text := "*" + escape(oneLine(m.Title), escHTML) + "*\n" + escape(m.Text, escHTML)
	if u := dashboardURL(m.URL); u != "" {
		text += "\n<" + escape(u, escLinkURL) + "|Dashboard>"
	}
	return textPayload{Text: text}
}

type discordMessage struct {
	Content         string `json:"content"`
	AllowedMentions struct {
		Parse []string `json:"parse"`
	} `json:"allowed_mentions"`
}

// discordPayload allows no mentions: untrusted text must not ping
// @everyone. The content is cut to Discord's limit.
func discordPayload(m *Message) any {
	var foot string
	if u := dashboardURL(m.URL); u != "" {
		foot = "\n[Dashboard](" + escape(u, escMarkdownURL) + ")"
		if utf16Len(foot) > linkLimit {
			foot = ""
		}
	}
	head := "**" + truncate(oneLine(m.Title), titleLimit, escNone) + "**\n"
	p := discordMessage{Content: head + truncate(m.Text, discordLimit-utf16Len(head)-utf16Len(foot), escNone) + foot}
	p.AllowedMentions.Parse = []string{}
	return p
}

func googleChatPayload(m *Message) any {
	text := "*" + escape(oneLine(m.Title), escGoogleChat) + "*\n" + escape(m.Text, escGoogleChat)
	if u := dashboardURL(m.URL); u != "" {
		text += "\n<" + escape(u, escLinkURL) + "|Dashboard>"
	}
	return textPayload{Text: text}
}

type teamsMessage struct {
	Type        string            `json:"type"`
	Attachments []teamsAttachment `json:"attachments"`
}

type teamsAttachment struct {
	ContentType string    `json:"contentType"`
	Content     teamsCard `json:"content"`
}

type teamsCard struct {
	Schema  string        `json:"$schema"`
	Type    string        `json:"type"`
	Version string        `json:"version"`
	Body    []teamsBlock  `json:"body"`
	Actions []teamsAction `json:"actions,omitempty"`
}

type teamsBlock struct {
	Type   string `json:"type"`
	Text   string `json:"text"`
	Weight string `json:"weight,omitempty"`
	Wrap   bool   `json:"wrap"`
	Color  string `json:"color,omitempty"`
}

type teamsAction struct {
	Type  string `json:"type"`
	Title string `json:"title"`
	URL   string `json:"url"`
}

var teamsParagraphs = strings.NewReplacer("\r\n", "\n\n", "\n", "\n\n", "\r", "\n\n")

// teamsPayload is an Adaptive Card for a Teams Workflows webhook. A
// TextBlock is Markdown, where a single newline does not break the line,
// so each line of the text becomes a paragraph.
func teamsPayload(m *Message) any {
	color := "Default"
	switch {
	case m.Status == "resolved":
		color = "Good"
	case m.Status == "firing" && m.Severity == "critical":
		color = "Attention"
	case m.Status == "firing" && m.Severity == "warning":
		color = "Warning"
	}
	card := teamsCard{
		Schema:  "http://adaptivecards.io/schemas/adaptive-card.json",
		Type:    "AdaptiveCard",
		Version: "1.4",
		Body: []teamsBlock{
			{Type: "TextBlock", Text: oneLine(m.Title), Weight: "Bolder", Wrap: true, Color: color},
			{Type: "TextBlock", Text: teamsParagraphs.Replace(m.Text), Wrap: true},
		},
	}
	if u := dashboardURL(m.URL); u != "" {
		card.Actions = []teamsAction{{Type: "Action.OpenUrl", Title: "Dashboard", URL: u}}
	}
	return teamsMessage{
		Type:        "message",
		Attachments: []teamsAttachment{{ContentType: "application/vnd.microsoft.card.adaptive", Content: card}},
	}
}

// --- generic webhook ---

// webhookVersion is the version of the webhook payload.
const webhookVersion = "1"

type webhookPayload struct {
	Version  string            `json:"version"`
	ID       string            `json:"id"`
	Status   string            `json:"status"`
	Severity string            `json:"severity"`
	Title    string            `json:"title"`
	Text     string            `json:"text"`
	Labels   map[string]string `json:"labels"`
	StartsAt string            `json:"starts_at,omitempty"`
	EndsAt   string            `json:"ends_at,omitempty"`
	URL      string            `json:"url,omitempty"`
}

// Sign returns the X-Pantau-Signature value of a webhook body sent at
// unix time ts: "sha256=" and the hex HMAC-SHA256, keyed with secret, of
// the decimal timestamp, a dot and the body.
func Sign(secret []byte, ts int64, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(strconv.FormatInt(ts, 10)))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

func newWebhook(c *Config) (builder, error) {
	host, err := staticEndpoint(c.URL)
	if err != nil {
		return nil, err
	}
	endpoint, secret, headers := c.URL, []byte(c.Secret), maps.Clone(c.Headers)
	return func(m *Message, now time.Time) (*request, error) {
		labels := m.Labels
		if labels == nil {
			labels = map[string]string{}
		}
		body, err := marshal(webhookPayload{
			Version: webhookVersion, ID: m.ID, Status: m.Status, Severity: m.Severity,
			Title: m.Title, Text: m.Text, Labels: labels,
			StartsAt: formatTime(m.StartsAt), EndsAt: formatTime(m.EndsAt), URL: m.URL,
		})
		if err != nil {
			return nil, err
		}
		r := newRequest(http.MethodPost, endpoint, host, body, contentTypeJSON)
		setHeaders(r.header, headers)
		ts := now.Unix()
		r.header.Set("X-Pantau-Timestamp", strconv.FormatInt(ts, 10))
		if len(secret) > 0 {
			r.header.Set("X-Pantau-Signature", Sign(secret, ts, body))
		}
		return r, nil
	}, nil
}

func setHeaders(h http.Header, values map[string]string) {
	for k, v := range values {
		h.Set(k, v)
	}
}

// --- Alertmanager ---

type amAlert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  amAnnotations     `json:"annotations"`
	StartsAt     string            `json:"startsAt,omitempty"`
	EndsAt       string            `json:"endsAt,omitempty"`
	GeneratorURL string            `json:"generatorURL,omitempty"`
}

type amAnnotations struct {
	Summary     string `json:"summary"`
	Description string `json:"description"`
}

// amHold is how long Alertmanager keeps a firing alert after it was sent;
// longer than the alert engine's default repeat_interval (4 h).
const amHold = 24 * time.Hour

func newAlertmanager(c *Config) (builder, error) {
	base := strings.TrimRight(c.URL, "/")
	host, err := staticEndpoint(base)
	if err != nil {
		return nil, err
	}
	endpoint, headers := base+"/api/v2/alerts", maps.Clone(c.Headers)
	return func(m *Message, now time.Time) (*request, error) {
		labels := make(map[string]string, len(m.Labels)+2)
		maps.Copy(labels, m.Labels)
		if labels["alertname"] == "" {
			labels["alertname"] = "pantau"
		}
		if m.Severity != "" {
			labels["severity"] = m.Severity
		}
		a := amAlert{
			Labels:       labels,
			Annotations:  amAnnotations{Summary: m.Title, Description: m.Text},
			StartsAt:     formatTime(m.StartsAt),
			GeneratorURL: m.URL,
		}
		if m.Status == "resolved" {
			end := m.EndsAt
			if end.IsZero() {
				end = now
			}
			a.EndsAt = formatTime(end)
		} else {
			// Alertmanager resolves an alert by itself after its
			// resolve_timeout unless told how long it lasts; a firing
			// alert is held for amHold after each send (repeats refresh it)
			a.EndsAt = formatTime(now.Add(amHold))
		}
		body, err := marshal([]amAlert{a})
		if err != nil {
			return nil, err
		}
		r := newRequest(http.MethodPost, endpoint, host, body, contentTypeJSON)
		setHeaders(r.header, headers)
		return r, nil
	}, nil
}
