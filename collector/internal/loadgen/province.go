package loadgen

import (
	"bytes"
	"fmt"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/inventory"
	"github.com/pantau-noc/pantau/internal/yamlconf"
)

// Province is a simulated provincial network: the inventory the collector
// loads (sites, links, devices, districts and OPD) and, for every agent,
// the ICMP targets and SNMP devices its agent.yml would list, so that the
// agents' series match the inventory's links the way real ones do (ICMP
// by target and agent, SNMP by device and ifname).
//
// Layout: a provincial datacenter; per agent a district hub (where the
// agent runs) with its sites below it, two links per site (a fibre
// primary and a radio or, at every fifth site, a VSAT backup), one router
// per site whose two interfaces carry the site's links. OPD sites belong
// to one of 40 OPD; district sites to the agent's district.
type Province struct {
	Agents    []SimAgent
	Inventory *inventory.Inventory
}

// SimAgent is what one simulated agent probes.
type SimAgent struct {
	ID      string
	Site    string   // the hub site the agent runs at (its heartbeat's site tag)
	Sites   []string // every site tag it writes: its token's scope
	Links   []SimLink
	Devices []SimDevice
}

// SimLink is one link: an ICMP target probed every ICMP interval.
type SimLink struct {
	ID, Site, Target, Type string
	Bandwidth              uint64 // bits per second
}

// SimDevice is one router polled by SNMP: the interfaces that carry its
// site's links.
type SimDevice struct {
	ID, Site   string
	Interfaces []SimInterface
}

// SimInterface is one polled interface.
type SimInterface struct {
	Index     int
	Name      string
	Alias     string
	Bandwidth uint64
}

// opdCount is the number of OPD (agencies) OPD sites are spread over.
const opdCount = 40

// NewProvince builds a province of agents × linksPerAgent links.
func NewProvince(agents, linksPerAgent int) *Province {
	// The built-in service defaults, so that WriteYAML leaves them out.
	inv := &inventory.Inventory{Defaults: inventory.Defaults{
		Services: inventory.ServiceDefaults{SLATarget: 99, ResponseTime: yamlconf.Duration(5 * time.Second)}}}
	const dc = "dc-provinsi"
	inv.Sites = append(inv.Sites, inventory.Site{ID: dc, Name: "Data Center Pemerintah Provinsi", Kind: inventory.KindDatacenter,
		OPD: "diskominfo", TimeZone: "WIT"})
	p := &Province{Inventory: inv}
	g := 0 // global link number, for unique ICMP targets
	for a := range agents {
		district := fmt.Sprintf("distrik-%03d", a)
		hub := "hub-" + district
		ag := SimAgent{ID: fmt.Sprintf("agent-%03d", a), Site: hub, Sites: []string{hub}}
		inv.Sites = append(inv.Sites, inventory.Site{ID: hub, Name: "Kantor Distrik " + district, Kind: inventory.KindDistrict,
			OPD: "setda", District: district, Parent: dc, TimeZone: "WIT"})
		for s := 0; s*2 < linksPerAgent; s++ {
			site := fmt.Sprintf("s%03d-%02d", a, s)
			st := inventory.Site{ID: site, Name: "Kantor " + site, Parent: hub, TimeZone: "WIT"}
			if s%2 == 0 {
				st.Kind, st.OPD = inventory.KindOPD, fmt.Sprintf("opd-%02d", (a*7+s)%opdCount)
			} else {
				st.Kind, st.OPD, st.District = inventory.KindDistrict, "setda", district
			}
			inv.Sites = append(inv.Sites, st)
			ag.Sites = append(ag.Sites, site)
			dev := SimDevice{ID: "rtr-" + site, Site: site}
			inv.Devices = append(inv.Devices, inventory.Device{ID: dev.ID, Site: site, Vendor: "MikroTik", Model: "RB4011iGS+",
				YearAcquired: 2023, AssetCode: fmt.Sprintf("02.06.03.02.%05d", len(inv.Devices)+1)})
			for k := 0; k < 2 && s*2+k < linksPerAgent; k++ {
				g++
				l := SimLink{Site: site, Target: fmt.Sprintf("10.%d.%d.%d", (g>>16)&0xff, (g>>8)&0xff, g&0xff)}
				il := inventory.Link{Site: site, ICMP: inventory.ICMPMatch{Target: l.Target, Agent: ag.ID}}
				switch {
				case k == 0:
					l.ID, l.Type, l.Bandwidth = site+"-fo", inventory.TypeFibre, 100e6
					il.ISP = "Telkom Indonesia"
					il.Contract = &inventory.Contract{Target: 99.5, MonthlyFee: 7500000, Restitution: inventory.RestitutionProportional}
				case s%5 == 4:
					l.ID, l.Type, l.Bandwidth = site+"-vsat", inventory.TypeVSAT, 4e6
					il.ISP = "Telkomsat"
				default:
					l.ID, l.Type, l.Bandwidth = site+"-radio", inventory.TypeRadio, 20e6
					il.ISP = "Lintasarta"
				}
				ifc := SimInterface{Index: k + 1, Name: fmt.Sprintf("ether%d", k+1), Alias: "WAN " + il.ISP, Bandwidth: l.Bandwidth}
				il.ID, il.Type, il.Bandwidth = l.ID, l.Type, inventory.Bandwidth(l.Bandwidth)
				il.SNMP = inventory.SNMPMatch{Device: dev.ID, Interface: ifc.Name}
				inv.Links = append(inv.Links, il)
				ag.Links = append(ag.Links, l)
				dev.Interfaces = append(dev.Interfaces, ifc)
			}
			ag.Devices = append(ag.Devices, dev)
		}
		p.Agents = append(p.Agents, ag)
	}
	return p
}

// Links is the number of links.
func (p *Province) Links() int { return len(p.Inventory.Links) }

// Devices is the number of SNMP devices.
func (p *Province) Devices() int { return len(p.Inventory.Devices) }

// InventoryYAML is the province as inventory.yml, checked by parsing it
// back as the collector will.
func (p *Province) InventoryYAML() ([]byte, error) {
	var b bytes.Buffer
	if err := p.Inventory.WriteYAML(&b, "pantau-loadgen scale"); err != nil {
		return nil, err
	}
	if _, err := inventory.Parse("inventory.yml", b.Bytes()); err != nil {
		return nil, fmt.Errorf("generated inventory: %w", err)
	}
	return b.Bytes(), nil
}
