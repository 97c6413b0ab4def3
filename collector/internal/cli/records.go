package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/httpapi"
	"github.com/pantau-noc/pantau/collector/internal/inventory"
	"github.com/pantau-noc/pantau/collector/internal/sla"
	"github.com/pantau-noc/pantau/collector/internal/statedb"
)

const maintenanceUsage = `maintenance add --scope link|site|service|all [--target ID] --start 2026-10-20T08:30 --end 2026-10-20T10:00
                [--zone WIT] [--repeat daily|weekly|monthly [--until 2026-12-31T00:00]] --reason TEXT
maintenance list [--format table|json]
maintenance delete --id N

Windows may be added afterwards (retroactively): reports computed later
leave their minutes out. Times are in --zone, by default the time zone of
the site (or the link's or service's site) in the inventory; for --scope
all the Pemda's (report.time_zone in collector.yml, else the inventory's
defaults.timezone or the zone all its sites share, else WIB). A running
collector picks changes up within ` + "10s" + `.`

func cmdMaintenance(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError{errors.New("missing subcommand: add, list or delete (see pantau-collector maintenance add --help)")}
	}
	sub, rest := args[0], args[1:]
	var s stateFlags
	fs := newFlagSet("maintenance "+sub, maintenanceUsage, stderr)
	s.register(fs)
	var (
		scope, target, start, end, zoneName, repeat, until, reason, format string
		id                                                                 int64
	)
	switch sub {
	case "add":
		fs.StringVar(&scope, "scope", "link", "what the window covers: link, site, service or all")
		fs.StringVar(&target, "target", "", "link, site or service id (for --scope link, site or service)")
		fs.StringVar(&start, "start", "", "start, YYYY-MM-DDTHH:MM (required)")
		fs.StringVar(&end, "end", "", "end, YYYY-MM-DDTHH:MM (required)")
		fs.StringVar(&zoneName, "zone", "", "time zone of --start/--end/--until: WIB, WITA, WIT or IANA (default: the site's; for --scope all the Pemda's: report.time_zone, else the inventory's, else WIB)")
		fs.StringVar(&repeat, "repeat", "", "repeat the window daily, weekly or monthly")
		fs.StringVar(&until, "until", "", "last repeat starts before this time (default: no end)")
		fs.StringVar(&reason, "reason", "", "why (required; appears in reports)")
	case "list":
		fs.StringVar(&format, "format", "table", "table or json")
	case "delete":
		fs.Int64Var(&id, "id", 0, "window id (see maintenance list)")
	default:
		return usageError{fmt.Errorf("unknown subcommand %q:\n%s", sub, maintenanceUsage)}
	}
	if err := parse(fs, rest); err != nil {
		return err
	}
	cfg, db, err := s.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	switch sub {
	case "add":
		if zoneName == "" && scope != sla.ScopeAll && cfg.Inventory != "" {
			if inv, err := loadInventory(cfg); err == nil {
				site := inv.Site(target)
				if l := inv.Link(target); scope == sla.ScopeLink && l != nil {
					site = inv.Site(l.Site)
				}
				if sv := inv.Service(target); scope == sla.ScopeService && sv != nil {
					site = inv.Site(sv.Site)
				}
				if site == nil {
					return fmt.Errorf("%s %q is not in the inventory %s", scope, target, inv.File)
				}
				zoneName = site.Location.String()
			}
		}
		var inv *inventory.Inventory
		if zoneName == "" {
			inv, _ = loadInventory(cfg) // nil without one: the Pemda's zone is then report.time_zone or WIB
		}
		loc, err := datesZone(cfg, inv, zoneName)
		if err != nil {
			return err
		}
		parseT := func(flagName, v string, required bool) (time.Time, error) {
			if v == "" {
				if required {
					return time.Time{}, usageError{fmt.Errorf("--%s is required", flagName)}
				}
				return time.Time{}, nil
			}
			for _, layout := range []string{"2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02T15:04:05", "2006-01-02"} {
				if t, err := time.ParseInLocation(layout, v, loc); err == nil {
					return t, nil
				}
			}
			return time.Time{}, usageError{fmt.Errorf("--%s %q: want YYYY-MM-DDTHH:MM", flagName, v)}
		}
		w := sla.Window{Scope: scope, Target: target, Repeat: repeat, Reason: reason}
		if w.Start, err = parseT("start", start, true); err != nil {
			return err
		}
		if w.End, err = parseT("end", end, true); err != nil {
			return err
		}
		if w.Until, err = parseT("until", until, false); err != nil {
			return err
		}
		id, err := db.AddMaintenance(ctx, w, time.Now())
		if err != nil {
			return err
		}
		w.ID = id
		audit(ctx, db, stderr, "maintenance add", "maintenance/"+strconv.FormatInt(id, 10), httpapi.Summary(nil, w))
		fmt.Fprintf(stdout, "added maintenance window %d: %s %s %s – %s %s\n", id, scope, target,
			w.Start.Format("2006-01-02 15:04 MST"), w.End.Format("2006-01-02 15:04 MST"), repeat)
	case "list":
		ws, err := db.Maintenance(ctx)
		if err != nil {
			return err
		}
		if format == "json" {
			enc := json.NewEncoder(stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(ws)
		}
		tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tSCOPE\tTARGET\tSTART\tEND\tREPEAT\tUNTIL\tREASON")
		for _, w := range ws {
			u := ""
			if !w.Until.IsZero() {
				u = w.Until.Format("2006-01-02 15:04")
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", w.ID, w.Scope, w.Target,
				w.Start.Format("2006-01-02 15:04 MST"), w.End.Format("2006-01-02 15:04 MST"), w.Repeat, u, w.Reason)
		}
		return tw.Flush()
	case "delete":
		if id == 0 {
			return usageError{errors.New("--id is required")}
		}
		var before any = "unknown"
		if ws, err := db.Maintenance(ctx); err == nil {
			if i := slices.IndexFunc(ws, func(w sla.Window) bool { return w.ID == id }); i >= 0 {
				before = ws[i]
			}
		}
		if err := db.DeleteMaintenance(ctx, id, time.Now()); err != nil {
			return err
		}
		audit(ctx, db, stderr, "maintenance delete", "maintenance/"+strconv.FormatInt(id, 10), httpapi.Summary(before, "deleted"))
		fmt.Fprintf(stdout, "deleted maintenance window %d\n", id)
	}
	return nil
}

