package bundle

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/pantau-noc/pantau/collector/internal/report"
)

func TestParseParams(t *testing.T) {
	m, err := report.BundleMap()
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		q    string
		want Params
		err  string
	}{
		{"period=2026&indicator=17", Params{Period: "2026", Indicator: 17, Lang: "id"}, ""},
		{"period=2026-10&opd=dinkes&lang=en", Params{Period: "2026-10", OPD: "dinkes", Lang: "en"}, ""},
		{"period=2026-Q4", Params{Period: "2026-Q4", Lang: "id"}, ""},
		{"", Params{}, "period is required"},
		{"period=2026-13", Params{}, "period: invalid period"},
		{"period=1999", Params{}, "period: invalid period"},
		{"period=2026&indicator=abc", Params{}, `indicator "abc": want an SPBE indicator's number, one of 16, 17, 18, 24, 28, 29`},
		{"period=2026&indicator=-1", Params{}, "want an SPBE indicator's number"},
		{"period=2026&indicator=47", Params{}, "indicator 47: Pantau holds no evidence for it; want one of 16, 17, 18, 24, 28, 29"},
		{"period=2026&indicator=99999999999999999999", Params{}, "want an SPBE indicator's number"},
		{"period=2026&period=2027", Params{}, "parameter period is given 2 times"},
		{"period=2026&format=zip", Params{}, `unknown parameter "format" (known: period, indicator, opd, lang)`},
		{"period=2026&opd=../x", Params{}, `opd "../x": an OPD id is`},
		{"period=2026&lang=jv", Params{}, `lang "jv": want id`},
	}
	for _, c := range cases {
		v, _ := url.ParseQuery(c.q)
		got, err := ParseParams(v, m)
		switch {
		case c.err == "" && err != nil:
			t.Errorf("%s: %v", c.q, err)
		case c.err == "" && got != c.want:
			t.Errorf("%s: %+v, want %+v", c.q, got, c.want)
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%s: %v, want an error with %q", c.q, err, c.err)
		case c.err != "" && !errors.Is(err, ErrParam):
			t.Errorf("%s: %v does not wrap ErrParam", c.q, err)
		}
	}
}

// FuzzParseParams: any query string is accepted with a valid period,
// a mapped indicator (or none), a safe OPD id and a known language, or
// refused with ErrParam; never a panic.
func FuzzParseParams(f *testing.F) {
	for _, s := range []string{"period=2026&indicator=17", "period=2026-10-01..2026-10-15&opd=dinkes&lang=en", "period=2026&indicator=0017",
		"period=2026&indicator=+17", "indicator=17", "period=2026&opd=%00", "period=2026&a=1&a=2", "period=9999-Q9", "period=2026&indicator=1e3",
		"period=2026&x" + strings.Repeat("%C3%A9", 30) + "=1"} {
		f.Add(s)
	}
	m, err := report.BundleMap()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, q string) {
		v, err := url.ParseQuery(q)
		if err != nil {
			return
		}
		p, err := ParseParams(v, m)
		if err != nil {
			if !errors.Is(err, ErrParam) {
				t.Fatalf("%q: %v does not wrap ErrParam", q, err)
			}
			if !utf8.ValidString(err.Error()) {
				t.Fatalf("%q: a message that is not UTF-8: %q", q, err)
			}
			for k, vs := range v {
				for _, x := range append(vs, k) {
					if !utf8.ValidString(report.ClipValue(x)) {
						t.Fatalf("%q: report.ClipValue(%q) = %q, not UTF-8", q, x, report.ClipValue(x))
					}
				}
			}
			return
		}
		if p.Period == "" || p.Lang != "id" && p.Lang != "en" || p.OPD != "" && !validID(p.OPD) {
			t.Fatalf("%q: accepted %+v", q, p)
		}
		if p.Indicator != 0 {
			found := false
			for _, b := range m {
				found = found || b.Indicator.Number == p.Indicator
			}
			if !found {
				t.Fatalf("%q: indicator %d is not mapped", q, p.Indicator)
			}
		}
	})
}
