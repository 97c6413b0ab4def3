package tgconsole

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/internal/retry"
)

// testToken is distinctive, so that a leak is found by searching for it.
const testToken = "7340021987:AAH-pantauTESTtoken_Zq9vX4LeakCheck"

const (
	chatNOC = int64(-1001234567890)
	budiID  = int64(42)
)

var (
	wit     = time.FixedZone("WIT", 9*3600)
	testNow = time.Date(2026, 10, 12, 12, 0, 0, 0, wit)
	budi    = map[string]any{"id": budiID, "is_bot": false, "first_name": "Budi", "username": "budi"}
)

// fakeStep is a scripted answer to one getUpdates request.
type fakeStep struct {
	status int
	body   string
}

// fakePoll records one getUpdates request.
type fakePoll struct {
	offset   int64
	at       time.Time // received
	answered time.Time // answer written (zero: held until the client left)
}

// fakeTG is the Bot API: getMe, getUpdates (scripted failures first,
// then the pushed updates from the requested offset, else held open until
// the client gives up, as a long poll) and sendMessage (recorded).
type fakeTG struct {
	t       *testing.T
	token   string
	botName string

	mu         sync.Mutex
	steps      []fakeStep
	updates    []map[string]any
	polls      []fakePoll
	sent       []map[string]any
	wantOffset int64 // offset the next getUpdates must carry; 0 before the first batch
	changed    chan struct{}
	quit       chan struct{}
}

func newFakeTG(t *testing.T) *fakeTG {
	return &fakeTG{t: t, token: testToken, botName: "PantauBot", changed: make(chan struct{}), quit: make(chan struct{})}
}

// notify wakes the waiters; f.mu is held.
func (f *fakeTG) notify() {
	close(f.changed)
	f.changed = make(chan struct{})
}

func (f *fakeTG) push(ups ...map[string]any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.updates = append(f.updates, ups...)
	f.notify()
}

func (f *fakeTG) script(steps ...fakeStep) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.steps = append(f.steps, steps...)
}

func (f *fakeTG) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	method, ok := strings.CutPrefix(r.URL.Path, "/bot"+f.token+"/")
	if !ok {
		f.t.Errorf("request to %s: want /bot<token>/<method>", r.URL.Path)
		http.NotFound(w, r)
		return
	}
	if ua := r.Header.Get("User-Agent"); ua != userAgent {
		f.t.Errorf("%s: User-Agent %q", method, ua)
	}
	switch method {
	case "getMe":
		if r.Method != http.MethodGet {
			f.t.Errorf("getMe: method %s", r.Method)
		}
		fmt.Fprintf(w, `{"ok":true,"result":{"id":1,"is_bot":true,"first_name":"Pantau","username":%q}}`, f.botName)
	case "getUpdates":
		f.getUpdates(w, r)
	case "sendMessage":
		f.sendMessage(w, r)
	default:
		f.t.Errorf("unexpected method %s", method)
		http.NotFound(w, r)
	}
}

func (f *fakeTG) getUpdates(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Offset         *int64   `json:"offset"`
		Timeout        int      `json:"timeout"`
		AllowedUpdates []string `json:"allowed_updates"`
	}
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
		f.t.Errorf("getUpdates: %s %s", r.Method, r.Header.Get("Content-Type"))
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		f.t.Errorf("getUpdates body: %v", err)
	}
	if req.Timeout != 30 || !reflect.DeepEqual(req.AllowedUpdates, []string{"message"}) {
		f.t.Errorf("getUpdates timeout %d, allowed_updates %q", req.Timeout, req.AllowedUpdates)
	}
	var offset int64
	if req.Offset != nil {
		offset = *req.Offset
		if offset == 0 {
			f.t.Errorf("getUpdates: offset 0 sent instead of left out")
		}
	}
	f.mu.Lock()
	if f.wantOffset != 0 && offset != f.wantOffset {
		f.t.Errorf("getUpdates offset %d, want %d (last update_id+1)", offset, f.wantOffset)
	}
	f.polls = append(f.polls, fakePoll{offset: offset, at: time.Now()})
	n := len(f.polls) - 1
	f.notify()
	if len(f.steps) > 0 {
		s := f.steps[0]
		f.steps = f.steps[1:]
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(s.status)
		io.WriteString(w, s.body)
		f.answered(n)
		return
	}
	for {
		var batch []map[string]any
		for _, u := range f.updates {
			if id := toInt(u["update_id"]); id >= offset {
				batch = append(batch, u)
			}
		}
		if len(batch) > 0 {
			f.wantOffset = toInt(batch[len(batch)-1]["update_id"]) + 1
			f.mu.Unlock()
			body, _ := json.Marshal(map[string]any{"ok": true, "result": batch})
			w.Header().Set("Content-Type", "application/json")
			w.Write(body)
			f.answered(n)
			return
		}
		ch := f.changed
		f.mu.Unlock()
		select {
		case <-r.Context().Done():
			return
		case <-f.quit:
			return
		case <-ch:
		}
		f.mu.Lock()
	}
}

