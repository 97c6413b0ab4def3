package agent

import (
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/agent/internal/config"
	"github.com/pantau-noc/pantau/agent/internal/point"
	"github.com/pantau-noc/pantau/plugins/sdk"
)

// A plugin point gets the target's name as its target tag (so the
// collector can match it to an inventory service) unless the plugin set
// one, then the target's tags; booleans become 0/1 and strings stay out.
func TestPluginPoint(t *testing.T) {
	tgt := config.PluginTarget{Name: "mx", Tags: map[string]string{"site": "dc"}}
	at := time.Unix(1700000000, 0)
	for _, c := range []struct {
		tags map[string]string
		want string
	}{
		{nil, "smtp,site=dc,target=mx"},
		{map[string]string{"target": "plugin-says"}, "smtp,site=dc,target=plugin-says"},
	} {
		p := pluginPoint(sdk.Point{Measurement: "smtp", Tags: c.tags, Time: at,
			Fields: map[string]any{"up": true, "tls": false, "banner_seconds": 0.25, "error": "none"}}, tgt, "smtp", slog.New(slog.DiscardHandler))
		out, err := point.Encode([]*point.Point{p})
		if err != nil {
			t.Fatal(err)
		}
		key, fields, _ := strings.Cut(string(out), " ")
		fs := strings.Split(strings.Fields(fields)[0], ",")
		slices.Sort(fs)
		if key != c.want || !slices.Equal(fs, []string{"banner_seconds=0.25", "tls=0i", "up=1i"}) || !strings.HasSuffix(string(out), " 1700000000000000000\n") {
			t.Errorf("plugin tags %v: got %q, want series %s with banner_seconds, tls and up", c.tags, out, c.want)
		}
	}
	// without a target tag anywhere: the target's name
	p := pluginPoint(sdk.Point{Measurement: "smtp", Time: at, Fields: map[string]any{"up": int64(0)}},
		config.PluginTarget{Name: "mx"}, "smtp", slog.New(slog.DiscardHandler))
	if out, _ := point.Encode([]*point.Point{p}); string(out) != "smtp,target=mx up=0i 1700000000000000000\n" {
		t.Errorf("got %q", out)
	}
}
