package demo

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gosnmp/gosnmp"
	"github.com/influxdata/line-protocol/v2/lineprotocol"

	"github.com/pantau-noc/pantau/collector/internal/demosim"
)

// The demo's Pemda: Kabupaten Sorong (WIT). Every site has a router with
// a WAN uplink (the inventory link), a LAN port and a disabled radio
// port. Traffic follows office hours; some links have scheduled outages;
// the portal is slow now and then and the e-office goes down.

// demoStep is the resolution of the simulated counters.
const demoStep = 10 * time.Second

// demoSite is one simulated site.
type demoSite struct {
	id, name, kind, district string
	lat, lon                 float64
	rttBase                  float64 // seconds
	cirBits                  float64 // contracted bandwidth, bits/s
	outageEvery              time.Duration
	outageFor                time.Duration

	mu    sync.Mutex
	at    time.Time // counters are advanced to here
	boot  time.Time // the router's boot
	ports [3]demoPort
}

// demoPort holds one interface's counters.
type demoPort struct {
	rx, tx, rxPkts, txPkts, rxErr, txErr, rxDisc, txDisc uint64
}

func demoSites() []*demoSite {
	return []*demoSite{
		{id: "noc-kominfo", name: "NOC Diskominfo", kind: "datacenter", district: "sorong-kota", lat: -0.8762, lon: 131.2558, rttBase: 0.0004, cirBits: 1e9},
		{id: "dinkes", name: "Dinas Kesehatan", kind: "opd", district: "sorong-kota", lat: -0.8815, lon: 131.2912, rttBase: 0.003, cirBits: 100e6},
		{id: "bappeda", name: "Bappeda", kind: "opd", district: "sorong-kota", lat: -0.8690, lon: 131.2701, rttBase: 0.004, cirBits: 50e6},
		{id: "dukcapil", name: "Disdukcapil", kind: "opd", district: "sorong-kota", lat: -0.8931, lon: 131.3054, rttBase: 0.005, cirBits: 50e6, outageEvery: 30 * time.Minute, outageFor: 3 * time.Minute},
		{id: "distrik-aimas", name: "Distrik Aimas", kind: "district", district: "aimas", lat: -0.9512, lon: 131.3367, rttBase: 0.018, cirBits: 20e6},
		{id: "distrik-makbon", name: "Distrik Makbon (VSAT)", kind: "district", district: "makbon", lat: -0.7156, lon: 131.5012, rttBase: 0.62, cirBits: 4e6, outageEvery: 20 * time.Minute, outageFor: 4 * time.Minute},
	}
}

// Demo services: the portal is slow 3 minutes in 25, the e-office down
// 5 minutes in 40.
func demoPortal(t time.Time) (down, slow bool) {
	return false, t.UnixNano()%int64(25*time.Minute) < int64(3*time.Minute)
}

func demoEOffice(t time.Time) (down, slow bool) {
	return t.UnixNano()%int64(40*time.Minute) < int64(5*time.Minute), false
}

// down tells whether the site's uplink is out at t.
func (s *demoSite) down(t time.Time) bool {
	return s.outageEvery > 0 && t.UnixNano()%int64(s.outageEvery) < int64(s.outageFor)
}

// load is the WAN's use of its contracted bandwidth at t: office hours in
// WIT (UTC+9), quiet at night; nothing during an outage.
func (s *demoSite) load(t time.Time) float64 {
	if s.down(t) {
		return 0
	}
	r := rand.New(rand.NewPCG(uint64(t.UnixNano()/int64(demoStep)), uint64(len(s.id))))
	hour := float64(t.UTC().Add(9*time.Hour).Hour()) + float64(t.Minute())/60
	return 0.15 + 0.55*math.Max(0, math.Sin((hour-6)/12*math.Pi)) + 0.05*r.Float64()
}

// rates are the WAN's bit rates at t (in, out).
func (s *demoSite) rates(t time.Time) (float64, float64) {
	l := s.load(t)
	return l * s.cirBits, l * s.cirBits * 0.35
}

