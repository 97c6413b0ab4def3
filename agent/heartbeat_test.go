package agent

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pantau-noc/pantau/agent/internal/config"
	"github.com/pantau-noc/pantau/internal/spool"
	"github.com/pantau-noc/pantau/internal/wire/schema"
)

// heartbeatOnly are the heartbeat's fields with no counterpart on the
// agent's /metrics (it has process_start_time_seconds, and no target
// count).
var heartbeatOnly = []string{"uptime_seconds", "targets"}

// TestHeartbeatNamesMatchMetrics: one name per quantity. Field f of the
// agent heartbeat becomes the collector's series pantau_agent_f; for every
// quantity the agent also exposes on /metrics (the queue's points, bytes,
// oldest age and dropped points) that is the /metrics name. Each field is
// in wire schema v1 under that name, so the collector checks its type.
func TestHeartbeatNamesMatchMetrics(t *testing.T) {
	dir := t.TempDir()
	sp, err := spool.Open(spool.Options{Dir: filepath.Join(dir, "queue")})
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	reg := prometheus.NewRegistry()
	newQueueMetrics(reg, sp)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	metrics := map[string]bool{}
	var names []string
	for _, mf := range mfs {
		metrics[mf.GetName()] = true
		names = append(names, mf.GetName())
	}

	cfg, err := config.Parse("agent.yml", []byte(`agent: {id: agent-1, site: dinkes, state_dir: `+dir+`}
icmp:
  - {target: 127.0.0.1}
`))
	if err != nil {
		t.Fatal(err)
	}
	pts, err := heartbeatJob(cfg, sp, time.Now()).Run(context.Background())
	if err != nil || len(pts) != 1 {
		t.Fatalf("heartbeat: %v, %d points", err, len(pts))
	}
	def := schema.V1[pts[0].Measurement]
	var fields []string
	for _, f := range pts[0].Fields {
		fields = append(fields, f.Key)
		name := schema.MetricName(pts[0].Measurement, f.Key)
		if _, ok := def.Fields[f.Key]; !ok {
			t.Errorf("heartbeat field %s is not in wire schema v1 under that name", f.Key)
		}
		if slices.Contains(heartbeatOnly, f.Key) {
			continue
		}
		if !metrics[name] {
			t.Errorf("heartbeat field %s is %s at the collector; the agent's /metrics has no such metric (it has %v)", f.Key, name, names)
		}
	}
	for _, want := range []string{"queue_points", "queue_bytes", "queue_oldest_age_seconds", "queue_dropped_points_total"} {
		if !slices.Contains(fields, want) {
			t.Errorf("heartbeat has no %s (fields %v)", want, fields)
		}
	}
}
