package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/report"
	"github.com/pantau-noc/pantau/collector/internal/sla"
	"github.com/pantau-noc/pantau/collector/internal/statedb"
)

const slaUsage = `sla rebuild --config FILE [--from 2026-10-01] [--to 2026-11-01] [--zone WIT]

Dates are days in the Pemda's time zone (--zone, else report.time_zone in
collector.yml, else the inventory's defaults.timezone or the zone all its
sites share, else WIB): --from 2026-10-01 in WIT starts at 00:00 WIT.

Builds minute states again from the samples in the TSDB (or, with
storage.local: false, in the engine behind storage.remote_query), for ICMP series
that match an inventory link, plugin checks that decide an inventory
service, and agent heartbeats of inventory sites, and
the capacity rollups of the closed (UTC) days in the range. Use
it after adding links to the inventory (their earlier data, Telegraf-fed or
legacy, is then claimed), after changing thresholds, or if storing states
ever failed. States only gain bits (they are ORed in), so a rebuild is
safe beside a running collector and can be repeated; a threshold change
applies to minutes that had no state yet. A stored round counts for a
link only as it did at ingest: within its agent's write scope (the sites
of the agent's tokens in state.db, and the link's icmp.agent). On a collector with the whole
province's inventory and storage.local: false, it computes the province's
states from the shared engine (docs/scale-out.md).`

func cmdSLA(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && (args[0] == "mark-monitored" || args[0] == "monitored") {
		return cmdMarkMonitored(ctx, args[0], args[1:], stdout, stderr)
	}
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help" || args[0] == "help") {
		fmt.Fprintf(stderr, "Usage: pantau-collector %s\n       pantau-collector %s\n\nSee pantau-collector sla rebuild --help and sla mark-monitored --help.\n",
			strings.SplitN(slaUsage, "\n", 2)[0], strings.ReplaceAll(markMonitoredUsage[:strings.Index(markMonitoredUsage, "\n\n")], "\n", "\n       pantau-collector "))
		return flag.ErrHelp
	}
	if len(args) == 0 || args[0] != "rebuild" {
		return usageError{errors.New("missing subcommand: rebuild, mark-monitored or monitored (see pantau-collector sla rebuild --help, sla mark-monitored --help)")}
	}
	var s stateFlags
	fs := newFlagSet("sla rebuild", slaUsage, stderr)
	s.register(fs)
	fromS := fs.String("from", "", "first day, YYYY-MM-DD (default: the out-of-order window back from now)")
	toS := fs.String("to", "", "day after the last, YYYY-MM-DD (default: now)")
	zoneName := fs.String("zone", "", zoneHelp)
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	log, err := s.c.log.Logger(stderr)
	if err != nil {
		return usageError{err}
	}
	cfg, db, err := s.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	inv, err := loadInventory(cfg)
	if err != nil {
		return err
	}
	to, from := time.Now(), time.Now().Add(-cfg.Storage.OutOfOrderWindow.Std())
	loc, err := datesZone(cfg, inv, *zoneName)
	if err != nil {
		return err
	}
	day := func(flag, v string) (time.Time, error) {
		t, err := time.ParseInLocation("2006-01-02", v, loc)
		if err != nil {
			return t, usageError{fmt.Errorf("--%s %q: want YYYY-MM-DD", flag, v)}
		}
		return t, nil
	}
	if *fromS != "" {
		if from, err = day("from", *fromS); err != nil {
			return err
		}
	}
	if *toS != "" {
		if to, err = day("to", *toS); err != nil {
			return err
		}
	}
	if !from.Before(to) {
		return usageError{errors.New("--from must be before --to")}
	}
	q, closeQ, err := openQueryable(cfg, log)
	if err != nil {
		return err
	}
	defer closeQ()
	last := time.Now()
	scopes, err := agentScopes(ctx, db)
	if err != nil {
		return err
	}
	n, series, err := sla.Rebuild(ctx, q, inv, scopes, db.Minutes(), from, to, func(series, marks int) {
		if time.Since(last) > 2*time.Second {
			last = time.Now()
			fmt.Fprintf(stderr, "sla rebuild: %d series, %d minute marks so far\n", series, marks)
		}
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "rebuilt minute states from %d series (%d rounds and heartbeats) between %s and %s\n",
		series, n, from.Format(time.RFC3339), to.Format(time.RFC3339))
	// capacity rollups of the closed UTC days in the range
	d0 := from.UnixMilli() / 86400000
	d1 := min(to.UnixMilli()-1, time.Now().UnixMilli())/86400000 - 1
	if to.UnixMilli()%86400000 == 0 && to.UnixMilli()/86400000-1 < d1 {
		d1 = to.UnixMilli()/86400000 - 1
	}
	links, err := report.ComputeRollups(ctx, inv, report.TSDBCapacity{Q: q}, db, d0, d1)
	if err != nil {
		return err
	}
	if d1 >= d0 {
		fmt.Fprintf(stdout, "rebuilt capacity rollups of %d links for %d closed days\n", links, d1-d0+1)
	}
	return nil
}

// agentScopes reads each agent's scope from its tokens in state.db,
// revoked ones too (they were valid when the data was written): the union
// of their sites, or every site when one token has no --site.
func agentScopes(ctx context.Context, db *statedb.DB) (sla.WriteScopes, error) {
	toks, err := db.ListTokens(ctx)
	if err != nil {
		return nil, err
	}
	out := sla.WriteScopes{}
	unrestricted := map[string]bool{}
	for _, t := range toks {
		sc := out[t.Agent]
		sc.Agent = t.Agent
		if len(t.Sites) == 0 {
			unrestricted[t.Agent] = true
		}
		sc.Sites = append(sc.Sites, t.Sites...)
		out[t.Agent] = sc
	}
	for a := range unrestricted {
		out[a] = sla.Scope{Agent: a}
	}
	return out, nil
}