// advance steps the counters to t (they never go back).
func (s *demoSite) advance(t time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.at.IsZero() {
		s.at = t.Truncate(demoStep)
		s.boot = s.at.Add(-72 * time.Hour)
	}
	for ; !s.at.Add(demoStep).After(t); s.at = s.at.Add(demoStep) {
		rx, tx := s.rates(s.at)
		sec := demoStep.Seconds()
		wan := &s.ports[0]
		wan.rx += uint64(rx / 8 * sec)
		wan.tx += uint64(tx / 8 * sec)
		wan.rxPkts += uint64(rx / 8 * sec / 900)
		wan.txPkts += uint64(tx / 8 * sec / 600)
		// radio and satellite links see errors and discards at busy times
		if s.rttBase > 0.01 && s.load(s.at) > 0.5 {
			wan.rxErr += uint64(s.at.Unix() % 3)
			wan.rxDisc += uint64(s.at.Unix() % 5)
		}
		if s.load(s.at) > 0.6 {
			wan.txDisc += 1
		}
		lan := &s.ports[1]
		lan.rx += uint64(tx / 8 * sec)
		lan.tx += uint64(rx / 8 * sec)
		lan.rxPkts += uint64(tx / 8 * sec / 600)
		lan.txPkts += uint64(rx / 8 * sec / 900)
	}
}

// counters returns the counters at t: whole steps, plus the part of the
// current step up to t (so that polls at any interval see steady rates).
func (s *demoSite) counters(t time.Time) ([3]demoPort, time.Time) {
	s.advance(t)
	s.mu.Lock()
	defer s.mu.Unlock()
	ports := s.ports
	if part := t.Sub(s.at).Seconds(); part > 0 {
		rx, tx := s.rates(s.at)
		ports[0].rx += uint64(rx / 8 * part)
		ports[0].tx += uint64(tx / 8 * part)
		ports[1].rx += uint64(tx / 8 * part)
		ports[1].tx += uint64(rx / 8 * part)
	}
	return ports, s.boot
}

var demoPortNames = [3]struct{ name, alias string }{{"ether1", "WAN"}, {"ether2", "LAN kantor"}, {"wlan1", "radio cadangan (nonaktif)"}}

