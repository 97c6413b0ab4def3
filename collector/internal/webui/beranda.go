package webui

import (
	"cmp"
	"errors"
	"math"
	"net/http"
	"net/url"
	"slices"
	"time"
)

func init() {
	texts(map[string][2]string{
		"beranda.title":                 {"Beranda", "Home"},
		"beranda.at":                    {"Keadaan pada %s.", "States at %s."},
		"beranda.summary":               {"Ringkasan", "Summary"},
		"beranda.sites":                 {"Situs", "Sites"},
		"beranda.links":                 {"Tautan", "Links"},
		"beranda.services":              {"Layanan", "Services"},
		"beranda.kind.site":             {"situs", "site"},
		"beranda.kind.link":             {"tautan", "link"},
		"beranda.kind.service":          {"layanan", "service"},
		"beranda.map":                   {"Peta situs", "Map of the sites"},
		"beranda.map.desc":              {"Setiap titik adalah satu situs, berwarna menurut keadaannya; arahkan penunjuk ke titik untuk namanya. Daftar di bawah memuat hal yang sama sebagai teks.", "Each dot is a site, coloured by its state; point at a dot for its name. The list below holds the same as text."},
		"beranda.map.legend":            {"Keterangan warna", "Legend"},
		"beranda.map.none":              {"Tidak ada situs dengan koordinat (lat, lon di inventaris).", "No site has coordinates (lat, lon in the inventory)."},
		"beranda.nocoord":               {"Situs tanpa koordinat", "Sites without coordinates"},
		"beranda.nocoord.more":          {"dan %d lainnya", "and %d more"},
		"beranda.list":                  {"Daftar keadaan", "States"},
		"beranda.list.intro":            {"Yang bermasalah di atas.", "Problems first."},
		"beranda.f.state":               {"Keadaan", "State"},
		"beranda.f.opd":                 {"OPD", "OPD"},
		"beranda.f.kind":                {"Jenis", "Kind"},
		"beranda.f.any":                 {"semua", "all"},
		"beranda.f.problems":            {"bermasalah (selain normal)", "problems (not up)"},
		"beranda.f.submit":              {"Saring", "Filter"},
		"beranda.col.kind":              {"Jenis", "Kind"},
		"beranda.col.name":              {"Nama", "Name"},
		"beranda.col.site":              {"Situs", "Site"},
		"beranda.col.opd":               {"OPD", "OPD"},
		"beranda.col.state":             {"Keadaan", "State"},
		"beranda.col.loss":              {"Paket hilang", "Loss"},
		"beranda.col.rtt":               {"RTT", "RTT"},
		"beranda.list.caption":          {"Keadaan sekarang, baris %d–%d dari %d", "Current states, rows %d–%d of %d"},
		"beranda.ms":                    {"%s md", "%s ms"},
		"beranda.incidents":             {"Gangguan terbuka", "Open incidents"},
		"beranda.incidents.hint":        {"Catatan gangguan 30 hari terakhir yang targetnya masih putus atau menurun, atau yang belum berisi tindakan.", "Incident records of the last 30 days whose target is still down or degraded, or that have no action yet."},
		"beranda.inc.start":             {"Mulai", "Start"},
		"beranda.inc.target":            {"Target", "Target"},
		"beranda.inc.category":          {"Kategori", "Category"},
		"beranda.inc.ticket":            {"Tiket", "Ticket"},
		"beranda.inc.officer":           {"Petugas", "Officer"},
		"beranda.inc.why":               {"Terbuka karena", "Open because"},
		"beranda.inc.ongoing":           {"masih %s", "still %s"},
		"beranda.inc.noaction":          {"belum ada tindakan", "no action yet"},
		"beranda.agents":                {"Agen diam", "Silent agents"},
		"beranda.agents.hint":           {"Agen yang tidak mengirim detak (heartbeat) lagi.", "Agents that stopped sending heartbeats."},
		"beranda.agent.id":              {"Agen", "Agent"},
		"beranda.agent.seen":            {"Terakhir terlihat", "Last seen"},
		"beranda.agent.version":         {"Versi", "Version"},
		"beranda.ending":                {"Kontrak dan garansi segera berakhir", "Contracts and warranties ending soon"},
		"beranda.ending.hint":           {"Yang berakhir dalam %d hari ke depan, atau sudah berakhir dalam 30 hari terakhir.", "Those ending within the next %d days, or ended in the last 30 days."},
		"beranda.end.kind":              {"Jenis", "Kind"},
		"beranda.end.id":                {"Tautan/perangkat", "Link/device"},
		"beranda.end.date":              {"Hari terakhir", "Last day"},
		"beranda.end.left":              {"Sisa", "Left"},
		"beranda.end.days":              {"%d hari", "%d days"},
		"beranda.end.ended":             {"berakhir %d hari lalu", "ended %d days ago"},
		"beranda.end.today":             {"hari ini", "today"},
		"beranda.kind.isp_contract":     {"kontrak ISP", "ISP contract"},
		"beranda.kind.warranty":         {"garansi", "warranty"},
		"beranda.kind.support_contract": {"kontrak dukungan", "support contract"},
		"beranda.more":                  {"%d lainnya tidak ditampilkan.", "%d more not shown."},
		"beranda.failed":                {"Bagian ini tidak dapat dibaca", "This part cannot be read"},
	})
	page("GET /ui/{$}", func(u *UI) func(*Ctx) error { return u.beranda })
}

