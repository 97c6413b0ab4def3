package snmp

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gosnmp/gosnmp"

	"github.com/pantau-noc/pantau/agent/internal/point"
)

// A Profile tells the poller which vendor scalars and tables to read from
// a device and how to turn them into points of the schema (snmp_radio,
// snmp_env, snmp_ups), in base units. Profiles are data: the definitions
// in profiles.go are tables of OIDs, fields and scales, interpreted by the
// code in this file.
type Profile struct {
	Name string
	// SysObjectIDs are sysObjectID prefixes (dotted, no leading dot) that
	// select this profile under `profile: auto`. Matching is arc-wise: a
	// prefix "1.3.6.1.4.1.14988.1" matches "1.3.6.1.4.1.14988.1" and
	// "1.3.6.1.4.1.14988.1.5", not "1.3.6.1.4.1.14988.10".
	SysObjectIDs []string
	Scalars      []ScalarDef
	Tables       []TableDef
}

// Measurements of the profile schema.
const (
	MeasRadio = "snmp_radio"
	MeasEnv   = "snmp_env"
	MeasUPS   = "snmp_ups"
	// MeasDevice is not written as such: each row of a profile table or
	// scalar group with it gives cpu_load_ratio, memory_used_ratio, or
	// memory_used_bytes with memory_free_bytes, and deviceLoad folds them
	// into the snmp_device point's cpu_load_ratio and memory_used_ratio
	// (when HOST-RESOURCES-MIB gave none).
	MeasDevice = "snmp_device"
)

// Conv says how a raw value becomes a field value.
type Conv int

const (
	// ConvScale multiplies the integer by Scale (1 when Scale is 0).
	ConvScale Conv = iota
	// ConvEquals is 1 when the integer equals Arg, else 0 (enums such as
	// upsOutputSource battery(5) → on_battery).
	ConvEquals
	// ConvInt is the integer as it is, written as an integer field
	// (Cambium's MCS index).
	ConvInt
)

// FieldDef is one field a value turns into.
type FieldDef struct {
	Field string  // field key, in base units (voltage_volts, ccq_ratio, ...)
	Conv  Conv    // ConvScale (default), ConvEquals or ConvInt
	Scale float64 // ConvScale: multiplier (0 means 1)
	Arg   int64   // ConvEquals: the value that gives 1
	// ZeroAbsent drops the value 0, which some MIBs use for "not
	// measured" (mtxrWlRtabSignalToNoise).
	ZeroAbsent bool
	// Exp10 multiplies the scaled value by 10^Exp10 (set per row from
	// ENTITY-SENSOR's scale and precision columns).
	Exp10 int
}

// value converts a raw PDU value; ok is false when it is not a number or
// is absent.
func (f FieldDef) value(raw any) (float64, bool) {
	n, ok := toInt64(raw)
	if !ok {
		return 0, false
	}
	if f.ZeroAbsent && n == 0 {
		return 0, false
	}
	switch f.Conv {
	case ConvEquals:
		if n == f.Arg {
			return 1, true
		}
		return 0, true
	case ConvInt:
		return float64(n), true
	default:
		s := f.Scale
		if s == 0 {
			s = 1
		}
		// Divide by 10, 100, 1000 rather than multiply by 0.1, ...:
		// 127 * 0.1 is 12.700000000000001, 127 / 10 is 12.7.
		v := float64(n)
		if inv := math.Round(1 / s); s < 1 && math.Abs(inv*s-1) < 1e-12 {
			v /= inv
		} else {
			v *= s
		}
		switch {
		case f.Exp10 < 0:
			v /= math.Pow10(-f.Exp10)
		case f.Exp10 > 0:
			v *= math.Pow10(f.Exp10)
		}
		return v, true
	}
}

// add adds the converted value v to pt: an integer for ConvEquals (0/1)
// and ConvInt, a float otherwise. A field the point already has is kept (two tables
// of a profile describing the same interface must not write it twice).
func (f FieldDef) add(pt *point.Point, v float64) {
	if _, dup := pt.FieldValue(f.Field); dup {
		return
	}
	if f.Conv == ConvEquals || f.Conv == ConvInt {
		pt.Int(f.Field, int64(v))
		return
	}
	pt.Float(f.Field, v)
}

