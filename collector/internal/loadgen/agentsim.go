package loadgen

import (
	"bytes"
	"container/heap"
	"context"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"time"

	"github.com/influxdata/line-protocol/v2/lineprotocol"
	"github.com/klauspost/compress/gzip"
)

// The real agent's defaults (agent/internal/config Default and
// agent/probes.go) that the simulated agents copy.
const (
	// AgentBatchLinger is queue.batch_linger: a batch is queued (and sent)
	// this long after its first point, or earlier when full.
	AgentBatchLinger = time.Second
	// AgentBatchPoints is queue.batch_points, a batch's largest size.
	AgentBatchPoints = 5000
	// AgentInterval is defaults.interval: ICMP rounds and the heartbeat.
	AgentInterval = 30 * time.Second
	// icmpRoundLength is how long an ICMP round of defaults.icmp (5
	// packets 500 ms apart) takes before its point exists; the point is
	// stamped with the round's start.
	icmpRoundLength = 2 * time.Second
	icmpPackets     = 5
	// agentVersion is the version tag of the simulated heartbeats.
	agentVersion = "loadgen"
)

// Measurement indexes Counts.
type Measurement int

// The measurements of wire schema v1 that the agents send.
const (
	ICMP Measurement = iota
	SNMPIf
	SNMPDevice
	AgentHeartbeat
	numMeasurements
)

var measurementNames = [numMeasurements]string{"icmp", "snmp_if", "snmp_device", "agent"}

func (m Measurement) String() string { return measurementNames[m] }

// Counts are points (lines) and samples (fields) per measurement.
type Counts struct {
	Points, Samples [numMeasurements]int64
}

func (c *Counts) add(o *Counts) {
	for m := range numMeasurements {
		c.Points[m] += o.Points[m]
		c.Samples[m] += o.Samples[m]
	}
}

// TotalPoints is the sum over the measurements.
func (c *Counts) TotalPoints() int64 {
	var n int64
	for _, v := range c.Points {
		n += v
	}
	return n
}

// TotalSamples is the sum over the measurements.
func (c *Counts) TotalSamples() int64 {
	var n int64
	for _, v := range c.Samples {
		n += v
	}
	return n
}

// batch is one request body as the agent's queue holds it.
type batch struct {
	seq     uint64
	body    []byte // gzip'd line protocol
	counts  Counts
	created time.Time
}

// splay is the agent scheduler's start offset of a job inside its
// interval (agent/internal/scheduler Splay): an FNV-1a hash of kind and
// name, quantised to slots of interval/100, at most 10 ms.
func splay(kind, name string, interval time.Duration) time.Duration {
	h := fnv.New64a()
	h.Write([]byte(kind))
	h.Write([]byte{0})
	h.Write([]byte(name))
	d := time.Duration(h.Sum64() % uint64(interval))
	if q := min(interval/100, 10*time.Millisecond); q > 0 {
		d -= d % q
	}
	return d
}

// job is one scheduled probe of an agent.
type job struct {
	next     time.Time     // when its points exist
	interval time.Duration //
	delay    time.Duration // from the probe's start to its points
	run      func(now time.Time)
}

type jobHeap []*job

