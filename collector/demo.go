package collector

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/influxdata/line-protocol/v2/lineprotocol"
	"github.com/klauspost/compress/gzip"

	"github.com/pantau-noc/pantau/collector/internal/config"
	"github.com/pantau-noc/pantau/collector/internal/statedb"
	"github.com/pantau-noc/pantau/internal/logflags"
)

// demoSite is one simulated site with its own agent and token.
type demoSite struct {
	id, name, kind, district string
	rttBase                  float64 // seconds
	cirBits                  float64 // contracted bandwidth, bits/s
	outageEvery              time.Duration
	outageFor                time.Duration
	// counters
	rx, tx uint64
}

func demoSites() []*demoSite {
	return []*demoSite{
		{id: "noc-kominfo", name: "NOC Diskominfo", kind: "datacenter", district: "sorong-kota", rttBase: 0.0004, cirBits: 1e9},
		{id: "dinkes", name: "Dinas Kesehatan", kind: "opd", district: "sorong-kota", rttBase: 0.003, cirBits: 100e6},
		{id: "bappeda", name: "Bappeda", kind: "opd", district: "sorong-kota", rttBase: 0.004, cirBits: 50e6},
		{id: "dukcapil", name: "Disdukcapil", kind: "opd", district: "sorong-kota", rttBase: 0.005, cirBits: 50e6, outageEvery: 30 * time.Minute, outageFor: 3 * time.Minute},
		{id: "distrik-aimas", name: "Distrik Aimas", kind: "district", district: "aimas", rttBase: 0.018, cirBits: 20e6},
		{id: "distrik-makbon", name: "Distrik Makbon (VSAT)", kind: "district", district: "makbon", rttBase: 0.62, cirBits: 4e6, outageEvery: 20 * time.Minute, outageFor: 4 * time.Minute},
	}
}

func cmdDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("demo", "demo [--listen-address 127.0.0.1:9810] [--duration 0] [--data-dir DIR]", stderr)
	listen := fs.String("listen-address", "127.0.0.1:9810", "loopback address for the demo collector")
	dataDir := fs.String("data-dir", "", "data directory (default: a temporary directory removed on exit)")
	duration := fs.Duration("duration", 0, "stop the live writes this long after the backfill (0: run until Ctrl-C)")
	interval := fs.Duration("interval", 10*time.Second, "how often each simulated site writes")
	history := fs.Duration("history", 6*time.Hour, "history to backfill at start, so graphs have data at once")
	var lf logflags.Flags
	lf.Register(fs)
	lf.Level = "warn"
	if err := parse(fs, args); err != nil {
		return err
	}
	logger, err := lf.Logger(stderr)
	if err != nil {
		return usageError{err}
	}
	if *interval < time.Second {
		return usageError{errors.New("--interval must be at least 1s")}
	}
	if *dataDir == "" {
		d, err := os.MkdirTemp("", "pantau-demo-")
		if err != nil {
			return fmt.Errorf("create demo data directory: %w", err)
		}
		defer os.RemoveAll(d)
		*dataDir = d
	}
	cfg := config.Default()
	cfg.ListenAddress = *listen
	cfg.DataDir = *dataDir
	if err := cfg.Validate(); err != nil {
		return err
	}

	// The collector runs until the demo ends; every return below waits for
	// it to shut down, so its data directory is closed cleanly.
	runCtx, stopRun := context.WithCancel(ctx)
	defer stopRun()
	addrCh := make(chan net.Addr, 1)
	runErr := make(chan error, 1)
	go func() {
		runErr <- Run(runCtx, Options{Config: cfg, Logger: logger, Listening: func(a net.Addr) { addrCh <- a }})
	}()
	var addr net.Addr
	select {
	case addr = <-addrCh:
	case err := <-runErr:
		return err
	}
	base := "http://" + addr.String()
	fail := func(err error) error {
		stopRun()
		<-runErr
		return err
	}

	db, err := statedb.Open(ctx, cfg.DataDir)
	if err != nil {
		return fail(err)
	}
	sites := demoSites()
	tokens := make(map[string]string, len(sites))
	for _, s := range sites {
		tok, _, err := db.CreateToken(ctx, "agent-"+s.id, []string{s.id}, "demo: "+s.name)
		if err != nil {
			db.Close()
			return fail(err)
		}
		tokens[s.id] = tok
	}
	db.Close()

	start := time.Now()
	client := &http.Client{Timeout: 30 * time.Second}
	// Backfill history in one batch per site, then write live.
	for _, s := range sites {
		var buf bytes.Buffer
		for t := start.Add(-*history); t.Before(start); t = t.Add(*interval) {
			s.lines(&buf, t, *interval)
		}
		if err := demoPost(ctx, client, base, tokens[s.id], "agent-"+s.id, 0, buf.Bytes()); err != nil {
			return fail(fmt.Errorf("demo backfill for %s: %w", s.id, err))
		}
	}
	// --duration bounds the live phase, after the backfill.
	liveCtx := ctx
	if *duration > 0 {
		var cancel context.CancelFunc
		liveCtx, cancel = context.WithTimeout(ctx, *duration)
		defer cancel()
	}
	fmt.Fprintf(stdout, `Pantau demo collector is running on %[1]s (data in %[2]s).
%[3]d simulated sites write every %[4]s; %[5]s of history was backfilled.

  Query (Prometheus API):  curl -s '%[1]s/api/v1/query?query=pantau_icmp_up'
  Latency per site:        curl -s '%[1]s/api/v1/query?query=pantau_icmp_rtt_avg_seconds'
  Collector metrics:       curl -s %[1]s/metrics | grep pantau_collector_ingest
  Grafana data source:     type Prometheus, URL %[1]s
  Write your own point:    curl -i -H "Authorization: Token %[6]s" \
                             --data-binary 'icmp,target=127.0.0.1 loss_ratio=0,up=1i' '%[1]s/api/v2/write?precision=ns'

Press Ctrl-C to stop.
`, base, cfg.DataDir, len(sites), *interval, *history, tokens["noc-kominfo"])

	var wg sync.WaitGroup
	for _, s := range sites {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.NewTicker(*interval)
			defer t.Stop()
			var seq uint64
			for {
				select {
				case <-liveCtx.Done():
					return
				case now := <-t.C:
					seq++
					var buf bytes.Buffer
					s.lines(&buf, now, *interval)
					if err := demoPost(liveCtx, client, base, tokens[s.id], "agent-"+s.id, seq, buf.Bytes()); err != nil && liveCtx.Err() == nil {
						logger.Warn("demo write failed", "site", s.id, "err", err)
					}
				}
			}
		}()
	}
	wg.Wait()
	stopRun()
	return <-runErr
}

