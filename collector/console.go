package collector

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/alert"
	"github.com/pantau-noc/pantau/collector/internal/config"
	"github.com/pantau-noc/pantau/collector/internal/sla"
	"github.com/pantau-noc/pantau/collector/internal/statedb"
	"github.com/pantau-noc/pantau/collector/internal/tgconsole"
)

// consoleBackend answers the Telegram console from the alert engine, the
// SLA engine and the TSDB.
type consoleBackend struct {
	alerts *alert.Engine
	sla    *slaRuntime
	eval   *alert.KindEval
	db     *statedb.DB
}

func (b *consoleBackend) Down(context.Context) ([]tgconsole.Problem, error) {
	inv := b.sla.builder.Inventory()
	var out []tgconsole.Problem
	for _, a := range b.alerts.Active() {
		if a.State != alert.StateFiring {
			continue
		}
		p := tgconsole.Problem{ID: a.Fingerprint, Rule: a.Rule, Severity: a.Severity, Title: b.alerts.Summary(a),
			Site: a.Labels["site"], District: a.Labels["district"], Since: a.ActiveAt, Acked: a.Acked}
		if inv != nil {
			if s := inv.Site(p.Site); s != nil {
				p.SiteName = s.Name
				if p.District == "" {
					p.District = s.District
				}
			}
		}
		out = append(out, p)
	}
	return out, nil
}

func (b *consoleBackend) Site(ctx context.Context, id string) (tgconsole.SiteStatus, error) {
	inv := b.sla.builder.Inventory()
	if inv == nil || inv.Site(id) == nil {
		return tgconsole.SiteStatus{}, tgconsole.ErrNotFound
	}
	s := inv.Site(id)
	st := tgconsole.SiteStatus{ID: s.ID, Name: s.Name, OPD: s.OPD, District: s.District}
	now := time.Now()
	for _, l := range inv.LinksOfSite(id) {
		ls := tgconsole.LinkStatus{ID: l.ID, State: b.sla.builder.Current(l, s.ID).String()}
		if v, err := b.eval.Query(ctx, fmt.Sprintf("max(pantau_icmp_loss_ratio{link=%q})", l.ID), now); err == nil && len(v) == 1 {
			ls.LossRatio = &v[0].Value
		}
		if v, err := b.eval.Query(ctx, fmt.Sprintf("max(pantau_icmp_rtt_avg_seconds{link=%q})", l.ID), now); err == nil && len(v) == 1 {
			ls.RTTSeconds = &v[0].Value
		}
		st.Links = append(st.Links, ls)
	}
	outs, err := b.sla.explainOutages(ctx, id, now.Add(-30*24*time.Hour), now)
	if err != nil {
		return st, err
	}
	if len(outs) > 0 {
		o := outs[len(outs)-1]
		last := &tgconsole.Outage{Start: o.Start, End: o.End, Cause: o.Cause}
		if b.sla.builder.Current(firstLink(inv.LinksOfSite(id)), s.ID) == sla.Down && !o.End.Before(now.Add(-2*time.Minute)) {
			last.End = time.Time{} // still going on
		}
		st.LastOutage = last
	}
	return st, nil
}

func firstLink[T any](ls []T) T {
	var zero T
	if len(ls) == 0 {
		return zero
	}
	return ls[0]
}

func (b *consoleBackend) Ack(ctx context.Context, prefix, author string) (tgconsole.Problem, error) {
	a, err := b.alerts.Ack(ctx, prefix, author)
	switch {
	case errors.Is(err, alert.ErrNoAlert):
		return tgconsole.Problem{}, tgconsole.ErrNotFound
	case errors.Is(err, alert.ErrAmbiguousAlert):
		return tgconsole.Problem{}, tgconsole.ErrAmbiguous
	case err != nil:
		return tgconsole.Problem{}, err
	}
	return tgconsole.Problem{ID: a.Fingerprint, Rule: a.Rule, Severity: a.Severity, Title: b.alerts.Summary(a), Site: a.Labels["site"],
		District: a.Labels["district"], Since: a.ActiveAt, Acked: a.Acked}, nil
}

func (b *consoleBackend) Silence(ctx context.Context, site string, d time.Duration, reason, author string) (int64, error) {
	inv := b.sla.builder.Inventory()
	if inv == nil || inv.Site(site) == nil {
		return 0, tgconsole.ErrNotFound
	}
	now := time.Now()
	return b.db.AddSilence(ctx, statedb.Silence{Matchers: map[string]string{"site": site}, Author: author, Reason: reason, Start: now, End: now.Add(d)}, now)
}

// newConsole builds the Telegram console when alerting.console names a
// notifier; nil otherwise.
func newConsole(cfg *config.Config, b *consoleBackend, log *slog.Logger) (*tgconsole.Console, error) {
	cc := cfg.Alerting.Console
	if cc.Notifier == "" || b.alerts == nil {
		return nil, nil
	}
	for _, n := range cfg.Notifiers {
		if n.Name != cc.Notifier {
			continue
		}
		zone := time.FixedZone("WIB", 7*3600)
		return tgconsole.New(tgconsole.Config{
			APIBase: n.URL, BotToken: n.BotToken, AllowedChats: cc.AllowedChats, AllowedUsers: cc.AllowedUsers,
			Lang: cfg.Alerting.Lang, Zone: zone,
		}, b, &http.Client{Timeout: 45 * time.Second}, log.With("component", "telegram-console"))
	}
	return nil, fmt.Errorf("alerting.console.notifier: no notifier %q", cc.Notifier)
}
