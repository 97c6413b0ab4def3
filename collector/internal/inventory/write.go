package inventory

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/pantau-noc/pantau/internal/yamlconf"
	"go.yaml.in/yaml/v3"
)

// WriteYAML writes the inventory as inventory.yml, headed by a comment
// saying it was generated from source. Values that Parse would fill in
// anyway (a link's thresholds and SLA target when they equal the inherited
// ones, the built-in link type and service defaults, an OPD site's own id
// as its opd, a service's site's OPD, SLA target, built-in response time
// field and default response time) are left out, so that a later change
// of a default reaches every link and service.
// Parse reads the output back to an equal Inventory.
func (inv *Inventory) WriteYAML(w io.Writer, source string) error {
	root := mapping(false)
	if d := inv.defaultsNode(); d != nil {
		root.set("defaults", d)
	}
	if len(inv.OPDs) > 0 {
		root.set("opds", opdsNode(inv.OPDs))
	}
	sites := make(map[string]*Site, len(inv.Sites))
	if len(inv.Sites) > 0 {
		seq := &yaml.Node{Kind: yaml.SequenceNode}
		for i := range inv.Sites {
			s := &inv.Sites[i]
			if _, dup := sites[s.ID]; !dup {
				sites[s.ID] = s
			}
			seq.Content = append(seq.Content, siteNode(s))
		}
		root.set("sites", seq)
	}
	if len(inv.Links) > 0 {
		seq := &yaml.Node{Kind: yaml.SequenceNode}
		for i := range inv.Links {
			seq.Content = append(seq.Content, inv.linkNode(&inv.Links[i], sites[inv.Links[i].Site]))
		}
		root.set("links", seq)
	}
	if len(inv.Devices) > 0 {
		seq := &yaml.Node{Kind: yaml.SequenceNode}
		for i := range inv.Devices {
			seq.Content = append(seq.Content, deviceNode(&inv.Devices[i]))
		}
		root.set("devices", seq)
	}
	if len(inv.Services) > 0 {
		seq := &yaml.Node{Kind: yaml.SequenceNode}
		for i := range inv.Services {
			seq.Content = append(seq.Content, inv.serviceNode(&inv.Services[i], sites[inv.Services[i].Site]))
		}
		root.set("services", seq)
	}

	header := "Pantau inventory (inventory.yml), generated"
	if src := oneLine(source); src != "" {
		header += " from " + src
	}
	header += ".\nValues equal to their defaults are left out; example.yml lists every key."
	doc := &yaml.Node{Kind: yaml.DocumentNode, HeadComment: header, Content: []*yaml.Node{root.Node}}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("write inventory: %w", err)
	}
	if err := enc.Close(); err != nil {
		return fmt.Errorf("write inventory: %w", err)
	}
	if _, err := w.Write(spaced(buf.Bytes())); err != nil {
		return fmt.Errorf("write inventory: %w", err)
	}
	return nil
}

// spaced puts a blank line before each top-level key and each item of a
// top-level list, for the reader. Nothing else starts a line with "  - "
// or a letter: deeper values, block strings included, are indented more.
func spaced(out []byte) []byte {
	lines := bytes.SplitAfter(out, []byte("\n"))
	var b bytes.Buffer
	b.Grow(len(out) + len(lines))
	prevItem := false
	for i, l := range lines {
		key := len(l) > 0 && (l[0] >= 'a' && l[0] <= 'z')
		item := bytes.HasPrefix(l, []byte("  - "))
		if i > 0 && len(bytes.TrimSpace(lines[i-1])) > 0 && (key || item && prevItem) {
			b.WriteByte('\n')
		}
		if key || item {
			prevItem = item
		}
		b.Write(l)
	}
	return b.Bytes()
}

// oneLine makes s safe for a comment line.
func oneLine(s string) string {
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, s))
}

