package report

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/pantau-noc/pantau/internal/golden"
)

func renderHTML(t *testing.T, lang string) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := WriteHTML(&b, fixtureReport(lang)); err != nil {
		t.Fatalf("WriteHTML(%s): %v", lang, err)
	}
	return b.Bytes()
}

func TestHTMLGolden(t *testing.T) {
	for _, lang := range []string{LangID, LangEN} {
		t.Run(lang, func(t *testing.T) {
			got := renderHTML(t, lang)
			path := filepath.Join("testdata", "render", "report."+lang+".html")
			want := golden.Want(t, path, got)
			if !bytes.Equal(got, want) {
				gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
				for i := 0; i < max(len(gl), len(wl)); i++ {
					var g, w string
					if i < len(gl) {
						g = gl[i]
					}
					if i < len(wl) {
						w = wl[i]
					}
					if g != w {
						t.Fatalf("HTML differs from %s at line %d:\n got: %q\nwant: %q\n(run go test -run HTMLGolden -update after checking the change)", path, i+1, g, w)
					}
				}
			}
		})
	}
}

// nodeText is the text content of n and its descendants.
func nodeText(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return b.String()
}

func nodeAttr(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

// findElements returns the elements under n whose tag is tag.
func findElements(n *html.Node, tag string) []*html.Node {
	var out []*html.Node
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == tag {
			out = append(out, n)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return out
}

func TestHTMLStructure(t *testing.T) {
	for _, lang := range []string{LangID, LangEN} {
		t.Run(lang, func(t *testing.T) {
			out := renderHTML(t, lang)
			doc, err := html.Parse(bytes.NewReader(out))
			if err != nil {
				t.Fatal(err)
			}
			r := fixtureReport(lang)

			htmlEl := findElements(doc, "html")
			if len(htmlEl) != 1 {
				t.Fatalf("%d <html> elements", len(htmlEl))
			}
			if l, _ := nodeAttr(htmlEl[0], "lang"); l != lang {
				t.Errorf("<html lang=%q>, want %q", l, lang)
			}
			if metas := findElements(doc, "meta"); len(metas) == 0 {
				t.Error("no <meta>")
			} else if cs, _ := nodeAttr(metas[0], "charset"); !strings.EqualFold(cs, "utf-8") {
				t.Errorf("first <meta> is not charset=utf-8: %v", metas[0].Attr)
			}

			// No script and no external resource of any kind.
			if s := findElements(doc, "script"); len(s) > 0 {
				t.Errorf("%d <script> elements", len(s))
			}
			for _, tag := range []string{"link", "img", "iframe", "object", "embed", "base", "image", "use"} {
				if n := findElements(doc, tag); len(n) > 0 {
					t.Errorf("%d <%s> elements (the page must be self-contained)", len(n), tag)
				}
			}
			var walk func(*html.Node)
			walk = func(n *html.Node) {
				if n.Type == html.ElementNode {
					for _, a := range n.Attr {
						if strings.HasPrefix(a.Key, "on") {
							t.Errorf("<%s %s=...>: event handler attribute", n.Data, a.Key)
						}
						if (a.Key == "href" || a.Key == "src") && !strings.HasPrefix(a.Val, "#") {
							t.Errorf("<%s %s=%q>: not a link within the page", n.Data, a.Key, a.Val)
						}
					}
				}
				for c := n.FirstChild; c != nil; c = c.NextSibling {
					walk(c)
				}
			}
			walk(doc)
			if bytes.Contains(bytes.ToLower(out), []byte("javascript:")) || bytes.Contains(out, []byte("url(")) {
				t.Error("javascript: URL or CSS url() in the page")
			}
			styles := findElements(doc, "style")
			if len(styles) != 1 || !strings.Contains(nodeText(styles[0]), "@media print") || !strings.Contains(nodeText(styles[0]), "size: A4") {
				t.Error("no single <style> with @media print and an A4 @page")
			}

			// Charts: three SVGs, each role=img with a title.
			svgs := findElements(doc, "svg")
			if len(svgs) != 3 {
				t.Errorf("%d <svg>, want 3 charts", len(svgs))
			}
			for i, s := range svgs {
				if role, _ := nodeAttr(s, "role"); role != "img" {
					t.Errorf("svg %d: role=%q, want img", i, role)
				}
				var title *html.Node
				for c := s.FirstChild; c != nil; c = c.NextSibling {
					if c.Type == html.ElementNode && c.Data == "title" {
						title = c
						break
					}
				}
				if title == nil || strings.TrimSpace(nodeText(title)) == "" {
					t.Errorf("svg %d has no <title> child with text", i)
				}
			}
			// Daily strip: one box per link and day, grey for the nil days.
			days, grey := 0, 0
			for _, rect := range findElements(svgs[1], "rect") {
				if title := findElements(rect, "title"); len(title) == 1 {
					days++
					if fill, _ := nodeAttr(rect, "fill"); fill == colNoData {
						grey++
					}
				}
			}
			if days != 3*31 || grey != 3 {
				t.Errorf("daily strip: %d day boxes (%d grey), want %d (3 grey)", days, grey, 3*31)
			}

			// Every table's title and header texts are on the page.
			var headers []string
			for _, th := range findElements(doc, "th") {
				headers = append(headers, strings.TrimSpace(nodeText(th)))
			}
			heads := map[string]bool{}
			for _, h := range headers {
				heads[h] = true
			}
			body := nodeText(doc)
			for _, tb := range r.Tables() {
				if tb.Name != "summary" && !strings.Contains(body, tb.Title) {
					t.Errorf("table title %q missing", tb.Title)
				}
				for _, c := range tb.Columns {
					if !heads[c] {
						t.Errorf("table %s: header %q missing", tb.Name, c)
					}
				}
			}
			tables := findElements(doc, "table")
			if want := len(r.Tables()) + 1; len(tables) != want { // + not monitored
				t.Errorf("%d tables, want %d", len(tables), want)
			}
			for _, tb := range tables {
				if len(findElements(tb, "thead")) != 1 {
					t.Errorf("table %v without one <thead>", tb.Attr)
				}
			}

			// Content in the report's language, escaped user text, and
			// the no-score statement.
			var want, notWant []string
			if lang == LangID {
				want = []string{"Ketersediaan per Lokasi", "Ketersediaan jalur", "Belum Dipantau", "Kantor Distrik Waena", "Grafik", "tidak memberi nilai", "Rp 173.611", "Pemetaan ke Indikator SPBE"}
				notWant = []string{"Availability per Site", "Charts"}
			} else {
				want = []string{"Availability per Site", "Link availability", "Not Monitored", "Kantor Distrik Waena", "Charts", "assigns no SPBE score", "Rp 173,611", "Mapping to SPBE Indicators"}
				notWant = []string{"Ketersediaan per Lokasi", "Grafik"}
			}
			// figures as the language writes them (decimal comma in
			// Bahasa Indonesia), the period by its month's name
			if lang == LangID {
				want = append(want, "99,219\u00a0%", "98,015", "Oktober 2026")
				notWant = append(notWant, "99.219\u00a0%")
			} else {
				want = append(want, "99.219\u00a0%", "98.015", "October 2026")
				notWant = append(notWant, "99,219\u00a0%")
			}
			want = append(want, r.Title, r.Generator, "<14:00–16:00>", "Diskominfo (Bidang TIK) & Dinkes")
			for _, s := range want {
				if !strings.Contains(body, s) {
					t.Errorf("text %q missing", s)
				}
			}
			for _, s := range notWant {
				if strings.Contains(body, s) {
					t.Errorf("text %q of the other language present", s)
				}
			}
			if !bytes.Contains(out, []byte("&lt;14:00–16:00&gt;")) || !bytes.Contains(out, []byte("(Bidang TIK) &amp; Dinkes")) {
				t.Error("user text not escaped")
			}
		})
	}
}

func TestHTMLEmptyReport(t *testing.T) {
	// A report with nothing in it still renders, with no chart failing.
	r := &Report{Lang: LangEN, Title: "empty"}
	var b bytes.Buffer
	if err := WriteHTML(&b, r); err != nil {
		t.Fatal(err)
	}
	doc, err := html.Parse(&b)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(findElements(doc, atom.Svg.String())); n != 3 {
		t.Errorf("%d svg, want 3", n)
	}
	if !strings.Contains(nodeText(doc), "None.") {
		t.Error("no empty-table note")
	}
}
