package agent

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/internal/lab"

	"github.com/pantau-noc/pantau/internal/testbuild"
)

// parsed is one line of line protocol, simply split (test output only).
type parsed struct {
	measurement string
	tags        map[string]string
	fields      map[string]float64
}

func parseLines(t *testing.T, out string) []parsed {
	t.Helper()
	var res []parsed
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line == "" {
			continue
		}
		parts := strings.Split(line, " ")
		if len(parts) != 3 {
			t.Fatalf("unexpected line %q", line)
		}
		p := parsed{tags: map[string]string{}, fields: map[string]float64{}}
		head := strings.Split(parts[0], ",")
		p.measurement = head[0]
		for _, kv := range head[1:] {
			k, v, _ := strings.Cut(kv, "=")
			p.tags[k] = v
		}
		for _, kv := range strings.Split(parts[1], ",") {
			k, v, _ := strings.Cut(kv, "=")
			f, err := strconv.ParseFloat(strings.TrimRight(v, "iu"), 64)
			if err != nil {
				t.Fatalf("field %q: %v", kv, err)
			}
			p.fields[k] = f
		}
		res = append(res, p)
	}
	return res
}

// TestIntegrationLabICMPLossAndDelay: the agent in the NOC namespace pings
// a site behind a router that delays each direction by 20 ms (TUN link
// emulator) and drops 20 % of what reaches the site (nftables). The
// measured loss and RTT fall within tolerances derived from the injected
// values; the router itself, one clean hop away, shows neither.
func TestIntegrationLabICMPLossAndDelay(t *testing.T) {
	lab.SkipShort(t, "root and network namespaces")
	t.Parallel() // its own lab
	bin := testbuild.Agent(t)
	l, noc, router, site, rNoc, rSite, siteIf := lab.ThreeHop(t)
	const delay = 20 * time.Millisecond
	l.Delay(router, delay, map[string]string{"10.250.1.1": rNoc, "10.250.2.2": rSite})
	l.Loss(site, siteIf, 20)

	cfg := filepath.Join(t.TempDir(), "agent.yml")
	os.WriteFile(cfg, []byte(`agent: {id: lab-agent, listen_address: ""}
defaults: {interval: 10s, timeout: 3s}
icmp:
  - {target: 10.250.2.2, name: site, packets: 200, packet_interval: 10ms}
  - {target: 10.250.1.2, name: router, packets: 20, packet_interval: 10ms}
`), 0o600)
	for _, mode := range []string{"unprivileged", "raw"} {
		for _, engine := range []string{"shared", "pinger"} {
			withMode := filepath.Join(t.TempDir(), "agent.yml")
			b, _ := os.ReadFile(cfg)
			os.WriteFile(withMode, []byte(strings.Replace(string(b), "agent: {", "agent: {icmp_mode: "+mode+", icmp_engine: "+engine+", ", 1)), 0o600)
			pts := parseLines(t, l.Output(noc, bin, "probe", "--once", "--config", withMode, "--log.level", "warn"))
			byName := map[string]parsed{}
			for _, p := range pts {
				byName[p.tags["name"]] = p
			}
			s, r := byName["site"], byName["router"]
			tag := mode + "/" + engine
			// 200 packets at 20 % loss: sd ≈ 5.7 packets; ±4 sd.
			if loss := s.fields["loss_ratio"]; loss < 0.085 || loss > 0.315 {
				t.Errorf("%s: site loss %.3f, injected 0.20", tag, loss)
			}
			if s.fields["packets_sent"] != 200 || s.fields["up"] != 1 {
				t.Errorf("%s: site %v", tag, s.fields)
			}
			minRTT, avg := s.fields["rtt_min_seconds"], s.fields["rtt_avg_seconds"]
			if minRTT < 2*delay.Seconds() || avg > 2*delay.Seconds()+0.015 {
				t.Errorf("%s: site rtt min %.4f avg %.4f, injected 2×%s", tag, minRTT, avg, delay)
			}
			if r.fields["loss_ratio"] != 0 || r.fields["rtt_avg_seconds"] > 0.005 {
				t.Errorf("%s: router (clean hop) %v", tag, r.fields)
			}
			t.Logf("%s: site loss %.3f rtt min %.2f ms avg %.2f ms; router rtt %.3f ms", tag,
				s.fields["loss_ratio"], minRTT*1000, avg*1000, r.fields["rtt_avg_seconds"]*1000)
		}
	}
}

