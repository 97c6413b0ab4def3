// Package agent is the pantau-agent process: it probes targets on their
// schedules, stamps and encodes every measurement, appends it to the
// durable on-disk queue, and drains the queue to one or more collectors.
// Probing never waits for the network.
package agent

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/pantau-noc/pantau/agent/internal/config"
	"github.com/pantau-noc/pantau/agent/internal/fleet"
	"github.com/pantau-noc/pantau/agent/internal/icmp"
	"github.com/pantau-noc/pantau/agent/internal/plughost"
	"github.com/pantau-noc/pantau/agent/internal/point"
	"github.com/pantau-noc/pantau/agent/internal/scheduler"
	"github.com/pantau-noc/pantau/internal/buildinfo"
	"github.com/pantau-noc/pantau/internal/spool"
)

// Options configure Run.
type Options struct {
	Config *config.Config
	Logger *slog.Logger
	// Reload delivers new configs (SIGHUP); the queue stays open across
	// reloads, so nothing queued is lost.
	Reload <-chan *config.Config
	// Listening is told the self-metrics address once it listens.
	Listening func(net.Addr)
	// QueueOpened is told how to read the queue's statistics once the
	// queue is open (fleet status reports).
	QueueOpened func(stats func() spool.Stats)
	// Pprof serves Go's profiler under /debug/pprof/ on the self-metrics
	// listener (for benchmarks and field debugging; off by default).
	Pprof bool
}

// Run runs the agent until ctx ends, then shuts down gracefully: rounds in
// progress finish, the pending batch is queued and fsynced.
func Run(ctx context.Context, o Options) error {
	if o.Logger == nil || o.Config == nil {
		return errors.New("agent: Config and Logger are required")
	}
	cfg, log := o.Config, o.Logger
	start := time.Now()
	warnConfig(log, cfg)
	sp, err := spool.Open(spool.Options{Dir: filepath.Join(cfg.Agent.StateDir, "queue"), MaxBytes: cfg.Queue.MaxBytes,
		MaxAge: cfg.Queue.MaxAge.Std(), SyncInterval: cfg.Queue.SyncInterval.Std(), Logger: log})
	if err != nil {
		return fmt.Errorf("open the queue in %s: %w", cfg.Agent.StateDir, err)
	}
	defer sp.Close()
	if o.QueueOpened != nil {
		o.QueueOpened(sp.Stats)
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	sm := scheduler.NewMetrics(reg)
	pm := plughost.NewMetrics(reg)
	snd := newSendMetrics(reg)
	qm := newQueueMetrics(reg, sp)
	dlm := newDeadLetterMetrics(reg)
	// Runs of lost writes are logged when they start and end, across
	// reloads.
	queueLoss, deadLetterLoss := &lossLog{}, &lossLog{}
	var srv *http.Server
	if cfg.Agent.ListenAddress != "" {
		ln, err := net.Listen("tcp", cfg.Agent.ListenAddress)
		if err != nil {
			return fmt.Errorf("listen on %s (agent.listen_address): %w", cfg.Agent.ListenAddress, err)
		}
		mux := http.NewServeMux()
		mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
		if o.Pprof {
			mux.HandleFunc("/debug/pprof/", pprof.Index)
			mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
			mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		}
		mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
		srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		go srv.Serve(ln)
		if o.Listening != nil {
			o.Listening(ln.Addr())
		}
		log.Info("self-metrics listening", "address", ln.Addr().String())
	}
	defer func() {
		if srv != nil {
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			srv.Shutdown(sctx)
		}
	}()

	for {
		b := newBatcher(sp, cfg.Queue.BatchPoints, cfg.Queue.BatchLinger.Std(), qm, queueLoss, cfg.Agent.StateDir, log)
		dl := newDeadLetters(filepath.Join(cfg.Agent.StateDir, "dead-letter.jsonl"), cfg.Queue.DeadLetterMaxBytes, dlm, sp, deadLetterLoss, log)
		gen, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- runGeneration(gen, cfg, log, sp, b, dl, sm, pm, snd, start) }()
		var next *config.Config
		select {
		case <-ctx.Done():
		case next = <-o.Reload:
		}
		cancel()
		err := <-done
		b.Close()
		if next == nil {
			if err != nil && ctx.Err() == nil {
				return err
			}
			log.Info("agent stopped; queue flushed")
			return nil
		}
		if next.Agent.StateDir != cfg.Agent.StateDir || next.Agent.ListenAddress != cfg.Agent.ListenAddress {
			log.Warn("config reloaded, but agent.state_dir and agent.listen_address take effect only at restart")
			next.Agent.StateDir, next.Agent.ListenAddress = cfg.Agent.StateDir, cfg.Agent.ListenAddress
		}
		cfg = next
		log.Info("config reloaded", "targets", cfg.Targets(), "collectors", len(cfg.Collectors))
		warnConfig(log, cfg)
	}
}

