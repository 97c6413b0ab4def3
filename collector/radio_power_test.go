package collector

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/config"
	"github.com/pantau-noc/pantau/collector/internal/report"
)

const radioPowerInventory = `
sites:
  - {id: desa, name: Kantor Desa Aimas, kind: opd, timezone: WIB}
links:
  - {id: desa-ptp, site: desa, type: radio, icmp: {target: 127.0.0.2}, snmp: {device: ap-desa, interface: wlan1}}
devices:
  - {id: ups-desa, site: desa}
`

// TestIntegrationRadioAndPower writes to a running collector 20 minutes
// of rounds every 30 s for a radio link, an agent heartbeat every round,
// the radio's per-peer signal every minute and the UPS's status. Minutes
// 15–17 back the far end's signal is −80 dBm (below the radio default of
// −75): 3 degraded minutes. Minutes 8–10 back the link is down while the
// agent keeps sending heartbeats (it runs on the UPS) and the UPS is on
// battery in minutes 7–11 back: one outage of 3 minutes, cause power, and
// 5 minutes on battery for the site.
func TestIntegrationRadioAndPower(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: runs a collector")
	}
	t.Parallel()
	dir := t.TempDir()
	invPath := filepath.Join(dir, "inventory.yml")
	if err := os.WriteFile(invPath, []byte(radioPowerInventory), 0o644); err != nil {
		t.Fatal(err)
	}
	tc := startCollector(t, func(c *config.Config) { c.Inventory = invPath })
	tok := tc.token("agent-desa", "desa")

	end := time.Now().Truncate(time.Minute).Add(-time.Minute)
	var body strings.Builder
	for i := 0; i < 40; i++ {
		ts := end.Add(-time.Duration(i) * 30 * time.Second)
		back := int(end.Sub(ts.Truncate(time.Minute)) / time.Minute)
		if back >= 8 && back <= 10 {
			fmt.Fprintf(&body, "icmp,target=127.0.0.2 packets_sent=5u,packets_received=0u,loss_ratio=1,up=0i %d\n", ts.Unix())
		} else {
			fmt.Fprintf(&body, "icmp,target=127.0.0.2 packets_sent=5u,packets_received=5u,loss_ratio=0,rtt_avg_seconds=0.004,up=1i %d\n", ts.Unix())
		}
		fmt.Fprintf(&body, "agent,version=t uptime_seconds=%d %d\n", 100+i, ts.Unix())
		if ts.Second() != 0 {
			continue // SNMP once a minute, at second 0
		}
		far := -62
		if back >= 15 && back <= 17 {
			far = -80
		}
		fmt.Fprintf(&body, "snmp_radio,device=ap-desa,ifname=wlan1,peer=4c:5e:0c:ab:cd:01 signal_dbm=%d,ccq_ratio=0.9 %d\n", far, ts.Unix())
		fmt.Fprintf(&body, "snmp_radio,device=ap-desa,ifname=wlan1 noise_dbm=-100,frequency_hertz=5.18e9 %d\n", ts.Unix())
		onBattery := 0
		if back >= 7 && back <= 11 {
			onBattery = 1
		}
		fmt.Fprintf(&body, "snmp_ups,device=ups-desa on_battery=%di,battery_charge_ratio=0.9 %d\n", onBattery, ts.Unix())
	}
	if code, msg := tc.write(tok, body.String()); code != http.StatusNoContent {
		t.Fatalf("write: %d %s", code, msg)
	}
	if v := tc.query(`pantau_snmp_radio_signal_dbm{link="desa-ptp",site="desa",peer="4c:5e:0c:ab:cd:01"}`, end); len(v) != 1 {
		t.Errorf("the radio's series lack the link's labels: %v", v)
	}

	wib, _ := time.LoadLocation("Asia/Jakarta")
	day := func(t time.Time) string { return t.In(wib).Format("2006-01-02") }
	period := day(end.Add(-time.Hour)) + ".." + day(end)
	code, js := tc.get("/api/v1/report?format=json&period=" + period)
	if code != 200 {
		t.Fatalf("report API: %d %s", code, js)
	}
	var r report.Report
	if err := json.Unmarshal([]byte(js), &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Links) != 1 || len(r.Sites) != 1 {
		t.Fatalf("report links %+v sites %+v", r.Links, r.Sites)
	}
	// 21 minutes with data: 3 down, 3 degraded, 15 up
	l := r.Links[0]
	if l.Up != 15 || l.Degraded != 3 || l.Down != 3 || l.Outages != 1 {
		t.Errorf("link figures %+v", l.Figures)
	}
	if l.DowntimeByCause["power"] != 3 {
		t.Errorf("downtime by cause %v, want power 3 (the UPS was on battery although heartbeats came)", l.DowntimeByCause)
	}
	if s := r.Sites[0]; s.OnBatteryMinutes != 5 {
		t.Errorf("site on battery %d minutes, want 5", s.OnBatteryMinutes)
	}
}
