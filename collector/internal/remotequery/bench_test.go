package remotequery

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
)

// BenchmarkSelectDay reads one day of 60 s samples of 100 series (one
// request, as Chunk is a day) from an httptest server, through HTTP,
// JSON decoding, merging and iteration.
func BenchmarkSelectDay(b *testing.B) {
	const (
		t0     = int64(1_700_006_400_000)
		nSerie = 100
		perDay = 24 * 60
	)
	ss := make([]testSeries, nSerie)
	for i := range ss {
		ss[i].lset = labels.FromStrings("__name__", "pantau_icmp_rtt_seconds", "site", fmt.Sprintf("site-%03d", i), "target", fmt.Sprintf("10.0.%d.%d", i/256, i%256))
		for j := range int64(perDay) {
			ss[i].t = append(ss[i].t, t0+(j+1)*60_000-int64(i))
			ss[i].v = append(ss[i].v, float64(1500+j*7+int64(i))/1e6)
		}
	}
	body := []byte(matrixJSON(ss...))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
	defer srv.Close()
	q := newQueryable(b, Options{URL: srv.URL, Chunk: 24 * time.Hour})
	m := labels.MustNewMatcher(labels.MatchEqual, "__name__", "pantau_icmp_rtt_seconds")
	ctx := context.Background()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	b.ResetTimer()
	total := 0
	for b.Loop() {
		qr, _ := q.Querier(t0+1, t0+24*time.Hour.Milliseconds())
		set := qr.Select(ctx, true, nil, m)
		var it chunkenc.Iterator
		n := 0
		for set.Next() {
			it = set.At().Iterator(it)
			for it.Next() == chunkenc.ValFloat {
				n++
			}
		}
		if err := set.Err(); err != nil {
			b.Fatal(err)
		}
		if n != nSerie*perDay {
			b.Fatalf("%d samples, want %d", n, nSerie*perDay)
		}
		total += n
	}
	b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "samples/s")
}
