package tgconsole

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"
)

func ptr(v float64) *float64 { return &v }

// backendData is the collector's state in the reply tests.
func backendData() *fakeBackend {
	return &fakeBackend{
		down: []Problem{
			{ID: "a1b2c3d4e5f60718", Rule: "LinkDown", Severity: "critical", Title: "Link dinkes-wan PUTUS — Dinas Kesehatan",
				Site: "dinkes", SiteName: "Dinas Kesehatan", District: "Jayapura Utara", Since: time.Date(2026, 10, 12, 10, 0, 0, 0, wit), Acked: "@budi"},
			{ID: "1234abcd5678ef90", Rule: "DeviceDown", Severity: "critical", Title: "Perangkat core-sw1 tidak merespons",
				Since: time.Date(2026, 10, 12, 0, 0, 0, 0, time.UTC)}, // 09:00 WIT
			{ID: "99887766aabbccdd", Rule: "LinkDegraded", Severity: "info", Title: "Link bappeda-lte terdegradasi",
				Site: "bappeda", District: "Abepura", Since: time.Date(2026, 10, 12, 11, 15, 0, 0, wit)},
			{ID: "0f1e2d3c4b5a6978", Rule: "HighLatency", Severity: "warning", Title: "Latensi tinggi <puskesmas> & co",
				Site: "pkm-abe", District: "Abepura", Since: time.Date(2026, 10, 10, 8, 30, 0, 0, wit)},
		},
		sites: map[string]SiteStatus{
			"dinkes": {
				ID: "dinkes", Name: `Dinkes <Kab> & "X"`, OPD: "Dinas Kesehatan", District: "Jayapura Utara",
				Links: []LinkStatus{
					{ID: "dinkes-wan", State: "down", LossRatio: ptr(1)},
					{ID: "dinkes-lte", State: "degraded", LossRatio: ptr(0.025), RTTSeconds: ptr(0.0342)},
				},
				LastOutage: &Outage{Start: time.Date(2026, 10, 12, 10, 0, 0, 0, wit), Cause: "power"},
			},
		},
		acks:    map[string]Problem{"a1b2c3d4": {ID: "a1b2c3d4e5f60718", Title: "Link dinkes-wan PUTUS — Dinas Kesehatan", Acked: "@budi"}},
		silence: 7,
	}
}

const statusID = `<b>Gangguan saat ini: 4</b>

<b>Abepura</b>
⚠️ <code>0f1e2d3c</code> Latensi tinggi &lt;puskesmas&gt; &amp; co (sejak 2026-10-10 08:30 WIT)
ℹ️ <code>99887766</code> Link bappeda-lte terdegradasi (sejak 11:15 WIT)

<b>Jayapura Utara</b>
🔴 <code>a1b2c3d4</code> Link dinkes-wan PUTUS — Dinas Kesehatan (sejak 10:00 WIT) ✔ ack @budi

<b>Tanpa distrik</b>
🔴 <code>1234abcd</code> Perangkat core-sw1 tidak merespons (sejak 09:00 WIT)`

const helpID = `<b>Perintah Pantau</b>
/status — gangguan saat ini
/site &lt;lokasi&gt; — keadaan satu lokasi
/ack &lt;id&gt; — akui peringatan (id dari /status)
/silence &lt;lokasi&gt; &lt;durasi&gt; &lt;alasan&gt; — bungkam peringatan lokasi, mis. /silence dinkes 2h pemeliharaan
/help — bantuan ini`

const usageSilenceID = `Pakai: /silence &lt;lokasi&gt; &lt;durasi&gt; &lt;alasan&gt;
Durasi mis. 30m, 2h, 1h30m, 1d (maks. 7d).
Contoh: /silence dinkes 2h pemeliharaan jaringan`

