package notify

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/pantau-noc/pantau/internal/yamlconf"
)

// Config is one notifier in collector.yml under `notifiers:`.
type Config struct {
	Name string `yaml:"name"` // unique, [a-z0-9_-]{1,64}, referenced by routes
	Type string `yaml:"type"` // telegram | slack | discord | googlechat | teams | webhook | http | alertmanager
	// URL is the endpoint for slack, discord, googlechat, teams, webhook
	// and http (for http it may be a template); Alertmanager's base URL
	// (http://127.0.0.1:9093); for telegram the Bot API base, default
	// https://api.telegram.org.
	URL string `yaml:"url"`
	// telegram
	BotToken string `yaml:"bot_token"`
	ChatID   string `yaml:"chat_id"`   // "-1001234567890" or "@channel"
	ThreadID int64  `yaml:"thread_id"` // message_thread_id of a forum topic; 0 none
	// webhook (generic JSON, HMAC-signed)
	Secret string `yaml:"secret"`
	// http (templated)
	Method        string            `yaml:"method"`          // GET, POST (default), PUT or PATCH
	Headers       map[string]string `yaml:"headers"`         // also for webhook and alertmanager; templates for http only
	Body          string            `yaml:"body"`            // text/template over Message
	ContentType   string            `yaml:"content_type"`    // json (default) or form
	Timeout       yamlconf.Duration `yaml:"timeout"`         // of one request; default 10s
	RatePerMinute int               `yaml:"rate_per_minute"` // 0: telegram 20, others 60
}

// The integrations.
const (
	typeTelegram     = "telegram"
	typeSlack        = "slack"
	typeDiscord      = "discord"
	typeGoogleChat   = "googlechat"
	typeTeams        = "teams"
	typeWebhook      = "webhook"
	typeHTTP         = "http"
	typeAlertmanager = "alertmanager"
)

var allTypes = []string{typeTelegram, typeSlack, typeDiscord, typeGoogleChat, typeTeams, typeWebhook, typeHTTP, typeAlertmanager}

const (
	defaultTelegramAPI = "https://api.telegram.org"
	maxTimeout         = 5 * time.Minute
	minSecretLen       = 16
	contentJSON        = "json"
	contentForm        = "form"
)

var (
	nameRE       = regexp.MustCompile(`^[a-z0-9_-]{1,64}$`)
	botTokenRE   = regexp.MustCompile(`^[0-9]{1,20}:[A-Za-z0-9_-]{20,200}$`)
	chatIDRE     = regexp.MustCompile(`^(-?[0-9]{1,20}|@[A-Za-z][A-Za-z0-9_]{4,31})$`)
	headerNameRE = regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}$")
	httpMethods  = []string{"GET", "POST", "PUT", "PATCH"}
)

// urlHint says where each integration's url comes from.
var urlHint = map[string]string{
	typeSlack:        "the incoming webhook URL, such as https://hooks.slack.com/services/...; Mattermost and Rocket.Chat give one too",
	typeDiscord:      "the channel's webhook URL, https://discord.com/api/webhooks/...",
	typeGoogleChat:   "the space's webhook URL, https://chat.googleapis.com/v1/spaces/.../messages?key=...&token=...",
	typeTeams:        "the URL of the channel's \"Post to a channel when a webhook request is received\" workflow",
	typeWebhook:      "the receiver's endpoint",
	typeHTTP:         "the gateway's endpoint; it may be a template",
	typeAlertmanager: "Alertmanager's base URL, such as http://127.0.0.1:9093",
}

// reservedHeaders are set by the notifier itself.
var reservedHeaders = []string{"Content-Type", "Content-Length", "Host", "Transfer-Encoding", "User-Agent", "X-Pantau-Timestamp", "X-Pantau-Signature"}

// sampleMessage is rendered through http templates when validating, with
// text that breaks a template which does not quote or escape its values.
var sampleMessage = Message{
	ID:       "sample-0001",
	Status:   "firing",
	Severity: "critical",
	Title:    `Sample alert: "quotes" <angle> & ampersand`,
	Text:     "Line one\nLine \"two\" with a \\ backslash, a\ttab and <b>markup</b> & 100% #1 ?a=b",
	Labels: map[string]string{
		"alertname": "LinkDown", "severity": "critical", "site": "dinkes", "opd": "dinkes",
		"district": "aimas", "link": "dinkes-isp1", "phone": "6281234567890",
	},
	StartsAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
	URL:      "https://noc.example.go.id/d/sites?var-site=dinkes&from=now-6h",
}

