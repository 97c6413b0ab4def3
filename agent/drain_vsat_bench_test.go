package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pantau-noc/pantau/agent/internal/config"
	"github.com/pantau-noc/pantau/agent/internal/icmp"
	"github.com/pantau-noc/pantau/agent/internal/point"
	"github.com/pantau-noc/pantau/internal/lab"
	"github.com/pantau-noc/pantau/internal/spool"
	"github.com/pantau-noc/pantau/internal/testbuild"
	"github.com/pantau-noc/pantau/internal/testproc"
)

// The district site of issue 22 behind its VSAT line.
const (
	vsatOneWay      = 350 * time.Millisecond // 700 ms round trip
	vsatRate        = 1_000_000              // bit/s each way
	districtRound   = 30 * time.Second
	districtBacklog = 7 * 24 * time.Hour
	singleFor2m     = 2 * time.Minute // today's form runs this long only
)

// districtRoundBatch encodes one 30 s round of the district site as the
// agent queues it: five ICMP targets, the heartbeat, and every other
// round (60 s) the router with its eight interfaces.
func districtRoundBatch(enc *point.Encoder, rng *rand.Rand, round int, at time.Time, uptime time.Duration) int {
	n := 0
	for tg := range 5 {
		rtts := make([]time.Duration, 5)
		for i := range rtts {
			rtts[i] = time.Duration(600+rng.IntN(200)) * time.Millisecond
		}
		t := config.ICMPTarget{Target: fmt.Sprintf("10.31.%d.1", tg), Name: fmt.Sprintf("opd-%d", tg),
			Tags: map[string]string{"site": "kec-sentani", "link": fmt.Sprintf("kec-sentani-%d", tg)}}
		enc.Add(ICMPPoint(t, icmp.Result{Sent: 5, Received: 5, RTTs: rtts}, at))
		n++
	}
	enc.Add(point.New("agent", at).Tag("site", "kec-sentani").Tag("version", "0.9.0").
		Float("uptime_seconds", uptime.Seconds()).Float("queue_points", float64(round*11)).
		Float("queue_bytes", float64(round*300)).Float("queue_oldest_age_seconds", float64(round*30)).
		Uint("queue_dropped_points_total", 0).Int("targets", 6))
	n++
	if round%2 == 0 {
		tags := map[string]string{"site": "kec-sentani"}
		enc.Add(point.New("snmp_device", at).TagMap(tags).Tag("device", "rtr-sentani").Tag("sysname", "rtr-sentani").
			Int("up", 1).Float("uptime_seconds", uptime.Seconds()).Float("poll_duration_seconds", 0.8+rng.Float64()/10).
			Float("cpu_load_ratio", rng.Float64()/4).Float("memory_used_ratio", 0.4+rng.Float64()/20))
		n++
		for i := range 8 {
			base := uint64(round) * uint64(1+i) * 1_000_000
			enc.Add(point.New("snmp_if", at).TagMap(tags).Tag("device", "rtr-sentani").
				Tag("ifindex", strconv.Itoa(i+1)).Tag("ifname", fmt.Sprintf("ether%d", i+1)).Tag("ifalias", fmt.Sprintf("OPD %d", i+1)).
				Uint("receive_bytes_total", base+uint64(rng.IntN(1e6))).Uint("transmit_bytes_total", base/3+uint64(rng.IntN(1e6))).
				Uint("receive_packets_total", base/900).Uint("transmit_packets_total", base/1100).
				Uint("receive_errors_total", 0).Uint("transmit_errors_total", 0).
				Uint("receive_discards_total", uint64(round/100)).Uint("transmit_discards_total", 0).
				Float("receive_bits_per_second", float64(rng.IntN(2e6))).Float("transmit_bits_per_second", float64(rng.IntN(5e5))).
				Uint("speed_bits_per_second", 100_000_000).Int("oper_status", 1).Int("admin_status", 1))
			n++
		}
	}
	return n
}

// fillDistrict queues the 7-day backlog of the district site, one batch
// per round, ending at end; it returns the batches and points.
func fillDistrict(b *testing.B, sp *spool.Spool, end time.Time) (seqs []uint64, points int) {
	b.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	enc := point.NewEncoder()
	start := end.Add(-districtBacklog)
	for r, at := 0, start; at.Before(end); r, at = r+1, at.Add(districtRound) {
		enc.Reset()
		n := districtRoundBatch(enc, rng, r, at, at.Sub(start))
		seq, err := sp.Append(context.Background(), append([]byte(nil), enc.Bytes()...), n)
		if err != nil {
			b.Fatal(err)
		}
		seqs = append(seqs, seq)
		points += n
	}
	return seqs, points
}