// ScalarDef is one scalar instance (a full OID, usually ending in .0).
// Scalars with the same Measurement and Tags go into one point.
type ScalarDef struct {
	OID         string // instance OID without leading dot
	Measurement string
	Tags        map[string]string // e.g. sensor=cpu
	FieldDef
	// Group names a set of scalars a table may supersede (see
	// TableDef.Supersedes): MikroTik's old mtxrHl* scalars are only used
	// when the newer mtxrGaugeTable is empty.
	Group string
}

// IndexPart is how one part of a table row's index becomes a tag.
type IndexPart int

const (
	// IndexInt is one arc used only to tell rows apart (no tag).
	IndexInt IndexPart = iota
	// IndexIfIndex is one arc that is an ifIndex: tag ifname with the
	// interface's ifName (ifDescr, else the number) from IF-MIB.
	IndexIfIndex
	// IndexMAC is six arcs of a MAC address: tag peer, lowercase and
	// colon-separated.
	IndexMAC
)

// ColumnDef is one column read as a field.
type ColumnDef struct {
	Column string // column OID (entry OID + "." + column number)
	FieldDef
}

// UnitColumnDef reads a value column whose unit is given per row by
// another column (mtxrGaugeValue with mtxrGaugeUnit); rows whose unit is
// not in Units are skipped.
type UnitColumnDef struct {
	Value, Unit string // column OIDs
	Units       map[int64]FieldDef
	// Optional, as ENTITY-SENSOR-MIB has them: Status is a column whose
	// value must be StatusOK for the row to count; Exp10 is a column of
	// SI prefixes (yocto(1) … units(9) … yotta(17): the value is
	// multiplied by 1000^(prefix-9)) and Precision a column of decimal
	// places (the value is divided by 10^precision).
	Status    string
	StatusOK  int64
	Exp10     string
	Precision string
}

// TagColumnDef is a string column read as a tag (mtxrGaugeName → sensor).
type TagColumnDef struct {
	Column, Tag string
}

// TableDef is one table: each row becomes one point.
type TableDef struct {
	Name        string // for errors and logs (the MIB's table name)
	Measurement string
	Index       []IndexPart
	TagColumns  []TagColumnDef
	Columns     []ColumnDef
	UnitColumns []UnitColumnDef
	// Supersedes is a ScalarDef.Group dropped when this table has rows.
	Supersedes string
}

// Profile names with a special meaning in Target.Profile.
const (
	ProfileAuto = "auto" // choose by sysObjectID (the default)
	ProfileNone = "none" // read no vendor profile
)

// profiles are the built-in profiles, by name.
var profiles = map[string]*Profile{}

func registerProfile(p *Profile) {
	if _, dup := profiles[p.Name]; dup || p.Name == ProfileAuto || p.Name == ProfileNone || p.Name == "" {
		panic("snmp: bad or duplicate profile name " + strconv.Quote(p.Name))
	}
	profiles[p.Name] = p
}

// ProfileNames returns the names Target.Profile accepts: auto, none and
// the built-in profiles, sorted.
func ProfileNames() []string {
	out := []string{ProfileAuto, ProfileNone}
	for n := range profiles {
		out = append(out, n)
	}
	sort.Strings(out[2:])
	return out
}

// validProfile reports whether name is a valid Target.Profile.
func validProfile(name string) bool {
	return name == "" || name == ProfileAuto || name == ProfileNone || profiles[name] != nil
}

// ProfileFor returns the built-in profile whose sysObjectID prefix is the
// longest match for oid (on a tie, the first by name), or nil.
func ProfileFor(sysObjectID string) *Profile {
	oid := normOID(sysObjectID)
	var best *Profile
	bestLen := -1
	for _, p := range profiles {
		for _, pre := range p.SysObjectIDs {
			if oidHasPrefix(oid, pre) && (len(pre) > bestLen || len(pre) == bestLen && p.Name < best.Name) {
				best, bestLen = p, len(pre)
			}
		}
	}
	return best
}

