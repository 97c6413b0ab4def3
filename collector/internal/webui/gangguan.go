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
	"github.com/pantau-noc/pantau/collector/internal/statedb"
)

func init() {
	texts(map[string][2]string{
		"inc.title":                  {"Gangguan", "Outages"},
		"inc.period":                 {"Periode", "Period"},
		"inc.from":                   {"Dari tanggal", "From"},
		"inc.to":                     {"Sampai tanggal", "To"},
		"inc.show":                   {"Tampilkan", "Show"},
		"inc.badperiod":              {"Periode tidak dapat dibaca; tanggal ditulis TTTT-BB-HH.", "The period cannot be read; write dates as YYYY-MM-DD."},
		"inc.outages":                {"Gangguan terdeteksi", "Detected outages"},
		"inc.outages.none":           {"Tidak ada gangguan terdeteksi dalam periode ini.", "No outage was detected in this period."},
		"inc.outages.unavail":        {"Daftar gangguan terdeteksi tidak tersedia", "The list of detected outages is not available"},
		"inc.what":                   {"Apa", "What"},
		"inc.start":                  {"Mulai", "Start"},
		"inc.end":                    {"Selesai", "End"},
		"inc.duration":               {"Lama", "Duration"},
		"inc.down":                   {"Waktu putus", "Down time"},
		"inc.cause":                  {"Penyebab (terhitung)", "Cause (computed)"},
		"inc.ongoing":                {"masih berlangsung", "ongoing"},
		"inc.record":                 {"Catat", "Record"},
		"inc.recorded":               {"Catatan %d", "Record %d"},
		"inc.alerts":                 {"Peringatan aktif", "Active alerts"},
		"inc.alerts.none":            {"Tidak ada peringatan aktif.", "No active alerts."},
		"inc.alert":                  {"Peringatan", "Alert"},
		"inc.severity":               {"Tingkat", "Severity"},
		"inc.labels":                 {"Sasaran", "Target"},
		"inc.state":                  {"Status", "State"},
		"inc.since":                  {"Sejak", "Since"},
		"inc.acked":                  {"Diakui oleh", "Acknowledged by"},
		"inc.ack":                    {"Akui", "Acknowledge"},
		"inc.alertstate.firing":      {"menyala", "firing"},
		"inc.alertstate.pending":     {"menunggu", "pending"},
		"inc.ackfailed":              {"Peringatan tidak dapat diakui", "The alert could not be acknowledged"},
		"inc.records":                {"Catatan insiden", "Incident records"},
		"inc.records.none":           {"Belum ada catatan insiden dalam periode ini.", "No incident records in this period."},
		"inc.outages.more":           {"%d gangguan lagi tidak ditampilkan; persempit periode.", "%d more outages are not shown; narrow the period."},
		"inc.add":                    {"Catat insiden", "Record an incident"},
		"inc.add.hint":               {"Untuk gangguan yang terdeteksi, isi waktu mulai gangguan (menit pertama) dan kosongkan waktu selesai. Waktu selesai hanya untuk gangguan yang tidak terdeteksi pemantauan. Waktu dalam zona Pemda (%s).", "For a detected outage give its start (its first minute) and leave the end empty. The end is only for an outage the monitoring did not detect. Times in the Pemda's zone (%s)."},
		"inc.target":                 {"Sasaran", "Target"},
		"inc.ticket":                 {"Nomor tiket", "Ticket"},
		"inc.category":               {"Kategori", "Category"},
		"inc.impact":                 {"Dampak", "Impact"},
		"inc.action":                 {"Tindakan", "Action taken"},
		"inc.officer":                {"Petugas", "Officer"},
		"inc.officer.hint":           {"Kosong: nama Anda.", "Empty: your name."},
		"inc.source":                 {"Sumber laporan", "Reported by"},
		"inc.override":               {"Koreksi penyebab", "Cause override"},
		"inc.override.none":          {"— tidak dikoreksi —", "— no override —"},
		"inc.override.reason":        {"Alasan koreksi", "Reason for the override"},
		"inc.override.hint":          {"Wajib bila penyebab dikoreksi: mengapa penyebab terhitung salah.", "Required with an override: why the computed cause is wrong."},
		"inc.detected":               {"terdeteksi", "detected"},
		"inc.undetected":             {"tidak terdeteksi", "not detected"},
		"inc.opd":                    {"OPD", "OPD"},
		"inc.failed":                 {"Catatan insiden tidak disimpan", "The incident record was not saved"},
		"inc.notfound":               {"Tidak ada catatan insiden dengan nomor itu.", "There is no incident record with that number."},
		"inc.edit.title":             {"Catatan insiden %d", "Incident record %d"},
		"inc.edit":                   {"Ubah catatan", "Edit the record"},
		"inc.history":                {"Riwayat perubahan", "Change history"},
		"inc.history.at":             {"Waktu", "When"},
		"inc.history.who":            {"Oleh", "By"},
		"inc.history.what":           {"Perubahan", "Change"},
		"inc.history.none":           {"Tidak ada perubahan tercatat.", "No change recorded."},
		"inc.history.limited":        {"Dibuat %s, terakhir diubah %s. Riwayat lengkap ada di log audit (admin).", "Created %s, last changed %s. The full history is in the audit log (admins)."},
		"inc.created":                {"Dibuat", "Created"},
		"inc.updated":                {"Diubah", "Changed"},
		"inc.back":                   {"Kembali ke daftar gangguan", "Back to the outages"},
		"cause.isp":                  {"ISP", "ISP"},
		"cause.parent":               {"lokasi induk putus", "parent site down"},
		"cause.power":                {"listrik/agen mati", "power or agent down"},
		"cause.unknown":              {"tidak diketahui", "unknown"},
		"cause.service":              {"layanan itu sendiri", "the service itself"},
		"cause.network":              {"jaringan lokasi", "the site's network"},
		"catgroup.fisik":             {"Fisik", "Physical"},
		"catgroup.logik":             {"Logik", "Logical"},
		"catgroup.isp":               {"ISP", "ISP"},
		"catgroup.keamanan":          {"Keamanan", "Security"},
		"catgroup.aplikasi_nasional": {"Aplikasi nasional", "National application"},
	})
	flash(map[string][2]string{
		"inc-added":   {"Catatan insiden sudah disimpan.", "The incident record has been saved."},
		"inc-updated": {"Catatan insiden sudah diubah.", "The incident record has been changed."},
		"alert-acked": {"Peringatan sudah diakui.", "The alert has been acknowledged."},
	})
	page("GET /ui/gangguan", func(u *UI) func(*Ctx) error { return u.incidentsPage })
	page("POST /ui/gangguan", func(u *UI) func(*Ctx) error { return u.incidentAdd })
	page("POST /ui/gangguan/akui/{fingerprint}", func(u *UI) func(*Ctx) error { return u.alertAck })
	page("GET /ui/gangguan/{id}", func(u *UI) func(*Ctx) error { return u.incidentPage })
	page("POST /ui/gangguan/{id}", func(u *UI) func(*Ctx) error { return u.incidentEdit })
}

