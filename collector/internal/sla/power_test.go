package sla

import (
	"context"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/inventory"
)

const powerInventory = `
sites:
  - {id: desa, name: Kantor Desa, kind: district, timezone: WIT}
  - {id: kota, name: Kota, kind: opd, timezone: WIT}
links:
  - {id: ptp, site: desa, type: radio, icmp: {target: 127.0.0.5}}
devices:
  - {id: ups-desa, site: desa}
`

// TestUPSOnBatteryMakesPowerOutages scripts 6 October 2026 (WIT): the
// agent at desa sends a heartbeat every minute of 10:00–11:00 (it runs on
// the UPS), ptp's rounds every 10 s are down 10:20–10:40 and 10:50–10:55,
// and the UPS reports on_battery=1 every minute of 10:18–10:45 (27
// minutes). By hand: the first outage (20 min) lies wholly in the battery
// minutes: power, although heartbeats came; the second (5 min) has
// heartbeats and no battery: isp. The site was on battery 27 minutes.
func TestUPSOnBatteryMakesPowerOutages(t *testing.T) {
	inv, err := inventory.Parse("inventory.yml", []byte(powerInventory))
	if err != nil {
		t.Fatal(err)
	}
	b := NewBuilder(inv, nil)
	hm := func(h, m int) time.Time { return time.Date(2026, 10, 6, h, m, 0, 0, wit) }
	down := []span{sp(hm(10, 20), hm(10, 40)), sp(hm(10, 50), hm(10, 55))}
	battery := sp(hm(10, 18), hm(10, 45))
	sc := Scope{Agent: "agent-desa", Sites: []string{"desa"}}
	var marks []Mark
	for ts := hm(10, 0); ts.Before(hm(11, 0)); ts = ts.Add(10 * time.Second) {
		marks = b.ICMP(marks, "agent-desa", "", "127.0.0.5", ts.UnixNano(), !in(ts, down...), 0, 0.02, true)
	}
	for ts := hm(10, 0); ts.Before(hm(11, 0)); ts = ts.Add(time.Minute) {
		marks = b.Heartbeat(marks, "desa", ts.Add(5*time.Second).UnixNano())
		if battery.has(ts) {
			marks = b.UPSScoped(marks, sc, []byte("desa"), []byte("ups-desa"), ts.Add(20*time.Second).UnixNano())
		}
	}
	for ts := hm(0, 0); ts.Before(hm(24, 0)); ts = ts.Add(time.Minute) {
		marks = append(marks, Mark{Kind: KindCollector, Minute: MinuteOf(ts.UnixNano()), Bits: BitSeen})
	}
	st := NewMemStore()
	if err := st.Merge(context.Background(), marks); err != nil {
		t.Fatal(err)
	}
	p, err := ParsePeriod("2026-10-06..2026-10-06", wit)
	if err != nil {
		t.Fatal(err)
	}
	e := &Engine{Inv: inv, Store: st, Now: time.Date(2026, 10, 8, 0, 0, 0, 0, wit)}
	c := e.NewComputation(p)
	r, err := c.Link(context.Background(), inv.Link("ptp"))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Outages) != 2 || r.Outages[0].Cause != CausePower || r.Outages[0].DownMinutes != 20 ||
		r.Outages[1].Cause != CauseISP || r.Outages[1].DownMinutes != 5 {
		t.Errorf("outages %+v, want power 20 min then isp 5 min", r.Outages)
	}
	s, links, err := c.SiteWithLinks(context.Background(), inv.Site("desa"))
	if err != nil {
		t.Fatal(err)
	}
	if s.OnBatteryMinutes != 27 {
		t.Errorf("site on battery %d minutes, want 27", s.OnBatteryMinutes)
	}
	if len(links) != 1 || len(links[0].Outages) != 2 || links[0].Outages[0].Cause != CausePower {
		t.Errorf("SiteWithLinks link outages %+v", links)
	}
	if len(s.Outages) != 2 || s.Outages[0].Cause != CausePower {
		t.Errorf("site outages %+v, want the power one first", s.Outages)
	}
	k, err := c.Site(context.Background(), inv.Site("kota"))
	if err != nil {
		t.Fatal(err)
	}
	if k.OnBatteryMinutes != 0 {
		t.Errorf("kota on battery %d minutes", k.OnBatteryMinutes)
	}
}

// A reading marks the inventory device's site, else the point's site
// tag, and only within the writing token's sites.
func TestUPSScoped(t *testing.T) {
	inv, err := inventory.Parse("inventory.yml", []byte(powerInventory))
	if err != nil {
		t.Fatal(err)
	}
	b := NewBuilder(inv, nil)
	ns := time.Date(2026, 10, 6, 10, 0, 30, 0, wit).UnixNano()
	desa := Scope{Agent: "agent-desa", Sites: []string{"desa"}}
	if m := b.UPSScoped(nil, desa, []byte("kota"), []byte("ups-desa"), ns); len(m) != 1 || m[0].Kind != KindPower || m[0].ID != "desa" {
		t.Errorf("inventory device: %+v, want desa", m)
	}
	if m := b.UPSScoped(nil, desa, []byte("desa"), []byte("ups-x"), ns); len(m) != 1 || m[0].ID != "desa" {
		t.Errorf("device outside the inventory: %+v, want the site tag's desa", m)
	}
	if m := b.UPSScoped(nil, desa, []byte("kota"), []byte("ups-x"), ns); len(m) != 0 {
		t.Errorf("another site's tag: %+v, want nothing", m)
	}
	if m := b.UPSScoped(nil, desa, []byte("nowhere"), []byte("ups-x"), ns); len(m) != 0 {
		t.Errorf("unknown site: %+v, want nothing", m)
	}
}
