package agent

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/internal/lab"
	"github.com/pantau-noc/pantau/internal/spool"

	"github.com/pantau-noc/pantau/internal/testbuild"
)

const (
	peerTargets  = 1000
	peerWarmup   = 5 * time.Second
	peerMeasured = 30 * time.Second
)

func peerAddr(i int) string { return fmt.Sprintf("127.1.%d.%d", i/250, 1+i%250) }

// procStat returns the CPU time (user+system) of pid.
func procCPU(b *testing.B, pid int) time.Duration {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	f := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+2:]))
	u, _ := strconv.ParseInt(f[11], 10, 64)
	s, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+s) * 10 * time.Millisecond // USER_HZ 100
}

func procHWM(b *testing.B, pid int) float64 {
	raw, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, line := range strings.Split(string(raw), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			kb, _ := strconv.ParseFloat(strings.Fields(line)[1], 64)
			return kb / 1024
		}
	}
	return 0
}

// measure runs for warm-up plus the measured window and reports the CPU
// share of one core and peak RSS of pid.
func measure(b *testing.B, pid int) {
	time.Sleep(peerWarmup)
	c0 := procCPU(b, pid)
	time.Sleep(peerMeasured)
	c1 := procCPU(b, pid)
	b.ReportMetric(100*(c1-c0).Seconds()/peerMeasured.Seconds(), "cpu_%")
	b.ReportMetric(procHWM(b, pid), "rss_MiB")
}

// BenchmarkICMPPeers probes the same 1,000 loopback targets once a second
// with the agent's shared engine, with one pro-bing Pinger per target, and
// with Debian's prometheus-blackbox-exporter (driven by one /probe request
// per target per second from this process), one after the other in the
// same run. It reports each prober's CPU share of one core, peak RSS,
// loss and mean RTT. Run with -benchtime 1x; needs root (raw ICMP) and
// make deps-bench.
func BenchmarkICMPPeers(b *testing.B) {
	bin := testbuild.Agent(b)
	for _, engine := range []string{"shared", "pinger"} {
		b.Run("agent-"+engine, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				dir := b.TempDir()
				var cfg strings.Builder
				fmt.Fprintf(&cfg, "agent: {state_dir: %s, listen_address: \"\", icmp_engine: %s, icmp_mode: raw}\n", dir, engine)
				cfg.WriteString("defaults: {interval: 1s, timeout: 900ms}\nqueue: {batch_linger: 1s}\nicmp:\n")
				for t := 0; t < peerTargets; t++ {
					fmt.Fprintf(&cfg, "  - {target: %s, packets: 1}\n", peerAddr(t))
				}
				path := filepath.Join(dir, "agent.yml")
				os.WriteFile(path, []byte(cfg.String()), 0o600)
				cmd := exec.Command(bin, "run", "--config", path, "--log.level", "error")
				if err := cmd.Start(); err != nil {
					b.Fatal(err)
				}
				measure(b, cmd.Process.Pid)
				cmd.Process.Signal(os.Interrupt)
				cmd.Wait()
				sent, recv, rtt := queuedICMP(b, filepath.Join(dir, "queue"))
				b.ReportMetric(1-recv/sent, "loss")
				b.ReportMetric(rtt*1e6, "rtt_us")
			}
		})
	}
	b.Run("blackbox-exporter", func(b *testing.B) {
		exe, err := exec.LookPath("prometheus-blackbox-exporter")
		if err != nil {
			b.Fatal("prometheus-blackbox-exporter not found: run `make deps-bench`")
		}
		for i := 0; i < b.N; i++ {
			dir := b.TempDir()
			conf := filepath.Join(dir, "blackbox.yml")
			os.WriteFile(conf, []byte("modules:\n  icmp:\n    prober: icmp\n    timeout: 900ms\n    icmp:\n      preferred_ip_protocol: ip4\n"), 0o600)
			addr := fmt.Sprintf("127.0.0.1:%d", freeTCPPort(b))
			cmd := exec.Command(exe, "--config.file", conf, "--web.listen-address", addr, "--log.level", "error")
			if err := cmd.Start(); err != nil {
				b.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), peerWarmup+peerMeasured)
			var probes, ok atomic.Int64
			var rttNs atomic.Int64
			var wg sync.WaitGroup
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: peerTargets}, Timeout: 2 * time.Second}
			time.Sleep(time.Second) // listening
			start := time.Now()
			for t := 0; t < peerTargets; t++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					url := "http://" + addr + "/probe?module=icmp&target=" + peerAddr(t)
					for r := 0; ; r++ {
						at := start.Add(time.Duration(r)*time.Second + time.Duration(t)*time.Second/peerTargets)
						select {
						case <-ctx.Done():
							return
						case <-time.After(time.Until(at)):
						}
						resp, err := client.Get(url)
						if err != nil {
							continue
						}
						success, rtt := parseBlackbox(resp.Body)
						resp.Body.Close()
						probes.Add(1)
						if success {
							ok.Add(1)
							rttNs.Add(int64(rtt * 1e9))
						}
					}
				}()
			}
			measure(b, cmd.Process.Pid)
			cancel()
			wg.Wait()
			cmd.Process.Kill()
			cmd.Wait()
			b.ReportMetric(1-float64(ok.Load())/float64(probes.Load()), "loss")
			if ok.Load() > 0 {
				b.ReportMetric(float64(rttNs.Load())/float64(ok.Load())/1e3, "rtt_us")
			}
		}
	})
}

