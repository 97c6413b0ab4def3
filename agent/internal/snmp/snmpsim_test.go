package snmp

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/agent/internal/point"
	"github.com/pantau-noc/pantau/internal/lab"
)

// switchRecording generates an snmprec walk of a switch with n ports
// (ifTable and ifXTable complete, records in OID order).
func switchRecording(n int, uptime uint64) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "1.3.6.1.2.1.1.1.0|4|synthetic %d-port switch\n", n)
	fmt.Fprintf(&b, "1.3.6.1.2.1.1.3.0|67|%d\n", uptime)
	fmt.Fprintf(&b, "1.3.6.1.2.1.1.5.0|4|sw%d\n", n)
	fmt.Fprintf(&b, "1.3.6.1.2.1.2.1.0|2|%d\n", n)
	ifTable := []struct {
		tag string
		val func(i int) string
	}{
		1:  {"2", func(i int) string { return strconv.Itoa(i) }},
		2:  {"4", func(i int) string { return fmt.Sprintf("GigabitEthernet1/0/%d", i) }},
		3:  {"2", func(int) string { return "6" }},
		4:  {"2", func(int) string { return "1500" }},
		5:  {"66", func(int) string { return "1000000000" }},
		6:  {"4x", func(i int) string { return fmt.Sprintf("0000000000%02x", i%256) }},
		7:  {"2", func(int) string { return "1" }},
		8:  {"2", func(i int) string { return strconv.Itoa(1 + i%2) }},
		9:  {"67", func(int) string { return "100" }},
		10: {"65", func(i int) string { return strconv.Itoa(i * 1000) }},
		11: {"65", func(i int) string { return strconv.Itoa(i * 10) }},
		12: {"65", func(i int) string { return strconv.Itoa(i) }},
		13: {"65", func(i int) string { return strconv.Itoa(i * 3) }},
		14: {"65", func(i int) string { return strconv.Itoa(i * 2) }},
		15: {"65", func(int) string { return "0" }},
		16: {"65", func(i int) string { return strconv.Itoa(i * 2000) }},
		17: {"65", func(i int) string { return strconv.Itoa(i * 20) }},
		18: {"65", func(i int) string { return strconv.Itoa(i * 2) }},
		19: {"65", func(i int) string { return strconv.Itoa(i * 5) }},
		20: {"65", func(i int) string { return strconv.Itoa(i * 4) }},
		21: {"66", func(int) string { return "0" }},
		22: {"6", func(int) string { return "0.0" }},
	}
	for col := 1; col < len(ifTable); col++ {
		for i := 1; i <= n; i++ {
			fmt.Fprintf(&b, "1.3.6.1.2.1.2.2.1.%d.%d|%s|%s\n", col, i, ifTable[col].tag, ifTable[col].val(i))
		}
	}
	hc := func(mult uint64) func(i int) string {
		return func(i int) string { return strconv.FormatUint(1<<40+uint64(i)*mult, 10) }
	}
	ifX := []struct {
		tag string
		val func(i int) string
	}{
		1:  {"4", func(i int) string { return fmt.Sprintf("Gi1/0/%d", i) }},
		2:  {"65", func(i int) string { return strconv.Itoa(i) }},
		3:  {"65", func(i int) string { return strconv.Itoa(i) }},
		4:  {"65", func(i int) string { return strconv.Itoa(i) }},
		5:  {"65", func(i int) string { return strconv.Itoa(i) }},
		6:  {"70", hc(1000)},
		7:  {"70", hc(10)},
		8:  {"70", hc(1)},
		9:  {"70", hc(1)},
		10: {"70", hc(2000)},
		11: {"70", hc(20)},
		12: {"70", hc(1)},
		13: {"70", hc(1)},
		14: {"2", func(int) string { return "1" }},
		15: {"66", func(int) string { return "1000" }},
		16: {"2", func(int) string { return "2" }},
		17: {"2", func(int) string { return "1" }},
		18: {"4", func(i int) string { return fmt.Sprintf("port %d", i) }},
		19: {"67", func(int) string { return "0" }},
	}
	for col := 1; col < len(ifX); col++ {
		for i := 1; i <= n; i++ {
			fmt.Fprintf(&b, "1.3.6.1.2.1.31.1.1.1.%d.%d|%s|%s\n", col, i, ifX[col].tag, ifX[col].val(i))
		}
	}
	return b.Bytes()
}

