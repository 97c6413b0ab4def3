package inventory

import (
	"bytes"
	"testing"
	"time"
)

func serviceID(sv *Service) string {
	if sv == nil {
		return ""
	}
	return sv.ID
}

func TestMatchService(t *testing.T) {
	inv, err := Parse("match.yml", []byte(`
sites:
  - {id: dc, name: DC, kind: datacenter}
services:
  - {id: portal, name: Portal, site: dc, probe: {measurement: http, target: portal}}
  - {id: portal-dc, name: Portal from the DC, site: dc, probe: {measurement: http, target: portal, agent: agent-dc}}
  - {id: portal-tcp, name: Portal TCP, site: dc, probe: {measurement: tcp, target: portal}}
  - {id: dns, name: DNS, site: dc, probe: {measurement: dns, target: ns1, agent: agent-dc}}
`))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ measurement, agent, target, want string }{
		{"http", "agent-x", "portal", "portal"},     // any agent
		{"http", "", "portal", "portal"},            // no agent tag
		{"http", "agent-dc", "portal", "portal-dc"}, // the agent's own service wins
		{"tcp", "agent-dc", "portal", "portal-tcp"}, // the measurement tells them apart
		{"dns", "agent-dc", "ns1", "dns"},
		{"dns", "agent-x", "ns1", ""}, // another agent's checks do not count
		{"dns", "", "ns1", ""},
		{"ping", "agent-dc", "portal", ""}, // unknown measurement
		{"http", "agent-dc", "nope", ""},   // unknown target
		{"", "agent-dc", "portal", ""},
		{"http", "agent-dc", "", ""},
	} {
		if got := serviceID(inv.MatchService(c.measurement, c.agent, c.target)); got != c.want {
			t.Errorf("MatchService(%q, %q, %q) = %q, want %q", c.measurement, c.agent, c.target, got, c.want)
		}
	}
	// The matched service is the inventory's, not a copy.
	if inv.MatchService("http", "", "portal") != &inv.Services[0] || inv.Service("dns") != &inv.Services[3] {
		t.Error("MatchService or Service returned a copy")
	}

	// An inventory built in code (no Parse) still answers.
	code := &Inventory{Services: []Service{{ID: "portal", Probe: ServiceProbe{Measurement: "http", Target: "portal"}}}}
	if code.Service("portal") == nil || code.MatchService("http", "a", "portal") == nil {
		t.Error("service lookups without an index")
	}
}

