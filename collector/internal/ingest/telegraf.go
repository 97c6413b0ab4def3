package ingest

import (
	"math"
	"net"
)

// Telegraf's plugins are read as Pantau's own measurements: a line of
// ping, interface (inputs.snmp's IF-MIB table), http_response,
// net_response (TCP) or dns_query that carries the tags identifying what
// it probed is translated into the schema v1 line Pantau's agent would
// have written (icmp, snmp_if) or the line of the bundled probe plugin
// (http, tcp, dns), with units converted. The translated line then goes
// the way of any other: its series, its SLA marks under the writing
// token's scope, and the inventory labels of the link or service it
// matches. The fields the translation uses leave the original line; the
// others stay under the original measurement (pantau_ping_ttl, ...).
// docs/telegraf.md is the operator's description of the mapping.

// tgField is one field of a Telegraf line, as translate finds it.
type tgField struct {
	v  float64
	ok bool
}

// take returns the field k of the line and removes it from the line's
// samples (it is stored under the translated measurement).
func (sc *scratch) take(k string) tgField {
	for i, p := range sc.pending {
		if string(sc.fields[p.f0:p.f1]) == k {
			sc.pending = append(sc.pending[:i], sc.pending[i+1:]...)
			return tgField{p.value, true}
		}
	}
	return tgField{}
}

// has tells whether the line has field k.
func (sc *scratch) has(k string) bool {
	_, ok := sc.field(k)
	return ok
}

// addField adds a sample of field k with value v to the line.
func (sc *scratch) addField(k string, v float64) {
	f0 := len(sc.fields)
	sc.fields = append(sc.fields, k...)
	sc.pending = append(sc.pending, pendingSample{value: v, f0: f0, f1: len(sc.fields)})
}

// reset empties the line and starts its key with measurement m.
func (sc *scratch) reset(m string) {
	sc.key = append(sc.key[:0], m...)
	sc.key = append(sc.key, 0)
	sc.tags = sc.tags[:0]
	sc.fields = sc.fields[:0]
	sc.pending = sc.pending[:0]
	sc.marks = sc.marks[:0]
}

// copyTags adds the tags of from to sc except those named in skip.
func (sc *scratch) copyTags(from *scratch, skip ...string) {
next:
	for _, t := range from.tags {
		k := from.key[t.k0:t.k1]
		for _, s := range skip {
			if string(k) == s {
				continue next
			}
		}
		sc.addTag(k, from.key[t.v0:t.v1])
	}
}

// validCount is a counter or gauge value the schema's Uint kind accepts.
func validCount(f tgField) bool { return f.ok && f.v >= 0 && !math.IsInf(f.v, 0) && !math.IsNaN(f.v) }

func validFloat(f tgField) bool { return f.ok && !math.IsInf(f.v, 0) && !math.IsNaN(f.v) }

// translateTelegraf translates the current line of sc (measurement m)
// into tr when it is one of Telegraf's that Pantau reads, and returns the
// translated measurement ("" when the line is not translated; sc is then
// unchanged).
func translateTelegraf(sc, tr *scratch, m []byte) string {
	switch string(m) {
	case "ping":
		return tgPing(sc, tr)
	case "interface":
		return tgInterface(sc, tr)
	case "http_response":
		return tgHTTP(sc, tr)
	case "net_response":
		return tgNet(sc, tr)
	case "dns_query":
		return tgDNS(sc, tr)
	}
	return ""
}

// tgPing: inputs.ping → icmp. result_code 0 is a round that ran (up when
// a reply came), 1 an unknown host (or, with the ping binary, no reply),
// 2 another error: both down.
func tgPing(sc, tr *scratch) string {
	url := sc.tag("url")
	if len(url) == 0 || !sc.has("result_code") {
		return ""
	}
	tr.reset("icmp")
	tr.addTag([]byte("target"), url)
	tr.copyTags(sc, "url", "target")
	rc := sc.take("result_code")
	sent := sc.take("packets_transmitted")
	recv := sc.take("packets_received")
	loss := sc.take("percent_packet_loss")
	up := rc.v == 0
	switch {
	case !up:
	case recv.ok:
		up = recv.v > 0
	case loss.ok:
		up = loss.v < 100
	}
	tr.addField("up", b2f(up))
	if validCount(sent) {
		tr.addField("packets_sent", sent.v)
	}
	if validCount(recv) {
		tr.addField("packets_received", recv.v)
	}
	if validFloat(loss) && loss.v >= 0 && loss.v <= 100 {
		tr.addField("loss_ratio", loss.v/100)
	} else if !up && rc.v != 0 {
		tr.addField("loss_ratio", 1)
	}
	for _, f := range [...][2]string{
		{"minimum_response_ms", "rtt_min_seconds"},
		{"average_response_ms", "rtt_avg_seconds"},
		{"maximum_response_ms", "rtt_max_seconds"},
		{"standard_deviation_ms", "rtt_stddev_seconds"},
	} {
		// Telegraf sends the response times only with a reply; its
		// exec method writes -1 for a time it could not parse.
		if v := sc.take(f[0]); validFloat(v) && v.v >= 0 && up {
			tr.addField(f[1], v.v/1000)
		}
	}
	return "icmp"
}