// The parts of GET /api/v1/status, /api/v1/incidents and /api/v1/agents
// the home page shows.
type (
	statusView struct {
		At         time.Time       `json:"at"`
		WithinDays int             `json:"within_days"`
		Sites      []siteStatus    `json:"sites"`
		Services   []serviceStatus `json:"services"`
		Ending     []endingRow     `json:"ending"`
	}
	siteStatus struct {
		ID, Name, Kind, OPD, District, State string
		Lat, Lon                             *float64
		Links                                []linkStatus
	}
	linkStatus struct {
		ID, Name, Type, ISP, State string
		LossRatio                  *float64 `json:"loss_ratio"`
		RTTSeconds                 *float64 `json:"rtt_seconds"`
	}
	serviceStatus struct {
		ID, Name, OPD, Site, State string
	}
	endingRow struct {
		Kind, ID, Site, OPD, Date string
		DaysLeft                  int `json:"days_left"`
	}
	incidentRow struct {
		ID       int64      `json:"id"`
		Scope    string     `json:"scope"`
		Target   string     `json:"target"`
		Start    time.Time  `json:"start"`
		End      *time.Time `json:"end"`
		Ticket   string     `json:"ticket"`
		Category string     `json:"category"`
		Action   string     `json:"action"`
		Officer  string     `json:"officer"`
		OPD      string     `json:"opd"`
		// Why is the page's: the target's state when still a problem,
		// "" when the record lacks an action.
		Why string `json:"-"`
	}
	homeAgent struct {
		ID       string     `json:"id"`
		Site     string     `json:"site"`
		OPD      string     `json:"opd"`
		Version  string     `json:"version"`
		LastSeen *time.Time `json:"last_seen"`
		Silent   bool       `json:"silent"`
	}
)

// stateRow is a site, link or service in the home page's list.
type stateRow struct {
	Kind, ID, Name, Site, OPD, State string
	LossRatio, RTTSeconds            *float64
}

// stateOrder sorts problems first.
var stateOrder = map[string]int{"down": 0, "degraded": 1, "nodata": 2, "unknown": 3, "maintenance": 4, "up": 5}

var listStates = []string{"down", "degraded", "nodata", "maintenance", "up"}

// Caps that keep the home page under 150 KB with 1,000 sites.
const (
	berandaPerPage = 50
	maxNoCoord     = 30
	maxSectionRows = 20
)

