package auth

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"unicode"
)

// FuzzParseCredential sends arbitrary Authorization headers (one, or two
// when second is not empty): the parser never panics, a token it returns
// has no spaces, a credential it returns is complete, and its errors
// never contain the secret the header carried.
func FuzzParseCredential(f *testing.F) {
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	tok := "pantau_abcdefghijklmnop_" + strings.Repeat("q", 52)
	for _, s := range [][2]string{
		{"Bearer " + tok, ""},
		{"bearer " + tok, ""},
		{"Token " + tok, ""},
		{"Basic " + b64("grafana:"+tok), ""},
		{"Basic " + b64(":"+tok), ""},
		{"Basic " + b64("ani:correct horse battery staple"), ""},
		{"Basic " + b64("ani:pass:with:colons"), ""},
		{"", ""},
		{"Bearer", ""},
		{"Bearer  ", ""},
		{"Bearer a b", ""},
		{"Bearer " + tok, "Bearer " + tok},
		{"Basic " + b64("a:b"), "Bearer x"},
		{"Bearer " + strings.Repeat("x", 5000), ""},
		{"Basic " + b64("u:"+strings.Repeat("p", 4000)), ""},
		{"Basic !!!not-base64!!!", ""},
		{"Basic " + b64("no colon here secret"), ""},
		{"Basic " + b64("ani:pässwört-ünïcödé-日本語"), ""},
		{"Bearer pantau_日本語", ""},
		{"Basic " + b64("\xff\xfe:\x00secret\x00"), ""},
		{"Digest username=x", ""},
		{"\tBearer\t" + tok, ""},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, a, second string) {
		h := http.Header{}
		h.Add("Authorization", a)
		if second != "" {
			h.Add("Authorization", second)
		}
		c, err := ParseCredential(h)
		if err != nil {
			if c.Present() {
				t.Fatalf("error %v with a credential %+v", err, c)
			}
			msg := err.Error()
			for _, secret := range secretsOf(a) {
				if len(secret) >= 8 && strings.Contains(msg, secret) {
					t.Fatalf("error %q contains the secret %q", msg, secret)
				}
			}
			return
		}
		if second != "" {
			t.Fatalf("two Authorization headers accepted: %+v", c)
		}
		switch {
		case c.Token != "":
			if strings.IndexFunc(c.Token, unicode.IsSpace) >= 0 {
				t.Fatalf("token %q has a space", c.Token)
			}
			if c.User != "" || c.Password != "" {
				t.Fatalf("token and user: %+v", c)
			}
		case c.User != "" || c.Password != "":
			if c.User == "" || c.Password == "" {
				t.Fatalf("half a user credential: %+v", c)
			}
		default:
			t.Fatalf("header %q parsed without error as no credential", a)
		}
	})
}

// secretsOf returns what a header could carry as a secret: the text
// after the scheme, and for basic auth the decoded text, its user name and
// its password.
func secretsOf(a string) []string {
	_, rest, _ := strings.Cut(strings.TrimSpace(a), " ")
	rest = strings.TrimSpace(rest)
	out := []string{rest}
	if raw, err := base64.StdEncoding.DecodeString(rest); err == nil {
		user, pass, _ := strings.Cut(string(raw), ":")
		out = append(out, string(raw), user, pass)
	}
	return out
}
