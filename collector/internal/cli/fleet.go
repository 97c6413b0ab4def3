package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/auth"
	"github.com/pantau-noc/pantau/collector/internal/config"
	"github.com/pantau-noc/pantau/collector/internal/httpapi"
	"github.com/pantau-noc/pantau/collector/internal/statedb"
	"github.com/pantau-noc/pantau/internal/fleetproto"
)

const enrollUsage = `enroll create --data-dir DIR --site SITE [--agent NAME] [--valid 24h] [--collector-url URL]
       enroll list [--format table|json]
       enroll revoke ID

An enrolment code lets a new edge box get its own agent token without
anyone copying a token to it: create a code here, and on the box run the
command printed with it:

  pantau-agent enroll --collector URL --code CODE --state-dir /var/lib/pantau-agent

The code works once, for --valid (default 24h, at most 30d), and binds
the agent to --site. With --agent the agent gets that name (and an agent
of that name that exists is replaced: its older tokens are revoked when
the code is used); without it the box names itself, and a name that
another agent holds is refused. The code carries the SHA-256 pin of the
collector certificate's public key (tls.cert_file in --config), so the
box's first contact cannot be intercepted; a collector without TLS gives
codes without a pin (a warning says so). Only a hash of the code is
stored: it is printed once. Every creation, use, refused use and
revocation is in the audit log (pantau-collector audit list).`

// cmdEnroll creates, lists and revokes enrolment codes.
func cmdEnroll(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintf(stderr, "Usage: pantau-collector %s\n", enrollUsage)
		if len(args) == 0 {
			return usageError{errors.New("missing subcommand: create, list or revoke")}
		}
		return flag.ErrHelp
	}
	sub, rest := args[0], args[1:]
	var st stateFlags
	fs := newFlagSet("enroll "+sub, enrollUsage, stderr)
	st.register(fs)
	var site, agent, valid, url, desc, format, id string
	switch sub {
	case "create":
		fs.StringVar(&site, "site", "", "the site the agent writes (an inventory site id); required")
		fs.StringVar(&agent, "agent", "", "the agent's name; default: the name the box asks for. An existing agent of this name is replaced")
		fs.StringVar(&valid, "valid", "24h", "how long the code works: a duration (90m, 24h) or days (7d), at most 30d")
		fs.StringVar(&url, "collector-url", "", "the URL boxes reach this collector at, for the printed command (default: guessed from this host's name and listen_address)")
		fs.StringVar(&desc, "description", "", "free text, e.g. the box's place")
	case "list":
		fs.StringVar(&format, "format", "table", "output format: table or json")
	case "revoke":
	default:
		return usageError{fmt.Errorf("unknown subcommand %q: use create, list or revoke", sub)}
	}
	if sub == "revoke" {
		// enroll revoke ID [flags], or the id after the flags
		if len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
			rest = append(rest[1:], "--id", rest[0])
		}
		fs.StringVar(&id, "id", "", "the code's id (enroll list shows it)")
		if err := fs.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return err
			}
			return usageError{err}
		}
		switch {
		case fs.NArg() == 1 && id == "":
			id = fs.Arg(0)
		case fs.NArg() > 0:
			return usageError{fmt.Errorf("unexpected argument %q", fs.Arg(fs.NArg()-1))}
		}
	} else if err := parse(fs, rest); err != nil {
		return err
	}
	var spec statedb.EnrolmentSpec
	if sub == "create" {
		if site == "" {
			return usageError{errors.New("--site is required: the site the new agent writes")}
		}
		var err error
		if spec, err = (httpapi.EnrolmentRequest{Site: site, Agent: agent, Valid: valid, Description: desc}).Spec(nil); err != nil {
			return usageError{err}
		}
	}
	if sub == "revoke" && id == "" {
		return usageError{errors.New("give the code's id: enroll revoke ID (enroll list shows them)")}
	}
	cfg, db, err := st.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	switch sub {
	case "create":
		if cfg.Inventory != "" {
			inv, err := loadInventory(cfg)
			if err != nil {
				return err
			}
			if known := httpapi.KnownSite(inv); known != nil && !known(site) {
				return fmt.Errorf("site %q is not in the inventory %s: add it first, or check the spelling", site, cfg.Inventory)
			}
		}
		pin, err := httpapi.CertPin(cfg.TLS.CertFile)
		if err != nil {
			return fmt.Errorf("the code's certificate pin: %w (tls.cert_file in %s)", err, cfgName(cfg))
		}
		secret, e, err := db.CreateEnrolment(ctx, spec, auth.CLIEntry("enroll create", "", ""), time.Now())
		if err != nil {
			return err
		}
		code := fleetproto.Code{ID: e.ID, Secret: secret, Pin: pin}.String()
		guessed := false
		if url == "" {
			url, guessed = guessURL(cfg), true
		}
		fmt.Fprintf(stderr, "created enrolment code %s for site %s", e.ID, e.Site)
		if e.Agent != "" {
			fmt.Fprintf(stderr, ", agent %s", e.Agent)
		}
		fmt.Fprintf(stderr, ", valid until %s; it works once and is not shown again\n", e.ExpiresAt.Format(time.RFC3339))
		if pin == nil {
			fmt.Fprintln(stderr, "warning: this collector serves plain HTTP (no tls.cert_file): the code carries no certificate pin, so the box's first contact is not protected against interception")
		}
		if guessed {
			fmt.Fprintf(stderr, "note: the collector URL %s is guessed; pass --collector-url if boxes reach it at another address\n", url)
		}
		fmt.Fprintln(stdout, code)
		fmt.Fprintln(stdout, httpapi.EnrollCommand(url, code))
	case "list":
		list, err := db.ListEnrolments(ctx)
		if err != nil {
			return err
		}
		return printEnrolments(stdout, list, format, time.Now())
	case "revoke":
		if err := db.RevokeEnrolment(ctx, id, auth.CLIEntry("enroll revoke", "", ""), time.Now()); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "revoked enrolment code %s\n", id)
	}
	return nil
}