// TestReplies sends one batch of commands (and non-commands) and checks
// every sendMessage body, the backend calls and the audit log.
func TestReplies(t *testing.T) {
	h := newHarness(t, backendData(), nil)
	siti := map[string]any{"id": 77, "is_bot": false, "first_name": "Siti"}
	topic := msg(112, 512, chatNOC, budi, "/help")
	topic["message"].(map[string]any)["message_thread_id"] = 5
	topic["message"].(map[string]any)["is_topic_message"] = true
	replyThread := msg(113, 513, chatNOC, budi, "/start")
	replyThread["message"].(map[string]any)["message_thread_id"] = 400 // a reply chain, not a forum topic
	h.tg.push(
		msg(100, 500, chatNOC, budi, "/status"),
		msg(101, 501, chatNOC, budi, "selamat pagi, semua"), // not a command: ignored
		msg(102, 502, chatNOC, budi, "/site dinkes"),
		msg(103, 503, chatNOC, budi, "/ack a1b2c3d4"),
		msg(104, 504, chatNOC, budi, "/silence dinkes 2h pemeliharaan <router>  inti"),
		msg(105, 505, chatNOC, budi, "/silence dinkes 8d kabel putus"),                      // over 7d
		msg(106, 506, chatNOC, budi, "/reboot now"),                                         // unknown
		msg(107, 507, chatNOC, budi, "/status@PantauBot"),                                   // this bot
		msg(108, 508, chatNOC, budi, "/status@OtherBot"),                                    // another bot: ignored
		msg(109, 509, chatNOC, budi, "/var/log/syslog penuh"),                               // a path, not a command
		msg(110, 510, chatNOC, siti, "/silence dinkes 30m tes"),                             // author without username
		map[string]any{"update_id": 111, "edited_message": map[string]any{"message_id": 1}}, // no message
		topic,
		replyThread,
	)
	h.start()
	h.tg.waitHandled(114)

	exp := []map[string]any{
		want(chatNOC, 500, statusID),
		want(chatNOC, 502, `<b>Dinkes &lt;Kab&gt; &amp; "X"</b> (<code>dinkes</code>)
OPD: Dinas Kesehatan
Distrik: Jayapura Utara
Link:
• <code>dinkes-wan</code>: putus, loss 100%
• <code>dinkes-lte</code>: terdegradasi, loss 2.5%, RTT 34 ms
Gangguan terakhir: 10:00 WIT – masih berlangsung (2 jam), penyebab: listrik`),
		want(chatNOC, 503, "✔ Di-ack oleh @budi: Link dinkes-wan PUTUS — Dinas Kesehatan"),
		want(chatNOC, 504, "🔕 Peringatan lokasi dinkes dibungkam 2 jam oleh @budi (id 7): pemeliharaan &lt;router&gt; inti"),
		want(chatNOC, 505, "Durasi <code>8d</code> tidak valid.\n"+usageSilenceID),
		want(chatNOC, 506, "Perintah /reboot tidak dikenal.\n\n"+helpID),
		want(chatNOC, 507, statusID),
		want(chatNOC, 510, "🔕 Peringatan lokasi dinkes dibungkam 30 menit oleh Siti (77) (id 7): tes"),
		want(chatNOC, 512, helpID),
		want(chatNOC, 513, helpID),
	}
	exp[8]["message_thread_id"] = float64(5)
	checkSent(t, h.tg.sentMessages(), exp)

	calls := h.be.callLog()
	wantCalls := []string{
		"Down",
		"Site dinkes",
		"Ack a1b2c3d4 @budi",
		`Silence dinkes 2h0m0s "pemeliharaan <router> inti" @budi`,
		"Down",
		`Silence dinkes 30m0s "tes" Siti (77)`,
	}
	if !reflect.DeepEqual(calls, wantCalls) {
		t.Errorf("backend calls\n got %q\nwant %q", calls, wantCalls)
	}

	// Every accepted command is logged at info with its author.
	recs := h.logs.find(t, "telegram command")
	var got []string
	for _, r := range recs {
		if r["msg"] != "telegram command" {
			continue
		}
		if r["level"] != "INFO" {
			t.Errorf("command log %v", r)
		}
		got = append(got, fmt.Sprintf("%v %v %v %v %v %v", r["command"], r["args"], r["chat_id"], r["user_id"], r["username"], r["author"]))
	}
	wantLog := []string{
		"status [] -1.00123456789e+12 42 budi @budi",
		"site [dinkes] -1.00123456789e+12 42 budi @budi",
		"ack [a1b2c3d4] -1.00123456789e+12 42 budi @budi",
		"silence [dinkes 2h pemeliharaan <router> inti] -1.00123456789e+12 42 budi @budi",
		"silence [dinkes 8d kabel putus] -1.00123456789e+12 42 budi @budi",
		"reboot [now] -1.00123456789e+12 42 budi @budi",
		"status [] -1.00123456789e+12 42 budi @budi",
		"silence [dinkes 30m tes] -1.00123456789e+12 77  Siti (77)",
		"help [] -1.00123456789e+12 42 budi @budi",
		"start [] -1.00123456789e+12 42 budi @budi",
	}
	if !reflect.DeepEqual(got, wantLog) {
		t.Errorf("command log\n got %q\nwant %q", got, wantLog)
	}
}

