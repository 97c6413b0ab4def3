package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"strings"
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
		spec, err := pluginSpec(pl)
		if err != nil {
			closeAll()
			return nil, nil, err
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

// pluginSpec is what the host needs of a plugin's config: its targets'
// config goes to the plugin as JSON.
func pluginSpec(pl config.PluginConfig) (plughost.Spec, error) {
	spec := plughost.Spec{Name: pl.Name, Path: pl.Path, SHA256: pl.SHA256, StartTimeout: pl.StartTimeout.Std()}
	for _, t := range pl.Targets {
		raw, err := json.Marshal(t.Config)
		if err != nil {
			return spec, fmt.Errorf("plugin %s target %s: config: %w", pl.Name, t.Name, err)
		}
		spec.Targets = append(spec.Targets, sdk.Target{Name: t.Name, Config: raw})
	}
	return spec, nil
}

// checkPlugins checks each plugin's file against its checksum and, with
// start, starts the plugin and has it check its targets' config, as the
// agent would at its first call. It reports what would fail, by config
// path (for file:line:col).
func checkPlugins(ctx context.Context, cfg *config.Config, start bool, report func(path, format string, args ...any)) {
	for i, pl := range cfg.Plugins {
		at := fmt.Sprintf("plugins[%d]", i)
		if sum, err := plughost.FileSum(pl.Path); err != nil {
			report(at+".path", "%v", err)
			continue
		} else if sum != strings.ToLower(pl.SHA256) {
			report(at+".sha256", "does not match %s, whose SHA-256 is %s: the agent would refuse to run it", pl.Path, sum)
			continue
		}
		if !start {
			continue
		}
		spec, err := pluginSpec(pl)
		if err != nil {
			report(at, "%v", err)
			continue
		}
		h, err := plughost.New(spec, nil, nil)
		if err != nil {
			report(at, "%v", err)
			continue
		}
		rejected, err := h.Check(ctx)
		h.Close()
		if err != nil {
			report(at+".path", "%v", err)
			continue
		}
		for j, t := range pl.Targets {
			if msg, bad := rejected[t.Name]; bad {
				report(fmt.Sprintf("%s.targets[%d].config", at, j), "refused by the plugin: %s", msg)
			}
		}
	}
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

// pluginPoint converts a plugin's point: the target's name (as the
// `target` tag, unless the plugin set one) and tags are added, booleans
// become 0/1, and strings (which the collector does not store as samples)
// are logged instead of sent.
func pluginPoint(p sdk.Point, t config.PluginTarget, plugin string, log *slog.Logger) *point.Point {
	out := point.New(p.Measurement, p.Time).Tag("target", t.Name).TagMap(t.Tags).TagMap(p.Tags)
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
