package lab

import (
	"io"
	"net"
	"testing"
	"time"
)

// TestDelayRate: through a router emulating a 1 Mbit/s line with 50 ms
// each way, a TCP transfer takes at least its bytes' time on the line
// (the lower bound only: a slow machine may take longer), and a burst of
// UDP datagrams larger than the line's buffer loses what does not fit
// while the rest arrives, each no sooner than the delay.
func TestDelayRate(t *testing.T) {
	l, noc, router, site, rNoc, rSite, _ := ThreeHop(t)
	const (
		delay = 50 * time.Millisecond
		rate  = 1_000_000
	)
	l.DelayRate(router, delay, rate, map[string]string{"10.250.1.1": rNoc, "10.250.2.2": rSite})

	listen := func(network, addr string) (ln net.Listener, pc net.PacketConn) {
		t.Helper()
		if err := InNamespace(site, func() (err error) {
			if network == "tcp" {
				ln, err = net.Listen(network, addr)
			} else {
				pc, err = net.ListenPacket(network, addr)
			}
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return ln, pc
	}
	dial := func(network, addr string) net.Conn {
		t.Helper()
		var c net.Conn
		if err := InNamespace(noc, func() (err error) { c, err = net.Dial(network, addr); return err }); err != nil {
			t.Fatal(err)
		}
		return c
	}

	// TCP: 100 KB need 0.8 s on the line (more with the headers).
	const size = 100 << 10
	ln, _ := listen("tcp", "10.250.2.2:0")
	defer ln.Close()
	got := make(chan int64, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			got <- -1
			return
		}
		defer c.Close()
		n, _ := io.Copy(io.Discard, c)
		got <- n
	}()
	c := dial("tcp", ln.Addr().String())
	start := time.Now()
	if _, err := c.Write(make([]byte, size)); err != nil {
		t.Fatal(err)
	}
	c.Close()
	select {
	case n := <-got:
		took := time.Since(start)
		if n != size {
			t.Fatalf("TCP: %d bytes arrived, sent %d", n, size)
		}
		if least := time.Duration(size * 8 * int64(time.Second) / rate); took < least {
			t.Errorf("TCP: %d bytes took %s, the line needs at least %s", size, took, least)
		}
		t.Logf("TCP: %d bytes in %s", size, took.Round(time.Millisecond))
	case <-time.After(30 * time.Second):
		t.Fatal("TCP: the transfer did not finish in 30 s")
	}

	// UDP: 100 datagrams of 1,428 bytes on the wire at once are 140 KB; the
	// buffer holds 64 KB (45 of them) plus what the line sends meanwhile.
	_, pc := listen("udp", "10.250.2.2:0")
	defer pc.Close()
	u := dial("udp", pc.LocalAddr().String())
	defer u.Close()
	sent := time.Now()
	for range 100 {
		if _, err := u.Write(make([]byte, 1400)); err != nil {
			t.Fatal(err)
		}
	}
	var first time.Duration
	n := 0
	buf := make([]byte, 2048)
	for {
		pc.SetReadDeadline(time.Now().Add(1500 * time.Millisecond))
		if _, _, err := pc.ReadFrom(buf); err != nil {
			break
		}
		if n == 0 {
			first = time.Since(sent)
		}
		n++
	}
	if n < 30 || n > 60 {
		t.Errorf("UDP: %d of 100 datagrams arrived, want about %d (the buffer's)", n, LinkBuffer/1428)
	}
	if first < delay {
		t.Errorf("UDP: the first datagram arrived after %s, before the delay of %s", first, delay)
	}
	t.Logf("UDP: %d of 100 datagrams arrived, the first after %s", n, first.Round(time.Millisecond))
}
