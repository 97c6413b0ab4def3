// Package cli is the pantau-collector command line: Main parses the
// command and its flags and runs it. The daemon ("serve", and the
// collector inside "demo") is the collector root package's Run, which main
// hands in through Options, so that no package of the collector imports
// the root.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/pantau-noc/pantau/collector/internal/config"
	"github.com/pantau-noc/pantau/collector/internal/daemon"
	"github.com/pantau-noc/pantau/internal/buildinfo"
	"github.com/pantau-noc/pantau/internal/logflags"
)

const usage = `pantau-collector: receives line protocol from Pantau agents (and Telegraf or
any InfluxDB client), stores it in an embedded Prometheus TSDB and/or
remote-writes it to an existing engine (docs/scale-out.md), and serves the
Prometheus query API that Grafana reads.

Usage:
  pantau-collector <command> [flags]

Commands:
  serve          run the collector (the default when no command is given)
  check-config   validate a config file; errors are printed as file:line:col
  token create   create an API token (--name --role [--opd] [--expires]) or an
                 agent token (--agent [--site]); prints only the token, once
  token revoke   revoke one token (--id) or every token of an agent (--agent)
  token list     list tokens (ids, roles, scopes, state), never the secrets
  user add       add a user who logs in with a name and password (--password-file)
  user list      list users (roles, scopes, state), never the passwords
  user disable   stop a user's password working at once
  audit list     the audit log: who changed what, when and from where
  enroll         create, list and revoke one-time enrolment codes for new edge boxes
  agents         the fleet view (version, last contact, config applied, backlog,
                 clock offset, update state, health); agents rotate --agent A
  fleet override set, show and clear an agent's config override (--agent --file)
  demo           run a collector on loopback with simulated sites writing to it
  report         the SPBE infrastructure report for a period (json, csv, xlsx, html)
  evidence bundle  the SPBE evidence bundle (ZIP) of a period, per indicator
  inventory      check, import (CSV) and audit the site and link inventory
  maintenance    add, list and delete maintenance windows (also retroactively)
  review         record the monthly review (reviu)
  followup       open, update and list follow-up items (tindak lanjut)
  incident       record an outage's ticket, category, action and officer (indicator 28)
  sla rebuild    build minute states again from stored samples (links added later, legacy data)
  sla mark-monitored  declare imported history monitored: its minutes without data are nodata
  notify         test a notifier, list the notification outbox, print notifier examples
  alert list     the pending and firing alerts
  silence        add, list and expire silences of alerts (author, reason, expiry)
  credentials    set, list and delete SNMP credential profiles (sealed with a key file)
                 that agents' configs take from the inventory (docs/fleet.md)
  release keygen create the ed25519 key that signs agent releases (--out-dir)
  release sign   sign a pantau-agent binary into the release store
                 (--key --binary --version --os --arch), offered to agents when
                 fleet.updates.enabled
  backup         copy the TSDB and state.db, consistently, while the collector runs
  restore        put a backup back into an empty data directory (collector stopped)
  version        print the version

Run "pantau-collector <command> --help" for the flags of a command.
Without --config, the embedded defaults are used (listen 0.0.0.0:9810,
data in ./pantau-data). The reference config is printed by
"pantau-collector check-config --example".
`

// Options are what the command line is handed by main.
type Options struct {
	// Run is the collector daemon (collector.Run): "serve" runs it, and
	// "demo" runs it on loopback.
	Run daemon.RunFunc
}

// Main runs the command line and returns the exit code: 0 success, 1 a
// failure of the command, 2 a usage error.
func Main(ctx context.Context, o Options, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		args = []string{"serve"}
	}
	cmd, rest := args[0], args[1:]
	if strings.HasPrefix(cmd, "-") {
		switch cmd {
		case "--version", "-version":
			fmt.Fprintln(stdout, buildinfo.String("pantau-collector"))
			return 0
		case "-h", "--help", "-help":
			fmt.Fprint(stdout, usage)
			return 0
		}
		cmd, rest = "serve", args
	}
	var err error
	switch cmd {
	case "serve":
		err = cmdServe(ctx, o.Run, rest, stderr)
	case "check-config":
		err = cmdCheckConfig(rest, stdout, stderr)
	case "token":
		err = cmdToken(ctx, rest, stdout, stderr)
	case "user":
		err = cmdUser(ctx, rest, stdout, stderr)
	case "audit":
		err = cmdAudit(ctx, rest, stdout, stderr)
	case "enroll":
		err = cmdEnroll(ctx, rest, stdout, stderr)
	case "agents":
		err = cmdAgents(ctx, rest, stdout, stderr)
	case "fleet":
		err = cmdFleet(ctx, rest, os.Stdin, stdout, stderr)
	case "demo":
		err = cmdDemo(ctx, o.Run, rest, stdout, stderr)
	case "report":
		err = cmdReport(ctx, rest, stdout, stderr)
	case "evidence":
		err = cmdEvidence(ctx, rest, stdout, stderr)
	case "inventory":
		err = cmdInventory(ctx, rest, stdout, stderr)
	case "maintenance":
		err = cmdMaintenance(ctx, rest, stdout, stderr)
	case "review":
		err = cmdReview(ctx, rest, stdout, stderr)
	case "followup":
		err = cmdFollowUp(ctx, rest, stdout, stderr)
	case "incident":
		err = cmdIncident(ctx, rest, stdout, stderr)
	case "sla":
		err = cmdSLA(ctx, rest, stdout, stderr)
	case "notify":
		err = cmdNotify(ctx, rest, stdout, stderr)
	case "silence":
		err = cmdSilence(ctx, rest, stdout, stderr)
	case "alert":
		err = cmdAlert(ctx, rest, stdout, stderr)
	case "backup":
		err = cmdBackup(ctx, rest, stdout, stderr)
	case "credentials":
		err = cmdCredentials(ctx, rest, stdout, stderr)
	case "release":
		err = cmdRelease(rest, stdout, stderr)
	case "restore":
		err = cmdRestore(ctx, rest, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, buildinfo.String("pantau-collector"))
		return 0
	case "help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "pantau-collector: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	var ue usageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "pantau-collector %s: %v\n", cmd, err)
		return 2
	default:
		fmt.Fprintf(stderr, "pantau-collector %s: %v\n", cmd, err)
		return 1
	}
}