func (f *fakeTG) answered(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.polls[n].answered = time.Now()
	f.notify()
}

func toInt(v any) int64 {
	switch v := v.(type) {
	case int:
		return int64(v)
	case int64:
		return v
	case float64:
		return int64(v)
	}
	return 0
}

func (f *fakeTG) sendMessage(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
		f.t.Errorf("sendMessage: %s %s", r.Method, r.Header.Get("Content-Type"))
	}
	var m map[string]any
	if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
		f.t.Errorf("sendMessage body: %v", err)
	}
	f.mu.Lock()
	f.sent = append(f.sent, m)
	f.notify()
	f.mu.Unlock()
	fmt.Fprint(w, `{"ok":true,"result":{"message_id":1000}}`)
}

// waitFor waits until cond (called with f.mu held) is true.
func (f *fakeTG) waitFor(what string, cond func() bool) {
	f.t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		f.mu.Lock()
		ok, ch := cond(), f.changed
		f.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-ch:
		case <-deadline:
			f.t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// waitHandled waits for a getUpdates request carrying offset at least
// next: every update before it has been handled (they are handled in
// order before the next request).
func (f *fakeTG) waitHandled(next int64) {
	f.t.Helper()
	f.waitFor(fmt.Sprintf("getUpdates with offset %d", next), func() bool {
		return len(f.polls) > 0 && f.polls[len(f.polls)-1].offset >= next
	})
}

func (f *fakeTG) sentMessages() []map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]map[string]any(nil), f.sent...)
}

func (f *fakeTG) pollLog() []fakePoll {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fakePoll(nil), f.polls...)
}

// fakeBackend answers from fixed data and records its calls.
type fakeBackend struct {
	mu    sync.Mutex
	calls []string

	down    []Problem
	downErr error
	sites   map[string]SiteStatus
	acks    map[string]Problem // by prefix
	ackErr  error
	silence int64
}

func (b *fakeBackend) record(format string, args ...any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.calls = append(b.calls, fmt.Sprintf(format, args...))
}

func (b *fakeBackend) callLog() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.calls...)
}

func (b *fakeBackend) Down(ctx context.Context) ([]Problem, error) {
	b.record("Down")
	return b.down, b.downErr
}

func (b *fakeBackend) Site(ctx context.Context, id string) (SiteStatus, error) {
	b.record("Site %s", id)
	s, ok := b.sites[id]
	if !ok {
		return SiteStatus{}, fmt.Errorf("site %q: %w", id, ErrNotFound)
	}
	return s, nil
}

func (b *fakeBackend) Ack(ctx context.Context, idPrefix, author string) (Problem, error) {
	b.record("Ack %s %s", idPrefix, author)
	if b.ackErr != nil {
		return Problem{}, b.ackErr
	}
	p, ok := b.acks[idPrefix]
	if !ok {
		return Problem{}, ErrNotFound
	}
	return p, nil
}

func (b *fakeBackend) Silence(ctx context.Context, site string, d time.Duration, reason, author string) (int64, error) {
	b.record("Silence %s %s %q %s", site, d, reason, author)
	if _, ok := b.sites[site]; !ok {
		return 0, ErrNotFound
	}
	return b.silence, nil
}

