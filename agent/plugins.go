package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"time"

	"github.com/pantau-noc/pantau/agent/internal/config"
	"github.com/pantau-noc/pantau/agent/internal/plughost"
	"github.com/pantau-noc/pantau/agent/internal/point"
	"github.com/pantau-noc/pantau/agent/internal/scheduler"
	"github.com/pantau-noc/pantau/plugins/sdk"
)

// pluginJobs makes a job per plugin target. Each plugin process starts at
// its first call and is shared by its targets; a failed call fails that
// target only and emits plugin,plugin=NAME,target=T ok=0i.
func pluginJobs(cfg *config.Config, log *slog.Logger, m *plughost.Metrics) ([]scheduler.Job, func() error, error) {
	if len(cfg.Plugins) == 0 {
		return nil, func() error { return nil }, nil
	}
	var hosts []*plughost.Host
	closeAll := func() error {
		for _, h := range hosts {
			h.Close()
		}
		return nil
	}
	var jobs []scheduler.Job
	for _, pl := range cfg.Plugins {
		spec := plughost.Spec{Name: pl.Name, Path: pl.Path, SHA256: pl.SHA256, StartTimeout: pl.StartTimeout.Std()}
		for _, t := range pl.Targets {
			raw, err := json.Marshal(t.Config)
			if err != nil {
				closeAll()
				return nil, nil, fmt.Errorf("plugin %s target %s: config: %w", pl.Name, t.Name, err)
			}
			spec.Targets = append(spec.Targets, sdk.Target{Name: t.Name, Config: raw})
		}
		h, err := plughost.New(spec, log, m)
		if err != nil {
			closeAll()
			return nil, nil, err
		}
		hosts = append(hosts, h)
		for _, t := range pl.Targets {
			jobs = append(jobs, pluginJob(h, pl.Name, t, log))
		}
	}
	return jobs, closeAll, nil
}

func pluginJob(h *plughost.Host, plugin string, t config.PluginTarget, log *slog.Logger) scheduler.Job {
	return scheduler.Job{Kind: "plugin", Name: plugin + "/" + t.Name, Interval: t.Interval.Std(), Timeout: t.Timeout.Std(),
		Run: func(ctx context.Context) ([]*point.Point, error) {
			pts, err := h.Collect(ctx, t.Name)
			if err != nil {
				log.Warn("plugin target failed", "plugin", plugin, "target", t.Name, "err", err)
				fail := point.New("plugin", time.Now()).TagMap(t.Tags).Tag("plugin", plugin).Tag("target", t.Name).Int("ok", 0)
				return []*point.Point{fail}, err
			}
			out := make([]*point.Point, 0, len(pts))
			for _, p := range pts {
				out = append(out, pluginPoint(p, t, plugin, log))
			}
			return out, nil
		}}
}

// pluginPoint converts a plugin's point: the target's tags are added,
// booleans become 0/1, and strings (which the collector does not store as
// samples) are logged instead of sent.
func pluginPoint(p sdk.Point, t config.PluginTarget, plugin string, log *slog.Logger) *point.Point {
	out := point.New(p.Measurement, p.Time).TagMap(t.Tags).TagMap(p.Tags)
	for k, v := range p.Fields {
		switch x := v.(type) {
		case float64:
			if !math.IsNaN(x) && !math.IsInf(x, 0) {
				out.Float(k, x)
			}
		case int64:
			out.Int(k, x)
		case uint64:
			out.Uint(k, x)
		case bool:
			b := int64(0)
			if x {
				b = 1
			}
			out.Int(k, b)
		case string:
			log.Debug("plugin string field not sent", "plugin", plugin, "target", t.Name, "field", k, "value", x)
		}
	}
	return out
}
