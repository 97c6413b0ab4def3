package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/httpapi"
	"github.com/pantau-noc/pantau/collector/internal/inventory"
	"github.com/pantau-noc/pantau/collector/internal/statedb"
)

// incidentUsage is the synopsis and help of pantau-collector incident.
var incidentUsage = `incident add --scope link|site|service --target ID --start 2026-10-10T10:00 [--end 2026-10-10T11:30]
                --category ID --source ID --officer NAME [--ticket NO] [--impact TEXT] [--action TEXT]
                [--cause-override CAUSE --override-reason TEXT] [--zone WIT]
incident update --id N [--ticket NO] [--category ID] [--source ID] [--officer NAME] [--impact TEXT]
                [--action TEXT] [--cause-override CAUSE|"" --override-reason TEXT]
incident list [--from 2026-10-01 --to 2026-11-01] [--format table|json]

An incident record (indicator 28, Manajemen Layanan) is attached to a
detected outage: --scope and --target name what was out (a link, a site
when all its links were down, a service) and --start its first minute, as
the report's incident list shows it. A record with --end describes an
outage the monitoring did not detect (reported by phone, a national
application's outage); it is listed with its own times and counts in the
Pareto and MTTR but not in availability. Times are in --zone, by default
the Pemda's (report.time_zone in collector.yml, else the inventory's
defaults.timezone or the zone all its sites share, else WIB).

Categories (--category):
` + labelHelp(statedb.IncidentCategories) + `
Sources (--source, how the incident became known):
` + labelHelp(statedb.IncidentSources) + `
--cause-override is shown beside the computed cause in the report (the
figures, downtime by cause and ISP contracts, keep the computed one) and
needs --override-reason: isp, parent, power, unknown for links and sites;
service, network for services.`

func labelHelp(list []statedb.Label) string {
	var b strings.Builder
	for _, l := range list {
		g := ""
		if l.Group != "" && l.Group != l.ID {
			g = " (" + l.Group + ")"
		}
		fmt.Fprintf(&b, "  %-18s %s / %s%s\n", l.ID, l.Indonesian, l.English, g)
	}
	return b.String()
}

