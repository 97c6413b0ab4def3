package inventory

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pantau-noc/pantau/internal/yamlconf"
	"go.yaml.in/yaml/v3"
)

// ServiceHours is the service_hours key of defaults, a site, a link or a
// service (and, with the inventory's OPDs, an OPD): the weekly hours over
// which a service level is stated (jam layanan), in the site's zone.
// Either a named schedule:
//
//	service_hours: {schedule: kantor}   # defaults.schedules.kantor
//	service_hours: {schedule: 24x7}     # built in: around the clock
//
// or one written out:
//
//	service_hours: {days: [mon, tue, wed, thu, fri], from: "07:30", to: "16:00", holidays: exclude}
//
// days are mon..sun; from and to are local times HH:MM (to may be
// "24:00"), from before to; holidays is exclude (the default: no service
// hours on the calendar's libur nasional and cuti bersama) or include.
type ServiceHours struct {
	Schedule string   `yaml:"schedule"`
	Days     []string `yaml:"days"`
	From     string   `yaml:"from"`
	To       string   `yaml:"to"`
	Holidays string   `yaml:"holidays"`
}

// Holiday handling of service hours.
const (
	HolidaysExclude = "exclude"
	HolidaysInclude = "include"
)

// Schedule24x7 is the built-in schedule name for around the clock.
const Schedule24x7 = "24x7"

var (
	dayNames      = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"} // index: time.Weekday
	holidayModes  = []string{HolidaysExclude, HolidaysInclude}
	districtRTT   = yamlconf.Duration(750 * time.Millisecond)
	districtLoss  = 0.02
	schedule24x7  = &Schedule{Name: Schedule24x7, Always: true}
	weekdaysOrder = []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}
)

// Schedule is a resolved service_hours: the hours of a link, site or
// service. nil: none is set, on it or on what it inherits from.
type Schedule struct {
	Name   string // the named schedule, "" when written out
	Always bool   // 24x7: every minute, holidays included
	// Days are the open weekdays, indexed by time.Weekday.
	Days [7]bool
	// From and To are the open minutes of the day, [From, To).
	From, To int
	// ExcludeHolidays: closed on the holiday calendar's days.
	ExcludeHolidays bool
}

// String is the schedule as reports show it, such as
// "mon-fri 07:30-16:00, excl. holidays" or "24x7".
func (s *Schedule) String() string {
	if s == nil {
		return ""
	}
	if s.Always {
		return Schedule24x7
	}
	var days []string
	for _, d := range weekdaysOrder {
		if s.Days[slices.Index(dayNames, d)] {
			days = append(days, d)
		}
	}
	ds := strings.Join(days, ",")
	if ds == "mon,tue,wed,thu,fri" {
		ds = "mon-fri"
	} else if ds == "mon,tue,wed,thu,fri,sat" {
		ds = "mon-sat"
	}
	out := fmt.Sprintf("%s %s-%s", ds, clock(s.From), clock(s.To))
	if s.ExcludeHolidays {
		out += ", excl. holidays"
	}
	if s.Name != "" {
		out = s.Name + ": " + out
	}
	return out
}

func clock(m int) string { return fmt.Sprintf("%02d:%02d", m/60, m%60) }

// parseClock reads HH:MM, 00:00 to 24:00, as minutes of the day.
func parseClock(s string) (int, bool) {
	h, m, ok := strings.Cut(s, ":")
	if !ok || len(h) != 2 || len(m) != 2 {
		return 0, false
	}
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if err1 != nil || err2 != nil || h[0] == '+' || h[0] == '-' || m[0] == '+' || m[0] == '-' {
		return 0, false
	}
	if hh < 0 || mm < 0 || mm > 59 || hh > 24 || hh == 24 && mm != 0 {
		return 0, false
	}
	return hh*60 + mm, true
}

// resolve turns a valid service_hours into its schedule.
func (inv *Inventory) resolveHours(h *ServiceHours) *Schedule {
	if h == nil {
		return nil
	}
	if h.Schedule == Schedule24x7 {
		return schedule24x7
	}
	name := h.Schedule
	if name != "" {
		d, ok := inv.Defaults.Schedules[name]
		if !ok {
			return nil // reported by validation
		}
		h = &d
	}
	s := &Schedule{Name: name, ExcludeHolidays: h.Holidays != HolidaysInclude}
	for _, d := range h.Days {
		if i := slices.Index(dayNames, d); i >= 0 {
			s.Days[i] = true
		}
	}
	s.From, _ = parseClock(h.From)
	s.To, _ = parseClock(h.To)
	return s
}

