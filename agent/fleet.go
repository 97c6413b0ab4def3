package agent

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/open-telemetry/opamp-go/protobufs"

	"go.yaml.in/yaml/v3"
	"golang.org/x/sync/errgroup"

	"github.com/pantau-noc/pantau/agent/internal/config"
	"github.com/pantau-noc/pantau/agent/internal/fleet"
	"github.com/pantau-noc/pantau/agent/internal/update"
	"github.com/pantau-noc/pantau/internal/buildinfo"
	"github.com/pantau-noc/pantau/internal/spool"
)

// updater installs the releases the collector offers (fleet.Updater over
// agent/internal/update): it downloads them from the collector with the
// offer's headers (the agent's token), trusting the certificate pinned
// at enrolment as the OpAMP client does.
type updater struct {
	u      *update.Updater
	client *http.Client
}

var _ fleet.Updater = (*updater)(nil)

// newUpdater makes the Updater for the agent with state dir dir whose
// collector is at host (the fleet URL's); it is called only with
// update.enabled.
func newUpdater(cfg *config.Config, dir, host string, log *slog.Logger) (*updater, error) {
	u, err := update.New(update.Options{StateDir: dir, Enabled: true, PublicKeyFile: cfg.Update.PublicKeyFile, Logger: log.With("component", "update")})
	if err != nil {
		return nil, err
	}
	tc, err := fleet.TLSConfig(dir, host)
	if err != nil {
		return nil, err
	}
	tr := &http.Transport{Proxy: http.ProxyFromEnvironment, TLSClientConfig: tc, ForceAttemptHTTP2: true,
		TLSHandshakeTimeout: 30 * time.Second, ResponseHeaderTimeout: time.Minute, IdleConnTimeout: time.Minute}
	// No overall timeout: a release over VSAT takes minutes; the offer's
	// context (the agent's life) bounds it.
	return &updater{u: u, client: &http.Client{Transport: tr}}, nil
}

// Offer checks, downloads and stages the release (update.Fetch); the
// signature is checked before anything is downloaded.
func (u *updater) Offer(ctx context.Context, version string, f *protobufs.DownloadableFile) (bool, error) {
	if f == nil || f.DownloadUrl == "" {
		return false, fmt.Errorf("%w: the offer of release %s has no download URL", update.ErrRefused, version)
	}
	h := http.Header{}
	for _, kv := range f.GetHeaders().GetHeaders() {
		h.Add(kv.Key, kv.Value)
	}
	return u.u.Fetch(ctx, u.client, update.Package{Version: version, SHA256: f.ContentHash, Signature: f.Signature}, f.DownloadUrl, h)
}

// source builds the config in force from its layers: agent.yml (or the
// embedded defaults) over the last remote config over what enrolment
// decided (agent id, site, the fleet's collector entry), plus the
// command line's overrides. SIGHUP and a new remote config both rebuild
// through it.
type source struct {
	path, stateDir, listen string // --config, --state-dir, --listen-address
	log                    *slog.Logger
	noEnroll               bool     // probe --once: use an enrolment, never make one
	pluginDirs             []string // where bundled plugins are (nil: config.BundledPluginDirs)

	mu        sync.Mutex
	remote    []byte // the remote config in force (nil: none)
	effective []byte // the merged document in force

	// fleet management, when on
	fleet bool
	state fleet.State
	url   string
	token *config.LiveToken
	dir   string
}

// errNotEnrolled: fleet.url is set, but there is no token and no code.
var errNotEnrolled = errors.New("fleet.url is set but the agent has not enrolled")

