package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/auth"
	"github.com/pantau-noc/pantau/collector/internal/httpapi"
	"github.com/pantau-noc/pantau/collector/internal/statedb"
)

// roleHelp explains the roles in --help.
const roleHelp = "viewer (query API, reports, alerts), operator (viewer plus acknowledgements, silences, maintenance, reviews, follow-ups) or admin (operator plus inventory, tokens, users)"

// cmdToken creates, revokes and lists tokens: agent tokens (--agent),
// which write, and API tokens (--name --role), which read and change
// records as their role allows, within their OPD scope.
func cmdToken(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError{errors.New("missing subcommand: create, revoke or list")}
	}
	sub, rest := args[0], args[1:]
	var st stateFlags
	fs := newFlagSet("token "+sub, "token "+sub+" [flags]", stderr)
	st.register(fs)
	var (
		agent, id, desc, format string
		name, role, expires     string
		sites, opds             stringList
	)
	switch sub {
	case "create":
		fs.StringVar(&agent, "agent", "", "create an agent token: the agent id it belongs to; it becomes the agent label of every series. Agent tokens write and read nothing")
		fs.Var(&sites, "site", "with --agent: site tag the agent may write (repeatable); default: any")
		fs.StringVar(&name, "name", "", "create an API token with this name (e.g. grafana); needs --role")
		fs.StringVar(&role, "role", "", "with --name: "+roleHelp)
		fs.Var(&opds, "opd", "with --name: OPD the token may see (repeatable); default: every OPD")
		fs.StringVar(&expires, "expires", "", "with --name: expiry, as a duration (90d, 12h) or a date (2027-06-30, UTC); default: never")
		fs.StringVar(&desc, "description", "", "free text, e.g. where the token is used")
	case "revoke":
		fs.StringVar(&id, "id", "", "token id to revoke (see token list)")
		fs.StringVar(&agent, "agent", "", "revoke every token of this agent")
	case "list":
		fs.StringVar(&format, "format", "table", "output format: table or json")
	default:
		return usageError{fmt.Errorf("unknown subcommand %q: use create, revoke or list", sub)}
	}
	if err := parse(fs, rest); err != nil {
		return err
	}
	var exp time.Time
	if sub == "create" {
		switch {
		case agent != "" && name != "", agent == "" && name == "":
			return usageError{errors.New("give exactly one of --agent (an agent token) or --name with --role (an API token)")}
		case agent != "" && (role != "" || len(opds) > 0 || expires != ""):
			return usageError{errors.New("--role, --opd and --expires are for API tokens (--name); an agent token has --site")}
		case name != "" && len(sites) > 0:
			return usageError{errors.New("--site is for agent tokens (--agent); an API token is scoped with --opd")}
		case name != "" && role == "":
			return usageError{errors.New("--role is required with --name: viewer, operator or admin")}
		}
		if expires != "" {
			var err error
			if exp, err = httpapi.ParseExpiry(expires, time.Now()); err != nil {
				return usageError{fmt.Errorf("--expires: %w", err)}
			}
		}
	}
	_, db, err := st.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	switch sub {
	case "create":
		var (
			tok string
			t   statedb.Token
		)
		if agent != "" {
			tok, t, err = db.CreateToken(ctx, agent, sites, desc)
		} else {
			tok, t, err = db.CreateAPIToken(ctx, name, role, opds, exp, desc)
		}
		if err != nil {
			return err
		}
		audit(ctx, db, stderr, "token create", "token/"+t.ID, httpapi.TokenSummary(t))
		if agent != "" {
			fmt.Fprintf(stderr, "created token %s for agent %s in %s; store it now, it is not shown again\n", t.ID, t.Agent, db.Path())
		} else {
			fmt.Fprintf(stderr, "created %s token %s (%s, %s) in %s; store it now, it is not shown again\n", t.Role, t.ID, t.Name, httpapi.ScopeText(t.OPDs), db.Path())
		}
		fmt.Fprintln(stdout, tok)
	case "revoke":
		switch {
		case id != "" && agent != "", id == "" && agent == "":
			return usageError{errors.New("give exactly one of --id or --agent")}
		case id != "":
			if err := db.RevokeToken(ctx, id); err != nil {
				return err
			}
			audit(ctx, db, stderr, "token revoke", "token/"+id, "revoked")
			fmt.Fprintf(stdout, "revoked token %s\n", id)
		default:
			n, err := db.RevokeAgent(ctx, agent)
			if err != nil {
				return err
			}
			audit(ctx, db, stderr, "token revoke", "agent/"+agent, fmt.Sprintf("revoked %d token(s)", n))
			fmt.Fprintf(stdout, "revoked %d token(s) of agent %s\n", n, agent)
		}
	case "list":
		list, err := db.ListTokens(ctx)
		if err != nil {
			return err
		}
		return printTokens(stdout, list, format)
	}
	return nil
}

