package webui

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/report"
)

// The Reviu & Tindak Lanjut pages: the periodic reviews (reviu), monthly
// or quarterly, with their participants and findings, and the follow-up
// items (tindak lanjut) with owner, due date, status and evidence,
// uploaded through the page. Every read and change is the records API's
// (docs/api.md, Reviews, Follow-ups, Evidence files).

func init() {
	texts(map[string][2]string{
		"reviu.title":           {"Reviu & Tindak Lanjut", "Reviews & follow-ups"},
		"reviu.intro":           {"Reviu berkala jaringan, bulanan atau triwulanan, dan tindak lanjutnya: bukti indikator 28 dan 29 SPBE. Reviu triwulanan masuk laporan bulan terakhir triwulannya, laporan triwulan itu dan paket reviu triwulan (Laporan).", "The periodic network reviews, monthly or quarterly, and their follow-ups: evidence for SPBE indicators 28 and 29. A quarterly review is in the report of its quarter's last month, in the quarter's report and in its review pack (Reports)."},
		"reviu.reviews":         {"Reviu", "Reviews"},
		"reviu.followups":       {"Tindak lanjut", "Follow-ups"},
		"reviu.count":           {"%d reviu", "%d reviews"},
		"reviu.tl.count":        {"%d tindak lanjut", "%d follow-ups"},
		"reviu.tl.overduecount": {"%d terlambat", "%d overdue"},
		"reviu.period":          {"Periode direviu", "Period reviewed"},
		"reviu.kind":            {"Jenis", "Kind"},
		"reviu.kind.monthly":    {"Bulanan", "Monthly"},
		"reviu.kind.quarterly":  {"Triwulanan", "Quarterly"},
		"reviu.month.field":     {"Bulan (reviu bulanan)", "Month (a monthly review)"},
		"reviu.quarter.field":   {"Triwulan (reviu triwulanan)", "Quarter (a quarterly review)"},
		"reviu.held":            {"Tanggal rapat", "Held on"},
		"reviu.scope":           {"Lingkup", "Scope"},
		"reviu.scope.pemda":     {"Seluruh Pemda", "The whole Pemda"},
		"reviu.participants":    {"Peserta", "Participants"},
		"reviu.findings":        {"Temuan", "Findings"},
		"reviu.open":            {"Buka", "Open"},
		"reviu.new":             {"Catat reviu", "Record a review"},
		"reviu.new.hint":        {"Pilih jenis reviu: reviu bulanan memakai isian Bulan, reviu triwulanan isian Triwulan (isian lainnya diabaikan). Bulan dan tanggal rapat dalam zona waktu Pemda; lingkup kosong berarti seluruh Pemda.", "Choose the kind of review: a monthly review takes the Month field, a quarterly one the Quarter field (the other is ignored). Month and meeting date in the Pemda's zone; an empty scope is the whole Pemda."},
		"reviu.add":             {"Simpan reviu", "Save the review"},
		"reviu.add.failed":      {"Reviu tidak tersimpan", "The review was not saved"},
		"reviu.none":            {"Belum ada reviu.", "No reviews yet."},
		"reviu.detail":          {"Reviu %s", "Review of %s"},
		"reviu.notfound":        {"Reviu %d tidak ada atau di luar lingkup OPD Anda.", "Review %d does not exist or is outside your OPDs."},
		"reviu.back":            {"Kembali ke daftar reviu", "Back to the reviews"},
		"reviu.tl.item":         {"Rekomendasi", "Recommendation"},
		"reviu.tl.owner":        {"Penanggung jawab", "Owner"},
		"reviu.tl.opened":       {"Dibuka", "Opened"},
		"reviu.tl.due":          {"Tenggat", "Due"},
		"reviu.tl.status":       {"Status", "Status"},
		"reviu.tl.updated":      {"Status per", "Status as of"},
		"reviu.tl.evidence":     {"Bukti", "Evidence"},
		"reviu.tl.review":       {"Reviu", "Review"},
		"reviu.tl.none":         {"Tidak ada tindak lanjut.", "No follow-ups."},
		"reviu.tl.new":          {"Tambah tindak lanjut", "Add a follow-up"},
		"reviu.tl.add":          {"Simpan tindak lanjut", "Save the follow-up"},
		"reviu.tl.add.failed":   {"Tindak lanjut tidak tersimpan", "The follow-up was not saved"},
		"reviu.tl.detail":       {"Tindak lanjut %d", "Follow-up %d"},
		"reviu.tl.notfound":     {"Tindak lanjut %d tidak ada atau di luar lingkup OPD Anda.", "Follow-up %d does not exist or is outside your OPDs."},
		"reviu.tl.show":         {"Tampilkan", "Show"},
		"reviu.tl.show.open":    {"yang belum selesai", "not done"},
		"reviu.tl.show.all":     {"semua", "all"},
		"reviu.tl.filter":       {"Saring", "Filter"},
		"reviu.tl.overdue":      {"Terlambat %d hari", "%d days overdue"},
		"reviu.tl.noreview":     {"tanpa reviu", "no review"},
		"reviu.st.belum":        {"belum", "not started"},
		"reviu.st.proses":       {"proses", "in progress"},
		"reviu.st.selesai":      {"selesai", "done"},
		"reviu.up.title":        {"Perbarui status dan unggah bukti", "Update the status and upload evidence"},
		"reviu.up.date":         {"Tanggal", "Date"},
		"reviu.up.note":         {"Catatan", "Note"},
		"reviu.up.text":         {"Bukti tertulis (tautan, nomor tiket)", "Written evidence (a link, a ticket)"},
		"reviu.up.file":         {"Berkas bukti", "Evidence file"},
		"reviu.up.filehint":     {"PDF, PNG, JPEG, TXT, CSV, XLSX atau DOCX, paling besar %s. Berkas menggantikan bukti tertulis. Status selesai wajib disertai bukti.", "PDF, PNG, JPEG, TXT, CSV, XLSX or DOCX, at most %s. A file takes the place of written evidence. Status done needs evidence."},
		"reviu.up.submit":       {"Simpan pembaruan", "Save the update"},
		"reviu.up.failed":       {"Pembaruan tidak tersimpan", "The update was not saved"},
		"reviu.up.refused":      {"Berkas bukti ditolak", "The evidence file was refused"},
		"reviu.up.toolarge":     {"Berkas terlalu besar (batas %s).", "The file is too large (limit %s)."},
		"reviu.up.type":         {"Jenis berkas tidak diterima: unggah PDF, PNG, JPEG, TXT, CSV, XLSX atau DOCX (bukan HTML, SVG, skrip atau dokumen bermakro).", "This kind of file is not accepted: upload PDF, PNG, JPEG, TXT, CSV, XLSX or DOCX (not HTML, SVG, scripts or documents with macros)."},
		"reviu.up.kept":         {"Berkas %s sudah terunggah dan tercantum sebagai bukti di formulir; kirim lagi setelah memperbaiki isian.", "The file %s has been uploaded and is named as evidence in the form; send it again after correcting the fields."},
		"reviu.ev.download":     {"Unduh berkas", "Download the file"},
		"reviu.ev.none":         {"–", "–"},
		"reviu.viewer":          {"Anda masuk sebagai pemantau: hanya dapat membaca.", "You are logged in as a viewer: read only."},
		"reviu.page":            {"Halaman %d dari %d", "Page %d of %d"},
		"reviu.pages":           {"Halaman", "Pages"},
		"reviu.prev":            {"Sebelumnya", "Previous"},
		"reviu.next":            {"Berikutnya", "Next"},
	})
	flash(map[string][2]string{
		"reviu.added":      {"Reviu sudah dicatat.", "The review has been recorded."},
		"reviu.tl.added":   {"Tindak lanjut sudah ditambahkan.", "The follow-up has been added."},
		"reviu.tl.updated": {"Status tindak lanjut sudah diperbarui.", "The follow-up's status has been updated."},
	})
	page("GET /ui/reviu", func(u *UI) func(*Ctx) error { return u.reviu })
	page("POST /ui/reviu", func(u *UI) func(*Ctx) error { return u.reviuAdd })
	page("GET /ui/reviu/{id}", func(u *UI) func(*Ctx) error { return u.reviuDetail })
	page("POST /ui/reviu/{id}/tindaklanjut", func(u *UI) func(*Ctx) error { return u.reviuAddFollowUp })
	page("GET /ui/tindaklanjut/{id}", func(u *UI) func(*Ctx) error { return u.reviuItemDetail })
	page("POST /ui/tindaklanjut/{id}", func(u *UI) func(*Ctx) error { return u.reviuItemUpdate })
}

