package report

import (
	"strconv"
	"testing"
	"time"
)

// TestFormatHelpers writes numbers, percentages, dates and periods as each
// language does: Bahasa Indonesia a decimal comma and a thousands dot,
// English the reverse. Every expected text is written out by hand.
func TestFormatHelpers(t *testing.T) {
	f := 99.576
	for _, c := range []struct {
		name, got, want string
	}{
		// three decimals (CellText's precision), rounding and sign
		{"pct id", fmtPct(LangID, &f), "99,576\u00a0%"},
		{"pct en", fmtPct(LangEN, &f), "99.576\u00a0%"},
		{"pct nil", fmtPct(LangID, nil), "–"},
		{"zero id", fmtNum(LangID, 0, 3), "0,000"},
		{"zero en", fmtNum(LangEN, 0, 3), "0.000"},
		// 99.9995 is stored as 99.99949999…: it rounds down, as strconv
		{"99.9995 id", fmtNum(LangID, 99.9995, 3), "99,999"},
		{"99.9996 id", fmtNum(LangID, 99.9996, 3), "100,000"},
		{"99.9996 en", fmtNum(LangEN, 99.9996, 3), "100.000"},
		{"negative id", fmtNum(LangID, -1234.5, 3), "-1.234,500"},
		{"negative en", fmtNum(LangEN, -1234.5, 3), "-1,234.500"},
		// a negative value that rounds to zero has no sign
		{"negative zero", fmtNum(LangID, -0.0004, 3), "0,000"},
		{"large id", fmtNum(LangID, 1234567.891, 3), "1.234.567,891"},
		{"large en", fmtNum(LangEN, 1234567.891, 3), "1,234,567.891"},
		{"int id", fmtInt(LangID, 1234), "1.234"},
		{"int en", fmtInt(LangEN, 1234), "1,234"},
		{"int small", fmtInt(LangID, 999), "999"},
		{"int negative", fmtInt(LangID, -1234567), "-1.234.567"},
		{"int large", fmtInt(LangEN, 9876543210), "9,876,543,210"},
		// cells: minutes with separators, floats with three decimals,
		// years, durations and text as they are
		{"cell int", fmtCell(LangID, 44640), "44.640"},
		{"cell int64", fmtCell(LangID, int64(100000000)), "100.000.000"},
		{"cell float", fmtCell(LangID, 912.5), "912,500"},
		{"cell year", fmtCell(LangID, Year(2026)), "2026"},
		{"cell seconds", fmtCell(LangID, Seconds(3725)), "1:02:05"},
		{"cell month id", fmtCell(LangID, Month("2026-10")), "Oktober 2026"},
		{"cell month en", fmtCell(LangEN, Month("2026-10")), "October 2026"},
		{"cell text", fmtCell(LangID, "a.b,c"), "a.b,c"},
		{"cell nil", fmtCell(LangID, nil), ""},
		// the machine form is unchanged
		{"CellText float", CellText(99.576), "99.576"},
		{"CellText int", CellText(1234), "1234"},
		{"CellText month", CellText(Month("2026-10")), "2026-10"},
		// axis labels: one decimal at most
		{"axis whole", fmtAxis(LangID, 99), "99"},
		{"axis half id", fmtAxis(LangID, 99.5), "99,5"},
		{"axis half en", fmtAxis(LangEN, 99.54), "99.5"},
		// months and periods
		{"month id", monthName(LangID, time.August), "Agustus"},
		{"date id", fmtDate(LangID, time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)), "1 Oktober 2026"},
		{"date en", fmtDate(LangEN, time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC)), "31 December 2026"},
		{"period month id", fmtPeriod(LangID, "2026-10"), "Oktober 2026"},
		{"period month en", fmtPeriod(LangEN, "2026-10"), "October 2026"},
		{"period quarter id", fmtPeriod(LangID, "2026-Q4"), "Triwulan IV 2026"},
		{"period quarter en", fmtPeriod(LangEN, "2026-Q1"), "Q1 2026"},
		{"period year", fmtPeriod(LangID, "2026"), "2026"},
		{"period days id", fmtPeriod(LangID, "2026-05-01..2026-05-15"), "1 Mei 2026 – 15 Mei 2026"},
		{"period one day id", fmtPeriod(LangID, "2026-12-07..2026-12-07"), "7 Desember 2026"},
		{"period other", fmtPeriod(LangID, "2026-Q9"), "2026-Q9"},
		{"short month id", shortMonthLabel(LangID, "2026-08"), "Agu 2026"},
		{"short month en", shortMonthLabel(LangEN, "2026-10"), "Oct 2026"},
	} {
		if c.got != c.want {
			t.Errorf("%s: %q, want %q", c.name, c.got, c.want)
		}
	}
}

