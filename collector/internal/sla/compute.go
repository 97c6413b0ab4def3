package sla

import (
	"context"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"sync"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/calendar"
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
	// Now decides which contract months have ended (default time.Now).
	Now time.Time
	// NoContracts leaves contract months out (and so reads only the
	// period and its margin): for explaining a few hours of outages.
	NoContracts bool
	// Holidays is the holiday calendar of service hours (default: the
	// built-in years).
	Holidays *calendar.Calendar
	// MinCompleteness is the completeness (percent of the month's time
	// with a known state) under which a contract month claims no
	// restitution; 0 is DefaultMinCompleteness.
	MinCompleteness float64
}

// Counts are seconds per state.
type Counts [numStates]int64

// Figures are the availability figures of one link or site in a period.
// Time is counted in seconds (the *_seconds fields); the minute fields
// are the same figures divided by 60, kept for readers of the minute
// figures (whole numbers when nothing was partly down).
type Figures struct {
	Minutes    float64 `json:"minutes"`
	Up         float64 `json:"up"`
	Degraded   float64 `json:"degraded"`
	Down       float64 `json:"down"`
	Maint      float64 `json:"maintenance"`
	NoData     float64 `json:"nodata"`
	Monitoring float64 `json:"monitoring"`

	Seconds           int64 `json:"seconds"`
	UpSeconds         int64 `json:"up_seconds"`
	DegradedSeconds   int64 `json:"degraded_seconds"`
	DownSeconds       int64 `json:"down_seconds"`
	MaintSeconds      int64 `json:"maintenance_seconds"`
	NoDataSeconds     int64 `json:"nodata_seconds"`
	MonitoringSeconds int64 `json:"monitoring_seconds"`

	// Availability = (up + degraded) / (up + degraded + down) seconds,
	// percent; nil when no minute has data.
	Availability *float64 `json:"availability_pct"`
	// Completeness = seconds with data / (seconds with data + nodata);
	// maintenance and monitoring gaps are outside both.
	Completeness *float64 `json:"completeness_pct"`
	// WorstCase counts nodata as down: (up + degraded) / (data + nodata).
	WorstCase *float64 `json:"worst_case_pct"`

	// HoursFigures are the same over service hours (hours.go).
	HoursFigures
}

// Known returns the seconds with data (up, degraded or down).
func (f *Figures) Known() int64 { return f.UpSeconds + f.DegradedSeconds + f.DownSeconds }

// Available returns the up and degraded seconds.
func (f *Figures) Available() int64 { return f.UpSeconds + f.DegradedSeconds }

// Pct is 100 × num / den, nil when den is 0.
func Pct(num, den int64) *float64 {
	if den == 0 {
		return nil
	}
	v := 100 * float64(num) / float64(den)
	return &v
}

// Min converts seconds to minutes.
func Min(sec int64) float64 { return float64(sec) / 60 }

func figures(c Counts) Figures {
	f := Figures{
		UpSeconds: c[Up], DegradedSeconds: c[Degraded], DownSeconds: c[Down], MaintSeconds: c[Maintenance],
		NoDataSeconds: c[NoData], MonitoringSeconds: c[Monitoring],
	}
	for _, v := range c {
		f.Seconds += v
	}
	f.Minutes, f.Up, f.Degraded, f.Down = Min(f.Seconds), Min(f.UpSeconds), Min(f.DegradedSeconds), Min(f.DownSeconds)
	f.Maint, f.NoData, f.Monitoring = Min(f.MaintSeconds), Min(f.NoDataSeconds), Min(f.MonitoringSeconds)
	known := f.Known()
	f.Availability = Pct(f.Available(), known)
	f.Completeness = Pct(known, known+f.NoDataSeconds)
	f.WorstCase = Pct(f.Available(), known+f.NoDataSeconds)
	return f
}

// Outage is a maximal run of down slots (runs closer than the flap merge
// gap are one outage): it starts at the first down slot, the first failed
// round, and ends where the first slot after it that is not down starts,
// the first good round. Seconds are exact to the 10-second slot; the
// minute fields are the same divided by 60.
type Outage struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	// DurationMinutes is End - Start, including merged flaps' up time.
	DurationMinutes float64 `json:"duration_minutes"`
	// DownMinutes are the down time of the whole outage.
	DownMinutes float64 `json:"down_minutes"`
	// MaintenanceMinutes are the down time inside maintenance windows.
	MaintenanceMinutes float64 `json:"maintenance_minutes"`
	// InPeriodMinutes are the down time outside maintenance that falls
	// in the report period: what the outage costs the period's figures.
	InPeriodMinutes float64 `json:"in_period_minutes"`

	DurationSeconds    int64 `json:"duration_seconds"`
	DownSeconds        int64 `json:"down_seconds"`
	MaintenanceSeconds int64 `json:"maintenance_seconds"`
	InPeriodSeconds    int64 `json:"in_period_seconds"`

	Runs  int    `json:"runs"`
	Cause string `json:"cause"`

	first, last int // the first and last down slot in the range read
}

