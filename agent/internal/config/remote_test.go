package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

func TestMerge(t *testing.T) {
	f := func(name, local, remote, want string) {
		t.Helper()
		got, err := Merge([]byte(local), []byte(remote))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var g, w any
		if err := yaml.Unmarshal(got, &g); err != nil {
			t.Fatalf("%s: result: %v", name, err)
		}
		yaml.Unmarshal([]byte(want), &w)
		gb, _ := yaml.Marshal(g)
		wb, _ := yaml.Marshal(w)
		if string(gb) != string(wb) {
			t.Fatalf("%s:\n got:\n%s\nwant:\n%s", name, gb, wb)
		}
	}
	f("local keys win, maps merge key by key",
		"defaults: {interval: 10s, tags: {district: a}}\n",
		"defaults: {interval: 60s, timeout: 3s, tags: {district: b, region: r}}\nagent: {site: s1}\n",
		"defaults: {interval: 10s, timeout: 3s, tags: {district: a, region: r}}\nagent: {site: s1}\n")
	f("empty local is the remote config",
		"", "icmp: [{target: 10.0.0.1}]\n", "icmp: [{target: 10.0.0.1}]\n")
	f("empty remote is the local file",
		"icmp: [{target: 10.0.0.1}]\n", "", "icmp: [{target: 10.0.0.1}]\n")
	f("icmp by name: a local target replaces the remote one, the rest are appended",
		"icmp: [{name: gw, target: 10.0.0.9, packets: 1}, {target: 10.0.0.5}]\n",
		"icmp: [{name: gw, target: 10.0.0.1, tags: {link: l1}}, {name: core, target: 10.0.0.2}]\n",
		"icmp: [{name: gw, target: 10.0.0.9, packets: 1}, {name: core, target: 10.0.0.2}, {target: 10.0.0.5}]\n")
	f("icmp without a name matches by address",
		"icmp: [{target: 10.0.0.1, packets: 2}]\n",
		"icmp: [{target: 10.0.0.1}, {target: 10.0.0.2}]\n",
		"icmp: [{target: 10.0.0.1, packets: 2}, {target: 10.0.0.2}]\n")
	f("snmp without a name matches by host",
		"snmp: [{target: '10.0.0.1:1161', community: local}]\n",
		"snmp: [{target: 10.0.0.1, community: remote}, {name: sw, target: 10.0.0.3}]\n",
		"snmp: [{target: '10.0.0.1:1161', community: local}, {name: sw, target: 10.0.0.3}]\n")
	f("plugins merge key by key, their targets by name",
		"plugins: [{name: http, path: /p/http, sha256: abc, targets: [{name: portal, interval: 60s}]}]\n",
		"plugins: [{name: http, start_timeout: 5s, targets: [{name: portal, config: {url: x}}, {name: mail, config: {url: y}}]}, {name: dns, path: /p/dns}]\n",
		"plugins: [{name: http, path: /p/http, sha256: abc, start_timeout: 5s, targets: [{name: portal, interval: 60s}, {name: mail, config: {url: y}}]}, {name: dns, path: /p/dns}]\n")
	f("other lists are values: the local one wins whole",
		"snmp: [{name: sw, target: 10.0.0.3, interfaces: [ether1]}]\n",
		"snmp: [{name: sw, target: 10.0.0.3, interfaces: [ether2, ether3]}]\n",
		"snmp: [{name: sw, target: 10.0.0.3, interfaces: [ether1]}]\n")
	f("aliases are expanded",
		"defaults: {tags: &t {district: a}}\nicmp: [{target: 10.0.0.1, tags: *t}]\n",
		"icmp: [{target: 10.0.0.2}]\n",
		"defaults: {tags: {district: a}}\nicmp: [{target: 10.0.0.2}, {target: 10.0.0.1, tags: {district: a}}]\n")

	// Three layers: local over remote over base.
	got, err := Merge([]byte("agent: {state_dir: /s}\n"), []byte("agent: {site: remote}\n"), []byte("agent: {id: a1, site: base}\ncollectors: [{name: fleet, url: 'http://x'}]\n"))
	if err != nil || !strings.Contains(string(got), "site: remote") || !strings.Contains(string(got), "id: a1") || !strings.Contains(string(got), "state_dir: /s") {
		t.Fatalf("three layers: %s %v", got, err)
	}
}

