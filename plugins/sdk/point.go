package sdk

import "time"

// Point is one measurement a probe plugin returns for a target: a
// line-protocol point. Field values are float64, int64, uint64, bool or
// string. The agent adds the target's name as the `target` tag (unless
// set here) and the target's tags from agent.yml; the collector adds
// `agent` (from the agent's token) and `site` (when the token has one).
type Point struct {
	Measurement string
	Tags        map[string]string
	Fields      map[string]any
	Time        time.Time
}