// ContractMonth is one link's ISP contract evaluated for one calendar
// month, always the whole month (never a part of it that a report period
// covers).
type ContractMonth struct {
	Month         string `json:"month"`
	Active        bool   `json:"active"`
	PeriodMinutes int    `json:"period_minutes"` // minutes in the month
	PeriodSeconds int64  `json:"period_seconds"`
	// Counted is the down time the contract counts against the ISP.
	CountedMinutes  float64            `json:"counted_minutes"`
	CountedSeconds  int64              `json:"counted_seconds"`
	ExcludedMinutes map[string]float64 `json:"excluded_minutes"`
	ExcludedSeconds map[string]int64   `json:"excluded_seconds"`
	// Allowed is ⌊month minutes × (100 − target) / 100⌋ whole minutes.
	AllowedMinutes int     `json:"allowed_minutes"`
	AllowedSeconds int64   `json:"allowed_seconds"`
	Availability   float64 `json:"isp_availability_pct"`
	Target         float64 `json:"target_pct"`
	Met            bool    `json:"met"`
	MonthlyFee     int64   `json:"monthly_fee"`
	Formula        string  `json:"formula"`
	Restitution    int64   `json:"restitution"`
	// Final is false while the month is still running: its figures may
	// still grow.
	Final bool `json:"final"`
	// Claimable: the month has ended and its last day is in the report
	// period, so the report's claimable restitution counts it (each
	// month once, in the report that contains its end).
	Claimable bool `json:"claimable"`
	// Outages are indices into the link's Outages (the report period's)
	// of the outages counted; CountedOutages also counts those of the
	// month outside the period.
	Outages        []int `json:"outages"`
	CountedOutages int   `json:"counted_outages"`
	// Basis is what the target is stated over: 24x7 (PeriodMinutes is
	// every minute of the month) or service_hours (PeriodMinutes are the
	// month's minutes inside the link's service hours, and only down
	// time inside them is counted).
	Basis string `json:"basis"`
	// KnownSeconds are the month's seconds with a known state: data (up,
	// degraded or down) or a maintenance window. Completeness is their
	// share of the month, percent; a month under MinCompleteness is
	// IncompleteData and claims no restitution (RestitutionWithheld says
	// why): its missing time could hide outages as well as up time.
	KnownSeconds        int64   `json:"known_seconds"`
	Completeness        float64 `json:"completeness_pct"`
	MinCompleteness     float64 `json:"min_completeness_pct"`
	IncompleteData      bool    `json:"incomplete_data"`
	RestitutionWithheld string  `json:"restitution_withheld,omitempty"`
}

// WithheldIncomplete is ContractMonth.RestitutionWithheld for a month
// under the completeness threshold.
const WithheldIncomplete = "incomplete_data"

// DefaultMinCompleteness is the completeness (percent) under which a
// contract month is incomplete data.
const DefaultMinCompleteness = 90.0

// Exclusion reasons in ContractMonth.ExcludedMinutes besides the
// inventory's exclusions.
const ExcludedShort = "short"

// Result is what the SLA of a link, a site and a service have in common
// for one period.
type Result struct {
	Target float64 `json:"sla_target_pct"`
	Figures
	Met     *bool    `json:"sla_met"`
	Outages []Outage `json:"outages"`
	Downtime
	// Daily is the availability of each local day of the period, percent
	// (nil: no data that day).
	Daily []*float64 `json:"-"`
	// DayCounts are the seconds per state of each local day of the
	// period (the counts Daily is computed from): monthly figures of a
	// quarter or a year are sums of them.
	DayCounts []Counts `json:"-"`
}

// Downtime is the down time of a period by cause, and MTTR and MTBF:
// seconds, and the same in minutes.
type Downtime struct {
	DowntimeByCause        map[string]float64 `json:"downtime_by_cause_minutes"`
	DowntimeByCauseSeconds map[string]int64   `json:"downtime_by_cause_seconds"`
	MTTRMinutes            *float64           `json:"mttr_minutes"`
	MTBFMinutes            *float64           `json:"mtbf_minutes"`
	MTTRSeconds            *float64           `json:"mttr_seconds"`
	MTBFSeconds            *float64           `json:"mtbf_seconds"`
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
	// OnBatteryMinutes are the minutes of the period in which a UPS of
	// the site reported on_battery=1 (snmp_ups).
	OnBatteryMinutes int64 `json:"on_battery_minutes"`
	Result
}

// ServiceResult is the SLA of one service for one period.
type ServiceResult struct {
	ID   string `json:"service"`
	Site string `json:"site"`
	Result
}

// extent is what a computation reads for one site's zone: the minutes
// [from, from+n), of which [lo, hi) are the report period p. The range
// is the period widened to whole calendar months when the inventory has
// contracts (a contract month is always computed whole), and by the
// margin on both sides.
type extent struct {
	p, wide Period
	from    UnixMinute
	n       int
	lo, hi  int
}

