package alert

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/internal/yamlconf"
)

// An alert whose condition has cleared is never shown firing: a pending
// one is not promoted when its `for` runs out during clear_for (the
// issue's HighLoss shown firing two minutes after loss was back to 0),
// and a firing one is clearing, not repeated, until it resolves.
func TestClearedAlertIsNotFiring(t *testing.T) {
	ev := &fakeEval{now: map[string][]Sample{}}
	ob := &outbox{ids: map[string]bool{}}
	rep := dur("1m")
	cfg := &Config{RepeatInterval: &rep, Rules: []Rule{{Name: "HighLoss", Kind: KindLoss, Threshold: 0.2, For: dur("1m"), ClearFor: ptr(dur("2m"))}}}
	e := newEngine(t, openDB(t, t.TempDir()), cfg, ev, ob, testInventory)
	t0 := time.Date(2026, 10, 10, 1, 0, 0, 0, time.UTC)
	loss := Sample{Labels: map[string]string{"link": "dinkes-wan", "site": "dinkes"}, Value: 0.5}
	step := func(at time.Duration) {
		t.Helper()
		if err := e.Step(context.Background(), t0.Add(at)); err != nil {
			t.Fatal(err)
		}
	}
	state := func() string {
		t.Helper()
		a := e.Active()
		if len(a) != 1 {
			t.Fatalf("%d alerts: %+v", len(a), a)
		}
		return a[0].State
	}
	// pending, then loss is back to 0 before `for` ran out
	ev.set("HighLoss", loss)
	step(0)
	step(30 * time.Second)
	ev.set("HighLoss")
	for at := 45 * time.Second; at < 2*time.Minute+30*time.Second; at += 15 * time.Second {
		step(at)
		if s := state(); s != StateClearing {
			t.Fatalf("at %s, cleared since 45s: %s", at, s)
		}
	}
	step(2*time.Minute + 30*time.Second) // clear for 2m: gone, never sent
	if len(e.Active()) != 0 || len(ob.all()) != 0 {
		t.Fatalf("after clear_for: %+v, %d messages", e.Active(), len(ob.all()))
	}

	// firing, then cleared: clearing, no repeat, one resolution
	ev.set("HighLoss", loss)
	step(3 * time.Minute)
	step(4 * time.Minute)
	if s := state(); s != StateFiring || len(ob.all()) != 1 {
		t.Fatalf("at 4m: %s, %d messages", s, len(ob.all()))
	}
	ev.set("HighLoss")
	step(4*time.Minute + 15*time.Second)
	if s := state(); s != StateClearing {
		t.Fatalf("cleared at 4m15s: %s", s)
	}
	step(5*time.Minute + 30*time.Second) // a repeat would be due (1m)
	if s := state(); s != StateClearing || len(ob.all()) != 1 {
		t.Fatalf("at 5m30s: %s, %d messages", s, len(ob.all()))
	}
	// back within clear_for: the same alert firing again (the repeat
	// that is due now goes out)
	ev.set("HighLoss", loss)
	step(5*time.Minute + 45*time.Second)
	if s := state(); s != StateFiring || len(ob.all()) != 2 || !strings.HasSuffix(ob.all()[1].id, "-r1") {
		t.Fatalf("back at 5m45s: %s, %+v", s, ob.all())
	}
	ev.set("HighLoss")
	for at := 6 * time.Minute; at <= 8*time.Minute; at += 15 * time.Second {
		step(at)
	}
	msgs := ob.all()
	if len(msgs) != 3 || msgs[2].m.Status != "resolved" || len(e.Active()) != 0 {
		t.Fatalf("%d messages, %d alerts", len(msgs), len(e.Active()))
	}
}

