// Package docnum parses and formats document-number patterns (nomor
// dokumen), such as report.document_number in collector.yml:
//
//	{seq}/LAP-INFRA/{opd}/{month_roman}/{year}
//
// Placeholders: {seq} the per-year sequence number ({seq:3} pads it to
// three digits: 007), {opd} the scope's OPD (PEMDA for a whole-Pemda
// report), {product}, {period} (2026-10), {version}, and of the date of
// issue {day}, {month} (two digits), {month_roman} (X) and {year}. Text
// outside braces is copied; "{{" and "}}" write a brace.
package docnum

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Default is the pattern when collector.yml sets none.
const Default = "{seq}/LAP-INFRA/{opd}/{month_roman}/{year}"

// Fields are the values a pattern is formatted with.
type Fields struct {
	Seq     int
	OPD     string
	Product string
	Period  string
	Version int
	Issued  time.Time // in the Pemda's zone
}

type part struct {
	lit   string // literal text, or
	name  string // a placeholder
	width int    // {seq:N}
}

// Pattern is a parsed pattern.
type Pattern struct {
	src   string
	parts []part
}

// ErrPattern is wrapped by every Parse error.
var ErrPattern = errors.New("bad document number pattern")

var names = map[string]bool{"seq": true, "opd": true, "product": true, "period": true, "version": true, "day": true, "month": true, "month_roman": true, "year": true}

// Parse parses a pattern. It must contain {seq} (else two documents could
// get the same number), and be at most 200 bytes.
func Parse(s string) (*Pattern, error) {
	if len(s) > 200 {
		return nil, fmt.Errorf("%w: %d bytes, at most 200", ErrPattern, len(s))
	}
	p := &Pattern{src: s}
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			p.parts = append(p.parts, part{lit: lit.String()})
			lit.Reset()
		}
	}
	seq := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '{' && i+1 < len(s) && s[i+1] == '{':
			lit.WriteByte('{')
			i++
		case c == '}' && i+1 < len(s) && s[i+1] == '}':
			lit.WriteByte('}')
			i++
		case c == '}':
			return nil, fmt.Errorf("%w: column %d: '}' without '{' (write }} for a brace)", ErrPattern, i+1)
		case c == '{':
			end := strings.IndexByte(s[i:], '}')
			if end < 0 {
				return nil, fmt.Errorf("%w: column %d: '{' is not closed", ErrPattern, i+1)
			}
			body := s[i+1 : i+end]
			name, w, hasW := strings.Cut(body, ":")
			if !names[name] {
				return nil, fmt.Errorf("%w: column %d: unknown placeholder {%s}; want one of {seq}, {seq:N}, {opd}, {product}, {period}, {version}, {day}, {month}, {month_roman}, {year}", ErrPattern, i+1, body)
			}
			pt := part{name: name}
			if hasW {
				n, err := strconv.Atoi(w)
				if name != "seq" || err != nil || n < 1 || n > 9 {
					return nil, fmt.Errorf("%w: column %d: {%s}: only {seq:N} takes a width, N from 1 to 9", ErrPattern, i+1, body)
				}
				pt.width = n
			}
			seq = seq || name == "seq"
			flush()
			p.parts = append(p.parts, pt)
			i += end
		case c < 0x20 || c == 0x7f:
			return nil, fmt.Errorf("%w: column %d: control character", ErrPattern, i+1)
		default:
			lit.WriteByte(c)
		}
	}
	flush()
	if !seq {
		return nil, fmt.Errorf("%w: %q has no {seq}: two documents would get the same number", ErrPattern, s)
	}
	return p, nil
}

// String returns the pattern as given.
func (p *Pattern) String() string { return p.src }

// Format writes the number.
func (p *Pattern) Format(f Fields) string {
	var b strings.Builder
	for _, pt := range p.parts {
		switch pt.name {
		case "":
			b.WriteString(pt.lit)
		case "seq":
			fmt.Fprintf(&b, "%0*d", pt.width, f.Seq)
		case "opd":
			b.WriteString(f.OPD)
		case "product":
			b.WriteString(f.Product)
		case "period":
			b.WriteString(f.Period)
		case "version":
			b.WriteString(strconv.Itoa(f.Version))
		case "day":
			fmt.Fprintf(&b, "%02d", f.Issued.Day())
		case "month":
			fmt.Fprintf(&b, "%02d", int(f.Issued.Month()))
		case "month_roman":
			b.WriteString(Roman(int(f.Issued.Month())))
		case "year":
			b.WriteString(strconv.Itoa(f.Issued.Year()))
		}
	}
	return b.String()
}

// Roman writes a month (1–12) in Roman numerals, as Indonesian letter
// numbers do (Oktober: X).
func Roman(m int) string {
	r := []string{"I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII"}
	if m < 1 || m > 12 {
		return strconv.Itoa(m)
	}
	return r[m-1]
}
