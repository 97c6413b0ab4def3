package inventory

import (
	"strings"
	"testing"
	"time"
)

const hoursInventory = `defaults:
  service_hours: {schedule: kantor}
  schedules:
    kantor: {days: [mon, tue, wed, thu, fri], from: "07:30", to: "16:00"}
    pelayanan: {days: [mon, tue, wed, thu, fri, sat], from: "08:00", to: "12:00", holidays: include}
sites:
  - {id: dc, name: DC, kind: datacenter, service_hours: {schedule: 24x7}}
  - {id: dinkes, name: Dinkes, kind: opd, timezone: WIT}
  - {id: puskesmas, name: Puskesmas, kind: opd, service_hours: {days: [sat, sun], from: "00:00", to: "24:00", holidays: exclude}}
links:
  - {id: dc-fo, site: dc}
  - {id: dinkes-fo, site: dinkes}
  - {id: dinkes-radio, site: dinkes, type: radio, service_hours: {schedule: pelayanan}, contract: {target: 99, basis: service_hours}}
  - {id: pk-fo, site: puskesmas}
services:
  - {id: portal, name: Portal, site: dc, probe: {measurement: http, target: portal}}
  - {id: sim, name: SIM, site: dinkes, probe: {measurement: http, target: sim}}
  - {id: antrian, name: Antrian, site: dinkes, probe: {measurement: http, target: antrian}, service_hours: {schedule: pelayanan}}
`

// TestServiceHoursInheritance: link and service → site → defaults, named
// and written-out schedules, 24x7.
func TestServiceHoursInheritance(t *testing.T) {
	inv, err := Parse("inventory.yml", []byte(hoursInventory))
	if err != nil {
		t.Fatal(err)
	}
	kantor := "kantor: mon-fri 07:30-16:00, excl. holidays"
	pelayanan := "pelayanan: mon-sat 08:00-12:00"
	for _, c := range []struct{ what, got, want string }{
		{"site dc (its own 24x7)", inv.Site("dc").Hours.String(), "24x7"},
		{"site dinkes (defaults)", inv.Site("dinkes").Hours.String(), kantor},
		{"site puskesmas (its own)", inv.Site("puskesmas").Hours.String(), "sat,sun 00:00-24:00, excl. holidays"},
		{"link dc-fo (site dc)", inv.Link("dc-fo").Hours.String(), "24x7"},
		{"link dinkes-fo (site dinkes, defaults)", inv.Link("dinkes-fo").Hours.String(), kantor},
		{"link dinkes-radio (its own)", inv.Link("dinkes-radio").Hours.String(), pelayanan},
		{"link pk-fo (site puskesmas)", inv.Link("pk-fo").Hours.String(), "sat,sun 00:00-24:00, excl. holidays"},
		{"service portal (site dc)", inv.Service("portal").Hours.String(), "24x7"},
		{"service sim (site dinkes)", inv.Service("sim").Hours.String(), kantor},
		{"service antrian (its own)", inv.Service("antrian").Hours.String(), pelayanan},
	} {
		if c.got != c.want {
			t.Errorf("%s: %q, want %q", c.what, c.got, c.want)
		}
	}
	h := inv.Link("dinkes-fo").Hours
	if h.From != 7*60+30 || h.To != 16*60 || !h.Days[time.Monday] || h.Days[time.Saturday] || !h.ExcludeHolidays {
		t.Errorf("kantor resolved to %+v", h)
	}
	if inv.Link("dinkes-radio").Contract.Basis != BasisServiceHours {
		t.Error("contract basis")
	}
	roundTrip(t, inv)

	// no service_hours anywhere: no schedule
	plain, err := Parse("plain.yml", []byte("sites: [{id: a, name: A, kind: opd}]\nlinks: [{id: a-fo, site: a}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if plain.Link("a-fo").Hours != nil || plain.Site("a").Hours != nil {
		t.Error("no service_hours: nil schedule")
	}
}

// TestServiceHoursErrors: every problem at file:line:col.
func TestServiceHoursErrors(t *testing.T) {
	src := `defaults:
  service_hours: {schedule: kerja}
  schedules:
    24x7: {days: [mon], from: "08:00", to: "09:00"}
    loket: {schedule: kantor}
sites:
  - {id: a, name: A, kind: opd, service_hours: {days: [mon, senin, mon], from: "7:30", to: "16:00"}}
  - {id: b, name: B, kind: opd, service_hours: {days: [mon], from: "16:00", to: "07:30", holidays: maybe}}
links:
  - {id: a-fo, site: a, service_hours: {schedule: 24x7, from: "08:00"}}
  - {id: b-fo, site: b, service_hours: {from: "24:00", to: "24:01"}}
services:
  - {id: s, name: S, site: a, probe: {measurement: http, target: s}, service_hours: {days: [fri]}}
`
	_, err := Parse("inv.yml", []byte(src))
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{
		`inv.yml:2:29: defaults.service_hours.schedule: unknown schedule "kerja": must be one of "24x7", "loket"`,
		`inv.yml:4:11: defaults.schedules.24x7: "24x7" is the built-in around-the-clock schedule`,
		`inv.yml:5:23: defaults.schedules.loket.schedule: a named schedule cannot name another`,
		`inv.yml:7:61: sites[0].service_hours.days[1]: must be one of "mon", "tue", "wed", "thu", "fri", "sat", "sun" (got "senin")`,
		`inv.yml:7:68: sites[0].service_hours.days[2]: "mon" is listed twice`,
		`inv.yml:7:80: sites[0].service_hours.from: must be a local time HH:MM`,
		`inv.yml:8:81: sites[1].service_hours.to: must be after from (16:00)`,
		`inv.yml:8:100: sites[1].service_hours.holidays: must be one of "exclude", "include" (got "maybe")`,
		`inv.yml:10:51: links[0].service_hours.schedule: give either schedule or days/from/to/holidays, not both`,
		`inv.yml:11:40: links[1].service_hours.days: required: the open weekdays`,
		`inv.yml:11:47: links[1].service_hours.from: must be a local time HH:MM from 00:00 to 23:59`,
		`inv.yml:11:60: links[1].service_hours.to: must be a local time HH:MM from 00:01 to 24:00`,
		`inv.yml:13:85: services[0].service_hours.from: required: the local time service hours start`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing\n  %s\nin\n%v", want, err)
		}
	}
	// a contract over service hours needs some
	_, err = Parse("c.yml", []byte("sites: [{id: a, name: A, kind: opd}]\nlinks:\n  - {id: a-fo, site: a, contract: {target: 99, basis: service_hours}}\n"))
	if err == nil || !strings.Contains(err.Error(), "c.yml:3:55: links[0].contract.basis: the contract is stated over service hours, but the link has none") {
		t.Errorf("basis without hours: %v", err)
	}
	_, err = Parse("c.yml", []byte("sites: [{id: a, name: A, kind: opd}]\nlinks:\n  - {id: a-fo, site: a, contract: {target: 99, basis: jam}}\n"))
	if err == nil || !strings.Contains(err.Error(), `c.yml:3:55: links[0].contract.basis: must be one of "24x7", "service_hours" (got "jam")`) {
		t.Errorf("bad basis: %v", err)
	}
}

