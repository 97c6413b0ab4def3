package collector

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/config"
	"github.com/pantau-noc/pantau/collector/internal/report"
	"github.com/pantau-noc/pantau/internal/testbuild"
	"github.com/pantau-noc/pantau/internal/testengine"
)

// startVM starts Debian's victoria-metrics the way docs/scale-out.md
// tells an HA pair to run it: deduplication of identical samples
// (-dedup.minScrapeInterval=1ms) and no query latency offset. It returns
// the base URL.
func startVM(t *testing.T) string {
	t.Helper()
	return testengine.Start(t, testengine.VictoriaMetrics, "-dedup.minScrapeInterval", "1ms", "-search.disableCache").URL()
}

// rawSample is one stored sample as a query API returns it.
type rawSample struct {
	T int64  // ms
	V string // as the API prints it
}

// rawSeries reads the raw samples of selector in (at-rng, at] from a
// Prometheus-compatible query API, keyed by the series' labels without
// the ones in drop.
func rawSeries(t *testing.T, base, selector string, at time.Time, rng time.Duration, drop ...string) map[string][]rawSample {
	t.Helper()
	q := url.Values{"query": {fmt.Sprintf("%s[%dms]", selector, rng.Milliseconds())}, "time": {fmt.Sprintf("%.3f", float64(at.UnixMilli())/1e3)}}
	res, err := http.Get(base + "/api/v1/query?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	var r struct {
		Status string
		Error  string
		Data   struct {
			ResultType string
			Result     []struct {
				Metric map[string]string
				Values [][2]json.RawMessage
			}
		}
	}
	if err := json.Unmarshal(body, &r); err != nil || r.Status != "success" {
		t.Fatalf("query %s on %s: %v %s", q.Get("query"), base, err, body)
	}
	out := map[string][]rawSample{}
	for _, s := range r.Data.Result {
		var keys []string
		for k, v := range s.Metric {
			if !slices.Contains(drop, k) {
				keys = append(keys, k+"="+v)
			}
		}
		slices.Sort(keys)
		id := strings.Join(keys, ",")
		for _, p := range s.Values {
			var ts json.Number
			var v string
			json.Unmarshal(p[0], &ts)
			json.Unmarshal(p[1], &v)
			f, _ := ts.Float64()
			out[id] = append(out[id], rawSample{T: int64(f*1000 + 0.5), V: v})
		}
	}
	return out
}

func sampleCount(m map[string][]rawSample) int {
	n := 0
	for _, s := range m {
		n += len(s)
	}
	return n
}

// freePorts returns n distinct free loopback addresses: all are held
// open until every one is chosen, so none is handed out twice.
func freePorts(t *testing.T, n int) []string {
	t.Helper()
	var out []string
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		out = append(out, l.Addr().String())
	}
	return out
}

