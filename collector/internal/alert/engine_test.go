package alert

import (
	"context"
	"encoding/json"
	"fmt"
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
