package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/tsdb"

	"github.com/pantau-noc/pantau/collector/internal/auth"
	"github.com/pantau-noc/pantau/collector/internal/inventory"
	"github.com/pantau-noc/pantau/collector/internal/sla"
	"github.com/pantau-noc/pantau/collector/internal/statedb"
)

// overviewInventory is testInventory with coordinates, a contract, a
// device and a service dinkes owns hosted at dishub's site.
const overviewInventory = `sites:
  - {id: dinkes, name: Dinas Kesehatan, kind: opd, timezone: WIB, lat: -0.87, lon: 131.25}
  - {id: pkm-aimas, name: Puskesmas Aimas, kind: district, opd: dinkes, district: Aimas, timezone: WIT}
  - {id: dishub, name: Dinas Perhubungan, kind: opd, timezone: WIB}
links:
  - {id: dinkes-wan, name: WAN Dinkes, site: dinkes, isp: telkom, icmp: {target: 127.0.0.2}, contract: {target: 99.5, end: 2026-12-31}}
  - {id: aimas-vsat, site: pkm-aimas, type: vsat, icmp: {target: 127.0.0.4}}
  - {id: dishub-wan, site: dishub, icmp: {target: 127.0.0.3}, contract: {target: 99.5, end: 2026-11-20}}
devices:
  - {id: rtr-dinkes, site: dinkes, warranty_end: 2027-01-10, contract_end: 2030-01-01}
  - {id: rtr-dishub, site: dishub, warranty_end: 2026-10-01}
services:
  - {id: dishub-portal, name: Portal Dishub, site: dishub, probe: {measurement: http, target: portal}}
  - {id: sik, name: Sistem Informasi Kesehatan, site: dishub, opd: dinkes, probe: {measurement: http, target: sik}}
`

// overviewNow is the harness's now: the TSDB's samples are around it.
var overviewNow = time.Date(2026, 12, 7, 5, 0, 0, 0, time.UTC)

type fakeStates map[string]sla.State

func (f fakeStates) Current(l *inventory.Link, _ string) sla.State {
	if st, ok := f[l.ID]; ok {
		return st
	}
	return sla.NoData
}

func (f fakeStates) CurrentService(sv *inventory.Service) sla.State {
	if st, ok := f[sv.ID]; ok {
		return st
	}
	return sla.NoData
}

type sample struct {
	ls labels.Labels
	t  time.Time
	v  float64
}