// tgInterface: inputs.snmp's IF-MIB table (measurement interface) →
// snmp_if, device from agent_host (or source, Telegraf's newer
// agent_host_tag), ifname from ifName or else ifDescr.
func tgInterface(sc, tr *scratch) string {
	devTag := "agent_host"
	dev := sc.tag(devTag)
	if len(dev) == 0 {
		devTag = "source"
		dev = sc.tag(devTag)
	}
	nameTag := "ifName"
	name := sc.tag(nameTag)
	if len(name) == 0 {
		nameTag = "ifDescr"
		name = sc.tag(nameTag)
	}
	if len(dev) == 0 || len(name) == 0 {
		return ""
	}
	tr.reset("snmp_if")
	tr.addTag([]byte("device"), dev)
	tr.addTag([]byte("ifname"), name)
	if a := sc.tag("ifAlias"); len(a) > 0 {
		tr.addTag([]byte("ifalias"), a)
	}
	if x := sc.tag("ifIndex"); len(x) > 0 {
		tr.addTag([]byte("ifindex"), x)
	}
	tr.copyTags(sc, devTag, nameTag, "ifAlias", "ifIndex", "device", "ifname", "ifalias", "ifindex")
	// Octets: the 64-bit counters when the device has them.
	tr.wide = [2]bool{}
	for i, d := range [...]struct{ hc, c32, to string }{
		{"ifHCInOctets", "ifInOctets", "receive_bytes_total"},
		{"ifHCOutOctets", "ifOutOctets", "transmit_bytes_total"},
	} {
		hc, c32 := sc.take(d.hc), sc.take(d.c32)
		switch {
		case validCount(hc):
			tr.addField(d.to, hc.v)
			tr.wide[i] = true
		case validCount(c32):
			tr.addField(d.to, c32.v)
		}
	}
	// Packets: unicast + multicast + broadcast (64-bit), else unicast +
	// non-unicast (32-bit), as Pantau's agent sums them.
	for _, d := range [...]struct {
		hc  [3]string
		c32 [2]string
		to  string
	}{
		{[3]string{"ifHCInUcastPkts", "ifHCInMulticastPkts", "ifHCInBroadcastPkts"}, [2]string{"ifInUcastPkts", "ifInNUcastPkts"}, "receive_packets_total"},
		{[3]string{"ifHCOutUcastPkts", "ifHCOutMulticastPkts", "ifHCOutBroadcastPkts"}, [2]string{"ifOutUcastPkts", "ifOutNUcastPkts"}, "transmit_packets_total"},
	} {
		wide := sc.has(d.hc[0])
		var sum [2]float64
		var any [2]bool
		for i, cols := range [2][]string{d.c32[:], d.hc[:]} {
			for _, c := range cols {
				if f := sc.take(c); validCount(f) {
					sum[i] += f.v
					any[i] = true
				}
			}
		}
		if w := b2i(wide); any[w] {
			tr.addField(d.to, sum[w])
		}
	}
	for _, d := range [...][2]string{
		{"ifInErrors", "receive_errors_total"}, {"ifOutErrors", "transmit_errors_total"},
		{"ifInDiscards", "receive_discards_total"}, {"ifOutDiscards", "transmit_discards_total"},
		{"ifOperStatus", "oper_status"}, {"ifAdminStatus", "admin_status"},
	} {
		if f := sc.take(d[0]); validCount(f) {
			tr.addField(d[1], f.v)
		}
	}
	// Speed: ifHighSpeed is in Mbit/s, ifSpeed in bit/s.
	hs, s := sc.take("ifHighSpeed"), sc.take("ifSpeed")
	switch {
	case validCount(hs) && hs.v > 0:
		tr.addField("speed_bits_per_second", hs.v*1e6)
	case validCount(s):
		tr.addField("speed_bits_per_second", s.v)
	}
	if len(tr.pending) == 0 {
		return ""
	}
	return "snmp_if"
}

// tgHTTP: inputs.http_response → http (the bundled http plugin's
// measurement), target = the server URL as configured. result_code 0 is
// success; everything else (timeout, connection failed, status or body
// mismatch, ...) is a down check, and so is a status outside 2xx and 3xx
// unless the check sets its own (response_status_code).
func tgHTTP(sc, tr *scratch) string {
	server := sc.tag("server")
	if len(server) == 0 || !sc.has("result_code") {
		return ""
	}
	tr.reset("http")
	tr.addTag([]byte("target"), server)
	// result and status_code change from check to check: they stay on
	// the original line only.
	tr.copyTags(sc, "server", "target", "result", "status_code")
	rc := sc.take("result_code")
	code := sc.take("http_response_code")
	up := rc.v == 0
	// Telegraf counts any answer a success unless response_status_code
	// is set (then response_status_code_match is sent): without it, as
	// Pantau's http probe, only a 2xx or 3xx is up.
	if up && code.ok && !sc.has("response_status_code_match") && (code.v < 200 || code.v >= 400) {
		up = false
	}
	tr.addField("up", b2f(up))
	if rt := sc.take("response_time"); validFloat(rt) && rt.v >= 0 {
		tr.addField("total_seconds", rt.v)
	}
	if validCount(code) {
		tr.addField("status_code", code.v)
	}
	return "http"
}

