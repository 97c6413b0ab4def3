package config

import (
	"fmt"
	"math"
	"regexp"

	"github.com/pantau-noc/pantau/agent/internal/mib"
	"github.com/pantau-noc/pantau/internal/yamlconf"
)

// SNMPMetricSet is a named set of user-defined scalars and tables
// (snmp_metrics[] in agent.yml), polled on every SNMP target that lists
// its name under snmp[].metrics, like an snmp_exporter module. Scalars
// are Telegraf's [[inputs.snmp.field]], tables its [[inputs.snmp.table]].
type SNMPMetricSet struct {
	Name    string       `yaml:"name"`
	Scalars []SNMPScalar `yaml:"scalars"`
	Tables  []SNMPTable  `yaml:"tables"`
}

// SNMPScalar is one value read with GET.
type SNMPScalar struct {
	Measurement string  `yaml:"measurement"`
	Field       string  `yaml:"field"`
	OID         string  `yaml:"oid"`   // numeric or a MIB name; a scalar object gets .0 appended
	Type        string  `yaml:"type"`  // gauge (default), counter, rate
	Scale       float64 `yaml:"scale"` // multiplier into base units (0.1 for decivolts); default 1

	// Resolved is the numeric OID to GET (no leading dot).
	Resolved string `yaml:"-"`
}

// SNMPTable is a table walked column by column; each row is one point.
type SNMPTable struct {
	Measurement string         `yaml:"measurement"`
	OID         string         `yaml:"oid"` // the table (optional): columns are checked to be its own
	IndexTags   []SNMPIndexTag `yaml:"index_tags"`
	Tags        []SNMPColumn   `yaml:"tags"`
	Fields      []SNMPColumn   `yaml:"fields"`
	MaxRows     int            `yaml:"max_rows"` // rows per poll at most; default 1000

	// IndexObject is a column of the table, whose MIB index objects
	// decode the rows' indexes (nil: the index is dotted sub-ids).
	IndexObject *mib.Object `yaml:"-"`
}

// SNMPIndexTag tags a row with its index, or one component of it.
type SNMPIndexTag struct {
	Name string `yaml:"name"`
	// Index is the 1-based component of a multi-part index (the table's
	// MIB INDEX clause decodes it); 0 tags with the whole index.
	Index int `yaml:"index"`
}

// SNMPColumn is one column: a field, or (under tags) a tag. A tag column
// may belong to another table with the same index (ifName of ifXTable
// for a table indexed by ifIndex).
type SNMPColumn struct {
	Name  string  `yaml:"name"`
	OID   string  `yaml:"oid"`
	Type  string  `yaml:"type"` // fields: gauge (default), counter, rate; tags: string (default), hex, mac
	Scale float64 `yaml:"scale"`

	Resolved string `yaml:"-"`
}

// DefaultMaxRows bounds a table's rows per poll.
const DefaultMaxRows = 1000

// Bounds of snmp_metrics.
const (
	maxMetricSets    = 100
	maxMetricObjects = 200 // scalars plus columns in one set
	maxRowsLimit     = 100000
)

var (
	fieldTypes  = []string{"gauge", "counter", "rate"}
	tagTypes    = []string{"string", "hex", "mac"}
	measureName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)
	fieldName   = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)
)

// MIBs is the MIB set loaded for snmp_metrics (nil when every OID is
// numeric: no MIB files are read then).
func (c *Config) MIBs() *mib.Set { return c.mibs }

// MetricSets returns the sets a target lists, in its order.
func (c *Config) MetricSets(t SNMPTarget) []*SNMPMetricSet {
	var out []*SNMPMetricSet
	for _, name := range t.Metrics {
		for i := range c.SNMPMetrics {
			if c.SNMPMetrics[i].Name == name {
				out = append(out, &c.SNMPMetrics[i])
			}
		}
	}
	return out
}