// TestDistrictDefaults: a district site's link gets RTT 750 ms and loss
// 2 % unless its type's defaults are stricter, threshold by threshold;
// a link's own thresholds win; other sites keep their type's defaults.
func TestDistrictDefaults(t *testing.T) {
	src := `defaults:
  link_types:
    leo: {loss_ratio: 0.01}
sites:
  - {id: kec, name: Distrik, kind: district}
  - {id: opd, name: OPD, kind: opd}
links:
  - {id: kec-fo, site: kec, type: fibre}
  - {id: kec-radio, site: kec, type: radio}
  - {id: kec-vsat, site: kec, type: vsat}
  - {id: kec-leo, site: kec, type: leo}
  - {id: kec-own, site: kec, type: vsat, thresholds: {rtt: 900ms, loss_ratio: 0.04}}
  - {id: opd-vsat, site: opd, type: vsat}
`
	inv, err := Parse("inv.yml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	ms := time.Millisecond
	for _, c := range []struct {
		link string
		rtt  time.Duration
		loss float64
	}{
		{"kec-fo", 100 * ms, 0.02},    // fibre 100 ms, 2 %: both stricter or equal
		{"kec-radio", 150 * ms, 0.02}, // radio 150 ms is stricter; its 5 % is not: 2 %
		{"kec-vsat", 750 * ms, 0.02},  // vsat 1500 ms, 5 %: the district's both
		{"kec-leo", 250 * ms, 0.01},   // leo 250 ms, and the file's 1 %: both stricter
		{"kec-own", 900 * ms, 0.04},   // the link's own thresholds win
		{"opd-vsat", 1500 * ms, 0.05}, // not a district: the type's
	} {
		l := inv.Link(c.link)
		if got := l.Thresholds.RTT.Std(); got != c.rtt {
			t.Errorf("%s: rtt %v, want %v", c.link, got, c.rtt)
		}
		if got := *l.Thresholds.LossRatio; got != c.loss {
			t.Errorf("%s: loss %v, want %v", c.link, got, c.loss)
		}
	}
	_, out := roundTrip(t, inv)
	if strings.Contains(string(out), "kec-vsat\n    site: kec\n    type: vsat\n    thresholds") {
		t.Errorf("the district defaults are written out:\n%s", out)
	}
}

// TestOPDServiceHours checks the OPD step of the inheritance: a site
// without service_hours takes its OPD entry's before the defaults, a
// site's own still wins, and a bad OPD schedule is refused at its line.
func TestOPDServiceHours(t *testing.T) {
	src := `defaults:
  service_hours: {schedule: 24x7}
opds:
  - id: dinkes
    name: Dinas Kesehatan
    service_hours: {days: [mon, tue], from: "08:00", to: "12:00"}
  - {id: setda, name: Sekretariat Daerah}
sites:
  - {id: dinkes-a, name: A, kind: opd, opd: dinkes}
  - {id: dinkes-b, name: B, kind: opd, opd: dinkes, service_hours: {schedule: 24x7}}
  - {id: setda, name: Setda, kind: opd, opd: setda}
links:
  - {id: a-fo, site: dinkes-a}
`
	inv, err := Parse("inventory.yml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ what, got, want string }{
		{"site dinkes-a (its OPD's)", inv.Site("dinkes-a").Hours.String(), "mon,tue 08:00-12:00, excl. holidays"},
		{"link a-fo (site → OPD)", inv.Link("a-fo").Hours.String(), "mon,tue 08:00-12:00, excl. holidays"},
		{"site dinkes-b (its own)", inv.Site("dinkes-b").Hours.String(), "24x7"},
		{"site setda (OPD without hours → defaults)", inv.Site("setda").Hours.String(), "24x7"},
	} {
		if c.got != c.want {
			t.Errorf("%s: %q, want %q", c.what, c.got, c.want)
		}
	}
	roundTrip(t, inv)

	bad := strings.Replace(src, `from: "08:00"`, `from: "25:00"`, 1)
	_, err = Parse("inventory.yml", []byte(bad))
	if err == nil || !strings.Contains(err.Error(), "inventory.yml:6:") || !strings.Contains(err.Error(), "opds[0].service_hours") {
		t.Errorf("bad OPD service hours: %v, want an error at inventory.yml:6 naming opds[0].service_hours", err)
	}
}