// oidHasPrefix reports whether oid is prefix or below it, arc-wise.
func oidHasPrefix(oid, prefix string) bool {
	return oid == prefix || (strings.HasPrefix(oid, prefix) && len(oid) > len(prefix) && oid[len(prefix)] == '.')
}

// resolveProfile returns the profile the poller uses for a device with
// this sysObjectID: the forced one, the one matching it, or nil.
func (p *Poller) resolveProfile(sysObjectID string) *Profile {
	switch p.t.Profile {
	case ProfileNone:
		return nil
	case "", ProfileAuto:
		return ProfileFor(sysObjectID)
	default:
		return profiles[p.t.Profile]
	}
}

// pollProfile reads the profile's tables (all columns together, see
// walkOIDs) and scalars (one GET) and returns their points. Points
// gathered before an error are returned with it.
func (p *Poller) pollProfile(prof *Profile, at time.Time) ([]*point.Point, error) {
	acc := newPointSet(at, p.t)
	superseded := map[string]bool{}
	var cols []string
	seen := map[string]bool{}
	for i := range prof.Tables {
		for _, c := range prof.Tables[i].columns() {
			if !seen[c] {
				seen[c] = true
				cols = append(cols, c)
			}
		}
	}
	if len(cols) > 0 {
		walked, err := p.walkOIDs(cols)
		if err != nil {
			return acc.points(), fmt.Errorf("%s tables: %w", prof.Name, err)
		}
		for i := range prof.Tables {
			td := &prof.Tables[i]
			if n := parseTable(td, walked, p.ifName, acc); n > 0 && td.Supersedes != "" {
				superseded[td.Supersedes] = true
			}
		}
	}
	var oids []string
	for _, s := range prof.Scalars {
		if s.Group == "" || !superseded[s.Group] {
			oids = append(oids, s.OID)
		}
	}
	if len(oids) > 0 {
		vars, err := p.get(oids)
		if err != nil {
			return acc.points(), fmt.Errorf("%s scalars: %w", prof.Name, err)
		}
		parseScalars(prof.Scalars, superseded, vars, acc)
	}
	return acc.points(), nil
}

// parseScalars files the scalar values of vars into acc.
func parseScalars(defs []ScalarDef, superseded map[string]bool, vars []gosnmp.SnmpPDU, acc *pointSet) {
	byOID := make(map[string]gosnmp.SnmpPDU, len(vars))
	for _, v := range vars {
		if isValue(v) {
			byOID[normOID(v.Name)] = v
		}
	}
	for _, s := range defs {
		if s.Group != "" && superseded[s.Group] {
			continue
		}
		v, ok := byOID[s.OID]
		if !ok {
			continue
		}
		if f, ok := s.value(v.Value); ok {
			s.add(acc.get(s.Measurement, s.Tags), f)
		}
	}
}

// maxProfileRows bounds the rows kept per table (a registration table of
// an AP with a thousand stations is still read; the rest is dropped).
const maxProfileRows = 1024

// columns returns the column OIDs the table reads.
func (td *TableDef) columns() []string {
	var all []string
	for _, c := range td.TagColumns {
		all = append(all, c.Column)
	}
	for _, c := range td.Columns {
		all = append(all, c.Column)
	}
	for _, c := range td.UnitColumns {
		all = append(all, c.Value, c.Unit)
		for _, o := range []string{c.Status, c.Exp10, c.Precision} {
			if o != "" {
				all = append(all, o)
			}
		}
	}
	return all
}

// ifName is the IF-MIB name of ifIndex idx from the poller's interface
// cache (ifName, else ifDescr, else the number).
func (p *Poller) ifName(idx uint32) string {
	if m := p.meta[idx]; m != nil {
		if s := m.cells[colName].s; s != "" {
			return s
		}
		if s := m.cells[colDescr].s; s != "" {
			return s
		}
	}
	return strconv.FormatUint(uint64(idx), 10)
}

