package agent

import (
	"github.com/pantau-noc/pantau/agent/internal/config"
	"github.com/pantau-noc/pantau/agent/internal/snmp"
)

// customSets turns the snmp_metrics sets a target lists (resolved by the
// config package) into the poller's custom sets.
func customSets(cfg *config.Config, t config.SNMPTarget) []snmp.CustomSet {
	var out []snmp.CustomSet
	for _, s := range cfg.MetricSets(t) {
		cs := snmp.CustomSet{Name: s.Name}
		for _, sc := range s.Scalars {
			cs.Scalars = append(cs.Scalars, snmp.CustomScalar{Measurement: sc.Measurement, Field: sc.Field,
				OID: sc.Resolved, Type: sc.Type, Scale: sc.Scale})
		}
		for _, tb := range s.Tables {
			ct := snmp.CustomTable{Measurement: tb.Measurement, MaxRows: tb.MaxRows, MIBs: cfg.MIBs(), IndexObject: tb.IndexObject}
			for _, it := range tb.IndexTags {
				ct.IndexTags = append(ct.IndexTags, snmp.CustomIndexTag{Name: it.Name, Index: it.Index})
			}
			for _, c := range tb.Tags {
				ct.Tags = append(ct.Tags, snmp.CustomColumn{Name: c.Name, OID: c.Resolved, Type: c.Type, Scale: c.Scale})
			}
			for _, c := range tb.Fields {
				ct.Fields = append(ct.Fields, snmp.CustomColumn{Name: c.Name, OID: c.Resolved, Type: c.Type, Scale: c.Scale})
			}
			cs.Tables = append(cs.Tables, ct)
		}
		out = append(out, cs)
	}
	return out
}