// reviuReview is a review as GET /api/v1/reviews answers it.
type reviuReview struct {
	ID           int64  `json:"id"`
	Kind         string `json:"kind"`   // monthly or quarterly
	Month        string `json:"month"`  // a quarterly review's: its quarter's last month
	Period       string `json:"period"` // 2026-10 or 2026-Q4
	HeldOn       string `json:"held_on"`
	Scope        string `json:"scope"`
	Participants string `json:"participants"`
	Findings     string `json:"findings"`
}

// reviuItem is a follow-up item as GET /api/v1/followups answers it, with
// what the page works out of it.
type reviuItem struct {
	ID       int64  `json:"id"`
	ReviewID int64  `json:"review_id"`
	Opened   string `json:"opened"`
	Item     string `json:"item"`
	Owner    string `json:"owner"`
	Due      string `json:"due"`
	Status   string `json:"status"`
	Evidence string `json:"evidence"`
	Updated  string `json:"updated"`
	Scope    string `json:"scope"`

	// DaysOverdue > 0: the due date has passed and the item is not done.
	DaysOverdue int `json:"-"`
}

// Overdue reports whether the item is past its due date and not done.
func (f reviuItem) Overdue() bool { return f.DaysOverdue > 0 }

// EvidenceFile is the SHA-256 of an uploaded evidence file the item
// names ("" for written evidence).
func (f reviuItem) EvidenceFile() string {
	hex, ok := strings.CutPrefix(f.Evidence, "sha256:")
	if !ok || len(hex) != 64 {
		return ""
	}
	return hex
}

