package sla

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/inventory"
)

// Causes of an outage.
const (
	CauseParent  = "parent"  // the parent site (or core) was down
	CauseISP     = "isp"     // the site's agent kept reporting: the upstream link failed
	CausePower   = "power"   // the site's agent went silent too: no power or no agent at the site
	CauseUnknown = "unknown" // the data cannot tell (no agent at the site)
)

// Causes of a service outage (besides CauseUnknown: the hosting site has
// no link with data).
const (
	CauseNetwork = "network" // the hosting site's links were all down
	CauseService = "service" // the site's network was up: the service itself failed
)

// Causes lists the causes in report order.
var Causes = []string{CauseISP, CauseParent, CausePower, CauseUnknown}

// ServiceCauses lists the causes of service outages in report order.
var ServiceCauses = []string{CauseService, CauseNetwork, CauseUnknown}

// margin is how far before and after the period states are read, so that
// an outage crossing the period's edge keeps its whole length for the
// minimum-outage test and MTTR.
const margin = MinutesPerDay

// Engine computes SLA figures from stored minute states.
type Engine struct {
	Inv     *inventory.Inventory
	Store   Store
	Windows []Window
}

// Counts are minutes per state.
type Counts [numStates]int

// Figures are the availability figures of one link or site in a period.
type Figures struct {
	Minutes    int `json:"minutes"`
	Up         int `json:"up"`
	Degraded   int `json:"degraded"`
	Down       int `json:"down"`
	Maint      int `json:"maintenance"`
	NoData     int `json:"nodata"`
	Monitoring int `json:"monitoring"`
	// Availability = (up + degraded) / (up + degraded + down), percent;
	// nil when no minute has data.
	Availability *float64 `json:"availability_pct"`
	// Completeness = minutes with data / (minutes with data + nodata);
	// maintenance and monitoring gaps are outside both.
	Completeness *float64 `json:"completeness_pct"`
	// WorstCase counts nodata as down: (up + degraded) / (data + nodata).
	WorstCase *float64 `json:"worst_case_pct"`
}

func pct(num, den int) *float64 {
	if den == 0 {
		return nil
	}
	v := 100 * float64(num) / float64(den)
	return &v
}

func figures(c Counts) Figures {
	f := Figures{
		Up: c[Up], Degraded: c[Degraded], Down: c[Down], Maint: c[Maintenance],
		NoData: c[NoData], Monitoring: c[Monitoring],
	}
	for _, v := range c {
		f.Minutes += v
	}
	known := f.Up + f.Degraded + f.Down
	f.Availability = pct(f.Up+f.Degraded, known)
	f.Completeness = pct(known, known+f.NoData)
	f.WorstCase = pct(f.Up+f.Degraded, known+f.NoData)
	return f
}

// Outage is a maximal run of down minutes (runs closer than the flap
// merge gap are one outage).
type Outage struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	// DurationMinutes is End - Start, including merged flaps' up minutes.
	DurationMinutes int `json:"duration_minutes"`
	// DownMinutes are the down minutes of the whole outage.
	DownMinutes int `json:"down_minutes"`
	// MaintenanceMinutes are the down minutes inside maintenance windows.
	MaintenanceMinutes int `json:"maintenance_minutes"`
	// InPeriodMinutes are the down minutes outside maintenance that fall
	// in the report period: what the outage costs the period's figures.
	InPeriodMinutes int    `json:"in_period_minutes"`
	Runs            int    `json:"runs"`
	Cause           string `json:"cause"`

	first, last int // indices of the first and last down minute in the extended range
}

// ContractMonth is one link's ISP contract evaluated for one month.
type ContractMonth struct {
	Month           string         `json:"month"`
	Active          bool           `json:"active"`
	PeriodMinutes   int            `json:"period_minutes"`
	CountedMinutes  int            `json:"counted_minutes"`
	ExcludedMinutes map[string]int `json:"excluded_minutes"`
	AllowedMinutes  int            `json:"allowed_minutes"`
	Availability    float64        `json:"isp_availability_pct"`
	Target          float64        `json:"target_pct"`
	Met             bool           `json:"met"`
	MonthlyFee      int64          `json:"monthly_fee"`
	Formula         string         `json:"formula"`
	Restitution     int64          `json:"restitution"`
	// Outages are indices into the link's Outages that were counted.
	Outages []int `json:"outages"`
}