// runGeneration runs probes and senders for one config until ctx ends.
func runGeneration(ctx context.Context, cfg *config.Config, log *slog.Logger, sp *spool.Spool, b *batcher, dl *deadLetters,
	sm *scheduler.Metrics, pm *plughost.Metrics, snd *sendMetrics, start time.Time) error {
	names := make([]string, 0, len(cfg.Collectors))
	var wg sync.WaitGroup
	for _, col := range cfg.Collectors {
		names = append(names, col.Name)
		client, err := httpClient(col)
		if err != nil {
			return err
		}
		cur, err := sp.Cursor(col.Name)
		if err != nil {
			return err
		}
		s := &sender{col: col, agentID: cfg.Agent.ID, client: client, cur: cur, log: log, m: snd,
			deadLetter: dl, minBackoff: time.Second, maxBackoff: time.Minute, maxRequestBytes: cfg.Queue.MaxRequestBytes}
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.run(ctx)
		}()
	}
	if err := sp.RemoveCursorsExcept(names); err != nil {
		return err
	}
	jobs, closeProbes, err := buildJobs(cfg, log, pm)
	if err != nil {
		return err
	}
	defer closeProbes()
	jobs = append(jobs, heartbeatJob(cfg, sp, start))
	log.Info("probing", "icmp_targets", len(cfg.ICMP), "snmp_targets", len(cfg.SNMP), "plugin_targets", cfg.Targets()-len(cfg.ICMP)-len(cfg.SNMP), "collectors", len(cfg.Collectors))
	scheduler.Run(ctx, jobs, b.Add, sm, log)
	wg.Wait()
	return nil
}

// buildJobs makes a scheduler job per target.
func buildJobs(cfg *config.Config, log *slog.Logger, pm *plughost.Metrics) ([]scheduler.Job, func(), error) {
	var jobs []scheduler.Job
	closers := []func() error{}
	closeAll := func() {
		for _, c := range closers {
			c()
		}
	}
	if len(cfg.ICMP) > 0 {
		var p icmp.Pinger
		var err error
		if cfg.Agent.ICMPEngine == "pinger" {
			p, err = icmp.NewPingers(cfg.Agent.ICMPMode)
		} else {
			p, err = icmp.NewEngine(cfg.Agent.ICMPMode, log)
		}
		if err != nil {
			return nil, nil, err
		}
		log.Info("ICMP engine ready", "engine", cfg.Agent.ICMPEngine, "mode", p.Mode())
		closers = append(closers, p.Close)
		jobs = append(jobs, icmpJobs(p, cfg.ICMP, net.DefaultResolver)...)
	}
	snmpJobs, snmpClose, err := snmpJobs(cfg, log)
	if err != nil {
		closeAll()
		return nil, nil, err
	}
	closers = append(closers, snmpClose)
	jobs = append(jobs, snmpJobs...)
	plJobs, plClose, err := pluginJobs(cfg, log, pm)
	if err != nil {
		closeAll()
		return nil, nil, err
	}
	closers = append(closers, plClose)
	return append(jobs, plJobs...), closeAll, nil
}

// heartbeatJob emits the agent measurement every defaults.interval. Its
// queue fields are named as /metrics names them: field f of measurement
// agent is the collector's series pantau_agent_f, and queue_points,
// queue_bytes, queue_oldest_age_seconds and queue_dropped_points_total (the
// sum over reason) are the agent's pantau_agent_queue_* metrics.
func heartbeatJob(cfg *config.Config, sp *spool.Spool, start time.Time) scheduler.Job {
	return scheduler.Job{Kind: "agent", Name: "heartbeat", Interval: cfg.Defaults.Interval.Std(), Timeout: time.Second,
		Run: func(context.Context) ([]*point.Point, error) {
			now := time.Now()
			st := sp.Stats()
			oldest := 0.0
			if st.Records > 0 {
				oldest = now.Sub(st.Oldest).Seconds()
			}
			p := point.New("agent", now).Tag("site", cfg.Agent.Site).Tag("version", buildinfo.Version).
				Float("uptime_seconds", now.Sub(start).Seconds()).Float("queue_points", float64(st.Points)).
				Float("queue_bytes", float64(st.Bytes)).Float("queue_oldest_age_seconds", oldest).
				Uint("queue_dropped_points_total", droppedTotal(st)).Int("targets", int64(cfg.Targets()))
			return []*point.Point{p}, nil
		}}
}

// droppedTotal is every point the agent measured and lost: dropped by the
// queue's bounds, or never queued or dead-lettered because a write failed.
func droppedTotal(st spool.Stats) uint64 {
	n := st.DroppedPoints
	for _, v := range st.Lost {
		n += v
	}
	return n
}

// warnConfig logs what check-config warns about.
func warnConfig(log *slog.Logger, cfg *config.Config) {
	for _, w := range cfg.Warnings() {
		log.Warn(w.Msg, "key", w.Path)
	}
}

func httpClient(col config.CollectorConfig) (*http.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 4
	tc := &tls.Config{ServerName: col.TLS.ServerName, InsecureSkipVerify: col.TLS.InsecureSkipVerify, MinVersion: tls.VersionTLS12}
	if col.TLS.Pinned {
		var err error
		if tc, err = fleet.TrustTLS(col.TLS.CAFile, fleet.URLHost(col.URL)); err != nil {
			return nil, fmt.Errorf("collector %s: %w", col.Name, err)
		}
	} else if col.TLS.CAFile != "" {
		pem, err := os.ReadFile(col.TLS.CAFile)
		if err != nil {
			return nil, fmt.Errorf("collector %s: read tls.ca_file: %w", col.Name, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("collector %s: tls.ca_file %s holds no PEM certificate", col.Name, col.TLS.CAFile)
		}
		tc.RootCAs = pool
	}
	if col.TLS.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(col.TLS.CertFile, col.TLS.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("collector %s: client certificate: %w", col.Name, err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	tr.TLSClientConfig = tc
	return &http.Client{Transport: tr, Timeout: col.Timeout.Std()}, nil
}

func gunzip(b []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(zr)
}