// finishSNMPMetrics validates snmp_metrics and snmp[].metrics, and
// resolves every OID (loading the MIB directories when a name is used).
func (c *Config) finishSNMPMetrics(p *yamlconf.Problems) {
	if len(c.SNMPMetrics) > maxMetricSets {
		p.Add("snmp_metrics", "at most %d metric sets (got %d)", maxMetricSets, len(c.SNMPMetrics))
		return
	}
	if c.needMIBs() {
		src, skip := c.Agent.MIBDirs, false
		if len(src) == 0 {
			src, skip = mib.DefaultDirs, true
		}
		dirs := make([]string, len(src))
		for i, d := range src {
			dirs[i] = c.doc.Resolve(d) // relative to agent.yml
		}
		set, err := mib.Load(dirs, skip, nil)
		if err != nil {
			p.AddNear("agent.mib_dirs", "%v", err)
		}
		c.mibs = set
	}
	names := map[string]bool{}
	for i := range c.SNMPMetrics {
		s := &c.SNMPMetrics[i]
		at := fmt.Sprintf("snmp_metrics[%d]", i)
		if !pluginName.MatchString(s.Name) {
			p.AddNear(at+".name", "must be letters, digits, - or _ (got %q)", s.Name)
		} else if names[s.Name] {
			p.Add(at+".name", "%q is already the name of another metric set", s.Name)
		}
		names[s.Name] = true
		n := len(s.Scalars)
		for _, t := range s.Tables {
			n += len(t.Fields) + len(t.Tags)
		}
		if n > maxMetricObjects {
			p.Add(at, "at most %d scalars and columns in one set (got %d)", maxMetricObjects, n)
			continue
		}
		if len(s.Scalars) == 0 && len(s.Tables) == 0 {
			p.AddNear(at+".scalars", "a metric set needs scalars or tables")
		}
		for j := range s.Scalars {
			c.checkScalar(p, fmt.Sprintf("%s.scalars[%d]", at, j), &s.Scalars[j])
		}
		for j := range s.Tables {
			c.checkTable(p, fmt.Sprintf("%s.tables[%d]", at, j), &s.Tables[j])
		}
	}
	for i, t := range c.SNMP {
		for j, name := range t.Metrics {
			if !names[name] {
				p.Add(fmt.Sprintf("snmp[%d].metrics[%d]", i, j), "no snmp_metrics set is named %q", name)
			}
		}
	}
}

func (c *Config) needMIBs() bool {
	named := func(oid string) bool { return oid != "" && !(oid[0] == '.' || oid[0] >= '0' && oid[0] <= '9') }
	for _, s := range c.SNMPMetrics {
		for _, sc := range s.Scalars {
			if named(sc.OID) {
				return true
			}
		}
		for _, t := range s.Tables {
			if named(t.OID) {
				return true
			}
			for _, col := range append(append([]SNMPColumn(nil), t.Tags...), t.Fields...) {
				if named(col.OID) {
					return true
				}
			}
		}
	}
	return false
}

// resolve resolves ref and records a problem at path if it fails.
func (c *Config) resolve(p *yamlconf.Problems, path, ref string) ([]uint32, *mib.Object, bool) {
	if ref == "" {
		p.AddNear(path, "must be set: a numeric OID or a MIB name such as IF-MIB::ifHCInOctets")
		return nil, nil, false
	}
	oid, o, err := c.mibs.Resolve(ref)
	if err != nil {
		if n := len(c.mibs.ProblemsOrNil()); n > 0 {
			p.Add(path, "%v (%d MIB files in agent.mib_dirs did not load; the first: %v)", err, n, c.mibs.Problems[0])
		} else {
			p.Add(path, "%v", err)
		}
		return nil, nil, false
	}
	return oid, o, true
}

func checkScale(p *yamlconf.Problems, path string, scale *float64, typ string) {
	switch {
	case *scale == 0:
		*scale = 1
	case math.IsNaN(*scale) || math.IsInf(*scale, 0):
		p.Add(path, "must be a finite number such as 0.1 (got %v)", *scale)
	case *scale != 1 && (typ == "string" || typ == "hex" || typ == "mac"):
		p.Add(path, "a tag (type %s) cannot be scaled", typ)
	}
}

func (c *Config) checkScalar(p *yamlconf.Problems, at string, s *SNMPScalar) {
	if !measureName.MatchString(s.Measurement) {
		p.AddNear(at+".measurement", "must be lower-case letters, digits and _ such as snmp_power (got %q)", s.Measurement)
	}
	if !fieldName.MatchString(s.Field) {
		p.AddNear(at+".field", "must be lower-case letters, digits and _ with its unit, such as voltage_volts (got %q)", s.Field)
	}
	if s.Type == "" {
		s.Type = "gauge"
	}
	p.OneOf(at+".type", s.Type, fieldTypes...)
	checkScale(p, at+".scale", &s.Scale, s.Type)
	oid, o, ok := c.resolve(p, at+".oid", s.OID)
	if !ok {
		return
	}
	if o != nil && o.Kind != mib.KindScalar && mib.FormatOID(oid) == o.OIDString() {
		p.Add(at+".oid", "%s is a %s, not a scalar: a table's values go under tables", o.Qualified(), o.Kind)
		return
	}
	if o != nil && o.Kind == mib.KindScalar && len(oid) == len(o.OID) {
		oid = append(oid, 0) // sysUpTime means sysUpTime.0
	}
	s.Resolved = mib.FormatOID(oid)
}