// outageSet is all the outages of the range read, with causes, and which
// of them the report period lists (index into the period's, or -1).
type outageSet struct {
	all      []Outage
	inPeriod []int
}

// result computes the common part from the raw and effective states and
// the maintenance mask of the range read, each outage's cause given by
// cause.
func (c *Computation) result(target float64, raw, eff []Slots, maint []uint8, sp extent, hours *inventory.Schedule, mask []bool, cause func(o *Outage) string) (Result, outageSet) {
	r := Result{Target: target}
	var cnt Counts
	r.Daily, r.DayCounts = daily(eff[sp.lo:sp.hi], sp.p, &cnt)
	r.Figures = figures(cnt)
	r.HoursFigures = hoursFigures(hours, mask, eff, sp)
	if r.Availability != nil && r.Target > 0 {
		met := *r.Availability >= r.Target
		r.Met = &met
	}
	set := outageSet{all: outages(raw, maint, sp.from, c.gap, sp.lo, sp.hi)}
	r.Outages = []Outage{}
	r.DowntimeByCause = map[string]float64{}
	r.DowntimeByCauseSeconds = map[string]int64{}
	lo, hi := SlotsPerMinute*sp.lo, SlotsPerMinute*sp.hi
	for i := range set.all {
		o := &set.all[i]
		o.Cause = cause(o)
		if o.last < lo || o.first >= hi {
			set.inPeriod = append(set.inPeriod, -1)
			continue
		}
		set.inPeriod = append(set.inPeriod, len(r.Outages))
		r.Outages = append(r.Outages, *o)
		r.DowntimeByCauseSeconds[o.Cause] += o.InPeriodSeconds
	}
	for k, v := range r.DowntimeByCauseSeconds {
		r.DowntimeByCause[k] = Min(v)
	}
	r.MTTRSeconds, r.MTBFSeconds = mttrMTBF(r.Outages, r.Available())
	if r.MTTRSeconds != nil {
		a, b := *r.MTTRSeconds/60, *r.MTBFSeconds/60
		r.MTTRMinutes, r.MTBFMinutes = &a, &b
	}
	return r, set
}

// daily is availability per local day of the period from the period's
// effective states, and each day's seconds per state; it adds the
// period's seconds per state to total.
func daily(eff []Slots, p Period, total *Counts) ([]*float64, []Counts) {
	n := int(p.End.Sub(p.Start).Hours()/24) + 1 // a day more for a change to summer time
	out := make([]*float64, 0, n)
	days := make([]Counts, 0, n)
	i := 0
	for d := p.Start; d.Before(p.End); d = d.AddDate(0, 0, 1) {
		n := int(d.AddDate(0, 0, 1).Sub(d) / time.Minute)
		var cnt Counts
		seg := eff[min(i, len(eff)):min(i+n, len(eff))]
		for j := 0; j < len(seg); {
			// runs of equal minutes in one step
			m, k := seg[j], runEnd(seg, j)
			m.addSecondsN(&cnt, int64(k-j))
			j = k
		}
		out = append(out, Pct(cnt[Up]+cnt[Degraded], cnt[Up]+cnt[Degraded]+cnt[Down]))
		days = append(days, cnt)
		for st, v := range cnt {
			total[st] += v
		}
		i += n
	}
	return out, days
}

// Computation computes links and sites of one period, sharing what
// several of them need (parent sites, the collector's own minutes). It is
// safe for concurrent use: a report computes sites in parallel.
type Computation struct {
	e         *Engine
	p         Period // in the reference zone; each site uses its own
	gap       int64  // flap merge gap, seconds
	contracts bool   // some link has a contract: read whole months
	now       time.Time
	parents   map[string]bool // sites that are some site's parent

	mu     sync.Mutex
	series map[seriesKey][]uint16 // the collector's minutes, per range
	sites  map[string]*siteEntry  // parent sites' states
	// service hours masks, and the holiday years they lacked
	masks        map[hoursKey][]bool
	missingYears map[int]bool

	spansOnce sync.Once // declared monitored spans, read once
	spans     []Span
	spansErr  error
}

type seriesKey struct {
	kind uint8
	id   string
	from UnixMinute
	n    int
}

type siteStates struct {
	raw, eff []Slots // range read
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
	c := &Computation{e: e, p: p, now: e.Now, parents: map[string]bool{}, series: map[seriesKey][]uint16{}, sites: map[string]*siteEntry{},
		masks: map[hoursKey][]bool{}, missingYears: map[int]bool{}}
	if c.now.IsZero() {
		c.now = time.Now()
	}
	if e.Inv != nil {
		c.gap = int64(e.Inv.Defaults.FlapMergeGap.Std() / time.Second)
		for i := range e.Inv.Sites {
			if pa := e.Inv.Sites[i].Parent; pa != "" {
				c.parents[pa] = true
			}
		}
		for i := range e.Inv.Links {
			if e.Inv.Links[i].Contract != nil && !e.NoContracts {
				c.contracts = true
			}
		}
	}
	return c
}

