package report

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/pantau-noc/pantau/collector/internal/calendar"
	"github.com/pantau-noc/pantau/collector/internal/capacity"
	"github.com/pantau-noc/pantau/collector/internal/inventory"
	"github.com/pantau-noc/pantau/collector/internal/sla"
	"github.com/pantau-noc/pantau/collector/internal/statedb"
	"github.com/pantau-noc/pantau/internal/buildinfo"
)

// ReviewSource gives the review records (statedb.DB).
type ReviewSource interface {
	Reviews(ctx context.Context, from, to string) ([]statedb.Review, error)
	FollowUpsAsOf(ctx context.Context, since, date string) ([]statedb.FollowUp, error)
}

// CapacitySource gives a link's bit-rate samples and interface speed. It
// appends to rx and tx (which the caller reuses from link to link) and
// returns them.
type CapacitySource interface {
	Capacity(ctx context.Context, l *inventory.Link, start, end time.Time, rx, tx []capacity.Sample) ([]capacity.Sample, []capacity.Sample, float64, error)
}

// DataIndex tells which links have any data in a range of UTC days.
type DataIndex interface {
	LinksWithData(ctx context.Context, fromDay, toDay int64) (map[string]bool, error)
}

// Input is where a report's figures come from.
type Input struct {
	Inv      *inventory.Inventory
	Store    sla.Store
	Index    DataIndex
	Windows  []sla.Window
	Reviews  ReviewSource   // may be nil
	Capacity CapacitySource // may be nil
	// Rollups are the stored capacity rollups (may be nil: capacity then
	// comes from Capacity's samples alone).
	Rollups RollupStore
	// Audit gives the audit log for the change record (may be nil: no
	// change record).
	Audit AuditSource
	// Holidays is the holiday calendar of service hours (nil: the
	// built-in years).
	Holidays *calendar.Calendar
	// Incidents gives the operators' incident records (may be nil).
	Incidents IncidentSource
}

// AuditSource gives the audit log (statedb.DB).
type AuditSource interface {
	Audit(ctx context.Context, f statedb.AuditFilter) ([]statedb.AuditEntry, error)
}

// Options choose the report.
type Options struct {
	Period string   // 2026-10, 2026-Q4, 2026, 2026-10-01..2026-10-15
	OPD    string   // only this OPD's sites
	OPDs   []string // only these OPDs' sites (one: as OPD); not with OPD or Site
	Site   string   // only this site
	// Reader is the OPD scope of the credential the report is for (empty:
	// unscoped). Records the inventory does not tie to one of its OPDs
	// are left out: reviews of the whole Pemda or of another OPD and
	// their follow-ups, and the change record.
	Reader []string
	Lang   string
	// Zone is the reference zone of the header; each site's figures use
	// its own zone. Default Asia/Jakarta (WIB).
	Zone *time.Location
	// Now is the report date (expiries are counted from it); default
	// time.Now.
	Now time.Time
	// CoverageMonths is how many months the coverage history shows,
	// ending with the period's last month. Default 6.
	CoverageMonths int
	// Progress, when set, is called after each link.
	Progress func(done, total int)
	// MinContractCompleteness is report.min_contract_completeness_pct:
	// a contract month known for less (percent) claims no restitution
	// (0: sla.DefaultMinCompleteness).
	MinContractCompleteness float64
	// ForecastHorizon bounds the capacity forecast (report.forecast_horizon
	// in collector.yml): a trend reaching 80 % later than this after the
	// report date, or never, is "beyond the horizon". Default
	// DefaultForecastHorizon; negative: no horizon.
	ForecastHorizon time.Duration
	// Monthly adds each link's figures and p95 per calendar month
	// (LinkRow.Months, CapacityRow.Months) from the same computation.
	Monthly bool
}

// DefaultForecastHorizon is the forecast horizon when Options and
// collector.yml give none: two years (730 days).
const DefaultForecastHorizon = 730 * 24 * time.Hour

//go:embed spbe.yml
var spbeYAML []byte

type spbeMap struct {
	Indicators []Indicator `yaml:"indicators"`
	Sections   []struct {
		Section    string            `yaml:"section"`
		Indicators []int             `yaml:"indicators"`
		Note       map[string]string `yaml:"note"`
	} `yaml:"sections"`
}