// Exclusion reasons in ContractMonth.ExcludedMinutes besides the
// inventory's exclusions.
const ExcludedShort = "short"

// Result is what the SLA of a link, a site and a service have in common
// for one period.
type Result struct {
	Target float64 `json:"sla_target_pct"`
	Figures
	Met             *bool          `json:"sla_met"`
	Outages         []Outage       `json:"outages"`
	MTTRMinutes     *float64       `json:"mttr_minutes"`
	MTBFMinutes     *float64       `json:"mtbf_minutes"`
	DowntimeByCause map[string]int `json:"downtime_by_cause_minutes"`
	// States are the effective states of the period's minutes.
	States []State `json:"-"`
}

// LinkResult is the SLA of one link for one period.
type LinkResult struct {
	ID     string `json:"link"`
	Site   string `json:"site"`
	Period Period `json:"-"`
	Result
	Contract []ContractMonth `json:"contract,omitempty"`
}

// SiteResult is the availability of a site: it is out only when all of
// its links are.
type SiteResult struct {
	ID    string `json:"site"`
	Links int    `json:"links"`
	Result
}

// ServiceResult is the SLA of one service for one period.
type ServiceResult struct {
	ID   string `json:"service"`
	Site string `json:"site"`
	Result
}

// result computes the common part from the raw and effective states and
// the maintenance mask of the range [from, from+n) (the period widened by
// the margin), each outage's cause given by cause.
func (c *Computation) result(target float64, raw, eff []State, maint []bool, from UnixMinute, n int, cause func(o *Outage) string) Result {
	lo, hi := margin, n-margin
	r := Result{Target: target, States: eff[lo:hi]}
	r.Figures = figures(count(eff, lo, hi))
	if r.Availability != nil && r.Target > 0 {
		met := *r.Availability >= r.Target
		r.Met = &met
	}
	r.Outages = outages(raw, maint, from, c.gap, lo, hi)
	r.DowntimeByCause = map[string]int{}
	for i := range r.Outages {
		o := &r.Outages[i]
		o.Cause = cause(o)
		r.DowntimeByCause[o.Cause] += o.InPeriodMinutes
	}
	r.MTTRMinutes, r.MTBFMinutes = mttrMTBF(r.Outages, r.Up+r.Degraded)
	return r
}

// Computation computes links and sites of one period, sharing what
// several of them need (parent sites, the collector's own minutes). It is
// safe for concurrent use: a report computes sites in parallel.
type Computation struct {
	e       *Engine
	p       Period // in the reference zone; each site uses its own
	gap     int
	parents map[string]bool // sites that are some site's parent

	mu     sync.Mutex
	series map[seriesKey][]uint8 // the collector's minutes, per range
	sites  map[string]*siteEntry // parent sites' states
}

type seriesKey struct {
	kind uint8
	id   string
	from UnixMinute
	n    int
}

type siteStates struct {
	raw, eff []State // extended range
	links    int
}

type siteEntry struct {
	once sync.Once
	ss   *siteStates
	err  error
}

// NewComputation starts a computation of period p (its calendar dates are
// applied in each site's time zone).
func (e *Engine) NewComputation(p Period) *Computation {
	gap := 0
	parents := map[string]bool{}
	if e.Inv != nil {
		gap = int(e.Inv.Defaults.FlapMergeGap.Std() / time.Minute)
		for i := range e.Inv.Sites {
			if pa := e.Inv.Sites[i].Parent; pa != "" {
				parents[pa] = true
			}
		}
	}
	return &Computation{e: e, p: p, gap: gap, parents: parents, series: map[seriesKey][]uint8{}, sites: map[string]*siteEntry{}}
}

// load reads one series; the collector's own minutes are read once per
// range and shared.
func (c *Computation) load(ctx context.Context, kind uint8, id string, from UnixMinute, n int) ([]uint8, error) {
	if kind != KindCollector {
		s, err := c.e.Store.Range(ctx, kind, id, from, n)
		if err != nil {
			return nil, fmt.Errorf("read minute states of %s: %w", id, err)
		}
		return s, nil
	}
	k := seriesKey{kind, id, from, n}
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.series[k]; ok {
		return s, nil
	}
	s, err := c.e.Store.Range(ctx, kind, id, from, n)
	if err != nil {
		return nil, fmt.Errorf("read the collector's minutes: %w", err)
	}
	c.series[k] = s
	return s, nil
}

