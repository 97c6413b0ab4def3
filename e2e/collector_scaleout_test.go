package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/internal/lab"
	"github.com/pantau-noc/pantau/internal/testbuild"
	"github.com/pantau-noc/pantau/internal/testengine"
	"github.com/pantau-noc/pantau/internal/testproc"
	"github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
)

// startVM starts Debian's victoria-metrics the way docs/scale-out.md
// tells an HA pair to run it: deduplication of identical samples
// (-dedup.minScrapeInterval=1ms) and no query latency offset. It returns
// the base URL.
func startVM(t *testing.T) string {
	t.Helper()
	return testengine.Start(t, testengine.VictoriaMetrics, "-dedup.minScrapeInterval", "1ms", "-search.disableCache").URL()
}

type scaleNode struct {
	name, dir, addr, cfg string
	p                    *testproc.Proc
}

func (n *scaleNode) base() string { return "http://" + n.addr }

const scaleInvX = `
sites:
  - {id: x, name: Dinas X, kind: opd, timezone: WIB}
links:
  - {id: x-wan1, site: x, type: fibre, bandwidth: 20Mbps, icmp: {target: 127.0.1.1}}
  - {id: x-wan2, site: x, type: radio, bandwidth: 10Mbps, icmp: {target: 127.0.1.2}}
`

const scaleInvY = `
sites:
  - {id: y, name: Dinas Y, kind: opd, timezone: WIB}
links:
  - {id: y-wan, site: y, type: vsat, bandwidth: 4Mbps, icmp: {target: 127.0.2.1}}
`

const scaleInvAll = `
sites:
  - {id: x, name: Dinas X, kind: opd, timezone: WIB}
  - {id: y, name: Dinas Y, kind: opd, timezone: WIB}
links:
  - {id: x-wan1, site: x, type: fibre, bandwidth: 20Mbps, icmp: {target: 127.0.1.1}}
  - {id: x-wan2, site: x, type: radio, bandwidth: 10Mbps, icmp: {target: 127.0.1.2}}
  - {id: y-wan, site: y, type: vsat, bandwidth: 4Mbps, icmp: {target: 127.0.2.1}}
`

