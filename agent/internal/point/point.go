// Package point is the agent's in-memory measurement: what every probe
// produces and what the queue stores as line protocol (schema v1).
package point

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/influxdata/line-protocol/v2/lineprotocol"
)

// Kind is a field's line-protocol type.
type Kind uint8

// Field kinds. Schema v1 uses floats for gauges and ratios, u for counters
// and i for states.
const (
	Float Kind = iota
	Int
	Uint
)

// Field is one named value. The value is kept in one word (32 bytes a
// field rather than 48: a thousand points a second are made and dropped).
type Field struct {
	Key  string
	Kind Kind
	bits uint64 // float64 bits, int64 or uint64, by Kind
}

// Float is the value of a Float field.
func (f Field) Float() float64 { return math.Float64frombits(f.bits) }

// Int is the value of an Int field.
func (f Field) Int() int64 { return int64(f.bits) }

// Uint is the value of a Uint field.
func (f Field) Uint() uint64 { return f.bits }

// Tag is one key/value pair.
type Tag struct{ Key, Value string }

// Point is one line: a measurement, its tags and fields, taken at Time.
type Point struct {
	Measurement string
	Tags        []Tag
	Fields      []Field
	Time        time.Time
}

// New starts a point for measurement taken at t.
func New(measurement string, t time.Time) *Point {
	return &Point{Measurement: measurement, Time: t}
}

// Tag sets a tag; a later value for the same key replaces the earlier one.
// Empty values are left out (line protocol has no empty tag values).
func (p *Point) Tag(key, value string) *Point {
	if value == "" {
		return p
	}
	for i := range p.Tags {
		if p.Tags[i].Key == key {
			p.Tags[i].Value = value
			return p
		}
	}
	if p.Tags == nil {
		p.Tags = make([]Tag, 0, tagsCap)
	}
	p.Tags = append(p.Tags, Tag{key, value})
	return p
}

// Room for the tags and fields of the schema's measurements, so that a
// point allocates its slices once rather than growing them four or five
// times: the agent makes a thousand points a second, and those regrowths
// were a quarter of its allocations (and so of its garbage collection).
const (
	tagsCap   = 8
	fieldsCap = 14
)

func (p *Point) addField(f Field) *Point {
	if p.Fields == nil {
		p.Fields = make([]Field, 0, fieldsCap)
	}
	p.Fields = append(p.Fields, f)
	return p
}

// TagMap sets every tag of m (inventory tags).
func (p *Point) TagMap(m map[string]string) *Point {
	for k, v := range m {
		p.Tag(k, v)
	}
	return p
}

// Float adds a float field. NaN and infinities cannot be written in line
// protocol and are left out.
func (p *Point) Float(key string, v float64) *Point {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return p
	}
	return p.addField(Field{Key: key, Kind: Float, bits: math.Float64bits(v)})
}

// Int adds an integer field.
func (p *Point) Int(key string, v int64) *Point {
	return p.addField(Field{Key: key, Kind: Int, bits: uint64(v)})
}

// Uint adds an unsigned integer field.
func (p *Point) Uint(key string, v uint64) *Point {
	return p.addField(Field{Key: key, Kind: Uint, bits: v})
}

// FieldValue returns the field's value as float64 (for tests and display).
func (p *Point) FieldValue(key string) (float64, bool) {
	for _, f := range p.Fields {
		if f.Key == key {
			switch f.Kind {
			case Int:
				return float64(f.Int()), true
			case Uint:
				return float64(f.Uint()), true
			default:
				return f.Float(), true
			}
		}
	}
	return 0, false
}

// TagValue returns the value of tag key.
func (p *Point) TagValue(key string) string {
	for _, t := range p.Tags {
		if t.Key == key {
			return t.Value
		}
	}
	return ""
}

// Encoder writes points as line protocol with nanosecond timestamps.
type Encoder struct {
	enc lineprotocol.Encoder
}

// NewEncoder returns an empty encoder.
func NewEncoder() *Encoder {
	e := &Encoder{}
	e.enc.SetPrecision(lineprotocol.Nanosecond)
	e.enc.SetLax(false)
	return e
}

// Add encodes p. A point without fields is skipped (line protocol needs
// at least one); an invalid name is an error naming the point.
func (e *Encoder) Add(p *Point) error {
	if len(p.Fields) == 0 {
		return nil
	}
	before := len(e.enc.Bytes())
	// Line protocol wants tags sorted; the point's own slice is sorted in
	// place (its order means nothing), not copied.
	tags := p.Tags
	slices.SortFunc(tags, func(a, b Tag) int { return strings.Compare(a.Key, b.Key) })
	e.enc.StartLine(p.Measurement)
	for _, t := range tags {
		e.enc.AddTag(t.Key, t.Value)
	}
	for _, f := range p.Fields {
		var v lineprotocol.Value
		switch f.Kind {
		case Int:
			v = lineprotocol.IntValue(f.Int())
		case Uint:
			v = lineprotocol.UintValue(f.Uint())
		default:
			var ok bool
			if v, ok = lineprotocol.FloatValue(f.Float()); !ok {
				continue
			}
		}
		e.enc.AddField(f.Key, v)
	}
	e.enc.EndLine(p.Time)
	if err := e.enc.Err(); err != nil {
		e.enc.ClearErr()
		e.enc.SetBuffer(e.enc.Bytes()[:before]) // drop the partial line
		return fmt.Errorf("encode %s point: %w", p.Measurement, err)
	}
	return nil
}

// Bytes returns what was encoded so far; Reset starts again.
func (e *Encoder) Bytes() []byte { return e.enc.Bytes() }

// Reset empties the encoder.
func (e *Encoder) Reset() { e.enc.Reset() }

// Encode returns points as line protocol.
func Encode(points []*Point) ([]byte, error) {
	e := NewEncoder()
	for _, p := range points {
		if err := e.Add(p); err != nil {
			return nil, err
		}
	}
	return e.Bytes(), nil
}
