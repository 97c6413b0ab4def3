package report

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/sla"
	"github.com/pantau-noc/pantau/collector/internal/statedb"
)

// Table is one table of the report, as CSV files, XLSX sheets and HTML
// tables show it. Cells are string, int, int64, float64, Seconds, Month,
// Year or nil (no value).
type Table struct {
	Name    string   // file and sheet name: summary, sites, links, ...
	Title   string   // in the report's language
	Columns []string // in the report's language
	Rows    [][]any
}

// TableNames lists the tables in report order.
var TableNames = []string{"summary", "coverage", "sites", "links", "services", "incidents", "contracts", "capacity", "reviews", "followups", "changes", "assets", "expiries", "evidence", "methods"}

var columns = map[string][][2]string{
	"summary":   {{"butir", "item"}, {"nilai", "value"}},
	"coverage":  {{"bulan", "month"}, {"OPD dipantau", "OPD monitored"}, {"OPD seluruhnya", "OPD total"}, {"distrik dipantau", "districts monitored"}, {"distrik seluruhnya", "districts total"}},
	"sites":     {{"lokasi", "site"}, {"nama", "name"}, {"jenis", "kind"}, {"OPD", "OPD"}, {"distrik", "district"}, {"zona waktu", "time zone"}, {"jalur", "links"}, {"menit", "minutes"}, {"naik", "up"}, {"terdegradasi", "degraded"}, {"putus", "down"}, {"pemeliharaan", "maintenance"}, {"tanpa data", "no data"}, {"pemantau mati", "monitoring down"}, {"ketersediaan %", "availability %"}, {"kelengkapan %", "completeness %"}, {"kasus terburuk %", "worst case %"}, {"target %", "target %"}, {"memenuhi", "met"}, {"gangguan", "outages"}, {"MTTR menit", "MTTR minutes"}, {"MTBF menit", "MTBF minutes"}, {"menit UPS pakai baterai", "minutes on UPS battery"}},
	"links":     {{"jalur", "link"}, {"nama", "name"}, {"lokasi", "site"}, {"OPD", "OPD"}, {"jenis", "type"}, {"ISP", "ISP"}, {"sirkuit", "circuit"}, {"zona waktu", "time zone"}, {"menit", "minutes"}, {"naik", "up"}, {"terdegradasi", "degraded"}, {"putus", "down"}, {"pemeliharaan", "maintenance"}, {"tanpa data", "no data"}, {"pemantau mati", "monitoring down"}, {"ketersediaan %", "availability %"}, {"kelengkapan %", "completeness %"}, {"kasus terburuk %", "worst case %"}, {"target %", "target %"}, {"memenuhi", "met"}, {"gangguan", "outages"}, {"putus karena ISP", "down: ISP"}, {"putus karena induk", "down: parent"}, {"putus karena listrik/agen", "down: power/agent"}, {"putus tidak diketahui", "down: unknown"}, {"MTTR menit", "MTTR minutes"}, {"MTBF menit", "MTBF minutes"}},
	"services":  {{"layanan", "service"}, {"nama", "name"}, {"kategori", "category"}, {"URL", "URL"}, {"lokasi", "site"}, {"OPD", "OPD"}, {"pemeriksaan", "check"}, {"zona waktu", "time zone"}, {"menit", "minutes"}, {"naik", "up"}, {"terdegradasi", "degraded"}, {"putus", "down"}, {"pemeliharaan", "maintenance"}, {"tanpa data", "no data"}, {"pemantau mati", "monitoring down"}, {"ketersediaan %", "availability %"}, {"kelengkapan %", "completeness %"}, {"kasus terburuk %", "worst case %"}, {"target %", "target %"}, {"memenuhi", "met"}, {"gangguan", "outages"}, {"putus karena layanan", "down: service"}, {"putus karena jaringan", "down: network"}, {"putus tidak diketahui", "down: unknown"}, {"MTTR menit", "MTTR minutes"}, {"MTBF menit", "MTBF minutes"}},
	"incidents": {{"jalur", "link"}, {"layanan", "service"}, {"lokasi", "site"}, {"mulai", "start"}, {"selesai", "end"}, {"durasi (j:mm:dd)", "duration (h:mm:ss)"}, {"lama putus (j:mm:dd)", "down (h:mm:ss)"}, {"putus saat pemeliharaan (j:mm:dd)", "down in maintenance (h:mm:ss)"}, {"putus dalam periode (j:mm:dd)", "down in period (h:mm:ss)"}, {"penyebab", "cause"}, {"dihitung kontrak", "counted by contract"}},
	"contracts": {{"jalur", "link"}, {"ISP", "ISP"}, {"sirkuit", "circuit"}, {"bulan", "month"}, {"berlaku", "in force"}, {"menit sebulan", "minutes in month"}, {"terhitung (j:mm:dd)", "counted (h:mm:ss)"}, {"detik terhitung", "counted seconds"}, {"dikecualikan: pemeliharaan (j:mm:dd)", "excluded: maintenance (h:mm:ss)"}, {"dikecualikan: listrik (j:mm:dd)", "excluded: power (h:mm:ss)"}, {"dikecualikan: induk (j:mm:dd)", "excluded: parent (h:mm:ss)"}, {"dikecualikan: singkat (j:mm:dd)", "excluded: short (h:mm:ss)"}, {"menit diizinkan", "allowed minutes"}, {"ketersediaan ISP %", "ISP availability %"}, {"target %", "target %"}, {"memenuhi", "met"}, {"biaya bulanan (Rp)", "monthly fee (Rp)"}, {"rumus", "formula"}, {"restitusi (Rp)", "restitution (Rp)"}, {"bulan selesai", "month ended"}, {"dapat diklaim", "claimable"}, {"kelengkapan data %", "data completeness %"}, {"status data", "data status"}},
	"capacity":  {{"jalur", "link"}, {"lokasi", "site"}, {"arah", "direction"}, {"kapasitas bit/s", "capacity bit/s"}, {"sumber kapasitas", "capacity source"}, {"sampel", "samples"}, {"rata-rata bit/s", "mean bit/s"}, {"p95 bit/s", "p95 bit/s"}, {"puncak bit/s", "peak bit/s"}, {"jam tersibuk", "busy hour"}, {"volume byte", "volume bytes"}, {"utilisasi rata-rata %", "mean utilization %"}, {"utilisasi p95 %", "p95 utilization %"}, {"utilisasi puncak %", "peak utilization %"}, {"tren bit/s per hari", "trend bit/s per day"}, {"prakiraan 80 %", "80 % forecast"}},
	"reviews":   {{"periode", "period"}, {"tanggal", "date"}, {"peserta", "participants"}, {"temuan", "findings"}},
	"followups": {{"no", "no"}, {"dibuka", "opened"}, {"rekomendasi", "recommendation"}, {"penanggung jawab", "owner"}, {"tenggat", "due"}, {"status", "status"}, {"per tanggal", "as of"}, {"bukti", "evidence"}},
	"changes":   {{"waktu", "time"}, {"jenis pelaku", "actor kind"}, {"pelaku", "actor"}, {"id pelaku", "actor id"}, {"tindakan", "action"}, {"objek", "object"}, {"ringkasan", "summary"}},
	"assets":    {{"perangkat", "device"}, {"lokasi", "site"}, {"OPD", "OPD"}, {"vendor", "vendor"}, {"model", "model"}, {"nomor seri", "serial number"}, {"tahun perolehan", "year acquired"}, {"kode BMD", "asset code (BMD)"}, {"akhir garansi", "warranty end"}, {"akhir kontrak", "contract end"}},
	"expiries":  {{"jenis", "what"}, {"id", "id"}, {"lokasi", "site"}, {"keterangan", "detail"}, {"berakhir", "ends"}, {"sisa hari", "days left"}},
	"evidence":  {{"bagian laporan", "report section"}, {"indikator", "indicator"}, {"nama indikator", "indicator name"}, {"aspek", "aspect"}, {"keterangan", "note"}},
	"methods":   {{"angka", "figure"}, {"metode", "method"}},
}

