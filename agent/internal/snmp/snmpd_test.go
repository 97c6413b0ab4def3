package snmp

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/agent/internal/point"
	"github.com/pantau-noc/pantau/internal/lab"
)

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func testLogger(t *testing.T) (*slog.Logger, *syncBuffer) {
	buf := &syncBuffer{}
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})), buf
}

func newTestPoller(t *testing.T, tgt Target, logger *slog.Logger) *Poller {
	t.Helper()
	p, err := NewPoller(tgt, logger)
	if err != nil {
		t.Fatalf("NewPoller: %v", err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

func devicePoint(t *testing.T, pts []*point.Point) *point.Point {
	t.Helper()
	for _, p := range pts {
		if p.Measurement == "snmp_device" {
			return p
		}
	}
	t.Fatalf("no snmp_device point in %d points", len(pts))
	return nil
}

func ifPoints(pts []*point.Point) map[string]*point.Point {
	out := map[string]*point.Point{}
	for _, p := range pts {
		if p.Measurement == "snmp_if" {
			out[p.TagValue("ifname")] = p
		}
	}
	return out
}

func field(t *testing.T, p *point.Point, key string) float64 {
	t.Helper()
	v, ok := p.FieldValue(key)
	if !ok {
		t.Fatalf("%s point %v has no field %s", p.Measurement, p.Tags, key)
	}
	return v
}

func uintField(t *testing.T, p *point.Point, key string) uint64 {
	t.Helper()
	for _, f := range p.Fields {
		if f.Key == key {
			if f.Kind != point.Uint {
				t.Fatalf("field %s kind %v, want uint", key, f.Kind)
			}
			return f.Uint()
		}
	}
	t.Fatalf("%s point %v has no field %s", p.Measurement, p.Tags, key)
	return 0
}

func mustPoll(t *testing.T, p *Poller) []*point.Point {
	t.Helper()
	pts, err := p.Poll(context.Background())
	if err != nil {
		t.Fatalf("Poll: %v", err)
	}
	if up := field(t, devicePoint(t, pts), "up"); up != 1 {
		t.Fatalf("up = %v", up)
	}
	return pts
}

// checkInterfacePoint checks the full snmp_if schema of a point.
func checkInterfacePoint(t *testing.T, p *point.Point, device string, wantRates bool) {
	t.Helper()
	if p.TagValue("device") != device || p.TagValue("ifindex") == "" || p.TagValue("ifname") == "" {
		t.Fatalf("tags %v", p.Tags)
	}
	for _, k := range []string{"receive_bytes_total", "transmit_bytes_total", "receive_packets_total", "transmit_packets_total",
		"receive_errors_total", "transmit_errors_total", "receive_discards_total", "transmit_discards_total", "speed_bits_per_second"} {
		uintField(t, p, k)
	}
	field(t, p, "oper_status")
	field(t, p, "admin_status")
	_, hasRx := p.FieldValue("receive_bits_per_second")
	_, hasTx := p.FieldValue("transmit_bits_per_second")
	if hasRx != wantRates || hasTx != wantRates {
		t.Fatalf("rates present rx=%v tx=%v, want %v", hasRx, hasTx, wantRates)
	}
}

// TestLoopbackMatchesSnmpget polls a real snmpd, compares lo's counter
// with snmpget and checks the rate against traffic we send on lo.
func TestLoopbackMatchesSnmpget(t *testing.T) {
	t.Parallel() // its own snmpd or lab on its own port
	d := lab.StartSnmpd(t, lab.SnmpdOptions{})
	logger, logs := testLogger(t)
	p := newTestPoller(t, Target{Name: "lab-snmpd", Address: d.Addr, Version: "2c", Community: d.Community,
		Timeout: 5 * time.Second, Tags: map[string]string{"site": "lab"}}, logger)

	pts := mustPoll(t, p)
	dev := devicePoint(t, pts)
	if dev.TagValue("sysname") != "pantau-lab-snmpd" || dev.TagValue("device") != "lab-snmpd" || dev.TagValue("site") != "lab" {
		t.Fatalf("device tags %v", dev.Tags)
	}
	if up := field(t, dev, "uptime_seconds"); up <= 0 || up > 60 {
		t.Fatalf("uptime_seconds = %v", up)
	}
	if _, ok := dev.FieldValue("memory_used_ratio"); !ok {
		t.Errorf("memory_used_ratio missing (net-snmp has hrStorageRam)")
	}
	lo := ifPoints(pts)["lo"]
	if lo == nil {
		t.Fatalf("no lo interface in %d points", len(pts))
	}
	checkInterfacePoint(t, lo, "lab-snmpd", false)
	if lo.TagValue("site") != "lab" {
		t.Fatal("inventory tag missing on snmp_if")
	}
	idx := lo.TagValue("ifindex")
	polled := uintField(t, lo, "receive_bytes_total")
	out, err := d.Get(context.Background(), "1.3.6.1.2.1.31.1.1.1.6."+idx)
	if err != nil {
		t.Fatal(err)
	}
	got, err := strconv.ParseUint(strings.TrimSpace(out), 10, 64)
	if err != nil {
		t.Fatalf("snmpget output %q: %v", out, err)
	}
	if got < polled || got-polled > 1<<20 {
		t.Fatalf("snmpget ifHCInOctets.%s = %d, poller receive_bytes_total = %d", idx, got, polled)
	}

	// Send traffic over lo, then wait for net-snmp's interface cache (a
	// few seconds) to expire.
	const n, size = 400, 1000
	sink, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	go func() {
		b := make([]byte, 2048)
		for {
			if _, _, err := sink.ReadFrom(b); err != nil {
				return
			}
		}
	}()
	c, err := net.Dial("udp", sink.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	payload := make([]byte, size)
	for range n {
		if _, err := c.Write(payload); err != nil {
			t.Fatal(err)
		}
	}
	c.Close()
	time.Sleep(3500 * time.Millisecond)

	pts2 := mustPoll(t, p)
	lo2 := ifPoints(pts2)["lo"]
	checkInterfacePoint(t, lo2, "lab-snmpd", true)
	interval := pts2[0].Time.Sub(pts[0].Time).Seconds()
	bits := field(t, lo2, "receive_bits_per_second") * interval
	sent := float64(n * size * 8)
	// The host's lo carries the other tests' traffic too (a parallel
	// package's HTTP and PDFs: tens of Mbit in these seconds), so the
	// upper bound is snmpd's own counter, read after the poll, not what
	// this test sent.
	out, err = d.Get(context.Background(), "1.3.6.1.2.1.31.1.1.1.6."+idx)
	if err != nil {
		t.Fatal(err)
	}
	after, err := strconv.ParseUint(strings.TrimSpace(out), 10, 64)
	if err != nil {
		t.Fatalf("snmpget output %q: %v", out, err)
	}
	if bits < sent || bits > float64((after-polled)*8) {
		t.Fatalf("receive_bits_per_second*interval = %.0f bits, sent %.0f bits, snmpget counts %d bits since the first poll (interval %.2fs)",
			bits, sent, (after-polled)*8, interval)
	}
	delta := uintField(t, lo2, "receive_bytes_total") - polled
	if diff := float64(delta*8) - bits; diff < -1 || diff > 1 {
		t.Fatalf("rate*interval %.0f != counter delta %d*8", bits, delta)
	}
	for _, pt := range pts2 {
		if !pt.Time.Equal(pts2[0].Time) {
			t.Fatal("points of one poll carry different timestamps")
		}
	}
	if s := logs.String(); strings.Contains(s, d.Community) {
		t.Fatalf("community leaked into logs: %s", s)
	}
}

// TestVersionsAndSecurityLevels polls the same snmpd with v1, v2c and
// every v3 user of the lab agent.
func TestVersionsAndSecurityLevels(t *testing.T) {
	t.Parallel() // its own snmpd or lab on its own port
	d := lab.StartSnmpd(t, lab.SnmpdOptions{})
	tgts := map[string]Target{
		"v1":  {Version: "1", Community: d.Community},
		"v2c": {Version: "2c", Community: d.Community},
	}
	for _, u := range d.Users {
		tgts["v3-"+u.Name] = Target{Version: "3", Username: u.Name, SecurityLevel: u.SecurityLevel,
			AuthProtocol: u.AuthProtocol, AuthPassphrase: u.AuthPassphrase, PrivProtocol: u.PrivProtocol, PrivPassphrase: u.PrivPassphrase}
	}
	for name, tgt := range tgts {
		t.Run(name, func(t *testing.T) {
			tgt.Name, tgt.Address, tgt.Timeout = name, d.Addr, 5*time.Second
			p := newTestPoller(t, tgt, nil)
			pts := mustPoll(t, p)
			lo := ifPoints(pts)["lo"]
			if lo == nil {
				t.Fatalf("no lo in %d points", len(pts))
			}
			checkInterfacePoint(t, lo, name, false)
			if tgt.Version == "1" {
				// v1 has no Counter64: 32-bit fallbacks.
				if p.hcOctets || !p.octets32 {
					t.Fatalf("v1 counter mode hc=%v 32=%v", p.hcOctets, p.octets32)
				}
			} else if !p.hcOctets || p.octets32 {
				t.Fatalf("counter mode hc=%v 32=%v", p.hcOctets, p.octets32)
			}
			pts = mustPoll(t, p)
			checkInterfacePoint(t, ifPoints(pts)["lo"], name, true)
		})
	}
	t.Run("wrong-passphrase", func(t *testing.T) {
		u := d.V3AuthPriv()
		p := newTestPoller(t, Target{Name: "bad-auth", Address: d.Addr, Version: "3", Username: u.Name, SecurityLevel: u.SecurityLevel,
			AuthProtocol: u.AuthProtocol, AuthPassphrase: "wrong-passphrase", PrivProtocol: u.PrivProtocol, PrivPassphrase: u.PrivPassphrase,
			Timeout: 2 * time.Second}, nil)
		pts, err := p.Poll(context.Background())
		if err == nil || !strings.Contains(err.Error(), "bad-auth") {
			t.Fatalf("err = %v", err)
		}
		if up := field(t, devicePoint(t, pts), "up"); up != 0 {
			t.Fatalf("up = %v", up)
		}
	})
}

// TestV3RecoversAfterRestart restarts snmpd under a v3 poller: first with
// the same engine ID (engineBoots+1, engine time reset), then with a new
// engine ID. The poller must recover by itself within a few polls.
func TestV3RecoversAfterRestart(t *testing.T) {
	t.Parallel() // its own snmpd or lab on its own port
	d := lab.StartSnmpd(t, lab.SnmpdOptions{})
	u := d.V3AuthPriv()
	logger, logs := testLogger(t)
	p := newTestPoller(t, Target{Name: "v3-restart", Address: d.Addr, Version: "3", Username: u.Name, SecurityLevel: u.SecurityLevel,
		AuthProtocol: u.AuthProtocol, AuthPassphrase: u.AuthPassphrase, PrivProtocol: u.PrivProtocol, PrivPassphrase: u.PrivPassphrase,
		Timeout: 2 * time.Second}, logger)
	mustPoll(t, p)
	time.Sleep(time.Second) // so that sysUpTime visibly goes backwards on restart
	before := field(t, devicePoint(t, mustPoll(t, p)), "uptime_seconds")

	recover := func(what string) []*point.Point {
		t.Helper()
		var lastErr error
		for attempt := 1; attempt <= 3; attempt++ {
			pts, err := p.Poll(context.Background())
			if err == nil {
				t.Logf("%s: recovered on attempt %d", what, attempt)
				return pts
			}
			lastErr = err
			t.Logf("%s: attempt %d: %v", what, attempt, err)
		}
		t.Fatalf("%s: no recovery after 3 polls: %v\nlogs:\n%s", what, lastErr, logs.String())
		return nil
	}

	d.Restart(t)
	pts := recover("same engine ID, new boots")
	// sysUpTime went backwards: counters but no rates on this poll.
	if after := field(t, devicePoint(t, pts), "uptime_seconds"); after >= before {
		t.Fatalf("sysUpTime %v after restart, %v before", after, before)
	}
	lo := ifPoints(pts)["lo"]
	checkInterfacePoint(t, lo, "v3-restart", false)
	pts = mustPoll(t, p)
	checkInterfacePoint(t, ifPoints(pts)["lo"], "v3-restart", true)

	d.RestartNewEngine(t)
	recover("new engine ID")

	for _, secret := range []string{u.AuthPassphrase, u.PrivPassphrase} {
		if strings.Contains(logs.String(), secret) {
			t.Fatal("passphrase leaked into logs")
		}
	}
}

// TestDeadDevice polls an address where nothing answers: the poll ends
// within its timeout with up=0 and an error naming the device.
func TestDeadDevice(t *testing.T) {
	// A UDP socket that never answers (a black hole on loopback).
	hole, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer hole.Close()
	logger, logs := testLogger(t)
	for _, version := range []string{"2c", "3"} {
		tgt := Target{Name: "dead-" + version, Address: hole.LocalAddr().String(), Version: version, Community: "secret-community",
			Username: "u", SecurityLevel: "authPriv", AuthProtocol: "SHA", AuthPassphrase: "secret-auth-pass", PrivProtocol: "AES", PrivPassphrase: "secret-priv-pass",
			Timeout: 700 * time.Millisecond}
		p := newTestPoller(t, tgt, logger)
		for range 2 {
			start := time.Now()
			pts, err := p.Poll(context.Background())
			el := time.Since(start)
			if err == nil || !strings.Contains(err.Error(), tgt.Name) {
				t.Fatalf("err = %v", err)
			}
			if el > tgt.Timeout+300*time.Millisecond {
				t.Fatalf("poll took %v with timeout %v", el, tgt.Timeout)
			}
			dev := devicePoint(t, pts)
			if field(t, dev, "up") != 0 || dev.TagValue("device") != tgt.Name {
				t.Fatalf("device point %+v", dev)
			}
			field(t, dev, "poll_duration_seconds")
			if len(pts) != 1 {
				t.Fatalf("%d points from a dead device", len(pts))
			}
		}
	}
	s := logs.String()
	if !strings.Contains(s, "dead-2c") || !strings.Contains(s, "dead-3") {
		t.Fatalf("log lines do not name the device:\n%s", s)
	}
	for _, secret := range []string{"secret-community", "secret-auth-pass", "secret-priv-pass"} {
		if strings.Contains(s, secret) {
			t.Fatalf("%s leaked into logs:\n%s", secret, s)
		}
	}

	// Closed port (ICMP port unreachable) fails fast too.
	port := lab.FreeUDPPort(t, "127.0.0.1")
	p := newTestPoller(t, Target{Name: "closed", Address: fmt.Sprintf("127.0.0.1:%d", port), Version: "2c", Community: "x", Timeout: time.Second}, nil)
	if _, err := p.Poll(context.Background()); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Fatalf("err = %v", err)
	}
}

// TestPollHonoursContext cancels a poll of a black hole long before its timeout.
func TestPollHonoursContext(t *testing.T) {
	hole, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer hole.Close()
	p := newTestPoller(t, Target{Name: "hole", Address: hole.LocalAddr().String(), Version: "2c", Community: "x", Timeout: 20 * time.Second}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	pts, err := p.Poll(ctx)
	if el := time.Since(start); el > 1500*time.Millisecond {
		t.Fatalf("poll ignored ctx: took %v", el)
	}
	if err == nil || field(t, devicePoint(t, pts), "up") != 0 {
		t.Fatalf("err = %v", err)
	}
}

// TestIPv6Loopback polls snmpd listening on [::1].
func TestIPv6Loopback(t *testing.T) {
	t.Parallel() // its own snmpd or lab on its own port
	c, err := net.ListenPacket("udp6", "[::1]:0")
	if err != nil {
		t.Fatalf("no IPv6 loopback (::1) on this machine: %v", err)
	}
	port := c.LocalAddr().(*net.UDPAddr).Port
	c.Close()
	d := lab.StartSnmpd(t, lab.SnmpdOptions{Listen: fmt.Sprintf("[::1]:%d", port)})
	p := newTestPoller(t, Target{Address: d.Addr, Version: "2c", Community: d.Community, Timeout: 3 * time.Second}, nil)
	pts := mustPoll(t, p)
	if devicePoint(t, pts).TagValue("device") != d.Addr || ifPoints(pts)["lo"] == nil {
		t.Fatalf("points %v", pts)
	}
}