// TestAllClearEnglish: /status with nothing down, in English.
func TestAllClearEnglish(t *testing.T) {
	h := newHarness(t, &fakeBackend{}, func(c *Config) { c.Lang = "en" })
	h.tg.push(msg(1, 10, chatNOC, budi, "/status"))
	h.start()
	h.tg.waitHandled(2)
	checkSent(t, h.tg.sentMessages(), []map[string]any{want(chatNOC, 10, "✅ All clear. No problems.")})
}

// TestReplyErrors: usage, not found, ambiguous and failing backend.
func TestReplyErrors(t *testing.T) {
	be := backendData()
	h := newHarness(t, be, nil)
	h.tg.push(
		msg(1, 10, chatNOC, budi, "/site"),
		msg(2, 11, chatNOC, budi, "/site rsud<x>"),
		msg(3, 12, chatNOC, budi, "/ack a1b"),
		msg(4, 13, chatNOC, budi, "/ack ffff"),
		msg(5, 14, chatNOC, budi, "/silence dinkes 2h"),
		msg(6, 15, chatNOC, budi, "/silence rsud 2h listrik padam"),
	)
	h.start()
	h.tg.waitHandled(7)
	checkSent(t, h.tg.sentMessages(), []map[string]any{
		want(chatNOC, 10, "Pakai: /site &lt;lokasi&gt;, mis. /site dinkes"),
		want(chatNOC, 11, "Lokasi rsud&lt;x&gt; tidak ditemukan."),
		want(chatNOC, 12, "Pakai: /ack &lt;id&gt; — id peringatan dari /status (minimal 4 karakter), mis. /ack 3f9a12c4"),
		want(chatNOC, 13, "Tidak ada peringatan aktif dengan id <code>ffff</code>."),
		want(chatNOC, 14, usageSilenceID),
		want(chatNOC, 15, "Lokasi rsud tidak ditemukan."),
	})
	h.stop()

	// Ambiguous prefix, and a backend failing otherwise (English).
	be2 := &fakeBackend{ackErr: fmt.Errorf("ack: %w", ErrAmbiguous), downErr: errors.New("database is locked")}
	h2 := newHarness(t, be2, func(c *Config) { c.Lang = "en" })
	h2.tg.push(msg(1, 10, chatNOC, budi, "/ack a1b2"), msg(2, 11, chatNOC, budi, "/status"))
	h2.start()
	h2.tg.waitHandled(3)
	checkSent(t, h2.tg.sentMessages(), []map[string]any{
		want(chatNOC, 10, "Id <code>a1b2</code> matches several alerts; type more characters (see /status)."),
		want(chatNOC, 11, "Something went wrong; see the collector's log."),
	})
	recs := h2.logs.find(t, "telegram command failed")
	if len(recs) != 1 || recs[0]["level"] != "ERROR" || recs[0]["err"] != "database is locked" || recs[0]["command"] != "status" {
		t.Errorf("failure log %v", recs)
	}
}

