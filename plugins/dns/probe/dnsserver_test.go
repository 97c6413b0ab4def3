package probe

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// A tiny authoritative DNS server for tests, standard library only. It
// answers one-question queries from a fixed zone over UDP and TCP on the
// same 127.0.0.1 port, follows CNAMEs inside the zone, returns NXDOMAIN for
// unknown names, truncates UDP answers over 512 bytes (it ignores EDNS) and
// can be switched to never answer.

const (
	typeA     = 1
	typeNS    = 2
	typeCNAME = 5
	typeMX    = 15
	typeTXT   = 16
	typeAAAA  = 28
)

type rr struct {
	name  string // owner, lower case, fully qualified
	rtype uint16
	rdata []byte
}

type zone map[string][]rr

func (z zone) add(r rr) { z[r.name] = append(z[r.name], r) }

func fq(name string) string { return strings.ToLower(strings.TrimSuffix(name, ".")) + "." }

func encodeName(name string) []byte {
	var b []byte
	for _, label := range strings.Split(strings.TrimSuffix(name, "."), ".") {
		if label == "" {
			continue
		}
		b = append(b, byte(len(label)))
		b = append(b, label...)
	}
	return append(b, 0)
}

func aRR(name, ip string) rr {
	a := netip.MustParseAddr(ip).As4()
	return rr{fq(name), typeA, a[:]}
}

func aaaaRR(name, ip string) rr {
	a := netip.MustParseAddr(ip).As16()
	return rr{fq(name), typeAAAA, a[:]}
}

func cnameRR(name, target string) rr { return rr{fq(name), typeCNAME, encodeName(target)} }

func nsRR(name, host string) rr { return rr{fq(name), typeNS, encodeName(host)} }

func mxRR(name string, pref uint16, host string) rr {
	return rr{fq(name), typeMX, append(binary.BigEndian.AppendUint16(nil, pref), encodeName(host)...)}
}

func txtRR(name string, strs ...string) rr {
	var b []byte
	for _, s := range strs {
		b = append(b, byte(len(s)))
		b = append(b, s...)
	}
	return rr{fq(name), typeTXT, b}
}

type dnsServer struct {
	zone       zone
	addr       string
	silent     atomic.Bool
	udpQueries atomic.Int64
	tcpQueries atomic.Int64

	udp  net.PacketConn
	tcp  net.Listener
	done chan struct{}
	wg   sync.WaitGroup
}

// startDNS serves z on 127.0.0.1, UDP and TCP on one port, until the test
// ends.
func startDNS(t *testing.T, z zone) *dnsServer {
	t.Helper()
	s := &dnsServer{zone: z, done: make(chan struct{})}
	var err error
	for range 20 {
		if s.udp, err = net.ListenPacket("udp", "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
		s.addr = s.udp.LocalAddr().String()
		if s.tcp, err = net.Listen("tcp", s.addr); err == nil {
			break
		}
		s.udp.Close()
	}
	if err != nil {
		t.Fatalf("no port free for both UDP and TCP: %v", err)
	}
	s.wg.Add(2)
	go s.serveUDP()
	go s.serveTCP()
	t.Cleanup(func() {
		close(s.done)
		s.udp.Close()
		s.tcp.Close()
		s.wg.Wait()
	})
	return s
}

func (s *dnsServer) serveUDP() {
	defer s.wg.Done()
	buf := make([]byte, 65535)
	for {
		n, from, err := s.udp.ReadFrom(buf)
		if err != nil {
			return
		}
		s.udpQueries.Add(1)
		if s.silent.Load() {
			continue
		}
		if resp := s.answer(buf[:n], 512); resp != nil {
			_, _ = s.udp.WriteTo(resp, from)
		}
	}
}

func (s *dnsServer) serveTCP() {
	defer s.wg.Done()
	for {
		c, err := s.tcp.Accept()
		if err != nil {
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(5 * time.Second))
			for {
				var l [2]byte
				if _, err := io.ReadFull(c, l[:]); err != nil {
					return
				}
				msg := make([]byte, binary.BigEndian.Uint16(l[:]))
				if _, err := io.ReadFull(c, msg); err != nil {
					return
				}
				s.tcpQueries.Add(1)
				if s.silent.Load() {
					<-s.done
					return
				}
				resp := s.answer(msg, 65535)
				if resp == nil {
					return
				}
				if _, err := c.Write(append(binary.BigEndian.AppendUint16(nil, uint16(len(resp))), resp...)); err != nil {
					return
				}
			}
		}()
	}
}