// parseBlackbox reads probe_success and the rtt phase from a /probe page.
func parseBlackbox(r io.Reader) (bool, float64) {
	sc := bufio.NewScanner(r)
	var success bool
	var rtt float64
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "probe_success "):
			success = strings.TrimPrefix(line, "probe_success ") == "1"
		case strings.HasPrefix(line, `probe_icmp_duration_seconds{phase="rtt"} `):
			rtt, _ = strconv.ParseFloat(strings.TrimPrefix(line, `probe_icmp_duration_seconds{phase="rtt"} `), 64)
		}
	}
	return success, rtt
}

// queuedICMP sums packets and RTTs of the icmp points left in a queue.
func queuedICMP(b *testing.B, dir string) (sent, recv, meanRTT float64) {
	sp, err := spool.Open(spool.Options{Dir: dir})
	if err != nil {
		b.Fatal(err)
	}
	defer sp.Close()
	cur, _ := sp.Cursor("bench")
	recs, _ := cur.Next(context.Background(), 1<<20)
	var rttSum, rttN float64
	for _, r := range recs {
		gz, _ := r.Body()
		lp, _ := gunzip(gz)
		for _, line := range strings.Split(string(lp), "\n") {
			if !strings.HasPrefix(line, "icmp,") {
				continue
			}
			fields := strings.Split(line, " ")[1]
			for _, kv := range strings.Split(fields, ",") {
				k, v, _ := strings.Cut(kv, "=")
				f, _ := strconv.ParseFloat(strings.TrimRight(v, "iu"), 64)
				switch k {
				case "packets_sent":
					sent += f
				case "packets_received":
					recv += f
				case "rtt_avg_seconds":
					rttSum += f
					rttN++
				}
			}
		}
	}
	if rttN > 0 {
		meanRTT = rttSum / rttN
	}
	return sent, recv, meanRTT
}

// BenchmarkAgentFullLoad is the sizing: 1,000 ICMP targets at 1 s
// rounds plus 200 SNMP devices at 60 s, for two SNMP rounds. The agent runs
// in a lab namespace; its ICMP targets are 1,000 addresses of that
// namespace's loopback, and its SNMP devices are 200 targets (each with its
// own name, session and rate state) on net-snmp's snmpd in a second
// namespace across a veth link, with 60 interfaces (29 veth pairs, the
// link and lo). snmpd answers in C at wire speed, so the agent's figures
// are not inflated by retries of a simulator that falls behind (snmpsim
// cannot answer 200 devices a minute; its recorded devices are covered by
// the SNMP tests). Sub-benchmarks run raw and unprivileged ICMP sockets. It
// reports the agent's CPU share of one core, peak RSS, snmp_if points and
// ICMP loss. Run with -benchtime 1x; needs root.
func BenchmarkAgentFullLoad(b *testing.B) {
	bin := testbuild.Agent(b)
	for _, mode := range []string{"raw", "unprivileged"} {
		b.Run(mode, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				fullLoadRun(b, bin, mode, 0)
			}
		})
	}
}

// BenchmarkAgentFullLoadRadios is the same sizing with 50 of the 200 SNMP
// devices answering as MikroTik radios (issue 23): snmpsimd serves the
// MikroTik vendor profile recording (RouterOS 7: health gauges, a
// wireless AP interface, a registration table of three stations, two
// SFPs) under 50 communities, and the agent reads them through its
// profile, chosen by sysObjectID, besides IF-MIB. The other 150 devices
// are snmpd's, as above. It reports the same figures plus the snmp_radio
// points queued (4 a radio a round).
func BenchmarkAgentFullLoadRadios(b *testing.B) {
	bin := testbuild.Agent(b)
	for i := 0; i < b.N; i++ {
		fullLoadRun(b, bin, "raw", 50)
	}
}