// siteClient is the agent's HTTP client (agent.go httpClient) with its
// connections opened in the site's namespace.
func siteClient(ns string) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 4
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		var c net.Conn
		err := lab.InNamespace(ns, func() error {
			var err error
			c, err = (&net.Dialer{Timeout: 10 * time.Second}).DialContext(ctx, network, addr)
			return err
		})
		return c, err
	}
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

// drainRun is one sender draining one queue while a fresh round is
// queued every 30 s; it records when each fresh batch was delivered.
type drainRun struct {
	sp      *spool.Spool
	cur     *spool.Cursor
	backlog []uint64 // the backlog's batches not yet seen delivered
	fresh   []time.Duration
	pending map[uint64]time.Time
	start   time.Time
	done    time.Time // when the last backlog batch was delivered
	rounds  int
}

// run sends until the backlog is delivered or limit passes, queueing a
// fresh round every 30 s.
func (d *drainRun) run(b *testing.B, s *sender, limit time.Duration) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	d.start = time.Now()
	d.pending = map[uint64]time.Time{}
	var wg sync.WaitGroup
	wg.Go(func() { s.run(ctx) })
	rng := rand.New(rand.NewPCG(3, 4))
	enc := point.NewEncoder()
	nextRound := d.start.Add(districtRound)
	deadline := d.start.Add(limit)
	for time.Now().Before(deadline) && (len(d.backlog) > 0 || len(d.pending) > 0) {
		if now := time.Now(); !now.Before(nextRound) {
			enc.Reset()
			n := districtRoundBatch(enc, rng, d.rounds, now, time.Duration(d.rounds)*districtRound)
			seq, err := d.sp.Append(ctx, append([]byte(nil), enc.Bytes()...), n)
			if err != nil {
				b.Fatal(err)
			}
			d.pending[seq] = now
			d.rounds++
			nextRound = nextRound.Add(districtRound)
		}
		for seq, at := range d.pending {
			if d.cur.Acked(seq) {
				d.fresh = append(d.fresh, time.Since(at))
				delete(d.pending, seq)
			}
		}
		d.backlog = slices.DeleteFunc(d.backlog, d.cur.Acked)
		if len(d.backlog) == 0 && d.done.IsZero() {
			d.done = time.Now()
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	wg.Wait()
	for _, at := range d.pending { // still not delivered: late by now
		d.fresh = append(d.fresh, time.Since(at))
	}
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// BenchmarkBacklogDrainVSAT is issue 22's case: a district site (5 ICMP
// targets every 30 s, a router with 8 interfaces every 60 s, the
// heartbeat; one batch per round, 20,160 batches) cut off for 7 days
// drains its backlog through the lab's userspace delay link at 700 ms
// RTT and 1 Mbit/s to a real collector, while a fresh round is queued
// every 30 s. First the multi-batch form (256 KiB requests, the
// default) drains the backlog to its end; then today's form (one batch
// per request, queue.max_request_bytes: 0) drains a second copy, as
// another agent, for 2 minutes only: it would take hours, so its rate
// and the total projected from it are reported. Reported: the drain time, the fresh batches'
// delivery delay (median and worst, in seconds), today's rate and
// projected total; checked: every point of the multi-batch drain is at
// the collector, and the collector stored each of its batches once.
// Needs root (namespaces); run with -benchtime 1x.
func BenchmarkBacklogDrainVSAT(b *testing.B) {
	colBin := testbuild.Collector(b)
	for range b.N {
		b.StopTimer()
		l, noc, router, site, rNoc, rSite, _ := lab.ThreeHop(b)
		dir := b.TempDir()
		ccfg := filepath.Join(dir, "collector.yml")
		os.WriteFile(ccfg, []byte(fmt.Sprintf("listen_address: 10.250.1.1:9810\ndata_dir: %s\nstorage: {out_of_order_window: 8d}\n", filepath.Join(dir, "data"))), 0o600)
		token := func(args ...string) string {
			out, err := exec.Command(colBin, append([]string{"token", "create", "--config", ccfg}, args...)...).Output()
			if err != nil {
				b.Fatalf("token create: %v", err)
			}
			return strings.TrimSpace(string(out))
		}
		tokSingle, tokMulti := token("--agent", "district-single", "--site", "kec-sentani"), token("--agent", "district-multi", "--site", "kec-sentani")
		viewer := token("--name", "bench", "--role", "viewer")
		l.Start(noc, colBin, "serve", "--config", ccfg, "--log.level", "warn")
		nocClient := lab.HTTPClient(noc)
		nocClient.Transport = testproc.Bearer(viewer, nocClient.Transport)
		const base = "http://10.250.1.1:9810"
		if !lab.WaitFor(b.Context(), 30*time.Second, func() bool {
			resp, err := nocClient.Get(base + "/readyz")
			if err == nil {
				resp.Body.Close()
			}
			return err == nil && resp.StatusCode == 200
		}) {
			b.Fatal("collector not ready")
		}
		l.DelayRate(router, vsatOneWay, vsatRate, map[string]string{"10.250.1.1": rNoc, "10.250.2.2": rSite})

		end := time.Now()
		open := func(name string) (*spool.Spool, *spool.Cursor, []uint64, int, int64) {
			sp, err := spool.Open(spool.Options{Dir: filepath.Join(dir, name), SyncInterval: time.Second, MaxAge: 8 * 24 * time.Hour, MaxBytes: 1 << 30})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { sp.Close() })
			seqs, pts := fillDistrict(b, sp, end)
			cur, _ := sp.Cursor("noc")
			return sp, cur, seqs, pts, sp.Stats().Bytes
		}
		spS, curS, seqsS, _, bytesS := open("single")
		spM, curM, seqsM, ptsM, bytesM := open("multi")
		nS, nM := len(seqsS), len(seqsM)
		reg, log := prometheus.NewRegistry(), slog.New(slog.DiscardHandler)
		m := newSendMetrics(reg)
		mkSender := func(sp *spool.Spool, cur *spool.Cursor, agent, tok string, maxBytes int64) *sender {
			return &sender{col: config.CollectorConfig{Name: "noc", URL: base, Token: config.Secret(tok)}, agentID: agent,
				client: siteClient(site), cur: cur, log: log, m: m, minBackoff: time.Second, maxBackoff: time.Minute,
				deadLetter:      newDeadLetters(filepath.Join(dir, agent+"-dead.jsonl"), 16<<20, newDeadLetterMetrics(prometheus.NewRegistry()), sp, &lossLog{}, log),
				maxRequestBytes: maxBytes}
		}

		// The multi-batch form, to the end.
		metric := func(name string) float64 {
			return testproc.MetricValue(getBody(b, nocClient, base+"/metrics"), name)
		}
		storedBefore := metric(`pantau_collector_ingest_batches_total{result="stored"}`)
		wireBefore := metric(`pantau_collector_ingest_received_bytes_total{encoding="gzip"}`)
		multi := &drainRun{sp: spM, cur: curM, backlog: slices.Clone(seqsM)}
		b.StartTimer()
		multi.run(b, mkSender(spM, curM, "district-multi", tokMulti, config.DefaultMaxRequestBytes), 20*time.Minute)
		b.StopTimer()
		if len(multi.backlog) > 0 {
			b.Fatalf("multi-batch: %d of %d backlog batches not delivered after 20 minutes", len(multi.backlog), nM)
		}
		took := multi.done.Sub(multi.start)

		// At the collector: every point of the multi run once.
		want := nM + multi.rounds
		var heartbeats, icmpUp, stored float64
		lab.WaitFor(b.Context(), 30*time.Second, func() bool {
			heartbeats = queryScalar(b, nocClient, base, `sum(count_over_time(pantau_agent_uptime_seconds{agent="district-multi"}[8d]))`)
			icmpUp = queryScalar(b, nocClient, base, `sum(count_over_time(pantau_icmp_up{agent="district-multi"}[8d]))`)
			stored = metric(`pantau_collector_ingest_batches_total{result="stored"}`) - storedBefore
			return heartbeats == float64(want) && stored == float64(want)
		})
		if heartbeats != float64(want) || icmpUp != float64(5*want) {
			b.Errorf("multi-batch: %.0f heartbeats and %.0f icmp rounds at the collector, want %d and %d: points lost", heartbeats, icmpUp, want, 5*want)
		}
		if stored != float64(want) {
			b.Errorf("multi-batch: the collector stored %.0f batches of the run, want %d: a batch stored twice or lost", stored, want)
		}
		reqs := metric("pantau_collector_ingest_batches_per_request_count")
		wire := metric(`pantau_collector_ingest_received_bytes_total{encoding="gzip"}`) - wireBefore

		// Today's form, for a bounded time.
		single := &drainRun{sp: spS, cur: curS, backlog: slices.Clone(seqsS)}
		single.run(b, mkSender(spS, curS, "district-single", tokSingle, 0), singleFor2m)
		singleDone := nS - len(single.backlog)
		singleRate := float64(singleDone) / singleFor2m.Seconds()
		// The newest-first lane helps only with the newest batches (it
		// looks no deeper than spool's newestScan, 256): the rest of the
		// backlog goes at the oldest-first lane's rate alone.
		newest := 0
		for _, seq := range seqsS[nS-256:] {
			if curS.Acked(seq) {
				newest++
			}
		}
		oldestRate := float64(singleDone-newest) / singleFor2m.Seconds()
		singleTotal := 256/max(singleRate, 1e-9) + float64(nS-256)/max(oldestRate, 1e-9)

		freshS, freshM := slices.Max(append(single.fresh, 0)), slices.Max(append(multi.fresh, 0))
		b.Logf("district backlog: %d batches, %d points, %.2f MB queued (gzip) per copy (%.2f MB single copy)", nM, ptsM, float64(bytesM)/1e6, float64(bytesS)/1e6)
		b.Logf("one batch per request (today): %d batches in %s = %.2f batches/s (%d of them the newest 256, by the newest-first lane; the oldest-first lane %.2f batches/s); the whole backlog would take %.1f h (projected: the newest 256 at both lanes' rate, the rest at the oldest-first lane's); fresh rounds: %d, delay median %.1f s, max %.1f s",
			singleDone, singleFor2m, singleRate, newest, oldestRate, singleTotal/3600, len(single.fresh), median(single.fresh).Seconds(), freshS.Seconds())
		b.Logf("several batches per request (256 KiB): %d batches drained in %.1f s (%.0f multi-batch requests, %.2f MB on the wire, %.0f batches/s, %.0f kbit/s); fresh rounds: %d, delay median %.1f s, max %.1f s; at the collector %d batches stored once each",
			nM, took.Seconds(), reqs, wire/1e6, float64(nM)/took.Seconds(), wire*8/1e3/took.Seconds(), len(multi.fresh), median(multi.fresh).Seconds(), freshM.Seconds(), want)
		if took > 5*time.Minute {
			b.Errorf("drain took %s, the goal is under 5 minutes", took.Round(time.Second))
		}
		if freshM > 2*districtRound {
			b.Errorf("a fresh round was delivered %s after it was queued, more than two rounds (%s)", freshM.Round(time.Second), 2*districtRound)
		}
		b.ReportMetric(took.Seconds(), "drain_s")
		b.ReportMetric(median(multi.fresh).Seconds(), "fresh_median_s")
		b.ReportMetric(freshM.Seconds(), "fresh_max_s")
		b.ReportMetric(wire/1e6, "wire_MB")
		b.ReportMetric(singleRate, "single_batches/s")
		b.ReportMetric(singleTotal/3600, "single_projected_h")
		b.ReportMetric(0, "ns/op")
	}
}

func getBody(b *testing.B, c *http.Client, u string) string {
	b.Helper()
	resp, err := c.Get(u)
	if err != nil {
		b.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	var sb strings.Builder
	buf := make([]byte, 64<<10)
	for {
		n, err := resp.Body.Read(buf)
		sb.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return sb.String()
}

// queryScalar runs the instant query q and returns its single value, or
// -1.
func queryScalar(b *testing.B, c *http.Client, base, q string) float64 {
	b.Helper()
	v := url.Values{"query": {q}, "time": {strconv.FormatInt(time.Now().Unix()+5, 10)}}
	resp, err := c.Get(base + "/api/v1/query?" + v.Encode())
	if err != nil {
		b.Fatalf("query %s: %v", q, err)
	}
	defer resp.Body.Close()
	var r struct {
		Data struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil || len(r.Data.Result) != 1 {
		return -1
	}
	f, _ := strconv.ParseFloat(r.Data.Result[0].Value[1].(string), 64)
	return f
}