// TestAllowList: a stranger chat gets no answer, a stranger in the NOC
// group is refused, and the backend is not called for either.
func TestAllowList(t *testing.T) {
	h := newHarness(t, backendData(), func(c *Config) { c.AllowedUsers = []int64{budiID} })
	mallory := map[string]any{"id": 666, "is_bot": false, "first_name": "Mal", "username": "mallory"}
	h.tg.push(
		msg(1, 10, -100777, budi, "/status"),            // unlisted chat, even from an allowed user
		msg(2, 11, -100777, mallory, "/silence x 1d y"), // unlisted chat
		msg(3, 12, chatNOC, mallory, "/ack a1b2c3d4"),   // allowed chat, unlisted user
		msg(4, 13, chatNOC, nil, "/status"),             // no sender (anonymous admin): refused
		msg(5, 14, chatNOC, budi, "/help"),              // allowed
	)
	h.start()
	h.tg.waitHandled(6)
	refusal := "Maaf, Anda tidak berwenang memberi perintah ke Pantau."
	checkSent(t, h.tg.sentMessages(), []map[string]any{
		want(chatNOC, 12, refusal),
		want(chatNOC, 13, refusal),
		want(chatNOC, 14, helpID),
	})
	if calls := h.be.callLog(); len(calls) != 0 {
		t.Errorf("backend called: %q", calls)
	}
	strangers := h.logs.find(t, "telegram command refused: chat not allowed")
	if len(strangers) != 2 {
		t.Fatalf("%d stranger-chat logs, want 2", len(strangers))
	}
	for i, w := range []struct {
		user     float64
		username string
		command  string
	}{{42, "budi", "status"}, {666, "mallory", "silence"}} {
		r := strangers[i]
		if r["level"] != "WARN" || r["chat_id"] != float64(-100777) || r["user_id"] != w.user || r["username"] != w.username || r["command"] != w.command {
			t.Errorf("stranger log %d: %v", i, r)
		}
	}
	refused := h.logs.find(t, "telegram command refused: user not allowed")
	if len(refused) != 2 || refused[0]["user_id"] != float64(666) || refused[0]["username"] != "mallory" ||
		refused[0]["author"] != "@mallory" || refused[0]["command"] != "ack" || !reflect.DeepEqual(refused[0]["args"], []any{"a1b2c3d4"}) {
		t.Errorf("refusal logs %v", refused)
	}
	if acc := h.logs.find(t, "telegram command"); len(acc) != 5 {
		t.Errorf("%d command logs, want 5 (every command, accepted or refused)", len(acc))
	}
}

// TestPollErrors: a 500 then a 429 (with retry_after 1) then success; the
// updates are handled exactly once, the 429's wait is honoured, later
// updates are handled too, and the token leaks nowhere.
func TestPollErrors(t *testing.T) {
	h := newHarness(t, backendData(), nil)
	h.tg.script(
		fakeStep{500, `{"ok":false,"error_code":500,"description":"Internal Server Error (token ` + testToken + `)"}`},
		fakeStep{429, `{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 1","parameters":{"retry_after":1}}`},
	)
	h.tg.push(msg(1, 10, chatNOC, budi, "/status"), msg(2, 11, chatNOC, budi, "/help"))
	h.start()
	h.tg.waitHandled(3)
	h.tg.push(msg(3, 12, chatNOC, budi, "/ack a1b2c3d4"))
	h.tg.waitHandled(4)
	checkSent(t, h.tg.sentMessages(), []map[string]any{
		want(chatNOC, 10, statusID),
		want(chatNOC, 11, helpID),
		want(chatNOC, 12, "✔ Di-ack oleh @budi: Link dinkes-wan PUTUS — Dinas Kesehatan"),
	})
	if calls := h.be.callLog(); !reflect.DeepEqual(calls, []string{"Down", "Ack a1b2c3d4 @budi"}) {
		t.Errorf("backend calls %q", calls)
	}
	polls := h.tg.pollLog()
	if len(polls) < 5 {
		t.Fatalf("%d polls", len(polls))
	}
	for i, w := range []int64{0, 0, 0, 3, 4} {
		if polls[i].offset != w {
			t.Errorf("poll %d offset %d, want %d", i, polls[i].offset, w)
		}
	}
	if gap := polls[2].at.Sub(polls[1].answered); gap < time.Second {
		t.Errorf("retried %s after the 429, want at least retry_after 1s", gap)
	}
	if gap := polls[1].at.Sub(polls[0].answered); gap > 500*time.Millisecond {
		t.Errorf("retried %s after the 500, want the short test backoff", gap)
	}
	failed := h.logs.find(t, "telegram getUpdates failed")
	limited := h.logs.find(t, "telegram getUpdates rate-limited")
	if len(failed) != 1 || len(limited) != 1 {
		t.Fatalf("failure logs %v, %v", failed, limited)
	}
	if e := failed[0]["err"].(string); !strings.Contains(e, "getUpdates 127.0.0.1") || !strings.Contains(e, "500 Internal Server Error (token [redacted])") {
		t.Errorf("500 logged as %q", e)
	}
	if limited[0]["retry_in"] != "1s" {
		t.Errorf("429 logged %v", limited[0])
	}
}

