package e2e

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"net/url"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/internal/testbuild"
	"github.com/pantau-noc/pantau/internal/testproc"
)

// TestIntegrationBacklogIsNoData: a real agent at site kantor probes
// 127.0.0.1 (link kantor-wan) every 10 s; the site's second link,
// kantor-lte, is in the inventory but no agent probes it. The collector
// is killed for a whole calendar minute and more while the agent keeps
// spooling, then restarted: the agent's backlog (rounds and heartbeats)
// arrives. The agent was alive through the collector's outage, so the
// minutes of it in which kantor-lte has no data are nodata, not
// monitoring gaps: kantor-lte's nodata minutes are exactly the minutes
// in which something watched the site, which are the minutes kantor-wan
// has any state but a gap in (its data, and its nodata before the
// agent's first round). Before the fix the collector's outage was a
// monitoring gap for kantor-lte while kantor-wan had data in it. After
// the link and heartbeat minute states are deleted, `sla rebuild` from
// the TSDB gives the same figures.
func TestIntegrationBacklogIsNoData(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: the collector stays down for a whole minute of real time")
	}
	t.Parallel()
	colBin, agentBin := testbuild.Collector(t), testbuild.Agent(t)
	dir := t.TempDir()
	data := filepath.Join(dir, "collector")
	addr := testproc.FreePort(t)
	base := "http://" + addr
	inv := writeFile(t, filepath.Join(dir, "inventory.yml"), `sites:
  - {id: kantor, name: Kantor Camat, kind: district, timezone: WIB}
links:
  - {id: kantor-wan, site: kantor, type: fibre, icmp: {target: 127.0.0.1}}
  - {id: kantor-lte, site: kantor, type: radio, icmp: {target: 127.0.0.7}}
`)
	ccfg := writeFile(t, filepath.Join(dir, "collector.yml"), fmt.Sprintf("listen_address: %s\ndata_dir: %s\ninventory: %s\n", addr, data, inv))
	tok := tokenCreate(t, colBin, "--config", ccfg, "--agent", "kantor-agent", "--site", "kantor")
	readWith(base, tokenCreate(t, colBin, "--config", ccfg, "--name", "reader", "--role", "viewer"))
	col := testproc.Start(t, colBin, addr, "--config", ccfg)
	acfg := writeFile(t, filepath.Join(dir, "agent.yml"), fmt.Sprintf(`agent: {id: kantor-agent, site: kantor, state_dir: %s, listen_address: ""}
collectors:
  - {name: noc, url: "%s", token: %s, timeout: 2s}
queue: {batch_linger: 200ms, sync_interval: 500ms}
defaults: {interval: 10s, timeout: 2s}
icmp:
  - {target: 127.0.0.1, name: gw, packets: 1}
`, filepath.Join(dir, "agent"), base, tok))
	agent := exec.Command(agentBin, "run", "--config", acfg, "--log.level", "warn")
	agent.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	var agentLog strings.Builder
	agent.Stdout, agent.Stderr = &agentLog, &agentLog
	if err := agent.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { agent.Process.Kill(); agent.Wait() })

	// count returns how many samples of sel lie in [from, to).
	count := func(sel string, from, to time.Time) int {
		q := fmt.Sprintf("count_over_time(%s[%ds])", sel, int(to.Sub(from).Seconds()))
		code, js := getText(t, base, "/api/v1/query?query="+url.QueryEscape(q)+fmt.Sprintf("&time=%.3f", float64(to.UnixMilli()-1)/1000))
		if code != 200 {
			return 0
		}
		var r struct {
			Data struct {
				Result []struct {
					Value [2]any `json:"value"`
				} `json:"result"`
			} `json:"data"`
		}
		if json.Unmarshal([]byte(js), &r) != nil || len(r.Data.Result) == 0 {
			return 0
		}
		var n int
		fmt.Sscan(fmt.Sprint(r.Data.Result[0].Value[1]), &n)
		return n
	}
	const rounds, beats = `pantau_icmp_up{link="kantor-wan"}`, `pantau_agent_uptime_seconds{site="kantor"}`
	start := time.Now()
	testproc.WaitFor(t, 60*time.Second, "the agent's first round", func() bool { return count(rounds, start.Add(-time.Minute), time.Now().Add(time.Second)) > 0 })

	// the collector is down from kill through the whole next minute
	kill := time.Now()
	col.Cmd.Process.Kill()
	col.Cmd.Wait()
	gap := kill.Truncate(time.Minute).Add(time.Minute) // [gap, gap+1m) entirely down
	testproc.WaitFor(t, 3*time.Minute, "a whole minute with the collector down", func() bool { return time.Now().After(gap.Add(time.Minute + 2*time.Second)) })
	col = testproc.Start(t, colBin, addr, "--config", ccfg)
	// the backlog arrives: the agent's rounds and heartbeats of the
	// collector's down minute (one round and one heartbeat every 10 s)
	testproc.WaitFor(t, 2*time.Minute, "the backlog of the down minute", func() bool {
		return count(rounds, gap, gap.Add(time.Minute)) >= 5 && count(beats, gap, gap.Add(time.Minute)) >= 1
	})

	wib := time.FixedZone("WIB", 7*3600)
	period := start.In(wib).Format("2006-01-02") + ".." + time.Now().In(wib).Format("2006-01-02")
	figures := func() (wan, lte colLinkRow) {
		t.Helper()
		code, out, errOut := runCollector(t, colBin, "report", "--config", ccfg, "--period", period, "--format", "json")
		if code != 0 {
			t.Fatalf("report: exit %d %s", code, errOut)
		}
		var r colReport
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatalf("report JSON: %v", err)
		}
		for _, l := range r.Links {
			switch l.Link {
			case "kantor-wan":
				wan = l
			case "kantor-lte":
				lte = l
			}
		}
		return wan, lte
	}
	check := func(when string, wan, lte colLinkRow) {
		t.Helper()
		watched := wan.Up + wan.Degraded + wan.Down + wan.NoData
		t.Logf("%s: kantor-wan %+v; kantor-lte %+v", when, wan, lte)
		// kantor-lte has no data at all: its nodata minutes are the
		// minutes something watched the site, the same minutes in which
		// kantor-wan is not a gap; the down minute is one of them
		// (kantor-wan may miss a round in an edge minute on a loaded
		// machine: the agent's first minute, or the minute the
		// collector was stopped in; that minute is nodata for both)
		if lte.Up+lte.Degraded+lte.Down != 0 || lte.NoData != watched || lte.NoData < 3 || wan.Up < 2 {
			t.Errorf("%s: kantor-wan %+v, kantor-lte %+v: kantor-lte's nodata minutes should equal kantor-wan's watched minutes %v", when, wan, lte, watched)
		}
	}
	// the collector stopped (so that the figures hold still), the link
	// and heartbeat states deleted and built again from the TSDB: the
	// same figures
	col.Cmd.Process.Signal(syscall.SIGTERM)
	col.Cmd.Wait()
	wan, lte := figures()
	check("after the backlog", wan, lte)
	db, err := sql.Open("sqlite", "file:"+filepath.Join(data, "state.db")+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`DELETE FROM minutes WHERE kind IN (1, 2)`); err != nil { // links, site heartbeats
		t.Fatal(err)
	}
	db.Close()
	if w, _ := figures(); w.Up != 0 {
		t.Fatalf("kantor-wan still has data after its states were deleted: %+v", w)
	}
	from := start.In(wib).Format("2006-01-02")
	to := time.Now().In(wib).AddDate(0, 0, 1).Format("2006-01-02")
	if code, out, errOut := runCollector(t, colBin, "sla", "rebuild", "--config", ccfg, "--from", from, "--to", to); code != 0 {
		t.Fatalf("sla rebuild: exit %d %s %s", code, out, errOut)
	}
	wan2, lte2 := figures()
	check("after sla rebuild", wan2, lte2)
	if wan2 != wan || lte2 != lte {
		t.Errorf("sla rebuild changed the figures:\n kantor-wan %+v\n        now %+v\n kantor-lte %+v\n        now %+v", wan, wan2, lte, lte2)
	}
}