// evidence reads the SPBE mapping data file.
func evidence(lang string) ([]Evidence, error) {
	var m spbeMap
	if err := yaml.Unmarshal(spbeYAML, &m); err != nil {
		return nil, fmt.Errorf("read spbe.yml: %w", err)
	}
	byNum := map[int]Indicator{}
	for _, in := range m.Indicators {
		byNum[in.Number] = in
	}
	var out []Evidence
	for _, s := range m.Sections {
		e := Evidence{Section: s.Section, Title: T(lang, s.Section), Note: s.Note[lang]}
		for _, n := range s.Indicators {
			in, ok := byNum[n]
			if !ok {
				return nil, fmt.Errorf("spbe.yml: section %s names indicator %d, which is not listed", s.Section, n)
			}
			e.Indicators = append(e.Indicators, in)
		}
		out = append(out, e)
	}
	return out, nil
}

// ErrInvalid is wrapped by the errors Build returns for a request that
// names an unknown language, site or OPD (the caller's mistake, a 400);
// a bad period wraps sla.ErrBadPeriod.
var ErrInvalid = errors.New("invalid report request")

// PanicError is a panic in one of Build's workers, returned as an error
// so that the process survives it; Stack is for the log.
type PanicError struct {
	Value any
	Stack []byte
}

func (e *PanicError) Error() string {
	return fmt.Sprintf("internal error while computing the report: %v", e.Value)
}

