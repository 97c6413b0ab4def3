package report

import (
	"context"
	"maps"
	"slices"
	"sort"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/inventory"
	"github.com/pantau-noc/pantau/collector/internal/sla"
	"github.com/pantau-noc/pantau/collector/internal/statedb"
)

// IncidentSource gives the operators' incident records (statedb.DB).
type IncidentSource interface {
	Incidents(ctx context.Context, from, to time.Time, lookback time.Duration) ([]statedb.Incident, error)
}

// Incident kinds: what was out.
const (
	KindLink    = statedb.IncidentLink
	KindSite    = statedb.IncidentSite
	KindService = statedb.IncidentService
)

// Uncategorized is the Pareto and MTTR category of incidents without a
// record.
const Uncategorized = "tanpa_kategori"

// recordLookback is how long before a period a detected outage's record
// may start: an outage running into the period keeps its start.
const recordLookback = 92 * 24 * time.Hour

// CategoryRow is one incident category of the Pareto and MTTR tables.
type CategoryRow struct {
	Category string `json:"category"` // an id of statedb.IncidentCategories, or tanpa_kategori
	Group    string `json:"group"`
	Label    string `json:"label"` // in the report's language
	// Incidents counted: site outages, links' outages outside a site
	// outage, service outages and undetected recorded outages.
	Incidents int `json:"incidents"`
	// Minutes are the incidents' down time in the period outside
	// maintenance (in_period_minutes).
	Minutes float64 `json:"minutes"`
	Seconds int64   `json:"seconds"`
	// SharePct and CumulativePct are of all incidents' minutes, in
	// Pareto order (most minutes first); nil when no incident has any.
	SharePct      *float64 `json:"share_pct"`
	CumulativePct *float64 `json:"cumulative_pct"`
	// MTTRMinutes is the mean time to restore: the mean of the
	// incidents' durations (start to end, whole outage).
	MTTRMinutes     float64 `json:"mttr_minutes"`
	DurationSeconds int64   `json:"duration_seconds"`
}

func init() {
	maps.Copy(text, incidentText)
	maps.Copy(columns, incidentColumns)
	i := slices.Index(TableNames, "incidents")
	TableNames = slices.Insert(TableNames, i+1, "incident_pareto", "incident_mttr")
}

var incidentText = map[string][2]string{
	"incident_pareto":         {"Pareto Gangguan per Kategori", "Incident Pareto by Category"},
	"incident_mttr":           {"MTTR per Kategori", "MTTR by Category"},
	"cat." + Uncategorized:    {"belum dikategorikan", "not categorised"},
	"group.fisik":             {"fisik", "physical"},
	"group.logik":             {"logik", "logical"},
	"group.isp":               {"ISP", "ISP"},
	"group.keamanan":          {"keamanan", "security"},
	"group.aplikasi_nasional": {"aplikasi nasional", "national application"},
	"group." + Uncategorized:  {"belum dikategorikan", "not categorised"},
	"kind.link":               {"jalur", "link"},
	"kind.site":               {"lokasi", "site"},
	"kind.service":            {"layanan", "service"},
	"m.incident_records": {
		"Gangguan: gangguan jalur, gangguan lokasi (semua jalur lokasi putus bersamaan; durasinya durasi lokasi, bukan jumlah menit jalur) dan gangguan layanan, ditambah gangguan yang dicatat operator tetapi tidak terdeteksi pemantauan. Catatan insiden (tiket, kategori, tindakan, petugas, sumber, koreksi penyebab) dipasangkan ke gangguan menurut objek dan menit mulainya. Pareto: jumlah dan menit putus dalam periode (di luar pemeliharaan) per kategori, urut menit terbanyak, dengan persentase kumulatif; MTTR: rata-rata durasi gangguan (mulai sampai pulih) per kategori. Gangguan jalur yang beririsan dengan gangguan lokasinya diwakili oleh gangguan lokasi itu.",
		"Incidents: link outages, site outages (all of a site's links down at once; their duration is the site's, not the sum of the links' minutes) and service outages, plus outages an operator recorded that monitoring did not detect. Incident records (ticket, category, action, officer, source, cause override) are joined to outages by what was out and its start minute. Pareto: count and down minutes in the period (outside maintenance) per category, most minutes first, with the cumulative percentage; MTTR: the mean outage duration (start to restore) per category. A link outage overlapping its site's outage is represented by the site outage.",
	},
}