// audit records a change made with the CLI; a failure to record is
// reported, not fatal (the change is made).
func audit(ctx context.Context, db *statedb.DB, stderr io.Writer, action, object, summary string) {
	if _, err := db.AddAudit(ctx, auth.CLIEntry(action, object, summary)); err != nil {
		fmt.Fprintf(stderr, "warning: the change is made but not on record in the audit log: %v\n", err)
	}
}

func printTokens(w io.Writer, list []statedb.Token, format string) error {
	type row struct {
		ID          string   `json:"id"`
		Role        string   `json:"role"`
		Agent       string   `json:"agent,omitempty"`
		Sites       []string `json:"sites,omitempty"`
		Name        string   `json:"name,omitempty"`
		OPDs        []string `json:"opds,omitempty"`
		Description string   `json:"description"`
		Created     string   `json:"created"`
		Expires     string   `json:"expires,omitempty"`
		Revoked     string   `json:"revoked,omitempty"`
	}
	rows := make([]row, 0, len(list))
	now := time.Now()
	for _, t := range list {
		r := row{ID: t.ID, Role: t.Role, Agent: t.Agent, Sites: t.Sites, Name: t.Name, OPDs: t.OPDs, Description: t.Description, Created: t.CreatedAt.Format(time.RFC3339)}
		if !t.ExpiresAt.IsZero() {
			r.Expires = t.ExpiresAt.Format(time.RFC3339)
		}
		if !t.RevokedAt.IsZero() {
			r.Revoked = t.RevokedAt.Format(time.RFC3339)
		}
		rows = append(rows, r)
	}
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rows)
	case "table":
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tROLE\tAGENT/NAME\tSCOPE\tCREATED\tSTATE\tDESCRIPTION")
		for i, r := range rows {
			state := "active"
			switch {
			case r.Revoked != "":
				state = "revoked " + r.Revoked
			case list[i].Expired(now):
				state = "expired " + r.Expires
			case r.Expires != "":
				state = "active until " + r.Expires
			}
			who, scope := r.Name, strings.Join(r.OPDs, ",")
			if r.Role == statedb.RoleAgent {
				who, scope = r.Agent, strings.Join(r.Sites, ",")
			}
			if scope == "" {
				scope = "*"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Role, who, scope, r.Created, state, r.Description)
		}
		return tw.Flush()
	}
	return usageError{fmt.Errorf("--format: must be one of table, json (got %q)", format)}
}

const userUsage = `user add --data-dir DIR --name NAME --role ROLE [--opd OPD ...] [--expires 90d] --password-file FILE
       user list [--format table|json]
       user disable --name NAME
       user unlock --name NAME

A user is a person who logs in to the collector's API (Grafana, curl)
with HTTP basic auth, or to the web UI (/ui/), with the user's name and
password. Its role
and OPD scope work as an API token's: viewer reads the query API,
reports and alerts; operator also acknowledges, silences and keeps
maintenance windows, reviews and follow-ups; admin also changes the
inventory, tokens and users. --opd (repeatable) limits what the user
sees to those OPDs' sites, links, services and series.

The password is read from the first line of --password-file (its
trailing newline stripped), or from standard input with
--password-file -; it is never printed, logged or put in the audit log,
and only its argon2id hash is stored. It needs 12 to 1024 characters.
Delete the file afterwards. "user disable" stops the password working
at once and ends the user's web sessions; the name stays taken and on
record. After 5 wrong passwords in a row a user is locked for 15
minutes (the web login and basic auth alike); "user unlock" ends a
lockout at once. Each change is recorded in
the audit log (pantau-collector audit list).`

