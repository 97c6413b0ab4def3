package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/internal/lab"
	"github.com/pantau-noc/pantau/internal/testbuild"
)

// radioRecording is the agent's MikroTik vendor profile recording
// (RouterOS 7, wlan1 with its registration table) cut down to a
// point-to-point station: one peer, the far end 4c:5e:0c:ab:cd:01, whose
// signal strength is signal dBm.
func radioRecording(t *testing.T, signal int) []byte {
	t.Helper()
	rec, err := os.ReadFile(filepath.Join("..", "agent", "internal", "snmp", "testdata", "profiles", "mikrotik-v7.snmprec"))
	if err != nil {
		t.Fatal(err)
	}
	const rtab = "1.3.6.1.4.1.14988.1.1.1.2.1." // mtxrWlRtabEntry
	const farEnd = ".76.94.12.171.205.1.2|"     // MAC 4c:5e:0c:ab:cd:01, ifIndex 2 (wlan1)
	var out strings.Builder
	found := false
	for _, line := range strings.SplitAfter(string(rec), "\n") {
		if strings.HasPrefix(line, rtab) && !strings.Contains(line, farEnd) {
			continue // the other stations of the recording's AP
		}
		if strings.HasPrefix(line, rtab+"3"+farEnd) { // mtxrWlRtabStrength
			line, found = fmt.Sprintf("%s3%s2|%d\n", rtab, farEnd, signal), true
		}
		out.WriteString(line)
	}
	if !found {
		t.Fatal("the MikroTik recording has no mtxrWlRtabStrength row for 4c:5e:0c:ab:cd:01")
	}
	return []byte(out.String())
}

// upsRecording is the agent's UPS-MIB recording of an online MGE UPS,
// with upsOutputSource battery(5) when onBattery.
func upsRecording(t *testing.T, onBattery bool) []byte {
	t.Helper()
	rec, err := os.ReadFile(filepath.Join("..", "agent", "internal", "snmp", "testdata", "profiles", "ups-online.snmprec"))
	if err != nil {
		t.Fatal(err)
	}
	const normal = "1.3.6.1.2.1.33.1.4.1.0|2|3\n" // upsOutputSource normal(3)
	if !strings.Contains(string(rec), normal) {
		t.Fatal("the UPS recording does not say upsOutputSource normal(3)")
	}
	if onBattery {
		return []byte(strings.Replace(string(rec), normal, "1.3.6.1.2.1.33.1.4.1.0|2|5\n", 1))
	}
	return rec
}

