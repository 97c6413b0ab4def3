package inventory

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/pantau-noc/pantau/internal/yamlconf"
)

var (
	measurementRE = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)
	fieldRE       = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// validator checks an inventory after fillBasic; n counts the problems.
type validator struct {
	rep reporter
	n   int
}

func (v *validator) add(path, format string, args ...any) {
	v.n++
	v.rep.AddNear(path, format, args...)
}

func (v *validator) oneOf(path, got string, allowed []string) {
	if got == "" {
		v.add(path, "required: one of %s", yamlconf.QuoteList(allowed))
		return
	}
	if !slices.Contains(allowed, got) {
		v.add(path, "must be one of %s (got %q)", yamlconf.QuoteList(allowed), got)
	}
}

// firstAt says where a duplicated value was first given, if known.
func (v *validator) firstAt(path string) string {
	if l := v.rep.line(path); l > 0 {
		return fmt.Sprintf(" (first on line %d)", l)
	}
	return ""
}

// id checks an id; seen maps the ids so far to their paths.
func (v *validator) id(path, what, id string, seen map[string]string, charset bool) {
	switch {
	case id == "":
		v.add(path, "required")
		return
	case charset && !idRE.MatchString(id):
		v.add(path, "invalid %s id %q: use lowercase letters, digits, '.', '_' and '-', starting with a letter or digit", what, id)
		return
	}
	if first, dup := seen[id]; dup {
		v.add(path, "duplicate %s id %q%s", what, id, v.firstAt(first))
		return
	}
	seen[id] = path
}

func (v *validator) percent(path string, x float64) {
	if !(x > 0 && x <= 100) {
		v.add(path, "must be a percentage above 0 and at most 100 (got %v)", x)
	}
}

func (v *validator) ratio(path string, x float64) {
	if !(x >= 0 && x <= 1) {
		v.add(path, "must be a ratio between 0 and 1 (got %v)", x)
	}
}

// dbm checks a received radio signal threshold: below 0 dBm (a receiver
// at 1 mW is saturated) and above −130 dBm (below any radio's noise floor).
func (v *validator) dbm(path string, x float64) {
	if !(x > -130 && x < 0) {
		v.add(path, "must be a signal strength in dBm between -130 and 0, such as -75 (got %v)", x)
	}
}

func (v *validator) positive(path string, d yamlconf.Duration) {
	if d <= 0 {
		v.add(path, "must be positive (got %s)", d)
	}
}

func (v *validator) nonNegative(path string, d yamlconf.Duration) {
	if d < 0 {
		v.add(path, "must not be negative (got %s)", d)
	}
}

func (v *validator) inventory(inv *Inventory) {
	v.defaults(&inv.Defaults)
	v.opds(inv.OPDs)
	sites := v.sites(inv.Sites)
	v.links(inv.Links, sites)
	v.devices(inv.Devices, sites)
	v.services(inv.Services, sites)
	v.hoursAll(inv)
}