// Validate appends every problem to probs, using paths under prefix
// (prefix "notifiers[2]" gives "notifiers[2].chat_id"). No message quotes
// a secret: not the bot token, the webhook secret, a header value, nor
// any part of a URL but its scheme.
func (c *Config) Validate(probs *yamlconf.Problems, prefix string) {
	red := c.credentials()
	at := func(key string) string {
		if prefix == "" {
			return key
		}
		return prefix + "." + key
	}
	add := func(key, format string, args ...any) {
		probs.Add(at(key), "%s", red.clean(fmt.Sprintf(format, args...)))
	}
	// need reports a missing value, located at its parent when absent
	need := func(key, format string, args ...any) {
		probs.AddNear(at(key), "%s", red.clean(fmt.Sprintf(format, args...)))
	}

	switch {
	case c.Name == "":
		need("name", "is required: a unique name such as noc-telegram, which routes refer to")
	case !nameRE.MatchString(c.Name):
		add("name", "must be 1 to 64 characters of a-z, 0-9, _ and - (got %q)", c.Name)
	}
	switch {
	case c.Type == "":
		need("type", "is required: one of %s", yamlconf.QuoteList(allTypes))
	case !slices.Contains(allTypes, c.Type):
		add("type", "must be one of %s (got %q)", yamlconf.QuoteList(allTypes), c.Type)
	default:
		c.validateType(add, need)
	}
	if c.Timeout < 0 {
		add("timeout", "must not be negative (got %s)", c.Timeout.Std())
	} else if c.Timeout.Std() > maxTimeout {
		add("timeout", "must be at most %s: a slow endpoint holds up the notifications queued behind it (got %s)", yamlconf.Duration(maxTimeout), c.Timeout)
	}
	if c.RatePerMinute < 0 {
		add("rate_per_minute", "must not be negative (got %d); 0 means the default, 20 a minute for telegram and 60 for the others", c.RatePerMinute)
	}
}

type addFunc func(key, format string, args ...any)

// validateType checks the fields of a known type.
func (c *Config) validateType(add, need addFunc) {
	for _, f := range []struct {
		key   string
		set   bool
		types []string
	}{
		{"bot_token", c.BotToken != "", []string{typeTelegram}},
		{"chat_id", c.ChatID != "", []string{typeTelegram}},
		{"thread_id", c.ThreadID != 0, []string{typeTelegram}},
		{"secret", c.Secret != "", []string{typeWebhook}},
		{"method", c.Method != "", []string{typeHTTP}},
		{"body", c.Body != "", []string{typeHTTP}},
		{"content_type", c.ContentType != "", []string{typeHTTP}},
		{"headers", len(c.Headers) > 0, []string{typeWebhook, typeHTTP, typeAlertmanager}},
	} {
		if f.set && !slices.Contains(f.types, c.Type) {
			add(f.key, "is only used by type %s, not by %s: remove it", strings.Join(f.types, ", "), c.Type)
		}
	}

	switch c.Type {
	case typeTelegram:
		c.validateTelegram(add, need)
	case typeHTTP:
		c.validateHTTP(add, need)
	default:
		if c.URL == "" {
			need("url", "%s needs url (%s)", c.Type, urlHint[c.Type])
		} else if p := urlProblem(c.URL); p != "" {
			add("url", "%s", p)
		} else if c.Type == typeAlertmanager {
			u, _ := url.Parse(c.URL)
			switch {
			case u.RawQuery != "" || u.Fragment != "":
				add("url", "must be Alertmanager's base URL, without ? or #")
			case strings.Contains(u.Path, "/api/"):
				add("url", "must be Alertmanager's base URL, such as http://127.0.0.1:9093, without /api/v2/alerts (pantau adds it)")
			}
		}
	}
	if c.Type == typeWebhook && c.Secret != "" && len(c.Secret) < minSecretLen {
		add("secret", "must be at least %d characters (the value is not shown); generate one with: openssl rand -hex 32", minSecretLen)
	}
	if c.Type != typeHTTP { // for http the values are templates, checked there
		for _, k := range sortedKeys(c.Headers) {
			if ok := checkHeaderName(add, k); ok && badHeaderValue(c.Headers[k]) {
				add("headers."+k, "must not contain a line break or control character (the value is not shown)")
			}
		}
	}
}

