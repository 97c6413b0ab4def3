package promapi

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb"
)

// BenchmarkDashboardQuery is a Grafana panel's request: POST form
// query_range over loopback HTTP, the traffic in bits per second of
// each site of one OPD for 1 h at a 60 s step, over 300 interface
// counters of that OPD (30 sites × 10 interfaces, polled every 60 s)
// next to 300 of another OPD. Sub-benchmarks:
//
//	unscoped:           an unscoped credential, the query names opd="dinkes"
//	scoped:             a credential scoped to dinkes, the same query
//	scoped_no_opd_filter: scoped to dinkes, the query without opd (the scope selects)
//	interleaved:        unscoped and scoped alternating, with overhead-%
//
// The series read are the same in all three, so the difference is the
// cost of scoping: parse, enforce and print the query, the extra matcher.
func BenchmarkDashboardQuery(b *testing.B) {
	db, err := tsdb.Open(b.TempDir(), slog.New(slog.DiscardHandler), nil, tsdb.DefaultOptions(), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	end := t0.Add(3 * time.Hour)
	app := db.Appender(context.Background())
	for _, opd := range []string{"dinkes", "dishub"} {
		for s := range 30 {
			for i := range 10 {
				l := labels.FromStrings("__name__", "pantau_snmp_if_receive_bytes_total", "agent", "a-"+opd,
					"device", fmt.Sprintf("%s-sw%d", opd, s), "ifname", fmt.Sprintf("ether%d", i),
					"opd", opd, "site", fmt.Sprintf("%s-site%d", opd, s))
				var ref storage.SeriesRef
				v := 0.0
				for ts := t0; !ts.After(end); ts = ts.Add(time.Minute) {
					v += float64(1_000_000 * (1 + (s+i)%7))
					if ref, err = app.Append(ref, l, ts.UnixMilli(), v); err != nil {
						b.Fatal(err)
					}
				}
			}
		}
	}
	if err := app.Commit(); err != nil {
		b.Fatal(err)
	}
	a, err := New(Options{Queryable: db, Scope: testScope, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	mux := http.NewServeMux()
	a.Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	const q = `sum by (site) (rate(pantau_snmp_if_receive_bytes_total{%s}[4m])) * 8`
	type variant struct{ name, scope, filter string }
	run := func(b *testing.B, v variant, check bool) {
		form := url.Values{"query": {fmt.Sprintf(q, v.filter)}, "start": {itoa(end.Add(-time.Hour).Unix())}, "end": {itoa(end.Unix())}, "step": {"60"}}
		code, body := scopedCall(b, srv.Client(), http.MethodPost, srv.URL+"/api/v1/query_range", v.scope, form)
		if code != 200 {
			b.Fatalf("%s: %d %s", v.name, code, body)
		}
		if !check {
			return
		}
		if got := render(b, code, body); strings.Count(got, "dinkes-site") != 30 || strings.Contains(got, "dishub") {
			b.Fatalf("%s: answer %.300s", v.name, got)
		}
	}
	unscoped := variant{"unscoped", "", `opd="dinkes"`}
	scoped := variant{"scoped", "dinkes", `opd="dinkes"`}
	for _, v := range []variant{unscoped, scoped, {"scoped_no_opd_filter", "dinkes", ``}} {
		b.Run(v.name, func(b *testing.B) {
			run(b, v, true)
			for b.Loop() {
				run(b, v, false)
			}
		})
	}
	// On a shared machine the load drifts between sub-benchmarks; here
	// the two alternate request by request (in turns, first one then the
	// other first) and the ratio is reported as overhead-%.
	b.Run("interleaved", func(b *testing.B) {
		var d [2]time.Duration
		n := 0
		for b.Loop() {
			for k := range 2 {
				i := (n + k) % 2
				t := time.Now()
				run(b, []variant{unscoped, scoped}[i], false)
				d[i] += time.Since(t)
			}
			n++
		}
		b.ReportMetric(float64(d[0].Nanoseconds())/float64(n), "unscoped-ns/op")
		b.ReportMetric(float64(d[1].Nanoseconds())/float64(n), "scoped-ns/op")
		b.ReportMetric(100*(float64(d[1])/float64(d[0])-1), "overhead-%")
	})
}

// BenchmarkScopeRewrite is the CPU work scoping adds to one query
// request, without the query: build the scope, parse the query, enforce
// the matcher and print it for the engine.
func BenchmarkScopeRewrite(b *testing.B) {
	p := parser.NewParser(parser.Options{})
	const q = `sum by (site) (rate(pantau_snmp_if_receive_bytes_total{opd="dinkes"}[4m])) * 8`
	for b.Loop() {
		sc, err := newScope([]string{"dinkes"}, layersAll)
		if err != nil {
			b.Fatal(err)
		}
		if _, aerr := sc.expr(p, q); aerr != nil {
			b.Fatal(aerr.err)
		}
	}
}
