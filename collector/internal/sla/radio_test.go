package sla

import (
	"context"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/inventory"
)

const radioInventory = `
sites:
  - {id: desa, name: Kantor Desa, kind: district, timezone: WIT}
links:
  - {id: ptp, site: desa, type: radio, icmp: {target: 127.0.0.5}, snmp: {device: ap-desa, interface: wlan1}}
  - {id: fo, site: desa, type: fibre, icmp: {target: 127.0.0.6}, snmp: {device: rtr, interface: ether1}}
`

// radioDay scripts 6 October 2026 (WIT) for links ptp (radio, −75 dBm by
// default) and fo (fibre, no signal threshold). Rounds every 10 s from
// 10:00 to 11:00, up except 10:30–10:32 (down) and none in 10:40.
// snmp_radio readings at second 30 of every minute of the hour: peer A
// −60 dBm always; peer B −80 dBm in 10:10–10:14 (5 minutes), 10:30, 10:31
// (down minutes) and 10:40 (a minute without rounds); the interface's own
// −76 dBm at 10:20; −75 (not below) at 10:50. fo's interface reads −90
// every minute: fibre has no threshold.
//
// ptp by hand: degraded 5 + 1 = 6 minutes; down 2; nodata 1440 − 60 + 1
// = 1381 (10:40 stays nodata: a reading is no round); up 60 − 6 − 2 − 1
// = 51. fo: up 57, down 2, nodata 1381.
func radioDay(t *testing.T) (*inventory.Inventory, *MemStore, *Builder) {
	t.Helper()
	inv, err := inventory.Parse("inventory.yml", []byte(radioInventory))
	if err != nil {
		t.Fatal(err)
	}
	b := NewBuilder(inv, nil)
	var marks []Mark
	hm := func(h, m int) time.Time { return time.Date(2026, 10, 6, h, m, 0, 0, wit) }
	down := sp(hm(10, 30), hm(10, 32))
	gap := sp(hm(10, 40), hm(10, 41))
	for ts := hm(10, 0); ts.Before(hm(11, 0)); ts = ts.Add(10 * time.Second) {
		if gap.has(ts) {
			continue
		}
		up := !down.has(ts)
		for _, target := range []string{"127.0.0.5", "127.0.0.6"} {
			marks = b.ICMP(marks, "agent-desa", "", target, ts.UnixNano(), up, 0, 0.02, up)
		}
	}
	sc := Scope{Agent: "agent-desa", Sites: []string{"desa"}}
	read := func(ts time.Time, device, ifname string, dbm float64) {
		marks = b.RadioScoped(marks, sc, nil, []byte(device), []byte(ifname), ts.UnixNano(), dbm)
	}
	for m := 0; m < 60; m++ {
		ts := hm(10, m).Add(30 * time.Second)
		read(ts, "ap-desa", "wlan1", -60)
		read(ts, "rtr", "ether1", -90)
		if m >= 10 && m < 15 || m == 30 || m == 31 || m == 40 {
			read(ts, "ap-desa", "wlan1", -80)
		}
		switch m {
		case 20:
			read(ts, "ap-desa", "wlan1", -76)
		case 50:
			read(ts, "ap-desa", "wlan1", -75)
		}
	}
	for ts := hm(0, 0); ts.Before(hm(24, 0)); ts = ts.Add(time.Minute) {
		marks = append(marks, Mark{Kind: KindCollector, Minute: MinuteOf(ts.UnixNano()), Bits: BitSeen})
	}
	st := NewMemStore()
	if err := st.Merge(context.Background(), marks); err != nil {
		t.Fatal(err)
	}
	return inv, st, b
}

func TestRadioSignalDegradesMinutes(t *testing.T) {
	inv, st, _ := radioDay(t)
	p, err := ParsePeriod("2026-10-06..2026-10-06", wit)
	if err != nil {
		t.Fatal(err)
	}
	e := &Engine{Inv: inv, Store: st, Now: time.Date(2026, 10, 8, 0, 0, 0, 0, wit)}
	c := e.NewComputation(p)
	for _, w := range []struct {
		link string
		want Figures
	}{
		{"ptp", minutes(1440, 51, 6, 2, 0, 1381, 0)},
		{"fo", minutes(1440, 57, 0, 2, 0, 1381, 0)},
	} {
		r, err := c.Link(context.Background(), inv.Link(w.link))
		if err != nil {
			t.Fatal(err)
		}
		got := r.Figures
		got.Availability, got.Completeness, got.WorstCase = nil, nil, nil
		if got != w.want {
			t.Errorf("%s minutes:\n got %+v\nwant %+v", w.link, got, w.want)
		}
		if len(r.Outages) != 1 || r.Outages[0].DownMinutes != 2 {
			t.Errorf("%s outages %+v, want the one of 2 minutes", w.link, r.Outages)
		}
	}
}