// TestIntegrationScaleOut runs both scale-out topologies of
// docs/scale-out.md at once, with real agents and real collector
// processes in front of a real victoria-metrics:
//
//   - an HA pair, a and b, both receiving agent-x (the agent fans out with a
//     queue cursor per collector), both remote-writing to the engine;
//   - a second shard, s, owning agent-y, remote-writing to the same engine;
//   - a reference single collector, c, receiving both agents, with the
//     embedded TSDB only.
//
// Collector a is killed with SIGKILL in the middle, stays down while the
// agents take rounds (queued for it), and is restarted. Each phase lasts
// until what it needs has happened (rounds stored, delivered, queues
// empty), not a fixed time. Then: the engine holds exactly the
// reference's samples (the same series and millisecond timestamps after
// its deduplication, the same values to its 12 significant digits); a and
// b report the same minute states as the reference; and a reporting
// collector with no TSDB of its own (storage.local: false) rebuilds the
// province's states from the engine and reports the same figures as the
// reference for every link of both shards.
func TestIntegrationScaleOut(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test (collector and agent processes, victoria-metrics)")
	}
	t.Parallel()
	bin := testbuild.Collector(t)
	agentBin := testbuild.Agent(t)
	vm := startVM(t)
	work := t.TempDir()
	write := func(path, data string) string { t.Helper(); return writeFile(t, path, data) }
	invX := write(filepath.Join(work, "inv-x.yml"), scaleInvX)
	invY := write(filepath.Join(work, "inv-y.yml"), scaleInvY)
	invAll := write(filepath.Join(work, "inv-all.yml"), scaleInvAll)

	nodes := map[string]*scaleNode{}
	addrs := testproc.FreePorts(t, 6)
	for i, n := range []struct {
		name, inv string
		remote    bool
	}{{"a", invX, true}, {"b", invX, true}, {"s", invY, true}, {"c", invAll, false}} {
		nd := &scaleNode{name: n.name, dir: filepath.Join(work, n.name), addr: addrs[i]}
		cfg := fmt.Sprintf("listen_address: %s\ndata_dir: %s\ninventory: %s\n", nd.addr, nd.dir, n.inv)
		if n.remote {
			cfg += fmt.Sprintf("storage:\n  remote_write:\n    - {name: vm, url: %s/api/v1/write}\n", vm)
		}
		nd.cfg = write(filepath.Join(work, n.name+".yml"), cfg)
		nodes[n.name] = nd
	}
	token := func(nd *scaleNode, agent, site string) string {
		tok := tokenCreate(t, bin, "--data-dir", nd.dir, "--agent", agent, "--site", site)
		return write(filepath.Join(work, nd.name+"-"+agent+".token"), tok)
	}
	// Rounds every second: each phase below needs a few of them.
	agentCfg := func(id, site string, colls []*scaleNode, targets ...[2]string) string {
		var b strings.Builder
		fmt.Fprintf(&b, "agent: {id: %s, site: %s, state_dir: %s, listen_address: \"\"}\ncollectors:\n", id, site, filepath.Join(work, id))
		for _, nd := range colls {
			fmt.Fprintf(&b, "  - {name: %s, url: %s, token_file: %s, timeout: 10s}\n", nd.name, nd.base(), token(nd, id, site))
		}
		b.WriteString("queue: {sync_interval: 1s, batch_linger: 1s}\ndefaults: {interval: 1s, timeout: 1s, icmp: {packets: 2, packet_interval: 100ms}}\nicmp:\n")
		for _, tg := range targets {
			fmt.Fprintf(&b, "  - {target: %s, tags: {site: %s, link: %s}}\n", tg[0], site, tg[1])
		}
		return write(filepath.Join(work, id+".yml"), b.String())
	}
	cfgX := agentCfg("agent-x", "x", []*scaleNode{nodes["a"], nodes["b"], nodes["c"]}, [2]string{"127.0.1.1", "x-wan1"}, [2]string{"127.0.1.2", "x-wan2"})
	cfgY := agentCfg("agent-y", "y", []*scaleNode{nodes["s"], nodes["c"]}, [2]string{"127.0.2.1", "y-wan"})

	for _, name := range []string{"a", "b", "s", "c"} {
		nd := nodes[name]
		nd.p = testproc.Start(t, bin, nd.addr, "--auth.anonymous", "viewer", "--config", nd.cfg)
	}
	start := time.Now()
	var agents []*exec.Cmd
	for _, c := range []string{cfgX, cfgY} {
		logs := &lab.SyncBuffer{}
		cmd := exec.Command(agentBin, "run", "--config", c, "--log.level", "warn")
		cmd.Stdout, cmd.Stderr = logs, logs
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		agents = append(agents, cmd)
		t.Cleanup(func() {
			if cmd.ProcessState == nil {
				cmd.Process.Kill()
				cmd.Wait()
			}
			if t.Failed() {
				t.Logf("agent %s logs:\n%s", c, logs.String())
			}
		})
	}

	// rounds(base, since) is how many rounds of agent-x's x-wan1 the
	// collector at base holds from since on.
	rounds := func(base string, since time.Time) int {
		n := 0
		for _, ss := range rawSeries(t, base, `pantau_icmp_up{agent="agent-x",link="x-wan1"}`, time.Now().Add(time.Minute), time.Since(since)+time.Minute) {
			for _, s := range ss {
				if s.T >= since.UnixMilli() {
					n++
				}
			}
		}
		return n
	}
	// normal operation: a holds several rounds; then a is killed and
	// stays down while the agents take rounds that are queued for it
	testproc.WaitFor(t, 60*time.Second, "5 rounds of agent-x at a", func() bool { return rounds(nodes["a"].base(), start) >= 5 })
	nodes["a"].p.Kill()
	killed := time.Now()
	t.Logf("collector a killed at +%s", killed.Sub(start).Round(time.Second))
	testproc.WaitFor(t, 60*time.Second, "10 rounds of agent-x at c while a is down", func() bool { return rounds(nodes["c"].base(), killed) >= 10 })
	// a stays down across a minute boundary, and 5 rounds into the next
	// minute, so that two minutes are refilled from the agents' backlog
	// only in part: the minute figures must still come out exact
	boundary := killed.Truncate(time.Minute).Add(time.Minute)
	testproc.WaitFor(t, 70*time.Second, "a minute boundary while a is down", func() bool { return time.Now().After(boundary.Add(5 * time.Second)) })
	nodes["a"].p = testproc.Start(t, bin, nodes["a"].addr, "--auth.anonymous", "viewer", "--config", nodes["a"].cfg)
	restarted := time.Now()
	t.Logf("collector a restarted at +%s", restarted.Sub(start).Round(time.Second))
	// a takes the backlog and new rounds again
	testproc.WaitFor(t, 90*time.Second, "rounds taken after the restart to reach a", func() bool { return rounds(nodes["a"].base(), restarted) >= 3 })
	// the agents stop (SIGTERM keeps their queues); everything they took
	// must now reach every collector and, through a, b and s, the engine
	for _, cmd := range agents {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	}
	end := time.Now()
	rng := end.Sub(start) + time.Minute
	t.Logf("agents stopped at +%s", end.Sub(start).Round(time.Second))
	// restart the agents with their queues and no targets, to deliver
	// what is left and take nothing new; their self-metrics say when the
	// queues are empty
	var drains []string
	for i, c := range []string{cfgX, cfgY} {
		b, err := os.ReadFile(c)
		if err != nil {
			t.Fatal(err)
		}
		drain, _, _ := strings.Cut(string(b), "icmp:\n")
		drain = strings.Replace(drain, `listen_address: ""`, "listen_address: "+addrs[4+i], 1)
		c = write(strings.TrimSuffix(c, ".yml")+"-drain.yml", drain)
		cmd := exec.Command(agentBin, "run", "--config", c, "--log.level", "warn")
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		agents[i] = cmd
		drains = append(drains, "http://"+addrs[4+i])
		t.Cleanup(func() {
			if cmd.ProcessState == nil {
				cmd.Process.Kill()
				cmd.Wait()
			}
		})
	}
	testproc.WaitFor(t, 3*time.Minute, "the agents' queues to be delivered to every collector", func() bool {
		for _, d := range drains {
			res, err := get(d + "/metrics")
			if err != nil {
				return false
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if !strings.Contains(string(b), "\npantau_agent_queue_batches 0\n") {
				return false
			}
		}
		return true
	})

	const sel = `{__name__=~"pantau_icmp_.*|pantau_agent_.*",agent=~"agent-x|agent-y"}`
	// series labels that differ by collector: none for agent data
	want := rawSeries(t, nodes["c"].base(), sel, end, rng)
	if sampleCount(want) < 100 {
		t.Fatalf("reference collector has only %d samples", sampleCount(want))
	}
	isX := func(id string) bool { return strings.Contains(id, "agent=agent-x") }
	for _, h := range []struct {
		name, base string
		holds      func(string) bool
	}{{"a", nodes["a"].base(), isX}, {"b", nodes["b"].base(), isX}, {"s", nodes["s"].base(), func(id string) bool { return !isX(id) }}} {
		got := rawSeries(t, h.base, sel, end, rng)
		for id, ss := range want {
			if h.holds(id) && !sameSamples(got[id], ss) {
				t.Errorf("collector %s, series %s: %d samples, reference %d; first difference at %v", h.name, id, len(got[id]), len(ss), firstDiff(got[id], ss))
			}
		}
	}
	// a, b and s have acknowledged everything; their remote write
	// reaches the engine
	testproc.WaitFor(t, 2*time.Minute, "the engine to hold every sample of the reference", func() bool {
		got := rawSeries(t, vm, sel, end, rng)
		for id, ss := range want {
			if len(got[id]) != len(ss) {
				return false
			}
		}
		return true
	})
	got := rawSeries(t, vm, sel, end, rng)
	for id, ss := range want {
		if !sameSamples(got[id], ss) {
			t.Errorf("engine series %s: %d samples, reference %d; first difference at %v", id, len(got[id]), len(ss), firstDiff(got[id], ss))
		}
	}
	for id := range got {
		if _, ok := want[id]; !ok {
			t.Errorf("engine has a series the reference lacks: %s", id)
		}
	}

	// minute states: a, b (HA pair) and s (shard) against the reference
	wib := time.FixedZone("WIB", 7*3600)
	period := start.In(wib).Format("2006-01-02") + ".." + end.In(wib).Format("2006-01-02")
	refRows := linkFigures(t, nodes["c"].base(), period)
	for _, name := range []string{"a", "b", "s"} {
		rows := linkFigures(t, nodes[name].base(), period)
		if len(rows) == 0 {
			t.Errorf("collector %s reports no links", name)
		}
		for link, f := range rows {
			if f != refRows[link] {
				t.Errorf("collector %s, link %s: %+v; reference %+v", name, link, f, refRows[link])
			}
		}
	}

	// the province report from the engine: a collector with no TSDB,
	// the whole inventory, rebuilding the states from the engine
	repDir := filepath.Join(work, "report")
	repCfg := write(filepath.Join(work, "report.yml"), fmt.Sprintf("data_dir: %s\ninventory: %s\nstorage:\n  local: false\n  remote_write:\n    - {name: vm, url: %s/api/v1/write}\n  remote_query: {url: %s}\n", repDir, invAll, vm, vm))
	day := func(tm time.Time) string { return tm.In(wib).Format("2006-01-02") }
	code, out, errOut := runCollector(t, bin, "sla", "rebuild", "--config", repCfg, "--from", day(start), "--to", day(end.Add(24*time.Hour)), "--log.level", "warn")
	if code != 0 {
		t.Fatalf("sla rebuild from the engine: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut = runCollector(t, bin, "report", "--config", repCfg, "--period", period, "--format", "json", "--log.level", "warn")
	if code != 0 {
		t.Fatalf("sla report from the engine: exit %d\n%s", code, errOut)
	}
	var rep colReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("report JSON: %v\n%s", err, out)
	}
	if len(rep.Links) != 3 {
		t.Fatalf("province report has %d links, want 3", len(rep.Links))
	}
	for _, l := range rep.Links {
		if f := figuresOf(l); f != refRows[l.Link] {
			t.Errorf("province report from the engine, link %s: %+v; reference %+v", l.Link, f, refRows[l.Link])
		}
	}
}

// dataFigures are a link's figures that depend on the data alone; the
// minutes without data are "nodata" or "monitoring gap" depending on
// whether the collector that reports them was running then, so only their
// sum is compared.
type dataFigures struct {
	Up, Degraded, Down float64 // minutes
	Outages            int
	Unobserved         float64
}

func figuresOf(l colLinkRow) dataFigures {
	return dataFigures{Up: l.Up, Degraded: l.Degraded, Down: l.Down, Outages: l.Outages, Unobserved: l.NoData + l.Monitoring}
}

func linkFigures(t *testing.T, base, period string) map[string]dataFigures {
	t.Helper()
	res, err := get(base + "/api/v1/report?format=json&period=" + period)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		t.Fatalf("report from %s: %d %s", base, res.StatusCode, b)
	}
	var r colReport
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	out := map[string]dataFigures{}
	for _, l := range r.Links {
		out[l.Link] = figuresOf(l)
	}
	return out
}