// recordedIndexes returns the ifDescr indexes of a recording.
func recordedColumn(t *testing.T, path, col string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	sc := bufio.NewScanner(zr)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		parts := strings.SplitN(sc.Text(), "|", 3)
		if len(parts) == 3 && strings.HasPrefix(parts[0], col+".") {
			out[strings.TrimPrefix(parts[0], col+".")] = parts[2]
		}
	}
	return out
}

func ifByIndex(pts []*point.Point) map[string]*point.Point {
	out := map[string]*point.Point{}
	for _, p := range pts {
		if p.Measurement == "snmp_if" {
			out[p.TagValue("ifindex")] = p
		}
	}
	return out
}

// TestSnmpsimDevices polls recorded real devices and a synthetic 200-port
// switch served by snmpsimd.
func TestSnmpsimDevices(t *testing.T) {
	t.Parallel() // its own snmpd or lab on its own port
	dir := lab.SnmpsimDataDir(t)
	lab.CopyRecording(t, dir, "cisco_16_switch.snmprec.gz", "cisco")
	lab.CopyRecording(t, dir, "recorded/winxp-full-walk.snmprec.gz", "winxp")
	lab.WriteRecording(t, dir, "sw200", switchRecording(200, 123456))
	sim := lab.StartSnmpsim(t, dir)

	t.Run("cisco-3750", func(t *testing.T) {
		p := newTestPoller(t, Target{Name: "cisco", Address: sim.Addr, Version: "2c", Community: "cisco", Timeout: 10 * time.Second}, nil)
		pts := mustPoll(t, p)
		dev := devicePoint(t, pts)
		if dev.TagValue("sysname") != "Profiler3750" || field(t, dev, "uptime_seconds") != 6972022.57 {
			t.Fatalf("device point %v %v", dev.Tags, dev.Fields)
		}
		want := recordedColumn(t, filepath.Join(lab.SnmpsimExamples, "cisco_16_switch.snmprec.gz"), "1.3.6.1.2.1.2.2.1.2")
		hcIn := recordedColumn(t, filepath.Join(lab.SnmpsimExamples, "cisco_16_switch.snmprec.gz"), "1.3.6.1.2.1.31.1.1.1.6")
		in32 := recordedColumn(t, filepath.Join(lab.SnmpsimExamples, "cisco_16_switch.snmprec.gz"), "1.3.6.1.2.1.2.2.1.10")
		got := ifByIndex(pts)
		if len(got) != len(want) || len(want) < 50 {
			t.Fatalf("got %d interfaces, recording has %d", len(got), len(want))
		}
		for idx := range want {
			pt := got[idx]
			if pt == nil {
				t.Fatalf("interface %s missing", idx)
			}
			exp := hcIn[idx]
			if exp == "" {
				exp = in32[idx] // the few rows without ifHCInOctets fall back to 32 bits
			}
			if exp == "" {
				if _, ok := pt.FieldValue("receive_bytes_total"); ok {
					t.Fatalf("if %s has receive_bytes_total but the recording has no octet counter", idx)
				}
				continue
			}
			if rx := uintField(t, pt, "receive_bytes_total"); strconv.FormatUint(rx, 10) != exp {
				t.Fatalf("if %s receive_bytes_total %d, recording %q", idx, rx, exp)
			}
		}
		if !p.hcOctets || !p.octets32 {
			t.Fatalf("mixed HC/32-bit device: hc=%v 32=%v", p.hcOctets, p.octets32)
		}
		// SNMPv1 (GETNEXT walks, noSuchName handling, no Counter64).
		p1 := newTestPoller(t, Target{Name: "cisco-v1", Address: sim.Addr, Version: "1", Community: "cisco", Timeout: 10 * time.Second}, nil)
		got1 := ifByIndex(mustPoll(t, p1))
		if len(got1) != len(want) {
			t.Fatalf("v1: %d interfaces, want %d", len(got1), len(want))
		}
		if rx, exp := uintField(t, got1["1"], "receive_bytes_total"), in32["1"]; strconv.FormatUint(rx, 10) != exp {
			t.Fatalf("v1 if 1 rx %d want %s", rx, exp)
		}
	})

	t.Run("winxp-32bit", func(t *testing.T) {
		for _, v := range []string{"1", "2c"} {
			p := newTestPoller(t, Target{Name: "winxp", Address: sim.Addr, Version: v, Community: "winxp", Timeout: 10 * time.Second}, nil)
			pts := mustPoll(t, p)
			got := ifByIndex(pts)
			in32 := recordedColumn(t, filepath.Join(lab.SnmpsimExamples, "recorded/winxp-full-walk.snmprec.gz"), "1.3.6.1.2.1.2.2.1.10")
			if len(got) != 3 || len(in32) != 3 {
				t.Fatalf("v%s: %d interfaces", v, len(got))
			}
			for idx, exp := range in32 {
				if rx := uintField(t, got[idx], "receive_bytes_total"); strconv.FormatUint(rx, 10) != exp {
					t.Fatalf("v%s if %s: %d != %s", v, idx, rx, exp)
				}
				if got[idx].TagValue("ifname") == "" {
					t.Fatalf("no ifname (ifDescr fallback) for %s", idx)
				}
			}
			if sp := uintField(t, got["65539"], "speed_bits_per_second"); sp != 54000000 {
				t.Fatalf("speed %d", sp)
			}
			dev := devicePoint(t, pts)
			if c, ok := dev.FieldValue("cpu_load_ratio"); !ok || c != 0 {
				t.Fatalf("cpu_load_ratio %v %v", c, ok)
			}
			if m, ok := dev.FieldValue("memory_used_ratio"); !ok || m <= 0 || m > 1 {
				t.Fatalf("memory_used_ratio %v %v", m, ok)
			}
			if p.hcOctets {
				t.Fatal("winxp has no HC counters")
			}
		}
	})

	t.Run("200-ports", func(t *testing.T) {
		const timeout = 10 * time.Second
		// Reference: snmpbulkwalk of ifTable and ifXTable with the same max-repetitions.
		start := time.Now()
		for _, table := range []string{"1.3.6.1.2.1.2.2", "1.3.6.1.2.1.31.1.1"} {
			cmd := exec.Command("snmpbulkwalk", "-v2c", "-c", "sw200", "-Cr25", "-On", "-m", "", "-t", "5", "udp:"+sim.Addr, table)
			cmd.Env = append(os.Environ(), "MIBS=", "SNMP_PERSISTENT_DIR="+t.TempDir())
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("snmpbulkwalk: %v: %s", err, out)
			}
		}
		tool := time.Since(start)

		p := newTestPoller(t, Target{Name: "sw200", Address: sim.Addr, Version: "2c", Community: "sw200", Timeout: timeout}, nil)
		start = time.Now()
		pts := mustPoll(t, p)
		first := time.Since(start)
		firstReqs := p.requests
		got := ifByIndex(pts)
		if len(got) != 200 {
			t.Fatalf("%d interfaces", len(got))
		}
		checkInterfacePoint(t, got["150"], "sw200", false)
		if rx := uintField(t, got["150"], "receive_bytes_total"); rx != 1<<40+150*1000 {
			t.Fatalf("rx %d", rx)
		}
		if pk := uintField(t, got["150"], "receive_packets_total"); pk != 3*(1<<40)+150*12 {
			t.Fatalf("packets %d", pk)
		}
		if sp := uintField(t, got["150"], "speed_bits_per_second"); sp != 1e9 {
			t.Fatalf("speed %d", sp)
		}
		if got["150"].TagValue("ifname") != "Gi1/0/150" || got["150"].TagValue("ifalias") != "port 150" {
			t.Fatalf("tags %v", got["150"].Tags)
		}
		start = time.Now()
		pts = mustPoll(t, p)
		second := time.Since(start)
		secondReqs := p.requests - firstReqs
		checkInterfacePoint(t, ifByIndex(pts)["7"], "sw200", true)
		t.Logf("snmpbulkwalk ifTable+ifXTable: %v; poll 1: %v (%d requests); poll 2: %v (%d requests)", tool, first, firstReqs, second, secondReqs)
		if first > timeout || second > timeout {
			t.Fatal("poll exceeded its timeout")
		}
		if first > 2*tool+time.Second {
			t.Fatalf("first poll %v much slower than snmpbulkwalk %v", first, tool)
		}
		// 15 counter/status columns read in lockstep. The poller asks for 6
		// rows of each (bulkRows(25, 15)); snmpsim answers at most 60
		// varbinds, 4 rows, so it takes ceil(201/4) = 51 requests, plus the
		// system GET. Walked one column at a time they took 15*9+1 = 136.
		if secondReqs > 51+1 || secondReqs >= firstReqs {
			t.Fatalf("second poll used %d requests (first %d)", secondReqs, firstReqs)
		}

		// A few selected ports are read with GETs, not whole-table walks.
		p2 := newTestPoller(t, Target{Name: "sw200-sel", Address: sim.Addr, Version: "2c", Community: "sw200", Timeout: timeout,
			Interfaces: []string{"Gi1/0/1", "port 150", "7", "GigabitEthernet1/0/19[0-9]"}}, nil)
		mustPoll(t, p2)
		before := p2.requests
		pts = mustPoll(t, p2)
		got = ifByIndex(pts)
		if len(got) != 13 || got["1"] == nil || got["150"] == nil || got["7"] == nil || got["195"] == nil {
			t.Fatalf("selected %d interfaces", len(got))
		}
		checkInterfacePoint(t, got["195"], "sw200-sel", true)
		if n := p2.requests - before; n > 6 {
			t.Fatalf("selected-interface poll used %d requests", n)
		}
	})
}