// A reading marks only a link its scope may write, and only below the
// threshold; the link tag names the link whatever the interface.
func TestRadioScoped(t *testing.T) {
	inv, err := inventory.Parse("inventory.yml", []byte(radioInventory))
	if err != nil {
		t.Fatal(err)
	}
	b := NewBuilder(inv, nil)
	ns := time.Date(2026, 10, 6, 10, 0, 30, 0, wit).UnixNano()
	other := Scope{Agent: "agent-kota", Sites: []string{"kota"}}
	if m := b.RadioScoped(nil, other, nil, []byte("ap-desa"), []byte("wlan1"), ns, -90); len(m) != 0 {
		t.Errorf("out-of-scope reading marked %+v", m)
	}
	own := Scope{Agent: "agent-desa", Sites: []string{"desa"}}
	if m := b.RadioScoped(nil, own, nil, []byte("ap-desa"), []byte("wlan2"), ns, -90); len(m) != 0 {
		t.Errorf("reading of another interface marked %+v", m)
	}
	if m := b.RadioScoped(nil, own, []byte("ptp"), []byte("ap-x"), []byte("wlan9"), ns, -90); len(m) != 1 || m[0].ID != "ptp" || m[0].Bits != BitSignalLow {
		t.Errorf("link-tagged reading marked %+v", m)
	}
	if m := b.RadioScoped(nil, own, nil, []byte("ap-desa"), []byte("wlan1"), ns, -75); len(m) != 0 {
		t.Errorf("reading at the threshold marked %+v", m)
	}
}

// The current state: an up round and a low reading in the same minute
// are degraded, whichever is committed first; a reading alone is no
// round and changes nothing.
func TestRadioCurrentState(t *testing.T) {
	inv, err := inventory.Parse("inventory.yml", []byte(radioInventory))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 10, 6, 10, 5, 50, 0, wit)
	b := NewBuilder(inv, func() time.Time { return now })
	l := inv.Link("ptp")
	sc := Scope{Agent: "agent-desa"}
	low := func(ts time.Time) []Mark {
		return b.RadioScoped(nil, sc, nil, []byte("ap-desa"), []byte("wlan1"), ts.UnixNano(), -82)
	}
	round := func(ts time.Time) []Mark {
		return b.ICMP(nil, "agent-desa", "", "127.0.0.5", ts.UnixNano(), true, 0, 0.02, true)
	}
	b.Committed(low(now.Add(-5 * time.Minute)))
	if st := b.Current(l, "desa"); st != NoData {
		t.Errorf("a reading alone: %s, want nodata", st)
	}
	b.Committed(round(now.Add(-time.Minute)))
	if st := b.Current(l, "desa"); st != Up {
		t.Errorf("an up round after an older low reading: %s, want up", st)
	}
	b.Committed(low(now.Add(-10 * time.Second)))
	b.Committed(round(now))
	if st := b.Current(l, "desa"); st != Degraded {
		t.Errorf("low reading, then an up round in the minute: %s, want degraded", st)
	}
	b.Committed(round(now.Add(10 * time.Second)))
	if st := b.Current(l, "desa"); st != Up {
		t.Errorf("next minute without a low reading: %s, want up", st)
	}
}

// snmp_radio series of a link's interface get the link's labels, as its
// snmp_if series do.
func TestRadioSeriesLabels(t *testing.T) {
	inv, err := inventory.Parse("inventory.yml", []byte(radioInventory))
	if err != nil {
		t.Fatal(err)
	}
	b := NewBuilder(inv, nil)
	got := b.SeriesLabels("snmp_radio", "agent-desa", "", "", "ap-desa", "wlan1")
	if labelValue(got, "link") != "ptp" || labelValue(got, "site") != "desa" {
		t.Errorf("snmp_radio of ptp's interface: labels %v", got)
	}
	if got := b.SeriesLabels("snmp_radio", "agent-desa", "", "", "ap-desa", "wlan2"); labelValue(got, "link") != "" {
		t.Errorf("another interface got a link: %v", got)
	}
}
