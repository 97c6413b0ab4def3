package inventory

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Bandwidth is a bit rate in bits per second. It is written as "20Mbps",
// "1.5 Gbps", "512kbps", "100M" or a plain integer of bits per second;
// the units are decimal SI (k = 1e3, M = 1e6, G = 1e9, T = 1e12).
type Bandwidth uint64

// bandwidthUnits are the SI prefixes, largest first.
var bandwidthUnits = []struct {
	exp    int
	prefix string
}{{12, "T"}, {9, "G"}, {6, "M"}, {3, "k"}}

// ParseBandwidth parses a bit rate such as "20Mbps", "1.5 Gbps", "512kbps",
// "100M" or "2000000" (bits per second). Prefixes are case-insensitive;
// the unit may be bps, bit/s or b/s, or left out. The value must be a
// whole number of bits per second.
func ParseBandwidth(s string) (Bandwidth, error) {
	bad := func(why string) (Bandwidth, error) {
		return 0, fmt.Errorf("invalid bandwidth %q: %s", s, why)
	}
	const usage = "use a number with a unit, such as 20Mbps, 1.5Gbps, 512kbps or 100M"
	t := strings.TrimSpace(s)
	if strings.HasPrefix(t, "-") {
		return bad("must not be negative")
	}
	n := 0
	for n < len(t) && (t[n] >= '0' && t[n] <= '9' || t[n] == '.') {
		n++
	}
	num, unit := t[:n], strings.ToLower(strings.TrimSpace(t[n:]))
	whole, frac, _ := strings.Cut(num, ".")
	if whole == "" && frac == "" || strings.Contains(frac, ".") {
		return bad(usage)
	}
	for _, suffix := range []string{"bps", "bit/s", "bits/s", "b/s"} {
		if strings.HasSuffix(unit, suffix) {
			unit = strings.TrimSuffix(unit, suffix)
			break
		}
	}
	exp := -1
	switch unit {
	case "":
		exp = 0
	case "k":
		exp = 3
	case "m":
		exp = 6
	case "g":
		exp = 9
	case "t":
		exp = 12
	}
	if exp < 0 {
		return bad(usage)
	}
	digits := whole + frac
	if shift := exp - len(frac); shift >= 0 {
		digits += strings.Repeat("0", shift)
	} else {
		cut := len(digits) + shift
		if strings.Trim(digits[cut:], "0") != "" {
			return bad("not a whole number of bits per second")
		}
		digits = digits[:cut]
	}
	digits = strings.TrimLeft(digits, "0")
	if digits == "" {
		return 0, nil
	}
	v, err := strconv.ParseUint(digits, 10, 64)
	if err != nil {
		return bad("too large")
	}
	return Bandwidth(v), nil
}

// String formats b exactly, in the largest unit not above it: "20Mbps",
// "1.5Gbps", "512kbps", "999bps"; "0" for zero. ParseBandwidth reads it
// back.
func (b Bandwidth) String() string {
	if b == 0 {
		return "0"
	}
	for _, u := range bandwidthUnits {
		div := uint64(math.Pow10(u.exp))
		if uint64(b) < div {
			continue
		}
		whole, frac := uint64(b)/div, uint64(b)%div
		if frac == 0 {
			return fmt.Sprintf("%d%sbps", whole, u.prefix)
		}
		f := strings.TrimRight(fmt.Sprintf("%0*d", u.exp, frac), "0")
		return fmt.Sprintf("%d.%s%sbps", whole, f, u.prefix)
	}
	return fmt.Sprintf("%dbps", uint64(b))
}

// MarshalYAML writes the bandwidth as a string such as "20Mbps".
func (b Bandwidth) MarshalYAML() (any, error) { return b.String(), nil }

// UnmarshalYAML reads a scalar only, so strict decoding stays in force.
func (b *Bandwidth) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return typeError(n, "expected a bandwidth such as \"20Mbps\"")
	}
	v, err := ParseBandwidth(n.Value)
	if err != nil {
		return typeError(n, err.Error())
	}
	*b = v
	return nil
}

// typeError is an error that yamlconf locates at n's line.
func typeError(n *yaml.Node, msg string) error {
	return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: %s", n.Line, msg)}}
}

// Date is a calendar date without a time zone, written "2026-12-31". The
// zero value means unset.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

const dateLayout = "2006-01-02"

// ParseDate parses a date written YYYY-MM-DD.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(dateLayout, s)
	if err != nil {
		return Date{}, fmt.Errorf("invalid date %q: use YYYY-MM-DD, such as 2026-12-31", s)
	}
	y, m, d := t.Date()
	return Date{y, m, d}, nil
}

// IsZero reports whether the date is unset.
func (d Date) IsZero() bool { return d == Date{} }

// String returns "2026-12-31", or "" for the zero date.
func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day)
}

// In returns midnight at the start of the day in loc (UTC if loc is nil);
// the zero time for the zero date.
func (d Date) In(loc *time.Location) time.Time {
	if d.IsZero() {
		return time.Time{}
	}
	if loc == nil {
		loc = time.UTC
	}
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, loc)
}

// before reports whether d is an earlier day than e.
func (d Date) before(e Date) bool {
	if d.Year != e.Year {
		return d.Year < e.Year
	}
	if d.Month != e.Month {
		return d.Month < e.Month
	}
	return d.Day < e.Day
}

// MarshalYAML writes the date as "2026-12-31" ("" when unset).
func (d Date) MarshalYAML() (any, error) { return d.String(), nil }

// UnmarshalYAML reads a scalar "2026-12-31"; an empty string is the zero
// date.
func (d *Date) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return typeError(n, "expected a date such as 2026-12-31")
	}
	if n.Value == "" {
		*d = Date{}
		return nil
	}
	v, err := ParseDate(n.Value)
	if err != nil {
		return typeError(n, err.Error())
	}
	*d = v
	return nil
}
