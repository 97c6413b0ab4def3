package sdk

import (
	"errors"
	"fmt"
	"math"
	"time"
	"unicode/utf8"

	"github.com/pantau-noc/pantau/plugins/sdk/probev1"
)

// ErrBadPoint is a point that cannot be sent: the plugin returned garbage.
var ErrBadPoint = errors.New("bad point")

// Limits on what one Collect may return.
const (
	MaxPoints    = 1000
	maxFields    = 200
	maxTags      = 64
	maxNameBytes = 256
	maxValue     = 64 << 10
)

// Check tells whether a point can be encoded as line protocol.
func (p Point) Check() error {
	switch {
	case p.Measurement == "" || len(p.Measurement) > maxNameBytes || !utf8.ValidString(p.Measurement):
		return fmt.Errorf("%w: measurement %q", ErrBadPoint, p.Measurement)
	case len(p.Fields) == 0:
		return fmt.Errorf("%w: %s has no fields", ErrBadPoint, p.Measurement)
	case len(p.Fields) > maxFields || len(p.Tags) > maxTags:
		return fmt.Errorf("%w: %s has %d fields and %d tags (at most %d and %d)", ErrBadPoint, p.Measurement, len(p.Fields), len(p.Tags), maxFields, maxTags)
	case p.Time.IsZero():
		return fmt.Errorf("%w: %s has no time", ErrBadPoint, p.Measurement)
	}
	for k, v := range p.Tags {
		if k == "" || v == "" || len(k) > maxNameBytes || len(v) > maxValue || !utf8.ValidString(k) || !utf8.ValidString(v) {
			return fmt.Errorf("%w: %s tag %q=%q", ErrBadPoint, p.Measurement, k, v)
		}
	}
	for k, v := range p.Fields {
		if k == "" || len(k) > maxNameBytes || !utf8.ValidString(k) {
			return fmt.Errorf("%w: %s field %q", ErrBadPoint, p.Measurement, k)
		}
		switch x := v.(type) {
		case float64:
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return fmt.Errorf("%w: %s field %s is %v", ErrBadPoint, p.Measurement, k, x)
			}
		case int64, uint64, bool:
		case string:
			if len(x) > maxValue || !utf8.ValidString(x) {
				return fmt.Errorf("%w: %s field %s: string too long or not UTF-8", ErrBadPoint, p.Measurement, k)
			}
		default:
			return fmt.Errorf("%w: %s field %s has type %T (want float64, int64, uint64, bool or string)", ErrBadPoint, p.Measurement, k, v)
		}
	}
	return nil
}

func toProto(p Point) (*probev1.Point, error) {
	if err := p.Check(); err != nil {
		return nil, err
	}
	pp := &probev1.Point{Measurement: p.Measurement, Tags: p.Tags, Fields: make(map[string]*probev1.Value, len(p.Fields)), TimeUnixNano: p.Time.UnixNano()}
	for k, v := range p.Fields {
		switch x := v.(type) {
		case float64:
			pp.Fields[k] = &probev1.Value{Kind: &probev1.Value_DoubleValue{DoubleValue: x}}
		case int64:
			pp.Fields[k] = &probev1.Value{Kind: &probev1.Value_IntValue{IntValue: x}}
		case uint64:
			pp.Fields[k] = &probev1.Value{Kind: &probev1.Value_UintValue{UintValue: x}}
		case bool:
			pp.Fields[k] = &probev1.Value{Kind: &probev1.Value_BoolValue{BoolValue: x}}
		case string:
			pp.Fields[k] = &probev1.Value{Kind: &probev1.Value_StringValue{StringValue: x}}
		}
	}
	return pp, nil
}

func fromProto(pp *probev1.Point) (Point, error) {
	p := Point{Measurement: pp.GetMeasurement(), Tags: pp.GetTags(), Fields: make(map[string]any, len(pp.GetFields()))}
	if pp.GetTimeUnixNano() != 0 {
		p.Time = time.Unix(0, pp.GetTimeUnixNano())
	}
	for k, v := range pp.GetFields() {
		switch x := v.GetKind().(type) {
		case *probev1.Value_DoubleValue:
			p.Fields[k] = x.DoubleValue
		case *probev1.Value_IntValue:
			p.Fields[k] = x.IntValue
		case *probev1.Value_UintValue:
			p.Fields[k] = x.UintValue
		case *probev1.Value_BoolValue:
			p.Fields[k] = x.BoolValue
		case *probev1.Value_StringValue:
			p.Fields[k] = x.StringValue
		default:
			return Point{}, fmt.Errorf("%w: %s field %s has no value", ErrBadPoint, p.Measurement, k)
		}
	}
	return p, p.Check()
}
