package webui

import (
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// fuzzUI is a UI with a fixed clock and the Pemda's zone, for the
// parsers that read its options.
func fuzzUI() *UI {
	wit := time.FixedZone("WIT", 9*3600)
	now := time.Date(2026, 12, 7, 14, 5, 0, 0, wit)
	return &UI{o: Options{Zone: func() *time.Location { return wit }, Now: func() time.Time { return now }}}
}

// fuzzCtx is a GET of target with the query and path value id.
func fuzzCtx(t *testing.T, u *UI, target, id string) *Ctx {
	r, err := http.NewRequest("GET", "/ui/x", nil)
	if err != nil {
		t.Fatal(err)
	}
	r.URL.RawQuery = target
	r.SetPathValue("id", id)
	return &Ctx{u: u, R: r, Lang: LangID}
}

// FuzzPeriod: any ?from=&to= of the outages page gives a period whose
// start is not after its end, written as days, and flags what it could
// not read.
func FuzzPeriod(f *testing.F) {
	for _, s := range [][2]string{{"", ""}, {"2026-12-01", "2026-12-07"}, {"2026-13-45", ""}, {"9999-12-31", "0001-01-01"},
		{" 2026-12-01 ", "2026-12-01"}, {"2026-12-01T00:00", "x"}, {"\xff", "\x00"}} {
		f.Add(s[0], s[1])
	}
	u := fuzzUI()
	f.Fuzz(func(t *testing.T, from, to string) {
		a, b, as, bs, ok := u.period(url.Values{"from": {from}, "to": {to}})
		if ok && a.After(b) {
			t.Fatalf("period(%q, %q) = %v .. %v", from, to, a, b)
		}
		for _, s := range []string{as, bs} {
			if _, err := time.Parse("2006-01-02", s); err != nil {
				t.Fatalf("period(%q, %q) writes %q", from, to, s)
			}
		}
		if ok && strings.TrimSpace(from) != "" && strings.TrimSpace(from) != as {
			t.Fatalf("period(%q, %q): from read as %q", from, to, as)
		}
	})
}

// FuzzFormTime: a datetime-local value becomes RFC 3339 in the Pemda's
// zone; anything else is passed on trimmed, for the API to name.
func FuzzFormTime(f *testing.F) {
	for _, s := range []string{"", "2026-12-07T14:05", "2026-12-07T14:05:59", " 2026-12-07T14:05 ", "2026-02-30T10:00", "x", "\xff", "0000-01-01T00:00"} {
		f.Add(s)
	}
	u := fuzzUI()
	f.Fuzz(func(t *testing.T, v string) {
		c := fuzzCtx(t, u, "", "")
		got := c.formTime(v)
		if got == strings.TrimSpace(v) {
			return
		}
		if _, err := time.Parse(time.RFC3339, got); err != nil {
			t.Fatalf("formTime(%q) = %q", v, got)
		}
	})
}

// FuzzPagers: any ?hal= / ?page= / ?rhal= gives a page within the list,
// and the pagers' links stay on their page of the UI.
func FuzzPagers(f *testing.F) {
	for _, s := range []string{"", "1", "2", "-1", "0", "99999999999999999999", "1e3", " 3", "\xff", "2&hal=3"} {
		f.Add(s, uint16(250))
	}
	u := fuzzUI()
	f.Fuzz(func(t *testing.T, v string, n uint16) {
		rows := make([]int, n)
		q := url.Values{"hal": {v}, "page": {v}, "rhal": {v}, "from": {v}}
		c := fuzzCtx(t, u, q.Encode(), "")
		got, p := paginate(c.R, rows, maxListed, "hal")
		if p.Page < 1 || p.Page > p.Pages || len(got) > maxListed || (n > 0 && len(got) == 0) {
			t.Fatalf("paginate(hal=%q, %d rows): page %d of %d, %d rows", v, n, p.Page, p.Pages, len(got))
		}
		for _, l := range []string{p.Prev, p.Next} {
			if l != "" && !strings.HasPrefix(l, "/ui/x") {
				t.Fatalf("paginate(hal=%q): link %q", v, l)
			}
		}
		last := max(1, (int(n)+49)/50)
		k := rowPageOf(q, last)
		if k < 1 || k > last {
			t.Fatalf("rowPageOf(page=%q, %d) = %d", v, last, k)
		}
		rp := newRowPager("/ui/audit", q, k, 50, int(n))
		if rp.First < 1 || (rp.First <= int(n) && rp.Last < rp.First) || rp.Last > int(n) {
			t.Fatalf("newRowPager(page %d, %d rows) = %+v", k, n, rp)
		}
		for _, l := range []string{rp.Prev, rp.Next} {
			if l != "" && !strings.HasPrefix(l, "/ui/audit") {
				t.Fatalf("newRowPager: link %q", l)
			}
		}
	})
}

// FuzzReviuPathID: only a canonical positive decimal is an id; anything
// else is a 404.
func FuzzReviuPathID(f *testing.F) {
	for _, s := range []string{"1", "01", "-1", "0", "+1", "9223372036854775807", "9223372036854775808", "1%2F..", "", " 1"} {
		f.Add(s)
	}
	u := fuzzUI()
	f.Fuzz(func(t *testing.T, s string) {
		id, err := reviuPathID(fuzzCtx(t, u, "", s), "reviu.notfound")
		if err != nil {
			if ae, ok := err.(*APIError); !ok || ae.Status != http.StatusNotFound {
				t.Fatalf("reviuPathID(%q): %v", s, err)
			}
			return
		}
		if id <= 0 || strconv.FormatInt(id, 10) != s {
			t.Fatalf("reviuPathID(%q) = %d", s, id)
		}
	})
}

// FuzzCSVName: an upload's file name, as the preview's problems quote
// it, is one short name: no directory, no control character, never
// empty.
func FuzzCSVName(f *testing.F) {
	for _, s := range []string{"", "sites.csv", "../../etc/passwd", `C:\Users\x\sites.csv`, "a\r\nb.csv", "/", ".", "\xff.csv", strings.Repeat("n", 300)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := csvName(s)
		if got == "" || strings.ContainsAny(got, `/\:`) || utf8.RuneCountInString(got) > 100 {
			t.Fatalf("csvName(%q) = %q", s, got)
		}
		for _, r := range got {
			if unicode.IsControl(r) {
				t.Fatalf("csvName(%q) = %q has a control character", s, got)
			}
		}
	})
}