// profileRow is one table row being built.
type profileRow struct {
	tags   map[string]string
	fields []fieldValue
}

type fieldValue struct {
	def FieldDef
	v   float64
}

// parseTable turns the walked columns of td into points in acc and
// returns the number of rows. It never panics on device input: values of
// the wrong type, rows with bad indexes and names outside a column are
// skipped.
func parseTable(td *TableDef, cols map[string][]gosnmp.SnmpPDU, ifName func(uint32) string, acc *pointSet) int {
	rowsByIdx := map[string]*profileRow{}
	var order []string
	row := func(idx string) *profileRow {
		r := rowsByIdx[idx]
		if r == nil {
			if len(rowsByIdx) >= maxProfileRows {
				return nil
			}
			tags, ok := indexTags(td.Index, idx, ifName)
			if !ok {
				return nil
			}
			r = &profileRow{tags: tags}
			rowsByIdx[idx] = r
			order = append(order, idx)
		}
		return r
	}
	each := func(col string, fn func(r *profileRow, idx string, v gosnmp.SnmpPDU)) {
		for _, v := range cols[col] {
			if !isValue(v) {
				continue
			}
			name := normOID(v.Name)
			if !oidHasPrefix(name, col) || name == col {
				continue
			}
			idx := name[len(col)+1:]
			if r := row(idx); r != nil {
				fn(r, idx, v)
			}
		}
	}
	for _, c := range td.Columns {
		each(c.Column, func(r *profileRow, _ string, v gosnmp.SnmpPDU) {
			if f, ok := c.value(v.Value); ok {
				r.fields = append(r.fields, fieldValue{c.FieldDef, f})
			}
		})
	}
	intColumn := func(col string) map[string]int64 {
		out := map[string]int64{}
		if col == "" {
			return out
		}
		for _, v := range cols[col] {
			name := normOID(v.Name)
			if !isValue(v) || !oidHasPrefix(name, col) || name == col {
				continue
			}
			if u, ok := toInt64(v.Value); ok {
				out[name[len(col)+1:]] = u
			}
		}
		return out
	}
	for _, uc := range td.UnitColumns {
		units, status := intColumn(uc.Unit), intColumn(uc.Status)
		exp10, prec := intColumn(uc.Exp10), intColumn(uc.Precision)
		each(uc.Value, func(r *profileRow, idx string, v gosnmp.SnmpPDU) {
			u, ok := units[idx]
			if !ok {
				return
			}
			fd, ok := uc.Units[u]
			if !ok {
				return
			}
			if uc.Status != "" && status[idx] != uc.StatusOK {
				return
			}
			if uc.Exp10 != "" || uc.Precision != "" {
				e := int64(0)
				if x, ok := exp10[idx]; ok && x >= 1 && x <= 17 {
					e = 3 * (x - 9)
				}
				if p, ok := prec[idx]; ok && p >= -8 && p <= 9 {
					e -= p
				}
				fd.Exp10 += int(e)
			}
			if f, ok := fd.value(v.Value); ok {
				r.fields = append(r.fields, fieldValue{fd, f})
			}
		})
	}
	// Tags from string columns, only for rows that have fields.
	for _, tc := range td.TagColumns {
		for _, v := range cols[tc.Column] {
			name := normOID(v.Name)
			if !isValue(v) || !oidHasPrefix(name, tc.Column) || name == tc.Column {
				continue
			}
			if r := rowsByIdx[name[len(tc.Column)+1:]]; r != nil {
				if s, ok := toString(v.Value); ok && s != "" {
					r.tags[tc.Tag] = s
				}
			}
		}
	}
	n := 0
	for _, idx := range order {
		r := rowsByIdx[idx]
		if len(r.fields) == 0 {
			continue
		}
		if _, ok := r.tags["sensor"]; !ok && td.Measurement == MeasEnv {
			r.tags["sensor"] = td.Name + "." + idx
		}
		if td.Measurement == MeasDevice {
			r.tags["row"] = td.Name + "." + idx // one point per row: deviceLoad averages them
		}
		pt := acc.get(td.Measurement, r.tags)
		for _, f := range r.fields {
			f.def.add(pt, f.v)
		}
		n++
	}
	return n
}