func (inv *Inventory) defaultsNode() *yaml.Node {
	m := mapping(false)
	types := mapping(false)
	var keys, other []string
	for _, t := range linkTypes {
		if _, ok := inv.Defaults.LinkTypes[t]; ok {
			keys = append(keys, t)
		}
	}
	for t := range inv.Defaults.LinkTypes {
		if _, ok := builtinTypeDefaults[t]; !ok {
			other = append(other, t)
		}
	}
	slices.Sort(other)
	keys = append(keys, other...)
	for _, t := range keys {
		d := inv.Defaults.LinkTypes[t]
		b, builtin := builtinTypeDefaults[t]
		td := mapping(true)
		if !builtin || !sameFloat(d.LossRatio, b.LossRatio) {
			td.set("loss_ratio", scalar(d.LossRatio))
		}
		if !builtin || d.RTT != b.RTT {
			td.set("rtt", durationNode(d.RTT))
		}
		if !builtin || !sameFloat(d.SLATarget, b.SLATarget) {
			td.set("sla_target", scalar(d.SLATarget))
		}
		if !sameFloat(d.SignalDBm, b.SignalDBm) {
			td.set("signal_dbm", scalar(d.SignalDBm))
		}
		if len(td.Content) > 0 {
			types.set(t, td.Node)
		}
	}
	if len(types.Content) > 0 {
		m.set("link_types", types.Node)
	}
	if inv.Defaults.FlapMergeGap != 0 {
		m.set("flap_merge_gap", durationNode(inv.Defaults.FlapMergeGap))
	}
	if inv.Defaults.TimeZone != "" {
		m.set("timezone", scalar(inv.Defaults.TimeZone))
	}
	sd, b := inv.Defaults.Services, builtinServiceDefaults
	svc := mapping(true)
	if !sameFloat(sd.SLATarget, b.SLATarget) {
		svc.set("sla_target", scalar(sd.SLATarget))
	}
	if sd.ResponseTime != b.ResponseTime {
		svc.set("response_time", durationNode(sd.ResponseTime))
	}
	if len(svc.Content) > 0 {
		m.set("services", svc.Node)
	}
	hoursNode(m, inv.Defaults.ServiceHours)
	schedulesNode(m, inv.Defaults.Schedules)
	if len(m.Content) == 0 {
		return nil
	}
	return m.Node
}

// sameFloat is == that also holds for two NaNs.
func sameFloat(a, b float64) bool { return a == b || a != a && b != b }

func siteNode(s *Site) *yaml.Node {
	m := mapping(false)
	m.str("id", s.ID)
	m.str("name", s.Name)
	m.str("kind", s.Kind)
	if !(s.Kind == KindOPD && s.OPD == s.ID) {
		m.str("opd", s.OPD)
	}
	m.str("district", s.District)
	m.str("parent", s.Parent)
	m.str("timezone", s.TimeZone)
	if s.Lat != nil {
		m.set("lat", scalar(*s.Lat))
	}
	if s.Lon != nil {
		m.set("lon", scalar(*s.Lon))
	}
	if s.SLATarget != 0 {
		m.set("sla_target", scalar(s.SLATarget))
	}
	hoursNode(m, s.ServiceHours)
	return m.Node
}

func (inv *Inventory) linkNode(l *Link, s *Site) *yaml.Node {
	m := mapping(false)
	m.str("id", l.ID)
	m.str("site", l.Site)
	m.str("name", l.Name)
	m.str("type", l.Type)
	m.str("isp", l.ISP)
	m.str("circuit", l.Circuit)
	if l.Bandwidth != 0 {
		m.set("bandwidth", scalar(l.Bandwidth.String()))
	}
	icmp := mapping(true)
	icmp.str("target", l.ICMP.Target)
	icmp.str("agent", l.ICMP.Agent)
	if len(icmp.Content) > 0 {
		m.set("icmp", icmp.Node)
	}
	snmp := mapping(true)
	snmp.str("device", l.SNMP.Device)
	snmp.str("interface", l.SNMP.Interface)
	if len(snmp.Content) > 0 {
		m.set("snmp", snmp.Node)
	}
	d := inv.linkDefaults(l.Type, s)
	th := mapping(true)
	if p := l.Thresholds.LossRatio; p != nil && !sameFloat(*p, d.LossRatio) {
		th.set("loss_ratio", scalar(*p))
	}
	if p := l.Thresholds.RTT; p != nil && *p != d.RTT {
		th.set("rtt", durationNode(*p))
	}
	if p := l.Thresholds.SignalDBm; p != nil && !sameFloat(*p, d.SignalDBm) {
		th.set("signal_dbm", scalar(*p))
	}
	if len(th.Content) > 0 {
		m.set("thresholds", th.Node)
	}
	if l.SLATarget != 0 && !sameFloat(l.SLATarget, inv.inheritedSLATarget(l, s)) {
		m.set("sla_target", scalar(l.SLATarget))
	}
	if c := l.Contract; c != nil {
		k := mapping(false)
		k.set("target", scalar(c.Target))
		if c.MinOutage != 0 {
			k.set("min_outage", durationNode(c.MinOutage))
		}
		if c.Exclude != nil {
			ex := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
			for _, x := range c.Exclude {
				ex.Content = append(ex.Content, scalar(x))
			}
			k.set("exclude", ex)
		}
		if c.MonthlyFee != 0 {
			k.set("monthly_fee", scalar(c.MonthlyFee))
		}
		k.str("restitution", c.Restitution)
		k.date("start", c.Start)
		k.date("end", c.End)
		k.str("basis", c.Basis)
		m.set("contract", k.Node)
	}
	hoursNode(m, l.ServiceHours)
	return m.Node
}

