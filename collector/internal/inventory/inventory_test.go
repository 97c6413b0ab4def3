package inventory

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/internal/yamlconf"
)

// sameInventory compares two inventories, ignoring where they came from.
func sameInventory(a, b *Inventory) bool {
	x, y := *a, *b
	x.File, y.File = "", ""
	x.idx, y.idx = nil, nil
	return reflect.DeepEqual(x, y)
}

// roundTrip writes inv as YAML and parses it back.
func roundTrip(t testing.TB, inv *Inventory) (*Inventory, []byte) {
	t.Helper()
	var buf bytes.Buffer
	if err := inv.WriteYAML(&buf, "test"); err != nil {
		t.Fatal(err)
	}
	back, err := Parse("written.yml", buf.Bytes())
	if err != nil {
		t.Fatalf("written inventory does not parse: %v\n%s", err, buf.Bytes())
	}
	if !sameInventory(inv, back) {
		t.Fatalf("written inventory parses to another inventory:\n%s\n got: %+v\nwant: %+v", buf.Bytes(), back, inv)
	}
	return back, buf.Bytes()
}

func dur(d time.Duration) yamlconf.Duration { return yamlconf.Duration(d) }

func TestLoadTestdataInventory(t *testing.T) {
	inv, err := Load("testdata/inventory.yml")
	if err != nil {
		t.Fatal(err)
	}
	if inv.File != "testdata/inventory.yml" || len(inv.Sites) != 4 || len(inv.Links) != 4 || len(inv.Devices) != 2 || len(inv.Services) != 2 {
		t.Fatalf("decoded %s: %d sites, %d links, %d devices, %d services", inv.File, len(inv.Sites), len(inv.Links), len(inv.Devices), len(inv.Services))
	}
	dc := inv.Site("dc-pemda")
	if dc == nil || dc.Kind != KindDatacenter || dc.OPD != "diskominfo" || dc.Lat == nil || *dc.Lat != -2.5693 || *dc.Lon != 140.5131 {
		t.Fatalf("dc-pemda = %+v", dc)
	}
	if dc.Location.String() != "Asia/Jayapura" {
		t.Errorf("dc-pemda location %v", dc.Location)
	}
	if _, off := time.Date(2026, 1, 1, 0, 0, 0, 0, dc.Location).Zone(); off != 9*3600 {
		t.Errorf("WIT offset %d", off)
	}
	if s := inv.Site("dinkes"); s.OPD != "dinkes" || s.Parent != "dc-pemda" {
		t.Errorf("dinkes: opd %q parent %q; an OPD site is its own opd", s.OPD, s.Parent)
	}
	if s := inv.Site("distrik-kemtuk"); s.Kind != KindDistrict || s.District != "Kemtuk" || s.OPD != "setda" || s.TimeZone != "WIT" {
		t.Errorf("distrik-kemtuk = %+v", s)
	}

	l := inv.Link("dc-telkom-1")
	want := &Contract{Target: 99.5, MinOutage: dur(300 * time.Second), Exclude: []string{ExcludePower, ExcludeMaintenance},
		MonthlyFee: 15000000, Restitution: RestitutionProportional, Start: Date{2026, 1, 1}, End: Date{2026, 12, 31}}
	if !reflect.DeepEqual(l.Contract, want) {
		t.Errorf("contract %+v, want %+v", l.Contract, want)
	}
	if l.Bandwidth != 200e6 || l.Circuit != "4703210987" || l.ICMP != (ICMPMatch{"203.0.113.1", "agent-dc"}) || l.SNMP != (SNMPMatch{"core-dc", "sfp-sfpplus1"}) {
		t.Errorf("dc-telkom-1 = %+v", l)
	}
	if l := inv.Link("diskominfo-fo"); l.Type != TypeFibre || l.Bandwidth != 1e9 {
		t.Errorf("diskominfo-fo type %q bandwidth %v", l.Type, l.Bandwidth)
	}
	if l := inv.Link("dinkes-radio"); l.Bandwidth != 50e6 {
		t.Errorf("dinkes-radio bandwidth %v", l.Bandwidth)
	}
	if inv.Defaults.FlapMergeGap != dur(2*time.Minute) {
		t.Errorf("flap_merge_gap %v", inv.Defaults.FlapMergeGap)
	}

	d := inv.Device("core-dc")
	if d == nil || d.Site != "dc-pemda" || d.YearAcquired != 2024 || d.AssetCode != "02.06.03.02.001" ||
		d.WarrantyEnd != (Date{2027, 3, 31}) || d.ContractEnd != (Date{2026, 12, 31}) {
		t.Errorf("core-dc = %+v", d)
	}
	if inv.Device("ap-kemtuk") == nil || inv.Device("nope") != nil || inv.Site("nope") != nil || inv.Link("nope") != nil {
		t.Error("lookup by id")
	}
	if got := inv.LinksOfSite("dc-pemda"); len(got) != 1 || got[0] != inv.Link("dc-telkom-1") {
		t.Errorf("LinksOfSite(dc-pemda) = %v", got)
	}
	if got := inv.LinksOfSite("nope"); got != nil {
		t.Errorf("LinksOfSite(nope) = %v", got)
	}

	fiveSec, twoSec := dur(5*time.Second), dur(2*time.Second)
	wantPortal := Service{ID: "portal", Name: "Portal Resmi Kabupaten Jayapura", Site: "dc-pemda", OPD: "diskominfo", Category: "portal",
		URL: "https://portal.example.go.id/", Probe: ServiceProbe{Measurement: "http", Target: "portal", Agent: "agent-dc"},
		Thresholds: ServiceThresholds{ResponseTime: &fiveSec, Field: "total_seconds"}, SLATarget: 99}
	if sv := inv.Service("portal"); sv == nil || !reflect.DeepEqual(*sv, wantPortal) {
		t.Errorf("portal = %+v, want %+v", sv, wantPortal)
	}
	wantSimpeg := Service{ID: "simpeg", Name: "Sistem Informasi Kepegawaian", Site: "diskominfo", OPD: "bkpsdm",
		Probe: ServiceProbe{Measurement: "simpeg_check", Target: "simpeg"}, Thresholds: ServiceThresholds{ResponseTime: &twoSec, Field: "latency_seconds"}, SLATarget: 98.5}
	if sv := inv.Service("simpeg"); sv == nil || !reflect.DeepEqual(*sv, wantSimpeg) {
		t.Errorf("simpeg = %+v, want %+v", sv, wantSimpeg)
	}
	if inv.Service("nope") != nil || inv.MatchService("http", "agent-dc", "portal") != inv.Service("portal") ||
		inv.MatchService("simpeg_check", "agent-x", "simpeg") != inv.Service("simpeg") {
		t.Error("service lookup")
	}
	roundTrip(t, inv)
}

