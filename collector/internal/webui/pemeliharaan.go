package webui

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/sla"
)

func init() {
	texts(map[string][2]string{
		"mnt.title":         {"Pemeliharaan", "Maintenance"},
		"mnt.intro":         {"Jendela pemeliharaan terjadwal: menit di dalamnya dihitung sebagai pemeliharaan, bukan gangguan, juga untuk laporan yang dihitung kemudian.", "Scheduled maintenance windows: their minutes count as maintenance, not downtime, also in reports computed later."},
		"mnt.upcoming":      {"Akan datang", "Upcoming"},
		"mnt.current":       {"Berlangsung dan selesai", "Current and past"},
		"mnt.target":        {"Sasaran", "Target"},
		"mnt.start":         {"Mulai", "Start"},
		"mnt.end":           {"Selesai", "End"},
		"mnt.repeat":        {"Berulang", "Repeat"},
		"mnt.until":         {"Berulang sampai", "Repeat until"},
		"mnt.until.hint":    {"Kosongkan bila tanpa batas. Pengulangan terakhir dimulai sebelum waktu ini.", "Leave empty for no end. The last repeat starts before this time."},
		"mnt.reason":        {"Alasan", "Reason"},
		"mnt.reason.hint":   {"Tampil di laporan.", "Shown in reports."},
		"mnt.next":          {"Berikutnya", "Next"},
		"mnt.status":        {"Status", "Status"},
		"mnt.actions":       {"Tindakan", "Actions"},
		"mnt.st.active":     {"berlangsung", "in progress"},
		"mnt.st.recurring":  {"berulang", "recurring"},
		"mnt.st.done":       {"selesai", "ended"},
		"mnt.st.upcoming":   {"akan datang", "upcoming"},
		"mnt.add":           {"Tambah jendela pemeliharaan", "Add a maintenance window"},
		"mnt.edit.title":    {"Ubah jendela pemeliharaan %d", "Edit maintenance window %d"},
		"mnt.delete.title":  {"Hapus jendela pemeliharaan %d", "Delete maintenance window %d"},
		"mnt.delete.ask":    {"Jendela ini akan dihapus; laporan yang dihitung kemudian menghitung menitnya sebagai pantauan biasa lagi.", "This window will be deleted; reports computed later count its minutes as ordinary monitoring again."},
		"mnt.delete.sure":   {"Ya, hapus jendela ini", "Yes, delete this window"},
		"mnt.delete.unsure": {"Centang konfirmasi untuk menghapus.", "Tick the confirmation to delete."},
		"mnt.times.hint":    {"Waktu dalam zona Pemda (%s).", "Times in the Pemda's zone (%s)."},
		"mnt.count":         {"%d jendela", "%d windows"},
		"mnt.more":          {"%d jendela lagi tidak ditampilkan.", "%d more windows are not shown."},
		"mnt.failed":        {"Jendela pemeliharaan tidak disimpan", "The maintenance window was not saved"},
		"mnt.delfailed":     {"Jendela pemeliharaan tidak dihapus", "The maintenance window was not deleted"},
		"mnt.notfound":      {"Tidak ada jendela pemeliharaan dengan nomor itu.", "There is no maintenance window with that number."},
		"repeat.none":       {"tidak berulang", "no repeat"},
		"repeat.daily":      {"harian", "daily"},
		"repeat.weekly":     {"mingguan", "weekly"},
		"repeat.monthly":    {"bulanan", "monthly"},
		"scope.link":        {"Tautan", "Link"},
		"scope.site":        {"Lokasi", "Site"},
		"scope.service":     {"Layanan", "Service"},
		"scope.allsites":    {"Semua (seluruh Pemda)", "All (the whole Pemda)"},
		"target.choose":     {"— pilih —", "— choose —"},
		"target.typed":      {"Tulis jenis dan ID-nya: link:ID, site:ID atau service:ID (ID seperti di Inventaris).", "Write its kind and id: link:ID, site:ID or service:ID (the id as in the Inventory)."},
		"target.typed.all":  {"Tulis jenis dan ID-nya: link:ID, site:ID atau service:ID (ID seperti di Inventaris), atau all: untuk seluruh Pemda.", "Write its kind and id: link:ID, site:ID or service:ID (the id as in the Inventory), or all: for the whole Pemda."},
	})
	flash(map[string][2]string{
		"mnt-added":   {"Jendela pemeliharaan sudah ditambahkan.", "The maintenance window has been added."},
		"mnt-updated": {"Jendela pemeliharaan sudah diubah.", "The maintenance window has been changed."},
		"mnt-deleted": {"Jendela pemeliharaan sudah dihapus.", "The maintenance window has been deleted."},
	})
	page("GET /ui/pemeliharaan", func(u *UI) func(*Ctx) error { return u.maintenancePage })
	page("POST /ui/pemeliharaan", func(u *UI) func(*Ctx) error { return u.maintenanceAdd })
	page("GET /ui/pemeliharaan/{id}", func(u *UI) func(*Ctx) error { return u.maintenanceEditPage })
	page("POST /ui/pemeliharaan/{id}", func(u *UI) func(*Ctx) error { return u.maintenanceEdit })
	page("GET /ui/pemeliharaan/{id}/hapus", func(u *UI) func(*Ctx) error { return u.maintenanceDeletePage })
	page("POST /ui/pemeliharaan/{id}/hapus", func(u *UI) func(*Ctx) error { return u.maintenanceDelete })
}

