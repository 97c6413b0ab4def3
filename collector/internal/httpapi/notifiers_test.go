package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/auth"
	"github.com/pantau-noc/pantau/collector/internal/notify"
	"github.com/pantau-noc/pantau/collector/internal/outbox"
	"github.com/pantau-noc/pantau/collector/internal/statedb"
)

// Recognisable secrets of the test notifiers: no answer may hold any.
const (
	secretBotHalf  = "SECRETbotTOKENzz9876543210"
	secretBotToken = "123456789:" + secretBotHalf
	secretHookPath = "SECRETwebhookPATH4242"
	secretHookURL  = "https://hooks.example.net/services/" + secretHookPath
	secretHMAC     = "SECREThmacKEY0123456789"
	secretHeader   = "SECRETheaderVALUE777"
)

var testNotifiers = []notify.Config{
	{Name: "noc-telegram", Type: "telegram", BotToken: secretBotToken, ChatID: "-1001234567890"},
	{Name: "noc-webhook", Type: "webhook", URL: secretHookURL, Secret: secretHMAC, Headers: map[string]string{"X-Api-Key": secretHeader}},
}

var allSecrets = []string{secretBotToken, secretBotHalf, secretHookPath, secretHMAC, secretHeader, "hooks.example.net/services"}

// notifierEnv is the notifiers API behind the real Gate on a real
// state.db, with a real outbox (not running: entries stay pending).
type notifierEnv struct {
	*testEnv
	ob *outbox.Outbox
}

