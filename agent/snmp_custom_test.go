package agent

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pantau-noc/pantau/internal/lab"
)

// TestProbeOnceCustomMetrics: `probe --once` prints the user-defined
// metrics of agent.yml, named by MIB objects of the mib package's
// PANTAU-TEST-MIB, polled from snmpsim; `check-config` names an unknown
// MIB object by file:line:col.
func TestProbeOnceCustomMetrics(t *testing.T) {
	mibs, err := filepath.Abs("internal/mib/testdata/mibs")
	if err != nil {
		t.Fatal(err)
	}
	dir := lab.SnmpsimDataDir(t)
	lab.WriteRecording(t, dir, "radio", []byte("1.3.6.1.2.1.1.3.0|67|12345\n1.3.6.1.2.1.1.5.0|4|radio-1\n"+
		"1.3.6.1.4.1.99999.1.1.0|2|154\n"+
		"1.3.6.1.4.1.99999.1.2.1.2.0.12.66.170.187.204|2|-61\n"))
	sim := lab.StartSnmpsim(t, dir)

	tmp := t.TempDir()
	yml := fmt.Sprintf(`agent: {state_dir: %s, listen_address: "", mib_dirs: [%s]}
snmp:
  - {target: %q, name: radio-1, community: radio, metrics: [radio]}
snmp_metrics:
  - name: radio
    scalars:
      - {measurement: snmp_power, field: voltage_volts, oid: "PANTAU-TEST-MIB::pantauTestVoltage", scale: 0.1}
    tables:
      - measurement: snmp_peer
        oid: pantauPeerTable
        index_tags: [{name: peer}]
        fields: [{name: signal_dbm, oid: pantauPeerSignal}]
`, filepath.Join(tmp, "state"), mibs, sim.Addr)
	f := filepath.Join(tmp, "agent.yml")
	if err := os.WriteFile(f, []byte(yml), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if code := Main(t.Context(), []string{"probe", "--once", "--config", f, "--log.level", "warn"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, &out, &errb)
	}
	for _, want := range []string{"snmp_peer,device=radio-1,peer=00:0c:42:aa:bb:cc signal_dbm=-61 ", "snmp_power,device=radio-1 voltage_volts=15.4 "} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("probe --once lacks %q:\n%s", want, &out)
		}
	}

	bad := strings.Replace(yml, "oid: pantauPeerSignal", "oid: pantauPeerSignl", 1)
	if err := os.WriteFile(f, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	errb.Reset()
	code := Main(t.Context(), []string{"check-config", "--config", f}, &out, &errb)
	want := f + ":12:42: snmp_metrics[0].tables[0].fields[0].oid: unknown MIB object pantauPeerSignl: no loaded MIB defines it"
	if code == 0 || !strings.Contains(errb.String(), want) {
		t.Fatalf("check-config exit %d\nstderr: %s\nwant %s", code, &errb, want)
	}
}
