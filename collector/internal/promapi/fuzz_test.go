package promapi

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"
)

// FuzzQueryAPI drives every parameter parser of the query API (query,
// time, start, end, step, timeout, limit, match[], label names) with
// arbitrary query strings: the answer is 2xx, 4xx or 503 (a timeout),
// never a 500, and the server never panics.
func FuzzQueryAPI(f *testing.F) {
	paths := []string{"query", "query_range", "series", "labels", "label/site/values", "metadata", "format_query", "parse_query"}
	for i, q := range []string{
		"query=up", "query=rate(pantau_snmp_if_receive_bytes_total[1m])&start=0&end=1e10&step=1",
		"match[]={site=\"dinkes\"}&start=-1e300&end=1e300", "limit=-1", "match[]=%7B", "limit=5&match[]=pantau_icmp_rtt_avg_seconds",
		"metric=pantau_icmp_rtt_avg_seconds&limit=1", "query=sum(&time=NaN", "query=1&timeout=-5s", "query=up&time=2026-11-24T10:00:00Z",
	} {
		f.Add(uint8(i), q)
	}
	srv, _ := newServer(f)
	f.Fuzz(func(t *testing.T, which uint8, query string) {
		u := srv.URL + "/api/v1/" + paths[int(which)%len(paths)] + "?" + query
		if _, err := url.Parse(u); err != nil {
			return // not a request a client can send
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return
		}
		res, err := srv.Client().Do(req)
		if err != nil {
			t.Fatalf("%s: %v (the server died?)", u, err)
		}
		body, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
		res.Body.Close()
		if res.StatusCode >= 500 && res.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("%s: %d %s", u, res.StatusCode, body)
		}
	})
}
