package ingest

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/inventory"
	"github.com/pantau-noc/pantau/collector/internal/sla"
	"github.com/pantau-noc/pantau/collector/internal/statedb"
	pstore "github.com/pantau-noc/pantau/collector/internal/storage"
	"github.com/pantau-noc/pantau/internal/wire/lineproto"
	"github.com/pantau-noc/pantau/internal/wire/lpgen"
)

// BenchmarkIngestPath measures decode, checks, series mapping and TSDB
// append+commit of a realistic 5,000-line round (about 57,000 samples) on
// one goroutine. Series already exist after the first round, as in steady
// state; each iteration writes the next round 10 s later. The durable fsync
// is not included (see the end-to-end benchmark for that).
//
// The sla variant adds the SLA engine's part: the 1,000 ICMP targets are
// links of an inventory (50 sites), each round's ICMP points and agent
// heartbeats become minute marks, and the marks are merged into a real
// state.db as the group commit does.
func BenchmarkIngestPath(b *testing.B) {
	b.Run("plain", func(b *testing.B) { benchIngest(b, false) })
	b.Run("sla", func(b *testing.B) { benchIngest(b, true) })
}

func benchInventory(b *testing.B) *inventory.Inventory {
	var sb strings.Builder
	sb.WriteString("sites:\n")
	for i := range 50 {
		fmt.Fprintf(&sb, "  - {id: s%d, name: S%d, kind: opd}\n", i, i)
	}
	sb.WriteString("links:\n")
	for i := range 1000 {
		fmt.Fprintf(&sb, "  - {id: l%d, site: s%d, icmp: {target: 10.%d.%d.1}}\n", i, i%50, i/250, i%250)
	}
	inv, err := inventory.Parse("bench.yml", []byte(sb.String()))
	if err != nil {
		b.Fatal(err)
	}
	return inv
}

func benchIngest(b *testing.B, withSLA bool) {
	dir := b.TempDir()
	st, err := pstore.Open(pstore.Options{Dir: dir, Retention: 400 * 24 * time.Hour, OutOfOrderWindow: 7 * 24 * time.Hour, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	start := time.Now().Add(-6 * time.Hour)
	clock := start
	o := Options{
		Auth: nopAuth{}, Store: st, MaxBodyBytes: 1 << 30, MaxSeriesPerAgent: 1 << 30,
		MaxClockSkew: time.Hour, OutOfOrderWindow: 7 * 24 * time.Hour, MaxInflight: 1,
		Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return clock },
	}
	var minutes *statedb.Minutes
	if withSLA {
		o.SLA = sla.NewBuilder(benchInventory(b), func() time.Time { return clock })
		db, err := statedb.Open(context.Background(), b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		minutes = db.Minutes()
	}
	h, err := New(o)
	if err != nil {
		b.Fatal(err)
	}
	id := statedb.Identity{Agent: "bench"}
	round := lpgen.NewRound("bench", lpgen.DefaultMix, start.UnixNano())
	ctx := context.Background()
	if _, aerr := h.store(ctx, h.lim.Load(), id, round.Body, lineproto.Nanosecond); aerr != nil {
		b.Fatal(aerr)
	}
	b.SetBytes(int64(len(round.Body)))
	var mergeTime time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ts := start.Add(time.Duration(i+1) * 10 * time.Second)
		round.Restamp(ts.UnixNano())
		clock = ts
		res, aerr := h.store(ctx, h.lim.Load(), id, round.Body, lineproto.Nanosecond)
		if aerr != nil {
			b.Fatal(aerr)
		}
		if res.samples != round.Samples {
			b.Fatalf("stored %d of %d samples", res.samples, round.Samples)
		}
		if withSLA {
			if len(res.marks) != 1020 {
				b.Fatalf("%d marks, want 1,000 ICMP rounds + 20 heartbeats", len(res.marks))
			}
			t0 := time.Now()
			if err := minutes.Merge(ctx, res.marks); err != nil {
				b.Fatal(err)
			}
			mergeTime += time.Since(t0)
		}
	}
	b.ReportMetric(float64(b.N)*float64(round.Samples)/b.Elapsed().Seconds(), "samples/s")
	if withSLA {
		b.ReportMetric(float64(mergeTime.Microseconds())/1000/float64(b.N), "merge_ms/op")
	}
}

// BenchmarkDecodeOnly is the line-protocol decoder alone on the same round,
// for comparison with the ingest path.
func BenchmarkDecodeOnly(b *testing.B) {
	round := lpgen.NewRound("bench", lpgen.DefaultMix, time.Now().UnixNano())
	b.SetBytes(int64(len(round.Body)))
	for i := 0; i < b.N; i++ {
		d := lineproto.NewDecoder(round.Body, lineproto.Nanosecond)
		n := 0
		for d.Next() {
			d.Measurement()
			for k, _, _ := d.NextTag(); k != nil; k, _, _ = d.NextTag() {
			}
			for k, _, _ := d.NextField(); k != nil; k, _, _ = d.NextField() {
				n++
			}
			d.Time(0)
		}
		if n != round.Samples {
			b.Fatalf("decoded %d samples", n)
		}
	}
	b.ReportMetric(float64(b.N)*float64(round.Samples)/b.Elapsed().Seconds(), "samples/s")
}

type nopAuth struct{}

func (nopAuth) Authenticate(context.Context, string) (statedb.Identity, error) {
	return statedb.Identity{Agent: "bench"}, nil
}
