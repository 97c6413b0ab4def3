package webui

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"
)

func init() {
	texts(map[string][2]string{
		"notif.title":        {"Notifikasi", "Notifications"},
		"notif.intro":        {"Pengirim notifikasi dari collector.yml dan antrean pesannya (outbox). Pengirim diatur di collector.yml saja.", "The notifiers of collector.yml and their message queue (outbox). Notifiers are configured in collector.yml only."},
		"notif.notifiers":    {"Pengirim", "Notifiers"},
		"notif.name":         {"Nama", "Name"},
		"notif.type":         {"Jenis", "Type"},
		"notif.pending":      {"Antre", "Pending"},
		"notif.sent":         {"Terkirim", "Sent"},
		"notif.failed":       {"Gagal", "Failed"},
		"notif.last_sent":    {"Terakhir terkirim", "Last sent"},
		"notif.last_error":   {"Kesalahan terakhir", "Last error"},
		"notif.counts":       {"Jumlah 30 hari terakhir.", "Counts over the last 30 days."},
		"notif.test":         {"Kirim uji", "Send a test"},
		"notif.test.lang":    {"Bahasa pesan uji ke %s", "Language of the test to %s"},
		"notif.test.bad":     {"Pesan uji tidak dapat dikirim", "The test message cannot be sent"},
		"notif.test.queued":  {"Pesan uji ke %s masuk antrean sebagai entri #%d; keadaannya sekarang: %s.", "The test message to %s is queued as entry #%d; its state now: %s."},
		"notif.none":         {"Tidak ada pengirim notifikasi di collector.yml (notifiers:).", "There are no notifiers in collector.yml (notifiers:)."},
		"notif.outbox":       {"Antrean (outbox)", "Outbox"},
		"notif.outbox.intro": {"Pesan yang diantrekan, terbaru dahulu; entri terkirim dan gagal disimpan 30 hari.", "Queued messages, newest first; sent and failed entries are kept 30 days."},
		"notif.filter":       {"Tampilkan", "Show"},
		"notif.any":          {"semua", "all"},
		"notif.f.notifier":   {"Pengirim", "Notifier"},
		"notif.f.state":      {"Keadaan", "State"},
		"notif.st.pending":   {"antre", "pending"},
		"notif.st.sent":      {"terkirim", "sent"},
		"notif.st.failed":    {"gagal", "failed"},
		"notif.id":           {"Entri", "Entry"},
		"notif.msg":          {"Pesan", "Message"},
		"notif.attempts":     {"Percobaan", "Attempts"},
		"notif.created":      {"Dibuat", "Created"},
		"notif.next":         {"Coba lagi", "Next attempt"},
		"notif.finished":     {"Selesai", "Finished"},
		"notif.error":        {"Kesalahan", "Error"},
		"notif.bad":          {"Saringan tidak dapat dipakai", "The filter cannot be used"},
		"notif.caption":      {"Antrean, entri %d–%d", "Outbox, entries %d–%d"},
		"notif.lang.id":      {"Bahasa Indonesia", "Bahasa Indonesia"},
		"notif.lang.en":      {"English", "English"},
	})
	flash(map[string][2]string{
		"notiftest": {"Pesan uji sudah masuk antrean.", "The test message is queued."},
	})
	page("GET /ui/notifikasi", func(u *UI) func(*Ctx) error { return u.notifikasi })
	page("POST /ui/notifikasi/uji", func(u *UI) func(*Ctx) error { return u.notifierTest })
}

// outboxPerPage entries are shown per page of the outbox; the API
// returns at most maxOutbox.
const (
	outboxPerPage    = 50
	maxOutbox        = 1000
	outboxErrorRunes = 300
)

// notifierRow is an entry of GET /api/v1/notifiers.
type notifierRow struct {
	Name      string    `json:"name"`
	Type      string    `json:"type"`
	Pending   int64     `json:"pending"`
	Sent      int64     `json:"sent"`
	Failed    int64     `json:"failed"`
	LastSent  time.Time `json:"last_sent"`
	LastError *struct {
		ID      int64     `json:"id"`
		State   string    `json:"state"`
		Created time.Time `json:"created"`
		Error   string    `json:"error"`
	} `json:"last_error"`
}

