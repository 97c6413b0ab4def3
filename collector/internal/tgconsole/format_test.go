package tgconsole

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

// testConsole is a console for the formatting tests (no network).
func testConsole(t *testing.T, lang string) *Console {
	t.Helper()
	c, err := New(Config{BotToken: testToken, AllowedChats: []int64{chatNOC}, Lang: lang, Zone: wit}, &fakeBackend{}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.now = func() time.Time { return testNow }
	return c
}

func TestFormatDuration(t *testing.T) {
	for _, tc := range []struct {
		d      time.Duration
		id, en string
	}{
		{2 * time.Hour, "2 jam", "2 h"},
		{90 * time.Minute, "1 jam 30 menit", "1 h 30 min"},
		{45 * time.Minute, "45 menit", "45 min"},
		{45*time.Minute + 59*time.Second, "45 menit 59 detik", "45 min 59 s"},
		{3*time.Minute + 23*time.Second, "3 menit 23 detik", "3 min 23 s"}, // the outage
		{26*time.Hour + 10*time.Second, "1 hari 2 jam 10 detik", "1 d 2 h 10 s"},
		{26*time.Hour + 5*time.Minute, "1 hari 2 jam 5 menit", "1 d 2 h 5 min"},
		{7 * 24 * time.Hour, "7 hari", "7 d"},
		{24*time.Hour + 30*time.Minute, "1 hari 30 menit", "1 d 30 min"},
		{30 * time.Second, "30 detik", "30 s"},
		{0, "0 detik", "0 s"},
		{-time.Hour, "0 detik", "0 s"},
	} {
		if got := FormatDuration(tc.d, "id"); got != tc.id {
			t.Errorf("FormatDuration(%s, id) = %q, want %q", tc.d, got, tc.id)
		}
		if got := FormatDuration(tc.d, "en"); got != tc.en {
			t.Errorf("FormatDuration(%s, en) = %q, want %q", tc.d, got, tc.en)
		}
	}
}

func TestParseSilenceDuration(t *testing.T) {
	for s, want := range map[string]time.Duration{
		"30m": 30 * time.Minute, "2h": 2 * time.Hour, "1h30m": 90 * time.Minute, "1d": 24 * time.Hour,
		"7d": maxSilence, "168h": maxSilence, "1d12h": 36 * time.Hour, "2H": 2 * time.Hour, "10080m": maxSilence,
		"0d1m": time.Minute,
		// rejected
		"": 0, "0m": 0, "8d": 0, "7d1m": 0, "169h": 0, "2": 0, "h": 0, "1h1h": 0, "30m2h": 0, "1.5h": 0,
		"-1h": 0, "1s": 0, "1w": 0, "9999999m": 0, "999999d": 0, "2h ": 0, "١h": 0,
	} {
		got, ok := parseSilenceDuration(s)
		if ok != (want > 0) || got != want {
			t.Errorf("parseSilenceDuration(%q) = %s, %v; want %s", s, got, ok, want)
		}
	}
}

func TestParseCommand(t *testing.T) {
	for text, want := range map[string]*command{
		"/status":                     {name: "status", args: []string{}},
		"/STATUS@PantauBot":           {name: "status", bot: "PantauBot", args: []string{}},
		"  /site  dinkes \n extra":    {name: "site", args: []string{"dinkes", "extra"}},
		"/silence a 2h kabel\nputus":  {name: "silence", args: []string{"a", "2h", "kabel", "putus"}},
		"/set_mode_2 x":               {name: "set_mode_2", args: []string{"x"}},
		"status":                      nil,
		"":                            nil,
		"/":                           nil,
		"/ status":                    nil,
		"/var/log/syslog penuh":       nil,
		"/status@":                    nil,
		"/status@bot":                 nil, // too short for a username
		"/status@Pantau@Bot":          nil,
		"/statüs":                     nil,
		"/" + strings.Repeat("a", 33): nil,
		"halo /status":                nil,
	} {
		got, ok := parseCommand(text)
		if want == nil {
			if ok {
				t.Errorf("parseCommand(%q) = %+v, want no command", text, got)
			}
			continue
		}
		if !ok || got.name != want.name || got.bot != want.bot || !reflect.DeepEqual(got.args, want.args) {
			t.Errorf("parseCommand(%q) = %+v, %v; want %+v", text, got, ok, *want)
		}
	}
}

func TestAuthor(t *testing.T) {
	for _, tc := range []struct {
		u    *user
		want string
	}{
		{&user{ID: 42, Username: "budi", FirstName: "Budi"}, "@budi"},
		{&user{ID: 77, FirstName: "Siti"}, "Siti (77)"},
		{&user{ID: 78}, "(78)"},
		{nil, "unknown (0)"},
	} {
		if got := author(tc.u); got != tc.want {
			t.Errorf("author(%+v) = %q, want %q", tc.u, got, tc.want)
		}
	}
}

func TestClock(t *testing.T) {
	c := testConsole(t, "id")
	for _, tc := range []struct {
		zone *time.Location
		t    time.Time
		want string
	}{
		{wit, time.Date(2026, 10, 12, 1, 0, 0, 0, time.UTC), "10:00 WIT"},
		{wit, time.Date(2026, 10, 10, 1, 0, 0, 0, time.UTC), "2026-10-10 10:00 WIT"},
		{wit, time.Date(2026, 10, 11, 15, 30, 0, 0, time.UTC), "00:30 WIT"}, // today in WIT, yesterday in UTC
		{time.FixedZone("", 7*3600), time.Date(2026, 10, 12, 1, 0, 0, 0, time.UTC), "08:00 WIB"},
		{time.FixedZone("X", 8*3600), time.Date(2026, 10, 12, 1, 0, 0, 0, time.UTC), "09:00 WITA"},
		{time.UTC, time.Date(2026, 10, 12, 1, 0, 0, 0, time.UTC), "01:00 UTC"},
		{time.FixedZone("", 5*3600+1800), time.Date(2026, 10, 12, 1, 0, 0, 0, time.UTC), "06:30 UTC+05:30"},
	} {
		c.zone = tc.zone
		if got := c.clock(tc.t); got != tc.want {
			t.Errorf("clock(%s in %s) = %q, want %q", tc.t, tc.zone, got, tc.want)
		}
	}
}

func TestEscape(t *testing.T) {
	if got := esc(`Dinkes <Kab> & "X"`); got != `Dinkes &lt;Kab&gt; &amp; "X"` {
		t.Errorf("esc = %q", got)
	}
	// A name that tries to open a tag is shown, not interpreted, in every reply.
	c := testConsole(t, "en")
	evil := `<a href="x">&amp;</a>`
	out := c.formatStatus([]Problem{{ID: "<b>0123456789", Severity: "critical", Title: evil, District: evil, Acked: evil}}) +
		c.formatSite(SiteStatus{ID: evil, Name: evil, OPD: evil, District: evil, Links: []LinkStatus{{ID: evil, State: evil}}, LastOutage: &Outage{Cause: evil}})
	if strings.Contains(out, "<a") || strings.Contains(out, "&amp;</a>") || strings.Contains(out, "<b>01") {
		t.Errorf("unescaped: %s", out)
	}
}

func TestSiteEnglish(t *testing.T) {
	c := testConsole(t, "en")
	got := c.formatSite(SiteStatus{
		ID: "rsud", Name: "RSUD Dok II",
		Links: []LinkStatus{
			{ID: "rsud-fo", State: "up", LossRatio: ptr(0), RTTSeconds: ptr(0.0042)},
			{ID: "rsud-vsat", State: "maintenance", LossRatio: ptr(0.0004)},
			{ID: "rsud-lte", State: "nodata"},
		},
		LastOutage: &Outage{Start: time.Date(2026, 10, 10, 22, 0, 0, 0, wit), End: time.Date(2026, 10, 11, 1, 30, 0, 0, wit), Cause: "isp"},
	})
	want := `<b>RSUD Dok II</b> (<code>rsud</code>)
Links:
• <code>rsud-fo</code>: up, loss 0%, RTT 4.2 ms
• <code>rsud-vsat</code>: maintenance, loss &lt;0.1%
• <code>rsud-lte</code>: no data
Last outage: 2026-10-10 22:00 WIT – 2026-10-11 01:30 WIT (3 h 30 min), cause: ISP`
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	if got := c.formatSite(SiteStatus{ID: "x"}); got != "<b>x</b> (<code>x</code>)\nLinks: none\nNo outage in the last 30 days." {
		t.Errorf("empty site: %q", got)
	}
}

// TestTruncate: long lists are cut under Telegram's limit with the count
// of what was left out, keeping what follows the list.
func TestTruncate(t *testing.T) {
	for _, lang := range []string{"id", "en"} {
		c := testConsole(t, lang)
		var ps []Problem
		for i := range 500 {
			ps = append(ps, Problem{
				ID: fmt.Sprintf("%016x", i), Severity: "critical", District: fmt.Sprintf("Distrik %02d", i%7),
				Title: fmt.Sprintf("Link site-%03d PUTUS — Dinas Pekerjaan Umum & Penataan Ruang 🚧", i),
				Since: testNow.Add(-time.Duration(i) * time.Minute),
			})
		}
		out := c.formatStatus(ps)
		if n := utf16Len(out); n > maxMessage {
			t.Fatalf("%s: %d UTF-16 units", lang, n)
		}
		lines := strings.Split(out, "\n")
		shown := strings.Count(out, "🔴")
		more := fmt.Sprintf(c.tr("… dan %d lainnya", "… and %d more"), 500-shown)
		if shown == 0 || lines[len(lines)-1] != more {
			t.Errorf("%s: %d shown, last line %q, want %q", lang, shown, lines[len(lines)-1], more)
		}
		if prev := lines[len(lines)-2]; !strings.HasPrefix(prev, "🔴") {
			t.Errorf("%s: line before the cut is %q", lang, prev)
		}

		var links []LinkStatus
		for i := range 400 {
			links = append(links, LinkStatus{ID: fmt.Sprintf("link-%03d-panjang-sekali", i), State: "down", LossRatio: ptr(1)})
		}
		site := c.formatSite(SiteStatus{ID: "big", Links: links, LastOutage: &Outage{Start: testNow.Add(-time.Hour), Cause: "parent"}})
		if n := utf16Len(site); n > maxMessage {
			t.Fatalf("%s: site %d UTF-16 units", lang, n)
		}
		sl := strings.Split(site, "\n")
		shown = strings.Count(site, "• ")
		if want := fmt.Sprintf(c.tr("… dan %d lainnya", "… and %d more"), 400-shown); sl[len(sl)-2] != want ||
			!strings.HasPrefix(sl[len(sl)-1], c.tr("Gangguan terakhir: 11:00 WIT", "Last outage: 11:00 WIT")) {
			t.Errorf("%s: site ends %q", lang, sl[len(sl)-2:])
		}
	}
	// Long dynamic texts are clipped, and fit is the last guard.
	c := testConsole(t, "id")
	long := strings.Repeat("<x>", 5000)
	if got, _ := c.execute(t.Context(), command{name: "silence", args: []string{"dinkes", "1h", long}}, "@budi"); utf16Len(got) > maxMessage {
		t.Errorf("silence reply %d units", utf16Len(got))
	}
	s := strings.Repeat("baris 🚨\n", 1000)
	if got := fit(s); utf16Len(got) > maxMessage || !strings.HasSuffix(got, "baris 🚨\n…") {
		t.Errorf("fit: %d units, ends %q", utf16Len(got), got[len(got)-20:])
	}
}