func (c *Config) validateTelegram(add, need addFunc) {
	tok := c.BotToken
	switch {
	case tok == "":
		need("bot_token", "telegram needs bot_token (from @BotFather)")
	case strings.HasPrefix(tok, "bot") && botTokenRE.MatchString(tok[3:]):
		add("bot_token", "must not start with \"bot\": give the token as @BotFather shows it, such as 123456789:AAH... (the value is not shown)")
	case !botTokenRE.MatchString(tok):
		add("bot_token", "does not look like a token from @BotFather: digits, a colon, then 20 or more letters, digits, _ or - (the value is not shown)")
	}
	switch {
	case c.ChatID == "":
		need("chat_id", "telegram needs chat_id: a group or channel id such as -1001234567890, or a public channel's @username")
	case !chatIDRE.MatchString(c.ChatID):
		add("chat_id", "must be a numeric chat id such as -1001234567890, or a public channel's @username (got %q)", c.ChatID)
	}
	if c.ThreadID < 0 {
		add("thread_id", "must not be negative (got %d); it is the message_thread_id of a forum topic", c.ThreadID)
	}
	if c.URL != "" {
		if p := urlProblem(c.URL); p != "" {
			add("url", "%s", p)
		} else if u, _ := url.Parse(c.URL); u.RawQuery != "" || u.Fragment != "" || strings.Contains(u.Path, "/bot") {
			add("url", "must be the Bot API base URL only, such as %s, without /bot..., ? or #; leave it out for the default", defaultTelegramAPI)
		}
	}
}

func (c *Config) validateHTTP(add, need addFunc) {
	method := strings.ToUpper(c.Method)
	if c.Method != "" && !slices.Contains(httpMethods, method) {
		add("method", "method must be one of %s (got %q)", strings.Join(httpMethods, ", "), c.Method)
	}
	if c.ContentType != "" && c.ContentType != contentJSON && c.ContentType != contentForm {
		add("content_type", "content_type must be json or form (got %q)", c.ContentType)
	}

	if c.URL == "" {
		need("url", "http needs url (%s)", urlHint[typeHTTP])
	} else if t, err := parseTemplate("url", c.URL); err != nil {
		add("url", "url does not parse as a template: %v", err)
	} else if s, err := render(t, &sampleMessage); err != nil {
		add("url", "url does not render for a sample alert: %v", err)
	} else if p := urlProblem(s); p != "" {
		add("url", "%s (as rendered for a sample alert)", p)
	}

	switch {
	case method == "GET" && c.Body != "":
		add("body", "a GET request has no body: put the values in url (it may be a template), or use POST")
	case method == "GET":
	case c.Body == "":
		need("body", "http needs body: a template over the alert, such as {\"text\": {{json .Text}}} or text={{urlquery .Text}} with content_type form")
	default:
		t, err := parseTemplate("body", c.Body)
		if err != nil {
			add("body", "body does not parse as a template: %v", err)
			break
		}
		s, err := render(t, &sampleMessage)
		if err != nil {
			add("body", "body does not render for a sample alert: %v", err)
			break
		}
		switch c.ContentType {
		case contentForm:
			if _, err := url.ParseQuery(s); err != nil {
				add("body", "body does not render a valid form for a sample alert: escape each value with urlquery, such as message={{urlquery .Text}}")
			}
		case contentJSON, "":
			if err := json.Unmarshal([]byte(s), new(any)); err != nil {
				add("body", "body does not render valid JSON for a sample alert (%v): quote each value with json, such as {\"message\": {{json .Text}}}", err)
			}
		}
	}

	for _, k := range sortedKeys(c.Headers) {
		if !checkHeaderName(add, k) {
			continue
		}
		t, err := parseTemplate("header", c.Headers[k])
		if err != nil {
			add("headers."+k, "does not parse as a template: %v", err)
		} else if s, err := render(t, &sampleMessage); err != nil {
			add("headers."+k, "does not render for a sample alert: %v", err)
		} else if badHeaderValue(s) {
			add("headers."+k, "must not contain a line break or control character (the value is not shown)")
		}
	}
}

