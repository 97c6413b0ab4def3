package sla

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Period is a report period [Start, End) in one time zone.
type Period struct {
	Label      string
	Start, End time.Time
}

// Bounds of a period: reports cover the years a Pemda network can have
// data for, and at most MaxPeriodDays, so that an absurd period is a clear
// error before anything is allocated (a report holds every minute of the
// period per link).
const (
	MinYear       = 2000
	MaxYear       = 2199
	MaxPeriodDays = 400
)

// ErrBadPeriod is wrapped by every ParsePeriod error.
var ErrBadPeriod = errors.New("invalid period")

// ParsePeriod reads "2026-10" (a month), "2026-Q4" (a quarter), "2026" (a
// year) or "2026-10-01..2026-10-15" (whole days, both ends included, at
// most MaxPeriodDays), as calendar periods in loc, in years MinYear to
// MaxYear.
func ParsePeriod(s string, loc *time.Location) (Period, error) {
	bad := func(why string) (Period, error) {
		return Period{}, fmt.Errorf("%w %q: %s (want 2026-10, 2026-Q4, 2026 or 2026-10-01..2026-10-15)", ErrBadPeriod, s, why)
	}
	if len(s) > 32 {
		s = s[:32] + "…"
		return bad("too long")
	}
	year := func(t time.Time) bool { return t.Year() >= MinYear && t.Year() <= MaxYear }
	yearRange := fmt.Sprintf("years %d to %d", MinYear, MaxYear)
	if a, b, ok := strings.Cut(s, ".."); ok {
		d0, err := time.ParseInLocation("2006-01-02", a, loc)
		if err != nil {
			return bad("bad start date")
		}
		d1, err := time.ParseInLocation("2006-01-02", b, loc)
		if err != nil {
			return bad("bad end date")
		}
		if !year(d0) || !year(d1) {
			return bad("dates must be in " + yearRange)
		}
		if d1.Before(d0) {
			return bad("end before start")
		}
		end := d1.AddDate(0, 0, 1)
		if days := int(end.Sub(d0).Hours()/24 + 0.5); days > MaxPeriodDays {
			return bad(fmt.Sprintf("%d days; a period covers at most %d (split it, or use a year such as 2026)", days, MaxPeriodDays))
		}
		return Period{Label: s, Start: d0, End: end}, nil
	}
	y, rest, _ := strings.Cut(s, "-")
	yr, err := strconv.Atoi(y)
	if err != nil || len(y) != 4 || y[0] == '+' || y[0] == '-' {
		return bad("bad year")
	}
	if yr < MinYear || yr > MaxYear {
		return bad("year must be in " + yearRange)
	}
	switch {
	case rest == "":
		st := time.Date(yr, 1, 1, 0, 0, 0, 0, loc)
		return Period{Label: s, Start: st, End: st.AddDate(1, 0, 0)}, nil
	case len(rest) == 2 && (rest[0] == 'Q' || rest[0] == 'q') && rest[1] >= '1' && rest[1] <= '4':
		q := int(rest[1] - '0')
		st := time.Date(yr, time.Month(3*q-2), 1, 0, 0, 0, 0, loc)
		return Period{Label: fmt.Sprintf("%d-Q%d", yr, q), Start: st, End: st.AddDate(0, 3, 0)}, nil
	default:
		m, err := strconv.Atoi(rest)
		if err != nil || len(rest) != 2 || m < 1 || m > 12 {
			return bad("bad month or quarter")
		}
		st := time.Date(yr, time.Month(m), 1, 0, 0, 0, 0, loc)
		return Period{Label: s, Start: st, End: st.AddDate(0, 1, 0)}, nil
	}
}

// In returns the same calendar period in another time zone (a month in
// WIT starts two hours before the same month in WIB).
func (p Period) In(loc *time.Location) Period {
	y, m, d := p.Start.Date()
	ys, ms, ds := p.End.Date()
	return Period{
		Label: p.Label,
		Start: time.Date(y, m, d, 0, 0, 0, 0, loc),
		End:   time.Date(ys, ms, ds, 0, 0, 0, 0, loc),
	}
}

// Minutes returns the first Unix minute and the number of minutes.
func (p Period) Minutes() (UnixMinute, int) {
	from := MinuteOf(p.Start.UnixNano())
	return from, int(MinuteOf(p.End.UnixNano()) - from)
}

// Months splits the period into calendar months (the first and last may
// be partial for a custom range).
func (p Period) Months() []Period {
	var out []Period
	loc := p.Start.Location()
	for st := p.Start; st.Before(p.End); {
		y, m, _ := st.Date()
		next := time.Date(y, m+1, 1, 0, 0, 0, 0, loc)
		if next.After(p.End) {
			next = p.End
		}
		out = append(out, Period{Label: fmt.Sprintf("%04d-%02d", y, int(m)), Start: st, End: next})
		st = next
	}
	return out
}

// WholeMonths widens the period to the calendar months it touches (a
// contract month is always computed whole).
func (p Period) WholeMonths() Period {
	loc := p.Start.Location()
	y, m, _ := p.Start.Date()
	st := time.Date(y, m, 1, 0, 0, 0, 0, loc)
	y, m, _ = p.End.Add(-time.Nanosecond).Date()
	return Period{Label: p.Label, Start: st, End: time.Date(y, m+1, 1, 0, 0, 0, 0, loc)}
}