func (h jobHeap) Len() int           { return len(h) }
func (h jobHeap) Less(i, j int) bool { return h[i].next.Before(h[j].next) }
func (h jobHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *jobHeap) Push(x any)        { *h = append(*h, x.(*job)) }
func (h *jobHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// ifState is an interface's counters between polls.
type ifState struct {
	SimInterface
	rx, tx, rxPkts, txPkts, rxErr, txDisc uint64
	util                                  float64 // of the bandwidth, inbound
	last                                  time.Time
}

// simAgent generates one agent's points on the agent's schedule and
// batches them as the agent's batcher does.
type simAgent struct {
	a        *SimAgent
	epoch    time.Time
	icmpEach time.Duration
	snmpEach time.Duration
	linger   time.Duration
	maxPts   int
	rng      *rand.Rand
	rtt      []float64 // base RTT per link, seconds

	enc     lineprotocol.Encoder
	zw      *gzip.Writer
	cur     Counts
	n       int
	flushAt time.Time
	seq     uint64

	generated Counts // every point batched
	lost      Counts // never queued: the run ended while the queue was full
}

func newSimAgent(a *SimAgent, idx int, epoch time.Time, o *ScaleOptions) *simAgent {
	s := &simAgent{a: a, epoch: epoch, icmpEach: o.ICMPInterval, snmpEach: o.SNMPInterval, linger: o.FlushInterval,
		maxPts: o.BatchPoints, rng: rand.New(rand.NewPCG(uint64(idx), 0x9a17a0))}
	s.enc.SetPrecision(lineprotocol.Nanosecond)
	s.zw, _ = gzip.NewWriterLevel(nil, gzip.DefaultCompression)
	for _, l := range a.Links {
		base := 0.004 + 0.008*s.rng.Float64() // fibre
		switch l.Type {
		case "radio":
			base = 0.008 + 0.022*s.rng.Float64()
		case "vsat":
			base = 0.580 + 0.070*s.rng.Float64()
		}
		s.rtt = append(s.rtt, base)
	}
	return s
}

// jobs builds the agent's schedule: one ICMP job per link, one SNMP job
// per device, the heartbeat; each first runs at its splay offset after
// the agent's start.
func (s *simAgent) jobs() jobHeap {
	var h jobHeap
	add := func(kind, name string, interval, delay time.Duration, run func(time.Time)) {
		h = append(h, &job{next: s.epoch.Add(splay(kind, name, interval) + delay), interval: interval, delay: delay, run: run})
	}
	for i := range s.a.Links {
		l := &s.a.Links[i]
		add("icmp", l.Target, s.icmpEach, icmpRoundLength, func(now time.Time) { s.icmp(now, l, s.rtt[i]) })
	}
	for i := range s.a.Devices {
		d := &s.a.Devices[i]
		ifs := make([]*ifState, len(d.Interfaces))
		for k, ifc := range d.Interfaces {
			ifs[k] = &ifState{SimInterface: ifc, rx: s.rng.Uint64N(1 << 40), tx: s.rng.Uint64N(1 << 38),
				rxPkts: s.rng.Uint64N(1 << 32), txPkts: s.rng.Uint64N(1 << 30), util: 0.05 + 0.5*s.rng.Float64()}
		}
		boot := s.epoch.Add(-time.Duration(1+s.rng.IntN(90*24)) * time.Hour)
		poll := time.Duration(40+s.rng.IntN(200)) * time.Millisecond
		add("snmp", d.ID, s.snmpEach, poll, func(now time.Time) { s.snmp(now, d, ifs, boot, poll) })
	}
	add("agent", "heartbeat", s.icmpEach, 0, s.heartbeat)
	heap.Init(&h)
	return h
}

// run generates points until stop or ctx ends and hands each full or
// lingered batch to out. The batch pending at stop is sent when its
// linger ends, as it would be, so that agents do not all send at once;
// then out is closed.
func (s *simAgent) run(ctx context.Context, stop time.Time, out chan<- *batch) error {
	defer close(out)
	h := s.jobs()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		var wake time.Time
		if h[0].next.Before(stop) {
			wake = h[0].next
		}
		if !s.flushAt.IsZero() && (wake.IsZero() || s.flushAt.Before(wake)) {
			wake = s.flushAt
		}
		if wake.IsZero() {
			return nil // nothing pending, nothing more to probe
		}
		timer.Reset(time.Until(wake))
		select {
		case <-ctx.Done():
			return s.flush(ctx, time.Now(), out)
		case <-timer.C:
		}
		now := time.Now()
		if !s.flushAt.IsZero() && !now.Before(s.flushAt) {
			if err := s.flush(ctx, now, out); err != nil {
				return err
			}
			continue
		}
		if j := h[0]; !now.Before(j.next) {
			j.run(now)
			j.next = j.next.Add(j.interval)
			heap.Fix(&h, 0)
			if err := s.enc.Err(); err != nil {
				return fmt.Errorf("agent %s: encode: %w", s.a.ID, err)
			}
			if s.n >= s.maxPts {
				if err := s.flush(ctx, now, out); err != nil {
					return err
				}
			}
		}
	}
}