// EvidenceLink is written evidence that is a web address (shown as a
// link), else "".
func (f reviuItem) EvidenceLink() string {
	if strings.HasPrefix(f.Evidence, "https://") || strings.HasPrefix(f.Evidence, "http://") {
		return f.Evidence
	}
	return ""
}

// reviuStatuses are the follow-up statuses in their order.
var reviuStatuses = []string{"belum", "proses", "selesai"}

// reviuToday is the date in the Pemda's zone.
func (u *UI) reviuToday() string { return u.o.Now().In(u.o.Zone()).Format("2006-01-02") }

// reviuMarkOverdue sets DaysOverdue as of today (YYYY-MM-DD).
func reviuMarkOverdue(fs []reviuItem, today string) {
	t, err := time.Parse("2006-01-02", today)
	if err != nil {
		return
	}
	for i := range fs {
		f := &fs[i]
		if f.Due == "" || f.Status == "selesai" || f.Due >= today {
			continue
		}
		if d, err := time.Parse("2006-01-02", f.Due); err == nil {
			f.DaysOverdue = int(t.Sub(d).Hours() / 24)
		}
	}
}

// reviuReviewForm is the new review form's values: Kind monthly takes
// Month, quarterly takes Quarter (2026-Q4).
type reviuReviewForm struct {
	Kind, Month, Quarter, HeldOn, Scope, Participants, Findings string
}

// reviuKinds are the review kinds in the form's order.
var reviuKinds = []string{"monthly", "quarterly"}

// reviuQuarterCount is how many quarters the form offers, the latest
// first.
const reviuQuarterCount = 8

