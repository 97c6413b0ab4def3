package alert

import (
	"context"
	"strings"
	"testing"
	"time"
)

// A route with group_by sends the alerts of one district that fire within
// group_wait as one message, keeps the group across a restart, and groups
// their resolutions too; another district gets its own message.
func TestGroupedRoute(t *testing.T) {
	inv := `sites:
  - {id: a1, name: Puskesmas Aimas, kind: opd, district: aimas, timezone: WIT}
  - {id: a2, name: SMP 1 Aimas, kind: opd, district: aimas, timezone: WIT}
  - {id: a3, name: Kantor Distrik Aimas, kind: district, district: aimas, timezone: WIT}
  - {id: b1, name: Puskesmas Salawati, kind: opd, district: salawati, timezone: WIT}
links:
  - {id: a1-wan, site: a1, type: radio, icmp: {target: 127.0.3.1}}
  - {id: a2-wan, site: a2, type: radio, icmp: {target: 127.0.3.2}}
  - {id: a3-wan, site: a3, type: radio, icmp: {target: 127.0.3.3}}
  - {id: b1-wan, site: b1, type: radio, icmp: {target: 127.0.3.4}}
`
	dir := t.TempDir()
	ev := &fakeEval{now: map[string][]Sample{}}
	ob := &outbox{ids: map[string]bool{}}
	cfg := func() *Config {
		return &Config{Routes: []Route{{Notifiers: []string{"tg"}, GroupBy: []string{"district"}, GroupWait: dur("30s")}},
			Rules: []Rule{{Name: "LinkDown", Kind: KindLinkDown, ClearFor: ptr(dur("0s"))}}}
	}
	down := func(ids ...string) []Sample {
		var out []Sample
		for _, id := range ids {
			d := "aimas"
			if id == "b1" {
				d = "salawati"
			}
			out = append(out, Sample{Labels: map[string]string{"link": id + "-wan", "site": id, "district": d}, Value: 1})
		}
		return out
	}
	db := openDB(t, dir)
	e := newEngine(t, db, cfg(), ev, ob, inv)
	t0 := time.Date(2026, 10, 10, 1, 0, 0, 0, time.UTC)
	step := func(at time.Duration) { e.Step(context.Background(), t0.Add(at)) }
	ev.set("LinkDown", down("a1")...)
	step(0)
	ev.set("LinkDown", down("a1", "a2", "b1")...)
	step(10 * time.Second)
	// restart while the group waits
	db.Close()
	db = openDB(t, dir)
	e = newEngine(t, db, cfg(), ev, ob, inv)
	ev.set("LinkDown", down("a1", "a2", "a3", "b1")...)
	step(20 * time.Second)
	if n := len(ob.all()); n != 0 {
		t.Fatalf("%d messages before group_wait", n)
	}
	step(30 * time.Second) // aimas' group (from 0s) goes; salawati's (from 10s) waits
	step(40 * time.Second)
	msgs := ob.all()
	if len(msgs) != 2 {
		t.Fatalf("%d messages: %+v", len(msgs), msgs)
	}
	g := msgs[0].m
	if g.Title != "🔴 3 peringatan — aimas" || g.Status != "firing" || g.Labels["district"] != "aimas" ||
		g.Text != "• Link a1-wan PUTUS — Puskesmas Aimas (sejak 2026-10-10 10:00 WIT)\n• Link a2-wan PUTUS — SMP 1 Aimas (sejak 2026-10-10 10:00 WIT)\n• Link a3-wan PUTUS — Kantor Distrik Aimas (sejak 2026-10-10 10:00 WIT)" {
		t.Errorf("grouped message %q\n%s", g.Title, g.Text)
	}
	if b := msgs[1].m; b.Title != "🔴 Link b1-wan PUTUS — Puskesmas Salawati" {
		t.Errorf("salawati message %q", b.Title)
	}
	step(9*time.Minute + 40*time.Second) // still down
	ev.set("LinkDown")
	step(10 * time.Minute)
	step(10*time.Minute + 30*time.Second)
	msgs = ob.all()
	if len(msgs) != 4 || msgs[2].m.Title != "✅ PULIH: 3 peringatan — aimas" || !strings.Contains(msgs[2].m.Text, "• Link a2-wan PUTUS — SMP 1 Aimas (9 menit 30 detik)") {
		for _, m := range msgs {
			t.Logf("%q %q", m.m.Title, m.m.Text)
		}
		t.Fatalf("%d messages after recovery", len(msgs))
	}
}
