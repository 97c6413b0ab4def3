package fleet

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/pantau-noc/pantau/collector/internal/inventory"
)

const testInventory = `
sites:
  - {id: dinkes, name: Dinas Kesehatan, kind: opd}
  - {id: kec-a, name: Distrik A, kind: district, parent: dinkes}
links:
  - {id: dinkes-fo, site: dinkes, icmp: {target: 10.1.0.1}}
  - {id: dinkes-backup, site: dinkes, type: radio, icmp: {target: 10.1.0.2, agent: agent-dc}}
  - {id: kec-a-vsat, site: kec-a, type: vsat, icmp: {target: 10.2.0.1}, snmp: {device: rtr-kec-a, interface: ether1}}
  - {id: kec-a-noicmp, site: kec-a, snmp: {device: rtr-kec-a, interface: ether2}}
devices:
  - {id: rtr-kec-a, site: kec-a, address: 10.2.0.254, snmp: {interfaces: [ether1, ether2]}}
  - {id: sw-kec-a, site: kec-a, address: sw.kec-a.example, snmp: {profile: switches}}
  - {id: ups-kec-a, site: kec-a}
  - {id: rtr-dinkes, site: dinkes, address: 10.1.0.254}
services:
  - {id: portal, name: Portal, site: dinkes, url: "https://portal.example.go.id/", probe: {measurement: http, target: portal}}
  - {id: dns-pemda, name: DNS, site: dinkes, probe: {measurement: dns, target: ns1, agent: agent-kec-a, config: {query: example.go.id, server: 10.1.0.53}}}
  - {id: smtp, name: Mail, site: dinkes, probe: {measurement: tcp, target: mail}}
`

func parseInv(t *testing.T, y string) *inventory.Inventory {
	t.Helper()
	inv, err := inventory.Parse("inventory.yml", []byte(y))
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

func creds(m map[[2]string]*Profile) CredentialLookup {
	return func(site, name string) (*Profile, bool, error) {
		p, ok := m[[2]string{site, name}]
		return p, ok, nil
	}
}

func decode(t *testing.T, d *Derived) map[string]any {
	t.Helper()
	var m map[string]any
	if err := yaml.Unmarshal(d.YAML, &m); err != nil {
		t.Fatalf("derived YAML does not decode: %v\n%s", err, d.YAML)
	}
	return m
}

// names returns the names of a target list.
func names(v any) []string {
	var out []string
	l, _ := v.([]any)
	for _, e := range l {
		m, _ := e.(map[string]any)
		n, _ := m["name"].(string)
		out = append(out, n)
	}
	return out
}

func find(v any, name string) map[string]any {
	l, _ := v.([]any)
	for _, e := range l {
		if m, _ := e.(map[string]any); m["name"] == name {
			return m
		}
	}
	return nil
}

func TestDeriveICMPTargets(t *testing.T) {
	inv := parseInv(t, testInventory)
	for _, tc := range []struct {
		name, agent, site string
		want              []string
	}{
		{"site links without an agent", "agent-dinkes", "dinkes", []string{"dinkes-fo"}},
		{"a link that names the agent, from another site", "agent-dc", "dc", []string{"dinkes-backup"}},
		{"a link that names another agent is not the site agent's", "agent-kec-a", "kec-a", []string{"kec-a-vsat"}},
		{"no site: only named links", "agent-x", "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Derive(DeriveInput{Inventory: inv, Agent: tc.agent, Site: tc.site})
			if err != nil {
				t.Fatal(err)
			}
			m := decode(t, d)
			if got := names(m["icmp"]); strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("icmp targets %v, want %v\n%s", got, tc.want, d.YAML)
			}
			for _, n := range tc.want {
				tg := find(m["icmp"], n)
				l := inv.Link(n)
				// The series the agent produces match the link in the SLA
				// engine: by the link tag, and by target and agent.
				tags, _ := tg["tags"].(map[string]any)
				linkTag, _ := tags["link"].(string)
				target, _ := tg["target"].(string)
				if inv.MatchICMP(linkTag, tc.agent, target) != l || inv.MatchICMP("", tc.agent, target) != l {
					t.Errorf("target %v does not match link %s", tg, n)
				}
			}
		})
	}
}