// reviuQuarters are the quarters the form offers as of now: the current
// one and the seven before it; and the one it selects at first, the
// quarter ending this month or else the last one ended (a quarterly
// review is held at a quarter's end or after it).
func reviuQuarters(now time.Time) (qs []string, def string) {
	y, q := now.Year(), (int(now.Month())-1)/3+1
	for range reviuQuarterCount {
		qs = append(qs, fmt.Sprintf("%d-Q%d", y, q))
		if q--; q == 0 {
			y, q = y-1, 4
		}
	}
	if now.Month()%3 == 0 {
		return qs, qs[0]
	}
	return qs, qs[1]
}

// reviuItemForm is the new follow-up form's values.
type reviuItemForm struct {
	Item, Owner, Opened, Due string
}

// reviuUpdateForm is the follow-up update form's values.
type reviuUpdateForm struct {
	Status, Date, Note, Evidence string
}

// reviuData is the review list page's data.
type reviuData struct {
	Reviews       []reviuReview
	ReviewPager   Pager
	FollowUps     []reviuItem
	FollowUpPager Pager
	Overdue       int
	Show          string // "terbuka" or "semua"
	OPDs          []laporanOPD
	Form          reviuReviewForm
	Kinds         []string
	Quarters      []string // the quarter select's values, latest first
	Today         string
	Statuses      []string
}

const (
	reviuReviewsPerPage = 30
	reviuItemsPerPage   = 100
)

func (u *UI) reviu(c *Ctx) error {
	now := u.o.Now().In(u.o.Zone())
	_, quarter := reviuQuarters(now)
	return u.reviuRender(c, reviuReviewForm{Kind: "monthly", Month: now.Format("2006-01"), Quarter: quarter, HeldOn: u.reviuToday()}, "")
}

// reviuRender shows the review list with form's values and an error.
func (u *UI) reviuRender(c *Ctx, form reviuReviewForm, errMsg string) error {
	var reviews []reviuReview
	if err := c.API("GET", "/api/v1/reviews", nil, &reviews); err != nil {
		return err
	}
	var fus []reviuItem
	if err := c.API("GET", "/api/v1/followups", nil, &fus); err != nil {
		return err
	}
	d := &reviuData{Form: form, Kinds: reviuKinds, Today: u.reviuToday(), Statuses: reviuStatuses, Show: "terbuka"}
	d.Quarters, _ = reviuQuarters(u.o.Now().In(u.o.Zone()))
	if form.Quarter != "" && !slices.Contains(d.Quarters, form.Quarter) {
		// a quarter posted that the select does not offer (an older one)
		d.Quarters = append([]string{form.Quarter}, d.Quarters...)
	}
	q := c.R.URL.Query()
	if q.Get("tampil") == "semua" {
		d.Show = "semua"
	}
	slices.SortStableFunc(reviews, func(a, b reviuReview) int {
		return cmp.Or(cmp.Compare(b.Month, a.Month), cmp.Compare(b.HeldOn, a.HeldOn), cmp.Compare(b.ID, a.ID))
	})
	d.Reviews, d.ReviewPager = paginate(c.R, reviews, reviuReviewsPerPage, "rhal")

	reviuMarkOverdue(fus, d.Today)
	shown := fus[:0]
	for _, f := range fus {
		if f.Overdue() {
			d.Overdue++
		}
		if d.Show == "semua" || f.Status != "selesai" {
			shown = append(shown, f)
		}
	}
	// Overdue first, the longest overdue at the top; then by due date.
	slices.SortStableFunc(shown, func(a, b reviuItem) int {
		return cmp.Or(cmp.Compare(b.DaysOverdue, a.DaysOverdue), cmp.Compare(reviuDueKey(a), reviuDueKey(b)))
	})
	d.FollowUps, d.FollowUpPager = paginate(c.R, shown, reviuItemsPerPage, "thal")

	opds, _, err := laporanOPDs(c)
	if err != nil {
		return err
	}
	d.OPDs = opds
	c.RenderPage("reviu", &Page{Title: c.T("reviu.title"), Error: errMsg, Data: d})
	return nil
}

// reviuDueKey sorts items without a due date last.
func reviuDueKey(f reviuItem) string {
	if f.Due == "" {
		return "9999-99-99"
	}
	return f.Due
}

