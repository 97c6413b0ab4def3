package icmp

import (
	"bytes"
	"context"
	"encoding/binary"
	"math"
	"net/netip"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

func loopbacks(t *testing.T) []netip.Addr {
	return []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("::1"), netip.MustParseAddr("127.0.0.2")}
}

// noSocket ends a test that could not open an ICMP socket: it fails, but
// under -short (make test-unit, an ordinary user whose group is outside
// net.ipv4.ping_group_range) it skips.
func noSocket(t *testing.T, err error) {
	t.Helper()
	if testing.Short() {
		t.Skipf("-short: %v; make test runs it as root", err)
	}
	t.Fatal(err)
}

// Both engines get every reply from loopback addresses, with sane RTTs.
func TestEnginesLoopback(t *testing.T) {
	eng, err := NewEngine(ModeAuto, nil)
	if err != nil {
		noSocket(t, err)
	}
	defer eng.Close()
	base, err := NewPingers(ModeAuto)
	if err != nil {
		noSocket(t, err)
	}
	for _, p := range []Pinger{eng, base} {
		for _, a := range loopbacks(t) {
			res, err := p.Ping(context.Background(), Request{Addr: a, Count: 3, Spacing: 20 * time.Millisecond, Timeout: 2 * time.Second, Size: 56, TOS: 184})
			if err != nil {
				t.Fatalf("%T %s: %v", p, a, err)
			}
			if res.Sent != 3 || res.Received != 3 || len(res.RTTs) != 3 {
				t.Fatalf("%T %s: %+v", p, a, res)
			}
			for _, d := range res.RTTs {
				if d <= 0 || d > time.Second {
					t.Fatalf("%T %s: rtt %v", p, a, d)
				}
			}
		}
	}
}

// Many concurrent rounds on one shared engine: no reply is attributed to
// the wrong round and none is lost on loopback.
func TestEngineConcurrentRounds(t *testing.T) {
	eng, err := NewEngine(ModeAuto, nil)
	if err != nil {
		noSocket(t, err)
	}
	defer eng.Close()
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for i := 0; i < 200; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a := netip.AddrFrom4([4]byte{127, 0, byte(i / 250), byte(1 + i%250)})
			res, err := eng.Ping(context.Background(), Request{Addr: a, Count: 2, Spacing: 10 * time.Millisecond, Timeout: 5 * time.Second, Size: 32})
			if err == nil && (res.Received != 2 || res.Sent != 2) {
				err = &roundError{a, res}
			}
			if err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := len(eng.pending); n != 0 {
		t.Errorf("%d pending entries left", n)
	}
}

type roundError struct {
	a   netip.Addr
	res Result
}

func (e *roundError) Error() string { return e.a.String() + ": incomplete round" }

// A closed port is not the point: an address that never answers counts
// every request as lost, and the round ends at its timeout.
func TestEngineNoReply(t *testing.T) {
	eng, err := NewEngine(ModeAuto, nil)
	if err != nil {
		noSocket(t, err)
	}
	defer eng.Close()
	// 127.0.0.1 answers; a context cancelled mid-round returns what it has.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res, err := eng.Ping(ctx, Request{Addr: netip.MustParseAddr("127.0.0.1"), Count: 3, Spacing: time.Second, Timeout: 3 * time.Second})
	if err == nil || res.Sent != 1 {
		t.Fatalf("cancelled round: %+v %v", res, err)
	}
}

func TestSummarize(t *testing.T) {
	ms := time.Millisecond
	s := Summarize(Result{Sent: 5, Received: 4, RTTs: []time.Duration{10 * ms, 12 * ms, 8 * ms, 10 * ms}})
	if math.Abs(s.Loss-0.2) > 1e-9 || s.Min != 8*ms || s.Max != 12*ms || s.Avg != 10*ms || !s.HasRTT {
		t.Fatalf("%+v", s)
	}
	// population stddev of 10,12,8,10 = sqrt((0+4+4+0)/4) = sqrt(2) ms
	if d := s.StdDev - 1414213*time.Nanosecond; d < -time.Microsecond || d > time.Microsecond {
		t.Fatalf("stddev %v", s.StdDev)
	}
	// jitter = (2+4+2)/3 ms
	if d := s.Jitter - 2666666*time.Nanosecond; d < -time.Microsecond || d > time.Microsecond {
		t.Fatalf("jitter %v", s.Jitter)
	}
	if z := Summarize(Result{Sent: 3}); z.Loss != 1 || z.HasRTT {
		t.Fatalf("%+v", z)
	}
}

