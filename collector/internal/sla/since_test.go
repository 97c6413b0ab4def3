package sla

import (
	"testing"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/inventory"
)

// CurrentSince gives the alert engine the first failed round of the run
// of failed rounds that reaches the latest round, across minutes, and the
// latest round's slot.
func TestCurrentSince(t *testing.T) {
	inv, err := inventory.Parse("inventory.yml", []byte(`sites:
  - {id: dinkes, name: Dinas Kesehatan, kind: opd}
links:
  - {id: dinkes-wan, site: dinkes, type: fibre, icmp: {target: 127.0.0.2}}
`))
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 10, 10, 1, 0, 0, 0, time.UTC)
	now := t0
	b := NewBuilder(inv, func() time.Time { return now })
	l := inv.Link("dinkes-wan")
	round := func(at time.Duration, up bool) {
		loss := 1.0
		if up {
			loss = 0
		}
		b.Committed(b.ICMP(nil, "a", "", "127.0.0.2", t0.Add(at).UnixNano(), up, loss, 0.01, up))
		now = t0.Add(at + 2*time.Second)
	}
	check := func(what string, st State, since, at time.Duration) {
		t.Helper()
		gs, gsince, gat := b.CurrentSince(l, "dinkes")
		var wsince time.Time
		if since >= 0 {
			wsince = t0.Add(since)
		}
		if gs != st || !gsince.Equal(wsince) || !gat.Equal(t0.Add(at)) {
			t.Errorf("%s: %v since %v at %v; want %v since %v at %v", what, gs, gsince, gat, st, wsince, t0.Add(at))
		}
	}
	round(5*time.Second, true)
	check("up", Up, -1, 0)
	round(35*time.Second, false) // slot 30 s
	check("first failed round", Down, 30*time.Second, 30*time.Second)
	round(65*time.Second, false) // next minute, slot 0
	check("second, next minute", Down, 30*time.Second, 60*time.Second)
	round(95*time.Second, false)
	check("third", Down, 30*time.Second, 90*time.Second)
	round(125*time.Second, true)
	check("back up", Up, -1, 120*time.Second)
	round(155*time.Second, false)
	check("down again", Down, 150*time.Second, 150*time.Second)
}