func TestExampleParses(t *testing.T) {
	inv, err := Parse("example.yml", ExampleYAML)
	if err != nil {
		t.Fatal(err)
	}
	onDisk, err := os.ReadFile("example.yml")
	if err != nil || !bytes.Equal(onDisk, ExampleYAML) {
		t.Fatalf("embedded example differs from example.yml (%v)", err)
	}
	if len(inv.Sites) == 0 || len(inv.Links) == 0 || len(inv.Devices) == 0 || len(inv.Services) == 0 {
		t.Fatalf("example is missing a section: %+v", inv)
	}
	// The defaults shown are the built-in ones.
	if !reflect.DeepEqual(inv.Defaults.LinkTypes, builtinTypeDefaults) || inv.Defaults.FlapMergeGap != 0 || inv.Defaults.Services != builtinServiceDefaults {
		t.Errorf("example defaults %+v differ from the built-in ones", inv.Defaults)
	}
	// Every key of the format appears in the example.
	for _, key := range []string{"link_types:", "loss_ratio:", "rtt:", "sla_target:", "flap_merge_gap:", "id:", "name:", "kind:", "opd:",
		"district:", "parent:", "lat:", "lon:", "timezone:", "site:", "type:", "isp:", "circuit:", "bandwidth:", "icmp:", "target:", "agent:",
		"snmp:", "device:", "interface:", "thresholds:", "contract:", "min_outage:", "exclude:", "monthly_fee:", "restitution:", "start:",
		"end:", "vendor:", "model:", "serial:", "year_acquired:", "asset_code:", "warranty_end:", "contract_end:",
		"services:", "category:", "url:", "probe:", "measurement:", "response_time:", "field:"} {
		if !bytes.Contains(ExampleYAML, []byte(key)) {
			t.Errorf("example.yml does not show %s", key)
		}
	}
	roundTrip(t, inv)
}

