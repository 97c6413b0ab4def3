package tgconsole

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"

	"github.com/pantau-noc/pantau/internal/retry"
)

// Config of the console.
type Config struct {
	APIBase      string         // e.g. "https://api.telegram.org" (tests: an httptest URL); default https://api.telegram.org
	BotToken     string         // secret: never in logs, errors or replies
	AllowedChats []int64        // chat ids commands are accepted from
	AllowedUsers []int64        // user ids; when empty, any member of an allowed chat may command; when set, the sender must be in it too
	PollTimeout  time.Duration  // long-poll timeout sent to getUpdates (default 30s, at least 1s); the HTTP timeout always exceeds it
	Lang         string         // "id" (default) or "en"
	Zone         *time.Location // for times in replies; default WIB (UTC+7)
}

// Backend is what the console reads and changes (implemented by the collector).
type Backend interface {
	// Down returns what is down or alerting now.
	Down(ctx context.Context) ([]Problem, error)
	// Site describes one site; ErrNotFound when there is no such site.
	Site(ctx context.Context, id string) (SiteStatus, error)
	// Ack acknowledges the firing alert whose id (fingerprint) starts with
	// idPrefix (at least 4 characters); ErrNotFound if none, ErrAmbiguous
	// if several.
	Ack(ctx context.Context, idPrefix, author string) (Problem, error)
	// Silence holds back the alerts of a site for d; returns the silence
	// id. ErrNotFound for an unknown site.
	Silence(ctx context.Context, site string, d time.Duration, reason, author string) (int64, error)
}

// ErrNotFound is returned by a Backend for an unknown site or alert.
var ErrNotFound = errors.New("not found")

// ErrAmbiguous is returned by Backend.Ack when an id prefix matches
// several firing alerts.
var ErrAmbiguous = errors.New("ambiguous")

// Problem is one firing alert.
type Problem struct {
	ID       string // alert fingerprint (16 hex chars); the first 8 are shown
	Rule     string // e.g. LinkDown
	Severity string // critical | warning | info
	Title    string // e.g. "Link dinkes-wan PUTUS — Dinas Kesehatan"
	Site     string // site id ("" none)
	SiteName string
	District string // "" when none
	Since    time.Time
	Acked    string // who acknowledged it ("" none)
}

// SiteStatus answers /site.
type SiteStatus struct {
	ID, Name, OPD, District string
	Links                   []LinkStatus
	LastOutage              *Outage // nil: none in the last 30 days
}

// LinkStatus is the state of one link of a site.
type LinkStatus struct {
	ID         string
	State      string   // up | degraded | down | maintenance | nodata
	LossRatio  *float64 // nil unknown
	RTTSeconds *float64 // nil unknown
}

// Outage is a site's outage. End zero = ongoing; Cause: parent|isp|power|unknown.
type Outage struct {
	Start, End time.Time
	Cause      string
}

const (
	defaultAPIBase     = "https://api.telegram.org"
	defaultPollTimeout = 30 * time.Second
	// pollGrace is how much longer than the long-poll timeout a getUpdates
	// request may take before it is abandoned.
	pollGrace      = 15 * time.Second
	sendTimeout    = 15 * time.Second
	commandTimeout = 30 * time.Second
	maxRetryAfter  = time.Hour
	maxBody        = 8 << 20
	userAgent      = "pantau-collector"
	redacted       = "[redacted]"
)

// Console long-polls the Bot API and answers commands.
type Console struct {
	base    string // APIBase without a trailing slash
	host    string // APIBase's host, the only part of the address put in errors
	token   string
	lang    string
	zone    *time.Location
	poll    time.Duration
	chats   map[int64]bool
	users   map[int64]bool
	backend Backend
	client  *http.Client
	log     *slog.Logger

	// Set by tests.
	backoff retry.Backoff // getUpdates retries
	now     func() time.Time

	// Owned by Run's goroutine.
	offset  int64  // next update_id wanted
	botName string // from getMe; "" until known
}