func TestServiceDefaultsFilling(t *testing.T) {
	const src = `
defaults:
  services: {sla_target: 99.5}
sites:
  - {id: dc, name: DC, kind: datacenter, opd: diskominfo}
  - {id: dinkes, name: Dinkes, kind: opd}
  - {id: kec, name: Kecamatan, kind: district}
services:
  - {id: portal, name: Portal, site: dc, probe: {measurement: http, target: portal}}
  - {id: sik, name: SIK, site: dinkes, opd: setda, probe: {measurement: dns, target: sik}, sla_target: 98}
  - {id: mail, name: Mail, site: kec, probe: {measurement: tcp, target: smtp}, thresholds: {response_time: 1s}}
  - {id: custom, name: Custom, site: dc, probe: {measurement: simpeg, target: simpeg}}
  - {id: custom-field, name: Custom field, site: dc, probe: {measurement: simpeg, target: api}, thresholds: {field: latency}}
  - {id: other-field, name: Other field, site: dc, probe: {measurement: http, target: ttfb}, thresholds: {field: time_to_first_byte_seconds}}
`
	inv, err := Parse("defaults.yml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if d := inv.Defaults.Services; d != (ServiceDefaults{99.5, dur(5 * time.Second)}) {
		t.Errorf("service defaults %+v: keys not given keep the built-in values", d)
	}
	for _, c := range []struct {
		id, opd, field string
		rt             time.Duration // 0: no response time threshold
		target         float64
	}{
		{"portal", "diskominfo", "total_seconds", 5 * time.Second, 99.5}, // opd from the site, field built in
		{"sik", "setda", "resolve_seconds", 5 * time.Second, 98},         // own opd and target
		{"mail", "", "connect_seconds", time.Second, 99.5},               // a district site names no opd
		{"custom", "diskominfo", "", 0, 99.5},                            // unknown measurement, no field: no threshold
		{"custom-field", "diskominfo", "latency", 5 * time.Second, 99.5}, // a given field gets the default
		{"other-field", "diskominfo", "time_to_first_byte_seconds", 5 * time.Second, 99.5},
	} {
		sv := inv.Service(c.id)
		var rt time.Duration
		if sv.Thresholds.ResponseTime != nil {
			rt = sv.Thresholds.ResponseTime.Std()
		}
		if sv.OPD != c.opd || sv.Thresholds.Field != c.field || rt != c.rt || (c.rt == 0) != (sv.Thresholds.ResponseTime == nil) || sv.SLATarget != c.target {
			t.Errorf("%s: opd %q field %q response_time %v sla_target %v, want %q %q %v %v", c.id, sv.OPD, sv.Thresholds.Field, rt, sv.SLATarget, c.opd, c.field, c.rt, c.target)
		}
	}

	_, out := roundTrip(t, inv)
	// What Parse fills in anyway is left out of the written file.
	for _, gone := range []string{"opd: diskominfo\n    probe", "total_seconds", "resolve_seconds", "connect_seconds", "5s", "sla_target: 99.5\n"} {
		if bytes.Contains(out, []byte(gone)) {
			t.Errorf("written inventory has %q:\n%s", gone, out)
		}
	}
	for _, kept := range []string{"services: {sla_target: 99.5}", "opd: setda", "sla_target: 98", "thresholds: {response_time: 1s}",
		"thresholds: {field: latency}", "thresholds: {field: time_to_first_byte_seconds}"} {
		if !bytes.Contains(out, []byte(kept)) {
			t.Errorf("written inventory lacks %q:\n%s", kept, out)
		}
	}
}

// TestWriteYAMLServices: services and their defaults survive WriteYAML
// and Parse, whatever differs from the defaults.
func TestWriteYAMLServices(t *testing.T) {
	for name, src := range map[string]string{
		"built-in defaults": `
sites:
  - {id: dc, name: DC, kind: datacenter, opd: diskominfo}
services:
  - id: portal
    name: "Portal: resmi, #1"
    site: dc
    opd: diskominfo
    category: portal
    url: "https://portal.example.go.id/?q=a,b#top"
    probe: {measurement: http, target: "portal, utama", agent: "agent: dc"}
    thresholds: {response_time: 5s, field: total_seconds}
    sla_target: 99.0
`,
		"own defaults": `
defaults:
  services: {sla_target: 97.25, response_time: 1500ms}
sites:
  - {id: dc, name: DC, kind: datacenter}
services:
  - {id: a, name: A, site: dc, probe: {measurement: http, target: a}}
  - {id: b, name: B, site: dc, probe: {measurement: http, target: b}, thresholds: {response_time: 5s}, sla_target: 99.0}
  - {id: c, name: C, site: dc, probe: {measurement: x_probe, target: c}, thresholds: {response_time: 1500ms, field: rt}}
  - {id: d, name: D, site: dc, probe: {measurement: x_probe, target: d}, sla_target: 97.25}
  - {id: e, name: E, site: dc, opd: other, probe: {measurement: dns, target: "null"}, thresholds: {field: "true"}}
`,
		"defaults only": `
defaults:
  services: {response_time: 250us}
`,
	} {
		t.Run(name, func(t *testing.T) {
			inv, err := Parse("services.yml", []byte(src))
			if err != nil {
				t.Fatal(err)
			}
			back, _ := roundTrip(t, inv)
			roundTrip(t, back)
		})
	}
}