// reviuParseForm parses a small form (no file) into r.PostForm.
func reviuParseForm(c *Ctx) error {
	c.R.Body = http.MaxBytesReader(c.W, c.R.Body, maxFormBytes)
	if err := c.R.ParseForm(); err != nil {
		return &APIError{Status: http.StatusBadRequest, Msg: fmt.Sprintf("form: %v", err)}
	}
	return nil
}

// reviuFailure turns an *APIError into the page's message (prefix: what
// failed) and status; other errors are returned for the error page.
func reviuFailure(c *Ctx, err error, prefix string) (string, bool) {
	var ae *APIError
	if !errors.As(err, &ae) {
		return "", false
	}
	c.Status = ae.Status
	return c.T(prefix) + ": " + ae.Msg, true
}

func (u *UI) reviuAdd(c *Ctx) error {
	if err := reviuParseForm(c); err != nil {
		return err
	}
	f := c.R.PostForm
	form := reviuReviewForm{Kind: f.Get("kind"), Month: strings.TrimSpace(f.Get("month")), Quarter: strings.TrimSpace(f.Get("quarter")),
		HeldOn: strings.TrimSpace(f.Get("held_on")), Scope: f.Get("scope"), Participants: f.Get("participants"), Findings: f.Get("findings")}
	// A monthly review names its month, a quarterly one its quarter
	// (its month field, when no quarter is posted: the API then says
	// which months a quarterly review takes).
	month := form.Month
	if form.Kind == "quarterly" && form.Quarter != "" {
		month = form.Quarter
	}
	body := map[string]string{"kind": form.Kind, "month": month, "held_on": form.HeldOn, "scope": form.Scope,
		"participants": form.Participants, "findings": form.Findings}
	var out reviuReview
	if err := c.API("POST", "/api/v1/reviews", body, &out); err != nil {
		msg, ok := reviuFailure(c, err, "reviu.add.failed")
		if !ok {
			return err
		}
		return u.reviuRender(c, form, msg)
	}
	c.Redirect(fmt.Sprintf("/ui/reviu/%d", out.ID), "reviu.added")
	return nil
}

// reviuDetailData is the review page's data.
type reviuDetailData struct {
	Review    reviuReview
	FollowUps []reviuItem
	Pager     Pager
	Form      reviuItemForm
	Today     string
}

func (u *UI) reviuDetail(c *Ctx) error {
	return u.reviuDetailRender(c, reviuItemForm{Opened: u.reviuToday()}, "")
}

// reviuPathID reads the {id} of the path; a malformed one is a 404.
func reviuPathID(c *Ctx, what string) (int64, error) {
	s := c.R.PathValue("id")
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 || strconv.FormatInt(id, 10) != s {
		return 0, &APIError{Status: http.StatusNotFound, Msg: fmt.Sprintf(c.T(what), 0)}
	}
	return id, nil
}

func (u *UI) reviuDetailRender(c *Ctx, form reviuItemForm, errMsg string) error {
	id, err := reviuPathID(c, "reviu.notfound")
	if err != nil {
		return err
	}
	var reviews []reviuReview
	if err := c.API("GET", "/api/v1/reviews", nil, &reviews); err != nil {
		return err
	}
	i := slices.IndexFunc(reviews, func(r reviuReview) bool { return r.ID == id })
	if i < 0 {
		if errMsg != "" {
			// A change refused for a review the user cannot see: the
			// API's answer says why.
			return &APIError{Status: c.Status, Msg: errMsg}
		}
		return &APIError{Status: http.StatusNotFound, Msg: fmt.Sprintf(c.T("reviu.notfound"), id)}
	}
	var fus []reviuItem
	if err := c.API("GET", "/api/v1/followups", nil, &fus); err != nil {
		return err
	}
	d := &reviuDetailData{Review: reviews[i], Form: form, Today: u.reviuToday()}
	for _, f := range fus {
		if f.ReviewID == id {
			d.FollowUps = append(d.FollowUps, f)
		}
	}
	reviuMarkOverdue(d.FollowUps, d.Today)
	// a review's items page as the list's do: the page stays small
	d.FollowUps, d.Pager = paginate(c.R, d.FollowUps, reviuItemsPerPage, "thal")
	pg := &Page{Nav: "reviu", Error: errMsg, Data: d}
	pg.Title = fmt.Sprintf(c.T("reviu.detail"), reviuPeriodText(c.Lang, d.Review))
	c.RenderPage("reviu", pg)
	return nil
}