func (c *Config) checkTable(p *yamlconf.Problems, at string, t *SNMPTable) {
	if !measureName.MatchString(t.Measurement) {
		p.AddNear(at+".measurement", "must be lower-case letters, digits and _ such as snmp_sensor (got %q)", t.Measurement)
	}
	if t.MaxRows == 0 {
		t.MaxRows = DefaultMaxRows
	} else if t.MaxRows < 0 || t.MaxRows > maxRowsLimit {
		p.Add(at+".max_rows", "must be 1-%d (got %d)", maxRowsLimit, t.MaxRows)
	}
	var table *mib.Object
	if t.OID != "" {
		if _, o, ok := c.resolve(p, at+".oid", t.OID); ok {
			if o == nil || o.Kind != mib.KindTable {
				p.Add(at+".oid", "%s is not a table in the loaded MIBs", t.OID)
			} else {
				table = o
			}
		}
	}
	if len(t.Fields) == 0 {
		p.AddNear(at+".fields", "a table needs at least one field")
	}
	names := map[string]bool{}
	dup := func(path, name string) {
		if names[name] {
			p.Add(path, "%q is used twice in this table", name)
		}
		names[name] = true
	}
	for k, it := range t.IndexTags {
		path := fmt.Sprintf("%s.index_tags[%d]", at, k)
		if !tagKeyRE.MatchString(it.Name) || reserved[it.Name] && it.Name != "ifname" && it.Name != "ifindex" {
			p.AddNear(path+".name", "must be a tag name of letters, digits and _, not one Pantau sets (got %q)", it.Name)
		}
		dup(path+".name", it.Name)
		if it.Index < 0 || it.Index > 16 {
			p.Add(path+".index", "must be 0 (the whole index) or the 1-based component, at most 16 (got %d)", it.Index)
		}
	}
	check := func(path string, col *SNMPColumn, tag bool) {
		if tag {
			if !tagKeyRE.MatchString(col.Name) || reserved[col.Name] && col.Name != "ifname" && col.Name != "ifalias" {
				p.AddNear(path+".name", "must be a tag name of letters, digits and _, not one Pantau sets (got %q)", col.Name)
			}
			if col.Type == "" {
				col.Type = "string"
			}
			p.OneOf(path+".type", col.Type, tagTypes...)
		} else {
			if !fieldName.MatchString(col.Name) {
				p.AddNear(path+".name", "must be lower-case letters, digits and _ with its unit, such as temperature_celsius (got %q)", col.Name)
			}
			if col.Type == "" {
				col.Type = "gauge"
			}
			p.OneOf(path+".type", col.Type, fieldTypes...)
		}
		dup(path+".name", col.Name)
		checkScale(p, path+".scale", &col.Scale, col.Type)
		oid, o, ok := c.resolve(p, path+".oid", col.OID)
		if !ok {
			return
		}
		col.Resolved = mib.FormatOID(oid)
		if o == nil || len(oid) != len(o.OID) {
			return // numeric, or an instance: nothing to check
		}
		if o.Kind != mib.KindColumn {
			p.Add(path+".oid", "%s is a %s, not a table column", o.Qualified(), o.Kind)
			return
		}
		switch {
		case table != nil && !tag && o.Table != table.Qualified():
			p.Add(path+".oid", "%s is a column of %s, not of the table %s", o.Qualified(), o.Table, table.Qualified())
		case table != nil && tag && o.Table != table.Qualified() && !sameIndex(o.Index, table.Index):
			p.Add(path+".oid", "%s is a column of %s, whose index (%v) is not the index of %s (%v)", o.Qualified(), o.Table, o.Index, table.Qualified(), table.Index)
		case t.IndexObject == nil:
			t.IndexObject = o
		case !tag && o.Table != t.IndexObject.Table:
			p.Add(path+".oid", "%s is a column of %s, but this table's other columns are of %s; set tables[].oid or split the table", o.Qualified(), o.Table, t.IndexObject.Table)
		case tag && table == nil && o.Table != t.IndexObject.Table && !sameIndex(o.Index, t.IndexObject.Index):
			p.Add(path+".oid", "%s is a column of %s, whose index (%v) is not the index of %s (%v)", o.Qualified(), o.Table, o.Index, t.IndexObject.Table, t.IndexObject.Index)
		}
	}
	for k := range t.Fields {
		check(fmt.Sprintf("%s.fields[%d]", at, k), &t.Fields[k], false)
	}
	for k := range t.Tags {
		check(fmt.Sprintf("%s.tags[%d]", at, k), &t.Tags[k], true)
	}
	if table != nil {
		if cols := c.mibs.Columns(table); len(cols) > 0 {
			t.IndexObject = cols[0]
		}
	}
	if t.IndexObject != nil {
		for k, it := range t.IndexTags {
			if it.Index > len(t.IndexObject.Index) {
				p.Add(fmt.Sprintf("%s.index_tags[%d].index", at, k), "%s has %d index components (%v), not %d", t.IndexObject.Table, len(t.IndexObject.Index), t.IndexObject.Index, it.Index)
			}
		}
	}
}

func sameIndex(a, b []string) bool {
	if len(a) != len(b) || len(a) == 0 {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// mibWarnings is one warning when MIB files in agent.mib_dirs did not
// load (names they define cannot be used), naming the first.
func (c *Config) mibWarnings() []*yamlconf.FieldError {
	probs := c.mibs.ProblemsOrNil()
	if len(probs) == 0 {
		return nil
	}
	return []*yamlconf.FieldError{c.warn("agent.mib_dirs", "%d MIB files did not load and their names cannot be used; the first: %v", len(probs), probs[0])}
}