// `for` counts from the outage's first failed round in the rounds' time,
// not from the evaluation that first saw it: an alert first evaluated
// 25 s after the first failed round (at 10:00:00) fires on the round that
// comes 30 s after it, and its message starts at that round.
func TestForCountsFromFirstDownRound(t *testing.T) {
	ev := &fakeEval{now: map[string][]Sample{}}
	ob := &outbox{ids: map[string]bool{}}
	cfg := &Config{Rules: []Rule{{Name: "LinkDown", Kind: KindLinkDown, For: dur("30s")}}}
	e := newEngine(t, openDB(t, t.TempDir()), cfg, ev, ob, testInventory)
	t0 := time.Date(2026, 10, 10, 1, 0, 0, 0, time.UTC) // 10:00 WIT
	down := func(since, at time.Duration) Sample {
		s := linkDown
		s.Since, s.At = t0.Add(since), t0.Add(at)
		return s
	}
	ev.set("LinkDown", down(0, 0))
	e.Step(context.Background(), t0.Add(25*time.Second))
	if a := e.Active(); len(a) != 1 || a[0].State != StatePending || !a[0].ActiveAt.Equal(t0) {
		t.Fatalf("first seen: %+v", a)
	}
	// later evaluations without a new round: still one round's worth
	e.Step(context.Background(), t0.Add(40*time.Second))
	e.Step(context.Background(), t0.Add(55*time.Second))
	if a := e.Active(); a[0].State != StatePending || len(ob.all()) != 0 {
		t.Fatalf("no second round yet: %+v", a)
	}
	// the second failed round, 30 s after the first
	ev.set("LinkDown", down(0, 30*time.Second))
	e.Step(context.Background(), t0.Add(56*time.Second))
	msgs := ob.all()
	if a := e.Active(); a[0].State != StateFiring || len(msgs) != 1 {
		t.Fatalf("second round: %+v, %d messages", a, len(msgs))
	}
	if m := msgs[0].m; !m.StartsAt.Equal(t0) || !strings.Contains(m.Text, "Sejak: 2026-10-10 10:00 WIT") {
		t.Errorf("firing message %+v", m)
	}
}

// Inhibit rules, by default: a link with a LinkDown alert does not
// notify its own HighLoss and HighLatency (shown inhibited), another
// link's HighLoss is notified; a down site inhibits its services' other
// alerts. inhibit_rules: [] inhibits nothing.
func TestInhibition(t *testing.T) {
	const inv = testInventory + `  - {id: dinkes-lte, site: dinkes, type: radio, icmp: {target: 127.0.0.3}}
  - {id: pkm-wan, site: pkm, type: radio, icmp: {target: 127.0.0.4}}
services:
  - {id: simpus, name: SIMPUS, site: dinkes, probe: {measurement: http, target: simpus}}
`
	const sites = `  - {id: pkm, name: Puskesmas, kind: opd, timezone: WIT}
`
	invYAML := strings.Replace(inv, "links:\n", sites+"links:\n", 1)
	run := func(inhibit *[]InhibitRule) ([]queued, []Alert) {
		ev := &fakeEval{now: map[string][]Sample{}}
		ob := &outbox{ids: map[string]bool{}}
		cfg := &Config{InhibitRules: inhibit, Rules: []Rule{
			{Name: "LinkDown", Kind: KindLinkDown}, {Name: "HighLoss", Kind: KindLoss, Threshold: 0.2},
			{Name: "HighLatency", Kind: KindLatency, Threshold: 0.2}, {Name: "SimpusSlow", Kind: KindPromQL, Expr: "up"},
		}}
		e := newEngine(t, openDB(t, t.TempDir()), cfg, ev, ob, invYAML)
		l := func(link string) map[string]string { return map[string]string{"link": link, "site": "dinkes"} }
		ev.set("LinkDown", Sample{Labels: l("dinkes-wan"), Value: 1}, Sample{Labels: l("dinkes-lte"), Value: 1})
		ev.set("HighLoss", Sample{Labels: l("dinkes-wan"), Value: 0.6}, Sample{Labels: map[string]string{"link": "pkm-wan", "site": "pkm"}, Value: 0.3})
		ev.set("HighLatency", Sample{Labels: l("dinkes-wan"), Value: 0.5})
		ev.set("SimpusSlow", Sample{Labels: map[string]string{"service": "simpus", "site": "dinkes"}, Value: 4})
		e.Step(context.Background(), time.Date(2026, 10, 10, 1, 0, 0, 0, time.UTC))
		return ob.all(), e.Active()
	}
	msgs, active := run(nil)
	var sent []string
	for _, m := range msgs {
		sent = append(sent, m.m.Labels["alertname"]+"/"+m.m.Labels["link"])
	}
	slices.Sort(sent)
	if strings.Join(sent, " ") != "HighLoss/pkm-wan LinkDown/dinkes-lte LinkDown/dinkes-wan" {
		t.Errorf("sent %v", sent)
	}
	want := map[string]string{
		"LinkDown/dinkes-wan": "", "LinkDown/dinkes-lte": "", "HighLoss/pkm-wan": "",
		"HighLoss/dinkes-wan": `LinkDown{link="dinkes-wan"}`, "HighLatency/dinkes-wan": `LinkDown{link="dinkes-wan"}`,
		"SimpusSlow/": `SiteDown{site="dinkes"}`,
	}
	for _, a := range active {
		k := a.Rule + "/" + a.Labels["link"]
		if w, ok := want[k]; !ok || a.Inhibited != w || a.Notified != (w == "") {
			t.Errorf("%s: inhibited %q notified %v, want %q", k, a.Inhibited, a.Notified, w)
		}
	}
	if len(active) != len(want) {
		t.Errorf("%d alerts, want %d", len(active), len(want))
	}
	msgs, active = run(&[]InhibitRule{})
	if len(msgs) != 6 {
		t.Errorf("without inhibit rules: %d messages, want 6", len(msgs))
	}
	for _, a := range active {
		if a.Inhibited != "" {
			t.Errorf("without inhibit rules: %s inhibited by %s", a.Rule, a.Inhibited)
		}
	}
}