// berandaPage is the home page's data.
type berandaPage struct {
	Status    *statusView // nil: not readable by the user
	StatusErr string
	// Counts per kind (site, link, service) and state.
	Counts []stateCount
	Map    *siteMap
	// NoCoord are sites without coordinates (at most maxNoCoord), and
	// NoCoordMore the others.
	NoCoord     []siteStatus
	NoCoordMore int
	// The list, filtered and paginated.
	State, OPD, Kind string
	States, OPDs     []string
	Kinds            []string
	Rows             []stateRow
	Total            int
	Pg               rowPager

	Incidents     []incidentRow // nil and IncidentsShown false: omitted
	IncidentsShow bool
	IncidentsMore int
	IncidentsErr  string
	Agents        []homeAgent
	AgentsShow    bool
	AgentsMore    int
	AgentsErr     string
	Ending        []endingRow
	EndingMore    int
}

// stateCount is how many of a kind are in each state.
type stateCount struct {
	Kind  string
	Total int
	By    []stateN
}

type stateN struct {
	State string
	N     int
}

// section reads one part of the home page: a 403 omits it (false, ""),
// another refusal is shown in its place.
func section(c *Ctx, target string, out any) (shown bool, msg string, err error) {
	err = c.API("GET", target, nil, out)
	var ae *APIError
	switch {
	case err == nil:
		return true, "", nil
	case errors.As(err, &ae) && ae.Status == http.StatusForbidden:
		return false, "", nil
	case errors.As(err, &ae):
		return true, c.T("beranda.failed") + ": " + ae.Msg, nil
	}
	return false, "", err
}

func (u *UI) beranda(c *Ctx) error {
	q := c.R.URL.Query()
	d := &berandaPage{State: q.Get("state"), OPD: q.Get("opd"), Kind: q.Get("kind"), States: listStates,
		Kinds: []string{"site", "link", "service"}}
	var st statusView
	shown, msg, err := section(c, "/api/v1/status", &st)
	if err != nil {
		return err
	}
	d.StatusErr = msg
	if shown && msg == "" {
		d.Status = &st
		d.fill(q)
	}
	now := u.o.Now()
	var incs []incidentRow
	from := now.In(u.o.Zone()).AddDate(0, 0, -openDays).Format("2006-01-02")
	if d.IncidentsShow, d.IncidentsErr, err = section(c, "/api/v1/incidents?from="+from, &incs); err != nil {
		return err
	}
	d.openIncidents(incs, now.AddDate(0, 0, -openDays))
	var agents []homeAgent
	if d.AgentsShow, d.AgentsErr, err = section(c, "/api/v1/agents", &agents); err != nil {
		return err
	}
	for _, a := range agents {
		if a.Silent {
			d.Agents = append(d.Agents, a)
		}
	}
	if len(d.Agents) > maxSectionRows {
		d.AgentsMore, d.Agents = len(d.Agents)-maxSectionRows, d.Agents[:maxSectionRows]
	}
	c.RenderPage("beranda", &Page{Title: c.T("beranda.title"), Data: d})
	return nil
}

