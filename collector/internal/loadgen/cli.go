package loadgen

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/pantau-noc/pantau/internal/logflags"
	"github.com/pantau-noc/pantau/internal/wire/lpgen"
)

const usage = `pantau-loadgen: write-load generator for loopback servers.

Usage:
  pantau-loadgen compare --collector bin/pantau-collector [flags]
      Starts pantau-collector and each peer (victoria-metrics, influxdb) in
      turn on loopback with an empty data directory, sends the same load to
      each, and prints one table row per server (medians over --runs).

  pantau-loadgen scale --collector bin/pantau-collector --agents 100 --links-per-agent 50 --duration 5m [flags]
      Simulates a province: agents × links links (two per site, one router
      per site, sites under a district hub per agent, 40 OPD) written as an
      inventory the collector loads, and one token per agent. Every agent
      behaves like pantau-agent with its defaults: per link an ICMP round
      every 30 s, per site router an SNMP poll (snmp_device and one snmp_if
      per link) every 60 s, a heartbeat every 30 s, start times splayed by
      the agent's hash; points stamped with the time they were taken, sent
      gzip'd with a Pantau-Batch id one batch linger (1 s) after the first
      point of a batch. Agents start spread over one linger. After a
      warm-up (series creation), it measures for --duration: points/s and
      samples/s, per-request latency (p50/p99/max), failed requests, the
      collector's CPU (% of one core) and peak RSS; a progress line every
      30 s on stderr, the report on stdout.
      --remote-write URL adds storage.remote_write to the collector's
      config; --start-victoria-metrics starts victoria-metrics for it and
      measures it too; --remote-only then also turns the collector's
      embedded TSDB off (storage.local: false).

Every run is bounded by --duration and by --max-requests, and only
loopback addresses are accepted. A sample is one field of one line
(what the Prometheus ecosystem counts); in scale, a point is one line.
Peers are found on PATH (Debian packages: make deps-bench).
`

// Main runs the command line and returns the exit code.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, usage)
		return 0
	}
	switch args[0] {
	case "compare":
	case "scale":
		return scaleMain(ctx, args[1:], stdout, stderr)
	default:
		fmt.Fprintf(stderr, "pantau-loadgen: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	fs := flag.NewFlagSet("compare", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage, "\nFlags of compare:\n")
		fs.PrintDefaults()
	}
	bin := fs.String("collector", "bin/pantau-collector", "pantau-collector binary")
	peers := fs.String("peers", "victoria-metrics,influxdb", "peers to compare with (comma-separated; empty for none)")
	writers := fs.Int("writers", 8, "concurrent writers (one agent each)")
	dur := fs.Duration("duration", 20*time.Second, "length of each measured run")
	runs := fs.Int("runs", 3, "runs per server; medians are reported")
	maxReq := fs.Int("max-requests", 200, "request bound per writer per run (warm-up included)")
	cpuProfile := fs.String("cpuprofile", "", "write pantau-collector's CPU profile of the last run to this file")
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if err := compare(ctx, stdout, stderr, *bin, *peers, *writers, *dur, *runs, *maxReq, *cpuProfile); err != nil {
		fmt.Fprintln(stderr, "pantau-loadgen:", err)
		return 1
	}
	return 0
}

func scaleMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("scale", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage, "\nFlags of scale:\n")
		fs.PrintDefaults()
	}
	var o ScaleOptions
	var lf logflags.Flags
	lf.Register(fs)
	fs.StringVar(&o.Collector, "collector", "bin/pantau-collector", "pantau-collector binary")
	fs.IntVar(&o.Agents, "agents", 100, "simulated agents (one token each)")
	fs.IntVar(&o.LinksPerAgent, "links-per-agent", 50, "links per agent: an ICMP target and an SNMP interface each")
	fs.DurationVar(&o.Duration, "duration", 5*time.Minute, "measured window, after the warm-up")
	fs.DurationVar(&o.Warmup, "warmup", 0, "warm-up before the window (default: the longest interval + the ICMP round (2s) + 2 flush intervals)")
	fs.IntVar(&o.MaxRequests, "max-requests", 0, "request cap for the whole run (default: twice one request per agent per flush interval)")
	fs.DurationVar(&o.ICMPInterval, "icmp-interval", AgentInterval, "ICMP round and heartbeat interval (the agent's defaults.interval)")
	fs.DurationVar(&o.SNMPInterval, "snmp-interval", 60*time.Second, "SNMP poll interval")
	fs.DurationVar(&o.FlushInterval, "flush-interval", AgentBatchLinger, "the agents' batch linger (queue.batch_linger)")
	fs.IntVar(&o.BatchPoints, "batch-points", AgentBatchPoints, "the agents' largest batch (queue.batch_points)")
	fs.DurationVar(&o.Progress, "progress", 30*time.Second, "progress line period on stderr (negative: none)")
	fs.StringVar(&o.RemoteWrite, "remote-write", "", "loopback URL to add as the collector's storage.remote_write engine")
	fs.BoolVar(&o.StartVictoriaMetrics, "start-victoria-metrics", false, "start victoria-metrics and remote-write to its /api/v1/write")
	fs.BoolVar(&o.RemoteOnly, "remote-only", false, "with --start-victoria-metrics: no embedded TSDB (storage.local: false), read back from victoria-metrics")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "pantau-loadgen scale: unexpected arguments %q\n", fs.Args())
		return 2
	}
	log, err := lf.Logger(stderr)
	if err != nil {
		fmt.Fprintln(stderr, "pantau-loadgen:", err)
		return 2
	}
	o.Logger = log
	res, err := Scale(ctx, o)
	if res.Links > 0 {
		res.Report(stdout)
	}
	if err != nil {
		log.Error("scale run failed", "err", err)
		return 1
	}
	if res.Failed > 0 || res.Total.Failed > 0 {
		log.Error("requests failed", "failed", res.Total.Failed, "first_error", res.FirstError)
		return 1
	}
	return 0
}

