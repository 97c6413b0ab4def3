package tgconsole

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

const (
	// maxMessage is Telegram's limit for a message, counted here in UTF-16
	// units of the HTML (Telegram counts after parsing the entities, so
	// this is conservative).
	maxMessage = 4096
	maxTitle   = 300 // runes of a title or name shown
	maxReason  = 1000
)

// tr picks the text of the console's language.
func (c *Console) tr(id, en string) string {
	if c.lang == "en" {
		return en
	}
	return id
}

// trf formats the text of the console's language.
func (c *Console) trf(id, en string, args ...any) string {
	return fmt.Sprintf(c.tr(id, en), args...)
}

var htmlEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// esc escapes s for Telegram's HTML parse mode, which needs only &, < and
// > escaped outside attributes.
func esc(s string) string { return htmlEscaper.Replace(s) }

// clip cuts s to at most n runes, ending with "…" when cut.
func clip(s string, n int) string {
	i := 0
	for j := range s {
		if i == n {
			return s[:j] + "…"
		}
		i++
	}
	return s
}

// utf16Len is the length of s in UTF-16 code units, which is how Telegram
// counts (a rune outside the BMP, such as most emoji, is 2).
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n++
		if r >= 0x10000 {
			n++
		}
	}
	return n
}

// fit is the last guard of the message limit: a text still too long is
// cut after its last whole line that fits. (The replies cut their lists
// themselves, and no tag of theirs spans lines.)
func fit(s string) string {
	if utf16Len(s) <= maxMessage {
		return s
	}
	n, cut := 0, 0
	for i, r := range s {
		n++
		if r >= 0x10000 {
			n++
		}
		if n > maxMessage-2 {
			break
		}
		if r == '\n' {
			cut = i
		}
	}
	return s[:cut] + "\n…"
}

// line is one line of a reply; items are the lines of a list, which are
// counted in "… and N more" when the reply is cut.
type line struct {
	text string
	item bool
}

// join joins lines and then the tail lines, leaving out items from the
// first that does not fit in a message; "… dan N lainnya" tells how many.
func (c *Console) join(lines []line, tail ...string) string {
	all := make([]string, 0, len(lines)+len(tail))
	items := 0
	for _, l := range lines {
		all = append(all, l.text)
		if l.item {
			items++
		}
	}
	all = append(all, tail...)
	if s := strings.Join(all, "\n"); utf16Len(s) <= maxMessage {
		return s
	}
	more := func(n int) string { return c.trf("… dan %d lainnya", "… and %d more", n) }
	budget := maxMessage - utf16Len(strings.Join(tail, "\n")) - utf16Len(more(items)) - 2
	var kept []string
	used, shown := 0, 0
	for _, l := range lines {
		n := utf16Len(l.text) + 1
		if used+n > budget {
			break
		}
		kept = append(kept, l.text)
		used += n
		if l.item {
			shown++
		}
	}
	// No heading or blank line just before the cut.
	for len(kept) > 1 && !lines[len(kept)-1].item {
		kept = kept[:len(kept)-1]
	}
	kept = append(kept, more(items-shown))
	return strings.Join(append(kept, tail...), "\n")
}

// clock formats t in the console's zone: "10:00 WIT" today, else
// "2026-10-10 10:00 WIT".
func (c *Console) clock(t time.Time) string {
	t = t.In(c.zone)
	layout := "15:04"
	y, m, d := t.Date()
	if ny, nm, nd := c.now().In(c.zone).Date(); y != ny || m != nm || d != nd {
		layout = "2006-01-02 15:04"
	}
	return t.Format(layout) + " " + zoneName(t)
}

// zoneName is WIB, WITA or WIT for UTC+7, +8 and +9, else the zone's
// abbreviation, else "UTC+hh:mm".
func zoneName(t time.Time) string {
	name, off := t.Zone()
	switch off {
	case 7 * 3600:
		return "WIB"
	case 8 * 3600:
		return "WITA"
	case 9 * 3600:
		return "WIT"
	}
	if name == "" || strings.ContainsAny(name[:1], "+-0123456789") {
		return "UTC" + t.Format("-07:00")
	}
	return name
}