func (v *validator) defaults(d *Defaults) {
	keys := make([]string, 0, len(d.LinkTypes))
	for k := range d.LinkTypes {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, t := range keys {
		at := "defaults.link_types." + t
		if !slices.Contains(linkTypes, t) {
			v.add(at, "unknown link type %q: must be one of %s", t, yamlconf.QuoteList(linkTypes))
			continue
		}
		td := d.LinkTypes[t]
		v.ratio(at+".loss_ratio", td.LossRatio)
		v.positive(at+".rtt", td.RTT)
		v.percent(at+".sla_target", td.SLATarget)
		if td.SignalDBm != 0 {
			v.dbm(at+".signal_dbm", td.SignalDBm)
		}
	}
	v.nonNegative("defaults.flap_merge_gap", d.FlapMergeGap)
	if d.TimeZone != "" && location(d.TimeZone) == nil {
		v.add("defaults.timezone", "must be one of %s (got %q)", yamlconf.QuoteList(timeZoneNames), d.TimeZone)
	}
	v.percent("defaults.services.sla_target", d.Services.SLATarget)
	v.positive("defaults.services.response_time", d.Services.ResponseTime)
}

// sites validates the sites and returns the index of each site id.
func (v *validator) sites(sites []Site) map[string]int {
	seen := map[string]string{}
	byID := map[string]int{}
	for i := range sites {
		s := &sites[i]
		at := fmt.Sprintf("sites[%d]", i)
		v.id(at+".id", "site", s.ID, seen, true)
		if _, dup := byID[s.ID]; !dup && s.ID != "" {
			byID[s.ID] = i
		}
		if strings.TrimSpace(s.Name) == "" {
			v.add(at+".name", "required")
		}
		v.oneOf(at+".kind", s.Kind, siteKinds)
		if s.Lat != nil && !(*s.Lat >= -90 && *s.Lat <= 90) {
			v.add(at+".lat", "must be between -90 and 90 (got %v)", *s.Lat)
		}
		if s.Lon != nil && !(*s.Lon >= -180 && *s.Lon <= 180) {
			v.add(at+".lon", "must be between -180 and 180 (got %v)", *s.Lon)
		}
		if location(s.TimeZone) == nil {
			v.add(at+".timezone", "must be one of %s (got %q)", yamlconf.QuoteList(timeZoneNames), s.TimeZone)
		}
		if s.SLATarget != 0 {
			v.percent(at+".sla_target", s.SLATarget)
		}
	}

	// Parents: known, not the site itself, no cycles.
	parent := make([]int, len(sites))
	for i := range sites {
		parent[i] = -1
		p := sites[i].Parent
		if p == "" {
			continue
		}
		at := fmt.Sprintf("sites[%d].parent", i)
		j, ok := byID[p]
		switch {
		case !ok:
			v.add(at, "unknown site %q", p)
		case p == sites[i].ID:
			v.add(at, "a site cannot be its own parent")
		default:
			parent[i] = j
		}
	}
	const (
		unvisited = iota
		walking
		done
	)
	state := make([]int, len(sites))
	for i := range sites {
		var chain []int
		j := i
		for j >= 0 && state[j] == unvisited {
			state[j] = walking
			chain = append(chain, j)
			j = parent[j]
		}
		if j >= 0 && state[j] == walking {
			cycle := chain[slices.Index(chain, j):]
			first := slices.Index(cycle, slices.Min(cycle))
			cycle = append(cycle[first:], cycle[:first]...)
			names := make([]string, 0, len(cycle)+1)
			for _, k := range cycle {
				names = append(names, sites[k].ID)
			}
			names = append(names, sites[cycle[0]].ID)
			v.add(fmt.Sprintf("sites[%d].parent", cycle[0]), "parent cycle: %s", strings.Join(names, " -> "))
		}
		for _, k := range chain {
			state[k] = done
		}
	}
	return byID
}

func (v *validator) siteRef(path, id string, sites map[string]int) {
	if id == "" {
		v.add(path, "required")
	} else if _, ok := sites[id]; !ok {
		v.add(path, "unknown site %q", id)
	}
}

func (v *validator) links(links []Link, sites map[string]int) {
	seen := map[string]string{}
	icmp := map[[2]string]int{}
	snmp := map[[2]string]int{}
	for i := range links {
		l := &links[i]
		at := fmt.Sprintf("links[%d]", i)
		// The id is also what a series' link tag names, so a link
		// without an ICMP target can still be matched.
		v.id(at+".id", "link", l.ID, seen, true)
		v.siteRef(at+".site", l.Site, sites)
		v.oneOf(at+".type", l.Type, linkTypes)

		if l.ICMP.Target == "" {
			if l.ICMP.Agent != "" {
				v.add(at+".icmp.agent", "an agent filter needs an ICMP target")
			}
		} else {
			k := [2]string{l.ICMP.Target, l.ICMP.Agent}
			if j, dup := icmp[k]; dup {
				if l.ICMP.Agent == "" {
					v.add(at+".icmp.target", "target %q is already matched by link %q", k[0], links[j].ID)
				} else {
					v.add(at+".icmp.target", "target %q of agent %q is already matched by link %q", k[0], k[1], links[j].ID)
				}
			} else {
				icmp[k] = i
			}
		}

		switch s := l.SNMP; {
		case s.Device == "" && s.Interface != "":
			v.add(at+".snmp.device", "required when an SNMP interface is given")
		case s.Device != "" && s.Interface == "":
			v.add(at+".snmp.interface", "required when an SNMP device is given")
		case s.Device != "":
			k := [2]string{s.Device, s.Interface}
			if j, dup := snmp[k]; dup {
				v.add(at+".snmp.interface", "interface %q of device %q is already matched by link %q", k[1], k[0], links[j].ID)
			} else {
				snmp[k] = i
			}
		}

		if t := l.Thresholds.LossRatio; t != nil {
			v.ratio(at+".thresholds.loss_ratio", *t)
		}
		if t := l.Thresholds.RTT; t != nil {
			v.positive(at+".thresholds.rtt", *t)
		}
		if t := l.Thresholds.SignalDBm; t != nil && *t != 0 {
			v.dbm(at+".thresholds.signal_dbm", *t)
		}
		if l.SLATarget != 0 {
			v.percent(at+".sla_target", l.SLATarget)
		}
		if c := l.Contract; c != nil {
			v.contract(at+".contract", c)
		}
	}
}

func (v *validator) contract(at string, c *Contract) {
	if c.Target == 0 {
		v.add(at+".target", "required: the monthly availability commitment in percent above 0, such as 99.5")
	} else {
		v.percent(at+".target", c.Target)
	}
	v.nonNegative(at+".min_outage", c.MinOutage)
	for j, x := range c.Exclude {
		p := fmt.Sprintf("%s.exclude[%d]", at, j)
		if !slices.Contains(exclusions, x) {
			v.add(p, "must be one of %s (got %q)", yamlconf.QuoteList(exclusions), x)
		} else if slices.Index(c.Exclude, x) < j {
			v.add(p, "%q is listed twice", x)
		}
	}
	if c.MonthlyFee < 0 {
		v.add(at+".monthly_fee", "must not be negative (got %d)", c.MonthlyFee)
	}
	v.oneOf(at+".restitution", c.Restitution, restitutions)
	if c.Basis != "" {
		v.oneOf(at+".basis", c.Basis, contractBases)
	}
	if !c.Start.IsZero() && !c.End.IsZero() && c.End.before(c.Start) {
		v.add(at+".end", "the contract ends (%s) before it starts (%s)", c.End, c.Start)
	}
}

func (v *validator) devices(devices []Device, sites map[string]int) {
	seen := map[string]string{}
	for i := range devices {
		d := &devices[i]
		at := fmt.Sprintf("devices[%d]", i)
		v.id(at+".id", "device", d.ID, seen, false)
		v.siteRef(at+".site", d.Site, sites)
		if d.YearAcquired != 0 && (d.YearAcquired < 1980 || d.YearAcquired > 2100) {
			v.add(at+".year_acquired", "must be 0 (unknown) or between 1980 and 2100 (got %d)", d.YearAcquired)
		}
		if d.Address != "" && !validHost(d.Address) {
			v.add(at+".address", "must be the device's management IP address or host name, without a port (got %q)", d.Address)
		}
		if d.SNMP.Profile != "" && !profileRE.MatchString(d.SNMP.Profile) {
			v.add(at+".snmp.profile", "invalid credential profile name %q: use 1-64 lowercase letters, digits, '.', '_' or '-'", d.SNMP.Profile)
		}
		if (d.SNMP.Profile != "" || len(d.SNMP.Interfaces) > 0) && d.Address == "" {
			v.add(at+".snmp", "needs the device's address: without one no agent polls it")
		}
		seenIf := map[string]bool{}
		for j, name := range d.SNMP.Interfaces {
			switch {
			case strings.TrimSpace(name) == "" || len(name) > 255 || strings.ContainsAny(name, "\x00\n\r"):
				v.add(fmt.Sprintf("%s.snmp.interfaces[%d]", at, j), "must be an interface's ifName (got %q)", name)
			case seenIf[name]:
				v.add(fmt.Sprintf("%s.snmp.interfaces[%d]", at, j), "interface %q is listed twice", name)
			}
			seenIf[name] = true
		}
	}
}

func (v *validator) services(services []Service, sites map[string]int) {
	seen := map[string]string{}
	probes := map[[3]string]int{}
	for i := range services {
		sv := &services[i]
		at := fmt.Sprintf("services[%d]", i)
		v.id(at+".id", "service", sv.ID, seen, true)
		if strings.TrimSpace(sv.Name) == "" {
			v.add(at+".name", "required")
		}
		v.siteRef(at+".site", sv.Site, sites)
		if sv.URL != "" {
			if u, err := url.Parse(sv.URL); err != nil || u.Scheme == "" || u.Host == "" {
				v.add(at+".url", "must be an absolute URL such as https://portal.example.go.id/ (got %q)", sv.URL)
			}
		}

		p := sv.Probe
		switch m := p.Measurement; {
		case m == "":
			v.add(at+".probe.measurement", "required: the probe plugin's measurement, such as http, dns or tcp")
		case !measurementRE.MatchString(m):
			v.add(at+".probe.measurement", "invalid measurement %q: use lowercase letters, digits and '_', starting with a letter or '_'", m)
		case slices.Contains(ReservedMeasurements, m):
			v.add(at+".probe.measurement", "measurement %q is the agent's own; a service is checked by a probe plugin such as http, dns or tcp", m)
		case TelegrafMeasurements[m] != "":
			v.add(at+".probe.measurement", "measurement %q is Telegraf's, which the collector reads as %s: use probe: {measurement: %s, target: %s} (docs/telegraf.md)",
				m, TelegrafMeasurements[m], TelegrafMeasurements[m], telegrafTargets[m])
		}
		if p.Target == "" {
			v.add(at+".probe.target", "required: the name of the plugin's target in agent.yml")
		} else if p.Measurement != "" {
			k := [3]string{p.Measurement, p.Target, p.Agent}
			if j, dup := probes[k]; dup {
				if p.Agent == "" {
					v.add(at+".probe.target", "check %q of measurement %q is already matched by service %q", p.Target, p.Measurement, services[j].ID)
				} else {
					v.add(at+".probe.target", "check %q of measurement %q by agent %q is already matched by service %q", p.Target, p.Measurement, p.Agent, services[j].ID)
				}
			} else {
				probes[k] = i
			}
		}

		for k, val := range p.Config {
			if !fieldRE.MatchString(k) {
				v.add(at+".probe.config", "invalid key %q: a plugin's config keys are letters, digits and '_'", k)
			}
			if _, ok := val.(map[string]any); ok && k != "headers" {
				v.add(at+".probe.config."+k, "a nested map is only allowed for headers")
			}
		}

		th := sv.Thresholds
		if th.ResponseTime != nil {
			v.positive(at+".thresholds.response_time", *th.ResponseTime)
			if th.Field == "" {
				v.add(at+".thresholds.field", "required with response_time for measurement %q: the field that holds the response time in seconds (http, dns and tcp have one built in)", p.Measurement)
			}
		}
		if th.Field != "" && !fieldRE.MatchString(th.Field) {
			v.add(at+".thresholds.field", "invalid field %q: use letters, digits and '_', starting with a letter or '_'", th.Field)
		}
		if sv.SLATarget != 0 {
			v.percent(at+".sla_target", sv.SLATarget)
		}
	}
}

// profileRE is a credential profile's name.
var profileRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// validHost reports whether s is an IP address or a DNS host name
// (without a port).
func validHost(s string) bool {
	if net.ParseIP(s) != nil {
		return true
	}
	if len(s) > 253 {
		return false
	}
	return hostRE.MatchString(s)
}

var hostRE = regexp.MustCompile(`^([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$`)
