package report

import (
	"archive/zip"
	"bytes"
	"io"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

func openXLSX(t *testing.T, r *Report) *excelize.File {
	t.Helper()
	var b bytes.Buffer
	if err := WriteXLSX(&b, r); err != nil {
		t.Fatalf("WriteXLSX: %v", err)
	}
	f, err := excelize.OpenReader(&b)
	if err != nil {
		t.Fatalf("reopen the workbook: %v", err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// xlsxCell finds the cell of a table's column in the row whose first
// cell is key.
func xlsxCell(t *testing.T, f *excelize.File, sheet, key, column string) string {
	t.Helper()
	rows, err := f.GetRows(sheet)
	if err != nil {
		t.Fatal(err)
	}
	col := slices.Index(rows[0], column)
	if col < 0 {
		t.Fatalf("sheet %q has no column %q: %q", sheet, column, rows[0])
	}
	for i, row := range rows[1:] {
		if len(row) > 0 && row[0] == key {
			ref, err := excelize.CoordinatesToCellName(col+1, i+2)
			if err != nil {
				t.Fatal(err)
			}
			return ref
		}
	}
	t.Fatalf("sheet %q has no row %q", sheet, key)
	return ""
}

// xlsxNumber is a numeric cell's value; it fails the test for any other
// cell.
func xlsxNumber(t *testing.T, f *excelize.File, sheet, ref string) float64 {
	t.Helper()
	typ, err := f.GetCellType(sheet, ref)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := f.GetCellValue(sheet, ref, excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	if typ != excelize.CellTypeUnset && typ != excelize.CellTypeNumber || raw == "" {
		t.Fatalf("%s!%s: type %v value %q, want a number", sheet, ref, typ, raw)
	}
	v, err := strconv.ParseFloat(raw, 64)
	if err != nil {
		t.Fatalf("%s!%s: %v", sheet, ref, err)
	}
	return v
}

// excelEqual says whether a number read back from the workbook is want
// as Excel holds it: excelize, like Excel, keeps 15 significant digits.
func excelEqual(got, want float64) bool {
	return math.Abs(got-want) <= 1e-14*math.Abs(want)
}

func xlsxFormatted(t *testing.T, f *excelize.File, sheet, ref string) string {
	t.Helper()
	v, err := f.GetCellValue(sheet, ref)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func xlsxEmpty(t *testing.T, f *excelize.File, sheet, ref string) {
	t.Helper()
	raw, err := f.GetCellValue(sheet, ref, excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	typ, _ := f.GetCellType(sheet, ref)
	if raw != "" || typ != excelize.CellTypeUnset {
		t.Errorf("%s!%s = %q (type %v), want an empty cell", sheet, ref, raw, typ)
	}
}

func xlsxString(t *testing.T, f *excelize.File, sheet, ref, want string) {
	t.Helper()
	typ, _ := f.GetCellType(sheet, ref)
	if typ != excelize.CellTypeInlineString && typ != excelize.CellTypeSharedString {
		t.Errorf("%s!%s: type %v, want a string", sheet, ref, typ)
	}
	if got := xlsxFormatted(t, f, sheet, ref); got != want {
		t.Errorf("%s!%s = %q, want %q", sheet, ref, got, want)
	}
}

func TestXLSX(t *testing.T) {
	sheets := map[string][]string{
		LangID: {"Ringkasan", "Cakupan per Bulan", "Ketersediaan per Lokasi", "Ketersediaan per Jalur", "Ketersediaan Layanan", "Daftar Gangguan",
			"Pareto Gangguan per Kategori", "MTTR per Kategori", "Kontrak ISP dan Restitusi", "Kapasitas", "Reviu Berkala", "Tindak Lanjut", "Catatan perubahan", "Daftar Aset TIK",
			"Kontrak dan Garansi yang Akan", "Pemetaan ke Indikator SPBE", "Metode"},
		LangEN: {"Summary", "Coverage by Month", "Availability per Site", "Availability per Link", "Service Availability", "Incidents",
			"Incident Pareto by Category", "MTTR by Category", "ISP Contracts and Restitution", "Capacity", "Periodic Reviews", "Follow-up", "Change record", "TIK Asset Register",
			"Contracts and Warranties Ending", "Mapping to SPBE Indicators", "Methods"},
	}
	for _, lang := range []string{LangID, LangEN} {
		t.Run(lang, func(t *testing.T) {
			r := fixtureReport(lang)
			f := openXLSX(t, r)
			tables := r.Tables()
			col := func(table string, i int) string {
				for _, tb := range tables {
					if tb.Name == table {
						return tb.Columns[i]
					}
				}
				t.Fatalf("no table %s", table)
				return ""
			}

			// Sheets in report order, named after the tables, no Sheet1.
			got := f.GetSheetList()
			if !slices.Equal(got, sheets[lang]) {
				t.Fatalf("sheets %q,\nwant %q", got, sheets[lang])
			}
			if f.GetActiveSheetIndex() != 0 {
				t.Errorf("active sheet %d, want the summary", f.GetActiveSheetIndex())
			}
			props, err := f.GetDocProps()
			if err != nil {
				t.Fatal(err)
			}
			if props.Title != r.Title || props.Subject != "2026-10" || props.Creator != r.Generator {
				t.Errorf("doc properties title %q subject %q creator %q", props.Title, props.Subject, props.Creator)
			}

			// Every sheet: the header row is the table's columns, bold and
			// frozen; the data rows follow; widths are reasonable.
			for i, tb := range tables {
				sheet := got[i]
				rows, err := f.GetRows(sheet)
				if err != nil {
					t.Fatal(err)
				}
				if len(rows) != 1+len(tb.Rows) {
					t.Errorf("%s: %d rows, want header + %d", sheet, len(rows), len(tb.Rows))
				}
				if !slices.Equal(rows[0], tb.Columns) {
					t.Errorf("%s: header %q, want %q", sheet, rows[0], tb.Columns)
				}
				sid, err := f.GetCellStyle(sheet, "A1")
				if err != nil {
					t.Fatal(err)
				}
				st, err := f.GetStyle(sid)
				if err != nil || st.Font == nil || !st.Font.Bold {
					t.Errorf("%s: header not bold (%v)", sheet, err)
				}
				panes, err := f.GetPanes(sheet)
				if err != nil || !panes.Freeze || panes.YSplit != 1 || panes.XSplit != 0 {
					t.Errorf("%s: panes %+v (%v), want the first row frozen", sheet, panes, err)
				}
				for c := range tb.Columns {
					name, _ := excelize.ColumnNumberToName(c + 1)
					w, err := f.GetColWidth(sheet, name)
					if err != nil || w < xlsxMinWidth || w > xlsxMaxWidth {
						t.Errorf("%s: column %s width %v (%v)", sheet, name, w, err)
					}
				}
			}
			sum, sites, links, services, incidents, contracts, capacity, assets, followups, changes := got[0], got[2], got[3], got[4], got[5], got[8], got[9], got[13], got[11], got[12] // 6, 7: incident_pareto, incident_mttr

			// Summary: labels and figures.
			if v := xlsxNumber(t, f, sum, "B12"); !excelEqual(v, *r.Summary.Availability) {
				t.Errorf("summary availability %v, want %v", v, *r.Summary.Availability)
			}
			if v := xlsxFormatted(t, f, sum, "B12"); v != "99.219" {
				t.Errorf("summary availability shown as %q, want 99.219", v)
			}
			xlsxString(t, f, sum, "B2", "2026-10")
			if v := xlsxNumber(t, f, sum, "B30"); v != 173611 {
				t.Errorf("summary restitution %v", v)
			}

			// Floats: exact value, shown with three decimals.
			ref := xlsxCell(t, f, links, "sentani-vsat", col("links", 15))
			if v := xlsxNumber(t, f, links, ref); !excelEqual(v, *r.Links[2].Availability) {
				t.Errorf("links %s = %v, want %v", ref, v, *r.Links[2].Availability)
			}
			if v := xlsxFormatted(t, f, links, ref); v != "98.015" {
				t.Errorf("links %s shown as %q, want 98.015", ref, v)
			}
			ref = xlsxCell(t, f, links, "sentani-vsat", col("links", 18)) // target
			if v := xlsxNumber(t, f, links, ref); v != 99 {
				t.Errorf("links target %v", v)
			}
			ref = xlsxCell(t, f, sites, "dinkes", col("sites", 14))
			if v := xlsxNumber(t, f, sites, ref); !excelEqual(v, *r.Sites[0].Availability) {
				t.Errorf("sites %s = %v, want %v", ref, v, *r.Sites[0].Availability)
			}

			ref = xlsxCell(t, f, services, "eoffice", col("services", 15))
			if v := xlsxNumber(t, f, services, ref); !excelEqual(v, *r.Services[1].Availability) {
				t.Errorf("services %s = %v, want %v", ref, v, *r.Services[1].Availability)
			}
			ref = xlsxCell(t, f, services, "portal", col("services", 22)) // down: network
			if v := xlsxNumber(t, f, services, ref); v != 15 {
				t.Errorf("services down network %v, want 15", v)
			}

			// Integers, rupiah amounts, strings.
			ref = xlsxCell(t, f, links, "sentani-vsat", col("links", 21)) // down: ISP
			if v := xlsxNumber(t, f, links, ref); v != 620 {
				t.Errorf("links down ISP %v, want 620", v)
			}
			ref = xlsxCell(t, f, contracts, "sentani-vsat", col("contracts", 18))
			if v := xlsxNumber(t, f, contracts, ref); v != 173611 {
				t.Errorf("contracts restitution %v, want 173611", v)
			}
			if v := xlsxFormatted(t, f, contracts, ref); v != "173,611" {
				t.Errorf("contracts restitution shown as %q, want 173,611", v)
			}
			ref = xlsxCell(t, f, contracts, "dinkes-fo", col("contracts", 18))
			if v := xlsxNumber(t, f, contracts, ref); v != 0 {
				t.Errorf("contracts restitution %v, want 0", v)
			}
			ref = xlsxCell(t, f, contracts, "sentani-vsat", col("contracts", 16))
			if v := xlsxNumber(t, f, contracts, ref); v != 12500000 {
				t.Errorf("contracts fee %v", v)
			}
			ref = xlsxCell(t, f, contracts, "sentani-vsat", col("contracts", 15))
			met := map[string]string{LangID: "tidak", LangEN: "no"}[lang]
			xlsxString(t, f, contracts, ref, met)
			// durations: a fraction of days shown as h:mm:ss (620 counted
			// minutes = 10:20:00); seconds as a number
			ref = xlsxCell(t, f, contracts, "sentani-vsat", col("contracts", 6))
			if v := xlsxNumber(t, f, contracts, ref); !excelEqual(v, 37200.0/86400) {
				t.Errorf("contracts counted %v days, want %v", v, 37200.0/86400)
			}
			if v := xlsxFormatted(t, f, contracts, ref); v != "10:20:00" {
				t.Errorf("contracts counted shown as %q, want 10:20:00", v)
			}
			if v := xlsxNumber(t, f, contracts, xlsxCell(t, f, contracts, "sentani-vsat", col("contracts", 7))); v != 37200 {
				t.Errorf("contracts counted seconds %v, want 37200", v)
			}
			ref = xlsxCell(t, f, contracts, "sentani-vsat", col("contracts", 19))
			xlsxString(t, f, contracts, ref, map[string]string{LangID: "ya", LangEN: "yes"}[lang]) // final
			if v := xlsxFormatted(t, f, incidents, xlsxCell(t, f, incidents, "dinkes-radio", col("incidents", 5))); v != "0:30:00" {
				t.Errorf("incident duration shown as %q, want 0:30:00", v)
			}
			ref = xlsxCell(t, f, incidents, "dinkes-radio", col("incidents", 9))
			cause := map[string]string{LangID: "induk/inti putus", LangEN: "parent or core down"}[lang]
			xlsxString(t, f, incidents, ref, cause)
			xlsxString(t, f, incidents, xlsxCell(t, f, incidents, "dinkes-radio", col("incidents", 3)), "2026-10-21 19:40:00 WIB")
			ref = xlsxCell(t, f, assets, "dinkes-rtr1", col("assets", 6))
			if v := xlsxNumber(t, f, assets, ref); v != 2023 {
				t.Errorf("asset year %v", v)
			}
			xlsxString(t, f, followups, "G2", "2026-10-31")
			xlsxString(t, f, changes, "A2", "2026-10-19 16:02:11 WIB")
			xlsxString(t, f, changes, "B2", map[string]string{LangID: "pengguna", LangEN: "user"}[lang])
			xlsxString(t, f, changes, "F3", "review/1")

			// No value: an empty cell, not 0 or "".
			xlsxEmpty(t, f, sites, xlsxCell(t, f, sites, "dist-waena", col("sites", 14)))
			xlsxEmpty(t, f, sites, xlsxCell(t, f, sites, "dist-waena", col("sites", 18))) // met
			xlsxEmpty(t, f, assets, xlsxCell(t, f, assets, "sentani-modem", col("assets", 6)))
			xlsxEmpty(t, f, capacity, "L4") // sentani-vsat mean utilization
			xlsxEmpty(t, f, capacity, "J4") // and busy hour
		})
	}
}

// TestXLSXColumnOrder checks the raw sheets: Excel refuses (or
// "repairs") a workbook whose column definitions are not in ascending
// order.
func TestXLSXColumnOrder(t *testing.T) {
	var b bytes.Buffer
	if err := WriteXLSX(&b, fixtureReport(LangID)); err != nil {
		t.Fatal(err)
	}
	z, err := zip.NewReader(bytes.NewReader(b.Bytes()), int64(b.Len()))
	if err != nil {
		t.Fatal(err)
	}
	colRE := regexp.MustCompile(`<col min="(\d+)" max="(\d+)"`)
	sheets := 0
	for _, zf := range z.File {
		if !strings.HasPrefix(zf.Name, "xl/worksheets/sheet") {
			continue
		}
		sheets++
		rc, err := zf.Open()
		if err != nil {
			t.Fatal(err)
		}
		x, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		last := 0
		cols := colRE.FindAllSubmatch(x, -1)
		if len(cols) == 0 {
			t.Errorf("%s: no column widths", zf.Name)
		}
		for _, m := range cols {
			lo, _ := strconv.Atoi(string(m[1]))
			hi, _ := strconv.Atoi(string(m[2]))
			if lo <= last || hi < lo {
				t.Errorf("%s: column %d-%d after %d: not ascending", zf.Name, lo, hi, last)
			}
			last = hi
		}
	}
	if sheets != len(TableNames) {
		t.Errorf("%d worksheets, want %d", sheets, len(TableNames))
	}
}

func TestSheetNames(t *testing.T) {
	got := sheetNames([]Table{
		{Name: "a", Title: "Ketersediaan: per/Lokasi [WIB]?"},
		{Name: "b", Title: "ketersediaan- per-lokasi -wib--"},
		{Name: "c", Title: "Kontrak dan Garansi yang Akan Berakhir Dalam Waktu Dekat"},
		{Name: "d", Title: "Kontrak dan Garansi yang Akan Berakhir Dalam Waktu Dekat Sekali"},
		{Name: "e", Title: "'*'"},
		{Name: "f", Title: "Ketersediaanperlokasidanperjalurdanperbulan"},
		{Name: "g", Title: "Ringkasan 😀"},
	})
	want := []string{
		"Ketersediaan- per-Lokasi -WIB--",
		"ketersediaan- per-lokasi (2)",
		"Kontrak dan Garansi yang Akan",
		"Kontrak dan Garansi yang (2)",
		"-",
		"Ketersediaanperlokasidanperjalu",
		"Ringkasan 😀",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("sheetNames:\n got %q\nwant %q", got, want)
	}
	f := excelize.NewFile()
	defer f.Close()
	for _, n := range got {
		if _, err := f.NewSheet(n); err != nil {
			t.Errorf("excelize rejects %q: %v", n, err)
		}
	}
}
