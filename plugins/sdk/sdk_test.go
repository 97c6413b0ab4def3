package sdk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// fakeProbe is a plugin for the contract tests.
type fakeProbe struct {
	targets  map[string]json.RawMessage
	deadline time.Duration // the deadline Collect saw
}

func (f *fakeProbe) Describe() Description {
	return Description{Name: "fake", Version: "1.2.3", Description: "a test probe", Measurements: []string{"fake"}}
}

func (f *fakeProbe) Configure(_ context.Context, ts []Target) map[string]error {
	f.targets = map[string]json.RawMessage{}
	errs := map[string]error{}
	for _, t := range ts {
		var c struct{ URL string }
		if err := json.Unmarshal(t.Config, &c); err != nil || c.URL == "" {
			errs[t.Name] = errors.New("url is required")
			continue
		}
		f.targets[t.Name] = t.Config
	}
	return errs
}

func (f *fakeProbe) Collect(ctx context.Context, target string) ([]Point, error) {
	if dl, ok := ctx.Deadline(); ok {
		f.deadline = time.Until(dl)
	}
	now := time.Unix(1790000000, 0)
	switch target {
	case "slow":
		<-ctx.Done()
		return nil, ctx.Err()
	case "garbage":
		return []Point{{Measurement: "fake", Fields: map[string]any{"v": math.NaN()}, Time: now}}, nil
	case "odd-type":
		return []Point{{Measurement: "fake", Fields: map[string]any{"v": int32(1)}, Time: now}}, nil
	}
	if _, ok := f.targets[target]; !ok {
		return nil, fmt.Errorf("no target %q", target)
	}
	return []Point{{Measurement: "fake", Tags: map[string]string{"target": target}, Time: now,
		Fields: map[string]any{"up": int64(1), "seconds": 0.25, "bytes": uint64(7), "tls": true, "version": "HTTP/2.0"}}}, nil
}

// The contract over go-plugin's in-process gRPC connection.
func TestContract(t *testing.T) {
	f := &fakeProbe{}
	client, _ := plugin.TestPluginGRPCConn(t, false, map[string]plugin.Plugin{PluginName: &GRPCPlugin{Impl: f}})
	defer client.Close()
	raw, err := client.Dispense(PluginName)
	if err != nil {
		t.Fatal(err)
	}
	c := raw.(*Client)
	ctx := context.Background()
	d, err := c.Describe(ctx)
	if err != nil || d.Name != "fake" || d.Version != "1.2.3" || len(d.Measurements) != 1 {
		t.Fatalf("describe %+v %v", d, err)
	}
	rej, err := c.Configure(ctx, []Target{{Name: "ok", Config: json.RawMessage(`{"url":"http://127.0.0.1/"}`)}, {Name: "bad", Config: json.RawMessage(`{}`)}})
	if err != nil || len(rej) != 1 || rej["bad"] != "url is required" {
		t.Fatalf("configure %v %v", rej, err)
	}
	cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	pts, err := c.Collect(cctx, "ok")
	cancel()
	if err != nil || len(pts) != 1 {
		t.Fatalf("collect %v %v", pts, err)
	}
	p := pts[0]
	if p.Measurement != "fake" || p.Tags["target"] != "ok" || p.Fields["up"] != int64(1) || p.Fields["seconds"] != 0.25 ||
		p.Fields["bytes"] != uint64(7) || p.Fields["tls"] != true || p.Fields["version"] != "HTTP/2.0" || p.Time.Unix() != 1790000000 {
		t.Errorf("point %+v", p)
	}
	// the call's deadline reaches the plugin
	if f.deadline <= time.Second || f.deadline > 2*time.Second {
		t.Errorf("the plugin saw a deadline %s away, want about 2s", f.deadline)
	}
	// a plugin that hangs is cut at the deadline
	cctx, cancel = context.WithTimeout(ctx, 200*time.Millisecond)
	_, err = c.Collect(cctx, "slow")
	cancel()
	if status.Code(err) != codes.DeadlineExceeded {
		t.Errorf("slow target: %v", err)
	}
	// garbage is refused, and the agent is told it was garbage
	for _, target := range []string{"garbage", "odd-type"} {
		if _, err := c.Collect(ctx, target); !errors.Is(err, ErrBadPoint) {
			t.Errorf("%s: %v", target, err)
		}
	}
	if _, err := c.Collect(ctx, "nope"); err == nil {
		t.Error("unknown target accepted")
	}
}