// opdServiceHours is the service_hours of an OPD's `opds:` entry (nil
// when it has no entry or the entry sets none).
func (inv *Inventory) opdServiceHours(opd string) *ServiceHours {
	for i := range inv.OPDs {
		if inv.OPDs[i].ID == opd {
			return inv.OPDs[i].ServiceHours
		}
	}
	return nil
}

// fillHours resolves the service hours of sites, links and services:
// link or service → site → OPD → defaults.
func (inv *Inventory) fillHours(sites map[string]*Site) {
	def := inv.resolveHours(inv.Defaults.ServiceHours)
	for _, s := range sites {
		switch {
		case s.ServiceHours != nil:
			s.Hours = inv.resolveHours(s.ServiceHours)
		case inv.opdServiceHours(s.OPD) != nil:
			s.Hours = inv.resolveHours(inv.opdServiceHours(s.OPD))
		default:
			s.Hours = def
		}
	}
	for i := range inv.Links {
		l := &inv.Links[i]
		if l.ServiceHours != nil {
			l.Hours = inv.resolveHours(l.ServiceHours)
		} else if s := sites[l.Site]; s != nil {
			l.Hours = s.Hours
		}
	}
	for i := range inv.Services {
		sv := &inv.Services[i]
		if sv.ServiceHours != nil {
			sv.Hours = inv.resolveHours(sv.ServiceHours)
		} else if s := sites[sv.Site]; s != nil {
			sv.Hours = s.Hours
		}
	}
}

// serviceHours validates one service_hours at path; named says whether
// it is itself an entry of defaults.schedules (which cannot name
// another).
func (v *validator) serviceHours(at string, h *ServiceHours, schedules map[string]ServiceHours, named bool) {
	if h == nil {
		return
	}
	written := len(h.Days) > 0 || h.From != "" || h.To != "" || h.Holidays != ""
	if h.Schedule != "" {
		switch {
		case named:
			v.add(at+".schedule", "a named schedule cannot name another: write days, from and to")
		case written:
			v.add(at+".schedule", "give either schedule or days/from/to/holidays, not both")
		case h.Schedule == Schedule24x7:
		default:
			if _, ok := schedules[h.Schedule]; !ok {
				names := []string{Schedule24x7}
				for n := range schedules {
					if n != Schedule24x7 {
						names = append(names, n)
					}
				}
				slices.Sort(names[1:])
				v.add(at+".schedule", "unknown schedule %q: must be one of %s (defaults.schedules names them)", h.Schedule, yamlconf.QuoteList(names))
			}
		}
		return
	}
	if len(h.Days) == 0 {
		v.add(at+".days", "required: the open weekdays, such as [mon, tue, wed, thu, fri] (or give schedule: %s)", Schedule24x7)
	}
	for j, d := range h.Days {
		p := fmt.Sprintf("%s.days[%d]", at, j)
		if !slices.Contains(dayNames, d) {
			v.add(p, "must be one of %s (got %q)", yamlconf.QuoteList(weekdaysOrder), d)
		} else if slices.Index(h.Days, d) < j {
			v.add(p, "%q is listed twice", d)
		}
	}
	from, okFrom := parseClock(h.From)
	to, okTo := parseClock(h.To)
	switch {
	case h.From == "":
		v.add(at+".from", "required: the local time service hours start, such as \"07:30\"")
	case !okFrom || from == 24*60:
		v.add(at+".from", "must be a local time HH:MM from 00:00 to 23:59, quoted, such as \"07:30\" (got %q)", h.From)
		okFrom = false
	}
	switch {
	case h.To == "":
		v.add(at+".to", "required: the local time service hours end, such as \"16:00\"")
	case !okTo:
		v.add(at+".to", "must be a local time HH:MM from 00:01 to 24:00, quoted, such as \"16:00\" (got %q)", h.To)
	case okFrom && to <= from:
		v.add(at+".to", "must be after from (%s): service hours across midnight are two days' hours, e.g. from \"00:00\" and from %q to \"24:00\"", h.From, h.From)
	}
	if h.Holidays != "" && !slices.Contains(holidayModes, h.Holidays) {
		v.add(at+".holidays", "must be one of %s (got %q)", yamlconf.QuoteList(holidayModes), h.Holidays)
	}
}