var incidentColumns = map[string][][2]string{
	"incident_pareto": {{"kategori", "category"}, {"kelompok", "group"}, {"nama kategori", "category name"}, {"gangguan", "incidents"},
		{"menit putus", "down minutes"}, {"porsi %", "share %"}, {"kumulatif %", "cumulative %"}},
	"incident_mttr": {{"kategori", "category"}, {"kelompok", "group"}, {"nama kategori", "category name"}, {"gangguan", "incidents"},
		{"MTTR menit", "MTTR minutes"}, {"total durasi (j:mm:dd)", "total duration (h:mm:ss)"}},
}

// incidentRecordColumns are the incidents table's columns from the
// records, after its own.
var incidentRecordColumns = [][2]string{{"jenis", "kind"}, {"terdeteksi", "detected"}, {"bagian gangguan lokasi", "part of site outage"},
	{"tiket", "ticket"}, {"kategori", "category"}, {"sumber", "source"}, {"petugas", "officer"}, {"dampak", "impact"},
	{"tindakan", "action"}, {"koreksi penyebab", "cause override"}, {"alasan koreksi", "override reason"}}

func init() {
	columns["incidents"] = append(columns["incidents"], incidentRecordColumns...)
	wideTables["incidents"] = true // 22 columns: a landscape page
}

// categoryLabel is a category's label in lang.
func categoryLabel(lang, id string) string {
	if l := statedb.LabelOf(statedb.IncidentCategories, id); l != nil {
		if lang == LangEN {
			return l.English
		}
		return l.Indonesian
	}
	return T(lang, "cat."+id)
}

func sourceLabel(lang, id string) string {
	if l := statedb.LabelOf(statedb.IncidentSources, id); l != nil {
		if lang == LangEN {
			return l.English
		}
		return l.Indonesian
	}
	return id
}

// incidentRecordCells are an incident row's cells from its record.
func (r *Report) incidentRecordCells(i *Incident) []any {
	detected, within := i.Detected, i.PartOfSite
	cells := []any{T(r.Lang, "kind."+i.Kind), r.yesNo(&detected), r.yesNo(&within)}
	if i.Record == nil {
		return append(cells, nil, nil, nil, nil, nil, nil, nil, nil)
	}
	rec := i.Record
	var override any
	if rec.CauseOverride != "" {
		override = T(r.Lang, "cause."+rec.CauseOverride)
	}
	return append(cells, rec.Ticket, categoryLabel(r.Lang, rec.Category), sourceLabel(r.Lang, rec.Source), rec.Officer,
		rec.Impact, rec.Action, override, rec.OverrideReason)
}

// incidentCategoryTable fills the incident_pareto and incident_mttr
// tables.
func (r *Report) incidentCategoryTable(name string, add func(...any)) {
	switch name {
	case "incident_pareto":
		for _, c := range r.IncidentPareto {
			add(c.Category, T(r.Lang, "group."+c.Group), c.Label, c.Incidents, c.Minutes, fp(c.SharePct), fp(c.CumulativePct))
		}
	case "incident_mttr":
		for _, c := range r.IncidentMTTR {
			add(c.Category, T(r.Lang, "group."+c.Group), c.Label, c.Incidents, c.MTTRMinutes, Seconds(c.DurationSeconds))
		}
	}
}

// incidentTarget is the id of what an incident row was about.
func incidentTarget(i *Incident) string {
	switch i.Kind {
	case KindLink:
		return i.Link
	case KindService:
		return i.Service
	}
	return i.Site
}

