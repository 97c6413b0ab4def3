// Package report builds the SPBE infrastructure report from the SLA
// engine, the capacity figures and the review records, and renders it as
// JSON, CSV, XLSX and printable HTML, in Bahasa Indonesia or English.
package report

import (
	"time"

	"github.com/pantau-noc/pantau/collector/internal/sla"
	"github.com/pantau-noc/pantau/collector/internal/statedb"
)

// Report is one report. Every figure carries, directly or through the
// header, its period, time zone, data completeness and method.
type Report struct {
	Lang        string    `json:"lang"`
	Title       string    `json:"title"`
	Scope       Scope     `json:"scope"`
	Period      string    `json:"period"`
	Start       time.Time `json:"start"`
	End         time.Time `json:"end"`
	TimeZone    string    `json:"time_zone"`
	GeneratedAt time.Time `json:"generated_at"`
	Generator   string    `json:"generator"`
	Methods     []Note    `json:"methods"`

	Summary   Summary            `json:"summary"`
	Coverage  Coverage           `json:"coverage"`
	Sites     []SiteRow          `json:"sites"`
	Links     []LinkRow          `json:"links"`
	Services  []ServiceRow       `json:"services"`
	Incidents []Incident         `json:"incidents"`
	Contracts []ContractRow      `json:"contracts"`
	Capacity  []CapacityRow      `json:"capacity"`
	Reviews   []statedb.Review   `json:"reviews"`
	FollowUps []statedb.FollowUp `json:"follow_ups"`
	Assets    []Asset            `json:"assets"`
	Expiries  []Expiry           `json:"expiries"`
	Evidence  []Evidence         `json:"evidence"`
	// Changes is the change record: the period's changes from the audit
	// log, in whole-Pemda reports for unscoped readers; ChangesNote says
	// why a report has none.
	Changes     []Change `json:"changes"`
	ChangesNote string   `json:"changes_note,omitempty"`
	// HolidayWarning says which years service hours needed a holiday
	// calendar for and had none (hours.go).
	HolidayWarning string `json:"holiday_warning,omitempty"`
	// IncidentPareto and IncidentMTTR are the incidents by category
	// (incidents.go); UnmatchedIncidentRecords are the period's records
	// attached to an outage the report does not have (a wrong start).
	IncidentPareto           []CategoryRow      `json:"incident_pareto"`
	IncidentMTTR             []CategoryRow      `json:"incident_mttr"`
	UnmatchedIncidentRecords []statedb.Incident `json:"unmatched_incident_records"`
	// Approval is the approval sheet (lembar pengesahan), set by Approve
	// after Build; every product shows it first.
	Approval *Approval `json:"approval,omitempty"`
}

// Scope is what the report covers.
type Scope struct {
	Kind string `json:"kind"` // pemda | opd | opds | site
	// ID is the OPD or site; for opds, the OPDs separated by commas.
	ID   string `json:"id,omitempty"`
	Name string `json:"name"`
}

// Note is a method statement: one figure's definition.
type Note struct {
	Figure string `json:"figure"`
	Method string `json:"method"`
}

