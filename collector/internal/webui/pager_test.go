package webui

import (
	"net/http/httptest"
	"testing"
)

func TestPaginate(t *testing.T) {
	rows := make([]int, 25)
	for i := range rows {
		rows[i] = i
	}
	f := func(n int, target string, wantFirst, wantLen int, want Pager) {
		t.Helper()
		r := httptest.NewRequest("GET", target, nil)
		got, pg := paginate(r, rows[:n], 10, "thal")
		if len(got) != wantLen || (wantLen > 0 && got[0] != wantFirst) || pg != want {
			t.Errorf("%d rows, %s: %d rows from %v, %+v; want %d from %d, %+v", n, target, len(got), got, pg, wantLen, wantFirst, want)
		}
	}
	f(0, "/ui/reviu", 0, 0, Pager{Page: 1, Pages: 1})
	f(25, "/ui/reviu", 0, 10, Pager{Page: 1, Pages: 3, Total: 25, From: 1, To: 10, Next: "/ui/reviu?thal=2"})
	f(25, "/ui/reviu?thal=2&tampil=semua&ok=reviu.added", 10, 10, Pager{Page: 2, Pages: 3, Total: 25, From: 11, To: 20,
		Prev: "/ui/reviu?tampil=semua", Next: "/ui/reviu?tampil=semua&thal=3"})
	f(25, "/ui/reviu?thal=99", 20, 5, Pager{Page: 3, Pages: 3, Total: 25, From: 21, To: 25, Prev: "/ui/reviu?thal=2"})
	f(25, "/ui/reviu?thal=-4", 0, 10, Pager{Page: 1, Pages: 3, Total: 25, From: 1, To: 10, Next: "/ui/reviu?thal=2"})
	f(25, "/ui/reviu?thal=x&rhal=2", 0, 10, Pager{Page: 1, Pages: 3, Total: 25, From: 1, To: 10, Next: "/ui/reviu?rhal=2&thal=2"})
}

// FuzzPaginate: any page parameter gives a page within the rows and
// links that stay on the page's path.
func FuzzPaginate(f *testing.F) {
	for _, s := range []string{"1", "0", "-1", "99999999999999999999", "2", "x", "3&hal=4"} {
		f.Add(s, 25)
	}
	f.Fuzz(func(t *testing.T, page string, n int) {
		if n < 0 || n > 1000 {
			return
		}
		r := httptest.NewRequest("GET", "/ui/reviu", nil)
		q := r.URL.Query()
		q.Set("hal", page)
		r.URL.RawQuery = q.Encode()
		got, pg := paginate(r, make([]int, n), 10, "hal")
		if len(got) > 10 || pg.Page < 1 || pg.Page > pg.Pages || pg.Total != n || len(got) != pg.To-pg.From+1 && n > 0 {
			t.Fatalf("page %q of %d rows: %d rows, %+v", page, n, len(got), pg)
		}
		for _, l := range []string{pg.Prev, pg.Next} {
			if l != "" && (len(l) < len("/ui/reviu") || l[:len("/ui/reviu")] != "/ui/reviu") {
				t.Fatalf("link %q leaves the page", l)
			}
		}
	})
}