func cfgName(cfg *config.Config) string {
	if cfg.File == "" {
		return "the config"
	}
	return cfg.File
}

// guessURL is this collector's URL as this host names itself.
func guessURL(cfg *config.Config) string {
	scheme := "http"
	if cfg.TLS.CertFile != "" {
		scheme = "https"
	}
	host, _ := os.Hostname()
	if host == "" {
		host = "COLLECTOR"
	}
	_, port, err := net.SplitHostPort(cfg.ListenAddress)
	if err != nil || port == "" {
		port = "9810"
	}
	return scheme + "://" + net.JoinHostPort(host, port)
}

func printEnrolments(w io.Writer, list []statedb.Enrolment, format string, now time.Time) error {
	views := make([]httpapi.EnrolmentView, 0, len(list))
	for _, e := range list {
		views = append(views, httpapi.EnrolmentViewOf(e, now))
	}
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(views)
	case "table":
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tSITE\tAGENT\tCREATED\tEXPIRES\tSTATE\tBY\tDESCRIPTION")
		for _, v := range views {
			agent := v.Agent
			if agent == "" {
				agent = "(box names itself)"
			}
			state := v.State
			if v.State == statedb.EnrolmentUsed {
				state = fmt.Sprintf("used %s by %s from %s", v.Used.Format(time.RFC3339), v.UsedAgent, v.UsedFrom)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", v.ID, v.Site, agent, v.Created.Format(time.RFC3339),
				v.Expires.Format(time.RFC3339), state, v.CreatedBy, oneLine(v.Description))
		}
		return tw.Flush()
	}
	return usageError{fmt.Errorf("--format: must be one of table, json (got %q)", format)}
}

const agentsUsage = `agents [--data-dir DIR] [--format table|json | --json]
       agents rotate --agent NAME

"agents" is the fleet view: every agent with a token or a fleet state,
with what it last reported over OpAMP: site, version, last contact, the
remote config it applied (its short SHA-256, "current" when it is the
one offered, else what is pending or why it failed), its queue backlog,
its clock offset (agent minus collector; SLA minute marks depend on it),
its update state and health. An agent without fleet state (it writes but
does not speak OpAMP, or never connected) shows "-".

"agents rotate" asks for a new token for the agent: at the agent's next
contact the collector sends it a new token over OpAMP, and revokes the
old one once the agent uses the new one. Recorded in the audit log.`

