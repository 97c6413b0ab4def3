package lab

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// SnmpsimExamples is where Debian's snmpsim package keeps its example
// recordings (cisco_16_switch.snmprec.gz, recorded/*.snmprec.gz, ...).
const SnmpsimExamples = "/usr/share/doc/snmpsim/examples/data"

// Snmpsim is a running snmpsimd. Each NAME.snmprec file in DataDir is a
// device reachable with community NAME at Addr.
type Snmpsim struct {
	Addr    string
	DataDir string

	cmd  *exec.Cmd
	done chan struct{}
	out  *lockedBuffer
}

// readyCommunity is a tiny recording StartSnmpsim adds to probe readiness.
const readyCommunity = "pantau-ready"

// SnmpsimDataDir returns a new empty directory that snmpsimd (which runs
// as nobody) can read; it is removed when the test ends.
func SnmpsimDataDir(t testing.TB) string {
	t.Helper()
	SkipShort(t, "snmpsim")
	dir, err := os.MkdirTemp("", "pantau-snmpsim-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// readRecording returns the lines of a .snmprec or .snmprec.gz file.
func readRecording(src string) ([]byte, error) {
	f, err := os.Open(src)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(src, ".gz") {
		zr, err := gzip.NewReader(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", src, err)
		}
		defer zr.Close()
		r = zr
	}
	return io.ReadAll(r)
}

// CopyRecording copies the recording src (.snmprec, optionally gzipped;
// a relative path is taken below SnmpsimExamples) into dataDir as
// community.snmprec, so snmpsimd serves it under that community.
func CopyRecording(t testing.TB, dataDir, src, community string) {
	t.Helper()
	if !filepath.IsAbs(src) {
		src = filepath.Join(SnmpsimExamples, src)
	}
	data, err := readRecording(src)
	if err != nil {
		t.Fatalf("lab: read recording: %v (run make deps: Debian package snmpsim)", err)
	}
	WriteRecording(t, dataDir, community, data)
}

// WriteRecording writes data (snmprec lines "oid|tag|value") as
// dataDir/community.snmprec.
func WriteRecording(t testing.TB, dataDir, community string, data []byte) {
	t.Helper()
	p := filepath.Join(dataDir, community+".snmprec")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// WriteDelayRecording writes the recording src as dataDir/community.snmprec
// with every record rewritten to use the snmpsim "delay" variation module,
// so each answered variable takes wait to come back.
func WriteDelayRecording(t testing.TB, dataDir, src, community string, wait time.Duration) {
	t.Helper()
	if !filepath.IsAbs(src) {
		src = filepath.Join(SnmpsimExamples, src)
	}
	data, err := readRecording(src)
	if err != nil {
		t.Fatalf("lab: read recording: %v", err)
	}
	WriteRecording(t, dataDir, community, DelayRecording(data, wait))
}

// DelayRecording rewrites snmprec lines "oid|tag|value" into
// "oid|tag:delay|value=...,wait=MS" (hexvalue= for strings so that commas
// in values cannot confuse the module's option parser).
func DelayRecording(data []byte, wait time.Duration) []byte {
	var out bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 4<<20)
	ms := wait.Milliseconds()
	for sc.Scan() {
		line := sc.Text()
		parts := strings.SplitN(line, "|", 3)
		if len(parts) != 3 || strings.Contains(parts[1], ":") {
			continue
		}
		oid, tag, val := parts[0], parts[1], parts[2]
		var opt string
		switch {
		case strings.HasSuffix(tag, "x"):
			tag = strings.TrimSuffix(tag, "x")
			opt = "hexvalue=" + val
		case tag == "4":
			if val == "" {
				opt = "value="
			} else {
				opt = "hexvalue=" + hex.EncodeToString([]byte(val))
			}
		default:
			if strings.ContainsAny(val, ",=") {
				continue
			}
			opt = "value=" + val
		}
		fmt.Fprintf(&out, "%s|%s:delay|%s,wait=%d\n", oid, tag, opt, ms)
	}
	return out.Bytes()
}

// StartSnmpsim runs snmpsimd serving every .snmprec file in dataDir (see
// SnmpsimDataDir and CopyRecording) on a free 127.0.0.1 UDP port and waits
// until it answers. snmpsimd refuses to run as root, so it runs as
// nobody/nogroup.
func StartSnmpsim(t testing.TB, dataDir string) *Snmpsim {
	t.Helper()
	return StartSnmpsimWith(t, SnmpsimOptions{DataDir: dataDir})
}

// SnmpsimOptions says where StartSnmpsimWith runs snmpsimd.
type SnmpsimOptions struct {
	DataDir string // the recordings (see SnmpsimDataDir)
	// Netns runs snmpsimd inside this lab namespace (its own loopback);
	// empty is the test's namespace.
	Netns string
	// Addr is the UDP address to serve (host:port); empty picks a free
	// 127.0.0.1 port. A fixed address lets a test stop snmpsimd and start
	// it again with other recordings where its agent already polls.
	Addr string
}

// StartSnmpsimWith is StartSnmpsim with a namespace and address.
func StartSnmpsimWith(t testing.TB, o SnmpsimOptions) *Snmpsim {
	t.Helper()
	SkipShort(t, "snmpsim")
	dataDir := o.DataDir
	bin, err := exec.LookPath("snmpsimd")
	if err != nil {
		t.Fatalf("lab: snmpsimd not found: run make deps (Debian package snmpsim)")
	}
	WriteRecording(t, dataDir, readyCommunity, []byte("1.3.6.1.2.1.1.1.0|4|pantau lab ready\n1.3.6.1.2.1.1.3.0|67|1\n"))
	_ = os.Chmod(dataDir, 0o755)
	entries, _ := os.ReadDir(dataDir)
	for _, e := range entries {
		_ = os.Chmod(filepath.Join(dataDir, e.Name()), 0o644)
	}
	cacheDir, err := os.MkdirTemp("", "pantau-snmpsim-cache-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(cacheDir) })
	if err := os.Chmod(cacheDir, 0o777); err != nil {
		t.Fatal(err)
	}
	addr := o.Addr
	if addr == "" {
		addr = fmt.Sprintf("127.0.0.1:%d", FreeUDPPort(t, "127.0.0.1"))
	}
	args := []string{
		"--data-dir=" + dataDir,
		"--cache-dir=" + cacheDir,
		"--agent-udpv4-endpoint=" + addr,
		"--logging-method=stderr",
	}
	if os.Geteuid() == 0 {
		args = append(args, "--process-user=nobody", "--process-group=nogroup")
	}
	inNS := func(name string, args ...string) (string, []string) {
		if o.Netns == "" {
			return name, args
		}
		return "ip", append([]string{"netns", "exec", o.Netns, name}, args...)
	}
	name, args := inNS(bin, args...)
	cmd := exec.Command(name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("lab: start snmpsimd: %v", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	s := &Snmpsim{Addr: addr, DataDir: dataDir, cmd: cmd, done: done, out: out}
	t.Cleanup(s.Stop)

	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-done:
			t.Fatalf("lab: snmpsimd exited early: %s", out.String())
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		pname, pargs := inNS("snmpget", "-v2c", "-c", readyCommunity, "-On", "-Oqv", "-t", "0.5", "-r", "0", "udp:"+addr, "1.3.6.1.2.1.1.1.0")
		probe := exec.CommandContext(ctx, pname, pargs...)
		probe.Env = snmpEnv(cacheDir)
		res, err := probe.Output()
		cancel()
		if err == nil && strings.Contains(string(res), "ready") {
			return s
		}
		if time.Now().After(deadline) {
			s.Stop()
			t.Fatalf("lab: snmpsimd on %s did not answer within 30s; output:\n%s", addr, out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Output returns what snmpsimd logged so far.
func (s *Snmpsim) Output() string { return s.out.String() }

// Stop kills the snmpsimd process this helper started (its own process
// group) and waits for it. Safe to call more than once.
func (s *Snmpsim) Stop() {
	cmd := s.cmd
	s.cmd = nil
	stopProcess(cmd, s.done)
}