func fullLoadRun(b *testing.B, bin, mode string, radios int) {
	l := lab.New(b)
	agentNS, sw := l.Namespace("agent"), l.Namespace("sw")
	l.Link(agentNS, "10.250.9.1/30", sw, "10.250.9.2/30")
	for p := 0; p < 29; p++ {
		l.Exec(sw, "ip", "link", "add", fmt.Sprintf("port%da", p), "type", "veth", "peer", "name", fmt.Sprintf("port%db", p))
		l.Exec(sw, "ip", "link", "set", fmt.Sprintf("port%da", p), "up")
		l.Exec(sw, "ip", "link", "set", fmt.Sprintf("port%db", p), "up")
	}
	sd := lab.StartSnmpd(b, lab.SnmpdOptions{Netns: sw, Listen: "10.250.9.2:1161"})
	var simAddr string
	if radios > 0 {
		rec, err := os.ReadFile(filepath.Join("internal", "snmp", "testdata", "profiles", "mikrotik-v7.snmprec"))
		if err != nil {
			b.Fatal(err)
		}
		data := lab.SnmpsimDataDir(b)
		for r := 0; r < radios; r++ {
			lab.WriteRecording(b, data, fmt.Sprintf("radio%03d", r), rec)
		}
		simAddr = "10.250.9.2:1162"
		lab.StartSnmpsimWith(b, lab.SnmpsimOptions{DataDir: data, Netns: sw, Addr: simAddr})
	}
	dir := b.TempDir()
	var cfg strings.Builder
	// PANTAU_BENCH_PROFILE=<dir> also writes the agent's CPU and
	// allocation profiles of the measured window there.
	profDir := os.Getenv("PANTAU_BENCH_PROFILE")
	listen := ""
	if profDir != "" {
		listen = "127.0.0.1:9899"
	}
	fmt.Fprintf(&cfg, "agent: {state_dir: %s, listen_address: %q, icmp_mode: %s}\n", dir, listen, mode)
	cfg.WriteString("defaults: {interval: 1s, timeout: 900ms}\nicmp:\n")
	for t := 0; t < peerTargets; t++ {
		fmt.Fprintf(&cfg, "  - {target: %s, packets: 1}\n", peerAddr(t))
	}
	cfg.WriteString("snmp:\n")
	for d := 0; d < 200-radios; d++ {
		fmt.Fprintf(&cfg, "  - {target: %q, name: dev%03d, community: %s, interval: 60s, timeout: 20s}\n", sd.Addr, d, sd.Community)
	}
	for r := 0; r < radios; r++ {
		fmt.Fprintf(&cfg, "  - {target: %q, name: radio%03d, community: radio%03d, interval: 60s, timeout: 20s}\n", simAddr, r, r)
	}
	path := filepath.Join(dir, "agent.yml")
	os.WriteFile(path, []byte(cfg.String()), 0o600)
	args := []string{"run", "--config", path, "--log.level", "error"}
	if profDir != "" {
		args = append(args, "--debug.pprof")
	}
	cmd, out := l.Start(agentNS, append([]string{bin}, args...)...)
	time.Sleep(10 * time.Second)
	c0 := procCPU(b, cmd.Process.Pid)
	const window = 120 * time.Second
	if profDir != "" {
		// The agent listens inside its namespace: fetch with curl there.
		go l.Exec(agentNS, "curl", "-s", "-o", filepath.Join(profDir, mode+"-cpu.pprof"), fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", listen, int(window.Seconds())-10))
		l.Exec(agentNS, "curl", "-s", "-o", filepath.Join(profDir, mode+"-allocs-0.pprof"), "http://"+listen+"/debug/pprof/allocs")
	}
	time.Sleep(window)
	c1 := procCPU(b, cmd.Process.Pid)
	if profDir != "" {
		l.Exec(agentNS, "curl", "-s", "-o", filepath.Join(profDir, mode+"-allocs-1.pprof"), "http://"+listen+"/debug/pprof/allocs")
	}
	b.ReportMetric(100*(c1-c0).Seconds()/window.Seconds(), "cpu_%")
	b.ReportMetric(procHWM(b, cmd.Process.Pid), "rss_MiB")
	cmd.Process.Signal(os.Interrupt)
	cmd.Wait()
	if profDir != "" {
		os.WriteFile(filepath.Join(profDir, mode+"-agent.log"), []byte(out.String()), 0o644)
	}
	if strings.Contains(out.String(), "level=ERROR") {
		b.Errorf("agent logged errors:\n%s", out.String())
	}
	ifPoints, radioPoints := 0, 0
	sp, err := spool.Open(spool.Options{Dir: filepath.Join(dir, "queue")})
	if err != nil {
		b.Fatal(err)
	}
	cur, _ := sp.Cursor("bench")
	recs, _ := cur.Next(context.Background(), 1<<20)
	for _, r := range recs {
		gz, _ := r.Body()
		lp, _ := gunzip(gz)
		ifPoints += strings.Count(string(lp), "snmp_if,")
		radioPoints += strings.Count(string(lp), "snmp_radio,")
	}
	sp.Close()
	b.ReportMetric(float64(ifPoints), "snmp_if_points")
	if radios > 0 {
		b.ReportMetric(float64(radioPoints), "snmp_radio_points")
	}
	sent, recv, _ := queuedICMP(b, filepath.Join(dir, "queue"))
	b.ReportMetric(1-recv/sent, "icmp_loss")
}
