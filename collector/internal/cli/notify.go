package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/notify"
	"github.com/pantau-noc/pantau/collector/internal/outbox"
)

const notifyUsage = `notify test --config FILE --notifier NAME [--lang id|en] [--queue] [--hold 0s]
notify outbox --config FILE [--notifier NAME] [--limit 20] [--format table|json]
notify example [--type telegram|slack|discord|googlechat|teams|webhook|http|alertmanager]

test sends a test notification through a notifier of the config now and
says whether the endpoint took it (to an alertmanager notifier it also
sends the test alert's resolution, right after or after --hold, so none
stays active; Alertmanager passes it on to its receivers only if it is
still firing after the route's group_wait, default 30s: --hold 35s); with --queue it is stored in the outbox
instead and the running collector sends it (within 5 s), as it sends
alerts. outbox lists the latest notifications with their state (pending,
sent, failed), attempts and last error. example prints a documented
notifier of every type (or one), WhatsApp gateways included.`

// keepsAlerts tells whether a notifier type's receiver keeps an alert
// active until it is resolved (the chat types only show messages: a
// resolution there would be a second message).
func keepsAlerts(typ string) bool { return typ == "alertmanager" }

// testResolution is the resolution of a test message, ending at now.
func testResolution(m *notify.Message, now time.Time) *notify.Message {
	r := *m
	r.ID, r.Status, r.EndsAt = m.ID+"-resolved", "resolved", now.UTC()
	if !r.EndsAt.After(r.StartsAt) {
		r.EndsAt = r.StartsAt.Add(time.Second)
	}
	return &r
}

// sendTest sends a test notification now, saying whether a failure is
// the settings' (permanent) or the endpoint's for now.
func sendTest(ctx context.Context, n notify.Notifier, m *notify.Message) error {
	if err := n.Send(ctx, m); err != nil {
		var ne *notify.Error
		if errors.As(err, &ne) && ne.Permanent {
			return fmt.Errorf("%w (the endpoint refused it: check the notifier's settings)", err)
		}
		return fmt.Errorf("%w (temporary: the collector would retry it)", err)
	}
	return nil
}