func compare(ctx context.Context, stdout, stderr io.Writer, bin, peers string, writers int, dur time.Duration, runs, maxReq int, cpuProfile string) error {
	if _, err := os.Stat(bin); err != nil {
		return fmt.Errorf("collector binary: %w (run `make build`)", err)
	}
	work, err := os.MkdirTemp("", "pantau-loadgen-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	names := []string{"pantau"}
	for _, p := range strings.Split(peers, ",") {
		if p = strings.TrimSpace(p); p != "" {
			names = append(names, p)
		}
	}
	load := Load{Writers: writers, Mix: lpgen.DefaultMix, Duration: dur, MaxRequests: maxReq, Interval: 10 * time.Second,
		Start: time.Now().Add(-time.Duration(maxReq) * 10 * time.Second)}
	fmt.Fprintf(stderr, "load: %d writers, %d-line gzip rounds (%d samples each), %s per run, %d runs per server\n",
		writers, load.Mix.Lines(), lpgen.NewRound("x", load.Mix, 0).Samples, dur, runs)
	fmt.Fprintf(stderr, "compressing %d request bodies...\n", writers*maxReq)
	payload := Build(load, false)
	var signedPayload *Payload
	results := map[string][]Result{}
	for r := 0; r < runs; r++ {
		for _, name := range names {
			var s *Server
			switch name {
			case "pantau":
				s, err = StartPantau(ctx, bin, work, writers)
			case "victoria-metrics":
				s, err = StartVictoriaMetrics(ctx, work)
			case "influxdb":
				s, err = StartInfluxDB(ctx, work)
			default:
				return fmt.Errorf("unknown peer %q: use victoria-metrics or influxdb", name)
			}
			if err != nil {
				if s != nil {
					s.Stop()
				}
				return err
			}
			fmt.Fprintf(stderr, "run %d/%d: %s\n", r+1, runs, name)
			l := load
			if r == runs-1 {
				l.CPUProfile = cpuProfile
			}
			p := payload
			if s.Target.Signed {
				if signedPayload == nil {
					signedPayload = Build(load, true)
				}
				p = signedPayload
			}
			res, err := Run(ctx, s.Target, l, p, stderr)
			s.Stop()
			if err != nil {
				return err
			}
			if res.Failed > 0 {
				fmt.Fprintf(stderr, "  %s: %d of %d requests failed; first: %s\n", name, res.Failed, res.Requests, res.FirstError)
			}
			results[name] = append(results[name], res)
		}
	}
	linesPerSample := float64(load.Mix.Lines()) / float64(lpgen.NewRound("x", load.Mix, 0).Samples)
	fmt.Fprintf(stdout, "| server | samples/s (median of %d) | lines/s | p50 write | p99 write | server CPU s / M samples | server peak RSS | warm-up (series creation) | failed requests |\n|---|---|---|---|---|---|---|---|---|\n", runs)
	var base float64
	for _, name := range names {
		m := median(results[name])
		if name == "pantau" {
			base = m.SamplesPerSec
		}
		fmt.Fprintf(stdout, "| %s | %.0f | %.0f | %s | %s | %.2f | %d MiB | %s | %d |\n", name, m.SamplesPerSec, m.SamplesPerSec*linesPerSample, m.P50.Round(time.Millisecond), m.P99.Round(time.Millisecond), m.CPUPerMSamples, m.MaxRSSBytes>>20, m.Warmup.Round(100*time.Millisecond), m.Failed)
	}
	for _, name := range names[1:] {
		m := median(results[name])
		if m.SamplesPerSec > 0 {
			fmt.Fprintf(stdout, "\npantau / %s throughput ratio: %.2f", name, base/m.SamplesPerSec)
		}
	}
	fmt.Fprintln(stdout)
	if base == 0 {
		return errors.New("pantau stored nothing")
	}
	return nil
}

// median picks, field by field, the median of the runs.
func median(rs []Result) Result {
	if len(rs) == 0 {
		return Result{}
	}
	pick := func(f func(Result) float64) float64 {
		v := make([]float64, len(rs))
		for i, r := range rs {
			v[i] = f(r)
		}
		slices.Sort(v)
		return v[len(v)/2]
	}
	return Result{
		Target:         rs[0].Target,
		SamplesPerSec:  pick(func(r Result) float64 { return r.SamplesPerSec }),
		P50:            time.Duration(pick(func(r Result) float64 { return float64(r.P50) })),
		P99:            time.Duration(pick(func(r Result) float64 { return float64(r.P99) })),
		CPUPerMSamples: pick(func(r Result) float64 { return r.CPUPerMSamples }),
		MaxRSSBytes:    int64(pick(func(r Result) float64 { return float64(r.MaxRSSBytes) })),
		Warmup:         time.Duration(pick(func(r Result) float64 { return float64(r.Warmup) })),
		Failed:         int(pick(func(r Result) float64 { return float64(r.Failed) })),
	}
}
