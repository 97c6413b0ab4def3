package statedb

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/inventory"
	"github.com/pantau-noc/pantau/collector/internal/sla"
)

// BenchmarkMinutesMerge is the SLA part of a group commit at steady
// state: 1,000 links probed every 10 s (one ICMP round each per
// iteration, six iterations a minute) and 20 site heartbeats, classified
// by the ingest path's builder and merged into a real state.db. A link
// down for 50 s of every 10 minutes keeps day arrays from being all alike.
func BenchmarkMinutesMerge(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("sites:\n")
	for i := range 20 {
		fmt.Fprintf(&sb, "  - {id: s%d, name: S%d, kind: opd}\n", i, i)
	}
	sb.WriteString("links:\n")
	for i := range 1000 {
		fmt.Fprintf(&sb, "  - {id: l%d, site: s%d, icmp: {target: 10.%d.%d.1}}\n", i, i%20, i/250, i%250)
	}
	inv, err := inventory.Parse("bench.yml", []byte(sb.String()))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	db, err := Open(ctx, b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	mins := db.Minutes()
	start := time.Now().Add(-6 * time.Hour).Truncate(time.Minute)
	bl := sla.NewBuilder(inv, func() time.Time { return start })
	targets := make([]string, 1000)
	for i := range targets {
		targets[i] = fmt.Sprintf("10.%d.%d.1", i/250, i%250)
	}
	var marks []sla.Mark
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ts := start.Add(time.Duration(i)*10*time.Second + 3*time.Second)
		marks = marks[:0]
		for j, tg := range targets {
			// link j is down for 50 s every 10 minutes, at its own phase
			up := (ts.Unix()/10+int64(j))%60 >= 5
			marks = bl.ICMP(marks, "a", "", tg, ts.UnixNano(), up, 0, 0.01, up)
		}
		for s := range 20 {
			marks = bl.Heartbeat(marks, fmt.Sprintf("s%d", s), ts.UnixNano())
		}
		if err := mins.Merge(ctx, marks); err != nil {
			b.Fatal(err)
		}
	}
}
