package promapi

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/gogo/protobuf/proto"
	"github.com/klauspost/compress/snappy"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb"

	"github.com/pantau-noc/pantau/internal/testengine"
)

// benchStore is the store of BenchmarkFederate and BenchmarkRemoteRead:
// 10,000 interface counters (100 sites × 100 interfaces, one OPD per 10
// sites), one sample a minute for the last hour (600,000 samples),
// ending 30 s before start. The same series go to a Debian Prometheus
// (2.42, remote-write receiver) as the peer.
type benchStore struct {
	series []labels.Labels
	ts     []int64 // the 60 sample times, oldest first
}

func newBenchStore() *benchStore {
	s := &benchStore{}
	end := time.Now().Add(-30 * time.Second).Truncate(time.Second)
	for i := range 60 {
		s.ts = append(s.ts, end.Add(time.Duration(i-59)*time.Minute).UnixMilli())
	}
	for site := range 100 {
		for ifc := range 100 {
			s.series = append(s.series, labels.FromStrings("__name__", "pantau_snmp_if_receive_bytes_total",
				"agent", fmt.Sprintf("agent-%02d", site), "device", fmt.Sprintf("sw-%02d", site),
				"ifindex", fmt.Sprint(ifc+1), "ifname", fmt.Sprintf("ether%d", ifc+1),
				"opd", fmt.Sprintf("opd-%d", site/10), "site", fmt.Sprintf("site-%02d", site)))
		}
	}
	return s
}

func (s *benchStore) value(i, j int) float64 { return float64((i%97+1)*1_000_000*(j+1)) + float64(i) }

