package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/auth"
	"github.com/pantau-noc/pantau/collector/internal/statedb"
)

// cmdToken creates, revokes and lists tokens: agent tokens (--agent),
// which write, and API tokens (--name --role), which read and change
// records as their role allows, within their OPD scope.
func cmdToken(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError{errors.New("missing subcommand: create, revoke or list")}
	}
	sub, rest := args[0], args[1:]
	var c common
	fs := newFlagSet("token "+sub, "token "+sub+" [flags]", stderr)
	fs.StringVar(&c.config, "config", "", "path to collector.yml, for data_dir")
	fs.StringVar(&c.dataDir, "data-dir", "", "data directory, overriding the config")
	c.log.Register(fs)
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
		fs.StringVar(&role, "role", "", "with --name: viewer (query API, reports, alerts), operator (viewer plus acknowledgements, silences, maintenance, reviews, follow-ups) or admin (operator plus inventory, tokens, users)")
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
			if exp, err = ParseExpiry(expires, time.Now()); err != nil {
				return usageError{fmt.Errorf("--expires: %w", err)}
			}
		}
	}
	cfg, err := c.load()
	if err != nil {
		return err
	}
	db, err := statedb.Open(ctx, cfg.DataDir)
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
		audit(ctx, db, stderr, "token create", "token/"+t.ID, tokenSummary(t))
		if agent != "" {
			fmt.Fprintf(stderr, "created token %s for agent %s in %s; store it now, it is not shown again\n", t.ID, t.Agent, db.Path())
		} else {
			fmt.Fprintf(stderr, "created %s token %s (%s, %s) in %s; store it now, it is not shown again\n", t.Role, t.ID, t.Name, scopeText(t.OPDs), db.Path())
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

func scopeText(opds []string) string {
	if len(opds) == 0 {
		return "every OPD"
	}
	return "OPD " + strings.Join(opds, ", ")
}

// tokenSummary describes a token for the audit log (never its secret).
func tokenSummary(t statedb.Token) string {
	if t.Role == statedb.RoleAgent {
		s := "agent token for " + t.Agent
		if len(t.Sites) > 0 {
			s += ", sites " + strings.Join(t.Sites, ",")
		}
		return s
	}
	s := fmt.Sprintf("%s token %s, %s", t.Role, t.Name, scopeText(t.OPDs))
	if !t.ExpiresAt.IsZero() {
		s += ", expires " + t.ExpiresAt.Format(time.RFC3339)
	}
	return s
}

// ParseExpiry reads an expiry: a duration from now (90d, 12h, 30m; days
// are 24 h) or a UTC date (2027-06-30, meaning its start) or an RFC 3339
// time. It must lie in the future and within ten years.
func ParseExpiry(s string, now time.Time) (time.Time, error) {
	if len(s) > 40 {
		return time.Time{}, fmt.Errorf("%q is too long: use a duration like 90d or a date like 2027-06-30", s[:40])
	}
	var t time.Time
	switch {
	case strings.HasSuffix(s, "d") && len(s) > 1:
		n, err := strconv.Atoi(s[:len(s)-1])
		if err != nil || n <= 0 || n > 3660 {
			return time.Time{}, fmt.Errorf("%q: days must be a whole number from 1 to 3660", s)
		}
		t = now.Add(time.Duration(n) * 24 * time.Hour)
	default:
		if d, err := time.ParseDuration(s); err == nil {
			t = now.Add(d)
			break
		}
		if d, err := time.Parse("2006-01-02", s); err == nil {
			t = d
			break
		}
		d, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return time.Time{}, fmt.Errorf("%q: use a duration (90d, 12h) or a date (2027-06-30) or an RFC 3339 time", s)
		}
		t = d
	}
	if !t.After(now) {
		return time.Time{}, fmt.Errorf("%q is not in the future", s)
	}
	if t.After(now.AddDate(10, 0, 1)) {
		return time.Time{}, fmt.Errorf("%q is more than ten years away", s)
	}
	return t.UTC(), nil
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
