package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReportProducts: --product writes each product; an unknown one, a
// format it does not come in and a period it is not made for are usage
// errors (exit 2) naming the problem.
func TestReportProducts(t *testing.T) {
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
	os.WriteFile(cfg, []byte("data_dir: "+data+"\ninventory: "+inv+"\nreport: {capacity_plan: {threshold_pct: 70, months: 2}}\n"), 0o600)

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--product", "opd-sheet", "--opd", "dinkes", "--period", "2026-10"}, "Mengetahui,"},
		{[]string{"--product", "review-pack", "--period", "2026-Q4", "--lang", "en"}, "Quarterly SPBE Infrastructure Review Pack"},
		{[]string{"--product", "annual", "--period", "2026"}, "tambah kapasitas bila p95 salah satu arah melebihi 70\u00a0% bandwidth kontrak pada sedikitnya 2 bulan"},
	} {
		args := append([]string{"report", "--config", cfg}, c.args...)
		if code, stdout, errOut := cli(t, args...); code != 0 || !strings.Contains(stdout, c.want) {
			t.Errorf("%v: exit %d, want %q in the page\n%.300s%s", c.args, code, c.want, stdout, errOut)
		}
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--product", "nope", "--period", "2026"}, `product "nope": want one of monthly, opd-sheet, review-pack, annual`},
		{[]string{"--product", "annual", "--period", "2026", "--format", "csv"}, "product annual as CSV is one table at a time: give table= one of trends"},
	} {
		args := append([]string{"report", "--config", cfg}, c.args...)
		if code, _, errOut := cli(t, args...); code != 2 || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, want 2 saying %q\n%s", c.args, code, c.want, errOut)
		}
	}
	if code, _, errOut := cli(t, "report", "--config", cfg, "--product", "annual", "--period", "2026-Q4"); code == 0 || !strings.Contains(errOut, "product annual covers a year, such as 2026") {
		t.Errorf("annual of a quarter: exit %d\n%s", code, errOut)
	}
}