// mib is the router's SNMP view at t, for the simulated SNMP agent.
func (s *demoSite) mib(t time.Time) []gosnmp.SnmpPDU {
	ports, boot := s.counters(t)
	l := s.load(t)
	pdus := []gosnmp.SnmpPDU{
		{Name: "1.3.6.1.2.1.1.1.0", Type: gosnmp.OctetString, Value: []byte("RouterOS CCR2004 (Pantau demo)")},
		{Name: "1.3.6.1.2.1.1.3.0", Type: gosnmp.TimeTicks, Value: uint32(t.Sub(boot) / (10 * time.Millisecond))},
		{Name: "1.3.6.1.2.1.1.5.0", Type: gosnmp.OctetString, Value: []byte("rtr-" + s.id)},
		// HOST-RESOURCES-MIB: two CPUs, busier with traffic; 4 GiB of RAM
		{Name: "1.3.6.1.2.1.25.1.1.0", Type: gosnmp.TimeTicks, Value: uint32(t.Sub(boot) / (10 * time.Millisecond))},
		{Name: "1.3.6.1.2.1.25.3.3.1.2.1", Type: gosnmp.Integer, Value: int(8 + 40*l)},
		{Name: "1.3.6.1.2.1.25.3.3.1.2.2", Type: gosnmp.Integer, Value: int(5 + 30*l)},
		{Name: "1.3.6.1.2.1.25.2.3.1.2.1", Type: gosnmp.ObjectIdentifier, Value: ".1.3.6.1.2.1.25.2.1.2"},
		{Name: "1.3.6.1.2.1.25.2.3.1.4.1", Type: gosnmp.Integer, Value: 1024},
		{Name: "1.3.6.1.2.1.25.2.3.1.5.1", Type: gosnmp.Integer, Value: 4 << 20},
		{Name: "1.3.6.1.2.1.25.2.3.1.6.1", Type: gosnmp.Integer, Value: int(float64(4<<20) * (0.35 + 0.2*l))},
	}
	for i, p := range ports {
		idx := strconv.Itoa(i + 1)
		name := demoPortNames[i].name
		alias := demoPortNames[i].alias
		if i == 0 {
			alias = "WAN " + s.name
		}
		speed := uint64(1e9)
		if i == 0 {
			speed = uint64(s.cirBits)
		}
		admin, oper := 1, 1
		switch {
		case i == 2:
			admin, oper = 2, 2
		case i == 0 && s.down(t):
			oper = 2
		}
		c32 := func(v uint64) uint32 { return uint32(v) }
		add := func(oid string, typ gosnmp.Asn1BER, v any) {
			pdus = append(pdus, gosnmp.SnmpPDU{Name: oid + "." + idx, Type: typ, Value: v})
		}
		add("1.3.6.1.2.1.2.2.1.2", gosnmp.OctetString, []byte(name))
		add("1.3.6.1.2.1.2.2.1.5", gosnmp.Gauge32, uint(min(speed, math.MaxUint32)))
		add("1.3.6.1.2.1.2.2.1.7", gosnmp.Integer, admin)
		add("1.3.6.1.2.1.2.2.1.8", gosnmp.Integer, oper)
		add("1.3.6.1.2.1.2.2.1.10", gosnmp.Counter32, uint(c32(p.rx)))
		add("1.3.6.1.2.1.2.2.1.11", gosnmp.Counter32, uint(c32(p.rxPkts)))
		add("1.3.6.1.2.1.2.2.1.13", gosnmp.Counter32, uint(c32(p.rxDisc)))
		add("1.3.6.1.2.1.2.2.1.14", gosnmp.Counter32, uint(c32(p.rxErr)))
		add("1.3.6.1.2.1.2.2.1.16", gosnmp.Counter32, uint(c32(p.tx)))
		add("1.3.6.1.2.1.2.2.1.17", gosnmp.Counter32, uint(c32(p.txPkts)))
		add("1.3.6.1.2.1.2.2.1.19", gosnmp.Counter32, uint(c32(p.txDisc)))
		add("1.3.6.1.2.1.2.2.1.20", gosnmp.Counter32, uint(c32(p.txErr)))
		add("1.3.6.1.2.1.31.1.1.1.1", gosnmp.OctetString, []byte(name))
		add("1.3.6.1.2.1.31.1.1.1.6", gosnmp.Counter64, p.rx)
		add("1.3.6.1.2.1.31.1.1.1.7", gosnmp.Counter64, p.rxPkts)
		add("1.3.6.1.2.1.31.1.1.1.10", gosnmp.Counter64, p.tx)
		add("1.3.6.1.2.1.31.1.1.1.11", gosnmp.Counter64, p.txPkts)
		add("1.3.6.1.2.1.31.1.1.1.15", gosnmp.Gauge32, uint(speed/1e6))
		add("1.3.6.1.2.1.31.1.1.1.18", gosnmp.OctetString, []byte(alias))
	}
	return pdus
}

