package alert

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/inventory"
	"github.com/pantau-noc/pantau/collector/internal/notify"
	"github.com/pantau-noc/pantau/collector/internal/statedb"
	"github.com/pantau-noc/pantau/internal/yamlconf"
)

// fakeEval returns, per rule, the samples set by the test.
type fakeEval struct {
	mu   sync.Mutex
	now  map[string][]Sample
	fail map[string]bool
}

func (f *fakeEval) set(rule string, s ...Sample) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now[rule] = s
}

func (f *fakeEval) Eval(_ context.Context, r *Rule, _ time.Time) ([]Sample, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail[r.Name] {
		return nil, fmt.Errorf("query failed")
	}
	return f.now[r.Name], nil
}

// outbox records what the engine queues.
type outbox struct {
	mu   sync.Mutex
	msgs []queued
	ids  map[string]bool
}

type queued struct {
	notifier, id string
	m            notify.Message
}

func (o *outbox) enqueue(_ context.Context, n, id string, payload []byte) (bool, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.ids[n+"/"+id] {
		return false, nil // as the outbox does: once per notifier and id
	}
	o.ids[n+"/"+id] = true
	var m notify.Message
	if err := json.Unmarshal(payload, &m); err != nil {
		return false, err
	}
	o.msgs = append(o.msgs, queued{n, id, m})
	return true, nil
}

func (o *outbox) all() []queued {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]queued(nil), o.msgs...)
}

const testInventory = `sites:
  - {id: dinkes, name: Dinas Kesehatan, kind: opd, opd: dinkes, district: aimas, timezone: WIT}
links:
  - {id: dinkes-wan, site: dinkes, type: fibre, icmp: {target: 127.0.0.2}}
`

func ptr[T any](v T) *T { return &v }

func dur(s string) yamlconf.Duration { d, _ := yamlconf.ParseDuration(s); return yamlconf.Duration(d) }