// load reads agent.yml alone (it must be valid by itself: the agent runs
// with it when no remote config ever came), enrols with fleet.enroll_code
// when fleet management is on and there is no token yet, and builds the
// config with the cached remote config.
func (s *source) load(ctx context.Context) (*config.Config, error) {
	local, err := s.local()
	if err != nil {
		return nil, err
	}
	cfg, err := config.Parse(s.path, local)
	if err != nil {
		return nil, err
	}
	s.override(cfg)
	dir := cfg.Agent.StateDir
	st, enrolled, err := fleet.LoadState(dir)
	if err != nil {
		return nil, err
	}
	if !cfg.Fleet.Enabled || (cfg.Fleet.URL == "" && !enrolled) {
		return cfg, nil
	}
	if _, err := os.Stat(fleet.Path(dir, config.TokenFile)); errors.Is(err, fs.ErrNotExist) || !enrolled {
		if cfg.Fleet.EnrollCode == "" || s.noEnroll {
			return nil, fmt.Errorf("%w: run `pantau-agent enroll --collector %s --code CODE --state-dir %s`, or set fleet.enroll_code",
				errNotEnrolled, cfg.Fleet.URL, dir)
		}
		host, _ := os.Hostname()
		s.log.Info("enrolling", "collector", cfg.Fleet.URL, "state_dir", dir)
		st, err = fleet.Enroll(ctx, fleet.EnrollOptions{CollectorURL: cfg.Fleet.URL, Code: cfg.Fleet.EnrollCode.Reveal(), StateDir: dir,
			Agent: explicitID(local), Hostname: host, Version: buildinfo.Version})
		if err != nil {
			return nil, err
		}
		s.log.Info("enrolled", "agent", st.Agent, "site", st.Site)
	}
	if err := s.attach(cfg, st); err != nil {
		return nil, err
	}
	cached, err := os.ReadFile(fleet.Path(dir, config.RemoteConfigFile))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read the cached remote config: %w", err)
	}
	next, err := s.build(cached)
	if err != nil && cached != nil {
		s.log.Error("the cached remote config does not load with this agent.yml; running without it until the collector sends one", "err", err)
		cached = nil
		next, err = s.build(nil)
	}
	if err != nil {
		return nil, err
	}
	s.remote = cached
	if cached != nil {
		s.log.Info("running the cached remote config", "file", fleet.Path(dir, config.RemoteConfigFile))
	}
	return next, nil
}

// attach turns fleet management on with the enrolment st.
func (s *source) attach(cfg *config.Config, st fleet.State) error {
	dir := cfg.Agent.StateDir
	tok, err := fleet.ReadToken(dir)
	if err != nil {
		return err
	}
	s.fleet, s.state, s.token, s.dir = true, st, config.NewLiveToken(tok), dir
	s.url = cfg.Fleet.URL
	if s.url == "" {
		s.url = st.CollectorURL
	}
	return nil
}

// checkCached is check-config's look at an enrolled box: does the cached
// remote config still load with this agent.yml? ("" when it does, or
// when there is none.)
func checkCached(cfg *config.Config, path string) string {
	st, ok, err := fleet.LoadState(cfg.Agent.StateDir)
	if err != nil || !ok || !cfg.Fleet.Enabled {
		return ""
	}
	cached, err := os.ReadFile(fleet.Path(cfg.Agent.StateDir, config.RemoteConfigFile))
	if err != nil {
		return ""
	}
	s := &source{path: path}
	if err := s.attach(cfg, st); err != nil {
		return fmt.Sprintf("the agent has enrolled, but %v", err)
	}
	if _, err := s.build(cached); err != nil {
		return fmt.Sprintf("the cached remote config (%s) does not load with this file; the agent would run without it until the collector sends one: %v",
			fleet.Path(cfg.Agent.StateDir, config.RemoteConfigFile), err)
	}
	return ""
}

func (s *source) local() ([]byte, error) {
	if s.path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(s.path)
	if err != nil {
		return nil, fmt.Errorf("read config %s: %w", s.path, err)
	}
	return b, nil
}

func (s *source) override(cfg *config.Config) {
	if s.stateDir != "" {
		cfg.Agent.StateDir = s.stateDir
	}
	if s.listen != "" {
		cfg.Agent.ListenAddress = s.listen
	}
}

// build makes the config with remote as the remote config layer.
func (s *source) build(remote []byte) (*config.Config, error) {
	local, err := s.local()
	if err != nil {
		return nil, err
	}
	if !s.fleet {
		cfg, err := config.Parse(s.path, local)
		if err == nil {
			s.override(cfg)
		}
		return cfg, err
	}
	if s.pluginDirs == nil {
		s.pluginDirs = config.BundledPluginDirs()
	}
	base := s.base()
	pl, err := config.PluginLayer(local, remote, s.pluginDirs)
	if err != nil {
		return nil, err
	}
	if pl != nil {
		if base, err = config.Merge(base, pl); err != nil {
			return nil, err
		}
	}
	cfg, err := config.ParseLayers(s.path, local, remote, base)
	if err != nil {
		return nil, err
	}
	s.override(cfg)
	for i := range cfg.Collectors {
		if c := &cfg.Collectors[i]; c.Name == config.FleetCollector && c.TokenFile == fleet.Path(s.dir, config.TokenFile) {
			c.Live = s.token
			c.TLS.Pinned = c.TLS.CAFile == fleet.Path(s.dir, config.CollectorCAFile)
		}
	}
	return cfg, nil
}

