package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPemdaZoneFromConfig: with report.time_zone: WIT in collector.yml,
// a Pemda whose sites are in several zones (so that the inventory alone
// gives WIB) reads `sla rebuild --from 2026-10-01` as 00:00 WIT, and the
// report's header gives the period's days in WIT, by name.
func TestPemdaZoneFromConfig(t *testing.T) {
	dir := t.TempDir()
	inv := filepath.Join(dir, "inventory.yml")
	os.WriteFile(inv, []byte(`sites:
  - {id: dc, name: DC Provinsi, kind: datacenter, timezone: WIB}
  - {id: dinkes, name: Dinas Kesehatan, kind: opd, timezone: WIT}
links:
  - {id: dinkes-wan, site: dinkes, type: fibre, icmp: {target: 127.0.0.2}}
`), 0o600)
	data := filepath.Join(dir, "data")
	os.MkdirAll(filepath.Join(data, "tsdb", "wal"), 0o755) // an empty TSDB
	cfg := filepath.Join(dir, "collector.yml")
	os.WriteFile(cfg, []byte("data_dir: "+data+"\ninventory: "+inv+"\nreport:\n  time_zone: WIT\n"), 0o600)

	// 2026-10-01 00:00 WIT is 2026-09-30 15:00 UTC: the first nine hours
	// of the WIT month would be missed if read in UTC, two if in WIB.
	code, stdout, errOut := cli(t, "sla", "rebuild", "--config", cfg, "--from", "2026-10-01", "--to", "2026-10-02", "--log.level", "warn")
	if want := "between 2026-10-01T00:00:00+09:00 and 2026-10-02T00:00:00+09:00"; code != 0 || !strings.Contains(stdout, want) {
		t.Errorf("sla rebuild: exit %d, want %q in\n%s%s", code, want, stdout, errOut)
	}
	out := filepath.Join(dir, "r.html")
	if code, _, errOut := cli(t, "report", "--config", cfg, "--period", "2026-10", "--format", "html", "--out", out, "--log.level", "warn"); code != 0 {
		t.Fatalf("report: exit %d\n%s", code, errOut)
	}
	page, _ := os.ReadFile(out)
	if want := "Oktober 2026 (1 Oktober 2026 – 31 Oktober 2026, WIT)"; !strings.Contains(string(page), want) {
		t.Errorf("report header without %q", want)
	}
	_, js, _ := cli(t, "report", "--config", cfg, "--period", "2026-10", "--format", "json", "--log.level", "warn")
	if want := `"start": "2026-10-01T00:00:00+09:00"`; !strings.Contains(js, want) {
		t.Errorf("report JSON without %q", want)
	}
	// --csv-locale: id gives ';', anything else is a usage error naming
	// the allowed values
	if code, stdout, errOut := cli(t, "report", "--config", cfg, "--period", "2026-10", "--format", "csv", "--table", "summary", "--csv-locale", "id", "--log.level", "warn"); code != 0 || !strings.HasPrefix(stdout, "\ufeffbutir;nilai") {
		t.Errorf("--csv-locale id: exit %d\n%.60q%s", code, stdout, errOut)
	}
	if code, _, errOut := cli(t, "report", "--config", cfg, "--period", "2026-10", "--format", "csv", "--csv-locale", "fr"); code != 2 || !strings.Contains(errOut, "want one of id, default") {
		t.Errorf("--csv-locale fr: exit %d, want 2\n%s", code, errOut)
	}
}
