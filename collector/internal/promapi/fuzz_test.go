package promapi

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
)

// FuzzQueryAPI drives every parameter parser of the query API (query,
// time, start, end, step, timeout, limit, match[], label names, metric,
// match_target) with arbitrary query strings: the answer is 2xx, 4xx or
// 503 (a timeout), never a 500, and the server never panics.
func FuzzQueryAPI(f *testing.F) {
	paths := []string{"query", "query_range", "series", "labels", "label/site/values", "metadata", "format_query", "parse_query", "targets/metadata"}
	for i, q := range []string{
		"query=up", "query=rate(pantau_snmp_if_receive_bytes_total[1m])&start=0&end=1e10&step=1",
		"match[]={site=\"dinkes\"}&start=-1e300&end=1e300", "limit=-1", "match[]=%7B", "limit=5&match[]=pantau_icmp_rtt_avg_seconds",
		"metric=pantau_icmp_rtt_avg_seconds&limit=1", "query=sum(&time=NaN", "query=1&timeout=-5s", "query=up&time=2026-11-24T10:00:00Z",
	} {
		f.Add(uint8(i), q)
	}
	for _, q := range []string{`match_target={job="pantau"}&metric=up&limit=1`, `match_target={job=~"("}`, `match_target=%7B`} {
		f.Add(uint8(8), q) // targets/metadata
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

// FuzzScopedQuery: whatever a scoped credential sends to query,
// query_range, series, labels, label values or metadata, the answer is
// the one a collector holding only the scope's own series would give
// (byte for byte), through each scoping layer alone and both, and never
// a 5xx other than a timeout or a panic. That is the exact form of "no
// sample from outside the scope": a sample may carry another OPD's name
// only when the query wrote it (label_replace, absent's labels), which
// the collector without other OPDs' data answers the same way.
func FuzzScopedQuery(f *testing.F) {
	scopes := []struct {
		header string   // scopedCall's scope
		keep   []string // the OPDs whose series the reference holds
	}{
		{"dinkes", []string{"dinkes"}}, {"dishub", []string{"dishub"}},
		{"dinkes,dishub", []string{"dinkes", "dishub"}},
		{"none", nil}, {"empty-name", nil}, {"d.nkes", nil},
	}
	endpoints := []func(q string) (string, url.Values){
		func(q string) (string, url.Values) {
			return "query", url.Values{"query": {q}, "time": {itoa(t0.Add(5 * time.Minute).Unix())}}
		},
		func(q string) (string, url.Values) {
			return "query_range", url.Values{"query": {q}, "start": {itoa(t0.Unix())}, "end": {itoa(t0.Add(10 * time.Minute).Unix())}, "step": {"60"}}
		},
		func(q string) (string, url.Values) { return "series", url.Values{"match[]": {q}} },
		func(q string) (string, url.Values) {
			if q == "" {
				return "labels", nil
			}
			return "labels", url.Values{"match[]": {q}}
		},
		func(q string) (string, url.Values) {
			if q == "" {
				return "label/opd/values", nil
			}
			return "label/__name__/values", url.Values{"match[]": {q}}
		},
		func(q string) (string, url.Values) { return "metadata", url.Values{"metric": {q}} },
	}
	for i, q := range []string{
		`up`, `up{opd="dishub"}`, `up or on() vector(1)`, `label_replace(up{opd="dishub"}, "opd", "dinkes", "opd", ".*")`,
		`label_replace(up, "opd", "dishub", "", "")`, `{__name__=~".+"}`, `max_over_time(up[5m:1m])`,
		`absent(up{opd="dishub"})`, `absent(dishub_only_metric)`, `count by (opd) (up)`, `{opd!="dinkes"}`,
		`{opd=~".*"}`, `{__name__=~".+",opd=~"dishub|dinkes"}`, `up offset 1m`, `up{opd="dishub"} @ end()`,
		`topk(scalar(dishub_only_metric) - 6, up)`, `sum by (opd) (rate(pantau_if_rx_bytes_total[1m]))`,
		`{opd=""}`, `{opd="",__name__=~".+"}`, `dishub_only_metric`, `noopd_only_metric`, ``, `vector(1)`,
		`up * on() group_left(secret_label) dishub_only_metric`, `count({__name__=~".+"}) or vector(0)`,
	} {
		for layer := range scopeLayers {
			f.Add(uint8(0), uint8(layer), uint8(0), q) // dinkes, query
			f.Add(uint8(i*5+layer), uint8(layer), uint8(i+layer), q)
		}
	}
	// Small limits: the fuzzer writes queries that would read millions of
	// points; both sides get the same engine.
	engine := promql.NewEngine(promql.EngineOpts{
		Logger: slog.New(slog.DiscardHandler), MaxSamples: 200_000, Timeout: 5 * time.Second,
		LookbackDelta: lookbackDelta, EnableAtModifier: true, EnableNegativeOffset: true,
		NoStepSubqueryIntervalFn: func(int64) int64 { return time.Minute.Milliseconds() },
		Parser:                   parser.NewParser(parser.Options{}),
	})
	full := make([]*httptest.Server, len(scopeLayers))
	ref := make([][]*httptest.Server, len(scopes))
	for li, l := range scopeLayers {
		full[li] = newScopeServer(f, keepAll, l.layers, engine)
	}
	for si, s := range scopes {
		ref[si] = make([]*httptest.Server, len(scopeLayers))
		for li, l := range scopeLayers {
			ref[si][li] = newScopeServer(f, keepOnly(s.keep...), l.layers, engine)
		}
	}
	f.Fuzz(func(t *testing.T, scope, layer, endpoint uint8, q string) {
		si, li := int(scope)%len(scopes), int(layer)%len(scopeLayers)
		path, form := endpoints[int(endpoint)%len(endpoints)](q)
		method := http.MethodGet
		if scope&0x80 != 0 {
			method = http.MethodPost
		}
		a, b := full[li], ref[si][li]
		codeA, bodyA := scopedCall(t, a.Client(), method, a.URL+"/api/v1/"+path, scopes[si].header, form)
		codeB, bodyB := scopedCall(t, b.Client(), method, b.URL+"/api/v1/"+path, scopes[si].header, form)
		for _, c := range []int{codeA, codeB} {
			if c >= 500 && c != http.StatusServiceUnavailable {
				t.Fatalf("%s %s %q: %d\n%s\n%s", scopes[si].header, path, q, c, bodyA, bodyB)
			}
		}
		if codeA == http.StatusServiceUnavailable || codeB == http.StatusServiceUnavailable ||
			strings.Contains(string(bodyA), "query processing would load too many samples") {
			return // a timeout or the sample limit: no answer to compare
		}
		if codeA != codeB || string(bodyA) != string(bodyB) {
			t.Fatalf("scope %s, layers %s, %s %s %q: the answer depends on other OPDs' data:\nwith:    %d %s\nwithout: %d %s",
				scopes[si].header, scopeLayers[li].name, method, path, q, codeA, bodyA, codeB, bodyB)
		}
	})
}