// cmdAgents shows the fleet view and asks for rotations.
func cmdAgents(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	sub := ""
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		sub, args = args[0], args[1:]
	}
	var st stateFlags
	fs := newFlagSet("agents "+sub, agentsUsage, stderr)
	st.register(fs)
	var format, agent string
	var asJSON bool
	switch sub {
	case "":
		fs.StringVar(&format, "format", "table", "output format: table or json")
		fs.BoolVar(&asJSON, "json", false, "output JSON (as --format json)")
	case "rotate":
		fs.StringVar(&agent, "agent", "", "the agent whose token to rotate; required")
	default:
		return usageError{fmt.Errorf("unknown subcommand %q: use rotate, or no subcommand for the fleet view", sub)}
	}
	if err := parse(fs, args); err != nil {
		return err
	}
	if asJSON {
		format = "json"
	}
	if sub == "rotate" && !statedb.ValidID(agent) {
		return usageError{errors.New("--agent is required: the agent's name (pantau-collector agents lists them)")}
	}
	if sub == "" && format != "table" && format != "json" {
		return usageError{fmt.Errorf("--format: must be one of table, json (got %q)", format)}
	}
	_, db, err := st.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	now := time.Now()
	if sub == "rotate" {
		toks, err := db.ListTokens(ctx)
		if err != nil {
			return err
		}
		active := false
		for _, t := range toks {
			if t.Role == statedb.RoleAgent && t.Agent == agent && t.RevokedAt.IsZero() && !t.Expired(now) {
				active = true
			}
		}
		if !active {
			return fmt.Errorf("agent %s has no active token to rotate (pantau-collector agents lists the agents)", agent)
		}
		e := auth.CLIEntry("agents rotate", "agent/"+agent, "credential rotation requested")
		if err := db.RequestRotation(ctx, agent, e.ActorKind+" "+e.ActorName); err != nil {
			return err
		}
		audit(ctx, db, stderr, "agents rotate", "agent/"+agent, "credential rotation requested")
		fmt.Fprintf(stdout, "rotation of agent %s's token requested: the collector sends the agent a new token at its next contact\n", agent)
		return nil
	}
	rows, err := fleetRows(ctx, db, now)
	if err != nil {
		return err
	}
	return printFleet(stdout, rows, format, now)
}

// FleetRow is an agent as "agents" shows it.
type FleetRow struct {
	Agent  string             `json:"agent"`
	Site   string             `json:"site"`
	Tokens int                `json:"active_tokens"`
	Fleet  *httpapi.FleetView `json:"fleet,omitempty"`
	// Version is the one it reported over OpAMP ("" none).
	Version string `json:"version,omitempty"`
}

func fleetRows(ctx context.Context, db *statedb.DB, now time.Time) ([]FleetRow, error) {
	toks, err := db.ListTokens(ctx)
	if err != nil {
		return nil, err
	}
	agents, err := db.ListFleetAgents(ctx)
	if err != nil {
		return nil, err
	}
	rots, err := db.PendingRotations(ctx)
	if err != nil {
		return nil, err
	}
	ovs, err := db.ListFleetOverrides(ctx)
	if err != nil {
		return nil, err
	}
	hasOverride := map[string]bool{}
	for _, o := range ovs {
		hasOverride[o.Agent] = true
	}
	byName := map[string]*FleetRow{}
	var order []string
	row := func(name string) *FleetRow {
		r, ok := byName[name]
		if !ok {
			r = &FleetRow{Agent: name}
			byName[name] = r
			order = append(order, name)
		}
		return r
	}
	for _, a := range agents {
		r := row(a.Agent)
		_, rot := rots[a.Agent]
		r.Fleet, r.Site, r.Version = httpapi.FleetViewOf(a, rot, hasOverride[a.Agent]), a.Site, a.Version
	}
	for _, t := range toks {
		if t.Role != statedb.RoleAgent || !t.RevokedAt.IsZero() || t.Expired(now) {
			continue
		}
		r := row(t.Agent)
		r.Tokens++
		if r.Site == "" && len(t.Sites) == 1 {
			r.Site = t.Sites[0]
		}
	}
	out := make([]FleetRow, 0, len(order))
	for _, n := range order {
		out = append(out, *byName[n])
	}
	slices.SortFunc(out, func(a, b FleetRow) int { return strings.Compare(a.Agent, b.Agent) })
	return out, nil
}