// maxListed is the rows of a table on one page; the rest are on the
// next pages (?hal=2), so that a page stays small on a slow link.
const maxListed = 100

// Target is one entry of a target picker: "link:dinkes-wan".
type Target struct {
	Value, Label string
}

// TargetGroup is an <optgroup> of the picker.
type TargetGroup struct {
	Label   string
	Targets []Target
}

// invDoc is what the pickers need of GET /api/v1/inventory?format=json.
type invDoc struct {
	Sites []struct {
		ID, Name, OPD string
	} `json:"sites"`
	Links []struct {
		ID, Site, Name string
	} `json:"links"`
	Services []struct {
		ID, Name, Site string
	} `json:"services"`
}

// inventory reads the inventory as the user sees it (the API filters it
// by the user's OPDs); without one, it is empty.
func (c *Ctx) inventory() (*invDoc, error) {
	var inv invDoc
	if err := c.API("GET", "/api/v1/inventory?format=json", nil, &inv); err != nil {
		var ae *APIError
		if errors.As(err, &ae) && ae.Status == http.StatusNotFound {
			return &inv, nil
		}
		return nil, err
	}
	return &inv, nil
}

// targets lists the sites, links and services the user sees, grouped by
// kind.
func (c *Ctx) targets() ([]TargetGroup, error) {
	inv, err := c.inventory()
	if err != nil {
		return nil, err
	}
	return targetsOf(c, inv), nil
}

// maxTargetOptions bounds the options of a target picker: above it (an
// inventory of thousands of links) the form asks for the target typed
// ("link:dinkes-wan"), so that the page stays under 150 KB.
const maxTargetOptions = 500

// targetsOf lists the picker's targets, or nil when there are more than
// maxTargetOptions (the form then takes the target typed).
func targetsOf(c *Ctx, inv *invDoc) []TargetGroup {
	if len(inv.Links)+len(inv.Sites)+len(inv.Services) > maxTargetOptions {
		return nil
	}
	label := func(id, name string) string {
		if name == "" || name == id {
			return id
		}
		return id + " — " + name
	}
	var links, sites, services []Target
	for _, l := range inv.Links {
		links = append(links, Target{"link:" + l.ID, label(l.ID, l.Name)})
	}
	for _, s := range inv.Sites {
		sites = append(sites, Target{"site:" + s.ID, label(s.ID, s.Name)})
	}
	for _, s := range inv.Services {
		services = append(services, Target{"service:" + s.ID, label(s.ID, s.Name)})
	}
	byValue := func(a, b Target) int { return strings.Compare(a.Value, b.Value) }
	slices.SortFunc(links, byValue)
	slices.SortFunc(sites, byValue)
	slices.SortFunc(services, byValue)
	return []TargetGroup{{c.T("scope.link"), links}, {c.T("scope.site"), sites}, {c.T("scope.service"), services}}
}

// formTime reads a datetime-local value in the Pemda's zone and writes it
// as RFC 3339 for the API ("" stays ""). A value the browser would not
// send is passed on as it is, for the API to name.
func (c *Ctx) formTime(v string) string {
	v = strings.TrimSpace(v)
	if v == "" {
		return ""
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05"} {
		if t, err := time.ParseInLocation(layout, v, c.u.o.Zone()); err == nil {
			return t.Format(time.RFC3339)
		}
	}
	return v
}

// windowForm is the maintenance form's values, as typed.
type windowForm struct {
	ID                                        int64
	Target, Start, End, Repeat, Until, Reason string
}

