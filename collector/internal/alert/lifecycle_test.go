package alert

import (
	"context"
	"strings"
	"testing"
	"time"
)

// Pending, firing after `for`, resolved after `clear_for` of clear, with
// the exact Bahasa Indonesia messages.
func TestLifecycleAndMessages(t *testing.T) {
	ev := &fakeEval{now: map[string][]Sample{}}
	ob := &outbox{ids: map[string]bool{}}
	cfg := &Config{Rules: []Rule{{Name: "LinkDown", Kind: KindLinkDown, For: dur("2m")}}}
	e := newEngine(t, openDB(t, t.TempDir()), cfg, ev, ob, testInventory)
	ctx := context.Background()
	t0 := time.Date(2026, 10, 10, 1, 0, 0, 0, time.UTC) // 10:00 WIT
	step := func(at time.Duration) {
		t.Helper()
		if err := e.Step(ctx, t0.Add(at)); err != nil {
			t.Fatal(err)
		}
	}
	ev.set("LinkDown", linkDown)
	for at := time.Duration(0); at < 2*time.Minute; at += 30 * time.Second {
		step(at)
	}
	if a := e.Active(); len(a) != 1 || a[0].State != StatePending || len(ob.all()) != 0 {
		t.Fatalf("before 2m: %+v, %d messages", a, len(ob.all()))
	}
	step(2 * time.Minute)
	if a := e.Active(); len(a) != 1 || a[0].State != StateFiring {
		t.Fatalf("at 2m: %+v", a)
	}
	step(12 * time.Minute) // still down 12 minutes in
	ev.set("LinkDown")
	step(12*time.Minute + 30*time.Second)
	step(13*time.Minute + 30*time.Second) // 1m30s since it last held: held
	if len(ob.all()) != 1 {
		t.Fatalf("%d messages before clear_for: %+v", len(ob.all()), ob.all())
	}
	step(14 * time.Minute) // 2m since it last held: resolved
	msgs := ob.all()
	if len(msgs) != 2 || len(e.Active()) != 0 {
		t.Fatalf("%d messages, %d active", len(msgs), len(e.Active()))
	}
	f, r := msgs[0].m, msgs[1].m
	if f.Status != "firing" || f.Title != "🔴 Link dinkes-wan PUTUS — Dinas Kesehatan" ||
		f.Text != "Lokasi: Dinas Kesehatan (dinkes)\nOPD: dinkes\nDistrik: aimas\nSejak: 2026-10-10 10:00 WIT\nAturan: LinkDown" ||
		f.Labels["alertname"] != "LinkDown" || f.Labels["severity"] != "critical" || !f.StartsAt.Equal(t0) || msgs[0].notifier != "tg" {
		t.Errorf("firing message %+v", f)
	}
	if r.Status != "resolved" || r.Title != "✅ PULIH: Link dinkes-wan PUTUS — Dinas Kesehatan" ||
		r.Text != "Lokasi: Dinas Kesehatan (dinkes)\nOPD: dinkes\nDistrik: aimas\nSejak: 2026-10-10 10:00 WIT\nPulih: 2026-10-10 10:12 WIT\nLama gangguan: 12 menit\nAturan: LinkDown" ||
		!r.EndsAt.Equal(t0.Add(12*time.Minute)) {
		t.Errorf("resolved message %+v", r)
	}
	if msgs[1].id != msgs[0].id+"-resolved" {
		t.Errorf("ids %s, %s", msgs[0].id, msgs[1].id)
	}
}

// The resolved message of a link_down alert gives the outage the SLA
// engine measured from the rounds (first failed round 10:00:30, first
// good round 10:03:53 → 3 min 23 s; the "Lasted: 2 min"), not
// the rule's evaluation times (10:01:00 to 10:03:30).
func TestResolvedLinkDownMeasured(t *testing.T) {
	ev := &fakeEval{now: map[string][]Sample{}}
	ob := &outbox{ids: map[string]bool{}}
	cfg := &Config{Lang: "en", Rules: []Rule{{Name: "LinkDown", Kind: KindLinkDown, For: dur("30s"), ClearFor: ptr(dur("1m"))}}}
	e := newEngine(t, openDB(t, t.TempDir()), cfg, ev, ob, testInventory)
	t0 := time.Date(2026, 10, 10, 1, 0, 0, 0, time.UTC) // 10:00 WIT
	var asked [3]string
	e.o.ExplainLink = func(_ context.Context, link string, from, to time.Time) ([]Outage, error) {
		asked = [3]string{link, from.Sub(t0).String(), to.Sub(t0).String()}
		return []Outage{{Start: t0.Add(30 * time.Second), End: t0.Add(3*time.Minute + 53*time.Second), Cause: "isp"}}, nil
	}
	ev.set("LinkDown", linkDown)
	for at := time.Minute; at <= 3*time.Minute+30*time.Second; at += 30 * time.Second {
		e.Step(context.Background(), t0.Add(at))
	}
	ev.set("LinkDown")
	for at := 4 * time.Minute; at <= 5*time.Minute; at += 30 * time.Second {
		e.Step(context.Background(), t0.Add(at))
	}
	msgs := ob.all()
	if len(msgs) != 2 || msgs[1].m.Status != "resolved" {
		t.Fatalf("messages %+v", msgs)
	}
	want := "Site: Dinas Kesehatan (dinkes)\nOPD: dinkes\nDistrict: aimas\nSince: 2026-10-10 10:00:30 WIT\nRecovered: 2026-10-10 10:03:53 WIT\nLasted: 3 min 23 s\nRule: LinkDown"
	if msgs[1].m.Text != want {
		t.Errorf("resolved message\n%s\nwant\n%s", msgs[1].m.Text, want)
	}
	if asked != [3]string{"dinkes-wan", "1m0s", "3m30s"} {
		t.Errorf("asked the SLA engine for %v", asked)
	}
	// without the SLA engine's answer: the rule's times, to the second
	if got := duration(2*time.Minute+30*time.Second, "id"); got != "2 menit 30 detik" {
		t.Errorf("duration %q", got)
	}
	if got := duration(3*time.Hour, "en"); got != "3 h" {
		t.Errorf("duration %q", got)
	}
}