func TestDeriveSNMPDevices(t *testing.T) {
	inv := parseInv(t, testInventory)
	siteDefault := &Profile{Version: "2c", Community: "kec-a-secret"}
	pemdaDefault := &Profile{Version: "2c", Community: "pemda-secret"}
	pemdaSwitches := &Profile{Version: "3", Username: "noc", SecurityLevel: "authPriv", AuthProtocol: "SHA", AuthPassphrase: "authpass1", PrivProtocol: "AES", PrivPassphrase: "privpass1"}
	for _, tc := range []struct {
		name        string
		site        string
		profiles    map[[2]string]*Profile
		withSecrets bool
		want        map[string]string // device → community or username
		notes       []string
	}{
		{"site profile wins over the Pemda-wide one", "kec-a",
			map[[2]string]*Profile{{"kec-a", "default"}: siteDefault, {"*", "default"}: pemdaDefault, {"*", "switches"}: pemdaSwitches}, true,
			map[string]string{"rtr-kec-a": "kec-a-secret", "sw-kec-a": "noc"}, nil},
		{"Pemda-wide profile when the site has none", "kec-a",
			map[[2]string]*Profile{{"*", "default"}: pemdaDefault}, true,
			map[string]string{"rtr-kec-a": "pemda-secret"}, []string{`device sw-kec-a left out: no credential profile "switches"`}},
		{"no credentials over plain HTTP", "kec-a",
			map[[2]string]*Profile{{"kec-a", "default"}: siteDefault, {"*", "switches"}: pemdaSwitches}, false,
			map[string]string{}, []string{"device rtr-kec-a left out: SNMP credentials are sent only over TLS", "device sw-kec-a left out: SNMP credentials are sent only over TLS"}},
		{"only the agent's site's devices", "dinkes",
			map[[2]string]*Profile{{"*", "default"}: pemdaDefault}, true,
			map[string]string{"rtr-dinkes": "pemda-secret"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Derive(DeriveInput{Inventory: inv, Agent: "a1", Site: tc.site, Credential: creds(tc.profiles), WithSecrets: tc.withSecrets})
			if err != nil {
				t.Fatal(err)
			}
			m := decode(t, d)
			got := map[string]string{}
			l, _ := m["snmp"].([]any)
			for _, e := range l {
				tg := e.(map[string]any)
				who, _ := tg["community"].(string)
				if u, ok := tg["username"].(string); ok {
					who = u
				}
				got[tg["name"].(string)] = who
			}
			if len(got) != len(tc.want) {
				t.Errorf("snmp %v, want %v\n%s", got, tc.want, d.YAML)
			}
			for k, v := range tc.want {
				if got[k] != v {
					t.Errorf("device %s: %q, want %q\n%s", k, got[k], v, d.YAML)
				}
			}
			for _, n := range tc.notes {
				if !bytes.Contains(d.YAML, []byte(n)) {
					t.Errorf("no note %q in\n%s", n, d.YAML)
				}
			}
			if !tc.withSecrets && (bytes.Contains(d.YAML, []byte("secret")) || bytes.Contains(d.YAML, []byte("pass1"))) {
				t.Errorf("a secret went out over plain HTTP:\n%s", d.YAML)
			}
		})
	}
	// The device's address, interfaces and v3 keys reach the target.
	d, _ := Derive(DeriveInput{Inventory: inv, Agent: "a1", Site: "kec-a", WithSecrets: true,
		Credential: creds(map[[2]string]*Profile{{"*", "default"}: pemdaDefault, {"*", "switches"}: pemdaSwitches})})
	m := decode(t, d)
	rtr, sw := find(m["snmp"], "rtr-kec-a"), find(m["snmp"], "sw-kec-a")
	if rtr["target"] != "10.2.0.254" || names2(rtr["interfaces"]) != "ether1,ether2" || rtr["version"] != "2c" {
		t.Errorf("rtr-kec-a = %v", rtr)
	}
	if sw["target"] != "sw.kec-a.example" || sw["version"] != "3" || sw["auth_passphrase"] != "authpass1" || sw["priv_protocol"] != "AES" || sw["security_level"] != "authPriv" {
		t.Errorf("sw-kec-a = %v", sw)
	}
}

