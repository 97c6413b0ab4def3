package webui

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
)

func init() {
	texts(map[string][2]string{
		"inv.title":           {"Inventaris", "Inventory"},
		"inv.tabs":            {"Bagian inventaris", "Parts of the inventory"},
		"inv.tab.sites":       {"Lokasi", "Sites"},
		"inv.tab.links":       {"Link", "Links"},
		"inv.tab.devices":     {"Perangkat", "Devices"},
		"inv.tab.services":    {"Layanan", "Services"},
		"inv.tab.unmatched":   {"Belum cocok", "Unmatched"},
		"inv.tab.import":      {"Impor CSV", "CSV import"},
		"inv.filter":          {"Saring", "Filter"},
		"inv.filter.hint":     {"id, nama, lokasi, OPD atau target", "id, name, site, OPD or target"},
		"inv.filter.go":       {"Tampilkan", "Show"},
		"inv.count":           {"%s dari %s baris (halaman %d dari %d)", "%s of %s rows (page %d of %d)"},
		"inv.prev":            {"← Sebelumnya", "← Previous"},
		"inv.next":            {"Berikutnya →", "Next →"},
		"inv.col.id":          {"ID", "ID"},
		"inv.col.name":        {"Nama", "Name"},
		"inv.col.kind":        {"Jenis", "Kind"},
		"inv.col.opd":         {"OPD", "OPD"},
		"inv.col.district":    {"Kecamatan", "District"},
		"inv.col.parent":      {"Induk", "Parent"},
		"inv.col.tz":          {"Zona waktu", "Time zone"},
		"inv.col.site":        {"Lokasi", "Site"},
		"inv.col.type":        {"Tipe", "Type"},
		"inv.col.isp":         {"ISP", "ISP"},
		"inv.col.bandwidth":   {"Bandwidth", "Bandwidth"},
		"inv.col.match":       {"Dicocokkan dengan", "Matched by"},
		"inv.col.contract":    {"Kontrak (target, berakhir)", "Contract (target, end)"},
		"inv.col.vendor":      {"Vendor / model", "Vendor / model"},
		"inv.col.serial":      {"Nomor seri", "Serial"},
		"inv.col.asset":       {"Kode BMD", "Asset code"},
		"inv.col.warranty":    {"Garansi s.d.", "Warranty until"},
		"inv.col.category":    {"Kategori", "Category"},
		"inv.col.probe":       {"Pemeriksaan", "Check"},
		"inv.col.agent":       {"Agen", "Agent"},
		"inv.col.target":      {"Target / perangkat", "Target / device"},
		"inv.col.interface":   {"Antarmuka", "Interface"},
		"inv.col.action":      {"Tindakan", "Action"},
		"inv.none":            {"Tidak ada baris yang cocok.", "No matching rows."},
		"inv.noinv":           {"Inventaris tidak dapat dibaca", "The inventory cannot be read"},
		"inv.unmatched.intro": {"Target ICMP, antarmuka SNMP dan pemeriksaan plugin yang punya data dalam 7 hari terakhir tetapi tidak cocok dengan link atau layanan mana pun: laporan tidak menghitungnya.", "ICMP targets, SNMP interfaces and plugin checks with data in the last 7 days that match no link or service: the reports do not count them."},
		"inv.unmatched.err":   {"Daftar yang belum cocok tidak tersedia", "The unmatched list is not available"},
		"inv.unmatched.more":  {"%d baris lagi tidak ditampilkan; gunakan saringan.", "%d more rows are not shown; use the filter."},
		"inv.unmatched.svc":   {"tambahkan sebagai layanan di inventory.yml", "add it as a service in inventory.yml"},
		"inv.makelink":        {"Jadikan link", "Make a link"},
		"inv.link.title":      {"Tambah link", "Add a link"},
		"inv.link.intro":      {"Link baru ditambahkan ke inventaris melalui PUT /api/v1/inventory; isi lain inventaris tidak berubah.", "The new link is added to the inventory through PUT /api/v1/inventory; nothing else in the inventory changes."},
		"inv.link.id":         {"ID link", "Link id"},
		"inv.link.idhint":     {"huruf kecil, angka, titik, garis bawah atau tanda hubung", "lower-case letters, digits, '.', '_' or '-'"},
		"inv.link.icmp":       {"Target ICMP", "ICMP target"},
		"inv.link.icmpagent":  {"Hanya agen ini (opsional)", "Only this agent (optional)"},
		"inv.link.snmpdev":    {"Perangkat SNMP", "SNMP device"},
		"inv.link.snmpif":     {"Antarmuka SNMP (ifName)", "SNMP interface (ifName)"},
		"inv.link.add":        {"Tambahkan link", "Add the link"},
		"inv.link.pick":       {"— pilih lokasi —", "— choose a site —"},
		"inv.link.failed":     {"Link tidak ditambahkan", "The link was not added"},
		"inv.import.intro":    {"Unggah daftar lokasi dan link dalam format CSV yang sama dengan pantau-collector inventory import --csv (satu baris per link; lihat docs/spbe-report.md). Anda melihat pratinjau lebih dulu; inventaris baru berubah setelah Anda menekan Terapkan.", "Upload the site and link list as CSV, in the format of pantau-collector inventory import --csv (one row per link; see docs/spbe-report.md). You see a preview first; the inventory changes only when you press Apply."},
		"inv.import.rules":    {"Lokasi dan link di CSV ditambahkan, atau menggantikan yang ber-ID sama (kolom yang tidak ada di berkas, dan kunci yang tidak punya kolom seperti service_hours, tetap). Perangkat, layanan, pengaturan bawaan dan lokasi/link lain tidak berubah; impor tidak pernah menghapus.", "The CSV's sites and links are added, or replace those with the same id (columns the file leaves out, and keys without a column such as service_hours, keep their values). Devices, services, defaults and other sites/links stay; an import never removes anything."},
		"inv.import.file":     {"Berkas CSV (paling besar %s)", "CSV file (at most %s)"},
		"inv.import.check":    {"Periksa", "Check"},
		"inv.import.denied":   {"Impor mengganti inventaris: hanya admin tanpa batas OPD yang boleh.", "An import replaces the inventory: only an admin without an OPD scope may."},
		"inv.import.nofile":   {"Pilih berkas CSV.", "Choose a CSV file."},
		"inv.import.toolarge": {"Berkas CSV lebih besar dari %s; bagi menjadi beberapa berkas.", "The CSV file is larger than %s; split it into several files."},
		"inv.import.problems": {"%d masalah ditemukan; inventaris tidak diubah. Perbaiki berkas lalu unggah lagi.", "%d problem(s) found; the inventory was not changed. Fix the file and upload it again."},
		"inv.import.preview":  {"Pratinjau impor %s", "Preview of the import of %s"},
		"inv.import.ok":       {"Berkas valid. Perubahan terhadap inventaris saat ini:", "The file is valid. Changes against the inventory in force:"},
		"inv.import.nochange": {"Berkas valid, tetapi tidak mengubah apa pun.", "The file is valid but changes nothing."},
		"inv.import.added":    {"Ditambahkan", "Added"},
		"inv.import.changed":  {"Diubah", "Changed"},
		"inv.import.same":     {"Tidak berubah: %d", "Unchanged: %d"},
		"inv.import.removed":  {"Dihapus: tidak ada (impor tidak menghapus)", "Removed: none (an import never removes)"},
		"inv.import.apply":    {"Terapkan", "Apply"},
		"inv.import.expired":  {"Pratinjau ini sudah kedaluwarsa atau bukan milik Anda; unggah berkas lagi.", "This preview has expired or is not yours; upload the file again."},
		"inv.import.moved":    {"Inventaris berubah sejak pratinjau dibuat; periksa pratinjau baru ini lalu tekan Terapkan lagi.", "The inventory changed since the preview; check this new preview and press Apply again."},
		"inv.import.failed":   {"Impor tidak diterapkan", "The import was not applied"},
		"inv.import.more":     {"… dan %d lagi", "… and %d more"},
		"inv.section.sites":   {"Lokasi", "Sites"},
		"inv.section.links":   {"Link", "Links"},
		"inv.section.opds":    {"Nama OPD", "OPD names"},
	})
	flash(map[string][2]string{
		"impor": {"Impor diterapkan: inventaris baru sudah berlaku.", "The import was applied: the new inventory is in force."},
		"link":  {"Link ditambahkan ke inventaris.", "The link was added to the inventory."},
	})
	page("GET /ui/inventaris", func(u *UI) func(*Ctx) error { return u.inventaris })
	page("POST /ui/inventaris/impor", func(u *UI) func(*Ctx) error { return u.inventarisImport })
	page("POST /ui/inventaris/terapkan", func(u *UI) func(*Ctx) error { return u.inventarisApply })
	page("GET /ui/inventaris/link", func(u *UI) func(*Ctx) error { return u.inventarisLinkForm })
	// The answers to the POSTs are pages at their addresses; a GET of one
	// (the language switch, a reload) goes back to the form.
	for _, p := range []string{"GET /ui/inventaris/impor", "GET /ui/inventaris/terapkan"} {
		page(p, func(*UI) func(*Ctx) error {
			return func(c *Ctx) error { c.Redirect("/ui/inventaris?tab=import", ""); return nil }
		})
	}
	page("POST /ui/inventaris/link", func(u *UI) func(*Ctx) error { return u.inventarisAddLink })
}

