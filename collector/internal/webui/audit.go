package webui

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

func init() {
	texts(map[string][2]string{
		"audit.title":     {"Log audit", "Audit log"},
		"audit.intro":     {"Setiap perubahan lewat API, halaman ini dan baris perintah, terbaru dahulu.", "Every change made through the API, these pages and the command line, newest first."},
		"audit.since":     {"Sejak (tanggal, UTC)", "Since (date, UTC)"},
		"audit.until":     {"Sampai (tanggal, termasuk)", "Until (date, inclusive)"},
		"audit.filter":    {"Tampilkan", "Show"},
		"audit.bad":       {"Saringan tidak dapat dipakai", "The filter cannot be used"},
		"audit.at":        {"Waktu", "When"},
		"audit.actor":     {"Pelaku", "Who"},
		"audit.source":    {"Dari", "From"},
		"audit.action":    {"Tindakan", "Action"},
		"audit.object":    {"Objek", "Object"},
		"audit.summary":   {"Ringkasan", "Summary"},
		"audit.count":     {"Baris %d–%d", "Rows %d–%d"},
		"audit.clipped":   {"(dipotong; lengkapnya di GET /api/v1/audit atau pantau-collector audit list)", "(clipped; in full from GET /api/v1/audit or pantau-collector audit list)"},
		"audit.caption":   {"Log audit, terbaru dahulu", "Audit log, newest first"},
		"home.pager.prev": {"← Sebelumnya", "← Previous"},
		"home.pager.next": {"Berikutnya →", "Next →"},
		"home.pager.nav":  {"Halaman", "Pages"},
	})
	page("GET /ui/audit", func(u *UI) func(*Ctx) error { return u.audit })
}

// auditPerPage rows are shown per page; the API returns at most
// maxAuditRows, so a page beyond that is empty.
const (
	auditPerPage = 100
	maxAuditRows = 10000
)

// auditRow is an entry of GET /api/v1/audit.
type auditRow struct {
	ID        int64     `json:"id"`
	At        time.Time `json:"at"`
	ActorKind string    `json:"actor_kind"`
	ActorID   string    `json:"actor_id"`
	ActorName string    `json:"actor_name"`
	Source    string    `json:"source"`
	Action    string    `json:"action"`
	Object    string    `json:"object"`
	Summary   string    `json:"summary"`
	// Clipped: the page shows a part of the summary (the API and
	// `pantau-collector audit list` have it whole).
	Clipped bool `json:"-"`
}

// auditSummaryRunes is how much of a summary (up to 4 KiB, mostly JSON)
// a row shows, so that 100 rows stay well under 150 KB.
const auditSummaryRunes = 300

// auditPage is the audit page's data.
type auditPage struct {
	Since, Until string
	Rows         []auditRow
	Pg           rowPager
}

// rowPager links the pages of a list kept in a GET form's query.
type rowPager struct {
	Page, First, Last int  // the page (from 1) and its rows' numbers
	More              bool // there is a next page
	Prev, Next        string
}

// newRowPager is the pager of page n (from 1) over rows rows fetched with
// one row beyond the page (to know there is more), q being the filter.
func newRowPager(path string, q url.Values, n, per, rows int) rowPager {
	p := rowPager{Page: n, First: (n-1)*per + 1, Last: min(rows, n*per), More: rows > n*per}
	link := func(k int) string {
		v := url.Values{}
		for key, vals := range q {
			if key != "page" && key != "ok" && key != "uji" && len(vals) > 0 && vals[0] != "" {
				v.Set(key, vals[0])
			}
		}
		if k > 1 {
			v.Set("page", strconv.Itoa(k))
		}
		if len(v) == 0 {
			return path
		}
		return path + "?" + v.Encode()
	}
	if n > 1 {
		p.Prev = link(n - 1)
	}
	if p.More {
		p.Next = link(n + 1)
	}
	return p
}

// rowPageOf reads ?page= (1 when absent or bad), bounded by last.
func rowPageOf(q url.Values, last int) int {
	n, err := strconv.Atoi(q.Get("page"))
	if err != nil || n < 1 {
		return 1
	}
	return min(n, last)
}

func (u *UI) audit(c *Ctx) error {
	q := c.R.URL.Query()
	d := &auditPage{Since: q.Get("since"), Until: q.Get("until")}
	n := rowPageOf(q, maxAuditRows/auditPerPage)
	api := url.Values{"limit": {strconv.Itoa(min(n*auditPerPage+1, maxAuditRows))}}
	if d.Since != "" {
		api.Set("since", d.Since)
	}
	if d.Until != "" {
		api.Set("until", d.Until)
	}
	pg := &Page{Title: c.T("audit.title"), Data: d}
	var rows []auditRow
	if err := c.API("GET", "/api/v1/audit?"+api.Encode(), nil, &rows); err != nil {
		var ae *APIError
		if !errors.As(err, &ae) || ae.Status != http.StatusBadRequest {
			return err
		}
		c.Status, pg.Error = ae.Status, c.T("audit.bad")+": "+ae.Msg
		c.RenderPage("audit", pg)
		return nil
	}
	d.Pg = newRowPager("/ui/audit", q, n, auditPerPage, len(rows))
	if d.Pg.First <= len(rows) {
		d.Rows = rows[d.Pg.First-1 : d.Pg.Last]
	}
	for i := range d.Rows {
		r := &d.Rows[i]
		short := clipRunes(r.Summary, auditSummaryRunes)
		r.Clipped = short != r.Summary
		r.Summary, r.Action, r.Object = short, clipRunes(r.Action, 200), clipRunes(r.Object, 200)
	}
	c.RenderPage("audit", pg)
	return nil
}
