package webui

import (
	"fmt"
	"html/template"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// Languages: Bahasa Indonesia by default, English on request.
const (
	LangID = "id"
	LangEN = "en"
	// langCookie keeps the choice of /ui/bahasa.
	langCookie = "pantau_lang"
)

// msgs holds each key's text in Bahasa Indonesia and English. Every
// page's file adds its own with strings(), at init.
var msgs = map[string][2]string{}

// strings adds texts; a key given twice is a programming error.
func texts(m map[string][2]string) {
	for k, v := range m {
		if _, dup := msgs[k]; dup {
			panic("webui: text " + k + " defined twice")
		}
		msgs[k] = v
	}
}

// translate returns key's text in lang; a missing key shows itself, so
// that a test finds it.
func translate(lang, key string) string {
	v, ok := msgs[key]
	if !ok {
		return "??" + key + "??"
	}
	if lang == LangEN {
		return v[1]
	}
	return v[0]
}

// langOf is the request's language: the cookie /ui/bahasa sets, else
// Bahasa Indonesia.
func langOf(r *http.Request) string {
	if c, err := r.Cookie(langCookie); err == nil && c.Value == LangEN {
		return LangEN
	}
	return LangID
}

// flashes are the success messages a redirect may name (?ok=KEY).
var flashes = map[string]bool{}

func isFlash(k string) bool { return flashes[k] }

// flash declares success messages: key → texts (stored as "flash.KEY").
func flash(m map[string][2]string) {
	for k, v := range m {
		flashes[k] = true
		texts(map[string][2]string{"flash." + k: v})
	}
}

var (
	printerID = message.NewPrinter(language.Indonesian)
	printerEN = message.NewPrinter(language.English)
)

// T translates key.
func (p *Page) T(key string) string { return translate(p.Lang, key) }

// Tf translates key and formats it with args.
func (p *Page) Tf(key string, args ...any) string {
	return fmt.Sprintf(translate(p.Lang, key), args...)
}

// Num writes v with dec decimals as the language writes numbers
// ("1.234,5" in Bahasa Indonesia).
func (p *Page) Num(v float64, dec int) string { return formatNum(p.Lang, v, dec) }

func formatNum(lang string, v float64, dec int) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "–"
	}
	pr := printerID
	if lang == LangEN {
		pr = printerEN
	}
	s := pr.Sprintf("%.*f", dec, v)
	if strings.HasPrefix(s, "-") && strings.Trim(s[1:], "0.,") == "" {
		s = s[1:]
	}
	return s
}

// Int writes n with thousands separators.
func (p *Page) Int(n int64) string { return formatNum(p.Lang, float64(n), 0) }

// Pct writes a percentage with three decimals ("99,950 %"); nil is "–".
func (p *Page) Pct(v *float64) string {
	if v == nil {
		return "–"
	}
	return formatNum(p.Lang, *v, 3) + " %"
}

// Ratio writes a 0–1 ratio as a percentage with one decimal.
func (p *Page) Ratio(v *float64) string {
	if v == nil {
		return "–"
	}
	return formatNum(p.Lang, *v*100, 1) + " %"
}