// sameSamples: the same timestamps, and the same values as far as
// victoria-metrics keeps them. It stores about 12 significant decimal
// digits (an agent's uptime of 9.762247392999999 s reads back as
// 9.762247393), so values may differ by one part in 10^12.
func sameSamples(a, b []rawSample) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !sameSample(a[i], b[i]) {
			return false
		}
	}
	return true
}

func sameSample(a, b rawSample) bool {
	if a.T != b.T {
		return false
	}
	if a.V == b.V {
		return true
	}
	x, err1 := strconv.ParseFloat(a.V, 64)
	y, err2 := strconv.ParseFloat(b.V, 64)
	return err1 == nil && err2 == nil && math.Abs(x-y) <= 1e-12*math.Max(math.Abs(x), math.Abs(y))
}

func firstDiff(a, b []rawSample) string {
	for i := range min(len(a), len(b)) {
		if !sameSample(a[i], b[i]) {
			return fmt.Sprintf("#%d engine %+v reference %+v", i, a[i], b[i])
		}
	}
	return fmt.Sprintf("length %d vs %d", len(a), len(b))
}

// TestIntegrationRemoteOnly: a collector with no TSDB of its own
// (storage.local: false) writes everything to victoria-metrics and reads it
// back through the engine's query API: its own /api/v1/query, the SLA
// report with its capacity figures, and an alert rule evaluated on the
// engine, whose message reaches a webhook.
func TestIntegrationRemoteOnly(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test (victoria-metrics)")
	}
	t.Parallel()
	bin := testbuild.Collector(t)
	vm := startVM(t)
	hookBodies := make(chan []byte, 16)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		hookBodies <- b
	}))
	defer hook.Close()
	dir := t.TempDir()
	invPath := filepath.Join(dir, "inventory.yml")
	if err := os.WriteFile(invPath, []byte(slaTestInventory), 0o644); err != nil {
		t.Fatal(err)
	}
	dataDir := filepath.Join(dir, "data")
	addr := testproc.FreePort(t)
	base := "http://" + addr
	cfgPath := writeFile(t, filepath.Join(dir, "collector.yml"), fmt.Sprintf(`listen_address: %s
data_dir: %s
inventory: %s
storage:
  local: false
  remote_write:
    - {name: vm, url: %s/api/v1/write}
  remote_query: {url: %s}
notifiers:
  - {name: hook, type: webhook, url: %s}
alerting:
  evaluation_interval: 1s
  rules:
    - {name: HighLoss, kind: loss, threshold: 0.5, for: 0s, clear_for: 0s}
`, addr, dataDir, invPath, vm, vm, hook.URL))
	tok := tokenCreate(t, bin, "--data-dir", dataDir, "--agent", "agent-1", "--site", "dinkes")
	testproc.Start(t, bin, addr, "--auth.anonymous", "viewer", "--config", cfgPath)
	write := func(body string) (int, string) {
		t.Helper()
		code, _, err := postWith(context.Background(), base+"/api/v2/write?precision=s", tok, "", []byte(body))
		if err != nil {
			t.Fatal(err)
		}
		return code, ""
	}
	cl, err := api.NewClient(api.Config{Address: base})
	if err != nil {
		t.Fatal(err)
	}
	query := func(q string, at time.Time) model.Vector {
		t.Helper()
		v, _, _, err := promv1.NewAPI(cl).Query(context.Background(), q, at)
		if err != nil {
			t.Fatalf("query %s: %v", q, err)
		}
		vec, _ := v.(model.Vector)
		return vec
	}
	end := time.Now().Truncate(time.Minute).Add(-time.Minute)
	var body strings.Builder
	for i := 0; i < 40; i++ {
		ts := end.Add(-time.Duration(i) * 30 * time.Second)
		back := int(end.Sub(ts.Truncate(time.Minute)) / time.Minute)
		if back >= 10 && back <= 12 {
			fmt.Fprintf(&body, "icmp,target=127.0.0.2 packets_sent=5u,packets_received=0u,loss_ratio=0,up=0i %d\n", ts.Unix())
		} else {
			fmt.Fprintf(&body, "icmp,target=127.0.0.2 packets_sent=5u,packets_received=5u,loss_ratio=0,rtt_avg_seconds=0.004,up=1i %d\n", ts.Unix())
		}
		fmt.Fprintf(&body, "agent,version=t uptime_seconds=%d %d\n", 100+i, ts.Unix())
		fmt.Fprintf(&body, "snmp_if,device=rtr-dinkes,ifname=ether1,ifindex=1 receive_bits_per_second=5000000,transmit_bits_per_second=1000000,speed_bits_per_second=100000000u %d\n", ts.Unix())
	}
	if code, msg := write(body.String()); code != http.StatusNoContent {
		t.Fatalf("write: %d %s", code, msg)
	}
	if _, err := os.Stat(filepath.Join(dataDir, "tsdb")); !os.IsNotExist(err) {
		t.Errorf("remote only, yet %s/tsdb exists (%v)", dataDir, err)
	}
	// the collector's own query API answers from the engine, with the
	// inventory labels added at ingest
	testproc.WaitFor(t, 60*time.Second, "the samples to reach the engine", func() bool {
		return len(rawSeries(t, vm, `pantau_icmp_up{link="dinkes-wan"}`, end.Add(time.Second), time.Hour)) == 1
	})
	if v := query(`pantau_icmp_up{link="dinkes-wan",site="dinkes",opd="dinkes"}`, end); len(v) != 1 || v[0].Value != 1 {
		t.Errorf("query through the engine: %v", v)
	}
	got := rawSeries(t, base, `pantau_icmp_rtt_avg_seconds`, end.Add(time.Second), time.Hour)
	if n := sampleCount(got); n != 34 {
		t.Errorf("collector's API read %d rtt samples back from the engine, want 34: %v", n, got)
	}
	// the report: minute states from state.db, capacity from the engine
	wib := time.FixedZone("WIB", 7*3600)
	day := func(t time.Time) string { return t.In(wib).Format("2006-01-02") }
	rep := getReport(t, base, day(end.Add(-time.Hour))+".."+day(end))
	if len(rep.Links) != 1 || rep.Links[0].Up != 18 || rep.Links[0].Down != 3 || rep.Links[0].Outages != 1 {
		t.Errorf("link rows %+v", rep.Links)
	}
	if c := rep.Capacity; len(c) != 2 || c[0].Samples != 40 || c[0].MeanBps != 5e6 {
		t.Errorf("capacity rows from the engine %+v", c)
	}
	// an alert rule evaluated on the engine
	now := time.Now()
	if code, msg := write(fmt.Sprintf("icmp,target=127.0.0.2 packets_sent=5u,packets_received=1u,loss_ratio=0.8,rtt_avg_seconds=0.004,up=1i %d\n", now.Unix())); code != http.StatusNoContent {
		t.Fatalf("write: %d %s", code, msg)
	}
	select {
	case b := <-hookBodies:
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("webhook body %q: %v", b, err)
		}
		if s := string(b); !strings.Contains(s, `"HighLoss"`) || !strings.Contains(s, `"dinkes-wan"`) || !strings.Contains(s, `"firing"`) {
			t.Errorf("webhook body %s", s)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("no alert from the rule evaluated on the engine within 60s")
	}
	_, metrics := getText(t, base, "/metrics")
	if !strings.Contains(metrics, `pantau_remote_write_samples_total{endpoint="vm",result="sent"}`) {
		t.Errorf("remote-write metrics missing:\n%s", testproc.GrepLines(metrics, "pantau_remote_write"))
	}
}
