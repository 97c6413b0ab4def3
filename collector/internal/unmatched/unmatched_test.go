package unmatched

import (
	"context"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/tsdb"

	"github.com/pantau-noc/pantau/collector/internal/inventory"
)

// TestFind: ICMP targets, SNMP interfaces and plugin checks with data in
// the window that no link or service matches, once each, sorted; the
// agent's own measurement and series without a target are left out.
func TestFind(t *testing.T) {
	ctx := context.Background()
	db, err := tsdb.Open(t.TempDir(), slog.New(slog.DiscardHandler), nil, tsdb.DefaultOptions(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.Date(2026, 12, 7, 5, 0, 0, 0, time.UTC)
	app := db.Appender(ctx)
	for i, ls := range []labels.Labels{
		labels.FromStrings("__name__", "pantau_icmp_up", "agent", "a1", "site", "s1", "target", "10.0.0.1"), // the link's
		labels.FromStrings("__name__", "pantau_icmp_up", "agent", "a1", "site", "s1", "target", "10.0.0.9"),
		labels.FromStrings("__name__", "pantau_icmp_up", "agent", "a2", "site", "s1", "target", "10.0.0.9"),
		labels.FromStrings("__name__", "pantau_snmp_if_oper_status", "agent", "a1", "site", "s1", "device", "sw", "ifname", "eth2", "ifindex", "2"),
		labels.FromStrings("__name__", "pantau_snmp_if_oper_status", "agent", "a1", "site", "s1", "device", "sw", "ifname", "eth2", "ifindex", "3"),
		labels.FromStrings("__name__", "pantau_http_up", "agent", "a1", "site", "s1", "target", "portal"), // the service's
		labels.FromStrings("__name__", "pantau_dns_up", "agent", "a1", "site", "s1", "target", "ns1"),
		labels.FromStrings("__name__", "pantau_agent_up", "agent", "a1", "site", "s1", "target", "x"),
		labels.FromStrings("__name__", "pantau_tcp_up", "agent", "a1", "site", "s1"),
	} {
		if _, err := app.Append(0, ls, now.Add(-time.Duration(i)*time.Minute).UnixMilli(), 1); err != nil {
			t.Fatal(err)
		}
	}
	if err := app.Commit(); err != nil {
		t.Fatal(err)
	}
	inv, err := inventory.Parse("inventory.yml", []byte(`sites: [{id: s1, name: S1, kind: opd}]
links: [{id: l1, site: s1, icmp: {target: 10.0.0.1}}]
services: [{id: portal, name: Portal, site: s1, probe: {measurement: http, target: portal}}]
`))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := Find(ctx, db, inv, now.Add(-time.Hour), now.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	want := []Row{
		{Kind: "dns", Agent: "a1", Site: "s1", Target: "ns1"},
		{Kind: "icmp", Agent: "a1", Site: "s1", Target: "10.0.0.9"},
		{Kind: "icmp", Agent: "a2", Site: "s1", Target: "10.0.0.9"},
		{Kind: "snmp", Agent: "a1", Site: "s1", Target: "sw", Interface: "eth2"},
	}
	if !slices.Equal(rows, want) {
		t.Errorf("Find = %+v, want %+v", rows, want)
	}
	// without an inventory nothing matches
	rows, err = Find(ctx, db, nil, now.Add(-time.Hour), now.Add(time.Minute))
	if err != nil || len(rows) != 6 {
		t.Errorf("without an inventory: %+v %v", rows, err)
	}
	// a window without data
	if rows, err = Find(ctx, db, inv, now.Add(time.Hour), now.Add(2*time.Hour)); err != nil || len(rows) != 0 {
		t.Errorf("an empty window: %+v %v", rows, err)
	}
}