// TestIntegrationLabOutage: a cut link means loss 1 and up 0, and the
// restored link comes back.
func TestIntegrationLabOutage(t *testing.T) {
	lab.SkipShort(t, "root and network namespaces")
	t.Parallel() // its own lab
	bin := testbuild.Agent(t)
	l, noc, _, _, _, _, _ := lab.ThreeHop(t)
	cfg := filepath.Join(t.TempDir(), "agent.yml")
	os.WriteFile(cfg, []byte(`agent: {listen_address: ""}
icmp:
  - {target: 10.250.2.2, name: site, packets: 3, packet_interval: 100ms, timeout: 1s, interval: 2s}
`), 0o600)
	probe := func() parsed {
		return parseLines(t, l.Output(noc, bin, "probe", "--once", "--config", cfg, "--log.level", "error"))[0]
	}
	if p := probe(); p.fields["up"] != 1 {
		t.Fatalf("before the cut: %v", p.fields)
	}
	l.Down(noc, "v1a")
	if p := probe(); p.fields["up"] != 0 || p.fields["loss_ratio"] != 1 || p.fields["packets_received"] != 0 {
		t.Fatalf("link down: %v", p.fields)
	}
	if _, ok := probe().fields["rtt_avg_seconds"]; ok {
		t.Fatal("an RTT was reported for a round without replies")
	}
	l.Up(noc, "v1a")
	ok := lab.WaitFor(t.Context(), 10*time.Second, func() bool { return probe().fields["up"] == 1 })
	if !ok {
		t.Fatal("the restored link did not come back")
	}
}

// TestIntegrationLabSNMP: the agent in the NOC namespace polls a real
// snmpd in the site namespace across the router, with v2c and v3 authPriv,
// and its interface counters agree with snmpget's.
func TestIntegrationLabSNMP(t *testing.T) {
	lab.SkipShort(t, "root, network namespaces and snmpd")
	t.Parallel() // its own lab
	bin := testbuild.Agent(t)
	l, noc, _, site, _, _, siteIf := lab.ThreeHop(t)
	sd := lab.StartSnmpd(t, lab.SnmpdOptions{Netns: site, Listen: "10.250.2.2:1161"})
	u := sd.V3AuthPriv()
	cfg := filepath.Join(t.TempDir(), "agent.yml")
	os.WriteFile(cfg, []byte(`agent: {listen_address: ""}
defaults: {interval: 10s, timeout: 5s}
snmp:
  - {target: "10.250.2.2:1161", name: site-v2c, version: 2c, community: `+sd.Community+`, interfaces: ["`+siteIf+`", "lo"]}
  - {target: "10.250.2.2:1161", name: site-v3, version: 3, username: `+u.Name+`, security_level: authPriv,
     auth_protocol: `+u.AuthProtocol+`, auth_passphrase: `+u.AuthPassphrase+`, priv_protocol: `+u.PrivProtocol+`, priv_passphrase: `+u.PrivPassphrase+`}
`), 0o600)
	pts := parseLines(t, l.Output(noc, bin, "probe", "--once", "--config", cfg, "--log.level", "warn"))
	var ifIndex string
	var rx float64
	ifaces := map[string][]string{}
	for _, p := range pts {
		switch p.measurement {
		case "snmp_device":
			if p.fields["up"] != 1 || p.fields["uptime_seconds"] <= 0 {
				t.Errorf("%s: %v", p.tags["device"], p.fields)
			}
		case "snmp_if":
			ifaces[p.tags["device"]] = append(ifaces[p.tags["device"]], p.tags["ifname"])
			if p.tags["device"] == "site-v2c" && p.tags["ifname"] == siteIf {
				ifIndex, rx = p.tags["ifindex"], p.fields["receive_bytes_total"]
			}
		}
	}
	if len(ifaces["site-v2c"]) != 2 || len(ifaces["site-v3"]) != 2 { // the site has lo and its uplink
		t.Fatalf("interfaces polled: %v", ifaces)
	}
	if ifIndex == "" {
		t.Fatalf("no snmp_if point for %s: %v", siteIf, pts)
	}
	out, err := sd.Get(t.Context(), ".1.3.6.1.2.1.31.1.1.1.6."+ifIndex)
	if err != nil {
		t.Fatal(err)
	}
	later, err := strconv.ParseFloat(strings.TrimSpace(out), 64)
	if err != nil {
		t.Fatalf("snmpget ifHCInOctets: %q", out)
	}
	// snmpget reads later; only the SNMP exchange itself crossed since.
	if later < rx || later-rx > 100_000 {
		t.Fatalf("%s receive_bytes_total %v, snmpget ifHCInOctets %v", siteIf, rx, later)
	}
}
