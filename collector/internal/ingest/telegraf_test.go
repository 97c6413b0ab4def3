package ingest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/inventory"
	"github.com/pantau-noc/pantau/collector/internal/sla"
	"github.com/pantau-noc/pantau/collector/internal/statedb"
	"github.com/pantau-noc/pantau/internal/wire/lineproto"
)

// TestTelegrafMapping: each of Telegraf's plugins that Pantau reads is
// stored as the measurement Pantau's own agent (or probe plugin) writes,
// units converted, and the fields the mapping does not use stay under
// the original measurement. Lines as Telegraf 1.37 writes them.
func TestTelegrafMapping(t *testing.T) {
	t0 := ns(now)
	ms := t0 / 1e6
	cases := []struct {
		name string
		body string
		want []string // label set and value; @ms is appended
	}{
		{"ping ok",
			`ping,host=edge,url=10.20.0.1 average_response_ms=12.5,maximum_response_ms=20,minimum_response_ms=5,packets_received=4i,packets_transmitted=5i,percent_packet_loss=20,result_code=0i,standard_deviation_ms=2.5,ttl=63i`,
			[]string{
				`{__name__="pantau_icmp_loss_ratio", agent="agent-noc", host="edge", target="10.20.0.1"} 0.2`,
				`{__name__="pantau_icmp_packets_received", agent="agent-noc", host="edge", target="10.20.0.1"} 4`,
				`{__name__="pantau_icmp_packets_sent", agent="agent-noc", host="edge", target="10.20.0.1"} 5`,
				`{__name__="pantau_icmp_rtt_avg_seconds", agent="agent-noc", host="edge", target="10.20.0.1"} 0.0125`,
				`{__name__="pantau_icmp_rtt_max_seconds", agent="agent-noc", host="edge", target="10.20.0.1"} 0.02`,
				`{__name__="pantau_icmp_rtt_min_seconds", agent="agent-noc", host="edge", target="10.20.0.1"} 0.005`,
				`{__name__="pantau_icmp_rtt_stddev_seconds", agent="agent-noc", host="edge", target="10.20.0.1"} 0.0025`,
				`{__name__="pantau_icmp_up", agent="agent-noc", host="edge", target="10.20.0.1"} 1`,
				`{__name__="pantau_ping_ttl", agent="agent-noc", host="edge", url="10.20.0.1"} 63`,
			}},
		{"ping no reply (native method)",
			`ping,url=10.20.0.1 packets_received=0i,packets_transmitted=3i,percent_packet_loss=100,result_code=1i`,
			[]string{
				`{__name__="pantau_icmp_loss_ratio", agent="agent-noc", target="10.20.0.1"} 1`,
				`{__name__="pantau_icmp_packets_received", agent="agent-noc", target="10.20.0.1"} 0`,
				`{__name__="pantau_icmp_packets_sent", agent="agent-noc", target="10.20.0.1"} 3`,
				`{__name__="pantau_icmp_up", agent="agent-noc", target="10.20.0.1"} 0`,
			}},
		{"ping error (result_code 2 only)",
			`ping,url=gw.example result_code=2i`,
			[]string{
				`{__name__="pantau_icmp_loss_ratio", agent="agent-noc", target="gw.example"} 1`,
				`{__name__="pantau_icmp_up", agent="agent-noc", target="gw.example"} 0`,
			}},
		{"ping ran, all lost (exec method, result_code 0)",
			`ping,url=10.20.0.1 packets_received=0i,packets_transmitted=3i,percent_packet_loss=100,result_code=0i,average_response_ms=-1`,
			[]string{
				`{__name__="pantau_icmp_loss_ratio", agent="agent-noc", target="10.20.0.1"} 1`,
				`{__name__="pantau_icmp_packets_received", agent="agent-noc", target="10.20.0.1"} 0`,
				`{__name__="pantau_icmp_packets_sent", agent="agent-noc", target="10.20.0.1"} 3`,
				`{__name__="pantau_icmp_up", agent="agent-noc", target="10.20.0.1"} 0`,
			}},
		{"ping without url: stored as is",
			`ping,host=edge result_code=0i`,
			[]string{`{__name__="pantau_ping_result_code", agent="agent-noc", host="edge"} 0`}},
		{"snmp interface, 64-bit counters, ifHighSpeed in Mb/s, string field dropped",
			`interface,agent_host=10.0.0.1,host=edge,ifDescr=ether1-gateway,ifName=ether1,sysName=rtr-dinkes ifAdminStatus=1i,ifHCInOctets=1000u,ifHCOutOctets=2000u,ifInOctets=7i,ifOutOctets=8i,ifHighSpeed=100u,ifSpeed=100000000u,ifInErrors=3i,ifOutErrors=4i,ifInDiscards=5i,ifOutDiscards=6i,ifOperStatus=2i,ifMtu=1500i,ifPhysAddress="00:11:22:33:44:55",ifHCInUcastPkts=10u,ifHCInMulticastPkts=2u,ifHCInBroadcastPkts=1u,ifInUcastPkts=99i,ifInNUcastPkts=1i`,
			[]string{
				`{__name__="pantau_interface_ifMtu", agent="agent-noc", agent_host="10.0.0.1", host="edge", ifDescr="ether1-gateway", ifName="ether1", sysName="rtr-dinkes"} 1500`,
				`{__name__="pantau_snmp_if_admin_status", agent="agent-noc", device="10.0.0.1", host="edge", ifDescr="ether1-gateway", ifname="ether1", sysName="rtr-dinkes"} 1`,
				`{__name__="pantau_snmp_if_oper_status", agent="agent-noc", device="10.0.0.1", host="edge", ifDescr="ether1-gateway", ifname="ether1", sysName="rtr-dinkes"} 2`,
				`{__name__="pantau_snmp_if_receive_bytes_total", agent="agent-noc", device="10.0.0.1", host="edge", ifDescr="ether1-gateway", ifname="ether1", sysName="rtr-dinkes"} 1000`,
				`{__name__="pantau_snmp_if_receive_discards_total", agent="agent-noc", device="10.0.0.1", host="edge", ifDescr="ether1-gateway", ifname="ether1", sysName="rtr-dinkes"} 5`,
				`{__name__="pantau_snmp_if_receive_errors_total", agent="agent-noc", device="10.0.0.1", host="edge", ifDescr="ether1-gateway", ifname="ether1", sysName="rtr-dinkes"} 3`,
				`{__name__="pantau_snmp_if_receive_packets_total", agent="agent-noc", device="10.0.0.1", host="edge", ifDescr="ether1-gateway", ifname="ether1", sysName="rtr-dinkes"} 13`,
				`{__name__="pantau_snmp_if_speed_bits_per_second", agent="agent-noc", device="10.0.0.1", host="edge", ifDescr="ether1-gateway", ifname="ether1", sysName="rtr-dinkes"} 1e+08`,
				`{__name__="pantau_snmp_if_transmit_bytes_total", agent="agent-noc", device="10.0.0.1", host="edge", ifDescr="ether1-gateway", ifname="ether1", sysName="rtr-dinkes"} 2000`,
				`{__name__="pantau_snmp_if_transmit_discards_total", agent="agent-noc", device="10.0.0.1", host="edge", ifDescr="ether1-gateway", ifname="ether1", sysName="rtr-dinkes"} 6`,
				`{__name__="pantau_snmp_if_transmit_errors_total", agent="agent-noc", device="10.0.0.1", host="edge", ifDescr="ether1-gateway", ifname="ether1", sysName="rtr-dinkes"} 4`,
			}},
		{"snmp interface, 32-bit counters, ifSpeed in b/s, ifDescr as ifname, source as device",
			`interface,source=rtr1,ifDescr=eth0,ifAlias=WAN ifInOctets=10i,ifOutOctets=20i,ifSpeed=10000000i,ifHighSpeed=0i,ifInUcastPkts=4i,ifInNUcastPkts=1i`,
			[]string{
				`{__name__="pantau_snmp_if_receive_bytes_total", agent="agent-noc", device="rtr1", ifalias="WAN", ifname="eth0"} 10`,
				`{__name__="pantau_snmp_if_receive_packets_total", agent="agent-noc", device="rtr1", ifalias="WAN", ifname="eth0"} 5`,
				`{__name__="pantau_snmp_if_speed_bits_per_second", agent="agent-noc", device="rtr1", ifalias="WAN", ifname="eth0"} 1e+07`,
				`{__name__="pantau_snmp_if_transmit_bytes_total", agent="agent-noc", device="rtr1", ifalias="WAN", ifname="eth0"} 20`,
			}},
		{"snmp interface without a name: stored as is",
			`interface,agent_host=10.0.0.1 ifInOctets=10i`,
			[]string{`{__name__="pantau_interface_ifInOctets", agent="agent-noc", agent_host="10.0.0.1"} 10`}},
		{"http_response success",
			`http_response,method=GET,result=success,server=https://portal.example.go.id/,status_code=200 content_length=512i,http_response_code=200i,response_time=0.25,result_code=0i,result_type="success"`,
			[]string{
				`{__name__="pantau_http_response_content_length", agent="agent-noc", method="GET", result="success", server="https://portal.example.go.id/", status_code="200"} 512`,
				`{__name__="pantau_http_status_code", agent="agent-noc", method="GET", target="https://portal.example.go.id/"} 200`,
				`{__name__="pantau_http_total_seconds", agent="agent-noc", method="GET", target="https://portal.example.go.id/"} 0.25`,
				`{__name__="pantau_http_up", agent="agent-noc", method="GET", target="https://portal.example.go.id/"} 1`,
			}},
		{"http_response connection failed",
			`http_response,method=GET,result=connection_failed,server=https://portal.example.go.id/ response_time=0.001,result_code=3i,result_type="connection_failed"`,
			[]string{
				`{__name__="pantau_http_total_seconds", agent="agent-noc", method="GET", target="https://portal.example.go.id/"} 0.001`,
				`{__name__="pantau_http_up", agent="agent-noc", method="GET", target="https://portal.example.go.id/"} 0`,
			}},
		{"http_response 503: success for Telegraf, down for Pantau",
			`http_response,method=GET,result=success,server=https://portal.example.go.id/,status_code=503 http_response_code=503i,response_time=0.1,result_code=0i`,
			[]string{
				`{__name__="pantau_http_status_code", agent="agent-noc", method="GET", target="https://portal.example.go.id/"} 503`,
				`{__name__="pantau_http_total_seconds", agent="agent-noc", method="GET", target="https://portal.example.go.id/"} 0.1`,
				`{__name__="pantau_http_up", agent="agent-noc", method="GET", target="https://portal.example.go.id/"} 0`,
			}},
		{"http_response 503 expected (response_status_code = 503)",
			`http_response,method=GET,result=success,server=https://portal.example.go.id/,status_code=503 http_response_code=503i,response_status_code_match=1i,response_time=0.1,result_code=0i`,
			[]string{
				`{__name__="pantau_http_response_response_status_code_match", agent="agent-noc", method="GET", result="success", server="https://portal.example.go.id/", status_code="503"} 1`,
				`{__name__="pantau_http_status_code", agent="agent-noc", method="GET", target="https://portal.example.go.id/"} 503`,
				`{__name__="pantau_http_total_seconds", agent="agent-noc", method="GET", target="https://portal.example.go.id/"} 0.1`,
				`{__name__="pantau_http_up", agent="agent-noc", method="GET", target="https://portal.example.go.id/"} 1`,
			}},
		{"net_response tcp",
			`net_response,port=25,protocol=tcp,result=success,server=mail.example.go.id response_time=0.04,result_code=0u,result_type="success"`,
			[]string{
				`{__name__="pantau_tcp_connect_seconds", agent="agent-noc", target="mail.example.go.id:25"} 0.04`,
				`{__name__="pantau_tcp_up", agent="agent-noc", target="mail.example.go.id:25"} 1`,
			}},
		{"net_response tcp, IPv6 server, timeout",
			`net_response,port=443,protocol=tcp,result=timeout,server=2001:db8::1 result_code=1u`,
			[]string{`{__name__="pantau_tcp_up", agent="agent-noc", target="[2001:db8::1]:443"} 0`}},
		{"net_response udp: stored as is",
			`net_response,port=53,protocol=udp,result=success,server=10.0.0.53 response_time=0.01,result_code=0u`,
			[]string{
				`{__name__="pantau_net_response_response_time", agent="agent-noc", port="53", protocol="udp", result="success", server="10.0.0.53"} 0.01`,
				`{__name__="pantau_net_response_result_code", agent="agent-noc", port="53", protocol="udp", result="success", server="10.0.0.53"} 0`,
			}},
		{"dns_query success, ms to seconds",
			`dns_query,domain=portal.example.go.id,rcode=NOERROR,record_type=A,result=success,server=10.0.0.53 query_time_ms=12.5,rcode_value=0i,result_code=0u`,
			[]string{
				`{__name__="pantau_dns_query_rcode_value", agent="agent-noc", domain="portal.example.go.id", rcode="NOERROR", record_type="A", result="success", server="10.0.0.53"} 0`,
				`{__name__="pantau_dns_resolve_seconds", agent="agent-noc", domain="portal.example.go.id", record_type="A", target="10.0.0.53"} 0.0125`,
				`{__name__="pantau_dns_up", agent="agent-noc", domain="portal.example.go.id", record_type="A", target="10.0.0.53"} 1`,
			}},
		{"dns_query timeout: no time",
			`dns_query,domain=portal.example.go.id,record_type=A,result=timeout,server=10.0.0.53 query_time_ms=0,result_code=1u`,
			[]string{`{__name__="pantau_dns_up", agent="agent-noc", domain="portal.example.go.id", record_type="A", target="10.0.0.53"} 0`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, nil)
			if r := e.do(req{agent: "agent-noc", body: fmt.Sprintf("%s %d\n", c.body, t0)}); r.status != 204 {
				t.Fatalf("%d %s", r.status, r.msg)
			}
			var want []string
			for _, w := range c.want {
				want = append(want, fmt.Sprintf("%s @%d", w, ms))
			}
			if got := e.samples(); strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Fatalf("stored:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}

// TestTelegrafNoTranslation: with NoTelegraf the lines are stored as
// they come.
func TestTelegrafNoTranslation(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.NoTelegraf = true })
	if r := e.do(req{agent: "agent-noc", body: fmt.Sprintf("ping,url=10.20.0.1 result_code=0i,percent_packet_loss=0 %d\n", ns(now))}); r.status != 204 {
		t.Fatalf("%d %s", r.status, r.msg)
	}
	got := strings.Join(e.samples(), "\n")
	if strings.Contains(got, "pantau_icmp") || !strings.Contains(got, "pantau_ping_percent_packet_loss") {
		t.Fatalf("stored:\n%s", got)
	}
}

// TestTelegrafInterfaceRates: receive_ and transmit_bits_per_second come
// from two readings of the octet counters (none from the first), a
// 32-bit wrap is followed, a 64-bit counter going back is a reset.
func TestTelegrafInterfaceRates(t *testing.T) {
	e := newEnv(t, nil)
	line := func(at time.Time, in, out string) string {
		return fmt.Sprintf("interface,agent_host=rtr,ifName=ether1 %s,%s,ifHighSpeed=100u %d\n", in, out, ns(at))
	}
	t0, t1, t2 := now.Add(-2*time.Minute), now.Add(-time.Minute), now
	for _, b := range []string{
		line(t0, "ifHCInOctets=1000u", "ifOutOctets=4294967000i"),
		line(t1, "ifHCInOctets=751000u", "ifOutOctets=1204i"), // +750000 B in 60 s; out wrapped: +1500 B
		line(t2, "ifHCInOctets=10u", "ifOutOctets=2704i"),     // in reset: no rate
	} {
		if r := e.do(req{agent: "agent-noc", body: b}); r.status != 204 {
			t.Fatalf("%d %s", r.status, r.msg)
		}
	}
	var got []string
	for _, s := range e.samples() {
		if strings.Contains(s, "receive_bits_per_second\"") || strings.Contains(s, "transmit_bits_per_second\"") {
			got = append(got, s)
		}
	}
	ls := `agent="agent-noc", device="rtr", ifname="ether1"}`
	want := []string{
		fmt.Sprintf(`{__name__="pantau_snmp_if_receive_bits_per_second", %s 100000 @%d`, ls, t1.UnixMilli()),
		fmt.Sprintf(`{__name__="pantau_snmp_if_transmit_bits_per_second", %s 200 @%d`, ls, t1.UnixMilli()),
		fmt.Sprintf(`{__name__="pantau_snmp_if_transmit_bits_per_second", %s 200 @%d`, ls, t2.UnixMilli()),
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("rates:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestBitRate(t *testing.T) {
	for _, c := range []struct {
		prev, cur, sec float64
		wide           bool
		speed          float64
		want           float64
		ok             bool
	}{
		{0, 1000, 8, true, 0, 1000, true},
		{1000, 10, 1, true, 0, 0, false},                        // 64-bit reset
		{4294967295, 4, 1, false, 0, 40, true},                  // 32-bit wrap: 5 B
		{4294967295, 4, 1, false, 10, 0, false},                 // wrap faster than 1.5 × speed
		{5e9, 4, 1, false, 0, 0, false},                         // not a 32-bit value
		{0, 1, 0, true, 0, 0, false},                            // no time passed
		{0, 1e15, 1, true, 0, 0, false},                         // over maxBitRate
		{4294967000, 1204, 60, false, 1e8, 200, true},           // as in TestTelegrafInterfaceRates
		{1000, 751000, 60, true, 1e8, 100000, true},             // idem
		{100, 100, 10, false, 0, 0, true},                       // idle
		{100, 50, 10, false, 1e10, 4294967246 * 8 / 10.0, true}, // wrap within speed
	} {
		got, ok := bitRate(c.prev, c.cur, c.sec, c.wide, c.speed)
		if ok != c.ok || (ok && got != c.want) {
			t.Errorf("bitRate(%v, %v, %v, %v, %v) = %v, %v; want %v, %v", c.prev, c.cur, c.sec, c.wide, c.speed, got, ok, c.want, c.ok)
		}
	}
}

const telegrafInv = `
sites:
  - {id: dinkes, name: Dinkes, kind: opd}
  - {id: bappeda, name: Bappeda, kind: opd}
links:
  - {id: dinkes-wan, site: dinkes, icmp: {target: 10.20.0.1}, snmp: {device: 10.0.0.1, interface: ether1}}
  - {id: bappeda-wan, site: bappeda, icmp: {target: 10.30.0.1}}
services:
  - {id: portal, name: Portal, site: dinkes, probe: {measurement: http, target: "https://portal.example.go.id/"}, thresholds: {response_time: 1s}}
  - {id: mail, name: Mail, site: dinkes, probe: {measurement: tcp, target: "mail.example.go.id:25"}}
  - {id: ns, name: DNS, site: dinkes, probe: {measurement: dns, target: 10.0.0.53}}
  - {id: bappeda-web, name: Web Bappeda, site: bappeda, probe: {measurement: http, target: "https://bappeda.example.go.id/"}}
`

// TestTelegrafDecidesLinksAndServices: Telegraf's ping decides the link
// whose icmp.target is its url, and http_response, net_response and
// dns_query the services whose probe target is the URL, host:port or DNS
// server, with the link's and services' thresholds, under the writing
// token's scope: a site-bound token's data for another site's link or
// service is stored but decides nothing. The series get the inventory
// labels as Pantau's own agent's do. Telegraf's internal_agent is the
// site's heartbeat.
func TestTelegrafDecidesLinksAndServices(t *testing.T) {
	inv, err := inventory.Parse("i.yml", []byte(telegrafInv))
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, func(o *Options) { o.SLA = sla.NewBuilder(inv, func() time.Time { return now }) })
	t0 := ns(now)
	body := strings.Join([]string{
		`ping,url=10.20.0.1 packets_received=0i,packets_transmitted=3i,percent_packet_loss=100,result_code=1i`,
		`ping,url=10.30.0.1 packets_received=3i,packets_transmitted=3i,percent_packet_loss=0,result_code=0i,average_response_ms=1`,
		`http_response,method=GET,result=success,server=https://portal.example.go.id/,status_code=200 http_response_code=200i,response_time=2.5,result_code=0i`,
		`net_response,port=25,protocol=tcp,result=success,server=mail.example.go.id response_time=0.04,result_code=0u`,
		`dns_query,domain=portal.example.go.id,record_type=A,result=timeout,server=10.0.0.53 query_time_ms=0,result_code=1u`,
		`http_response,method=GET,result=success,server=https://bappeda.example.go.id/ response_time=0.1,result_code=0i`,
		`interface,agent_host=10.0.0.1,ifName=ether1 ifHCInOctets=5u,ifOperStatus=1i`,
		`internal_agent,go_version=1.25.5,version=1.37.2 gather_errors=0i,metrics_gathered=19i`,
	}, fmt.Sprintf(" %d\n", t0)) + fmt.Sprintf(" %d\n", t0)
	if r := e.do(req{agent: "agent-dinkes", body: body}); r.status != 204 {
		t.Fatalf("%d %s", r.status, r.msg)
	}
	g := e.h.o.Store.(*gateStore)
	var got []string
	for _, it := range g.items {
		for _, m := range it.(Committed).Marks {
			got = append(got, fmt.Sprintf("%d:%s:%s", m.Kind, m.ID, sla.DataState(m.Bits)))
		}
	}
	want := []string{
		fmt.Sprintf("%d:dinkes-wan:down", sla.KindLink),
		fmt.Sprintf("%d:portal:degraded", sla.KindService), // 2.5 s over its 1 s
		fmt.Sprintf("%d:mail:up", sla.KindService),
		fmt.Sprintf("%d:ns:down", sla.KindService),
		fmt.Sprintf("%d:dinkes:up", sla.KindSite), // Telegraf's inputs.internal: the box's heartbeat
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("marks %v, want %v (bappeda's link and service are not agent-dinkes's to decide)", got, want)
	}
	samples := strings.Join(e.samples(), "\n")
	for _, w := range []string{
		`{__name__="pantau_icmp_up", agent="agent-dinkes", link="dinkes-wan", opd="dinkes", site="dinkes", target="10.20.0.1"} 0`,
		`{__name__="pantau_icmp_up", agent="agent-dinkes", site="dinkes", target="10.30.0.1"} 1`,
		`{__name__="pantau_snmp_if_oper_status", agent="agent-dinkes", device="10.0.0.1", ifname="ether1", link="dinkes-wan", opd="dinkes", site="dinkes"} 1`,
	} {
		if !strings.Contains(samples, w) {
			t.Errorf("missing %s in\n%s", w, samples)
		}
	}
}

// FuzzTelegraf feeds Telegraf-shaped lines through the translation: it
// must never panic, and what it stores under Pantau's measurements obeys
// schema v1 (ratios within 0..1, counts not negative, no NaN).
func FuzzTelegraf(f *testing.F) {
	for _, s := range []string{
		`ping,url=10.20.0.1 average_response_ms=12.5,packets_received=4i,packets_transmitted=5i,percent_packet_loss=20,result_code=0i`,
		`ping,url=10.20.0.1 percent_packet_loss=250,result_code=0i,packets_received=-1i`,
		`ping,url=x result_code=2i`,
		`interface,agent_host=10.0.0.1,ifName=ether1 ifHCInOctets=1000u,ifInOctets=-5i,ifHighSpeed=100u,ifOperStatus=1i,ifPhysAddress="00:11"`,
		`interface,source=r,ifDescr=e ifInOctets=4294967295i,ifSpeed=1e300`,
		`http_response,server=https://a/ response_time=-1,result_code=0i,http_response_code=200i`,
		`net_response,server=h,port=1,protocol=tcp response_time=0.1,result_code=0u`,
		`dns_query,server=s,domain=d query_time_ms=1e400,result_code=0u`,
	} {
		f.Add(s, int64(0))
	}
	inv, err := inventory.Parse("i.yml", []byte(telegrafInv))
	if err != nil {
		f.Fatal(err)
	}
	e := newEnv(f, func(o *Options) { o.SLA = sla.NewBuilder(inv, func() time.Time { return now }) })
	f.Fuzz(func(t *testing.T, line string, dt int64) {
		// one line of one of Telegraf's measurements: what is stored
		// under Pantau's measurements then comes from the translation
		// (a writer may store any value under a field schema v1 does
		// not declare, directly)
		m, _, _ := strings.Cut(line, ",")
		m, _, _ = strings.Cut(m, " ")
		if strings.ContainsAny(line, "\r\n") || !slices.Contains([]string{"ping", "interface", "http_response", "net_response", "dns_query"}, m) {
			return
		}
		body := fmt.Sprintf("%s %d\n", line, ns(now)+dt%int64(time.Hour))
		_, aerr := e.h.store(context.Background(), e.h.lim.Load(), statedb.Identity{Agent: "agent-noc"}, []byte(body), lineproto.Nanosecond)
		if aerr != nil && aerr.status >= 500 {
			t.Fatal(aerr)
		}
		if err := e.h.o.Store.Sync(context.Background(), nil); err != nil {
			t.Fatal(err)
		}
		for _, s := range e.samplesFor(t) {
			name, rest, _ := strings.Cut(strings.TrimPrefix(s, `{__name__="`), `"`)
			var v float64
			if i := strings.LastIndex(rest, "} "); i >= 0 {
				fmt.Sscanf(rest[i+2:], "%g", &v)
			}
			kind, ok := schemaKind(name)
			switch {
			case !ok:
			case v != v:
				t.Fatalf("NaN stored: %s", s)
			case kind == "ratio" && (v < 0 || v > 1), kind == "count" && v < 0:
				t.Fatalf("%s out of range: %s", kind, s)
			}
		}
	})
}

func schemaKind(metric string) (string, bool) {
	switch {
	case metric == "pantau_icmp_loss_ratio":
		return "ratio", true
	case strings.HasPrefix(metric, "pantau_snmp_if_"), strings.HasPrefix(metric, "pantau_icmp_"),
		strings.HasPrefix(metric, "pantau_http_"), strings.HasPrefix(metric, "pantau_tcp_"), strings.HasPrefix(metric, "pantau_dns_"):
		return "count", true
	}
	return "", false
}
