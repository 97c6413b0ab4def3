package ingest

import (
	"context"
	"log/slog"
	"testing"
	"time"

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
func BenchmarkIngestPath(b *testing.B) {
	dir := b.TempDir()
	st, err := pstore.Open(pstore.Options{Dir: dir, Retention: 400 * 24 * time.Hour, OutOfOrderWindow: 7 * 24 * time.Hour, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	start := time.Now().Add(-6 * time.Hour)
	clock := start
	h, err := New(Options{
		Auth: nopAuth{}, Store: st, MaxBodyBytes: 1 << 30, MaxSeriesPerAgent: 1 << 30,
		MaxClockSkew: time.Hour, OutOfOrderWindow: 7 * 24 * time.Hour, MaxInflight: 1,
		Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return clock },
	})
	if err != nil {
		b.Fatal(err)
	}
	id := statedb.Identity{Agent: "bench"}
	round := lpgen.NewRound("bench", lpgen.DefaultMix, start.UnixNano())
	ctx := context.Background()
	if _, aerr := h.store(ctx, id, round.Body, lineproto.Nanosecond); aerr != nil {
		b.Fatal(aerr)
	}
	b.SetBytes(int64(len(round.Body)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ts := start.Add(time.Duration(i+1) * 10 * time.Second)
		round.Restamp(ts.UnixNano())
		clock = ts
		res, aerr := h.store(ctx, id, round.Body, lineproto.Nanosecond)
		if aerr != nil {
			b.Fatal(aerr)
		}
		if res.samples != round.Samples {
			b.Fatalf("stored %d of %d samples", res.samples, round.Samples)
		}
	}
	b.ReportMetric(float64(b.N)*float64(round.Samples)/b.Elapsed().Seconds(), "samples/s")
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
