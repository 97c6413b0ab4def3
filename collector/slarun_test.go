package collector

import (
	"context"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/sla"
)

// What a silent agent's backlog showed: the site's outage while the
// agent kept probing (heartbeats in its buffer), hence the ISP's.
func TestExplainOutagesFromLateData(t *testing.T) {
	ctx := context.Background()
	r, db := testSLARuntime(t, slaTestInventory)
	wib := time.FixedZone("WIB", 7*3600)
	down0 := time.Date(2026, 10, 10, 10, 0, 0, 0, wib)
	var marks []sla.Mark
	for tm := down0.Add(-30 * time.Minute); tm.Before(down0.Add(30 * time.Minute)); tm = tm.Add(time.Minute) {
		up := tm.Before(down0) || !tm.Before(down0.Add(12*time.Minute))
		marks = r.builder.ICMP(marks, "agent-1", "", "127.0.0.2", tm.UnixNano(), up, 0, 0.004, up)
		marks = r.builder.Heartbeat(marks, "dinkes", tm.UnixNano())
		marks = append(marks, sla.Mark{Kind: sla.KindCollector, Minute: sla.MinuteOf(tm.UnixNano()), Bits: sla.BitSeen})
	}
	if err := db.Minutes().Merge(ctx, marks); err != nil {
		t.Fatal(err)
	}
	got, err := r.explainOutages(ctx, "dinkes", down0.Add(-5*time.Minute), down0.Add(20*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || !got[0].Start.Equal(down0) || !got[0].End.Equal(down0.Add(12*time.Minute)) || got[0].Cause != "isp" {
		t.Fatalf("outages %+v", got)
	}
	if none, _ := r.explainOutages(ctx, "dinkes", down0.Add(15*time.Minute), down0.Add(25*time.Minute)); len(none) != 0 {
		t.Errorf("outside the outage: %+v", none)
	}
}
