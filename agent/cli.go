package agent

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"sort"
	"sync"
	"syscall"

	"github.com/pantau-noc/pantau/agent/internal/config"
	"github.com/pantau-noc/pantau/agent/internal/fleet"
	"github.com/pantau-noc/pantau/agent/internal/point"
	"github.com/pantau-noc/pantau/agent/internal/update"
	"github.com/pantau-noc/pantau/internal/buildinfo"
	"github.com/pantau-noc/pantau/internal/logflags"
)

const usage = `pantau-agent: probes links and devices at a site (ICMP, SNMP, and services
through probe plugins) and pushes the measurements to Pantau collectors
through a durable on-disk queue.

Usage:
  pantau-agent <command> [flags]

Commands:
  run            run the agent (the default when no command is given);
                 SIGHUP reloads the config without losing queued data
  enroll         enrol with a collector using a one-time code: stores the
                 agent's token and the collector's certificate in the
                 state dir, so that "run --state-dir DIR" is all a box needs
  check-config   validate agent.yml; errors are printed as file:line:col,
                 warnings (such as a token sent over plain http://) too
  probe --once   run every probe once and print line protocol to stdout,
                 sending nothing (like "telegraf --test")
  version        print the version

Run "pantau-agent <command> --help" for the flags of a command. Without
--config, the embedded defaults apply (no targets, no collector; queue in
./pantau-agent-state, self-metrics on 127.0.0.1:9811). The reference config
is printed by "pantau-agent check-config --example".
`

// Main runs the command line and returns the exit code: 0 success, 1 a
// failure, 2 a usage error, update.ExitCode (75) to be started again to
// run a staged release.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		args = []string{"run"}
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "--version", "-version", "version":
		fmt.Fprintln(stdout, buildinfo.String("pantau-agent"))
		return 0
	case "-h", "--help", "-help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	if len(cmd) > 0 && cmd[0] == '-' {
		cmd, rest = "run", args
	}
	var err error
	switch cmd {
	case "run":
		err = cmdRun(ctx, rest, stderr)
	case "check-config":
		err = cmdCheckConfig(ctx, rest, stdout, stderr)
	case "enroll":
		err = cmdEnroll(ctx, rest, stdout, stderr)
	case "probe":
		err = cmdProbe(ctx, rest, stdout, stderr)
	default:
		fmt.Fprintf(stderr, "pantau-agent: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	return exitCode(cmd, err, stderr)
}

// exitCode reports err of command cmd on stderr and returns the exit code.
func exitCode(cmd string, err error, stderr io.Writer) int {
	var ue usageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, update.ErrRestart):
		// systemd (or any supervisor) starts the agent again, and the
		// launcher runs the staged release on trial.
		fmt.Fprintf(stderr, "pantau-agent %s: %v (exit status %d)\n", cmd, err, update.ExitCode)
		return update.ExitCode
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "pantau-agent %s: %v\n", cmd, err)
		return 2
	default:
		fmt.Fprintf(stderr, "pantau-agent %s: %v\n", cmd, err)
		return 1
	}
}

type usageError struct{ error }

// DefaultMemoryLimit is the Go runtime's soft memory limit for `run`
// unless GOMEMLIMIT is set (docs/benchmarks.md has the measurement).
const DefaultMemoryLimit = 50 << 20

type common struct {
	config, stateDir, listen string
	version                  bool
	log                      logflags.Flags
}

func (c *common) register(fs *flag.FlagSet, daemon bool) {
	fs.StringVar(&c.config, "config", "", "path to agent.yml (default: embedded defaults)")
	if daemon {
		fs.StringVar(&c.stateDir, "state-dir", "", "state directory (queue, dead letters), overriding the config")
		fs.StringVar(&c.listen, "listen-address", "", "self-metrics address, overriding the config (\"\" keeps the config's)")
	}
	fs.BoolVar(&c.version, "version", false, "print the version and exit")
	c.log.Register(fs)
}

func (c *common) load() (*config.Config, error) {
	cfg, err := config.Parse("", nil)
	if c.config != "" {
		cfg, err = config.Load(c.config)
	}
	if err != nil {
		return nil, err
	}
	if c.stateDir != "" {
		cfg.Agent.StateDir = c.stateDir
	}
	if c.listen != "" {
		cfg.Agent.ListenAddress = c.listen
	}
	return cfg, nil
}

