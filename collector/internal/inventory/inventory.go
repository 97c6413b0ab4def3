// Package inventory is the site, link, device and service inventory of a
// Pemda network (inventory.yml): the OPD, district, campus and datacenter
// sites, the links that connect them with their contracted SLA, the
// devices, the public services probe plugins check, and how the agents'
// ICMP, SNMP and plugin series map to links and services. The collector's SLA
// engine reads it.
//
// The file is decoded strictly (an unknown key or a wrong type is an
// error) and every problem is reported as file:line:col: path: message.
// ImportCSV builds the same inventory from a spreadsheet, one row per link.
package inventory

import (
	_ "embed"
	"fmt"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/pantau-noc/pantau/internal/yamlconf"
)

// ExampleYAML is the commented reference inventory.
//
//go:embed example.yml
var ExampleYAML []byte

// Link types.
const (
	TypeFibre = "fibre"
	TypeRadio = "radio"
	TypeVSAT  = "vsat"
	TypeLEO   = "leo"
)

// Site kinds.
const (
	KindOPD        = "opd"
	KindDistrict   = "district"
	KindCampus     = "campus"
	KindDatacenter = "datacenter"
)

// Contract exclusions: outage causes that do not count against a contract.
const (
	ExcludePower       = "power"
	ExcludeMaintenance = "maintenance"
	ExcludeParent      = "parent"
)

// Restitution formulas.
const (
	RestitutionNone         = "none"
	RestitutionProportional = "proportional"
	RestitutionExcess       = "excess"
)

var (
	linkTypes     = []string{TypeFibre, TypeRadio, TypeVSAT, TypeLEO}
	siteKinds     = []string{KindOPD, KindDistrict, KindCampus, KindDatacenter}
	exclusions    = []string{ExcludePower, ExcludeMaintenance, ExcludeParent}
	restitutions  = []string{RestitutionNone, RestitutionProportional, RestitutionExcess}
	timeZoneNames = []string{"WIB", "WITA", "WIT", "Asia/Jakarta", "Asia/Pontianak", "Asia/Makassar", "Asia/Jayapura"}
)

// defaultTimeZone is the time zone of a site that names none.
const defaultTimeZone = "WIB"

// builtinTypeDefaults are the thresholds and SLA targets of each link type
// when defaults.link_types does not give them.
var builtinTypeDefaults = map[string]TypeDefaults{
	TypeFibre: {LossRatio: 0.02, RTT: yamlconf.Duration(100 * time.Millisecond), SLATarget: 99.5},
	// A point-to-point radio link below about −75 dBm is near the edge of
	// its fade margin: it still passes traffic but drops under rain.
	TypeRadio: {LossRatio: 0.05, RTT: yamlconf.Duration(150 * time.Millisecond), SLATarget: 99.0, SignalDBm: -75},
	// A geostationary hop alone is about 600 ms round trip.
	TypeVSAT: {LossRatio: 0.05, RTT: yamlconf.Duration(1500 * time.Millisecond), SLATarget: 98.0},
	TypeLEO:  {LossRatio: 0.05, RTT: yamlconf.Duration(250 * time.Millisecond), SLATarget: 99.0},
}

// defaultExclude is a contract's exclusions when it lists none.
func defaultExclude() []string { return []string{ExcludePower, ExcludeMaintenance} }

// hint is appended to "unknown field" errors.
const hint = "; the reference inventory example.yml lists every key"

var idRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*$`)

// Inventory is inventory.yml.
type Inventory struct {
	Defaults Defaults `yaml:"defaults"`
	Sites    []Site   `yaml:"sites"`
	Links    []Link   `yaml:"links"`
	Devices  []Device `yaml:"devices"`
	// Services are the public e-government services (web portal,
	// e-office, perizinan) whose availability a probe plugin checks.
	Services []Service `yaml:"services"`

	// File is the path the inventory was loaded from.
	File string `yaml:"-"`

	idx *index // built by Parse and ImportCSV

	// OPDs name the OPDs the sites and services refer to (opds.go).
	OPDs []OPD `yaml:"opds"`
}

// Defaults apply to every link (and service) unless it says otherwise.
type Defaults struct {
	// LinkTypes holds the thresholds and SLA target per link type. Parse
	// fills in the built-in values for any type, or any key of a type,
	// not given:
	//
	//	fibre: loss_ratio 0.02, rtt 100ms,  sla_target 99.5
	//	radio: loss_ratio 0.05, rtt 150ms,  sla_target 99.0
	//	vsat:  loss_ratio 0.05, rtt 1500ms, sla_target 98.0 (geostationary latency ~600 ms is normal)
	//	leo:   loss_ratio 0.05, rtt 250ms,  sla_target 99.0
	LinkTypes map[string]TypeDefaults `yaml:"link_types"`
	// FlapMergeGap merges outages separated by less than this; 0 (the
	// default) merges nothing.
	FlapMergeGap yamlconf.Duration `yaml:"flap_merge_gap"`
	// TimeZone is the Pemda's own time zone (WIB, WITA, WIT or one of the
	// IANA names a site accepts): the zone of a site that names none, and
	// the zone in which dates given on the command line are read. Empty:
	// the zone all sites share, else WIB.
	TimeZone string `yaml:"timezone"`
	// Services are the defaults of every service; Parse fills in the
	// built-in values (sla_target 99.0, response_time 5s) for keys not
	// given.
	Services ServiceDefaults `yaml:"services"`
	// ServiceHours are the service hours of every site (and so link and
	// service) that sets none; nil: around the clock only (hours.go).
	ServiceHours *ServiceHours `yaml:"service_hours"`
	// Schedules are named service hours, which a service_hours names
	// with {schedule: name}.
	Schedules map[string]ServiceHours `yaml:"schedules"`
}

// ServiceDefaults apply to every service unless it says otherwise.
type ServiceDefaults struct {
	SLATarget    float64           `yaml:"sla_target"`    // percent
	ResponseTime yamlconf.Duration `yaml:"response_time"` // a check slower than this is degraded
}

// builtinServiceDefaults are the service defaults when
// defaults.services does not give them.
var builtinServiceDefaults = ServiceDefaults{SLATarget: 99.0, ResponseTime: yamlconf.Duration(5 * time.Second)}

// ResponseFields is the field that holds the response time, in seconds,
// of the bundled probe plugins' measurements. A service probed by another
// plugin names its field in thresholds.field.
var ResponseFields = map[string]string{"http": "total_seconds", "dns": "resolve_seconds", "tcp": "connect_seconds"}

// ReservedMeasurements are the agent's own measurements, which cannot
// decide a service's state.
var ReservedMeasurements = []string{"icmp", "snmp_if", "snmp_device", "snmp_radio", "snmp_env", "snmp_ups", "agent", "plugin"}

// TelegrafMeasurements are Telegraf's service checks and the bundled
// probe measurements the collector reads them as (ingest's translation,
// docs/telegraf.md): a service names the latter.
var TelegrafMeasurements = map[string]string{"http_response": "http", "net_response": "tcp", "dns_query": "dns"}

// telegrafTargets says what the target of a translated check is.
var telegrafTargets = map[string]string{"http_response": "<the URL>", "net_response": "<host:port>", "dns_query": "<the DNS server>"}

// TypeDefaults are the defaults of one link type.
type TypeDefaults struct {
	LossRatio float64           `yaml:"loss_ratio"`
	RTT       yamlconf.Duration `yaml:"rtt"`
	SLATarget float64           `yaml:"sla_target"` // percent
	// SignalDBm is the radio signal below which a link of the type is
	// degraded; 0 (fibre, vsat, leo, or a radio default set to 0) checks
	// no signal.
	SignalDBm float64 `yaml:"signal_dbm"`
}

// Site is a place with network equipment: an OPD office, a district
// (kecamatan) office, a campus or a datacenter.
type Site struct {
	ID       string   `yaml:"id"`       // required, unique, [a-z0-9][a-z0-9._-]*
	Name     string   `yaml:"name"`     // required
	Kind     string   `yaml:"kind"`     // required: opd|district|campus|datacenter
	OPD      string   `yaml:"opd"`      // the OPD (agency) the site belongs to; defaults to ID when Kind is opd
	District string   `yaml:"district"` // optional
	Parent   string   `yaml:"parent"`   // optional; another site's id; no cycles
	Lat      *float64 `yaml:"lat"`      // optional, -90..90
	Lon      *float64 `yaml:"lon"`      // optional, -180..180
	// TimeZone is WIB, WITA, WIT or one of the IANA names Asia/Jakarta,
	// Asia/Pontianak, Asia/Makassar, Asia/Jayapura; default WIB.
	TimeZone  string  `yaml:"timezone"`
	SLATarget float64 `yaml:"sla_target"` // percent (0 < x <= 100); 0 = not set
	// Location is the resolved TimeZone (WIB: Asia/Jakarta, WITA:
	// Asia/Makassar, WIT: Asia/Jayapura).
	Location *time.Location `yaml:"-"`
	// ServiceHours default to the OPD's, else defaults.service_hours;
	// Hours is the resolved schedule (nil: none).
	ServiceHours *ServiceHours `yaml:"service_hours"`
	Hours        *Schedule     `yaml:"-"`
}

// Link is one uplink of a site.
type Link struct {
	ID         string     `yaml:"id"`   // required, unique, [a-z0-9][a-z0-9._-]*
	Site       string     `yaml:"site"` // required, an existing site id
	Name       string     `yaml:"name"`
	Type       string     `yaml:"type"` // fibre|radio|vsat|leo; default fibre
	ISP        string     `yaml:"isp"`
	Circuit    string     `yaml:"circuit"`
	Bandwidth  Bandwidth  `yaml:"bandwidth"` // contracted bandwidth (CIR)
	ICMP       ICMPMatch  `yaml:"icmp"`
	SNMP       SNMPMatch  `yaml:"snmp"`
	Thresholds Thresholds `yaml:"thresholds"` // degraded thresholds; Parse fills unset ones from Defaults.LinkTypes[Type]
	// SLATarget is a percent; Parse fills it from, in order, the link, its
	// contract's target, its site's target and its type's default.
	SLATarget float64   `yaml:"sla_target"`
	Contract  *Contract `yaml:"contract"` // optional
	// ServiceHours default to the site's; Hours is the resolved
	// schedule (nil: none).
	ServiceHours *ServiceHours `yaml:"service_hours"`
	Hours        *Schedule     `yaml:"-"`
}

// ICMPMatch selects the ICMP series that decide whether a link is up.
type ICMPMatch struct {
	Target string `yaml:"target"` // the ICMP target address (tag `target`)
	Agent  string `yaml:"agent"`  // optional: only this agent's probes of Target count
}

// SNMPMatch selects the SNMP interface series of a link.
type SNMPMatch struct {
	Device    string `yaml:"device"`    // the `device` tag value
	Interface string `yaml:"interface"` // the `ifname` tag value
}

// Thresholds make an up link degraded.
type Thresholds struct {
	LossRatio *float64           `yaml:"loss_ratio"` // 0..1; a probe with loss above this is degraded
	RTT       *yamlconf.Duration `yaml:"rtt"`        // a probe with mean RTT above this is degraded
	// SignalDBm: a minute whose radio signal (snmp_radio signal_dbm of
	// the link's snmp device and interface) is below this is degraded;
	// nil or 0 when neither the link nor its type's defaults give one (0
	// given on a link turns its type's check off).
	SignalDBm *float64 `yaml:"signal_dbm"`
}

// Contract is the ISP's commitment for a link.
type Contract struct {
	Target      float64           `yaml:"target"`      // monthly availability commitment, percent (required)
	MinOutage   yamlconf.Duration `yaml:"min_outage"`  // outages shorter than this are not counted; default 0
	Exclude     []string          `yaml:"exclude"`     // subset of power|maintenance|parent; default [power, maintenance]
	MonthlyFee  int64             `yaml:"monthly_fee"` // rupiah, >= 0
	Restitution string            `yaml:"restitution"` // none|proportional|excess; default proportional
	Start       Date              `yaml:"start"`       // optional
	End         Date              `yaml:"end"`         // optional; contract expiry
	// Basis is what the target is stated over: 24x7 (default, every
	// minute of the month) or service_hours (the link's service hours);
	// empty is 24x7.
	Basis string `yaml:"basis"`
}

// Device is a piece of network equipment (an asset of the Pemda).
type Device struct {
	ID           string `yaml:"id"`   // required, unique: the `device` tag value the agent uses
	Site         string `yaml:"site"` // required, an existing site id
	Vendor       string `yaml:"vendor"`
	Model        string `yaml:"model"`
	Serial       string `yaml:"serial"`
	YearAcquired int    `yaml:"year_acquired"` // 0 or 1980..2100
	AssetCode    string `yaml:"asset_code"`    // the Pemda's kode BMD
	WarrantyEnd  Date   `yaml:"warranty_end"`
	ContractEnd  Date   `yaml:"contract_end"` // support/maintenance contract
	// Address is the device's management IP address or host name: with
	// it, the agents of the device's site poll it over SNMP (fleet
	// management derives their config); empty: not polled from here.
	Address string     `yaml:"address"`
	SNMP    DeviceSNMP `yaml:"snmp"`
}

// DeviceSNMP says how agents poll a device with an address.
type DeviceSNMP struct {
	// Profile names the credential profile (pantau-collector credentials
	// set): the site's own, else the Pemda-wide one (site *); empty is
	// "default".
	Profile string `yaml:"profile"`
	// Interfaces are the ifName values to poll; empty: every interface.
	Interfaces []string `yaml:"interfaces"`
}

// DefaultSNMPProfile is a device's credential profile when it names none.
const DefaultSNMPProfile = "default"

// Service is a public e-government service, such as the Pemda's web
// portal, e-office or perizinan, whose availability a probe plugin
// (http, dns, tcp or another) checks. Its minutes feed the same SLA
// engine as links.
type Service struct {
	ID   string `yaml:"id"`   // required, unique among services, [a-z0-9][a-z0-9._-]*
	Name string `yaml:"name"` // required
	// Site is where the service is hosted (required, an existing site
	// id): its time zone is the report's calendar, its maintenance
	// windows cover the service, and the site's own outages tell a
	// network outage from a service failure.
	Site       string            `yaml:"site"`
	OPD        string            `yaml:"opd"`      // the OPD that owns the service; default the site's OPD
	Category   string            `yaml:"category"` // optional, free text: portal, e-office, perizinan, email, ...
	URL        string            `yaml:"url"`      // optional, shown in reports
	Probe      ServiceProbe      `yaml:"probe"`
	Thresholds ServiceThresholds `yaml:"thresholds"`
	// SLATarget is a percent; Parse fills it from defaults.services.
	SLATarget float64 `yaml:"sla_target"`
	// ServiceHours default to the hosting site's; Hours is the resolved
	// schedule (nil: none).
	ServiceHours *ServiceHours `yaml:"service_hours"`
	Hours        *Schedule     `yaml:"-"`
}

// ServiceProbe selects the plugin series that decide whether a service
// is up: its `up` field gives up or down.
type ServiceProbe struct {
	Measurement string `yaml:"measurement"` // required: the plugin's measurement, such as http, dns or tcp
	Target      string `yaml:"target"`      // required: the plugin target's name (tag `target`)
	Agent       string `yaml:"agent"`       // optional: only this agent's checks count
	// Config is the plugin target's own config (the plugin's README
	// lists its keys), which fleet management sends to the agents that
	// check the service. For http, url defaults to the service's url.
	Config map[string]any `yaml:"config"`
}

// ServiceThresholds make an up service degraded.
type ServiceThresholds struct {
	// ResponseTime: a check slower than this is degraded. Parse fills it
	// from defaults.services when Field is known.
	ResponseTime *yamlconf.Duration `yaml:"response_time"`
	// Field holds the response time in seconds; Parse fills it from
	// ResponseFields for the bundled plugins' measurements.
	Field string `yaml:"field"`
}

// Load reads the file at path, then Parse.
func Load(path string) (*Inventory, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read inventory %s: %w", path, err)
	}
	return Parse(path, data)
}

// Parse decodes and validates an inventory strictly (unknown keys and
// wrong types are errors). name is the file name used in error messages.
// All problems are returned joined (errors.Join), each as
// "name:line:col: path: message".
func Parse(name string, data []byte) (*Inventory, error) {
	inv := &Inventory{}
	doc, err := yamlconf.Decode(name, data, inv, hint)
	if err != nil {
		return nil, err
	}
	inv.File = name
	probs := yamlconf.NewProblems(doc)
	inv.prepare(yamlReporter{probs, doc}, doc.Has)
	if err := probs.Err(); err != nil {
		return nil, err
	}
	return inv, nil
}

// reporter records validation problems by YAML path (such as
// "links[1].site"), wherever the values came from.
type reporter interface {
	// AddNear records a problem with the value at path, located at path
	// or else at its nearest ancestor.
	AddNear(path, format string, args ...any)
	// line is the line of path or its nearest ancestor; 0 if unknown.
	line(path string) int
}

type yamlReporter struct {
	*yamlconf.Problems
	doc *yamlconf.Doc
}

func (r yamlReporter) line(path string) int {
	for at := path; at != ""; at = parentPath(at) {
		if l, _ := r.doc.Locate(at); l > 0 {
			return l
		}
	}
	return 0
}

// parentPath strips the last ".key" or "[i]" of a path.
func parentPath(path string) string {
	i := strings.LastIndexAny(path, ".[")
	if i < 0 {
		return ""
	}
	return path[:i]
}

// prepare fills in the defaults, validates, and when valid resolves the
// derived values and builds the indexes. has reports whether a path was
// given in the file; nil means every non-zero value counts as given.
func (inv *Inventory) prepare(rep reporter, has func(string) bool) {
	inv.fillBasic(has)
	v := &validator{rep: rep}
	v.inventory(inv)
	if v.n > 0 {
		return
	}
	inv.fillDerived()
	inv.idx = buildIndex(inv)
}

// fillBasic fills the defaults that do not depend on other values being
// valid. It is idempotent.
func (inv *Inventory) fillBasic(has func(string) bool) {
	if len(inv.Sites) == 0 {
		inv.Sites = nil
	}
	if len(inv.Links) == 0 {
		inv.Links = nil
	}
	if len(inv.Devices) == 0 {
		inv.Devices = nil
	}
	if len(inv.Services) == 0 {
		inv.Services = nil
	}
	if len(inv.OPDs) == 0 {
		inv.OPDs = nil
	}
	sd := &inv.Defaults.Services
	if !givenAt(has, "defaults.services.sla_target", sd.SLATarget != 0) {
		sd.SLATarget = builtinServiceDefaults.SLATarget
	}
	if !givenAt(has, "defaults.services.response_time", sd.ResponseTime != 0) {
		sd.ResponseTime = builtinServiceDefaults.ResponseTime
	}
	for i := range inv.Services {
		sv := &inv.Services[i]
		if sv.Thresholds.Field == "" {
			sv.Thresholds.Field = ResponseFields[sv.Probe.Measurement]
		}
	}
	if inv.Defaults.LinkTypes == nil {
		inv.Defaults.LinkTypes = make(map[string]TypeDefaults, len(linkTypes))
	}
	for _, t := range linkTypes {
		b := builtinTypeDefaults[t]
		d, ok := inv.Defaults.LinkTypes[t]
		if !ok {
			inv.Defaults.LinkTypes[t] = b
			continue
		}
		at := "defaults.link_types." + t + "."
		given := func(key string, nonZero bool) bool { return givenAt(has, at+key, nonZero) }
		if !given("loss_ratio", d.LossRatio != 0) {
			d.LossRatio = b.LossRatio
		}
		if !given("rtt", d.RTT != 0) {
			d.RTT = b.RTT
		}
		if !given("sla_target", d.SLATarget != 0) {
			d.SLATarget = b.SLATarget
		}
		if !given("signal_dbm", d.SignalDBm != 0) {
			d.SignalDBm = b.SignalDBm
		}
		inv.Defaults.LinkTypes[t] = d
	}
	for i := range inv.Sites {
		s := &inv.Sites[i]
		if s.TimeZone == "" && location(inv.Defaults.TimeZone) != nil {
			s.TimeZone = inv.Defaults.TimeZone
		}
		if s.TimeZone == "" {
			s.TimeZone = defaultTimeZone
		}
		if s.OPD == "" && s.Kind == KindOPD {
			s.OPD = s.ID
		}
	}
	for i := range inv.Links {
		l := &inv.Links[i]
		if l.Type == "" {
			l.Type = TypeFibre
		}
		if c := l.Contract; c != nil {
			if c.Exclude == nil {
				c.Exclude = defaultExclude()
			}
			if c.Restitution == "" {
				c.Restitution = RestitutionProportional
			}
		}
	}
}

// givenAt tells whether the value at path was given: by has when known,
// else by whether it is non-zero.
func givenAt(has func(string) bool, path string, nonZero bool) bool {
	if has == nil {
		return nonZero
	}
	return has(path)
}

// fillDerived fills the values that depend on others, on a valid
// inventory. It is idempotent.
func (inv *Inventory) fillDerived() {
	sites := make(map[string]*Site, len(inv.Sites))
	for i := range inv.Sites {
		s := &inv.Sites[i]
		s.Location = location(s.TimeZone)
		sites[s.ID] = s
	}
	for i := range inv.Links {
		l := &inv.Links[i]
		d := inv.linkDefaults(l.Type, sites[l.Site])
		if l.Thresholds.LossRatio == nil {
			v := d.LossRatio
			l.Thresholds.LossRatio = &v
		}
		if l.Thresholds.RTT == nil {
			v := d.RTT
			l.Thresholds.RTT = &v
		}
		if l.Thresholds.SignalDBm == nil && d.SignalDBm != 0 {
			v := d.SignalDBm
			l.Thresholds.SignalDBm = &v
		}
		if l.SLATarget == 0 {
			l.SLATarget = inv.inheritedSLATarget(l, sites[l.Site])
		}
	}
	for i := range inv.Services {
		sv := &inv.Services[i]
		if sv.OPD == "" {
			if s := sites[sv.Site]; s != nil {
				sv.OPD = s.OPD
			}
		}
		if sv.SLATarget == 0 {
			sv.SLATarget = inv.Defaults.Services.SLATarget
		}
		if sv.Thresholds.ResponseTime == nil && sv.Thresholds.Field != "" {
			v := inv.Defaults.Services.ResponseTime
			sv.Thresholds.ResponseTime = &v
		}
	}
	inv.fillHours(sites)
}

// typeDefaults returns the defaults of link type t.
func (inv *Inventory) typeDefaults(t string) TypeDefaults {
	if d, ok := inv.Defaults.LinkTypes[t]; ok {
		return d
	}
	return builtinTypeDefaults[t]
}

// inheritedSLATarget is the SLA target of a link that sets none: its
// contract's target, else its site's target, else its type's default.
func (inv *Inventory) inheritedSLATarget(l *Link, s *Site) float64 {
	switch {
	case l.Contract != nil && l.Contract.Target != 0:
		return l.Contract.Target
	case s != nil && s.SLATarget != 0:
		return s.SLATarget
	}
	return inv.typeDefaults(l.Type).SLATarget
}

// locations resolves the accepted time zones once. Indonesia keeps no
// daylight saving time, so a fixed zone stands in where the system has no
// time zone database.
var locations = sync.OnceValue(func() map[string]*time.Location {
	offsets := map[string]int{"Asia/Jakarta": 7, "Asia/Pontianak": 7, "Asia/Makassar": 8, "Asia/Jayapura": 9}
	m := make(map[string]*time.Location, len(timeZoneNames))
	for name, h := range offsets {
		loc, err := time.LoadLocation(name)
		if err != nil {
			loc = time.FixedZone(name, h*3600)
		}
		m[name] = loc
	}
	m["WIB"] = m["Asia/Jakarta"]
	m["WITA"] = m["Asia/Makassar"]
	m["WIT"] = m["Asia/Jayapura"]
	return m
})

// location returns the location of an accepted time zone name, nil for
// any other.
func location(tz string) *time.Location { return locations()[tz] }

// TimeZoneNames are the time zone names a site (and the Pemda) accepts.
func TimeZoneNames() []string { return slices.Clone(timeZoneNames) }

// Location returns the location of a time zone name a site accepts (WIB,
// WITA, WIT in any case, or one of the four Indonesian IANA names), nil
// for any other.
func Location(name string) *time.Location {
	if loc := location(name); loc != nil {
		return loc
	}
	return location(strings.ToUpper(name))
}

// Zone is the Pemda's time zone: defaults.timezone, else the zone every
// site shares, else WIB. Dates given without a zone (report periods,
// sla rebuild --from, maintenance windows of the whole network) are read
// in it.
func (inv *Inventory) Zone() *time.Location {
	if loc := location(inv.Defaults.TimeZone); loc != nil {
		return loc
	}
	var shared *time.Location
	for i := range inv.Sites {
		loc := inv.Sites[i].Location
		if loc == nil {
			continue
		}
		if shared != nil && shared.String() != loc.String() {
			return location(defaultTimeZone)
		}
		shared = loc
	}
	if shared != nil {
		return shared
	}
	return location(defaultTimeZone)
}

// index finds sites, links, devices and services by id, links by series
// tags and services by their plugin check.
type index struct {
	sites, links, devices, services map[string]int
	icmp, snmp                      map[[2]string]int
	probes                          map[[3]string]int // measurement, target, agent → service
	siteLinks                       map[string][]int
	// deviceLink: SNMP device → the one link whose snmp.device it is
	// (-1 when several links name it), for the radio readings of MIBs
	// that number radios rather than interfaces (no ifname)
	deviceLink map[string]int
}

func buildIndex(inv *Inventory) *index {
	x := &index{
		sites:      make(map[string]int, len(inv.Sites)),
		links:      make(map[string]int, len(inv.Links)),
		devices:    make(map[string]int, len(inv.Devices)),
		services:   make(map[string]int, len(inv.Services)),
		probes:     make(map[[3]string]int, len(inv.Services)),
		icmp:       make(map[[2]string]int),
		snmp:       make(map[[2]string]int),
		siteLinks:  make(map[string][]int),
		deviceLink: make(map[string]int),
	}
	for i, s := range inv.Sites {
		if _, dup := x.sites[s.ID]; !dup {
			x.sites[s.ID] = i
		}
	}
	for i, l := range inv.Links {
		if _, dup := x.links[l.ID]; !dup {
			x.links[l.ID] = i
		}
		x.siteLinks[l.Site] = append(x.siteLinks[l.Site], i)
		if l.ICMP.Target != "" {
			k := [2]string{l.ICMP.Target, l.ICMP.Agent}
			if _, dup := x.icmp[k]; !dup {
				x.icmp[k] = i
			}
		}
		if l.SNMP.Device != "" && l.SNMP.Interface != "" {
			k := [2]string{l.SNMP.Device, l.SNMP.Interface}
			if _, dup := x.snmp[k]; !dup {
				x.snmp[k] = i
			}
		}
		if l.SNMP.Device != "" {
			if _, dup := x.deviceLink[l.SNMP.Device]; dup {
				x.deviceLink[l.SNMP.Device] = -1
			} else {
				x.deviceLink[l.SNMP.Device] = i
			}
		}
	}
	for i, d := range inv.Devices {
		if _, dup := x.devices[d.ID]; !dup {
			x.devices[d.ID] = i
		}
	}
	for i, sv := range inv.Services {
		if _, dup := x.services[sv.ID]; !dup {
			x.services[sv.ID] = i
		}
		k := [3]string{sv.Probe.Measurement, sv.Probe.Target, sv.Probe.Agent}
		if _, dup := x.probes[k]; !dup {
			x.probes[k] = i
		}
	}
	return x
}

// index returns the indexes; an inventory not built by Parse or
// ImportCSV gets them built on each call.
func (inv *Inventory) index() *index {
	if inv.idx != nil {
		return inv.idx
	}
	return buildIndex(inv)
}

// Site returns the site with id; nil if unknown.
func (inv *Inventory) Site(id string) *Site {
	if i, ok := inv.index().sites[id]; ok {
		return &inv.Sites[i]
	}
	return nil
}

// Link returns the link with id; nil if unknown.
func (inv *Inventory) Link(id string) *Link {
	if i, ok := inv.index().links[id]; ok {
		return &inv.Links[i]
	}
	return nil
}

// Device returns the device with id; nil if unknown.
func (inv *Inventory) Device(id string) *Device {
	if i, ok := inv.index().devices[id]; ok {
		return &inv.Devices[i]
	}
	return nil
}

// Service returns the service with id; nil if unknown.
func (inv *Inventory) Service(id string) *Service {
	if i, ok := inv.index().services[id]; ok {
		return &inv.Services[i]
	}
	return nil
}

// MatchService returns the service whose probe is this agent's check of
// target with measurement, else the one that names no agent; nil when
// none is.
func (inv *Inventory) MatchService(measurement, agent, target string) *Service {
	if measurement == "" || target == "" {
		return nil
	}
	x := inv.index()
	if agent != "" {
		if i, ok := x.probes[[3]string{measurement, target, agent}]; ok {
			return &inv.Services[i]
		}
	}
	if i, ok := x.probes[[3]string{measurement, target, ""}]; ok {
		return &inv.Services[i]
	}
	return nil
}

// LinksOfSite returns the links of a site in inventory order.
func (inv *Inventory) LinksOfSite(siteID string) []*Link {
	is := inv.index().siteLinks[siteID]
	if len(is) == 0 {
		return nil
	}
	out := make([]*Link, len(is))
	for j, i := range is {
		out[j] = &inv.Links[i]
	}
	return out
}

// MatchICMP returns the link of an ICMP series: the link named by the
// series' link tag when it is a known link, else the link whose ICMP
// target is target and whose agent is agent, else the link whose ICMP
// target is target and that names no agent. nil when nothing matches.
func (inv *Inventory) MatchICMP(linkTag, agent, target string) *Link {
	if l := inv.byTag(linkTag); l != nil {
		return l
	}
	if target == "" {
		return nil
	}
	x := inv.index()
	if agent != "" {
		if i, ok := x.icmp[[2]string{target, agent}]; ok {
			return &inv.Links[i]
		}
	}
	if i, ok := x.icmp[[2]string{target, ""}]; ok {
		return &inv.Links[i]
	}
	return nil
}

// MatchSNMP returns the link of an SNMP interface series: the link named
// by the series' link tag when it is a known link, else the link whose
// SNMP device and interface are device and ifname. nil when nothing
// matches.
func (inv *Inventory) MatchSNMP(linkTag, device, ifname string) *Link {
	if l := inv.byTag(linkTag); l != nil {
		return l
	}
	if device == "" || ifname == "" {
		return nil
	}
	if i, ok := inv.index().snmp[[2]string{device, ifname}]; ok {
		return &inv.Links[i]
	}
	return nil
}

// MatchRadio returns the link of an snmp_radio series: as MatchSNMP, and
// for a reading without ifname (airMAX, airFiber, LTU and Cambium MIBs
// number radios, not interfaces) the link whose snmp.device is the
// reading's device, when exactly one link names that device. nil when
// nothing matches or the device is ambiguous.
func (inv *Inventory) MatchRadio(linkTag, device, ifname string) *Link {
	if ifname != "" || device == "" {
		return inv.MatchSNMP(linkTag, device, ifname)
	}
	if l := inv.byTag(linkTag); l != nil {
		return l
	}
	if i, ok := inv.index().deviceLink[device]; ok && i >= 0 {
		return &inv.Links[i]
	}
	return nil
}

// RadioDeviceLinks maps each SNMP device that exactly one link names to
// that link's id (see MatchRadio).
func (inv *Inventory) RadioDeviceLinks() map[string]string {
	out := map[string]string{}
	for d, i := range inv.index().deviceLink {
		if i >= 0 {
			out[d] = inv.Links[i].ID
		}
	}
	return out
}

func (inv *Inventory) byTag(linkTag string) *Link {
	if linkTag == "" {
		return nil
	}
	return inv.Link(linkTag)
}

// Labels returns the inventory labels of a link's series, sorted by name:
// district, link, opd, site; a label with an empty value is left out.
func (inv *Inventory) Labels(l *Link) [][2]string {
	if l == nil {
		return nil
	}
	var opd, district string
	if s := inv.Site(l.Site); s != nil {
		opd, district = s.OPD, s.District
	}
	out := make([][2]string, 0, 4)
	for _, kv := range [][2]string{{"district", district}, {"link", l.ID}, {"opd", opd}, {"site", l.Site}} {
		if kv[1] != "" {
			out = append(out, kv)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	return out
}