// TestXLSXNumberFormats checks that the workbook keeps numbers as
// numbers, with formats Excel shows in the reader's separators, and
// months as dates shown by the report language's month names.
func TestXLSXNumberFormats(t *testing.T) {
	for _, c := range []struct{ lang, month string }{{LangID, "[$-421]mmmm yyyy"}, {LangEN, "[$-409]mmmm yyyy"}} {
		r := fixtureReport(c.lang)
		f := openXLSX(t, r)
		sheets := f.GetSheetList()
		sheet := func(name string) string {
			t.Helper()
			for i, tb := range r.Tables() {
				if tb.Name == name {
					return sheets[i+len(sheets)-len(r.Tables())]
				}
			}
			t.Fatalf("no table %s", name)
			return ""
		}
		coverage, contracts, assets := sheet("coverage"), sheet("contracts"), sheet("assets")
		format := func(sheet, ref string) string {
			t.Helper()
			id, err := f.GetCellStyle(sheet, ref)
			if err != nil {
				t.Fatal(err)
			}
			st, err := f.GetStyle(id)
			if err != nil {
				t.Fatal(err)
			}
			if st.CustomNumFmt != nil {
				return *st.CustomNumFmt
			}
			return "builtin " + strconv.Itoa(st.NumFmt)
		}
		// The first month of the coverage history, 2026-08, is a date:
		// Excel's serial of 2026-08-01 = 46023 (2026-01-01) + 31 + 28 + 31
		// + 30 + 31 + 30 + 31 (January to July: 212) = 46235.
		if v := xlsxNumber(t, f, coverage, "A2"); v != 46235 {
			t.Errorf("%s coverage month = %v, want the date 46235", c.lang, v)
		}
		if got := format(coverage, "A2"); got != c.month {
			t.Errorf("%s coverage month format %q, want %q", c.lang, got, c.month)
		}
		// minutes in October: 31 × 1440 = 44640, a number with thousands
		// separators (shown 44.640 by Excel in Indonesian, 44,640 in English)
		ref := "F2"
		if v := xlsxNumber(t, f, contracts, ref); v != 44640 {
			t.Errorf("%s contracts minutes in month = %v, want 44640", c.lang, v)
		}
		if got := format(contracts, ref); got != "#,##0" {
			t.Errorf("%s minutes format %q, want #,##0", c.lang, got)
		}
		// a year has no separator
		if got := format(assets, xlsxCell(t, f, assets, "dinkes-rtr1", r.cols("assets")[6])); got != "builtin 1" {
			t.Errorf("%s year format %q, want builtin 1 (0)", c.lang, got)
		}
	}
}

func TestHeaderPeriod(t *testing.T) {
	wit, err := time.LoadLocation("Asia/Jayapura")
	if err != nil {
		t.Fatal(err)
	}
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, wit) }
	for _, c := range []struct {
		period     string
		start, end time.Time
		lang, want string
	}{
		{"2026-10", day(2026, 10, 1), day(2026, 11, 1), LangID, "Oktober 2026 (1 Oktober 2026 – 31 Oktober 2026, WIT)"},
		{"2026-12-07..2026-12-07", day(2026, 12, 7), day(2026, 12, 8), LangID, "7 Desember 2026 (WIT)"},
		{"2026-05-01..2026-05-15", day(2026, 5, 1), day(2026, 5, 16), LangEN, "1 May 2026 – 15 May 2026 (WIT)"},
		{"2026-Q4", time.Time{}, time.Time{}, LangID, "Triwulan IV 2026"},
	} {
		if got := headerPeriod(c.lang, &Report{Period: c.period, Start: c.start, End: c.end}); got != c.want {
			t.Errorf("%s: %q, want %q", c.period, got, c.want)
		}
	}
}