type scaleNode struct {
	name, dir, addr, cfg string
	p                    *proc
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
// Collector a is killed with SIGKILL in the middle and restarted a minute
// later. Then: the engine holds exactly the reference's samples (the same
// series and millisecond timestamps after its deduplication, the same
// values to its 12 significant digits); a and b report the
// same minute states as the reference; and a reporting collector with no
// TSDB of its own (storage.local: false) rebuilds the province's states
// from the engine and reports the same figures as the reference for
// every link of both shards.
func TestIntegrationScaleOut(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test (collector and agent processes, victoria-metrics)")
	}
	bin := testbuild.Collector(t)
	agentBin := testbuild.Agent(t)
	vm := startVM(t)
	work := t.TempDir()
	write := func(path, data string) string {
		t.Helper()
		if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	invX := write(filepath.Join(work, "inv-x.yml"), scaleInvX)
	invY := write(filepath.Join(work, "inv-y.yml"), scaleInvY)
	invAll := write(filepath.Join(work, "inv-all.yml"), scaleInvAll)

	nodes := map[string]*scaleNode{}
	addrs := freePorts(t, 4)
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
		var o, e bytes.Buffer
		if code := Main(context.Background(), []string{"token", "create", "--data-dir", nd.dir, "--agent", agent, "--site", site}, &o, &e); code != 0 {
			t.Fatalf("token create on %s: %s", nd.name, e.String())
		}
		return write(filepath.Join(work, nd.name+"-"+agent+".token"), strings.TrimSpace(o.String()))
	}
	agentCfg := func(id, site string, colls []*scaleNode, targets ...[2]string) string {
		var b strings.Builder
		fmt.Fprintf(&b, "agent: {id: %s, site: %s, state_dir: %s, listen_address: \"\"}\ncollectors:\n", id, site, filepath.Join(work, id))
		for _, nd := range colls {
			fmt.Fprintf(&b, "  - {name: %s, url: %s, token_file: %s, timeout: 10s}\n", nd.name, nd.base(), token(nd, id, site))
		}
		b.WriteString("queue: {sync_interval: 1s, batch_linger: 1s}\ndefaults: {interval: 5s, timeout: 2s, icmp: {packets: 2, packet_interval: 100ms}}\nicmp:\n")
		for _, tg := range targets {
			fmt.Fprintf(&b, "  - {target: %s, tags: {site: %s, link: %s}}\n", tg[0], site, tg[1])
		}
		return write(filepath.Join(work, id+".yml"), b.String())
	}
	cfgX := agentCfg("agent-x", "x", []*scaleNode{nodes["a"], nodes["b"], nodes["c"]}, [2]string{"127.0.1.1", "x-wan1"}, [2]string{"127.0.1.2", "x-wan2"})
	cfgY := agentCfg("agent-y", "y", []*scaleNode{nodes["s"], nodes["c"]}, [2]string{"127.0.2.1", "y-wan"})

	for _, name := range []string{"a", "b", "s", "c"} {
		nd := nodes[name]
		nd.p = startProc(t, bin, nd.addr, "--config", nd.cfg)
	}
	start := time.Now()
	var agents []*exec.Cmd
	for _, c := range []string{cfgX, cfgY} {
		var logs bytes.Buffer
		cmd := exec.Command(agentBin, "run", "--config", c, "--log.level", "warn")
		cmd.Stdout, cmd.Stderr = &logs, &logs
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

	// a minute of normal operation, then a is killed for a minute
	time.Sleep(65 * time.Second)
	nodes["a"].p.kill()
	t.Logf("collector a killed at +%s", time.Since(start).Round(time.Second))
	time.Sleep(60 * time.Second)
	nodes["a"].p = startProc(t, bin, nodes["a"].addr, "--config", nodes["a"].cfg)
	t.Logf("collector a restarted at +%s", time.Since(start).Round(time.Second))
	time.Sleep(30 * time.Second)
	// the agents stop (SIGTERM keeps their queues); everything they took
	// must now reach every collector and, through a, b and s, the engine
	for _, cmd := range agents {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	}
	end := time.Now()
	rng := end.Sub(start) + time.Minute
	// restart the agents with their queues and no targets, to deliver
	// what is left and take nothing new
	for i, c := range []string{cfgX, cfgY} {
		b, err := os.ReadFile(c)
		if err != nil {
			t.Fatal(err)
		}
		drain, _, _ := strings.Cut(string(b), "icmp:\n")
		c = write(strings.TrimSuffix(c, ".yml")+"-drain.yml", drain)
		cmd := exec.Command(agentBin, "run", "--config", c, "--log.level", "warn")
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		agents[i] = cmd
		t.Cleanup(func() {
			if cmd.ProcessState == nil {
				cmd.Process.Kill()
				cmd.Wait()
			}
		})
	}

	const sel = `{__name__=~"pantau_icmp_.*|pantau_agent_.*",agent=~"agent-x|agent-y"}`
	// series labels that differ by collector: none for agent data
	ref := func() map[string][]rawSample { return rawSeries(t, nodes["c"].base(), sel, end, rng) }
	want := ref()
	if sampleCount(want) < 100 {
		t.Fatalf("reference collector has only %d samples", sampleCount(want))
	}
	converged := func(base string, filter func(string) bool) bool {
		got := rawSeries(t, base, sel, end, rng)
		w := ref()
		for id, ss := range w {
			if filter != nil && !filter(id) {
				continue
			}
			if len(got[id]) != len(ss) {
				return false
			}
		}
		return true
	}
	isX := func(id string) bool { return strings.Contains(id, "agent=agent-x") }
	// Converged twice in a row, 5 s apart, with the reference unchanged:
	// the agents' last batches are not still on their way to everyone.
	last := -1
	waitFor(t, 3*time.Minute, "a and b to hold agent-x's data, s agent-y's, and the engine everything", func() bool {
		ok := converged(nodes["a"].base(), isX) && converged(nodes["b"].base(), isX) &&
			converged(nodes["s"].base(), func(id string) bool { return !isX(id) }) && converged(vm, nil)
		n := sampleCount(ref())
		stable := ok && n == last
		last = -1
		if ok {
			last = n
		}
		if !stable {
			time.Sleep(5 * time.Second)
		}
		return stable
	})
	want = ref()
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
	wib, _ := time.LoadLocation("Asia/Jakarta")
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
	code, out, errOut := cli(t, "sla", "rebuild", "--config", repCfg, "--from", day(start), "--to", day(end.Add(24*time.Hour)))
	if code != 0 {
		t.Fatalf("sla rebuild from the engine: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut = cli(t, "report", "--config", repCfg, "--period", period, "--format", "json")
	if code != 0 {
		t.Fatalf("sla report from the engine: exit %d\n%s", code, errOut)
	}
	var rep report.Report
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

func figuresOf(l report.LinkRow) dataFigures {
	return dataFigures{Up: l.Up, Degraded: l.Degraded, Down: l.Down, Outages: l.Outages, Unobserved: l.NoData + l.Monitoring}
}

func linkFigures(t *testing.T, base, period string) map[string]dataFigures {
	t.Helper()
	res, err := http.Get(base + "/api/v1/report?format=json&period=" + period)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		t.Fatalf("report from %s: %d %s", base, res.StatusCode, b)
	}
	var r report.Report
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
	cfgPath := filepath.Join(dir, "collector.yml")
	tc := startCollector(t, func(c *config.Config) {
		yml := fmt.Sprintf(`listen_address: %s
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
`, c.ListenAddress, c.DataDir, invPath, vm, vm, hook.URL)
		if err := os.WriteFile(cfgPath, []byte(yml), 0o600); err != nil {
			t.Fatal(err)
		}
		fc, err := config.Load(cfgPath)
		if err != nil {
			t.Fatal(err)
		}
		*c = *fc
	})
	tok := tc.token("agent-1", "dinkes")
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
	if code, msg := tc.write(tok, body.String()); code != http.StatusNoContent {
		t.Fatalf("write: %d %s", code, msg)
	}
	if _, err := os.Stat(filepath.Join(tc.cfg.DataDir, "tsdb")); !os.IsNotExist(err) {
		t.Errorf("remote only, yet %s/tsdb exists (%v)", tc.cfg.DataDir, err)
	}
	// the collector's own query API answers from the engine, with the
	// inventory labels added at ingest
	waitFor(t, 60*time.Second, "the samples to reach the engine", func() bool {
		return len(rawSeries(t, vm, `pantau_icmp_up{link="dinkes-wan"}`, end.Add(time.Second), time.Hour)) == 1
	})
	if v := tc.query(`pantau_icmp_up{link="dinkes-wan",site="dinkes",opd="dinkes"}`, end); len(v) != 1 || v[0].Value != 1 {
		t.Errorf("query through the engine: %v", v)
	}
	got := rawSeries(t, tc.base, `pantau_icmp_rtt_avg_seconds`, end.Add(time.Second), time.Hour)
	if n := sampleCount(got); n != 34 {
		t.Errorf("collector's API read %d rtt samples back from the engine, want 34: %v", n, got)
	}
	// the report: minute states from state.db, capacity from the engine
	wib, _ := time.LoadLocation("Asia/Jakarta")
	day := func(t time.Time) string { return t.In(wib).Format("2006-01-02") }
	code, js := tc.get("/api/v1/report?format=json&period=" + day(end.Add(-time.Hour)) + ".." + day(end))
	if code != 200 {
		t.Fatalf("report: %d %s", code, js)
	}
	var rep report.Report
	if err := json.Unmarshal([]byte(js), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Links) != 1 || rep.Links[0].Up != 18 || rep.Links[0].Down != 3 || rep.Links[0].Outages != 1 {
		t.Errorf("link rows %+v", rep.Links)
	}
	if c := rep.Capacity; len(c) != 2 || c[0].Samples != 40 || c[0].MeanBps != 5e6 {
		t.Errorf("capacity rows from the engine %+v", c)
	}
	// an alert rule evaluated on the engine
	now := time.Now()
	if code, msg := tc.write(tok, fmt.Sprintf("icmp,target=127.0.0.2 packets_sent=5u,packets_received=1u,loss_ratio=0.8,rtt_avg_seconds=0.004,up=1i %d\n", now.Unix())); code != http.StatusNoContent {
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
	_, metrics := tc.get("/metrics")
	if !strings.Contains(metrics, `pantau_remote_write_samples_total{endpoint="vm",result="sent"}`) {
		t.Errorf("remote-write metrics missing:\n%s", grepLines(metrics, "pantau_remote_write"))
	}
}