// newOverviewHarness serves the overview API behind the real gate, with
// the harness's credentials, on a real TSDB holding samples.
func newOverviewHarness(t *testing.T, samples []sample, opts ...func(*OverviewOptions)) *harness {
	t.Helper()
	h := newHarness(t, nil)
	inv, err := inventory.Parse("inventory.yml", []byte(overviewInventory))
	if err != nil {
		t.Fatal(err)
	}
	h.inv = inv
	topts := tsdb.DefaultOptions()
	topts.OutOfOrderTimeWindow = (30 * 24 * time.Hour).Milliseconds()
	db, err := tsdb.Open(t.TempDir(), slog.New(slog.DiscardHandler), nil, topts, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	slices.SortFunc(samples, func(a, b sample) int { return a.t.Compare(b.t) })
	app := db.Appender(context.Background())
	for _, s := range samples {
		if _, err := app.Append(0, s.ls, s.t.UnixMilli(), s.v); err != nil {
			t.Fatal(err)
		}
	}
	if err := app.Commit(); err != nil {
		t.Fatal(err)
	}
	o := OverviewOptions{DB: h.db, Inventory: func() *inventory.Inventory { return inv }, TSDB: db,
		States: fakeStates{"dinkes-wan": sla.Up, "aimas-vsat": sla.Down, "dishub-wan": sla.Degraded, "dishub-portal": sla.Up, "sik": sla.Down},
		Now:    func() time.Time { return overviewNow }}
	o.Outages = func(context.Context, string, time.Time, time.Time) ([]FoundOutage, error) { return nil, nil }
	for _, f := range opts {
		f(&o)
	}
	mux := http.NewServeMux()
	NewOverview(o).Register(mux)
	discard := slog.New(slog.DiscardHandler)
	authn, err := statedb.NewAuthenticator(h.ctx, h.db, discard)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(auth.NewGate(auth.GateOptions{Verifier: authn, Guard: auth.NewGuard(0, 0), Logger: discard}, mux))
	t.Cleanup(srv.Close)
	h.url = srv.URL
	return h
}

func series(kv ...string) labels.Labels { return labels.FromStrings(kv...) }

// TestOverviewRoles: every endpoint refuses no credential (401) and an
// agent token (403), and answers every viewer, operator and admin, the
// handlers too without the gate in front.
func TestOverviewRoles(t *testing.T) {
	h := newOverviewHarness(t, nil)
	paths := []string{"/api/v1/status", "/api/v1/agents", "/api/v1/outages", "/api/v1/inventory/unmatched"}
	for _, path := range paths {
		for who, want := range map[string]int{"": 401, "agent": 403, "viewer": 200, "dinkes-viewer": 200, "operator": 200, "admin": 200, "dishub-op": 200} {
			if code, body := h.do("GET", path, who, nil); code != want {
				t.Errorf("GET %s as %q: %d %s, want %d", path, who, code, body, want)
			}
		}
		if code, _ := h.do("POST", path, "admin", nil); code != http.StatusMethodNotAllowed {
			t.Errorf("POST %s: %d, want 405", path, code)
		}
	}
	// without the gate: an agent principal, and none
	mux := http.NewServeMux()
	NewOverview(OverviewOptions{}).Register(mux)
	for _, path := range paths {
		for _, p := range []*auth.Principal{nil, {Kind: "token", Name: "a1", Role: auth.RoleAgent}} {
			req := httptest.NewRequest("GET", path, nil)
			if p != nil {
				req = req.WithContext(auth.WithPrincipal(req.Context(), p))
			}
			w := httptest.NewRecorder()
			mux.ServeHTTP(w, req)
			if w.Code != 401 && w.Code != 403 {
				t.Errorf("GET %s as %v without the gate: %d", path, p, w.Code)
			}
		}
	}
}

// TestOverviewBadParams: unknown, repeated and bad parameters are 400
// naming them.
func TestOverviewBadParams(t *testing.T) {
	h := newOverviewHarness(t, nil)
	for _, c := range []struct{ path, msg string }{
		{"/api/v1/status?within=0", `within: \"0\"`},
		{"/api/v1/status?within=3651", "within"},
		{"/api/v1/status?within=x", "within"},
		{"/api/v1/status?within=1&within=2", "within: given 2 times"},
		{"/api/v1/status?opd=dinkes", `\"opd\": unknown parameter: use within`},
		{"/api/v1/agents?site=dinkes", `\"site\": unknown parameter`},
		{"/api/v1/outages?since=yesterday", "since"},
		{"/api/v1/outages?until=2026-13-01", "until"},
		{"/api/v1/outages?since=2026-01-01&until=2026-12-01", "since: 2026-01-01T00:00:00Z is more than 92 days"},
		{"/api/v1/outages?since=2026-12-05&until=2026-12-01", "since"},
		{"/api/v1/outages?since=2026-12-01&since=2026-12-02", "since: given 2 times"},
		{"/api/v1/outages?kind=link", `\"kind\": unknown parameter: use since and until`},
		{"/api/v1/inventory/unmatched?since=0d", "since"},
		{"/api/v1/inventory/unmatched?since=93d", "since"},
		{"/api/v1/inventory/unmatched?since=-1h", "since"},
		{"/api/v1/inventory/unmatched?since=2026-01-01", "more than 92 days"},
		{"/api/v1/inventory/unmatched?since=2027-01-01", "not in the past"},
		{"/api/v1/inventory/unmatched?site=x", `\"site\": unknown parameter`},
	} {
		if code, body := h.do("GET", c.path, "viewer", nil); code != 400 || !strings.Contains(body, c.msg) || !strings.Contains(body, `"errorType":"bad_data"`) {
			t.Errorf("GET %s: %d %s, want 400 with %q", c.path, code, body, c.msg)
		}
	}
}

type statusAnswer struct {
	Status string
	Data   StatusView
}

// TestStatus: sites with their links' states and latest loss and RTT,
// services, and what ends soon; a scoped credential sees only its OPDs.
func TestStatus(t *testing.T) {
	now := overviewNow
	h := newOverviewHarness(t, []sample{
		{series("__name__", "pantau_icmp_loss_ratio", "agent", "a1", "link", "dinkes-wan", "opd", "dinkes"), now.Add(-2 * time.Minute), 0.1},
		{series("__name__", "pantau_icmp_loss_ratio", "agent", "a1", "link", "dinkes-wan", "opd", "dinkes"), now.Add(-time.Minute), 0.05},
		{series("__name__", "pantau_icmp_loss_ratio", "agent", "a2", "link", "dinkes-wan", "opd", "dinkes"), now.Add(-time.Minute), 0.25},
		{series("__name__", "pantau_icmp_rtt_avg_seconds", "agent", "a1", "link", "dinkes-wan", "opd", "dinkes"), now.Add(-time.Minute), 0.031},
		// too old to be the latest
		{series("__name__", "pantau_icmp_rtt_avg_seconds", "agent", "a3", "link", "dishub-wan", "opd", "dishub"), now.Add(-10 * time.Minute), 0.5},
	})
	code, body := h.do("GET", "/api/v1/status", "viewer", nil)
	if code != 200 {
		t.Fatalf("status: %d %s", code, body)
	}
	for _, field := range []string{`"lat":-0.87`, `"lat":null`, `"loss_ratio":null`, `"within_days":90`, `"days_left":`} {
		if !strings.Contains(body, field) {
			t.Errorf("answer lacks %s: %s", field, body)
		}
	}
	st := decode[statusAnswer](t, body).Data
	if len(st.Sites) != 3 || len(st.Services) != 2 {
		t.Fatalf("sites %+v services %+v", st.Sites, st.Services)
	}
	dinkes, aimas, dishub := st.Sites[0], st.Sites[1], st.Sites[2]
	if dinkes.ID != "dinkes" || dinkes.State != "up" || dinkes.OPD != "dinkes" || len(dinkes.Links) != 1 || dinkes.Lat == nil || *dinkes.Lon != 131.25 {
		t.Errorf("dinkes %+v", dinkes)
	}
	l := dinkes.Links[0]
	if l.ID != "dinkes-wan" || l.Name != "WAN Dinkes" || l.ISP != "telkom" || l.State != "up" || l.LossRatio == nil || *l.LossRatio != 0.25 ||
		l.RTTSeconds == nil || *l.RTTSeconds != 0.031 {
		t.Errorf("dinkes-wan %+v", l)
	}
	if aimas.State != "down" || aimas.District != "Aimas" || aimas.Lat != nil || aimas.Links[0].State != "down" || aimas.Links[0].Type != "vsat" {
		t.Errorf("pkm-aimas %+v", aimas)
	}
	if dishub.State != "degraded" || dishub.Links[0].RTTSeconds != nil {
		t.Errorf("dishub %+v %+v", dishub, dishub.Links[0])
	}
	if sv := st.Services[1]; sv.ID != "sik" || sv.OPD != "dinkes" || sv.Site != "dishub" || sv.State != "down" {
		t.Errorf("service sik %+v", sv)
	}
	// 2026-12-07 WIB: dishub-wan's contract ended 17 days ago, rtr-dishub's
	// warranty 67 days ago (left out), dinkes-wan's ends in 24 days,
	// rtr-dinkes's warranty in 34, its support contract in 3 years (left out)
	want := []Ending{
		{Kind: "isp_contract", ID: "dishub-wan", Site: "dishub", OPD: "dishub", Date: "2026-11-20", DaysLeft: -17},
		{Kind: "isp_contract", ID: "dinkes-wan", Site: "dinkes", OPD: "dinkes", Date: "2026-12-31", DaysLeft: 24},
		{Kind: "warranty", ID: "rtr-dinkes", Site: "dinkes", OPD: "dinkes", Date: "2027-01-10", DaysLeft: 34},
	}
	if !slices.Equal(st.Ending, want) {
		t.Errorf("ending %+v, want %+v", st.Ending, want)
	}
	if got := decode[statusAnswer](t, mustGet(t, h, "/api/v1/status?within=30", "viewer")).Data.Ending; len(got) != 2 {
		t.Errorf("within=30: %+v", got)
	}
	if got := decode[statusAnswer](t, mustGet(t, h, "/api/v1/status?within=3650", "viewer")).Data.Ending; len(got) != 4 {
		t.Errorf("within=3650: %+v", got)
	}

	// a dinkes credential: its two sites, its service hosted at dishub,
	// its endings; nothing of dishub's
	body = mustGet(t, h, "/api/v1/status", "dinkes-viewer")
	if strings.Contains(body, "dishub-wan") || strings.Contains(body, "dishub-portal") || strings.Contains(body, `"opd":"dishub"`) {
		t.Errorf("a dinkes credential sees dishub: %s", body)
	}
	st = decode[statusAnswer](t, body).Data
	if len(st.Sites) != 2 || len(st.Services) != 1 || st.Services[0].ID != "sik" || len(st.Ending) != 2 {
		t.Errorf("dinkes sees %+v", st)
	}

	// without an inventory: empty lists, not null
	h2 := newOverviewHarness(t, nil, func(o *OverviewOptions) { o.Inventory = nil })
	if body := mustGet(t, h2, "/api/v1/status", "viewer"); !strings.Contains(body, `"sites":[]`) || !strings.Contains(body, `"ending":[]`) {
		t.Errorf("without an inventory: %s", body)
	}
}

func mustGet(t *testing.T, h *harness, path, who string) string {
	t.Helper()
	code, body := h.do("GET", path, who, nil)
	if code != 200 {
		t.Fatalf("GET %s as %s: %d %s", path, who, code, body)
	}
	return body
}

// TestAgents: agents from tokens and heartbeats, with their last
// heartbeat, silence and queue; token ids for an unscoped admin only;
// a scoped credential sees the agents of its OPDs' sites.
func TestAgents(t *testing.T) {
	now := overviewNow
	hb := func(agent, site, version string, at time.Time) sample {
		return sample{series("__name__", "pantau_agent_uptime_seconds", "agent", agent, "site", site, "version", version), at, 100}
	}
	var samples []sample
	// agent-dinkes: live, upgraded an hour ago
	for m := 120; m > 60; m -= 5 {
		samples = append(samples, hb("agent-dinkes", "dinkes", "0.18.0", now.Add(-time.Duration(m)*time.Minute)))
	}
	for m := 60; m > 0; m -= 1 {
		samples = append(samples, hb("agent-dinkes", "dinkes", "0.19.0", now.Add(-time.Duration(m)*time.Minute+30*time.Second)))
	}
	samples = append(samples,
		sample{series("__name__", "pantau_agent_queue_points", "agent", "agent-dinkes", "site", "dinkes"), now.Add(-time.Minute), 1200},
		sample{series("__name__", "pantau_agent_queue_oldest_age_seconds", "agent", "agent-dinkes", "site", "dinkes"), now.Add(-time.Minute), 45},
		// agent-dishub: silent since two days
		hb("agent-dishub", "dishub", "0.19.0", now.Add(-50*time.Hour)),
		hb("agent-dishub", "dishub", "0.19.0", now.Add(-48*time.Hour)),
		// agent-old: last seen 8 days ago (outside the window); no token
		hb("agent-old", "dishub", "0.17.0", now.Add(-8*24*time.Hour)),
	)
	h := newOverviewHarness(t, samples)
	tokDinkes := mustToken(t, h, "agent-dinkes", "dinkes")
	tokDishub := mustToken(t, h, "agent-dishub", "")
	mustToken(t, h, "agent-aimas", "pkm-aimas") // never seen

	agents := func(who string) []AgentView {
		t.Helper()
		return decode[struct{ Data []AgentView }](t, mustGet(t, h, "/api/v1/agents", who)).Data
	}
	all := agents("admin")
	var ids []string
	for _, a := range all {
		ids = append(ids, a.ID)
	}
	// agent-1 is the harness's agent token (no site)
	if want := []string{"agent-1", "agent-aimas", "agent-dinkes", "agent-dishub"}; !slices.Equal(ids, want) {
		t.Fatalf("agents %v, want %v", ids, want)
	}
	d := all[2]
	if d.Site != "dinkes" || d.OPD != "dinkes" || d.Version != "0.19.0" || d.LastSeen == nil || !d.LastSeen.Equal(now.Add(-30*time.Second)) ||
		d.Silent || d.SilentSeconds == nil || *d.SilentSeconds != 30 || d.QueuePoints == nil || *d.QueuePoints != 1200 ||
		d.QueueOldestAgeSeconds == nil || *d.QueueOldestAgeSeconds != 45 || !slices.Equal(d.TokenIDs, []string{tokDinkes}) {
		t.Errorf("agent-dinkes %+v", d)
	}
	s := all[3]
	if s.Site != "dishub" || s.OPD != "dishub" || s.LastSeen == nil || !s.LastSeen.Equal(now.Add(-48*time.Hour)) || !s.Silent ||
		s.QueuePoints != nil || !slices.Equal(s.TokenIDs, []string{tokDishub}) {
		t.Errorf("agent-dishub %+v", s)
	}
	a := all[1]
	if a.Site != "pkm-aimas" || a.OPD != "dinkes" || a.LastSeen != nil || !a.Silent || a.Version != "" || len(a.TokenIDs) != 1 {
		t.Errorf("agent-aimas %+v", a)
	}
	body := mustGet(t, h, "/api/v1/agents", "admin")
	if !strings.Contains(body, `"last_seen":null`) || !strings.Contains(body, `"queue_points":null`) {
		t.Errorf("answer lacks nulls: %s", body)
	}
	// no token ids for a non-admin or a scoped credential
	for _, who := range []string{"viewer", "operator", "dinkes-viewer"} {
		if body := mustGet(t, h, "/api/v1/agents", who); strings.Contains(body, "token_ids") || strings.Contains(body, tokDinkes[:8]) {
			t.Errorf("%s sees token ids: %s", who, body)
		}
	}
	if got := agents("dinkes-viewer"); len(got) != 2 || got[0].ID != "agent-aimas" || got[1].ID != "agent-dinkes" {
		t.Errorf("dinkes sees %+v", got)
	}
	if got := agents("dishub-op"); len(got) != 1 || got[0].ID != "agent-dishub" {
		t.Errorf("dishub sees %+v", got)
	}
	// a longer AgentSilent for: agent-dinkes at 30 s is not silent either way
	h2 := newOverviewHarness(t, []sample{hb("a9", "dinkes", "0.19.0", now.Add(-6*time.Minute))}, func(o *OverviewOptions) { o.AgentSilentAfter = 10 * time.Minute })
	if got := decode[struct{ Data []AgentView }](t, mustGet(t, h2, "/api/v1/agents", "viewer")).Data; len(got) != 2 || got[0].ID != "a9" || got[0].Silent {
		t.Errorf("with for 10m, an agent 6 minutes quiet: %+v", got)
	}
}

func mustToken(t *testing.T, h *harness, agent, site string) string {
	t.Helper()
	var sites []string
	if site != "" {
		sites = []string{site}
	}
	_, tok, err := h.db.CreateToken(h.ctx, agent, sites, "")
	if err != nil {
		t.Fatal(err)
	}
	return tok.ID
}

// TestOutages: the outages of every site, link and service in scope in
// the window asked for, the ongoing one without an end; a scoped
// credential sees its OPDs' only, a service by its own OPD.
func TestOutages(t *testing.T) {
	now := overviewNow
	var asked []string
	var from, to time.Time
	h := newOverviewHarness(t, nil, func(o *OverviewOptions) {
		o.Outages = func(_ context.Context, site string, f, u time.Time) ([]FoundOutage, error) {
			asked = append(asked, site)
			from, to = f, u
			switch site {
			case "dinkes":
				return []FoundOutage{
					{Kind: "link", ID: "dinkes-wan", Start: now.Add(-3 * time.Hour), End: now.Add(-2 * time.Hour), DurationSeconds: 3600, DownSeconds: 3500, Cause: "isp"},
					{Kind: "site", ID: "dinkes", Start: now.Add(-3 * time.Hour), End: now.Add(-2 * time.Hour), DurationSeconds: 3600, DownSeconds: 3500, Cause: "isp"},
				}, nil
			case "dishub":
				return []FoundOutage{
					{Kind: "service", ID: "sik", Start: now.Add(-10 * time.Minute), End: now, DurationSeconds: 590, DownSeconds: 590, Cause: "unknown", Ongoing: true},
					{Kind: "link", ID: "dishub-wan", Start: now.Add(-26 * time.Hour), End: now.Add(-25 * time.Hour), DurationSeconds: 3600, Cause: "power"},
				}, nil
			}
			return nil, nil
		}
	})
	type answer struct {
		Data struct {
			Since, Until time.Time
			Outages      []OutageView
		}
	}
	body := mustGet(t, h, "/api/v1/outages", "viewer")
	ans := decode[answer](t, body).Data
	if !ans.Until.Equal(now) || !ans.Since.Equal(now.Add(-7*24*time.Hour)) || !from.Equal(ans.Since) || !to.Equal(now) {
		t.Errorf("window %v..%v (asked %v..%v)", ans.Since, ans.Until, from, to)
	}
	if !slices.Equal(asked, []string{"dinkes", "pkm-aimas", "dishub"}) {
		t.Errorf("asked for sites %v", asked)
	}
	var got []string
	for _, o := range ans.Outages {
		got = append(got, o.Kind+"/"+o.ID)
	}
	if want := []string{"service/sik", "link/dinkes-wan", "site/dinkes", "link/dishub-wan"}; !slices.Equal(got, want) {
		t.Fatalf("outages %v, want %v (newest first)", got, want)
	}
	sik := ans.Outages[0]
	if sik.End != nil || sik.OPD != "dinkes" || sik.Site != "dishub" || sik.DurationSeconds != 600 || sik.Cause != "unknown" {
		t.Errorf("ongoing outage %+v", sik)
	}
	if !strings.Contains(body, `"end":null`) {
		t.Errorf("no null end: %s", body)
	}
	if w := ans.Outages[3]; w.End == nil || !w.End.Equal(now.Add(-25*time.Hour)) || w.OPD != "dishub" || w.Cause != "power" || w.DurationSeconds != 3600 {
		t.Errorf("dishub-wan %+v", w)
	}

	asked = nil
	ans = decode[answer](t, mustGet(t, h, "/api/v1/outages?since=2026-12-01&until=2026-12-06", "dinkes-viewer")).Data
	got = nil
	for _, o := range ans.Outages {
		got = append(got, o.Kind+"/"+o.ID)
	}
	if want := []string{"service/sik", "link/dinkes-wan", "site/dinkes"}; !slices.Equal(got, want) {
		t.Errorf("dinkes sees %v, want %v", got, want)
	}
	if !from.Equal(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)) || !to.Equal(time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("window asked %v..%v", from, to)
	}
	got = nil
	for _, o := range decode[answer](t, mustGet(t, h, "/api/v1/outages", "dishub-op")).Data.Outages {
		got = append(got, o.Kind+"/"+o.ID)
	}
	if want := []string{"link/dishub-wan"}; !slices.Equal(got, want) {
		t.Errorf("dishub sees %v, want %v", got, want)
	}

	// a failure is a 500; no finder a 409
	hErr := newOverviewHarness(t, nil, func(o *OverviewOptions) {
		o.Outages = func(context.Context, string, time.Time, time.Time) ([]FoundOutage, error) {
			return nil, errors.New("disk on fire")
		}
	})
	if code, body := hErr.do("GET", "/api/v1/outages", "viewer", nil); code != 500 || !strings.Contains(body, "disk on fire") {
		t.Errorf("failing finder: %d %s", code, body)
	}
	noFinder := newOverviewHarness(t, nil, func(o *OverviewOptions) { o.Outages = nil })
	if code, _ := noFinder.do("GET", "/api/v1/outages", "viewer", nil); code != 409 {
		t.Errorf("no finder: %d, want 409", code)
	}
}