func (f windowForm) body(c *Ctx) map[string]string {
	scope, target, _ := strings.Cut(f.Target, ":")
	b := map[string]string{"scope": scope, "target": target, "start": c.formTime(f.Start), "end": c.formTime(f.End),
		"reason": f.Reason}
	if f.Repeat != "" && f.Repeat != "none" {
		b["repeat"] = f.Repeat
	}
	if f.Until != "" {
		b["until"] = c.formTime(f.Until)
	}
	return b
}

func readWindowForm(c *Ctx) (windowForm, error) {
	c.R.Body = http.MaxBytesReader(c.W, c.R.Body, maxFormBytes)
	if err := c.R.ParseForm(); err != nil {
		return windowForm{}, &APIError{Status: http.StatusBadRequest, Msg: err.Error()}
	}
	f := c.R.PostForm
	return windowForm{Target: f.Get("target"), Start: f.Get("start"), End: f.Get("end"), Repeat: f.Get("repeat"),
		Until: f.Get("until"), Reason: strings.TrimSpace(f.Get("reason"))}, nil
}

func formOf(pg *Page, w sla.Window) windowForm {
	f := windowForm{ID: w.ID, Target: w.Scope + ":" + w.Target, Start: pg.Input(w.Start), End: pg.Input(w.End),
		Repeat: w.Repeat, Until: pg.Input(w.Until), Reason: w.Reason}
	if w.Scope == sla.ScopeAll {
		f.Target = "all:"
	}
	return f
}

// WindowRow is a window with where it stands.
type WindowRow struct {
	sla.Window
	Status string    // mnt.st.*
	Next   time.Time // the next occurrence's start (zero: none)
}

// WindowTable is one of the page's tables, capped at maxListed rows.
type WindowTable struct {
	Caption string
	Rows    []WindowRow
	More    int // rows left out
	Pager   Pager
}

// maintenanceData is the maintenance page's data.
type maintenanceData struct {
	Upcoming, Rest     []WindowRow
	UpTable, RestTable WindowTable
	Total              int
	Targets            []TargetGroup
	Form               windowForm
	Repeats            []string
	Zone               string
	Edit, Delete       *WindowRow // the edit or delete page
	DeleteUnconfirmed  bool
	CanChange          bool
}

var repeats = []string{"none", sla.RepeatDaily, sla.RepeatWeekly, sla.RepeatMonthly}

// classify says where a window stands at now.
func classify(w sla.Window, now time.Time) WindowRow {
	r := WindowRow{Window: w}
	if w.Start.After(now) {
		r.Status, r.Next = "upcoming", w.Start
		return r
	}
	active := false
	w.Occurrences(now, now.Add(time.Nanosecond), func(_, _ time.Time) { active = true })
	if w.Repeat != "" {
		// the next start after now, within a year and a bit
		w.Occurrences(now, now.AddDate(1, 1, 0), func(s, _ time.Time) {
			if r.Next.IsZero() && s.After(now) {
				r.Next = s
			}
		})
	}
	switch {
	case active:
		r.Status = "active"
	case !r.Next.IsZero():
		r.Status = "recurring"
	default:
		r.Status = "done"
	}
	return r
}

func (u *UI) maintenanceData(c *Ctx) (*maintenanceData, error) {
	var ws []sla.Window
	if err := c.API("GET", "/api/v1/maintenance", nil, &ws); err != nil {
		return nil, err
	}
	d := &maintenanceData{Repeats: repeats, Zone: u.o.Zone().String(), Total: len(ws), Form: windowForm{Repeat: "none"}}
	now := u.o.Now()
	var up, rest []WindowRow
	for _, w := range ws {
		r := classify(w, now)
		if r.Status == "upcoming" {
			up = append(up, r)
		} else {
			rest = append(rest, r)
		}
	}
	// upcoming soonest first; the others newest first
	slices.SortStableFunc(up, func(a, b WindowRow) int { return a.Start.Compare(b.Start) })
	slices.SortStableFunc(rest, func(a, b WindowRow) int { return b.Start.Compare(a.Start) })
	d.Upcoming, d.Rest = up, rest
	d.UpTable = WindowTable{Caption: c.T("mnt.upcoming"), Rows: up}
	if len(up) > maxListed {
		d.UpTable.More, d.UpTable.Rows = len(up)-maxListed, up[:maxListed]
	}
	// the past pile up: they page
	d.RestTable = WindowTable{Caption: c.T("mnt.current")}
	d.RestTable.Rows, d.RestTable.Pager = paginate(c.R, rest, maxListed, "hal")
	if c.P.Can("operator") {
		t, err := c.targets()
		if err != nil {
			return nil, err
		}
		d.Targets, d.CanChange = t, true
	}
	return d, nil
}