// incidentRecords joins the operators' records to the period's
// incidents, adds the undetected outages recorded in scope, marks link
// outages within their site's outage, and computes the Pareto and MTTR
// by category.
func incidentRecords(ctx context.Context, r *Report, in Input, p sla.Period, sites []*inventory.Site) error {
	r.Methods = append(r.Methods, Note{Figure: "incident_records", Method: T(r.Lang, "m.incident_records")})
	r.UnmatchedIncidentRecords = []statedb.Incident{}
	markPartOfSite(r.Incidents)
	if in.Incidents != nil {
		recs, err := in.Incidents.Incidents(ctx, p.Start, p.End, recordLookback)
		if err != nil {
			return err
		}
		attachRecords(r, in.Inv, recs, p, sites)
	}
	// Build sorted them; records may add undetected ones (a stable sort
	// of sorted incidents leaves them as they are: skip it then)
	if byStart := func(i, j int) bool { return r.Incidents[i].Start.Before(r.Incidents[j].Start) }; !sort.SliceIsSorted(r.Incidents, byStart) {
		sort.SliceStable(r.Incidents, byStart)
	}
	r.IncidentPareto, r.IncidentMTTR = categoryTables(r.Lang, r.Incidents)
	return nil
}

// markPartOfSite marks the link outages that overlap an outage of their
// site. Site outages are grouped by site and sorted by start, so a link
// outage looks only at its own site's, up to the first that starts after
// it ends (a year of 5,000 links has 600,000 link outages: comparing each
// with every incident took hours).
func markPartOfSite(incs []Incident) {
	bySite := map[string][]*Incident{}
	for i := range incs {
		if s := &incs[i]; s.Kind == KindSite {
			bySite[s.Site] = append(bySite[s.Site], s)
		}
	}
	for _, ss := range bySite {
		slices.SortStableFunc(ss, func(a, b *Incident) int { return a.Start.Compare(b.Start) })
	}
	for i := range incs {
		l := &incs[i]
		if l.Kind != KindLink {
			continue
		}
		for _, s := range bySite[l.Site] {
			if !s.Start.Before(l.End) {
				break // this and every later one start after the link's ends
			}
			if l.Start.Before(s.End) {
				l.PartOfSite = true
				break
			}
		}
	}
}

func attachRecords(r *Report, inv *inventory.Inventory, recs []statedb.Incident, p sla.Period, sites []*inventory.Site) {
	inScope := map[string]bool{}
	for _, s := range sites {
		inScope[KindSite+"/"+s.ID] = true
		for _, l := range inv.LinksOfSite(s.ID) {
			inScope[KindLink+"/"+l.ID] = true
		}
	}
	for _, sv := range r.Services {
		inScope[KindService+"/"+sv.Service] = true
	}
	used := make([]bool, len(recs))
	match := func(inc *Incident, exact bool) {
		for k := range recs {
			rec := &recs[k]
			if used[k] || !rec.Detected || rec.Scope != inc.Kind || rec.Target != incidentTarget(inc) {
				continue
			}
			if exact && rec.Start.Equal(inc.Start) || !exact && !rec.Start.Before(inc.Start) && rec.Start.Before(inc.End) {
				used[k] = true
				inc.Record = rec
				return
			}
		}
	}
	// exact start minutes first, then a record whose start lies within an
	// outage (one recorded before a rebuild merged a flap into it)
	for _, exact := range []bool{true, false} {
		for i := range r.Incidents {
			if inc := &r.Incidents[i]; inc.Record == nil && inc.Detected {
				match(inc, exact)
			}
		}
	}
	for k := range recs {
		rec := &recs[k]
		if used[k] || !inScope[rec.Scope+"/"+rec.Target] {
			continue
		}
		if rec.Detected {
			if !rec.Start.Before(p.Start) && rec.Start.Before(p.End) {
				r.UnmatchedIncidentRecords = append(r.UnmatchedIncidentRecords, *rec)
			}
			continue
		}
		r.Incidents = append(r.Incidents, undetected(inv, rec, p))
	}
}

