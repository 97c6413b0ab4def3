package snmp

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/agent/internal/mib"
	"github.com/pantau-noc/pantau/agent/internal/point"
	"github.com/pantau-noc/pantau/internal/lab"
)

// testMIBs loads the mib package's test MIBs (PANTAU-TEST-MIB and the
// minimal SNMPv2 base modules) plus Debian's net-snmp MIBs.
func testMIBs(t *testing.T) *mib.Set {
	t.Helper()
	s, err := mib.Load([]string{"../mib/testdata/mibs", "/usr/share/snmp/mibs"}, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func oidOf(t *testing.T, s *mib.Set, name string) (string, *mib.Object) {
	t.Helper()
	oid, o, err := s.Resolve(name)
	if err != nil {
		t.Fatal(err)
	}
	return mib.FormatOID(oid), o
}

func byMeasurement(pts []*point.Point, m string) []*point.Point {
	var out []*point.Point
	for _, p := range pts {
		if p.Measurement == m {
			out = append(out, p)
		}
	}
	return out
}

// TestCustomSnmpsim polls PANTAU-TEST-MIB (testdata of the mib package)
// from an snmpsim recording written here: a voltage in decivolts, a peer
// table indexed by MacAddress and a sensor table with a name column.
//
//	pantauTestVoltage.0 = 154                  -> voltage_volts 15.4
//	peer 00:0c:42:aa:bb:cc: signal -61, 54e6   -> signal_dbm, tx_rate_bits_per_second
//	peer 00:0c:42:aa:bb:cd: signal -70, 6.5e6
//	sensor 1 "board" 330, sensor 2 "cpu" 415   -> temperature_celsius 33, 41.5
func TestCustomSnmpsim(t *testing.T) {
	t.Parallel()
	s := testMIBs(t)
	const e = "1.3.6.1.4.1.99999.1"
	rec := strings.Join([]string{
		"1.3.6.1.2.1.1.3.0|67|12345",
		"1.3.6.1.2.1.1.5.0|4|radio-1",
		e + ".1.0|2|154",
		e + ".2.1.2.0.12.66.170.187.204|2|-61",
		e + ".2.1.2.0.12.66.170.187.205|2|-70",
		e + ".2.1.3.0.12.66.170.187.204|66|54000000",
		e + ".2.1.3.0.12.66.170.187.205|66|6500000",
		e + ".3.1.2.1|4|board",
		e + ".3.1.2.2|4|cpu",
		e + ".3.1.3.1|2|330",
		e + ".3.1.3.2|2|415",
	}, "\n") + "\n"
	dir := lab.SnmpsimDataDir(t)
	lab.WriteRecording(t, dir, "radio", []byte(rec))
	sim := lab.StartSnmpsim(t, dir)

	volt, _ := oidOf(t, s, "PANTAU-TEST-MIB::pantauTestVoltage.0")
	sig, sigObj := oidOf(t, s, "pantauPeerSignal")
	tx, _ := oidOf(t, s, "pantauPeerTxRate")
	sname, _ := oidOf(t, s, "pantauSensorName")
	sval, svalObj := oidOf(t, s, "pantauSensorValue")
	custom := []CustomSet{{Name: "radio", Scalars: []CustomScalar{
		{Measurement: "snmp_power", Field: "voltage_volts", OID: volt, Scale: 0.1},
	}, Tables: []CustomTable{
		{Measurement: "snmp_peer", MIBs: s, IndexObject: sigObj, IndexTags: []CustomIndexTag{{Name: "peer"}},
			Fields: []CustomColumn{{Name: "signal_dbm", OID: sig}, {Name: "tx_rate_bits_per_second", OID: tx}}},
		{Measurement: "snmp_sensor", MIBs: s, IndexObject: svalObj, IndexTags: []CustomIndexTag{{Name: "sensor_index", Index: 1}},
			Tags:   []CustomColumn{{Name: "sensor", OID: sname}},
			Fields: []CustomColumn{{Name: "temperature_celsius", OID: sval, Scale: 0.1}}},
	}}}
	p := newTestPoller(t, Target{Name: "radio-1", Address: sim.Addr, Version: "2c", Community: "radio",
		Timeout: 10 * time.Second, Tags: map[string]string{"site": "lab"}, Custom: custom}, nil)
	pts := mustPoll(t, p)

	pw := byMeasurement(pts, "snmp_power")
	if len(pw) != 1 || field(t, pw[0], "voltage_volts") != 15.4 || pw[0].TagValue("device") != "radio-1" || pw[0].TagValue("site") != "lab" {
		t.Fatalf("snmp_power: %v", pw)
	}
	peers := map[string]*point.Point{}
	for _, pt := range byMeasurement(pts, "snmp_peer") {
		peers[pt.TagValue("peer")] = pt
	}
	for mac, want := range map[string][2]float64{"00:0c:42:aa:bb:cc": {-61, 54e6}, "00:0c:42:aa:bb:cd": {-70, 6.5e6}} {
		pt := peers[mac]
		if pt == nil {
			t.Fatalf("no peer %s in %v", mac, peers)
		}
		if field(t, pt, "signal_dbm") != want[0] || field(t, pt, "tx_rate_bits_per_second") != want[1] {
			t.Errorf("peer %s: %v", mac, pt.Fields)
		}
	}
	sensors := map[string]*point.Point{}
	for _, pt := range byMeasurement(pts, "snmp_sensor") {
		sensors[pt.TagValue("sensor")] = pt
	}
	if b := sensors["board"]; b == nil || field(t, b, "temperature_celsius") != 33 || b.TagValue("sensor_index") != "1" {
		t.Errorf("board: %v", b)
	}
	if c := sensors["cpu"]; c == nil || field(t, c, "temperature_celsius") != 41.5 || c.TagValue("sensor_index") != "2" {
		t.Errorf("cpu: %v", c)
	}

	// max_rows: a table with more rows than allowed is an error naming it.
	p2 := newTestPoller(t, Target{Name: "radio-1", Address: sim.Addr, Version: "2c", Community: "radio", Timeout: 10 * time.Second,
		Custom: []CustomSet{{Name: "small", Tables: []CustomTable{{Measurement: "snmp_peer", MaxRows: 1, Fields: []CustomColumn{{Name: "signal_dbm", OID: sig}}}}}}}, nil)
	if _, err := p2.Poll(context.Background()); err == nil || !strings.Contains(err.Error(), "more than 1 rows") {
		t.Errorf("max_rows: err %v", err)
	}
}

// TestCustomSnmpd polls UCD-SNMP-MIB by name (Debian's own MIB file) from
// a real snmpd: laTable with its name column as a tag, memTotalReal as a
// scalar in bytes, and ssCpuRawIdle as a rate.
func TestCustomSnmpd(t *testing.T) {
	if _, err := os.Stat("/usr/share/snmp/mibs/UCD-SNMP-MIB.txt"); err != nil {
		t.Skip("libsnmp-base not installed")
	}
	s := testMIBs(t)
	d := lab.StartSnmpd(t, lab.SnmpdOptions{})
	load, loadObj := oidOf(t, s, "UCD-SNMP-MIB::laLoadInt")
	names, _ := oidOf(t, s, "UCD-SNMP-MIB::laNames")
	mem, _ := oidOf(t, s, "UCD-SNMP-MIB::memTotalReal.0")
	idle, _ := oidOf(t, s, "UCD-SNMP-MIB::ssCpuRawIdle.0")
	p := newTestPoller(t, Target{Name: "lab-snmpd", Address: d.Addr, Version: "2c", Community: d.Community, Timeout: 5 * time.Second,
		Custom: []CustomSet{{Name: "ucd", Scalars: []CustomScalar{
			{Measurement: "ucd", Field: "memory_total_bytes", OID: mem, Scale: 1024},
			{Measurement: "ucd", Field: "cpu_idle_ticks_per_second", OID: idle, Type: "rate"},
		}, Tables: []CustomTable{{Measurement: "ucd_load", MIBs: s, IndexObject: loadObj,
			IndexTags: []CustomIndexTag{{Name: "la_index"}}, Tags: []CustomColumn{{Name: "la_name", OID: names}},
			Fields: []CustomColumn{{Name: "load_average", OID: load, Scale: 0.01}}}}}}}, nil)

	pts := mustPoll(t, p)
	out, err := d.Get(context.Background(), "."+mem)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := strconv.ParseFloat(strings.Fields(strings.TrimSpace(out))[0], 64)
	if err != nil {
		t.Fatalf("snmpget memTotalReal: %q", out)
	}
	u := byMeasurement(pts, "ucd")
	if len(u) != 1 || field(t, u[0], "memory_total_bytes") != kb*1024 {
		t.Fatalf("ucd: %v (memTotalReal %v kB)", u, kb)
	}
	if _, ok := u[0].FieldValue("cpu_idle_ticks_per_second"); ok {
		t.Error("a rate on the first poll")
	}
	rows := map[string]*point.Point{}
	for _, pt := range byMeasurement(pts, "ucd_load") {
		rows[pt.TagValue("la_name")] = pt
	}
	for i, name := range []string{"Load-1", "Load-5", "Load-15"} {
		pt := rows[name]
		if pt == nil {
			t.Fatalf("no row %s in %v", name, rows)
		}
		if v := field(t, pt, "load_average"); v < 0 || v > 10000 || pt.TagValue("la_index") != strconv.Itoa(i+1) {
			t.Errorf("%s: %v %v", name, pt.Tags, pt.Fields)
		}
	}
	// The second poll has the rate (idle ticks only grow).
	pts = mustPoll(t, p)
	if r := field(t, byMeasurement(pts, "ucd")[0], "cpu_idle_ticks_per_second"); r < 0 {
		t.Errorf("rate %v", r)
	}
}