const reviewUsage = `review add (--month 2026-10 | --quarter 2026-Q4) --date 2026-11-05 --participants TEXT --findings TEXT [--scope OPD]
review list [--from 2026-01 --to 2026-12] [--format json|table]
followup add --item TEXT --owner TEXT [--due 2026-12-15] [--review N] [--opened DATE] [--status belum|proses]
followup update --id N --status belum|proses|selesai [--evidence TEXT] [--note TEXT] [--date DATE]
followup list [--as-of DATE] [--format table|json]

The periodic review (reviu), monthly (--month) or quarterly (--quarter),
and its recommendations (tindak lanjut) appear in the report; a quarterly
review counts as its quarter's last month (2026-Q4 as 2026-12), so it is
in the reports of that month and of its quarter. Items carry over month
to month until closed (selesai), and closing one needs evidence.`

func cmdReview(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError{errors.New("missing subcommand: add or list (see pantau-collector review add --help)")}
	}
	sub, rest := args[0], args[1:]
	var s stateFlags
	fs := newFlagSet("review "+sub, reviewUsage, stderr)
	s.register(fs)
	var r statedb.Review
	var from, to, quarter, format string
	switch sub {
	case "add":
		fs.StringVar(&r.Month, "month", "", "month reviewed, YYYY-MM (a monthly review; this or --quarter is required)")
		fs.StringVar(&quarter, "quarter", "", "quarter reviewed, 2026-Q4 or its last month 2026-12 (a quarterly review)")
		fs.StringVar(&r.HeldOn, "date", time.Now().Format("2006-01-02"), "date of the meeting")
		fs.StringVar(&r.Participants, "participants", "", "who took part (required)")
		fs.StringVar(&r.Findings, "findings", "", "what was found (required)")
		fs.StringVar(&r.Scope, "scope", "", "OPD the review covers (default: the whole Pemda)")
	case "list":
		fs.StringVar(&from, "from", "0000-00", "first month")
		fs.StringVar(&to, "to", "9999-99", "last month")
		fs.StringVar(&format, "format", "json", "json or table")
	default:
		return usageError{fmt.Errorf("unknown subcommand %q:\n%s", sub, reviewUsage)}
	}
	if err := parse(fs, rest); err != nil {
		return err
	}
	switch {
	case sub == "add" && r.Month != "" && quarter != "":
		return usageError{errors.New("--month and --quarter exclude each other: a review is of a month or of a quarter")}
	case sub == "add" && r.Month == "" && quarter == "":
		return usageError{errors.New("--month (a monthly review) or --quarter (a quarterly review) is required")}
	case sub == "add" && quarter != "":
		month, err := statedb.ReviewMonth(statedb.KindQuarterly, quarter)
		if err != nil {
			return usageError{fmt.Errorf("--quarter %q: %w", quarter, err)}
		}
		r.Kind, r.Month = statedb.KindQuarterly, month
	case sub == "add":
		r.Kind = statedb.KindMonthly
	case format != "json" && format != "table":
		return usageError{fmt.Errorf("--format %q: want json or table", format)}
	}
	_, db, err := s.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	if sub == "add" {
		id, err := db.AddReview(ctx, r, time.Now())
		if err != nil {
			return err
		}
		r.ID, r.Period = id, statedb.ReviewPeriod(r.Kind, r.Month)
		audit(ctx, db, stderr, "review add", "review/"+strconv.FormatInt(id, 10), httpapi.Summary(nil, r))
		fmt.Fprintf(stdout, "recorded %s review %d of %s\n", r.Kind, id, r.Period)
		return nil
	}
	list, err := db.Reviews(ctx, from, to)
	if err != nil {
		return err
	}
	if format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(list)
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tKIND\tPERIOD\tHELD ON\tSCOPE\tPARTICIPANTS\tFINDINGS")
	for _, v := range list {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", v.ID, v.Kind, v.Period, v.HeldOn, v.Scope, oneLine(v.Participants), oneLine(v.Findings))
	}
	return tw.Flush()
}