func newFlagSet(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: pantau-agent %s\n\nFlags:\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

func cmdRun(ctx context.Context, args []string, stderr io.Writer) error {
	var c common
	fs := newFlagSet("run", "run [--config agent.yml] [--state-dir DIR] [--listen-address ADDR]\n\n"+
		"An enrolled agent needs only its state dir: the collector URL, the token and the\n"+
		"collector's certificate are there, and the probes come from the collector.", stderr)
	c.register(fs, true)
	pprofOn := fs.Bool("debug.pprof", false, "serve Go's profiler under /debug/pprof/ on the self-metrics address")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if c.version {
		fmt.Fprintln(stderr, buildinfo.String("pantau-agent"))
		return nil
	}
	logger, err := c.log.Logger(stderr)
	if err != nil {
		return usageError{err}
	}
	src := &source{path: c.config, stateDir: c.stateDir, listen: c.listen, log: logger}
	cfg, err := src.load(ctx)
	if err != nil {
		return err
	}
	// The launcher: a release installed through the fleet (or on trial)
	// runs in place of this binary, before the queue is opened.
	if !update.Launch(ctx, update.LaunchOptions{StateDir: cfg.Agent.StateDir, Enabled: cfg.Update.Enabled,
		HealthTimeout: cfg.Update.HealthTimeout.Std(), Args: append([]string{"run"}, args...), Logger: logger}) {
		return nil
	}
	if len(cfg.Collectors) == 0 {
		logger.Warn("no collectors configured: measurements are queued on disk until one is added")
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	// Edge boxes are small: keep the heap near what the agent needs rather
	// than twice that. GOMEMLIMIT (environment) overrides this soft limit;
	// raise it for agents with far more targets than 1,000 pings and 200
	// SNMP devices, or the garbage collector works harder than it should.
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(DefaultMemoryLimit)
	}
	// One thread by default (agent.max_procs); GOMAXPROCS in the
	// environment wins. Read at start only: a reload does not change it.
	if os.Getenv("GOMAXPROCS") == "" && cfg.Agent.MaxProcs > 0 {
		runtime.GOMAXPROCS(cfg.Agent.MaxProcs)
	}
	logger.Info("starting", "version", buildinfo.Version, "agent", cfg.Agent.ID, "state_dir", cfg.Agent.StateDir,
		"memory_limit_bytes", debug.SetMemoryLimit(-1), "max_procs", runtime.GOMAXPROCS(0))
	return daemon(ctx, src, cfg, logger, hup, Options{Pprof: *pprofOn})
}

func cmdCheckConfig(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c common
	fs := newFlagSet("check-config", "check-config --config agent.yml [--skip-plugins] | --example", stderr)
	c.register(fs, false)
	example := fs.Bool("example", false, "print the commented reference config and exit")
	skipPlugins := fs.Bool("skip-plugins", false, "do not start the plugins to have them check their targets' config (their files and checksums are still checked)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *example {
		_, err := stdout.Write(config.ExampleYAML)
		return err
	}
	if c.config == "" {
		return usageError{errors.New("--config is required (or --example)")}
	}
	cfg, err := c.load()
	if err != nil {
		return err
	}
	// Warnings do not fail the check (exit status 0).
	for _, w := range cfg.Warnings() {
		fmt.Fprintf(stderr, "pantau-agent check-config: warning: %v\n", w)
	}
	if w := checkCached(cfg, c.config); w != "" {
		fmt.Fprintf(stderr, "pantau-agent check-config: warning: %s\n", w)
	}
	probs := cfg.Problems()
	checkPlugins(ctx, cfg, !*skipPlugins, probs.Add)
	if err := probs.Err(); err != nil {
		return err
	}
	pluginTargets := 0
	for _, pl := range cfg.Plugins {
		pluginTargets += len(pl.Targets)
	}
	fmt.Fprintf(stdout, "%s: ok (%d ICMP targets, %d SNMP devices, %d plugins with %d targets, %d collectors)\n",
		c.config, len(cfg.ICMP), len(cfg.SNMP), len(cfg.Plugins), pluginTargets, len(cfg.Collectors))
	return nil
}

// cmdProbe runs every probe once, concurrently, and prints line protocol.
func cmdProbe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c common
	fs := newFlagSet("probe", "probe --config agent.yml --once", stderr)
	c.register(fs, false)
	once := fs.Bool("once", false, "run every probe once (required; continuous probing is `run`)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if !*once {
		return usageError{errors.New("--once is required: probe runs every probe once and prints line protocol")}
	}
	logger, err := c.log.Logger(stderr)
	if err != nil {
		return usageError{err}
	}
	// An enrolled box probes what the collector sent last (the cached
	// remote config), merged with agent.yml, as `run` would.
	cfg, err := (&source{path: c.config, log: logger, noEnroll: true}).load(ctx)
	if err != nil {
		return err
	}
	jobs, closeProbes, err := buildJobs(cfg, logger, nil)
	if err != nil {
		return err
	}
	defer closeProbes()
	var mu sync.Mutex
	var all []*point.Point
	var failed int
	var wg sync.WaitGroup
	for _, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rctx, cancel := context.WithTimeout(ctx, j.Timeout)
			defer cancel()
			pts, err := j.Run(rctx)
			mu.Lock()
			defer mu.Unlock()
			all = append(all, pts...)
			if err != nil {
				failed++
				logger.Warn("probe failed", "kind", j.Kind, "target", j.Name, "err", err)
			}
		}()
	}
	wg.Wait()
	sort.SliceStable(all, func(i, j int) bool { return all[i].Measurement < all[j].Measurement })
	out, err := point.Encode(all)
	if err != nil {
		return err
	}
	if _, err := stdout.Write(out); err != nil {
		return err
	}
	logger.Log(ctx, slog.LevelInfo, "probed once", "targets", len(jobs), "points", len(all), "failed", failed)
	return nil
}

