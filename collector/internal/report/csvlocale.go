package report

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// CSV locales: the default CSV is machine-readable (`,` between fields,
// `.` before decimals); CSVLocaleID is for Excel set to Indonesian, which
// reads `;` between fields and a decimal comma.
const (
	CSVLocaleDefault = ""
	CSVLocaleID      = "id"
)

// CSVLocales are the values csv_locale (API) and --csv-locale (CLI)
// accept.
var CSVLocales = []string{"id", "default"}

// ParseCSVLocale reads a csv_locale value: "id" (Excel in the Indonesian
// locale), "default" or empty (machine-readable). Case and surrounding
// blanks are ignored; anything else is an error naming the allowed
// values.
func ParseCSVLocale(s string) (string, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "default":
		return CSVLocaleDefault, nil
	case "id", "id-id":
		return CSVLocaleID, nil
	}
	q := s
	if len(q) > 40 {
		q = q[:40] + "…"
	}
	return "", fmt.Errorf("csv_locale %q: want one of %s (id: `;` and decimal commas for Excel in the Indonesian locale; default: `,` and `.`)", q, strings.Join(CSVLocales, ", "))
}

// RenderCSV writes one table (default links) as CSV in a locale (see
// ParseCSVLocale; the caller has parsed it).
func RenderCSV(w io.Writer, r *Report, table, locale string) error {
	if table == "" {
		table = "links"
	}
	t, err := r.Table(table)
	if err != nil {
		return err
	}
	return writeCSVIn(w, t, locale)
}

// WriteCSVID writes one table for Excel set to Indonesian: a UTF-8 byte
// order mark (without it Excel reads the file in the Windows code page),
// `;` between fields, floats with three decimals after a decimal comma
// and no thousands separator (1234,500: what Excel in Indonesian reads as
// a number and no other reading mistakes for a thousands dot); integers,
// durations (h:mm:ss), dates and text as in the default CSV.
func WriteCSVID(w io.Writer, t Table) error {
	if _, err := io.WriteString(w, "\ufeff"); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	cw.Comma = ';'
	cw.UseCRLF = true // as Excel writes its own
	if err := cw.Write(t.Columns); err != nil {
		return err
	}
	rec := make([]string, len(t.Columns))
	for _, row := range t.Rows {
		for i, c := range row {
			if i >= len(rec) {
				break
			}
			if f, ok := c.(float64); ok {
				rec[i] = strings.Replace(strconv.FormatFloat(f, 'f', 3, 64), ".", ",", 1)
				continue
			}
			rec[i] = CellText(c)
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