// line ends a line of measurement m with samples fields, stamped at.
func (s *simAgent) line(now time.Time, m Measurement, samples int, at time.Time) {
	s.enc.EndLine(at)
	if s.n == 0 {
		s.flushAt = now.Add(s.linger)
	}
	s.n++
	s.cur.Points[m]++
	s.cur.Samples[m] += int64(samples)
}

func (s *simAgent) flush(ctx context.Context, now time.Time, out chan<- *batch) error {
	if s.n == 0 {
		return nil
	}
	var buf bytes.Buffer
	s.zw.Reset(&buf)
	s.zw.Write(s.enc.Bytes())
	if err := s.zw.Close(); err != nil {
		return fmt.Errorf("agent %s: gzip: %w", s.a.ID, err)
	}
	s.seq++
	b := &batch{seq: s.seq, body: buf.Bytes(), counts: s.cur, created: now}
	s.generated.add(&b.counts)
	s.enc.Reset()
	s.cur, s.n, s.flushAt = Counts{}, 0, time.Time{}
	select {
	case out <- b:
		return nil
	default: // the sender is behind: wait for room, as a full queue would
	}
	select {
	case out <- b:
	case <-ctx.Done():
		s.lost.add(&b.counts) // the run ended first: generated, never queued
	}
	return nil
}

// icmp is one ICMP round of link l, as agent/probes.go ICMPPoint writes it.
func (s *simAgent) icmp(now time.Time, l *SimLink, base float64) {
	recv := icmpPackets
	switch r := s.rng.Float64(); {
	case r < 0.003:
		recv = 0 // down
	case r < 0.015:
		recv = icmpPackets - 1 // one lost: degraded on fibre
	}
	e := &s.enc
	e.StartLine("icmp")
	e.AddTag("name", "gw-"+l.ID)
	e.AddTag("site", l.Site)
	e.AddTag("target", l.Target)
	e.AddField("packets_sent", lineprotocol.UintValue(icmpPackets))
	e.AddField("packets_received", lineprotocol.UintValue(uint64(recv)))
	e.AddField("loss_ratio", floatValue(float64(icmpPackets-recv)/icmpPackets))
	n := 4
	if recv > 0 {
		j := base * 0.05
		mn := base + j*s.rng.Float64()
		avg := mn + j*s.rng.Float64()
		mx := avg + 2*j*s.rng.Float64()
		e.AddField("rtt_min_seconds", floatValue(mn))
		e.AddField("rtt_avg_seconds", floatValue(avg))
		e.AddField("rtt_max_seconds", floatValue(mx))
		e.AddField("rtt_stddev_seconds", floatValue((mx-mn)/3))
		e.AddField("jitter_seconds", floatValue((mx-mn)/2))
		n += 5
	}
	up := int64(0)
	if recv > 0 {
		up = 1
	}
	e.AddField("up", lineprotocol.IntValue(up))
	s.line(now, ICMP, n, now.Add(-icmpRoundLength))
}