// extended returns the site's period in its zone, widened by the margin.
func (c *Computation) extended(site *inventory.Site) (p Period, from UnixMinute, n int) {
	p = c.p.In(site.Location)
	from, n = p.Minutes()
	return p, from - margin, n + 2*margin
}

// linkStates returns the raw (data only) and effective (maintenance
// overlaid) states of a link over the extended range, and the maintenance
// mask.
func (c *Computation) linkStates(ctx context.Context, l *inventory.Link, site *inventory.Site) (raw, eff []State, maint []bool, err error) {
	_, from, n := c.extended(site)
	bits, err := c.load(ctx, KindLink, l.ID, from, n)
	if err != nil {
		return nil, nil, nil, err
	}
	coll, err := c.load(ctx, KindCollector, "", from, n)
	if err != nil {
		return nil, nil, nil, err
	}
	maint = MaintenanceMask(c.e.Windows, l.ID, site.ID, from, n)
	raw, eff = overlay(bits, coll, maint)
	return raw, eff, maint, nil
}

// overlay gives the raw states of minute bits (a minute without data
// while the collector was not running is a monitoring gap) and the
// effective states (maintenance overlaid).
func overlay(bits, coll []uint8, maint []bool) (raw, eff []State) {
	raw = make([]State, len(bits))
	eff = make([]State, len(bits))
	for i, b := range bits {
		s := DataState(b)
		if s == NoData && coll[i] == 0 {
			s = Monitoring
		}
		raw[i] = s
		if maint != nil && maint[i] {
			s = Maintenance
		}
		eff[i] = s
	}
	return raw, eff
}

var rank = [numStates]int{Up: 5, Degraded: 4, Down: 3, Maintenance: 2, NoData: 1, Monitoring: 0}

// combine gives a site's state from its links': the best data state; a
// site whose connected links are all down while one is in maintenance is
// in maintenance.
func combine(states []State) State {
	best := Monitoring
	maint := false
	for _, s := range states {
		if s == Maintenance {
			maint = true
		}
		if rank[s] > rank[best] {
			best = s
		}
	}
	if best == Down && maint {
		return Maintenance
	}
	return best
}

// site returns a site's states, computed once per computation for sites
// that are parents (children ask for them); other sites are computed by
// SiteWithLinks and not kept.
func (c *Computation) site(ctx context.Context, s *inventory.Site) (*siteStates, error) {
	c.mu.Lock()
	e := c.sites[s.ID]
	if e == nil {
		e = &siteEntry{}
		c.sites[s.ID] = e
	}
	c.mu.Unlock()
	e.once.Do(func() {
		var raws, effs [][]State
		for _, l := range c.e.Inv.LinksOfSite(s.ID) {
			raw, eff, _, err := c.linkStates(ctx, l, s)
			if err != nil {
				e.err = err
				return
			}
			raws = append(raws, raw)
			effs = append(effs, eff)
		}
		e.ss = combineSite(raws, effs)
	})
	return e.ss, e.err
}

// combineTable[a][b] is combine([a, b]). Folding it over a site's links
// gives combine of all of them: the result only depends on the best state
// and whether some link is in maintenance, and a Maintenance result
// carries exactly "maintenance seen, nothing better than down".
var combineTable = func() (t [numStates][numStates]State) {
	for a := State(0); a < numStates; a++ {
		for b := State(0); b < numStates; b++ {
			t[a][b] = combine([]State{a, b})
		}
	}
	return t
}()

// combineSite gives a site's raw and effective states from its links'.
func combineSite(raws, effs [][]State) *siteStates {
	ss := &siteStates{links: len(raws)}
	if len(raws) == 0 {
		return ss
	}
	fold := func(in [][]State) []State {
		out := slices.Clone(in[0])
		for _, l := range in[1:] {
			for i, s := range l {
				out[i] = combineTable[out[i]][s]
			}
		}
		return out
	}
	ss.raw = fold(raws)
	ss.eff = fold(effs)
	return ss
}

