package webui

import (
	"cmp"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/report"
)

// The Laporan page: every product of the SPBE evidence pack (docs/spbe-
// report.md, Products; docs/api.md, Reports and alerts) for a chosen
// month and OPD, as plain links to GET /api/v1/report, and the evidence
// bundle (GET /api/v1/evidence) as a GET form. The browser downloads them
// itself with its session cookie: the UI proxies nothing, so a PDF or a
// bundle of many megabytes never passes through a page handler.

func init() {
	texts(map[string][2]string{
		"laporan.title":          {"Laporan", "Reports"},
		"laporan.intro":          {"Produk paket bukti SPBE untuk bulan dan OPD yang dipilih. Tautan mengunduh langsung dari API collector dengan sesi Anda; setiap dokumen (kecuali CSV) diawali lembar pengesahan bernomor.", "The products of the SPBE evidence pack for the chosen month and OPD. The links download straight from the collector's API with your session; every document (but CSV) starts with a numbered approval sheet."},
		"laporan.choose":         {"Pilih periode dan lingkup", "Choose the period and scope"},
		"laporan.month":          {"Bulan", "Month"},
		"laporan.month.hint":     {"Laporan bulanan dan lembar OPD memakai bulan ini, paket reviu triwulannya, laporan tahunan tahunnya.", "The monthly report and the OPD sheet take this month, the review pack its quarter, the annual report its year."},
		"laporan.opd":            {"OPD", "OPD"},
		"laporan.opd.all":        {"Seluruh Pemda", "The whole Pemda"},
		"laporan.opd.mine":       {"Semua OPD saya", "All my OPDs"},
		"laporan.lang":           {"Bahasa dokumen", "Document language"},
		"laporan.lang.id":        {"Bahasa Indonesia", "Bahasa Indonesia"},
		"laporan.lang.en":        {"Inggris", "English"},
		"laporan.csv":            {"Format CSV", "CSV format"},
		"laporan.csv.id":         {"Excel berbahasa Indonesia (; dan koma desimal)", "Excel set to Indonesian (; and decimal commas)"},
		"laporan.csv.default":    {"Standar (, dan titik desimal)", "Standard (, and decimal points)"},
		"laporan.show":           {"Tampilkan", "Show"},
		"laporan.badmonth":       {"Bulan %q tidak dikenali (YYYY-MM); ditampilkan %s.", "Month %q is not understood (YYYY-MM); showing %s."},
		"laporan.badopd":         {"OPD %q tidak ada dalam lingkup Anda; ditampilkan seluruh lingkup Anda.", "OPD %q is not within your scope; showing your whole scope."},
		"laporan.products":       {"Produk", "Products"},
		"laporan.product":        {"Produk", "Product"},
		"laporan.period":         {"Periode", "Period"},
		"laporan.formats":        {"Unduh", "Download"},
		"laporan.p.monthly":      {"Laporan bulanan", "Monthly report"},
		"laporan.p.monthly.q":    {"Laporan triwulan (laporan bulanan atas satu triwulan)", "Quarterly report (the monthly report over a quarter)"},
		"laporan.p.monthly.y":    {"Rekap tahunan (laporan bulanan atas satu tahun)", "Year summary (the monthly report over a year)"},
		"laporan.p.opd-sheet":    {"Lembar OPD", "OPD sheet"},
		"laporan.p.review-pack":  {"Paket reviu triwulan", "Quarterly review pack"},
		"laporan.p.annual":       {"Laporan tahunan", "Annual report"},
		"laporan.opdsheet.need":  {"Pilih satu OPD (atau satu distrik) untuk lembar OPD.", "Choose one OPD (or one district) for the OPD sheet."},
		"laporan.district":       {"Distrik untuk lembar OPD", "District for the OPD sheet"},
		"laporan.district.none":  {"— (lembar OPD terpilih)", "— (the chosen OPD's sheet)"},
		"laporan.baddistrict":    {"Distrik %q tidak ada dalam lingkup Anda.", "District %q is not within your scope."},
		"laporan.csv.tables":     {"CSV per tabel (%d)", "CSV per table (%d)"},
		"laporan.f.html":         {"HTML", "HTML"},
		"laporan.f.pdf":          {"PDF", "PDF"},
		"laporan.f.xlsx":         {"XLSX", "XLSX"},
		"laporan.f.json":         {"JSON", "JSON"},
		"laporan.pdf.needs":      {"PDF dicetak oleh Chromium di server collector.", "PDF is printed by Chromium on the collector's server."},
		"laporan.pdf.ok":         {"Chromium tersedia: PDF dapat diunduh.", "Chromium is available: PDFs can be downloaded."},
		"laporan.pdf.missing":    {"Chromium tidak terpasang di server collector: tautan PDF akan dijawab 501 (Not Implemented). Minta admin memasang Chromium (apt install chromium) atau mengatur report.chromium. Pesan: %s", "Chromium is not installed on the collector's server: PDF links will answer 501 (Not Implemented). Ask an admin to install Chromium (apt install chromium) or to set report.chromium. Message: %s"},
		"laporan.pdf.unknown":    {"Bila tautan PDF dijawab 501, Chromium belum terpasang di server collector (apt install chromium).", "If a PDF link answers 501, Chromium is not installed on the collector's server (apt install chromium)."},
		"laporan.pdf.mark":       {"perlu Chromium", "needs Chromium"},
		"laporan.bundle":         {"Paket bukti SPBE (ZIP)", "SPBE evidence bundle (ZIP)"},
		"laporan.bundle.intro":   {"Satu berkas ZIP per unggahan ke evaluasi SPBE: satu folder per indikator dengan produk, notulen reviu, tindak lanjut dan berkas bukti yang diunggah, serta manifest.json berisi SHA-256 tiap berkas. Pembuatan paket setahun dapat memakan beberapa menit (PDF dicetak satu per satu).", "One ZIP file per upload to the SPBE evaluation: a folder per indicator with the products, the review minutes, the follow-ups and the uploaded evidence files, and manifest.json with each file's SHA-256. A year's bundle can take a few minutes (the PDFs are printed one by one)."},
		"laporan.bundle.period":  {"Periode paket", "Bundle period"},
		"laporan.bundle.ind":     {"Indikator", "Indicator"},
		"laporan.bundle.allind":  {"Semua indikator", "Every indicator"},
		"laporan.bundle.get":     {"Unduh paket bukti", "Download the bundle"},
		"laporan.bundle.noscope": {"Paket untuk seluruh lingkup Anda.", "The bundle covers your whole scope."},
		"laporan.period.month":   {"bulan %s", "month %s"},
		"laporan.period.quarter": {"triwulan %s", "quarter %s"},
		"laporan.period.year":    {"tahun %s", "year %s"},
		"laporan.noinv":          {"Collector belum punya inventaris: laporan memerlukan inventaris (inventory di collector.yml).", "The collector has no inventory: reports need one (inventory in collector.yml)."},
	})
	page("GET /ui/laporan", func(u *UI) func(*Ctx) error { return u.laporan })
}