// pantau serves the store through the API over loopback HTTP.
func (s *benchStore) pantau(b *testing.B) *httptest.Server {
	db, err := tsdb.Open(b.TempDir(), slog.New(slog.DiscardHandler), nil, tsdb.DefaultOptions(), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	app := db.Appender(context.Background())
	for i, l := range s.series {
		var ref storage.SeriesRef
		for j, t := range s.ts {
			if ref, err = app.Append(ref, l, t, s.value(i, j)); err != nil {
				b.Fatal(err)
			}
		}
	}
	if err := app.Commit(); err != nil {
		b.Fatal(err)
	}
	a, err := New(Options{Queryable: db, Scope: testScope, Logger: slog.New(slog.DiscardHandler),
		Read: ReadLimits{MaxSamples: 5_000_000, MaxSeries: 100_000}})
	if err != nil {
		b.Fatal(err)
	}
	mux := http.NewServeMux()
	a.Register(mux)
	srv := httptest.NewServer(mux)
	b.Cleanup(srv.Close)
	return srv
}

// prometheus starts Debian's Prometheus and remote-writes the store to it.
func (s *benchStore) prometheus(b *testing.B) string {
	e := testengine.Start(b, testengine.Prometheus)
	for lo := 0; lo < len(s.series); lo += 1000 {
		var req prompb.WriteRequest
		for i := lo; i < lo+1000 && i < len(s.series); i++ {
			ts := prompb.TimeSeries{Labels: prompb.FromLabels(s.series[i], nil)}
			for j, t := range s.ts {
				ts.Samples = append(ts.Samples, prompb.Sample{Timestamp: t, Value: s.value(i, j)})
			}
			req.Timeseries = append(req.Timeseries, ts)
		}
		raw, err := proto.Marshal(&req)
		if err != nil {
			b.Fatal(err)
		}
		hreq, _ := http.NewRequest(http.MethodPost, e.WriteURL(), bytes.NewReader(snappy.Encode(nil, raw)))
		hreq.Header.Set("Content-Encoding", "snappy")
		hreq.Header.Set("Content-Type", "application/x-protobuf")
		hreq.Header.Set("X-Prometheus-Remote-Write-Version", "0.1.0")
		res, err := http.DefaultClient.Do(hreq)
		if err != nil {
			b.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode/100 != 2 {
			b.Fatalf("remote write to prometheus: %d %s", res.StatusCode, body)
		}
	}
	return e.URL()
}

// benchGet sends req and returns the answer's body.
func benchGet(b *testing.B, c *http.Client, req *http.Request) []byte {
	res, err := c.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 {
		b.Fatalf("%s: %d %.200s", req.URL, res.StatusCode, body)
	}
	return body
}

// wantSeries is the number of series each variant must answer.
func wantSeries(scope string) int {
	if scope != "" {
		return 1000
	}
	return 10000
}

// BenchmarkFederate is a federating Prometheus's scrape of every pantau_
// series: /federate?match[]={__name__=~"pantau_.+"} over the 10,000
// series of benchStore (text format, the latest sample of each), from
// the collector (unscoped, and scoped to one OPD of ten: 1,000 series)
// and from Debian's Prometheus 2.42 holding the same samples, both over
// loopback HTTP.
func BenchmarkFederate(b *testing.B) {
	s := newBenchStore()
	peers := map[string]string{"pantau": s.pantau(b).URL, "prometheus-2.42": s.prometheus(b)}
	q := "/federate?" + url.Values{"match[]": {`{__name__=~"pantau_.+"}`}}.Encode()
	for _, c := range []struct{ name, peer, scope string }{
		{"pantau", "pantau", ""}, {"pantau_scoped", "pantau", "opd-3"}, {"prometheus-2.42", "prometheus-2.42", ""},
	} {
		b.Run(c.name, func(b *testing.B) {
			req, _ := http.NewRequest(http.MethodGet, peers[c.peer]+q, nil)
			req.Header.Set("Accept", "text/plain;version=0.0.4")
			if c.scope != "" {
				req.Header.Set(scopeHeader, c.scope)
			}
			first := benchGet(b, http.DefaultClient, req)
			if n := bytes.Count(first, []byte("\npantau_snmp_if_receive_bytes_total{")); n != wantSeries(c.scope) {
				b.Fatalf("%d series federated, want %d", n, wantSeries(c.scope))
			}
			b.SetBytes(int64(len(first)))
			for b.Loop() {
				benchGet(b, http.DefaultClient, req)
			}
		})
	}
}

// BenchmarkRemoteRead is a Prometheus remote read of the last hour of
// all 10,000 series of benchStore (600,000 samples, SAMPLES response)
// from the collector and from Debian's Prometheus 2.42, over loopback
// HTTP, the answer read whole (not decoded).
func BenchmarkRemoteRead(b *testing.B) {
	s := newBenchStore()
	peers := map[string]string{"pantau": s.pantau(b).URL, "prometheus-2.42": s.prometheus(b)}
	raw, err := proto.Marshal(&prompb.ReadRequest{Queries: []*prompb.Query{{
		StartTimestampMs: s.ts[0], EndTimestampMs: s.ts[len(s.ts)-1],
		Matchers: []*prompb.LabelMatcher{{Type: prompb.LabelMatcher_EQ, Name: "__name__", Value: "pantau_snmp_if_receive_bytes_total"}},
	}}, AcceptedResponseTypes: []prompb.ReadRequest_ResponseType{prompb.ReadRequest_SAMPLES}})
	if err != nil {
		b.Fatal(err)
	}
	body := snappy.Encode(nil, raw)
	for _, c := range []struct{ name, peer, scope string }{
		{"pantau", "pantau", ""}, {"pantau_scoped", "pantau", "opd-3"}, {"prometheus-2.42", "prometheus-2.42", ""},
	} {
		b.Run(c.name, func(b *testing.B) {
			mk := func() *http.Request {
				req, _ := http.NewRequest(http.MethodPost, peers[c.peer]+"/api/v1/read", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/x-protobuf")
				req.Header.Set("Content-Encoding", "snappy")
				if c.scope != "" {
					req.Header.Set(scopeHeader, c.scope)
				}
				return req
			}
			first := benchGet(b, http.DefaultClient, mk())
			var resp prompb.ReadResponse
			dec, err := snappy.Decode(nil, first)
			if err != nil || proto.Unmarshal(dec, &resp) != nil || len(resp.Results) != 1 || len(resp.Results[0].Timeseries) != wantSeries(c.scope) {
				b.Fatalf("read answer: %v, want one result of %d series", err, wantSeries(c.scope))
			}
			if n := len(resp.Results[0].Timeseries[0].Samples); n != 60 {
				b.Fatalf("%d samples in a series, want 60", n)
			}
			b.SetBytes(int64(len(first)))
			for b.Loop() {
				benchGet(b, http.DefaultClient, mk())
			}
		})
	}
}