// hoursAll validates every service_hours of the inventory.
func (v *validator) hoursAll(inv *Inventory) {
	names := make([]string, 0, len(inv.Defaults.Schedules))
	for n := range inv.Defaults.Schedules {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		at := "defaults.schedules." + n
		if n == Schedule24x7 {
			v.add(at, "%q is the built-in around-the-clock schedule: choose another name", n)
			continue
		}
		if !idRE.MatchString(n) {
			v.add(at, "invalid schedule name %q: use lowercase letters, digits, '.', '_' and '-'", n)
		}
		h := inv.Defaults.Schedules[n]
		v.serviceHours(at, &h, inv.Defaults.Schedules, true)
	}
	v.serviceHours("defaults.service_hours", inv.Defaults.ServiceHours, inv.Defaults.Schedules, false)
	for i := range inv.OPDs {
		v.serviceHours(fmt.Sprintf("opds[%d].service_hours", i), inv.OPDs[i].ServiceHours, inv.Defaults.Schedules, false)
	}
	for i := range inv.Sites {
		v.serviceHours(fmt.Sprintf("sites[%d].service_hours", i), inv.Sites[i].ServiceHours, inv.Defaults.Schedules, false)
	}
	siteHours := map[string]bool{}
	for i := range inv.Sites {
		s := &inv.Sites[i]
		siteHours[s.ID] = s.ServiceHours != nil || inv.opdServiceHours(s.OPD) != nil || inv.Defaults.ServiceHours != nil
	}
	for i := range inv.Links {
		l := &inv.Links[i]
		v.serviceHours(fmt.Sprintf("links[%d].service_hours", i), l.ServiceHours, inv.Defaults.Schedules, false)
		if c := l.Contract; c != nil && c.Basis == BasisServiceHours && l.ServiceHours == nil && !siteHours[l.Site] {
			v.add(fmt.Sprintf("links[%d].contract.basis", i), "the contract is stated over service hours, but the link has none: set service_hours on the link, its site or defaults")
		}
	}
	for i := range inv.Services {
		v.serviceHours(fmt.Sprintf("services[%d].service_hours", i), inv.Services[i].ServiceHours, inv.Defaults.Schedules, false)
	}
}

// hoursNode writes a service_hours as given.
func hoursNode(m mapNode, h *ServiceHours) {
	if h == nil {
		return
	}
	n := mapping(true)
	n.str("schedule", h.Schedule)
	if h.Days != nil {
		days := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
		for _, d := range h.Days {
			days.Content = append(days.Content, scalar(d))
		}
		n.set("days", days)
	}
	n.str("from", h.From)
	n.str("to", h.To)
	n.str("holidays", h.Holidays)
	m.set("service_hours", n.Node)
}

// linkDefaults are the thresholds a link of type t at site s gets when it
// gives none: its type's, and at a district site no laxer than RTT
// 750 ms and loss 2 % (Kominfo's rule for kecamatan internet access to a
// central server; per threshold the stricter one wins).
func (inv *Inventory) linkDefaults(t string, s *Site) TypeDefaults {
	d := inv.typeDefaults(t)
	if s != nil && s.Kind == KindDistrict {
		d.RTT = min(d.RTT, districtRTT)
		if !math.IsNaN(d.LossRatio) {
			d.LossRatio = min(d.LossRatio, districtLoss)
		}
	}
	return d
}

// Contract bases: what a contract's target is stated over.
const (
	Basis24x7         = "24x7"
	BasisServiceHours = "service_hours"
)

var contractBases = []string{Basis24x7, BasisServiceHours}

// schedulesNode writes defaults.schedules, sorted by name.
func schedulesNode(m mapNode, s map[string]ServiceHours) {
	if len(s) == 0 {
		return
	}
	names := make([]string, 0, len(s))
	for n := range s {
		names = append(names, n)
	}
	slices.Sort(names)
	out := mapping(false)
	for _, n := range names {
		h := s[n]
		tmp := mapping(false)
		hoursNode(tmp, &h)
		out.set(n, tmp.Content[1])
	}
	m.set("schedules", out.Node)
}