const enrollHelp = `enroll --collector URL --code CODE --state-dir DIR [--agent NAME] [--force]

Enrols this agent with a collector: the one-time code (made by
"pantau-collector enroll create", valid once and for a limited time) is
traded for the agent's own token. A code for an https:// collector carries
the fingerprint of the collector's certificate: the first contact is
checked against it, and the certificate is then trusted for every later
connection. Stored in the state dir:

  token              the agent's token (0600)
  collector-ca.pem   the collector's certificate (with a pinned code)
  fleet.json         collector URL, agent id, site

Then "pantau-agent run --state-dir DIR" is all the box needs: the
collector sends the probes (remote config), merged under an agent.yml
when --config gives one. The code can also go in agent.yml
(fleet: {url: ..., enroll_code: ...}): the agent enrols at its first start.`

func cmdEnroll(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("enroll", enrollHelp, stderr)
	collector := fs.String("collector", "", "the collector's URL, such as https://noc.example.go.id:9810 (required)")
	code := fs.String("code", "", "the enrolment code, PNT1-... (required)")
	stateDir := fs.String("state-dir", "", "the agent's state directory (required)")
	agentID := fs.String("agent", "", "the agent name to ask for (the code's, if it names one, wins; default: the collector's choice)")
	force := fs.Bool("force", false, "enrol again although the state dir holds a token (the old token stays valid until revoked)")
	var lf logflags.Flags
	lf.Register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case *collector == "" || *code == "" || *stateDir == "":
		return usageError{errors.New("--collector, --code and --state-dir are required")}
	case fs.NArg() > 0:
		return usageError{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}
	if st, ok, _ := fleet.LoadState(*stateDir); ok && !*force {
		if _, err := os.Stat(fleet.Path(*stateDir, config.TokenFile)); err == nil {
			return fmt.Errorf("%s holds the enrolment of agent %q with %s already; --force enrols again", *stateDir, st.Agent, st.CollectorURL)
		}
	}
	host, _ := os.Hostname()
	st, err := fleet.Enroll(ctx, fleet.EnrollOptions{CollectorURL: *collector, Code: *code, StateDir: *stateDir, Agent: *agentID,
		Hostname: host, Version: buildinfo.Version})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "enrolled as agent %q (site %q) with %s; token in %s\nstart with: pantau-agent run --state-dir %s\n",
		st.Agent, st.Site, st.CollectorURL, fleet.Path(*stateDir, config.TokenFile), *stateDir)
	return nil
}