var linkIDRE = regexp.MustCompile(`^[a-z0-9._-]{0,64}$`)

// FuzzSuggestID: the id "Jadikan link" suggests is an inventory id (or
// empty) whatever the series' site, target and interface.
func FuzzSuggestID(f *testing.F) {
	for _, s := range [][3]string{{"dinkes", "10.0.0.1", ""}, {"", "", ""}, {"S", "sw-1", "Gi0/1"}, {"\xff", "é", strings.Repeat("x", 100)}} {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, a, b, c string) {
		if got := suggestID(a, b, c); !linkIDRE.MatchString(got) {
			t.Fatalf("suggestID(%q, %q, %q) = %q", a, b, c, got)
		}
	})
}

// FuzzAddLink: whatever the link form holds (UTF-8, as the page checks),
// the merged inventory is YAML with one link more.
func FuzzAddLink(f *testing.F) {
	cur := []byte(currentInv)
	for _, s := range [][3]string{{"baru", "dinkes", "10.0.0.9"}, {"", "", ""}, {"a: b", "- x", "{y}"}, {"'", "\"", "\x00"}, {"&a", "*a", "!!binary"}} {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, id, site, target string) {
		if !utf8.ValidString(id) || !utf8.ValidString(site) || !utf8.ValidString(target) {
			return // the page refuses it (inventarisAddLink)
		}
		out, err := addLink(cur, [][2]string{{"id", id}, {"site", site}, {"icmp.target", target}})
		if err != nil {
			t.Fatalf("addLink(%q, %q, %q): %v", id, site, target, err)
		}
		var doc struct {
			Links []map[string]any `yaml:"links"`
		}
		if err := yaml.Unmarshal(out, &doc); err != nil || len(doc.Links) != 3 {
			t.Fatalf("addLink(%q, %q, %q): %d links, %v\n%s", id, site, target, len(doc.Links), err, out)
		}
	})
}