func TestEmptyInventory(t *testing.T) {
	for _, src := range []string{"", "# nothing yet\n", "{}", "sites: []\nlinks: []\ndevices: []\nservices: []\n"} {
		inv, err := Parse("empty.yml", []byte(src))
		if err != nil {
			t.Fatalf("%q: %v", src, err)
		}
		if inv.Sites != nil || inv.Links != nil || inv.Devices != nil || inv.Services != nil || len(inv.Defaults.LinkTypes) != 4 ||
			inv.Defaults.Services != builtinServiceDefaults {
			t.Errorf("%q: %+v", src, inv)
		}
		if inv.MatchICMP("", "", "10.0.0.1") != nil || inv.Site("x") != nil || inv.MatchService("http", "", "portal") != nil {
			t.Errorf("%q: matched in an empty inventory", src)
		}
		roundTrip(t, inv)
	}
}

// TestBadYAML holds the exact message for each bad file.
func TestBadYAML(t *testing.T) {
	for file, want := range map[string][]string{
		"bad-site-ref.yml":    {`testdata/bad-site-ref.yml:12:11: links[1].site: unknown site "dinkes"`},
		"bad-unknown-key.yml": {"testdata/bad-unknown-key.yml:8:5: links[0].bandwith: unknown field (check the spelling; the reference inventory example.yml lists every key)"},
		"bad-type.yml":        {"testdata/bad-type.yml:8:20: devices[0].year_acquired: wrong type: cannot decode !!str `baru` into int"},
		"bad-scalar-list.yml": {"testdata/bad-scalar-list.yml:10:16: links[0].contract.exclude: wrong type: cannot decode !!str `power` into []string"},
		"bad-syntax.yml":      {"testdata/bad-syntax.yml:2:1: YAML syntax: did not find expected ',' or ']'"},
		"bad-two-docs.yml":    {"testdata/bad-two-docs.yml:2:1: more than one YAML document; a config file holds exactly one"},
		"bad-bandwidth.yml": {
			`testdata/bad-bandwidth.yml:8:16: links[0].bandwidth: invalid bandwidth "20 Mbit": use a number with a unit, such as 20Mbps, 1.5Gbps, 512kbps or 100M`,
			`testdata/bad-bandwidth.yml:11:16: links[1].bandwidth: invalid bandwidth "-5M": must not be negative`,
			`testdata/bad-bandwidth.yml:14:16: links[2].bandwidth: expected a bandwidth such as "20Mbps"`,
		},
		"bad-date.yml": {
			`testdata/bad-date.yml:10:12: links[0].contract.end: invalid date "2026-13-01": use YYYY-MM-DD, such as 2026-12-31`,
			`testdata/bad-date.yml:14:19: devices[0].warranty_end: invalid date "31/12/2027": use YYYY-MM-DD, such as 2026-12-31`,
		},
		"bad-sites.yml": {
			`testdata/bad-sites.yml:5:9: sites[1].id: duplicate site id "dinkes" (first on line 2)`,
			`testdata/bad-sites.yml:8:9: sites[2].id: invalid site id "Disdik": use lowercase letters, digits, '.', '_' and '-', starting with a letter or digit`,
			`testdata/bad-sites.yml:10:11: sites[2].kind: must be one of "opd", "district", "campus", "datacenter" (got "dinas")`,
			`testdata/bad-sites.yml:11:5: sites[3].name: required`,
			`testdata/bad-sites.yml:13:5: sites[4].id: required`,
			`testdata/bad-sites.yml:13:5: sites[4].kind: required: one of "opd", "district", "campus", "datacenter"`,
			`testdata/bad-sites.yml:17:10: sites[5].lat: must be between -90 and 90 (got 95)`,
			`testdata/bad-sites.yml:18:10: sites[5].lon: must be between -180 and 180 (got -200)`,
			`testdata/bad-sites.yml:19:15: sites[5].timezone: must be one of "WIB", "WITA", "WIT", "Asia/Jakarta", "Asia/Pontianak", "Asia/Makassar", "Asia/Jayapura" (got "UTC")`,
			`testdata/bad-sites.yml:20:17: sites[5].sla_target: must be a percentage above 0 and at most 100 (got 101)`,
		},
		"bad-parents.yml": {
			`testdata/bad-parents.yml:5:13: sites[0].parent: parent cycle: a -> b -> c -> a`,
			`testdata/bad-parents.yml:17:13: sites[3].parent: a site cannot be its own parent`,
			`testdata/bad-parents.yml:21:13: sites[4].parent: unknown site "x"`,
		},
		"bad-links.yml": {
			`testdata/bad-links.yml:8:11: links[0].type: must be one of "fibre", "radio", "vsat", "leo" (got "fiber")`,
			`testdata/bad-links.yml:11:30: links[0].thresholds.loss_ratio: must be a ratio between 0 and 1 (got 1.5)`,
			`testdata/bad-links.yml:11:40: links[0].thresholds.rtt: must be positive (got 0s)`,
			`testdata/bad-links.yml:12:17: links[0].sla_target: must be a percentage above 0 and at most 100 (got 120)`,
			`testdata/bad-links.yml:15:20: links[1].icmp.target: target "10.0.0.1" of agent "a1" is already matched by link "l1"`,
			`testdata/bad-links.yml:16:37: links[1].snmp.interface: interface "ether1" of device "core" is already matched by link "l1"`,
			`testdata/bad-links.yml:19:19: links[2].icmp.agent: an agent filter needs an ICMP target`,
			`testdata/bad-links.yml:20:11: links[2].snmp.interface: required when an SNMP device is given`,
			`testdata/bad-links.yml:26:20: links[4].icmp.target: target "10.0.0.1" is already matched by link "l4"`,
			`testdata/bad-links.yml:27:11: links[4].snmp.device: required when an SNMP interface is given`,
			`testdata/bad-links.yml:28:5: links[5].site: required`,
			`testdata/bad-links.yml:28:9: links[5].id: duplicate link id "l1" (first on line 6)`,
			`testdata/bad-links.yml:30:9: links[6].id: invalid link id "L6": use lowercase letters, digits, '.', '_' and '-', starting with a letter or digit`,
		},
		"bad-contract.yml": {
			`testdata/bad-contract.yml:9:7: links[0].contract.target: required: the monthly availability commitment in percent above 0, such as 99.5`,
			`testdata/bad-contract.yml:9:19: links[0].contract.min_outage: must not be negative (got -5m)`,
			`testdata/bad-contract.yml:10:24: links[0].contract.exclude[1]: must be one of "power", "maintenance", "parent" (got "weather")`,
			`testdata/bad-contract.yml:10:33: links[0].contract.exclude[2]: "power" is listed twice`,
			`testdata/bad-contract.yml:11:20: links[0].contract.monthly_fee: must not be negative (got -1)`,
			`testdata/bad-contract.yml:12:20: links[0].contract.restitution: must be one of "none", "proportional", "excess" (got "refund")`,
			`testdata/bad-contract.yml:14:12: links[0].contract.end: the contract ends (2026-05-31) before it starts (2026-06-01)`,
			`testdata/bad-contract.yml:18:15: links[1].contract.target: required: the monthly availability commitment in percent above 0, such as 99.5`,
		},
		"bad-defaults.yml": {
			`testdata/bad-defaults.yml:3:25: defaults.link_types.fibre.loss_ratio: must be a ratio between 0 and 1 (got 2)`,
			`testdata/bad-defaults.yml:3:40: defaults.link_types.fibre.sla_target: must be a percentage above 0 and at most 100 (got 0)`,
			`testdata/bad-defaults.yml:4:16: defaults.link_types.satellite: unknown link type "satellite": must be one of "fibre", "radio", "vsat", "leo"`,
			`testdata/bad-defaults.yml:6:12: defaults.link_types.vsat.rtt: must be positive (got 0s)`,
			`testdata/bad-defaults.yml:7:19: defaults.flap_merge_gap: must not be negative (got -1m)`,
		},
		"bad-services.yml": {
			`testdata/bad-services.yml:2:26: defaults.services.sla_target: must be a percentage above 0 and at most 100 (got 0)`,
			`testdata/bad-services.yml:2:44: defaults.services.response_time: must be positive (got -5s)`,
			`testdata/bad-services.yml:10:33: services[0].thresholds.response_time: must be positive (got 0s)`,
			`testdata/bad-services.yml:10:44: services[0].thresholds.field: invalid field "total-seconds": use letters, digits and '_', starting with a letter or '_'`,
			`testdata/bad-services.yml:11:17: services[0].sla_target: must be a percentage above 0 and at most 100 (got 101)`,
			`testdata/bad-services.yml:12:9: services[1].id: duplicate service id "portal" (first on line 6)`,
			`testdata/bad-services.yml:13:11: services[1].name: required`,
			`testdata/bad-services.yml:14:11: services[1].site: unknown site "nowhere"`,
			`testdata/bad-services.yml:15:10: services[1].url: must be an absolute URL such as https://portal.example.go.id/ (got "portal.example.go.id")`,
			`testdata/bad-services.yml:16:40: services[1].probe.target: check "portal" of measurement "http" by agent "agent-dc" is already matched by service "portal"`,
			`testdata/bad-services.yml:17:5: services[2].name: required`,
			`testdata/bad-services.yml:17:5: services[2].site: required`,
			`testdata/bad-services.yml:17:9: services[2].id: invalid service id "Eoffice": use lowercase letters, digits, '.', '_' and '-', starting with a letter or digit`,
			`testdata/bad-services.yml:18:12: services[2].probe.target: required: the name of the plugin's target in agent.yml`,
			`testdata/bad-services.yml:18:26: services[2].probe.measurement: invalid measurement "HTTP": use lowercase letters, digits and '_', starting with a letter or '_'`,
			`testdata/bad-services.yml:19:5: services[3].id: required`,
			`testdata/bad-services.yml:21:26: services[3].probe.measurement: measurement "icmp" is the agent's own; a service is checked by a probe plugin such as http, dns or tcp`,
			`testdata/bad-services.yml:29:39: services[5].probe.target: check "ns1" of measurement "dns" is already matched by service "dns"`,
			`testdata/bad-services.yml:34:17: services[6].thresholds.field: required with response_time for measurement "simpeg": the field that holds the response time in seconds (http, dns and tcp have one built in)`,
			`testdata/bad-services.yml:35:5: services[7].probe.measurement: required: the probe plugin's measurement, such as http, dns or tcp`,
			`testdata/bad-services.yml:35:5: services[7].probe.target: required: the name of the plugin's target in agent.yml`,
			`testdata/bad-services.yml:36:68: services[8].probe.measurement: measurement "http_response" is Telegraf's, which the collector reads as http: use probe: {measurement: http, target: <the URL>} (docs/telegraf.md)`,
		},
		"bad-devices.yml": {
			`testdata/bad-devices.yml:8:5: devices[1].id: required`,
			`testdata/bad-devices.yml:9:9: devices[2].id: duplicate device id "core" (first on line 6)`,
			`testdata/bad-devices.yml:10:11: devices[2].site: unknown site "nowhere"`,
			`testdata/bad-devices.yml:11:20: devices[2].year_acquired: must be 0 (unknown) or between 1980 and 2100 (got 1975)`,
		},
	} {
		t.Run(file, func(t *testing.T) {
			inv, err := Load(filepath.Join("testdata", file))
			if err == nil {
				t.Fatalf("no error: %+v", inv)
			}
			if got, want := err.Error(), strings.Join(want, "\n"); got != want {
				t.Errorf("error\n got: %s\nwant: %s", got, want)
			}
		})
	}
	files, _ := filepath.Glob("testdata/bad-*.yml")
	if len(files) != 15 {
		t.Errorf("%d bad-*.yml files; every one needs an expected message here", len(files))
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load("testdata/nope.yml")
	if err == nil || !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "testdata/nope.yml") {
		t.Fatalf("err = %v", err)
	}
}

