package alert

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/internal/yamlconf"
)

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
