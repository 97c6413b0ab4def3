package lab

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"runtime"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// Delay turns router namespace r into a userspace link emulator: every
// packet r forwards to one of the hosts in via (address → interface of r
// that leads to it) first goes through a TUN device whose reader holds it
// for d and writes it back, so each direction through r is delayed by d
// and a round trip by 2d. It replaces sch_netem, which this kernel lacks.
// The emulator stops at cleanup.
func (l *Lab) Delay(r string, d time.Duration, via map[string]string) {
	l.t.Helper()
	l.emulate(r, d, 0, via)
}

// LinkBuffer is how many bytes a DelayRate link holds per direction
// waiting for the line (a modem's buffer); a packet that does not fit is
// dropped.
const LinkBuffer = 64 << 10

// DelayRate is Delay over a slow line: besides the delay d, each direction
// (the interface of r a packet leaves by) sends at most bitsPerSecond,
// counting IP packets (headers included). A packet waits until the line
// has sent those before it, then takes len×8/bitsPerSecond to go out, then
// d to arrive; while the line is busy packets queue, up to LinkBuffer
// bytes per direction, and beyond that are dropped, as a modem does. A
// VSAT office link is DelayRate(r, 350*time.Millisecond, 256_000, via).
func (l *Lab) DelayRate(r string, d time.Duration, bitsPerSecond int64, via map[string]string) {
	l.t.Helper()
	if bitsPerSecond <= 0 {
		l.t.Fatalf("lab: DelayRate in %s: rate %d bit/s, want > 0", r, bitsPerSecond)
	}
	l.emulate(r, d, bitsPerSecond, via)
}

// emulate sets up the TUN link emulator of Delay and DelayRate (rate 0:
// no bandwidth limit).
func (l *Lab) emulate(r string, d time.Duration, rate int64, via map[string]string) {
	l.t.Helper()
	const dev = "tdly"
	f, err := openTun(r, dev)
	if err != nil {
		l.t.Fatalf("lab: TUN device in %s: %v", r, err)
	}
	// Forwarded packets (arriving on one of the via interfaces) to a via
	// host go to the TUN device (table 101); what the emulator writes back
	// arrives on the TUN device and takes the real route (table 100).
	// Packets of r itself are not delayed.
	l.Exec(r, "ip", "link", "set", dev, "up")
	l.Exec(r, "ip", "rule", "add", "iif", dev, "lookup", "100", "pref", "100")
	ifaces := map[string]bool{}
	// Each interface a packet can leave by is one direction of the link,
	// with its own queue (and line, under a rate): a full download does
	// not hold up the acknowledgements going the other way.
	dir := map[string]int{} // interface → direction
	dst := map[[4]byte]int{}
	for addr, iface := range via {
		l.Exec(r, "ip", "route", "add", addr+"/32", "dev", dev, "table", "101")
		l.Exec(r, "ip", "route", "add", addr+"/32", "dev", iface, "table", "100")
		if !ifaces[iface] {
			ifaces[iface] = true
			l.Exec(r, "ip", "rule", "add", "iif", iface, "lookup", "101", "pref", "101")
			dir[iface] = len(dir)
		}
		if ip := net.ParseIP(addr).To4(); ip != nil {
			dst[[4]byte(ip)] = dir[iface]
		}
	}
	l.Exec(r, "sysctl", "-qw", "net.ipv4.conf."+dev+".rp_filter=0")

	type pkt struct {
		due  time.Time
		data []byte
	}
	type line struct {
		queue     chan pkt
		busyUntil time.Time // when the line has sent what it holds
	}
	lines := make([]*line, max(len(dir), 1))
	var writers sync.WaitGroup
	stop := make(chan struct{}) // closed at cleanup: writers drop what they hold
	for i := range lines {
		lines[i] = &line{queue: make(chan pkt, 65536)}
		q := lines[i].queue
		writers.Add(1)
		go func() { // writer: release each packet when due, in order
			defer writers.Done()
			for p := range q {
				if w := time.Until(p.due); w > 0 {
					t := time.NewTimer(w)
					select {
					case <-t.C:
					case <-stop:
						t.Stop()
						return
					}
				}
				if _, err := f.Write(p.data); err != nil && errors.Is(err, os.ErrClosed) {
					return
				}
			}
		}()
	}
	done := make(chan struct{})
	go func() {
		writers.Wait()
		close(done)
	}()
	go func() { // reader: stamp and queue
		defer func() {
			for _, ln := range lines {
				close(ln.queue)
			}
		}()
		for {
			buf := make([]byte, 65536)
			n, err := f.Read(buf)
			if err != nil {
				return
			}
			ln := lines[0]
			if n >= 20 && buf[0]>>4 == 4 {
				ln = lines[dst[[4]byte(buf[16:20])]]
			}
			now := time.Now()
			due := now.Add(d)
			if rate > 0 {
				// Bytes still waiting for the line, from when it is free.
				backlog := int64(0)
				if w := ln.busyUntil.Sub(now); w > 0 {
					backlog = int64(w.Seconds() * float64(rate) / 8)
				}
				if backlog+int64(n) > LinkBuffer {
					continue // the modem's buffer is full: dropped
				}
				start := now
				if ln.busyUntil.After(start) {
					start = ln.busyUntil
				}
				ln.busyUntil = start.Add(time.Duration(float64(n) * 8 / float64(rate) * float64(time.Second)))
				due = ln.busyUntil.Add(d)
			}
			select {
			case ln.queue <- pkt{due, buf[:n]}:
			default: // queue full: the emulated link drops, like a real one
			}
		}
	}()
	l.mu.Lock()
	l.closed = append(l.closed, func() {
		close(stop)
		f.Close()
		<-done
	})
	l.mu.Unlock()
}