// FormatDuration writes d in words to the second, leaving out units that
// are zero: "2 jam", "1 jam 30 menit", "3 menit 23 detik", "1 hari 2
// jam"; with lang "en": "2 h", "1 h 30 min", "3 min 23 s", "1 d 2 h".
// Outages are measured to the 10-second slot, so their seconds are real.
func FormatDuration(d time.Duration, lang string) string {
	day, hour, minute, second := "hari", "jam", "menit", "detik"
	if lang == "en" {
		day, hour, minute, second = "d", "h", "min", "s"
	}
	if d < time.Second {
		return "0 " + second
	}
	secs := int64(d / time.Second)
	parts := make([]string, 0, 4)
	for _, u := range []struct {
		n    int64
		name string
	}{{secs / 86400, day}, {secs / 3600 % 24, hour}, {secs / 60 % 60, minute}, {secs % 60, second}} {
		if u.n > 0 {
			parts = append(parts, strconv.FormatInt(u.n, 10)+" "+u.name)
		}
	}
	return strings.Join(parts, " ")
}

func severityMark(s string) string {
	switch s {
	case "critical":
		return "🔴"
	case "warning":
		return "⚠️"
	case "info":
		return "ℹ️"
	}
	return "•"
}

// formatStatus answers /status: the problems grouped by district (sorted
// by name, "no district" last), each group by start time.
func (c *Console) formatStatus(ps []Problem) string {
	if len(ps) == 0 {
		return c.tr("✅ Semua normal. Tidak ada gangguan.", "✅ All clear. No problems.")
	}
	ps = append([]Problem(nil), ps...)
	sort.SliceStable(ps, func(i, j int) bool {
		a, b := ps[i], ps[j]
		if (a.District == "") != (b.District == "") {
			return b.District == ""
		}
		if a.District != b.District {
			if la, lb := strings.ToLower(a.District), strings.ToLower(b.District); la != lb {
				return la < lb
			}
			return a.District < b.District
		}
		if !a.Since.Equal(b.Since) {
			return a.Since.Before(b.Since)
		}
		return a.ID < b.ID
	})
	lines := []line{{text: c.trf("<b>Gangguan saat ini: %d</b>", "<b>Current problems: %d</b>", len(ps))}}
	for i, p := range ps {
		if i == 0 || p.District != ps[i-1].District {
			group := p.District
			if group == "" {
				group = c.tr("Tanpa distrik", "No district")
			}
			lines = append(lines, line{}, line{text: "<b>" + esc(clip(group, maxTitle)) + "</b>"})
		}
		lines = append(lines, line{text: c.problemLine(p), item: true})
	}
	return c.join(lines)
}

func (c *Console) problemLine(p Problem) string {
	id := p.ID
	if r := []rune(id); len(r) > 8 {
		id = string(r[:8])
	}
	title := p.Title
	if title == "" {
		title = p.Rule
	}
	var b strings.Builder
	b.WriteString(severityMark(p.Severity))
	b.WriteString(" <code>")
	b.WriteString(esc(id))
	b.WriteString("</code> ")
	b.WriteString(esc(clip(title, maxTitle)))
	if !p.Since.IsZero() {
		b.WriteString(c.trf(" (sejak %s)", " (since %s)", c.clock(p.Since)))
	}
	if p.Acked != "" {
		b.WriteString(" ✔ ack ")
		b.WriteString(esc(clip(p.Acked, 64)))
	}
	return b.String()
}

func (c *Console) stateWord(s string) string {
	switch s {
	case "up":
		return c.tr("naik", "up")
	case "degraded":
		return c.tr("terdegradasi", "degraded")
	case "down":
		return c.tr("putus", "down")
	case "maintenance":
		return c.tr("pemeliharaan", "maintenance")
	case "nodata", "":
		return c.tr("tanpa data", "no data")
	}
	return esc(clip(s, 32))
}

func (c *Console) causeWord(s string) string {
	switch s {
	case "parent":
		return c.tr("induk", "parent")
	case "isp":
		return "ISP"
	case "power":
		return c.tr("listrik", "power")
	case "unknown", "":
		return c.tr("tidak diketahui", "unknown")
	}
	return esc(clip(s, 32))
}

// number writes v with at most one decimal, without a trailing ".0".
func number(v float64) string {
	return strings.TrimSuffix(strconv.FormatFloat(v, 'f', 1, 64), ".0")
}

func usable(v *float64) bool {
	return v != nil && !math.IsNaN(*v) && !math.IsInf(*v, 0) && *v >= 0
}