// OutageRow is one detected outage (GET /api/v1/outages).
type OutageRow struct {
	Kind            string     `json:"kind"`
	ID              string     `json:"id"`
	Site            string     `json:"site"`
	OPD             string     `json:"opd"`
	Start           time.Time  `json:"start"`
	End             *time.Time `json:"end"`
	DurationSeconds int64      `json:"duration_seconds"`
	DownSeconds     int64      `json:"down_seconds"`
	Cause           string     `json:"cause"`
	// Target is what a record of it names ("link:dinkes-wan"): a site
	// with one link has its outages recorded as the link's.
	Target string `json:"-"`
	Record int64  `json:"-"` // its incident record's id (0: none)
}

// EndTime is the outage's end (zero while it goes on).
func (o OutageRow) EndTime() time.Time {
	if o.End == nil {
		return time.Time{}
	}
	return *o.End
}

// Dur and Down are the outage's duration and down time in seconds.
func (o OutageRow) Dur() float64  { return float64(o.DurationSeconds) }
func (o OutageRow) Down() float64 { return float64(o.DownSeconds) }

// AlertRow is one pending or firing alert (GET /api/v1/alerts).
type AlertRow struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	State       string            `json:"state"`
	ActiveAt    time.Time         `json:"activeAt"`
	Pantau      struct {
		Fingerprint string `json:"fingerprint"`
		Acked       string `json:"acked"`
	} `json:"pantau"`
}

