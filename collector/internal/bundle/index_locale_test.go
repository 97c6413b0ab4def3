package bundle

import (
	"strings"
	"testing"
)

// TestBundleIndexLocale: the index writes file sizes, the period and its
// date as the report does in the bundle's language: thousands dots,
// "Triwulan IV 2026" and "7 Desember 2026" in Indonesian; thousands
// commas, "Q4 2026" and "7 December 2026" in English.
func TestBundleIndexLocale(t *testing.T) {
	f := newFixture(t)
	for _, c := range []struct {
		lang, sep, period, date string
	}{
		{"id", ".", "Triwulan IV 2026", "7 Desember 2026 09:00 UTC"},
		{"en", ",", "Q4 2026", "7 December 2026 09:00 UTC"},
	} {
		b, _ := build(t, f.input(&fakeProducts{}), Params{Period: "2026-Q4", Indicator: 28, Lang: c.lang}, Scope{}, Limits{})
		files, _, man := unzip(t, b)
		idx := string(files["index.html"])
		checked := 0
		for _, fi := range man.Files {
			if fi.Size < 1000 || !strings.Contains(fi.Path, "/") { // index.html does not list itself
				continue
			}
			// e.g. 12345 bytes: "12.345" (id), "12,345" (en)
			s := itoa(fi.Size)
			want := s[:len(s)-3] + c.sep + s[len(s)-3:]
			if fi.Size >= 1000000 {
				t.Fatalf("%s: %d bytes, the test handles sizes below 1,000,000", fi.Path, fi.Size)
			}
			if !strings.Contains(idx, "<td>"+want+"</td>") || strings.Contains(idx, "<td>"+s+"</td>") {
				t.Errorf("%s: index lacks the size %s of %s (or has it unformatted)", c.lang, want, fi.Path)
			}
			checked++
		}
		if checked == 0 {
			t.Fatalf("%s: no file of 1,000 bytes or more in the bundle to check", c.lang)
		}
		for _, s := range []string{"<td>" + c.period + "</td>", "<td>" + c.date + "</td>"} {
			if !strings.Contains(idx, s) {
				t.Errorf("%s: index lacks %q", c.lang, s)
			}
		}
	}
}

func itoa(n int64) string {
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

// TestBundleIndexOPDName: a bundle of one OPD, or of a credential's
// OPDs, names them in the index as the inventory does ("Dinas Kesehatan
// (dinkes)"), not by the bare id; an OPD without a name keeps its id.
func TestBundleIndexOPDName(t *testing.T) {
	f := newFixture(t)
	names := map[string]string{"dinkes": "Dinas Kesehatan"}
	for _, c := range []struct {
		scope Scope
		want  string
	}{
		{Scope{OPD: "dinkes", Reader: []string{"dinkes"}}, "<td>OPD Dinas Kesehatan (dinkes)</td>"},
		{Scope{OPDs: []string{"dinkes", "dishub"}, Reader: []string{"dinkes", "dishub"}}, "<td>OPD Dinas Kesehatan (dinkes), dishub</td>"},
	} {
		in := f.input(&fakeProducts{})
		in.OPDName = func(id string) string { return names[id] }
		b, _ := build(t, in, Params{Period: "2026", Indicator: 28, Lang: "id"}, c.scope, Limits{})
		files, _, _ := unzip(t, b)
		if idx := string(files["index.html"]); !strings.Contains(idx, c.want) {
			t.Errorf("scope %+v: index lacks %q", c.scope, c.want)
		}
	}
}