// parentDown returns, over the child's extended range, whether the
// parent site (or any ancestor) was down; nil when there is no parent.
func (c *Computation) parentDown(ctx context.Context, site *inventory.Site) ([]bool, error) {
	var out []bool
	_, from, n := c.extended(site)
	for p, hops := c.e.Inv.Site(site.Parent), 0; p != nil && hops < 64; p, hops = c.e.Inv.Site(p.Parent), hops+1 {
		ss, err := c.site(ctx, p)
		if err != nil {
			return nil, err
		}
		if ss.raw == nil {
			continue
		}
		_, pfrom, _ := c.extended(p)
		if out == nil {
			out = make([]bool, n)
		}
		for i := range out {
			j := int(from-pfrom) + i
			if j >= 0 && j < len(ss.raw) && ss.raw[j] == Down {
				out[i] = true
			}
		}
	}
	return out, nil
}

// outages finds the runs of down minutes in raw, merging runs separated
// by fewer than gap minutes.
func outages(raw []State, maint []bool, from UnixMinute, gap int, lo, hi int) []Outage {
	var out []Outage
	for i := 0; i < len(raw); {
		if raw[i] != Down {
			i++
			continue
		}
		j := i
		for j < len(raw) && raw[j] == Down {
			j++
		}
		if k := len(out) - 1; k >= 0 && i-out[k].last-1 < gap {
			out[k].last = j - 1
			out[k].Runs++
		} else {
			out = append(out, Outage{first: i, last: j - 1, Runs: 1})
		}
		i = j
	}
	kept := out[:0]
	for _, o := range out {
		if o.last < lo || o.first >= hi {
			continue // outside the period
		}
		o.Start = time.Unix((from+int64(o.first))*60, 0)
		o.End = time.Unix((from+int64(o.last)+1)*60, 0)
		o.DurationMinutes = o.last - o.first + 1
		for i := o.first; i <= o.last; i++ {
			if raw[i] != Down {
				continue
			}
			o.DownMinutes++
			m := maint != nil && maint[i]
			if m {
				o.MaintenanceMinutes++
			}
			if !m && i >= lo && i < hi {
				o.InPeriodMinutes++
			}
		}
		kept = append(kept, o)
	}
	return kept
}

// cause attributes an outage: the parent was down for at least half of
// its down minutes; else the site's agent kept sending heartbeats for at
// least half of them (ISP) or not (power); unknown when the site has no
// agent reporting at all in the range.
func cause(o *Outage, raw []State, parent []bool, heart []uint8, hasAgent bool) string {
	var n, pd, hb int
	for i := o.first; i <= o.last; i++ {
		if raw[i] != Down {
			continue
		}
		n++
		if parent != nil && parent[i] {
			pd++
		}
		if heart != nil && heart[i] != 0 {
			hb++
		}
	}
	switch {
	case 2*pd >= n && pd > 0:
		return CauseParent
	case !hasAgent:
		return CauseUnknown
	case 2*hb >= n:
		return CauseISP
	default:
		return CausePower
	}
}

func anySet(b []uint8) bool {
	for _, v := range b {
		if v != 0 {
			return true
		}
	}
	return false
}

func mttrMTBF(os []Outage, upMinutes int) (mttr, mtbf *float64) {
	if len(os) == 0 {
		return nil, nil
	}
	var sum int
	for _, o := range os {
		sum += o.DurationMinutes
	}
	a := float64(sum) / float64(len(os))
	b := float64(upMinutes) / float64(len(os))
	return &a, &b
}

func count(eff []State, lo, hi int) Counts {
	var c Counts
	for _, s := range eff[lo:hi] {
		c[s]++
	}
	return c
}

// Link computes one link's figures, outages and contract months.
func (c *Computation) Link(ctx context.Context, l *inventory.Link) (*LinkResult, error) {
	site := c.e.Inv.Site(l.Site)
	if site == nil {
		return nil, fmt.Errorf("link %s: unknown site %q", l.ID, l.Site)
	}
	raw, eff, maint, err := c.linkStates(ctx, l, site)
	if err != nil {
		return nil, err
	}
	ctxs, err := c.siteContext(ctx, site)
	if err != nil {
		return nil, err
	}
	return c.linkResult(l, site, raw, eff, maint, ctxs), nil
}