// TestPollBackoffFullJitter: failed polls in a row wait internal/retry's
// full jitter between the minimum and a doubling ceiling; with the random
// source pinned (top, bottom, top) the logged waits are exact.
func TestPollBackoffFullJitter(t *testing.T) {
	h := newHarness(t, nil, nil)
	h.con.backoff.Max = time.Second
	draws := 0
	h.con.backoff.Rand = func(n int64) int64 {
		draws++
		if draws == 2 {
			return 0
		}
		return n - 1
	}
	fail := fakeStep{500, `{"ok":false,"error_code":500,"description":"Internal Server Error"}`}
	h.tg.script(fail, fail, fail, fail)
	h.tg.push(msg(1, 10, chatNOC, budi, "/help"))
	h.start()
	h.tg.waitHandled(2)
	var got []string
	for _, r := range h.logs.find(t, "telegram getUpdates failed") {
		got = append(got, r["retry_in"].(string))
	}
	// 1st: the minimum (no draw); 2nd: top of [10ms, 20ms]; 3rd: bottom of
	// [10ms, 40ms]; 4th: top of [10ms, 80ms].
	if want := []string{"10ms", "20ms", "10ms", "80ms"}; !reflect.DeepEqual(got, want) {
		t.Errorf("retry_in %v, want %v", got, want)
	}
}

// TestConflict: a 409 is logged as such, with the hint.
func TestConflict(t *testing.T) {
	h := newHarness(t, nil, nil)
	h.tg.script(fakeStep{409, `{"ok":false,"error_code":409,"description":"Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"}`})
	h.tg.push(msg(1, 10, chatNOC, budi, "/help"))
	h.start()
	h.tg.waitHandled(2)
	checkSent(t, h.tg.sentMessages(), []map[string]any{want(chatNOC, 10, helpID)})
	recs := h.logs.find(t, "telegram getUpdates conflict")
	if len(recs) != 1 {
		t.Fatalf("conflict logs: %v", h.logs.String())
	}
	r := recs[0]
	if r["level"] != "ERROR" || !strings.Contains(r["msg"].(string), "another process polls this bot, or a webhook is set: deleteWebhook") ||
		!strings.Contains(r["err"].(string), "409 Conflict: terminated by other getUpdates request") {
		t.Errorf("conflict log %v", r)
	}
}

// TestNetworkError: an unreachable API is retried and logged by host,
// without the URL (which holds the token).
func TestNetworkError(t *testing.T) {
	h := newHarness(t, nil, nil)
	h.srv.Close() // refuses connections from now on
	h.start()
	deadline := time.Now().Add(5 * time.Second)
	for len(h.logs.find(t, "telegram getUpdates failed")) < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("no retries logged:\n%s", h.logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	h.stop()
	r := h.logs.find(t, "telegram getUpdates failed")[0]
	e := r["err"].(string)
	if !strings.HasPrefix(e, "telegram getUpdates "+strings.TrimPrefix(h.srv.URL, "http://")+": ") || strings.Contains(e, "http://") {
		t.Errorf("network error logged as %q", e)
	}
	// checkNoToken (at cleanup) searches the logs for the token.
}

// TestCallErrorsHoldNoToken: the errors returned by call never hold the
// token, whatever failed.
func TestCallErrorsHoldNoToken(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprintf(w, `{"ok":false,"error_code":401,"description":"Unauthorized %s"}`, r.URL.Path)
	}))
	defer srv.Close()
	con, err := New(Config{APIBase: srv.URL + "/", BotToken: testToken, AllowedChats: []int64{1}}, &fakeBackend{}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	err1 := con.call(ctx, http.MethodGet, "getMe", nil, nil, time.Second)
	var ae *apiError
	if !errors.As(err1, &ae) || ae.code != 401 || !strings.Contains(err1.Error(), "401 Unauthorized /bot[redacted]/getMe") {
		t.Errorf("401: %v", err1)
	}
	srv.Close()
	err2 := con.call(ctx, http.MethodGet, "getMe", nil, nil, time.Second)
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	err3 := con.call(cctx, http.MethodGet, "getMe", nil, nil, time.Second)
	if !errors.Is(err3, context.Canceled) {
		t.Errorf("canceled call: %v", err3)
	}
	for _, err := range []error{err1, err2, err3} {
		if err == nil || strings.Contains(err.Error(), testToken) || strings.Contains(err.Error(), "http://") {
			t.Errorf("error %q", err)
		}
	}
}