func TestDefaultsFilling(t *testing.T) {
	const src = `
defaults:
  link_types:
    fibre: {rtt: 80ms}
    radio: {loss_ratio: 0, sla_target: 97}
sites:
  - {id: dc, name: DC, kind: datacenter}
  - {id: dinkes, name: Dinkes, kind: opd, sla_target: 99.1, timezone: WITA}
links:
  - {id: fo, site: dc}
  - {id: radio, site: dc, type: radio, thresholds: {rtt: 300ms}}
  - {id: vsat, site: dc, type: vsat}
  - {id: leo, site: dc, type: leo, thresholds: {loss_ratio: 0.2}}
  - {id: own, site: dinkes, sla_target: 99.95, contract: {target: 99.5}}
  - {id: contract, site: dinkes, type: vsat, contract: {target: 97.5, exclude: []}}
  - {id: site, site: dinkes, type: vsat}
`
	inv, err := Parse("defaults.yml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	lt := inv.Defaults.LinkTypes
	if lt[TypeFibre] != (TypeDefaults{0.02, dur(80 * time.Millisecond), 99.5, 0}) {
		t.Errorf("fibre defaults %+v: keys not given keep the built-in values", lt[TypeFibre])
	}
	if lt[TypeRadio] != (TypeDefaults{0, dur(150 * time.Millisecond), 97, -75}) {
		t.Errorf("radio defaults %+v: an explicit 0 stays", lt[TypeRadio])
	}
	if lt[TypeVSAT] != (TypeDefaults{0.05, dur(1500 * time.Millisecond), 98, 0}) || lt[TypeLEO] != (TypeDefaults{0.05, dur(250 * time.Millisecond), 99, 0}) {
		t.Errorf("vsat %+v, leo %+v: types not given are built-in", lt[TypeVSAT], lt[TypeLEO])
	}
	for _, c := range []struct {
		link   string
		loss   float64
		rtt    time.Duration
		target float64
	}{
		{"fo", 0.02, 80 * time.Millisecond, 99.5},         // fibre defaults as configured
		{"radio", 0, 300 * time.Millisecond, 97},          // own rtt, type loss
		{"vsat", 0.05, 1500 * time.Millisecond, 98},       // geostationary latency is normal
		{"leo", 0.2, 250 * time.Millisecond, 99},          // own loss
		{"own", 0.02, 80 * time.Millisecond, 99.95},       // the link's own target wins
		{"contract", 0.05, 1500 * time.Millisecond, 97.5}, // then the contract's
		{"site", 0.05, 1500 * time.Millisecond, 99.1},     // then the site's
	} {
		l := inv.Link(c.link)
		if *l.Thresholds.LossRatio != c.loss || l.Thresholds.RTT.Std() != c.rtt || l.SLATarget != c.target {
			t.Errorf("%s: loss %v rtt %v target %v, want %v %v %v", c.link, *l.Thresholds.LossRatio, l.Thresholds.RTT, l.SLATarget, c.loss, c.rtt, c.target)
		}
	}
	if k := inv.Link("own").Contract; !reflect.DeepEqual(k.Exclude, []string{ExcludePower, ExcludeMaintenance}) || k.Restitution != RestitutionProportional || k.MinOutage != 0 {
		t.Errorf("contract defaults %+v", k)
	}
	if k := inv.Link("contract").Contract; k.Exclude == nil || len(k.Exclude) != 0 {
		t.Errorf("an explicit empty exclude list stays empty: %#v", k.Exclude)
	}
	if s := inv.Site("dc"); s.TimeZone != "WIB" || s.Location.String() != "Asia/Jakarta" || s.OPD != "" {
		t.Errorf("dc: timezone %q location %v opd %q", s.TimeZone, s.Location, s.OPD)
	}
	if s := inv.Site("dinkes"); s.Location.String() != "Asia/Makassar" || s.OPD != "dinkes" {
		t.Errorf("dinkes: location %v opd %q", s.Location, s.OPD)
	}
	if inv.Defaults.FlapMergeGap != 0 {
		t.Errorf("flap_merge_gap %v", inv.Defaults.FlapMergeGap)
	}
	_, out := roundTrip(t, inv)
	// What equals the inherited value is left out of the written file.
	if n := bytes.Count(out, []byte("sla_target: 99.1")); n != 1 {
		t.Errorf("sla_target: 99.1 written %d times, want once (the site's):\n%s", n, out)
	}
	for _, gone := range []string{"sla_target: 97.5", "loss_ratio: 0.02", "leo:", "vsat:"} {
		if bytes.Contains(out, []byte(gone)) {
			t.Errorf("written inventory has %q:\n%s", gone, out)
		}
	}
	for _, kept := range []string{"radio: {loss_ratio: 0, sla_target: 97}", "fibre: {rtt: 80ms}", "sla_target: 99.95", "exclude: []", "thresholds: {rtt: 300ms}"} {
		if !bytes.Contains(out, []byte(kept)) {
			t.Errorf("written inventory lacks %q:\n%s", kept, out)
		}
	}
}

func TestTimeZones(t *testing.T) {
	for tz, want := range map[string]int{"WIB": 7, "WITA": 8, "WIT": 9, "Asia/Jakarta": 7, "Asia/Pontianak": 7, "Asia/Makassar": 8, "Asia/Jayapura": 9} {
		loc := location(tz)
		if loc == nil {
			t.Fatalf("%s: no location", tz)
		}
		if _, off := time.Date(2026, 7, 1, 12, 0, 0, 0, loc).Zone(); off != want*3600 {
			t.Errorf("%s: offset %d, want %dh", tz, off, want)
		}
	}
	if location("UTC") != nil || location("wib") != nil {
		t.Error("only the Indonesian zones are accepted")
	}
}

func matchInventory(t *testing.T) *Inventory {
	t.Helper()
	inv, err := Parse("match.yml", []byte(`
sites:
  - {id: dc, name: DC, kind: datacenter, opd: diskominfo}
  - {id: dinkes, name: Dinkes, kind: opd, district: Sentani Kota}
  - {id: kec, name: Kecamatan, kind: district}
links:
  - {id: dc-fo, site: dc, icmp: {target: 10.0.0.1}, snmp: {device: core, interface: ether1}}
  - {id: dc-fo-dc-agent, site: dc, icmp: {target: 10.0.0.1, agent: agent-dc}}
  - {id: dinkes-fo, site: dinkes, icmp: {target: 10.0.2.1, agent: agent-dinkes}, snmp: {device: core, interface: ether2}}
  - {id: kec-vsat, site: kec, type: vsat}
`))
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

func TestMatchICMP(t *testing.T) {
	inv := matchInventory(t)
	for _, c := range []struct{ tag, agent, target, want string }{
		{"", "agent-x", "10.0.0.1", "dc-fo"},                       // any agent
		{"", "", "10.0.0.1", "dc-fo"},                              // no agent tag
		{"", "agent-dc", "10.0.0.1", "dc-fo-dc-agent"},             // the agent's own link wins
		{"", "agent-dinkes", "10.0.2.1", "dinkes-fo"},              // agent given on the link
		{"", "agent-x", "10.0.2.1", ""},                            // another agent's probes do not count
		{"", "", "10.9.9.9", ""},                                   // unknown target
		{"kec-vsat", "agent-x", "10.9.9.9", "kec-vsat"},            // the link tag wins
		{"kec-vsat", "agent-dc", "10.0.0.1", "kec-vsat"},           // even over a target match
		{"no-such-link", "agent-dc", "10.0.0.1", "dc-fo-dc-agent"}, // an unknown link tag is ignored
		{"no-such-link", "", "", ""},
		{"", "agent-dc", "", ""},
	} {
		got := inv.MatchICMP(c.tag, c.agent, c.target)
		if id := linkID(got); id != c.want {
			t.Errorf("MatchICMP(%q, %q, %q) = %q, want %q", c.tag, c.agent, c.target, id, c.want)
		}
	}
}

func TestMatchSNMP(t *testing.T) {
	inv := matchInventory(t)
	for _, c := range []struct{ tag, device, ifname, want string }{
		{"", "core", "ether1", "dc-fo"},
		{"", "core", "ether2", "dinkes-fo"},
		{"", "core", "ether3", ""},
		{"", "other", "ether1", ""},
		{"", "core", "", ""},
		{"kec-vsat", "core", "ether1", "kec-vsat"},
		{"nope", "core", "ether2", "dinkes-fo"},
	} {
		got := inv.MatchSNMP(c.tag, c.device, c.ifname)
		if id := linkID(got); id != c.want {
			t.Errorf("MatchSNMP(%q, %q, %q) = %q, want %q", c.tag, c.device, c.ifname, id, c.want)
		}
	}
	// The matched link is the inventory's, not a copy.
	if inv.MatchSNMP("", "core", "ether1") != &inv.Links[0] {
		t.Error("MatchSNMP returned a copy")
	}
}

func linkID(l *Link) string {
	if l == nil {
		return ""
	}
	return l.ID
}

func TestLabels(t *testing.T) {
	inv := matchInventory(t)
	for link, want := range map[string][][2]string{
		"dc-fo":     {{"link", "dc-fo"}, {"opd", "diskominfo"}, {"site", "dc"}},
		"dinkes-fo": {{"district", "Sentani Kota"}, {"link", "dinkes-fo"}, {"opd", "dinkes"}, {"site", "dinkes"}},
		"kec-vsat":  {{"link", "kec-vsat"}, {"site", "kec"}},
	} {
		if got := inv.Labels(inv.Link(link)); !reflect.DeepEqual(got, want) {
			t.Errorf("Labels(%s) = %v, want %v", link, got, want)
		}
	}
	if got := inv.Labels(nil); got != nil {
		t.Errorf("Labels(nil) = %v", got)
	}
}

// TestWithoutIndex: an inventory built in code (no Parse) still answers.
func TestWithoutIndex(t *testing.T) {
	inv := &Inventory{
		Sites: []Site{{ID: "dc", Name: "DC", Kind: KindDatacenter}},
		Links: []Link{{ID: "dc-fo", Site: "dc", ICMP: ICMPMatch{Target: "10.0.0.1"}, SNMP: SNMPMatch{"core", "ether1"}}},
	}
	if inv.Site("dc") == nil || inv.Link("dc-fo") == nil || len(inv.LinksOfSite("dc")) != 1 ||
		inv.MatchICMP("", "a", "10.0.0.1") == nil || inv.MatchSNMP("", "core", "ether1") == nil {
		t.Fatal("lookups without an index")
	}
	if got := inv.Labels(&inv.Links[0]); len(got) != 2 {
		t.Errorf("Labels = %v", got)
	}
}

func TestWriteYAMLHeader(t *testing.T) {
	inv := matchInventory(t)
	var buf bytes.Buffer
	if err := inv.WriteYAML(&buf, "aset/inventaris.csv\n# injected"); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !strings.HasPrefix(out, "# Pantau inventory (inventory.yml), generated from aset/inventaris.csv # injected.\n# ") {
		t.Errorf("header:\n%s", out)
	}
	if strings.Contains(out, "\n# injected") {
		t.Error("the source name broke out of the comment")
	}
	roundTrip(t, inv)
}

// TestPemdaZone: dates given on the command line are read in the Pemda's
// zone: defaults.timezone, else the zone every site shares, else WIB; a
// site without a zone takes defaults.timezone.
func TestPemdaZone(t *testing.T) {
	for _, tc := range []struct {
		name, yml, want, siteZone string
	}{
		{"defaults", "defaults: {timezone: WIT}\nsites:\n  - {id: a, name: A, kind: opd}\n  - {id: b, name: B, kind: opd, timezone: WIB}\n", "Asia/Jayapura", "WIT"},
		{"shared", "sites:\n  - {id: a, name: A, kind: opd, timezone: WITA}\n  - {id: b, name: B, kind: opd, timezone: Asia/Makassar}\n", "Asia/Makassar", "WITA"},
		{"mixed", "sites:\n  - {id: a, name: A, kind: opd, timezone: WIT}\n  - {id: b, name: B, kind: opd, timezone: WITA}\n", "Asia/Jakarta", "WIT"},
		{"empty", "sites: []\n", "Asia/Jakarta", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inv, err := Parse(tc.name+".yml", []byte(tc.yml))
			if err != nil {
				t.Fatal(err)
			}
			if got := inv.Zone().String(); got != tc.want {
				t.Errorf("Zone() = %s, want %s", got, tc.want)
			}
			if len(inv.Sites) > 0 && inv.Sites[0].TimeZone != tc.siteZone {
				t.Errorf("site a's zone = %q, want %q", inv.Sites[0].TimeZone, tc.siteZone)
			}
		})
	}
	_, err := Parse("bad.yml", []byte("defaults: {timezone: UTC}\nsites: []\n"))
	if err == nil || !strings.Contains(err.Error(), `bad.yml:1:22: defaults.timezone: must be one of "WIB", "WITA", "WIT"`) {
		t.Errorf("bad defaults.timezone: got %v", err)
	}
	for in, want := range map[string]string{"wit": "Asia/Jayapura", "WITA": "Asia/Makassar", "Asia/Jakarta": "Asia/Jakarta"} {
		if loc := Location(in); loc == nil || loc.String() != want {
			t.Errorf("Location(%q) = %v, want %s", in, loc, want)
		}
	}
	if Location("UTC") != nil || Location("Europe/Berlin") != nil {
		t.Error("Location accepts only the Indonesian zones")
	}
}
