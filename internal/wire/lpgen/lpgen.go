// Package lpgen generates realistic line-protocol rounds in wire schema v1
// — the mix one busy agent writes: ICMP targets, SNMP interfaces, SNMP
// devices and heartbeats — for benchmarks and load tests. Timestamps are
// written with a fixed width so that a round can be re-stamped in place.
package lpgen

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
)

// Mix is how many lines of each measurement one round holds.
type Mix struct {
	ICMP, SNMPIf, SNMPDevice, Agent int
}

// DefaultMix is a 5,000-line round: 1,000 ICMP targets, 150 devices with
// 24 ports each (3,600 interfaces), 380 device lines and 20 heartbeats.
var DefaultMix = Mix{ICMP: 1000, SNMPIf: 3600, SNMPDevice: 380, Agent: 20}

// Lines is the number of lines in a round.
func (m Mix) Lines() int { return m.ICMP + m.SNMPIf + m.SNMPDevice + m.Agent }

// Round is one round of an agent's measurements.
type Round struct {
	Body    []byte
	Samples int   // fields
	tsAt    []int // offsets of the 19-digit timestamps
}

// NewRound builds a round for agent at ts (unix ns, 19 digits).
func NewRound(agent string, m Mix, ts int64) *Round {
	var b bytes.Buffer
	r := &Round{}
	stamp := func() {
		b.WriteByte(' ')
		r.tsAt = append(r.tsAt, b.Len())
		fmt.Fprintf(&b, "%019d\n", ts)
	}
	for i := 0; i < m.ICMP; i++ {
		fmt.Fprintf(&b, "icmp,agent=%s,district=d%d,link=l%d,name=gw-%d,site=s%d,target=10.%d.%d.1 jitter_seconds=0.0004%d,loss_ratio=0,packets_received=5u,packets_sent=5u,rtt_avg_seconds=0.003%d,rtt_max_seconds=0.0042,rtt_min_seconds=0.0027,rtt_stddev_seconds=0.0005,up=1i",
			agent, i%7, i, i, i%50, i/250, i%250, i%10, i%97)
		r.Samples += 9
		stamp()
	}
	for i := 0; i < m.SNMPIf; i++ {
		dev, port := i/24, i%24
		fmt.Fprintf(&b, "snmp_if,agent=%s,device=sw-%d,ifalias=port\\ %d,ifindex=%d,ifname=ge-0/0/%d,site=s%d admin_status=1i,oper_status=1i,receive_bits_per_second=%d.5,receive_bytes_total=%du,receive_discards_total=0u,receive_errors_total=0u,receive_packets_total=%du,speed_bits_per_second=1000000000u,transmit_bits_per_second=%d.25,transmit_bytes_total=%du,transmit_discards_total=0u,transmit_errors_total=0u,transmit_packets_total=%du",
			agent, dev, port, port+1, port, dev%50, 1000000+i, 98765432101+int64(i)*1000, 123456789+i, 500000+i, 12345678901+int64(i)*777, 23456789+i)
		r.Samples += 13
		stamp()
	}
	for i := 0; i < m.SNMPDevice; i++ {
		fmt.Fprintf(&b, "snmp_device,agent=%s,device=sw-%d,site=s%d,sysname=sw-%d.pemda poll_duration_seconds=0.2%d,up=1i,uptime_seconds=86400%d", agent, i, i%50, i, i%10, i)
		r.Samples += 3
		stamp()
	}
	for i := 0; i < m.Agent; i++ {
		fmt.Fprintf(&b, "agent,agent=%s,site=s%d,version=0.1.0 queue_bytes=0,queue_dropped_points_total=0u,queue_oldest_age_seconds=0,queue_points=0,targets=%di,uptime_seconds=3600", agent, i, 1000+i)
		r.Samples += 6
		stamp()
	}
	r.Body = b.Bytes()
	return r
}

// Restamp rewrites every timestamp of the round to ts in place.
func (r *Round) Restamp(ts int64) {
	var d [19]byte
	s := strconv.AppendInt(d[:0], ts, 10)
	pad := 19 - len(s)
	for _, at := range r.tsAt {
		for i := 0; i < pad; i++ {
			r.Body[at+i] = '0'
		}
		copy(r.Body[at+pad:at+19], s)
	}
}

var unsignedRE = regexp.MustCompile(`=(\d+)u([, ])`)

// Signed rewrites unsigned fields (5u) as integers (5i) in place of the
// body, for servers that predate unsigned support (InfluxDB 1.x before 1.8).
// Timestamp offsets stay valid because both suffixes are one byte.
func (r *Round) Signed() {
	r.Body = unsignedRE.ReplaceAll(r.Body, []byte("=${1}i$2"))
}
