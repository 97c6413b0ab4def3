// Package collector is the pantau-collector process: it wires the state
// database, the embedded TSDB, the write API, the Prometheus query API and
// the collector's own metrics into one HTTP(S) listener, and shuts them
// down in order. The command line is internal/cli, to which main hands
// Run; tests run the whole collector in-process through Run.
package collector

import (
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
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/sync/errgroup"

	"github.com/pantau-noc/pantau/collector/internal/alert"
	"github.com/pantau-noc/pantau/collector/internal/auth"
	cmdline "github.com/pantau-noc/pantau/collector/internal/cli"
	"github.com/pantau-noc/pantau/collector/internal/config"
	"github.com/pantau-noc/pantau/collector/internal/daemon"
	"github.com/pantau-noc/pantau/collector/internal/fleet"
	"github.com/pantau-noc/pantau/collector/internal/httpapi"
	"github.com/pantau-noc/pantau/collector/internal/ingest"
	"github.com/pantau-noc/pantau/collector/internal/memlimit"
	"github.com/pantau-noc/pantau/collector/internal/outbox"
	"github.com/pantau-noc/pantau/collector/internal/promapi"
	"github.com/pantau-noc/pantau/collector/internal/remotequery"
	"github.com/pantau-noc/pantau/collector/internal/remotewrite"
	"github.com/pantau-noc/pantau/collector/internal/statedb"
	"github.com/pantau-noc/pantau/collector/internal/storage"
	"github.com/pantau-noc/pantau/collector/internal/tgconsole"
	"github.com/pantau-noc/pantau/collector/internal/webui"
	"github.com/pantau-noc/pantau/internal/buildinfo"
)

// Options configure Run (daemon.Options, so that the command line and the
// demo, which main hands Run, need not import this package).
type Options = daemon.Options

// Main is the pantau-collector command line (internal/cli) wired to this
// package's Run, as main wires it: for tests and programs outside
// collector/ that cannot import the internal packages.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return cmdline.Main(ctx, cmdline.Options{Run: Run}, args, stdout, stderr)
}

// Maintenance cadence: forget idle series and old batch ids.
const (
	maintenanceEvery = 5 * time.Minute
	seriesIdle       = 2 * time.Hour
)

// bodyTimeout bounds reading one request (ReadTimeout), the write API's
// bodies included.
const bodyTimeout = 10 * time.Minute

// Run starts the collector and blocks until ctx is cancelled and shutdown
// has finished, or a component fails: open opens the stores and builds the
// engines, routes puts their handlers on one mux, serve listens and runs
// them until shutdown. What open opened is closed when Run returns.
func Run(ctx context.Context, o Options) error {
	if o.Config == nil || o.Logger == nil {
		return errors.New("collector: Config and Logger are required")
	}
	if o.ShutdownTimeout == 0 {
		o.ShutdownTimeout = 30 * time.Second
	}
	defer memlimit.Set(o.Config.Limits.MemoryLimit, o.Logger)()
	p, err := open(ctx, o.Config, o.Logger)
	defer p.close()
	if err != nil {
		return err
	}
	p.reloader = newConfigReloader(p, o.LoadConfig)
	mux := p.routes(o.Pprof)
	if err := p.webUI(mux); err != nil {
		return err
	}
	return p.serve(ctx, o, mux)
}

