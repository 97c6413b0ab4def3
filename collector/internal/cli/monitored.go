package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/httpapi"
	"github.com/pantau-noc/pantau/collector/internal/inventory"
	"github.com/pantau-noc/pantau/collector/internal/sla"
)

const markMonitoredUsage = `sla mark-monitored --config FILE --from 2026-03-01 --to 2026-07-01 [--site S | --agent A] [--zone WIT] [--reason TEXT]
sla monitored --config FILE [--format table|json]

Declares that history imported without agent heartbeats (from another
monitoring tool, a CSV, a Telegraf backlog) was monitored over [--from,
--to): inside the span a minute without link data is nodata (the link
was watched and nothing arrived: it counts against completeness, and
contracts' completeness), not a monitoring gap. Without it such minutes
are gaps, because no collector was running and no agent heartbeat
arrived for them. Data delivered by a Pantau agent needs no span: its
heartbeats show it was alive.

--from and --to are dates (YYYY-MM-DD, 00:00) or times (YYYY-MM-DDTHH:MM)
in the Pemda's time zone (--zone, else report.time_zone in collector.yml,
else the inventory's defaults.timezone or the zone all its sites share,
else WIB); --to is the day (or time) after the last. --site limits the
span to one site's links and services, --agent to the links whose
icmp.agent is that agent; without either it covers every site. Spans are
kept in state.db, recorded in the audit log and listed in the report's
methods; a report computed afterwards uses them.`

// parseSpan reads mark-monitored's flags into a span; loc is the zone of
// the dates.
func parseSpan(from, to, site, agent, reason string, loc *time.Location) (sla.Span, error) {
	when := func(flag, v string) (time.Time, error) {
		if v == "" {
			return time.Time{}, fmt.Errorf("--%s is required (YYYY-MM-DD or YYYY-MM-DDTHH:MM)", flag)
		}
		for _, layout := range []string{"2006-01-02", "2006-01-02T15:04", "2006-01-02 15:04"} {
			if t, err := time.ParseInLocation(layout, v, loc); err == nil {
				return t, nil
			}
		}
		return time.Time{}, fmt.Errorf("--%s %q: want YYYY-MM-DD or YYYY-MM-DDTHH:MM", flag, v)
	}
	sp := sla.Span{Scope: sla.SpanAll, Reason: reason}
	switch {
	case site != "" && agent != "":
		return sp, errors.New("give --site or --agent, not both")
	case site != "":
		sp.Scope, sp.Target = sla.SpanSite, site
	case agent != "":
		sp.Scope, sp.Target = sla.SpanAgent, agent
	}
	var err error
	if sp.Start, err = when("from", from); err != nil {
		return sp, err
	}
	if sp.End, err = when("to", to); err != nil {
		return sp, err
	}
	if sp.Start.Year() < sla.MinYear || sp.End.Year() > sla.MaxYear {
		return sp, fmt.Errorf("--from and --to must lie in the years %d to %d", sla.MinYear, sla.MaxYear)
	}
	if !sp.End.After(sp.Start) {
		return sp, fmt.Errorf("--to %s must be after --from %s", to, from)
	}
	return sp, sp.Validate()
}

func cmdMarkMonitored(ctx context.Context, sub string, args []string, stdout, stderr io.Writer) error {
	var s stateFlags
	fs := newFlagSet("sla "+sub, markMonitoredUsage, stderr)
	s.register(fs)
	var from, to, site, agent, zoneName, reason, format string
	if sub == "mark-monitored" {
		fs.StringVar(&from, "from", "", "first day (or time) monitored, YYYY-MM-DD[THH:MM] (required)")
		fs.StringVar(&to, "to", "", "day (or time) after the last monitored, YYYY-MM-DD[THH:MM] (required)")
		fs.StringVar(&site, "site", "", "only this site's links and services (default: every site)")
		fs.StringVar(&agent, "agent", "", "only the links whose icmp.agent is this agent")
		fs.StringVar(&zoneName, "zone", "", zoneHelp)
		fs.StringVar(&reason, "reason", "", "where the history came from (shown in the report's methods)")
	} else {
		fs.StringVar(&format, "format", "table", "table or json")
	}
	if err := parse(fs, args); err != nil {
		return err
	}
	if sub == "monitored" && format != "table" && format != "json" {
		return usageError{fmt.Errorf("--format %q: want table or json", format)}
	}
	cfg, db, err := s.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	if sub == "monitored" {
		spans, err := db.Monitored(ctx)
		if err != nil {
			return err
		}
		if format == "json" {
			enc := json.NewEncoder(stdout)
			enc.SetIndent("", "  ")
			if spans == nil {
				spans = []sla.Span{}
			}
			return enc.Encode(spans)
		}
		tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tSCOPE\tTARGET\tFROM\tTO\tREASON")
		for _, sp := range spans {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", sp.ID, sp.Scope, sp.Target,
				sp.Start.Format("2006-01-02 15:04 MST"), sp.End.Format("2006-01-02 15:04 MST"), sp.Reason)
		}
		return tw.Flush()
	}
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
	sp, err := parseSpan(from, to, site, agent, reason, loc)
	if err != nil {
		return usageError{err}
	}
	if inv != nil {
		switch sp.Scope {
		case sla.SpanSite:
			if inv.Site(sp.Target) == nil {
				return fmt.Errorf("site %q is not in the inventory %s: give a site id from it", sp.Target, inv.File)
			}
		case sla.SpanAgent:
			found := false
			for i := range inv.Links {
				found = found || inv.Links[i].ICMP.Agent == sp.Target
			}
			if !found {
				return fmt.Errorf("no link in the inventory %s has icmp.agent %q, so the span would cover nothing: use --site, or set the links' icmp.agent", inv.File, sp.Target)
			}
		}
	}
	id, err := db.AddMonitored(ctx, sp, time.Now())
	if err != nil {
		return err
	}
	sp.ID = id
	audit(ctx, db, stderr, "sla mark-monitored", "monitored/"+strconv.FormatInt(id, 10), httpapi.Summary(nil, sp))
	what := "every site"
	if sp.Target != "" {
		what = sp.Scope + " " + sp.Target
	}
	fmt.Fprintf(stdout, "marked %s monitored from %s to %s (span %d): minutes without data in it are nodata, not monitoring gaps\n",
		what, sp.Start.Format("2006-01-02 15:04 MST"), sp.End.Format("2006-01-02 15:04 MST"), id)
	return nil
}
