package webui

import (
	"net/http"
	"net/url"
	"strconv"
)

func init() {
	texts(map[string][2]string{
		"pager.label": {"Halaman", "Pages"},
		"pager.prev":  {"‹ Sebelumnya", "‹ Previous"},
		"pager.next":  {"Berikutnya ›", "Next ›"},
		"pager.of":    {"halaman %d dari %d (%d baris)", "page %d of %d (%d rows)"},
	})
}

// Pager is a list's place among its pages: page Page (from 1) of Pages
// over Total rows, the rows From..To (from 1) shown, and the addresses
// of the previous and next pages ("" at either end). The "pager"
// template of layout.html draws it.
type Pager struct {
	Page, Pages, Total int
	From, To           int
	Prev, Next         string
}

// paginate returns the rows of the page that r's query parameter param
// names (the first when it is absent, not a number or below 1; the last
// when beyond it) with per rows a page, and its pager. The other pages'
// addresses keep r's other parameters, except a flash message (ok).
func paginate[T any](r *http.Request, rows []T, per int, param string) ([]T, Pager) {
	p := Pager{Page: 1, Total: len(rows), Pages: max(1, (len(rows)+per-1)/per)}
	if n, err := strconv.Atoi(r.URL.Query().Get(param)); err == nil && n > 1 {
		p.Page = min(n, p.Pages)
	}
	link := func(n int) string {
		q := url.Values{}
		for k, v := range r.URL.Query() {
			if k != param && k != "ok" && len(v) > 0 && v[0] != "" {
				q.Set(k, v[0])
			}
		}
		if n > 1 {
			q.Set(param, strconv.Itoa(n))
		}
		if len(q) == 0 {
			return r.URL.Path
		}
		return r.URL.Path + "?" + q.Encode()
	}
	if p.Page > 1 {
		p.Prev = link(p.Page - 1)
	}
	if p.Page < p.Pages {
		p.Next = link(p.Page + 1)
	}
	lo := (p.Page - 1) * per
	hi := min(len(rows), lo+per)
	p.From, p.To = min(lo+1, hi), hi
	return rows[lo:hi], p
}