// parts are the collector's opened stores and built engines, from open
// to the end of serve.
type parts struct {
	cfg    *config.Config
	log    *slog.Logger
	state  *statedb.DB
	auth   *statedb.Authenticator
	guard  *auth.Guard // failed authentications per source, for the gate and the write API
	dedup  *ingest.Dedup
	rw     *remotewrite.Queue // nil without storage.remote_write
	store  *storage.Store
	slarun *slaRuntime
	ing    *ingest.Handler
	api    *promapi.API
	reg    *prometheus.Registry
	// recs and admin are the records and admin APIs (their upload
	// limits reload).
	recs  *httpapi.Records
	admin *httpapi.Admin
	// bundles is the evidence bundle API (its size limits reload).
	bundles *bundleAPI
	// ob, alerts and console are nil without notifiers (console also
	// without a Telegram console).
	ob      *outbox.Outbox
	alerts  *alert.Engine
	console *tgconsole.Console
	// ha is nil unless alerting.ha_peer makes this collector a standby.
	ha *haPeer
	// notifiers are the outbox's notifiers, swapped by a config reload.
	notifiers *notifierSet
	// reloader applies SIGHUP's reloads (reload.go).
	reloader *configReloader
	// fleet is the OpAMP server of fleet management; nil when the state
	// database keeps no fleet state.
	fleet *fleet.Server
	// fleetUpdates is fleet.updates.enabled (a reload changes it).
	fleetUpdates atomic.Bool
	// ready is /readyz: set once serve listens, cleared on shutdown.
	ready atomic.Bool
	// closers are called in reverse order by close.
	closers []func() error
}

// close closes what open opened, the last opened first.
func (p *parts) close() {
	for i := len(p.closers) - 1; i >= 0; i-- {
		p.closers[i]()
	}
}

// trimBatches deletes the batch ids an agent has beyond
// limits.batch_dedup_bytes_per_agent.
func (p *parts) trimBatches(ctx context.Context) error {
	_, err := p.state.TrimBatches(ctx, p.cfg.Limits.BatchDedupBytesPerAgent, ingest.BatchIDCost(""))
	return err
}