// siteCtx is what outage causes need about a site: its parents' down
// minutes and its agent's heartbeats.
type siteCtx struct {
	parent   []bool
	heart    []uint8
	hasAgent bool
}

func (c *Computation) siteContext(ctx context.Context, site *inventory.Site) (*siteCtx, error) {
	_, from, n := c.extended(site)
	parent, err := c.parentDown(ctx, site)
	if err != nil {
		return nil, err
	}
	heart, err := c.load(ctx, KindSite, site.ID, from, n)
	if err != nil {
		return nil, err
	}
	return &siteCtx{parent: parent, heart: heart, hasAgent: anySet(heart)}, nil
}

func (c *Computation) linkResult(l *inventory.Link, site *inventory.Site, raw, eff []State, maint []bool, sc *siteCtx) *LinkResult {
	p, from, n := c.extended(site)
	r := &LinkResult{ID: l.ID, Site: site.ID, Period: p, Result: c.result(l.SLATarget, raw, eff, maint, from, n,
		func(o *Outage) string { return cause(o, raw, sc.parent, sc.heart, sc.hasAgent) })}
	if l.Contract != nil {
		for _, m := range p.Months() {
			r.Contract = append(r.Contract, contractMonth(l.Contract, m, r.Outages, raw, maint, from))
		}
	}
	return r
}

// Service computes one service's figures and outages. Its minutes use the
// hosting site's calendar and maintenance windows; an outage during which
// the hosting site itself was down (all its links) is the network's, any
// other the service's own.
func (c *Computation) Service(ctx context.Context, sv *inventory.Service) (*ServiceResult, error) {
	site := c.e.Inv.Site(sv.Site)
	if site == nil {
		return nil, fmt.Errorf("service %s: unknown site %q", sv.ID, sv.Site)
	}
	_, from, n := c.extended(site)
	bits, err := c.load(ctx, KindService, sv.ID, from, n)
	if err != nil {
		return nil, err
	}
	coll, err := c.load(ctx, KindCollector, "", from, n)
	if err != nil {
		return nil, err
	}
	maint := ServiceMaintenanceMask(c.e.Windows, sv.ID, site.ID, from, n)
	raw, eff := overlay(bits, coll, maint)
	ss, err := c.site(ctx, site)
	if err != nil {
		return nil, err
	}
	siteData := ss.raw != nil && slices.ContainsFunc(ss.raw, func(s State) bool { return s == Up || s == Degraded || s == Down })
	return &ServiceResult{ID: sv.ID, Site: site.ID, Result: c.result(sv.SLATarget, raw, eff, maint, from, n,
		func(o *Outage) string { return serviceCause(o, raw, ss.raw, siteData) })}, nil
}

// serviceCause attributes a service outage: the network's when the
// hosting site was down for at least half of its down minutes; unknown
// when the site has no link with data in the range; else the service's.
func serviceCause(o *Outage, raw, site []State, siteData bool) string {
	if !siteData {
		return CauseUnknown
	}
	var n, sd int
	for i := o.first; i <= o.last; i++ {
		if raw[i] != Down {
			continue
		}
		n++
		if site[i] == Down {
			sd++
		}
	}
	if sd > 0 && 2*sd >= n {
		return CauseNetwork
	}
	return CauseService
}

// Site computes a site's figures from its links' states.
func (c *Computation) Site(ctx context.Context, s *inventory.Site) (*SiteResult, error) {
	ss, err := c.site(ctx, s)
	if err != nil {
		return nil, err
	}
	sc, err := c.siteContext(ctx, s)
	if err != nil {
		return nil, err
	}
	return c.siteResult(s, ss, sc), nil
}

// SiteWithLinks computes a site and each of its links, reading every
// link's minutes once.
func (c *Computation) SiteWithLinks(ctx context.Context, s *inventory.Site) (*SiteResult, []*LinkResult, error) {
	sc, err := c.siteContext(ctx, s)
	if err != nil {
		return nil, nil, err
	}
	var (
		links      []*LinkResult
		raws, effs [][]State
	)
	for _, l := range c.e.Inv.LinksOfSite(s.ID) {
		raw, eff, maint, err := c.linkStates(ctx, l, s)
		if err != nil {
			return nil, nil, err
		}
		links = append(links, c.linkResult(l, s, raw, eff, maint, sc))
		raws = append(raws, raw)
		effs = append(effs, eff)
	}
	var ss *siteStates
	if c.parents[s.ID] {
		if ss, err = c.site(ctx, s); err != nil {
			return nil, nil, err
		}
	} else {
		ss = combineSite(raws, effs)
	}
	return c.siteResult(s, ss, sc), links, nil
}

