package sla

import (
	"testing"
	"time"
)

// FuzzParsePeriod: any input gives an error or a period that starts
// before it ends, at local midnight, and whose months tile it exactly.
func FuzzParsePeriod(f *testing.F) {
	for _, s := range []string{"2026-10", "2026-Q4", "2026", "2026-10-01..2026-10-15", "2026-13", "..", "2026-Q", "9999-12", "1970-01-01..9999-12-31"} {
		f.Add(s)
	}
	loc := time.FixedZone("WITA", 8*3600)
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePeriod(s, loc)
		if err != nil {
			return
		}
		if !p.Start.Before(p.End) {
			t.Fatalf("%q: start %s not before end %s", s, p.Start, p.End)
		}
		if h, m, _ := p.Start.Clock(); h != 0 || m != 0 {
			t.Fatalf("%q: start %s is not midnight", s, p.Start)
		}
		if p.End.Sub(p.Start) > (MaxPeriodDays*24+1)*time.Hour || p.Start.Year() < MinYear || p.End.Year() > MaxYear+1 {
			t.Fatalf("%q: %s..%s is outside the bounds", s, p.Start, p.End)
		}
		at := p.Start
		for _, m := range p.Months() {
			if !m.Start.Equal(at) || !m.Start.Before(m.End) {
				t.Fatalf("%q: month %s does not continue at %s", s, m.Label, at)
			}
			at = m.End
		}
		if !at.Equal(p.End) {
			t.Fatalf("%q: months end at %s, period at %s", s, at, p.End)
		}
	})
}