// Limits of the inventory page.
const (
	invPageRows = 100
	// maxCSVBytes bounds an uploaded CSV: 5,000 links are about 1.5 MB.
	maxCSVBytes = 4 << 20
	// importTTL is how long a preview can be applied.
	importTTL = 30 * time.Minute
	// maxPendingImports bounds the previews kept (one per user).
	maxPendingImports = 16
	maxUnmatchedRows  = 200
)

// flex is a JSON string, number or boolean read as text.
type flex string

func (f *flex) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		*f = flex(s)
		return nil
	}
	if string(b) == "null" {
		*f = ""
		return nil
	}
	*f = flex(strings.TrimSpace(string(b)))
	return nil
}

type invSite struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Kind     string `json:"kind"`
	OPD      string `json:"opd"`
	District string `json:"district"`
	Parent   string `json:"parent"`
	TimeZone string `json:"timezone"`
}

type invLink struct {
	ID        string `json:"id"`
	Site      string `json:"site"`
	Name      string `json:"name"`
	Type      string `json:"type"`
	ISP       string `json:"isp"`
	Bandwidth flex   `json:"bandwidth"`
	ICMP      struct {
		Target string `json:"target"`
		Agent  string `json:"agent"`
	} `json:"icmp"`
	SNMP struct {
		Device    string `json:"device"`
		Interface string `json:"interface"`
	} `json:"snmp"`
	Contract *struct {
		Target flex `json:"target"`
		End    flex `json:"end"`
	} `json:"contract"`
}

