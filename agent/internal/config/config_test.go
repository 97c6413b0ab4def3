package config

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// example returns example.yml with its /etc/pantau files made real.
func example(t testing.TB) (string, []byte) {
	dir := t.TempDir()
	for name, body := range map[string]string{"agent.token": "pantau_tok_secret\n", "ca.pem": "x"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// the plugin program must exist and be executable
	if err := os.WriteFile(filepath.Join(dir, "pantau-plugin-http"), []byte("#!/bin/false\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	data := bytes.ReplaceAll(ExampleYAML, []byte("/etc/pantau/"), []byte(dir+"/"))
	return dir, bytes.ReplaceAll(data, []byte("/usr/lib/pantau/plugins/"), []byte(dir+"/"))
}

func TestExample(t *testing.T) {
	t.Setenv("PANTAU_SNMP_AUTH", "auth-secret-1")
	t.Setenv("PANTAU_SNMP_PRIV", "priv-secret-1")
	_, data := example(t)
	c, err := Parse("example.yml", data)
	if err != nil {
		t.Fatal(err)
	}
	if c.Collectors[0].Token.Reveal() != "pantau_tok_secret" || c.SNMP[1].AuthPassphrase.Reveal() != "auth-secret-1" {
		t.Fatal("secrets not resolved")
	}
	i := c.ICMP[1]
	if i.Interval.Std() != 10*time.Second || i.Timeout.Std() != 5*time.Second || i.Packets != 5 || i.Name != "2001:db8::1" ||
		i.Tags["district"] != "sorong-kota" || i.Tags["site"] != "dinkes" || i.TOS != 0 || c.ICMP[0].TOS != 184 {
		t.Fatalf("icmp defaults: %+v", i)
	}
	s := c.SNMP[0]
	if s.Target != "10.20.0.1:161" || s.Name != "10.20.0.1" || s.MaxRepetitions != 25 || s.Retries != 1 || s.Interval.Std() != 30*time.Second {
		t.Fatalf("snmp defaults: %+v", s)
	}
	if c.SNMP[1].MaxRepetitions != 50 || c.SNMP[1].PrivProtocol != "AES" {
		t.Fatalf("snmp v3: %+v", c.SNMP[1])
	}
	if c.Collectors[0].Name != "noc" || c.Targets() != 5 {
		t.Fatal("collectors/targets")
	}
	if p := c.Plugins[0]; p.Name != "http" || len(p.Targets) != 1 || p.Targets[0].Config["url"] != "https://www.example.go.id/" || p.Targets[0].Interval.Std() != time.Minute {
		t.Fatalf("plugins: %+v", c.Plugins)
	}
}

func TestSecretsNeverPrinted(t *testing.T) {
	t.Setenv("PANTAU_SNMP_AUTH", "auth-secret-1")
	t.Setenv("PANTAU_SNMP_PRIV", "priv-secret-1")
	_, data := example(t)
	c, err := Parse("example.yml", data)
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	slog.New(slog.NewTextHandler(&logs, nil)).Info("config", "cfg", c, "token", c.Collectors[0].Token)
	for _, out := range []string{fmt.Sprintf("%v %+v %#v %s", c, c, c, c.SNMP[1].PrivPassphrase), logs.String()} {
		for _, secret := range []string{"pantau_tok_secret", "auth-secret-1", "priv-secret-1", "public"} {
			if strings.Contains(out, secret) {
				t.Fatalf("secret %q printed: %s", secret, out)
			}
		}
	}
}

func TestEmptyConfigIsDefaults(t *testing.T) {
	c, err := Parse("agent.yml", []byte("# nothing\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Agent.ListenAddress != "127.0.0.1:9811" || c.Agent.ID == "" || len(c.Collectors) != 0 {
		t.Fatalf("%+v", c.Agent)
	}
	if c.Queue.DeadLetterMaxBytes != 16<<20 {
		t.Fatalf("queue.dead_letter_max_bytes default %d", c.Queue.DeadLetterMaxBytes)
	}
	if c.Queue.MaxRequestBytes != 256<<10 {
		t.Fatalf("queue.max_request_bytes default %d", c.Queue.MaxRequestBytes)
	}
}

func TestBadConfigs(t *testing.T) {
	os.Unsetenv("PANTAU_UNSET_VAR")
	for name, c := range map[string]struct{ in, want string }{
		"unknown key": {"agent:\n  state_dri: /x\n",
			"a.yml:2:3: agent.state_dri: unknown field (check the spelling; `pantau-agent check-config --example` lists every key)"},
		"bad interval type": {"defaults:\n  interval: fast\n",
			"a.yml:2:13: defaults.interval: invalid duration \"fast\": use a number with a unit, such as 30s, 10m, 7d or 400d"},
		"timeout over interval": {"icmp:\n  - target: 127.0.0.1\n    interval: 1s\n    timeout: 2s\n    packets: 1\n",
			"a.yml:4:14: icmp[0].timeout: must not exceed the interval 1s (got 2s): a round must end before the next starts"},
		"packets do not fit": {"icmp:\n  - target: 127.0.0.1\n    interval: 1s\n    timeout: 1s\n    packets: 5\n",
			"a.yml:2:5: icmp[0].packet_interval: 5 packets 500ms apart do not fit in the timeout 1s"},
		"bad address": {"icmp:\n  - target: 10.0.0.0/8\n",
			"a.yml:2:13: icmp[0].target: must be an IPv4 or IPv6 address or a host name (got \"10.0.0.0/8\")"},
		"missing token": {"collectors:\n  - url: http://127.0.0.1:9810\n",
			"a.yml:2:5: collectors[0].token: must be set (inline, as ${ENV_VAR}, or through token_file)"},
		"unset env": {"collectors:\n  - url: http://127.0.0.1:9810\n    token: ${PANTAU_UNSET_VAR}\n",
			"a.yml:3:12: collectors[0].token: environment variable PANTAU_UNSET_VAR is not set or empty"},
		"bad url": {"collectors:\n  - url: noc:9810\n    token: t\n",
			"a.yml:2:10: collectors[0].url: must be an http:// or https:// URL with a host (got \"noc:9810\")"},
		"missing secret file": {"collectors:\n  - url: http://127.0.0.1:9810\n    token_file: /nonexistent/token\n",
			"a.yml:3:17: collectors[0].token_file: cannot read secret file /nonexistent/token: no such file or directory"},
		"snmp version": {"snmp:\n  - target: 127.0.0.1\n    version: 4\n    community: c\n",
			"a.yml:3:14: snmp[0].version: must be one of \"1\", \"2c\", \"3\" (got \"4\")"},
		"v3 short passphrase": {"snmp:\n  - target: 127.0.0.1\n    version: 3\n    username: u\n    auth_passphrase: short\n    priv_passphrase: longenough\n",
			"a.yml:5:22: snmp[0].auth_passphrase: must be at least 8 characters (RFC 3414)"},
		"snmp profile": {"snmp:\n  - target: 127.0.0.1\n    community: c\n    profile: mikrotk\n",
			"a.yml:4:14: snmp[0].profile: must be one of \"auto\", \"none\", \"airfiber\", \"airmax\", \"apc\", \"cisco\", \"entity-sensor\", \"epmp\", \"huawei\", \"juniper\", \"ltu\", \"mikrotik\", \"ptp650\", \"ups\" (got \"mikrotk\")"},
		"bad regex": {"snmp:\n  - target: 127.0.0.1\n    community: c\n    interfaces: [\"eth(\"]\n",
			"a.yml:4:18: snmp[0].interfaces[0]: bad regular expression: error parsing regexp: missing closing ): `^(?:eth()$`"},
		"reserved tag": {"defaults:\n  tags: {agent: x}\n",
			"a.yml:2:17: defaults.tags.agent: \"agent\" is set by the agent or the collector and cannot be an inventory tag"},
		"dead letter bound": {"queue:\n  dead_letter_max_bytes: 1000\n",
			"a.yml:2:26: queue.dead_letter_max_bytes: must be at least 65536 (64 KiB) (got 1000)"},
		"update without key": {"update:\n  enabled: true\n",
			"a.yml:2:3: update.public_key_file: must be set when update.enabled is true: the ed25519 public key (PEM) releases are signed for (pantau-collector release keygen)"},
		"update health timeout": {"update:\n  health_timeout: 0s\n",
			"a.yml:2:19: update.health_timeout: must be between 1s and 1h (got 0s)"},
		"request bound": {"queue:\n  max_request_bytes: 1000\n",
			"a.yml:2:22: queue.max_request_bytes: must be 0 (one batch per request) or between 4096 and 33554432 (32 MiB) (got 1000)"},
		"engine": {"agent:\n  icmp_engine: fast\n",
			"a.yml:2:16: agent.icmp_engine: must be one of \"shared\", \"pinger\" (got \"fast\")"},
	} {
		_, err := Parse("a.yml", []byte(c.in))
		if err == nil || err.Error() != c.want {
			t.Errorf("%s:\n got %v\nwant %s", name, err, c.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	_, data := example(f)
	f.Add(data)
	f.Add([]byte("icmp:\n  - target: 127.0.0.1\n"))
	f.Add([]byte("collectors:\n  - {url: 'http://[fe80::1%25eth0]:80', token: t}\n  - {url: 'http://localhost', token: t}\n"))
	f.Add([]byte("snmp:\n  - {target: '[::1]:161', version: 3, username: u, security_level: noAuthNoPriv}\n"))
	f.Add([]byte("snmp:\n  - {target: h, community: c, metrics: [m]}\nsnmp_metrics:\n  - name: m\n    scalars: [{measurement: m, field: f, oid: .1.3.6.1.2.1.1.3.0, scale: 0.01}]\n" +
		"    tables: [{measurement: t, index_tags: [{name: i, index: 1}], tags: [{name: n, oid: 1.3.6.1.2.1.2.2.1.2}], fields: [{name: f, oid: 1.3.6.1.2.1.2.2.1.10, type: rate}]}]\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		c, err := Parse("f.yml", in)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "f.yml") {
				t.Fatalf("error without location: %v", err)
			}
			return
		}
		for _, i := range c.ICMP {
			if i.Timeout > i.Interval || i.Packets < 1 {
				t.Fatalf("accepted bad target %+v", i)
			}
		}
		for _, w := range c.Warnings() {
			if !strings.HasPrefix(w.Error(), "f.yml") {
				t.Fatalf("warning without location: %v", w)
			}
		}
	})
}

// TestUpdateKeys: update is off by default with a 2m health timeout; the
// key file is resolved against the config's directory; with updates on,
// a key file that is missing or holds no ed25519 public key is a warning
// (the agent runs and refuses releases), not an error.
func TestUpdateKeys(t *testing.T) {
	c, err := Parse("agent.yml", []byte("# nothing\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Update.Enabled || c.Update.HealthTimeout.Std() != 2*time.Minute {
		t.Fatalf("update defaults: %+v", c.Update)
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "agent.yml")
	pub := "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n-----END PUBLIC KEY-----\n"
	os.WriteFile(filepath.Join(dir, "release.pub"), []byte(pub), 0o644)
	os.WriteFile(filepath.Join(dir, "not.pub"), []byte("hello\n"), 0o644)
	for _, tc := range []struct{ file, warn string }{
		{"release.pub", ""},
		{"missing.pub", cfg + ":2:42: update.public_key_file: cannot read " + filepath.Join(dir, "missing.pub") + ": no such file or directory: " +
			"every release offered to this agent is refused until the file holds the release public key (PEM, from pantau-collector release keygen)"},
		{"not.pub", cfg + ":2:42: update.public_key_file: " + filepath.Join(dir, "not.pub") + ": no PEM \"PUBLIC KEY\" block: every release"},
	} {
		c, err := Parse(cfg, []byte("agent: {}\nupdate: {enabled: true, public_key_file: "+tc.file+", health_timeout: 30s}\n"))
		if err != nil {
			t.Fatal(err)
		}
		if c.Update.PublicKeyFile != filepath.Join(dir, tc.file) || c.Update.HealthTimeout.Std() != 30*time.Second {
			t.Fatalf("update: %+v", c.Update)
		}
		var got []string
		for _, w := range c.Warnings() {
			got = append(got, w.Error())
		}
		switch {
		case tc.warn == "" && len(got) != 0:
			t.Errorf("%s: warnings %q", tc.file, got)
		case tc.warn != "" && (len(got) != 1 || !strings.Contains(got[0], tc.warn)):
			t.Errorf("%s: warnings %q, want %q", tc.file, got, tc.warn)
		}
	}
}