// TestIntegrationLabRadioAndPower is the lab test, with the real
// agent reading snmpsim through its vendor profiles. A site has a radio
// link (MikroTik station, inventory `snmp: {device: radio1, interface:
// wlan1}`, type radio: degraded under −75 dBm) and a UPS (UPS-MIB). The
// agent at the site pings the far side every 10 s and polls both devices
// every 10 s; snmpsimd runs in the site's namespace and is restarted with
// other recordings to change what the devices say:
//
//   - for one whole minute the far end's signal is −82 dBm: that minute
//     is degraded (60 s), the minutes around it are up;
//   - then the UPS goes on battery and the site's link is cut for 35 s:
//     the agent, on the UPS, keeps making its heartbeats (buffered, sent
//     after the cut), which alone would make the outage the ISP's; with
//     the UPS on battery it is the power's, and the site's report gives
//     the minutes the UPS said it was on battery.
//
// Every expectation is read back from what the collector stored (the
// signal readings and on-battery readings per minute, the failed rounds),
// not assumed from the schedule.
func TestIntegrationLabRadioAndPower(t *testing.T) {
	lab.SkipShort(t, "root, network namespaces, snmpsim and minutes of real time")
	t.Parallel()
	agentBin, colBin := testbuild.Agent(t), testbuild.Collector(t)
	l, noc, _, site, _, _, siteIf := lab.ThreeHop(t)
	dir := t.TempDir()
	inv := filepath.Join(dir, "inventory.yml")
	os.WriteFile(inv, []byte(`sites:
  - {id: lab, name: Kantor Desa Lab, kind: opd, timezone: WIB}
links:
  - id: lab-radio
    site: lab
    type: radio
    isp: Lab Radio
    icmp: {target: 10.250.2.1}
    snmp: {device: radio1, interface: wlan1}
devices:
  - {id: radio1, site: lab}
  - {id: ups1, site: lab}
`), 0o600)
	ccfg := filepath.Join(dir, "collector.yml")
	os.WriteFile(ccfg, []byte(fmt.Sprintf("listen_address: 10.250.1.1:9810\ndata_dir: %s\ninventory: %s\n", filepath.Join(dir, "collector"), inv)), 0o600)
	tok, client, base := labCollector(t, l, noc, colBin, []string{"--config", ccfg, "--agent", "lab-agent", "--site", "lab"}, "--config", ccfg)

	// snmpsimd on the site's loopback, restarted at the same address to
	// change the recordings.
	const simAddr = "127.0.0.1:1161"
	var sim *lab.Snmpsim
	serve := func(signal int, onBattery bool) {
		t.Helper()
		if sim != nil {
			sim.Stop()
		}
		data := lab.SnmpsimDataDir(t)
		lab.WriteRecording(t, data, "radio", radioRecording(t, signal))
		lab.WriteRecording(t, data, "ups", upsRecording(t, onBattery))
		sim = lab.StartSnmpsimWith(t, lab.SnmpsimOptions{DataDir: data, Netns: site, Addr: simAddr})
		t.Logf("%s snmpsim: far-end signal %d dBm, UPS on battery %v", time.Now().Format("15:04:05.000"), signal, onBattery)
	}
	serve(-60, false)

	acfg := filepath.Join(dir, "agent.yml")
	os.WriteFile(acfg, []byte(fmt.Sprintf(`agent: {id: lab-agent, site: lab, state_dir: %s, listen_address: ""}
collectors:
  - {name: noc, url: "%s", token: %s, timeout: 5s}
queue: {batch_linger: 200ms, sync_interval: 500ms}
defaults: {interval: 10s, timeout: 2s}
icmp:
  - {target: 10.250.2.1, name: gw, packets: 1}
snmp:
  - {target: "%s", name: radio1, community: radio, interval: 10s, timeout: 4s}
  - {target: "%s", name: ups1, community: ups, interval: 10s, timeout: 4s}
`, filepath.Join(dir, "agent"), base, tok, simAddr, simAddr)), 0o600)
	agent, agentOut := l.Start(site, agentBin, "run", "--config", acfg, "--log.level", "warn")

	const (
		icmpSel    = `pantau_icmp_up{agent="lab-agent",name="gw"}`
		signalSel  = `pantau_snmp_radio_signal_dbm{device="radio1",ifname="wlan1",peer="4c:5e:0c:ab:cd:01",link="lab-radio"}`
		batterySel = `pantau_snmp_ups_on_battery{device="ups1",site="lab"}`
	)
	if !lab.WaitFor(t.Context(), 60*time.Second, func() bool {
		return len(rounds(t, client, base, icmpSel, 0)) >= 2 && len(rounds(t, client, base, signalSel, 0)) >= 1 &&
			len(rounds(t, client, base, batterySel, 0)) >= 1
	}) {
		t.Fatalf("the rounds and the profiles' readings did not reach the collector; agent log:\n%s", agentOut.String())
	}

	// The weak minute W starts at the next minute boundary (with the
	// three minutes after it in one WIB day, the report's period).
	wib, _ := time.LoadLocation("Asia/Jakarta")
	day := func(at time.Time) string { return at.In(wib).Format("2006-01-02") }
	w := time.Now().Truncate(time.Minute).Add(time.Minute)
	for w.Before(time.Now().Add(3*time.Second)) || day(w.Add(-time.Minute)) != day(w.Add(4*time.Minute)) {
		w = w.Add(time.Minute)
	}
	time.Sleep(time.Until(w.Add(time.Second)))
	serve(-82, false)
	time.Sleep(time.Until(w.Add(55 * time.Second)))
	serve(-60, true)
	cut, restore := w.Add(65*time.Second), w.Add(100*time.Second)
	time.Sleep(time.Until(cut))
	l.Down(site, siteIf)
	time.Sleep(time.Until(restore))
	l.Up(site, siteIf)
	t.Logf("weak minute %s; link cut %s – %s", w.Format("15:04"), cut.Format("15:04:05"), restore.Format("15:04:05"))

	// Wait for the backlog: every ICMP round from the minute before W to
	// past the first good one after the cut, and UPS readings after it.
	var firstFailed, firstGood int64
	if !lab.WaitFor(t.Context(), 90*time.Second, func() bool {
		firstFailed, firstGood = 0, 0
		rs := rounds(t, client, base, icmpSel, w.Add(-time.Minute).UnixMilli())
		for i, r := range rs {
			if i > 0 && r.ms-rs[i-1].ms > 15000 {
				return false
			}
			switch {
			case firstFailed == 0 && r.up == 0:
				firstFailed = r.ms
			case firstFailed != 0 && firstGood == 0 && r.up == 1:
				firstGood = r.ms
			}
		}
		ups := rounds(t, client, base, batterySel, restore.UnixMilli())
		return firstGood != 0 && rs[len(rs)-1].ms > firstGood && len(ups) > 0
	}) {
		t.Fatalf("the rounds of the cut did not arrive (first failed %d, first good %d)", firstFailed, firstGood)
	}
	// Stop the agent so that no more minutes on battery come while the
	// figures are compared.
	agent.Process.Signal(os.Interrupt)
	agent.Wait()
	if strings.Contains(agentOut.String(), "outside its schema range") {
		t.Errorf("the agent dropped values of the recordings:\n%s", agentOut.String())
	}

	// What the collector stored, minute by minute.
	weak, battery := map[int64]bool{}, map[int64]bool{}
	for _, r := range rounds(t, client, base, signalSel, 0) {
		if r.up < -75 {
			weak[r.ms/60000] = true
		}
	}
	for _, r := range rounds(t, client, base, batterySel, 0) {
		if r.up == 1 {
			battery[r.ms/60000] = true
		}
	}
	wm := w.Unix() / 60
	if len(weak) != 1 || !weak[wm] {
		t.Fatalf("minutes with a weak reading %v, want only %d (%s)", weak, wm, w.Format("15:04"))
	}
	cutMin, goodMin := firstFailed/60000, firstGood/60000
	for m := cutMin; m <= goodMin; m++ {
		if !battery[m] {
			t.Fatalf("no on-battery reading in minute %d of the cut (minutes on battery %v)", m, battery)
		}
	}
	hb := 0
	for _, r := range rounds(t, client, base, `pantau_agent_uptime_seconds{agent="lab-agent"}`, firstFailed) {
		if r.ms < firstGood {
			hb++
		}
	}
	if hb == 0 {
		t.Fatal("no heartbeat from the cut: the outage would be power for a silent agent, not for the UPS")
	}
	cutLen := (firstGood - firstFailed) / 1000
	t.Logf("first failed round %s, first good %s (%d s); %d heartbeats made during the cut; minutes on battery %d",
		time.UnixMilli(firstFailed).Format("15:04:05.000"), time.UnixMilli(firstGood).Format("15:04:05.000"), cutLen, hb, len(battery))

	resp, err := client.Get(base + "/api/v1/report?format=json&period=" + day(w) + ".." + day(w))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("report: %d %s", resp.StatusCode, body)
	}
	var rep struct {
		labReport
		Sites []struct {
			Site             string `json:"site"`
			OnBatteryMinutes int64  `json:"on_battery_minutes"`
		} `json:"sites"`
	}
	if err := json.Unmarshal(body, &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Links) != 1 || len(rep.Incidents) != 1 || len(rep.Sites) != 1 {
		t.Fatalf("report: %d links, %d sites, incidents %+v", len(rep.Links), len(rep.Sites), rep.Incidents)
	}
	lk, in := rep.Links[0], rep.Incidents[0]
	if lk.DegradedSeconds != 60 {
		t.Errorf("link degraded %d s, want 60 (the minute of weak signal)", lk.DegradedSeconds)
	}
	if d := in.DownSeconds - cutLen; in.Cause != "power" || d < -10 || d > 10 {
		t.Errorf("incident %+v, want cause power and %d s (± one 10-s slot)", in, cutLen)
	}
	if lk.DownSeconds != in.DownSeconds || lk.DowntimeByCause["power"] != in.DownSeconds || lk.DowntimeByCause["isp"] != 0 {
		t.Errorf("link down %d s, by cause %v; want all %d s power", lk.DownSeconds, lk.DowntimeByCause, in.DownSeconds)
	}
	if s := rep.Sites[0]; s.OnBatteryMinutes != int64(len(battery)) {
		t.Errorf("site %s on battery %d minutes, want %d (the minutes with an on-battery reading)", s.Site, s.OnBatteryMinutes, len(battery))
	}
	t.Logf("link: %d s up, %d s degraded, %d s down (cause %v); site on battery %d minutes",
		lk.UpSeconds, lk.DegradedSeconds, lk.DownSeconds, lk.DowntimeByCause, rep.Sites[0].OnBatteryMinutes)
}
