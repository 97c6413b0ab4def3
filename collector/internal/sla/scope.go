package sla

import (
	"fmt"
	"strings"

	"github.com/pantau-noc/pantau/collector/internal/inventory"
)

// Scope is what one write token may decide: the agent it belongs to and
// the sites it is restricted to (none: every site, a NOC-wide agent
// created without --site).
//
// The rule, for an inventory link (and likewise a service with its
// probe.agent, and an inventory device, which has no probe agent):
//
//   - the token may write the link when the link's site is one of its
//     sites, when it has no site restriction, or when the link's
//     icmp.agent is the token's agent;
//   - a point counts for the link (its minute marks and the inventory
//     labels a new series gets) only when the token may write the link
//     and the link's icmp.agent, if set, is the token's agent: a link
//     whose icmp.agent names another agent is decided by that agent
//     alone, whatever the token's sites;
//   - a point whose link tag names a link the token may not write is
//     refused (CheckLinkTag); a point matched only by its target or
//     device is stored and counts for nothing it may not decide.
type Scope struct {
	Agent string
	Sites []string
}

// hasSite tells whether the scope covers site: unrestricted, or one of
// its sites.
func (s Scope) hasSite(site string) bool {
	if len(s.Sites) == 0 {
		return true
	}
	for _, x := range s.Sites {
		if x == site {
			return true
		}
	}
	return false
}

// mayWrite tells whether the scope may write an object of site whose
// probe agent is probeAgent ("" for none).
func (s Scope) mayWrite(site, probeAgent string) bool {
	return (probeAgent != "" && probeAgent == s.Agent) || s.hasSite(site)
}

// decides tells whether the scope's points count for such an object.
func (s Scope) decides(site, probeAgent string) bool {
	if probeAgent != "" {
		return probeAgent == s.Agent
	}
	return s.hasSite(site)
}

// DecidesLink tells whether the scope's rounds count for link l (sla
// rebuild, which reads stored series instead of writes).
func (s Scope) DecidesLink(l *inventory.Link) bool { return s.decides(l.Site, l.ICMP.Agent) }

// owner is where an inventory object is and which agent probes it.
type owner struct{ site, agent string }

// scopeIndex is the inventory as the scope checks need it, keyed by id.
type scopeIndex struct {
	links    map[string]owner
	services map[string]owner
	devices  map[string]string // device id → site
}

func newScopeIndex(inv *inventory.Inventory) *scopeIndex {
	x := &scopeIndex{links: map[string]owner{}, services: map[string]owner{}, devices: map[string]string{}}
	if inv == nil {
		return x
	}
	for _, l := range inv.Links {
		if _, dup := x.links[l.ID]; !dup {
			x.links[l.ID] = owner{l.Site, l.ICMP.Agent}
		}
	}
	for _, sv := range inv.Services {
		if _, dup := x.services[sv.ID]; !dup {
			x.services[sv.ID] = owner{sv.Site, sv.Probe.Agent}
		}
	}
	for _, d := range inv.Devices {
		if _, dup := x.devices[d.ID]; !dup {
			x.devices[d.ID] = d.Site
		}
	}
	return x
}

func (b *Builder) scopes() *scopeIndex {
	if x := b.scope.Load(); x != nil {
		return x
	}
	return newScopeIndex(nil)
}

// OutOfScopeError is a link tag that names an inventory link the writing
// token may not write.
type OutOfScopeError struct {
	Link       string // the link the tag names
	Site       string // its site
	ProbeAgent string // its icmp.agent, "" for none
	Scope      Scope
}

func (e *OutOfScopeError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "tag link=%q names the inventory link of site %q", e.Link, e.Site)
	if e.ProbeAgent != "" {
		fmt.Fprintf(&b, " probed by agent %q", e.ProbeAgent)
	}
	fmt.Fprintf(&b, ", which this token may not write: agent %q may write sites %s and the links whose icmp.agent is %q"+
		" (create the token with --site for each site it writes, or set the link's icmp.agent)",
		e.Scope.Agent, strings.Join(e.Scope.Sites, ", "), e.Scope.Agent)
	return b.String()
}

// CheckLinkTag returns an error when linkTag names an inventory link that
// the scope may not write; nil for any other tag value.
func (b *Builder) CheckLinkTag(sc Scope, linkTag []byte) *OutOfScopeError {
	if len(linkTag) == 0 {
		return nil
	}
	o, ok := b.scopes().links[string(linkTag)]
	if !ok || sc.mayWrite(o.site, o.agent) {
		return nil
	}
	return &OutOfScopeError{Link: string(linkTag), Site: o.site, ProbeAgent: o.agent, Scope: sc}
}

