package collector

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb"

	"github.com/pantau-noc/pantau/collector/internal/auth"
	"github.com/pantau-noc/pantau/collector/internal/ingest"
	"github.com/pantau-noc/pantau/collector/internal/promapi"
	"github.com/pantau-noc/pantau/collector/internal/statedb"
	pstore "github.com/pantau-noc/pantau/collector/internal/storage"
	"github.com/pantau-noc/pantau/internal/wire/lpgen"
)

// benchAuth is a real state.db with a real Authenticator, as the daemon
// opens them.
func benchAuth(b *testing.B) (*statedb.DB, *statedb.Authenticator) {
	b.Helper()
	ctx := context.Background()
	db, err := statedb.Open(ctx, b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	a, err := statedb.NewAuthenticator(ctx, db, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	return db, a
}

// benchGate is the gate as the daemon wires it (collector.go, gate).
func benchGate(a *statedb.Authenticator, next http.Handler) http.Handler {
	return auth.NewGate(auth.GateOptions{
		Verifier: a,
		Guard:    auth.NewGuard(20, 4096),
		Logger:   slog.New(slog.DiscardHandler),
		Refused:  func(int) {},
	}, next)
}

// BenchmarkGateQuery is the cost of access control on a Grafana panel's
// request: POST form query_range over loopback HTTP, the traffic in bits
// per second of each site of one OPD for 1 h at a 60 s step, over 300
// interface counters of that OPD next to 300 of another (as promapi's
// BenchmarkDashboardQuery). The handler chain is the daemon's: the query
// API behind auth.Gate, with a real state.db Authenticator. The query
// names opd="dinkes" in every variant, so every variant reads the same
// series and returns the same answer:
//
//	direct:   the query API without the gate (no credential)
//	token:    the gate, an unscoped viewer API token (Bearer)
//	scoped:   the gate, a viewer token scoped to dinkes (the query is rewritten)
//	basic:    the gate, a user's name and password in basic auth (the
//	          password cache: one argon2 hash, then a keyed SHA-256)
//
// The four alternate request by request, in a rotating order, so that a
// shared machine's drifting load falls on all alike; each reports its
// mean ns per request and its overhead-% against direct: the median over
// the rounds of the round's ratio, which a GC pause or a neighbour's
// burst in one request does not move. gate_only is the gate alone.
func BenchmarkGateQuery(b *testing.B) {
	ctx := context.Background()
	tdb, err := tsdb.Open(b.TempDir(), slog.New(slog.DiscardHandler), nil, tsdb.DefaultOptions(), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer tdb.Close()
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	end := start.Add(3 * time.Hour)
	app := tdb.Appender(ctx)
	for _, opd := range []string{"dinkes", "dishub"} {
		for s := range 30 {
			for i := range 10 {
				l := labels.FromStrings("__name__", "pantau_snmp_if_receive_bytes_total", "agent", "a-"+opd,
					"device", fmt.Sprintf("%s-sw%d", opd, s), "ifname", fmt.Sprintf("ether%d", i),
					"opd", opd, "site", fmt.Sprintf("%s-site%d", opd, s))
				var ref storage.SeriesRef
				v := 0.0
				for ts := start; !ts.After(end); ts = ts.Add(time.Minute) {
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
	// The daemon's query API options (collector.go, open).
	api, err := promapi.New(promapi.Options{
		Queryable: tdb,
		Logger:    slog.New(slog.DiscardHandler),
		Scope: func(r *http.Request) ([]string, bool) {
			if pr := auth.FromContext(r.Context()); pr.Scoped() {
				return pr.OPDs, true
			}
			return nil, false
		},
	})
	if err != nil {
		b.Fatal(err)
	}
	mux := http.NewServeMux()
	api.Register(mux)

	sdb, authn := benchAuth(b)
	viewer, _, err := sdb.CreateAPIToken(ctx, "grafana", statedb.RoleViewer, nil, time.Time{}, "")
	if err != nil {
		b.Fatal(err)
	}
	scoped, _, err := sdb.CreateAPIToken(ctx, "grafana-dinkes", statedb.RoleViewer, []string{"dinkes"}, time.Time{}, "")
	if err != nil {
		b.Fatal(err)
	}
	const password = "correct horse battery staple"
	if _, err := sdb.AddUser(ctx, statedb.User{Name: "ani", Role: statedb.RoleViewer}, password); err != nil {
		b.Fatal(err)
	}
	direct := httptest.NewServer(mux)
	defer direct.Close()
	gated := httptest.NewServer(benchGate(authn, mux))
	defer gated.Close()
	client := direct.Client()

	form := url.Values{
		"query": {`sum by (site) (rate(pantau_snmp_if_receive_bytes_total{opd="dinkes"}[4m])) * 8`},
		"start": {strconv.FormatInt(end.Add(-time.Hour).Unix(), 10)},
		"end":   {strconv.FormatInt(end.Unix(), 10)},
		"step":  {"60"},
	}.Encode()
	type variant struct {
		name string
		url  string
		cred func(*http.Request)
	}
	variants := []variant{
		{"direct", direct.URL, func(*http.Request) {}},
		{"token", gated.URL, func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+viewer) }},
		{"scoped", gated.URL, func(r *http.Request) { r.SetBasicAuth("grafana", scoped) }},
		{"basic", gated.URL, func(r *http.Request) { r.SetBasicAuth("ani", password) }},
	}
	call := func(v variant) string {
		req, err := http.NewRequest(http.MethodPost, v.url+"/api/v1/query_range", strings.NewReader(form))
		if err != nil {
			b.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		v.cred(req)
		res, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		body, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil || res.StatusCode != http.StatusOK {
			b.Fatalf("%s: %d %.300s %v", v.name, res.StatusCode, body, err)
		}
		return string(body)
	}
	// Every variant answers the same: dinkes's 30 sites, nothing of dishub.
	for _, v := range variants {
		if got := call(v); strings.Count(got, `"site":"dinkes-site`) != 30 || strings.Contains(got, "dishub") {
			b.Fatalf("%s: answer %.300s", v.name, got)
		}
	}
	b.Run("interleaved", func(b *testing.B) {
		d := make([]time.Duration, len(variants))
		ratios := make([][]float64, len(variants))
		round := make([]time.Duration, len(variants))
		n := 0
		for b.Loop() {
			for k := range variants {
				i := (n + k) % len(variants)
				t := time.Now()
				call(variants[i])
				round[i] = time.Since(t)
				d[i] += round[i]
			}
			for i := 1; i < len(variants); i++ {
				ratios[i] = append(ratios[i], float64(round[i])/float64(round[0]))
			}
			n++
		}
		for i, v := range variants {
			b.ReportMetric(float64(d[i].Nanoseconds())/float64(n), v.name+"-ns/op")
			if i > 0 {
				b.ReportMetric(100*(median(ratios[i])-1), v.name+"-overhead-%")
			}
		}
	})
	// What the gate itself adds to one request, in process, in front of
	// a handler that does nothing: the credential check (the token: a
	// map look-up and a SHA-256; the user: the user's row from state.db
	// and a keyed SHA-256 of the cached password), not the scoping (see
	// promapi's BenchmarkScopeRewrite).
	nop := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	gate := benchGate(authn, nop)
	for _, v := range variants {
		h := gate
		if v.name == "direct" {
			h = nop
		}
		b.Run("gate_only/"+v.name, func(b *testing.B) {
			for b.Loop() {
				r := httptest.NewRequest(http.MethodPost, "/api/v1/query_range", nil)
				r.RemoteAddr = "127.0.0.1:50000"
				v.cred(r)
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				if w.Code != http.StatusNoContent {
					b.Fatalf("%s: %d %s", v.name, w.Code, w.Body.String())
				}
			}
		})
	}
}

// median of xs (which it sorts).
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	slices.Sort(xs)
	if len(xs)%2 == 1 {
		return xs[len(xs)/2]
	}
	return (xs[len(xs)/2-1] + xs[len(xs)/2]) / 2
}

// noSync is the store without the durable group commit: the fsync would
// only add time that the gate does not touch, making its share look
// smaller than it is.
type noSync struct{ *pstore.Store }

func (noSync) Sync(context.Context, any) error { return nil }

// BenchmarkGateIngest is the cost of the gate on the write path: a
// realistic 5,000-line round (about 57,000 samples, as
// ingest.BenchmarkIngestPath) POSTed to /api/v2/write with a real agent
// token checked by a real Authenticator, in process (no sockets), once to
// the ingest handler directly and once through auth.Gate, which passes
// writes through after a policy lookup (the handler checks the token
// itself). The two alternate round by round, in turns first one then the
// other; each reports samples/s, and overhead-% is the gate's share.
func BenchmarkGateIngest(b *testing.B) {
	ctx := context.Background()
	st, err := pstore.Open(pstore.Options{Dir: b.TempDir(), Retention: 400 * 24 * time.Hour, OutOfOrderWindow: 7 * 24 * time.Hour,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	sdb, authn := benchAuth(b)
	tok, _, err := sdb.CreateToken(ctx, "bench", nil, "")
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now().Add(-6 * time.Hour)
	clock := start
	h, err := ingest.New(ingest.Options{
		Auth: authn, Store: noSync{st}, MaxBodyBytes: 1 << 30, MaxSeriesPerAgent: 1 << 30,
		MaxClockSkew: time.Hour, OutOfOrderWindow: 7 * 24 * time.Hour, MaxInflight: 1,
		Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return clock },
	})
	if err != nil {
		b.Fatal(err)
	}
	mux := http.NewServeMux()
	h.Register(mux)
	handlers := []http.Handler{mux, benchGate(authn, mux)}
	names := []string{"direct", "gate"}
	round := lpgen.NewRound("bench", lpgen.DefaultMix, start.UnixNano())
	write := func(hd http.Handler, ts time.Time) {
		round.Restamp(ts.UnixNano())
		clock = ts
		r := httptest.NewRequest(http.MethodPost, "/api/v2/write?precision=ns", bytes.NewReader(round.Body))
		r.RemoteAddr = "127.0.0.1:50000"
		r.Header.Set("Authorization", "Token "+tok)
		w := httptest.NewRecorder()
		hd.ServeHTTP(w, r)
		if w.Code != http.StatusNoContent {
			b.Fatalf("write: %d %s", w.Code, w.Body.String())
		}
	}
	// The series exist after the first round, as in steady state.
	write(handlers[0], start)
	writes := 1
	b.Run("interleaved", func(b *testing.B) {
		var d, pair [2]time.Duration
		var ratios []float64
		n := 0
		for b.Loop() {
			for k := range 2 {
				i := (n + k) % 2
				ts := start.Add(time.Duration(writes) * 10 * time.Second)
				writes++
				t := time.Now()
				write(handlers[i], ts)
				pair[i] = time.Since(t)
				d[i] += pair[i]
			}
			ratios = append(ratios, float64(pair[1])/float64(pair[0]))
			n++
		}
		for i, name := range names {
			b.ReportMetric(float64(n)*float64(round.Samples)/d[i].Seconds(), name+"-samples/s")
		}
		b.ReportMetric(100*(median(ratios)-1), "overhead-%")
	})
	// What the gate adds to a write, in process, in front of a handler
	// that does nothing: the policy look-up that passes writes through.
	nop := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	for i, h := range []http.Handler{nop, benchGate(authn, nop)} {
		b.Run("gate_only/"+names[i], func(b *testing.B) {
			for b.Loop() {
				r := httptest.NewRequest(http.MethodPost, "/api/v2/write?precision=ns", nil)
				r.RemoteAddr = "127.0.0.1:50000"
				r.Header.Set("Authorization", "Token "+tok)
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				if w.Code != http.StatusNoContent {
					b.Fatalf("%d", w.Code)
				}
			}
		})
	}
}