func (u *UI) reviuAddFollowUp(c *Ctx) error {
	id, err := reviuPathID(c, "reviu.notfound")
	if err != nil {
		return err
	}
	if err := reviuParseForm(c); err != nil {
		return err
	}
	f := c.R.PostForm
	form := reviuItemForm{Item: f.Get("item"), Owner: f.Get("owner"), Opened: strings.TrimSpace(f.Get("opened")), Due: strings.TrimSpace(f.Get("due"))}
	body := map[string]any{"review_id": id, "item": form.Item, "owner": form.Owner, "opened": form.Opened, "due": form.Due}
	var out reviuItem
	if err := c.API("POST", "/api/v1/followups", body, &out); err != nil {
		msg, ok := reviuFailure(c, err, "reviu.tl.add.failed")
		if !ok {
			return err
		}
		return u.reviuDetailRender(c, form, msg)
	}
	c.Redirect(fmt.Sprintf("/ui/reviu/%d", id), "reviu.tl.added")
	return nil
}

// reviuItemData is the follow-up page's data.
type reviuItemData struct {
	Item      reviuItem
	Review    *reviuReview
	Form      reviuUpdateForm
	Statuses  []string
	Today     string
	MaxUpload string
}

func (u *UI) reviuItemDetail(c *Ctx) error {
	return u.reviuItemRender(c, nil, "")
}

// reviuItemRender shows a follow-up item with the update form (its values
// from form, else the item's).
func (u *UI) reviuItemRender(c *Ctx, form *reviuUpdateForm, errMsg string) error {
	id, err := reviuPathID(c, "reviu.tl.notfound")
	if err != nil {
		return err
	}
	var fus []reviuItem
	if err := c.API("GET", "/api/v1/followups", nil, &fus); err != nil {
		return err
	}
	i := slices.IndexFunc(fus, func(f reviuItem) bool { return f.ID == id })
	if i < 0 {
		if errMsg != "" {
			return &APIError{Status: c.Status, Msg: errMsg}
		}
		return &APIError{Status: http.StatusNotFound, Msg: fmt.Sprintf(c.T("reviu.tl.notfound"), id)}
	}
	today := u.reviuToday()
	reviuMarkOverdue(fus[i:i+1], today)
	d := &reviuItemData{Item: fus[i], Statuses: reviuStatuses, Today: today, MaxUpload: reviuBytes(c.Lang, u.o.MaxUploadBytes)}
	if form != nil {
		d.Form = *form
	} else {
		d.Form = reviuUpdateForm{Status: d.Item.Status, Date: today}
	}
	if d.Item.ReviewID != 0 {
		var reviews []reviuReview
		if err := c.API("GET", "/api/v1/reviews", nil, &reviews); err != nil {
			return err
		}
		if j := slices.IndexFunc(reviews, func(r reviuReview) bool { return r.ID == d.Item.ReviewID }); j >= 0 {
			d.Review = &reviews[j]
		}
	}
	c.RenderPage("reviu", &Page{Title: fmt.Sprintf(c.T("reviu.tl.detail"), id), Nav: "reviu", Error: errMsg, Data: d})
	return nil
}

// reviuBytes writes a size in MiB or KiB.
func reviuBytes(lang string, n int64) string {
	if n >= 1<<20 {
		return formatNum(lang, float64(n)/(1<<20), 0) + " MiB"
	}
	return formatNum(lang, float64(n)/(1<<10), 0) + " KiB"
}

// reviuSlack is what a browser's form adds to the file: the other
// fields and the parts' headers.
const reviuSlack = 64 << 10

