// Package icmp measures reachability and round-trip time with ICMP echo.
//
// The shared engine (Engine) keeps one socket per address family and TOS
// value for all targets, and one reader goroutine per socket that blocks in
// the kernel until a reply arrives. Replies are matched to their round by
// (sequence number, source address) and a per-packet token in the payload,
// so the cost grows with packets, not with targets times wake-ups; a
// process-wide ID registry keeps echo IDs unique when raw sockets are used.
// The baseline engine (Pingers) runs one pro-bing Pinger per target and
// round, as most tools do; it is kept for comparison and as a fallback.
package icmp

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// Socket modes.
const (
	ModeAuto         = "auto"
	ModeUnprivileged = "unprivileged" // SOCK_DGRAM ICMP (net.ipv4.ping_group_range)
	ModeRaw          = "raw"          // SOCK_RAW, needs CAP_NET_RAW
)

// Request is one round against one address.
type Request struct {
	Addr    netip.Addr
	Count   int           // echo requests in the round
	Spacing time.Duration // between requests
	Timeout time.Duration // the whole round, from the first request
	Size    int           // payload bytes (at least 16)
	TOS     int           // IPv4 TOS / IPv6 traffic class (DSCP << 2)
}

// Result is what a round measured.
type Result struct {
	Sent, Received int
	RTTs           []time.Duration // replies, in sequence order
}

// Pinger runs rounds; both engines implement it.
type Pinger interface {
	Ping(ctx context.Context, r Request) (Result, error)
	Mode() string
	Close() error
}

// Engine is the shared-socket ICMP engine.
type Engine struct {
	mode   string
	log    *slog.Logger
	id     int    // echo ID in raw mode (the kernel sets it in unprivileged mode)
	nonce  uint32 // first half of every payload token
	seq    atomic.Uint32
	closed atomic.Bool

	mu      sync.Mutex
	socks   map[sockKey]*sock
	pending map[pendKey]*slot
}

type sockKey struct {
	v6  bool
	tos int
}

type sock struct {
	c  net.PacketConn
	v6 bool
}

// rcvBuf is the receive buffer asked for each shared socket: a raw IPv4
// socket sees every ICMP packet of the host, and thousands of replies can
// arrive in the same millisecond.
const rcvBuf = 4 << 20

// listen opens an ICMP socket: SOCK_DGRAM (unprivileged) or SOCK_RAW.
func listen(v6, raw bool) (net.PacketConn, error) {
	family, proto, typ := syscall.AF_INET, syscall.IPPROTO_ICMP, syscall.SOCK_DGRAM
	if v6 {
		family, proto = syscall.AF_INET6, syscall.IPPROTO_ICMPV6
	}
	if raw {
		typ = syscall.SOCK_RAW
	}
	fd, err := syscall.Socket(family, typ|syscall.SOCK_CLOEXEC|syscall.SOCK_NONBLOCK, proto)
	if err != nil {
		return nil, os.NewSyscallError("socket", err)
	}
	// Kernel receive timestamps: RTTs do not depend on how soon the Go
	// scheduler runs the reader.
	_ = syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_TIMESTAMPNS, 1)
	if syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_RCVBUFFORCE, rcvBuf) != nil {
		_ = syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_RCVBUF, rcvBuf)
	}
	var sa syscall.Sockaddr = &syscall.SockaddrInet4{}
	if v6 {
		sa = &syscall.SockaddrInet6{}
	}
	if err := syscall.Bind(fd, sa); err != nil {
		syscall.Close(fd)
		return nil, os.NewSyscallError("bind", err)
	}
	f := os.NewFile(uintptr(fd), "icmp")
	defer f.Close()
	c, err := net.FilePacketConn(f)
	if err != nil {
		return nil, err
	}
	return c, nil
}

type pendKey struct {
	seq  uint16
	addr netip.Addr
}

type slot struct {
	r     *round
	index int
	token uint64
	sent  time.Time
}

type round struct {
	mu       sync.Mutex
	rtts     []time.Duration // -1 until replied
	received int
	expected int
	done     chan struct{}
}

// NewEngine opens the engine in mode (auto, unprivileged or raw). Auto
// tries unprivileged sockets first, then raw ones; when neither works the
// error says what to change.
func NewEngine(mode string, logger *slog.Logger) (*Engine, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	e := &Engine{log: logger, socks: map[sockKey]*sock{}, pending: map[pendKey]*slot{}}
	var b [4]byte
	_, _ = rand.Read(b[:])
	e.nonce = binary.BigEndian.Uint32(b[:])
	resolved, err := detectMode(mode)
	if err != nil {
		return nil, err
	}
	e.mode = resolved
	if e.mode == ModeRaw {
		e.id = allocID()
	}
	return e, nil
}

