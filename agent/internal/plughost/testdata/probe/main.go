// A probe plugin for the host's tests; its behaviour depends on the
// target: ok answers, boom panics, hang never answers, garbage returns a
// point that is not valid, log logs through the SDK's logger and answers,
// caps answers with the plugin's capability sets; a target named refuse
// is refused at Configure.
package main

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/pantau-noc/pantau/plugins/sdk"
)

type probe struct{}

func (probe) Describe() sdk.Description {
	return sdk.Description{Name: "testprobe", Version: "0.1", Measurements: []string{"testprobe"}}
}

var log = sdk.Logger(slog.LevelInfo)

func (probe) Configure(_ context.Context, ts []sdk.Target) map[string]error {
	bad := map[string]error{}
	for _, t := range ts {
		if t.Name == "refuse" {
			bad[t.Name] = errors.New(`unknown key "expect_baner"`)
		}
	}
	return bad
}

func (probe) Collect(ctx context.Context, target string) ([]sdk.Point, error) {
	switch target {
	case "boom":
		panic("boom")
	case "hang":
		select {} // ignores its deadline
	case "log":
		log.Debug("not shown: below the logger's level")
		log.Warn("probe says hello", "answer", 42)
		sdk.Logger(slog.LevelDebug).Debug("debug record passes")
	case "caps":
		return []sdk.Point{{Measurement: "testprobe", Time: time.Now(), Fields: capSets()}}, nil
	case "garbage":
		return []sdk.Point{{Measurement: "testprobe", Fields: map[string]any{"v": math.NaN()}, Time: time.Now()}}, nil
	}
	return []sdk.Point{{Measurement: "testprobe", Tags: map[string]string{"target": target}, Time: time.Now(),
		Fields: map[string]any{"up": int64(1), "seconds": 0.01}}}, nil
}

// capSets reads the process's capability sets (CapInh, CapPrm, CapEff,
// CapAmb) from /proc/self/status as fields.
func capSets() map[string]any {
	out := map[string]any{}
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return out
	}
	for _, line := range strings.Split(string(raw), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok || !strings.HasPrefix(k, "Cap") {
			continue
		}
		if n, err := strconv.ParseInt(strings.TrimSpace(v), 16, 64); err == nil {
			out[strings.ToLower(k)] = n
		}
	}
	return out
}

func main() { sdk.Serve(probe{}) }