func names2(v any) string {
	l, _ := v.([]any)
	var s []string
	for _, e := range l {
		s = append(s, e.(string))
	}
	return strings.Join(s, ",")
}

func TestDeriveServicesToPlugins(t *testing.T) {
	inv := parseInv(t, testInventory)
	d, err := Derive(DeriveInput{Inventory: inv, Agent: "agent-dinkes", Site: "dinkes"})
	if err != nil {
		t.Fatal(err)
	}
	m := decode(t, d)
	if got := strings.Join(names(m["plugins"]), ","); got != "http" {
		t.Fatalf("plugins %s, want http\n%s", got, d.YAML)
	}
	portal := find(find(m["plugins"], "http")["targets"], "portal")
	cfg, _ := portal["config"].(map[string]any)
	if cfg["url"] != "https://portal.example.go.id/" {
		t.Errorf("portal target %v: url should default to the service's", portal)
	}
	if sv := inv.MatchService("http", "agent-dinkes", "portal"); sv == nil || sv.ID != "portal" {
		t.Errorf("the derived target does not match the service")
	}
	if !bytes.Contains(d.YAML, []byte("service smtp left out: its tcp check needs probe.config.address")) {
		t.Errorf("no note for the tcp service without an address:\n%s", d.YAML)
	}
	// A service naming an agent goes to that agent, whatever its site.
	d, _ = Derive(DeriveInput{Inventory: inv, Agent: "agent-kec-a", Site: "kec-a"})
	m = decode(t, d)
	ns1 := find(find(m["plugins"], "dns")["targets"], "ns1")
	if cfg, _ := ns1["config"].(map[string]any); cfg["query"] != "example.go.id" || cfg["server"] != "10.1.0.53" {
		t.Errorf("dns target %v", ns1)
	}
	if find(m["plugins"], "http") != nil {
		t.Errorf("the dinkes portal went to kec-a's agent:\n%s", d.YAML)
	}
}

func TestDeriveOverrideWins(t *testing.T) {
	inv := parseInv(t, testInventory)
	ov := `
defaults: {interval: 60s}
icmp:
  - {name: dinkes-fo, target: 10.9.9.9, tags: {link: dinkes-fo}}
  - {name: extra, target: 192.0.2.1}
plugins:
  - name: http
    targets:
      - {name: portal, config: {url: "https://override.example/"}}
      - {name: other, config: {url: "https://other.example/"}}
`
	d, err := Derive(DeriveInput{Inventory: inv, Agent: "agent-dinkes", Site: "dinkes", Override: ov})
	if err != nil {
		t.Fatal(err)
	}
	m := decode(t, d)
	if got := strings.Join(names(m["icmp"]), ","); got != "dinkes-fo,extra" {
		t.Errorf("icmp %s\n%s", got, d.YAML)
	}
	if find(m["icmp"], "dinkes-fo")["target"] != "10.9.9.9" {
		t.Errorf("override did not replace dinkes-fo:\n%s", d.YAML)
	}
	http := find(m["plugins"], "http")
	if got := strings.Join(names(http["targets"]), ","); got != "other,portal" {
		t.Errorf("http targets %s", got)
	}
	if cfg := find(http["targets"], "portal")["config"].(map[string]any); cfg["url"] != "https://override.example/" {
		t.Errorf("portal %v", cfg)
	}
	if def, _ := m["defaults"].(map[string]any); def["interval"] != "60s" {
		t.Errorf("defaults %v", m["defaults"])
	}
	if a, _ := m["agent"].(map[string]any); a["site"] != "dinkes" {
		t.Errorf("agent %v", m["agent"])
	}
	// A bad override is left out with a note, the derived config stays.
	d, err = Derive(DeriveInput{Inventory: inv, Agent: "agent-dinkes", Site: "dinkes", Override: "queue: {max_bytes: 1}\n"})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(d.YAML, []byte(`override not applied: invalid override: key "queue"`)) || find(decode(t, d)["icmp"], "dinkes-fo") == nil {
		t.Errorf("bad override:\n%s", d.YAML)
	}
}