// siteLines appends what the site's own agent sends at t: an ICMP round
// of its uplink and a heartbeat.
func (s *demoSite) siteLines(buf *bytes.Buffer, t time.Time) {
	var enc lineprotocol.Encoder
	enc.SetPrecision(lineprotocol.Nanosecond)
	down := s.down(t)
	r := rand.New(rand.NewPCG(uint64(t.UnixNano()), uint64(len(s.id))))

	enc.StartLine("icmp")
	enc.AddTag("name", "gw-"+s.id)
	enc.AddTag("site", s.id)
	enc.AddTag("target", "127.0.0.1")
	sent, recv := uint64(5), uint64(5)
	if down {
		recv = 0
	} else if r.Float64() < 0.05 {
		recv = 4
	}
	enc.AddField("packets_sent", lineprotocol.UintValue(sent))
	enc.AddField("packets_received", lineprotocol.UintValue(recv))
	loss, _ := lineprotocol.FloatValue(float64(sent-recv) / float64(sent))
	enc.AddField("loss_ratio", loss)
	if recv > 0 {
		avg := s.rttBase * (1 + 0.2*r.Float64())
		for _, f := range []struct {
			k string
			v float64
		}{{"rtt_min_seconds", avg * 0.9}, {"rtt_avg_seconds", avg}, {"rtt_max_seconds", avg * 1.3}, {"rtt_stddev_seconds", avg * 0.1}, {"jitter_seconds", avg * 0.08}} {
			v, _ := lineprotocol.FloatValue(f.v)
			enc.AddField(f.k, v)
		}
	}
	up := int64(1)
	if recv == 0 {
		up = 0
	}
	enc.AddField("up", lineprotocol.IntValue(up))
	enc.EndLine(t)

	enc.StartLine("agent")
	enc.AddTag("site", s.id)
	enc.AddTag("version", "demo")
	uptime, _ := lineprotocol.FloatValue(float64(t.Unix() % 864000))
	enc.AddField("uptime_seconds", uptime)
	enc.AddField("targets", lineprotocol.IntValue(1))
	enc.AddField("queue_points", lineprotocol.MustNewValue(0.0))
	enc.AddField("queue_bytes", lineprotocol.MustNewValue(0.0))
	enc.AddField("queue_oldest_age_seconds", lineprotocol.MustNewValue(0.0))
	enc.AddField("queue_dropped_points_total", lineprotocol.UintValue(0))
	enc.EndLine(t)
	buf.Write(enc.Bytes())
}

// nocLines appends what the NOC's agent would send at t for this site's
// router (SNMP), exactly as pantau-agent's SNMP poller writes it: the
// backfilled history, and the live data when no agent binary is found.
func (s *demoSite) nocLines(buf *bytes.Buffer, t time.Time, prev time.Time) {
	ports, boot := s.counters(t)
	var enc lineprotocol.Encoder
	enc.SetPrecision(lineprotocol.Nanosecond)
	l := s.load(t)
	enc.StartLine("snmp_device")
	enc.AddTag("device", "rtr-"+s.id)
	enc.AddTag("site", s.id)
	enc.AddTag("sysname", "rtr-"+s.id)
	enc.AddField("cpu_load_ratio", lineprotocol.MustNewValue(float64(int(8+40*l)+int(5+30*l))/2/100))
	enc.AddField("memory_used_ratio", lineprotocol.MustNewValue(float64(int(float64(4<<20)*(0.35+0.2*l)))/float64(4<<20)))
	enc.AddField("poll_duration_seconds", lineprotocol.MustNewValue(0.004))
	enc.AddField("up", lineprotocol.IntValue(1))
	enc.AddField("uptime_seconds", lineprotocol.MustNewValue(t.Sub(boot).Seconds()))
	enc.EndLine(t)
	// the vendor profiles' points (docs/agent.md): the router's backup
	// radio, its sensors, and the site's UPS (mains on)
	enc.StartLine("snmp_radio")
	enc.AddTag("device", "rtr-"+s.id)
	enc.AddTag("ifname", "wlan1")
	enc.AddTag("site", s.id)
	signal := -60 - 10*l // busier hours, weaker readings
	enc.AddField("ccq_ratio", lineprotocol.MustNewValue(0.95-0.2*l))
	enc.AddField("frequency_hertz", lineprotocol.MustNewValue(5.18e9))
	enc.AddField("noise_dbm", lineprotocol.MustNewValue(-100.0))
	enc.AddField("signal_dbm", lineprotocol.MustNewValue(signal))
	enc.AddField("snr_db", lineprotocol.MustNewValue(signal+100))
	enc.EndLine(t)
	for _, sn := range []struct {
		sensor, field string
		v             float64
	}{{"cpu", "temperature_celsius", 33 + 8*l}, {"psu", "voltage_volts", 24.1}} {
		enc.StartLine("snmp_env")
		enc.AddTag("device", "rtr-"+s.id)
		enc.AddTag("sensor", sn.sensor)
		enc.AddTag("site", s.id)
		enc.AddField(sn.field, lineprotocol.MustNewValue(sn.v))
		enc.EndLine(t)
	}
	enc.StartLine("snmp_ups")
	enc.AddTag("device", "ups-"+s.id)
	enc.AddTag("site", s.id)
	enc.AddField("battery_charge_ratio", lineprotocol.MustNewValue(1.0))
	enc.AddField("battery_runtime_seconds", lineprotocol.MustNewValue(2700.0))
	enc.AddField("input_voltage_volts", lineprotocol.MustNewValue(220.0))
	enc.AddField("load_ratio", lineprotocol.MustNewValue(0.3+0.2*l))
	enc.AddField("on_battery", lineprotocol.IntValue(0))
	enc.EndLine(t)
	rx, tx := s.rates(t)
	for i, p := range ports {
		alias := demoPortNames[i].alias
		speed := uint64(1e9)
		rxr, txr := tx, rx // LAN mirrors the WAN
		if i == 0 {
			alias, speed, rxr, txr = "WAN "+s.name, uint64(s.cirBits), rx, tx
		}
		admin, oper := int64(1), int64(1)
		switch {
		case i == 2:
			admin, oper, rxr, txr = 2, 2, 0, 0
		case i == 0 && s.down(t):
			oper = 2
		}
		enc.StartLine("snmp_if")
		enc.AddTag("device", "rtr-"+s.id)
		enc.AddTag("ifalias", alias)
		enc.AddTag("ifindex", strconv.Itoa(i+1))
		enc.AddTag("ifname", demoPortNames[i].name)
		enc.AddTag("site", s.id)
		enc.AddField("admin_status", lineprotocol.IntValue(admin))
		enc.AddField("oper_status", lineprotocol.IntValue(oper))
		if !prev.IsZero() {
			enc.AddField("receive_bits_per_second", lineprotocol.MustNewValue(rxr))
			enc.AddField("transmit_bits_per_second", lineprotocol.MustNewValue(txr))
		}
		for _, f := range []struct {
			k string
			v uint64
		}{{"receive_bytes_total", p.rx}, {"transmit_bytes_total", p.tx}, {"receive_packets_total", p.rxPkts}, {"transmit_packets_total", p.txPkts},
			{"receive_errors_total", p.rxErr}, {"transmit_errors_total", p.txErr}, {"receive_discards_total", p.rxDisc}, {"transmit_discards_total", p.txDisc},
			{"speed_bits_per_second", speed}} {
			enc.AddField(f.k, lineprotocol.UintValue(f.v))
		}
		enc.EndLine(t)
	}
	buf.Write(enc.Bytes())
}

