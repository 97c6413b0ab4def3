package config

import (
	"strings"
	"testing"
)

const metricsHead = "agent:\n  mib_dirs: [../mib/testdata/mibs]\nsnmp:\n  - target: 127.0.0.1\n    community: c\n    metrics: [test]\nsnmp_metrics:\n  - name: test\n"

// TestSNMPMetrics: MIB names resolve to numeric OIDs (a scalar gets .0),
// defaults are filled in, and a table learns its index object.
func TestSNMPMetrics(t *testing.T) {
	in := metricsHead + `    scalars:
      - {measurement: snmp_power, field: voltage_volts, oid: PANTAU-TEST-MIB::pantauTestVoltage, scale: 0.1}
      - {measurement: snmp_power, field: raw, oid: .1.3.6.1.4.1.99999.1.1.0, type: counter}
    tables:
      - measurement: snmp_peer
        oid: pantauPeerTable
        index_tags: [{name: peer}]
        fields:
          - {name: signal_dbm, oid: pantauPeerSignal}
          - {name: tx_rate_bits_per_second, oid: PANTAU-TEST-MIB::pantauPeerTxRate}
`
	c, err := Parse("a.yml", []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	sets := c.MetricSets(c.SNMP[0])
	if len(sets) != 1 {
		t.Fatalf("sets: %v", sets)
	}
	s := sets[0]
	if got := s.Scalars[0].Resolved; got != "1.3.6.1.4.1.99999.1.1.0" || s.Scalars[0].Type != "gauge" || s.Scalars[0].Scale != 0.1 {
		t.Errorf("scalar 0: %+v", s.Scalars[0])
	}
	if got := s.Scalars[1].Resolved; got != "1.3.6.1.4.1.99999.1.1.0" || s.Scalars[1].Scale != 1 {
		t.Errorf("scalar 1: %+v", s.Scalars[1])
	}
	tb := s.Tables[0]
	if tb.Fields[0].Resolved != "1.3.6.1.4.1.99999.1.2.1.2" || tb.MaxRows != DefaultMaxRows || tb.IndexObject == nil ||
		tb.IndexObject.Index[0] != "PANTAU-TEST-MIB::pantauPeerMac" {
		t.Errorf("table: %+v", tb)
	}
}

// TestSNMPMetricsNumericOnly: without MIB names no MIB file is read.
func TestSNMPMetricsNumericOnly(t *testing.T) {
	in := "agent:\n  mib_dirs: [/nonexistent]\nsnmp_metrics:\n  - name: n\n    scalars: [{measurement: m, field: f, oid: 1.3.6.1.2.1.1.3.0}]\n"
	c, err := Parse("a.yml", []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if c.MIBs() != nil {
		t.Error("MIBs loaded for numeric OIDs")
	}
}

func TestBadSNMPMetrics(t *testing.T) {
	for name, c := range map[string]struct{ in, want string }{
		"unknown object": {metricsHead + "    scalars:\n      - {measurement: m, field: f, oid: PANTAU-TEST-MIB::nope}\n",
			"a.yml:10:41: snmp_metrics[0].scalars[0].oid: unknown MIB object PANTAU-TEST-MIB::nope: module PANTAU-TEST-MIB does not define nope"},
		"unknown module": {metricsHead + "    scalars:\n      - {measurement: m, field: f, oid: 'IF-MIB::ifName'}\n",
			"a.yml:10:41: snmp_metrics[0].scalars[0].oid: unknown MIB object IF-MIB::ifName: module IF-MIB is not loaded (add its file to agent.mib_dirs)"},
		"column not in table": {metricsHead + "    tables:\n      - measurement: m\n        oid: pantauPeerTable\n        fields:\n          - {name: f, oid: pantauSensorValue}\n",
			"a.yml:13:28: snmp_metrics[0].tables[0].fields[0].oid: PANTAU-TEST-MIB::pantauSensorValue is a column of PANTAU-TEST-MIB::pantauSensorTable, not of the table PANTAU-TEST-MIB::pantauPeerTable"},
		"bad scale": {metricsHead + "    tables:\n      - measurement: m\n        fields: [{name: f, oid: 1.3.6.1.9.1}]\n        tags: [{name: t, oid: 1.3.6.1.9.2, scale: 10}]\n",
			"a.yml:12:51: snmp_metrics[0].tables[0].tags[0].scale: a tag (type string) cannot be scaled"},
		"string field": {metricsHead + "    scalars:\n      - {measurement: m, field: f, oid: 1.3.6.1.2.1.1.5.0, type: string}\n",
			"a.yml:10:66: snmp_metrics[0].scalars[0].type: must be one of \"gauge\", \"counter\", \"rate\" (got \"string\")"},
		"nan scale": {metricsHead + "    scalars:\n      - {measurement: m, field: f, oid: 1.3.6.1.2.1.1.5.0, scale: .nan}\n",
			"a.yml:10:67: snmp_metrics[0].scalars[0].scale: must be a finite number such as 0.1 (got NaN)"},
		"table as scalar": {metricsHead + "    scalars:\n      - {measurement: m, field: f, oid: pantauPeerTable}\n",
			"a.yml:10:41: snmp_metrics[0].scalars[0].oid: PANTAU-TEST-MIB::pantauPeerTable is a table, not a scalar: a table's values go under tables"},
		"bad index": {metricsHead + "    tables:\n      - measurement: m\n        index_tags: [{name: peer, index: 2}]\n        fields: [{name: f, oid: pantauPeerSignal}]\n",
			"a.yml:11:42: snmp_metrics[0].tables[0].index_tags[0].index: PANTAU-TEST-MIB::pantauPeerTable has 1 index components ([PANTAU-TEST-MIB::pantauPeerMac]), not 2"},
		"tag of another index": {metricsHead + "    tables:\n      - measurement: m\n        fields: [{name: f, oid: pantauPeerSignal}]\n        tags: [{name: n, oid: pantauSensorName}]\n",
			"a.yml:12:31: snmp_metrics[0].tables[0].tags[0].oid: PANTAU-TEST-MIB::pantauSensorName is a column of PANTAU-TEST-MIB::pantauSensorTable, whose index ([PANTAU-TEST-MIB::pantauSensorIndex]) is not the index of PANTAU-TEST-MIB::pantauPeerTable ([PANTAU-TEST-MIB::pantauPeerMac])"},
		"unknown set": {"snmp:\n  - target: 127.0.0.1\n    community: c\n    metrics: [nope]\n",
			"a.yml:4:15: snmp[0].metrics[0]: no snmp_metrics set is named \"nope\""},
		"bad oid": {metricsHead + "    scalars:\n      - {measurement: m, field: f, oid: 1.3.x}\n",
			"a.yml:10:41: snmp_metrics[0].scalars[0].oid: OID \"1.3.x\": sub-identifier \"x\" is not a number from 0 to 4294967295"},
		"bad field name": {metricsHead + "    scalars:\n      - {measurement: m, field: Volt, oid: 1.3.6.1.2.1.1.5.0}\n",
			"a.yml:10:33: snmp_metrics[0].scalars[0].field: must be lower-case letters, digits and _ with its unit, such as voltage_volts (got \"Volt\")"},
	} {
		_, err := Parse("a.yml", []byte(c.in))
		if err == nil || err.Error() != c.want {
			t.Errorf("%s:\n got %v\nwant %s", name, err, c.want)
		}
	}
	// A missing mib_dirs entry named by the user is an error.
	_, err := Parse("a.yml", []byte("agent:\n  mib_dirs: [/nonexistent]\nsnmp_metrics:\n  - name: n\n    scalars: [{measurement: m, field: f, oid: sysName}]\n"))
	if err == nil || !strings.Contains(err.Error(), "a.yml:2:13: agent.mib_dirs: read MIB directory /nonexistent") {
		t.Errorf("missing dir: %v", err)
	}
}

// TestMIBWarnings: MIB files that did not load are one warning at
// agent.mib_dirs.
func TestMIBWarnings(t *testing.T) {
	in := "agent:\n  mib_dirs: [../mib/testdata/mibs, ../mib/testdata/bad]\nsnmp_metrics:\n  - name: n\n    scalars: [{measurement: m, field: f, oid: pantauTestVoltage}]\n"
	c, err := Parse("a.yml", []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	w := c.Warnings()
	if len(w) != 1 || !strings.HasPrefix(w[0].Error(), "a.yml:2:13: agent.mib_dirs: 2 MIB files did not load and their names cannot be used; the first: MIB file ../mib/testdata/bad/") {
		t.Fatalf("warnings: %v", w)
	}
}
