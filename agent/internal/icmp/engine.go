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

// BatchPinger runs many rounds in one call; Engine implements it.
type BatchPinger interface {
	Pinger
	PingBatch(ctx context.Context, reqs []Request) ([]Result, []error)
}

// Engine is the shared-socket ICMP engine.
type Engine struct {
	mode   string
	log    *slog.Logger
	id     int    // echo ID in raw mode (the kernel sets it in unprivileged mode)
	nonce  uint32 // first half of every payload token
	seq    atomic.Uint32
	closed atomic.Bool
	// epoch is the engine's clock origin: send times are monotonic offsets
	// from it, and epochWall is its wall-clock time in Unix nanoseconds, to
	// compare with the kernel's receive timestamps.
	epoch     time.Time
	epochWall int64

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

// slot is one echo request in flight.
type slot struct {
	b     *batch
	index int // into batch.rtts
	token uint64
	sent  atomic.Int64 // nanoseconds since Engine.epoch, just before the send
}

// batch is the state of one PingBatch call: every request's replies, and
// a channel closed when all of them have arrived.
type batch struct {
	mu       sync.Mutex
	rtts     []time.Duration // request i, packet j at i*count+j; -1 until replied
	received int
	expected int
	done     chan struct{}
}

func (b *batch) reply(i int, rtt time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.rtts[i] >= 0 {
		return // duplicate reply
	}
	b.rtts[i] = rtt
	b.received++
	if b.received == b.expected {
		close(b.done)
	}
}

// NewEngine opens the engine in mode (auto, unprivileged or raw). Auto
// tries unprivileged sockets first, then raw ones; when neither works the
// error says what to change.
func NewEngine(mode string, logger *slog.Logger) (*Engine, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	e := &Engine{log: logger, socks: map[sockKey]*sock{}, pending: map[pendKey]*slot{}, epoch: time.Now()}
	e.epochWall = e.epoch.UnixNano()
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

// readBatch is how many packets one recvmmsg call may return.
const readBatch = 64

// read is the socket's only reader. It blocks in the kernel until replies
// arrive, takes as many as are queued in one recvmmsg call, and hands each
// RTT to the waiting batch.
func (e *Engine) read(s *sock) {
	msgs := make([]ipv4.Message, readBatch)
	for i := range msgs {
		msgs[i].Buffers = [][]byte{make([]byte, 2048)} // only the headers and token matter
		msgs[i].OOB = make([]byte, 64)
	}
	var readFn func([]ipv4.Message, int) (int, error)
	if s.v6 {
		readFn = ipv6.NewPacketConn(s.c).ReadBatch
	} else {
		readFn = ipv4.NewPacketConn(s.c).ReadBatch
	}
	type hit struct {
		sl   *slot
		now  time.Duration
		kern int64
	}
	hits := make([]hit, 0, readBatch)
	keys := make([]pendKey, 0, readBatch)
	tokens := make([]uint64, 0, readBatch)
	for {
		n, err := readFn(msgs, 0)
		now := time.Since(e.epoch)
		if err != nil {
			if e.closed.Load() || errors.Is(err, net.ErrClosed) {
				return
			}
			e.log.Debug("ICMP read failed", "err", err)
			continue
		}
		keys, tokens, hits = keys[:0], tokens[:0], hits[:0]
		kerns := make([]int64, 0, n)
		for _, m := range msgs[:n] {
			seq, token, ok := e.parseReply(s.v6, m.Buffers[0][:m.N])
			if !ok {
				continue
			}
			keys = append(keys, pendKey{seq, peerAddr(m.Addr)})
			tokens = append(tokens, token)
			kerns = append(kerns, kernelStamp(m.OOB[:m.NN]))
		}
		if len(keys) == 0 {
			continue
		}
		e.mu.Lock()
		for i, k := range keys {
			if sl := e.pending[k]; sl != nil && sl.token == tokens[i] {
				hits = append(hits, hit{sl, now, kerns[i]})
			} // else late, duplicate after the round, or someone else's
		}
		e.mu.Unlock()
		for _, h := range hits {
			h.sl.b.reply(h.sl.index, e.rtt(h.sl.sent.Load(), h.now, h.kern))
		}
	}
}

// parseReply returns the sequence number and payload token of an echo
// reply addressed to this engine.
func (e *Engine) parseReply(v6 bool, pkt []byte) (seq uint16, token uint64, ok bool) {
	if e.mode == ModeRaw && !v6 { // raw IPv4 delivers the IP header too
		if len(pkt) < 20 || int(pkt[0]&0x0f)*4 > len(pkt) {
			return 0, 0, false
		}
		pkt = pkt[int(pkt[0]&0x0f)*4:]
	}
	// type, code, checksum, id, seq, then at least the 8-byte token
	if len(pkt) < 16 || pkt[1] != 0 {
		return 0, 0, false
	}
	if (!v6 && pkt[0] != byte(ipv4.ICMPTypeEchoReply)) || (v6 && pkt[0] != byte(ipv6.ICMPTypeEchoReply)) {
		return 0, 0, false
	}
	if e.mode == ModeRaw && int(binary.BigEndian.Uint16(pkt[4:6])) != e.id {
		return 0, 0, false
	}
	return binary.BigEndian.Uint16(pkt[6:8]), binary.BigEndian.Uint64(pkt[8:16]), true
}

const timespecSize = unsafe.Sizeof(syscall.Timespec{})

// kernelStamp is the SO_TIMESTAMPNS receive time (Unix nanoseconds) in
// oob, or 0.
func kernelStamp(oob []byte) int64 {
	msgs, err := syscall.ParseSocketControlMessage(oob)
	if err != nil {
		return 0
	}
	for _, m := range msgs {
		if m.Header.Level == syscall.SOL_SOCKET && m.Header.Type == syscall.SO_TIMESTAMPNS && len(m.Data) >= int(timespecSize) {
			var sec, nsec int64
			if timespecSize == 16 { // 64-bit: two int64
				sec, nsec = int64(binary.NativeEndian.Uint64(m.Data[0:8])), int64(binary.NativeEndian.Uint64(m.Data[8:16]))
			} else { // 32-bit ARM: two int32
				sec, nsec = int64(int32(binary.NativeEndian.Uint32(m.Data[0:4]))), int64(int32(binary.NativeEndian.Uint32(m.Data[4:8])))
			}
			return sec*1e9 + nsec
		}
	}
	return 0
}

// rtt is the time from sent to the kernel's receive timestamp, or to now
// (when the reader ran) if there is none or the wall clock jumped. sent
// and now are monotonic offsets from e.epoch; kern is wall-clock.
func (e *Engine) rtt(sent int64, now time.Duration, kern int64) time.Duration {
	user := now - time.Duration(sent)
	if kern == 0 {
		return user
	}
	k := time.Duration(kern - (e.epochWall + sent))
	if k > 0 && k <= user {
		return k
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

// Ping runs one round: Count requests Spacing apart, then waits for the
// replies until Timeout after the first request, or until all arrived.
func (e *Engine) Ping(ctx context.Context, req Request) (Result, error) {
	res, errs := e.PingBatch(ctx, []Request{req})
	return res[0], errs[0]
}

// PingBatch runs one round against every request at the same time, from
// the calling goroutine: packet j of every request is sent at
// start+j*Spacing, and the call returns when every reply has arrived or
// Timeout after the start. Count, Spacing and Timeout come from the first
// request; Size, TOS and the address may differ. The results and errors
// are in request order.
//
// One call costs one timer and one wake-up of the caller however many
// requests it carries, which is what lets the agent probe thousands of
// targets a second cheaply (docs/benchmarks.md).
func (e *Engine) PingBatch(ctx context.Context, reqs []Request) ([]Result, []error) {
	res := make([]Result, len(reqs))
	errs := make([]error, len(reqs))
	if len(reqs) == 0 {
		return res, errs
	}
	count, spacing, timeout := max(reqs[0].Count, 1), reqs[0].Spacing, reqs[0].Timeout
	type dest struct {
		s    *sock
		addr netip.Addr
		dst  net.Addr
		typ  icmp.Type
		size int
	}
	dests := make([]dest, len(reqs))
	for i, r := range reqs {
		addr := r.Addr.Unmap()
		s, err := e.socket(addr.Is6(), r.TOS)
		if err != nil {
			errs[i] = err
			continue
		}
		d := dest{s: s, addr: addr, typ: ipv4.ICMPTypeEcho, size: max(r.Size, 16)}
		if addr.Is6() {
			d.typ = ipv6.ICMPTypeEchoRequest
		}
		if e.mode == ModeRaw {
			d.dst = &net.IPAddr{IP: addr.AsSlice(), Zone: addr.Zone()}
		} else {
			d.dst = &net.UDPAddr{IP: addr.AsSlice(), Zone: addr.Zone()}
		}
		dests[i] = d
	}
	b := &batch{rtts: make([]time.Duration, len(reqs)*count), done: make(chan struct{})}
	for i := range b.rtts {
		b.rtts[i] = -1
	}
	for _, d := range dests {
		if d.s != nil {
			b.expected += count
		}
	}
	slots := make([]slot, len(reqs)*count)
	sent := make([]int, len(reqs))
	keys := make([]pendKey, 0, len(slots))
	defer func() {
		e.mu.Lock()
		for _, k := range keys {
			delete(e.pending, k)
		}
		e.mu.Unlock()
	}()
	finish := func() ([]Result, []error) {
		b.mu.Lock()
		defer b.mu.Unlock()
		for i := range reqs {
			res[i].Sent = sent[i]
			for _, d := range b.rtts[i*count : i*count+sent[i]] {
				if d >= 0 {
					res[i].RTTs = append(res[i].RTTs, d)
				}
			}
			res[i].Received = len(res[i].RTTs)
			if res[i].Received > 0 {
				errs[i] = nil // some packets got through: the round is a measurement
			}
		}
		return res, errs
	}
	start := time.Now()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	var wait *time.Timer
	var buf []byte
	for j := 0; j < count; j++ {
		if j > 0 {
			d := time.Until(start.Add(time.Duration(j) * spacing))
			if wait == nil {
				wait = time.NewTimer(d)
				defer wait.Stop()
			} else {
				wait.Reset(d)
			}
			select {
			case <-ctx.Done():
				return finish2(finish, errs, ctx.Err())
			case <-deadline.C:
				return finish()
			case <-wait.C:
			}
		}
		// Register every packet of this step first (one lock), then send.
		e.mu.Lock()
		b.mu.Lock()
		for i := range reqs {
			if dests[i].s == nil {
				continue
			}
			seq := uint16(e.seq.Add(1))
			k := i*count + j
			slots[k] = slot{b: b, index: k, token: uint64(e.nonce)<<32 | uint64(seq)<<16 | uint64(k&0xffff)}
			key := pendKey{seq, dests[i].addr}
			e.pending[key] = &slots[k]
			keys = append(keys, key)
		}
		b.mu.Unlock()
		e.mu.Unlock()
		for i := range reqs {
			d := dests[i]
			if d.s == nil {
				continue
			}
			k := i*count + j
			sl := &slots[k]
			seq := uint16(sl.token >> 16)
			buf = echoRequest(buf[:0], d.typ, e.id, seq, sl.token, d.size)
			sl.sent.Store(int64(time.Since(e.epoch)))
			if _, err := d.s.c.WriteTo(buf, d.dst); err != nil {
				// Unreachable networks and the like: the packet counts as
				// sent and lost, the way ping reports it; the first error
				// is returned.
				if errs[i] == nil {
					errs[i] = fmt.Errorf("send echo request to %s: %w", d.addr, err)
					if errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EACCES) {
						errs[i] = fmt.Errorf("send echo request to %s: %w (a firewall rule may reject it)", d.addr, err)
					}
				}
			}
			sent[i]++
		}
	}
	select {
	case <-b.done:
	case <-deadline.C:
	case <-ctx.Done():
		return finish2(finish, errs, ctx.Err())
	}
	return finish()
}

// finish2 ends a batch cut short by its context: every request gets the
// context's error unless it already has one.
func finish2(finish func() ([]Result, []error), errs []error, err error) ([]Result, []error) {
	res, _ := finish()
	for i := range errs {
		if errs[i] == nil {
			errs[i] = err
		}
	}
	return res, errs
}

// echoRequest appends an ICMP echo request to b: the 8-byte token starts
// the payload, zeros fill it to size. The kernel fills in the checksum of
// ICMPv6 and of unprivileged ICMPv4 sockets; raw ICMPv4 needs it here.
func echoRequest(b []byte, typ icmp.Type, id int, seq uint16, token uint64, size int) []byte {
	var t byte
	switch typ {
	case ipv4.ICMPTypeEcho:
		t = byte(ipv4.ICMPTypeEcho)
	case ipv6.ICMPTypeEchoRequest:
		t = byte(ipv6.ICMPTypeEchoRequest)
	}
	b = append(b, t, 0, 0, 0, byte(id>>8), byte(id), byte(seq>>8), byte(seq))
	b = binary.BigEndian.AppendUint64(b, token)
	for i := 8; i < size; i++ {
		b = append(b, 0)
	}
	if t == byte(ipv4.ICMPTypeEcho) {
		cs := checksum(b)
		b[2], b[3] = byte(cs>>8), byte(cs)
	}
	return b
}

// checksum is the Internet checksum (RFC 1071).
func checksum(b []byte) uint16 {
	var sum uint32
	for i := 0; i+1 < len(b); i += 2 {
		sum += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)%2 == 1 {
		sum += uint32(b[len(b)-1]) << 8
	}
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
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
