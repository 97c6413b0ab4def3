package webui

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// FuzzSafeNext: whatever a login form's next says, the redirect stays
// on the UI: a path under /ui/ with no scheme, host or backslash.
func FuzzSafeNext(f *testing.F) {
	for _, s := range []string{"/ui/", "/ui/gangguan?period=2026-11", "//evil.example", "/\\evil.example", "https://evil.example/ui/",
		"/ui//evil.example", "/ui/\r\nLocation: x", "/ui/masuk?next=//x", "", "/uix", "/ui/%2F%2Fevil"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, next string) {
		got := safeNext(next)
		if !strings.HasPrefix(got, "/ui/") || strings.HasPrefix(got, "/ui//") || strings.ContainsAny(got, "\\\r\n") {
			t.Fatalf("safeNext(%q) = %q", next, got)
		}
		u, err := url.Parse(got)
		if err != nil || u.Scheme != "" || u.Host != "" || u.Opaque != "" {
			t.Fatalf("safeNext(%q) = %q parses to scheme %q host %q (%v)", next, got, u.Scheme, u.Host, err)
		}
		if got != "/ui/" && got != next {
			t.Fatalf("safeNext(%q) = %q: changed rather than refused", next, got)
		}
	})
}

// FuzzAcceptsGzip reads any Accept-Encoding without a panic; gzip is
// taken when named without q=0.
func FuzzAcceptsGzip(f *testing.F) {
	for _, s := range []string{"gzip", "gzip, deflate, br", "br;q=1.0, gzip;q=0", "gzip;q=0.5", "identity", "", "GZIP ; q = 0", "*"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		got := acceptsGzip(v)
		if !strings.Contains(strings.ToLower(v), "gzip") && got {
			t.Fatalf("acceptsGzip(%q) without gzip named", v)
		}
	})
}

// FuzzLangOf: any cookie value gives id or en.
func FuzzLangOf(f *testing.F) {
	for _, s := range []string{"id", "en", "EN", "", "fr", "en;", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		r, _ := http.NewRequest("GET", "/ui/", nil)
		r.Header.Set("Cookie", langCookie+"="+v)
		if got := langOf(r); got != LangID && got != LangEN {
			t.Fatalf("langOf(%q) = %q", v, got)
		}
	})
}

func TestAcceptsGzip(t *testing.T) {
	for v, want := range map[string]bool{"gzip": true, "gzip, br": true, "br, gzip;q=0": false, "gzip;q=0.0": false,
		"gzip;q=0.5": true, "gzip; q=1": true, "identity": false, "": false} {
		if got := acceptsGzip(v); got != want {
			t.Errorf("acceptsGzip(%q) = %v, want %v", v, got, want)
		}
	}
}

func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{"/ui/gangguan?x=1": "/ui/gangguan?x=1", "//evil.example": "/ui/",
		"/\\evil.example": "/ui/", "https://evil.example/ui/": "/ui/", "/ui//evil.example": "/ui/", "/ui/masuk": "/ui/", "": "/ui/"} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestTextsComplete(t *testing.T) {
	for k, v := range msgs {
		if v[0] == "" || v[1] == "" {
			t.Errorf("text %s lacks a language: %q", k, v)
		}
	}
}
