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
