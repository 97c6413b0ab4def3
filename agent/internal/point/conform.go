package point

import (
	"github.com/pantau-noc/pantau/internal/wire/schema"
)

// Conform drops the fields of p that schema v1 would refuse (a ratio
// outside 0..1, an integer field written as a float, a negative unsigned
// field) and returns their keys. The collector rejects a whole batch for
// one such field, so one device reporting a CCQ of 255 % must not cost
// the agent's other measurements their delivery. Measurements and fields
// outside schema v1 are left as they are.
func (p *Point) Conform() (dropped []string) {
	meas, ok := schema.V1[p.Measurement]
	if !ok {
		return nil
	}
	kept := p.Fields[:0]
	for _, f := range p.Fields {
		want, ok := meas.Fields[f.Key]
		if ok && !fits(want, f) {
			dropped = append(dropped, f.Key)
			continue
		}
		kept = append(kept, f)
	}
	p.Fields = kept
	return dropped
}

func fits(want schema.Kind, f Field) bool {
	switch f.Kind {
	case Int:
		return want.Accepts(schema.IntValue, float64(f.Int()))
	case Uint:
		return want.Accepts(schema.UintValue, float64(f.Uint()))
	}
	return want.Accepts(schema.FloatValue, f.Float())
}
