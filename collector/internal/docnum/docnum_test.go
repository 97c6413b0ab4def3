package docnum

import (
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestFormat(t *testing.T) {
	wit := time.FixedZone("WIT", 9*3600)
	f := Fields{Seq: 7, OPD: "DISKOMINFO", Product: "monthly", Period: "2026-10", Version: 2,
		Issued: time.Date(2026, 11, 3, 8, 0, 0, 0, wit)}
	for pat, want := range map[string]string{
		Default:                                  "7/LAP-INFRA/DISKOMINFO/XI/2026",
		"{seq:3}/LAP/{opd}/{month}/{year}":       "007/LAP/DISKOMINFO/11/2026",
		"{seq}-{product}-{period}-v{version}":    "7-monthly-2026-10-v2",
		"{{{seq}}} {day}.{month}":                "{7} 03.11",
		"000.2.3/{seq}/Diskominfo/{month_roman}": "000.2.3/7/Diskominfo/XI",
	} {
		p, err := Parse(pat)
		if err != nil {
			t.Fatalf("%s: %v", pat, err)
		}
		if got := p.Format(f); got != want {
			t.Errorf("%s: %q, want %q", pat, got, want)
		}
	}
	for m, want := range map[int]string{1: "I", 4: "IV", 9: "IX", 10: "X", 12: "XII"} {
		if got := Roman(m); got != want {
			t.Errorf("Roman(%d) = %s, want %s", m, got, want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for pat, want := range map[string]string{
		"LAP/{opd}/{year}":       "has no {seq}",
		"{seq}/{bulan}":          "column 7: unknown placeholder {bulan}",
		"{seq}/{year":            "column 7: '{' is not closed",
		"{seq}}/x":               "column 6: '}' without '{'",
		"{seq:0}":                "only {seq:N} takes a width",
		"{year:4}/{seq}":         "only {seq:N} takes a width",
		"{seq}\n":                "control character",
		strings.Repeat("a", 201): "at most 200",
	} {
		_, err := Parse(pat)
		if !errors.Is(err, ErrPattern) || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%q) = %v, want an error with %q", pat, err, want)
		}
	}
}

// FuzzParse: Parse never panics; a pattern it accepts formats to valid
// UTF-8 when the pattern is, containing the sequence number.
func FuzzParse(f *testing.F) {
	for _, s := range []string{Default, "{seq:3}/{opd}", "{{{seq}}}", "{", "}", "{seq:}", "{seq:99}", "a{seq}b{month_roman}{year}{day}", "{seq}{", "\xff{seq}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := Parse(s)
		if err != nil {
			return
		}
		out := p.Format(Fields{Seq: 424242, OPD: "X", Issued: time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)})
		if !strings.Contains(out, "424242") {
			t.Fatalf("Format(%q) = %q lacks the sequence number", s, out)
		}
		if utf8.ValidString(s) && !utf8.ValidString(out) {
			t.Fatalf("Format(%q) = %q is not UTF-8", s, out)
		}
	})
}