type invDevice struct {
	ID          string `json:"id"`
	Site        string `json:"site"`
	Vendor      string `json:"vendor"`
	Model       string `json:"model"`
	Serial      string `json:"serial"`
	AssetCode   string `json:"asset_code"`
	WarrantyEnd flex   `json:"warranty_end"`
}

type invService struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Site     string `json:"site"`
	OPD      string `json:"opd"`
	Category string `json:"category"`
	Probe    struct {
		Measurement string `json:"measurement"`
		Target      string `json:"target"`
		Agent       string `json:"agent"`
	} `json:"probe"`
}

// unmatchedRow is a row of GET /api/v1/inventory/unmatched.
type unmatchedRow struct {
	Kind      string `json:"kind"`
	Agent     string `json:"agent"`
	Site      string `json:"site"`
	Target    string `json:"target"`
	Interface string `json:"interface"`
	OPD       string `json:"opd"`
}

// LinkURL is the address of "Jadikan link": the form pre-filled from
// the row.
func (r unmatchedRow) LinkURL() string {
	q := url.Values{"kind": {r.Kind}, "site": {r.Site}, "target": {r.Target}}
	if r.Interface != "" {
		q.Set("interface", r.Interface)
	}
	if r.Agent != "" {
		q.Set("agent", r.Agent)
	}
	return "/ui/inventaris/link?" + q.Encode()
}

// invTab is a tab of the page.
type invTab struct {
	Key, Path string
	Count     string // "" for none
	Active    bool
}

// invView is the page's data.
type invView struct {
	Tab, Q                  string
	Tabs                    []invTab
	Total, Shown, From      int
	CountText               string
	PageNo, Pages           int
	Prev, Next              string
	Sites                   []invSite
	Links                   []invLink
	Devices                 []invDevice
	Services                []invService
	Unmatched               []unmatchedRow
	UnmatchedMore           int
	CanImport               bool
	MaxCSV                  string
	Plan                    *importPlan
	Pending                 string
	Notice                  string // a warning above the preview
	Link                    *linkForm
	SiteIDs                 []string // the sites the link form offers
	UnmatchedErr, LoadError string
}