func cmdNotify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError{errors.New("missing subcommand: test, outbox or example (see pantau-collector notify test --help)")}
	}
	sub, rest := args[0], args[1:]
	var s stateFlags
	fs := newFlagSet("notify "+sub, notifyUsage, stderr)
	var name, lang, format, typ string
	var queue bool
	var hold time.Duration
	var limit int
	switch sub {
	case "test":
		s.register(fs)
		fs.StringVar(&name, "notifier", "", "name of the notifier in the config (required)")
		fs.StringVar(&lang, "lang", "id", "language of the test message: id or en")
		fs.BoolVar(&queue, "queue", false, "store it in the outbox for the running collector instead of sending now")
		fs.DurationVar(&hold, "hold", 0, "alertmanager: resolve the test alert after this long (longer than the route's group_wait for its receivers to see it)")
	case "outbox":
		s.register(fs)
		fs.StringVar(&name, "notifier", "", "only this notifier")
		fs.IntVar(&limit, "limit", 20, "how many of the latest entries")
		fs.StringVar(&format, "format", "table", "table or json")
	case "example":
		fs.StringVar(&typ, "type", "", "one type only")
	default:
		return usageError{fmt.Errorf("unknown subcommand %q:\n%s", sub, notifyUsage)}
	}
	if err := parse(fs, rest); err != nil {
		return err
	}
	switch sub {
	case "example":
		ex := notify.Example(typ)
		if ex == "" {
			return usageError{fmt.Errorf("--type %q: want one of telegram, slack, discord, googlechat, teams, webhook, http, alertmanager", typ)}
		}
		fmt.Fprint(stdout, ex)
		return nil
	case "test":
		if name == "" {
			return usageError{errors.New("--notifier is required")}
		}
		if !notify.ValidLang(lang) {
			return usageError{fmt.Errorf("--lang %q: want id or en", lang)}
		}
		if hold < 0 || hold > 10*time.Minute {
			return usageError{fmt.Errorf("--hold %s: want between 0s and 10m", hold)}
		}
	case "outbox":
		if format != "table" && format != "json" {
			return usageError{fmt.Errorf("--format %q: want table or json", format)}
		}
		if limit < 1 {
			return usageError{fmt.Errorf("--limit %d: want at least 1", limit)}
		}
	}
	cfg, db, err := s.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	var names []string
	for _, c := range cfg.Notifiers {
		names = append(names, c.Name)
	}
	if name != "" && !slices.Contains(names, name) {
		if len(names) == 0 {
			return fmt.Errorf("no notifier %q: the config %s has no notifiers (see pantau-collector notify example)", name, cfg.File)
		}
		return fmt.Errorf("no notifier %q in %s; configured: %s", name, cfg.File, strings.Join(names, ", "))
	}
	switch sub {
	case "test":
		ns, err := notify.Build(cfg.Notifiers)
		if err != nil {
			return err
		}
		n := ns[name]
		if queue {
			// the running collector finds it within 5 s (its idle poll)
			m, err := outbox.QueueTest(ctx, outbox.DBEnqueue(db), name, lang, time.Now())
			if err != nil {
				return err
			}
			if keepsAlerts(n.Type()) {
				// delivered after the test, in the outbox's order
				r := testResolution(m, time.Now())
				payload, err := json.Marshal(r)
				if err == nil {
					_, err = outbox.DBEnqueue(db)(ctx, name, r.ID, payload)
				}
				if err != nil {
					return fmt.Errorf("queue the resolution of %s for %s: %w", m.ID, name, err)
				}
			}
			fmt.Fprintf(stdout, "queued %s for %s; the running collector sends it within 5 s (see pantau-collector notify outbox)\n", m.ID, name)
			return nil
		}
		m := notify.TestMessage(lang, time.Now())
		if err := sendTest(ctx, n, m); err != nil {
			return err
		}
		if keepsAlerts(n.Type()) {
			// resolve it, or the receiver keeps it active (Alertmanager: for
			// 24 h); after --hold, so that its routes' group_wait lets it reach
			// their receivers (also when interrupted during the hold)
			select {
			case <-ctx.Done():
			case <-time.After(hold):
			}
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			defer cancel()
			if err := sendTest(rctx, n, testResolution(m, time.Now())); err != nil {
				return fmt.Errorf("the test notification went out, but its resolution did not: %w", err)
			}
			fmt.Fprintf(stdout, "sent a test notification to %s (%s) and resolved it\n", name, n.Type())
			return nil
		}
		fmt.Fprintf(stdout, "sent a test notification to %s (%s)\n", name, n.Type())
		return nil
	case "outbox":
		list, err := db.OutboxList(ctx, name, limit)
		if err != nil {
			return err
		}
		if format == "json" {
			type row struct {
				ID        int64      `json:"id"`
				Notifier  string     `json:"notifier"`
				MsgID     string     `json:"msg_id"`
				State     string     `json:"state"`
				Attempts  int        `json:"attempts"`
				Created   time.Time  `json:"created"`
				Done      *time.Time `json:"done,omitempty"`
				NextTry   *time.Time `json:"next_attempt,omitempty"`
				LastError string     `json:"last_error,omitempty"`
			}
			out := []row{}
			for _, e := range list {
				r := row{ID: e.ID, Notifier: e.Notifier, MsgID: e.MsgID, State: e.State, Attempts: e.Attempts, Created: e.Created.UTC(), LastError: e.LastError}
				if !e.Done.IsZero() {
					d := e.Done.UTC()
					r.Done = &d
				} else {
					n := e.Next.UTC()
					r.NextTry = &n
				}
				out = append(out, r)
			}
			enc := json.NewEncoder(stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(out)
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNOTIFIER\tMESSAGE\tSTATE\tATTEMPTS\tQUEUED\tLAST ERROR")
		for _, e := range list {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%s\t%s\n", e.ID, e.Notifier, e.MsgID, e.State, e.Attempts, e.Created.Format(time.RFC3339), e.LastError)
		}
		return tw.Flush()
	}
	return nil
}