// TestUnmatchedAPI: series that match no link or service, scoped by the
// OPD of their site.
func TestUnmatchedAPI(t *testing.T) {
	now := overviewNow
	h := newOverviewHarness(t, []sample{
		// matched: dinkes-wan's target
		{series("__name__", "pantau_icmp_up", "agent", "a1", "site", "dinkes", "target", "127.0.0.2"), now.Add(-time.Hour), 1},
		{series("__name__", "pantau_icmp_up", "agent", "a1", "site", "dinkes", "target", "10.9.9.9"), now.Add(-time.Hour), 1},
		{series("__name__", "pantau_icmp_up", "agent", "a2", "site", "dishub", "target", "10.8.8.8"), now.Add(-time.Hour), 1},
		{series("__name__", "pantau_snmp_if_oper_status", "agent", "a2", "site", "dishub", "device", "sw1", "ifname", "ge-0/0/1"), now.Add(-2 * time.Hour), 1},
		{series("__name__", "pantau_dns_up", "agent", "a1", "site", "pkm-aimas", "target", "ns1"), now.Add(-3 * time.Hour), 1},
		// matched: the portal
		{series("__name__", "pantau_http_up", "agent", "a2", "site", "dishub", "target", "portal"), now.Add(-time.Hour), 1},
		// only 10 days ago
		{series("__name__", "pantau_icmp_up", "agent", "a1", "site", "dinkes", "target", "10.7.7.7"), now.Add(-10 * 24 * time.Hour), 1},
	})
	rows := func(path, who string) []UnmatchedView {
		t.Helper()
		return decode[struct{ Data []UnmatchedView }](t, mustGet(t, h, path, who)).Data
	}
	key := func(vs []UnmatchedView) []string {
		var out []string
		for _, v := range vs {
			out = append(out, strings.Join([]string{v.Kind, v.Agent, v.Site, v.Target, v.Interface, v.OPD}, "|"))
		}
		return out
	}
	want := []string{"dns|a1|pkm-aimas|ns1||dinkes", "icmp|a1|dinkes|10.9.9.9||dinkes", "icmp|a2|dishub|10.8.8.8||dishub", "snmp|a2|dishub|sw1|ge-0/0/1|dishub"}
	if got := key(rows("/api/v1/inventory/unmatched", "viewer")); !slices.Equal(got, want) {
		t.Errorf("unmatched %v, want %v", got, want)
	}
	if got := key(rows("/api/v1/inventory/unmatched?since=30d", "viewer")); len(got) != 5 {
		t.Errorf("since=30d: %v", got)
	}
	if got := key(rows("/api/v1/inventory/unmatched?since=90m", "viewer")); !slices.Equal(got, []string{want[1], want[2]}) {
		t.Errorf("since=90m: %v", got)
	}
	if got := key(rows("/api/v1/inventory/unmatched?since=2026-12-07T09:30:00%2B07:00", "viewer")); len(got) != 3 {
		t.Errorf("since an RFC 3339 time: %v", got)
	}
	if got := key(rows("/api/v1/inventory/unmatched", "dinkes-viewer")); !slices.Equal(got, want[:2]) {
		t.Errorf("dinkes sees %v, want %v", got, want[:2])
	}
	body := mustGet(t, h, "/api/v1/inventory/unmatched", "dinkes-viewer")
	for _, f := range []string{`"kind":"icmp"`, `"agent":"a1"`, `"site":"dinkes"`, `"target":"10.9.9.9"`, `"interface":""`, `"opd":"dinkes"`} {
		if !strings.Contains(body, f) {
			t.Errorf("answer lacks %s: %s", f, body)
		}
	}
}