// A link flapping every 30 s for 10 minutes gives one alert and, once it
// is stable, one resolution.
func TestFlappingGivesOneAlert(t *testing.T) {
	ev := &fakeEval{now: map[string][]Sample{}}
	ob := &outbox{ids: map[string]bool{}}
	cfg := &Config{Lang: "en", Rules: []Rule{{Name: "LinkDown", Kind: KindLinkDown, For: dur("1m"), ClearFor: ptr(dur("2m"))}}}
	e := newEngine(t, openDB(t, t.TempDir()), cfg, ev, ob, testInventory)
	t0 := time.Date(2026, 10, 10, 1, 0, 0, 0, time.UTC)
	var at time.Duration
	for ; at < 10*time.Minute; at += 15 * time.Second {
		if (at/(30*time.Second))%2 == 0 {
			ev.set("LinkDown", linkDown)
		} else {
			ev.set("LinkDown")
		}
		e.Step(context.Background(), t0.Add(at))
	}
	ev.set("LinkDown")
	for end := at + 3*time.Minute; at < end; at += 15 * time.Second {
		e.Step(context.Background(), t0.Add(at))
	}
	msgs := ob.all()
	if len(msgs) != 2 || msgs[0].m.Status != "firing" || msgs[1].m.Status != "resolved" ||
		msgs[0].m.Title != "🔴 Link dinkes-wan DOWN — Dinas Kesehatan" || !strings.Contains(msgs[1].m.Text, "Lasted: 9 min 15 s") {
		for _, m := range msgs {
			t.Logf("%s %q %q", m.m.Status, m.m.Title, m.m.Text)
		}
		t.Fatalf("%d messages, want one firing and one resolved", len(msgs))
	}
}

// A restart while an alert fires neither repeats its message nor loses
// its resolution; a rule whose query fails keeps its alerts.
func TestRestartMidFiring(t *testing.T) {
	dir := t.TempDir()
	ev := &fakeEval{now: map[string][]Sample{}, fail: map[string]bool{}}
	ob := &outbox{ids: map[string]bool{}}
	cfg := func() *Config { return &Config{Rules: []Rule{{Name: "LinkDown", Kind: KindLinkDown, For: dur("1m")}}} }
	t0 := time.Date(2026, 10, 10, 1, 0, 0, 0, time.UTC)
	db := openDB(t, dir)
	e := newEngine(t, db, cfg(), ev, ob, testInventory)
	ev.set("LinkDown", linkDown)
	for at := time.Duration(0); at <= 2*time.Minute; at += 30 * time.Second {
		e.Step(context.Background(), t0.Add(at))
	}
	if len(ob.all()) != 1 {
		t.Fatalf("%d messages before the restart", len(ob.all()))
	}
	db.Close()

	db = openDB(t, dir)
	e = newEngine(t, db, cfg(), ev, ob, testInventory)
	if a := e.Active(); len(a) != 1 || a[0].State != StateFiring || !a[0].Notified || !a[0].ActiveAt.Equal(t0) {
		t.Fatalf("after the restart: %+v", a)
	}
	e.Step(context.Background(), t0.Add(3*time.Minute))
	ev.fail["LinkDown"] = true
	ev.set("LinkDown")
	if err := e.Step(context.Background(), t0.Add(10*time.Minute)); err == nil || len(e.Active()) != 1 {
		t.Fatalf("a failed query: err %v, %d active", err, len(e.Active()))
	}
	ev.fail["LinkDown"] = false
	e.Step(context.Background(), t0.Add(11*time.Minute))
	msgs := ob.all()
	if len(msgs) != 2 || msgs[1].m.Status != "resolved" || !strings.Contains(msgs[1].m.Text, "Lama gangguan: 3 menit") {
		t.Fatalf("messages %+v", msgs)
	}
}