func cmdFollowUp(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError{errors.New("missing subcommand: add, update or list (see pantau-collector followup add --help)")}
	}
	sub, rest := args[0], args[1:]
	var s stateFlags
	fs := newFlagSet("followup "+sub, reviewUsage, stderr)
	s.register(fs)
	today := time.Now().Format("2006-01-02")
	var (
		f                                  statedb.FollowUp
		id                                 int64
		status, evidence, note, date, asOf string
		format                             string
	)
	switch sub {
	case "add":
		fs.StringVar(&f.Item, "item", "", "the recommendation (required)")
		fs.StringVar(&f.Owner, "owner", "", "who is responsible (required)")
		fs.StringVar(&f.Due, "due", "", "due date YYYY-MM-DD")
		fs.Int64Var(&f.ReviewID, "review", 0, "the review it came from")
		fs.StringVar(&f.Opened, "opened", today, "date opened")
		fs.StringVar(&f.Status, "status", statedb.StatusBelum, "belum or proses")
	case "update":
		fs.Int64Var(&id, "id", 0, "item id (required)")
		fs.StringVar(&status, "status", "", "belum, proses or selesai (required)")
		fs.StringVar(&evidence, "evidence", "", "evidence (required for selesai): a document, link or ticket")
		fs.StringVar(&note, "note", "", "note")
		fs.StringVar(&date, "date", today, "date of the change")
	case "list":
		fs.StringVar(&asOf, "as-of", today, "status as of this date")
		fs.StringVar(&format, "format", "table", "table or json")
	default:
		return usageError{fmt.Errorf("unknown subcommand %q:\n%s", sub, reviewUsage)}
	}
	if err := parse(fs, rest); err != nil {
		return err
	}
	_, db, err := s.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	switch sub {
	case "add":
		id, err := db.AddFollowUp(ctx, f, time.Now())
		if err != nil {
			return err
		}
		f.ID = id
		audit(ctx, db, stderr, "followup add", "followup/"+strconv.FormatInt(id, 10), httpapi.Summary(nil, f))
		fmt.Fprintf(stdout, "opened follow-up item %d\n", id)
	case "update":
		if id == 0 || status == "" {
			return usageError{errors.New("--id and --status are required")}
		}
		var before any = "unknown"
		if list, err := db.FollowUpsAsOf(ctx, "0000-00-00", "9999-12-31"); err == nil {
			if i := slices.IndexFunc(list, func(f statedb.FollowUp) bool { return f.ID == id }); i >= 0 {
				before = map[string]string{"status": list[i].Status, "evidence": list[i].Evidence, "on": list[i].Updated}
			}
		}
		if err := db.UpdateFollowUp(ctx, id, date, status, evidence, note); err != nil {
			return err
		}
		audit(ctx, db, stderr, "followup update", "followup/"+strconv.FormatInt(id, 10),
			httpapi.Summary(before, map[string]string{"status": status, "evidence": evidence, "on": date, "note": note}))
		fmt.Fprintf(stdout, "follow-up item %d is %s as of %s\n", id, status, date)
	case "list":
		list, err := db.FollowUpsAsOf(ctx, "0000-00-00", asOf)
		if err != nil {
			return err
		}
		if format == "json" {
			enc := json.NewEncoder(stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(list)
		}
		tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tOPENED\tOWNER\tDUE\tSTATUS\tAS OF\tITEM\tEVIDENCE")
		for _, f := range list {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", strconv.FormatInt(f.ID, 10), f.Opened, f.Owner, f.Due, f.Status, f.Updated, f.Item, f.Evidence)
		}
		return tw.Flush()
	}
	return nil
}