// ShortHash is the first 8 digits of a hex hash ("-" none).
func ShortHash(h string) string {
	if h == "" {
		return "-"
	}
	return h[:min(8, len(h))]
}

// ConfigText describes the config state of an agent for a table.
func ConfigText(f *httpapi.FleetView) string {
	switch {
	case f == nil || f.ConfigOffered == "" && f.ConfigApplied == "":
		return "-"
	case f.ConfigStatus == statedb.ConfigFailed:
		return fmt.Sprintf("%s, FAILED %s: %s", ShortHash(f.ConfigApplied), ShortHash(f.ConfigOffered), clipText(oneLine(f.ConfigError), 60))
	case f.ConfigCurrent:
		return ShortHash(f.ConfigApplied) + " current"
	}
	return fmt.Sprintf("%s, %s pending", ShortHash(f.ConfigApplied), ShortHash(f.ConfigOffered))
}

func clipText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// ageText is how long ago t was ("-" zero).
func ageText(t, now time.Time) string {
	if t.IsZero() {
		return "-"
	}
	d := now.Sub(t)
	switch {
	case d < 0:
		return "in the future"
	case d < time.Minute:
		return fmt.Sprintf("%ds ago", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh ago", int(d.Hours()))
	}
	return fmt.Sprintf("%dd ago", int(d.Hours()/24))
}

// bytesText is a byte count for a table.
func bytesText(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

func printFleet(w io.Writer, rows []FleetRow, format string, now time.Time) error {
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rows)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "AGENT\tSITE\tVERSION\tLAST SEEN\tCONFIG\tBACKLOG\tCLOCK\tUPDATE\tHEALTH")
	for _, r := range rows {
		f := r.Fleet
		if f == nil {
			site := r.Site
			if site == "" {
				site = "-"
			}
			fmt.Fprintf(tw, "%s\t%s\t-\t-\t-\t-\t-\t-\tnot managed (%d token(s), no OpAMP contact)\n", r.Agent, site, r.Tokens)
			continue
		}
		version := r.Version
		if version == "" {
			version = "-"
		}
		backlog := "0"
		if f.QueuePoints > 0 || f.QueueBytes > 0 {
			backlog = fmt.Sprintf("%d points, %s, oldest %s", f.QueuePoints, bytesText(f.QueueBytes), time.Duration(f.QueueOldestAgeSeconds*float64(time.Second)).Round(time.Second))
		}
		update := f.UpdateState
		switch {
		case update == "":
			update = "-"
		case f.UpdateVersion != "":
			update += " " + f.UpdateVersion
		}
		health := "ok"
		if !f.Healthy {
			health = "unhealthy"
			if f.HealthError != "" {
				health += ": " + clipText(oneLine(f.HealthError), 60)
			} else if f.HealthStatus != "" {
				health += ": " + clipText(oneLine(f.HealthStatus), 60)
			}
		}
		if f.RotationPending {
			health += ", rotation pending"
		}
		if f.Override {
			health += ", override"
		}
		clock := fmt.Sprintf("%+.1fs", f.ClockOffsetSeconds)
		if math.Abs(f.ClockOffsetSeconds) < 0.05 {
			clock = "0s"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Agent, r.Site, version, ageText(f.LastContact, now),
			ConfigText(f), backlog, clock, update, health)
	}
	return tw.Flush()
}