// InNamespace runs f on an OS thread that has entered namespace ns;
// sockets and devices f creates belong to ns and keep working from any
// thread afterwards.
func InNamespace(ns string, f func() error) error {
	ch := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // left locked (and the thread discarded) if restoring fails
		orig, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			ch <- fmt.Errorf("open own netns: %w", err)
			return
		}
		defer unix.Close(orig)
		target, err := unix.Open("/var/run/netns/"+ns, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			ch <- fmt.Errorf("open netns %s: %w", ns, err)
			return
		}
		defer unix.Close(target)
		if err := unix.Setns(target, unix.CLONE_NEWNET); err != nil {
			ch <- fmt.Errorf("enter netns %s: %w", ns, err)
			return
		}
		ferr := f()
		if err := unix.Setns(orig, unix.CLONE_NEWNET); err != nil {
			ch <- fmt.Errorf("return to own netns: %w", err)
			return
		}
		runtime.UnlockOSThread()
		ch <- ferr
	}()
	return <-ch
}

// HTTPClient returns a client whose connections are opened inside ns, so
// a test reaches servers in its lab without any address in the root
// namespace.
func HTTPClient(ns string) *http.Client {
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			var c net.Conn
			err := InNamespace(ns, func() error {
				var err error
				c, err = (&net.Dialer{Timeout: 5 * time.Second}).DialContext(ctx, network, addr)
				return err
			})
			return c, err
		},
		DisableKeepAlives: true,
	}
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

// openTun creates TUN device name inside namespace ns. The file keeps
// working from any thread once created.
func openTun(ns, name string) (*os.File, error) {
	var f *os.File
	err := InNamespace(ns, func() error {
		fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_CLOEXEC, 0)
		if err != nil {
			return err
		}
		ifr, err := unix.NewIfreq(name)
		if err == nil {
			ifr.SetUint16(unix.IFF_TUN | unix.IFF_NO_PI)
			err = unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr)
		}
		if err == nil {
			err = unix.SetNonblock(fd, true)
		}
		if err != nil {
			unix.Close(fd)
			return fmt.Errorf("create TUN %s: %w", name, err)
		}
		f = os.NewFile(uintptr(fd), "/dev/net/tun:"+name)
		return nil
	})
	return f, err
}