func TestIDsUnique(t *testing.T) {
	seen := map[int]bool{}
	var got []int
	for i := 0; i < 1000; i++ {
		id := allocID()
		if seen[id] {
			t.Fatalf("id %d handed out twice", id)
		}
		seen[id] = true
		got = append(got, id)
	}
	for _, id := range got {
		freeID(id)
	}
}

// When no ICMP socket can be opened, the error says what to change.
func TestSocketErrorsSayWhatToChange(t *testing.T) {
	u := unprivError(syscall.EACCES).Error()
	r := rawError(syscall.EPERM).Error()
	for _, want := range []string{"net.ipv4.ping_group_range", "sysctl -w", "/etc/sysctl.d/", "group id"} {
		if !strings.Contains(u, want) {
			t.Errorf("unprivileged error lacks %q: %s", want, u)
		}
	}
	for _, want := range []string{"CAP_NET_RAW", "AmbientCapabilities", "setcap"} {
		if !strings.Contains(r, want) {
			t.Errorf("raw error lacks %q: %s", want, r)
		}
	}
	if _, err := NewEngine("sideways", nil); err == nil || !strings.Contains(err.Error(), "auto, unprivileged or raw") {
		t.Errorf("unknown mode: %v", err)
	}
}

// rtt uses the kernel's receive timestamp when there is one, and falls
// back to the time the reader ran when there is none or it makes no sense.
func TestRTTFromKernelTimestamp(t *testing.T) {
	e := &Engine{epoch: time.Now()}
	e.epochWall = e.epoch.UnixNano()
	sent := int64(5 * time.Millisecond) // offsets from the epoch
	now := time.Duration(sent) + 900*time.Microsecond
	kernel := e.epochWall + sent + int64(300*time.Microsecond)
	oob := make([]byte, syscall.CmsgSpace(int(timespecSize)))
	h := (*syscall.Cmsghdr)(unsafe.Pointer(&oob[0]))
	h.Level, h.Type = syscall.SOL_SOCKET, syscall.SO_TIMESTAMPNS
	h.SetLen(syscall.CmsgLen(int(timespecSize)))
	*(*syscall.Timespec)(unsafe.Pointer(&oob[syscall.CmsgLen(0)])) = syscall.NsecToTimespec(kernel)
	if got := kernelStamp(oob); got != kernel {
		t.Fatalf("kernelStamp %d, want %d", got, kernel)
	}
	if got := e.rtt(sent, now, kernelStamp(oob)); got != 300*time.Microsecond {
		t.Fatalf("kernel timestamp: rtt %v, want 300µs", got)
	}
	if got := e.rtt(sent, now, kernelStamp(nil)); got != 900*time.Microsecond {
		t.Fatalf("no timestamp: rtt %v", got)
	}
	if got := e.rtt(sent, now, kernel-int64(time.Hour)); got != 900*time.Microsecond {
		t.Fatalf("clock jump: rtt %v", got)
	}
}