func TestMergeRefuses(t *testing.T) {
	for name, c := range map[string]struct{ local, remote, want string }{
		"not a mapping":    {"", "- a\n", "the config must be a mapping"},
		"syntax":           {"icmp: [\n", "", "YAML syntax"},
		"billion laughs":   {"", laughs(), "too large"},
		"merge key":        {"", "d: &d {a: 1}\ndefaults: {<<: *d}\n", "merge keys"},
		"undefined anchor": {"", "a: *nope\n", "YAML syntax"},
	} {
		if _, err := Merge([]byte(c.local), []byte(c.remote)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", name, err, c.want)
		}
	}
}

func laughs() string {
	var b strings.Builder
	b.WriteString("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 9; i++ {
		b.WriteString("a" + string(rune('0'+i)) + ": &a" + string(rune('0'+i)) + " [")
		for j := 0; j < 10; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("*a" + string(rune('0'+i-1)))
		}
		b.WriteString("]\n")
	}
	return b.String()
}

func TestCheckRemote(t *testing.T) {
	for name, c := range map[string]struct{ in, want string }{
		"ok":              {"agent: {site: s}\ndefaults: {interval: 30s}\nicmp: [{target: 10.0.0.1}]\n", ""},
		"collectors":      {"collectors: [{url: 'https://evil'}]\n", "remote config:1:1: collectors: unknown field (check the spelling; a remote config holds only agent.site, defaults, icmp, snmp and plugins)"},
		"agent.state_dir": {"agent: {site: s, state_dir: /tmp}\n", "remote config:1:18: agent.state_dir: unknown field"},
		"update":          {"update: {enabled: true}\n", "remote config:1:1: update: unknown field"},
		"secret file":     {"snmp:\n  - target: 10.0.0.1\n    community_file: /etc/shadow\n", "remote config:3:21: snmp[0].community_file: a remote config gives credentials inline"},
		"environment":     {"snmp:\n  - target: 10.0.0.1\n    community: ${PANTAU_TOKEN}\n", "remote config:3:16: snmp[0].community: a remote config may not refer to the agent's environment"},
		"wrong type":      {"icmp:\n  - target: 10.0.0.1\n    packets: many\n", "remote config:3:14: icmp[0].packets: wrong type"},
		// sets and MIB directories are the box's own; a profile and the
		// names of local sets may come from the collector
		"snmp_metrics": {"snmp_metrics: [{name: x}]\n", "remote config:1:1: snmp_metrics: unknown field"},
		"mib_dirs":     {"agent: {mib_dirs: [/etc]}\n", "remote config:1:9: agent.mib_dirs: unknown field"},
		"sets":         {"snmp: [{target: 10.0.0.1, community: c, profile: mikrotik, metrics: [radio]}]\n", ""},
	} {
		err := CheckRemote([]byte(c.in))
		if (c.want == "") != (err == nil) || (err != nil && !strings.HasPrefix(err.Error(), c.want)) {
			t.Errorf("%s: %v, want %q", name, err, c.want)
		}
	}
}

func TestParseLayers(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "token"), []byte("tok\n"), 0o600)
	local := []byte("agent: {state_dir: " + dir + "}\nicmp: [{name: gw, target: 10.0.0.9}]\n")
	base := []byte("agent: {id: enrolled-1, site: dinkes}\ncollectors: [{name: fleet, url: 'https://noc:9810', token_file: " + filepath.Join(dir, "token") + "}]\n")
	c, err := ParseLayers(filepath.Join(dir, "agent.yml"), local, []byte("agent: {site: from-remote}\nicmp: [{name: gw, target: 10.0.0.1}, {target: 10.0.0.2}]\n"), base)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.ICMP) != 2 || c.ICMP[0].Target != "10.0.0.9" || c.Agent.ID != "enrolled-1" || c.Agent.Site != "from-remote" ||
		len(c.Collectors) != 1 || c.Collectors[0].Token.Reveal() != "tok" {
		t.Fatalf("merged: %+v", c)
	}
	// A bad remote target: refused, naming the key path.
	_, err = ParseLayers(filepath.Join(dir, "agent.yml"), local, []byte("icmp: [{target: 10.0.0.1, packets: 0, timeout: 60s}]\n"), base)
	if err == nil || !strings.Contains(err.Error(), "remote config merged with "+filepath.Join(dir, "agent.yml")+": icmp[0].timeout: must not exceed the interval") {
		t.Fatalf("bad remote: %v", err)
	}
	// A bad local file keeps its lines.
	_, err = ParseLayers("agent.yml", []byte("icmp:\n  - {target: 10.0.0.1, intervall: 1s}\n"), []byte("icmp: [{target: 10.0.0.2}]\n"), nil)
	if err == nil || !strings.Contains(err.Error(), "agent.yml:2:24: icmp[0].intervall: unknown field") {
		t.Fatalf("bad local: %v", err)
	}
}