// Build computes a report.
func Build(ctx context.Context, in Input, o Options) (*Report, error) {
	if in.Inv == nil {
		return nil, fmt.Errorf("no inventory: set inventory in the collector config (a report needs the site and link list)")
	}
	lang, err := ParseLang(o.Lang)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if o.Zone == nil {
		if o.Zone, err = time.LoadLocation("Asia/Jakarta"); err != nil {
			return nil, fmt.Errorf("load time zone Asia/Jakarta: %w", err)
		}
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	if o.CoverageMonths <= 0 {
		o.CoverageMonths = 6
	}
	if o.ForecastHorizon == 0 {
		o.ForecastHorizon = DefaultForecastHorizon
	}
	p, err := sla.ParsePeriod(o.Period, o.Zone)
	if err != nil {
		return nil, err
	}
	inv := in.Inv
	r := &Report{
		Lang: lang, Title: T(lang, "title"), Period: p.Label, Start: p.Start, End: p.End,
		TimeZone: T(lang, "tz.per_site"), GeneratedAt: o.Now.In(o.Zone).Truncate(time.Second),
		Generator: "pantau-collector " + buildinfo.Version,
		Sites:     []SiteRow{}, Links: []LinkRow{}, Services: []ServiceRow{}, Incidents: []Incident{}, Contracts: []ContractRow{},
		Capacity: []CapacityRow{}, Reviews: []statedb.Review{}, FollowUps: []statedb.FollowUp{},
		Assets: []Asset{}, Expiries: []Expiry{}, Changes: []Change{},
	}
	for _, k := range []string{"m.minute", "m.availability", "m.completeness", "m.worst", "m.site", "m.outage", "m.cause", "m.service", "m.contract", "m.capacity", "m.coverage", "m.evidence"} {
		r.Methods = append(r.Methods, Note{Figure: k[2:], Method: T(lang, k)})
	}

	// scope
	if n := len(o.OPDs); n > 0 && (o.OPD != "" || o.Site != "") || o.OPD != "" && o.Site != "" {
		return nil, fmt.Errorf("%w: give one of site, OPD or OPDs", ErrInvalid)
	}
	var sites []*inventory.Site
	switch {
	case o.Site != "":
		s := inv.Site(o.Site)
		if s == nil {
			return nil, fmt.Errorf("%w: unknown site %q (not in the inventory %s)", ErrInvalid, o.Site, inv.File)
		}
		sites = []*inventory.Site{s}
		r.Scope = Scope{Kind: "site", ID: s.ID, Name: s.Name}
	case o.OPD != "":
		for i := range inv.Sites {
			if inv.Sites[i].OPD == o.OPD {
				sites = append(sites, &inv.Sites[i])
			}
		}
		if len(sites) == 0 {
			return nil, fmt.Errorf("%w: no site of OPD %q in the inventory %s", ErrInvalid, o.OPD, inv.File)
		}
		r.Scope = Scope{Kind: "opd", ID: o.OPD, Name: opdName(inv, o.OPD)}
	case len(o.OPDs) > 0:
		for i := range inv.Sites {
			if slices.Contains(o.OPDs, inv.Sites[i].OPD) {
				sites = append(sites, &inv.Sites[i])
			}
		}
		if len(sites) == 0 {
			return nil, fmt.Errorf("%w: no site of OPD %s in the inventory %s", ErrInvalid, strings.Join(o.OPDs, ", "), inv.File)
		}
		names := make([]string, len(o.OPDs))
		for i, opd := range o.OPDs {
			names[i] = opdName(inv, opd)
		}
		r.Scope = Scope{Kind: "opds", ID: strings.Join(o.OPDs, ","), Name: strings.Join(names, ", ")}
	default:
		for i := range inv.Sites {
			sites = append(sites, &inv.Sites[i])
		}
		r.Scope = Scope{Kind: "pemda", Name: T(lang, "scope.pemda")}
	}

	eng := &sla.Engine{Inv: inv, Store: in.Store, Windows: in.Windows, Now: o.Now, Holidays: in.Holidays, MinCompleteness: o.MinContractCompleteness}
	comp := eng.NewComputation(p)
	results, err := computeSites(ctx, comp, in, sites, p, o)
	if err != nil {
		return nil, err
	}
	var (
		sumUp, sumKnown, sumNoData int64
		siteUp, siteKnown          int64
	)
	r.Summary.DowntimeByCause = map[string]float64{}
	r.Summary.DowntimeByCauseSeconds = map[string]int64{}
	for i, s := range sites {
		res := results[i]
		for j, l := range inv.LinksOfSite(s.ID) {
			lr := res.links[j]
			row := LinkRow{
				Link: l.ID, Name: l.Name, Site: s.ID, OPD: s.OPD, OPDName: opdName(inv, s.OPD), Type: l.Type, ISP: l.ISP, Circuit: l.Circuit,
				TimeZone: zoneName(s), Figures: lr.Figures, Target: lr.Target, Met: lr.Met, Outages: len(lr.Outages),
				Downtime: lr.Downtime, Daily: lr.Daily,
			}
			if o.Monthly {
				row.Months = linkMonths(lr, p.In(s.Location), s.Location)
			}
			r.Links = append(r.Links, row)
			r.Summary.Links++
			known := lr.Known()
			if known > 0 {
				r.Summary.LinksWithData++
			}
			if lr.Met != nil {
				if *lr.Met {
					r.Summary.LinksMeetingSLA++
				} else {
					r.Summary.LinksMissingSLA++
				}
			}
			sumUp += lr.Available()
			sumKnown += known
			sumNoData += lr.NoDataSeconds
			counted := map[int]bool{}
			for _, cm := range lr.Contract {
				r.Contracts = append(r.Contracts, ContractRow{Link: l.ID, ISP: l.ISP, Circuit: l.Circuit, ContractMonth: cm})
				switch {
				case cm.Claimable:
					r.Summary.Restitution += cm.Restitution
				case !cm.Final:
					r.Summary.RestitutionProvisional += cm.Restitution
				}
				for _, i := range cm.Outages {
					counted[i] = true
				}
			}
			for i := range lr.Outages {
				ou := &lr.Outages[i]
				in := incident(ou, s.Location)
				in.Link, in.Site, in.ContractCounted, in.Kind = l.ID, s.ID, counted[i], KindLink
				r.Incidents = append(r.Incidents, in)
				r.Summary.Outages++
				r.Summary.DowntimeSeconds += ou.InPeriodSeconds
				r.Summary.DowntimeByCauseSeconds[ou.Cause] += ou.InPeriodSeconds
			}
		}
		r.Capacity = append(r.Capacity, res.capacity...)
		sr := res.site
		for _, o := range sr.Outages {
			r.Summary.SiteDowntimeSeconds += o.InPeriodSeconds
		}
		row := SiteRow{
			Site: s.ID, Name: s.Name, Kind: s.Kind, OPD: s.OPD, OPDName: opdName(inv, s.OPD), District: s.District, TimeZone: zoneName(s),
			Links: sr.Links, Figures: sr.Figures, Target: sr.Target, Met: sr.Met, Outages: len(sr.Outages),
			Downtime: sr.Downtime, Daily: sr.Daily, OnBatteryMinutes: sr.OnBatteryMinutes,
		}
		r.Sites = append(r.Sites, row)
		for i := range sr.Outages {
			if len(inv.LinksOfSite(s.ID)) < 2 {
				break // a single link's outage is the site's: listed once, as the link's
			}
			in := incident(&sr.Outages[i], s.Location)
			in.Site, in.Kind = s.ID, KindSite
			r.Incidents = append(r.Incidents, in)
		}
		siteUp += sr.Available()
		siteKnown += sr.Known()
	}
	r.Summary.DowntimeMinutes = sla.Min(r.Summary.DowntimeSeconds)
	r.Summary.SiteDowntimeMinutes = sla.Min(r.Summary.SiteDowntimeSeconds)
	for k, v := range r.Summary.DowntimeByCauseSeconds {
		r.Summary.DowntimeByCause[k] = sla.Min(v)
	}
	if err := buildServices(ctx, r, comp, inv, servicesInScope(inv, sites, o)); err != nil {
		return nil, err
	}
	r.Summary.Sites = len(sites)
	r.Summary.Availability = sla.Pct(sumUp, sumKnown)
	r.Summary.Completeness = sla.Pct(sumKnown, sumKnown+sumNoData)
	r.Summary.WorstCase = sla.Pct(sumUp, sumKnown+sumNoData)
	r.Summary.SiteAvailability = sla.Pct(siteUp, siteKnown)
	if in.Holidays == nil {
		in.Holidays = calendar.Builtin()
	}
	hoursSummary(r, comp, in.Holidays, p)
	sort.SliceStable(r.Incidents, func(i, j int) bool { return r.Incidents[i].Start.Before(r.Incidents[j].Start) })

	if err := incidentRecords(ctx, r, in, p, sites); err != nil {
		return nil, err
	}
	if err := coverage(ctx, r, in, sites, p, o); err != nil {
		return nil, err
	}
	if err := coverageMethods(ctx, r, in, sites, o); err != nil {
		return nil, err
	}
	if in.Reviews != nil {
		months := p.Months()
		if r.Reviews, err = in.Reviews.Reviews(ctx, months[0].Label, months[len(months)-1].Label); err != nil {
			return nil, err
		}
		last := p.End.AddDate(0, 0, -1).Format("2006-01-02")
		if r.FollowUps, err = in.Reviews.FollowUpsAsOf(ctx, p.Start.Format("2006-01-02"), last); err != nil {
			return nil, err
		}
		if len(o.Reader) > 0 {
			// the scopes of every review up to the period's, for the
			// follow-ups carried over from earlier ones
			all, err := in.Reviews.Reviews(ctx, "0000-01", months[len(months)-1].Label)
			if err != nil {
				return nil, err
			}
			scope := make(map[int64]string, len(all))
			for _, v := range all {
				scope[v.ID] = v.Scope
			}
			r.Reviews, r.FollowUps = readerRecords(r.Reviews, r.FollowUps, scope, o.Reader)
		}
		for _, f := range r.FollowUps {
			if f.Status == statedb.StatusSelesai {
				r.Summary.ClosedFollowUps++
			} else {
				r.Summary.OpenFollowUps++
			}
		}
		if r.Reviews == nil {
			r.Reviews = []statedb.Review{}
		}
		if r.FollowUps == nil {
			r.FollowUps = []statedb.FollowUp{}
		}
	}
	if err := changeRecord(ctx, r, in.Audit, p, o); err != nil {
		return nil, err
	}
	assetsAndExpiries(r, inv, sites, o)
	r.Summary.ExpiringWithin90d = len(r.Expiries)
	if r.Evidence, err = evidence(lang); err != nil {
		return nil, err
	}
	return r, nil
}

// servicesInScope returns the services a report covers: all for the
// whole Pemda, those an OPD owns or hosts for an OPD report (any of the
// OPDs for a report of several), and those hosted at the site for a site
// report.
func servicesInScope(inv *inventory.Inventory, sites []*inventory.Site, o Options) []*inventory.Service {
	in := make(map[string]bool, len(sites))
	for _, s := range sites {
		in[s.ID] = true
	}
	var out []*inventory.Service
	for i := range inv.Services {
		sv := &inv.Services[i]
		if o.OPD != "" && sv.OPD == o.OPD || len(o.OPDs) > 0 && slices.Contains(o.OPDs, sv.OPD) || in[sv.Site] {
			out = append(out, sv)
		}
	}
	return out
}

// buildServices adds the services' rows, incidents and summary figures.
func buildServices(ctx context.Context, r *Report, comp *sla.Computation, inv *inventory.Inventory, svcs []*inventory.Service) error {
	var up, known int64
	for _, sv := range svcs {
		res, err := comp.Service(ctx, sv)
		if err != nil {
			return err
		}
		site := inv.Site(sv.Site)
		r.Services = append(r.Services, ServiceRow{
			Service: sv.ID, Name: sv.Name, Category: sv.Category, URL: sv.URL, Site: sv.Site, OPD: sv.OPD, OPDName: opdName(inv, sv.OPD),
			Check: sv.Probe.Measurement + " " + sv.Probe.Target, TimeZone: zoneName(site),
			Figures: res.Figures, Target: res.Target, Met: res.Met, Outages: len(res.Outages),
			Downtime: res.Downtime, Daily: res.Daily,
		})
		s := &r.Summary
		s.Services++
		k := res.Known()
		if k > 0 {
			s.ServicesWithData++
		}
		if res.Met != nil {
			if *res.Met {
				s.ServicesMeetingSLA++
			} else {
				s.ServicesMissingSLA++
			}
		}
		up += res.Available()
		known += k
		for i := range res.Outages {
			in := incident(&res.Outages[i], site.Location)
			in.Service, in.Site, in.Kind = sv.ID, sv.Site, KindService
			r.Incidents = append(r.Incidents, in)
			s.ServiceOutages++
			s.ServiceDowntimeSeconds += res.Outages[i].InPeriodSeconds
		}
	}
	r.Summary.ServiceDowntimeMinutes = sla.Min(r.Summary.ServiceDowntimeSeconds)
	r.Summary.ServiceAvailability = sla.Pct(up, known)
	return nil
}

func pct(num, den int) *float64 {
	if den == 0 {
		return nil
	}
	v := 100 * float64(num) / float64(den)
	return &v
}

func zoneName(s *inventory.Site) string {
	switch s.Location.String() {
	case "Asia/Jakarta", "Asia/Pontianak":
		return "WIB (" + s.Location.String() + ")"
	case "Asia/Makassar":
		return "WITA (" + s.Location.String() + ")"
	case "Asia/Jayapura":
		return "WIT (" + s.Location.String() + ")"
	}
	return s.Location.String()
}

// siteResult is one site's computed part of the report.
type siteResult struct {
	site     *sla.SiteResult
	links    []*sla.LinkResult
	capacity []CapacityRow
}

// computeSites computes the sites on GOMAXPROCS workers; results are in
// the order of sites.
func computeSites(ctx context.Context, comp *sla.Computation, in Input, sites []*inventory.Site, p sla.Period, o Options) ([]siteResult, error) {
	total := 0
	for _, s := range sites {
		total += len(in.Inv.LinksOfSite(s.ID))
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	results := make([]siteResult, len(sites))
	next := make(chan int)
	var (
		mu       sync.Mutex
		firstErr error
		done     int
		wg       sync.WaitGroup
	)
	fail := func(err error) {
		mu.Lock()
		if firstErr == nil {
			firstErr = err
			cancel()
		}
		mu.Unlock()
	}
	for range max(1, runtime.GOMAXPROCS(0)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// A panic here would kill the whole process (net/http recovers
			// only the handler's own goroutine): make it an error.
			defer func() {
				if v := recover(); v != nil {
					fail(&PanicError{Value: v, Stack: debug.Stack()})
					for range next {
					}
				}
			}()
			var buf capBuf
			for i := range next {
				s := sites[i]
				sr, links, err := comp.SiteWithLinks(ctx, s)
				if err != nil {
					fail(err)
					continue
				}
				res := siteResult{site: sr, links: links}
				if in.Capacity != nil || in.Rollups != nil {
					for _, l := range in.Inv.LinksOfSite(s.ID) {
						if l.SNMP.Device == "" && l.SNMP.Interface == "" {
							continue
						}
						rows, err := capacityRows(ctx, in, l, s, p.In(s.Location), o.Now, max(o.ForecastHorizon, 0), &buf, o.Monthly)
						if err != nil {
							fail(err)
							break
						}
						res.capacity = append(res.capacity, rows...)
					}
				}
				// per-minute states are only needed for the daily figures
				results[i] = res
				mu.Lock()
				done += len(links)
				if o.Progress != nil {
					o.Progress(done, total)
				}
				mu.Unlock()
			}
		}()
	}
	for i := range sites {
		if ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	return results, ctx.Err()
}

// capBuf is a worker's reusable sample buffers.
type capBuf struct {
	rx, tx []capacity.Sample
	// rollups decoded for the previous link, reused for the next
	rollups []*capacity.Rollup
	// rollups computed from samples for the previous link, likewise
	computed []*capacity.Rollup
}

// RollupStore holds capacity rollups computed earlier (statedb.DB).
type RollupStore interface {
	// Rollups returns the stored rollups of link for UTC days d0..d1,
	// decoding into the rollups of reuse where it can.
	Rollups(ctx context.Context, link string, d0, d1 int64, reuse []*capacity.Rollup) (rx, tx []*capacity.Rollup, err error)
}

// dayMs is a day in milliseconds.
const dayMs = 86400000

// LinkRollups returns the rollups of both directions of link l for the UTC
// days d0..d1: the stored ones, and for days without one (today, or data
// older than the collector's rollup job) rollups computed from src's
// samples. store and src may be nil.
func LinkRollups(ctx context.Context, store RollupStore, src CapacitySource, l *inventory.Link, d0, d1 int64, buf *capBuf) (rx, tx []*capacity.Rollup, err error) {
	if buf == nil {
		buf = &capBuf{}
	}
	have := map[int64]int{}
	if store != nil {
		if rx, tx, err = store.Rollups(ctx, l.ID, d0, d1, buf.rollups); err != nil {
			return nil, nil, err
		}
		buf.rollups = append(append(buf.rollups[:0], rx...), tx...)
		for _, r := range rx {
			have[r.Day]++
		}
		for _, r := range tx {
			have[r.Day]++
		}
	}
	first, last := int64(-1), int64(-1)
	for d := d0; d <= d1; d++ {
		if have[d] < 2 {
			if first < 0 {
				first = d
			}
			last = d
		}
	}
	if first < 0 || src == nil {
		return rx, tx, nil
	}
	srx, stx, speed, err := src.Capacity(ctx, l, time.UnixMilli(first*dayMs), time.UnixMilli((last+1)*dayMs), buf.rx[:0], buf.tx[:0])
	if err != nil {
		return nil, nil, fmt.Errorf("capacity of link %s: %w", l.ID, err)
	}
	buf.rx, buf.tx = srx, stx
	keepRx, keepTx := rx[:0:0], tx[:0:0]
	for _, r := range rx {
		if have[r.Day] == 2 {
			keepRx = append(keepRx, r)
		}
	}
	for _, r := range tx {
		if have[r.Day] == 2 {
			keepTx = append(keepTx, r)
		}
	}
	rx, tx = keepRx, keepTx
	// rollups computed for the worker's previous link are reused (rows
	// and months keep none of them)
	buf.computed = buf.computed[:0:cap(buf.computed)]
	next := func() *capacity.Rollup {
		if n := len(buf.computed); n < cap(buf.computed) {
			buf.computed = buf.computed[:n+1]
			if buf.computed[n] != nil {
				return buf.computed[n]
			}
		} else {
			buf.computed = append(buf.computed, nil)
		}
		r := new(capacity.Rollup)
		buf.computed[len(buf.computed)-1] = r
		return r
	}
	for d := first; d <= last; d++ {
		if have[d] == 2 {
			continue
		}
		r := capacity.RollupDayInto(next(), daySlice(srx, d), d, 0)
		t := capacity.RollupDayInto(next(), daySlice(stx, d), d, 0)
		r.Speed, t.Speed = speed, speed
		rx, tx = append(rx, r), append(tx, t)
	}
	return rx, tx, nil
}

// daySlice returns the samples of UTC day d from time-ordered samples (or
// all of them when they are not in order: RollupDay filters).
func daySlice(s []capacity.Sample, d int64) []capacity.Sample {
	lo, hi := d*dayMs, (d+1)*dayMs
	i := sort.Search(len(s), func(i int) bool { return s[i].T >= lo })
	j := sort.Search(len(s), func(j int) bool { return s[j].T >= hi })
	if i <= j && sort.SliceIsSorted(s[i:j], func(a, b int) bool { return s[i+a].T < s[i+b].T }) {
		return s[i:j]
	}
	return s
}

// capacityRows gives a link's capacity rows, the forecast bounded by
// horizon (0: none; Options.ForecastHorizon).
func capacityRows(ctx context.Context, in Input, l *inventory.Link, s *inventory.Site, p sla.Period, now time.Time, horizon time.Duration, buf *capBuf, monthly bool) ([]CapacityRow, error) {
	d0 := p.Start.UnixMilli() / dayMs
	d1 := (p.End.UnixMilli() - 1) / dayMs
	rx, tx, err := LinkRollups(ctx, in.Rollups, in.Capacity, l, d0, d1, buf)
	if err != nil {
		return nil, err
	}
	var speed float64
	var speedDay int64 = -1
	for _, r := range append(rx[:len(rx):len(rx)], tx...) {
		if r.Speed > 0 && r.Day > speedDay {
			speed, speedDay = r.Speed, r.Day
		}
	}
	capBps, source := float64(l.Bandwidth), "contract"
	if capBps == 0 {
		capBps, source = speed, "interface"
	}
	if capBps == 0 {
		source = "unknown"
	}
	var out []CapacityRow
	for _, d := range []struct {
		dir string
		r   []*capacity.Rollup
	}{{"in", rx}, {"out", tx}} {
		st, parts := capacity.ComputeRollupsParts(d.r, capacity.Options{Start: p.Start, End: p.End, Location: s.Location, CapacityBps: capBps, Now: now, Horizon: horizon}, monthParts(p, monthly))
		row := CapacityRow{
			Link: l.ID, Site: s.ID, Direction: d.dir, CapacityBps: capBps, CapacitySource: source, Samples: st.Samples,
			MeanBps: st.MeanBps, P95Bps: st.P95Bps, PeakBps: st.PeakBps, BusyHour: st.BusyHour, VolumeBytes: st.VolumeBytes,
		}
		if st.UtilizationKnown {
			a, b, c := 100*st.MeanUtilization, 100*st.P95Utilization, 100*st.PeakUtilization
			row.MeanUtilization, row.P95Utilization, row.PeakUtilization = &a, &b, &c
		}
		if st.Samples > 0 && st.TrendBpsPerDay != 0 {
			t := st.TrendBpsPerDay
			row.TrendBpsPerDay = &t
		}
		if st.ForecastKnown {
			f := st.Forecast80.In(s.Location)
			row.Forecast80 = &f
		}
		if st.BeyondHorizon {
			row.ForecastBeyondHorizon = true
			row.ForecastHorizonDays = int(horizon / (24 * time.Hour))
		}
		switch {
		case parts != nil:
			row.Months = partMonths(p, parts, capBps)
		case monthly:
			row.Months = capacityMonths(d.r, p, s.Location, capBps)
		}
		out = append(out, row)
	}
	return out, nil
}

func coverage(ctx context.Context, r *Report, in Input, sites []*inventory.Site, p sla.Period, o Options) error {
	withData := map[string]bool{}
	for _, l := range r.Links {
		if l.Known() > 0 {
			withData[l.Link] = true
		}
	}
	counted := func(s *inventory.Site) bool { return s.Kind == inventory.KindOPD || s.Kind == inventory.KindDistrict }
	monitored := func(s *inventory.Site, data map[string]bool) bool {
		for _, l := range in.Inv.LinksOfSite(s.ID) {
			if data[l.ID] {
				return true
			}
		}
		return false
	}
	c := &r.Coverage
	c.NotMonitored = []Unmonitored{}
	for _, s := range sites {
		if !counted(s) {
			continue
		}
		mon := monitored(s, withData)
		if s.Kind == inventory.KindOPD {
			c.OPDTotal++
			if mon {
				c.OPDMonitored++
			}
		} else {
			c.DistrictTotal++
			if mon {
				c.DistrictMonitored++
			}
		}
		if !mon {
			reason := "no_data"
			if len(in.Inv.LinksOfSite(s.ID)) == 0 {
				reason = "no_link"
			}
			c.NotMonitored = append(c.NotMonitored, Unmonitored{Site: s.ID, Name: s.Name, Kind: s.Kind, OPD: s.OPD, OPDName: opdName(in.Inv, s.OPD), Reason: T(r.Lang, "reason."+reason)})
		}
	}
	r.Summary.CoverageOPD = pct(c.OPDMonitored, c.OPDTotal)
	r.Summary.CoverageDistrict = pct(c.DistrictMonitored, c.DistrictTotal)
	c.History = []CoverageMonth{}
	if in.Index == nil {
		return nil
	}
	last := p.End.AddDate(0, 0, -1)
	first := time.Date(last.Year(), last.Month()-time.Month(o.CoverageMonths-1), 1, 0, 0, 0, 0, p.Start.Location())
	for m := first; m.Before(p.End); m = m.AddDate(0, 1, 0) {
		end := m.AddDate(0, 1, 0)
		data, err := linksWithDataIn(ctx, in, m, end)
		if err != nil {
			return err
		}
		if len(c.History) == 0 && !scopeHasData(in.Inv, sites, data) {
			continue // before deployment: the history starts with the first month with data
		}
		cm := CoverageMonth{Month: m.Format("2006-01")}
		for _, s := range sites {
			if !counted(s) {
				continue
			}
			mon := monitored(s, data)
			if s.Kind == inventory.KindOPD {
				cm.OPDTotal++
				if mon {
					cm.OPDMonitored++
				}
			} else {
				cm.DistrictTotal++
				if mon {
					cm.DistrictMonitored++
				}
			}
		}
		c.History = append(c.History, cm)
	}
	return nil
}

// expiryWindow is how far ahead expiries are listed.
const expiryWindow = 90

func assetsAndExpiries(r *Report, inv *inventory.Inventory, sites []*inventory.Site, o Options) {
	inScope := map[string]*inventory.Site{}
	for _, s := range sites {
		inScope[s.ID] = s
	}
	add := func(what, id string, s *inventory.Site, detail string, end inventory.Date) {
		if end.IsZero() {
			return
		}
		today := time.Date(o.Now.In(s.Location).Year(), o.Now.In(s.Location).Month(), o.Now.In(s.Location).Day(), 0, 0, 0, 0, s.Location)
		days := int(end.In(s.Location).Sub(today).Hours() / 24)
		if days > expiryWindow {
			return
		}
		r.Expiries = append(r.Expiries, Expiry{What: what, ID: id, Site: s.ID, Detail: detail, Ends: end.String(), DaysLeft: days})
	}
	for i := range inv.Links {
		l := &inv.Links[i]
		s := inScope[l.Site]
		if s == nil || l.Contract == nil {
			continue
		}
		add("isp_contract", l.ID, s, fmt.Sprintf("%s %s", l.ISP, l.Circuit), l.Contract.End)
	}
	for i := range inv.Devices {
		d := &inv.Devices[i]
		s := inScope[d.Site]
		if s == nil {
			continue
		}
		r.Assets = append(r.Assets, Asset{
			Device: d.ID, Site: d.Site, OPD: s.OPD, OPDName: opdName(inv, s.OPD), Vendor: d.Vendor, Model: d.Model, Serial: d.Serial,
			YearAcquired: d.YearAcquired, AssetCode: d.AssetCode, WarrantyEnd: d.WarrantyEnd.String(), ContractEnd: d.ContractEnd.String(),
		})
		add("warranty", d.ID, s, fmt.Sprintf("%s %s %s", d.Vendor, d.Model, d.Serial), d.WarrantyEnd)
		add("support_contract", d.ID, s, fmt.Sprintf("%s %s %s", d.Vendor, d.Model, d.Serial), d.ContractEnd)
	}
	slices.SortStableFunc(r.Expiries, func(a, b Expiry) int { return a.DaysLeft - b.DaysLeft })
}
