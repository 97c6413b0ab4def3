package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/internal/lab"
	"github.com/pantau-noc/pantau/internal/testbuild"
)

// TelegrafTags are the build tags of the Telegraf the tests run: Telegraf's
// custom build with only the plugins docs/telegraf.md configures. The
// version is pinned by e2e/telegraf/go.mod.
const TelegrafTags = "custom,inputs.ping,inputs.snmp,inputs.net_response,inputs.http_response,inputs.dns_query,inputs.internal,outputs.influxdb"

var telegrafBin = sync.OnceValues(func() (string, error) {
	d, err := os.MkdirTemp("", "pantau-testbuild-telegraf-")
	if err != nil {
		return "", err
	}
	mod, err := filepath.Abs("telegraf")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(d, "telegraf")
	cmd := exec.Command("go", "build", "-trimpath", "-tags", TelegrafTags, "-o", bin, "github.com/influxdata/telegraf/cmd/telegraf")
	cmd.Dir = mod
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build telegraf in %s: %w: %s", mod, err, out)
	}
	return bin, nil
})

// buildTelegraf builds the pinned Telegraf once per test process (a few
// minutes cold, seconds with the build cache).
func buildTelegraf(t *testing.T) string {
	t.Helper()
	start := time.Now()
	bin, err := telegrafBin()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("telegraf built in %s", time.Since(start).Round(time.Millisecond))
	return bin
}