// open opens the state database, the TSDB and the remote-write queue, and
// builds the engines on them (ingest, query API, SLA, outbox, alerts,
// console) and the registry of the collector's own metrics. What it
// opened is in p.closers, also when it fails.
func open(ctx context.Context, cfg *config.Config, log *slog.Logger) (*parts, error) {
	p := &parts{cfg: cfg, log: log}
	p.fleetUpdates.Store(cfg.Fleet.Updates.Enabled)
	state, err := statedb.Open(ctx, cfg.DataDir)
	if errors.Is(err, statedb.ErrCorrupt) {
		return p, err
	}
	if err != nil {
		return p, fmt.Errorf("%w (set data_dir in the config or --data-dir to a writable directory)", err)
	}
	p.state = state
	p.closers = append(p.closers, state.Close)
	if err := state.Check(ctx); err != nil {
		return p, err
	}
	authn, err := statedb.NewAuthenticator(ctx, state, log.With("component", "auth"))
	if err != nil {
		return p, err
	}
	authn.SetSessionPolicy(sessionPolicy(cfg))
	p.auth = authn
	dedup := ingest.NewDedup(cfg.Limits.BatchDedupBytesPerAgent)
	p.dedup = dedup
	window := cfg.Limits.BatchDedupWindow.Std()
	if err := p.trimBatches(ctx); err != nil {
		return p, err
	}
	if err := state.LoadBatches(ctx, time.Now().Add(-window), func(k statedb.BatchKey, t time.Time) { dedup.Add(k, t) }); err != nil {
		return p, err
	}

	rw, err := remotewrite.FromConfig(cfg, log)
	if err != nil {
		return p, err
	}
	rq, err := remotequery.FromConfig(cfg.Storage.RemoteQuery, log)
	if err != nil {
		return p, err
	}
	sopts := storage.Options{
		Dir:              filepath.Join(cfg.DataDir, "tsdb"),
		Retention:        cfg.Storage.Retention.Std(),
		OutOfOrderWindow: cfg.Storage.OutOfOrderWindow.Std(),
		Fsync:            cfg.Storage.Fsync == config.FsyncBatch,
		Logger:           log,
		NoLocal:          !cfg.Storage.Local,
		// Writes resume after a failure once these take a probe write.
		ProbeDirs: []string{cfg.DataDir},
	}
	if rw != nil {
		p.rw = rw
		p.closers = append(p.closers, rw.Close)
		sopts.Remote = rw
		sopts.ProbeDirs = append(sopts.ProbeDirs, filepath.Join(cfg.DataDir, "remote_write"))
	}
	if rq != nil {
		sopts.RemoteQueryable = rq
	}
	store, err := storage.Open(sopts)
	if err != nil {
		return p, err
	}
	p.store = store
	p.closers = append(p.closers, store.Close)
	if rw != nil {
		log.Info("remote write on", "engines", len(cfg.Storage.RemoteWrite), "local_tsdb", store.Local())
	}
	slarun, err := newSLARuntime(ctx, cfg, state, log.With("component", "sla"))
	if err != nil {
		return p, err
	}
	p.slarun = slarun
	// Minute marks and batch ids are as durable as the samples: if they
	// cannot be stored, the group's writes are not acknowledged (and are
	// sent again). Ids an agent had beyond
	// limits.batch_dedup_bytes_per_agent are deleted in the same go.
	store.OnSync = func(items []any) error {
		keys, err := slarun.onSync(context.WithoutCancel(ctx), items)
		if err != nil {
			return err
		}
		return state.UpdateBatches(context.WithoutCancel(ctx), keys, dedup.TakeEvicted(), time.Now())
	}

	p.guard = auth.NewGuard(cfg.Limits.AuthFailuresPerMinute, cfg.Limits.AuthFailureAddresses)
	iopts := ingest.Options{
		Auth:             authn,
		Guard:            p.guard,
		Store:            store,
		Batches:          dedup,
		OutOfOrderWindow: cfg.Storage.OutOfOrderWindow.Std(),
		SLA:              slarun.builder,
		Logger:           log.With("component", "ingest"),
		BodyTimeout:      bodyTimeout,
	}
	iopts.SetLimits(ingestLimits(cfg)) // SIGHUP changes them (reload.go)
	ing, err := ingest.New(iopts)
	if err != nil {
		return p, err
	}
	p.ing = ing
	// New series of a link carry its inventory labels; after a reload the
	// cached series are forgotten so that the next samples get the new ones.
	slarun.onReload = func() { ing.PruneSeries(-time.Minute) }
	md := &seriesMetadata{}
	api, err := promapi.New(promapi.Options{
		Queryable: store.Queryable(),
		Version:   buildinfo.SemVer(), // Grafana reads it as semver
		Revision:  buildinfo.Rev(),
		GoVersion: buildinfo.GoVersion(),
		BuildDate: buildinfo.BuildDate,
		Logger:    log.With("component", "query"),
		// The gate put the caller's principal in the context; a scoped
		// one reads only its OPDs' series.
		Scope: func(r *http.Request) ([]string, bool) {
			if pr := auth.FromContext(r.Context()); pr.Scoped() {
				return pr.OPDs, true
			}
			return nil, false
		},
		Metadata: md.lookup,
	})
	if err != nil {
		return p, err
	}
	api.SetLimits(apiLimits(cfg)) // SIGHUP changes them (reload.go)
	p.api = api

	reg := prometheus.NewRegistry()
	p.reg = reg
	md.reg = reg
	reg.MustRegister(api.Collectors()...)
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reg.MustRegister(ing.Collectors()...)
	reg.MustRegister(store.Collectors()...)
	if rw != nil {
		reg.MustRegister(rw.Collectors()...)
	}
	reg.MustRegister(buildInfoGauge())
	reg.MustRegister(slarun.builder)
	reg.MustRegister(slarun.pdf.Collectors()...)
	if err := p.newFleet(); err != nil {
		return p, err
	}
	var alertsReady atomic.Pointer[alert.Engine]
	p.notifiers = &notifierSet{}
	ob, err := newOutbox(cfg, p.notifiers, state, reg, log, func() notifierHealth {
		if a := alertsReady.Load(); a != nil {
			return a
		}
		return nil
	})
	if err != nil {
		return p, err
	}
	if ob != nil {
		p.ob = ob
		var names []string
		for _, n := range cfg.Notifiers {
			names = append(names, n.Name)
		}
		eval := alert.NewKindEval(store.Queryable(), slarun.builder, log)
		eval.SetFleet(state, buildinfo.SemVer()) // config_not_applied, agent_outdated, clock_skew
		enqueue := ob.Enqueue
		if cfg.Alerting.HAPeer != "" {
			p.ha = newHAPeer(cfg.Alerting.HAPeerReadyz(), cfg.Alerting.HACheckInterval.Std(), log.With("component", "ha"))
			reg.MustRegister(p.ha.collectors()...)
			enqueue = p.ha.gate(enqueue)
		}
		alerts, err := alert.New(ctx, alert.Options{
			Config: &cfg.Alerting, Eval: eval,
			Inventory: slarun.builder.Inventory, InMaintenance: slarun.builder.InMaintenance,
			DB: state, Enqueue: enqueue, Notifiers: names, Logger: log.With("component", "alert"), Registerer: reg,
			Explain: slarun.explainOutages, ExplainLink: slarun.explainLinkOutages, ExplainService: slarun.explainServiceOutages,
		})
		if err != nil {
			return p, err
		}
		p.alerts = alerts
		alertsReady.Store(alerts)
		slarun.onCommitted = alerts.Trigger // evaluation follows the rounds
		if p.console, err = newConsole(cfg, &consoleBackend{alerts: alerts, sla: slarun, eval: eval, db: state}, log); err != nil {
			return p, err
		}
	}
	return p, nil
}