// indexTags decodes a row index (dotted arcs after the column OID) into
// tags; ok is false when it does not fit the parts.
func indexTags(parts []IndexPart, idx string, ifName func(uint32) string) (map[string]string, bool) {
	arcs := strings.Split(idx, ".")
	tags := map[string]string{}
	pos := 0
	next := func() (uint32, bool) {
		if pos >= len(arcs) {
			return 0, false
		}
		v, err := strconv.ParseUint(arcs[pos], 10, 32)
		pos++
		return uint32(v), err == nil
	}
	for _, part := range parts {
		switch part {
		case IndexInt:
			if _, ok := next(); !ok {
				return nil, false
			}
		case IndexIfIndex:
			v, ok := next()
			if !ok {
				return nil, false
			}
			tags["ifname"] = ifName(v)
		case IndexMAC:
			var b strings.Builder
			for i := range 6 {
				v, ok := next()
				if !ok || v > 255 {
					return nil, false
				}
				if i > 0 {
					b.WriteByte(':')
				}
				fmt.Fprintf(&b, "%02x", v)
			}
			tags["peer"] = b.String()
		}
	}
	return tags, pos == len(arcs)
}

// pointSet collects the points of one profile poll, one per measurement
// and tag set.
type pointSet struct {
	at     time.Time
	device string
	inv    map[string]string
	keys   []string
	pts    map[string]*point.Point
}

func newPointSet(at time.Time, t Target) *pointSet {
	return &pointSet{at: at, device: t.Name, inv: t.Tags, pts: map[string]*point.Point{}}
}

// get returns the point for measurement and tags, creating it.
func (s *pointSet) get(meas string, tags map[string]string) *point.Point {
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	b.WriteString(meas)
	for _, k := range keys {
		b.WriteString("\x00" + k + "=" + tags[k])
	}
	key := b.String()
	if pt := s.pts[key]; pt != nil {
		return pt
	}
	pt := point.New(meas, s.at).TagMap(s.inv).Tag("device", s.device)
	for _, k := range keys {
		pt.Tag(k, tags[k])
	}
	s.pts[key] = pt
	s.keys = append(s.keys, key)
	return pt
}

// points returns the points in the order they were first made.
func (s *pointSet) points() []*point.Point {
	out := make([]*point.Point, 0, len(s.keys))
	for _, k := range s.keys {
		if len(s.pts[k].Fields) > 0 {
			out = append(out, s.pts[k])
		}
	}
	return out
}

// deviceLoad removes the MeasDevice points from pts and folds them into
// a CPU ratio (the mean of the rows' cpu_load_ratio) and a memory ratio
// (the sum of memory_used_bytes over the sum of used and free bytes of
// the rows that have both, else the mean of memory_used_ratio). Values
// outside 0..1 are ignored.
func deviceLoad(pts []*point.Point) (rest []*point.Point, cpu float64, hasCPU bool, mem float64, hasMem bool) {
	var cpuSum, memSum, used, total float64
	var cpuN, memN int
	for _, p := range pts {
		if p.Measurement != MeasDevice {
			rest = append(rest, p)
			continue
		}
		if v, ok := p.FieldValue("cpu_load_ratio"); ok && v >= 0 && v <= 1 {
			cpuSum += v
			cpuN++
		}
		if v, ok := p.FieldValue("memory_used_ratio"); ok && v >= 0 && v <= 1 {
			memSum += v
			memN++
		}
		u, okU := p.FieldValue("memory_used_bytes")
		f, okF := p.FieldValue("memory_free_bytes")
		if okU && okF && u >= 0 && f >= 0 {
			used += u
			total += u + f
		}
	}
	if cpuN > 0 {
		cpu, hasCPU = cpuSum/float64(cpuN), true
	}
	switch {
	case total > 0:
		mem, hasMem = used/total, true
	case memN > 0:
		mem, hasMem = memSum/float64(memN), true
	}
	return rest, cpu, hasCPU, mem, hasMem
}
