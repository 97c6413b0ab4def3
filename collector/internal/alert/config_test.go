package alert

import (
	"strings"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/internal/yamlconf"
)

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