// fill builds the counts, the map and the list from the status.
func (d *berandaPage) fill(q url.Values) {
	st := d.Status
	var rows []stateRow
	opds := map[string]bool{}
	for _, s := range st.Sites {
		rows = append(rows, stateRow{Kind: "site", ID: s.ID, Name: cmp.Or(s.Name, s.ID), Site: s.ID, OPD: s.OPD, State: s.State})
		for _, l := range s.Links {
			rows = append(rows, stateRow{Kind: "link", ID: l.ID, Name: cmp.Or(l.Name, l.ID), Site: s.ID, OPD: s.OPD, State: l.State,
				LossRatio: l.LossRatio, RTTSeconds: l.RTTSeconds})
		}
		if s.OPD != "" {
			opds[s.OPD] = true
		}
		if s.Lat == nil || s.Lon == nil {
			if len(d.NoCoord) < maxNoCoord {
				d.NoCoord = append(d.NoCoord, s)
			} else {
				d.NoCoordMore++
			}
		}
	}
	for _, sv := range st.Services {
		rows = append(rows, stateRow{Kind: "service", ID: sv.ID, Name: cmp.Or(sv.Name, sv.ID), Site: sv.Site, OPD: sv.OPD, State: sv.State})
		if sv.OPD != "" {
			opds[sv.OPD] = true
		}
	}
	for _, k := range d.Kinds {
		sc := stateCount{Kind: k}
		for _, s := range listStates {
			n := 0
			for _, r := range rows {
				if r.Kind == k && r.State == s {
					n++
				}
			}
			sc.By = append(sc.By, stateN{s, n})
		}
		for _, r := range rows {
			if r.Kind == k {
				sc.Total++
			}
		}
		d.Counts = append(d.Counts, sc)
	}
	for o := range opds {
		d.OPDs = append(d.OPDs, o)
	}
	slices.Sort(d.OPDs)
	d.Map = newSiteMap(st.Sites)

	rows = slices.DeleteFunc(rows, func(r stateRow) bool {
		switch {
		case d.Kind != "" && r.Kind != d.Kind, d.OPD != "" && r.OPD != d.OPD:
			return true
		case d.State == "problems":
			return r.State == "up"
		}
		return d.State != "" && r.State != d.State
	})
	slices.SortStableFunc(rows, func(a, b stateRow) int {
		return cmp.Or(cmp.Compare(stateRank(a.State), stateRank(b.State)), cmp.Compare(a.OPD, b.OPD),
			cmp.Compare(a.Site, b.Site), cmp.Compare(kindRank(a.Kind), kindRank(b.Kind)), cmp.Compare(a.ID, b.ID))
	})
	d.Total = len(rows)
	n := rowPageOf(q, max(1, (len(rows)+berandaPerPage-1)/berandaPerPage))
	d.Pg = newRowPager("/ui/", q, n, berandaPerPage, len(rows))
	if d.Pg.First <= len(rows) {
		d.Rows = rows[d.Pg.First-1 : d.Pg.Last]
	}
	d.Ending = st.Ending
	slices.SortStableFunc(d.Ending, func(a, b endingRow) int { return cmp.Compare(a.DaysLeft, b.DaysLeft) })
	if len(d.Ending) > maxSectionRows {
		d.EndingMore, d.Ending = len(d.Ending)-maxSectionRows, d.Ending[:maxSectionRows]
	}
}

func stateRank(s string) int {
	if r, ok := stateOrder[s]; ok {
		return r
	}
	return 3
}

func kindRank(k string) int { return map[string]int{"site": 0, "link": 1, "service": 2}[k] }

// openDays is how far back an incident record without an action counts
// as open.
const openDays = 30

// openIncidents keeps the records whose target is still down or
// degraded, or that lack an action and started after since.
func (d *berandaPage) openIncidents(list []incidentRow, since time.Time) {
	state := map[string]string{}
	if d.Status != nil {
		for _, s := range d.Status.Sites {
			state["site/"+s.ID] = s.State
			for _, l := range s.Links {
				state["link/"+l.ID] = l.State
			}
		}
		for _, sv := range d.Status.Services {
			state["service/"+sv.ID] = sv.State
		}
	}
	for _, in := range list {
		switch s := state[in.Scope+"/"+in.Target]; {
		case in.End == nil && (s == "down" || s == "degraded"):
			in.Why = s
		case in.Action != "" || in.Start.Before(since):
			continue
		}
		d.Incidents = append(d.Incidents, in)
	}
	slices.SortStableFunc(d.Incidents, func(a, b incidentRow) int { return b.Start.Compare(a.Start) })
	if len(d.Incidents) > maxSectionRows {
		d.IncidentsMore, d.Incidents = len(d.Incidents)-maxSectionRows, d.Incidents[:maxSectionRows]
	}
}

// siteMap is the sites drawn on an equirectangular projection fitted to
// their bounding box, in a group per state (its colour), problems last
// (on top).
type siteMap struct {
	W, H   int
	Groups []mapGroup
	Legend []stateN
	// Labels: the points are few enough to be named on the map.
	Labels bool
}