// TestIntegrationLabTelegraf: an inventory link probed only by a real
// Telegraf (built from its Go module with only the plugins Pantau reads)
// goes up, down when the link is cut, and up again in the collector's SLA
// state, from Telegraf's ping; Telegraf's IF-MIB table of the site's
// snmpd is stored as the link's snmp_if series, its ifPhysAddress (a
// string) dropped and counted without costing the ping data of the same
// batch (204); Telegraf's CREATE DATABASE at start is answered.
func TestIntegrationLabTelegraf(t *testing.T) {
	lab.SkipShort(t, "root, network namespaces, snmpd and a Telegraf build")
	t.Parallel()
	tg, colBin := buildTelegraf(t), testbuild.Collector(t)
	l, noc, _, site, _, _, siteIf := lab.ThreeHop(t)
	sd := lab.StartSnmpd(t, lab.SnmpdOptions{Netns: site, Listen: "10.250.2.2:1161"})
	dir := t.TempDir()
	inv := filepath.Join(dir, "inventory.yml")
	os.WriteFile(inv, []byte(fmt.Sprintf(`sites:
  - {id: lab, name: Kantor Lab, kind: opd, timezone: WIB}
links:
  - id: lab-wan
    site: lab
    type: fibre
    icmp: {target: 10.250.2.2}
    snmp: {device: 10.250.2.2, interface: %s}
`, siteIf)), 0o600)
	ccfg := filepath.Join(dir, "collector.yml")
	os.WriteFile(ccfg, []byte(fmt.Sprintf("listen_address: 10.250.1.1:9810\ndata_dir: %s\ninventory: %s\n", filepath.Join(dir, "data"), inv)), 0o600)
	tok, client, base := labCollector(t, l, noc, colBin, []string{"--config", ccfg, "--agent", "telegraf-noc", "--site", "lab"}, "--config", ccfg)

	// Telegraf in the NOC pings the site across the link and polls the
	// site's snmpd with docs/telegraf.md's IF-MIB table (numeric OIDs),
	// plus ifPhysAddress, a string, as in Telegraf's sample config.
	tcfg := filepath.Join(dir, "telegraf.conf")
	os.WriteFile(tcfg, []byte(fmt.Sprintf(`[agent]
  interval = "10s"
  flush_interval = "1s"
  precision = "1ms"
  omit_hostname = true

[[outputs.influxdb]]
  urls = ["%s"]
  database = "telegraf"
  username = "telegraf"
  password = "%s"
  timeout = "5s"

[[inputs.ping]]
  urls = ["10.250.2.2", "10.250.1.2"]
  method = "native"
  count = 1
  timeout = 1.0
  deadline = 2

[[inputs.internal]]
  collect_memstats = false
  namepass = ["internal_agent"]

[[inputs.snmp]]
  agents = ["udp://%s"]
  version = 2
  community = "%s"
  timeout = "2s"
  retries = 0
%s
    [[inputs.snmp.table.field]]
      name = "ifPhysAddress"
      oid = ".1.3.6.1.2.1.2.2.1.6"
      conversion = "hwaddr"
`, base, tok, sd.Addr, sd.Community, docIFMIB(t))), 0o600)

	// one Telegraf round (telegraf --once) at least half a second into a
	// 10-second slot after the previous one, so that each round has its
	// own slot of the minute
	var last time.Time
	round := func(what string) string {
		t.Helper()
		next := time.Now().Truncate(10 * time.Second).Add(500 * time.Millisecond)
		for !next.After(last) || next.Before(time.Now()) {
			next = next.Add(10 * time.Second)
		}
		time.Sleep(time.Until(next))
		last = next.Add(9 * time.Second)
		out, err := exec.Command("ip", "netns", "exec", noc, tg, "--config", tcfg, "--once").CombinedOutput()
		t.Logf("telegraf --once (%s) at %s: %v", what, next.Format("15:04:05.000"), err)
		return string(out)
	}
	state := func(want string) {
		t.Helper()
		start := time.Now()
		defer func() { t.Logf("link lab-wan %s after %s", want, time.Since(start).Round(time.Millisecond)) }()
		var got string
		if !lab.WaitFor(t.Context(), 30*time.Second, func() bool {
			got = linkState(t, client, base, "lab-wan")
			return got == want
		}) {
			t.Fatalf("link lab-wan is %q, want %q", got, want)
		}
	}

	out := round("link up")
	state("up")
	if strings.Contains(out, "Database creation failed") || strings.Contains(out, "404 Not Found") || strings.Contains(out, "E! [outputs") {
		t.Errorf("telegraf output reports a failed write or CREATE DATABASE:\n%s", out)
	}
	m := scrape(t, client, base)
	for _, w := range []string{
		`pantau_collector_ingest_query_statements_total{statement="create_database"}`,
		`pantau_collector_ingest_string_fields_dropped_total{agent="telegraf-noc"}`,
	} {
		if m[w] < 1 {
			t.Errorf("%s = %v, want >= 1\n%s", w, m[w], out)
		}
	}
	// the site interface's IF-MIB row, as the link's snmp_if series
	sel := fmt.Sprintf(`pantau_snmp_if_oper_status{agent="telegraf-noc",device="10.250.2.2",ifname=%q,link="lab-wan"}`, siteIf)
	if rs := rounds(t, client, base, sel, 0); len(rs) == 0 || rs[len(rs)-1].up != 1 {
		t.Errorf("%s: %v, want oper_status 1", sel, rs)
	}
	if rs := rounds(t, client, base, `pantau_icmp_up{agent="telegraf-noc",target="10.250.2.2",link="lab-wan"}`, 0); len(rs) != 1 || rs[0].up != 1 {
		t.Errorf("icmp rounds %v, want one up", rs)
	}

	// the router's address and the site's lo are in no link: inventory
	// unmatched lists them, and not the link's target and interface
	un, err := exec.Command(colBin, "inventory", "unmatched", "--config", ccfg, "--log.level", "warn").Output()
	got := strings.Join(strings.Fields(string(un)), " ")
	if err != nil || !strings.Contains(got, "icmp telegraf-noc lab 10.250.1.2 snmp telegraf-noc lab 10.250.2.2 lo") || strings.Contains(got, siteIf) ||
		strings.Count(got, "telegraf-noc") != 2 {
		t.Errorf("inventory unmatched: %v\n%s", err, un)
	}

	l.Down(site, siteIf)
	round("link cut")
	state("down")

	l.Up(site, siteIf)
	round("link restored")
	state("up")
	// the interface's bit rate, from the octets of the first and the last
	// round (the site's snmpd was unreachable in between), for capacity
	if br := rounds(t, client, base, fmt.Sprintf(`pantau_snmp_if_receive_bits_per_second{link="lab-wan",ifname=%q}`, siteIf), 0); len(br) != 1 || br[0].up <= 0 {
		t.Errorf("receive bit rates %v, want one, above 0 (the pings crossed the interface)", br)
	}
	rs := rounds(t, client, base, `pantau_icmp_up{agent="telegraf-noc",link="lab-wan"}`, 0)
	if len(rs) != 3 || rs[0].up != 1 || rs[1].up != 0 || rs[2].up != 1 {
		t.Fatalf("icmp rounds %v, want up, down, up", rs)
	}
	// the report: one outage from the failed round to the good one after
	// it, caused by the ISP, since Telegraf's internal_agent (the box's
	// heartbeat) kept coming
	wib, _ := time.LoadLocation("Asia/Jakarta")
	day := time.UnixMilli(rs[1].ms).In(wib).Format("2006-01-02")
	resp, err := client.Get(base + "/api/v1/report?format=json&period=" + day + ".." + day)
	if err != nil {
		t.Fatal(err)
	}
	var rep labReport
	err = json.NewDecoder(resp.Body).Decode(&rep)
	resp.Body.Close()
	if err != nil || len(rep.Incidents) != 1 {
		t.Fatalf("report: %v, incidents %+v", err, rep.Incidents)
	}
	// from the failed round's 10-second slot to the good round's
	want := (rs[2].ms/10000 - rs[1].ms/10000) * 10
	if in := rep.Incidents[0]; in.DownSeconds != want || in.Cause != "isp" {
		t.Errorf("incident %+v, want %d s down, cause isp", in, want)
	}
}

