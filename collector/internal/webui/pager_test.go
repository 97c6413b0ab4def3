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