func (u *UI) renderMaintenance(c *Ctx, d *maintenanceData, errMsg string) {
	c.RenderPage("pemeliharaan", &Page{Title: c.T("mnt.title"), Nav: "pemeliharaan", Data: d, Error: errMsg})
}

func (u *UI) maintenancePage(c *Ctx) error {
	d, err := u.maintenanceData(c)
	if err != nil {
		return err
	}
	u.renderMaintenance(c, d, "")
	return nil
}

func (u *UI) maintenanceAdd(c *Ctx) error {
	if err := needOperator(c); err != nil {
		return err
	}
	f, err := readWindowForm(c)
	if err != nil {
		return err
	}
	err = c.API("POST", "/api/v1/maintenance", f.body(c), nil)
	return c.answer(err, "/ui/pemeliharaan", "mnt-added", "mnt.failed", func(msg string) error {
		d, err := u.maintenanceData(c)
		if err != nil {
			return err
		}
		d.Form = f
		u.renderMaintenance(c, d, msg)
		return nil
	})
}

// window finds window id among those the user sees.
func (u *UI) window(c *Ctx) (*maintenanceData, *WindowRow, error) {
	id, err := strconv.ParseInt(c.R.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return nil, nil, &APIError{Status: http.StatusNotFound, Msg: c.T("mnt.notfound")}
	}
	d, err := u.maintenanceData(c)
	if err != nil {
		return nil, nil, err
	}
	for _, list := range [][]WindowRow{d.Upcoming, d.Rest} {
		for i := range list {
			if list[i].ID == id {
				return d, &list[i], nil
			}
		}
	}
	return nil, nil, &APIError{Status: http.StatusNotFound, Msg: c.T("mnt.notfound")}
}

func (u *UI) renderWindow(c *Ctx, d *maintenanceData, errMsg string) {
	key, id := "mnt.edit.title", d.Form.ID
	if d.Delete != nil {
		key, id = "mnt.delete.title", d.Delete.ID
	}
	c.RenderPage("pemeliharaan", &Page{Title: fmt.Sprintf(c.T(key), id), Nav: "pemeliharaan", Data: d, Error: errMsg})
}

func (u *UI) maintenanceEditPage(c *Ctx) error {
	if err := needOperator(c); err != nil {
		return err
	}
	d, w, err := u.window(c)
	if err != nil {
		return err
	}
	d.Edit = w
	pg := &Page{Lang: c.Lang, loc: u.o.Zone()}
	d.Form = formOf(pg, w.Window)
	u.renderWindow(c, d, "")
	return nil
}

func (u *UI) maintenanceEdit(c *Ctx) error {
	if err := needOperator(c); err != nil {
		return err
	}
	f, err := readWindowForm(c)
	if err != nil {
		return err
	}
	id := c.R.PathValue("id")
	err = c.API("PUT", "/api/v1/maintenance/"+url.PathEscape(id), f.body(c), nil)
	return c.answer(err, "/ui/pemeliharaan", "mnt-updated", "mnt.failed", func(msg string) error {
		d, w, err := u.window(c)
		if err != nil {
			return err
		}
		d.Edit, d.Form = w, f
		d.Form.ID = w.ID
		u.renderWindow(c, d, msg)
		return nil
	})
}

func (u *UI) maintenanceDeletePage(c *Ctx) error {
	if err := needOperator(c); err != nil {
		return err
	}
	d, w, err := u.window(c)
	if err != nil {
		return err
	}
	d.Delete = w
	u.renderWindow(c, d, "")
	return nil
}

func (u *UI) maintenanceDelete(c *Ctx) error {
	if err := needOperator(c); err != nil {
		return err
	}
	c.R.Body = http.MaxBytesReader(c.W, c.R.Body, maxFormBytes)
	if err := c.R.ParseForm(); err != nil {
		return &APIError{Status: http.StatusBadRequest, Msg: err.Error()}
	}
	if c.R.PostForm.Get("confirm") != "yes" {
		d, w, err := u.window(c)
		if err != nil {
			return err
		}
		d.Delete, d.DeleteUnconfirmed = w, true
		c.Status = http.StatusBadRequest
		u.renderWindow(c, d, c.T("mnt.delete.unsure"))
		return nil
	}
	err := c.API("DELETE", "/api/v1/maintenance/"+url.PathEscape(c.R.PathValue("id")), nil, nil)
	return c.answer(err, "/ui/pemeliharaan", "mnt-deleted", "mnt.delfailed", func(msg string) error {
		d, w, err := u.window(c)
		if err != nil {
			return err
		}
		d.Delete = w
		u.renderWindow(c, d, msg)
		return nil
	})
}
