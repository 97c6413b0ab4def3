package report

import (
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
)

// Column widths in the workbook, in characters.
const (
	xlsxMinWidth = 8
	xlsxMaxWidth = 60
)

// xlsxStyles are the cell styles of the workbook.
type xlsxStyles struct {
	header, text, wrap, integer, money, decimal, duration int
	// year is a whole number without separators, month a date shown as
	// the month's name and year; lang is the report's.
	year, month int
	lang        string
}

// The workbook's number formats. Excel writes a format with "," for the
// thousands separator and "." for the decimal point whatever the
// language, and shows the separators of the reader's regional settings:
// Excel set to Indonesian shows 99,576 and 1.234, set to English 99.576
// and 1,234. The cells stay numbers either way. The month names are those
// of the report's language whatever the reader's settings: the format
// names the locale ([$-421] Indonesian, [$-409] English US).
const (
	xlsxFmtInteger  = "#,##0"
	xlsxFmtDecimal  = "#,##0.000"
	xlsxFmtDuration = "[h]:mm:ss"
	xlsxFmtMonthID  = "[$-421]mmmm yyyy"
	xlsxFmtMonthEN  = "[$-409]mmmm yyyy"
)

func newXLSXStyles(f *excelize.File, lang string) (xlsxStyles, error) {
	s := xlsxStyles{lang: lang}
	top := excelize.Alignment{Vertical: "top"}
	integer, decimals, hms, month := xlsxFmtInteger, xlsxFmtDecimal, xlsxFmtDuration, xlsxFmtMonthID
	if lang == LangEN {
		month = xlsxFmtMonthEN
	}
	for _, st := range []struct {
		id    *int
		style excelize.Style
	}{
		{&s.header, excelize.Style{
			Font:      &excelize.Font{Bold: true},
			Fill:      excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"D9E2EC"}},
			Border:    []excelize.Border{{Type: "bottom", Color: "7B8794", Style: 1}},
			Alignment: &excelize.Alignment{Vertical: "top", WrapText: true},
		}},
		{&s.text, excelize.Style{Alignment: &top}},
		{&s.wrap, excelize.Style{Alignment: &excelize.Alignment{Vertical: "top", WrapText: true}}},
		{&s.integer, excelize.Style{Alignment: &top, CustomNumFmt: &integer}},  // thousands separators
		{&s.money, excelize.Style{Alignment: &top, NumFmt: 3}},                 // #,##0
		{&s.decimal, excelize.Style{Alignment: &top, CustomNumFmt: &decimals}}, // three decimals, as CellText
		{&s.duration, excelize.Style{Alignment: &top, CustomNumFmt: &hms}},     // a duration, as CellText
		{&s.year, excelize.Style{Alignment: &top, NumFmt: 1}},                  // 0
		{&s.month, excelize.Style{Alignment: &top, CustomNumFmt: &month}},      // Oktober 2026
	} {
		id, err := f.NewStyle(&st.style)
		if err != nil {
			return s, fmt.Errorf("xlsx style: %w", err)
		}
		*st.id = id
	}
	return s, nil
}

// sheetNames gives every table a valid, unique sheet name: its title
// without the characters Excel rejects, at most 31 characters, unique
// regardless of case (as Excel compares them).
func sheetNames(tables []Table) []string {
	seen := map[string]bool{}
	var out []string
	for _, t := range tables {
		base := strings.Map(func(r rune) rune {
			switch r {
			case ':', '\\', '/', '?', '*', '[', ']':
				return '-'
			}
			if r < 0x20 {
				return -1
			}
			return r
		}, t.Title)
		base = strings.Trim(strings.TrimSpace(base), "'")
		if base == "" {
			base = t.Name
		}
		name := truncateUTF16(base, excelize.MaxSheetNameLength)
		for i := 2; seen[strings.ToLower(name)]; i++ {
			suffix := fmt.Sprintf(" (%d)", i)
			name = truncateUTF16(base, excelize.MaxSheetNameLength-len(suffix)) + suffix
		}
		seen[strings.ToLower(name)] = true
		out = append(out, name)
	}
	return out
}

// truncateUTF16 cuts s to at most n UTF-16 code units (Excel's measure),
// at a word boundary when one is in the second half, without trailing
// blanks.
func truncateUTF16(s string, n int) string {
	units := 0
	for i, r := range s {
		w := 1
		if r >= 0x10000 {
			w = 2
		}
		if units+w > n {
			cut := s[:i]
			if r != ' ' {
				if sp := strings.LastIndexByte(cut, ' '); sp >= len(cut)/2 {
					cut = cut[:sp]
				}
			}
			return strings.TrimRight(cut, " ")
		}
		units += w
	}
	return s
}