// tabKeys are the tabs in their order.
var tabKeys = []string{"sites", "links", "devices", "services", "unmatched", "import"}

func (u *UI) canImport(c *Ctx) bool {
	return u.o.Policy.Authorize(c.P, http.MethodPut, "/api/v1/inventory") == ""
}

func (u *UI) inventaris(c *Ctx) error {
	q := c.R.URL.Query()
	v := &invView{Tab: q.Get("tab"), Q: strings.TrimSpace(q.Get("q")), CanImport: u.canImport(c), MaxCSV: sizeText(maxCSVBytes)}
	if !slicesContains(tabKeys, v.Tab) || v.Tab == "import" && !v.CanImport {
		v.Tab = "sites"
	}
	v.PageNo, _ = strconv.Atoi(q.Get("hal"))
	return u.renderInventaris(c, v)
}

// renderInventaris reads what the tab shows through the API and renders
// the page.
func (u *UI) renderInventaris(c *Ctx, v *invView) error {
	var inv struct {
		Sites    []invSite    `json:"sites"`
		Links    []invLink    `json:"links"`
		Devices  []invDevice  `json:"devices"`
		Services []invService `json:"services"`
	}
	if err := c.API(http.MethodGet, "/api/v1/inventory?format=json", nil, &inv); err != nil {
		var ae *APIError
		if !errors.As(err, &ae) {
			return err
		}
		v.LoadError = c.T("inv.noinv") + ": " + ae.Msg
	}
	if v.Tab == "unmatched" {
		var rows []unmatchedRow
		if err := c.API(http.MethodGet, "/api/v1/inventory/unmatched", nil, &rows); err != nil {
			var ae *APIError
			if !errors.As(err, &ae) {
				return err
			}
			v.UnmatchedErr = c.T("inv.unmatched.err") + ": " + ae.Msg
		}
		rows = filterRows(rows, v.Q, func(r unmatchedRow) []string {
			return []string{r.Kind, r.Agent, r.Site, r.Target, r.Interface, r.OPD}
		})
		if len(rows) > maxUnmatchedRows {
			v.UnmatchedMore = len(rows) - maxUnmatchedRows
			rows = rows[:maxUnmatchedRows]
		}
		v.Unmatched = rows
	}
	if v.Link != nil {
		for _, s := range inv.Sites {
			v.SiteIDs = append(v.SiteIDs, s.ID)
		}
		if v.Link.Site != "" && !slicesContains(v.SiteIDs, v.Link.Site) {
			v.Link.Site = "" // not in the inventory: the user picks one
		}
	}
	counts := map[string]int{"sites": len(inv.Sites), "links": len(inv.Links), "devices": len(inv.Devices), "services": len(inv.Services)}
	for _, k := range tabKeys {
		if k == "import" && !v.CanImport {
			continue
		}
		t := invTab{Key: k, Path: "/ui/inventaris?tab=" + k, Active: k == v.Tab && v.Link == nil}
		if n, ok := counts[k]; ok {
			t.Count = formatNum(c.Lang, float64(n), 0)
		}
		v.Tabs = append(v.Tabs, t)
	}
	switch v.Tab {
	case "sites":
		rows := filterRows(inv.Sites, v.Q, func(s invSite) []string { return []string{s.ID, s.Name, s.OPD, s.District, s.Kind} })
		v.Sites = invPaginate(c, v, rows)
	case "links":
		rows := filterRows(inv.Links, v.Q, func(l invLink) []string {
			return []string{l.ID, l.Name, l.Site, l.ISP, l.Type, l.ICMP.Target, l.SNMP.Device, l.SNMP.Interface}
		})
		v.Links = invPaginate(c, v, rows)
	case "devices":
		rows := filterRows(inv.Devices, v.Q, func(d invDevice) []string {
			return []string{d.ID, d.Site, d.Vendor, d.Model, d.Serial, d.AssetCode}
		})
		v.Devices = invPaginate(c, v, rows)
	case "services":
		rows := filterRows(inv.Services, v.Q, func(s invService) []string {
			return []string{s.ID, s.Name, s.Site, s.OPD, s.Category, s.Probe.Measurement, s.Probe.Target}
		})
		v.Services = invPaginate(c, v, rows)
	}
	if v.Total > 0 {
		v.CountText = fmt.Sprintf(c.T("inv.count"), formatNum(c.Lang, float64(v.Shown), 0), formatNum(c.Lang, float64(v.Total), 0), v.PageNo, v.Pages)
	}
	title := c.T("inv.title")
	if v.Link != nil {
		title = c.T("inv.link.title")
	}
	c.RenderPage("inventaris", &Page{Title: title, Nav: "inventaris", Data: v})
	return nil
}

