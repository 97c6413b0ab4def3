package sla

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// TestParsePeriodBounds: absurd periods are refused with a clear error
// before anything is allocated (issue 16: 1026-10-01..2026-10-31 crashed
// the collector, 1700-01-01..2026-12-31 took 2 GB for two links).
func TestParsePeriodBounds(t *testing.T) {
	wit := time.FixedZone("WIT", 9*3600)
	for bad, why := range map[string]string{
		"":                         "bad year",
		"+026-10":                  "bad year",
		"1026-10-01..2026-10-31":   "dates must be in years 2000 to 2199",
		"0001-01-01..9999-12-31":   "dates must be in years 2000 to 2199",
		"1700-01-01..2026-12-31":   "dates must be in years 2000 to 2199",
		"1999":                     "year must be in years 2000 to 2199",
		"2200-01":                  "year must be in years 2000 to 2199",
		"2025-01-01..2026-12-31":   "730 days; a period covers at most 400",
		strings.Repeat("2026", 20): "too long",
	} {
		_, err := ParsePeriod(bad, wit)
		if err == nil || !errors.Is(err, ErrBadPeriod) || !strings.Contains(err.Error(), why) {
			t.Errorf("ParsePeriod(%q) = %v; want an ErrBadPeriod saying %q", bad, err, why)
		}
	}
	for in, days := range map[string]int{"2026-01-01..2027-02-04": 400, "2000-01": 31, "2199": 365, "2028": 366} {
		p, err := ParsePeriod(in, wit)
		if err != nil {
			t.Errorf("ParsePeriod(%q): %v", in, err)
			continue
		}
		if got := p.End.Sub(p.Start); got != time.Duration(days)*24*time.Hour {
			t.Errorf("ParsePeriod(%q) covers %s, want %d days", in, got, days)
		}
	}
}
