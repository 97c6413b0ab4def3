package remotequery

import (
	"errors"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

func TestSelector(t *testing.T) {
	m := func(typ labels.MatchType, name, value string) *labels.Matcher {
		return labels.MustNewMatcher(typ, name, value)
	}
	const (
		eq  = labels.MatchEqual
		neq = labels.MatchNotEqual
		re  = labels.MatchRegexp
		nre = labels.MatchNotRegexp
	)
	cases := []struct {
		name string
		ms   []*labels.Matcher
		want string // "" means errNoMatch
	}{
		{"name only", []*labels.Matcher{m(eq, "__name__", "m")}, `{__name__="m"}`},
		{"all types", []*labels.Matcher{m(eq, "__name__", "m"), m(neq, "a", "b"), m(re, "c", "d.*"), m(nre, "e", "f|g")},
			`{__name__="m",a!="b",c=~"(?s:d.*)",e!~"f|g"}`},
		{"quote", []*labels.Matcher{m(eq, "a", `say "hi"`)}, `{a="say \"hi\""}`},
		{"backslash", []*labels.Matcher{m(eq, "a", `C:\dir\`)}, `{a="C:\\dir\\"}`},
		{"regexp escapes", []*labels.Matcher{m(re, "a", `1\.2\.3\.4|\d+`)}, `{a=~"(?s:1\\.2\\.3\\.4|\\d+)"}`},
		{"newline tab", []*labels.Matcher{m(eq, "a", "x\ny\tz\r")}, `{a="x\ny\tz\r"}`},
		{"utf8", []*labels.Matcher{m(eq, "site", "Kantor Pusat — Jl. Merdeka ü 日本")}, `{site="Kantor Pusat — Jl. Merdeka ü 日本"}`},
		{"invalid utf8 and control", []*labels.Matcher{m(eq, "a", "\xff\x00\x7f")}, `{a="\xff\x00\x7f"}`},
		{"utf8 label name", []*labels.Matcher{m(eq, "__name__", "m"), m(eq, "host.name", "x")}, `{__name__="m","host.name"="x"}`},
		{"no name, non-empty matcher", []*labels.Matcher{m(eq, "job", "j")}, `{job="j"}`},
		{"only empty-matching matchers", []*labels.Matcher{m(re, "a", ".*"), m(eq, "b", "")}, `{a=~"(?s:.*)",b="",__name__=~"(?s:.+)"}`},
		{"no matchers", nil, `{__name__=~"(?s:.+)"}`},
		{"empty name matching everything is dropped", []*labels.Matcher{m(eq, "", ""), m(nre, "", "x"), m(eq, "a", "b")}, `{a="b"}`},
		{"empty name matching nothing", []*labels.Matcher{m(eq, "", "x"), m(eq, "a", "b")}, ""},
		{"empty name regexp matching nothing", []*labels.Matcher{m(re, "", ".+")}, ""},
		{"label absent", []*labels.Matcher{m(eq, "__name__", "m"), m(eq, "x", "")}, `{__name__="m",x=""}`},
	}
	p := parser.NewParser(parser.Options{})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := selector(tc.ms)
			if tc.want == "" {
				if !errors.Is(err, errNoMatch) {
					t.Fatalf("selector = %q, %v; want errNoMatch", got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("selector = %q, %v; want %s", got, err, tc.want)
			}
			// PromQL reads back the very matchers (the empty-name ones
			// decided, __name__=~".+" added).
			back, err := p.ParseMetricSelector(got)
			if err != nil {
				t.Fatalf("PromQL cannot parse %s: %v", got, err)
			}
			var want []string
			for _, m := range tc.ms {
				if m.Name != "" {
					want = append(want, sentString(m))
				}
			}
			var gotMs []string
			for _, m := range back {
				gotMs = append(gotMs, m.String())
			}
			if len(gotMs) > len(want) {
				want = append(want, sentString(anyName))
			}
			if len(gotMs) != len(want) {
				t.Fatalf("parsed %v, want %v", gotMs, want)
			}
			for i := range want {
				if gotMs[i] != want[i] {
					t.Fatalf("parsed %v, want %v", gotMs, want)
				}
			}
			// The rendering is labels.Matcher.String's.
			for _, m := range tc.ms {
				if got := string(appendMatcher(nil, m)); m.Name != "" && got != sentString(m) {
					t.Fatalf("appendMatcher = %s, Matcher.String = %s", got, sentString(m))
				}
			}
		})
	}
}

// sentString is Matcher.String of the matcher the engine gets: a
// regexp with a dot wrapped in (?s:…).
func sentString(m *labels.Matcher) string {
	v := m.Value
	if (m.Type == labels.MatchRegexp || m.Type == labels.MatchNotRegexp) && strings.Contains(v, ".") {
		v = "(?s:" + v + ")"
	}
	return labels.MustNewMatcher(m.Type, m.Name, v).String()
}

// TestSentRegexpSameMeaning: (?s:…) changes nothing for this module's
// own matchers, whose "." already matches a newline.
func TestSentRegexpSameMeaning(t *testing.T) {
	for _, re := range []string{".*", "a.b", `1\.2`, "x|.+", "(a.)?", "[.]"} {
		orig := labels.MustNewMatcher(labels.MatchRegexp, "l", re)
		sent := labels.MustNewMatcher(labels.MatchRegexp, "l", sentValue(orig))
		for _, v := range []string{"", "a", "a\nb", "a.b", "1.2", "1x2", "\n", "x", "a\n", "."} {
			if orig.Matches(v) != sent.Matches(v) {
				t.Errorf("%q on %q: %v, sent as %q: %v", re, v, orig.Matches(v), sentValue(orig), sent.Matches(v))
			}
		}
	}
}

func TestSelectorBadRegexp(t *testing.T) {
	_, err := selector([]*labels.Matcher{{Type: labels.MatchRegexp, Name: "a", Value: "("}})
	if err == nil || errors.Is(err, errNoMatch) {
		t.Fatalf("err = %v, want a regexp error", err)
	}
}

// FuzzSelector checks that any matcher value PromQL can hold renders to
// a selector PromQL parses back to the same matchers.
func FuzzSelector(f *testing.F) {
	for _, s := range []string{"", "a", `"`, `\`, "\n", "ü", "\xff", `\x41`, "`", "'", "}", `"}`} {
		f.Add(s, "label")
	}
	f.Add("v", "host.name")
	p := parser.NewParser(parser.Options{})
	f.Fuzz(func(t *testing.T, value, name string) {
		if name == "" || name == "__name__" {
			return
		}
		for _, typ := range []labels.MatchType{labels.MatchEqual, labels.MatchNotEqual} {
			in := []*labels.Matcher{labels.MustNewMatcher(labels.MatchEqual, "__name__", "m"), labels.MustNewMatcher(typ, name, value)}
			sel, err := selector(in)
			if err != nil {
				t.Fatal(err)
			}
			back, err := p.ParseMetricSelector(sel)
			if err != nil {
				t.Fatalf("cannot parse %s: %v", sel, err)
			}
			if len(back) != 2 || back[1].Name != name || back[1].Value != value || back[1].Type != typ {
				t.Fatalf("%s parsed to %v", sel, back)
			}
		}
	})
}
