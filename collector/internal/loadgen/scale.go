package loadgen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// ScaleOptions describe a scale run: a simulated province of Agents ×
// LinksPerAgent links whose agents write live, as real agents do, to a
// collector started for the run.
type ScaleOptions struct {
	Collector     string // pantau-collector binary (Scale only)
	Agents        int
	LinksPerAgent int
	// Duration is the measured window, after the warm-up.
	Duration time.Duration
	// Warmup precedes the window: every target's first point (series
	// creation) and the batches around it. 0 means the longest interval
	// plus the ICMP round length plus two flush intervals (the agents'
	// start spread and the last batch's linger).
	Warmup time.Duration
	// MaxRequests bounds the whole run's requests (warm-up and the final
	// drain included); 0 means twice one request per agent per flush
	// interval.
	MaxRequests  int
	ICMPInterval time.Duration // ICMP rounds and heartbeats; 0 = AgentInterval
	SNMPInterval time.Duration // SNMP polls; 0 = 60 s
	// FlushInterval is the agents' queue.batch_linger; 0 = AgentBatchLinger.
	FlushInterval time.Duration
	BatchPoints   int           // the agents' queue.batch_points; 0 = AgentBatchPoints
	Progress      time.Duration // progress log period; 0 = 30 s, negative = none
	// RemoteWrite, if set, becomes the collector's storage.remote_write
	// engine (Scale only). It must be a loopback URL.
	RemoteWrite string
	// StartVictoriaMetrics starts Debian's victoria-metrics and makes its
	// /api/v1/write the remote-write URL (Scale only).
	StartVictoriaMetrics bool
	// RemoteOnly (with StartVictoriaMetrics) turns the collector's
	// embedded TSDB off: storage.local false, reading back from
	// victoria-metrics.
	RemoteOnly bool
	Logger     *slog.Logger
}