// What names what the alert is about: its link, site or service.
func (a AlertRow) What() string {
	var parts []string
	for _, k := range []string{"opd", "site", "link", "service", "agent"} {
		if v := a.Labels[k]; v != "" {
			parts = append(parts, k+"="+v)
		}
	}
	return strings.Join(parts, ", ")
}

// IncidentRow is one incident record (GET /api/v1/incidents).
type IncidentRow struct {
	statedb.Incident
	OPD string `json:"opd"`
}

// EndTime is an undetected outage's end (zero for a detected one).
func (r IncidentRow) EndTime() time.Time {
	if r.End == nil {
		return time.Time{}
	}
	return *r.End
}

// IncidentCategory is an incident category's label in the language.
func (p *Page) IncidentCategory(id string) string {
	return labelIn(p.Lang, statedb.IncidentCategories, id)
}

// IncidentSource is an incident source's label in the language.
func (p *Page) IncidentSource(id string) string { return labelIn(p.Lang, statedb.IncidentSources, id) }

// CauseLabel is an outage cause's label in the language (the id itself
// for a cause this UI does not know yet).
func (p *Page) CauseLabel(cause string) string {
	if _, ok := msgs["cause."+cause]; !ok {
		return cause
	}
	return p.T("cause." + cause)
}

func labelIn(lang string, list []statedb.Label, id string) string {
	l := statedb.LabelOf(list, id)
	switch {
	case l == nil:
		return id
	case lang == LangEN:
		return l.English
	default:
		return l.Indonesian
	}
}

// incidentForm is the incident form's values, as typed.
type incidentForm struct {
	Target, Start, End, Ticket, Category, Impact, Action, Officer, Source, CauseOverride, OverrideReason string
}

// Choice is an <option>.
type Choice struct{ Value, Label string }

// ChoiceGroup is an <optgroup>.
type ChoiceGroup struct {
	Label   string
	Choices []Choice
}

// incidentsData is the outages page's data.
type incidentsData struct {
	From, To      string // the period's days, as typed
	Outages       []OutageRow
	OutagesMore   int
	OutagesErr    string
	Alerts        []AlertRow
	Records       []IncidentRow
	RecordsPager  Pager
	Targets       []TargetGroup
	Form          incidentForm
	Categories    []ChoiceGroup
	Sources       []Choice
	Causes        []Choice
	Zone          string
	CanChange     bool
	Record        *IncidentRow // the record page
	History       []statedb.AuditEntry
	FullHistory   bool
	UnknownPeriod bool
}

// period reads ?from=&to= (days in the Pemda's zone; to inclusive),
// by default the last 7 days.
func (u *UI) period(q url.Values) (from, to time.Time, fromS, toS string, ok bool) {
	loc := u.o.Zone()
	today := u.o.Now().In(loc)
	today = time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, loc)
	fromS, toS = strings.TrimSpace(q.Get("from")), strings.TrimSpace(q.Get("to"))
	from, to, ok = today.AddDate(0, 0, -6), today, true
	if fromS != "" {
		t, err := time.ParseInLocation("2006-01-02", fromS, loc)
		if err != nil {
			ok = false
		} else {
			from = t
		}
	}
	if toS != "" {
		t, err := time.ParseInLocation("2006-01-02", toS, loc)
		if err != nil {
			ok = false
		} else {
			to = t
		}
	}
	if to.Before(from) {
		ok = false
	}
	return from, to, from.Format("2006-01-02"), to.Format("2006-01-02"), ok
}

