package agent

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/agent/internal/lab"

	"github.com/pantau-noc/pantau/internal/testbuild"
)

// TestIntegrationLabSLAReport is the SLA engine end to end: an agent at a
// site probes its gateway every 10 s and sends to a collector in the NOC
// namespace whose inventory has the link. The site's link is cut for
// exactly two minutes, placed 5 s clear of probe rounds so that every
// round in those minutes fails and none outside does. The agent buffers
// through the cut and forwards afterwards. The report must show one
// outage of two minutes starting when the cut did, caused by the ISP link
// (the agent kept reporting), and the availability those minutes give.
func TestIntegrationLabSLAReport(t *testing.T) {
	agentBin, colBin := testbuild.Agent(t), testbuild.Collector(t)
	l, noc, _, site, _, _, siteIf := threeHop(t)
	dir := t.TempDir()
	data := filepath.Join(dir, "collector")
	inv := filepath.Join(dir, "inventory.yml")
	os.WriteFile(inv, []byte(`sites:
  - {id: lab, name: Kantor Lab, kind: opd, timezone: WIB, sla_target: 99.5}
links:
  - {id: lab-wan, site: lab, type: fibre, isp: Lab ISP, icmp: {target: 10.250.2.1}}
`), 0o600)
	ccfg := filepath.Join(dir, "collector.yml")
	os.WriteFile(ccfg, []byte(fmt.Sprintf("listen_address: 10.250.1.1:9810\ndata_dir: %s\ninventory: %s\n", data, inv)), 0o600)
	tok, client, base := labCollector(t, l, noc, colBin, []string{"--config", ccfg, "--agent", "lab-agent", "--site", "lab"}, "--config", ccfg)
	acfg := filepath.Join(dir, "agent.yml")
	os.WriteFile(acfg, []byte(fmt.Sprintf(`agent: {id: lab-agent, site: lab, state_dir: %s, listen_address: ""}
collectors:
  - {name: noc, url: "%s", token: %s, timeout: 5s}
queue: {batch_linger: 200ms, sync_interval: 500ms}
defaults: {interval: 10s, timeout: 2s}
icmp:
  - {target: 10.250.2.1, name: gw, packets: 1}
`, filepath.Join(dir, "agent"), base, tok)), 0o600)
	l.Start(site, agentBin, "run", "--config", acfg, "--log.level", "warn")

	const sel = `pantau_icmp_up{agent="lab-agent",name="gw"}`
	var ts []int64
	if !lab.WaitFor(t.Context(), 60*time.Second, func() bool { ts = samples(t, client, base, sel); return len(ts) >= 2 }) {
		t.Fatal("no data reached the collector")
	}
	// Rounds start at offset o within every 10 s. Cut 5 s before the
	// first round of a minute M, restore 120 s later: minutes M and M+1
	// are all down, M-1 and M+2 all up.
	const interval, cutLen = 10 * time.Second, 2 * time.Minute
	o := time.Duration(ts[len(ts)-1]%int64(interval/time.Millisecond)) * time.Millisecond
	m := time.Now().Truncate(time.Minute).Add(time.Minute)
	for m.Add(o - 5*time.Second).Before(time.Now().Add(2 * time.Second)) {
		m = m.Add(time.Minute)
	}
	cut := m.Add(o - 5*time.Second)
	time.Sleep(time.Until(cut))
	l.Down(site, siteIf)
	time.Sleep(time.Until(cut.Add(cutLen)))
	l.Up(site, siteIf)
	t.Logf("round offset %s; link cut %s – %s", o, cut.Format("15:04:05.000"), cut.Add(cutLen).Format("15:04:05.000"))

	// wait for the buffered rounds and one minute after the cut
	after := m.Add(cutLen + time.Minute).UnixMilli()
	if !lab.WaitFor(t.Context(), 90*time.Second, func() bool {
		ts := samples(t, client, base, sel)
		return len(ts) > 0 && ts[len(ts)-1] >= after
	}) {
		t.Fatal("the rounds after the cut did not arrive")
	}
	wib, _ := time.LoadLocation("Asia/Jakarta")
	day := m.In(wib).Format("2006-01-02")
	resp, err := client.Get(base + "/api/v1/report?format=json&period=" + day + ".." + day)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("report: %d %s", resp.StatusCode, body)
	}
	var rep struct {
		Links []struct {
			Link            string         `json:"link"`
			Up              int            `json:"up"`
			Degraded        int            `json:"degraded"`
			Down            int            `json:"down"`
			Availability    *float64       `json:"availability_pct"`
			DowntimeByCause map[string]int `json:"downtime_by_cause_minutes"`
		} `json:"links"`
		Incidents []struct {
			Start           time.Time `json:"start"`
			DurationMinutes int       `json:"duration_minutes"`
			DownMinutes     int       `json:"down_minutes"`
			Cause           string    `json:"cause"`
		} `json:"incidents"`
	}
	if err := json.Unmarshal(body, &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Links) != 1 || len(rep.Incidents) != 1 {
		t.Fatalf("report: %d links, incidents %+v", len(rep.Links), rep.Incidents)
	}
	in, lk := rep.Incidents[0], rep.Links[0]
	if !in.Start.Equal(m) || in.DurationMinutes != 2 || in.DownMinutes != 2 || in.Cause != "isp" {
		t.Errorf("incident %+v, want start %s, 2 minutes, cause isp", in, m.Format(time.RFC3339))
	}
	if lk.Down != 2 || lk.Degraded != 0 || lk.DowntimeByCause["isp"] != 2 {
		t.Errorf("link minutes up %d degraded %d down %d, by cause %v", lk.Up, lk.Degraded, lk.Down, lk.DowntimeByCause)
	}
	if want := 100 * float64(lk.Up) / float64(lk.Up+2); lk.Availability == nil || *lk.Availability != want {
		t.Errorf("availability %v, want %v", lk.Availability, want)
	}
	t.Logf("report: %d up minutes, %d down, availability %.3f %%", lk.Up, lk.Down, *lk.Availability)
}
