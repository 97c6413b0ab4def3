package report

import (
	"fmt"
	"time"
)

// productText holds the products' strings: [id, en]. They join the
// report's text (T) at start-up.
var productText = map[string][2]string{
	"product.monthly":     {"Laporan Infrastruktur SPBE Bulanan", "Monthly SPBE Infrastructure Report"},
	"product.opd-sheet":   {"Lembar Ketersediaan Jaringan OPD/Distrik", "OPD/District Network Availability Sheet"},
	"product.review-pack": {"Paket Reviu Triwulanan Infrastruktur SPBE", "Quarterly SPBE Infrastructure Review Pack"},
	"product.annual":      {"Laporan Tahunan Infrastruktur SPBE dan Rencana Kapasitas", "Annual SPBE Infrastructure Report and Capacity Plan"},

	"t.identity":        {"Identitas", "Identity"},
	"t.sheet_links":     {"Jalur, penyedia dan kontrak", "Links, providers and contracts"},
	"t.sheet_outages":   {"Gangguan", "Outages"},
	"t.sheet_capacity":  {"Kapasitas: p95 terhadap kontrak", "Capacity: p95 against the contract"},
	"t.sheet_daily":     {"Ketersediaan harian", "Daily availability"},
	"t.sheet_quality":   {"Latensi (RTT) dan kehilangan paket", "Round-trip time and loss"},
	"col.rounds":        {"putaran", "rounds"},
	"col.rttmean":       {"RTT rata-rata ms", "mean RTT ms"},
	"col.rttp95":        {"RTT p95 ms", "p95 RTT ms"},
	"col.loss":          {"kehilangan paket %", "loss %"},
	"t.trends":          {"Tren bulanan", "Monthly trends"},
	"t.link_months":     {"Ketersediaan jalur per bulan", "Link availability by month"},
	"t.p95_months":      {"Utilisasi p95 per bulan", "p95 utilization by month"},
	"t.open_items":      {"Butir terbuka", "Open items"},
	"t.recommendations": {"Rekomendasi", "Recommendations"},
	"t.capacity_plan":   {"Rencana kapasitas", "Capacity plan"},

	"action.add_capacity": {"tambah kapasitas", "add capacity"},
	"rec.sla": {"Jalur %s (%s): ketersediaan %s %% di bawah target %s %% pada periode ini; bahas dengan penyedia dan periksa restitusi.",
		"Link %s (%s): availability %s %% below its %s %% target in the period; raise it with the provider and check the restitution."},
	"rec.capacity": {"Jalur %s: p95 mencapai %s %% dari bandwidth kontrak (ambang %s %%) pada %s; kaji penambahan kapasitas.",
		"Link %s: p95 reached %s %% of the contracted bandwidth (threshold %s %%) in %s; consider adding capacity."},
	"rec.overdue": {"Tindak lanjut #%d \"%s\" (%s) melewati tenggat %s sebanyak %d hari; selesaikan atau tetapkan tenggat baru.",
		"Follow-up #%d \"%s\" (%s) is %[5]d days past its due date %[4]s; close it or set a new due date."},
	"rec.none":    {"Tidak ada rekomendasi dari aturan pada periode ini.", "No rule gives a recommendation for the period."},
	"rule.sla":    {"SLA", "SLA"},
	"rule.cap":    {"kapasitas", "capacity"},
	"rule.late":   {"tindak lanjut terlambat", "overdue follow-up"},
	"col.month":   {"bulan", "month"},
	"col.link":    {"jalur", "link"},
	"col.dir":     {"arah", "direction"},
	"col.capbps":  {"bandwidth kontrak bit/s", "contracted bit/s"},
	"col.p95":     {"p95 bit/s", "p95 bit/s"},
	"col.p95pct":  {"utilisasi p95 %", "p95 utilization %"},
	"col.over":    {"di atas ambang", "over threshold"},
	"col.avail":   {"ketersediaan 24×7 %", "availability 24×7 %"},
	"col.svchrs":  {"ketersediaan jam layanan %", "service-hours availability %"},
	"col.target":  {"target SLA %", "SLA target %"},
	"col.ctarget": {"target kontrak %", "contract target %"},
	"col.ispav":   {"ketersediaan ISP %", "ISP availability %"},
	"col.fee":     {"biaya bulanan (Rp)", "monthly fee (Rp)"},
	"col.restit":  {"restitusi (Rp)", "restitution (Rp)"},
	"col.met":     {"memenuhi", "met"},
	"col.outages": {"gangguan", "outages"},
	"col.down":    {"putus (j:mm:dd)", "down (h:mm:ss)"},
	"col.what":    {"jalur/layanan", "link/service"},
	"col.start":   {"mulai", "start"},
	"col.end":     {"selesai", "end"},
	"col.cause":   {"penyebab", "cause"},
	"col.isp":     {"ISP", "ISP"},
	"col.circuit": {"sirkuit", "circuit"},
	"col.name":    {"nama", "name"},
	"col.site":    {"lokasi", "site"},
	"col.item":    {"butir", "item"},
	"col.value":   {"nilai", "value"},
	"col.links":   {"jalur", "links"},
	"col.withdat": {"jalur dengan data", "links with data"},
	"col.meet":    {"memenuhi SLA", "meeting SLA"},
	"col.miss":    {"tidak memenuhi SLA", "missing SLA"},
	"col.withp95": {"jalur dengan p95", "links with p95"},
	"col.overcap": {"jalur di atas ambang", "links over threshold"},
	"col.maxp95":  {"p95 tertinggi %", "highest p95 %"},
	"col.no":      {"no", "no"},
	"col.owner":   {"penanggung jawab", "owner"},
	"col.due":     {"tenggat", "due"},
	"col.status":  {"status", "status"},
	"col.overdue": {"terlambat", "overdue"},
	"col.daysod":  {"hari terlambat", "days overdue"},
	"col.rule":    {"aturan", "rule"},
	"col.subject": {"pokok", "subject"},
	"col.rec":     {"rekomendasi", "recommendation"},
	"col.nmonths": {"bulan di atas ambang", "months over threshold"},
	"col.months":  {"bulan", "months"},
	"col.action":  {"tindakan", "action"},
	"col.day":     {"tgl %d", "day %d"},
	"id.scope":    {"cakupan", "scope"},
	"id.opd":      {"OPD", "OPD"},
	"id.sites":    {"lokasi", "sites"},
	"id.district": {"distrik", "district"},
	"id.period":   {"periode", "period"},
	"id.tz":       {"zona waktu", "time zone"},
	"id.links":    {"jalur", "links"},
	"id.site_av":  {"ketersediaan lokasi 24×7 %", "site availability 24×7 %"},
	"id.svc_hrs":  {"ketersediaan jam layanan %", "service-hours availability %"},
}