// snmp is one poll of device d: its snmp_device point and one snmp_if
// point per interface, as agent/internal/snmp writes them. Rates are
// derived from counter deltas and absent on the first poll.
func (s *simAgent) snmp(now time.Time, d *SimDevice, ifs []*ifState, boot time.Time, poll time.Duration) {
	e := &s.enc
	e.StartLine("snmp_device")
	e.AddTag("device", d.ID)
	e.AddTag("site", d.Site)
	e.AddTag("sysname", d.ID)
	e.AddField("up", lineprotocol.IntValue(1))
	e.AddField("uptime_seconds", floatValue(math.Floor(now.Sub(boot).Seconds()*100)/100))
	e.AddField("poll_duration_seconds", floatValue((poll + time.Duration(s.rng.IntN(20))*time.Millisecond).Seconds()))
	e.AddField("cpu_load_ratio", floatValue(float64(s.rng.IntN(40))/100))
	e.AddField("memory_used_ratio", floatValue(0.3+float64(s.rng.IntN(20))/100))
	s.line(now, SNMPDevice, 5, now)
	for _, f := range ifs {
		first := f.last.IsZero()
		var inBps, outBps float64
		if !first {
			dt := now.Sub(f.last).Seconds()
			f.util = min(0.95, max(0.02, f.util+0.05*(s.rng.Float64()-0.5)))
			in := uint64(f.util * float64(f.Bandwidth) / 8 * dt)
			out := in / 3
			f.rx += in
			f.tx += out
			f.rxPkts += in / 900
			f.txPkts += out / 400
			if s.rng.IntN(50) == 0 {
				f.rxErr++
			}
			if s.rng.IntN(80) == 0 {
				f.txDisc++
			}
			inBps, outBps = float64(in)*8/dt, float64(out)*8/dt
		}
		f.last = now
		e.StartLine("snmp_if")
		e.AddTag("device", d.ID)
		e.AddTag("ifalias", f.Alias)
		e.AddTag("ifindex", fmt.Sprint(f.Index))
		e.AddTag("ifname", f.Name)
		e.AddTag("site", d.Site)
		e.AddField("receive_bytes_total", lineprotocol.UintValue(f.rx))
		e.AddField("transmit_bytes_total", lineprotocol.UintValue(f.tx))
		e.AddField("receive_packets_total", lineprotocol.UintValue(f.rxPkts))
		e.AddField("transmit_packets_total", lineprotocol.UintValue(f.txPkts))
		e.AddField("receive_errors_total", lineprotocol.UintValue(f.rxErr))
		e.AddField("transmit_errors_total", lineprotocol.UintValue(0))
		e.AddField("receive_discards_total", lineprotocol.UintValue(0))
		e.AddField("transmit_discards_total", lineprotocol.UintValue(f.txDisc))
		n := 11
		if !first {
			e.AddField("receive_bits_per_second", floatValue(inBps))
			e.AddField("transmit_bits_per_second", floatValue(outBps))
			n += 2
		}
		e.AddField("speed_bits_per_second", lineprotocol.UintValue(f.Bandwidth))
		e.AddField("oper_status", lineprotocol.IntValue(1))
		e.AddField("admin_status", lineprotocol.IntValue(1))
		s.line(now, SNMPIf, n, now)
	}
}

// heartbeat is the agent measurement (agent/agent.go heartbeatJob).
func (s *simAgent) heartbeat(now time.Time) {
	e := &s.enc
	e.StartLine("agent")
	e.AddTag("site", s.a.Site)
	e.AddTag("version", agentVersion)
	e.AddField("uptime_seconds", floatValue(now.Sub(s.epoch).Seconds()))
	e.AddField("queue_points", floatValue(float64(s.n)))
	e.AddField("queue_bytes", floatValue(0))
	e.AddField("queue_oldest_age_seconds", floatValue(0))
	e.AddField("queue_dropped_points_total", lineprotocol.UintValue(0))
	e.AddField("targets", lineprotocol.IntValue(int64(len(s.a.Links)+len(s.a.Devices))))
	s.line(now, AgentHeartbeat, 6, now)
}

func floatValue(f float64) lineprotocol.Value {
	v, _ := lineprotocol.FloatValue(f)
	return v
}
