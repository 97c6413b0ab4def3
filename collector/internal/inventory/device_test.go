package inventory

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
)

// TestDeviceAddressAndSNMP: a device's management address and SNMP
// profile are checked and written back (fleet management polls them).
func TestDeviceAddressAndSNMP(t *testing.T) {
	for _, tc := range []struct{ dev, err string }{
		{"{id: r, site: s, address: 10.0.0.1}", ""},
		{"{id: r, site: s, address: rtr.example.go.id, snmp: {profile: core, interfaces: [ether1]}}", ""},
		{"{id: r, site: s, address: '10.0.0.1:161'}", "devices[0].address: must be the device's management IP address or host name"},
		{"{id: r, site: s, snmp: {profile: core}}", "devices[0].snmp: needs the device's address"},
		{"{id: r, site: s, address: 10.0.0.1, snmp: {profile: Core!}}", "devices[0].snmp.profile: invalid credential profile name"},
		{"{id: r, site: s, address: 10.0.0.1, snmp: {interfaces: [a, a]}}", `interface "a" is listed twice`},
	} {
		y := "sites: [{id: s, name: S, kind: opd}]\ndevices:\n  - " + tc.dev + "\n"
		inv, err := Parse("inv.yml", []byte(y))
		if tc.err == "" {
			if err != nil {
				t.Errorf("%s: %v", tc.dev, err)
				continue
			}
			var buf bytes.Buffer
			if err := inv.WriteYAML(&buf, "test"); err != nil {
				t.Fatal(err)
			}
			back, err := Parse(filepath.Join("x", "inv.yml"), buf.Bytes())
			if err != nil || back.Devices[0].Address != inv.Devices[0].Address || back.Devices[0].SNMP.Profile != inv.Devices[0].SNMP.Profile ||
				strings.Join(back.Devices[0].SNMP.Interfaces, ",") != strings.Join(inv.Devices[0].SNMP.Interfaces, ",") {
				t.Errorf("%s: does not round-trip: %v\n%s", tc.dev, err, buf.String())
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%s: error %v, want %q", tc.dev, err, tc.err)
		}
	}
}