func TestRedact(t *testing.T) {
	in := "collectors: [{name: n, token: tok-secret-1, token_file: /t}]\nsnmp: [{target: x, community: comm-secret-2, auth_passphrase: pass-secret-3}]\n" +
		"plugins: [{name: http, targets: [{name: p, config: {url: u, password: pw-secret-4, api_key: k-secret-5, headers: {Authorization: b-secret-6}}}]}]\nfleet: {enroll_code: code-secret-7}\n"
	out, err := Redact([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"secret-1", "secret-2", "secret-3", "secret-4", "secret-5", "secret-6", "secret-7"} {
		if strings.Contains(string(out), s) {
			t.Fatalf("%s leaked:\n%s", s, out)
		}
	}
	if !strings.Contains(string(out), "token_file: /t") || !strings.Contains(string(out), "<secret>") || !strings.Contains(string(out), "url: u") {
		t.Fatalf("redacted too much or too little:\n%s", out)
	}
}

func TestFleetConfig(t *testing.T) {
	dir := t.TempDir()
	code := "PNT1-abcd2345-" + strings.Repeat("q", 32)
	pinned := code + "-" + strings.Repeat("a", 52)
	for name, c := range map[string]struct{ in, want string }{
		"minimal":        {"agent: {state_dir: " + dir + "}\nfleet: {url: 'https://noc:9810'}\n", ""},
		"bad url":        {"fleet: {url: 'noc:9810'}\n", "f.yml:1:14: fleet.url: must be the collector's http:// or https:// URL"},
		"poll":           {"fleet: {url: 'https://noc', poll_interval: 100ms}\n", "fleet.poll_interval: must be between 1s and 10m"},
		"code no url":    {"fleet: {enroll_code: " + code + "}\n", "f.yml:1:8: fleet.url: must be set with fleet.enroll_code"},
		"bad code":       {"fleet: {url: 'https://noc', enroll_code: PNT1-x}\n", "fleet.enroll_code: malformed enrolment code"},
		"pinned on http": {"fleet: {url: 'http://noc', enroll_code: " + pinned + "}\n", "fleet.url: the enrolment code pins the collector's TLS certificate, but the URL is plain http://"},
		"update no key":  {"update: {enabled: true}\n", "update.public_key_file: must be set when update.enabled is true"},
	} {
		_, err := Parse("f.yml", []byte(c.in))
		if (c.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%s: %v, want %q", name, err, c.want)
		}
	}
	os.WriteFile(filepath.Join(dir, TokenFile), []byte("t"), 0o600)
	cfg, err := Parse("f.yml", []byte("agent: {state_dir: "+dir+"}\nfleet: {url: 'http://noc.example:9810', enroll_code: "+code+"}\n"+
		"collectors: [{url: 'http://noc.example:9810', token: x}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	var ws []string
	for _, w := range cfg.Warnings() {
		ws = append(ws, w.Error())
	}
	all := strings.Join(ws, "\n")
	for _, want := range []string{"f.yml:2:14: fleet.url: the collector is reached over plain http://", "fleet.enroll_code: the agent has enrolled already",
		"collectors[0].url: fleet management already sends to"} {
		if !strings.Contains(all, want) {
			t.Errorf("warning %q missing in:\n%s", want, all)
		}
	}
}

// FuzzMerge: merging and parsing the merge never panic; a merge of two configs that parse is
// a YAML mapping that holds every local top-level key.
func FuzzMerge(f *testing.F) {
	f.Add([]byte("icmp: [{name: gw, target: 10.0.0.9}]\n"), []byte("icmp: [{name: gw, target: 10.0.0.1}, {target: 10.0.0.2}]\nagent: {site: s}\n"))
	f.Add([]byte("plugins: [{name: http, path: /p, targets: [{name: a}]}]\n"), []byte("plugins: [{name: http, targets: [{name: a}, {name: b}]}]\n"))
	f.Add([]byte("defaults: {tags: &t {a: b}}\nicmp: [{target: x, tags: *t}]\n"), []byte("snmp: [{target: '[::1]:161'}]\n"))
	f.Add([]byte(""), []byte(laughs()))
	f.Add([]byte("- 1\n"), []byte("a: b\n"))
	f.Fuzz(func(t *testing.T, local, remote []byte) {
		if len(local) > 1<<16 || len(remote) > 1<<16 {
			return
		}
		_ = CheckRemote(remote)
		_, _ = ParseLayers("", local, remote, nil)
		out, err := Merge(local, remote)
		if err != nil {
			return
		}
		var m map[string]any
		if err := yaml.Unmarshal(out, &m); err != nil {
			t.Fatalf("merged document does not decode: %v\n%s", err, out)
		}
		var l map[string]any
		if yaml.Unmarshal(local, &l) == nil {
			for k := range l {
				if _, ok := m[k]; !ok {
					t.Fatalf("local key %q lost:\n%s", k, out)
				}
			}
		}
		if _, err := Redact(out); err != nil {
			t.Fatalf("redact the merged document: %v", err)
		}
	})
}

func TestPluginLayer(t *testing.T) {
	dir := t.TempDir()
	sum := strings.Repeat("ab", 32)
	os.WriteFile(filepath.Join(dir, "SHA256SUMS"), []byte(sum+"  pantau-plugin-http\n"+sum+" *pantau-plugin-tcp\n"), 0o644)
	dirs := []string{filepath.Join(dir, "missing"), dir}
	remote := []byte("plugins: [{name: http, targets: [{name: portal}]}]\n")
	got, err := PluginLayer(nil, remote, dirs)
	if err != nil || !strings.Contains(string(got), "path: "+filepath.Join(dir, "pantau-plugin-http")) || !strings.Contains(string(got), "sha256: "+sum) {
		t.Fatalf("bundled: %s %v", got, err)
	}
	if got, err := PluginLayer([]byte("plugins: [{name: http, path: /opt/http}]\n"), remote, dirs); got != nil || err != nil {
		t.Fatalf("configured in agent.yml: %s %v", got, err)
	}
	for name, c := range map[string]struct{ remote, want string }{
		"remote path":  {"plugins: [{name: evil, path: /bin/sh, sha256: " + sum + "}]\n", "a remote config may not choose the program a plugin runs"},
		"not bundled":  {"plugins: [{name: snmpwalk, targets: [{name: x}]}]\n", "not a plugin bundled with this agent (no pantau-plugin-snmpwalk"},
		"path in name": {"plugins: [{name: ../../bin/sh}]\n", "must be letters, digits, - or _"},
	} {
		if _, err := PluginLayer(nil, []byte(c.remote), dirs); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", name, err, c.want)
		}
	}
}

// TestRemoteUsesLocalSets: a remote config may give an SNMP device the
// box's own snmp_metrics sets by name; a set the box does not define is
// refused, naming it.
func TestRemoteUsesLocalSets(t *testing.T) {
	dir := t.TempDir()
	local := []byte("agent: {state_dir: " + dir + "}\ncollectors: [{url: 'http://127.0.0.1:9810', token: t}]\n" +
		"snmp_metrics:\n  - name: radio\n    scalars: [{measurement: snmp_radio, field: signal_dbm, oid: 1.3.6.1.4.1.99.1.0}]\n")
	c, err := ParseLayers(filepath.Join(dir, "agent.yml"), local,
		[]byte("snmp: [{target: 10.0.0.1, name: r1, community: c, profile: none, metrics: [radio]}]\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.SNMP) != 1 || len(c.SNMP[0].Metrics) != 1 || c.SNMP[0].Metrics[0] != "radio" {
		t.Fatalf("merged snmp: %+v", c.SNMP)
	}
	_, err = ParseLayers(filepath.Join(dir, "agent.yml"), local,
		[]byte("snmp: [{target: 10.0.0.1, name: r1, community: c, metrics: [nosuch]}]\n"), nil)
	if err == nil || !strings.Contains(err.Error(), "nosuch") {
		t.Fatalf("unknown set: %v", err)
	}
}