// inhibit_rules are checked like the rest of collector.yml: every
// problem at its file:line:col.
func TestInhibitRulesValidation(t *testing.T) {
	const yml = `alerting:
  inhibit_rules:
    - source_matchers: ['alertname="LinkDown"', 'link']
      target_matchers: []
      equal: [link, 9bad]
`
	var v struct {
		Alerting Config `yaml:"alerting"`
	}
	doc, err := yamlconf.Decode("collector.yml", []byte(yml), &v, "")
	if err != nil {
		t.Fatal(err)
	}
	probs := yamlconf.NewProblems(doc)
	v.Alerting.Validate(probs, "alerting", []string{"tg"})
	got := probs.Err()
	if got == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{
		`collector.yml:3:49: alerting.inhibit_rules[0].source_matchers[1]: "link" is not a label matcher such as alertname="LinkDown"`,
		`collector.yml:4:24: alerting.inhibit_rules[0].target_matchers: list at least one matcher`,
		`collector.yml:5:21: alerting.inhibit_rules[0].equal[1]: "9bad" is not a label name`,
	} {
		if !strings.Contains(got.Error(), want) {
			t.Errorf("missing %q in:\n%v", want, got)
		}
	}
	ok := DefaultConfig()
	if ir := *ok.InhibitRules; len(ir) != 2 || ir[0].Equal[0] != "link" {
		t.Errorf("default inhibit rules %+v", ir)
	}
}

// FuzzInhibitMatchers: any matcher text is either refused with a problem
// or gives exactly one matcher; never a panic.
func FuzzInhibitMatchers(f *testing.F) {
	for _, s := range []string{`alertname="LinkDown"`, `alertname=~"High.*"`, `service!=""`, `a!~"x|y"`, `link`, `a="x",b="y"`, `}`, `{`, `a="\u00e9"`, ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		probs := yamlconf.NewProblems(nil)
		ms := parseMatchers(probs, "m", []string{s})
		if (probs.Err() == nil) != (len(ms) == 1) {
			t.Fatalf("%q: %d matchers, problems %v", s, len(ms), probs.Err())
		}
	})
}

// A resolved service_down message gives the outage the SLA engine
// measured from the checks, as link_down's does.
func TestResolvedServiceDownMeasured(t *testing.T) {
	ev := &fakeEval{now: map[string][]Sample{}}
	ob := &outbox{ids: map[string]bool{}}
	cfg := &Config{Lang: "en", Rules: []Rule{{Name: "ServiceDown", Kind: KindServiceDown, For: dur("1m"), ClearFor: ptr(dur("0s"))}}}
	e := newEngine(t, openDB(t, t.TempDir()), cfg, ev, ob, testInventory+`services:
  - {id: simpus, name: SIMPUS, site: dinkes, probe: {measurement: http, target: simpus}}
`)
	t0 := time.Date(2026, 10, 10, 1, 0, 0, 0, time.UTC)
	e.o.ExplainService = func(_ context.Context, id string, from, to time.Time) ([]Outage, error) {
		if id != "simpus" {
			t.Errorf("asked for %q", id)
		}
		return []Outage{{Start: t0.Add(10 * time.Second), End: t0.Add(4*time.Minute + 40*time.Second)}}, nil
	}
	ev.set("ServiceDown", Sample{Labels: map[string]string{"service": "simpus", "site": "dinkes"}, Value: 1})
	for at := time.Minute; at <= 4*time.Minute; at += 30 * time.Second {
		e.Step(context.Background(), t0.Add(at))
	}
	ev.set("ServiceDown")
	e.Step(context.Background(), t0.Add(5*time.Minute))
	msgs := ob.all()
	if len(msgs) != 2 || !strings.Contains(msgs[1].m.Text, "\nLasted: 4 min 30 s\n") || !msgs[1].m.StartsAt.Equal(t0.Add(10*time.Second)) ||
		!msgs[1].m.EndsAt.Equal(t0.Add(4*time.Minute+40*time.Second)) {
		t.Fatalf("messages %+v", msgs)
	}
}