// detectMode resolves auto by opening (and closing) a probe socket.
func detectMode(mode string) (string, error) {
	try := func(network string) error {
		c, err := listen(false, network == "ip4:icmp")
		if err != nil {
			return err
		}
		return c.Close()
	}
	switch mode {
	case ModeUnprivileged:
		if err := try("udp4"); err != nil {
			return "", unprivError(err)
		}
		return mode, nil
	case ModeRaw:
		if err := try("ip4:icmp"); err != nil {
			return "", rawError(err)
		}
		return mode, nil
	case ModeAuto, "":
		uerr := try("udp4")
		if uerr == nil {
			return ModeUnprivileged, nil
		}
		rerr := try("ip4:icmp")
		if rerr == nil {
			return ModeRaw, nil
		}
		return "", fmt.Errorf("cannot open an ICMP socket: %w; %w", unprivError(uerr), rawError(rerr))
	}
	return "", fmt.Errorf("unknown ICMP mode %q: use auto, unprivileged or raw", mode)
}

func unprivError(err error) error {
	gid := os.Getegid()
	rng, _ := os.ReadFile("/proc/sys/net/ipv4/ping_group_range")
	return fmt.Errorf("unprivileged ICMP socket: %w (net.ipv4.ping_group_range is %q and this process's group id is %d; allow it with `sysctl -w net.ipv4.ping_group_range=\"%d %d\"` and make it permanent in /etc/sysctl.d/)",
		err, strings.Join(strings.Fields(string(rng)), " "), gid, gid, gid)
}

func rawError(err error) error {
	return fmt.Errorf("raw ICMP socket: %w (grant CAP_NET_RAW: AmbientCapabilities=CAP_NET_RAW in the systemd unit, or `setcap cap_net_raw+ep pantau-agent`)", err)
}

// Mode is the socket mode in use: unprivileged or raw.
func (e *Engine) Mode() string { return e.mode }

// socket returns the shared socket for the family and TOS, opening it and
// its reader on first use.
func (e *Engine) socket(v6 bool, tos int) (*sock, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	k := sockKey{v6, tos}
	if s := e.socks[k]; s != nil {
		return s, nil
	}
	if e.closed.Load() {
		return nil, net.ErrClosed
	}
	raw := e.mode == ModeRaw
	network := map[[2]bool]string{{false, false}: "udp4", {true, false}: "udp6", {false, true}: "ip4:icmp", {true, true}: "ip6:ipv6-icmp"}[[2]bool{v6, raw}]
	c, err := listen(v6, raw)
	if err != nil {
		return nil, fmt.Errorf("open ICMP socket %s: %w", network, err)
	}
	if tos != 0 {
		if v6 {
			err = ipv6.NewPacketConn(c).SetTrafficClass(tos)
		} else {
			err = ipv4.NewPacketConn(c).SetTOS(tos)
		}
		if err != nil {
			c.Close()
			return nil, fmt.Errorf("set TOS %d on ICMP socket %s: %w", tos, network, err)
		}
	}
	if raw { // let the kernel drop everything but echo replies
		if v6 {
			var f ipv6.ICMPFilter
			f.SetAll(true)
			f.Accept(ipv6.ICMPTypeEchoReply)
			_ = ipv6.NewPacketConn(c).SetICMPFilter(&f)
		} else {
			var f ipv4.ICMPFilter
			f.SetAll(true)
			f.Accept(ipv4.ICMPTypeEchoReply)
			_ = ipv4.NewPacketConn(c).SetICMPFilter(&f)
		}
	}
	s := &sock{c: c, v6: v6}
	e.socks[k] = s
	go e.read(s)
	return s, nil
}

// read is the socket's only reader: it blocks until a packet arrives,
// timestamps it at once and hands the RTT to the waiting round.
func (e *Engine) read(s *sock) {
	buf := make([]byte, 65536)
	oob := make([]byte, 128)
	proto := 1
	if s.v6 {
		proto = 58
	}
	for {
		n, oobn, peer, err := readMsg(s.c, buf, oob)
		now := time.Now()
		if err != nil {
			if e.closed.Load() || errors.Is(err, net.ErrClosed) {
				return
			}
			e.log.Debug("ICMP read failed", "err", err)
			continue
		}
		pkt := buf[:n]
		if e.mode == ModeRaw && !s.v6 { // raw IPv4 delivers the IP header too
			if n < 20 || int(pkt[0]&0x0f)*4 > n {
				continue
			}
			pkt = pkt[int(pkt[0]&0x0f)*4:]
		}
		m, err := icmp.ParseMessage(proto, pkt)
		if err != nil || (m.Type != ipv4.ICMPTypeEchoReply && m.Type != ipv6.ICMPTypeEchoReply) {
			continue
		}
		echo, ok := m.Body.(*icmp.Echo)
		if !ok || len(echo.Data) < 8 || (e.mode == ModeRaw && echo.ID != e.id) {
			continue
		}
		addr := peerAddr(peer)
		token := binary.BigEndian.Uint64(echo.Data)
		e.mu.Lock()
		sl := e.pending[pendKey{uint16(echo.Seq), addr}]
		e.mu.Unlock()
		if sl == nil || sl.token != token {
			continue // late, duplicate after the round, or someone else's
		}
		sl.r.reply(sl.index, rtt(sl.sent, now, oob[:oobn]))
	}
}