func (o *ScaleOptions) fill() error {
	if o.Agents <= 0 || o.LinksPerAgent <= 0 {
		return errors.New("scale: --agents and --links-per-agent must be positive")
	}
	if o.Agents > 10000 || o.LinksPerAgent > 10000 {
		return errors.New("scale: at most 10,000 agents and 10,000 links per agent")
	}
	if o.Duration <= 0 {
		return errors.New("scale: --duration must be positive")
	}
	if o.ICMPInterval == 0 {
		o.ICMPInterval = AgentInterval
	}
	if o.SNMPInterval == 0 {
		o.SNMPInterval = 60 * time.Second
	}
	if o.FlushInterval == 0 {
		o.FlushInterval = AgentBatchLinger
	}
	if o.BatchPoints == 0 {
		o.BatchPoints = AgentBatchPoints
	}
	if o.ICMPInterval <= icmpRoundLength || o.SNMPInterval <= 0 || o.FlushInterval <= 0 || o.BatchPoints < 1 {
		return fmt.Errorf("scale: intervals must be positive (the ICMP interval above %s) and batches hold at least one point", icmpRoundLength)
	}
	if o.Warmup == 0 {
		o.Warmup = max(o.ICMPInterval, o.SNMPInterval) + icmpRoundLength + 2*o.FlushInterval
	}
	if o.Warmup < 0 {
		return errors.New("scale: --warmup must not be negative")
	}
	if o.MaxRequests == 0 {
		o.MaxRequests = 2 * o.Agents * int((o.Warmup+o.Duration)/o.FlushInterval+1)
	}
	if o.MaxRequests < 1 {
		return errors.New("scale: --max-requests must be positive")
	}
	if o.Progress == 0 {
		o.Progress = 30 * time.Second
	}
	if o.RemoteWrite != "" {
		if err := checkLoopback(o.RemoteWrite); err != nil {
			return fmt.Errorf("scale: --remote-write: %w", err)
		}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

// Offered is the points per second each measurement is scheduled at.
func (o *ScaleOptions) Offered(p *Province) [numMeasurements]float64 {
	var ifs int
	for _, a := range p.Agents {
		for _, d := range a.Devices {
			ifs += len(d.Interfaces)
		}
	}
	return [numMeasurements]float64{
		ICMP:           float64(p.Links()) / o.ICMPInterval.Seconds(),
		SNMPIf:         float64(ifs) / o.SNMPInterval.Seconds(),
		SNMPDevice:     float64(p.Devices()) / o.SNMPInterval.Seconds(),
		AgentHeartbeat: float64(len(p.Agents)) / o.ICMPInterval.Seconds(),
	}
}

// ScaleResult is what a scale run measured. The window figures count
// requests that started inside the measured window; Total counts the
// whole run.
type ScaleResult struct {
	Agents, Links, Devices int
	Options                ScaleOptions
	Offered                [numMeasurements]float64 // points/s per measurement, as scheduled
	Warmup, Window         time.Duration
	Capped                 bool // the request cap ended the window early

	Requests, Failed                            int
	Counts                                      Counts // acknowledged
	PointsPerSec, SamplesPerSec, RequestsPerSec float64
	P50, P99, Max                               time.Duration
	MaxQueueWait                                time.Duration // longest a batch waited for its agent's sender

	CollectorCPUPercent float64 // of one core, over the window
	CollectorPeakRSS    int64   // VmHWM, bytes
	// CollectorRSS is VmRSS at the window's start and end, bytes.
	CollectorRSS [2]int64
	// HeadSeries and HeapInuse are the collector's
	// pantau_collector_storage_head_series and go_memstats_heap_inuse_bytes
	// at the window's end.
	HeadSeries, HeapInuse float64
	// Fsyncs is the collector's group commits in the window, FsyncSeconds
	// the time they spent in fsync (pantau_collector_storage_sync_*).
	Fsyncs, FsyncSeconds float64
	Engine               string // the remote-write engine measured, if any
	EngineCPUPercent     float64
	EnginePeakRSS        int64
	LoadgenCPUPercent    float64
	// Machine is what else the machine did during the window: the share
	// of time some task waited for a CPU and for I/O (Linux PSI, "some"),
	// and the 1-minute load average at the window's end.
	Machine struct{ CPUPressure, IOPressure, Load1 float64 }

	Total struct {
		Requests, Failed int
		Generated        Counts // every point the agents produced
		Acked            Counts // acknowledged with 2xx
		Unsent           Counts // not sent: request cap, or the drain's time ran out
	}
	FirstError string
}

// recorder collects the outcome of every request.
type recorder struct {
	maxReq       int64
	reqs         atomic.Int64
	capped       chan struct{}
	capOnce      sync.Once
	measureStart time.Time
	log          *slog.Logger

	mu        sync.Mutex
	windowEnd time.Time // zero while open
	warmLats  []time.Duration
	lats      []time.Duration
	win       Counts
	winReq    int
	winFailed int
	maxWait   time.Duration
	totReq    int
	totFailed int
	acked     Counts
	unsent    Counts
	firstErr  string
}

// reserve takes one request from the cap; false once it is used up.
func (r *recorder) reserve() bool {
	if r.reqs.Add(1) <= r.maxReq {
		return true
	}
	r.capOnce.Do(func() { close(r.capped) })
	return false
}

func (r *recorder) done(t0 time.Time, lat time.Duration, b *batch, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.totReq++
	inWindow := !t0.Before(r.measureStart) && (r.windowEnd.IsZero() || t0.Before(r.windowEnd))
	if err != nil {
		r.totFailed++
		if r.firstErr == "" {
			r.firstErr = err.Error()
			r.log.Error("request failed", "agent_batch", b.seq, "err", err)
		}
	} else {
		r.acked.add(&b.counts)
	}
	switch {
	case t0.Before(r.measureStart):
		r.warmLats = append(r.warmLats, lat)
	case inWindow:
		r.lats = append(r.lats, lat)
		r.winReq++
		r.maxWait = max(r.maxWait, t0.Sub(b.created))
		if err != nil {
			r.winFailed++
		} else {
			r.win.add(&b.counts)
		}
	}
}

func (r *recorder) skip(b *batch) {
	r.mu.Lock()
	r.unsent.add(&b.counts)
	r.mu.Unlock()
}

// percentiles returns p50, p99 and max of lats (sorted in place).
func percentiles(lats []time.Duration) (p50, p99, mx time.Duration) {
	if len(lats) == 0 {
		return 0, 0, 0
	}
	slices.Sort(lats)
	return lats[len(lats)/2], lats[min(len(lats)-1, len(lats)*99/100)], lats[len(lats)-1]
}

// procSample is a process's CPU time at an instant.
type procSample struct {
	at  time.Time
	cpu float64
	ok  bool
}

func sampleProc(pid int) procSample {
	c, err := cpuSeconds(pid)
	return procSample{at: time.Now(), cpu: c, ok: err == nil}
}

// percentOfCore is the CPU used between a and b, in percent of one core.
func percentOfCore(a, b procSample) float64 {
	if !a.ok || !b.ok || !b.at.After(a.at) {
		return 0
	}
	return 100 * (b.cpu - a.cpu) / b.at.Sub(a.at).Seconds()
}

// Scale runs a whole scale test: it generates the province, starts
// victoria-metrics if asked, starts the collector with the province's
// inventory and a token per agent, runs RunScale and stops what it
// started.
func Scale(ctx context.Context, o ScaleOptions) (ScaleResult, error) {
	if o.RemoteWrite != "" && o.StartVictoriaMetrics {
		return ScaleResult{}, errors.New("scale: give --remote-write or --start-victoria-metrics, not both")
	}
	if o.RemoteOnly && !o.StartVictoriaMetrics {
		return ScaleResult{}, errors.New("scale: --remote-only needs --start-victoria-metrics (the collector reads back from it)")
	}
	if err := o.fill(); err != nil {
		return ScaleResult{}, err
	}
	if _, err := os.Stat(o.Collector); err != nil {
		return ScaleResult{}, fmt.Errorf("collector binary: %w (run `make build`)", err)
	}
	log := o.Logger
	work, err := os.MkdirTemp("", "pantau-loadgen-scale-")
	if err != nil {
		return ScaleResult{}, err
	}
	defer os.RemoveAll(work)
	p := NewProvince(o.Agents, o.LinksPerAgent)
	inv, err := p.InventoryYAML()
	if err != nil {
		return ScaleResult{}, err
	}
	var engine Target
	remoteQuery := ""
	if o.StartVictoriaMetrics {
		vm, err := StartVictoriaMetrics(ctx, work)
		if vm != nil {
			defer vm.Stop()
		}
		if err != nil {
			return ScaleResult{}, err
		}
		o.RemoteWrite = vm.BaseURL + "/api/v1/write"
		if o.RemoteOnly {
			remoteQuery = vm.BaseURL
		}
		engine = vm.Target
		log.Info("victoria-metrics started", "remote_write_url", o.RemoteWrite, "pid", engine.PID)
	}
	log.Info("starting collector", "agents", len(p.Agents), "links", p.Links(), "devices", p.Devices(), "remote_write_url", o.RemoteWrite)
	agents := make([]AgentToken, len(p.Agents))
	for i, a := range p.Agents {
		agents[i] = AgentToken{ID: a.ID, Sites: a.Sites}
	}
	col, err := StartCollector(ctx, CollectorOptions{Bin: o.Collector, WorkDir: work, Agents: agents, Inventory: inv, RemoteWrite: o.RemoteWrite, RemoteQuery: remoteQuery})
	if col != nil {
		defer col.Stop()
	}
	if err != nil {
		return ScaleResult{}, err
	}
	log.Info("collector started", "url", col.BaseURL, "pid", col.Target.PID)
	res, err := RunScale(ctx, p, col.Target, engine, o)
	if col.Exited() {
		return res, errors.Join(err, fmt.Errorf("the collector exited during the run: %s", col.LogTail()))
	}
	return res, err
}

// RunScale simulates p's agents against the collector t (t.Tokens in the
// order of p.Agents) until the warm-up and the measured window have
// passed or the request cap is reached, then lets every agent send what
// it still holds. engine, if it has a PID, is measured as well.
func RunScale(ctx context.Context, p *Province, t Target, engine Target, o ScaleOptions) (ScaleResult, error) {
	if err := o.fill(); err != nil {
		return ScaleResult{}, err
	}
	if err := checkLoopback(t.URL); err != nil {
		return ScaleResult{}, err
	}
	if len(t.Tokens) != len(p.Agents) {
		return ScaleResult{}, fmt.Errorf("scale: %d tokens for %d agents", len(t.Tokens), len(p.Agents))
	}
	log := o.Logger
	res := ScaleResult{Agents: len(p.Agents), Links: p.Links(), Devices: p.Devices(), Options: o, Offered: o.Offered(p), Engine: engine.Name}
	start := time.Now()
	rec := &recorder{maxReq: int64(o.MaxRequests), capped: make(chan struct{}), measureStart: start.Add(o.Warmup), log: log}
	stopAt := rec.measureStart.Add(o.Duration)
	log.Info("scale run", "agents", res.Agents, "links", res.Links, "devices", res.Devices,
		"icmp_interval_seconds", o.ICMPInterval.Seconds(), "snmp_interval_seconds", o.SNMPInterval.Seconds(),
		"flush_interval_seconds", o.FlushInterval.Seconds(), "warmup_seconds", o.Warmup.Seconds(),
		"window_seconds", o.Duration.Seconds(), "max_requests", o.MaxRequests)

	genCtx, stopGen := context.WithCancel(ctx)
	defer stopGen()
	// Senders get a minute after generation ends to deliver what is queued.
	sendCtx, stopSend := context.WithCancel(ctx)
	defer stopSend()

	sims := make([]*simAgent, len(p.Agents))
	var genWG, sendWG sync.WaitGroup
	genErr := make(chan error, len(p.Agents))
	for i := range p.Agents {
		// Agents start spread uniformly over one flush interval.
		epoch := start.Add(time.Duration(i) * o.FlushInterval / time.Duration(len(p.Agents)))
		sim := newSimAgent(&p.Agents[i], i, epoch, &o)
		sims[i] = sim
		queue := make(chan *batch, 1<<14)
		genWG.Add(1)
		go func() {
			defer genWG.Done()
			if err := sim.run(genCtx, stopAt, queue); err != nil {
				genErr <- err
				stopGen()
			}
		}()
		sendWG.Add(1)
		go func() {
			defer sendWG.Done()
			tr := http.DefaultTransport.(*http.Transport).Clone()
			tr.MaxIdleConnsPerHost = 4
			client := &http.Client{Timeout: 30 * time.Second, Transport: tr}
			defer tr.CloseIdleConnections()
			tok := t.Tokens[i]
			for b := range queue {
				if sendCtx.Err() != nil || !rec.reserve() {
					rec.skip(b)
					continue
				}
				t0 := time.Now()
				err := post(sendCtx, client, t, tok, fmt.Sprintf("%s/%d", sim.a.ID, b.seq), b.body)
				rec.done(t0, time.Since(t0), b, err)
			}
		}()
	}

	// The window's CPU samples, and its end (time, or the request cap).
	var (
		col0, col1, eng0, eng1, self0, self1 procSample
		psi0, psi1                           psiSample
		windowMu                             sync.Mutex
	)
	self := os.Getpid()
	windowDone := make(chan struct{})
	go func() {
		defer close(windowDone)
		if !sleepUntil(genCtx, rec.measureStart, rec.capped) {
			return
		}
		windowMu.Lock()
		col0, eng0, self0 = sampleProc(t.PID), sampleProc(engine.PID), sampleProc(self)
		psi0 = samplePSI()
		windowMu.Unlock()
		res.CollectorRSS[0], _ = procStatus(t.PID, "VmRSS:")
		sync0 := scrapeMetrics(ctx, t.URL, t.ReadToken, syncCount, syncSum)
		sleepUntil(genCtx, stopAt, rec.capped)
		rec.mu.Lock()
		rec.windowEnd = time.Now()
		rec.mu.Unlock()
		windowMu.Lock()
		col1, eng1, self1 = sampleProc(t.PID), sampleProc(engine.PID), sampleProc(self)
		psi1 = samplePSI()
		windowMu.Unlock()
		res.CollectorRSS[1], _ = procStatus(t.PID, "VmRSS:")
		m := scrapeMetrics(ctx, t.URL, t.ReadToken, "pantau_collector_storage_head_series", "go_memstats_heap_inuse_bytes", syncCount, syncSum)
		res.HeadSeries, res.HeapInuse = m["pantau_collector_storage_head_series"], m["go_memstats_heap_inuse_bytes"]
		res.Fsyncs, res.FsyncSeconds = m[syncCount]-sync0[syncCount], m[syncSum]-sync0[syncSum]
	}()
	go func() {
		select {
		case <-rec.capped:
			log.Warn("request cap reached; stopping the agents", "max_requests", o.MaxRequests)
			stopGen()
		case <-genCtx.Done():
		}
	}()

	progressDone := make(chan struct{})
	var progressWG sync.WaitGroup
	if o.Progress > 0 {
		progressWG.Add(1)
		go func() {
			defer progressWG.Done()
			tick := time.NewTicker(o.Progress)
			defer tick.Stop()
			run0 := sampleProc(t.PID)
			for {
				select {
				case <-progressDone:
					return
				case <-tick.C:
				}
				windowMu.Lock()
				c0 := col0
				windowMu.Unlock()
				progress(log, rec, res.Links, start, run0, c0, t.PID)
			}
		}()
	}

	genWG.Wait()
	<-windowDone
	timer := time.AfterFunc(time.Minute, stopSend)
	sendWG.Wait()
	timer.Stop()
	close(progressDone)
	progressWG.Wait()

	rec.mu.Lock()
	defer rec.mu.Unlock()
	if rec.windowEnd.IsZero() {
		rec.windowEnd = time.Now()
	}
	for _, s := range sims {
		res.Total.Generated.add(&s.generated)
		res.Total.Unsent.add(&s.lost)
	}
	res.Warmup = o.Warmup
	res.Window = rec.windowEnd.Sub(rec.measureStart)
	select {
	case <-rec.capped:
		res.Capped = true
	default:
	}
	res.Requests, res.Failed, res.Counts = rec.winReq, rec.winFailed, rec.win
	if res.Window > 0 {
		res.PointsPerSec = float64(res.Counts.TotalPoints()) / res.Window.Seconds()
		res.SamplesPerSec = float64(res.Counts.TotalSamples()) / res.Window.Seconds()
		res.RequestsPerSec = float64(res.Requests) / res.Window.Seconds()
	}
	res.P50, res.P99, res.Max = percentiles(rec.lats)
	res.MaxQueueWait = rec.maxWait
	res.CollectorCPUPercent = percentOfCore(col0, col1)
	res.CollectorPeakRSS, _ = maxRSS(t.PID)
	if engine.PID > 0 {
		res.EngineCPUPercent = percentOfCore(eng0, eng1)
		res.EnginePeakRSS, _ = maxRSS(engine.PID)
	}
	res.LoadgenCPUPercent = percentOfCore(self0, self1)
	res.Machine.CPUPressure, res.Machine.IOPressure = psi0.percent(psi1)
	res.Machine.Load1 = load1()
	res.Total.Requests, res.Total.Failed = rec.totReq, rec.totFailed
	res.Total.Acked = rec.acked
	res.Total.Unsent.add(&rec.unsent)
	res.FirstError = rec.firstErr

	select {
	case err := <-genErr:
		return res, err
	default:
	}
	if err := ctx.Err(); err != nil {
		return res, fmt.Errorf("scale run interrupted: %w", context.Cause(ctx))
	}
	if res.Window <= 0 || res.Requests == 0 {
		return res, errors.New("scale: nothing was measured: the request cap was reached during the warm-up, or no request started in the window")
	}
	return res, nil
}

// The collector's group commit histogram.
const (
	syncCount = "pantau_collector_storage_sync_duration_seconds_count"
	syncSum   = "pantau_collector_storage_sync_duration_seconds_sum"
)

// sleepUntil waits until t; false if ctx ended or cap was closed first.
func sleepUntil(ctx context.Context, t time.Time, capped <-chan struct{}) bool {
	timer := time.NewTimer(time.Until(t))
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	case <-capped:
		return false
	}
}

// progress logs the run so far: during the warm-up over the whole run,
// then over the measured window.
func progress(log *slog.Logger, rec *recorder, links int, start time.Time, run0, win0 procSample, pid int) {
	now := time.Now()
	rec.mu.Lock()
	phase, from, c0 := "warmup", start, run0
	lats := rec.warmLats
	counts := rec.acked
	if !now.Before(rec.measureStart) {
		phase, from, c0 = "measured", rec.measureStart, win0
		lats, counts = rec.lats, rec.win
		if !rec.windowEnd.IsZero() {
			phase = "drain"
		}
	}
	lats = slices.Clone(lats)
	requests, failed := rec.totReq, rec.totFailed
	rec.mu.Unlock()
	el := now.Sub(from).Seconds()
	p50, p99, mx := percentiles(lats)
	rss, _ := procStatus(pid, "VmRSS:")
	peak, _ := maxRSS(pid)
	log.Info("progress", "phase", phase, "elapsed_seconds", int(now.Sub(start).Seconds()), "links", links,
		"points_per_second", round1(float64(counts.TotalPoints())/el), "samples_per_second", round1(float64(counts.TotalSamples())/el),
		"requests", requests, "failed", failed,
		"p50_seconds", p50.Seconds(), "p99_seconds", p99.Seconds(), "max_seconds", mx.Seconds(),
		"collector_cpu_percent", round1(percentOfCore(c0, sampleProc(pid))),
		"collector_rss_bytes", rss, "collector_peak_rss_bytes", peak, "load1", load1())
}

func round1(f float64) float64 { return float64(int64(f*10+0.5)) / 10 }

// Report writes the result as text with markdown tables.
func (r *ScaleResult) Report(w io.Writer) {
	o := r.Options
	fmt.Fprintf(w, "scale: %d agents × %d links = %d links, %d SNMP devices; ICMP every %s, SNMP every %s, heartbeat every %s; agent batches: %s linger, at most %d points\n",
		r.Agents, o.LinksPerAgent, r.Links, r.Devices, o.ICMPInterval, o.SNMPInterval, o.ICMPInterval, o.FlushInterval, o.BatchPoints)
	capped := ""
	if r.Capped {
		capped = " (ended early: request cap reached)"
	}
	fmt.Fprintf(w, "measured window: %s after a %s warm-up%s\n\n", r.Window.Round(time.Millisecond), r.Warmup, capped)
	if r.Window <= 0 {
		fmt.Fprintf(w, "nothing measured\n")
		return
	}
	fmt.Fprintf(w, "| measurement | scheduled points/s | points/s | samples/s |\n|---|---|---|---|\n")
	secs := r.Window.Seconds()
	var offered float64
	for m := range numMeasurements {
		offered += r.Offered[m]
		fmt.Fprintf(w, "| %s | %.1f | %.1f | %.1f |\n", m, r.Offered[m], float64(r.Counts.Points[m])/secs, float64(r.Counts.Samples[m])/secs)
	}
	fmt.Fprintf(w, "| total | %.1f | %.1f | %.1f |\n\n", offered, r.PointsPerSec, r.SamplesPerSec)
	fmt.Fprintf(w, "| links | points/s | samples/s | requests/s | p50 | p99 | max | failed requests | collector CPU (%% of one core) | collector peak RSS |\n|---|---|---|---|---|---|---|---|---|---|\n")
	fmt.Fprintf(w, "| %d | %.1f | %.1f | %.1f | %s | %s | %s | %d of %d | %.1f %% | %.1f MiB |\n",
		r.Links, r.PointsPerSec, r.SamplesPerSec, r.RequestsPerSec, fmtLatency(r.P50), fmtLatency(r.P99), fmtLatency(r.Max),
		r.Failed, r.Requests, r.CollectorCPUPercent, float64(r.CollectorPeakRSS)/(1<<20))
	fmt.Fprintf(w, "\ncollector memory: RSS %.1f MiB at the window's start, %.1f MiB at its end; at the end %.0f series in the TSDB head, Go heap in use %.1f MiB\n",
		float64(r.CollectorRSS[0])/(1<<20), float64(r.CollectorRSS[1])/(1<<20), r.HeadSeries, r.HeapInuse/(1<<20))
	if r.Fsyncs > 0 {
		fmt.Fprintf(w, "collector group commits: %.0f in the window (%.1f a second), %s in fsync on average, fsync busy %.0f %% of the window\n",
			r.Fsyncs, r.Fsyncs/secs, fmtLatency(time.Duration(r.FsyncSeconds/r.Fsyncs*float64(time.Second))), 100*r.FsyncSeconds/secs)
	}
	if r.Engine != "" {
		fmt.Fprintf(w, "\nremote-write engine %s: CPU %.1f %% of one core, peak RSS %.1f MiB\n", r.Engine, r.EngineCPUPercent, float64(r.EnginePeakRSS)/(1<<20))
	}
	fmt.Fprintf(w, "\nload generator CPU: %.1f %% of one core; longest wait of a batch for its sender: %s\n", r.LoadgenCPUPercent, fmtLatency(r.MaxQueueWait))
	fmt.Fprintf(w, "machine during the window: some task waited for a CPU %.0f %% and for I/O %.0f %% of the time (PSI); load average %.2f at its end\n",
		r.Machine.CPUPressure, r.Machine.IOPressure, r.Machine.Load1)
	t := &r.Total
	fmt.Fprintf(w, "whole run: %d requests, %d failed; points generated %d, acknowledged %d, not sent %d; samples generated %d, acknowledged %d\n",
		t.Requests, t.Failed, t.Generated.TotalPoints(), t.Acked.TotalPoints(), t.Unsent.TotalPoints(), t.Generated.TotalSamples(), t.Acked.TotalSamples())
	if r.FirstError != "" {
		fmt.Fprintf(w, "first error: %s\n", r.FirstError)
	}
}

func fmtLatency(d time.Duration) string {
	if d < 10*time.Millisecond {
		return d.Round(10 * time.Microsecond).String()
	}
	return d.Round(time.Millisecond).String()
}

// psiSample is the machine's stall time totals (/proc/pressure, "some"
// line), in microseconds.
type psiSample struct {
	at      time.Time
	cpu, io float64
	ok      bool
}

func samplePSI() psiSample {
	s := psiSample{at: time.Now(), ok: true}
	for _, r := range []struct {
		name string
		to   *float64
	}{{"cpu", &s.cpu}, {"io", &s.io}} {
		b, err := os.ReadFile("/proc/pressure/" + r.name)
		if err != nil {
			return psiSample{}
		}
		line, _, _ := strings.Cut(string(b), "\n")
		_, total, ok := strings.Cut(line, "total=")
		v, err := strconv.ParseFloat(strings.TrimSpace(total), 64)
		if !ok || err != nil {
			return psiSample{}
		}
		*r.to = v
	}
	return s
}

// percent is the share of time between s and e that some task stalled on
// a CPU and on I/O.
func (s psiSample) percent(e psiSample) (cpu, io float64) {
	if !s.ok || !e.ok || !e.at.After(s.at) {
		return 0, 0
	}
	us := float64(e.at.Sub(s.at).Microseconds())
	return 100 * (e.cpu - s.cpu) / us, 100 * (e.io - s.io) / us
}

// load1 is the 1-minute load average.
func load1() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f, _, _ := strings.Cut(string(b), " ")
	v, _ := strconv.ParseFloat(f, 64)
	return v
}

// scrapeMetrics reads the named unlabelled series from /metrics of the
// server whose write URL is writeURL; missing ones are left out.
func scrapeMetrics(ctx context.Context, writeURL, token string, names ...string) map[string]float64 {
	out := map[string]float64{}
	u, err := url.Parse(writeURL)
	if err != nil {
		return out
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.Scheme+"://"+u.Host+"/metrics", nil)
	if err != nil {
		return out
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return out
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, 16<<20))
	for _, line := range strings.Split(string(body), "\n") {
		name, val, ok := strings.Cut(line, " ")
		if ok && slices.Contains(names, name) {
			if v, err := strconv.ParseFloat(strings.TrimSpace(val), 64); err == nil {
				out[name] = v
			}
		}
	}
	return out
}

// procStatus reads a kB field of /proc/<pid>/status in bytes.
func procStatus(pid int, field string) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field); ok {
			var kb int64
			if _, err := fmt.Sscan(strings.TrimSuffix(strings.TrimSpace(v), "kB"), &kb); err != nil {
				return 0, fmt.Errorf("parse %s of %d: %w", field, pid, err)
			}
			return kb * 1024, nil
		}
	}
	return 0, fmt.Errorf("%s not in /proc/%d/status", field, pid)
}