type usageError struct{ error }

// common holds the flags every daemon-like command shares.
type common struct {
	config, listen, dataDir string
	version                 bool
	log                     logflags.Flags
}

func (c *common) register(fs *flag.FlagSet) {
	fs.StringVar(&c.config, "config", "", "path to collector.yml (default: embedded defaults)")
	fs.StringVar(&c.listen, "listen-address", "", "address to listen on, overriding the config (e.g. 127.0.0.1:9810)")
	fs.StringVar(&c.dataDir, "data-dir", "", "data directory (TSDB and state.db), overriding the config")
	fs.BoolVar(&c.version, "version", false, "print the version and exit")
	c.log.Register(fs)
}

// load reads the config (or the defaults) and applies flag overrides.
func (c *common) load() (*config.Config, error) {
	var cfg *config.Config
	if c.config != "" {
		var err error
		if cfg, err = config.Load(c.config); err != nil {
			return nil, err
		}
	} else {
		cfg = config.Default()
	}
	if c.listen != "" {
		cfg.ListenAddress = c.listen
	}
	if c.dataDir != "" {
		cfg.DataDir = c.dataDir
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return cfg, nil
}

func newFlagSet(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: pantau-collector %s\n\nFlags:\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}
	return nil
}

func cmdServe(ctx context.Context, run daemon.RunFunc, args []string, stderr io.Writer) error {
	var c common
	fs := newFlagSet("serve", "serve [--config FILE] [--listen-address ADDR] [--data-dir DIR]", stderr)
	c.register(fs)
	withPprof := fs.Bool("debug.pprof", false, "serve Go profiles under /debug/pprof/ (admin credential needed)")
	anonymous := fs.String("auth.anonymous", "", "role of requests without a credential, overriding auth.anonymous: \"\" (none: 401) or viewer, for a lab on a trusted network")
	if err := parse(fs, args); err != nil {
		return err
	}
	if c.version {
		fmt.Fprintln(stderr, buildinfo.String("pantau-collector"))
		return nil
	}
	logger, err := c.log.Logger(stderr)
	if err != nil {
		return usageError{err}
	}
	cfg, err := c.load()
	if err != nil {
		return err
	}
	if *anonymous != "" {
		if *anonymous != "viewer" {
			return usageError{fmt.Errorf("--auth.anonymous: must be viewer or empty (got %q)", *anonymous)}
		}
		cfg.Auth.Anonymous = *anonymous
	}
	// SIGHUP reloads the config file, with the same flag overrides.
	reload := func() (*config.Config, error) {
		cfg, err := c.load()
		if err == nil && *anonymous != "" {
			cfg.Auth.Anonymous = *anonymous
		}
		return cfg, err
	}
	hups, stop := notifyReload(ctx)
	defer stop()
	return run(ctx, daemon.Options{Config: cfg, Logger: logger, Pprof: *withPprof, Reload: hups, LoadConfig: reload})
}

func cmdCheckConfig(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("check-config", "check-config --config FILE | --example", stderr)
	path := fs.String("config", "", "config file to check")
	example := fs.Bool("example", false, "print the commented reference config and exit")
	var lf logflags.Flags
	lf.Register(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if *example {
		_, err := stdout.Write(config.ExampleYAML)
		return err
	}
	if *path == "" {
		return usageError{errors.New("--config is required")}
	}
	if _, err := config.Load(*path); err != nil {
		// One problem per line, already as file:line:col: path: message.
		fmt.Fprintln(stderr, err)
		return fmt.Errorf("%s is not valid", *path)
	}
	fmt.Fprintf(stdout, "%s: OK\n", *path)
	return nil
}

type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }
