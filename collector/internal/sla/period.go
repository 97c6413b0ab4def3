package sla

import (
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

// ParsePeriod reads "2026-10" (a month), "2026-Q4" (a quarter), "2026" (a
// year) or "2026-10-01..2026-10-15" (whole days, both ends included), as
// calendar periods in loc.
func ParsePeriod(s string, loc *time.Location) (Period, error) {
	bad := func(why string) (Period, error) {
		return Period{}, fmt.Errorf("period %q: %s (want 2026-10, 2026-Q4, 2026 or 2026-10-01..2026-10-15)", s, why)
	}
	if a, b, ok := strings.Cut(s, ".."); ok {
		d0, err := time.ParseInLocation("2006-01-02", a, loc)
		if err != nil {
			return bad("bad start date")
		}
		d1, err := time.ParseInLocation("2006-01-02", b, loc)
		if err != nil {
			return bad("bad end date")
		}
		if d1.Before(d0) {
			return bad("end before start")
		}
		return Period{Label: s, Start: d0, End: d1.AddDate(0, 0, 1)}, nil
	}
	y, rest, _ := strings.Cut(s, "-")
	year, err := strconv.Atoi(y)
	if err != nil || len(y) != 4 || year < 1970 {
		return bad("bad year")
	}
	switch {
	case rest == "":
		st := time.Date(year, 1, 1, 0, 0, 0, 0, loc)
		return Period{Label: s, Start: st, End: st.AddDate(1, 0, 0)}, nil
	case len(rest) == 2 && (rest[0] == 'Q' || rest[0] == 'q') && rest[1] >= '1' && rest[1] <= '4':
		q := int(rest[1] - '0')
		st := time.Date(year, time.Month(3*q-2), 1, 0, 0, 0, 0, loc)
		return Period{Label: fmt.Sprintf("%d-Q%d", year, q), Start: st, End: st.AddDate(0, 3, 0)}, nil
	default:
		m, err := strconv.Atoi(rest)
		if err != nil || len(rest) != 2 || m < 1 || m > 12 {
			return bad("bad month or quarter")
		}
		st := time.Date(year, time.Month(m), 1, 0, 0, 0, 0, loc)
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