// filterRows keeps the rows one of whose fields contains q (any case).
func filterRows[T any](rows []T, q string, fields func(T) []string) []T {
	if q == "" {
		return rows
	}
	q = strings.ToLower(q)
	var out []T
	for _, r := range rows {
		for _, f := range fields(r) {
			if strings.Contains(strings.ToLower(f), q) {
				out = append(out, r)
				break
			}
		}
	}
	return out
}

// invPaginate cuts rows to the request's page (?hal=N) and sets the
// view's pager.
func invPaginate[T any](c *Ctx, v *invView, rows []T) []T {
	rows, p := paginate(c.R, rows, invPageRows, "hal")
	v.Total, v.Pages, v.PageNo, v.Prev, v.Next = p.Total, p.Pages, p.Page, p.Prev, p.Next
	v.From, v.Shown = p.From, len(rows)
	return rows
}

func slicesContains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func sizeText(n int64) string { return strconv.FormatInt(n>>20, 10) + " MiB" }

// pendingImport is an uploaded CSV between its preview and Apply, kept
// on the server (it can be megabytes: not in the page) for the user who
// uploaded it; Apply checks it again against the inventory then in
// force.
type pendingImport struct {
	user    string
	name    string
	data    []byte
	base    string // the SHA-256 of the inventory the preview was made on
	expires time.Time
}

// importStore holds the previews, at most one per user and
// maxPendingImports in all.
type importStore struct {
	mu sync.Mutex
	m  map[string]*pendingImport // random id → preview
}

// importStores are the UIs' stores (a UI is made once per collector; the
// map keeps UI's fields to webui.go).
var importStores sync.Map // *UI → *importStore

func (u *UI) imports() *importStore {
	s, _ := importStores.LoadOrStore(u, &importStore{m: map[string]*pendingImport{}})
	return s.(*importStore)
}

func userKey(c *Ctx) string { return c.P.Kind + ":" + c.P.ID }

// put keeps p and returns its id; the user's earlier preview goes.
func (s *importStore) put(p *pendingImport, now time.Time) string {
	b := make([]byte, 16)
	rand.Read(b)
	id := hex.EncodeToString(b)
	s.mu.Lock()
	defer s.mu.Unlock()
	var oldest string
	for k, x := range s.m {
		if x.user == p.user || now.After(x.expires) {
			delete(s.m, k)
			continue
		}
		if oldest == "" || x.expires.Before(s.m[oldest].expires) {
			oldest = k
		}
	}
	if len(s.m) >= maxPendingImports {
		delete(s.m, oldest)
	}
	s.m[id] = p
	return id
}

// get returns the user's preview id, if it has not expired.
func (s *importStore) get(id, user string, now time.Time) *pendingImport {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.m[id]
	if !ok || p.user != user || now.After(p.expires) {
		return nil
	}
	return p
}

func (s *importStore) drop(id string) {
	s.mu.Lock()
	delete(s.m, id)
	s.mu.Unlock()
}