func (r *Report) cols(name string) []string {
	var out []string
	for _, c := range columns[name] {
		if r.Lang == LangEN {
			out = append(out, c[1])
		} else {
			out = append(out, c[0])
		}
	}
	return out
}

func fp(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

func (r *Report) yesNo(b *bool) any {
	if b == nil {
		return nil
	}
	if *b {
		return T(r.Lang, "yes")
	}
	return T(r.Lang, "no")
}

// actorKind names the kind of an audit row's actor (a kind this version
// does not know is shown as it is).
func (r *Report) actorKind(kind string) string {
	if _, ok := text["actor."+kind]; ok {
		return T(r.Lang, "actor."+kind)
	}
	return kind
}

// target is an SLA target, or no value when none is set.
func target(v float64) any {
	if v == 0 {
		return nil
	}
	return v
}

// tsec writes an outage's start or end, to the second.
func tsec(t time.Time) string { return t.Format("2006-01-02 15:04:05 MST") }

// Seconds is a duration cell: h:mm:ss in text (CSV, HTML), a duration
// in the workbook.
type Seconds int64

// String writes s as h:mm:ss.
func (s Seconds) String() string {
	neg := ""
	if s < 0 {
		neg, s = "-", -s
	}
	return fmt.Sprintf("%s%d:%02d:%02d", neg, s/3600, s/60%60, s%60)
}

// mins is a minute count from seconds: whole when it is, else a
// fraction (three decimals in text).
func mins(sec int64) any {
	if sec%60 == 0 {
		return int(sec / 60)
	}
	return float64(sec) / 60
}

// whole rounds a rate or volume to a whole number; no samples, no value.
func whole(v float64, samples int) any {
	if samples == 0 {
		return nil
	}
	return int64(math.Round(v))
}

// Tables returns every table of the report.
func (r *Report) Tables() []Table {
	var out []Table
	for _, n := range TableNames {
		t, _ := r.Table(n)
		out = append(out, t)
	}
	return out
}

// Table returns one table by name.
func (r *Report) Table(name string) (Table, error) {
	if _, ok := columns[name]; !ok {
		return Table{}, fmt.Errorf("unknown table %q (want one of %s)", name, strings.Join(TableNames, ", "))
	}
	title := name
	if name == "coverage" {
		title = "coverage_hist"
	}
	t := Table{Name: name, Title: T(r.Lang, title), Columns: r.cols(name)}
	add := func(cells ...any) { t.Rows = append(t.Rows, cells) }
	switch name {
	case "summary":
		s := r.Summary
		id := r.Lang != LangEN
		lbl := func(idText, enText string) string {
			if id {
				return idText
			}
			return enText
		}
		add(lbl("periode", "period"), r.Period)
		add(lbl("awal", "start"), r.Start.Format(time.RFC3339))
		add(lbl("akhir (tidak termasuk)", "end (exclusive)"), r.End.Format(time.RFC3339))
		add(lbl("zona waktu", "time zone"), r.TimeZone)
		add(lbl("cakupan", "scope"), r.Scope.Name)
		add(lbl("lokasi", "sites"), s.Sites)
		add(lbl("jalur", "links"), s.Links)
		add(lbl("jalur dengan data", "links with data"), s.LinksWithData)
		add(lbl("jalur memenuhi SLA", "links meeting SLA"), s.LinksMeetingSLA)
		add(lbl("jalur tidak memenuhi SLA", "links missing SLA"), s.LinksMissingSLA)
		add(lbl("ketersediaan jalur %", "link availability %"), fp(s.Availability))
		add(lbl("kelengkapan data %", "data completeness %"), fp(s.Completeness))
		add(lbl("kasus terburuk %", "worst case %"), fp(s.WorstCase))
		add(lbl("ketersediaan lokasi %", "site availability %"), fp(s.SiteAvailability))
		add(lbl("layanan", "services"), s.Services)
		add(lbl("layanan dengan data", "services with data"), s.ServicesWithData)
		add(lbl("layanan memenuhi SLA", "services meeting SLA"), s.ServicesMeetingSLA)
		add(lbl("layanan tidak memenuhi SLA", "services missing SLA"), s.ServicesMissingSLA)
		add(lbl("ketersediaan layanan %", "service availability %"), fp(s.ServiceAvailability))
		add(lbl("gangguan layanan", "service outages"), s.ServiceOutages)
		add(lbl("menit putus layanan", "service down minutes"), mins(s.ServiceDowntimeSeconds))
		add(lbl("gangguan", "outages"), s.Outages)
		add(lbl("menit lokasi putus (lokasi putus bila semua jalurnya putus)", "site downtime minutes (a site is down when all its links are)"), mins(s.SiteDowntimeSeconds))
		add(lbl("menit-jalur putus (dijumlah per jalur)", "link-minutes down (summed over links)"), mins(s.DowntimeSeconds))
		for _, c := range []string{"isp", "parent", "power", "unknown"} {
			add(lbl("menit putus: ", "down minutes: ")+T(r.Lang, "cause."+c), mins(s.DowntimeByCauseSeconds[c]))
		}
		add(lbl("restitusi dapat diklaim (Rp)", "restitution claimable (Rp)"), s.Restitution)
		add(lbl("restitusi sementara, bulan berjalan (Rp)", "restitution provisional, months still running (Rp)"), s.RestitutionProvisional)
		add(lbl("cakupan OPD %", "OPD coverage %"), fp(s.CoverageOPD))
		add(lbl("cakupan distrik %", "district coverage %"), fp(s.CoverageDistrict))
		add(lbl("tindak lanjut terbuka", "open follow-ups"), s.OpenFollowUps)
		add(lbl("tindak lanjut selesai", "closed follow-ups"), s.ClosedFollowUps)
		add(lbl("berakhir dalam 90 hari", "ending within 90 days"), s.ExpiringWithin90d)
	case "coverage":
		for _, m := range r.Coverage.History {
			add(Month(m.Month), m.OPDMonitored, m.OPDTotal, m.DistrictMonitored, m.DistrictTotal)
		}
	case "sites":
		for _, s := range r.Sites {
			f := &s.Figures
			add(s.Site, s.Name, T(r.Lang, "kind."+s.Kind), opdCell(s.OPD, s.OPDName), s.District, s.TimeZone, s.Links,
				mins(f.Seconds), mins(f.UpSeconds), mins(f.DegradedSeconds), mins(f.DownSeconds), mins(f.MaintSeconds), mins(f.NoDataSeconds), mins(f.MonitoringSeconds),
				fp(s.Availability), fp(s.Completeness), fp(s.WorstCase), target(s.Target), r.yesNo(s.Met), s.Outages, fp(s.MTTRMinutes), fp(s.MTBFMinutes), s.OnBatteryMinutes)
		}
	case "links":
		for _, l := range r.Links {
			c, f := l.DowntimeByCauseSeconds, &l.Figures
			add(l.Link, l.Name, l.Site, opdCell(l.OPD, l.OPDName), l.Type, l.ISP, l.Circuit, l.TimeZone,
				mins(f.Seconds), mins(f.UpSeconds), mins(f.DegradedSeconds), mins(f.DownSeconds), mins(f.MaintSeconds), mins(f.NoDataSeconds), mins(f.MonitoringSeconds),
				fp(l.Availability), fp(l.Completeness), fp(l.WorstCase), target(l.Target), r.yesNo(l.Met), l.Outages,
				mins(c["isp"]), mins(c["parent"]), mins(c["power"]), mins(c["unknown"]), fp(l.MTTRMinutes), fp(l.MTBFMinutes))
		}
	case "services":
		for _, v := range r.Services {
			c, f := v.DowntimeByCauseSeconds, &v.Figures
			add(v.Service, v.Name, v.Category, v.URL, v.Site, opdCell(v.OPD, v.OPDName), v.Check, v.TimeZone,
				mins(f.Seconds), mins(f.UpSeconds), mins(f.DegradedSeconds), mins(f.DownSeconds), mins(f.MaintSeconds), mins(f.NoDataSeconds), mins(f.MonitoringSeconds),
				fp(v.Availability), fp(v.Completeness), fp(v.WorstCase), target(v.Target), r.yesNo(v.Met), v.Outages,
				mins(c["service"]), mins(c["network"]), mins(c["unknown"]), fp(v.MTTRMinutes), fp(v.MTBFMinutes))
		}
	case "incidents":
		for _, i := range r.Incidents {
			var counted any // a service or a site has no ISP contract
			if i.Kind == KindLink {
				counted = r.yesNo(&i.ContractCounted)
			}
			add(append([]any{i.Link, i.Service, i.Site, tsec(i.Start), tsec(i.End), Seconds(i.DurationSeconds), Seconds(i.DownSeconds),
				Seconds(i.MaintenanceSeconds), Seconds(i.InPeriodSeconds), T(r.Lang, "cause."+i.Cause), counted}, r.incidentRecordCells(&i)...)...)
		}
	case "incident_pareto", "incident_mttr":
		r.incidentCategoryTable(name, add)
	case "contracts":
		for _, c := range r.Contracts {
			active, met, final, claim := c.Active, c.Met, c.Final, c.Claimable
			e := c.ExcludedSeconds
			add(c.Link, c.ISP, c.Circuit, Month(c.Month), r.yesNo(&active), c.PeriodMinutes, Seconds(c.CountedSeconds), int(c.CountedSeconds),
				Seconds(e["maintenance"]), Seconds(e["power"]), Seconds(e["parent"]), Seconds(e["short"]),
				c.AllowedMinutes, c.Availability, c.Target, r.yesNo(&met), c.MonthlyFee, T(r.Lang, "formula."+c.Formula), c.Restitution,
				r.yesNo(&final), r.yesNo(&claim), c.Completeness, dataStatus(r.Lang, c.ContractMonth))
		}
	case "capacity":
		for _, c := range r.Capacity {
			var busy, fc any
			if c.BusyHour >= 0 && c.Samples > 0 {
				busy = fmt.Sprintf("%02d:00", c.BusyHour)
			}
			if c.Forecast80 != nil {
				fc = c.Forecast80.Format("2006-01-02")
			}
			if c.ForecastBeyondHorizon {
				fc = T(r.Lang, "beyond_horizon")
			}
			var capBps any
			if c.CapacityBps > 0 {
				capBps = int64(math.Round(c.CapacityBps))
			}
			var trend any
			if c.TrendBpsPerDay != nil {
				trend = int64(math.Round(*c.TrendBpsPerDay))
			}
			add(c.Link, c.Site, T(r.Lang, "dir."+c.Direction), capBps, T(r.Lang, "src."+c.CapacitySource), c.Samples,
				whole(c.MeanBps, c.Samples), whole(c.P95Bps, c.Samples), whole(c.PeakBps, c.Samples),
				busy, whole(c.VolumeBytes, c.Samples), fp(c.MeanUtilization), fp(c.P95Utilization), fp(c.PeakUtilization), trend, fc)
		}
	case "reviews":
		for _, v := range r.Reviews {
			// a monthly review's month or a quarterly one's quarter
			add(Month(statedb.ReviewPeriod(v.Kind, v.Month)), v.HeldOn, v.Participants, v.Findings)
		}
	case "followups":
		for _, f := range r.FollowUps {
			add(int(f.ID), f.Opened, f.Item, f.Owner, f.Due, T(r.Lang, "status."+f.Status), f.Updated, f.Evidence)
		}
	case "changes":
		for _, c := range r.Changes {
			add(tsec(c.At), r.actorKind(c.ActorKind), c.Actor, c.ActorID, c.Action, c.Object, c.Summary)
		}
	case "assets":
		for _, a := range r.Assets {
			var y any
			if a.YearAcquired != 0 {
				y = Year(a.YearAcquired)
			}
			add(a.Device, a.Site, opdCell(a.OPD, a.OPDName), a.Vendor, a.Model, a.Serial, y, a.AssetCode, a.WarrantyEnd, a.ContractEnd)
		}
	case "expiries":
		for _, e := range r.Expiries {
			add(T(r.Lang, "what."+e.What), e.ID, e.Site, e.Detail, e.Ends, e.DaysLeft)
		}
	case "evidence":
		for _, e := range r.Evidence {
			for _, in := range e.Indicators {
				add(e.Title, in.Number, in.Name, in.Aspect, e.Note)
			}
		}
	case "methods":
		for _, m := range r.Methods {
			add(T(r.Lang, "fig."+m.Figure), m.Method)
		}
	}
	r.hoursTable(&t)
	return t, nil
}

// dataStatus says whether a contract month's data is complete enough to
// claim restitution: "data tidak lengkap" with the threshold when not.
func dataStatus(lang string, c sla.ContractMonth) string {
	switch {
	case c.IncompleteData:
		return printer(lang).Sprintf(T(lang, "data.incomplete"), c.MinCompleteness)
	case !c.Final:
		return T(lang, "data.running")
	default:
		return T(lang, "data.complete")
	}
}

// opdCell is what a table shows for an OPD: its name when the inventory
// gives one, else its id.
func opdCell(id, name string) string {
	if name != "" {
		return name
	}
	return id
}
