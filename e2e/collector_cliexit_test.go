package e2e

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/tsdb"

	"github.com/pantau-noc/pantau/internal/testbuild"
)

// TestIntegrationCLIsExitWithBlocks: `report` and `sla rebuild` finish
// and exit on a data dir whose TSDB has persisted blocks (issue 16: both
// finished their work, then blocked for ever in DBReadOnly.Close, so a
// cron-run monthly report never ended). The rounds span five hours and
// are compacted into a block before the commands run.
func TestIntegrationCLIsExitWithBlocks(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the collector binary")
	}
	t.Parallel()
	bin := testbuild.Collector(t)
	dir := t.TempDir()
	dataDir := filepath.Join(dir, "data")
	invPath := filepath.Join(dir, "inventory.yml")
	if err := os.WriteFile(invPath, []byte(slaTestInventory), 0o644); err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(dir, "collector.yml")
	if err := os.WriteFile(cfgPath, []byte("data_dir: "+dataDir+"\ninventory: "+invPath+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	// Five hours of rounds every 30 s, ending an hour ago, all up.
	end := time.Now().Truncate(time.Minute).Add(-time.Hour)
	start := end.Add(-5 * time.Hour)
	db, err := tsdb.Open(filepath.Join(dataDir, "tsdb"), nil, nil, tsdb.DefaultOptions(), nil)
	if err != nil {
		t.Fatal(err)
	}
	app := db.Appender(context.Background())
	base := []string{"agent", "agent-1", "site", "dinkes", "target", "127.0.0.2"}
	series := map[string]float64{"pantau_icmp_up": 1, "pantau_icmp_loss_ratio": 0, "pantau_icmp_rtt_avg_seconds": 0.004}
	for tm := start; tm.Before(end); tm = tm.Add(30 * time.Second) {
		for name, v := range series {
			if _, err := app.Append(0, labels.FromStrings(append([]string{"__name__", name}, base...)...), tm.UnixMilli(), v); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := app.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := db.Compact(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(db.Blocks()) == 0 {
		t.Fatal("no block was written; the test needs one")
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	run := func(args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, args...)
		out, err := cmd.CombinedOutput()
		if ctx.Err() != nil {
			t.Fatalf("%s did not exit within 2 minutes (it hung after its work); output:\n%s", strings.Join(args[:2], " "), out)
		}
		if err != nil {
			t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	wib := time.FixedZone("WIB", 7*3600)
	day := func(tm time.Time) string { return tm.In(wib).Format("2006-01-02") }

	out := run("sla", "rebuild", "--config", cfgPath, "--from", day(start), "--log.level", "warn")
	if !strings.Contains(out, "rebuilt minute states from 1 series (600 rounds") {
		t.Errorf("sla rebuild: %s", out)
	}
	reportFile := filepath.Join(dir, "report.json")
	run("report", "--config", cfgPath, "--period", day(start)+".."+day(end), "--format", "json", "--out", reportFile, "--log.level", "warn")
	b, err := os.ReadFile(reportFile)
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Links []struct {
			Link string  `json:"link"`
			Up   float64 `json:"up"`
		} `json:"links"`
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	// 300 minutes of rounds, all up, rebuilt from the block
	if len(rep.Links) != 1 || rep.Links[0].Up != 300 {
		t.Errorf("report links: %+v", rep.Links)
	}
}
