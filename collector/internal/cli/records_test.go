package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestInventoryAndReviewCommands: CSV import writes an inventory that
// check accepts; a bad CSV names its cell; reviews and follow-ups go in
// through the CLI and come back in the list.
func TestInventoryAndReviewCommands(t *testing.T) {
	dir := t.TempDir()
	csvPath := filepath.Join(dir, "sites.csv")
	os.WriteFile(csvPath, []byte("site_id,site_name,kind,timezone,link_id,type,icmp_target,bandwidth\n"+
		"dinkes,Dinas Kesehatan,opd,WIT,dinkes-wan,fibre,127.0.0.2,20Mbps\n"), 0o644)
	out := filepath.Join(dir, "inventory.yml")
	if code, _, errOut := cli(t, "inventory", "import", "--csv", csvPath, "--out", out); code != 0 {
		t.Fatalf("import: %d %s", code, errOut)
	}
	if code, stdout, errOut := cli(t, "inventory", "check", "--file", out); code != 0 || !strings.Contains(stdout, "1 sites, 1 links") {
		t.Fatalf("check: %d %s %s", code, stdout, errOut)
	}
	os.WriteFile(csvPath, []byte("site_id,site_name,kind,timezone\ndinkes,Dinas Kesehatan,opd,UTC+7\n"), 0o644)
	code, _, errOut := cli(t, "inventory", "import", "--csv", csvPath, "--out", out)
	if code != 1 || !strings.Contains(errOut, "sites.csv:2:") || !strings.Contains(errOut, "timezone") {
		t.Errorf("bad CSV: exit %d\n%s", code, errOut)
	}
	if code, stdout, _ := cli(t, "inventory", "check", "--file", out); code != 0 || !strings.Contains(stdout, "OK") {
		t.Error("a rejected import replaced the inventory")
	}

	data := filepath.Join(dir, "data")
	if code, _, errOut := cli(t, "review", "add", "--data-dir", data, "--month", "2026-10", "--date", "2026-11-05",
		"--participants", "Kabid TIK, NOC", "--findings", "VSAT Aimas sering putus"); code != 0 {
		t.Fatalf("review add: %s", errOut)
	}
	if code, _, errOut := cli(t, "followup", "add", "--data-dir", data, "--review", "1", "--opened", "2026-11-05",
		"--item", "Ganti modem VSAT", "--owner", "Bidang TIK", "--due", "2026-11-30"); code != 0 {
		t.Fatalf("followup add: %s", errOut)
	}
	if code, _, _ := cli(t, "followup", "update", "--data-dir", data, "--id", "1", "--status", "selesai", "--date", "2026-11-20"); code == 0 {
		t.Error("closing without evidence was accepted")
	}
	if code, _, errOut := cli(t, "followup", "update", "--data-dir", data, "--id", "1", "--status", "selesai", "--date", "2026-11-20", "--evidence", "BA serah terima 12/XI"); code != 0 {
		t.Fatalf("followup update: %s", errOut)
	}
	_, stdout, _ := cli(t, "followup", "list", "--data-dir", data, "--as-of", "2026-11-30", "--format", "json")
	if !strings.Contains(stdout, `"status": "selesai"`) || !strings.Contains(stdout, "BA serah terima") {
		t.Errorf("followup list: %s", stdout)
	}
	if _, stdout, _ := cli(t, "followup", "list", "--data-dir", data, "--as-of", "2026-11-10", "--format", "json"); !strings.Contains(stdout, `"status": "belum"`) {
		t.Errorf("followup list as of before the close: %s", stdout)
	}
}