// Summary is the first page: what the SPBE team attaches as evidence.
type Summary struct {
	Sites            int      `json:"sites"`
	Links            int      `json:"links"`
	LinksWithData    int      `json:"links_with_data"`
	LinksMeetingSLA  int      `json:"links_meeting_sla"`
	LinksMissingSLA  int      `json:"links_missing_sla"`
	Availability     *float64 `json:"availability_pct"` // over all links' known time
	Completeness     *float64 `json:"completeness_pct"`
	WorstCase        *float64 `json:"worst_case_pct"`
	SiteAvailability *float64 `json:"site_availability_pct"`
	// Services checked by probe plugins (http, dns, tcp, ...).
	Services               int      `json:"services"`
	ServicesWithData       int      `json:"services_with_data"`
	ServicesMeetingSLA     int      `json:"services_meeting_sla"`
	ServicesMissingSLA     int      `json:"services_missing_sla"`
	ServiceAvailability    *float64 `json:"service_availability_pct"` // over all services' known time
	ServiceOutages         int      `json:"service_outages"`
	ServiceDowntimeMinutes float64  `json:"service_downtime_minutes"`
	ServiceDowntimeSeconds int64    `json:"service_downtime_seconds"`
	Outages                int      `json:"outages"`
	// Downtime is the outages' down time in the period, outside
	// maintenance; the minutes are the seconds divided by 60.
	DowntimeMinutes        float64            `json:"downtime_minutes"`
	DowntimeSeconds        int64              `json:"downtime_seconds"`
	DowntimeByCause        map[string]float64 `json:"downtime_by_cause_minutes"`
	DowntimeByCauseSeconds map[string]int64   `json:"downtime_by_cause_seconds"`
	// Restitution is what can be claimed: the contract months that have
	// ended and whose last day is in the period (each month is claimed
	// once, in the report that contains its end).
	Restitution int64 `json:"restitution"`
	// RestitutionProvisional is that of the months in the report still
	// running: it may grow until the month ends.
	RestitutionProvisional int64    `json:"restitution_provisional"`
	CoverageOPD            *float64 `json:"coverage_opd_pct"`
	CoverageDistrict       *float64 `json:"coverage_district_pct"`
	OpenFollowUps          int      `json:"open_follow_ups"`
	ClosedFollowUps        int      `json:"closed_follow_ups"`
	ExpiringWithin90d      int      `json:"expiring_within_90_days"`
	// Service-hours availability over the links, sites and services
	// that have service hours (hours.go).
	ServiceHoursAvailability        *float64 `json:"service_hours_availability_pct"`
	SiteServiceHoursAvailability    *float64 `json:"site_service_hours_availability_pct"`
	ServiceServiceHoursAvailability *float64 `json:"service_service_hours_availability_pct"`
	// SiteDowntime is the sites' down time in the period, outside
	// maintenance, summed over the sites: a site with redundant links is
	// down only while all of them are. Downtime above sums the links'
	// down time (link-minutes), so two links of one site down together
	// count twice there and once here.
	SiteDowntimeMinutes float64 `json:"site_downtime_minutes"`
	SiteDowntimeSeconds int64   `json:"site_downtime_seconds"`
}

// Coverage is the cakupan: which OPD and district sites are connected (a
// link in the inventory) and monitored (a link with data in the period).
type Coverage struct {
	OPDTotal          int             `json:"opd_total"`
	OPDMonitored      int             `json:"opd_monitored"`
	DistrictTotal     int             `json:"district_total"`
	DistrictMonitored int             `json:"district_monitored"`
	NotMonitored      []Unmonitored   `json:"not_monitored"`
	History           []CoverageMonth `json:"history"`
	// MonitoredSpans are the declared monitored spans of imported history
	// (sla mark-monitored) that touch the scope; History starts with the
	// first month in which a link of the scope has data.
	MonitoredSpans []sla.Span `json:"monitored_spans"`
}

// Unmonitored is a site left out, and why.
type Unmonitored struct {
	Site   string `json:"site"`
	Name   string `json:"name"`
	Kind   string `json:"kind"`
	OPD    string `json:"opd"`
	Reason string `json:"reason"` // no_link | no_data
	// OPDName is the OPD's name (inventory opds:, else its office's
	// name, else the id); tables show it for the OPD.
	OPDName string `json:"opd_name,omitempty"`
}

// CoverageMonth is coverage in one month.
type CoverageMonth struct {
	Month             string `json:"month"`
	OPDTotal          int    `json:"opd_total"`
	OPDMonitored      int    `json:"opd_monitored"`
	DistrictTotal     int    `json:"district_total"`
	DistrictMonitored int    `json:"district_monitored"`
}