// base is the lowest layer: what enrolment decided.
func (s *source) base() []byte {
	col := map[string]any{"name": config.FleetCollector, "url": s.url, "token_file": fleet.Path(s.dir, config.TokenFile)}
	if _, err := os.Stat(fleet.Path(s.dir, config.CollectorCAFile)); err == nil {
		col["tls"] = map[string]any{"ca_file": fleet.Path(s.dir, config.CollectorCAFile)}
	}
	agent := map[string]any{}
	if s.state.Agent != "" {
		agent["id"] = s.state.Agent
	}
	if s.state.Site != "" {
		agent["site"] = s.state.Site
	}
	b, _ := yaml.Marshal(map[string]any{"agent": agent, "collectors": []any{col}})
	return b
}

// explicitID is agent.id when agent.yml sets it.
func explicitID(local []byte) string {
	var f struct {
		Agent struct {
			ID string `yaml:"id"`
		} `yaml:"agent"`
	}
	yaml.Unmarshal(local, &f)
	return f.Agent.ID
}

// daemon runs the agent with reloads from SIGHUP (hup) and, with fleet
// management on, from the collector's remote configs.
func daemon(ctx context.Context, src *source, cfg *config.Config, log *slog.Logger, hup <-chan os.Signal, o Options) error {
	reload := make(chan *config.Config)
	src.mu.Lock()
	src.effective = cfg.Merged
	src.mu.Unlock()
	// push puts a config in force; the mutex orders SIGHUP and remote
	// configs.
	push := func(ctx context.Context, remote []byte, fromRemote bool) error {
		src.mu.Lock()
		defer src.mu.Unlock()
		if !fromRemote {
			remote = src.remote
		}
		next, err := src.build(remote)
		if err != nil {
			return err
		}
		select {
		case reload <- next:
		case <-ctx.Done():
			return context.Cause(ctx)
		}
		src.remote, src.effective = remote, next.Merged
		return nil
	}
	var fc *fleet.Client
	var stats atomic.Pointer[func() spool.Stats]
	// A staged release stops the agent with update.ErrRestart as the
	// cause: run then exits with update.ExitCode.
	rctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	g, ctx := errgroup.WithContext(rctx)
	o.Config, o.Logger, o.Reload = cfg, log, reload
	o.QueueOpened = func(f func() spool.Stats) { stats.Store(&f) }
	if src.fleet {
		var up fleet.Updater
		if cfg.Update.Enabled {
			u, err := newUpdater(cfg, src.dir, urlHost(src.url), log)
			if err != nil {
				return err
			}
			up = u
		}
		var hash []byte
		if src.remote != nil {
			h := sha256.Sum256(src.remote)
			hash = h[:]
		}
		fc = fleet.New(fleet.Options{StateDir: src.dir, State: src.state, CollectorURL: src.url, Token: src.token,
			PollInterval: cfg.Fleet.PollInterval.Std(), Logger: log, RemoteHash: hash, UpdateEnabled: cfg.Update.Enabled, Updater: up,
			Restart: func() { stop(update.ErrRestart) },
			Apply:   func(ctx context.Context, body []byte) error { return push(ctx, body, true) },
			Effective: func() []byte {
				src.mu.Lock()
				defer src.mu.Unlock()
				return src.effective
			},
			Queue: func() (fleet.QueueStats, bool) {
				f := stats.Load()
				if f == nil {
					return fleet.QueueStats{}, false
				}
				st := (*f)()
				q := fleet.QueueStats{Points: st.Points, Bytes: st.Bytes}
				if st.Records > 0 {
					q.Oldest = st.Oldest
				}
				return q, true
			}})
	}
	g.Go(func() error {
		for {
			select {
			case <-ctx.Done():
				return nil
			case <-hup:
				if err := push(ctx, nil, false); err != nil && ctx.Err() == nil {
					log.Error("config reload failed; keeping the running config", "err", err)
				} else if fc != nil {
					fc.ForgetRefused()
				}
			}
		}
	})
	if fc != nil {
		g.Go(func() error {
			if err := fc.Run(ctx); err != nil {
				log.Error("fleet management stopped; probing on with the config in force", "err", err)
			}
			return nil
		})
	}
	g.Go(func() error {
		err := Run(ctx, o)
		if err == nil {
			err = errStopped
		}
		return err
	})
	err := g.Wait()
	if errors.Is(context.Cause(rctx), update.ErrRestart) {
		log.Info("stopped to run the staged release on trial", "exit_code", update.ExitCode)
		return fmt.Errorf("agent: %w", update.ErrRestart)
	}
	if !errors.Is(err, errStopped) {
		return err
	}
	return nil
}

// errStopped ends the daemon's group when Run returns.
var errStopped = errors.New("agent stopped")

// urlHost is the host name of a URL ("" when it does not parse).
func urlHost(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return ""
	}
	return u.Hostname()
}
