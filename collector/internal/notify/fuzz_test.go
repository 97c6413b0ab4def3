package notify

import (
	"encoding/json"
	"html"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"
)

// validUTF8 replaces each invalid byte with U+FFFD, as the formats and
// encoding/json do.
func validUTF8(s string) string {
	var b strings.Builder
	for _, r := range s {
		b.WriteRune(r)
	}
	return b.String()
}

const fuzzURL = "https://noc.example.go.id/d/sites?var-site=dinkes&x=\"1\""

// FuzzTelegramText: whatever the title and text, the HTML is within
// Telegram's limit, valid UTF-8, has no raw < or > but its own tags and
// no & that does not start an entity, and reads back as the title and a
// prefix of the text.
func FuzzTelegramText(f *testing.F) {
	m := firing()
	f.Add(m.Title, m.Text)
	f.Add("", "")
	f.Add("<b>&amp;</b>", strings.Repeat("&<>\"", 2000))
	f.Add(strings.Repeat("🚨", 3000), strings.Repeat("🚨<", 3000))
	f.Add("a\nb\r\nc", "\xff\xfe<\x80&")
	f.Add("</b><a href=\"x\">", "</a>&lt;")
	f.Fuzz(func(t *testing.T, title, text string) {
		out := telegramText(&Message{Title: title, Text: text, URL: fuzzURL})
		if n := utf16Len(out); n > telegramLimit {
			t.Fatalf("%d UTF-16 units", n)
		}
		if !utf8.ValidString(out) {
			t.Fatal("invalid UTF-8")
		}
		checkEntities(t, out)
		head, ok := strings.CutPrefix(out, "<b>")
		if !ok {
			t.Fatalf("does not start with <b>: %q", out)
		}
		gotTitle, rest, ok := strings.Cut(head, "</b>\n")
		if !ok {
			t.Fatalf("no </b>: %q", out)
		}
		link := "\n<a href=\"" + strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(fuzzURL) + "\">Dashboard</a>"
		gotText, ok := strings.CutSuffix(rest, link)
		if !ok {
			t.Fatalf("no link at the end: %q", rest)
		}
		for _, part := range []string{gotTitle, gotText} {
			if strings.ContainsAny(part, "<>") {
				t.Fatalf("raw < or > in %q", part)
			}
		}
		checkPrefix(t, "title", html.UnescapeString(gotTitle), oneLine(validUTF8(title)))
		checkPrefix(t, "text", html.UnescapeString(gotText), validUTF8(text))
	})
}

// checkPrefix: got is want, or a prefix of it followed by "…".
func checkPrefix(t *testing.T, what, got, want string) {
	t.Helper()
	if got == want {
		return
	}
	cut, ok := strings.CutSuffix(got, "…")
	if !ok || !strings.HasPrefix(want, cut) {
		t.Fatalf("%s %q is not %q nor a prefix of it with …", what, got, want)
	}
}

// FuzzHTTPTemplate: the json and urlquery functions carry any text intact
// into a valid JSON or form body.
func FuzzHTTPTemplate(f *testing.F) {
	m := firing()
	f.Add(m.Text, "6281234567890")
	f.Add("\"}, \"x\": {\"", "\u2028\u2029<>&")
	f.Add("a=b&c=d%zz+;", "\xff\x00")
	f.Fuzz(func(t *testing.T, text, phone string) {
		msg := &Message{Text: text, Labels: map[string]string{"phone": phone}}
		jsonT := &templated{method: "POST", contentType: "application/json", url: must(parseTemplate("url", "http://gw.example/send")),
			body: must(parseTemplate("body", `{"phone": {{json .Labels.phone}}, "message": {{json .Text}}}`))}
		r, err := jsonT.build(msg, fixedNow)
		if err != nil {
			t.Fatalf("json body: %v", err)
		}
		var got struct{ Phone, Message string }
		if err := json.Unmarshal(r.body, &got); err != nil {
			t.Fatalf("%v: %s", err, r.body)
		}
		if got.Phone != validUTF8(phone) || got.Message != validUTF8(text) {
			t.Fatalf("got %q %q from %s", got.Phone, got.Message, r.body)
		}

		formT := &templated{method: "POST", form: true, contentType: "application/x-www-form-urlencoded", url: jsonT.url,
			body: must(parseTemplate("body", `target={{urlquery .Labels.phone}}&message={{urlquery .Text}}`))}
		r, err = formT.build(msg, fixedNow)
		if err != nil {
			t.Fatalf("form body: %v", err)
		}
		q, err := url.ParseQuery(string(r.body))
		if err != nil || q.Get("target") != phone || q.Get("message") != text {
			t.Fatalf("form %q: %v, %q %q", r.body, err, q.Get("target"), q.Get("message"))
		}
	})
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
