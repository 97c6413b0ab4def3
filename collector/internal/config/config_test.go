package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestDefaultIsValid(t *testing.T) {
	if err := Default().Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestLoadGoodConfigs(t *testing.T) {
	files, _ := filepath.Glob("testdata/good-*.yml")
	if len(files) < 4 {
		t.Fatalf("found %d good configs", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			if _, err := Load(f); err != nil {
				t.Fatal(err)
			}
		})
	}
	c, err := Load("testdata/good-tls.yml")
	if err != nil {
		t.Fatal(err)
	}
	if c.Storage.Retention.Std() != 90*24*time.Hour || c.Storage.OutOfOrderWindow.Std() != 36*time.Hour || c.TLS.ClientAuth != ClientAuthRequire {
		t.Fatalf("decoded %+v", c)
	}
	// Untouched keys keep their defaults.
	if c.Limits != Default().Limits {
		t.Fatalf("limits %+v", c.Limits)
	}
}

// TestLoadBadConfigs holds the exact message for each bad file.
func TestLoadBadConfigs(t *testing.T) {
	cases := map[string]string{
		"bad-unknown-top.yml":    "testdata/bad-unknown-top.yml:2:1: listen_adress: unknown field (check the spelling; `pantau-collector check-config --example` lists every key)",
		"bad-unknown-nested.yml": "testdata/bad-unknown-nested.yml:4:3: storage.retnetion: unknown field (check the spelling; `pantau-collector check-config --example` lists every key)",
		"bad-type.yml":           "testdata/bad-type.yml:2:25: limits.max_series_per_agent: wrong type: cannot decode !!str `lots` into int",
		"bad-duration.yml":       `testdata/bad-duration.yml:2:24: storage.out_of_order_window: invalid duration "7 days": use a number with a unit, such as 30s, 10m, 7d or 400d`,
		"bad-fsync.yml":          `testdata/bad-fsync.yml:2:10: storage.fsync: must be one of "batch", "never" (got "sometimes")`,
		"bad-tls-nokey.yml":      "testdata/bad-tls-nokey.yml: tls.key_file: must be set when tls.cert_file is set",
		"bad-tls-noca.yml":       `testdata/bad-tls-noca.yml:4:16: tls.client_auth: "require" needs tls.client_ca_file, the CA that signs client certificates`,
		"bad-ooo.yml":            "testdata/bad-ooo.yml:3:24: storage.out_of_order_window: must not exceed storage.retention (1w > 3d)",
		"bad-remote-write.yml": strings.Join([]string{
			`testdata/bad-remote-write.yml: storage.remote_write[0].name: must be set: it names the engine's queue cursor and metrics, e.g. victoria`,
			`testdata/bad-remote-write.yml: storage.remote_write[2].basic_auth.password_file: must be set: a file holding the password`,
			`testdata/bad-remote-write.yml:2:10: storage.local: false (remote only) needs storage.remote_query: alerts, reports and /api/v1 read the engine's query API, e.g. {url: http://127.0.0.1:8428}`,
			`testdata/bad-remote-write.yml:5:13: storage.remote_write[1].name: must be 1-64 of a-z, 0-9, _ and - (got "VM")`,
			`testdata/bad-remote-write.yml:6:12: storage.remote_write[1].url: must be an http:// or https:// URL with a host (got "ftp://engine")`,
			`testdata/bad-remote-write.yml:7:15: storage.remote_write[1].shards: must be between 1 and 64, or 0 for the default 4 (got 100)`,
			`testdata/bad-remote-write.yml:8:26: storage.remote_write[1].bearer_token_file: cannot read testdata/nope.token: no such file or directory`,
			`testdata/bad-remote-write.yml:10:12: storage.remote_write[2].url: must not carry credentials; use basic_auth or bearer_token_file (the value is not shown)`,
			`testdata/bad-remote-write.yml:13:14: storage.remote_queue.max_age: must be positive (got 0s)`,
		}, "\n"),
		"bad-report-zone.yml":      `testdata/bad-report-zone.yml:2:14: report.time_zone: must be one of "WIB", "WITA", "WIT", "Asia/Jakarta", "Asia/Pontianak", "Asia/Makassar", "Asia/Jayapura" (got "UTC")`,
		"bad-forecast-horizon.yml": `testdata/bad-forecast-horizon.yml:2:21: report.forecast_horizon: must be positive, such as 2y (got 0s)`,
		"bad-listen.yml":           `testdata/bad-listen.yml:1:17: listen_address: must be host:port, such as 0.0.0.0:9810 or 127.0.0.1:9810 (got "9810")`,
		"bad-capacity-plan.yml": strings.Join([]string{
			`testdata/bad-capacity-plan.yml:3:20: report.capacity_plan.threshold_pct: must be a percentage of the contracted bandwidth from 0 (default 80) to 100 (got 120)`,
			`testdata/bad-capacity-plan.yml:4:13: report.capacity_plan.months: must be a number of months of the year from 0 (default 3) to 12 (got 13)`,
		}, "\n"),
		"bad-report-pdf.yml": strings.Join([]string{
			`testdata/bad-report-pdf.yml:2:20: report.document_number: bad document number pattern: column 11: unknown placeholder {tahun}; want one of {seq}, {seq:N}, {opd}, {product}, {period}, {version}, {day}, {month}, {month_roman}, {year}`,
			`testdata/bad-report-pdf.yml:3:23: report.pdf_max_concurrent: must be at least 1 (got 0)`,
		}, "\n"),
		"bad-multiple.yml": strings.Join([]string{
			`testdata/bad-multiple.yml:1:17: listen_address: port must be a number 0-65535 (got "99999")`,
			`testdata/bad-multiple.yml:3:10: storage.fsync: must be one of "batch", "never" (got "maybe")`,
			`testdata/bad-multiple.yml:5:19: limits.max_body_bytes: must be between 1024 and 1073741824 (got 10)`,
			`testdata/bad-multiple.yml:6:26: limits.max_inflight_requests: must be at least 1 (got 0)`,
			`testdata/bad-multiple.yml:8:18: ingest.string_fields: must be one of "reject", "drop" (got "keep")`,
		}, "\n"),
		"bad-alerting.yml": strings.Join([]string{
			`testdata/bad-alerting.yml:3:38: notifiers[1].url: url must be http:// or https://`,
			`testdata/bad-alerting.yml:5:9: alerting.lang: must be one of "id", "en" (got "jv")`,
			`testdata/bad-alerting.yml:7:20: alerting.routes[0].notifiers[0]: no notifier named "nobody" under notifiers: (have "noc", "hook")`,
			`testdata/bad-alerting.yml:7:39: alerting.routes[0].group_by: "bad-label" is not a label name`,
			`testdata/bad-alerting.yml:10:43: alerting.rules[1].threshold: is a ratio between 0 and 1, such as 0.2 for 20 % (got 20)`,
			`testdata/bad-alerting.yml:11:42: alerting.rules[2].expr: does not parse: 1:6: parse error: unexpected end of input`,
			`testdata/bad-alerting.yml:11:58: alerting.rules[2].title: does not parse as a template: template: :1: unclosed action`,
			`testdata/bad-alerting.yml:12:23: alerting.console.notifier: "hook" is a webhook notifier; the console needs a telegram one`,
			`testdata/bad-alerting.yml:12:44: alerting.console.allowed_chats: list the chat ids commands are taken from (the NOC group's id, such as -1001234567890)`,
		}, "\n"),
		"bad-remote-read.yml": strings.Join([]string{
			`testdata/bad-remote-read.yml:2:28: limits.remote_read_max_samples: must not be negative; 0 turns the limit off (got -1)`,
			`testdata/bad-remote-read.yml:3:27: limits.remote_read_max_series: must not be negative; 0 turns the limit off (got -5)`,
			`testdata/bad-remote-read.yml:4:28: limits.remote_read_max_queries: must not be negative; 0 turns the limit off (got -2)`,
			`testdata/bad-remote-read.yml:5:24: limits.federate_max_series: must not be negative; 0 turns the limit off (got -3)`,
			`testdata/bad-remote-read.yml:6:24: limits.max_match_selectors: must not be negative; 0 turns the limit off (got -4)`,
			`testdata/bad-remote-read.yml:7:27: limits.max_concurrent_exports: must not be negative; 0 turns the limit off (got -6)`,
		}, "\n"),
		"bad-two-docs.yml":     "testdata/bad-two-docs.yml:2:1: more than one YAML document; a config file holds exactly one",
		"bad-missing-file.yml": "testdata/bad-missing-file.yml:2:14: tls.cert_file: cannot read testdata/nope.pem: no such file or directory",
		"bad-syntax.yml":       "testdata/bad-syntax.yml:1:1: YAML syntax: did not find expected ',' or ']'",
	}
	for file, want := range cases {
		t.Run(file, func(t *testing.T) {
			_, err := Load(filepath.Join("testdata", file))
			if err == nil {
				t.Fatal("no error")
			}
			if err.Error() != want {
				t.Errorf("error\n got: %s\nwant: %s", err, want)
			}
		})
	}
	files, _ := filepath.Glob("testdata/bad-*.yml")
	if len(files) != len(cases) {
		t.Errorf("%d bad-*.yml files; every one needs an expected message here", len(files))
	}
}