// lines appends one round of the site's measurements at t.
func (s *demoSite) lines(buf *bytes.Buffer, t time.Time, interval time.Duration) {
	var enc lineprotocol.Encoder
	enc.SetPrecision(lineprotocol.Nanosecond)
	down := s.outageEvery > 0 && t.UnixNano()%int64(s.outageEvery) < int64(s.outageFor)
	r := rand.New(rand.NewPCG(uint64(t.UnixNano()), uint64(len(s.id))))

	enc.StartLine("icmp")
	enc.AddTag("district", s.district)
	enc.AddTag("kind", s.kind)
	enc.AddTag("link", s.id+"-wan")
	enc.AddTag("name", "gw-"+s.id)
	enc.AddTag("site", s.id)
	enc.AddTag("target", "127.0.0.1")
	sent, recv := uint64(5), uint64(5)
	if down {
		recv = 0
	} else if r.Float64() < 0.05 {
		recv = 4
	}
	enc.AddField("packets_sent", lineprotocol.UintValue(sent))
	enc.AddField("packets_received", lineprotocol.UintValue(recv))
	loss, _ := lineprotocol.FloatValue(float64(sent-recv) / float64(sent))
	enc.AddField("loss_ratio", loss)
	if recv > 0 {
		avg := s.rttBase * (1 + 0.2*r.Float64())
		for _, f := range []struct {
			k string
			v float64
		}{{"rtt_min_seconds", avg * 0.9}, {"rtt_avg_seconds", avg}, {"rtt_max_seconds", avg * 1.3}, {"rtt_stddev_seconds", avg * 0.1}, {"jitter_seconds", avg * 0.08}} {
			v, _ := lineprotocol.FloatValue(f.v)
			enc.AddField(f.k, v)
		}
	}
	up := int64(1)
	if recv == 0 {
		up = 0
	}
	enc.AddField("up", lineprotocol.IntValue(up))
	enc.EndLine(t)

	// Diurnal load in WIT (UTC+9): quiet at night, busy 09-15.
	hour := float64(t.UTC().Add(9*time.Hour).Hour()) + float64(t.Minute())/60
	load := 0.15 + 0.55*math.Max(0, math.Sin((hour-6)/12*math.Pi)) + 0.05*r.Float64()
	if down {
		load = 0
	}
	rxRate, txRate := load*s.cirBits, load*s.cirBits*0.35
	s.rx += uint64(rxRate / 8 * interval.Seconds())
	s.tx += uint64(txRate / 8 * interval.Seconds())
	enc.StartLine("snmp_if")
	enc.AddTag("device", "rtr-"+s.id)
	enc.AddTag("ifalias", "WAN "+s.name)
	enc.AddTag("ifindex", "1")
	enc.AddTag("ifname", "ether1")
	enc.AddTag("link", s.id+"-wan")
	enc.AddTag("site", s.id)
	enc.AddField("receive_bytes_total", lineprotocol.UintValue(s.rx))
	enc.AddField("transmit_bytes_total", lineprotocol.UintValue(s.tx))
	rxv, _ := lineprotocol.FloatValue(rxRate)
	txv, _ := lineprotocol.FloatValue(txRate)
	enc.AddField("receive_bits_per_second", rxv)
	enc.AddField("transmit_bits_per_second", txv)
	enc.AddField("speed_bits_per_second", lineprotocol.UintValue(uint64(s.cirBits)))
	oper := int64(1)
	if down {
		oper = 2
	}
	enc.AddField("oper_status", lineprotocol.IntValue(oper))
	enc.AddField("admin_status", lineprotocol.IntValue(1))
	enc.EndLine(t)

	enc.StartLine("agent")
	enc.AddTag("site", s.id)
	enc.AddTag("version", "demo")
	uptime, _ := lineprotocol.FloatValue(float64(t.Unix() % 864000))
	enc.AddField("uptime_seconds", uptime)
	enc.AddField("targets", lineprotocol.IntValue(2))
	enc.AddField("dropped_points_total", lineprotocol.UintValue(0))
	enc.EndLine(t)
	buf.Write(enc.Bytes())
}

func demoPost(ctx context.Context, c *http.Client, base, token, agent string, seq uint64, body []byte) error {
	var zb bytes.Buffer
	zw := gzip.NewWriter(&zb)
	zw.Write(body)
	zw.Close()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/v2/write?precision=ns", &zb)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Token "+token)
	req.Header.Set("Content-Encoding", "gzip")
	if seq > 0 {
		req.Header.Set("Pantau-Batch", fmt.Sprintf("%s/%d", agent, seq))
	}
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("write to %s: %w", base, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		return fmt.Errorf("write to %s: %s: %s", base, resp.Status, bytes.TrimSpace(msg))
	}
	return nil
}