// reviuUpload is POST /api/v1/evidence's answer.
type reviuUpload struct {
	SHA256   string `json:"sha256"`
	Filename string `json:"filename"`
}

// reviuItemUpdate records a status change, uploading the evidence file of
// the form first (streamed from the browser's body to the evidence API,
// never held whole in memory), then naming it in the update.
func (u *UI) reviuItemUpdate(c *Ctx) error {
	id, err := reviuPathID(c, "reviu.tl.notfound")
	if err != nil {
		return err
	}
	c.R.Body = http.MaxBytesReader(c.W, c.R.Body, u.o.MaxUploadBytes+reviuSlack)
	form := reviuUpdateForm{}
	set := func(name, v string) {
		switch name {
		case "status":
			form.Status = v
		case "date":
			form.Date = strings.TrimSpace(v)
		case "note":
			form.Note = v
		case "evidence_text":
			form.Evidence = strings.TrimSpace(v)
		}
	}
	uploaded := ""
	mt, _, _ := mime.ParseMediaType(c.R.Header.Get("Content-Type"))
	if mt != "multipart/form-data" {
		if err := c.R.ParseForm(); err != nil {
			return &APIError{Status: http.StatusBadRequest, Msg: fmt.Sprintf("form: %v", err)}
		}
		for _, k := range []string{"status", "date", "note", "evidence_text"} {
			set(k, c.R.PostForm.Get(k))
		}
	} else {
		mr, err := c.R.MultipartReader()
		if err != nil {
			return &APIError{Status: http.StatusBadRequest, Msg: fmt.Sprintf("form: %v", err)}
		}
		for {
			part, err := mr.NextPart()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return u.reviuItemRefused(c, &form, reviuFormError(err))
			}
			if part.FormName() != "file" {
				v, err := io.ReadAll(io.LimitReader(part, maxFormBytes+1))
				if err != nil {
					return u.reviuItemRefused(c, &form, reviuFormError(err))
				}
				if len(v) > maxFormBytes {
					// Cut, the field would be saved other than written.
					return u.reviuItemRefused(c, &form, &APIError{Status: http.StatusBadRequest,
						Msg: fmt.Sprintf("%s: longer than %d bytes", clipRunes(part.FormName(), 40), maxFormBytes)})
				}
				set(part.FormName(), string(v))
				continue
			}
			if part.FileName() == "" || uploaded != "" {
				// No file chosen (an empty part), or a second one.
				io.Copy(io.Discard, part)
				continue
			}
			var up reviuUpload
			err = c.APIType("POST", "/api/v1/evidence?filename="+url.QueryEscape(part.FileName()), "application/octet-stream", part, &up)
			if err != nil {
				var ae *APIError
				if !errors.As(err, &ae) {
					return err
				}
				// Read what the browser still sends (bounded above), so
				// that it gets the page rather than a reset connection.
				io.Copy(io.Discard, c.R.Body)
				c.Status = ae.Status
				msg := c.T("reviu.up.refused") + " (" + strconv.Itoa(ae.Status) + "): "
				switch ae.Status {
				case http.StatusRequestEntityTooLarge:
					msg += fmt.Sprintf(c.T("reviu.up.toolarge"), reviuBytes(c.Lang, u.o.MaxUploadBytes)) + " "
				case http.StatusUnsupportedMediaType:
					msg += c.T("reviu.up.type") + " "
				}
				return u.reviuItemRender(c, &form, msg+ae.Msg)
			}
			uploaded = "sha256:" + up.SHA256
		}
	}
	if uploaded != "" {
		form.Evidence = uploaded
	}
	body := map[string]string{"status": form.Status, "date": form.Date, "evidence": form.Evidence, "note": form.Note}
	if err := c.API("POST", fmt.Sprintf("/api/v1/followups/%d/updates", id), body, nil); err != nil {
		msg, ok := reviuFailure(c, err, "reviu.up.failed")
		if !ok {
			return err
		}
		if uploaded != "" {
			msg += "\n" + fmt.Sprintf(c.T("reviu.up.kept"), uploaded)
		}
		return u.reviuItemRender(c, &form, msg)
	}
	c.Redirect(fmt.Sprintf("/ui/tindaklanjut/%d", id), "reviu.tl.updated")
	return nil
}