// TestShutdown: Run returns within 1s of cancel while a long poll is open.
func TestShutdown(t *testing.T) {
	h := newHarness(t, nil, nil)
	h.start()
	h.tg.waitFor("a held getUpdates", func() bool { return len(h.tg.polls) == 1 })
	time.Sleep(50 * time.Millisecond)
	start := time.Now()
	h.stop() // fails the test if Run takes over 1s
	if d := time.Since(start); d > time.Second {
		t.Errorf("Run took %s to stop", d)
	}
	if p := h.tg.pollLog(); len(p) != 1 || !p[0].answered.IsZero() {
		t.Errorf("polls %v", p)
	}
}

func TestNew(t *testing.T) {
	be := &fakeBackend{}
	ok := Config{BotToken: testToken, AllowedChats: []int64{chatNOC}}
	for _, tc := range []struct {
		name string
		mod  func(*Config)
		want string
	}{
		{"no token", func(c *Config) { c.BotToken = "" }, "bot token is empty"},
		{"bad token", func(c *Config) { c.BotToken = testToken + "/x" }, "bot token holds characters"},
		{"no chat", func(c *Config) { c.AllowedChats = nil }, "no allowed chat"},
		{"zero chat", func(c *Config) { c.AllowedChats = []int64{0} }, "no allowed chat"},
		{"lang", func(c *Config) { c.Lang = "jv" }, `lang "jv": want id or en`},
		{"poll", func(c *Config) { c.PollTimeout = time.Millisecond }, "poll timeout 1ms"},
		{"base", func(c *Config) { c.APIBase = "ftp://api.telegram.org" }, "API base"},
		{"base query", func(c *Config) { c.APIBase = "https://api.telegram.org?x=1" }, "API base"},
	} {
		c := ok
		tc.mod(&c)
		_, err := New(c, be, nil, nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), testToken) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
	if _, err := New(ok, nil, nil, nil); err == nil {
		t.Error("nil backend accepted")
	}

	con, err := New(ok, be, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if con.base != defaultAPIBase || con.lang != "id" || con.poll != 30*time.Second || con.client.Timeout <= con.poll {
		t.Errorf("defaults: base %s lang %s poll %s timeout %s", con.base, con.lang, con.poll, con.client.Timeout)
	}
	if name, off := time.Date(2026, 1, 1, 0, 0, 0, 0, con.zone).Zone(); off != 7*3600 || name != "WIB" {
		t.Errorf("default zone %s %d", name, off)
	}

	// A client timeout shorter than the long poll is raised on a copy.
	short := &http.Client{Timeout: 10 * time.Second}
	con, err = New(ok, be, short, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if short.Timeout != 10*time.Second || con.client == short || con.client.Timeout != 45*time.Second {
		t.Errorf("client timeout %s (caller's %s)", con.client.Timeout, short.Timeout)
	}
	long := &http.Client{Timeout: time.Minute}
	if con, _ = New(ok, be, long, nil); con.client != long {
		t.Error("a long enough client was replaced")
	}
}

// TestStaleCommandIgnored: a command sent while the collector was down
// (older than five minutes when read) is not run, a fresh one is.
func TestStaleCommandIgnored(t *testing.T) {
	be := &fakeBackend{}
	h := newHarness(t, be, nil)
	old := msg(1, 10, chatNOC, budi, "/silence dinkes 2h listrik padam")
	old["message"].(map[string]any)["date"] = testNow.Add(-6 * time.Minute).Unix()
	h.tg.push(old, msg(2, 11, chatNOC, budi, "/status"))
	h.start()
	h.tg.waitHandled(3)
	checkSent(t, h.tg.sentMessages(), []map[string]any{want(chatNOC, 11, "✅ Semua normal. Tidak ada gangguan.")})
	if recs := h.logs.find(t, "telegram command too old; ignored"); len(recs) != 1 {
		t.Errorf("stale command log %v", recs)
	}
	be.mu.Lock()
	defer be.mu.Unlock()
	for _, c := range be.calls {
		if strings.HasPrefix(strings.ToLower(c), "silence") {
			t.Errorf("the stale /silence reached the backend: %v", be.calls)
		}
	}
}
