package collector

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"

	"github.com/pantau-noc/pantau/collector/internal/inventory"
	"github.com/pantau-noc/pantau/collector/internal/report"
	"github.com/pantau-noc/pantau/collector/internal/sla"
	"github.com/pantau-noc/pantau/collector/internal/statedb"
	pstore "github.com/pantau-noc/pantau/collector/internal/storage"
	"github.com/pantau-noc/pantau/internal/wire/schema"
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
	if len(args) == 0 || args[0] != "rebuild" {
		return usageError{errors.New("missing subcommand: rebuild (see pantau-collector sla rebuild --help)")}
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
	loc := pemdaZone(cfg, inv)
	if *zoneName != "" {
		if loc, err = zone(*zoneName); err != nil {
			return usageError{err}
		}
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
	n, series, err := rebuildStates(ctx, q, inv, scopes, db.Minutes(), from, to, func(series, marks int) {
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

// writeScopes are the write scopes of the agents whose series a rebuild
// reads, so that a stored round counts for a link only when it did at
// ingest (the token's sites, the link's icmp.agent: sla.Scope).
type writeScopes map[string]sla.Scope

// agentScopes reads each agent's scope from its tokens in state.db,
// revoked ones too (they were valid when the data was written): the union
// of their sites, or every site when one token has no --site.
func agentScopes(ctx context.Context, db *statedb.DB) (writeScopes, error) {
	toks, err := db.ListTokens(ctx)
	if err != nil {
		return nil, err
	}
	out := writeScopes{}
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

// of returns the scope of a stored series' agent. An agent without a
// token here (a report collector rebuilding a province from the shared
// engine holds no agent tokens) is taken to have written the site its
// series carry, since ingest refused any other; without a site label,
// every site.
func (w writeScopes) of(ls labels.Labels) sla.Scope {
	agent := ls.Get("agent")
	if sc, ok := w[agent]; ok {
		return sc
	}
	sc := sla.Scope{Agent: agent}
	if site := ls.Get("site"); site != "" {
		sc.Sites = []string{site}
	}
	return sc
}

// rebuildStates reads ICMP rounds, service checks and agent heartbeats
// from q and merges their minute marks into st, counting a series only
// for what its agent's write scope decides. It returns the marks and
// series read.
func rebuildStates(ctx context.Context, q storage.Queryable, inv *inventory.Inventory, scopes writeScopes, st sla.Store, from, to time.Time, progress func(series, marks int)) (int, int, error) {
	qr, err := q.Querier(from.UnixMilli(), to.UnixMilli()-1)
	if err != nil {
		return 0, 0, fmt.Errorf("query TSDB: %w", err)
	}
	defer qr.Close()
	var (
		marks         []sla.Mark
		total, series int
	)
	flush := func() error {
		if err := st.Merge(ctx, marks); err != nil {
			return err
		}
		total += len(marks)
		marks = marks[:0]
		progress(series, total)
		return nil
	}
	// the other field of the same line: same labels, another name
	sibling := func(ls labels.Labels, name string) (map[int64]float64, error) {
		ms := []*labels.Matcher{labels.MustNewMatcher(labels.MatchEqual, model.MetricNameLabel, name)}
		ls.Range(func(l labels.Label) {
			if l.Name != model.MetricNameLabel {
				ms = append(ms, labels.MustNewMatcher(labels.MatchEqual, l.Name, l.Value))
			}
		})
		out := map[int64]float64{}
		err := pstore.ReadSeries(ctx, qr, ms, func(t int64, v float64) { out[t] = v })
		return out, err
	}
	ups := qr.Select(ctx, false, nil, labels.MustNewMatcher(labels.MatchEqual, model.MetricNameLabel, "pantau_icmp_up"))
	for ups.Next() {
		ls := ups.At().Labels()
		l := inv.MatchICMP(ls.Get("link"), ls.Get("agent"), ls.Get("target"))
		if l == nil || !scopes.of(ls).DecidesLink(l) {
			continue
		}
		series++
		thr := sla.LinkThresholds(l)
		loss, err := sibling(ls, "pantau_icmp_loss_ratio")
		if err != nil {
			return total, series, fmt.Errorf("read loss of %s: %w", ls, err)
		}
		rtt, err := sibling(ls, "pantau_icmp_rtt_avg_seconds")
		if err != nil {
			return total, series, fmt.Errorf("read RTT of %s: %w", ls, err)
		}
		it := ups.At().Iterator(nil)
		for it.Next() != 0 {
			t, v := it.At()
			r, hasRTT := rtt[t]
			// the same mark as at ingest: class and 10-second slot
			marks = append(marks, sla.RoundMark(sla.KindLink, l.ID, t*1e6, sla.Classify(v > 0, loss[t], r, hasRTT, thr)))
		}
		if err := it.Err(); err != nil {
			return total, series, fmt.Errorf("read %s: %w", ls, err)
		}
		if len(marks) > 100000 {
			if err := flush(); err != nil {
				return total, series, err
			}
		}
	}
	if err := ups.Err(); err != nil {
		return total, series, fmt.Errorf("query TSDB: %w", err)
	}
	// services: the `up` series of each measurement a service uses
	b := sla.NewBuilder(inv, nil)
	done := map[string]bool{}
	for i := range inv.Services {
		m := inv.Services[i].Probe.Measurement
		if done[m] {
			continue
		}
		done[m] = true
		ups := qr.Select(ctx, false, nil, labels.MustNewMatcher(labels.MatchEqual, model.MetricNameLabel, schema.MetricName(m, "up")))
		for ups.Next() {
			ls := ups.At().Labels()
			sc := b.ServiceScoped([]byte(m), scopes.of(ls), []byte(ls.Get("target")))
			if sc == nil {
				continue
			}
			series++
			var rts map[int64]float64
			if sc.Field != "" {
				if rts, err = sibling(ls, schema.MetricName(m, sc.Field)); err != nil {
					return total, series, fmt.Errorf("read response times of %s: %w", ls, err)
				}
			}
			it := ups.At().Iterator(nil)
			for it.Next() != 0 {
				t, v := it.At()
				rt, hasRT := rts[t]
				marks = append(marks, sc.Mark(t*1e6, v > 0, rt, hasRT))
			}
			if err := it.Err(); err != nil {
				return total, series, fmt.Errorf("read %s: %w", ls, err)
			}
		}
		if err := ups.Err(); err != nil {
			return total, series, fmt.Errorf("query TSDB: %w", err)
		}
	}
	hbs := qr.Select(ctx, false, nil, labels.MustNewMatcher(labels.MatchEqual, model.MetricNameLabel, "pantau_agent_uptime_seconds"))
	for hbs.Next() {
		site := inv.Site(hbs.At().Labels().Get("site"))
		if site == nil {
			continue
		}
		series++
		it := hbs.At().Iterator(nil)
		for it.Next() != 0 {
			t, _ := it.At()
			marks = append(marks, sla.Mark{Kind: sla.KindSite, ID: site.ID, Minute: sla.MinuteOf(t * 1e6), Bits: sla.BitSeen})
		}
		if err := it.Err(); err != nil {
			return total, series, fmt.Errorf("read heartbeats: %w", err)
		}
	}
	if err := hbs.Err(); err != nil {
		return total, series, fmt.Errorf("query TSDB: %w", err)
	}
	if err := flush(); err != nil {
		return total, series, err
	}
	return total, series, nil
}