// load reads one series; the collector's own minutes are read once per
// range and shared.
func (c *Computation) load(ctx context.Context, kind uint8, id string, from UnixMinute, n int) ([]uint16, error) {
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

// extended returns the site's extent: the period in its zone, and the
// range read.
func (c *Computation) extended(site *inventory.Site) extent {
	p := c.p.In(site.Location)
	wide := p
	if c.contracts {
		wide = p.WholeMonths()
	}
	from, n := wide.Minutes()
	pfrom, pn := p.Minutes()
	lo := int(pfrom-from) + margin
	return extent{p: p, wide: wide, from: from - margin, n: n + 2*margin, lo: lo, hi: lo + pn}
}

// linkStates returns the raw (data only) and effective (maintenance
// overlaid) states of a link over the range read, and the maintenance
// mask (the slots of each minute in a window: all or none).
func (c *Computation) linkStates(ctx context.Context, l *inventory.Link, site *inventory.Site) (raw, eff []Slots, maint []uint8, err error) {
	return c.linkStatesWith(ctx, l, site, nil)
}

// linkStatesWith is linkStates with the site's context sx (nil: none),
// whose heartbeats and presence it reuses and whose scratch slices it
// reads into.
func (c *Computation) linkStatesWith(ctx context.Context, l *inventory.Link, site *inventory.Site, sx *siteCtx) (raw, eff []Slots, maint []uint8, err error) {
	sp := c.extended(site)
	var sc *scratch
	if sx != nil {
		sc = sx.scratch
	}
	bits, err := c.loadInto(ctx, sc, KindLink, l.ID, sp.from, sp.n)
	if err != nil {
		return nil, nil, nil, err
	}
	var coll []uint16
	if sx != nil {
		coll, err = sx.presenceOf(ctx, c, site, l.ICMP.Agent, sp)
	} else {
		coll, err = c.presence(ctx, site, l.ICMP.Agent, sp)
	}
	if err != nil {
		return nil, nil, nil, err
	}
	maint = slotMask(MaintenanceMask(c.e.Windows, l.ID, site.ID, sp.from, sp.n))
	raw, eff = overlayInto(bits, coll, maint, sc)
	return raw, eff, maint, nil
}

// slotMask turns a minute mask into slot masks (nil stays nil).
func slotMask(m []bool) []uint8 {
	if m == nil {
		return nil
	}
	out := make([]uint8, len(m))
	for i, v := range m {
		if v {
			out[i] = 0x3f
		}
	}
	return out
}

// overlay gives the raw states of minute bits (a minute without data
// while nothing was watching, see presence, is a monitoring gap) and the
// effective states (maintenance overlaid on whole minutes).
func overlay(bits, coll []uint16, maint []uint8) (raw, eff []Slots) {
	return overlayInto(bits, coll, maint, nil)
}

// overlayInto is overlay into scratch slices of sc (nil: new ones).
func overlayInto(bits, coll []uint16, maint []uint8, sc *scratch) (raw, eff []Slots) {
	if sc == nil {
		raw = SlotStates(bits, coll)
	} else {
		raw = sc.addSlots(slotsPool.get(len(bits)))
		slotStatesInto(raw, bits, coll)
	}
	if maint == nil {
		return raw, raw
	}
	if sc == nil {
		eff = slices.Clone(raw)
	} else {
		eff = sc.addSlots(slotsPool.get(len(raw)))
		copy(eff, raw)
	}
	for i, m := range maint {
		if m != 0 {
			eff[i] = Uniform(Maintenance)
		}
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
		var raws, effs [][]Slots
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

// combineSite gives a site's raw and effective states from its links',
// slot by slot: a site's slot is down only when all its links with data
// are down in that slot.
func combineSite(raws, effs [][]Slots) *siteStates {
	return combineSiteInto(raws, effs, nil)
}

// combineSiteInto is combineSite into scratch slices of sc (nil: new
// ones).
func combineSiteInto(raws, effs [][]Slots, sc *scratch) *siteStates {
	ss := &siteStates{links: len(raws)}
	if len(raws) == 0 {
		return ss
	}
	fold := func(in [][]Slots) []Slots {
		var out []Slots
		if sc == nil {
			out = make([]Slots, len(in[0]))
		} else {
			out = sc.addSlots(slotsPool.get(len(in[0])))
		}
		if len(in) == 1 {
			copy(out, in[0])
			return out
		}
		// the first two links straight into out, then the others
		a, b := in[0], in[1][:len(in[0])]
		for i := 0; i < len(out); {
			// where both links stay the same, so does the site
			e := min(runEnd(a, i), runEnd(b, i))
			fillRun(out[i:e], combineSlots(a[i], b[i]))
			i = e
		}
		for _, l := range in[2:] {
			for i, s := range l {
				out[i] = combineSlots(out[i], s)
			}
		}
		return out
	}
	ss.raw = fold(raws)
	same := true // no link in maintenance: its effective states are its raw ones
	for i := range raws {
		same = same && len(raws[i]) > 0 && &raws[i][0] == &effs[i][0]
	}
	if same {
		ss.eff = ss.raw
	} else {
		ss.eff = fold(effs)
	}
	return ss
}

// parentDown returns, over the child's range, the slots of each minute in
// which the parent site (or any ancestor) was down; nil when there is no
// parent.
func (c *Computation) parentDown(ctx context.Context, site *inventory.Site) ([]uint8, error) {
	var out []uint8
	sp := c.extended(site)
	for p, hops := c.e.Inv.Site(site.Parent), 0; p != nil && hops < 64; p, hops = c.e.Inv.Site(p.Parent), hops+1 {
		ss, err := c.site(ctx, p)
		if err != nil {
			return nil, err
		}
		if ss.raw == nil {
			continue
		}
		psp := c.extended(p)
		if out == nil {
			out = make([]uint8, sp.n)
		}
		for i := range out {
			if j := int(sp.from-psp.from) + i; j >= 0 && j < len(ss.raw) {
				out[i] |= ss.raw[j].Mask(Down)
			}
		}
	}
	return out, nil
}

// slotTime is the start of slot g of the range that starts at minute from.
func slotTime(from UnixMinute, g int) time.Time {
	return time.Unix(from*60+int64(g)*SlotSeconds, 0)
}

// outages finds the runs of down slots in raw, merging runs separated by
// less than gap seconds, with their down time in and out of maintenance
// and in the period's minutes [lo, hi).
func outages(raw []Slots, maint []uint8, from UnixMinute, gap int64, lo, hi int) []Outage {
	var out []Outage
	add := func(first, last int) {
		if k := len(out) - 1; k >= 0 && int64(first-out[k].last-1)*SlotSeconds < gap {
			out[k].last = last
			out[k].Runs++
			return
		}
		out = append(out, Outage{first: first, last: last, Runs: 1})
	}
	start := -1
	for i := 0; i < len(raw); i++ {
		m := raw[i]
		dm := m.Mask(Down)
		switch dm {
		case 0:
			if start >= 0 {
				add(start, SlotsPerMinute*i-1)
				start = -1
			}
			// the same minute again changes nothing: skip the run
			i = runEnd(raw, i) - 1
			continue
		case 0x3f:
			if start < 0 {
				start = SlotsPerMinute * i
			}
			i = runEnd(raw, i) - 1
			continue
		}
		for s := range SlotsPerMinute {
			g := SlotsPerMinute*i + s
			switch {
			case dm&(1<<s) != 0 && start < 0:
				start = g
			case dm&(1<<s) == 0 && start >= 0:
				add(start, g-1)
				start = -1
			}
		}
	}
	if start >= 0 {
		add(start, SlotsPerMinute*len(raw)-1)
	}
	for k := range out {
		o := &out[k]
		o.Start, o.End = slotTime(from, o.first), slotTime(from, o.last+1)
		o.DurationSeconds = int64(o.last-o.first+1) * SlotSeconds
		for i := o.first / SlotsPerMinute; i <= o.last/SlotsPerMinute; i++ {
			dm := raw[i].Mask(Down) & within(i, o.first, o.last)
			d := popcount6(dm) * SlotSeconds
			var mt int64
			if maint != nil {
				mt = popcount6(dm&maint[i]) * SlotSeconds
			}
			o.DownSeconds += d
			o.MaintenanceSeconds += mt
			if i >= lo && i < hi {
				o.InPeriodSeconds += d - mt
			}
		}
		o.DurationMinutes, o.DownMinutes = Min(o.DurationSeconds), Min(o.DownSeconds)
		o.MaintenanceMinutes, o.InPeriodMinutes = Min(o.MaintenanceSeconds), Min(o.InPeriodSeconds)
	}
	return out
}

// within is the mask of the slots of minute i that lie in slots [first,
// last].
func within(i, first, last int) uint8 {
	var m uint8 = 0x3f
	if b := SlotsPerMinute * i; first > b {
		m &= 0x3f << (first - b) & 0x3f
	}
	if e := SlotsPerMinute*i + SlotsPerMinute - 1; last < e {
		m &= 0x3f >> (e - last)
	}
	return m
}

// cause attributes an outage: the parent was down for at least half of
// its down time; else a UPS of the site was on battery for at least half
// of it (power, whether or not the agent, itself on the UPS, kept
// sending heartbeats); else the site's agent kept sending heartbeats (per
// minute) for at least half of it (ISP) or not (power); unknown when the
// site has no agent reporting at all in the range.
func cause(o *Outage, raw []Slots, parent []uint8, heart, power []uint16, hasAgent bool) string {
	var n, pd, hb, pb int64
	for i := o.first / SlotsPerMinute; i <= o.last/SlotsPerMinute; i++ {
		dm := raw[i].Mask(Down) & within(i, o.first, o.last)
		if dm == 0 {
			continue
		}
		d := popcount6(dm)
		n += d
		if parent != nil {
			pd += popcount6(dm & parent[i])
		}
		if heart != nil && heart[i] != 0 {
			hb += d
		}
		if power != nil && power[i] != 0 {
			pb += d
		}
	}
	switch {
	case 2*pd >= n && pd > 0:
		return CauseParent
	case 2*pb >= n && pb > 0:
		return CausePower
	case !hasAgent:
		return CauseUnknown
	case 2*hb >= n:
		return CauseISP
	default:
		return CausePower
	}
}

func anySet(b []uint16) bool {
	return len(b) > 0 && (b[0] != 0 || runEnd(b, 0) < len(b))
}

func mttrMTBF(os []Outage, upSeconds int64) (mttr, mtbf *float64) {
	if len(os) == 0 {
		return nil, nil
	}
	var sum int64
	for _, o := range os {
		sum += o.DurationSeconds
	}
	a := float64(sum) / float64(len(os))
	b := float64(upSeconds) / float64(len(os))
	return &a, &b
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
// slots and its agent's heartbeats.
type siteCtx struct {
	parent   []uint8
	heart    []uint16
	power    []uint16 // minutes a UPS of the site was on battery
	hasAgent bool
	// what SiteWithLinks shares between the site's links: the scratch
	// slices (nil: none) and the presence per agent (heartbeats read
	// once per site, not once per link)
	scratch  *scratch
	presence map[string][]uint16
}

func (c *Computation) siteContext(ctx context.Context, site *inventory.Site) (*siteCtx, error) {
	return c.siteContextWith(ctx, site, nil)
}

// siteContextWith is siteContext reading into scratch slices of sc (nil:
// new ones).
func (c *Computation) siteContextWith(ctx context.Context, site *inventory.Site, sc *scratch) (*siteCtx, error) {
	sp := c.extended(site)
	parent, err := c.parentDown(ctx, site)
	if err != nil {
		return nil, err
	}
	heart, err := c.loadInto(ctx, sc, KindSite, site.ID, sp.from, sp.n)
	if err != nil {
		return nil, err
	}
	power, err := c.loadInto(ctx, sc, KindPower, site.ID, sp.from, sp.n)
	if err != nil {
		return nil, err
	}
	return &siteCtx{parent: parent, heart: heart, power: power, hasAgent: anySet(heart), scratch: sc, presence: map[string][]uint16{}}, nil
}

// presenceOf is presence for a link of the site probed by agent, from
// the site's heartbeats read once, computed once per agent.
func (sx *siteCtx) presenceOf(ctx context.Context, c *Computation, site *inventory.Site, agent string, sp extent) ([]uint16, error) {
	if p, ok := sx.presence[agent]; ok {
		return p, nil
	}
	p, err := c.presenceFrom(ctx, site, agent, sp, sx.heart, sx.hasAgent)
	if err != nil {
		return nil, err
	}
	sx.presence[agent] = p
	return p, nil
}

func (c *Computation) linkResult(l *inventory.Link, site *inventory.Site, raw, eff []Slots, maint []uint8, sc *siteCtx) *LinkResult {
	sp := c.extended(site)
	mask := c.hoursMask(l.Hours, site, sp)
	res, set := c.result(l.SLATarget, raw, eff, maint, sp, l.Hours, mask,
		func(o *Outage) string { return cause(o, raw, sc.parent, sc.heart, sc.power, sc.hasAgent) })
	r := &LinkResult{ID: l.ID, Site: site.ID, Period: sp.p, Result: res}
	if l.Contract != nil && c.contracts {
		var basis []bool // nil: every minute counts
		if l.Contract.Basis == inventory.BasisServiceHours {
			basis = mask
		}
		for _, m := range sp.wide.Months() {
			cm := contractMonth(l.Contract, m, sp, set, raw, maint, basis, c.now)
			completeness(&cm, m, sp, raw, maint, basis, c.e.MinCompleteness)
			r.Contract = append(r.Contract, cm)
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
	sp := c.extended(site)
	bits, err := c.load(ctx, KindService, sv.ID, sp.from, sp.n)
	if err != nil {
		return nil, err
	}
	coll, err := c.presence(ctx, site, sv.Probe.Agent, sp)
	if err != nil {
		return nil, err
	}
	maint := slotMask(ServiceMaintenanceMask(c.e.Windows, sv.ID, site.ID, sp.from, sp.n))
	raw, eff := overlay(bits, coll, maint)
	ss, err := c.site(ctx, site)
	if err != nil {
		return nil, err
	}
	siteData := ss.raw != nil && slices.ContainsFunc(ss.raw, func(m Slots) bool {
		return m.Mask(Up)|m.Mask(Degraded)|m.Mask(Down) != 0
	})
	res, _ := c.result(sv.SLATarget, raw, eff, maint, sp, sv.Hours, c.hoursMask(sv.Hours, site, sp),
		func(o *Outage) string { return serviceCause(o, raw, ss.raw, siteData) })
	return &ServiceResult{ID: sv.ID, Site: site.ID, Result: res}, nil
}

// serviceCause attributes a service outage: the network's when the
// hosting site was down for at least half of its down time; unknown when
// the site has no link with data in the range; else the service's.
func serviceCause(o *Outage, raw, site []Slots, siteData bool) string {
	if !siteData {
		return CauseUnknown
	}
	var n, sd int64
	for i := o.first / SlotsPerMinute; i <= o.last/SlotsPerMinute; i++ {
		dm := raw[i].Mask(Down) & within(i, o.first, o.last)
		n += popcount6(dm)
		sd += popcount6(dm & site[i].Mask(Down))
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
//
// The site's ranges (minute bits, heartbeats, slots) are scratch slices,
// reused by the next site once its results are computed.
func (c *Computation) SiteWithLinks(ctx context.Context, s *inventory.Site) (*SiteResult, []*LinkResult, error) {
	scr := &scratch{}
	defer scr.release()
	sc, err := c.siteContextWith(ctx, s, scr)
	if err != nil {
		return nil, nil, err
	}
	var (
		links      []*LinkResult
		raws, effs [][]Slots
	)
	for _, l := range c.e.Inv.LinksOfSite(s.ID) {
		raw, eff, maint, err := c.linkStatesWith(ctx, l, s, sc)
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
		ss = combineSiteInto(raws, effs, scr)
	}
	return c.siteResult(s, ss, sc), links, nil
}

func (c *Computation) siteResult(s *inventory.Site, ss *siteStates, sc *siteCtx) *SiteResult {
	r := &SiteResult{ID: s.ID, Links: ss.links, Result: Result{Target: s.SLATarget}}
	sp := c.extended(s)
	for i := sp.lo; i < sp.hi && i < len(sc.power); i++ {
		if sc.power[i] != 0 {
			r.OnBatteryMinutes++
		}
	}
	if ss.raw == nil {
		return r
	}
	// a site slot is under maintenance when its effective state is (nil
	// when none is: outages then count no maintenance, as with zeros)
	var maint []uint8
	for i := 0; i < len(ss.eff); {
		e := runEnd(ss.eff, i) // a run of equal minutes has one mask
		if m := ss.eff[i].Mask(Maintenance); m != 0 {
			if maint == nil {
				maint = make([]uint8, sp.n)
			}
			fillRun(maint[i:e], m)
		}
		i = e
	}
	r.Result, _ = c.result(s.SLATarget, ss.raw, ss.eff, maint, sp, s.Hours, c.hoursMask(s.Hours, s, sp),
		func(o *Outage) string { return cause(o, ss.raw, sc.parent, sc.heart, sc.power, sc.hasAgent) })
	return r
}

// contractMonth evaluates one whole calendar month m of an ISP contract
// from all the outages of the range read. Down time in maintenance
// windows, and outages whose cause the contract excludes, are not the
// ISP's; an outage whose remaining down time is shorter than the
// contract's minimum is a blip and not counted. Time is counted in
// seconds; the allowed time is whole minutes. Restitution is owed only
// when the month misses the target: "proportional" is the monthly fee
// times counted seconds over the month's seconds, "excess" counts only
// the seconds beyond those the target allows. Rupiah are rounded down.
func contractMonth(k *inventory.Contract, m Period, sp extent, set outageSet, raw []Slots, maint []uint8, basis []bool, now time.Time) ContractMonth {
	mfrom, mn := m.Minutes()
	lo := int(mfrom - sp.from)
	hi := lo + mn
	if basis != nil {
		mn = 0 // the month's minutes inside service hours
		for _, in := range basis[lo:hi] {
			if in {
				mn++
			}
		}
	}
	ms := int64(mn) * 60
	cm := ContractMonth{
		Month: m.Label, PeriodMinutes: mn, PeriodSeconds: ms, Target: k.Target, MonthlyFee: k.MonthlyFee,
		Formula: k.Restitution, ExcludedMinutes: map[string]float64{}, ExcludedSeconds: map[string]int64{}, Outages: []int{},
		Final: !m.End.After(now),
	}
	// the month's end falls in the report period
	cm.Claimable = cm.Final && m.End.After(sp.p.Start) && !m.End.After(sp.p.End)
	loc := m.Start.Location()
	// the contract is in force for some of the month
	cm.Active = (k.Start.IsZero() || k.Start.In(loc).Before(m.End)) &&
		(k.End.IsZero() || k.End.In(loc).AddDate(0, 0, 1).After(m.Start))
	excl := func(x string) bool { return slices.Contains(k.Exclude, x) }
	cm.Basis = inventory.Basis24x7
	if basis != nil {
		cm.Basis = inventory.BasisServiceHours
	}
	minOut := int64(math.Ceil(k.MinOutage.Std().Seconds()))
	for idx := range set.all {
		o := &set.all[idx]
		if o.last < SlotsPerMinute*lo || o.first >= SlotsPerMinute*hi {
			continue
		}
		var inMonth, maintInMonth int64
		for i := max(o.first/SlotsPerMinute, lo); i <= o.last/SlotsPerMinute && i < hi; i++ {
			if basis != nil && !basis[i] {
				continue // outside service hours: not the contract's
			}
			dm := raw[i].Mask(Down) & within(i, o.first, o.last)
			inMonth += popcount6(dm) * SlotSeconds
			if maint != nil {
				maintInMonth += popcount6(dm&maint[i]) * SlotSeconds
			}
		}
		if inMonth == 0 {
			continue
		}
		total := o.DownSeconds
		if excl(inventory.ExcludeMaintenance) {
			cm.ExcludedSeconds[inventory.ExcludeMaintenance] += maintInMonth
			inMonth -= maintInMonth
			total -= o.MaintenanceSeconds
		}
		if inMonth == 0 {
			continue
		}
		switch {
		case (o.Cause == CausePower && excl(inventory.ExcludePower)) || (o.Cause == CauseParent && excl(inventory.ExcludeParent)):
			cm.ExcludedSeconds[o.Cause] += inMonth
		case total < minOut:
			cm.ExcludedSeconds[ExcludedShort] += inMonth
		default:
			cm.CountedSeconds += inMonth
			cm.CountedOutages++
			if j := set.inPeriod[idx]; j >= 0 {
				cm.Outages = append(cm.Outages, j)
			}
		}
	}
	for x, v := range cm.ExcludedSeconds {
		cm.ExcludedMinutes[x] = Min(v)
	}
	cm.CountedMinutes = Min(cm.CountedSeconds)
	cm.AllowedMinutes = int(math.Floor(float64(mn)*(100-k.Target)/100 + 1e-9))
	cm.AllowedSeconds = int64(cm.AllowedMinutes) * 60
	cm.Availability = 100
	if ms > 0 {
		cm.Availability = 100 * float64(ms-cm.CountedSeconds) / float64(ms)
	}
	cm.Met = cm.CountedSeconds <= cm.AllowedSeconds
	if !cm.Met && cm.Active && ms > 0 {
		switch k.Restitution {
		case inventory.RestitutionProportional:
			cm.Restitution = mulDiv(k.MonthlyFee, cm.CountedSeconds, ms)
		case inventory.RestitutionExcess:
			cm.Restitution = mulDiv(k.MonthlyFee, cm.CountedSeconds-cm.AllowedSeconds, ms)
		}
	}
	return cm
}

// mulDiv is ⌊a × b / c⌋ for non-negative a, b and positive c, without
// overflowing 64 bits in the product.
func mulDiv(a, b, c int64) int64 {
	if a <= 0 || b <= 0 || c <= 0 {
		return 0
	}
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	if hi >= uint64(c) {
		return math.MaxInt64
	}
	q, _ := bits.Div64(hi, lo, uint64(c))
	return int64(min(q, math.MaxInt64))
}

// completeness counts a contract month's seconds with a known state (data
// or maintenance) and withholds the restitution of a month known for less
// than minPct percent (0: DefaultMinCompleteness). With a basis (a
// contract over service hours) only the minutes inside it count, as its
// PeriodSeconds are theirs: data at night does not make service hours
// known.
func completeness(cm *ContractMonth, m Period, sp extent, raw []Slots, maint []uint8, basis []bool, minPct float64) {
	if minPct <= 0 {
		minPct = DefaultMinCompleteness
	}
	mfrom, mn := m.Minutes()
	lo := int(mfrom - sp.from)
	for i := max(lo, 0); i < lo+mn && i < len(raw); i++ {
		if basis != nil && (i >= len(basis) || !basis[i]) {
			continue
		}
		known := raw[i].Mask(Up) | raw[i].Mask(Degraded) | raw[i].Mask(Down)
		if maint != nil {
			known |= maint[i]
		}
		cm.KnownSeconds += popcount6(known) * SlotSeconds
	}
	cm.MinCompleteness = minPct
	if cm.PeriodSeconds > 0 {
		cm.Completeness = 100 * float64(cm.KnownSeconds) / float64(cm.PeriodSeconds)
	}
	// judged once the month has ended (a running month is still filling
	// in); 90 % of a 30-day month is 2,332,800 s
	if cm.Final && float64(cm.KnownSeconds)*100 < minPct*float64(cm.PeriodSeconds)-1e-6 {
		cm.IncompleteData = true
		cm.Restitution = 0
		cm.RestitutionWithheld = WithheldIncomplete
	}
}