// csvName is the uploaded file's name as the problems show it.
func csvName(name string) string {
	name = filepath.Base(strings.ReplaceAll(name, `\`, "/"))
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == ':' {
			return '_'
		}
		return r
	}, name)
	if r := []rune(name); len(r) > 100 {
		name = string(r[:100])
	}
	if name == "" || name == "." || name == "/" {
		name = "upload.csv"
	}
	return name
}

// inventarisImport checks an uploaded CSV and shows the preview.
func (u *UI) inventarisImport(c *Ctx) error {
	v := &invView{Tab: "import", CanImport: u.canImport(c), MaxCSV: sizeText(maxCSVBytes)}
	if !v.CanImport {
		c.Status = http.StatusForbidden
		c.RenderPage("error", &Page{Title: c.T("error.title"), Error: c.T("inv.import.denied")})
		return nil
	}
	fail := func(status int, msg string) error {
		c.Status = status
		v.Notice = msg
		return u.renderInventaris(c, v)
	}
	if c.R.ContentLength > maxCSVBytes+maxFormBytes {
		return fail(http.StatusRequestEntityTooLarge, fmt.Sprintf(c.T("inv.import.toolarge"), sizeText(maxCSVBytes)))
	}
	c.R.Body = http.MaxBytesReader(c.W, c.R.Body, maxCSVBytes+maxFormBytes)
	if err := c.R.ParseMultipartForm(maxCSVBytes + maxFormBytes); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return fail(http.StatusRequestEntityTooLarge, fmt.Sprintf(c.T("inv.import.toolarge"), sizeText(maxCSVBytes)))
		}
		return fail(http.StatusBadRequest, c.T("inv.import.nofile"))
	}
	defer c.R.MultipartForm.RemoveAll()
	f, fh, err := c.R.FormFile("csv")
	if err != nil {
		return fail(http.StatusBadRequest, c.T("inv.import.nofile"))
	}
	defer f.Close()
	if fh.Size > maxCSVBytes {
		return fail(http.StatusRequestEntityTooLarge, fmt.Sprintf(c.T("inv.import.toolarge"), sizeText(maxCSVBytes)))
	}
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(f); err != nil {
		return fail(http.StatusBadRequest, c.T("inv.import.nofile"))
	}
	p := &pendingImport{user: userKey(c), name: csvName(fh.Filename), data: buf.Bytes()}
	return u.preview(c, v, p, "")
}

// preview plans p against the inventory in force and shows the plan,
// keeping p for Apply when it can be applied.
func (u *UI) preview(c *Ctx, v *invView, p *pendingImport, notice string) error {
	var current []byte
	if err := c.API(http.MethodGet, "/api/v1/inventory", nil, &current); err != nil {
		return err
	}
	plan, err := planImport(current, p.name, p.data)
	if err != nil {
		return err
	}
	v.Plan, v.Notice = plan, notice
	if len(plan.Problems) > 0 {
		c.Status = http.StatusBadRequest
	} else if plan.Changes > 0 {
		p.base, p.expires = plan.Base, u.o.Now().Add(importTTL)
		v.Pending = u.imports().put(p, u.o.Now())
	}
	return u.renderInventaris(c, v)
}

// inventarisApply checks the kept CSV again against the inventory in
// force and, when the inventory has not changed since the preview,
// replaces it through the API.
func (u *UI) inventarisApply(c *Ctx) error {
	v := &invView{Tab: "import", CanImport: u.canImport(c), MaxCSV: sizeText(maxCSVBytes)}
	c.R.Body = http.MaxBytesReader(c.W, c.R.Body, maxFormBytes)
	if err := c.R.ParseForm(); err != nil {
		c.Status = http.StatusBadRequest
		v.Notice = c.T("inv.import.expired")
		return u.renderInventaris(c, v)
	}
	id := c.R.PostForm.Get("id")
	p := u.imports().get(id, userKey(c), u.o.Now())
	if !v.CanImport || p == nil {
		c.Status = http.StatusBadRequest
		if !v.CanImport {
			c.Status = http.StatusForbidden
		}
		v.Notice = c.T("inv.import.expired")
		return u.renderInventaris(c, v)
	}
	var current []byte
	if err := c.API(http.MethodGet, "/api/v1/inventory", nil, &current); err != nil {
		return err
	}
	plan, err := planImport(current, p.name, p.data)
	if err != nil {
		return err
	}
	if plan.Base != p.base || len(plan.Problems) > 0 {
		u.imports().drop(id)
		return u.preview(c, v, p, c.T("inv.import.moved"))
	}
	if err := c.APIType(http.MethodPut, "/api/v1/inventory", "application/yaml", bytes.NewReader(plan.Merged), nil); err != nil {
		var ae *APIError
		if !errors.As(err, &ae) {
			return err
		}
		c.Status = ae.Status
		v.Plan, v.Pending = plan, id
		v.Notice = c.T("inv.import.failed") + ": " + ae.Msg
		return u.renderInventaris(c, v)
	}
	u.imports().drop(id)
	c.Redirect("/ui/inventaris?tab=links", "impor")
	return nil
}

// linkForm is the form that adds a link.
type linkForm struct {
	Kind                                                    string
	ID, Site, Name, Type, ICMPTarget, ICMPAgent, Device, IF string
}

// Types are the link types the form offers.
func (*linkForm) Types() []string { return []string{"fibre", "radio", "vsat", "leo"} }

var nonID = regexp.MustCompile(`[^a-z0-9._-]+`)

// suggestID makes a link id of the row's site and target.
func suggestID(parts ...string) string {
	var keep []string
	for _, p := range parts {
		if p = strings.Trim(nonID.ReplaceAllString(strings.ToLower(p), "-"), "-._"); p != "" {
			keep = append(keep, p)
		}
	}
	id := strings.Join(keep, "-")
	if len(id) > 64 {
		id = strings.TrimRight(id[:64], "-._")
	}
	return id
}

// inventarisLinkForm shows the form of "Jadikan link", pre-filled from
// an unmatched row.
func (u *UI) inventarisLinkForm(c *Ctx) error {
	q := c.R.URL.Query()
	f := &linkForm{Kind: q.Get("kind"), Site: q.Get("site"), Type: "fibre"}
	switch f.Kind {
	case "snmp":
		f.Device, f.IF = q.Get("target"), q.Get("interface")
		f.ID = suggestID(f.Site, f.Device, f.IF)
	default:
		f.Kind = "icmp"
		f.ICMPTarget, f.ICMPAgent = q.Get("target"), q.Get("agent")
		f.ID = suggestID(f.Site, f.ICMPTarget)
	}
	v := &invView{Tab: "unmatched", CanImport: u.canImport(c), Link: f}
	return u.renderInventaris(c, v)
}

// inventarisAddLink adds one link to the inventory through PUT.
func (u *UI) inventarisAddLink(c *Ctx) error {
	c.R.Body = http.MaxBytesReader(c.W, c.R.Body, maxFormBytes)
	if err := c.R.ParseForm(); err != nil {
		return &APIError{Status: http.StatusBadRequest, Msg: err.Error()}
	}
	pf := c.R.PostForm
	get := func(k string) string { return strings.TrimSpace(pf.Get(k)) }
	f := &linkForm{Kind: get("kind"), ID: get("id"), Site: get("site"), Name: get("name"), Type: get("type"),
		ICMPTarget: get("icmp_target"), ICMPAgent: get("icmp_agent"), Device: get("snmp_device"), IF: get("snmp_interface")}
	v := &invView{Tab: "unmatched", CanImport: u.canImport(c), Link: f}
	fail := func(status int, msg string) error {
		c.Status = status
		v.Notice = c.T("inv.link.failed") + ": " + msg
		return u.renderInventaris(c, v)
	}
	if !v.CanImport {
		return fail(http.StatusForbidden, c.T("inv.import.denied"))
	}
	for _, k := range []string{"kind", "id", "site", "name", "type", "icmp_target", "icmp_agent", "snmp_device", "snmp_interface"} {
		// YAML cannot hold it: the merged inventory would not be written.
		if !utf8.ValidString(pf.Get(k)) {
			return fail(http.StatusBadRequest, k+": not valid UTF-8")
		}
	}
	var current []byte
	if err := c.API(http.MethodGet, "/api/v1/inventory", nil, &current); err != nil {
		var ae *APIError
		if errors.As(err, &ae) {
			return fail(ae.Status, ae.Msg)
		}
		return err
	}
	merged, err := addLink(current, [][2]string{{"id", f.ID}, {"site", f.Site}, {"name", f.Name}, {"type", f.Type},
		{"icmp.target", f.ICMPTarget}, {"icmp.agent", f.ICMPAgent}, {"snmp.device", f.Device}, {"snmp.interface", f.IF}})
	if err != nil {
		return err
	}
	if err := c.APIType(http.MethodPut, "/api/v1/inventory", "application/yaml", bytes.NewReader(merged), nil); err != nil {
		var ae *APIError
		if errors.As(err, &ae) {
			return fail(ae.Status, ae.Msg)
		}
		return err
	}
	c.Redirect("/ui/inventaris?tab=links&q="+url.QueryEscape(f.ID), "link")
	return nil
}
