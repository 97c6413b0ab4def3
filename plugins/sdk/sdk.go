// Package sdk is what a Pantau probe plugin is written with, and what the
// agent uses to talk to one.
//
// A plugin is a separate program. Its main implements Probe and calls
// Serve; the agent starts it (by absolute path, with a SHA-256 checksum
// from agent.yml, over gRPC with mutual TLS set up automatically by
// hashicorp/go-plugin), gives it its targets with Configure, and calls
// Collect for each target on the target's interval, with the target's
// timeout as the call's deadline. A plugin that crashes is restarted; one
// that hangs past the deadline or returns points that are not valid marks
// its target failed, and never stops the agent's other probes.
//
// The contract is pantau.probe.v1 (proto/pantau/probe/v1/probe.proto,
// generated into probev1 by `make generate`). A breaking change makes
// version 2; the agent speaks N and N-1 (PluginSets).
package sdk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/pantau-noc/pantau/plugins/sdk/probev1"
)

// Probe is implemented by a plugin.
type Probe interface {
	// Describe names the plugin.
	Describe() Description
	// Configure replaces the plugin's targets. It returns the targets
	// whose configuration is not valid, by name, with the reason; the
	// others are in force.
	Configure(ctx context.Context, targets []Target) map[string]error
	// Collect probes one target once, by ctx's deadline, and returns its
	// points. An error means the target could not be probed at all; a
	// failed check is better reported as a point with up=0.
	Collect(ctx context.Context, target string) ([]Point, error)
}

// Description names a plugin and what it measures.
type Description struct {
	Name         string
	Version      string
	Description  string
	Measurements []string
}

// Target is one configured target of a plugin.
type Target struct {
	Name   string
	Config json.RawMessage // the target's `config:` from agent.yml
}

// ProtocolVersion is the contract version this SDK serves.
const ProtocolVersion = 1

// Handshake is shared by the agent and every plugin: a plugin started by
// hand (not by the agent) says so and exits instead of waiting.
var Handshake = plugin.HandshakeConfig{
	ProtocolVersion:  ProtocolVersion,
	MagicCookieKey:   "PANTAU_PLUGIN",
	MagicCookieValue: "probe",
}

// PluginName is the name of the probe service in the plugin sets.
const PluginName = "probe"

// PluginSets are the contract versions, by protocol version, that the
// agent accepts and that Serve offers: N and N-1 once there is a version
// 2. A breaking change adds version 2 here (with its own GRPCPlugin) and
// keeps version 1 for one release, so that plugins built against the
// previous SDK keep running; go-plugin picks the newest version both
// sides speak (the agent logs it as protocol=N).
func PluginSets(impl Probe) map[int]plugin.PluginSet {
	return map[int]plugin.PluginSet{
		1: {PluginName: &GRPCPlugin{Impl: impl}},
	}
}

// Serve runs a plugin; its main calls it and nothing else. Started by
// hand, it explains that the agent starts it and exits with status 1.
func Serve(p Probe) {
	if os.Getenv(Handshake.MagicCookieKey) != Handshake.MagicCookieValue {
		d := p.Describe()
		fmt.Fprintf(os.Stderr, "%s %s is a Pantau probe plugin: pantau-agent starts it (see plugins: in agent.yml); it does nothing on its own.\n", d.Name, d.Version)
		os.Exit(1)
	}
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  Handshake,
		VersionedPlugins: PluginSets(p),
		GRPCServer:       plugin.DefaultGRPCServer,
		Logger: hclog.New(&hclog.LoggerOptions{
			Name: p.Describe().Name, Output: os.Stderr, JSONFormat: true, Level: hclog.Info,
		}),
	})
}

// GRPCPlugin connects a Probe to go-plugin's gRPC transport (used by
// Serve, by the agent, and by tests through plugin.TestPluginGRPCConn).
type GRPCPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	Impl Probe // the plugin side; nil on the agent's side
}

// GRPCServer registers the plugin's service.
func (g *GRPCPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	if g.Impl == nil {
		return errors.New("sdk: no probe to serve")
	}
	probev1.RegisterProbeServer(s, &server{impl: g.Impl})
	return nil
}

// GRPCClient returns the agent's view of the plugin: a Probe.
func (g *GRPCPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return &Client{c: probev1.NewProbeClient(c)}, nil
}

// server serves a Probe over gRPC.
type server struct {
	probev1.UnimplementedProbeServer
	impl Probe
}

func (s *server) Describe(context.Context, *probev1.DescribeRequest) (*probev1.DescribeResponse, error) {
	d := s.impl.Describe()
	return &probev1.DescribeResponse{Name: d.Name, Version: d.Version, Description: d.Description, Measurements: d.Measurements}, nil
}

func (s *server) Configure(ctx context.Context, r *probev1.ConfigureRequest) (*probev1.ConfigureResponse, error) {
	ts := make([]Target, 0, len(r.Targets))
	for _, t := range r.Targets {
		ts = append(ts, Target{Name: t.Name, Config: json.RawMessage(t.ConfigJson)})
	}
	resp := &probev1.ConfigureResponse{}
	for name, err := range s.impl.Configure(ctx, ts) {
		if err != nil {
			resp.Errors = append(resp.Errors, &probev1.TargetError{Target: name, Message: err.Error()})
		}
	}
	return resp, nil
}

func (s *server) Collect(ctx context.Context, r *probev1.CollectRequest) (*probev1.CollectResponse, error) {
	pts, err := s.impl.Collect(ctx, r.Target)
	if err != nil {
		return nil, err
	}
	resp := &probev1.CollectResponse{Points: make([]*probev1.Point, 0, len(pts))}
	for _, p := range pts {
		pp, err := toProto(p)
		if err != nil {
			// DataLoss tells the agent the plugin returned garbage
			return nil, status.Errorf(codes.DataLoss, "target %s: %v", r.Target, err)
		}
		resp.Points = append(resp.Points, pp)
	}
	return resp, nil
}

// Client is the agent's side of a plugin.
type Client struct {
	c probev1.ProbeClient
}

// Describe asks the plugin for its description.
func (c *Client) Describe(ctx context.Context) (Description, error) {
	r, err := c.c.Describe(ctx, &probev1.DescribeRequest{})
	if err != nil {
		return Description{}, err
	}
	return Description{Name: r.Name, Version: r.Version, Description: r.Description, Measurements: r.Measurements}, nil
}

// Configure sends the targets; it returns the plugin's rejections.
func (c *Client) Configure(ctx context.Context, targets []Target) (map[string]string, error) {
	req := &probev1.ConfigureRequest{}
	for _, t := range targets {
		req.Targets = append(req.Targets, &probev1.Target{Name: t.Name, ConfigJson: t.Config})
	}
	r, err := c.c.Configure(ctx, req)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, e := range r.Errors {
		out[e.Target] = e.Message
	}
	return out, nil
}

// Collect probes a target; the points are checked (ErrBadPoint).
func (c *Client) Collect(ctx context.Context, target string) ([]Point, error) {
	r, err := c.c.Collect(ctx, &probev1.CollectRequest{Target: target})
	if status.Code(err) == codes.DataLoss {
		return nil, fmt.Errorf("%w: %s", ErrBadPoint, status.Convert(err).Message())
	}
	if err != nil {
		return nil, err
	}
	if len(r.Points) > MaxPoints {
		return nil, fmt.Errorf("%w: %d points from one call (at most %d)", ErrBadPoint, len(r.Points), MaxPoints)
	}
	out := make([]Point, 0, len(r.Points))
	for _, pp := range r.Points {
		p, err := fromProto(pp)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}