// SiteRow is one site's availability (out only when all its links are).
type SiteRow struct {
	Site     string `json:"site"`
	Name     string `json:"name"`
	Kind     string `json:"kind"`
	OPD      string `json:"opd"`
	District string `json:"district,omitempty"`
	TimeZone string `json:"time_zone"`
	Links    int    `json:"links"`
	sla.Figures
	Target  float64 `json:"sla_target_pct"`
	Met     *bool   `json:"sla_met"`
	Outages int     `json:"outages"`
	sla.Downtime
	// Daily availability, percent per local day (nil: no data), for charts.
	Daily []*float64 `json:"daily_availability_pct"`
	// OnBatteryMinutes: minutes of the period a UPS of the site was on
	// battery (snmp_ups on_battery=1).
	OnBatteryMinutes int64 `json:"on_battery_minutes"`
	// OPDName is the OPD's name (inventory opds:, else its office's
	// name, else the id); tables show it for the OPD.
	OPDName string `json:"opd_name,omitempty"`
}

// LinkRow is one link's availability.
type LinkRow struct {
	Link     string `json:"link"`
	Name     string `json:"name"`
	Site     string `json:"site"`
	OPD      string `json:"opd"`
	Type     string `json:"type"`
	ISP      string `json:"isp"`
	Circuit  string `json:"circuit"`
	TimeZone string `json:"time_zone"`
	sla.Figures
	Target  float64 `json:"sla_target_pct"`
	Met     *bool   `json:"sla_met"`
	Outages int     `json:"outages"`
	sla.Downtime
	Daily []*float64 `json:"daily_availability_pct"`
	// OPDName is the OPD's name (inventory opds:, else its office's
	// name, else the id); tables show it for the OPD.
	OPDName string `json:"opd_name,omitempty"`
	// Months are the link's figures per calendar month of the period
	// (Options.Monthly: the review-pack and annual products).
	Months []LinkMonth `json:"months,omitempty"`
}

// ServiceRow is one service's availability.
type ServiceRow struct {
	Service  string `json:"service"`
	Name     string `json:"name"`
	Category string `json:"category,omitempty"`
	URL      string `json:"url,omitempty"`
	Site     string `json:"site"`
	OPD      string `json:"opd"`
	// Check is the plugin check that decides the service's state:
	// measurement and target, such as "http portal".
	Check    string `json:"check"`
	TimeZone string `json:"time_zone"`
	sla.Figures
	Target       float64    `json:"sla_target_pct"`
	Met          *bool      `json:"sla_met"`
	Outages      int        `json:"outages"`
	sla.Downtime            // causes: service | network | unknown
	Daily        []*float64 `json:"daily_availability_pct"`
	// OPDName is the OPD's name (inventory opds:, else its office's
	// name, else the id); tables show it for the OPD.
	OPDName string `json:"opd_name,omitempty"`
}

// incident is an outage as an incident row.
func incident(o *sla.Outage, loc *time.Location) Incident {
	return Incident{
		Start: o.Start.In(loc), End: o.End.In(loc),
		DurationMinutes: o.DurationMinutes, DownMinutes: o.DownMinutes, MaintenanceMinutes: o.MaintenanceMinutes, InPeriodMinutes: o.InPeriodMinutes,
		DurationSeconds: o.DurationSeconds, DownSeconds: o.DownSeconds, MaintenanceSeconds: o.MaintenanceSeconds, InPeriodSeconds: o.InPeriodSeconds,
		Cause: o.Cause, Detected: true,
	}
}

// Incident is one outage of one link or one service.
type Incident struct {
	Link               string    `json:"link,omitempty"`
	Service            string    `json:"service,omitempty"`
	Site               string    `json:"site"`
	Start              time.Time `json:"start"`
	End                time.Time `json:"end"`
	DurationMinutes    float64   `json:"duration_minutes"`
	DownMinutes        float64   `json:"down_minutes"`
	MaintenanceMinutes float64   `json:"maintenance_minutes"`
	InPeriodMinutes    float64   `json:"in_period_minutes"`
	DurationSeconds    int64     `json:"duration_seconds"`
	DownSeconds        int64     `json:"down_seconds"`
	MaintenanceSeconds int64     `json:"maintenance_seconds"`
	InPeriodSeconds    int64     `json:"in_period_seconds"`
	Cause              string    `json:"cause"`
	// ContractCounted says whether the ISP contract counts it.
	ContractCounted bool `json:"contract_counted"`
	// Kind is what was out: link, site (all its links at once) or
	// service (incidents.go).
	Kind string `json:"kind"`
	// Detected: computed from minute states; false for an outage only an
	// operator's record describes.
	Detected bool `json:"detected"`
	// PartOfSite marks a link outage that overlaps an outage of its site
	// (all its links down): the site's outage stands for it in the
	// Pareto and MTTR.
	PartOfSite bool `json:"part_of_site_outage"`
	// Record is the operator's incident record (nil: none).
	Record *statedb.Incident `json:"record"`
}

