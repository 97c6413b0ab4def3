// Grouping: a route with `group_by` gathers its messages per notifier,
// status and group_by values for `group_wait`, then sends them as one;
// waiting groups are stored with the alerts, so a restart keeps them.

package alert

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/notify"
)

// groupPrefix marks stored groups among the stored alerts.
const groupPrefix = "group:"

// group is the messages of one route, notifier, status and group_by
// values that are waiting to go out as one.
type group struct {
	Key      string            `json:"key"`
	Notifier string            `json:"notifier"`
	Status   string            `json:"status"`
	Labels   map[string]string `json:"labels"` // the group_by labels
	First    time.Time         `json:"first"`
	Wait     time.Duration     `json:"wait"`
	Lang     string            `json:"lang"`
	Members  []member          `json:"members"`
}

type member struct {
	Msg  notify.Message `json:"msg"`
	Line string         `json:"line"`
}

// addToGroup puts a message in its route's group for the notifier.
func (e *Engine) addToGroup(t target, m *notify.Message, d *messageData) {
	lbls := map[string]string{}
	var vals []string
	for _, k := range t.route.GroupBy {
		lbls[k] = m.Labels[k]
		vals = append(vals, k+"="+m.Labels[k])
	}
	key := fmt.Sprintf("%d|%s|%s|%s", t.index, t.notifier, m.Status, strings.Join(vals, ","))
	g := e.groups[key]
	if g == nil {
		g = &group{Key: key, Notifier: t.notifier, Status: m.Status, Labels: lbls, First: d.now, Wait: t.route.GroupWait.Std(), Lang: d.Lang}
		e.groups[key] = g
	}
	line := stripMark(m.Title)
	if m.Status == "resolved" {
		line += " (" + d.Duration() + ")"
	} else {
		line += " (" + sincePrefix(d.Lang) + d.Since() + ")"
	}
	g.Members = append(g.Members, member{Msg: *m, Line: line})
	e.groupsDirty[key] = true
}

// storeGroups adds the groups changed since the last store to what Step
// saves with the alerts: put if still waiting, gone if sent.
func (e *Engine) storeGroups(put map[string][]byte, gone []string) []string {
	for key := range e.groupsDirty {
		if g := e.groups[key]; g != nil {
			put[groupPrefix+key], _ = json.Marshal(g)
		} else {
			gone = append(gone, groupPrefix+key)
		}
	}
	clear(e.groupsDirty)
	return gone
}

// flushGroups queues the groups whose wait is over.
func (e *Engine) flushGroups(ctx context.Context, now time.Time) {
	for _, key := range slices.Sorted(maps.Keys(e.groups)) {
		g := e.groups[key]
		if now.Sub(g.First) < g.Wait {
			continue
		}
		m := combine(g)
		payload, err := json.Marshal(m)
		if err == nil {
			_, err = e.o.Enqueue(ctx, g.Notifier, m.ID, payload)
		}
		if err != nil {
			e.log.Error("queuing a grouped notification failed; will retry", "notifier", g.Notifier, "group", key, "err", err)
			continue
		}
		for _, mb := range g.Members {
			e.m.notifications.WithLabelValues(mb.Msg.Labels["alertname"], m.Status).Inc()
		}
		delete(e.groups, key)
		e.groupsDirty[key] = true
	}
}

// combine makes one message of a group: the member's own message when it
// is alone, else a list.
func combine(g *group) *notify.Message {
	if len(g.Members) == 1 {
		m := g.Members[0].Msg
		return &m
	}
	rank := map[string]int{SeverityInfo: 0, SeverityWarning: 1, SeverityCritical: 2}
	m := &notify.Message{Status: g.Status, Labels: maps.Clone(g.Labels), Severity: SeverityInfo}
	h := sha256.New()
	var lines []string
	for i, mb := range g.Members {
		h.Write([]byte(mb.Msg.ID))
		h.Write([]byte{0})
		if rank[mb.Msg.Severity] > rank[m.Severity] {
			m.Severity = mb.Msg.Severity
		}
		if m.StartsAt.IsZero() || mb.Msg.StartsAt.Before(m.StartsAt) {
			m.StartsAt = mb.Msg.StartsAt
		}
		if mb.Msg.EndsAt.After(m.EndsAt) {
			m.EndsAt = mb.Msg.EndsAt
		}
		m.URL = mb.Msg.URL
		if i < 30 {
			lines = append(lines, "• "+mb.Line)
		}
	}
	if n := len(g.Members) - 30; n > 0 {
		more := "… dan %d lainnya"
		if g.Lang == "en" {
			more = "… and %d more"
		}
		lines = append(lines, fmt.Sprintf(more, n))
	}
	m.ID = "g-" + hex.EncodeToString(h.Sum(nil)[:8])
	m.Labels["alertname"] = "PantauGroup"
	m.Labels["severity"] = m.Severity
	var vals []string
	for _, k := range slices.Sorted(maps.Keys(g.Labels)) {
		if v := g.Labels[k]; v != "" {
			vals = append(vals, v)
		}
	}
	what := fmt.Sprintf("%d peringatan", len(g.Members))
	if g.Lang == "en" {
		what = fmt.Sprintf("%d alerts", len(g.Members))
	}
	if len(vals) > 0 {
		what += " — " + strings.Join(vals, ", ")
	}
	switch {
	case g.Status == "resolved" && g.Lang == "en":
		m.Title = "✅ RESOLVED: " + what
	case g.Status == "resolved":
		m.Title = "✅ PULIH: " + what
	default:
		m.Title = severityMark(m.Severity) + what
	}
	m.Text = strings.Join(lines, "\n")
	return m
}