// serviceLines appends the checks the NOC's agent would send at t, as the
// bundled http and tcp plugins write them, and its heartbeat.
func serviceLines(buf *bytes.Buffer, t time.Time, svc *demosim.Services) {
	var enc lineprotocol.Encoder
	enc.SetPrecision(lineprotocol.Nanosecond)
	for _, c := range []struct {
		target, url string
		sched       demosim.Schedule
	}{{"portal", svc.PortalURL, demoPortal}, {"eoffice", svc.EOfficeURL, demoEOffice}} {
		down, slow := c.sched(t)
		total := 0.004
		if slow {
			total += demosim.SlowDelay.Seconds()
		}
		enc.StartLine("http")
		enc.AddTag("method", "GET")
		enc.AddTag("target", c.target)
		enc.AddTag("url", c.url)
		status := int64(200)
		if down {
			status = 503
		}
		enc.AddField("status_code", lineprotocol.IntValue(status))
		enc.AddField("time_to_first_byte_seconds", lineprotocol.MustNewValue(total*0.9))
		enc.AddField("total_seconds", lineprotocol.MustNewValue(total))
		up := int64(1)
		if down {
			up = 0
		}
		enc.AddField("up", lineprotocol.IntValue(up))
		if strings.HasPrefix(c.url, "https:") {
			enc.AddField("tls_cert_expiry_seconds", lineprotocol.MustNewValue(svc.CertNotAfter.Sub(t).Seconds()))
		}
		enc.EndLine(t)
	}
	// the target the http plugin refuses
	enc.StartLine("plugin")
	enc.AddTag("plugin", "http")
	enc.AddTag("target", "sipd-lama")
	enc.AddField("ok", lineprotocol.IntValue(0))
	enc.EndLine(t)
	// the NOC agent's heartbeat
	enc.StartLine("agent")
	enc.AddTag("site", "noc-kominfo")
	enc.AddTag("version", "demo")
	enc.AddField("queue_bytes", lineprotocol.MustNewValue(0.0))
	enc.AddField("queue_dropped_points_total", lineprotocol.UintValue(0))
	enc.AddField("queue_oldest_age_seconds", lineprotocol.MustNewValue(0.0))
	enc.AddField("queue_points", lineprotocol.MustNewValue(0.0))
	enc.AddField("targets", lineprotocol.IntValue(10))
	enc.AddField("uptime_seconds", lineprotocol.MustNewValue(float64(t.Unix()%864000)))
	enc.EndLine(t)
	enc.StartLine("tcp")
	enc.AddTag("address", svc.MailAddr)
	enc.AddTag("target", "mail")
	enc.AddField("connect_seconds", lineprotocol.MustNewValue(0.0002))
	enc.AddField("response_match", lineprotocol.IntValue(1))
	enc.AddField("up", lineprotocol.IntValue(1))
	enc.EndLine(t)
	buf.Write(enc.Bytes())
}