func TestDeriveIsDeterministic(t *testing.T) {
	inv := parseInv(t, testInventory)
	in := DeriveInput{Inventory: inv, Agent: "agent-kec-a", Site: "kec-a", WithSecrets: true,
		Credential: creds(map[[2]string]*Profile{{"*", "default"}: {Version: "2c", Community: "c"}}),
		Override:   "icmp: [{name: b, target: 192.0.2.2}, {name: a, target: 192.0.2.1}]\n"}
	first, _ := Derive(in)
	for range 20 {
		d, _ := Derive(in)
		if d.Hash != first.Hash {
			t.Fatalf("hash changed:\n%s\n---\n%s", first.YAML, d.YAML)
		}
	}
	if got := strings.Join(names(decode(t, first)["icmp"]), ","); got != "a,b,kec-a-vsat" {
		t.Errorf("not sorted: %s", got)
	}
	in.Inventory = parseInv(t, strings.Replace(testInventory, "10.2.0.1}", "10.2.0.9}", 1))
	if d, _ := Derive(in); d.Hash == first.Hash {
		t.Error("an inventory change did not change the hash")
	}
}

func TestParseOverride(t *testing.T) {
	for _, tc := range []struct{ in, err string }{
		{"", ""},
		{"agent: {site: x}\ndefaults: {interval: 10s}\n", ""},
		{"agent: {id: x}\n", "only agent.site"},
		{"collectors: []\n", `key "collectors"`},
		{"icmp: {name: x}\n", "icmp must be a list"},
		{"icmp: [{target: 10.0.0.1}]\n", "icmp[0] needs a name"},
		{"snmp: [{name: a}, {name: a}]\n", `name "a" appears twice`},
		{"plugins: [{name: http, targets: [{config: {}}]}]\n", "plugins[http].targets[0] needs a name"},
		{"[1, 2]\n", "invalid override"},
	} {
		_, err := ParseOverride([]byte(tc.in))
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%q: %v", tc.in, err)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err) || !errors.Is(err, ErrBadOverride)):
			t.Errorf("%q: error %v, want %q", tc.in, err, tc.err)
		}
	}
}

func FuzzParseOverride(f *testing.F) {
	f.Add([]byte("icmp: [{name: a, target: 10.0.0.1}]\nplugins: [{name: http, targets: [{name: p}]}]\n"))
	f.Add([]byte("agent: {site: x}\n"))
	f.Add([]byte("defaults: {tags: {a: b}}\n"))
	inv, err := inventory.Parse("inventory.yml", []byte(testInventory))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if _, err := ParseOverride(data); err != nil {
			return
		}
		d, err := Derive(DeriveInput{Inventory: inv, Agent: "agent-dinkes", Site: "dinkes", Override: string(data)})
		if err != nil {
			t.Fatalf("a valid override failed to derive: %v", err)
		}
		var m map[string]any
		if err := yaml.Unmarshal(d.YAML, &m); err != nil {
			t.Fatalf("derived YAML does not decode: %v", err)
		}
	})
}

func TestDeriveWrongKeyLeavesTheDeviceOut(t *testing.T) {
	inv := parseInv(t, testInventory)
	d, err := Derive(DeriveInput{Inventory: inv, Agent: "a1", Site: "dinkes", WithSecrets: true,
		Credential: func(site, name string) (*Profile, bool, error) {
			return nil, false, fmt.Errorf("credential profile %s/%s: %w /etc/pantau/credentials.key", site, name, ErrWrongKey)
		}})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(d.YAML, []byte("device rtr-dinkes left out: its credential profile \"default\" does not open")) ||
		!bytes.Contains(d.YAML, []byte("/etc/pantau/credentials.key")) || find(decode(t, d)["icmp"], "dinkes-fo") == nil {
		t.Errorf("wrong key:\n%s", d.YAML)
	}
}
