package inventory

import (
	"bytes"
	"strings"
	"testing"
)

// TestSignalThresholds: thresholds.signal_dbm comes from the link, else
// its type's default (radio −75 dBm built in, none for the others); 0
// turns the check off; a value outside −130..0 is refused; WriteYAML keeps
// what differs from the defaults.
func TestSignalThresholds(t *testing.T) {
	const src = `
defaults:
  link_types:
    vsat: {signal_dbm: -80}
sites:
  - {id: dc, name: DC, kind: datacenter}
links:
  - {id: fo, site: dc}
  - {id: radio, site: dc, type: radio}
  - {id: radio-own, site: dc, type: radio, snmp: {device: ap, interface: wlan1}, thresholds: {signal_dbm: -68}}
  - {id: radio-off, site: dc, type: radio, thresholds: {signal_dbm: 0}}
  - {id: vsat, site: dc, type: vsat}
`
	inv, err := Parse("signal.yml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		link string
		want float64 // 0: no check
	}{{"fo", 0}, {"radio", -75}, {"radio-own", -68}, {"radio-off", 0}, {"vsat", -80}} {
		var got float64
		if p := inv.Link(c.link).Thresholds.SignalDBm; p != nil {
			got = *p
		}
		if got != c.want {
			t.Errorf("%s: signal_dbm %v, want %v", c.link, got, c.want)
		}
	}
	var b bytes.Buffer
	if err := inv.WriteYAML(&b, "signal.yml"); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"signal_dbm: -68", "signal_dbm: 0", "vsat: {signal_dbm: -80}"} {
		if !strings.Contains(out, want) {
			t.Errorf("written inventory lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "signal_dbm: -75") {
		t.Errorf("written inventory repeats the built-in radio default:\n%s", out)
	}
	again, err := Parse("signal.yml", b.Bytes())
	if err != nil {
		t.Fatalf("written inventory does not parse: %v\n%s", err, out)
	}
	if p := again.Link("radio-own").Thresholds.SignalDBm; p == nil || *p != -68 {
		t.Errorf("round trip lost radio-own's threshold: %v", p)
	}

	const bad = `
defaults:
  link_types:
    radio: {signal_dbm: 5}
sites:
  - {id: dc, name: DC, kind: datacenter}
links:
  - {id: r, site: dc, type: radio, thresholds: {signal_dbm: -200}}
`
	_, err = Parse("bad.yml", []byte(bad))
	if err == nil {
		t.Fatal("signal_dbm 5 and -200 accepted")
	}
	for _, want := range []string{
		"defaults.link_types.radio.signal_dbm: must be a signal strength in dBm between -130 and 0, such as -75 (got 5)",
		"links[0].thresholds.signal_dbm: must be a signal strength in dBm between -130 and 0, such as -75 (got -200)",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

// The CSV import's signal_threshold column is thresholds.signal_dbm, with
// or without its unit and with a decimal comma.
func TestImportCSVSignalThreshold(t *testing.T) {
	const csv = "site_id;site_name;kind;link_id;type;icmp_target;signal_threshold\n" +
		"desa;Kantor Desa;opd;ptp;radio;192.0.2.1;-72,5 dBm\n" +
		"desa;;;ptp2;radio;192.0.2.2;\n"
	inv, err := ImportCSV("i.csv", strings.NewReader(csv))
	if err != nil {
		t.Fatal(err)
	}
	if p := inv.Link("ptp").Thresholds.SignalDBm; p == nil || *p != -72.5 {
		t.Errorf("ptp signal_dbm %v, want -72.5", p)
	}
	if p := inv.Link("ptp2").Thresholds.SignalDBm; p == nil || *p != -75 {
		t.Errorf("ptp2 signal_dbm %v, want the radio default -75", p)
	}
}