// checkHeaderName reports a bad or reserved header name; false if so.
func checkHeaderName(add addFunc, k string) bool {
	switch {
	case !headerNameRE.MatchString(k):
		add("headers", "header name %q is not a valid HTTP header name", k)
		return false
	case slices.ContainsFunc(reservedHeaders, func(r string) bool { return strings.EqualFold(r, k) }):
		add("headers."+k, "is set by pantau (use content_type for Content-Type): remove it")
		return false
	}
	return true
}

// badHeaderValue reports a value that cannot be sent as a header.
func badHeaderValue(v string) bool {
	return v == "" || strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 && r != '\t' || r == 0x7f })
}

// urlProblem describes what is wrong with an endpoint URL; "" if nothing.
// It never quotes the URL: webhook URLs hold their token.
func urlProblem(raw string) string {
	if strings.ContainsFunc(raw, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return "must not contain spaces, line breaks or control characters (the value is not shown: it may hold a secret)"
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return "is not a valid URL (the value is not shown: it may hold a secret)"
	case u.Scheme != "http" && u.Scheme != "https":
		return "url must be http:// or https://"
	case u.Hostname() == "":
		return "url has no host: write it in full, such as https://host/path"
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return "url has an invalid port: it must be 1-65535"
		}
	}
	return ""
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// applyDefaults fills in what was left out of a valid config.
func (c *Config) applyDefaults() {
	if c.Type == typeTelegram && c.URL == "" {
		c.URL = defaultTelegramAPI
	}
	if c.Type == typeHTTP {
		c.Method = strings.ToUpper(c.Method)
		if c.Method == "" {
			c.Method = "POST"
		}
		if c.ContentType == "" {
			c.ContentType = contentJSON
		}
	}
	if c.Timeout == 0 {
		c.Timeout = yamlconf.Duration(defaultTimeout)
	}
}

// rateLimit is RatePerMinute or the type's default.
func (c *Config) rateLimit() int {
	switch {
	case c.RatePerMinute > 0:
		return c.RatePerMinute
	case c.Type == typeTelegram:
		return 20 // Telegram allows a bot 20 messages a minute in one group
	default:
		return 60
	}
}

// secrets lists every secret value of the config, for redaction:
// credentials and the parts of the URL that may be one.
func (c *Config) secrets() redactor {
	r := c.credentials()
	r.addURL(c.URL)
	r.sort()
	return r
}

// credentials are the token, the secret and the header values. Validate
// redacts these only: it never quotes a URL, and a URL's path would
// otherwise be redacted from its own advice ("without /api/v2/alerts").
func (c *Config) credentials() redactor {
	var r redactor
	r.add(c.BotToken, 1)
	if _, half, ok := strings.Cut(c.BotToken, ":"); ok {
		r.add(half, 1)
	}
	r.add(c.Secret, 1)
	for _, v := range c.Headers {
		r.add(v, 1)
	}
	r.sort()
	return r
}

// String names the notifier and its host, never a secret, so that a Config
// printed by mistake (%v, %+v) leaks nothing.
func (c Config) String() string {
	s := c.Type + " notifier " + c.Name
	if u, err := url.Parse(c.URL); err == nil && u.Host != "" && urlProblem(c.URL) == "" {
		s += " (" + site(u) + ")"
	}
	return s
}

// GoString is String, for %#v.
func (c Config) GoString() string { return "notify.Config{" + c.String() + ", secrets not shown}" }

//go:embed example_notifiers.yml
var exampleNotifiers string

// Example returns a commented YAML example of a notifier of type typ,
// under a `notifiers:` key (for http: both WhatsApp gateway examples); ""
// for an unknown type. Example("") returns the whole documented example
// of every type.
func Example(typ string) string {
	if typ == "" {
		return exampleNotifiers
	}
	_, list, ok := strings.Cut(exampleNotifiers, "\nnotifiers:\n")
	if !ok {
		return ""
	}
	// entries are separated by blank lines, each with its comments
	var out []string
	for _, block := range strings.Split(list, "\n\n") {
		block = strings.Trim(block, "\n")
		if strings.Contains("\n"+block+"\n", "\n    type: "+typ+"\n") {
			out = append(out, block)
		}
	}
	if len(out) == 0 {
		return ""
	}
	return "notifiers:\n" + strings.Join(out, "\n\n") + "\n"
}