// cmdUser adds, lists and disables users (people who log in with a
// name and password).
func cmdUser(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintf(stderr, "Usage: pantau-collector %s\n", userUsage)
		if len(args) == 0 {
			return usageError{errors.New("missing subcommand: add, list or disable")}
		}
		return flag.ErrHelp
	}
	sub, rest := args[0], args[1:]
	var st stateFlags
	fs := newFlagSet("user "+sub, userUsage, stderr)
	st.register(fs)
	var (
		name, role, expires, pwFile, format string
		opds                                stringList
	)
	switch sub {
	case "add":
		fs.StringVar(&name, "name", "", "the user's login name (1-128 letters, digits, '.', '_' or '-')")
		fs.StringVar(&role, "role", "", roleHelp)
		fs.Var(&opds, "opd", "OPD the user may see (repeatable); default: every OPD")
		fs.StringVar(&expires, "expires", "", "expiry, as a duration (90d, 12h) or a date (2027-06-30, UTC); default: never")
		fs.StringVar(&pwFile, "password-file", "", "file whose first line is the password, or - for standard input (required; the password is never printed)")
	case "disable":
		fs.StringVar(&name, "name", "", "the user to disable")
	case "unlock":
		fs.StringVar(&name, "name", "", "the user to unlock")
	case "list":
		fs.StringVar(&format, "format", "table", "output format: table or json")
	default:
		return usageError{fmt.Errorf("unknown subcommand %q: use add, list, disable or unlock", sub)}
	}
	if err := parse(fs, rest); err != nil {
		return err
	}
	var (
		exp      time.Time
		password string
	)
	switch sub {
	case "add":
		switch {
		case name == "":
			return usageError{errors.New("--name is required")}
		case role == "":
			return usageError{errors.New("--role is required: viewer, operator or admin")}
		case pwFile == "":
			return usageError{errors.New("--password-file is required: a file whose first line is the password, or - for standard input")}
		}
		if expires != "" {
			var err error
			if exp, err = httpapi.ParseExpiry(expires, time.Now()); err != nil {
				return usageError{fmt.Errorf("--expires: %w", err)}
			}
		}
		var err error
		if password, err = readPassword(pwFile, stderr); err != nil {
			return err
		}
	case "disable", "unlock":
		if name == "" {
			return usageError{errors.New("--name is required")}
		}
	}
	_, db, err := st.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	switch sub {
	case "add":
		u, err := db.AddUser(ctx, statedb.User{Name: name, Role: role, OPDs: opds, ExpiresAt: exp}, password)
		if errors.Is(err, statedb.ErrUserExists) {
			return fmt.Errorf("user %s exists in %s: choose another name (a disabled user's name stays taken)", name, db.Path())
		}
		if err != nil {
			return err
		}
		audit(ctx, db, stderr, "user add", "user/"+u.Name, httpapi.UserSummary(u))
		fmt.Fprintf(stdout, "added %s user %s (%s) in %s\n", u.Role, u.Name, httpapi.ScopeText(u.OPDs), db.Path())
	case "disable":
		if err := db.DisableUser(ctx, name); err != nil {
			return err
		}
		audit(ctx, db, stderr, "user disable", "user/"+name, "disabled")
		fmt.Fprintf(stdout, "disabled user %s\n", name)
	case "unlock":
		if err := db.UnlockUser(ctx, name); err != nil {
			return err
		}
		audit(ctx, db, stderr, "user unlock", "user/"+name, "lockout ended")
		fmt.Fprintf(stdout, "unlocked user %s\n", name)
	case "list":
		list, err := db.ListUsers(ctx)
		if err != nil {
			return err
		}
		return printUsers(stdout, list, format)
	}
	return nil
}

// maxPasswordFile bounds what is read of a password file.
const maxPasswordFile = 4096