// TestDatesZone: the dates of `sla rebuild`, `maintenance add --scope
// all` and `report` are the Pemda's (here the zone all sites share, WIT)
// unless --zone names another; an unknown zone is a usage error (exit 2)
// naming it.
func TestDatesZone(t *testing.T) {
	dir := t.TempDir()
	inv := filepath.Join(dir, "inventory.yml")
	os.WriteFile(inv, []byte(`sites:
  - {id: dinkes, name: Dinas Kesehatan, kind: opd, timezone: WIT}
links:
  - {id: dinkes-wan, site: dinkes, type: fibre, icmp: {target: 127.0.0.2}}
`), 0o600)
	data := filepath.Join(dir, "data")
	os.MkdirAll(filepath.Join(data, "tsdb", "wal"), 0o755) // an empty TSDB
	cfg := filepath.Join(dir, "collector.yml")
	os.WriteFile(cfg, []byte("data_dir: "+data+"\ninventory: "+inv+"\n"), 0o600)

	for _, tc := range []struct {
		zone, want string
	}{
		{"", "between 2026-10-01T00:00:00+09:00 and 2026-10-02T00:00:00+09:00"},
		{"WIB", "between 2026-10-01T00:00:00+07:00 and 2026-10-02T00:00:00+07:00"},
		{"Asia/Makassar", "between 2026-10-01T00:00:00+08:00 and 2026-10-02T00:00:00+08:00"},
	} {
		args := []string{"sla", "rebuild", "--config", cfg, "--from", "2026-10-01", "--to", "2026-10-02", "--log.level", "warn"}
		if tc.zone != "" {
			args = append(args, "--zone", tc.zone)
		}
		if code, stdout, errOut := cli(t, args...); code != 0 || !strings.Contains(stdout, tc.want) {
			t.Errorf("sla rebuild --zone %q: exit %d, want %q in\n%s%s", tc.zone, code, tc.want, stdout, errOut)
		}
	}

	add := func(zone string) (int, string, string) {
		args := []string{"maintenance", "add", "--config", cfg, "--scope", "all", "--start", "2026-10-01T00:00", "--end", "2026-10-01T02:00", "--reason", "uji"}
		if zone != "" {
			args = append(args, "--zone", zone)
		}
		return cli(t, args...)
	}
	if code, stdout, errOut := add(""); code != 0 || !strings.Contains(stdout, "2026-10-01 00:00 WIT – 2026-10-01 02:00 WIT") {
		t.Errorf("maintenance add: exit %d\n%s%s", code, stdout, errOut)
	}
	if code, stdout, errOut := add("WITA"); code != 0 || !strings.Contains(stdout, "2026-10-01 00:00 WITA – 2026-10-01 02:00 WITA") {
		t.Errorf("maintenance add --zone WITA: exit %d\n%s%s", code, stdout, errOut)
	}

	for _, args := range [][]string{
		{"sla", "rebuild", "--config", cfg, "--from", "2026-10-01", "--zone", "Mars"},
		{"maintenance", "add", "--config", cfg, "--scope", "all", "--start", "2026-10-01T00:00", "--end", "2026-10-01T02:00", "--reason", "uji", "--zone", "Mars"},
		{"report", "--config", cfg, "--period", "2026-10-01", "--zone", "Mars"},
	} {
		if code, _, errOut := cli(t, args...); code != 2 || !strings.Contains(errOut, `unknown time zone "Mars"`) {
			t.Errorf("%s --zone Mars: exit %d, want 2 naming the zone\n%s", args[0], code, errOut)
		}
	}
	if _, stdout, _ := cli(t, "maintenance", "list", "--config", cfg); strings.Count(stdout, "uji") != 2 {
		t.Errorf("a refused window was stored, or a good one lost:\n%s", stdout)
	}
}

// TestQuarterlyReviewCommand: review add --quarter records a quarterly
// review under its quarter's last month; --month and --quarter exclude
// each other; review list shows each review's kind and period.
func TestQuarterlyReviewCommand(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	add := func(args ...string) (int, string, string) {
		return cli(t, append([]string{"review", "add", "--data-dir", data, "--date", "2027-01-08",
			"--participants", "Sekda, Kadis Kominfo", "--findings", "FO dishub\nsering putus"}, args...)...)
	}
	for _, c := range []struct {
		args []string
		code int
		out  string
	}{
		{[]string{"--quarter", "2026-Q4"}, 0, "recorded quarterly review 1 of 2026-Q4"},
		{[]string{"--quarter", "2026-09"}, 0, "recorded quarterly review 2 of 2026-Q3"},
		{[]string{"--month", "2026-11"}, 0, "recorded monthly review 3 of 2026-11"},
		{[]string{"--quarter", "2026-11"}, 2, "--quarter \"2026-11\": a quarterly review names its quarter (2026-Q4) or the quarter's last month (2026-12)"},
		{[]string{"--month", "2026-12", "--quarter", "2026-Q4"}, 2, "--month and --quarter exclude each other"},
		{nil, 2, "--month (a monthly review) or --quarter (a quarterly review) is required"},
	} {
		code, stdout, errOut := add(c.args...)
		if code != c.code || !strings.Contains(stdout+errOut, c.out) {
			t.Errorf("review add %q: exit %d\n%s%s\nwant exit %d with %q", c.args, code, stdout, errOut, c.code, c.out)
		}
	}
	code, stdout, errOut := cli(t, "review", "list", "--data-dir", data, "--from", "2026-10", "--to", "2026-12", "--format", "table")
	if code != 0 {
		t.Fatalf("review list: %d %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 3 || !strings.Contains(lines[0], "KIND") || !strings.Contains(lines[0], "PERIOD") ||
		!strings.Contains(lines[1], "monthly") || !strings.Contains(lines[1], "2026-11") ||
		!strings.Contains(lines[2], "quarterly") || !strings.Contains(lines[2], "2026-Q4") || !strings.Contains(lines[2], "FO dishub sering putus") {
		t.Errorf("review list --format table:\n%s", stdout)
	}
	if _, stdout, _ := cli(t, "review", "list", "--data-dir", data); !strings.Contains(stdout, `"kind": "quarterly"`) || !strings.Contains(stdout, `"period": "2026-Q3"`) {
		t.Errorf("review list (json):\n%s", stdout)
	}
}
