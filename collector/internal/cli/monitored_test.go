package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/statedb"
)

// TestMarkMonitored: sla mark-monitored reads its dates in the Pemda's
// zone (report.time_zone WIT), checks the site against the inventory,
// stores the span in state.db (where the SLA engine reads it) and writes
// an audit row; sla monitored lists it.
func TestMarkMonitored(t *testing.T) {
	dir := t.TempDir()
	inv := filepath.Join(dir, "inventory.yml")
	os.WriteFile(inv, []byte(`sites:
  - {id: kantor, name: Kantor Camat, kind: district, timezone: WIT}
links:
  - {id: kantor-wan, site: kantor, type: fibre, icmp: {target: 127.0.0.9, agent: agent-kantor}}
`), 0o600)
	cfg := filepath.Join(dir, "collector.yml")
	os.WriteFile(cfg, []byte("data_dir: "+filepath.Join(dir, "data")+"\ninventory: "+inv+"\nreport:\n  time_zone: WIT\n"), 0o600)
	code, out, errOut := cli(t, "sla", "mark-monitored", "--config", cfg, "--from", "2026-03-01", "--to", "2026-07-01", "--site", "kantor", "--reason", "impor Zabbix")
	if code != 0 || errOut != "" || !strings.Contains(out, "site kantor monitored from 2026-03-01 00:00 WIT") {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	for _, bad := range [][]string{
		{"--from", "2026-03-01", "--to", "2026-07-01", "--site", "nowhere"},
		{"--from", "2026-03-01", "--to", "2026-07-01", "--agent", "agent-lain"},
		{"--from", "2026-07-01", "--to", "2026-03-01"},
		{"--from", "1 Maret", "--to", "2026-07-01"},
		{"--to", "2026-07-01"},
	} {
		if code, _, errOut := cli(t, append([]string{"sla", "mark-monitored", "--config", cfg}, bad...)...); code == 0 || errOut == "" {
			t.Errorf("%v: exit %d, want an error", bad, code)
		}
	}
	code, out, errOut = cli(t, "sla", "monitored", "--config", cfg)
	if code != 0 || !strings.Contains(out, "impor Zabbix") || strings.Count(out, "\n") != 2 {
		t.Fatalf("list: exit %d\n%s%s", code, out, errOut)
	}
	db, err := statedb.Open(context.Background(), filepath.Join(dir, "data"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	spans, err := db.Minutes().MonitoredSpans(context.Background())
	if err != nil || len(spans) != 1 {
		t.Fatalf("%v %+v", err, spans)
	}
	// 2026-03-01 00:00 WIT is 2026-02-28 15:00 UTC
	if s := spans[0]; s.Scope != "site" || s.Target != "kantor" || !s.Start.Equal(time.Date(2026, 2, 28, 15, 0, 0, 0, time.UTC)) ||
		!s.End.Equal(time.Date(2026, 6, 30, 15, 0, 0, 0, time.UTC)) {
		t.Errorf("span %+v", s)
	}
	rows, err := db.Audit(context.Background(), statedb.AuditFilter{})
	if err != nil || len(rows) != 1 || rows[0].Action != "cli sla mark-monitored" || rows[0].Object != "monitored/1" || !strings.Contains(rows[0].Summary, "impor Zabbix") {
		t.Errorf("audit %v %+v", err, rows)
	}
}

// FuzzParseSpan: mark-monitored's flag parser never panics, and a span it
// accepts is valid and ends after it starts.
func FuzzParseSpan(f *testing.F) {
	f.Add("2026-03-01", "2026-07-01", "kantor", "", "impor")
	f.Add("2026-03-01T08:30", "2026-03-01 09:00", "", "agent-1", "")
	f.Add("2026-07-01", "2026-03-01", "", "", "")
	f.Add("0000-01-01", "9999-12-31", "a", "b", "")
	f.Add("", "2026-13-01", "", "", "")
	wit := time.FixedZone("WIT", 9*3600)
	f.Fuzz(func(t *testing.T, from, to, site, agent, reason string) {
		sp, err := parseSpan(from, to, site, agent, reason, wit)
		if err != nil {
			return
		}
		if !sp.End.After(sp.Start) || sp.Validate() != nil {
			t.Fatalf("accepted %+v", sp)
		}
		if site != "" && agent != "" {
			t.Fatalf("accepted both --site and --agent: %+v", sp)
		}
	})
}