// New checks c and returns a console. client may be nil (a default one is
// made); when its Timeout does not exceed the long-poll timeout, a copy
// with a longer Timeout is used. log may be nil (discarded).
func New(c Config, b Backend, client *http.Client, log *slog.Logger) (*Console, error) {
	if c.BotToken == "" {
		return nil, errors.New("tgconsole: bot token is empty")
	}
	if strings.IndexFunc(c.BotToken, func(r rune) bool {
		return r > unicode.MaxASCII || unicode.IsSpace(r) || unicode.IsControl(r) || strings.ContainsRune("/?#%", r)
	}) >= 0 {
		// The token is not quoted: it is a secret even when malformed.
		return nil, errors.New("tgconsole: bot token holds characters a Telegram token does not (space, /, ?, #, % or non-ASCII)")
	}
	if b == nil {
		return nil, errors.New("tgconsole: no backend")
	}
	chats := make(map[int64]bool, len(c.AllowedChats))
	for _, id := range c.AllowedChats {
		if id != 0 {
			chats[id] = true
		}
	}
	if len(chats) == 0 {
		return nil, errors.New("tgconsole: no allowed chat: every command would be refused")
	}
	users := make(map[int64]bool, len(c.AllowedUsers))
	for _, id := range c.AllowedUsers {
		users[id] = true
	}
	switch c.Lang {
	case "":
		c.Lang = "id"
	case "id", "en":
	default:
		return nil, fmt.Errorf("tgconsole: lang %q: want id or en", c.Lang)
	}
	switch {
	case c.PollTimeout == 0:
		c.PollTimeout = defaultPollTimeout
	case c.PollTimeout < time.Second:
		return nil, fmt.Errorf("tgconsole: poll timeout %s: want at least 1s", c.PollTimeout)
	}
	if c.Zone == nil {
		c.Zone = time.FixedZone("WIB", 7*3600)
	}
	if c.APIBase == "" {
		c.APIBase = defaultAPIBase
	}
	base := strings.TrimRight(c.APIBase, "/")
	u, err := url.Parse(base)
	if err != nil {
		return nil, fmt.Errorf("tgconsole: API base %q: %w", c.APIBase, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("tgconsole: API base %q: want http(s)://host[/path] without query or credentials", c.APIBase)
	}
	httpTimeout := c.PollTimeout + pollGrace
	if client == nil {
		client = &http.Client{
			Timeout: httpTimeout,
			// A redirect would carry the token in the path elsewhere.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	} else if client.Timeout != 0 && client.Timeout <= c.PollTimeout {
		cp := *client
		cp.Timeout = httpTimeout
		client = &cp
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Console{
		base:    base,
		host:    u.Host,
		token:   c.BotToken,
		lang:    c.Lang,
		zone:    c.Zone,
		poll:    c.PollTimeout,
		chats:   chats,
		users:   users,
		backend: b,
		client:  client,
		log:     log,
		backoff: retry.Backoff{Min: time.Second, Max: time.Minute},
		now:     time.Now,
	}, nil
}

// Run polls for updates and answers commands until ctx ends, then returns
// nil. Commands are handled one at a time, in order; Run must not be
// called again while it runs. Failures of the Bot API are logged and retried with a backoff
// (full jitter: the n-th wait in a row is between 1s and 1s·2ⁿ⁻¹, at most 1 min), or after
// Telegram's retry_after when longer.
func (c *Console) Run(ctx context.Context) error {
	c.log.Info("telegram console started", "api", c.host, "allowed_chats", len(c.chats), "allowed_users", len(c.users), "lang", c.lang)
	defer c.log.Info("telegram console stopped")
	failures := 0 // consecutive failed polls
	for ctx.Err() == nil {
		if c.botName == "" {
			c.learnName(ctx)
		}
		ups, err := c.getUpdates(ctx)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			failures++
			delay := c.backoff.Delay(failures)
			var ae *apiError
			if errors.As(err, &ae) && ae.retryAfter > delay {
				delay = ae.retryAfter
			}
			c.logPollError(err, delay)
			if retry.Sleep(ctx, delay) != nil {
				break
			}
			continue
		}
		failures = 0
		for _, raw := range ups {
			c.handleRaw(ctx, raw)
		}
	}
	return nil
}

// learnName asks getMe for the bot's username, so that commands addressed
// to another bot (/status@OtherBot) are left alone. Failure is not fatal:
// getUpdates reports the outage, and the name is asked again next round.
func (c *Console) learnName(ctx context.Context) {
	var me struct {
		Username string `json:"username"`
	}
	if err := c.call(ctx, http.MethodGet, "getMe", nil, &me, sendTimeout); err != nil {
		c.log.Debug("telegram getMe failed", "err", err)
		return
	}
	c.botName = me.Username
	c.log.Info("telegram bot identified", "username", me.Username)
}

func (c *Console) logPollError(err error, delay time.Duration) {
	attrs := []any{"err", err, "retry_in", delay.String()}
	var ae *apiError
	if !errors.As(err, &ae) {
		c.log.Warn("telegram getUpdates failed", attrs...)
		return
	}
	switch ae.code {
	case http.StatusConflict:
		c.log.Error("telegram getUpdates conflict: another process polls this bot, or a webhook is set: deleteWebhook", attrs...)
	case http.StatusUnauthorized, http.StatusNotFound:
		c.log.Error("telegram rejected the bot token: check the configured token", attrs...)
	case http.StatusTooManyRequests:
		c.log.Warn("telegram getUpdates rate-limited", attrs...)
	default:
		c.log.Warn("telegram getUpdates failed", attrs...)
	}
}

// getUpdates long-polls for the updates from c.offset on.
func (c *Console) getUpdates(ctx context.Context) ([]json.RawMessage, error) {
	req := struct {
		Offset         int64    `json:"offset,omitempty"`
		Timeout        int64    `json:"timeout"`
		AllowedUpdates []string `json:"allowed_updates"`
	}{c.offset, int64(c.poll / time.Second), []string{"message"}}
	var ups []json.RawMessage
	if err := c.call(ctx, http.MethodPost, "getUpdates", req, &ups, c.poll+pollGrace); err != nil {
		return nil, err
	}
	return ups, nil
}

// handleRaw handles one update, always moving the offset past it (even
// when it cannot be decoded) so that it is not received again.
func (c *Console) handleRaw(ctx context.Context, raw json.RawMessage) {
	var u update
	if err := json.Unmarshal(raw, &u); err != nil {
		var id struct {
			UpdateID int64 `json:"update_id"`
		}
		if json.Unmarshal(raw, &id) != nil || id.UpdateID == 0 {
			c.log.Warn("telegram update without an id skipped", "err", err)
			return
		}
		u = update{UpdateID: id.UpdateID}
		c.log.Warn("telegram update not understood, skipped", "update_id", id.UpdateID, "err", err)
	}
	if u.UpdateID < c.offset {
		return // received before: already handled
	}
	c.offset = u.UpdateID + 1
	if u.Message != nil {
		if m := u.Message; m.Date != 0 && c.now().Sub(time.Unix(m.Date, 0)) > maxCommandAge {
			c.log.Warn("telegram command too old; ignored", "age_seconds", int(c.now().Sub(time.Unix(m.Date, 0)).Seconds()), "chat_id", m.Chat.ID)
			return
		}
		c.handleMessage(ctx, u.Message)
	}
}

type update struct {
	UpdateID int64    `json:"update_id"`
	Message  *message `json:"message"`
}

type message struct {
	MessageID int64  `json:"message_id"`
	ThreadID  int64  `json:"message_thread_id"`
	IsTopic   bool   `json:"is_topic_message"`
	From      *user  `json:"from"`
	Chat      chat   `json:"chat"`
	Text      string `json:"text"`
	Date      int64  `json:"date"` // unix seconds
}

// maxCommandAge is how old a command may be when it is read: commands
// sent while the collector was down are not run hours later.
const maxCommandAge = 5 * time.Minute

type user struct {
	ID        int64  `json:"id"`
	Username  string `json:"username"`
	FirstName string `json:"first_name"`
}

type chat struct {
	ID    int64  `json:"id"`
	Type  string `json:"type"`
	Title string `json:"title"`
}

// outgoing is the body of sendMessage.
type outgoing struct {
	ChatID                int64  `json:"chat_id"`
	Text                  string `json:"text"`
	ParseMode             string `json:"parse_mode"`
	ReplyToMessageID      int64  `json:"reply_to_message_id"`
	MessageThreadID       int64  `json:"message_thread_id,omitempty"`
	DisableWebPagePreview bool   `json:"disable_web_page_preview"`
}

// reply answers m with the HTML text. A 429 is retried once when Telegram
// asks for a short wait; other failures are logged.
func (c *Console) reply(ctx context.Context, m *message, text string) {
	out := outgoing{
		ChatID:                m.Chat.ID,
		Text:                  fit(text),
		ParseMode:             "HTML",
		ReplyToMessageID:      m.MessageID,
		DisableWebPagePreview: true,
	}
	// Telegram also sets message_thread_id on replies outside forum
	// topics (the id of the replied-to message's thread); sending that
	// back fails with "message thread not found". Only a topic's id is
	// sent, and reply_to_message_id keeps the answer in place anyway.
	if m.IsTopic {
		out.MessageThreadID = m.ThreadID
	}
	for attempt := 0; ; attempt++ {
		err := c.call(ctx, http.MethodPost, "sendMessage", out, nil, sendTimeout)
		if err == nil {
			return
		}
		var ae *apiError
		if errors.As(err, &ae) && ae.code == http.StatusTooManyRequests && attempt == 0 && ae.retryAfter <= 30*time.Second {
			if retry.Sleep(ctx, max(ae.retryAfter, time.Second)) == nil {
				continue
			}
		}
		attrs := []any{"chat_id", m.Chat.ID, "err", err}
		if ae != nil && ae.migrateTo != 0 {
			c.log.Error("telegram reply failed: the group became a supergroup; allow its new chat id", append(attrs, "new_chat_id", ae.migrateTo)...)
			return
		}
		if ctx.Err() == nil {
			c.log.Error("telegram reply failed", attrs...)
		}
		return
	}
}

// apiError is a Bot API answer other than {"ok":true}. Its text names the
// method and host, never the URL (which holds the token).
type apiError struct {
	method, host string
	status       int    // HTTP status
	code         int    // Telegram's error_code, else the HTTP status
	desc         string // Telegram's description (token removed), else the status text
	retryAfter   time.Duration
	migrateTo    int64
}

func (e *apiError) Error() string {
	return fmt.Sprintf("telegram %s %s: %d %s", e.method, e.host, e.code, e.desc)
}

type apiResponse struct {
	OK          bool            `json:"ok"`
	Result      json.RawMessage `json:"result"`
	ErrorCode   int             `json:"error_code"`
	Description string          `json:"description"`
	Parameters  *struct {
		RetryAfter      int64 `json:"retry_after"`
		MigrateToChatID int64 `json:"migrate_to_chat_id"`
	} `json:"parameters"`
}

// call invokes a Bot API method with a JSON body (nil: none) and decodes
// its result into out (nil: ignored). Errors never hold the token.
func (c *Console) call(ctx context.Context, verb, method string, body, out any, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(body); err != nil {
			return fmt.Errorf("telegram %s: encode request: %w", method, err)
		}
		rd = bytes.NewReader(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
	}
	req, err := http.NewRequestWithContext(ctx, verb, c.base+"/bot"+c.token+"/"+method, rd)
	if err != nil {
		return fmt.Errorf("telegram %s %s: build request: %w", method, c.host, c.unwrapURL(err))
	}
	req.Header.Set("User-Agent", userAgent)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return fmt.Errorf("telegram %s %s: %w", method, c.host, c.unwrapURL(err))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return fmt.Errorf("telegram %s %s: read response: %w", method, c.host, c.unwrapURL(err))
	}
	var ar apiResponse
	jsonErr := json.Unmarshal(data, &ar)
	if jsonErr == nil && ar.OK && resp.StatusCode/100 == 2 {
		if out == nil {
			return nil
		}
		if err := json.Unmarshal(ar.Result, out); err != nil {
			return fmt.Errorf("telegram %s %s: decode result: %w", method, c.host, err)
		}
		return nil
	}
	e := &apiError{method: method, host: c.host, status: resp.StatusCode, code: resp.StatusCode}
	if jsonErr == nil && !ar.OK {
		if ar.ErrorCode != 0 {
			e.code = ar.ErrorCode
		}
		e.desc = c.clean(ar.Description)
		if p := ar.Parameters; p != nil {
			e.retryAfter = retry.Seconds(p.RetryAfter, maxRetryAfter)
			e.migrateTo = p.MigrateToChatID
		}
	}
	if e.desc == "" {
		e.desc = http.StatusText(resp.StatusCode)
		if resp.StatusCode/100 == 2 {
			e.desc = "response is not a Bot API answer"
		}
	}
	return e
}

// unwrapURL drops Go's *url.Error layers, which quote the whole URL (and so
// the token), keeping the error they wrap.
func (c *Console) unwrapURL(err error) error {
	for {
		var ue *url.Error
		if !errors.As(err, &ue) || ue.Err == nil {
			return err
		}
		err = ue.Err
	}
}

// clean makes a description from Telegram one short line without the
// token.
func (c *Console) clean(s string) string {
	s = strings.ReplaceAll(s, c.token, redacted)
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 200 {
		s = string(r[:200]) + "…"
	}
	return s
}
