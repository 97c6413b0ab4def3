package httpapi

import (
	"bytes"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/pantau-noc/pantau/collector/internal/statedb"
)

// FuzzClassifyEvidence: whatever the bytes and the name, the check
// answers an allowed type or ErrEvidenceType, never panics, never takes
// markup for text, and the name's extension agrees with the type.
func FuzzClassifyEvidence(f *testing.F) {
	f.Add([]byte("plain text\n"), "a.txt")
	f.Add([]byte("a,b\n1,2\n"), "a.csv")
	f.Add(pdfData, "ba.pdf")
	f.Add(pngData, "x.png")
	f.Add(jpegData, "")
	f.Add([]byte("<html><script>alert(1)</script>"), "x.pdf")
	f.Add([]byte(`<svg onload="alert(1)"/>`), "x.txt")
	f.Add([]byte("#!/bin/sh\n"), "x.txt")
	f.Add([]byte("\xef\xbb\xbf<?xml?>"), "x.txt")
	f.Add(zipOf(f, "[Content_Types].xml", "xl/workbook.xml"), "a.xlsx")
	f.Add(zipOf(f, "[Content_Types].xml", "word/document.xml", "word/vbaProject.bin"), "a.docx")
	f.Add([]byte("PK\x03\x04garbage"), "a.xlsx")
	f.Fuzz(func(t *testing.T, data []byte, name string) {
		typ, err := ClassifyEvidence(name, bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return
		}
		if _, ok := typeExt[typ]; !ok {
			t.Fatalf("type %q is not allowed", typ)
		}
		if ext := filepath.Ext(name); name != "" && extTypes[strings.ToLower(ext)] != typ {
			t.Fatalf("name %q accepted as %s", name, typ)
		}
		if typ == TypeText || typ == TypeCSV {
			low := strings.ToLower(string(data))
			for _, m := range []string{"<html", "<svg", "<script", "<?xml", "<!doctype", "<body"} {
				if strings.Contains(low, m) {
					t.Fatalf("text with %s accepted: %q", m, data)
				}
			}
			if !utf8.Valid(data) {
				t.Fatalf("text that is not UTF-8 accepted: %q", data)
			}
		}
	})
}

// FuzzRequestParams: the parsers of path ids, alert ids, evidence ids,
// months, dates, window times and the query parameters never panic and
// accept only what they promise.
func FuzzRequestParams(f *testing.F) {
	for _, s := range []string{"12", "0", "012", "-1", "+3", "9223372036854775807", "9223372036854775808", "abc",
		"0123456789abcdef", "ABCD", "abc", strings.Repeat("a", 64), strings.Repeat("G", 64),
		"2026-10", "2026-13", "2026-Q4", "2026-Q0", "2026-12", "0000-Q1", "2026-10-20", "2026-02-30", "2026-10-20T08:30", "2026-10-20T08:30:00+09:00", "",
		"from=2026-01&to=2026-12", "from=2026-01&from=2026-02", "to=%zz", "as_of=2026-10-01;x=1"} {
		f.Add(s)
	}
	loc := time.FixedZone("WIT", 9*3600)
	f.Fuzz(func(t *testing.T, s string) {
		if id, err := ParseID(s); err == nil && (id <= 0 || strconv.FormatInt(id, 10) != s) {
			t.Fatalf("ParseID(%q) = %d", s, id)
		}
		if fp, err := ParseFingerprint(s); err == nil && (len(fp) < 4 || len(fp) > 16 || strings.Trim(fp, "0123456789abcdef") != "") {
			t.Fatalf("ParseFingerprint(%q) = %q", s, fp)
		}
		if sha, err := ParseSHA256(s); err == nil && (len(sha) != 64 || strings.Trim(sha, "0123456789abcdef") != "") {
			t.Fatalf("ParseSHA256(%q) = %q", s, sha)
		}
		if ParseMonth("m", s) == nil {
			if _, err := time.Parse("2006-01", s); err != nil {
				t.Fatalf("ParseMonth accepted %q", s)
			}
		}
		if m, err := statedb.ReviewMonth(statedb.KindQuarterly, s); err == nil {
			tm, perr := time.Parse("2006-01", m)
			if perr != nil || tm.Month()%3 != 0 {
				t.Fatalf("quarterly review of %q stored under %q", s, m)
			}
			if p := statedb.ReviewPeriod(statedb.KindQuarterly, m); p != s && m != s {
				t.Fatalf("quarterly review of %q: month %q, period %q", s, m, p)
			}
		}
		if ParseDate("d", s) == nil && len(s) != 10 {
			t.Fatalf("ParseDate accepted %q", s)
		}
		if tm, err := ParseWindowTime("start", s, loc); err == nil && tm.Location() != loc {
			t.Fatalf("ParseWindowTime(%q) is in %s, want %s", s, tm.Location(), loc)
		} else if err != nil && !strings.HasPrefix(err.Error(), "start ") {
			t.Fatalf("ParseWindowTime error does not name the field: %v", err)
		}
		r := httptest.NewRequest("GET", "/api/v1/reviews", nil)
		r.URL.RawQuery = s
		from, to, err := monthRange(r)
		if err != nil {
			return
		}
		q, _ := url.ParseQuery(s)
		for _, c := range []struct{ name, got, def string }{{"from", from, "0000-00"}, {"to", to, "9999-99"}} {
			if _, given := q[c.name]; (!given || q.Get(c.name) == "") && c.got != c.def {
				t.Fatalf("%s defaulted to %q", c.name, c.got)
			}
			if c.got != c.def && ParseMonth(c.name, c.got) != nil {
				t.Fatalf("%s = %q accepted", c.name, c.got)
			}
		}
	})
}
