package sla

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/tsdb"

	"github.com/pantau-noc/pantau/collector/internal/inventory"
)

// TestRebuildRadioAndUPS: sla rebuild makes the marks ingest makes from
// stored snmp_radio and snmp_ups series. Rounds up every 10 s 10:00–10:05
// (WIT, 6 October 2026); a −80 dBm reading at 10:02:30 (below ptp's −75):
// 10:02 degraded, 4 minutes up; on_battery 1 at 10:03:30 and 0 at 10:04:30:
// one minute on battery.
func TestRebuildRadioAndUPS(t *testing.T) {
	const src = `
sites:
  - {id: desa, name: Kantor Desa, kind: district, timezone: WIT}
links:
  - {id: ptp, site: desa, type: radio, icmp: {target: 127.0.0.5}, snmp: {device: ap-desa, interface: wlan1}}
devices:
  - {id: ups-desa, site: desa}
`
	inv, err := inventory.Parse("inventory.yml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	db, err := tsdb.Open(t.TempDir(), slog.New(slog.DiscardHandler), nil, tsdb.DefaultOptions(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	hm := func(h, m, s int) time.Time { return time.Date(2026, 10, 6, h, m, s, 0, wit) }
	app := db.Appender(context.Background())
	add := func(ls labels.Labels, ts time.Time, v float64) {
		if _, err := app.Append(0, ls, ts.UnixMilli(), v); err != nil {
			t.Fatal(err)
		}
	}
	up := labels.FromStrings("__name__", "pantau_icmp_up", "agent", "agent-desa", "link", "ptp", "site", "desa", "target", "127.0.0.5")
	for ts := hm(10, 0, 0); ts.Before(hm(10, 5, 0)); ts = ts.Add(10 * time.Second) {
		add(up, ts, 1)
	}
	add(labels.FromStrings("__name__", "pantau_snmp_radio_signal_dbm", "agent", "agent-desa", "device", "ap-desa", "ifname", "wlan1", "link", "ptp", "site", "desa"), hm(10, 2, 30), -80)
	bat := labels.FromStrings("__name__", "pantau_snmp_ups_on_battery", "agent", "agent-desa", "device", "ups-desa", "site", "desa")
	add(bat, hm(10, 3, 30), 1)
	add(bat, hm(10, 4, 30), 0)
	if err := app.Commit(); err != nil {
		t.Fatal(err)
	}
	st := NewMemStore()
	if _, _, err := Rebuild(context.Background(), db, inv, WriteScopes{}, st, hm(0, 0, 0), hm(23, 59, 0), func(int, int) {}); err != nil {
		t.Fatal(err)
	}
	p, err := ParsePeriod("2026-10-06..2026-10-06", wit)
	if err != nil {
		t.Fatal(err)
	}
	c := (&Engine{Inv: inv, Store: st, Now: hm(0, 0, 0).AddDate(0, 0, 2)}).NewComputation(p)
	s, links, err := c.SiteWithLinks(context.Background(), inv.Site("desa"))
	if err != nil {
		t.Fatal(err)
	}
	if len(links) != 1 || links[0].Figures.UpSeconds != 4*60 || links[0].Figures.DegradedSeconds != 60 {
		t.Errorf("ptp rebuilt: %+v, want 4 minutes up and 1 degraded", links[0].Figures)
	}
	if s.OnBatteryMinutes != 1 {
		t.Errorf("on battery %d minutes, want 1", s.OnBatteryMinutes)
	}
}