// An agent is silent while its site's uplink is down; when it is back,
// the resolved message waits for the backlog and says when the site was
// down and why: one message for the outage, one for the recovery.
func TestAgentBackReportsLateOutage(t *testing.T) {
	ev := &fakeEval{now: map[string][]Sample{}}
	ob := &outbox{ids: map[string]bool{}}
	cfg := &Config{Rules: []Rule{{Name: "AgentSilent", Kind: KindAgentSilent, For: dur("5m"), ClearFor: ptr(dur("0s"))}}}
	e := newEngine(t, openDB(t, t.TempDir()), cfg, ev, ob, testInventory)
	t0 := time.Date(2026, 10, 10, 1, 0, 0, 0, time.UTC) // 10:00 WIT: the uplink goes down
	var asked [2]time.Time
	e.o.Explain = func(_ context.Context, site string, from, to time.Time) ([]Outage, error) {
		asked = [2]time.Time{from, to}
		if site != "dinkes" {
			t.Errorf("explain site %q", site)
		}
		return []Outage{{Start: t0, End: t0.Add(12 * time.Minute), Cause: "isp"}}, nil
	}
	silent := func(at time.Duration) Sample {
		return Sample{Labels: map[string]string{"agent": "agent-dinkes", "site": "dinkes"}, Value: at.Seconds()}
	}
	for at := 5 * time.Minute; at <= 12*time.Minute; at += 30 * time.Second {
		ev.set("AgentSilent", silent(at))
		e.Step(context.Background(), t0.Add(at))
	}
	ev.set("AgentSilent") // the agent is back at 10:12:30 and sends its backlog
	for at := 12*time.Minute + 30*time.Second; at <= 16*time.Minute; at += 30 * time.Second {
		e.Step(context.Background(), t0.Add(at))
		if at < 14*time.Minute+30*time.Second && len(ob.all()) != 1 {
			t.Fatalf("at %s: %d messages before the backlog wait", at, len(ob.all()))
		}
	}
	msgs := ob.all()
	if len(msgs) != 2 {
		t.Fatalf("%d messages", len(msgs))
	}
	if f := msgs[0].m; f.Title != "🔴 Agen agent-dinkes tidak mengirim data" {
		t.Errorf("firing %q", f.Title)
	}
	r := msgs[1].m
	if r.Title != "✅ PULIH: Agen agent-dinkes tidak mengirim data" ||
		!strings.Contains(r.Text, "\nPutus: 2026-10-10 10:00–10:12 WIT (12 menit), penyebab: ISP") {
		t.Errorf("resolved %q\n%s", r.Title, r.Text)
	}
	// asked about the silence: from its start (10:00) to the agent's return
	if !asked[0].Equal(t0) || !asked[1].Equal(t0.Add(12*time.Minute+30*time.Second)) {
		t.Errorf("explain asked for %v", asked)
	}
}

// An acknowledged alert is not repeated; an unacknowledged one is.
func TestAckStopsRepeats(t *testing.T) {
	ev := &fakeEval{now: map[string][]Sample{}}
	ob := &outbox{ids: map[string]bool{}}
	rep := dur("2m")
	cfg := &Config{RepeatInterval: &rep, Rules: []Rule{{Name: "LinkDown", Kind: KindLinkDown}, {Name: "Loss", Kind: KindLoss, Threshold: 0.1}}}
	e := newEngine(t, openDB(t, t.TempDir()), cfg, ev, ob, testInventory)
	ev.set("LinkDown", linkDown)
	ev.set("Loss", Sample{Labels: map[string]string{"link": "dinkes-wan", "site": "dinkes"}, Value: 0.5})
	t0 := time.Date(2026, 10, 10, 1, 0, 0, 0, time.UTC)
	e.Step(context.Background(), t0)
	var fp string
	for _, a := range e.Active() {
		if a.Rule == "LinkDown" {
			fp = a.Fingerprint
		}
	}
	if _, err := e.Ack(context.Background(), fp[:6], "@budi"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Ack(context.Background(), "zzzz", "@budi"); err != ErrNoAlert {
		t.Errorf("unknown id: %v", err)
	}
	for at := time.Minute; at <= 5*time.Minute; at += time.Minute {
		e.Step(context.Background(), t0.Add(at))
	}
	var link, loss int
	for _, m := range ob.all() {
		switch m.m.Labels["alertname"] {
		case "LinkDown":
			link++
		case "Loss":
			loss++
		}
	}
	if link != 1 || loss != 3 { // loss: at 0, 2m, 4m
		t.Errorf("LinkDown sent %d times (acked), Loss %d times", link, loss)
	}
}
