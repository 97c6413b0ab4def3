package report

import (
	"math"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// Number and date formats as each language writes them, for the text of
// the HTML (and so the PDF) and for the CSV of csv_locale=id. Bahasa
// Indonesia writes a decimal comma and a thousands dot ("99,576 %",
// "1.234 menit"), English the other way round ("99.576 %", "1,234").
// The formatting is golang.org/x/text/message's (CLDR data); the month
// names are written out here, as the report has always spelt them.

var (
	printerID = message.NewPrinter(language.Indonesian)
	printerEN = message.NewPrinter(language.English)
)

func printer(lang string) *message.Printer {
	if lang == LangEN {
		return printerEN
	}
	return printerID
}

// fmtNum writes v with dec decimals (rounded half away from zero on the
// decimal value, as strconv) and thousands separators. A value that rounds
// to zero has no minus sign.
func fmtNum(lang string, v float64, dec int) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	s := printer(lang).Sprintf("%.*f", dec, v)
	if strings.HasPrefix(s, "-") && strings.Trim(s[1:], "0.,") == "" {
		s = s[1:]
	}
	return s
}

// fmtInt writes n with thousands separators.
func fmtInt(lang string, n int64) string {
	return printer(lang).Sprintf("%d", n)
}

// fmtCell is CellText in lang: floats with three decimals and integers
// with thousands separators as lang writes them; years, durations and
// text as they are.
func fmtCell(lang string, v any) string {
	switch x := v.(type) {
	case int:
		return fmtInt(lang, int64(x))
	case int64:
		return fmtInt(lang, x)
	case float64:
		return fmtNum(lang, x, 3)
	case Month:
		return fmtPeriod(lang, string(x))
	}
	return CellText(v)
}

// fmtPct is a percentage in lang: "99,576 %" (id), "99.576 %" (en), "–" for
// no value.
func fmtPct(lang string, p *float64) string {
	if p == nil {
		return "–"
	}
	return fmtNum(lang, *p, 3) + pctSign
}

// fmtAxis writes an axis value or label to one decimal at most, as lang
// writes it (f1 is its form for SVG coordinates).
func fmtAxis(lang string, v float64) string {
	v = math.Round(v*10) / 10
	if v == math.Trunc(v) {
		return fmtNum(lang, v, 0)
	}
	return fmtNum(lang, v, 1)
}

var monthNames = [2][12]string{
	{"Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober", "November", "Desember"},
	{"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"},
}

// monthName is the month's name in lang.
func monthName(lang string, m time.Month) string {
	i := 0
	if lang == LangEN {
		i = 1
	}
	return monthNames[i][m-1]
}

// fmtDate writes a calendar date: "1 Oktober 2026", "1 October 2026".
func fmtDate(lang string, t time.Time) string {
	return strconv.Itoa(t.Day()) + " " + monthName(lang, t.Month()) + " " + strconv.Itoa(t.Year())
}

// fmtStamp writes a moment to the minute with its zone: "7 Desember 2026
// 08:57 WIT".
func fmtStamp(lang string, t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return fmtDate(lang, t) + " " + t.Format("15:04 MST")
}

// fmtMonthLabel writes a month label YYYY-MM as "Oktober 2026"; anything
// else is returned as it is.
func fmtMonthLabel(lang, s string) string {
	t, err := time.Parse("2006-01", s)
	if err != nil {
		return s
	}
	return monthName(lang, t.Month()) + " " + strconv.Itoa(t.Year())
}

// fmtPeriod writes a period label (sla.ParsePeriod's: 2026-10, 2026-Q4,
// 2026, 2026-10-01..2026-10-15) as a reader says it: "Oktober 2026",
// "Triwulan IV 2026" / "Q4 2026", "1 Oktober 2026 – 15 Oktober 2026".
// A label of another form is returned as it is.
func fmtPeriod(lang, label string) string {
	if t, err := time.Parse("2006-01", label); err == nil {
		return monthName(lang, t.Month()) + " " + strconv.Itoa(t.Year())
	}
	if y, q, ok := strings.Cut(label, "-Q"); ok && len(y) == 4 && len(q) == 1 && q >= "1" && q <= "4" {
		if lang == LangEN {
			return "Q" + q + " " + y
		}
		return "Triwulan " + [...]string{"I", "II", "III", "IV"}[q[0]-'1'] + " " + y
	}
	if a, b, ok := strings.Cut(label, ".."); ok {
		ta, errA := time.Parse("2006-01-02", a)
		tb, errB := time.Parse("2006-01-02", b)
		if errA == nil && errB == nil {
			if ta.Equal(tb) {
				return fmtDate(lang, ta)
			}
			return fmtDate(lang, ta) + " – " + fmtDate(lang, tb)
		}
	}
	return label
}

// Month is a month cell, YYYY-MM: that text in CSV, the month's name in
// HTML ("Oktober 2026"), a date shown as month and year in the workbook.
// A quarter (2026-Q4, a quarterly review's period) is that text in CSV
// and the workbook, and "Triwulan IV 2026" / "Q4 2026" in HTML.
type Month string

// Year is a year cell: a number written without thousands separators.
type Year int