// The echo request is what golang.org/x/net/icmp would marshal (checksum
// included), and parseReply accepts the matching reply and nothing else.
func TestEchoRequestAndReplyParsing(t *testing.T) {
	for _, size := range []int{16, 56, 57} {
		got := echoRequest(nil, ipv4.ICMPTypeEcho, 0x1234, 77, 0xdeadbeef00010002, size)
		data := make([]byte, size)
		binary.BigEndian.PutUint64(data, 0xdeadbeef00010002)
		want, err := (&icmp.Message{Type: ipv4.ICMPTypeEcho, Body: &icmp.Echo{ID: 0x1234, Seq: 77, Data: data}}).Marshal(nil)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("size %d:\n got %x\nwant %x", size, got, want)
		}
	}
	e := &Engine{mode: ModeRaw, id: 0x1234}
	reply := echoRequest(nil, ipv4.ICMPTypeEcho, 0x1234, 77, 42, 56)
	reply[0] = byte(ipv4.ICMPTypeEchoReply)
	ip := append(make([]byte, 20), reply...)
	ip[0] = 0x45
	if seq, tok, ok := e.parseReply(false, ip); !ok || seq != 77 || tok != 42 {
		t.Fatalf("raw IPv4 reply: %d %d %v", seq, tok, ok)
	}
	other := append([]byte(nil), ip...)
	other[24] = 0x99 // someone else's echo ID
	if _, _, ok := e.parseReply(false, other); ok {
		t.Fatal("accepted another process's reply")
	}
	if _, _, ok := e.parseReply(false, ip[:30]); ok {
		t.Fatal("accepted a truncated reply")
	}
	req := append([]byte(nil), ip...)
	req[20] = byte(ipv4.ICMPTypeEcho)
	if _, _, ok := e.parseReply(false, req); ok {
		t.Fatal("accepted an echo request")
	}
	u := &Engine{mode: ModeUnprivileged}
	v6 := echoRequest(nil, ipv6.ICMPTypeEchoRequest, 0, 9, 7, 16)
	v6[0] = byte(ipv6.ICMPTypeEchoReply)
	if seq, tok, ok := u.parseReply(true, v6); !ok || seq != 9 || tok != 7 {
		t.Fatalf("unprivileged IPv6 reply: %d %d %v", seq, tok, ok)
	}
}

// One batch carries many targets, IPv4 and IPv6, with results in request
// order; a target that never answers costs only its own packets.
func TestPingBatch(t *testing.T) {
	eng, err := NewEngine(ModeAuto, nil)
	if err != nil {
		noSocket(t, err)
	}
	defer eng.Close()
	var reqs []Request
	for i := 0; i < 50; i++ {
		reqs = append(reqs, Request{Addr: netip.AddrFrom4([4]byte{127, 3, 0, byte(1 + i)}), Count: 3, Spacing: 5 * time.Millisecond, Timeout: 2 * time.Second, Size: 56})
	}
	reqs = append(reqs, Request{Addr: netip.MustParseAddr("::1"), Count: 3, Timeout: 2 * time.Second, Size: 100, TOS: 184})
	res, errs := eng.PingBatch(context.Background(), reqs)
	if len(res) != len(reqs) || len(errs) != len(reqs) {
		t.Fatalf("%d results, %d errors for %d requests", len(res), len(errs), len(reqs))
	}
	for i := range reqs {
		if errs[i] != nil || res[i].Sent != 3 || res[i].Received != 3 {
			t.Fatalf("request %d (%s): %+v %v", i, reqs[i].Addr, res[i], errs[i])
		}
	}
	if n := len(eng.pending); n != 0 {
		t.Errorf("%d pending entries left", n)
	}
	// The kernel refuses to send to the broadcast address without
	// SO_BROADCAST (no packet leaves the host), so that target's packets
	// count as sent and lost, while the loopback target in the same batch
	// is unaffected.
	res, errs = eng.PingBatch(context.Background(), []Request{
		{Addr: netip.MustParseAddr("255.255.255.255"), Count: 2, Timeout: 300 * time.Millisecond},
		{Addr: netip.MustParseAddr("127.0.0.1"), Count: 2, Timeout: 300 * time.Millisecond},
	})
	if errs[0] == nil || res[0].Sent != 2 || res[0].Received != 0 {
		t.Fatalf("unsendable target: %+v %v", res[0], errs[0])
	}
	if errs[1] != nil || res[1].Received != 2 {
		t.Fatalf("loopback target beside it: %+v %v", res[1], errs[1])
	}
}