func init() {
	for k, v := range productText {
		text[k] = v
	}
}

// ptable starts a product table with columns named by productText keys.
func (r *Report) ptable(name string, cols ...string) Table {
	t := Table{Name: name, Title: T(r.Lang, "t."+name)}
	for _, c := range cols {
		t.Columns = append(t.Columns, T(r.Lang, c))
	}
	return t
}

// Tables returns the product's tables: its sheets in a workbook, its
// sections in HTML.
func (p *Product) Tables() []Table {
	r := p.Report
	switch p.Product {
	case ProductOPDSheet:
		return []Table{p.identityTable(), p.sheetLinks(), p.sheetOutages(), p.sheetCapacity(), p.sheetQuality(), p.sheetDaily()}
	case ProductReviewPack:
		rev, _ := r.Table("reviews")
		fol, _ := r.Table("followups")
		return []Table{p.trendTable(), p.linkMonthsTable(), rev, fol, p.openItemsTable(), p.recommendationsTable()}
	case ProductAnnual:
		return []Table{p.trendTable(), p.linkMonthsTable(), p.p95MonthsTable(), p.capacityPlanTable()}
	}
	return r.Tables()
}

// siteAvailability is the availability of the sheet's sites (over their
// known time).
func (p *Product) identityTable() Table {
	r := p.Report
	t := r.ptable("identity", "col.item", "col.value")
	add := func(k string, v any) { t.Rows = append(t.Rows, []any{T(r.Lang, k), v}) }
	add("id.scope", r.Scope.Name)
	opd, district := "", ""
	var names string
	var up, known int64
	for i, s := range r.Sites {
		if i > 0 {
			names += ", "
		}
		names += s.Name
		if opd == "" {
			opd = s.OPD
		}
		if s.District != "" {
			district = s.District
		}
		up += s.Available()
		known += s.Known()
	}
	add("id.opd", opd)
	add("id.sites", names)
	if district != "" {
		add("id.district", district)
	}
	period := r.Period
	if !r.Start.IsZero() {
		period += fmt.Sprintf(" (%s – %s)", r.Start.Format("2006-01-02"), r.End.Add(-time.Nanosecond).Format("2006-01-02"))
	}
	add("id.period", period)
	add("id.tz", r.TimeZone)
	add("id.links", len(r.Links))
	if known > 0 {
		add("id.site_av", 100*float64(up)/float64(known))
	} else {
		add("id.site_av", nil)
	}
	// service_hours_availability_pct: filled in by the service-hours
	// work of issue 20 (jam layanan); no value until then.
	add("id.svc_hrs", nil)
	return t
}