func TestLoadRemote(t *testing.T) {
	c, err := Load("testdata/good-remote.yml")
	if err != nil {
		t.Fatal(err)
	}
	s := c.Storage
	if s.Local || len(s.RemoteWrite) != 2 || s.RemoteQuery == nil || s.RemoteQuery.URL != "http://127.0.0.1:8428" {
		t.Fatalf("storage %+v", s)
	}
	rw := s.RemoteWrite[1]
	if rw.Name != "mimir" || rw.Shards != 0 || rw.Timeout.Std() != time.Minute || rw.Headers["X-Scope-OrgID"] != "pantau" ||
		rw.BasicAuth == nil || rw.BasicAuth.PasswordFile != filepath.Join("testdata", "engine.password") {
		t.Fatalf("remote_write[1] %+v", rw)
	}
	if s.RemoteWrite[0].Shards != 8 || s.RemoteQueue != Default().Storage.RemoteQueue {
		t.Fatalf("remote_write[0] %+v, queue %+v", s.RemoteWrite[0], s.RemoteQueue)
	}
}

func TestExampleMatchesDefaults(t *testing.T) {
	c, err := Parse("example.yml", ExampleYAML)
	if err != nil {
		t.Fatal(err)
	}
	d := Default()
	if c.DataDir != "/var/lib/pantau-collector" {
		t.Errorf("example data_dir = %q", c.DataDir)
	}
	c.DataDir, c.File, c.doc = d.DataDir, "", nil
	if !reflect.DeepEqual(c, d) {
		t.Errorf("example.yml differs from Default():\n%+v\n%+v", c, d)
	}
}

// FuzzLoad: Parse never panics, and what it accepts validates again.
func FuzzLoad(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.yml")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add(ExampleYAML)
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("fuzz.yml", data)
		if err != nil {
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("accepted config does not validate again: %v", err)
		}
	})
}
