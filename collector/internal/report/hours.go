package report

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/pantau-noc/pantau/collector/internal/calendar"
	"github.com/pantau-noc/pantau/collector/internal/inventory"
	"github.com/pantau-noc/pantau/collector/internal/sla"
)

// Service hours in the report: the availability over each link's, site's
// and service's service hours beside the around-the-clock figure, the
// summary over them, the contract's basis, and notes on the holiday
// calendar (a year missing or provisional).

func init() { maps.Copy(text, hoursText) }

var hoursText = map[string][2]string{
	"fig.service_hours":      {"ketersediaan jam layanan", "service-hours availability"},
	"fig.holidays":           {"kalender hari libur", "holiday calendar"},
	"fig.service_hours.head": {"Ketersediaan jam layanan", "Service-hours availability"},
	"m.service_hours": {"Ketersediaan jam layanan = waktu (naik + terdegradasi) / waktu (naik + terdegradasi + putus), dihitung seperti ketersediaan tetapi hanya pada menit di dalam jam layanan jalur, lokasi atau layanan (service_hours di inventaris: hari dan jam menurut zona waktu lokasi), dan tidak pada hari libur nasional dan cuti bersama bila jam layanan mengecualikannya. Angka 24 jam tidak berubah. Kontrak dengan dasar jam layanan menghitung menit sebulan dan waktu putus hanya di dalam jam layanan.",
		"Service-hours availability = (up + degraded) / (up + degraded + down) time, computed as availability but only over the minutes inside the service hours of the link, site or service (service_hours in the inventory: days and times in the site's time zone), and not on national holidays and cuti bersama when the service hours exclude them. The around-the-clock figures are unchanged. A contract stated over service hours counts the month's minutes and down time inside service hours only."},
	"m.holidays.source": {"Kalender hari libur %d: %s (%s).", "Holiday calendar %d: %s (%s)."},
	"m.holidays.provisional": {"Kalender hari libur %d masih sementara: tanggal belum ditetapkan SKB 3 Menteri dan cuti bersama belum tercantum; perbarui berkas holidays-%d.yml di report.holidays_dir.",
		"The holiday calendar of %d is provisional: its dates are not yet set by the SKB 3 Menteri and it lists no cuti bersama; update holidays-%d.yml in report.holidays_dir."},
	"m.holidays.missing": {"Tidak ada kalender hari libur untuk tahun %s: hari libur pada tahun itu dihitung sebagai jam layanan. Tambahkan berkas holidays-TAHUN.yml di direktori report.holidays_dir.",
		"No holiday calendar for %s: holidays in that year are counted as service hours. Add a holidays-YEAR.yml file to the report.holidays_dir directory."},
	"basis.24x7":          {"24 jam", "around the clock"},
	"basis.service_hours": {"jam layanan", "service hours"},
}

// hoursColumns are added to the sites, links and services tables.
var hoursColumns = [][2]string{{"ketersediaan jam layanan %", "service-hours availability %"}, {"jam layanan", "service hours"}}