// readPassword reads the first line of path ("-": standard input),
// without its line ending. A file other users may read is warned about.
func readPassword(path string, stderr io.Writer) (string, error) {
	var r io.Reader = os.Stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return "", fmt.Errorf("read the password: %w", err)
		}
		defer f.Close()
		if fi, err := f.Stat(); err == nil && fi.Mode().Perm()&0o004 != 0 {
			fmt.Fprintf(stderr, "warning: %s can be read by every user of this host (mode %04o): chmod 600 it, or better delete it once the user is added\n",
				path, fi.Mode().Perm())
		}
		r = f
	}
	line, err := bufio.NewReader(io.LimitReader(r, maxPasswordFile+1)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read the password from %s: %w", path, err)
	}
	if len(line) > maxPasswordFile {
		return "", fmt.Errorf("the first line of %s is longer than %d bytes: put only the password in it", path, maxPasswordFile)
	}
	pw := strings.TrimRight(line, "\r\n")
	if pw == "" {
		return "", fmt.Errorf("the first line of %s is empty: put the password on it", path)
	}
	return pw, nil
}

func printUsers(w io.Writer, list []statedb.User, format string) error {
	now := time.Now()
	rows := make([]httpapi.UserView, 0, len(list))
	for _, u := range list {
		rows = append(rows, httpapi.UserViewOf(u, now))
	}
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rows)
	case "table":
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tROLE\tSCOPE\tCREATED\tSTATE")
		for _, r := range rows {
			scope := strings.Join(r.OPDs, ",")
			if scope == "" {
				scope = "*"
			}
			state := r.State
			switch {
			case r.State == "disabled":
				state += " " + r.Disabled.Format(time.RFC3339)
			case r.State == "expired", !r.Expires.IsZero():
				state += " until " + r.Expires.Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Name, r.Role, scope, r.Created.Format(time.RFC3339), state)
		}
		return tw.Flush()
	}
	return usageError{fmt.Errorf("--format: must be one of table, json (got %q)", format)}
}

const auditUsage = `audit list [--data-dir DIR] [--since 2026-12-01] [--until 2026-12-31] [--limit N] [--format table|json]

The audit log: every change to records, the inventory, tokens and users,
made through the API or with this command line, newest first. Each entry
says who (the token's id and name, the user, or the operating-system user
of a command line change), from where (the client address, or "local"
and the host), what (the endpoint or command, the object and a
before/after summary) and when. Secrets are never in it.

--since and --until are dates (UTC; --until 2026-12-31 includes that
day) or RFC 3339 times (2026-12-01T08:00:00+07:00). --limit is 1 to
10000 (default 1000).`

// cmdAudit lists the audit log.
func cmdAudit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintf(stderr, "Usage: pantau-collector %s\n", auditUsage)
		if len(args) == 0 {
			return usageError{errors.New("missing subcommand: list")}
		}
		return flag.ErrHelp
	}
	if args[0] != "list" {
		return usageError{fmt.Errorf("unknown subcommand %q: use list", args[0])}
	}
	var st stateFlags
	fs := newFlagSet("audit list", auditUsage, stderr)
	st.register(fs)
	since := fs.String("since", "", "first day (UTC) or RFC 3339 time to list")
	until := fs.String("until", "", "last day (UTC, included) or RFC 3339 time (excluded) to list")
	limit := fs.String("limit", "", "at most this many entries, 1 to 10000 (default 1000)")
	format := fs.String("format", "table", "output format: table or json")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	f, err := httpapi.ParseAuditFilter(*since, *until, *limit)
	if err != nil {
		var pe *httpapi.ParamError
		if errors.As(err, &pe) {
			return usageError{fmt.Errorf("--%s: %w", pe.Param, pe.Err)}
		}
		return usageError{err}
	}
	if *format != "table" && *format != "json" {
		return usageError{fmt.Errorf("--format: must be one of table, json (got %q)", *format)}
	}
	_, db, err := st.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	list, err := db.Audit(ctx, f)
	if err != nil {
		return err
	}
	if *format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(list)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "AT\tACTOR\tSOURCE\tACTION\tOBJECT\tSUMMARY")
	for _, e := range list {
		actor := e.ActorKind + " " + e.ActorName
		if e.ActorID != "" && e.ActorID != e.ActorName {
			actor += " (" + e.ActorID + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", e.At.Format(time.RFC3339), oneLine(actor), oneLine(e.Source), oneLine(e.Action), oneLine(e.Object), oneLine(e.Summary))
	}
	return tw.Flush()
}

// oneLine keeps a table row on one line whatever a caller's text holds.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == '\t' {
			return ' '
		}
		return r
	}, s)
}
