package sla

import (
	"context"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/inventory"
)

// TestServiceHoursContractCompleteness: a contract over service hours
// judges its completeness over the service minutes, as its month is
// theirs. October 2026 in WIT with data only on the weekends: the
// service hours (Mon-Fri) are not known at all, so the month is
// incomplete. It was counted over the whole month's data against the
// service seconds: 777,600 / 673,200 = 115.5 %, "complete".
func TestServiceHoursContractCompleteness(t *testing.T) {
	inv, err := inventory.Parse("inventory.yml", []byte(`
sites:
  - {id: kantor, name: Kantor Camat, kind: district, timezone: WIT}
links:
  - id: kantor-wan
    site: kantor
    type: fibre
    icmp: {target: 127.0.0.9, agent: agent-kantor}
    service_hours: {days: [mon, tue, wed, thu, fri], from: "07:30", to: "16:00", holidays: include}
    contract: {target: 99.5, monthly_fee: 15000000, restitution: proportional, basis: service_hours}
`))
	if err != nil {
		t.Fatal(err)
	}
	b := NewBuilder(inv, nil)
	var marks []Mark
	// October 2026 begins on a Thursday: the weekends are 3-4, 10-11,
	// 17-18, 24-25 and 31, 9 days = 12,960 minutes (777,600 s) of data;
	// the 22 weekdays × 510 = 11,220 service minutes (673,200 s) have
	// none.
	weekendMinutes := 0
	for tm := at(10, 1, 0, 0); tm.Before(at(11, 1, 0, 0)); tm = tm.Add(time.Minute) {
		if wd := tm.Weekday(); wd == time.Saturday || wd == time.Sunday {
			marks = b.ICMP(marks, "agent-kantor", "", "127.0.0.9", tm.Add(5*time.Second).UnixNano(), true, 0, 0.01, true)
			weekendMinutes++
		}
	}
	if weekendMinutes != 12960 {
		t.Fatalf("%d weekend minutes, want 12960", weekendMinutes)
	}
	st := NewMemStore()
	if err := st.Merge(context.Background(), marks); err != nil {
		t.Fatal(err)
	}
	e := &Engine{Inv: inv, Store: st, Now: at(11, 5, 0, 0)}
	r, err := e.NewComputation(october(t)).Link(context.Background(), inv.Link("kantor-wan"))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Contract) != 1 {
		t.Fatalf("%d contract months", len(r.Contract))
	}
	cm := r.Contract[0]
	if cm.PeriodSeconds != 673200 || cm.KnownSeconds != 0 || cm.Completeness != 0 || !cm.IncompleteData || cm.RestitutionWithheld != WithheldIncomplete {
		t.Errorf("period %d s, known %d s, completeness %v %%, incomplete %v (%q); want 673200 s, 0 s, 0 %%, incomplete",
			cm.PeriodSeconds, cm.KnownSeconds, cm.Completeness, cm.IncompleteData, cm.RestitutionWithheld)
	}
}
