package ingest

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/sla"
	"github.com/pantau-noc/pantau/collector/internal/statedb"
	pstore "github.com/pantau-noc/pantau/collector/internal/storage"
	"github.com/pantau-noc/pantau/internal/wire/lineproto"
)

// BenchmarkIngestTelegraf is the price of reading Telegraf's data as
// Pantau's own: one round of an edge box that pings the 1,000 links of
// benchInventory and polls 1,000 interfaces (IF-MIB, 64-bit counters),
// written as Telegraf's inputs.ping and inputs.snmp write it, through the
// whole ingest path with the SLA engine, three ways in the same run:
//
//   - telegraf: translated into icmp and snmp_if (minute marks, interface
//     bit rates), the default;
//   - telegraf_raw: the same lines stored as they come (Options.NoTelegraf,
//     today's behaviour before the translation: no marks);
//   - pantau: the lines Pantau's own agent writes for the same round.
//
// Each iteration is the next round 30 s later; the counters grow so that
// the bit rates are computed.
func BenchmarkIngestTelegraf(b *testing.B) {
	for _, c := range []struct {
		name  string
		shape string
		raw   bool
		marks int
	}{
		{"telegraf", "telegraf", false, 1000},
		{"telegraf_raw", "telegraf", true, 0},
		{"pantau", "pantau", false, 1000},
	} {
		b.Run(c.name, func(b *testing.B) { benchTelegraf(b, c.shape, c.raw, c.marks) })
	}
}

// telegrafRound writes round i of the edge box, at ts, in shape.
func telegrafRound(shape string, i int, ts int64) []byte {
	var sb strings.Builder
	sb.Grow(1 << 20)
	for l := range 1000 {
		target := fmt.Sprintf("10.%d.%d.1", l/250, l%250)
		rtt := 10 + float64(l%40)
		if shape == "telegraf" {
			fmt.Fprintf(&sb, "ping,host=edge-1,url=%s average_response_ms=%g,maximum_response_ms=%g,minimum_response_ms=%g,packets_received=5i,packets_transmitted=5i,percent_packet_loss=0,result_code=0i,standard_deviation_ms=1.5,ttl=63i %d\n",
				target, rtt, rtt+5, rtt-3, ts)
		} else {
			fmt.Fprintf(&sb, "icmp,target=%s jitter_seconds=0.0015,loss_ratio=0,packets_received=5u,packets_sent=5u,rtt_avg_seconds=%g,rtt_max_seconds=%g,rtt_min_seconds=%g,rtt_stddev_seconds=0.0015,up=1i %d\n",
				target, rtt/1000, (rtt+5)/1000, (rtt-3)/1000, ts)
		}
	}
	for d := range 50 {
		for p := range 20 {
			in := uint64(i+1)*uint64(3_750_000+d*1000+p) + 1e9
			out := in / 3
			if shape == "telegraf" {
				fmt.Fprintf(&sb, "interface,agent_host=10.%d.%d.254,host=edge-1,ifDescr=ether%d,ifName=ether%d,sysName=sw-%d ifAdminStatus=1i,ifHCInOctets=%du,ifHCOutOctets=%du,ifHCInUcastPkts=%du,ifHCOutUcastPkts=%du,ifHighSpeed=100u,ifInDiscards=0i,ifInErrors=0i,ifOperStatus=1i,ifOutDiscards=0i,ifOutErrors=0i,ifMtu=1500i,ifPhysAddress=\"00:11:22:33:%02x:%02x\" %d\n",
					d/5, d%5, p+1, p+1, d, in, out, in/800, out/800, d, p, ts)
			} else {
				fmt.Fprintf(&sb, "snmp_if,device=10.%d.%d.254,ifindex=%d,ifname=ether%d,ifalias=ether%d admin_status=1i,oper_status=1i,receive_bytes_total=%du,transmit_bytes_total=%du,receive_packets_total=%du,transmit_packets_total=%du,receive_errors_total=0u,transmit_errors_total=0u,receive_discards_total=0u,transmit_discards_total=0u,receive_bits_per_second=1000000,transmit_bits_per_second=333333,speed_bits_per_second=100000000u %d\n",
					d/5, d%5, p+1, p+1, p+1, in, out, in/800, out/800, ts)
			}
		}
	}
	return []byte(sb.String())
}

func benchTelegraf(b *testing.B, shape string, raw bool, wantMarks int) {
	st, err := pstore.Open(pstore.Options{Dir: b.TempDir(), Retention: 400 * 24 * time.Hour, OutOfOrderWindow: 7 * 24 * time.Hour, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	start := time.Now().Add(-6 * time.Hour)
	clock := start
	h, err := New(Options{
		Auth: nopAuth{}, Store: st, MaxBodyBytes: 1 << 30, MaxSeriesPerAgent: 1 << 30,
		MaxClockSkew: time.Hour, OutOfOrderWindow: 7 * 24 * time.Hour, MaxInflight: 1,
		NoTelegraf: raw,
		SLA:        sla.NewBuilder(benchInventory(b), func() time.Time { return clock }),
		Logger:     slog.New(slog.DiscardHandler), Now: func() time.Time { return clock },
	})
	if err != nil {
		b.Fatal(err)
	}
	id := statedb.Identity{Agent: "edge-1"}
	ctx := context.Background()
	// rounds are built before the clock starts: the benchmark is the
	// collector's work, not fmt's
	const rounds = 64
	bodies := make([][]byte, rounds)
	size := 0
	for i := range rounds {
		bodies[i] = telegrafRound(shape, i, start.Add(time.Duration(i)*30*time.Second).UnixNano())
		size += len(bodies[i])
	}
	// the first round creates the series (and the rates' first readings)
	if _, aerr := h.store(ctx, h.lim.Load(), id, bodies[0], lineproto.Nanosecond); aerr != nil {
		b.Fatal(aerr)
	}
	b.SetBytes(int64(size / rounds))
	samples, run := 0, 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r := 1 + i%(rounds-1)
		if r == 1 && i > 0 {
			// a new run of rounds, later than the last one stored
			b.StopTimer()
			start = start.Add(rounds * 30 * time.Second)
			run++
			for j := range rounds {
				bodies[j] = telegrafRound(shape, run*rounds+j, start.Add(time.Duration(j)*30*time.Second).UnixNano())
			}
			b.StartTimer()
		}
		clock = start.Add(time.Duration(r) * 30 * time.Second)
		res, aerr := h.store(ctx, h.lim.Load(), id, bodies[r], lineproto.Nanosecond)
		if aerr != nil {
			b.Fatal(aerr)
		}
		if len(res.marks) != wantMarks {
			b.Fatalf("%d minute marks, want %d", len(res.marks), wantMarks)
		}
		samples += res.samples
	}
	b.ReportMetric(float64(b.N)*2000/b.Elapsed().Seconds(), "lines/s")
	b.ReportMetric(float64(samples)/float64(b.N), "samples/op")
}