func deviceNode(d *Device) *yaml.Node {
	m := mapping(false)
	m.str("id", d.ID)
	m.str("site", d.Site)
	m.str("vendor", d.Vendor)
	m.str("model", d.Model)
	m.str("serial", d.Serial)
	if d.YearAcquired != 0 {
		m.set("year_acquired", scalar(d.YearAcquired))
	}
	m.str("asset_code", d.AssetCode)
	m.date("warranty_end", d.WarrantyEnd)
	m.date("contract_end", d.ContractEnd)
	m.str("address", d.Address)
	snmp := mapping(true)
	snmp.str("profile", d.SNMP.Profile)
	if len(d.SNMP.Interfaces) > 0 {
		ifs := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
		for _, i := range d.SNMP.Interfaces {
			ifs.Content = append(ifs.Content, scalar(i))
		}
		snmp.set("interfaces", ifs)
	}
	if len(snmp.Content) > 0 {
		m.set("snmp", snmp.Node)
	}
	return m.Node
}

func (inv *Inventory) serviceNode(sv *Service, s *Site) *yaml.Node {
	m := mapping(false)
	m.str("id", sv.ID)
	m.str("name", sv.Name)
	m.str("site", sv.Site)
	if s == nil || sv.OPD != s.OPD {
		m.str("opd", sv.OPD)
	}
	m.str("category", sv.Category)
	m.str("url", sv.URL)
	probe := mapping(true)
	probe.str("measurement", sv.Probe.Measurement)
	probe.str("target", sv.Probe.Target)
	probe.str("agent", sv.Probe.Agent)
	if len(sv.Probe.Config) > 0 {
		n := &yaml.Node{}
		if err := n.Encode(sv.Probe.Config); err != nil {
			panic(fmt.Sprintf("inventory: encode probe config of %s: %v", sv.ID, err)) // decoded from YAML, so it encodes
		}
		n.Style = yaml.FlowStyle
		probe.set("config", n)
	}
	if len(probe.Content) > 0 {
		m.set("probe", probe.Node)
	}
	th := mapping(true)
	// Parse fills in the default response time whenever the field is
	// known, and the field for the bundled plugins' measurements.
	if p := sv.Thresholds.ResponseTime; p != nil && (sv.Thresholds.Field == "" || *p != inv.Defaults.Services.ResponseTime) {
		th.set("response_time", durationNode(*p))
	}
	if f := sv.Thresholds.Field; f != ResponseFields[sv.Probe.Measurement] {
		th.str("field", f)
	}
	if len(th.Content) > 0 {
		m.set("thresholds", th.Node)
	}
	if sv.SLATarget != 0 && !sameFloat(sv.SLATarget, inv.Defaults.Services.SLATarget) {
		m.set("sla_target", scalar(sv.SLATarget))
	}
	hoursNode(m, sv.ServiceHours)
	return m.Node
}

// mapNode builds a YAML mapping in key order.
type mapNode struct{ *yaml.Node }

func mapping(flow bool) mapNode {
	n := &yaml.Node{Kind: yaml.MappingNode}
	if flow {
		n.Style = yaml.FlowStyle
	}
	return mapNode{n}
}

func (m mapNode) set(key string, v *yaml.Node) {
	m.Content = append(m.Content, scalar(key), v)
}

// str sets a string value unless it is empty.
func (m mapNode) str(key, v string) {
	if v != "" {
		m.set(key, scalar(v))
	}
}

// date sets a date unless it is unset, written plain (2026-12-31).
func (m mapNode) date(key string, d Date) {
	if !d.IsZero() {
		m.set(key, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!timestamp", Value: d.String()})
	}
}

// scalar encodes a string or number as a node.
func scalar(v any) *yaml.Node {
	n := &yaml.Node{}
	if s, ok := v.(string); ok && utf8.ValidString(s) {
		// As Encode writes it, without an encoder per value (Encode
		// made WriteYAML take seconds for 5,000 links).
		n.SetString(s)
		return n
	}
	if err := n.Encode(v); err != nil {
		panic(fmt.Sprintf("inventory: encode %v: %v", v, err)) // strings and numbers always encode
	}
	return n
}

// durationNode writes d as yamlconf.ParseDuration reads it back exactly:
// "5m", "1500ms", or Go's form ("1.5µs") below millisecond precision.
func durationNode(d yamlconf.Duration) *yaml.Node {
	if time.Duration(d)%time.Millisecond == 0 {
		return scalar(d.String())
	}
	return scalar(time.Duration(d).String())
}
