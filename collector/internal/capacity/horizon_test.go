package capacity

import (
	"testing"
	"time"
)

// TestForecastHorizon: a crossing past Now + Horizon, or none at all from
// below 80 %, is "beyond the horizon", not a date decades away.
func TestForecastHorizon(t *testing.T) {
	loc := jayapura(t)
	start := time.Date(2026, 10, 1, 0, 0, 0, 0, loc)
	twoYears := 730 * 24 * time.Hour
	slow := func(day, _ int) float64 { return (10 + 0.01*float64(day)) * mbps }
	for _, c := range []struct {
		name    string
		f       func(day, minute int) float64
		horizon time.Duration
		known   bool
		date    time.Time
		beyond  bool
	}{
		// 10 + x Mbps: 80 Mbps at x = 70, 2026-10-01 + 70 days =
		// 2026-12-10, within two years of Now (2026-10-31)
		{"near", growing(10), twoYears, true, time.Date(2026, 12, 10, 0, 0, 0, 0, loc), false},
		// 10 + 0.01 x Mbps: x = (80 - 10) / 0.01 = 7,000 days, about
		// 2045-12: past Now + 730 days (2028-10-30)
		{"far", slow, twoYears, false, time.Time{}, true},
		// without a horizon the far date stands: 2026-10-01 + 7,000 days
		{"far, no horizon", slow, 0, true, time.Date(2026, 10, 1, 0, 0, 0, 0, loc).AddDate(0, 0, 7000), false},
		// a flat 20 Mbps never reaches 80
		{"flat", func(int, int) float64 { return 20 * mbps }, twoYears, false, time.Time{}, true},
		// falling from 40 Mbps
		{"falling", func(day, _ int) float64 { return float64(40-day) * mbps }, twoYears, false, time.Time{}, true},
		// flat at 90 Mbps: already above 80 %, not beyond anything
		{"flat above", func(int, int) float64 { return 90 * mbps }, twoYears, false, time.Time{}, false},
		// the horizon is measured from Now (End, 2026-10-31): the crossing
		// 2026-12-10 is 40 days on, beyond 30 days and within 40
		{"30-day horizon", growing(10), 30 * 24 * time.Hour, false, time.Time{}, true},
		{"40-day horizon", growing(10), 40 * 24 * time.Hour, true, time.Date(2026, 12, 10, 0, 0, 0, 0, loc), false},
	} {
		o := Options{Start: start, End: start.AddDate(0, 0, 30), Location: loc, CapacityBps: 100 * mbps, Horizon: c.horizon}
		got := Compute(daySeries(start, 30, c.f), o)
		if got.ForecastKnown != c.known || !got.Forecast80.Equal(c.date) || got.BeyondHorizon != c.beyond {
			t.Errorf("%s: known %v %v beyond %v; want %v %v %v", c.name, got.ForecastKnown, got.Forecast80, got.BeyondHorizon, c.known, c.date, c.beyond)
		}
	}
}
