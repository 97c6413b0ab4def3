package collector

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/config"
	"github.com/pantau-noc/pantau/collector/internal/inventory"
	"github.com/pantau-noc/pantau/collector/internal/sla"
	"github.com/pantau-noc/pantau/collector/internal/statedb"
	"github.com/pantau-noc/pantau/collector/internal/storage"
)

// TestIntegrationTelegrafRebuild: Telegraf's ping rounds and its
// internal_agent heartbeats, written to a running collector, give the
// link's and the site's minutes at ingest, and `sla rebuild` makes the
// same minutes from the stored samples.
func TestIntegrationTelegrafRebuild(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	invPath := filepath.Join(dir, "inventory.yml")
	if err := os.WriteFile(invPath, []byte(slotTestInventory), 0o644); err != nil {
		t.Fatal(err)
	}
	tc := startCollector(t, func(c *config.Config) { c.Inventory = invPath })
	tok := tc.token("dinkes-telegraf", "dinkes")
	end := time.Now().Truncate(time.Minute).Add(-2 * time.Minute)
	start := end.Add(-10 * time.Minute)
	var b strings.Builder
	for ts := start.Add(5 * time.Second); ts.Before(end); ts = ts.Add(10 * time.Second) {
		if ts.Sub(start) >= 4*time.Minute && ts.Sub(start) < 6*time.Minute {
			fmt.Fprintf(&b, "ping,url=127.0.0.2 packets_received=0i,packets_transmitted=3i,percent_packet_loss=100,result_code=1i %d\n", ts.Unix())
		} else {
			fmt.Fprintf(&b, "ping,url=127.0.0.2 average_response_ms=4,packets_received=3i,packets_transmitted=3i,percent_packet_loss=0,result_code=0i %d\n", ts.Unix())
		}
		fmt.Fprintf(&b, "internal_agent,version=1.37.2 metrics_gathered=10i,gather_errors=0i %d\n", ts.Unix())
	}
	if code, msg := tc.write(tok, b.String()); code != http.StatusNoContent {
		t.Fatalf("write: %d %s", code, msg)
	}
	tc.stop()
	ctx := context.Background()
	st, err := statedb.Open(ctx, tc.cfg.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	from, n := sla.MinuteOf(start.UnixNano()), int(end.Sub(start)/time.Minute)
	q, err := storage.OpenReadOnly(filepath.Join(tc.cfg.DataDir, "tsdb"), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	inv, err := inventory.Parse(invPath, []byte(slotTestInventory))
	if err != nil {
		t.Fatal(err)
	}
	rebuilt := sla.NewMemStore()
	if _, _, err := sla.Rebuild(ctx, q, inv, sla.WriteScopes{}, rebuilt, start, end, func(int, int) {}); err != nil {
		t.Fatal(err)
	}
	for _, k := range []struct {
		kind uint8
		id   string
	}{{sla.KindLink, "dinkes-wan"}, {sla.KindSite, "dinkes"}} {
		ingested, err := st.Minutes().Range(ctx, k.kind, k.id, from, n)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := rebuilt.Range(ctx, k.kind, k.id, from, n)
		var states []string
		for _, m := range ingested {
			states = append(states, sla.DataState(m).String())
		}
		want := "up up up up down down up up up up"
		if k.kind == sla.KindSite {
			want = "up up up up up up up up up up" // seen every minute
		}
		if s := strings.Join(states, " "); s != want {
			t.Errorf("%s at ingest: %s, want %s", k.id, s, want)
		}
		if !slices.Equal(got, ingested) {
			t.Errorf("%s: sla rebuild's minutes differ from ingest's:\n%016b\n%016b", k.id, got, ingested)
		}
	}
}