// readMsg reads one packet with its control messages.
func readMsg(c net.PacketConn, b, oob []byte) (n, oobn int, peer net.Addr, err error) {
	switch c := c.(type) {
	case *net.IPConn:
		var a *net.IPAddr
		n, oobn, _, a, err = c.ReadMsgIP(b, oob)
		return n, oobn, a, err
	case *net.UDPConn:
		var a *net.UDPAddr
		n, oobn, _, a, err = c.ReadMsgUDP(b, oob)
		return n, oobn, a, err
	}
	n, peer, err = c.ReadFrom(b)
	return n, 0, peer, err
}

const timespecSize = unsafe.Sizeof(syscall.Timespec{})

// rtt is the time from sent to the kernel's receive timestamp, or to now
// (when the reader ran) if there is none or the wall clock jumped.
func rtt(sent, now time.Time, oob []byte) time.Duration {
	user := now.Sub(sent) // monotonic
	msgs, err := syscall.ParseSocketControlMessage(oob)
	if err != nil {
		return user
	}
	for _, m := range msgs {
		if m.Header.Level == syscall.SOL_SOCKET && m.Header.Type == syscall.SO_TIMESTAMPNS && len(m.Data) >= int(timespecSize) {
			var sec, nsec int64
			if timespecSize == 16 { // 64-bit: two int64
				sec, nsec = int64(binary.NativeEndian.Uint64(m.Data[0:8])), int64(binary.NativeEndian.Uint64(m.Data[8:16]))
			} else { // 32-bit ARM: two int32
				sec, nsec = int64(int32(binary.NativeEndian.Uint32(m.Data[0:4]))), int64(int32(binary.NativeEndian.Uint32(m.Data[4:8])))
			}
			k := time.Unix(sec, nsec).Sub(sent.Round(0)) // both wall clock
			if k > 0 && k <= user {
				return k
			}
			return user
		}
	}
	return user
}

func peerAddr(a net.Addr) netip.Addr {
	var ip net.IP
	switch v := a.(type) {
	case *net.UDPAddr:
		ip = v.IP
	case *net.IPAddr:
		ip = v.IP
	}
	addr, _ := netip.AddrFromSlice(ip)
	return addr.Unmap()
}

func (r *round) reply(i int, rtt time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.rtts[i] >= 0 {
		return // duplicate reply
	}
	r.rtts[i] = rtt
	r.received++
	if r.received == r.expected {
		close(r.done)
	}
}