func causeChoices(c *Ctx) []Choice {
	out := []Choice{{"", c.T("inc.override.none")}}
	for _, k := range slices.Concat(sla.Causes, sla.ServiceCauses[:2]) {
		out = append(out, Choice{k, c.T("cause." + k)})
	}
	return out
}

func categoryChoices(c *Ctx) []ChoiceGroup {
	var out []ChoiceGroup
	for _, l := range statedb.IncidentCategories {
		label := l.Indonesian
		if c.Lang == LangEN {
			label = l.English
		}
		if len(out) == 0 || out[len(out)-1].Label != c.T("catgroup."+l.Group) {
			out = append(out, ChoiceGroup{Label: c.T("catgroup." + l.Group)})
		}
		g := &out[len(out)-1]
		g.Choices = append(g.Choices, Choice{l.ID, label})
	}
	return out
}

func sourceChoices(c *Ctx) []Choice {
	var out []Choice
	for _, l := range statedb.IncidentSources {
		label := l.Indonesian
		if c.Lang == LangEN {
			label = l.English
		}
		out = append(out, Choice{l.ID, label})
	}
	return out
}

// incidentsData reads what the page shows for the period.
func (u *UI) incidentsData(c *Ctx) (*incidentsData, error) {
	from, to, fromS, toS, ok := u.period(c.R.URL.Query())
	d := &incidentsData{From: fromS, To: toS, Zone: u.o.Zone().String(), Categories: categoryChoices(c),
		Sources: sourceChoices(c), Causes: causeChoices(c), Form: incidentForm{Source: "otomatis"}}
	if !ok {
		d.UnknownPeriod = true
		from, to, d.From, d.To, _ = u.period(nil)
	}
	end := to.AddDate(0, 0, 1)
	q := url.Values{"from": {from.Format("2006-01-02")}, "to": {end.Format("2006-01-02")}}
	if err := c.API("GET", "/api/v1/incidents?"+q.Encode(), nil, &d.Records); err != nil {
		return nil, err
	}
	slices.SortStableFunc(d.Records, func(a, b IncidentRow) int { return b.Start.Compare(a.Start) })
	recorded := map[string]int64{}
	for _, r := range d.Records {
		recorded[r.Scope+"/"+r.Target+"/"+r.Start.UTC().Format(time.RFC3339)] = r.ID
	}
	d.Records, d.RecordsPager = paginate(c.R, d.Records, maxListed, "hal")

	var outages struct {
		Outages []OutageRow `json:"outages"`
	}
	oq := url.Values{"since": {from.Format(time.RFC3339)}, "until": {end.Format(time.RFC3339)}}
	if err := c.API("GET", "/api/v1/outages?"+oq.Encode(), nil, &outages); err != nil {
		var ae *APIError
		if !errors.As(err, &ae) {
			return nil, err
		}
		d.OutagesErr = c.T("inc.outages.unavail") + ": " + ae.Msg
	}
	inv, err := c.inventory()
	if err != nil {
		return nil, err
	}
	links := map[string][]string{}
	for _, l := range inv.Links {
		links[l.Site] = append(links[l.Site], l.ID)
	}
	listed := map[string]bool{}
	for _, o := range outages.Outages {
		listed[o.Kind+"/"+o.ID+"/"+o.Start.UTC().Format(time.RFC3339)] = true
	}
	kept := outages.Outages[:0]
	for _, o := range outages.Outages {
		kind, id := o.Kind, o.ID
		if ls := links[id]; kind == sla.ScopeSite && len(ls) == 1 {
			kind, id = sla.ScopeLink, ls[0]
			if listed[kind+"/"+id+"/"+o.Start.UTC().Format(time.RFC3339)] {
				continue // the report lists it once, as its link's
			}
		}
		key := kind + "/" + id + "/" + o.Start.UTC().Format(time.RFC3339)
		o.Target, o.Record = kind+":"+id, recorded[key]
		kept = append(kept, o)
	}
	outages.Outages = kept
	d.Outages = outages.Outages
	if len(d.Outages) > maxListed {
		d.OutagesMore, d.Outages = len(d.Outages)-maxListed, d.Outages[:maxListed]
	}

	var alerts struct {
		Alerts []AlertRow `json:"alerts"`
	}
	if err := c.API("GET", "/api/v1/alerts", nil, &alerts); err != nil {
		return nil, err
	}
	slices.SortStableFunc(alerts.Alerts, func(a, b AlertRow) int { return b.ActiveAt.Compare(a.ActiveAt) })
	d.Alerts = alerts.Alerts
	if len(d.Alerts) > maxListed {
		d.Alerts = d.Alerts[:maxListed]
	}

	if c.P.Can("operator") {
		// an incident is a link's, a site's or a service's; never "all"
		d.Targets, d.CanChange = targetsOf(c, inv), true
		// a click on "Catat" of an outage fills the form
		qq := c.R.URL.Query()
		if t := qq.Get("target"); t != "" {
			d.Form.Target = t
		}
		if s := qq.Get("start"); s != "" {
			if st, err := time.Parse(time.RFC3339, s); err == nil {
				d.Form.Start = st.In(u.o.Zone()).Format("2006-01-02T15:04")
			}
		}
	}
	return d, nil
}