const fleetUsage = `fleet override set --agent NAME --file FILE|-
       fleet override show --agent NAME
       fleet override clear --agent NAME

A per-agent override is an agent.yml fragment the collector adds to the
config it derives for that agent from the inventory (docs/fleet.md). It
may carry only the keys a remote config carries: agent (only site),
defaults, icmp, snmp and plugins; every target in icmp, snmp and plugins
has a name (the agent merges targets by name, and its local agent.yml
still wins). At most 64 KiB; anchors and aliases are refused. "set"
reads FILE (or standard input with -), checks it and stores it; the
agent gets it at its next contact. Each change is recorded in the audit
log, by size and hash (the text may hold credentials).`

// cmdFleet manages per-agent config overrides.
func cmdFleet(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") ||
		len(args) > 1 && (args[1] == "-h" || args[1] == "--help" || args[1] == "help") {
		fmt.Fprintf(stderr, "Usage: pantau-collector %s\n", fleetUsage)
		return flag.ErrHelp
	}
	if len(args) < 2 || args[0] != "override" {
		fmt.Fprintf(stderr, "Usage: pantau-collector %s\n", fleetUsage)
		return usageError{errors.New("missing subcommand: override set, show or clear")}
	}
	sub, rest := args[1], args[2:]
	var st stateFlags
	fs := newFlagSet("fleet override "+sub, fleetUsage, stderr)
	st.register(fs)
	var agent, file string
	fs.StringVar(&agent, "agent", "", "the agent; required")
	switch sub {
	case "set":
		fs.StringVar(&file, "file", "", "the override's YAML file, or - for standard input; required")
	case "show", "clear":
	default:
		return usageError{fmt.Errorf("unknown subcommand %q: use set, show or clear", sub)}
	}
	if err := parse(fs, rest); err != nil {
		return err
	}
	if !statedb.ValidID(agent) {
		return usageError{errors.New("--agent is required: the agent's name (pantau-collector agents lists them)")}
	}
	var body []byte
	if sub == "set" {
		if file == "" {
			return usageError{errors.New("--file is required: the override's YAML, or - for standard input")}
		}
		var r io.Reader = stdin
		if file != "-" {
			f, err := os.Open(file)
			if err != nil {
				return fmt.Errorf("read the override: %w", err)
			}
			defer f.Close()
			r = f
		}
		b, err := io.ReadAll(io.LimitReader(r, statedb.MaxOverrideBytes+1))
		if err != nil {
			return fmt.Errorf("read the override %s: %w", file, err)
		}
		if err := httpapi.ValidateOverride(b); err != nil {
			return fmt.Errorf("override %s: %w", file, err)
		}
		body = b
	}
	_, db, err := st.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	by := auth.CLIEntry("", "", "")
	switch sub {
	case "set":
		if err := db.SetFleetOverride(ctx, agent, string(body), by.ActorKind+" "+by.ActorName); err != nil {
			return err
		}
		audit(ctx, db, stderr, "fleet override set", "agent/"+agent+"/override", httpapi.OverrideSummary(body))
		fmt.Fprintf(stdout, "override of agent %s stored (%d bytes); the agent gets it at its next contact\n", agent, len(body))
	case "show":
		o, ok, err := db.FleetOverrideInfo(ctx, agent)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("agent %s has no override", agent)
		}
		fmt.Fprintf(stderr, "# override of agent %s, set %s by %s\n", agent, o.UpdatedAt.Format(time.RFC3339), o.UpdatedBy)
		fmt.Fprint(stdout, o.YAML)
		if !strings.HasSuffix(o.YAML, "\n") {
			fmt.Fprintln(stdout)
		}
	case "clear":
		if _, ok, err := db.FleetOverride(ctx, agent); err != nil {
			return err
		} else if !ok {
			return fmt.Errorf("agent %s has no override", agent)
		}
		if err := db.DeleteFleetOverride(ctx, agent, by.ActorKind+" "+by.ActorName); err != nil {
			return err
		}
		audit(ctx, db, stderr, "fleet override clear", "agent/"+agent+"/override", "config override cleared")
		fmt.Fprintf(stdout, "override of agent %s cleared\n", agent)
	}
	return nil
}