// Ping runs one round: Count requests Spacing apart, then waits for the
// replies until Timeout after the first request, or until all arrived.
func (e *Engine) Ping(ctx context.Context, req Request) (Result, error) {
	if req.Count < 1 {
		req.Count = 1
	}
	if req.Size < 16 {
		req.Size = 16
	}
	addr := req.Addr.Unmap()
	s, err := e.socket(addr.Is6(), req.TOS)
	if err != nil {
		return Result{}, err
	}
	r := &round{rtts: make([]time.Duration, req.Count), expected: req.Count, done: make(chan struct{})}
	for i := range r.rtts {
		r.rtts[i] = -1
	}
	keys := make([]pendKey, 0, req.Count)
	defer func() {
		e.mu.Lock()
		for _, k := range keys {
			delete(e.pending, k)
		}
		e.mu.Unlock()
	}()
	start := time.Now()
	deadline := time.NewTimer(req.Timeout)
	defer deadline.Stop()
	payload := make([]byte, req.Size)
	var dst net.Addr = &net.UDPAddr{IP: addr.AsSlice(), Zone: addr.Zone()}
	if e.mode == ModeRaw {
		dst = &net.IPAddr{IP: addr.AsSlice(), Zone: addr.Zone()}
	}
	var typ icmp.Type = ipv4.ICMPTypeEcho
	if addr.Is6() {
		typ = ipv6.ICMPTypeEchoRequest
	}
	sent := 0
	var sendErr error
	for i := 0; i < req.Count; i++ {
		if i > 0 {
			wait := time.NewTimer(time.Until(start.Add(time.Duration(i) * req.Spacing)))
			select {
			case <-ctx.Done():
				wait.Stop()
				return e.result(r, sent), ctx.Err()
			case <-deadline.C:
				wait.Stop()
				return e.result(r, sent), nil
			case <-wait.C:
			}
		}
		seq := uint16(e.seq.Add(1))
		token := uint64(e.nonce)<<32 | uint64(seq)<<16 | uint64(i)
		binary.BigEndian.PutUint64(payload, token)
		msg := icmp.Message{Type: typ, Body: &icmp.Echo{ID: e.id, Seq: int(seq), Data: payload}}
		b, err := msg.Marshal(nil)
		if err != nil {
			return e.result(r, sent), fmt.Errorf("encode echo request for %s: %w", addr, err)
		}
		k := pendKey{seq, addr}
		sl := &slot{r: r, index: i, token: token}
		e.mu.Lock()
		e.pending[k] = sl
		e.mu.Unlock()
		keys = append(keys, k)
		sl.sent = time.Now()
		if _, err := s.c.WriteTo(b, dst); err != nil {
			// Unreachable networks and the like: the packet counts as sent
			// and lost, the way ping reports it; the first error is returned.
			if sendErr == nil {
				sendErr = fmt.Errorf("send echo request to %s: %w", addr, err)
			}
			if errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EACCES) {
				sendErr = fmt.Errorf("send echo request to %s: %w (a firewall rule may reject it)", addr, err)
			}
		}
		sent++
	}
	select {
	case <-r.done:
	case <-deadline.C:
	case <-ctx.Done():
		return e.result(r, sent), ctx.Err()
	}
	res := e.result(r, sent)
	if res.Received > 0 {
		sendErr = nil
	}
	return res, sendErr
}

func (e *Engine) result(r *round, sent int) Result {
	r.mu.Lock()
	defer r.mu.Unlock()
	res := Result{Sent: sent}
	for _, d := range r.rtts[:sent] {
		if d >= 0 {
			res.RTTs = append(res.RTTs, d)
		}
	}
	res.Received = len(res.RTTs)
	return res
}

// Close closes every socket; rounds in progress end with what they have.
func (e *Engine) Close() error {
	e.closed.Store(true)
	e.mu.Lock()
	defer e.mu.Unlock()
	var errs []error
	for k, s := range e.socks {
		errs = append(errs, s.c.Close())
		delete(e.socks, k)
	}
	if e.mode == ModeRaw {
		freeID(e.id)
	}
	return errors.Join(errs...)
}

// Stats are the schema's icmp fields derived from a Result.
type Stats struct {
	Loss                          float64 // 0-1
	Min, Avg, Max, StdDev, Jitter time.Duration
	HasRTT                        bool
}

// Summarize computes loss, min/avg/max, population standard deviation
// and jitter (mean absolute difference of consecutive RTTs).
func Summarize(r Result) Stats {
	var s Stats
	if r.Sent > 0 {
		s.Loss = 1 - float64(r.Received)/float64(r.Sent)
	}
	if len(r.RTTs) == 0 {
		return s
	}
	s.HasRTT = true
	s.Min, s.Max = r.RTTs[0], r.RTTs[0]
	var sum float64
	for _, d := range r.RTTs {
		s.Min, s.Max = min(s.Min, d), max(s.Max, d)
		sum += float64(d)
	}
	mean := sum / float64(len(r.RTTs))
	var sq, jit float64
	for i, d := range r.RTTs {
		sq += (float64(d) - mean) * (float64(d) - mean)
		if i > 0 {
			jit += math.Abs(float64(d - r.RTTs[i-1]))
		}
	}
	s.Avg = time.Duration(mean)
	s.StdDev = time.Duration(math.Sqrt(sq / float64(len(r.RTTs))))
	if len(r.RTTs) > 1 {
		s.Jitter = time.Duration(jit / float64(len(r.RTTs)-1))
	}
	return s
}

// The process-wide registry of echo IDs in use by raw sockets (the shared
// engine and every baseline Pinger), so no two share an ID.
var ids struct {
	sync.Mutex
	used map[int]bool
	next int
}

func allocID() int {
	ids.Lock()
	defer ids.Unlock()
	if ids.used == nil {
		ids.used = map[int]bool{}
		var b [2]byte
		_, _ = rand.Read(b[:])
		ids.next = int(binary.BigEndian.Uint16(b[:]))
	}
	for i := 0; i < 65536; i++ {
		id := (ids.next + i) & 0xffff
		if !ids.used[id] {
			ids.used[id] = true
			ids.next = id + 1
			return id
		}
	}
	panic("icmp: all 65536 echo IDs in use")
}

func freeID(id int) {
	ids.Lock()
	defer ids.Unlock()
	delete(ids.used, id)
}