func newNotifierEnv(t *testing.T, cfgs []notify.Config) *notifierEnv {
	t.Helper()
	ctx := context.Background()
	db, err := statedb.Open(ctx, filepath.Join(t.TempDir(), "data"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	log := slog.New(slog.DiscardHandler)
	authn, err := statedb.NewAuthenticator(ctx, db, log)
	if err != nil {
		t.Fatal(err)
	}
	e := &notifierEnv{testEnv: &testEnv{t: t, db: db}}
	o := NotifiersOptions{DB: db, Notifiers: cfgs, Logger: log}
	if len(cfgs) > 0 {
		var chans []outbox.Channel
		for _, c := range cfgs {
			chans = append(chans, outbox.Channel{Name: c.Name, Type: c.Type,
				Send: func(context.Context, []byte) error { return errors.New("not run in this test") }})
		}
		e.ob, err = outbox.New(outbox.Options{DB: db, Channels: chans})
		if err != nil {
			t.Fatal(err)
		}
		o.Enqueue = e.ob.Enqueue
	}
	mux := http.NewServeMux()
	NewNotifiers(o).Register(mux)
	e.srv = httptest.NewServer(auth.NewGate(auth.GateOptions{Verifier: authn, Guard: auth.NewGuard(0, 64), Logger: log}, mux))
	t.Cleanup(e.srv.Close)
	e.admin = e.token("root", statedb.RoleAdmin)
	return e
}

// do is testEnv.do, and fails the test when the answer holds a secret.
func (e *notifierEnv) do(method, path, cred, body string) (int, string) {
	e.t.Helper()
	code, ans := e.testEnv.do(method, path, cred, body)
	for _, s := range allSecrets {
		if strings.Contains(ans, s) {
			e.t.Fatalf("%s %s: the answer holds the secret %q: %s", method, path, s, ans)
		}
	}
	return code, ans
}

// TestNotifiersAccess: both endpoints × every kind of caller; only an
// unscoped admin gets through.
func TestNotifiersAccess(t *testing.T) {
	e := newNotifierEnv(t, testNotifiers)
	agentTok, _, err := e.db.CreateToken(context.Background(), "agent-1", nil, "")
	if err != nil {
		t.Fatal(err)
	}
	callers := []struct{ name, cred string }{
		{"admin", bearer(e.admin)},
		{"scoped admin", bearer(e.token("dinkes-admin", statedb.RoleAdmin, "dinkes"))},
		{"operator", bearer(e.token("ops", statedb.RoleOperator))},
		{"viewer", bearer(e.token("grafana", statedb.RoleViewer))},
		{"agent", bearer(agentTok)},
		{"none", ""},
		{"wrong token", bearer("pantau_aaaaaaaaaaaaaaaa_" + strings.Repeat("b", 52))},
	}
	for _, ep := range []struct {
		method, path string
		adminWant    int
	}{
		{"GET", "/api/v1/notifiers", 200},
		{"POST", "/api/v1/notifiers/noc-telegram/test", 202},
		{"POST", "/api/v1/notifiers/nope/test", 404},
	} {
		for _, c := range callers {
			want := 403
			switch c.name {
			case "admin":
				want = ep.adminWant
			case "none", "wrong token":
				want = 401
			}
			if code, body := e.do(ep.method, ep.path, c.cred, ""); code != want {
				t.Errorf("%s %s as %s: %d, want %d: %s", ep.method, ep.path, c.name, code, want, body)
			}
		}
	}
	// only the admin's test is queued
	list, err := e.db.OutboxList(context.Background(), "", 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 {
		t.Errorf("%d outbox entries, want the admin's test only: %+v", len(list), list)
	}
}

// TestNotifiersHandlersCheckRole: the handlers refuse a non-admin and a
// scoped admin even without the Gate's policy in front.
func TestNotifiersHandlersCheckRole(t *testing.T) {
	n := NewNotifiers(NotifiersOptions{Notifiers: testNotifiers})
	mux := http.NewServeMux()
	n.Register(mux)
	for _, p := range []*auth.Principal{
		nil,
		{Kind: "token", Name: "ops", Role: statedb.RoleOperator},
		{Kind: "token", Name: "dinkes-admin", Role: statedb.RoleAdmin, OPDs: []string{"dinkes"}},
	} {
		for _, req := range []*http.Request{
			httptest.NewRequest("GET", "/api/v1/notifiers", nil),
			httptest.NewRequest("POST", "/api/v1/notifiers/noc-telegram/test", nil),
			httptest.NewRequest("GET", "/api/v1/outbox", nil),
		} {
			if p != nil {
				req = req.WithContext(auth.WithPrincipal(req.Context(), p))
			}
			w := httptest.NewRecorder()
			mux.ServeHTTP(w, req)
			if w.Code != 403 {
				t.Errorf("%s %s as %v: %d, want 403", req.Method, req.URL.Path, p, w.Code)
			}
		}
	}
}

// TestNotifierTest: a test message is queued in the outbox for the named
// notifier, in the language asked for, with an audit row; bad requests
// harm nothing.
func TestNotifierTest(t *testing.T) {
	ctx := context.Background()
	e := newNotifierEnv(t, testNotifiers)
	code, body := e.do("POST", "/api/v1/notifiers/noc-webhook/test?lang=en", bearer(e.admin), "")
	if code != 202 {
		t.Fatalf("test: %d %s", code, body)
	}
	ans := decode[struct {
		Status, Notifier, MsgID, Lang, State string
		ID                                   int64
	}](t, strings.ReplaceAll(body, `"msg_id"`, `"msgid"`))
	if ans.Status != "success" || ans.Notifier != "noc-webhook" || ans.Lang != "en" || ans.State != "pending" || ans.ID == 0 || !strings.HasPrefix(ans.MsgID, "test-") {
		t.Fatalf("answer %s", body)
	}
	list, err := e.db.OutboxList(ctx, "", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].ID != ans.ID || list[0].Notifier != "noc-webhook" || list[0].MsgID != ans.MsgID || list[0].State != statedb.OutboxPending {
		t.Fatalf("outbox %+v, answer %s", list, body)
	}
	var m notify.Message
	if err := json.Unmarshal(list[0].Payload, &m); err != nil {
		t.Fatal(err)
	}
	if m.ID != ans.MsgID || m.Title != "Pantau test notification" || m.Labels["alertname"] != "PantauTest" {
		t.Errorf("queued message %+v", m)
	}
	rows := e.auditRows()
	if len(rows) != 1 || rows[0].Object != "notifier/noc-webhook" || rows[0].ActorName != "root" ||
		rows[0].Action != "POST /api/v1/notifiers/noc-webhook/test" || !strings.Contains(rows[0].Summary, ans.MsgID) {
		t.Fatalf("audit %+v", rows)
	}

	// the default language is Bahasa Indonesia
	if code, body = e.do("POST", "/api/v1/notifiers/noc-telegram/test", bearer(e.admin), ""); code != 202 || !strings.Contains(body, `"lang":"id"`) {
		t.Fatalf("default lang: %d %s", code, body)
	}
	if list, _ = e.db.OutboxList(ctx, "noc-telegram", 10); len(list) != 1 || !strings.Contains(string(list[0].Payload), "Uji notifikasi Pantau") {
		t.Fatalf("outbox of noc-telegram: %+v", list)
	}

	for _, c := range []struct {
		path string
		want int
		msg  string
	}{
		{"/api/v1/notifiers/noc-telegram/test?lang=fr", 400, `lang: \"fr\": use id or en`},
		{"/api/v1/notifiers/noc-telegram/test?lang=", 400, "use id or en"},
		{"/api/v1/notifiers/noc-telegram/test?lang=id&lang=en", 400, "give it once"},
		{"/api/v1/notifiers/noc-telegram/test?queue=1", 400, "unknown parameter"},
		{"/api/v1/notifiers/no-such/test", 404, `no notifier \"no-such\"; configured: noc-telegram, noc-webhook`},
	} {
		code, body := e.do("POST", c.path, bearer(e.admin), "")
		if code != c.want || !strings.Contains(body, c.msg) {
			t.Errorf("POST %s: %d %s, want %d %q", c.path, code, body, c.want, c.msg)
		}
	}
	if list, _ = e.db.OutboxList(ctx, "", 10); len(list) != 2 {
		t.Errorf("refused requests queued something: %+v", list)
	}
	if rows = e.auditRows(); len(rows) != 2 {
		t.Errorf("refused requests are on record: %+v", rows)
	}
}

// TestNotifierTestNoNotifiers: without notifiers a test is a conflict
// that says what to do, and the list is empty.
func TestNotifierTestNoNotifiers(t *testing.T) {
	e := newNotifierEnv(t, nil)
	code, body := e.do("POST", "/api/v1/notifiers/noc-telegram/test", bearer(e.admin), "")
	if code != 409 || !strings.Contains(body, "no notifiers are configured") || !strings.Contains(body, "collector.yml") {
		t.Errorf("test without notifiers: %d %s", code, body)
	}
	if code, body = e.do("GET", "/api/v1/notifiers", bearer(e.admin), ""); code != 200 || !strings.Contains(body, `"data":[]`) {
		t.Errorf("list without notifiers: %d %s", code, body)
	}
	if rows := e.auditRows(); len(rows) != 0 {
		t.Errorf("audit %+v", rows)
	}
}

// TestNotifiersList: each configured notifier with its type and the
// outbox's counts and newest error, that error scrubbed of the
// notifier's secrets even when the stored text holds them; never a
// URL, token, secret or header value.
func TestNotifiersList(t *testing.T) {
	ctx := context.Background()
	e := newNotifierEnv(t, testNotifiers)
	now := time.Now().Add(-time.Hour)
	enq := func(n, id string) int64 {
		t.Helper()
		if ok, err := e.db.OutboxEnqueue(ctx, n, id, []byte(`{}`), now); err != nil || !ok {
			t.Fatal(ok, err)
		}
		en, ok, err := e.db.OutboxFind(ctx, n, id)
		if err != nil || !ok {
			t.Fatal(ok, err)
		}
		return en.ID
	}
	// noc-webhook: one sent, one refused, one being retried (the newest
	// error), one pending; its stored errors quote its secrets
	if err := e.db.OutboxSent(ctx, enq("noc-webhook", "a1"), now); err != nil {
		t.Fatal(err)
	}
	if err := e.db.OutboxFail(ctx, enq("noc-webhook", "a2"), now, "HTTP 403 from "+secretHookURL); err != nil {
		t.Fatal(err)
	}
	retrying := enq("noc-webhook", "a3")
	if err := e.db.OutboxRetry(ctx, retrying, now.Add(time.Minute), "timeout; key "+secretHeader+" hmac "+secretHMAC); err != nil {
		t.Fatal(err)
	}
	enq("noc-webhook", "a4")
	// noc-telegram: one refused, quoting its bot token
	if err := e.db.OutboxFail(ctx, enq("noc-telegram", "b1"), now, "telegram: Unauthorized for bot"+secretBotToken+"/sendMessage"); err != nil {
		t.Fatal(err)
	}
	// an entry of a notifier no longer configured is not listed
	enq("old-slack", "c1")

	code, body := e.do("GET", "/api/v1/notifiers", bearer(e.admin), "") // fails on any secret
	if code != 200 {
		t.Fatalf("list: %d %s", code, body)
	}
	ans := decode[struct {
		Status string
		Data   []NotifierView
	}](t, body)
	if ans.Status != "success" || len(ans.Data) != 2 {
		t.Fatalf("list %s", body)
	}
	tg, wh := ans.Data[0], ans.Data[1]
	if tg.Name != "noc-telegram" || tg.Type != "telegram" || tg.Pending != 0 || tg.Failed != 1 || tg.Sent != 0 ||
		tg.LastError == nil || tg.LastError.State != "failed" || tg.LastError.Error != "telegram: Unauthorized for bot[redacted]/sendMessage" {
		t.Errorf("noc-telegram: %+v %+v", tg, tg.LastError)
	}
	if wh.Name != "noc-webhook" || wh.Type != "webhook" || wh.Pending != 2 || wh.Failed != 1 || wh.Sent != 1 ||
		wh.OldestPending.IsZero() || wh.LastSent.IsZero() || wh.LastError == nil ||
		wh.LastError.ID != retrying || wh.LastError.State != "pending" || wh.LastError.Attempts != 1 ||
		wh.LastError.Error != "timeout; key [redacted] hmac [redacted]" {
		t.Errorf("noc-webhook: %+v %+v", wh, wh.LastError)
	}
	if strings.Contains(body, `"url"`) || strings.Contains(body, "old-slack") {
		t.Errorf("list shows a URL or an unconfigured notifier: %s", body)
	}
}

// FuzzNotifierTestQuery: any query string gives id or en, or a
// *ParamError; never a panic.
func FuzzNotifierTestQuery(f *testing.F) {
	for _, s := range []string{"", "lang=id", "lang=en", "lang=fr", "lang=", "lang=id&lang=en", "queue=1", "=x", "LANG=en", "lang=en%00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		lang, err := ParseTestLang(q)
		if err != nil {
			var pe *ParamError
			if !errors.As(err, &pe) || pe.Param == "" {
				t.Fatalf("%q: error %v is not a ParamError", raw, err)
			}
			return
		}
		if lang != "id" && lang != "en" {
			t.Fatalf("%q: lang %q", raw, lang)
		}
	})
}

// TestOutboxList: the outbox's entries newest first, filtered by
// notifier and state, bounded by limit; errors scrubbed of the
// notifier's secrets (withheld for a notifier no longer configured),
// never a payload; only an unscoped admin reaches it; bad parameters
// are 400 naming them.
func TestOutboxList(t *testing.T) {
	ctx := context.Background()
	e := newNotifierEnv(t, testNotifiers)
	now := time.Now().Add(-time.Hour)
	enq := func(n, id string) int64 {
		t.Helper()
		// the payload holds a secret, as a webhook's URL may
		if ok, err := e.db.OutboxEnqueue(ctx, n, id, []byte(`{"url":"`+secretHookURL+`"}`), now); err != nil || !ok {
			t.Fatal(ok, err)
		}
		en, ok, err := e.db.OutboxFind(ctx, n, id)
		if err != nil || !ok {
			t.Fatal(ok, err)
		}
		return en.ID
	}
	sent := enq("noc-webhook", "a1")
	if err := e.db.OutboxSent(ctx, sent, now); err != nil {
		t.Fatal(err)
	}
	failed := enq("noc-telegram", "b1")
	if err := e.db.OutboxFail(ctx, failed, now, "telegram: Unauthorized for bot"+secretBotToken+"/sendMessage"); err != nil {
		t.Fatal(err)
	}
	retrying := enq("noc-webhook", "a2")
	if err := e.db.OutboxRetry(ctx, retrying, now.Add(time.Minute), "timeout; key "+secretHeader); err != nil {
		t.Fatal(err)
	}
	old := enq("old-slack", "c1")
	if err := e.db.OutboxFail(ctx, old, now, "slack: HTTP 404 for https://hooks.slack.com/services/T0/B0/xyzzy"); err != nil {
		t.Fatal(err)
	}

	list := func(query string) []OutboxView {
		t.Helper()
		code, body := e.do("GET", "/api/v1/outbox"+query, bearer(e.admin), "") // fails on any secret
		if code != 200 {
			t.Fatalf("GET /api/v1/outbox%s: %d %s", query, code, body)
		}
		if strings.Contains(body, "payload") || strings.Contains(body, "xyzzy") {
			t.Fatalf("answer shows a payload or an unscrubbed error: %s", body)
		}
		return decode[struct{ Data []OutboxView }](t, body).Data
	}
	ids := func(vs []OutboxView) []int64 {
		var out []int64
		for _, v := range vs {
			out = append(out, v.ID)
		}
		return out
	}
	all := list("")
	if got, want := ids(all), []int64{old, retrying, failed, sent}; !slices.Equal(got, want) {
		t.Fatalf("ids %v, want %v newest first", got, want)
	}
	byID := map[int64]OutboxView{}
	for _, v := range all {
		byID[v.ID] = v
	}
	if v := byID[retrying]; v.State != "pending" || v.Attempts != 1 || v.NextAttempt == nil || v.Finished != nil || v.Error != "timeout; key [redacted]" || v.MsgID != "a2" {
		t.Errorf("retrying entry %+v", v)
	}
	if v := byID[failed]; v.State != "failed" || v.Finished == nil || v.NextAttempt != nil || v.Error != "telegram: Unauthorized for bot[redacted]/sendMessage" {
		t.Errorf("failed entry %+v", v)
	}
	if v := byID[sent]; v.State != "sent" || v.Finished == nil || v.Error != "" || v.Notifier != "noc-webhook" {
		t.Errorf("sent entry %+v", v)
	}
	if v := byID[old]; v.Error != withheldError {
		t.Errorf("entry of an unconfigured notifier %+v", v)
	}
	if got := ids(list("?notifier=noc-webhook")); !slices.Equal(got, []int64{retrying, sent}) {
		t.Errorf("notifier=noc-webhook: %v", got)
	}
	if got := ids(list("?state=failed")); !slices.Equal(got, []int64{old, failed}) {
		t.Errorf("state=failed: %v", got)
	}
	if got := ids(list("?state=pending&notifier=noc-webhook&limit=1")); !slices.Equal(got, []int64{retrying}) {
		t.Errorf("pending of noc-webhook: %v", got)
	}
	if got := list("?limit=1"); len(got) != 1 {
		t.Errorf("limit=1: %d entries", len(got))
	}
	if code, body := e.do("GET", "/api/v1/outbox?notifier=nope", bearer(e.admin), ""); code != 200 || !strings.Contains(body, `"data":[]`) {
		t.Errorf("an unknown notifier: %d %s", code, body)
	}

	for _, c := range []struct{ query, msg string }{
		{"?state=queued", `state: \"queued\": use pending, sent or failed`},
		{"?limit=0", "limit"},
		{"?limit=1001", "limit"},
		{"?limit=x", "limit"},
		{"?state=sent&state=failed", "state: given 2 times"},
		{"?notifier=", "notifier"},
		{"?since=2026-12-01", `\"since\": unknown parameter`},
	} {
		if code, body := e.do("GET", "/api/v1/outbox"+c.query, bearer(e.admin), ""); code != 400 || !strings.Contains(body, c.msg) {
			t.Errorf("GET /api/v1/outbox%s: %d %s, want 400 with %q", c.query, code, body, c.msg)
		}
	}
	for _, c := range []struct {
		cred string
		want int
	}{
		{bearer(e.token("dinkes-admin", statedb.RoleAdmin, "dinkes")), 403},
		{bearer(e.token("ops", statedb.RoleOperator)), 403},
		{bearer(e.token("grafana", statedb.RoleViewer)), 403},
		{"", 401},
	} {
		if code, body := e.do("GET", "/api/v1/outbox", c.cred, ""); code != c.want {
			t.Errorf("GET /api/v1/outbox: %d %s, want %d", code, body, c.want)
		}
	}
}

// FuzzOutboxQuery: any query string gives a filter within bounds or a
// *ParamError; never a panic.
func FuzzOutboxQuery(f *testing.F) {
	for _, s := range []string{"", "notifier=noc-telegram", "state=pending", "state=sent&limit=5", "limit=1000", "limit=1001", "limit=0",
		"state=queued", "notifier=", "notifier=a&notifier=b", "x=1", "=", "notifier=%00", "limit=-5&state=failed"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		flt, err := ParseOutboxQuery(q)
		if err != nil {
			var pe *ParamError
			if !errors.As(err, &pe) || pe.Param == "" {
				t.Fatalf("%q: error %v is not a ParamError", raw, err)
			}
			return
		}
		if flt.Limit < 1 || flt.Limit > MaxOutboxLimit {
			t.Fatalf("%q: limit %d", raw, flt.Limit)
		}
		switch flt.State {
		case "", statedb.OutboxPending, statedb.OutboxSent, statedb.OutboxFailed:
		default:
			t.Fatalf("%q: state %q", raw, flt.State)
		}
	})
}