// The parsers: any query gives values within bounds or a *ParamError.

func FuzzStatusQuery(f *testing.F) {
	for _, s := range []string{"", "within=90", "within=1", "within=3650", "within=3651", "within=0", "within=-1", "within=x", "within=1&within=2", "opd=a", "=", "within=%00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		n, err := ParseStatusQuery(q)
		if err != nil {
			requireParamError(t, raw, err)
			return
		}
		if n < 1 || n > MaxEndingWithin {
			t.Fatalf("%q: within %d", raw, n)
		}
	})
}

func FuzzOutagesQuery(f *testing.F) {
	for _, s := range []string{"", "since=2026-12-01", "since=2026-12-01&until=2026-12-06", "until=2026-12-01T08:00:00%2B07:00", "since=2026-01-01",
		"since=2027-01-01", "until=1970-01-01", "since=0001-01-01T00:00:00Z", "since=9999-12-31", "kind=link", "since=a&since=b"} {
		f.Add(s)
	}
	now := overviewNow
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		from, to, err := ParseOutagesQuery(q, now)
		if err != nil {
			requireParamError(t, raw, err)
			return
		}
		if !from.Before(to) || to.After(now) || to.Sub(from) > MaxOutageWindow {
			t.Fatalf("%q: window %v..%v", raw, from, to)
		}
	})
}

func FuzzUnmatchedQuery(f *testing.F) {
	for _, s := range []string{"", "since=7d", "since=92d", "since=93d", "since=0d", "since=12h", "since=-1h", "since=2562047h", "since=2026-12-01",
		"since=2026-12-06T08:00:00%2B07:00", "since=2027-01-01", "since=1d1h", "since=9223372036854775807d", "site=x", "since=a&since=b"} {
		f.Add(s)
	}
	now := overviewNow
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		from, err := ParseUnmatchedQuery(q, now)
		if err != nil {
			requireParamError(t, raw, err)
			return
		}
		if !from.Before(now) || now.Sub(from) > MaxUnmatchedSince {
			t.Fatalf("%q: since %v", raw, from)
		}
	})
}

func requireParamError(t *testing.T, raw string, err error) {
	t.Helper()
	var pe *ParamError
	if !errors.As(err, &pe) || pe.Param == "" {
		t.Fatalf("%q: error %v is not a ParamError", raw, err)
	}
}
