package snmp

import (
	"context"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/agent/internal/point"
	"github.com/pantau-noc/pantau/internal/lab"
)

// TestIntegrationLabRateAcrossVeth polls snmpd in a site namespace from a
// NOC namespace while the test sends a known amount of UDP traffic across
// the veth between them: the site's receive counter grows by that traffic
// (plus frame headers and the SNMP exchange itself), and the computed rate
// times the interval equals the counter delta.
func TestIntegrationLabRateAcrossVeth(t *testing.T) {
	t.Parallel() // its own snmpd or lab on its own port
	l := lab.New(t)
	noc, site := l.Namespace("noc"), l.Namespace("site")
	_, siteIf := l.Link(noc, "10.250.9.1/30", site, "10.250.9.2/30")
	sd := lab.StartSnmpd(t, lab.SnmpdOptions{Netns: site, Listen: "10.250.9.2:1161"})
	p, err := NewPoller(Target{Name: "site", Address: sd.Addr, Version: "2c", Community: sd.Community,
		Interfaces: []string{siteIf}, Timeout: 5 * time.Second}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	poll := func() *point.Point {
		var pts []*point.Point
		// The poller's socket is created (on first use) inside the NOC namespace.
		if err := lab.InNamespace(noc, func() error {
			var err error
			pts, err = p.Poll(context.Background())
			return err
		}); err != nil {
			t.Fatal(err)
		}
		for _, pt := range pts {
			if pt.Measurement == "snmp_if" && pt.TagValue("ifname") == siteIf {
				return pt
			}
		}
		t.Fatalf("no snmp_if point for %s", siteIf)
		return nil
	}
	first := poll()
	if _, ok := first.FieldValue("receive_bits_per_second"); ok {
		t.Fatal("a rate on the first poll")
	}
	const packets, size = 2000, 1000
	if err := lab.InNamespace(noc, func() error {
		// Unconnected, so the port-unreachable answers do not fail the writes;
		// the site's interface counts what arrives either way.
		c, err := net.ListenPacket("udp", "10.250.9.1:0")
		if err != nil {
			return err
		}
		defer c.Close()
		dst := &net.UDPAddr{IP: net.IPv4(10, 250, 9, 2), Port: 9}
		buf := make([]byte, size)
		for i := 0; i < packets; i++ {
			if _, err := c.WriteTo(buf, dst); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3500 * time.Millisecond) // net-snmp caches interface counters for about 3 s
	second := poll()
	rx1, _ := first.FieldValue("receive_bytes_total")
	rx2, _ := second.FieldValue("receive_bytes_total")
	delta := rx2 - rx1
	sent := float64(packets * size)
	// Each datagram adds 42 bytes of Ethernet, IP and UDP headers; the SNMP
	// exchange itself and ARP add a few kilobytes at most.
	if delta < sent || delta > sent+packets*42+64_000 {
		t.Fatalf("receive counter grew by %.0f bytes for %.0f bytes sent", delta, sent)
	}
	rate, ok := second.FieldValue("receive_bits_per_second")
	if !ok {
		t.Fatal("no rate on the second poll")
	}
	secs := second.Time.Sub(first.Time).Seconds()
	if got := rate * secs; got < delta*8*0.99 || got > delta*8*1.01 {
		t.Fatalf("rate %.0f bit/s × %.3f s = %.0f bits, counter delta %.0f bits", rate, secs, got, delta*8)
	}
	t.Logf("sent %.0f bytes across the veth; counter +%.0f bytes; rate %.0f bit/s over %.2f s", sent, delta, rate, secs)
}