// contractOf returns the link's contract row of a month, if any.
func (r *Report) contractOf(link string) *ContractRow {
	for i := range r.Contracts {
		if r.Contracts[i].Link == link && r.Contracts[i].Month == r.Period {
			return &r.Contracts[i]
		}
	}
	return nil
}

// contractBps returns the link's contracted bandwidth (from its capacity
// rows), or no value.
func (r *Report) contractBps(link string) any {
	for _, c := range r.Capacity {
		if c.Link == link && c.CapacitySource == "contract" {
			return int64(c.CapacityBps)
		}
	}
	return nil
}

func (p *Product) sheetLinks() Table {
	r := p.Report
	t := r.ptable("sheet_links", "col.link", "col.site", "col.isp", "col.circuit", "col.capbps", "col.avail", "col.svchrs", "col.target", "col.met",
		"col.outages", "col.down", "col.ctarget", "col.ispav", "col.fee", "col.restit")
	for _, l := range r.Links {
		row := []any{l.Link, l.Site, l.ISP, l.Circuit, r.contractBps(l.Link), fp(l.Availability),
			nil, // service_hours_availability_pct: the service-hours work of issue 20
			target(l.Target), r.yesNo(l.Met), l.Outages, Seconds(l.DownSeconds)}
		if c := r.contractOf(l.Link); c != nil {
			row = append(row, c.Target, c.Availability, c.MonthlyFee, c.Restitution)
		} else {
			row = append(row, nil, nil, nil, nil)
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

func (p *Product) sheetOutages() Table {
	r := p.Report
	t := r.ptable("sheet_outages", "col.what", "col.site", "col.start", "col.end", "col.down", "col.cause")
	for _, in := range r.Incidents {
		what := in.Link
		if what == "" {
			what = in.Service
		}
		t.Rows = append(t.Rows, []any{what, in.Site, tsec(in.Start), tsec(in.End), Seconds(in.InPeriodSeconds), T(r.Lang, "cause."+in.Cause)})
	}
	return t
}

func (p *Product) sheetCapacity() Table {
	r := p.Report
	t := r.ptable("sheet_capacity", "col.link", "col.dir", "col.capbps", "col.p95", "col.p95pct", "col.over")
	for _, c := range r.Capacity {
		var capBps, over any
		if c.CapacitySource == "contract" {
			capBps = int64(c.CapacityBps)
			if c.P95Utilization != nil {
				b := *c.P95Utilization > p.Rule.Pct
				over = r.yesNo(&b)
			}
		}
		t.Rows = append(t.Rows, []any{c.Link, T(r.Lang, "dir."+c.Direction), capBps, whole(c.P95Bps, c.Samples), fp(c.P95Utilization), over})
	}
	return t
}

func (p *Product) sheetDaily() Table {
	r := p.Report
	t := r.ptable("sheet_daily", "col.link")
	days := 0
	for _, l := range r.Links {
		days = max(days, len(l.Daily))
	}
	for d := range days {
		t.Columns = append(t.Columns, fmt.Sprintf(T(r.Lang, "col.day"), d+1))
	}
	for _, l := range r.Links {
		row := []any{l.Link}
		for _, v := range l.Daily {
			row = append(row, fp(v))
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

func (p *Product) trendTable() Table {
	r := p.Report
	t := r.ptable("trends", "col.month", "col.links", "col.withdat", "col.meet", "col.miss", "col.avail", "col.outages", "col.down", "col.withp95", "col.overcap", "col.maxp95")
	for _, m := range p.Trends {
		t.Rows = append(t.Rows, []any{Month(m.Month), m.Links, m.LinksWithData, m.LinksMeetingSLA, m.LinksMissingSLA, fp(m.Availability), m.Outages,
			Seconds(m.DowntimeSeconds), m.LinksWithP95, m.LinksOverCapacity, fp(m.MaxP95Utilization)})
	}
	return t
}

func (p *Product) linkMonthsTable() Table {
	r := p.Report
	t := r.ptable("link_months", "col.link", "col.site", "col.isp", "col.target")
	labels := monthLabels(r)
	t.Columns = append(t.Columns, labels...)
	for _, l := range r.Links {
		row := []any{l.Link, l.Site, l.ISP, target(l.Target)}
		byMonth := map[string]*float64{}
		for _, m := range l.Months {
			byMonth[m.Month] = m.Availability
		}
		for _, m := range labels {
			row = append(row, fp(byMonth[m]))
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

func (p *Product) p95MonthsTable() Table {
	r := p.Report
	t := r.ptable("p95_months", "col.link", "col.site", "col.capbps")
	labels := monthLabels(r)
	t.Columns = append(t.Columns, labels...)
	p95 := linkP95(r)
	for _, l := range r.Links {
		months, ok := p95[l.Link]
		if !ok {
			continue
		}
		row := []any{l.Link, l.Site, r.contractBps(l.Link)}
		for _, m := range labels {
			if v, ok := months[m]; ok {
				row = append(row, v)
			} else {
				row = append(row, nil)
			}
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

func (p *Product) openItemsTable() Table {
	r := p.Report
	t := r.ptable("open_items", "col.no", "col.item", "col.owner", "col.due", "col.status", "col.overdue", "col.daysod")
	for _, it := range p.OpenItems {
		od := it.Overdue
		var days any
		if od {
			days = it.DaysOverdue
		}
		t.Rows = append(t.Rows, []any{int(it.ID), it.Item, it.Owner, it.Due, T(r.Lang, "status."+it.Status), r.yesNo(&od), days})
	}
	return t
}

func (p *Product) recommendationsTable() Table {
	r := p.Report
	t := r.ptable("recommendations", "col.rule", "col.subject", "col.rec")
	names := map[string]string{"sla": "rule.sla", "capacity": "rule.cap", "overdue": "rule.late"}
	for _, rec := range p.Recommendations {
		t.Rows = append(t.Rows, []any{T(r.Lang, names[rec.Rule]), rec.Subject, rec.Text})
	}
	return t
}

func (p *Product) capacityPlanTable() Table {
	r := p.Report
	t := r.ptable("capacity_plan", "col.link", "col.site", "col.isp", "col.capbps", "col.nmonths", "col.months", "col.maxp95", "col.action")
	for _, c := range p.CapacityPlan {
		months := ""
		for i, m := range c.Months {
			if i > 0 {
				months += ", "
			}
			months += m
		}
		t.Rows = append(t.Rows, []any{c.Link, c.Site, c.ISP, int64(c.CapacityBps), len(c.Months), months, c.MaxP95Utilization, c.Action})
	}
	return t
}

func (p *Product) sheetQuality() Table {
	r := p.Report
	t := r.ptable("sheet_quality", "col.link", "col.rounds", "col.rttmean", "col.rttp95", "col.loss")
	for _, q := range p.Quality {
		t.Rows = append(t.Rows, []any{q.Link, q.Rounds, fp(q.RTTMeanMs), fp(q.RTTP95Ms), fp(q.LossPct)})
	}
	return t
}