// gate puts access control in front of mux (collector/internal/auth):
// every endpoint but /healthz and /readyz needs a credential.
func (p *parts) gate(mux http.Handler) http.Handler {
	refused := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "pantau_collector_http_requests_refused_total",
		Help: "API requests refused by access control, by HTTP status (401 no or wrong credential, 403 role or OPD scope, 429 too many failures from the source, 503 credential store unreadable).",
	}, []string{"code"})
	for _, c := range []string{"401", "403", "429", "503"} {
		refused.WithLabelValues(c)
	}
	p.reg.MustRegister(refused)
	if p.cfg.Auth.Anonymous != "" {
		p.log.Warn("requests without a credential are served with the "+p.cfg.Auth.Anonymous+" role (auth.anonymous): use on a trusted lab network only", "role", p.cfg.Auth.Anonymous)
	}
	return auth.NewGate(auth.GateOptions{
		Verifier:  p.auth,
		Anonymous: p.cfg.Auth.Anonymous,
		Guard:     p.guard,
		Logger:    p.log.With("component", "auth"),
		Refused:   func(code int) { refused.WithLabelValues(strconv.Itoa(code)).Inc() },
	}, mux)
}

// isLoopback reports whether a listener's address is a loopback one.
func isLoopback(a net.Addr) bool {
	ta, ok := a.(*net.TCPAddr)
	return ok && ta.IP.IsLoopback()
}