// demoInventory is the inventory of the simulated sites: a data centre
// with the others under it (Kabupaten Sorong, WIT), one OPD with no link
// yet (so coverage shows a gap), an ISP contract on the VSAT link, the
// routers as devices, and the public services the NOC's agent checks.
func demoInventory(sites []*demoSite) []byte {
	var b bytes.Buffer
	b.WriteString("# generated by pantau-collector demo\nsites:\n")
	for _, s := range sites {
		parent := ""
		if s.kind != "datacenter" {
			parent = ", parent: noc-kominfo"
		}
		opd := ""
		if s.kind != "opd" {
			opd = ", opd: diskominfo"
		}
		fmt.Fprintf(&b, "  - {id: %s, name: %q, kind: %s%s, district: %s, timezone: WIT, lat: %.4f, lon: %.4f%s}\n",
			s.id, s.name, s.kind, opd, s.district, s.lat, s.lon, parent)
	}
	b.WriteString("  - {id: disdik, name: \"Dinas Pendidikan\", kind: opd, district: sorong-kota, timezone: WIT, lat: -0.8777, lon: 131.2840, parent: noc-kominfo}\n")
	b.WriteString("links:\n")
	for _, s := range sites {
		typ, contract := "fibre", ""
		if s.rttBase > 0.3 {
			typ = "vsat"
			contract = ", contract: {target: 98.0, min_outage: 300s, monthly_fee: 12500000, restitution: proportional, end: " +
				time.Now().AddDate(0, 2, 0).Format("2006-01-02") + "}"
		}
		fmt.Fprintf(&b, "  - {id: %s-wan, site: %s, type: %s, isp: Demo ISP, bandwidth: %.0f, icmp: {target: 127.0.0.1, agent: agent-%s}, snmp: {device: rtr-%s, interface: ether1}%s}\n",
			s.id, s.id, typ, s.cirBits, s.id, s.id, contract)
	}
	b.WriteString("devices:\n")
	for i, s := range sites {
		fmt.Fprintf(&b, "  - {id: rtr-%s, site: %s, vendor: MikroTik, model: CCR2004-16G-2S+, serial: HE1%05d, year_acquired: 2023, asset_code: \"02.06.02.01.%03d\", warranty_end: %s, contract_end: %s}\n",
			s.id, s.id, 4711+i, i+1, time.Now().AddDate(0, 1+i*3, 0).Format("2006-01-02"), time.Now().AddDate(0, 2+i*2, 0).Format("2006-01-02"))
	}
	b.WriteString(`services:
  - {id: portal, name: "Portal Resmi Pemkab Sorong", site: noc-kominfo, opd: diskominfo, category: portal, probe: {measurement: http, target: portal}, thresholds: {response_time: 1s}, sla_target: 99.5}
  - {id: eoffice, name: "E-Office", site: noc-kominfo, opd: bappeda, category: e-office, probe: {measurement: http, target: eoffice}}
  - {id: mail, name: "Email Pemkab", site: noc-kominfo, opd: diskominfo, category: email, probe: {measurement: tcp, target: mail}}
`)
	return b.Bytes()
}