// ICMPScoped is ICMPBytes for a write of scope sc: the round marks the
// link it matches only when sc decides that link.
func (b *Builder) ICMPScoped(marks []Mark, sc Scope, linkTag, target []byte, ns int64, up bool, loss, rtt float64, hasRTT bool) []Mark {
	li := b.idx.Load().match(sc.Agent, linkTag, target)
	if li == nil {
		return marks
	}
	o, ok := b.scopes().links[li.id]
	if !ok || !sc.decides(o.site, o.agent) {
		return marks
	}
	return b.ICMPBytes(marks, sc.Agent, linkTag, target, ns, up, loss, rtt, hasRTT)
}

// RadioScoped appends the mark of one snmp_radio reading of a write of
// scope sc: BitSignalLow in the reading's minute for the link whose snmp
// device and interface (or whose id the line's link tag names) carried
// it, or for a reading without ifname the one link naming its device
// (inventory.MatchRadio), when the link has a signal threshold, the signal is below it and sc
// may write the link. Every reading counts: on an interface with a
// registration table (one point per peer, and one for the interface), the
// weakest reading of the minute decides.
func (b *Builder) RadioScoped(marks []Mark, sc Scope, linkTag, device, ifname []byte, ns int64, signalDBm float64) []Mark {
	x := b.idx.Load()
	li := x.byID[string(linkTag)]
	if li == nil && len(ifname) > 0 {
		li = x.bySNMP[[2]string{string(device), string(ifname)}]
	} else if li == nil {
		li = x.byRadioDevice[string(device)]
	}
	if li == nil || !li.thr.SignalLow(signalDBm) {
		return marks
	}
	o, ok := b.scopes().links[li.id]
	if !ok || !sc.mayWrite(o.site, o.agent) {
		return marks
	}
	return append(marks, Mark{Kind: KindLink, ID: li.id, Minute: MinuteOf(ns), Bits: BitSignalLow})
}

// UPSScoped appends the mark of one snmp_ups reading with on_battery=1
// of a write of scope sc: KindPower in the reading's minute for the site
// of the inventory device (else the point's site tag), when sc may write
// that site.
func (b *Builder) UPSScoped(marks []Mark, sc Scope, site, device []byte, ns int64) []Mark {
	x := b.idx.Load()
	id, ok := x.deviceSites[string(device)]
	if !ok {
		id, ok = x.sites[string(site)]
	}
	if !ok || !sc.hasSite(id) {
		return marks
	}
	return append(marks, Mark{Kind: KindPower, ID: id, Minute: MinuteOf(ns), Bits: BitSeen})
}

// ServiceScoped is ServiceOf for a write of scope sc: nil unless sc
// decides the service.
func (b *Builder) ServiceScoped(measurement []byte, sc Scope, target []byte) *ServiceCheck {
	svc := b.ServiceOf(measurement, sc.Agent, target)
	if svc == nil {
		return nil
	}
	if o, ok := b.scopes().services[svc.id]; !ok || !sc.decides(o.site, o.agent) {
		return nil
	}
	return svc
}

// SeriesLabelsScoped is SeriesLabels for a write of scope sc: the
// inventory labels of the link, service or device the series belongs
// to, or nil when sc does not decide it (icmp series, service checks) or
// may not write it (SNMP series of a link or device).
func (b *Builder) SeriesLabelsScoped(sc Scope, measurement, linkTag, target, device, ifname string) [][2]string {
	ls := b.SeriesLabels(measurement, sc.Agent, linkTag, target, device, ifname)
	if ls == nil {
		return nil
	}
	x := b.scopes()
	// SeriesLabels names what it matched: a link label for a link's
	// series, a service label for a service's checks, else a device's
	// site.
	if id := labelValue(ls, "link"); id != "" {
		o, ok := x.links[id]
		switch {
		case !ok:
			return nil
		case measurement == "icmp" && !sc.decides(o.site, o.agent):
			return nil
		case !sc.mayWrite(o.site, o.agent):
			return nil
		}
		return ls
	}
	if id := labelValue(ls, "service"); id != "" {
		if o, ok := x.services[id]; !ok || !sc.decides(o.site, o.agent) {
			return nil
		}
		return ls
	}
	if site, ok := x.devices[device]; !ok || !sc.hasSite(site) {
		return nil
	}
	return ls
}

func labelValue(ls [][2]string, name string) string {
	for _, l := range ls {
		if l[0] == name {
			return l[1]
		}
	}
	return ""
}