// laporanOPD is an OPD a user may choose.
type laporanOPD struct {
	ID, Name string
}

// laporanOPDs lists the OPDs of the inventory the user sees (GET
// /api/v1/inventory?format=json, which the API filters by the user's
// scope), sorted by id, and whether there is an inventory.
func laporanOPDs(c *Ctx) ([]laporanOPD, bool, error) {
	opds, _, found, err := laporanInventory(c)
	return opds, found, err
}

// laporanInventory is laporanOPDs with the district sites the user sees
// (an OPD sheet may cover one).
func laporanInventory(c *Ctx) (opds, districts []laporanOPD, found bool, err error) {
	var inv struct {
		OPDs []struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		} `json:"opds"`
		Sites []struct {
			ID   string `json:"id"`
			Name string `json:"name"`
			Kind string `json:"kind"`
			OPD  string `json:"opd"`
		} `json:"sites"`
		Services []struct {
			Site string `json:"site"`
			OPD  string `json:"opd"`
		} `json:"services"`
	}
	err = c.API("GET", "/api/v1/inventory?format=json", nil, &inv)
	var ae *APIError
	if errors.As(err, &ae) && ae.Status == http.StatusNotFound {
		return nil, nil, false, nil
	}
	if err != nil {
		return nil, nil, false, err
	}
	names := map[string]string{}
	for _, o := range inv.OPDs {
		names[o.ID] = o.Name
	}
	seen := map[string]bool{}
	var out []laporanOPD
	add := func(id string) {
		if id == "" || seen[id] || !c.P.Sees(id) {
			return
		}
		seen[id] = true
		out = append(out, laporanOPD{ID: id, Name: names[id]})
	}
	siteOPD := map[string]string{}
	for _, s := range inv.Sites {
		opd := s.OPD
		if opd == "" && s.Kind == "opd" {
			opd = s.ID
		}
		siteOPD[s.ID] = opd
		if s.Kind == "opd" && s.ID == opd && names[opd] == "" {
			names[opd] = s.Name
		}
		add(opd)
		if s.Kind == "district" && c.P.Sees(opd) {
			districts = append(districts, laporanOPD{ID: s.ID, Name: s.Name})
		}
	}
	for _, sv := range inv.Services {
		if sv.OPD != "" {
			add(sv.OPD)
		} else {
			add(siteOPD[sv.Site])
		}
	}
	for i := range out {
		out[i].Name = names[out[i].ID]
	}
	byID := func(a, b laporanOPD) int { return cmp.Compare(a.ID, b.ID) }
	slices.SortFunc(out, byID)
	slices.SortFunc(districts, byID)
	return out, districts, true, nil
}

