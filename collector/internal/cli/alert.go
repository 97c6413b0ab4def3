package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/alert"
	"github.com/pantau-noc/pantau/collector/internal/httpapi"
	"github.com/pantau-noc/pantau/collector/internal/statedb"
)

const silenceUsage = `silence add --config FILE --match label=value [--match ...] --duration 2h --author NAME --reason TEXT
silence list --config FILE [--format table|json]
silence expire --config FILE --id N

A silence holds back the notifications of alerts whose labels match every
--match (site=dinkes, link=dinkes-wan, alertname=HighLoss, district=aimas)
until it ends. The running collector applies changes at its next
evaluation. Planned work on a link or site is better recorded as a
maintenance window (pantau-collector maintenance add): it also keeps those
minutes out of the SLA figures.`

// matchFlags collects repeated --match label=value flags.
type matchFlags map[string]string

func (m matchFlags) String() string { return fmt.Sprint(map[string]string(m)) }

func (m matchFlags) Set(v string) error {
	k, val, ok := strings.Cut(v, "=")
	if !ok || k == "" || val == "" {
		return fmt.Errorf("want label=value, such as site=dinkes (got %q)", v)
	}
	m[k] = val
	return nil
}

func cmdSilence(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError{errors.New("missing subcommand: add, list or expire (see pantau-collector silence add --help)")}
	}
	sub, rest := args[0], args[1:]
	var s stateFlags
	fs := newFlagSet("silence "+sub, silenceUsage, stderr)
	s.register(fs)
	match := matchFlags{}
	var (
		dur            time.Duration
		author, reason string
		format         string
		id             int64
	)
	switch sub {
	case "add":
		fs.Var(match, "match", "label=value the alerts must have (repeatable; all must match)")
		fs.DurationVar(&dur, "duration", 2*time.Hour, "how long the silence lasts from now")
		fs.StringVar(&author, "author", "", "who silences (required; logged and listed)")
		fs.StringVar(&reason, "reason", "", "why (required)")
	case "list":
		fs.StringVar(&format, "format", "table", "table or json")
	case "expire":
		fs.Int64Var(&id, "id", 0, "silence id (see silence list)")
	default:
		return usageError{fmt.Errorf("unknown subcommand %q:\n%s", sub, silenceUsage)}
	}
	if err := parse(fs, rest); err != nil {
		return err
	}
	if sub == "list" && format != "table" && format != "json" {
		return usageError{fmt.Errorf("--format %q: want table or json", format)}
	}
	_, db, err := s.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	now := time.Now()
	switch sub {
	case "add":
		if dur <= 0 {
			return usageError{fmt.Errorf("--duration %s: want a positive duration such as 2h", dur)}
		}
		sid, err := db.AddSilence(ctx, statedb.Silence{Matchers: match, Author: author, Reason: reason, Start: now, End: now.Add(dur)}, now)
		if errors.Is(err, statedb.ErrBadSilence) {
			return usageError{err}
		}
		if err != nil {
			return err
		}
		audit(ctx, db, stderr, "silence add", "silence/"+strconv.FormatInt(sid, 10),
			httpapi.Summary(nil, statedb.Silence{ID: sid, Matchers: match, Author: author, Reason: reason, Start: now, End: now.Add(dur), Created: now}))
		fmt.Fprintf(stdout, "silence %d: %s until %s\n", sid, matchString(match), now.Add(dur).Format(time.RFC3339))
	case "expire":
		var before any = "unknown"
		if list, err := db.Silences(ctx, time.Time{}); err == nil {
			if i := slices.IndexFunc(list, func(sl statedb.Silence) bool { return sl.ID == id }); i >= 0 {
				before = map[string]time.Time{"end": list[i].End}
			}
		}
		if err := db.ExpireSilence(ctx, id, now); err != nil {
			return err
		}
		audit(ctx, db, stderr, "silence expire", "silence/"+strconv.FormatInt(id, 10), httpapi.Summary(before, "expired"))
		fmt.Fprintf(stdout, "silence %d expired\n", id)
	case "list":
		list, err := db.Silences(ctx, now)
		if err != nil {
			return err
		}
		if format == "json" {
			if list == nil {
				list = []statedb.Silence{}
			}
			enc := json.NewEncoder(stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(list)
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tMATCH\tUNTIL\tAUTHOR\tREASON")
		for _, sl := range list {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", sl.ID, matchString(sl.Matchers), sl.End.Format(time.RFC3339), sl.Author, sl.Reason)
		}
		return tw.Flush()
	}
	return nil
}

func matchString(m map[string]string) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, k+"="+m[k])
	}
	return strings.Join(parts, ",")
}

const alertUsage = `alert list --config FILE [--format table|json]

Lists the alerts as the collector last stored them: pending, firing, and
clearing (the condition is gone; it resolves after clear_for unless it
comes back). The running collector serves the pending and firing ones at
GET /api/v1/alerts, in Prometheus's shape with this record under "pantau".`

func cmdAlert(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "list" {
		return usageError{errors.New("missing subcommand: list (see pantau-collector alert list --help)")}
	}
	var s stateFlags
	fs := newFlagSet("alert list", alertUsage, stderr)
	s.register(fs)
	format := fs.String("format", "table", "table or json")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if *format != "table" && *format != "json" {
		return usageError{fmt.Errorf("--format %q: want table or json", *format)}
	}
	_, db, err := s.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	stored, err := db.LoadAlerts(ctx)
	if err != nil {
		return err
	}
	list := []alert.Alert{}
	for _, fp := range slices.Sorted(maps.Keys(stored)) {
		var a alert.Alert
		if err := json.Unmarshal(stored[fp], &a); err != nil {
			return fmt.Errorf("stored alert %s: %w", fp, err)
		}
		list = append(list, a)
	}
	if *format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(list)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RULE\tSTATE\tSEVERITY\tSINCE\tLABELS\tNOTE")
	for _, a := range list {
		note := ""
		switch {
		case a.Suppressed != "":
			note = "held back: parent site " + a.Suppressed + " is down"
		case a.Inhibited != "":
			note = "inhibited by " + a.Inhibited
		case a.Silenced:
			note = "silenced"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", a.Rule, a.State, a.Severity, a.ActiveAt.Format(time.RFC3339), matchString(a.Labels), note)
	}
	return tw.Flush()
}
