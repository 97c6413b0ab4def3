package sdk

import "time"

// Point is one measurement a probe plugin returns for a target: a
// line-protocol point. Field values are float64, int64, uint64, bool or
// string. The agent adds its own agent and site tags.
type Point struct {
	Measurement string
	Tags        map[string]string
	Fields      map[string]any
	Time        time.Time
}