// WriteXLSX writes the report as a workbook, one sheet per table in
// report order. Header rows are bold and frozen; numbers are numeric
// cells (floats shown with three decimals, integers with thousands
// separators, see xlsxFmtInteger), months dates; no value is an empty cell.
func WriteXLSX(w io.Writer, r *Report) error {
	return writeXLSXTables(w, r, withApproval(r, r.Tables()))
}

// writeXLSXTables writes tables as one workbook, one sheet each, with the
// report's document properties.
func writeXLSXTables(w io.Writer, r *Report, tables []Table) error {
	f := excelize.NewFile()
	defer f.Close()

	lang := "id-ID"
	if r.Lang == LangEN {
		lang = "en-US"
	}
	created := ""
	if !r.GeneratedAt.IsZero() {
		created = r.GeneratedAt.UTC().Format("2006-01-02T15:04:05Z")
	}
	if err := f.SetDocProps(&excelize.DocProperties{
		Title:          r.Title,
		Subject:        r.Period,
		Description:    strings.TrimSpace(r.Scope.Name + " " + r.Period),
		Creator:        r.Generator,
		LastModifiedBy: r.Generator,
		Created:        created,
		Modified:       created,
		Language:       lang,
		Category:       "SPBE",
	}); err != nil {
		return fmt.Errorf("xlsx properties: %w", err)
	}
	st, err := newXLSXStyles(f, r.Lang)
	if err != nil {
		return err
	}

	names := sheetNames(tables)
	first := f.GetSheetName(0) // the default Sheet1, renamed to the first table
	for i, t := range tables {
		if i == 0 {
			if err := f.SetSheetName(first, names[i]); err != nil {
				return fmt.Errorf("xlsx sheet %q: %w", names[i], err)
			}
		} else if _, err := f.NewSheet(names[i]); err != nil {
			return fmt.Errorf("xlsx sheet %q: %w", names[i], err)
		}
		if err := writeSheet(f, names[i], t, st); err != nil {
			return fmt.Errorf("xlsx sheet %q: %w", names[i], err)
		}
	}
	f.SetActiveSheet(0)
	if err := f.Write(w); err != nil {
		return fmt.Errorf("xlsx: %w", err)
	}
	return nil
}

func writeSheet(f *excelize.File, sheet string, t Table, st xlsxStyles) error {
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		return err
	}
	// Widths from the longest text of each column.
	width := make([]int, len(t.Columns))
	for i, c := range t.Columns {
		width[i] = utf8.RuneCountInString(c) + 2
	}
	for _, row := range t.Rows {
		for i, c := range row {
			if i >= len(width) {
				break
			}
			n := utf8.RuneCountInString(fmtCell(st.lang, c)) // with separators
			width[i] = max(width[i], n+2)
		}
	}
	wrap := make([]bool, len(width))
	for i := range width {
		if width[i] > xlsxMaxWidth {
			width[i], wrap[i] = xlsxMaxWidth, true
		}
		width[i] = max(width[i], xlsxMinWidth)
	}
	// Last column first: excelize puts each new column before the ones
	// already set, and Excel wants them in ascending order.
	for i := len(width) - 1; i >= 0; i-- {
		if err := sw.SetColWidth(i+1, i+1, float64(width[i])); err != nil {
			return err
		}
	}
	if err := sw.SetPanes(&excelize.Panes{
		Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft",
		Selection: []excelize.Selection{{SQRef: "A2", ActiveCell: "A2", Pane: "bottomLeft"}},
	}); err != nil {
		return err
	}
	header := make([]any, len(t.Columns))
	for i, c := range t.Columns {
		header[i] = excelize.Cell{StyleID: st.header, Value: c}
	}
	if err := sw.SetRow("A1", header); err != nil {
		return err
	}
	for n, row := range t.Rows {
		cells := make([]any, len(row))
		for i, c := range row {
			cell := excelize.Cell{Value: c}
			switch c := c.(type) {
			case int:
				cell.StyleID = st.integer
			case int64:
				cell.StyleID = st.money
			case float64:
				cell.StyleID = st.decimal
			case Seconds:
				// a duration is a fraction of days in a workbook
				cell.Value, cell.StyleID = float64(c)/86400, st.duration
			case Year:
				cell.Value, cell.StyleID = int(c), st.year
			case Month:
				// a date (the month's first day), when the label is one
				cell.StyleID = st.text
				if t, err := time.Parse("2006-01", string(c)); err == nil {
					cell.Value, cell.StyleID = t, st.month
				} else {
					cell.Value = string(c)
				}
			case nil:
				cell.StyleID = st.text
			default:
				cell.StyleID = st.text
				if i < len(wrap) && wrap[i] {
					cell.StyleID = st.wrap
				}
			}
			cells[i] = cell
		}
		ref, err := excelize.CoordinatesToCellName(1, n+2)
		if err != nil {
			return err
		}
		if err := sw.SetRow(ref, cells); err != nil {
			return err
		}
	}
	return sw.Flush()
}