// undetected is the incident row of a recorded outage the monitoring did
// not detect: its times are the record's.
func undetected(inv *inventory.Inventory, rec *statedb.Incident, p sla.Period) Incident {
	inc := Incident{Kind: rec.Scope, Record: rec, Cause: sla.CauseUnknown}
	switch rec.Scope {
	case KindLink:
		inc.Link, inc.Site = rec.Target, inv.Link(rec.Target).Site
	case KindService:
		inc.Service, inc.Site = rec.Target, inv.Service(rec.Target).Site
	default:
		inc.Site = rec.Target
	}
	loc := time.UTC
	if s := inv.Site(inc.Site); s != nil && s.Location != nil {
		loc = s.Location
	}
	inc.Start, inc.End = rec.Start.In(loc), rec.End.In(loc)
	inc.DurationSeconds = int64(rec.End.Sub(rec.Start) / time.Second)
	inc.DownSeconds = inc.DurationSeconds
	lo, hi := rec.Start, *rec.End
	if lo.Before(p.Start) {
		lo = p.Start
	}
	if hi.After(p.End) {
		hi = p.End
	}
	if hi.After(lo) {
		inc.InPeriodSeconds = int64(hi.Sub(lo) / time.Second)
	}
	inc.DurationMinutes, inc.DownMinutes, inc.InPeriodMinutes = sla.Min(inc.DurationSeconds), sla.Min(inc.DownSeconds), sla.Min(inc.InPeriodSeconds)
	return inc
}

// categoryTables computes the Pareto (most minutes first, then most
// incidents, then the category's order) and the MTTR (in category
// order) over the incidents, leaving out link outages that are part of a
// site outage.
func categoryTables(lang string, incs []Incident) (pareto, mttr []CategoryRow) {
	rows := map[string]*CategoryRow{}
	var total int64
	for i := range incs {
		inc := &incs[i]
		if inc.PartOfSite {
			continue
		}
		cat := Uncategorized
		if inc.Record != nil {
			cat = inc.Record.Category
		}
		row := rows[cat]
		if row == nil {
			row = &CategoryRow{Category: cat, Group: cat, Label: categoryLabel(lang, cat)}
			if l := statedb.LabelOf(statedb.IncidentCategories, cat); l != nil {
				row.Group = l.Group
			}
			rows[cat] = row
		}
		row.Incidents++
		row.Seconds += inc.InPeriodSeconds
		row.DurationSeconds += inc.DurationSeconds
		total += inc.InPeriodSeconds
	}
	order := func(cat string) int {
		if i := slices.IndexFunc(statedb.IncidentCategories, func(l statedb.Label) bool { return l.ID == cat }); i >= 0 {
			return i
		}
		return len(statedb.IncidentCategories)
	}
	for _, row := range rows {
		row.Minutes = sla.Min(row.Seconds)
		row.MTTRMinutes = sla.Min(row.DurationSeconds) / float64(row.Incidents)
		pareto = append(pareto, *row)
	}
	sort.Slice(pareto, func(i, j int) bool {
		a, b := pareto[i], pareto[j]
		if a.Seconds != b.Seconds {
			return a.Seconds > b.Seconds
		}
		if a.Incidents != b.Incidents {
			return a.Incidents > b.Incidents
		}
		return order(a.Category) < order(b.Category)
	})
	var cum int64
	for i := range pareto {
		cum += pareto[i].Seconds
		pareto[i].SharePct = sla.Pct(pareto[i].Seconds, total)
		pareto[i].CumulativePct = sla.Pct(cum, total)
	}
	mttr = slices.Clone(pareto)
	sort.SliceStable(mttr, func(i, j int) bool { return order(mttr[i].Category) < order(mttr[j].Category) })
	if pareto == nil {
		pareto, mttr = []CategoryRow{}, []CategoryRow{}
	}
	return pareto, mttr
}
