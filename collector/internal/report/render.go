package report

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
)

// Formats a report renders to.
var Formats = []string{"json", "csv", "xlsx", "html", "pdf"}

// Render writes the report in a format. For csv, table names the table
// (default links); the other formats carry every table.
func Render(w io.Writer, r *Report, format, table string) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	case "csv":
		if table == "" {
			table = "links"
		}
		t, err := r.Table(table)
		if err != nil {
			return err
		}
		return WriteCSV(w, t)
	case "xlsx":
		return WriteXLSX(w, r)
	case "html":
		return WriteHTML(w, r)
	case "pdf":
		return fmt.Errorf("the pdf format needs a Chromium renderer: use WritePDF")
	}
	return fmt.Errorf("unknown format %q (want json, csv, xlsx or html)", format)
}

// CellText formats a cell for text outputs: floats with three decimals
// (percentages to 0.001 %), no value as "".
func CellText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'f', 3, 64)
	case Seconds:
		return x.String()
	case Month:
		return string(x)
	case Year:
		return strconv.Itoa(int(x))
	default:
		return fmt.Sprint(x)
	}
}

// WriteCSV writes one table with a header row.
func WriteCSV(w io.Writer, t Table) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(t.Columns); err != nil {
		return err
	}
	rec := make([]string, len(t.Columns))
	for _, row := range t.Rows {
		for i, c := range row {
			rec[i] = CellText(c)
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