func TestPointCheck(t *testing.T) {
	now := time.Now()
	for _, p := range []Point{
		{Fields: map[string]any{"up": int64(1)}, Time: now},
		{Measurement: "x", Time: now},
		{Measurement: "x", Fields: map[string]any{"up": int64(1)}},
		{Measurement: "x", Fields: map[string]any{"v": math.Inf(1)}, Time: now},
		{Measurement: "x", Fields: map[string]any{"v": []byte("x")}, Time: now},
		{Measurement: "x", Tags: map[string]string{"t": ""}, Fields: map[string]any{"up": int64(1)}, Time: now},
		{Measurement: "x", Fields: map[string]any{"s": "\xff"}, Time: now},
	} {
		if err := p.Check(); !errors.Is(err, ErrBadPoint) {
			t.Errorf("%+v: %v", p, err)
		}
	}
}

// FuzzPointCheck: Check never panics, and a point it accepts survives
// the wire.
func FuzzPointCheck(f *testing.F) {
	f.Add("http", "target", "portal", "up", int64(1), 0.5, "ok", int64(1790000000))
	f.Add("", "", "", "", int64(0), math.NaN(), "\xff", int64(0))
	f.Fuzz(func(t *testing.T, m, tk, tv, fk string, iv int64, fv float64, sv string, ts int64) {
		p := Point{Measurement: m, Tags: map[string]string{tk: tv}, Fields: map[string]any{fk: iv, fk + "_f": fv, fk + "_s": sv}, Time: time.Unix(0, ts)}
		if p.Check() != nil {
			return
		}
		pp, err := toProto(p)
		if err != nil {
			t.Fatal(err)
		}
		back, err := fromProto(pp)
		if err != nil || back.Measurement != p.Measurement || len(back.Fields) != len(p.Fields) || !back.Time.Equal(p.Time) {
			t.Fatalf("round trip %+v → %+v (%v)", p, back, err)
		}
	})
}

type echoConfig struct {
	URL string `json:"url"`
}

// Targets and DecodeJSON: a plugin from a config type and a function;
// unknown keys and bad values are refused per target.
func TestTargets(t *testing.T) {
	p := Targets(Description{Name: "echo"},
		func(name string, raw json.RawMessage) (echoConfig, error) {
			var c echoConfig
			if err := DecodeJSON(raw, &c); err != nil {
				return c, err
			}
			if c.URL == "" {
				return c, errors.New("url is required")
			}
			return c, nil
		},
		func(_ context.Context, c echoConfig) []Point {
			return []Point{{Measurement: "echo", Tags: map[string]string{"url": c.URL}, Fields: map[string]any{"up": int64(1)}, Time: time.Now()}}
		})
	errs := p.Configure(context.Background(), []Target{
		{Name: "a", Config: json.RawMessage(`{"url":"http://127.0.0.1/"}`)},
		{Name: "b", Config: json.RawMessage(`{"ulr":"x"}`)},
		{Name: "c", Config: nil},
	})
	if len(errs) != 2 || !strings.Contains(errs["b"].Error(), `unknown field "ulr"`) || errs["c"].Error() != "url is required" {
		t.Fatalf("errors %v", errs)
	}
	pts, err := p.Collect(context.Background(), "a")
	if err != nil || len(pts) != 1 || pts[0].Tags["url"] != "http://127.0.0.1/" {
		t.Fatalf("collect a: %v %v", pts, err)
	}
	if _, err := p.Collect(context.Background(), "b"); err == nil || !strings.Contains(err.Error(), "refused") {
		t.Errorf("collect b: %v", err)
	}
}

// The README shows the example plugin and its tests in full: a reader
// copies code that compiles and passes.
func TestREADMEShowsTheExample(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"examples/port/main.go", "examples/port/main_test.go"} {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(readme), "```go\n"+string(src)+"```") {
			t.Errorf("README.md does not show %s as it is", f)
		}
	}
}
