package calendar

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestBuiltin(t *testing.T) {
	c := Builtin()
	if got := c.Years(); len(got) != 2 || got[0] != 2026 || got[1] != 2027 {
		t.Fatalf("years %v, want [2026 2027]", got)
	}
	for _, d := range []string{"2026-01-01", "2026-03-20", "2026-08-17", "2026-12-24", "2026-12-25", "2027-08-17"} {
		tm, _ := time.Parse("2006-01-02", d)
		if !c.IsHoliday(tm.Year(), tm.Month(), tm.Day()) {
			t.Errorf("%s is not a holiday", d)
		}
	}
	for _, d := range []string{"2026-08-18", "2026-10-05", "2028-01-01"} {
		tm, _ := time.Parse("2006-01-02", d)
		if c.IsHoliday(tm.Year(), tm.Month(), tm.Day()) {
			t.Errorf("%s is a holiday", d)
		}
	}
	if c.Has(2028) || !c.Has(2026) {
		t.Error("Has")
	}
	if c.Year(2026).Provisional || !c.Year(2027).Provisional {
		t.Error("2026 is the SKB's; 2027 is provisional until its SKB")
	}
}

func TestLoadDirectory(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// adds a libur daerah to 2026, replaces 2027, adds 2028
	write("holidays-2026.yml", "year: 2026\nmode: add\nholidays:\n  - {date: 2026-10-12, kind: libur_daerah, name: HUT Kabupaten}\n")
	write("holidays-2027.yml", "year: 2027\nsource: SKB 2027\nholidays:\n  - {date: 2027-12-24, kind: cuti_bersama, name: Cuti bersama Natal}\n")
	write("2028.yaml", "year: 2028\nholidays: []\n")
	c, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	day := func(y int, m time.Month, d int) bool { return c.IsHoliday(y, m, d) }
	if !day(2026, 10, 12) || !day(2026, 8, 17) {
		t.Error("mode add keeps the built-in days and adds the file's")
	}
	if day(2027, 8, 17) || !day(2027, 12, 24) || c.Year(2027).Provisional {
		t.Error("a file replaces its built-in year")
	}
	if !c.Has(2028) {
		t.Error("a file adds its year")
	}
}

func TestParseErrors(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "bad.yml")
	os.WriteFile(p, []byte("year: 2026\nholidays:\n  - {date: 2027-01-01, kind: libur_nasional, name: x}\n  - {date: 2026-13-01, kind: libur, name: y}\n  - {date: 2026-05-01, kind: cuti_bersama}\n  - {date: 2026-05-01, kind: cuti_bersama, name: z}\n"), 0o644)
	_, err := Load(dir)
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{
		p + ":3:12: holidays[0].date: 2027-01-01 is not in the file's year 2026",
		p + ":4:12: holidays[1].date: must be a date",
		p + ":4:30: holidays[1].kind: must be one of",
		p + ":5:5: holidays[2].name: required",
		p + ":6:12: holidays[3].date: 2026-05-01 is already listed as holidays[2]",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in\n%v", want, err)
		}
	}
	if _, err := Parse("x.yml", []byte("year: 2026\nholiday: []\n")); err == nil || !strings.Contains(err.Error(), "x.yml:2:1") {
		t.Errorf("unknown key: %v", err)
	}
	if _, err := Load(filepath.Join(dir, "missing")); err == nil || !strings.Contains(err.Error(), "report.holidays_dir") {
		t.Errorf("missing directory: %v", err)
	}
}

// FuzzParse: Parse never panics, and what it accepts has valid dates in
// its year.
func FuzzParse(f *testing.F) {
	for _, n := range []string{"holidays-2026.yml", "holidays-2027.yml"} {
		b, _ := embedded.ReadFile(n)
		f.Add(b)
	}
	f.Add([]byte("year: 2030\nmode: add\nholidays: [{date: 2030-02-29, kind: libur_daerah, name: x}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		y, err := Parse("fuzz.yml", data)
		if err != nil {
			return
		}
		for _, h := range y.Holidays {
			d, err := time.Parse("2006-01-02", h.Date)
			if err != nil || d.Year() != y.Year {
				t.Fatalf("accepted %q in year %d", h.Date, y.Year)
			}
		}
	})
}
