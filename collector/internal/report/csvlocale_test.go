package report

import (
	"bytes"
	"encoding/csv"
	"slices"
	"strings"
	"testing"
)

// TestCSVLocaleID reads the csv_locale=id table back as Excel in the
// Indonesian locale does: `;` between fields, decimal commas.
func TestCSVLocaleID(t *testing.T) {
	r := fixtureReport(LangID)
	var b bytes.Buffer
	if err := RenderCSV(&b, r, "links", CSVLocaleID); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b.Bytes(), []byte("\ufeff")) {
		t.Fatalf("no UTF-8 byte order mark: %q", b.String()[:20])
	}
	cr := csv.NewReader(strings.NewReader(strings.TrimPrefix(b.String(), "\ufeff")))
	cr.Comma = ';'
	rows, err := cr.ReadAll()
	if err != nil {
		t.Fatalf("read back with Comma ';': %v", err)
	}
	head := rows[0]
	col := func(name string) int {
		i := slices.Index(head, name)
		if i < 0 {
			t.Fatalf("no column %q in %q", name, head)
		}
		return i
	}
	var vsat []string
	for _, row := range rows[1:] {
		if row[0] == "sentani-vsat" {
			vsat = row
		}
	}
	if vsat == nil {
		t.Fatal("no row sentani-vsat")
	}
	// the fixture's VSAT availability is 98.015 %, its down minutes 620
	// (ISP), its target 99
	for _, c := range []struct{ col, want string }{
		{"ketersediaan %", "98,015"},
		{"putus karena ISP", "620"},
		{"target %", "99,000"},
		{"jalur", "sentani-vsat"},
	} {
		if got := vsat[col(c.col)]; got != c.want {
			t.Errorf("%s = %q, want %q", c.col, got, c.want)
		}
	}

	// The default CSV stays machine-readable: `,` and `.`, no mark.
	b.Reset()
	if err := RenderCSV(&b, r, "links", CSVLocaleDefault); err != nil {
		t.Fatal(err)
	}
	rows, err = csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range rows[1:] {
		if row[0] == "sentani-vsat" && row[col("ketersediaan %")] != "98.015" {
			t.Errorf("default CSV availability %q, want 98.015", row[col("ketersediaan %")])
		}
	}
}

func TestParseCSVLocale(t *testing.T) {
	for in, want := range map[string]string{"": "", "default": "", "id": "id", " ID ": "id", "id-ID": "id"} {
		if got, err := ParseCSVLocale(in); err != nil || got != want {
			t.Errorf("ParseCSVLocale(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"en", "fr", "id;", "de-DE"} {
		_, err := ParseCSVLocale(in)
		if err == nil || !strings.Contains(err.Error(), "want one of id, default") {
			t.Errorf("ParseCSVLocale(%q) = %v, want an error naming id and default", in, err)
		}
	}
}

func FuzzParseCSVLocale(f *testing.F) {
	for _, s := range []string{"", "id", "ID", "default", "en", " id ", "id-ID", strings.Repeat("x", 100), "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseCSVLocale(s)
		if err != nil {
			if got != "" || !strings.Contains(err.Error(), "want one of id, default") || len(err.Error()) > 300 {
				t.Fatalf("ParseCSVLocale(%q) = %q, %v", s, got, err)
			}
			return
		}
		if got != CSVLocaleDefault && got != CSVLocaleID {
			t.Fatalf("ParseCSVLocale(%q) = %q", s, got)
		}
	})
}
