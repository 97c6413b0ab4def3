package sla

import (
	"fmt"
	"strings"
	"testing"

	"github.com/pantau-noc/pantau/collector/internal/inventory"
)

func scopeInventory(t *testing.T) *inventory.Inventory {
	t.Helper()
	inv, err := inventory.Parse("i.yml", []byte(`
sites:
  - {id: a, name: A, kind: opd}
  - {id: b, name: B, kind: opd}
links:
  - {id: la, site: a, icmp: {target: 10.0.0.1}}
  - {id: lb, site: b, icmp: {target: 10.0.0.2}, snmp: {device: rb, interface: ether1}}
  - {id: lbx, site: b, icmp: {target: 10.0.0.3, agent: agent-x}}
  - {id: lay, site: a, icmp: {target: 10.0.0.4, agent: agent-y}}
devices:
  - {id: ra, site: a}
  - {id: rb, site: b}
services:
  - {id: sa, name: SA, site: a, probe: {measurement: http, target: pa}}
  - {id: sb, name: SB, site: b, probe: {measurement: http, target: pb, agent: agent-x}}
`))
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

var (
	scopeA   = Scope{Agent: "agent-a", Sites: []string{"a"}}
	scopeX   = Scope{Agent: "agent-x", Sites: []string{"a"}}
	scopeNOC = Scope{Agent: "agent-noc"}
)

// TestScopeLinkTag: a link tag naming a link the token may not write is
// refused; the token may write its sites' links and the links it probes.
func TestScopeLinkTag(t *testing.T) {
	b := NewBuilder(scopeInventory(t), nil)
	for _, c := range []struct {
		sc      Scope
		link    string
		refused bool
	}{
		{scopeA, "la", false}, {scopeA, "lb", true}, {scopeA, "lbx", true}, {scopeA, "lay", false},
		{scopeA, "not-a-link", false}, {scopeA, "", false},
		{scopeX, "lbx", false}, {scopeX, "lb", true},
		{scopeNOC, "lb", false}, {scopeNOC, "lbx", false},
	} {
		e := b.CheckLinkTag(c.sc, []byte(c.link))
		if (e != nil) != c.refused {
			t.Errorf("%s writing link=%s: refused %v, want %v", c.sc.Agent, c.link, e != nil, c.refused)
		}
	}
	e := b.CheckLinkTag(scopeA, []byte("lb"))
	want := `tag link="lb" names the inventory link of site "b", which this token may not write: agent "agent-a" may write sites a and the links whose icmp.agent is "agent-a"`
	if e == nil || !strings.HasPrefix(e.Error(), want) {
		t.Errorf("message %v\nwant prefix %s", e, want)
	}
}

// TestScopeMarks: which rounds, checks and new series count for which
// link, service or device.
func TestScopeMarks(t *testing.T) {
	b := NewBuilder(scopeInventory(t), nil)
	icmp := func(sc Scope, link, target string) string {
		m := b.ICMPScoped(nil, sc, []byte(link), []byte(target), 0, true, 0, 0, false)
		if len(m) == 0 {
			return ""
		}
		return m[0].ID
	}
	for _, c := range []struct {
		sc           Scope
		link, target string
		want         string
	}{
		{scopeA, "", "10.0.0.1", "la"},
		{scopeA, "", "10.0.0.2", ""}, // another site's link, by target: stored, no mark
		{scopeA, "lb", "10.0.0.1", ""},
		{scopeA, "lay", "", ""}, // its site, but agent-y probes it
		{scopeNOC, "", "10.0.0.2", "lb"},
		{scopeNOC, "lbx", "", ""}, // unrestricted, but agent-x probes it
		{scopeNOC, "", "10.0.0.3", ""},
		{scopeX, "", "10.0.0.3", "lbx"}, // its probe, outside its sites
		{scopeX, "lbx", "", "lbx"},
		{Scope{Agent: "agent-y", Sites: []string{"b"}}, "", "10.0.0.4", "lay"},
	} {
		if got := icmp(c.sc, c.link, c.target); got != c.want {
			t.Errorf("%s link=%q target=%s: marks %q, want %q", c.sc.Agent, c.link, c.target, got, c.want)
		}
	}
	svc := func(sc Scope, target string) string {
		if s := b.ServiceScoped([]byte("http"), sc, []byte(target)); s != nil {
			return s.id
		}
		return ""
	}
	for _, c := range []struct {
		sc           Scope
		target, want string
	}{
		{scopeA, "pa", "sa"}, {scopeA, "pb", ""}, {scopeX, "pb", "sb"}, {scopeNOC, "pb", ""}, {scopeNOC, "pa", "sa"},
		{Scope{Agent: "agent-b", Sites: []string{"b"}}, "pa", ""},
	} {
		if got := svc(c.sc, c.target); got != c.want {
			t.Errorf("%s checking %s: service %q, want %q", c.sc.Agent, c.target, got, c.want)
		}
	}
	for _, c := range []struct {
		sc                                        Scope
		measurement, link, target, device, ifname string
		want                                      string
	}{
		{scopeA, "icmp", "", "10.0.0.1", "", "", "[[link la] [opd a] [site a]]"},
		{scopeA, "icmp", "", "10.0.0.2", "", "", "[]"},
		{scopeNOC, "icmp", "", "10.0.0.2", "", "", "[[link lb] [opd b] [site b]]"},
		{scopeNOC, "icmp", "lbx", "", "", "", "[]"},
		{scopeA, "snmp_if", "", "", "rb", "ether1", "[]"},
		{scopeNOC, "snmp_if", "", "", "rb", "ether1", "[[link lb] [opd b] [site b]]"},
		{scopeA, "snmp_device", "", "", "rb", "", "[]"},
		{scopeA, "snmp_device", "", "", "ra", "", "[[opd a] [site a]]"},
		{scopeA, "snmp_if", "", "", "ra", "ether9", "[[opd a] [site a]]"},
		{scopeA, "http", "", "pb", "", "", "[]"},
		{scopeX, "http", "", "pb", "", "", "[[opd b] [service sb] [site b]]"},
		{scopeA, "http", "", "pa", "", "", "[[opd a] [service sa] [site a]]"},
	} {
		got := fmt.Sprint(b.SeriesLabelsScoped(c.sc, c.measurement, c.link, c.target, c.device, c.ifname))
		if got != c.want {
			t.Errorf("%s %s link=%q target=%q device=%q: labels %s, want %s", c.sc.Agent, c.measurement, c.link, c.target, c.device, got, c.want)
		}
	}
}
