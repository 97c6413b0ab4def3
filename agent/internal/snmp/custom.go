package snmp

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/gosnmp/gosnmp"

	"github.com/pantau-noc/pantau/agent/internal/mib"
	"github.com/pantau-noc/pantau/agent/internal/point"
)

// CustomSet is a user-defined set of scalars and tables (agent.yml
// snmp_metrics), with every OID resolved to numeric.
type CustomSet struct {
	Name    string
	Scalars []CustomScalar
	Tables  []CustomTable
}

// CustomScalar is one value read with GET into Measurement's Field.
type CustomScalar struct {
	Measurement, Field string
	OID                string  // numeric, no leading dot
	Type               string  // gauge (default), counter, rate
	Scale              float64 // 0 means 1
}

// CustomTable is a table walked column by column; each row is one point
// of Measurement tagged with the device, the index tags and the tag
// columns.
type CustomTable struct {
	Measurement string
	IndexTags   []CustomIndexTag
	Tags        []CustomColumn // Type: string (default), hex, mac
	Fields      []CustomColumn // Type: gauge (default), counter, rate
	MaxRows     int            // 0: DefaultMaxRows

	// MIBs and IndexObject (a column of the table) decode the index;
	// when nil the index tag is the dotted sub-ids.
	MIBs        *mib.Set
	IndexObject *mib.Object
}

// CustomIndexTag tags a row with its whole index (Index 0) or its
// 1-based component.
type CustomIndexTag struct {
	Name  string
	Index int
}

// CustomColumn is one column of a table.
type CustomColumn struct {
	Name  string
	OID   string
	Type  string
	Scale float64
}

// DefaultMaxRows bounds a custom table's rows per poll.
const DefaultMaxRows = 1000

// maxRateKeys bounds the rate state of one poller.
const maxRateKeys = 100000

var errTooManyRows = errors.New("too many rows")

// customRate is the previous reading of a rate value.
type customRate struct {
	v  uint64
	at time.Time
}

// pollCustom reads the target's custom sets. Values the device does not
// have are left out; an error names the set and OID.
func (p *Poller) pollCustom(at time.Time) ([]*point.Point, error) {
	var pts []*point.Point
	seen := map[string]bool{}
	for _, set := range p.t.Custom {
		if len(set.Scalars) > 0 {
			sp, err := p.customScalars(set, at, seen)
			pts = append(pts, sp...)
			if err != nil {
				return pts, err
			}
		}
		for i := range set.Tables {
			tp, err := p.customTable(&set.Tables[i], at, seen)
			pts = append(pts, tp...)
			if err != nil {
				return pts, fmt.Errorf("metric set %s, table %s: %w", set.Name, set.Tables[i].Measurement, err)
			}
		}
	}
	// Forget the rate state of values no longer read.
	for k := range p.customRates {
		if !seen[k] {
			delete(p.customRates, k)
		}
	}
	return pts, nil
}

func (p *Poller) customScalars(set CustomSet, at time.Time, seen map[string]bool) ([]*point.Point, error) {
	oids := make([]string, len(set.Scalars))
	for i, s := range set.Scalars {
		oids[i] = "." + s.OID
	}
	vars, err := p.get(oids)
	if err != nil {
		return nil, fmt.Errorf("metric set %s: get %s: %w", set.Name, strings.Join(oids, " "), err)
	}
	byOID := map[string]gosnmp.SnmpPDU{}
	for _, v := range vars {
		byOID[normOID(v.Name)] = v
	}
	byM := map[string]*point.Point{}
	var pts []*point.Point
	for _, s := range set.Scalars {
		v, ok := byOID[s.OID]
		if !ok || !isValue(v) {
			continue
		}
		f, ok := p.customValue(s.Type, s.Scale, s.OID, v, at, seen)
		if !ok {
			continue
		}
		pt := byM[s.Measurement]
		if pt == nil {
			pt = point.New(s.Measurement, at).TagMap(p.t.Tags).Tag("device", p.t.Name)
			byM[s.Measurement] = pt
			pts = append(pts, pt)
		}
		pt.Float(s.Field, f)
	}
	return pts, nil
}

