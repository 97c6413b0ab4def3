package report

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/inventory"
	"github.com/pantau-noc/pantau/collector/internal/sla"
)

// TestCapacityMonthsOnePass: the p95 per month that capacityRows takes
// from the period's own pass (monthParts) is exactly capacityMonths',
// one pass per month, for a WIT quarter and year; a period whose months
// reach outside it (none here) would fall back to capacityMonths.
func TestCapacityMonthsOnePass(t *testing.T) {
	wit := time.FixedZone("WIT", 9*3600)
	in, err := inventory.Parse("t.yml", []byte(`sites:
  - {id: s, name: S, kind: opd, opd: o, timezone: WIT}
links:
  - {id: l, site: s, type: fibre, bandwidth: 30Mbps, icmp: {target: 127.0.0.9}, snmp: {device: d, interface: e}}
`))
	if err != nil {
		t.Fatal(err)
	}
	l, s := in.Link("l"), in.Site("s")
	for _, period := range []string{"2026-Q3", "2026"} {
		p, err := sla.ParsePeriod(period, wit)
		if err != nil {
			t.Fatal(err)
		}
		if monthParts(p, true) == nil {
			t.Fatalf("%s: no month parts", period)
		}
		rows, err := capacityRows(context.Background(), Input{Inv: in, Capacity: synthCapacity{7 * time.Minute}}, l, s, p, time.Date(2027, 1, 2, 0, 0, 0, 0, wit), 0, &capBuf{}, true)
		if err != nil {
			t.Fatal(err)
		}
		for _, row := range rows {
			d0, d1 := p.Start.UnixMilli()/dayMs, (p.End.UnixMilli()-1)/dayMs
			rx, tx, err := LinkRollups(context.Background(), nil, synthCapacity{7 * time.Minute}, l, d0, d1, nil)
			if err != nil {
				t.Fatal(err)
			}
			rs := rx
			if row.Direction == "out" {
				rs = tx
			}
			want := capacityMonths(rs, p, wit, row.CapacityBps)
			if len(row.Months) == 0 || !reflect.DeepEqual(row.Months, want) {
				t.Errorf("%s %s: months\n%+v\nwant\n%+v", period, row.Direction, row.Months, want)
			}
		}
	}
}