// logBuffer collects JSON log lines; safe for concurrent use.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *logBuffer) records(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, ln := range strings.Split(strings.TrimSpace(l.String()), "\n") {
		if ln == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(ln), &m); err != nil {
			t.Fatalf("log line %q: %v", ln, err)
		}
		out = append(out, m)
	}
	return out
}

// find returns the records whose message starts with msg.
func (l *logBuffer) find(t *testing.T, msg string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, r := range l.records(t) {
		if s, _ := r["msg"].(string); strings.HasPrefix(s, msg) {
			out = append(out, r)
		}
	}
	return out
}

// harness runs a console against a fakeTG and a fakeBackend.
type harness struct {
	t      *testing.T
	tg     *fakeTG
	srv    *httptest.Server
	be     *fakeBackend
	logs   *logBuffer
	con    *Console
	cancel context.CancelFunc
	done   chan error
}

func newHarness(t *testing.T, be *fakeBackend, mod func(*Config)) *harness {
	t.Helper()
	tg := newFakeTG(t)
	srv := httptest.NewServer(tg)
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(tg.quit) })
	if be == nil {
		be = &fakeBackend{}
	}
	cfg := Config{APIBase: srv.URL, BotToken: testToken, AllowedChats: []int64{chatNOC}, Zone: wit}
	if mod != nil {
		mod(&cfg)
	}
	logs := &logBuffer{}
	con, err := New(cfg, be, srv.Client(), slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatal(err)
	}
	con.backoff = retry.Backoff{Min: 10 * time.Millisecond, Max: 40 * time.Millisecond}
	con.now = func() time.Time { return testNow }
	h := &harness{t: t, tg: tg, srv: srv, be: be, logs: logs, con: con}
	t.Cleanup(h.checkNoToken)
	return h
}

func (h *harness) start() {
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel, h.done = cancel, make(chan error, 1)
	go func() { h.done <- h.con.Run(ctx) }()
	h.t.Cleanup(h.stop)
}

// stop cancels Run and waits for it (at most 1s).
func (h *harness) stop() {
	h.t.Helper()
	if h.cancel == nil {
		return
	}
	h.cancel()
	h.cancel = nil
	select {
	case err := <-h.done:
		if err != nil {
			h.t.Errorf("Run returned %v, want nil", err)
		}
	case <-time.After(time.Second):
		h.t.Fatal("Run did not return within 1s of cancel")
	}
}

func (h *harness) checkNoToken() {
	if s := h.logs.String(); strings.Contains(s, testToken) || strings.Contains(s, "/bot") {
		h.t.Errorf("the logs hold the bot token or a Bot API path:\n%s", s)
	}
}

// msg is an update with a text message in chat from user.
func msg(updateID, messageID, chatID int64, from map[string]any, text string) map[string]any {
	m := map[string]any{
		"message_id": messageID,
		"date":       testNow.Unix(),
		"chat":       map[string]any{"id": chatID, "type": "supergroup", "title": "NOC Pemkab"},
		"text":       text,
	}
	if from != nil {
		m["from"] = from
	}
	return map[string]any{"update_id": updateID, "message": m}
}

// want is the sendMessage body expected for a reply to messageID.
func want(chatID, messageID int64, text string) map[string]any {
	return map[string]any{
		"chat_id":                  float64(chatID),
		"text":                     text,
		"parse_mode":               "HTML",
		"reply_to_message_id":      float64(messageID),
		"disable_web_page_preview": true,
	}
}

func checkSent(t *testing.T, got, exp []map[string]any) {
	t.Helper()
	if len(got) != len(exp) {
		t.Errorf("%d messages sent, want %d", len(got), len(exp))
	}
	for i := range min(len(got), len(exp)) {
		if !reflect.DeepEqual(got[i], exp[i]) {
			gt, _ := got[i]["text"].(string)
			et, _ := exp[i]["text"].(string)
			t.Errorf("message %d:\n got %v\nwant %v\n--- got text:\n%s\n--- want text:\n%s", i, got[i], exp[i], gt, et)
		}
	}
	for i := len(exp); i < len(got); i++ {
		t.Errorf("extra message %d: %v", i, got[i])
	}
}
