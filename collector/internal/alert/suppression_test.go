package alert

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/statedb"
)

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