// laporanLink is one download.
type laporanLink struct {
	Format, Label, URL string
	PDF                bool
}

// laporanRow is one product of the page.
type laporanRow struct {
	Key, Period string
	Site        string // the district site of an OPD sheet
	Links       []laporanLink
	CSV         []laporanLink // one per table
	Need        string        // why the product is not offered (a text key)
}

// laporanPeriod is a choice of the bundle's period.
type laporanPeriod struct {
	Value, Label string
}

// laporanIndicator is an SPBE indicator the bundle can hold.
type laporanIndicator struct {
	Number int
	Name   string
}

// laporanData is the page's data.
type laporanData struct {
	Month, OPD, Lang, CSV string
	OPDs                  []laporanOPD
	District              string // a district site for the OPD sheet
	Districts             []laporanOPD
	Scoped                bool
	NoInventory           bool
	Rows                  []laporanRow
	PDFState              string // "ok", "missing" or "unknown"
	PDFMessage            string
	Periods               []laporanPeriod
	Indicators            []laporanIndicator
	Warnings              []string
}

func (u *UI) laporan(c *Ctx) error {
	q := c.R.URL.Query()
	now := u.o.Now().In(u.o.Zone())
	def := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -1, 0).Format("2006-01")
	d := &laporanData{Month: def, Lang: c.Lang, CSV: "default"}
	if c.Lang == LangID {
		d.CSV = "id"
	}
	if m := q.Get("bulan"); m != "" {
		if _, err := time.Parse("2006-01", m); err == nil {
			d.Month = m
		} else {
			d.Warnings = append(d.Warnings, fmt.Sprintf(c.T("laporan.badmonth"), laporanClip(m), d.Month))
		}
	}
	if l := q.Get("bahasa"); l == LangID || l == LangEN {
		d.Lang = l
	}
	if v := q.Get("csv"); v == "id" || v == "default" {
		d.CSV = v
	}
	opds, districts, found, err := laporanInventory(c)
	if err != nil {
		return err
	}
	d.OPDs, d.Districts, d.Scoped, d.NoInventory = opds, districts, c.P.Scoped(), !found
	if s := q.Get("distrik"); s != "" {
		if slices.ContainsFunc(districts, func(x laporanOPD) bool { return x.ID == s }) {
			d.District = s
		} else {
			d.Warnings = append(d.Warnings, fmt.Sprintf(c.T("laporan.baddistrict"), laporanClip(s)))
		}
	}
	if o := q.Get("opd"); o != "" {
		if slices.ContainsFunc(opds, func(x laporanOPD) bool { return x.ID == o }) {
			d.OPD = o
		} else {
			d.Warnings = append(d.Warnings, fmt.Sprintf(c.T("laporan.badopd"), laporanClip(o)))
		}
	}

	m, _ := time.Parse("2006-01", d.Month)
	quarter := fmt.Sprintf("%d-Q%d", m.Year(), (int(m.Month())-1)/3+1)
	year := strconv.Itoa(m.Year())
	d.Periods = []laporanPeriod{
		{year, fmt.Sprintf(c.T("laporan.period.year"), year)},
		{quarter, fmt.Sprintf(c.T("laporan.period.quarter"), quarter)},
		{d.Month, fmt.Sprintf(c.T("laporan.period.month"), d.Month)},
	}
	// The OPD sheet needs one OPD: the chosen one, or the user's only one.
	sheetOPD := d.OPD
	if sheetOPD == "" && len(opds) == 1 && c.P.Scoped() {
		sheetOPD = opds[0].ID
	}
	type want struct{ key, product, period, opd, site, need string }
	wants := []want{
		{"laporan.p.monthly", report.ProductMonthly, d.Month, d.OPD, "", ""},
		{"laporan.p.monthly.q", report.ProductMonthly, quarter, d.OPD, "", ""},
		{"laporan.p.monthly.y", report.ProductMonthly, year, d.OPD, "", ""},
		{"laporan.p.opd-sheet", report.ProductOPDSheet, d.Month, sheetOPD, "", ""},
		{"laporan.p.review-pack", report.ProductReviewPack, quarter, d.OPD, "", ""},
		{"laporan.p.annual", report.ProductAnnual, year, d.OPD, "", ""},
	}
	switch {
	case d.District != "":
		wants[3].opd, wants[3].site = "", d.District
	case sheetOPD == "":
		wants[3].need = "laporan.opdsheet.need"
	}
	for _, w := range wants {
		row := laporanRow{Key: w.key, Period: w.period, Need: w.need, Site: w.site}
		if w.need == "" && !d.NoInventory {
			link := func(format, table string) string {
				v := url.Values{"product": {w.product}, "period": {w.period}, "format": {format}, "lang": {d.Lang}}
				if w.opd != "" {
					v.Set("opd", w.opd)
				}
				if w.site != "" {
					v.Set("site", w.site)
				}
				if table != "" {
					v.Set("table", table)
					v.Set("csv_locale", d.CSV)
				}
				return "/api/v1/report?" + v.Encode()
			}
			for _, f := range []string{"html", "pdf", "xlsx", "json"} {
				row.Links = append(row.Links, laporanLink{Format: f, Label: c.T("laporan.f." + f), URL: link(f, ""), PDF: f == "pdf"})
			}
			tables := report.ProductTableNames[w.product]
			if w.product == report.ProductMonthly {
				tables = report.TableNames
			}
			for _, t := range tables {
				row.CSV = append(row.CSV, laporanLink{Format: "csv", Label: t, URL: link("csv", t)})
			}
		}
		d.Rows = append(d.Rows, row)
	}

	d.PDFState = "unknown"
	if u.o.PDF != nil {
		if err := u.o.PDF(); err != nil {
			d.PDFState, d.PDFMessage = "missing", err.Error()
		} else {
			d.PDFState = "ok"
		}
	}
	if bm, err := report.BundleMap(); err == nil {
		for _, b := range bm {
			d.Indicators = append(d.Indicators, laporanIndicator{b.Indicator.Number, b.Indicator.Name})
		}
	}
	c.RenderPage("laporan", &Page{Title: c.T("laporan.title"), Data: d})
	return nil
}

// laporanClip shortens a value quoted back on the page.
func laporanClip(s string) string { return report.ClipValue(s) }