var monthsShort = [2][12]string{
	{"Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des"},
	{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"},
}

// Date writes a day: "7 Des 2026".
func (p *Page) Date(t time.Time) string {
	if t.IsZero() {
		return "–"
	}
	t = t.In(p.loc)
	i := 0
	if p.Lang == LangEN {
		i = 1
	}
	return strconv.Itoa(t.Day()) + " " + monthsShort[i][t.Month()-1] + " " + strconv.Itoa(t.Year())
}

// Stamp writes a moment to the minute in the Pemda's zone: "7 Des 2026
// 14.05 WIB" (Bahasa Indonesia writes the time with a dot).
func (p *Page) Stamp(t time.Time) string {
	if t.IsZero() {
		return "–"
	}
	t = t.In(p.loc)
	clock := t.Format("15.04")
	if p.Lang == LangEN {
		clock = t.Format("15:04")
	}
	return p.Date(t) + " " + clock + " " + t.Format("MST")
}

// Input writes t for an <input type="datetime-local"> in the Pemda's zone.
func (p *Page) Input(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(p.loc).Format("2006-01-02T15:04")
}

// Duration writes seconds as "1 hari 2 jam 5 menit" / "1 d 2 h 5 min".
func (p *Page) Duration(seconds float64) string {
	d := time.Duration(seconds * float64(time.Second)).Round(time.Minute)
	h, m := int(d.Hours()), int(d.Minutes())%60
	days := h / 24
	h %= 24
	u := [3]string{"hari", "jam", "menit"}
	if p.Lang == LangEN {
		u = [3]string{"d", "h", "min"}
	}
	var parts []string
	if days > 0 {
		parts = append(parts, strconv.Itoa(days)+" "+u[0])
	}
	if h > 0 {
		parts = append(parts, strconv.Itoa(h)+" "+u[1])
	}
	if m > 0 || len(parts) == 0 {
		parts = append(parts, strconv.Itoa(m)+" "+u[2])
	}
	return strings.Join(parts, " ")
}

// Ago writes how long ago t was: "5 menit lalu".
func (p *Page) Ago(t time.Time) string {
	if t.IsZero() {
		return p.T("never")
	}
	d := p.Now.Sub(t)
	if d < time.Minute {
		return p.T("ago.now")
	}
	return fmt.Sprintf(p.T("ago.fmt"), p.Duration(d.Seconds()))
}

// State is a state's label in the language (up, down, degraded, ...).
func (p *Page) State(s string) string { return p.T("state." + s) }

// funcs are the template functions beyond the Page's methods.
func funcs(*UI) template.FuncMap {
	return template.FuncMap{
		"add": func(a, b int) int { return a + b },
		"deref": func(f *float64) float64 {
			if f == nil {
				return 0
			}
			return *f
		},
		"join": strings.Join,
		"eq1":  func(a, b string) bool { return a == b },
	}
}

func init() {
	texts(map[string][2]string{
		"app":               {"Pantau", "Pantau"},
		"skip":              {"Langsung ke isi", "Skip to content"},
		"nav.label":         {"Menu utama", "Main menu"},
		"nav.beranda":       {"Beranda", "Home"},
		"nav.gangguan":      {"Gangguan", "Outages"},
		"nav.pemeliharaan":  {"Pemeliharaan", "Maintenance"},
		"nav.reviu":         {"Reviu & Tindak Lanjut", "Reviews & follow-ups"},
		"nav.laporan":       {"Laporan", "Reports"},
		"nav.inventaris":    {"Inventaris", "Inventory"},
		"nav.agen":          {"Agen", "Agents"},
		"nav.notifikasi":    {"Notifikasi", "Notifications"},
		"nav.audit":         {"Audit", "Audit"},
		"nav.sandi":         {"Ganti kata sandi", "Change password"},
		"nav.keluar":        {"Keluar", "Log out"},
		"lang.other":        {"English", "Bahasa Indonesia"},
		"lang.other.code":   {"en", "id"},
		"user.as":           {"Masuk sebagai", "Logged in as"},
		"role.viewer":       {"pemantau", "viewer"},
		"role.operator":     {"operator", "operator"},
		"role.admin":        {"admin", "admin"},
		"scope.all":         {"semua OPD", "every OPD"},
		"error.title":       {"Tidak dapat diproses", "Cannot be done"},
		"error.internal":    {"Terjadi kesalahan di server; lihat log collector.", "The server failed; see the collector's log."},
		"error.back":        {"Kembali ke Beranda", "Back to Home"},
		"notfound.title":    {"Halaman tidak ditemukan", "Page not found"},
		"notfound.text":     {"Alamat ini tidak ada di Pantau.", "There is no such page in Pantau."},
		"insecure":          {"Koneksi ini tidak terenkripsi: kata sandi dan sesi dapat disadap. Aktifkan TLS (tls.cert_file, tls.key_file) di collector.yml.", "This connection is not encrypted: passwords and sessions can be read on the way. Turn on TLS (tls.cert_file, tls.key_file) in collector.yml."},
		"never":             {"belum pernah", "never"},
		"ago.now":           {"baru saja", "just now"},
		"ago.fmt":           {"%s lalu", "%s ago"},
		"state.up":          {"normal", "up"},
		"state.down":        {"putus", "down"},
		"state.degraded":    {"menurun", "degraded"},
		"state.maintenance": {"pemeliharaan", "maintenance"},
		"state.nodata":      {"tanpa data", "no data"},
		"state.unknown":     {"tidak diketahui", "unknown"},
		"denied":            {"Anda tidak berhak membuka bagian ini", "You may not open this part"},
		"save":              {"Simpan", "Save"},
		"cancel":            {"Batal", "Cancel"},
		"delete":            {"Hapus", "Delete"},
		"edit":              {"Ubah", "Edit"},
		"none":              {"Tidak ada.", "None."},
		"required":          {"wajib", "required"},
		"footer":            {"Pantau %s — pemantauan jaringan untuk bukti SPBE", "Pantau %s — network monitoring for SPBE evidence"},
	})
}
