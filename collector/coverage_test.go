package collector

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/config"
	"github.com/pantau-noc/pantau/collector/internal/inventory"
	"github.com/pantau-noc/pantau/collector/internal/report"
	"github.com/pantau-noc/pantau/collector/internal/sla"
	"github.com/pantau-noc/pantau/collector/internal/statedb"
	"github.com/pantau-noc/pantau/collector/internal/storage"
)

// TestIntegrationBacklogGapIsNoData: an agent's backlog of yesterday
// 00:00–06:00 WIB (delivered now, so the collector was not running at the
// time) has rounds every 30 s and heartbeats throughout, but no rounds
// 02:00–04:00. The 2-hour gap is nodata (the agent was alive), not a
// monitoring gap; and `sla rebuild`'s states from the TSDB give the same
// figures.
func TestIntegrationBacklogGapIsNoData(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	invPath := filepath.Join(dir, "inventory.yml")
	if err := os.WriteFile(invPath, []byte(slaTestInventory), 0o644); err != nil {
		t.Fatal(err)
	}
	tc := startCollector(t, func(c *config.Config) { c.Inventory = invPath })
	tok := tc.token("agent-1", "dinkes")
	wib, _ := time.LoadLocation("Asia/Jakarta")
	now := time.Now().In(wib)
	day0 := time.Date(now.Year(), now.Month(), now.Day()-1, 0, 0, 0, 0, wib)
	gapFrom, gapTo, end := day0.Add(2*time.Hour), day0.Add(4*time.Hour), day0.Add(6*time.Hour)
	var body strings.Builder
	for ts := day0; ts.Before(end); ts = ts.Add(30 * time.Second) {
		if ts.Before(gapFrom) || !ts.Before(gapTo) {
			fmt.Fprintf(&body, "icmp,target=127.0.0.2 packets_sent=1u,packets_received=1u,loss_ratio=0,rtt_avg_seconds=0.004,up=1i %d\n", ts.Unix())
		}
		fmt.Fprintf(&body, "agent,version=t uptime_seconds=%d %d\n", ts.Unix()-day0.Unix(), ts.Unix())
	}
	if code, msg := tc.write(tok, body.String()); code != http.StatusNoContent {
		t.Fatalf("write: %d %s", code, msg)
	}
	day := day0.Format("2006-01-02")
	code, js := tc.get("/api/v1/report?format=json&period=" + day + ".." + day)
	if code != 200 {
		t.Fatalf("report API: %d %s", code, js)
	}
	var rep report.Report
	if err := json.Unmarshal([]byte(js), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Links) != 1 {
		t.Fatalf("links %+v", rep.Links)
	}
	// The day has 1,440 minutes: 00:00–02:00 and 04:00–06:00 have rounds,
	// 240 up; 02:00–04:00 has heartbeats but no rounds, 120 nodata; the
	// 1,440 − 360 = 1,080 minutes after 06:00 have neither (and the
	// collector was not running then): monitoring gaps.
	l := rep.Links[0]
	if l.Up != 240 || l.Down != 0 || l.NoData != 120 || l.Monitoring != 1080 {
		t.Errorf("figures %+v, want up 240, nodata 120, monitoring 1080", l.Figures)
	}

	// sla rebuild: the same states (links and heartbeats) from the TSDB,
	// the same figures
	tc.stop()
	q, err := storage.OpenReadOnly(filepath.Join(tc.cfg.DataDir, "tsdb"), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	inv, err := inventory.Parse(invPath, []byte(slaTestInventory))
	if err != nil {
		t.Fatal(err)
	}
	st, err := statedb.Open(context.Background(), tc.cfg.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rebuilt := sla.NewMemStore()
	// the collector's own minutes, which no rebuild makes, as they were
	coll, err := st.Minutes().Range(context.Background(), sla.KindCollector, "", sla.MinuteOf(day0.UnixNano()), 3*1440)
	if err != nil {
		t.Fatal(err)
	}
	var marks []sla.Mark
	for i, b := range coll {
		if b != 0 {
			marks = append(marks, sla.Mark{Kind: sla.KindCollector, Minute: sla.MinuteOf(day0.UnixNano()) + int64(i), Bits: b})
		}
	}
	if err := rebuilt.Merge(context.Background(), marks); err != nil {
		t.Fatal(err)
	}
	if _, _, err := sla.Rebuild(context.Background(), q, inv, sla.WriteScopes{}, rebuilt, day0, day0.AddDate(0, 0, 1), func(int, int) {}); err != nil {
		t.Fatal(err)
	}
	p, err := sla.ParsePeriod(day+".."+day, wib)
	if err != nil {
		t.Fatal(err)
	}
	r, err := (&sla.Engine{Inv: inv, Store: rebuilt, NoContracts: true}).NewComputation(p).Link(context.Background(), inv.Link("dinkes-wan"))
	if err != nil {
		t.Fatal(err)
	}
	if g := r.Figures; g.Up != 240 || g.NoData != 120 || g.Monitoring != 1080 {
		t.Errorf("after sla rebuild: %+v, want up 240, nodata 120, monitoring 1080", g)
	}
}