// outboxRow is an entry of GET /api/v1/outbox.
type outboxRow struct {
	ID          int64      `json:"id"`
	Notifier    string     `json:"notifier"`
	MsgID       string     `json:"msg_id"`
	State       string     `json:"state"`
	Attempts    int        `json:"attempts"`
	Created     time.Time  `json:"created"`
	NextAttempt *time.Time `json:"next_attempt"`
	Finished    *time.Time `json:"finished"`
	Error       string     `json:"error"`
}

// notifPage is the notifications page's data.
type notifPage struct {
	Notifiers       []notifierRow
	Notifier, State string // the outbox's filter
	States          []string
	Outbox          []outboxRow
	OutboxErr       string
	Tested          *outboxRow // the entry a test just queued
	// TestName and TestLang are a refused test's form, kept.
	TestName, TestLang string
	Pg                 rowPager
}

var outboxStates = []string{"pending", "sent", "failed"}

func (u *UI) notifikasi(c *Ctx) error {
	return u.notifPage(c, &Page{Title: c.T("notif.title")}, "", "")
}

// notifPage renders the page into pg (which may carry an error).
func (u *UI) notifPage(c *Ctx, pg *Page, testName, testLang string) error {
	q := c.R.URL.Query()
	d := &notifPage{Notifier: q.Get("notifier"), State: q.Get("state"), States: outboxStates, TestName: testName, TestLang: testLang}
	pg.Data = d
	if err := c.API("GET", "/api/v1/notifiers", nil, &d.Notifiers); err != nil {
		return err
	}
	n := rowPageOf(q, maxOutbox/outboxPerPage)
	api := url.Values{"limit": {strconv.Itoa(min(n*outboxPerPage+1, maxOutbox))}}
	if d.Notifier != "" {
		api.Set("notifier", d.Notifier)
	}
	if d.State != "" {
		api.Set("state", d.State)
	}
	var rows []outboxRow
	if err := c.API("GET", "/api/v1/outbox?"+api.Encode(), nil, &rows); err != nil {
		var ae *APIError
		if !errors.As(err, &ae) || ae.Status != http.StatusBadRequest {
			return err
		}
		c.Status, d.OutboxErr = ae.Status, c.T("notif.bad")+": "+ae.Msg
	}
	d.Pg = newRowPager("/ui/notifikasi", q, n, outboxPerPage, len(rows))
	if d.Pg.First <= len(rows) {
		d.Outbox = rows[d.Pg.First-1 : d.Pg.Last]
	}
	// An error can be long (an endpoint's answer quoted back): 50 rows
	// stay small with a part of each.
	for i := range d.Outbox {
		d.Outbox[i].Error = clipRunes(d.Outbox[i].Error, outboxErrorRunes)
	}
	if id, err := strconv.ParseInt(q.Get("uji"), 10, 64); err == nil {
		var all []outboxRow
		if c.API("GET", "/api/v1/outbox?limit=100", nil, &all) == nil {
			if i := slices.IndexFunc(all, func(r outboxRow) bool { return r.ID == id }); i >= 0 {
				d.Tested = &all[i]
			}
		}
	}
	c.RenderPage("notifikasi", pg)
	return nil
}

func (u *UI) notifierTest(c *Ctx) error {
	r := c.R
	r.Body = http.MaxBytesReader(c.W, r.Body, maxFormBytes)
	pg := &Page{Title: c.T("notif.title")}
	var name, lang string
	fail := func(status int, msg string) error {
		c.Status, pg.Error = status, c.T("notif.test.bad")+": "+msg
		return u.notifPage(c, pg, name, lang)
	}
	if err := r.ParseForm(); err != nil {
		return fail(http.StatusBadRequest, err.Error())
	}
	name, lang = r.PostForm.Get("name"), r.PostForm.Get("lang")
	if lang != LangEN {
		lang = LangID
	}
	var out struct {
		ID int64 `json:"id"`
	}
	err := c.API("POST", "/api/v1/notifiers/"+url.PathEscape(name)+"/test?lang="+lang, nil, &out)
	var ae *APIError
	if errors.As(err, &ae) {
		return fail(ae.Status, ae.Msg)
	}
	if err != nil {
		return err
	}
	c.Redirect("/ui/notifikasi?uji="+strconv.FormatInt(out.ID, 10), "notiftest")
	return nil
}