func (u *UI) renderIncidents(c *Ctx, d *incidentsData, errMsg string) {
	if errMsg == "" && d.UnknownPeriod {
		errMsg = c.T("inc.badperiod")
	}
	c.RenderPage("gangguan", &Page{Title: c.T("inc.title"), Nav: "gangguan", Data: d, Error: errMsg})
}

func (u *UI) incidentsPage(c *Ctx) error {
	d, err := u.incidentsData(c)
	if err != nil {
		return err
	}
	u.renderIncidents(c, d, "")
	return nil
}

func readIncidentForm(c *Ctx) (incidentForm, error) {
	c.R.Body = http.MaxBytesReader(c.W, c.R.Body, maxFormBytes)
	if err := c.R.ParseForm(); err != nil {
		return incidentForm{}, &APIError{Status: http.StatusBadRequest, Msg: err.Error()}
	}
	f := c.R.PostForm
	g := func(k string) string { return strings.TrimSpace(f.Get(k)) }
	return incidentForm{Target: g("target"), Start: g("start"), End: g("end"), Ticket: g("ticket"), Category: g("category"),
		Impact: g("impact"), Action: g("action"), Officer: g("officer"), Source: g("source"),
		CauseOverride: g("cause_override"), OverrideReason: g("override_reason")}, nil
}

func (u *UI) incidentAdd(c *Ctx) error {
	if err := needOperator(c); err != nil {
		return err
	}
	f, err := readIncidentForm(c)
	if err != nil {
		return err
	}
	scope, target, _ := strings.Cut(f.Target, ":")
	body := map[string]string{"scope": scope, "target": target, "start": c.formTime(f.Start), "ticket": f.Ticket,
		"category": f.Category, "impact": f.Impact, "action": f.Action, "officer": f.Officer, "source": f.Source,
		"cause_override": f.CauseOverride, "override_reason": f.OverrideReason}
	if f.End != "" {
		body["end"] = c.formTime(f.End)
	}
	var rec IncidentRow
	err = c.API("POST", "/api/v1/incidents", body, &rec)
	return c.answer(err, "/ui/gangguan/"+strconv.FormatInt(rec.ID, 10), "inc-added", "inc.failed", func(msg string) error {
		d, err := u.incidentsData(c)
		if err != nil {
			return err
		}
		d.Form = f
		u.renderIncidents(c, d, msg)
		return nil
	})
}

