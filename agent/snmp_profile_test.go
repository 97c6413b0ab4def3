package agent

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pantau-noc/pantau/internal/lab"
)

// TestProbeOnceProfiles: `pantau-agent probe --once` against snmpsim
// serving the vendor profile recordings (agent/internal/snmp/testdata/
// profiles, values in its README) prints the profile points with every
// field in base units: a RouterOS 7 AP chosen by sysObjectID (decivolts,
// deciwatts, MHz, thousandths of a dBm, CCQ percent converted) and a UPS
// whose card has a generic sysObjectID, with `profile: ups`.
func TestProbeOnceProfiles(t *testing.T) {
	dir := lab.SnmpsimDataDir(t)
	for _, name := range []string{"mikrotik-v7", "ups-battery"} {
		src, err := filepath.Abs(filepath.Join("internal", "snmp", "testdata", "profiles", name+".snmprec"))
		if err != nil {
			t.Fatal(err)
		}
		lab.CopyRecording(t, dir, src, name)
	}
	sim := lab.StartSnmpsim(t, dir)
	tmp := t.TempDir()
	f := filepath.Join(tmp, "agent.yml")
	os.WriteFile(f, []byte(fmt.Sprintf(`agent: {state_dir: %s, listen_address: ""}
snmp:
  - {target: %q, name: ap-desa-a, community: mikrotik-v7}
  - {target: %q, name: ups-desa-b, community: ups-battery, profile: ups}
`, filepath.Join(tmp, "state"), sim.Addr, sim.Addr)), 0o600)
	var out, errb bytes.Buffer
	if code := Main(t.Context(), []string{"probe", "--once", "--config", f, "--log.level", "warn"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, &out, &errb)
	}
	// each printed line without its timestamp
	var got []string
	for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		if i := strings.LastIndexByte(l, ' '); i > 0 && (strings.HasPrefix(l, "snmp_env,") || strings.HasPrefix(l, "snmp_radio,") || strings.HasPrefix(l, "snmp_ups,")) {
			got = append(got, l[:i])
		}
	}
	slices.Sort(got)
	want := []string{
		"snmp_env,device=ap-desa-a,sensor=cpu-temperature temperature_celsius=51",
		"snmp_env,device=ap-desa-a,sensor=fan1-speed fan_rpm=4380",
		"snmp_env,device=ap-desa-a,sensor=power-consumption power_watts=12.7",
		"snmp_env,device=ap-desa-a,sensor=sfp-sfpplus1 optical_tx_dbm=-1.85,optical_rx_dbm=-12.345",
		"snmp_env,device=ap-desa-a,sensor=sfp1 optical_tx_dbm=-2.4,optical_rx_dbm=-5.1",
		"snmp_env,device=ap-desa-a,sensor=temperature temperature_celsius=33",
		"snmp_env,device=ap-desa-a,sensor=voltage voltage_volts=24.3",
		"snmp_radio,device=ap-desa-a,ifname=wlan1 tx_rate_bits_per_second=1.3e+08,rx_rate_bits_per_second=1.17e+08,clients=3,frequency_hertz=5.18e+09,noise_dbm=-105,ccq_ratio=0.87",
		"snmp_radio,device=ap-desa-a,ifname=wlan1,peer=4c:5e:0c:ab:cd:01 signal_dbm=-62,tx_rate_bits_per_second=1.3e+08,rx_rate_bits_per_second=1.04e+08,snr_db=43",
		"snmp_radio,device=ap-desa-a,ifname=wlan1,peer=b8:69:f4:0a:0b:0c signal_dbm=-79,tx_rate_bits_per_second=3.9e+07,rx_rate_bits_per_second=2.6e+07,snr_db=26",
		"snmp_radio,device=ap-desa-a,ifname=wlan1,peer=e4:8d:8c:12:00:ff signal_dbm=-71,tx_rate_bits_per_second=8.67e+07,rx_rate_bits_per_second=6.5e+07",
		"snmp_ups,device=ups-desa-b on_battery=1i,battery_charge_ratio=0.87,battery_runtime_seconds=2520,input_voltage_volts=0,load_ratio=0.41",
	}
	if !slices.Equal(got, want) {
		t.Errorf("probe --once profile lines:\n%s\nwant:\n%s\nfull output:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"), &out)
	}
}