// formatSite answers /site.
func (c *Console) formatSite(s SiteStatus) string {
	name := s.Name
	if name == "" {
		name = s.ID
	}
	lines := []line{{text: fmt.Sprintf("<b>%s</b> (<code>%s</code>)", esc(clip(name, maxTitle)), esc(clip(s.ID, 64)))}}
	if s.OPD != "" {
		lines = append(lines, line{text: "OPD: " + esc(clip(s.OPD, maxTitle))})
	}
	if s.District != "" {
		lines = append(lines, line{text: c.tr("Distrik: ", "District: ") + esc(clip(s.District, maxTitle))})
	}
	if len(s.Links) == 0 {
		lines = append(lines, line{text: c.tr("Link: tidak ada", "Links: none")})
	} else {
		lines = append(lines, line{text: c.tr("Link:", "Links:")})
	}
	for _, l := range s.Links {
		t := "• <code>" + esc(clip(l.ID, 64)) + "</code>: " + c.stateWord(l.State)
		if usable(l.LossRatio) {
			p := number(*l.LossRatio * 100)
			if p == "0" && *l.LossRatio > 0 {
				p = "&lt;0.1"
			}
			t += ", loss " + p + "%"
		}
		if usable(l.RTTSeconds) {
			ms := *l.RTTSeconds * 1000
			v := number(ms)
			if ms >= 10 {
				v = strconv.FormatFloat(ms, 'f', 0, 64)
			}
			t += ", RTT " + v + " ms"
		}
		lines = append(lines, line{text: t, item: true})
	}
	return c.join(lines, c.outageLine(s.LastOutage))
}

func (c *Console) outageLine(o *Outage) string {
	if o == nil {
		return c.tr("Tidak ada gangguan dalam 30 hari terakhir.", "No outage in the last 30 days.")
	}
	end, until := c.tr("masih berlangsung", "ongoing"), c.now()
	if !o.End.IsZero() {
		end, until = c.clock(o.End), o.End
	}
	return c.trf("Gangguan terakhir: %s – %s (%s), penyebab: %s", "Last outage: %s – %s (%s), cause: %s",
		c.clock(o.Start), end, FormatDuration(until.Sub(o.Start), c.lang), c.causeWord(o.Cause))
}

func (c *Console) siteNotFound(id string) string {
	return c.trf("Lokasi %s tidak ditemukan.", "No site %s.", esc(clip(id, 64)))
}

func (c *Console) usageSite() string {
	return c.tr("Pakai: /site &lt;lokasi&gt;, mis. /site dinkes",
		"Usage: /site &lt;site&gt;, e.g. /site dinkes")
}

func (c *Console) usageAck() string {
	return c.tr("Pakai: /ack &lt;id&gt; — id peringatan dari /status (minimal 4 karakter), mis. /ack 3f9a12c4",
		"Usage: /ack &lt;id&gt; — the alert id from /status (at least 4 characters), e.g. /ack 3f9a12c4")
}

func (c *Console) usageSilence() string {
	return c.tr("Pakai: /silence &lt;lokasi&gt; &lt;durasi&gt; &lt;alasan&gt;\n"+
		"Durasi mis. 30m, 2h, 1h30m, 1d (maks. 7d).\n"+
		"Contoh: /silence dinkes 2h pemeliharaan jaringan",
		"Usage: /silence &lt;site&gt; &lt;duration&gt; &lt;reason&gt;\n"+
			"Duration e.g. 30m, 2h, 1h30m, 1d (at most 7d).\n"+
			"Example: /silence dinkes 2h network maintenance")
}

func (c *Console) help() string {
	return c.tr("<b>Perintah Pantau</b>\n"+
		"/status — gangguan saat ini\n"+
		"/site &lt;lokasi&gt; — keadaan satu lokasi\n"+
		"/ack &lt;id&gt; — akui peringatan (id dari /status)\n"+
		"/silence &lt;lokasi&gt; &lt;durasi&gt; &lt;alasan&gt; — bungkam peringatan lokasi, mis. /silence dinkes 2h pemeliharaan\n"+
		"/help — bantuan ini",
		"<b>Pantau commands</b>\n"+
			"/status — current problems\n"+
			"/site &lt;site&gt; — state of one site\n"+
			"/ack &lt;id&gt; — acknowledge an alert (id from /status)\n"+
			"/silence &lt;site&gt; &lt;duration&gt; &lt;reason&gt; — silence a site's alerts, e.g. /silence dinkes 2h maintenance\n"+
			"/help — this help")
}