func (u *UI) alertAck(c *Ctx) error {
	if err := needOperator(c); err != nil {
		return err
	}
	fp := c.R.PathValue("fingerprint")
	err := c.API("POST", "/api/v1/alerts/"+url.PathEscape(fp)+"/ack", nil, nil)
	return c.answer(err, "/ui/gangguan", "alert-acked", "inc.ackfailed", func(msg string) error {
		d, err := u.incidentsData(c)
		if err != nil {
			return err
		}
		u.renderIncidents(c, d, msg)
		return nil
	})
}

// record finds incident record id among those the user sees (the API
// has no read of one record: the list of all of them, filtered by the
// user's OPDs).
func (u *UI) record(c *Ctx) (*incidentsData, error) {
	id, err := strconv.ParseInt(c.R.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return nil, &APIError{Status: http.StatusNotFound, Msg: c.T("inc.notfound")}
	}
	var all []IncidentRow
	if err := c.API("GET", "/api/v1/incidents", nil, &all); err != nil {
		return nil, err
	}
	i := slices.IndexFunc(all, func(r IncidentRow) bool { return r.ID == id })
	if i < 0 {
		return nil, &APIError{Status: http.StatusNotFound, Msg: c.T("inc.notfound")}
	}
	rec := all[i]
	d := &incidentsData{Record: &rec, Zone: u.o.Zone().String(), Categories: categoryChoices(c), Sources: sourceChoices(c),
		Causes: causeChoices(c), CanChange: c.P.Can("operator")}
	d.Form = incidentForm{Ticket: rec.Ticket, Category: rec.Category, Impact: rec.Impact, Action: rec.Action, Officer: rec.Officer,
		Source: rec.Source, CauseOverride: rec.CauseOverride, OverrideReason: rec.OverrideReason}
	// the history is the audit log's, which only an unscoped admin reads
	if c.P.Can("admin") && !c.P.Scoped() {
		var rows []statedb.AuditEntry
		q := url.Values{"since": {rec.Created.UTC().Format("2006-01-02")}, "limit": {"10000"}}
		if err := c.API("GET", "/api/v1/audit?"+q.Encode(), nil, &rows); err == nil {
			obj := "incident/" + strconv.FormatInt(id, 10)
			for _, r := range rows {
				if r.Object == obj {
					d.History = append(d.History, r)
				}
			}
			d.FullHistory = true
		}
	}
	return d, nil
}

func (u *UI) renderRecord(c *Ctx, d *incidentsData, errMsg string) {
	c.RenderPage("gangguan", &Page{Title: fmt.Sprintf(c.T("inc.edit.title"), d.Record.ID), Nav: "gangguan", Data: d, Error: errMsg})
}

func (u *UI) incidentPage(c *Ctx) error {
	d, err := u.record(c)
	if err != nil {
		return err
	}
	u.renderRecord(c, d, "")
	return nil
}

func (u *UI) incidentEdit(c *Ctx) error {
	if err := needOperator(c); err != nil {
		return err
	}
	f, err := readIncidentForm(c)
	if err != nil {
		return err
	}
	patch := map[string]string{"ticket": f.Ticket, "category": f.Category, "impact": f.Impact, "action": f.Action,
		"officer": f.Officer, "source": f.Source, "cause_override": f.CauseOverride, "override_reason": f.OverrideReason}
	id := c.R.PathValue("id")
	err = c.API("POST", "/api/v1/incidents/"+url.PathEscape(id)+"/updates", patch, nil)
	return c.answer(err, "/ui/gangguan/"+url.PathEscape(id), "inc-updated", "inc.failed", func(msg string) error {
		d, err := u.record(c)
		if err != nil {
			return err
		}
		d.Form = f
		u.renderRecord(c, d, msg)
		return nil
	})
}