// ContractRow is one link's ISP contract in one month.
type ContractRow struct {
	Link    string `json:"link"`
	ISP     string `json:"isp"`
	Circuit string `json:"circuit"`
	sla.ContractMonth
}

// CapacityRow is one link direction's capacity.
type CapacityRow struct {
	Link            string     `json:"link"`
	Site            string     `json:"site"`
	Direction       string     `json:"direction"` // in | out
	CapacityBps     float64    `json:"capacity_bps"`
	CapacitySource  string     `json:"capacity_source"` // contract | interface | unknown
	Samples         int        `json:"samples"`
	MeanBps         float64    `json:"mean_bps"`
	P95Bps          float64    `json:"p95_bps"`
	PeakBps         float64    `json:"peak_bps"`
	BusyHour        int        `json:"busy_hour"`
	VolumeBytes     float64    `json:"volume_bytes"`
	MeanUtilization *float64   `json:"mean_utilization_pct"`
	P95Utilization  *float64   `json:"p95_utilization_pct"`
	PeakUtilization *float64   `json:"peak_utilization_pct"`
	TrendBpsPerDay  *float64   `json:"trend_bps_per_day"`
	Forecast80      *time.Time `json:"forecast_80pct"`
	// ForecastBeyondHorizon: the trend does not reach 80 % within the
	// forecast horizon of the report date (later, or never); Forecast80
	// is then null. ForecastHorizonDays is that horizon.
	ForecastBeyondHorizon bool `json:"forecast_beyond_horizon"`
	ForecastHorizonDays   int  `json:"forecast_horizon_days,omitempty"`
	// Months are the p95 per calendar month of the period
	// (Options.Monthly).
	Months []CapacityMonth `json:"months,omitempty"`
}

// Asset is one device of the TIK asset register.
type Asset struct {
	Device       string `json:"device"`
	Site         string `json:"site"`
	OPD          string `json:"opd"`
	Vendor       string `json:"vendor"`
	Model        string `json:"model"`
	Serial       string `json:"serial"`
	YearAcquired int    `json:"year_acquired,omitempty"`
	AssetCode    string `json:"asset_code"`
	WarrantyEnd  string `json:"warranty_end,omitempty"`
	ContractEnd  string `json:"contract_end,omitempty"`
	// OPDName is the OPD's name (inventory opds:, else its office's
	// name, else the id); tables show it for the OPD.
	OPDName string `json:"opd_name,omitempty"`
}

// Expiry is a contract or warranty ending within 90 days of the report
// date (or already ended).
type Expiry struct {
	What     string `json:"what"` // isp_contract | warranty | support_contract
	ID       string `json:"id"`
	Site     string `json:"site"`
	Detail   string `json:"detail"`
	Ends     string `json:"ends"` // last day
	DaysLeft int    `json:"days_left"`
}

// Evidence maps a report section to the SPBE indicators it can serve as
// evidence for.
type Evidence struct {
	Section    string      `json:"section"`
	Title      string      `json:"title"`
	Indicators []Indicator `json:"indicators"`
	Note       string      `json:"note"`
}

// Indicator is one SPBE indicator by its number and official name.
type Indicator struct {
	Number int    `json:"number"`
	Name   string `json:"name"`
	Aspect string `json:"aspect"`
}