// docTelegrafConf returns the telegraf.conf of docs/telegraf.md.
func docTelegrafConf(t *testing.T) string {
	t.Helper()
	doc, err := os.ReadFile("../docs/telegraf.md")
	if err != nil {
		t.Fatal(err)
	}
	_, conf, ok := strings.Cut(string(doc), "```toml\n")
	conf, _, ok2 := strings.Cut(conf, "```\n")
	if !ok || !ok2 || !strings.Contains(conf, "[[outputs.influxdb]]") {
		t.Fatal("docs/telegraf.md has no toml block with outputs.influxdb")
	}
	return conf
}

// docIFMIB is the IF-MIB part of docs/telegraf.md's inputs.snmp (numeric
// OIDs, no MIB files needed), from its sysName field to the end.
func docIFMIB(t *testing.T) string {
	t.Helper()
	conf := docTelegrafConf(t)
	i := strings.Index(conf, "  [[inputs.snmp.field]]")
	if i < 0 {
		t.Fatal("docs/telegraf.md's telegraf.conf has no inputs.snmp.field")
	}
	return conf[i:]
}

// scrape reads the collector's /metrics into series → value.
func scrape(t *testing.T, c *http.Client, base string) map[string]float64 {
	t.Helper()
	resp, err := c.Get(base + "/metrics")
	if err != nil {
		t.Fatalf("scrape: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("scrape: %s", resp.Status)
	}
	m := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err == nil {
			m[line[:i]] = v
		}
	}
	return m
}

// linkState is the link's current state from pantau_link_state.
func linkState(t *testing.T, c *http.Client, base, link string) string {
	t.Helper()
	for k, v := range scrape(t, c, base) {
		if v == 1 && strings.HasPrefix(k, "pantau_link_state{") && strings.Contains(k, fmt.Sprintf("link=%q", link)) {
			_, s, _ := strings.Cut(k, `state="`)
			s, _, _ = strings.Cut(s, `"`)
			return s
		}
	}
	return ""
}

// TestIntegrationTelegrafDocConfig: the telegraf.conf of docs/telegraf.md
// passes `telegraf config check` (parsed and every plugin initialised,
// nothing started) with the Telegraf the lab test runs.
func TestIntegrationTelegrafDocConfig(t *testing.T) {
	lab.SkipShort(t, "a Telegraf build")
	conf := docTelegrafConf(t)
	f := filepath.Join(t.TempDir(), "telegraf.conf")
	os.WriteFile(f, []byte(conf), 0o600)
	out, err := exec.Command(buildTelegraf(t), "config", "check", "--config", f).CombinedOutput()
	if err != nil || strings.Contains(string(out), "E! ") {
		t.Fatalf("telegraf config check: %v\n%s", err, out)
	}
}