// routes puts the write API, the query API, the SLA and report API, the
// alerts, /metrics and the health and readiness answers on one mux (and
// Go's profiler with pprof).
func (p *parts) routes(pprofOn bool) *http.ServeMux {
	mux := http.NewServeMux()
	p.ing.Register(mux)
	p.api.Register(mux)
	p.slarun.register(mux, p.store.Queryable())
	p.adminAPI().Register(mux)
	p.notifiersAPI().Register(mux)
	p.overviewAPI().Register(mux)
	p.fleetAPI().Register(mux)
	p.records().Register(mux)
	p.evidenceBundles().Register(mux)
	if p.fleet != nil {
		p.fleet.Register(mux) // POST /v1/opamp, GET /api/v1/fleet/releases/{version}/{os}-{arch}
	}
	var src alertSource
	if p.alerts != nil {
		src = p.alerts
	}
	mux.HandleFunc("GET /api/v1/alerts", serveAlerts(src, p.slarun.builder.Inventory))
	mux.HandleFunc("GET /api/v1/rules", serveRules(src, p.slarun.builder.Inventory, p.cfg.File, p.cfg.Alerting.EvaluationInterval.Std()))
	for _, path := range []string{"/api/v1/alerts", "/api/v1/rules"} {
		// as Prometheus: GET only (else the query API's stub answered a POST)
		mux.HandleFunc("POST "+path, func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Allow", "GET")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusMethodNotAllowed)
			fmt.Fprintf(w, `{"status":"error","errorType":"bad_data","error":"method not allowed: %s takes GET"}`+"\n", path)
		})
	}
	mux.Handle("GET /metrics", promhttp.HandlerFor(p.reg, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(p.log.Handler(), slog.LevelError)}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		readyzHeaders(w.Header(), buildinfo.SemVer(), p.cfg.Alerting.HAPeer != "")
		if !p.ready.Load() {
			http.Error(w, "starting", http.StatusServiceUnavailable)
			return
		}
		if ok, reason, since := p.store.Writable(); !ok {
			http.Error(w, fmt.Sprintf("not writable since %s: %s (writes get 503 until it recovers)", since.UTC().Format(time.RFC3339), reason),
				http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	// InfluxDB clients and Telegraf probe these before writing.
	mux.HandleFunc("/ping", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("X-Influxdb-Version", "pantau-"+buildinfo.Version)
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"name":"pantau-collector","message":"ready for queries and writes","status":"pass","checks":[],"version":%q}`+"\n", buildinfo.Version)
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		if webui.Browser(r) {
			http.Redirect(w, r, "/ui/", http.StatusSeeOther)
			return
		}
		fmt.Fprintf(w, "pantau-collector %s\nwrite: POST /api/v2/write, /write\nquery: /api/v1/query (Prometheus API)\nself metrics: /metrics\n", buildinfo.Version)
	})

	if pprofOn {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	return mux
}

// serve listens (with TLS when configured) and runs the HTTP server, the
// store, the remote-write senders and the background loops until ctx is
// cancelled or one fails; then it drains HTTP and stops the store last.
func (p *parts) serve(ctx context.Context, o Options, mux *http.ServeMux) error {
	cfg, log, store, rw := p.cfg, p.log, p.store, p.rw
	tlsCfg, err := tlsConfig(cfg.TLS, log.With("component", "tls"))
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.ListenAddress)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (change listen_address or --listen-address)", cfg.ListenAddress, err)
	}
	if tlsCfg != nil {
		ln = tls.NewListener(ln, tlsCfg)
	} else if !isLoopback(ln.Addr()) {
		log.Warn("the HTTP API listens on a non-loopback address over plain HTTP: tokens, passwords and measurements travel in clear text; set tls.cert_file and tls.key_file (docs/install.md, \"Firewall and TLS\")",
			"address", ln.Addr().String())
	}
	srv := &http.Server{
		Handler:           recoverPanics(whileReopening(p.gate(mux), store), log.With("component", "http")),
		ReadHeaderTimeout: 10 * time.Second,
		// Bodies of tens of MiB over a slow VSAT link take minutes (the
		// write API also wants limits.min_body_rate_bytes_per_second).
		ReadTimeout:  bodyTimeout,
		WriteTimeout: 10 * time.Minute,
		IdleTimeout:  2 * time.Minute,
		ErrorLog:     slog.NewLogLogger(log.Handler(), slog.LevelDebug),
		BaseContext:  func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	if p.fleet != nil {
		srv.ConnContext = p.fleet.ConnContext // opamp-go finds a request's connection through it
	}

	// The store outlives the HTTP server: requests being drained still
	// wait for their group commit.
	storeCtx, stopStore := context.WithCancel(context.WithoutCancel(ctx))
	defer stopStore()
	storeDone := make(chan error, 1)
	go func() { storeDone <- store.Run(storeCtx) }()
	// The remote-write senders stop after the store: what the last group
	// commits queued waits on disk for the next start.
	rwDone := make(chan error, 1)
	if rw != nil {
		go func() { rwDone <- rw.Run(storeCtx) }()
	} else {
		rwDone <- nil
	}

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("serve on %s: %w", cfg.ListenAddress, err)
		}
		return nil
	})
	g.Go(func() error { return p.auth.Watch(gctx, time.Second) })
	if admin := storage.ListenAdmin(cfg.DataDir, log); admin != nil {
		g.Go(func() error { return storage.ServeBackups(gctx, admin, store, log.With("component", "admin")) })
	}
	g.Go(func() error { return p.slarun.run(gctx) })
	if o.Reload != nil && o.LoadConfig != nil {
		g.Go(func() error { return p.reloader.run(gctx, o.Reload) })
	}
	g.Go(func() error { return p.slarun.runRollups(gctx, store.Queryable(), cfg.Storage.Retention.Std()) })
	g.Go(func() error {
		every := o.SelfScrapeInterval
		if every <= 0 {
			every = selfScrapeEvery
		}
		instance := ""
		if rw != nil {
			if instance = cfg.Storage.Instance; instance == "" {
				host, _ := os.Hostname()
				_, port, _ := net.SplitHostPort(ln.Addr().String())
				instance = host + ":" + port
			}
		}
		return selfScrape(gctx, p.reg, store.Appender, every, instance, log.With("component", "self-scrape"))
	})
	if p.ob != nil {
		g.Go(func() error { return runOutbox(gctx, p.ob, p.state, log) })
		g.Go(func() error { return p.alerts.Run(gctx) })
		if p.ha != nil {
			g.Go(func() error { return p.ha.run(gctx) })
		}
		if p.console != nil {
			g.Go(func() error { return p.console.Run(gctx) })
		}
	}
	g.Go(func() error {
		t := time.NewTicker(maintenanceEvery)
		defer t.Stop()
		for {
			select {
			case <-gctx.Done():
				return nil
			case <-t.C:
			}
			if n := p.ing.PruneSeries(seriesIdle); n > 0 {
				log.Debug("forgot idle series", "series", n)
			}
			cutoff := time.Now().Add(-cfg.Limits.BatchDedupWindow.Std())
			p.dedup.Prune(cutoff)
			if err := p.trimBatches(gctx); err != nil && gctx.Err() == nil {
				log.Warn("trimming batch ids failed", "err", err)
			}
			if _, err := p.state.PruneBatches(gctx, cutoff); err != nil && gctx.Err() == nil {
				log.Warn("pruning batch ids failed", "err", err)
			}
		}
	})
	g.Go(func() error {
		<-gctx.Done()
		p.ready.Store(false)
		log.Info("shutting down", "timeout_seconds", o.ShutdownTimeout.Seconds())
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), o.ShutdownTimeout)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil {
			return fmt.Errorf("drain HTTP requests: %w", err)
		}
		return nil
	})

	p.ready.Store(true)
	scheme := "http"
	if tlsCfg != nil {
		scheme = "https"
	}
	log.Info("collector started", "version", buildinfo.Version, "listen_address", ln.Addr().String(), "scheme", scheme,
		"data_dir", cfg.DataDir, "config", cfg.File)
	if o.Listening != nil {
		o.Listening(ln.Addr())
	}
	err = g.Wait()
	stopStore()
	if serr := <-storeDone; serr != nil {
		err = errors.Join(err, serr)
	}
	if rerr := <-rwDone; rerr != nil && !errors.Is(rerr, context.Canceled) {
		err = errors.Join(err, rerr)
	}
	log.Info("collector stopped")
	return err
}

func tlsConfig(c config.TLSConfig, log *slog.Logger) (*tls.Config, error) {
	if c.CertFile == "" {
		return nil, nil
	}
	certs, err := newCertReloader(c.CertFile, c.KeyFile, log)
	if err != nil {
		return nil, err
	}
	tc := &tls.Config{GetCertificate: certs.GetCertificate, MinVersion: tls.VersionTLS12}
	if c.ClientCAFile != "" {
		pem, err := os.ReadFile(c.ClientCAFile)
		if err != nil {
			return nil, fmt.Errorf("read client CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("client CA file %s holds no PEM certificate", c.ClientCAFile)
		}
		tc.ClientCAs = pool
		switch c.ClientAuth {
		case config.ClientAuthOptional:
			tc.ClientAuth = tls.VerifyClientCertIfGiven
		case config.ClientAuthRequire:
			tc.ClientAuth = tls.RequireAndVerifyClientCert
		}
	}
	return tc, nil
}

func buildInfoGauge() prometheus.Collector {
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "pantau_collector_build_info",
		Help: "Build of this collector; the value is always 1.",
	}, []string{"version", "revision", "goversion"})
	g.WithLabelValues(buildinfo.Version, buildinfo.Rev(), buildinfo.GoVersion()).Set(1)
	return g
}