var errMalformed = errors.New("malformed query")

// parseQuestion returns the lower-case question name, its type and the end
// offset of the question section.
func parseQuestion(msg []byte) (name string, qtype uint16, end int, err error) {
	if len(msg) < 12 || msg[2]&0x80 != 0 || binary.BigEndian.Uint16(msg[4:6]) != 1 {
		return "", 0, 0, errMalformed
	}
	var labels []string
	off := 12
	for {
		if off >= len(msg) {
			return "", 0, 0, errMalformed
		}
		l := int(msg[off])
		off++
		if l == 0 {
			break
		}
		if l > 63 || off+l > len(msg) {
			return "", 0, 0, errMalformed
		}
		labels = append(labels, strings.ToLower(string(msg[off:off+l])))
		off += l
	}
	if off+4 > len(msg) {
		return "", 0, 0, errMalformed
	}
	return strings.Join(labels, ".") + ".", binary.BigEndian.Uint16(msg[off : off+2]), off + 4, nil
}

// answer builds the response to query, or nil to drop it.
func (s *dnsServer) answer(query []byte, maxSize int) []byte {
	qname, qtype, qend, err := parseQuestion(query)
	if err != nil {
		return nil
	}
	var answers []rr
	rcode := uint16(0)
	if _, ok := s.zone[qname]; !ok {
		rcode = 3 // NXDOMAIN
	} else {
		name := qname
		for range 8 {
			var next string
			for _, r := range s.zone[name] {
				if r.rtype == typeCNAME && qtype != typeCNAME {
					answers = append(answers, r)
					next = fq(decodeName(r.rdata))
				}
			}
			if next == "" {
				break
			}
			name = next
		}
		for _, r := range s.zone[name] {
			if r.rtype == qtype {
				answers = append(answers, r)
			}
		}
	}

	flags := binary.BigEndian.Uint16(query[2:4])
	resp := make([]byte, 12, 512)
	copy(resp[0:2], query[0:2])
	// QR, opcode and RD from the query, AA, RA, rcode.
	binary.BigEndian.PutUint16(resp[2:4], 0x8000|flags&0x7900|0x0400|0x0080|rcode)
	binary.BigEndian.PutUint16(resp[4:6], 1)
	resp = append(resp, query[12:qend]...)
	count := 0
	for _, r := range answers {
		rec := encodeName(r.name)
		rec = binary.BigEndian.AppendUint16(rec, r.rtype)
		rec = binary.BigEndian.AppendUint16(rec, 1) // IN
		rec = binary.BigEndian.AppendUint32(rec, 300)
		rec = binary.BigEndian.AppendUint16(rec, uint16(len(r.rdata)))
		rec = append(rec, r.rdata...)
		if len(resp)+len(rec) > maxSize {
			resp[2] |= 0x02 // TC
			count = 0
			resp = resp[:qend]
			break
		}
		resp = append(resp, rec...)
		count++
	}
	binary.BigEndian.PutUint16(resp[6:8], uint16(count))
	return resp
}

func decodeName(b []byte) string {
	var labels []string
	for len(b) > 0 && b[0] != 0 {
		l := int(b[0])
		labels = append(labels, string(b[1:1+l]))
		b = b[1+l:]
	}
	return strings.Join(labels, ".") + "."
}

// testZone is the zone the tests query.
func testZone() zone {
	z := zone{}
	for _, r := range []rr{
		aRR("www.example.test", "192.0.2.10"),
		aRR("www.example.test", "192.0.2.11"),
		aaaaRR("www.example.test", "2001:db8::1"),
		cnameRR("alias.example.test", "www.example.test"),
		mxRR("example.test", 10, "mail1.example.test"),
		mxRR("example.test", 20, "mail2.example.test"),
		nsRR("example.test", "ns1.example.test"),
		nsRR("example.test", "ns2.example.test"),
		txtRR("example.test", "v=spf1 ip4:192.0.2.0/24 -all"),
		txtRR("example.test", "google-site-verification=abc", "123"),
		aRR("mail1.example.test", "192.0.2.25"),
	} {
		z.add(r)
	}
	// Enough TXT data to exceed 512 bytes: truncated over UDP.
	for i := range 8 {
		z.add(txtRR("big.example.test", strings.Repeat(string(rune('a'+i)), 100)))
	}
	return z
}