func cmdIncident(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError{errors.New("missing subcommand: add, update or list (see pantau-collector incident add --help)")}
	}
	if args[0] == "-h" || args[0] == "--help" || args[0] == "-help" || args[0] == "help" {
		fmt.Fprintf(stderr, "Usage: pantau-collector %s\n", incidentUsage)
		return flag.ErrHelp
	}
	sub, rest := args[0], args[1:]
	var s stateFlags
	fs := newFlagSet("incident "+sub, incidentUsage, stderr)
	s.register(fs)
	var (
		in                                   statedb.Incident
		start, end, zoneName, from, to, fmt_ string
		id                                   int64
	)
	text := func() {
		fs.StringVar(&in.Ticket, "ticket", "", "ticket number")
		fs.StringVar(&in.Category, "category", "", "category id (see --help)")
		fs.StringVar(&in.Impact, "impact", "", "impact: who or what was affected")
		fs.StringVar(&in.Action, "action", "", "action taken")
		fs.StringVar(&in.Officer, "officer", "", "officer who handled it")
		fs.StringVar(&in.Source, "source", "", "how it became known: otomatis, whatsapp, telepon or tiket")
		fs.StringVar(&in.CauseOverride, "cause-override", "", "replace the computed cause (needs --override-reason)")
		fs.StringVar(&in.OverrideReason, "override-reason", "", "why the computed cause is overridden")
	}
	switch sub {
	case "add":
		fs.StringVar(&in.Scope, "scope", statedb.IncidentLink, "what was out: link, site or service")
		fs.StringVar(&in.Target, "target", "", "link, site or service id (required)")
		fs.StringVar(&start, "start", "", "the outage's first minute, YYYY-MM-DDTHH:MM (required)")
		fs.StringVar(&end, "end", "", "end of an outage the monitoring did not detect (omit for a detected outage)")
		fs.StringVar(&zoneName, "zone", "", zoneHelp)
		text()
	case "update":
		fs.Int64Var(&id, "id", 0, "record id (required; see incident list)")
		text()
	case "list":
		fs.StringVar(&from, "from", "", "first date, YYYY-MM-DD (default: all)")
		fs.StringVar(&to, "to", "", "end date (exclusive), YYYY-MM-DD")
		fs.StringVar(&zoneName, "zone", "", zoneHelp)
		fs.StringVar(&fmt_, "format", "table", "table or json")
	default:
		return usageError{fmt.Errorf("unknown subcommand %q:\n%s", sub, incidentUsage)}
	}
	if err := parse(fs, rest); err != nil {
		return err
	}
	if sub == "list" && fmt_ != "table" && fmt_ != "json" {
		return usageError{fmt.Errorf("--format %q: want table or json", fmt_)}
	}
	cfg, db, err := s.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	var inv *inventory.Inventory
	if cfg.Inventory != "" {
		if inv, err = loadInventory(cfg); err != nil {
			return err
		}
	}
	loc, err := datesZone(cfg, inv, zoneName)
	if err != nil {
		return err
	}
	switch sub {
	case "add":
		if in.Target == "" || start == "" {
			return usageError{errors.New("--target and --start are required")}
		}
		if err := httpapi.CheckIncidentTarget(inv, in.Scope, in.Target, end == ""); err != nil {
			return fmt.Errorf("%w (inventory %s)", err, inv.File)
		}
		if in.Start, err = httpapi.ParseWindowTime("--start", start, loc); err != nil {
			return usageError{err}
		}
		if end != "" {
			e, err := httpapi.ParseWindowTime("--end", end, loc)
			if err != nil {
				return usageError{err}
			}
			in.End = &e
		}
		now := time.Now()
		id, err := db.AddIncident(ctx, in, now)
		if err != nil {
			return recordError(err)
		}
		after, err := db.IncidentByID(ctx, id)
		if err != nil {
			return err
		}
		audit(ctx, db, stderr, "incident add", "incident/"+strconv.FormatInt(id, 10), httpapi.Summary(nil, after))
		fmt.Fprintf(stdout, "recorded incident %d: %s %s from %s, %s\n", id, in.Scope, in.Target, in.Start.In(loc).Format("2006-01-02 15:04 MST"), in.Category)
	case "update":
		if id == 0 {
			return usageError{errors.New("--id is required")}
		}
		var p statedb.IncidentPatch
		fs.Visit(func(f *flag.Flag) {
			v := f.Value.String()
			switch f.Name {
			case "ticket":
				p.Ticket = &v
			case "category":
				p.Category = &v
			case "impact":
				p.Impact = &v
			case "action":
				p.Action = &v
			case "officer":
				p.Officer = &v
			case "source":
				p.Source = &v
			case "cause-override":
				p.CauseOverride = &v
			case "override-reason":
				p.OverrideReason = &v
			}
		})
		before, after, err := db.UpdateIncident(ctx, id, p, time.Now())
		if err != nil {
			return recordError(err)
		}
		audit(ctx, db, stderr, "incident update", "incident/"+strconv.FormatInt(id, 10), httpapi.Summary(before, after))
		fmt.Fprintf(stdout, "updated incident %d\n", id)
	case "list":
		var lo, hi time.Time
		if from != "" {
			if lo, err = time.ParseInLocation("2006-01-02", from, loc); err != nil {
				return usageError{fmt.Errorf("--from %q: want YYYY-MM-DD", from)}
			}
		}
		if to != "" {
			if hi, err = time.ParseInLocation("2006-01-02", to, loc); err != nil {
				return usageError{fmt.Errorf("--to %q: want YYYY-MM-DD", to)}
			}
		}
		list, err := db.Incidents(ctx, lo, hi, 0)
		if err != nil {
			return err
		}
		if fmt_ == "json" {
			if list == nil {
				list = []statedb.Incident{}
			}
			enc := json.NewEncoder(stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(list)
		}
		tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tSCOPE\tTARGET\tSTART\tEND\tTICKET\tCATEGORY\tSOURCE\tOFFICER\tCAUSE OVERRIDE\tACTION")
		for _, r := range list {
			e := "(detected)"
			if r.End != nil {
				e = r.End.In(loc).Format("2006-01-02 15:04")
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Scope, r.Target, r.Start.In(loc).Format("2006-01-02 15:04 MST"),
				e, r.Ticket, r.Category, r.Source, r.Officer, r.CauseOverride, r.Action)
		}
		return tw.Flush()
	}
	return nil
}

// recordError makes statedb's validation errors of a record (they wrap
// nothing: a bad --category, a ticket too long, nothing to change) usage
// errors, exit 2, as a bad flag is; a duplicate, an unknown id or a
// failure of state.db stay exit 1.
func recordError(err error) error {
	if errors.Unwrap(err) == nil {
		return usageError{err}
	}
	return err
}
