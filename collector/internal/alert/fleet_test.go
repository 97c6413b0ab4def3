package alert

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/statedb"
	"github.com/pantau-noc/pantau/internal/yamlconf"
)

// TestFleetKinds: the fleet kinds on backdated fleet state, through the
// real evaluator and engine: a refused config fires at once with the
// agent's reason, an unapplied one after `for`; an older agent is
// outdated (a dev collector judges nothing); a clock beyond the
// threshold is skewed; an agent not heard from for over an hour is left
// to agent_silent. Messages in Bahasa Indonesia and English.
func TestFleetKinds(t *testing.T) {
	ctx := context.Background()
	db := openDB(t, t.TempDir())
	t0 := time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)
	for _, a := range []statedb.FleetAgent{
		{Agent: "ok", Site: "dinkes", Version: "1.3.0", LastSeen: t0, ConfigOffered: "aa", ConfigApplied: "aa", ConfigStatus: "applied", ClockOffsetSeconds: 0.4},
		{Agent: "refused", Site: "dinkes", Version: "1.3.0-rc1", LastSeen: t0, ConfigOffered: "bb", ConfigApplied: "aa", ConfigStatus: "failed",
			ConfigError: "icmp[0]:\n host missing", ClockOffsetSeconds: -42},
		{Agent: "slow", Site: "dinkes", Version: "1.2.9", LastSeen: t0, ConfigOffered: "bb", ConfigApplied: "aa", ConfigStatus: "applying"},
		{Agent: "gone", Site: "dinkes", Version: "0.1.0", LastSeen: t0.Add(-2 * time.Hour), ConfigOffered: "bb", ClockOffsetSeconds: 99},
	} {
		if err := db.UpsertFleetAgent(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	ev := NewKindEval(nil, nil, slog.New(slog.DiscardHandler))
	ev.SetFleet(db, "1.3.0+git4.gabc")
	cfg := &Config{Rules: []Rule{
		{Name: "ConfigNotApplied", Kind: KindConfigNotApplied, For: dur("10m")},
		{Name: "AgentOutdated", Kind: KindAgentOutdated},
		{Name: "ClockSkew", Kind: KindClockSkew, Threshold: 10},
	}}
	probs := yamlconf.NewProblems(&yamlconf.Doc{File: "collector.yml"})
	cfg.Validate(probs, "alerting", []string{"tg"})
	if err := probs.Err(); err != nil {
		t.Fatal(err)
	}
	ob := &outbox{ids: map[string]bool{}}
	e, err := New(ctx, Options{Config: cfg, Eval: ev, DB: db, Enqueue: ob.enqueue, Notifiers: []string{"tg"}})
	if err != nil {
		t.Fatal(err)
	}
	firing := func() map[string]string {
		out := map[string]string{}
		for _, a := range e.Active() {
			if a.State == StateFiring {
				out[a.Rule+"/"+a.Labels["agent"]] = a.Labels["reason"] + a.Labels["version"]
			}
		}
		return out
	}
	if err := e.Step(ctx, t0.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	got := firing()
	want := map[string]string{"ConfigNotApplied/refused": "icmp[0]: host missing", "AgentOutdated/refused": "1.3.0-rc1", "AgentOutdated/slow": "1.2.9", "ClockSkew/refused": ""}
	if len(got) != len(want) {
		t.Fatalf("firing %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("firing %v, want %v", got, want)
		}
	}
	// the unapplied config fires once `for` has run out
	if err := e.Step(ctx, t0.Add(11*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, ok := firing()["ConfigNotApplied/slow"]; !ok {
		t.Fatalf("unapplied for 11m, not firing: %v", firing())
	}
	var texts []string
	for _, q := range ob.all() {
		texts = append(texts, q.m.Title+"\n"+q.m.Text)
	}
	all := strings.Join(texts, "\n---\n")
	for _, w := range []string{"Agen refused menolak konfigurasi baru", "Alasan: icmp[0]: host missing", "Versi agen slow usang (1.2.9)",
		"Jam agen refused meleset -42 detik", "periksa NTP/chrony", "Agen slow belum menerapkan konfigurasi baru"} {
		if !strings.Contains(all, w) {
			t.Errorf("messages lack %q:\n%s", w, all)
		}
	}
	if strings.Contains(all, "gone") {
		t.Errorf("a stale agent was judged:\n%s", all)
	}

	// English, and a dev collector judges no version.
	d := &messageData{Alert: &Alert{Kind: KindClockSkew, Rule: "ClockSkew", Labels: map[string]string{"agent": "a"}, Value: 12.4}, Lang: "en", Zone: time.UTC}
	if title, text := defaultMessage(d); !strings.Contains(title, "Agent a clock off by +12 s") || !strings.Contains(text, "check NTP/chrony") {
		t.Errorf("english: %q %q", title, text)
	}
	ev.SetFleet(db, "0.0.0-dev+abc")
	if s, err := ev.Eval(ctx, &cfg.Rules[1], t0); err != nil || len(s) != 0 {
		t.Errorf("dev collector: %+v %v", s, err)
	}
}

func TestVersionOlder(t *testing.T) {
	for _, c := range []struct {
		a, c      string
		older, ok bool
	}{
		{"1.2.0", "1.3.0", true, true}, {"1.3.0", "1.3.0", false, true}, {"1.10.0", "1.9.0", false, true},
		{"v1.3.0-rc1", "1.3.0", true, true}, {"1.3.0", "1.3.0+git4.gabc", false, true}, {"2.0.0", "1.9.9", false, true},
		{"dev", "1.3.0", false, false}, {"1.3", "1.3.0", false, false}, {"1.2.0", "0.0.0-dev+abc", false, false},
	} {
		older, ok := versionOlder(c.a, c.c)
		if older != c.older || ok != c.ok {
			t.Errorf("versionOlder(%q, %q) = %v, %v", c.a, c.c, older, ok)
		}
	}
}

func TestFleetRuleValidation(t *testing.T) {
	cfg := &Config{Rules: []Rule{{Name: "C", Kind: KindClockSkew}, {Name: "N", Kind: KindConfigNotApplied, For: dur("10s")}}}
	probs := yamlconf.NewProblems(&yamlconf.Doc{File: "collector.yml"})
	cfg.Validate(probs, "alerting", nil)
	err := probs.Err()
	if err == nil || !strings.Contains(err.Error(), "rules[0].threshold") || !strings.Contains(err.Error(), "rules[1].for") {
		t.Fatalf("%v", err)
	}
}