// customValue converts a PDU into a field value: gauge (scaled number),
// counter (the scaled cumulative value) or rate (the scaled increase per
// second since the previous poll; nothing on the first poll or after a
// reset).
func (p *Poller) customValue(typ string, scale float64, key string, v gosnmp.SnmpPDU, at time.Time, seen map[string]bool) (float64, bool) {
	if scale == 0 {
		scale = 1
	}
	if typ == "rate" {
		u, ok := toUint64(v.Value)
		if !ok {
			return 0, false
		}
		seen[key] = true
		prev, had := p.customRates[key]
		if p.customRates == nil {
			p.customRates = map[string]customRate{}
		}
		if had || len(p.customRates) < maxRateKeys {
			p.customRates[key] = customRate{u, at}
		}
		if !had {
			return 0, false
		}
		wide := v.Type == gosnmp.Counter64
		d, _, ok := counterDelta(counter{V: prev.v, OK: true, Wide: wide}, counter{V: u, OK: true, Wide: wide})
		secs := at.Sub(prev.at).Seconds()
		if !ok || !(secs > 0) {
			return 0, false
		}
		return float64(d) / secs * scale, true
	}
	var f float64
	switch x := v.Value.(type) {
	case float32:
		f = float64(x)
	case float64:
		f = x
	default:
		if i, ok := toInt64(v.Value); ok {
			f = float64(i)
		} else if u, ok := toUint64(v.Value); ok {
			f = float64(u)
		} else if s, ok := toString(v.Value); ok {
			// Some devices answer numbers as text ("33.5").
			var err error
			if f, err = strconv.ParseFloat(s, 64); err != nil {
				return 0, false
			}
		} else {
			return 0, false
		}
	}
	f *= scale
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

type customRow struct {
	idx string
	pt  *point.Point
}

func (p *Poller) customTable(t *CustomTable, at time.Time, seen map[string]bool) ([]*point.Point, error) {
	maxRows := t.MaxRows
	if maxRows <= 0 {
		maxRows = DefaultMaxRows
	}
	rows := map[string]*customRow{}
	var order []*customRow
	// Fields first: they decide which rows exist.
	for _, col := range t.Fields {
		err := p.walkBounded(col.OID, maxRows, func(idx string, v gosnmp.SnmpPDU) {
			r := rows[idx]
			if r == nil {
				if len(rows) >= maxRows {
					return
				}
				r = &customRow{idx: idx, pt: point.New(t.Measurement, at).TagMap(p.t.Tags).Tag("device", p.t.Name)}
				rows[idx] = r
				order = append(order, r)
			}
			if f, ok := p.customValue(col.Type, col.Scale, col.OID+"."+idx, v, at, seen); ok {
				r.pt.Float(col.Name, f)
			}
		})
		if err != nil {
			return nil, err
		}
	}
	for _, col := range t.Tags {
		err := p.walkBounded(col.OID, maxRows, func(idx string, v gosnmp.SnmpPDU) {
			if r := rows[idx]; r != nil {
				r.pt.Tag(col.Name, tagValue(col.Type, v))
			}
		})
		if err != nil {
			return nil, err
		}
	}
	pts := make([]*point.Point, 0, len(order))
	for _, r := range order {
		if len(r.pt.Fields) == 0 {
			continue
		}
		if len(t.IndexTags) > 0 {
			p.indexTags(t, r)
		}
		pts = append(pts, r.pt)
	}
	return pts, nil
}

func (p *Poller) indexTags(t *CustomTable, r *customRow) {
	var parts []mib.IndexValue
	if t.MIBs != nil && t.IndexObject != nil {
		sub, err := mib.ParseOID(r.idx)
		if err == nil {
			parts, err = t.MIBs.DecodeIndex(t.IndexObject, sub)
		}
		if err != nil {
			p.log.Debug("index not decoded; tagging it as sub-ids", "index", r.idx, "err", err)
			parts = nil
		}
	}
	for _, it := range t.IndexTags {
		switch {
		case it.Index == 0 && len(parts) == 1:
			r.pt.Tag(it.Name, parts[0].Text)
		case it.Index == 0:
			r.pt.Tag(it.Name, r.idx)
		case it.Index <= len(parts):
			r.pt.Tag(it.Name, parts[it.Index-1].Text)
		}
	}
}

// tagValue is a tag column's value: text, or hex (mac: lowercase
// colon-separated, hex: the same for any length).
func tagValue(typ string, v gosnmp.SnmpPDU) string {
	if b, ok := v.Value.([]byte); ok && (typ == "mac" || typ == "hex") {
		if len(b) > maxStringLen/3 {
			b = b[:maxStringLen/3]
		}
		return mib.HexColon(b)
	}
	if s, ok := toString(v.Value); ok {
		return s
	}
	if i, ok := toInt64(v.Value); ok {
		return strconv.FormatInt(i, 10)
	}
	if u, ok := toUint64(v.Value); ok {
		return strconv.FormatUint(u, 10)
	}
	return ""
}

// walkBounded walks one column and calls fn with each row's index (the
// sub-ids after oid); it stops with an error after more than max rows.
func (p *Poller) walkBounded(oid string, max int, fn func(idx string, v gosnmp.SnmpPDU)) error {
	prefix := "." + oid + "."
	n := 0
	walkFn := func(v gosnmp.SnmpPDU) error {
		name := v.Name
		if !strings.HasPrefix(name, ".") {
			name = "." + name
		}
		if !strings.HasPrefix(name, prefix) || !isValue(v) {
			return nil
		}
		n++
		if n > max {
			return errTooManyRows
		}
		fn(name[len(prefix):], v)
		return nil
	}
	var err error
	if p.t.Version == "1" {
		err = p.g.Walk("."+oid, walkFn)
	} else {
		err = p.g.BulkWalk("."+oid, walkFn)
	}
	if errors.Is(err, errTooManyRows) {
		return fmt.Errorf("walk %s: more than %d rows (raise max_rows)", oid, max)
	}
	if err != nil {
		return fmt.Errorf("walk %s: %w", oid, err)
	}
	return nil
}
