package sdk

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sync"
)

// Targets builds a Probe from a config type C: decode turns a target's
// configuration into a C (or says what is wrong with it) and collect
// probes one target. It is what most plugins need; Describe, Configure
// and the target table come with it.
func Targets[C any](d Description, decode func(name string, config json.RawMessage) (C, error), collect func(ctx context.Context, c C) []Point) Probe {
	return &targetProbe[C]{d: d, decode: decode, collect: collect, targets: map[string]C{}}
}

type targetProbe[C any] struct {
	d       Description
	decode  func(string, json.RawMessage) (C, error)
	collect func(context.Context, C) []Point
	mu      sync.RWMutex
	targets map[string]C
}

func (p *targetProbe[C]) Describe() Description { return p.d }

func (p *targetProbe[C]) Configure(_ context.Context, ts []Target) map[string]error {
	next := map[string]C{}
	errs := map[string]error{}
	for _, t := range ts {
		c, err := p.decode(t.Name, t.Config)
		if err != nil {
			errs[t.Name] = err
			continue
		}
		next[t.Name] = c
	}
	p.mu.Lock()
	p.targets = next
	p.mu.Unlock()
	return errs
}

func (p *targetProbe[C]) Collect(ctx context.Context, target string) ([]Point, error) {
	p.mu.RLock()
	c, ok := p.targets[target]
	p.mu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("no target %q (not configured, or its configuration was refused)", target)
	}
	return p.collect(ctx, c), nil
}

// DecodeJSON decodes a target's configuration strictly: an unknown key is
// an error naming it, so a typo in agent.yml does not pass silently.
func DecodeJSON(config json.RawMessage, v any) error {
	if len(bytes.TrimSpace(config)) == 0 || string(bytes.TrimSpace(config)) == "null" {
		config = json.RawMessage("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(config))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	return nil
}