func newEngine(t *testing.T, db *statedb.DB, cfg *Config, ev *fakeEval, ob *outbox, invYAML string) *Engine {
	t.Helper()
	probs := yamlconf.NewProblems(&yamlconf.Doc{File: "collector.yml"})
	cfg.Validate(probs, "alerting", []string{"tg", "wa"})
	if err := probs.Err(); err != nil {
		t.Fatal(err)
	}
	var inv *inventory.Inventory
	if invYAML != "" {
		var err error
		if inv, err = inventory.Parse("inventory.yml", []byte(invYAML)); err != nil {
			t.Fatal(err)
		}
	}
	e, err := New(context.Background(), Options{Config: cfg, Eval: ev, DB: db, Enqueue: ob.enqueue, Notifiers: []string{"tg"},
		Inventory: func() *inventory.Inventory { return inv }})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func openDB(t *testing.T, dir string) *statedb.DB {
	t.Helper()
	db, err := statedb.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

var linkDown = Sample{Labels: map[string]string{"link": "dinkes-wan", "site": "dinkes", "opd": "dinkes", "district": "aimas"}, Value: 1}

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

// A hub with 30 child sites goes down: one notification, for the hub,
// counting the 30; then one resolution.
func TestTopologySuppression(t *testing.T) {
	var inv strings.Builder
	inv.WriteString("sites:\n  - {id: hub, name: Hub Distrik Aimas, kind: district, timezone: WIT}\n")
	for i := range 30 {
		fmt.Fprintf(&inv, "  - {id: s%d, name: Sekolah %d, kind: opd, parent: hub, timezone: WIT}\n", i, i)
	}
	inv.WriteString("links:\n  - {id: hub-wan, site: hub, type: radio, icmp: {target: 127.0.1.1}}\n")
	for i := range 30 {
		fmt.Fprintf(&inv, "  - {id: s%d-wan, site: s%d, type: radio, icmp: {target: 127.0.2.%d}}\n", i, i, i+1)
	}
	ev := &fakeEval{now: map[string][]Sample{}}
	ob := &outbox{ids: map[string]bool{}}
	cfg := &Config{Rules: []Rule{{Name: "LinkDown", Kind: KindLinkDown, For: dur("1m")}}}
	e := newEngine(t, openDB(t, t.TempDir()), cfg, ev, ob, inv.String())
	all := []Sample{{Labels: map[string]string{"link": "hub-wan", "site": "hub"}, Value: 1}}
	for i := range 30 {
		all = append(all, Sample{Labels: map[string]string{"link": fmt.Sprintf("s%d-wan", i), "site": fmt.Sprint("s", i)}, Value: 1})
	}
	t0 := time.Date(2026, 10, 10, 1, 0, 0, 0, time.UTC)
	// the children's probes notice a little before the hub's
	ev.set("LinkDown", all[1:]...)
	e.Step(context.Background(), t0)
	ev.set("LinkDown", all...)
	for at := 15 * time.Second; at <= 5*time.Minute; at += 15 * time.Second {
		e.Step(context.Background(), t0.Add(at))
	}
	msgs := ob.all()
	if len(msgs) != 1 || msgs[0].m.Title != "🔴 Link hub-wan PUTUS — Hub Distrik Aimas" ||
		!strings.Contains(msgs[0].m.Text, "Terdampak: 30 lokasi di bawahnya (notifikasinya ditahan)") {
		t.Fatalf("%d messages: %+v", len(msgs), msgs)
	}
	// the hub's probe sees it back first; the children's 10 s later
	ev.set("LinkDown", all[1:]...)
	e.Step(context.Background(), t0.Add(5*time.Minute+15*time.Second))
	ev.set("LinkDown")
	for at := 5*time.Minute + 30*time.Second; at <= 9*time.Minute; at += 15 * time.Second {
		e.Step(context.Background(), t0.Add(at))
	}
	msgs = ob.all()
	if len(msgs) != 2 || msgs[1].m.Status != "resolved" || msgs[1].m.Labels["link"] != "hub-wan" {
		t.Fatalf("%d messages after recovery: %+v", len(msgs), msgs)
	}
}

// Maintenance windows and ad-hoc silences hold notifications back;
// routes pick notifiers by labels.
func TestSilencesMaintenanceAndRoutes(t *testing.T) {
	dir := t.TempDir()
	db := openDB(t, dir)
	ev := &fakeEval{now: map[string][]Sample{}}
	ob := &outbox{ids: map[string]bool{}}
	cfg := &Config{
		Routes: []Route{{Match: map[string]string{"district": "aimas"}, Notifiers: []string{"wa"}, Continue: true}, {Severity: []string{"critical"}, Notifiers: []string{"tg"}}},
		Rules:  []Rule{{Name: "LinkDown", Kind: KindLinkDown}, {Name: "Loss", Kind: KindLoss, Threshold: 0.1}},
	}
	t0 := time.Date(2026, 10, 10, 1, 0, 0, 0, time.UTC)
	if _, err := db.AddSilence(context.Background(), statedb.Silence{Matchers: map[string]string{"alertname": "Loss"}, Author: "budi", Reason: "ISP sedang perbaikan",
		Start: t0.Add(-time.Hour), End: t0.Add(time.Hour)}, t0); err != nil {
		t.Fatal(err)
	}
	e := newEngine(t, db, cfg, ev, ob, testInventory)
	inMaint := false
	e.o.InMaintenance = func(link, site string, _ time.Time) bool { return inMaint && site == "dinkes" }
	loss := Sample{Labels: map[string]string{"link": "dinkes-wan", "site": "dinkes", "district": "aimas", "alertname": "Loss"}, Value: 0.3}
	ev.set("Loss", loss)
	inMaint = true
	ev.set("LinkDown", linkDown)
	e.Step(context.Background(), t0)
	if len(ob.all()) != 0 {
		t.Fatalf("silenced alerts notified: %+v", ob.all())
	}
	inMaint = false
	e.Step(context.Background(), t0.Add(time.Minute))
	msgs := ob.all()
	// LinkDown (critical, district aimas): wa by the first route, tg by the second
	if len(msgs) != 2 || msgs[0].notifier != "wa" || msgs[1].notifier != "tg" || msgs[0].m.Labels["alertname"] != "LinkDown" {
		t.Fatalf("messages %+v", msgs)
	}
	if a := e.Active(); len(a) != 2 {
		t.Fatalf("active %+v", a)
	}
}

func TestConfigValidation(t *testing.T) {
	cfg := &Config{Lang: "jv", Routes: []Route{{Notifiers: []string{"nope"}}},
		Rules: []Rule{{Name: "1bad", Kind: "ping"}, {Name: "P", Kind: KindPromQL, Expr: "up ==", Title: "{{.Foo"}, {Name: "L", Kind: KindLoss, Threshold: 5}}}
	probs := yamlconf.NewProblems(&yamlconf.Doc{File: "collector.yml"})
	cfg.Validate(probs, "alerting", []string{"tg"})
	err := probs.Err()
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{"alerting.lang", `alerting.routes[0].notifiers[0]: no notifier named "nope"`, "alerting.rules[0].name", "alerting.rules[0].kind",
		"alerting.rules[1].expr: does not parse", "alerting.rules[1].title: does not parse as a template", "alerting.rules[2].threshold: is a ratio"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in:\n%v", want, err)
		}
	}
	ok := &Config{}
	probs = yamlconf.NewProblems(&yamlconf.Doc{File: "collector.yml"})
	ok.Validate(probs, "alerting", nil)
	if err := probs.Err(); err != nil || len(ok.Rules) != len(DefaultRules()) || ok.EvaluationInterval.Std() != 15*time.Second {
		t.Errorf("defaults: %v %+v", err, ok)
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

// A notifier that refuses notifications raises an alert sent to the
// other notifiers, which resolves after a success.
func TestNotifierFailingAlert(t *testing.T) {
	ev := &fakeEval{now: map[string][]Sample{}}
	ob := &outbox{ids: map[string]bool{}}
	cfg := &Config{Rules: []Rule{{Name: "LinkDown", Kind: KindLinkDown}}}
	probs := yamlconf.NewProblems(&yamlconf.Doc{File: "collector.yml"})
	cfg.Validate(probs, "alerting", []string{"tg", "wa"})
	e, err := New(context.Background(), Options{Config: cfg, Eval: ev, DB: openDB(t, t.TempDir()), Enqueue: ob.enqueue, Notifiers: []string{"tg", "wa"}})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 10, 10, 1, 0, 0, 0, time.UTC)
	e.NotifierFailed("tg", "telegram: Bad Request: chat not found")
	e.Step(context.Background(), t0)
	e.NotifierOK("tg")
	e.Step(context.Background(), t0.Add(time.Minute))
	msgs := ob.all()
	if len(msgs) != 2 || msgs[0].notifier != "wa" || msgs[1].notifier != "wa" ||
		msgs[0].m.Title != "⚠️ Notifier tg menolak notifikasi" || !strings.Contains(msgs[0].m.Text, "Alasan: telegram: Bad Request: chat not found") ||
		msgs[1].m.Status != "resolved" {
		t.Fatalf("messages %+v", msgs)
	}
}

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

// A service that is down fires ServiceDown with its own message; while
// its hosting site's links are down, the link alert speaks for it.
func TestServiceDown(t *testing.T) {
	ev := &fakeEval{now: map[string][]Sample{}}
	ob := &outbox{ids: map[string]bool{}}
	cfg := &Config{Rules: []Rule{{Name: "LinkDown", Kind: KindLinkDown, For: dur("1m")}, {Name: "ServiceDown", Kind: KindServiceDown, For: dur("1m")}}}
	e := newEngine(t, openDB(t, t.TempDir()), cfg, ev, ob, testInventory+`services:
  - {id: simpus, name: SIMPUS, site: dinkes, probe: {measurement: http, target: simpus}}
`)
	svc := Sample{Labels: map[string]string{"service": "simpus", "site": "dinkes", "opd": "dinkes"}, Value: 1}
	t0 := time.Date(2026, 10, 10, 1, 0, 0, 0, time.UTC)
	// the site's link and the service go down together: one message, the link's
	ev.set("LinkDown", linkDown)
	ev.set("ServiceDown", svc)
	for at := time.Duration(0); at <= 3*time.Minute; at += 15 * time.Second {
		e.Step(context.Background(), t0.Add(at))
	}
	msgs := ob.all()
	if len(msgs) != 1 || msgs[0].m.Labels["link"] != "dinkes-wan" {
		t.Fatalf("with the site down: %+v", msgs)
	}
	// the link is back, the service stays down: now it is the service's own
	ev.set("LinkDown")
	for at := 3*time.Minute + 15*time.Second; at <= 8*time.Minute; at += 15 * time.Second {
		e.Step(context.Background(), t0.Add(at))
	}
	msgs = ob.all()
	var titles []string
	for _, m := range msgs {
		titles = append(titles, m.m.Status+": "+m.m.Title)
	}
	// the service's message goes out as soon as the link is seen up; the
	// link's resolution waits for its clear_for
	want := []string{"firing: 🔴 Link dinkes-wan PUTUS — Dinas Kesehatan", "firing: 🔴 Layanan simpus TIDAK DAPAT DIAKSES — Dinas Kesehatan",
		"resolved: ✅ PULIH: Link dinkes-wan PUTUS — Dinas Kesehatan"}
	if fmt.Sprint(titles) != fmt.Sprint(want) {
		t.Errorf("messages:\n%s\nwant:\n%s", strings.Join(titles, "\n"), strings.Join(want, "\n"))
	}
	if m := msgs[1].m; m.Labels["service"] != "simpus" || m.Severity != SeverityCritical {
		t.Errorf("service alert %+v", m)
	}
}