func (c *Computation) siteResult(s *inventory.Site, ss *siteStates, sc *siteCtx) *SiteResult {
	r := &SiteResult{ID: s.ID, Links: ss.links, Result: Result{Target: s.SLATarget}}
	if ss.raw == nil {
		return r
	}
	_, from, n := c.extended(s)
	// a site minute is under maintenance when its effective state is
	maint := make([]bool, n)
	for i, st := range ss.eff {
		maint[i] = st == Maintenance
	}
	r.Result = c.result(s.SLATarget, ss.raw, ss.eff, maint, from, n,
		func(o *Outage) string { return cause(o, ss.raw, sc.parent, sc.heart, sc.hasAgent) })
	return r
}

// contractMonth evaluates one month of an ISP contract. Down minutes in
// maintenance windows, and outages whose cause the contract excludes, are
// not the ISP's; an outage whose remaining down time is shorter than the
// contract's minimum is a blip and not counted. Restitution is owed only
// when the month misses the target: "proportional" is the monthly fee
// times counted minutes over the month's minutes, "excess" counts only the
// minutes beyond those the target allows. Rupiah are rounded down.
func contractMonth(k *inventory.Contract, m Period, os []Outage, raw []State, maint []bool, from UnixMinute) ContractMonth {
	mfrom, mn := m.Minutes()
	cm := ContractMonth{
		Month: m.Label, PeriodMinutes: mn, Target: k.Target, MonthlyFee: k.MonthlyFee,
		Formula: k.Restitution, ExcludedMinutes: map[string]int{}, Outages: []int{},
	}
	loc := m.Start.Location()
	// the contract is in force for some of the month
	cm.Active = (k.Start.IsZero() || k.Start.In(loc).Before(m.End)) &&
		(k.End.IsZero() || k.End.In(loc).AddDate(0, 0, 1).After(m.Start))
	excl := func(x string) bool { return slices.Contains(k.Exclude, x) }
	lo := int(mfrom - from)
	hi := lo + mn
	minOut := int(math.Ceil(k.MinOutage.Std().Minutes()))
	for idx, o := range os {
		var inMonth, maintInMonth int
		for i := max(o.first, lo); i <= o.last && i < hi; i++ {
			if raw[i] != Down {
				continue
			}
			inMonth++
			if maint != nil && maint[i] {
				maintInMonth++
			}
		}
		if inMonth == 0 {
			continue
		}
		total := o.DownMinutes
		if excl(inventory.ExcludeMaintenance) {
			cm.ExcludedMinutes[inventory.ExcludeMaintenance] += maintInMonth
			inMonth -= maintInMonth
			total -= o.MaintenanceMinutes
		}
		if inMonth == 0 {
			continue
		}
		switch {
		case (o.Cause == CausePower && excl(inventory.ExcludePower)) || (o.Cause == CauseParent && excl(inventory.ExcludeParent)):
			cm.ExcludedMinutes[o.Cause] += inMonth
		case total < minOut:
			cm.ExcludedMinutes[ExcludedShort] += inMonth
		default:
			cm.CountedMinutes += inMonth
			cm.Outages = append(cm.Outages, idx)
		}
	}
	cm.AllowedMinutes = int(math.Floor(float64(mn)*(100-k.Target)/100 + 1e-9))
	cm.Availability = 100 * float64(mn-cm.CountedMinutes) / float64(mn)
	cm.Met = cm.CountedMinutes <= cm.AllowedMinutes
	if !cm.Met && cm.Active && mn > 0 {
		switch k.Restitution {
		case inventory.RestitutionProportional:
			cm.Restitution = k.MonthlyFee * int64(cm.CountedMinutes) / int64(mn)
		case inventory.RestitutionExcess:
			cm.Restitution = k.MonthlyFee * int64(cm.CountedMinutes-cm.AllowedMinutes) / int64(mn)
		}
	}
	return cm
}