type mapGroup struct {
	State  string
	Points []mapPoint
}

type mapPoint struct {
	X, Y  int
	Name  string
	Left  bool // its label goes left of it (the right half)
	state string
}

// The map's width in SVG units, its margin and its height's bounds; it
// names its points beside them when they are at most mapLabels, and a
// point's name is clipped to mapNameRunes (the list has it whole).
const (
	mapW         = 800
	mapMargin    = 16
	mapMinH      = 240
	mapMaxH      = 640
	mapLabels    = 30
	mapNameRunes = 40
)

// newSiteMap projects the sites that have coordinates; nil when none
// has.
func newSiteMap(sites []siteStatus) *siteMap {
	minLat, maxLat, minLon, maxLon := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	n := 0
	for _, s := range sites {
		if s.Lat == nil || s.Lon == nil {
			continue
		}
		n++
		minLat, maxLat = min(minLat, *s.Lat), max(maxLat, *s.Lat)
		minLon, maxLon = min(minLon, *s.Lon), max(maxLon, *s.Lon)
	}
	if n == 0 {
		return nil
	}
	// Equirectangular: a degree of longitude is cos(latitude) of one of
	// latitude, at the box's middle.
	k := math.Cos((minLat + maxLat) / 2 * math.Pi / 180)
	dx, dy := (maxLon-minLon)*k, maxLat-minLat
	inner := float64(mapW - 2*mapMargin)
	scale := inner / max(dx, 1e-9)
	h := int(math.Round(dy*scale)) + 2*mapMargin
	if dx < 1e-9 || h > mapMaxH {
		// Taller than wide (or one point): fit the height instead.
		h = mapMaxH
		scale = float64(mapMaxH-2*mapMargin) / max(dy, 1e-9)
	}
	if dx < 1e-9 && dy < 1e-9 {
		scale = 0
	}
	h = max(h, mapMinH)
	m := &siteMap{W: mapW, H: h, Labels: n <= mapLabels}
	// Centre the drawing in the box.
	offX := (float64(mapW) - dx*scale) / 2
	offY := (float64(h) - dy*scale) / 2
	by := map[string][]mapPoint{}
	for _, s := range sites {
		if s.Lat == nil || s.Lon == nil {
			continue
		}
		x := offX + (*s.Lon-minLon)*k*scale
		y := offY + (maxLat-*s.Lat)*scale
		st := mapState(s.State)
		by[st] = append(by[st], mapPoint{X: int(math.Round(x)), Y: int(math.Round(y)), Name: clipRunes(cmp.Or(s.Name, s.ID), mapNameRunes),
			Left: x > mapW/2, state: st})
	}
	for _, st := range listStates {
		if len(by[st]) > 0 {
			m.Legend = append(m.Legend, stateN{st, len(by[st])})
		}
	}
	for i := len(listStates) - 1; i >= 0; i-- {
		if st := listStates[i]; len(by[st]) > 0 {
			m.Groups = append(m.Groups, mapGroup{st, by[st]})
		}
	}
	return m
}

// Points are all the map's points, problems last.
func (m *siteMap) Points() []mapPoint {
	var out []mapPoint
	for _, g := range m.Groups {
		out = append(out, g.Points...)
	}
	return out
}

// clipRunes shortens s to n runes, with an ellipsis.
func clipRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// mapState is a state the map has a colour for.
func mapState(s string) string {
	if _, ok := stateOrder[s]; ok && s != "unknown" {
		return s
	}
	return "nodata"
}

// DaysAgo is -n for the template.
func (e endingRow) DaysAgo() int { return -e.DaysLeft }

// Day parses an ending's date for .Date.
func (e endingRow) Day() time.Time {
	t, _ := time.Parse("2006-01-02", e.Date)
	return t.Add(12 * time.Hour)
}

// MS is an RTT in milliseconds.
func (r stateRow) MS() float64 { return *r.RTTSeconds * 1000 }