// hoursSummary adds the summary's service-hours figures and the
// calendar notes.
func hoursSummary(r *Report, comp *sla.Computation, cal *calendar.Calendar, p sla.Period) {
	var la, lk, sa, sk, va, vk int64
	has := false
	for _, l := range r.Links {
		la, lk = la+l.ServiceHoursAvailableSeconds, lk+l.ServiceHoursKnownSeconds
		has = has || l.ServiceHours != ""
	}
	for _, s := range r.Sites {
		sa, sk = sa+s.ServiceHoursAvailableSeconds, sk+s.ServiceHoursKnownSeconds
		has = has || s.ServiceHours != ""
	}
	for _, v := range r.Services {
		va, vk = va+v.ServiceHoursAvailableSeconds, vk+v.ServiceHoursKnownSeconds
		has = has || v.ServiceHours != ""
	}
	r.Summary.ServiceHoursAvailability = sla.Pct(la, lk)
	r.Summary.SiteServiceHoursAvailability = sla.Pct(sa, sk)
	r.Summary.ServiceServiceHoursAvailability = sla.Pct(va, vk)
	if !has {
		return
	}
	lang := r.Lang
	r.Methods = append(r.Methods, Note{Figure: "service_hours", Method: T(lang, "m.service_hours")})
	wide := p.WholeMonths()
	for y := wide.Start.Year(); y <= wide.End.AddDate(0, 0, -1).Year(); y++ {
		if yr := cal.Year(y); yr != nil {
			r.Methods = append(r.Methods, Note{Figure: "holidays", Method: fmt.Sprintf(T(lang, "m.holidays.source"), y, yr.Source, strings.TrimPrefix(yr.File, "builtin:"))})
			if yr.Provisional {
				r.Methods = append(r.Methods, Note{Figure: "holidays", Method: fmt.Sprintf(T(lang, "m.holidays.provisional"), y, y)})
			}
		}
	}
	if miss := comp.MissingHolidayYears(); len(miss) > 0 {
		ys := make([]string, len(miss))
		for i, y := range miss {
			ys[i] = fmt.Sprint(y)
		}
		r.HolidayWarning = fmt.Sprintf(T(lang, "m.holidays.missing"), strings.Join(ys, ", "))
		r.Methods = append(r.Methods, Note{Figure: "holidays", Method: r.HolidayWarning})
	}
}

// hoursTable inserts the service-hours columns and summary rows into a
// table Table built.
func (r *Report) hoursTable(t *Table) {
	lang := 0
	if r.Lang == LangEN {
		lang = 1
	}
	// The columns and rows go at the end, so that the columns of the
	// existing tables keep their positions for their readers.
	insertCol := func(cols []string, cell func(i int) []any) {
		t.Columns = append(slices.Clone(t.Columns), cols...)
		for i := range t.Rows {
			t.Rows[i] = append(slices.Clone(t.Rows[i]), cell(i)...)
		}
	}
	cols := []string{hoursColumns[0][lang], hoursColumns[1][lang]}
	cells := func(f *sla.Figures) []any {
		var sched any
		if f.ServiceHours != "" {
			sched = scheduleText(r.Lang, f.ServiceHours)
		}
		return []any{fp(f.ServiceHoursAvailability), sched}
	}
	switch t.Name {
	case "sites":
		insertCol(cols, func(i int) []any { return cells(&r.Sites[i].Figures) })
	case "links":
		insertCol(cols, func(i int) []any { return cells(&r.Links[i].Figures) })
	case "services":
		insertCol(cols, func(i int) []any { return cells(&r.Services[i].Figures) })
	case "contracts":
		insertCol([]string{[2]string{"dasar target", "target basis"}[lang]}, func(i int) []any {
			return []any{T(r.Lang, "basis."+basisOf(r.Contracts[i].Basis))}
		})
	case "summary":
		s := r.Summary
		for _, row := range []struct {
			label [2]string
			v     *float64
		}{
			{[2]string{"ketersediaan jam layanan jalur %", "link service-hours availability %"}, s.ServiceHoursAvailability},
			{[2]string{"ketersediaan jam layanan lokasi %", "site service-hours availability %"}, s.SiteServiceHoursAvailability},
			{[2]string{"ketersediaan jam layanan layanan %", "service service-hours availability %"}, s.ServiceServiceHoursAvailability},
		} {
			t.Rows = append(t.Rows, []any{row.label[lang], fp(row.v)})
		}
	}
}

func basisOf(b string) string {
	if b == "" {
		return inventory.Basis24x7
	}
	return b
}

// hoursFigure is the headline figure of service-hours availability, when
// any link has service hours.
func hoursFigure(p *htmlPage, r *Report) []htmlFigure {
	if r.Summary.ServiceHoursAvailability == nil {
		return nil
	}
	return []htmlFigure{{Label: T(p.Lang, "fig.service_hours.head"), Value: fmtPct(p.Lang, r.Summary.ServiceHoursAvailability)}}
}