// tgNet: inputs.net_response with protocol tcp → tcp, target =
// host:port. UDP checks are not translated (Pantau has no udp probe).
func tgNet(sc, tr *scratch) string {
	server, port := sc.tag("server"), sc.tag("port")
	if len(server) == 0 || len(port) == 0 || string(sc.tag("protocol")) != "tcp" || !sc.has("result_code") {
		return ""
	}
	tr.reset("tcp")
	tr.addTag([]byte("target"), []byte(net.JoinHostPort(string(server), string(port))))
	tr.copyTags(sc, "server", "port", "protocol", "target", "result")
	rc := sc.take("result_code")
	tr.addField("up", b2f(rc.v == 0))
	if rt := sc.take("response_time"); validFloat(rt) && rt.v >= 0 {
		tr.addField("connect_seconds", rt.v)
	}
	return "tcp"
}

// tgDNS: inputs.dns_query → dns, target = the DNS server as configured;
// domain and record_type stay as labels. result_code 0 is success.
func tgDNS(sc, tr *scratch) string {
	server := sc.tag("server")
	if len(server) == 0 || !sc.has("result_code") {
		return ""
	}
	tr.reset("dns")
	tr.addTag([]byte("target"), server)
	tr.copyTags(sc, "server", "target", "result", "rcode")
	rc := sc.take("result_code")
	up := rc.v == 0
	tr.addField("up", b2f(up))
	// query_time_ms is 0 when no answer came: no time then.
	if qt := sc.take("query_time_ms"); validFloat(qt) && qt.v >= 0 && (up || sc.has("rcode_value")) {
		tr.addField("resolve_seconds", qt.v/1000)
	}
	return "dns"
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// maxRateGap is the longest time between two counter readings that a
// rate is computed over; a longer gap (Telegraf stopped) gives no rate.
const maxRateGap = 10 * 60 * 1e9

// maxBitRate is the largest rate believed (100 Tbit/s): above it is a
// counter glitch, as in Pantau's agent.
const maxBitRate = 1e14

// ifRates adds receive_ and transmit_bits_per_second to a translated
// snmp_if line from the previous reading of its octet counters, as
// Pantau's agent computes them on the device side: none on the first
// reading, after a reset (a 64-bit counter going backwards), across a
// gap over maxRateGap, or for an implausible 32-bit wrap.
func (a *agentSeries) ifRates(tr *scratch, ts int64, limit int) {
	speed, _ := tr.field("speed_bits_per_second")
	for i, d := range [...][2]string{
		{"receive_bytes_total", "receive_bits_per_second"},
		{"transmit_bytes_total", "transmit_bits_per_second"},
	} {
		v, ok := tr.field(d[0])
		if !ok {
			continue
		}
		if r, ok := a.rate(string(tr.key)+d[0], ts, v, tr.wide[i], speed, limit); ok {
			tr.addField(d[1], r)
		}
	}
}

// counterReading is the previous reading of one translated counter.
type counterReading struct {
	v    float64
	ns   int64
	wide bool
}

// rate records the reading v at ns of counter key and returns the bit
// rate since the previous one. At most limit counters are remembered per
// agent (the series limit); prune forgets idle ones.
func (a *agentSeries) rate(key string, ns int64, v float64, wide bool, speed float64, limit int) (float64, bool) {
	a.rmu.Lock()
	defer a.rmu.Unlock()
	prev, seen := a.rates[key]
	if !seen && len(a.rates) >= limit {
		return 0, false
	}
	if seen && ns <= prev.ns {
		return 0, false // a replay or an older batch: keep the newer reading
	}
	if a.rates == nil {
		a.rates = map[string]counterReading{}
	}
	a.rates[key] = counterReading{v: v, ns: ns, wide: wide}
	if !seen || prev.wide != wide || ns-prev.ns > maxRateGap {
		return 0, false
	}
	return bitRate(prev.v, v, float64(ns-prev.ns)/1e9, wide, speed)
}

// bitRate turns two octet counter readings seconds apart into bits per
// second: a 32-bit counter going backwards wrapped once at 2^32 (refused
// when that is faster than 1.5 × speed), a 64-bit one was reset.
func bitRate(prev, cur, seconds float64, wide bool, speed float64) (float64, bool) {
	if !(seconds > 0) {
		return 0, false
	}
	d, wrapped := cur-prev, false
	if d < 0 {
		if wide || prev > math.MaxUint32 || cur > math.MaxUint32 {
			return 0, false
		}
		d, wrapped = cur+(1<<32)-prev, true
	}
	r := d * 8 / seconds
	if r < 0 || r > maxBitRate || math.IsNaN(r) {
		return 0, false
	}
	if wrapped && speed > 0 && r > 1.5*speed {
		return 0, false
	}
	return r, true
}