// TestSlowDeviceDoesNotDelayOthers polls a snmpsim device whose answers
// are delayed beyond its timeout, concurrently with a healthy snmpd.
//
// Not parallel: it times polls, so it runs before the parallel tests.
func TestSlowDeviceDoesNotDelayOthers(t *testing.T) {
	dir := lab.SnmpsimDataDir(t)
	lab.WriteRecording(t, dir, "slow", lab.DelayRecording(switchRecording(4, 100), 2*time.Second))
	sim := lab.StartSnmpsim(t, dir)
	d := lab.StartSnmpd(t, lab.SnmpdOptions{})

	const slowTimeout, healthyTimeout = time.Second, 3 * time.Second
	logger, logs := testLogger(t)
	slow := newTestPoller(t, Target{Name: "slow-sim", Address: sim.Addr, Version: "2c", Community: "slow", Timeout: slowTimeout}, logger)
	healthy := newTestPoller(t, Target{Name: "healthy", Address: d.Addr, Version: "2c", Community: d.Community, Timeout: healthyTimeout}, logger)

	var wg sync.WaitGroup
	var slowErrs []error
	var slowPts [][]*point.Point
	var slowDur []time.Duration
	done := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(done)
		for range 3 {
			start := time.Now()
			pts, err := slow.Poll(context.Background())
			slowDur = append(slowDur, time.Since(start))
			slowErrs = append(slowErrs, err)
			slowPts = append(slowPts, pts)
		}
	}()
	var healthyDur []time.Duration
	for i := 0; ; i++ {
		start := time.Now()
		pts := mustPoll(t, healthy)
		healthyDur = append(healthyDur, time.Since(start))
		lo := ifPoints(pts)["lo"]
		if lo == nil {
			t.Fatal("healthy device lost lo")
		}
		checkInterfacePoint(t, lo, "healthy", i > 0)
		select {
		case <-done:
		case <-time.After(200 * time.Millisecond):
			continue
		}
		break
	}
	wg.Wait()
	t.Logf("healthy poll durations %v; slow %v", healthyDur, slowDur)
	if len(healthyDur) < 5 {
		t.Fatalf("only %d healthy polls during the slow ones", len(healthyDur))
	}
	for _, el := range healthyDur {
		if el > healthyTimeout/4 {
			t.Fatalf("healthy poll took %v (timeout %v)", el, healthyTimeout)
		}
	}
	for i, err := range slowErrs {
		if err == nil || !strings.Contains(err.Error(), "slow-sim") {
			t.Fatalf("slow poll %d error %v", i, err)
		}
		if slowDur[i] > slowTimeout+300*time.Millisecond {
			t.Fatalf("slow poll %d took %v (timeout %v)", i, slowDur[i], slowTimeout)
		}
		dev := devicePoint(t, slowPts[i])
		if field(t, dev, "up") != 0 || dev.TagValue("device") != "slow-sim" {
			t.Fatalf("slow device point %v %v", dev.Tags, dev.Fields)
		}
	}
	if !strings.Contains(logs.String(), "device=slow-sim") {
		t.Fatalf("no log line names the slow device:\n%s", logs.String())
	}
}
