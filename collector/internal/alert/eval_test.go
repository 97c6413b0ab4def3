package alert

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/inventory"
	"github.com/pantau-noc/pantau/collector/internal/sla"
)

// evalTestInventory is one site with its link and two services.
const evalTestInventory = `
sites:
  - {id: dinkes, name: Dinas Kesehatan, kind: opd, timezone: WIB, sla_target: 99.5}
links:
  - {id: dinkes-wan, site: dinkes, type: fibre, bandwidth: 20Mbps, icmp: {target: 127.0.0.2}, snmp: {device: rtr-dinkes, interface: ether1}}
services:
  - {id: portal, name: Portal Pemda, site: dinkes, category: portal, probe: {measurement: http, target: portal}, thresholds: {response_time: 2s}}
  - {id: mail, name: Mail, site: dinkes, category: email, probe: {measurement: tcp, target: mail}}
`

// The service_down evaluator reports the inventory services whose
// current state is down, with their labels.
func TestEvalServiceDown(t *testing.T) {
	inv, err := inventory.Parse("inventory.yml", []byte(evalTestInventory))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	b := sla.NewBuilder(inv, func() time.Time { return now })
	ns := now.Add(-time.Minute).UnixNano()
	b.Committed([]sla.Mark{
		b.ServiceOf([]byte("http"), "a", []byte("portal")).Mark(ns, true, 0.2, true),
		b.ServiceOf([]byte("tcp"), "a", []byte("mail")).Mark(ns, false, 0, false),
	})
	ev := NewKindEval(nil, b, slog.New(slog.DiscardHandler))
	got, err := ev.Eval(context.Background(), &Rule{Name: "ServiceDown", Kind: KindServiceDown}, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || fmt.Sprint(got[0].Labels) != "map[category:email opd:dinkes service:mail site:dinkes]" {
		t.Errorf("samples %+v", got)
	}
}