// reviuFormError is a browser body that could not be read: too large
// (beyond the file limit and the form's slack) or malformed.
func reviuFormError(err error) *APIError {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return &APIError{Status: http.StatusRequestEntityTooLarge, Msg: err.Error()}
	}
	return &APIError{Status: http.StatusBadRequest, Msg: fmt.Sprintf("form: %v", err)}
}

// reviuItemRefused re-renders the follow-up page for a body the UI could
// not read.
func (u *UI) reviuItemRefused(c *Ctx, form *reviuUpdateForm, ae *APIError) error {
	c.Status = ae.Status
	msg := c.T("reviu.up.failed") + ": " + ae.Msg
	if ae.Status == http.StatusRequestEntityTooLarge {
		msg = c.T("reviu.up.refused") + " (413): " + fmt.Sprintf(c.T("reviu.up.toolarge"), reviuBytes(c.Lang, u.o.MaxUploadBytes))
	}
	return u.reviuItemRender(c, form, msg)
}

// StatusLabel is a follow-up status in the page's language.
func (p *Page) ReviuStatus(s string) string {
	if slices.Contains(reviuStatuses, s) {
		return p.T("reviu.st." + s)
	}
	return s
}

// Day writes a YYYY-MM-DD date as Date does ("7 Des 2026"); "" is "–".
func (p *Page) ReviuDay(s string) string {
	if s == "" {
		return "–"
	}
	t, err := time.ParseInLocation("2006-01-02", s, p.loc)
	if err != nil {
		return s
	}
	return p.Date(t)
}

// MonthName writes YYYY-MM as "Okt 2026".
func (p *Page) ReviuMonth(s string) string {
	t, err := time.Parse("2006-01", s)
	if err != nil {
		return s
	}
	i := 0
	if p.Lang == LangEN {
		i = 1
	}
	return monthsShort[i][t.Month()-1] + " " + strconv.Itoa(t.Year())
}

// ReviuPeriod writes the period a review covers: "Okt 2026" (as
// ReviuMonth) for a monthly review, "Triwulan IV 2026" (Q4 2026) for a
// quarterly one.
func (p *Page) ReviuPeriod(r reviuReview) string {
	if r.Kind == "quarterly" {
		return reviuPeriodText(p.Lang, r)
	}
	return p.ReviuMonth(r.Month)
}

// ReviuQuarter writes a quarter (2026-Q4) as "Triwulan IV 2026" (Q4 2026).
func (p *Page) ReviuQuarter(q string) string { return report.FormatPeriod(p.Lang, q) }

// reviuPeriodText is the period a review covers in lang: "Oktober 2026",
// "Triwulan IV 2026" (Q4 2026).
func reviuPeriodText(lang string, r reviuReview) string {
	period := r.Period
	if period == "" {
		period = r.Month
	}
	return report.FormatPeriod(lang, period)
}

// reviuItemsView is what the "reviu-items" template shows.
type reviuItemsView struct {
	P          *Page
	Items      []reviuItem
	WithReview bool
}

// ReviuItems is a table of follow-up items (with their reviews' column
// when withReview).
func (p *Page) ReviuItems(items []reviuItem, withReview bool) reviuItemsView {
	return reviuItemsView{p, items, withReview}
}

// reviuEvidenceView is what the "reviu-evidence" template shows.
type reviuEvidenceView struct {
	P    *Page
	Item reviuItem
}

// ReviuEvidence is an item's evidence cell.
func (p *Page) ReviuEvidence(f reviuItem) reviuEvidenceView { return reviuEvidenceView{p, f} }

// View names the part of reviu.html a page's data shows.
func (reviuData) View() string { return "list" }

// View names the part of reviu.html a page's data shows.
func (reviuDetailData) View() string { return "review" }

// View names the part of reviu.html a page's data shows.
func (reviuItemData) View() string { return "item" }
