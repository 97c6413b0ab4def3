package demosim

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
)

func testMIB(now time.Time) []gosnmp.SnmpPDU {
	pdus := []gosnmp.SnmpPDU{
		{Name: "1.3.6.1.2.1.1.5.0", Type: gosnmp.OctetString, Value: []byte("rtr-demo")},
		{Name: "1.3.6.1.2.1.1.3.0", Type: gosnmp.TimeTicks, Value: uint32(12345)},
	}
	// 150 interfaces: more than one GetBulk response holds
	for i := 1; i <= 150; i++ {
		pdus = append(pdus,
			gosnmp.SnmpPDU{Name: fmt.Sprintf("1.3.6.1.2.1.31.1.1.1.1.%d", i), Type: gosnmp.OctetString, Value: []byte(fmt.Sprintf("ether%d", i))},
			gosnmp.SnmpPDU{Name: fmt.Sprintf("1.3.6.1.2.1.31.1.1.1.6.%d", i), Type: gosnmp.Counter64, Value: uint64(i) << 40})
	}
	return pdus
}

func startAgent(t *testing.T) *Agent {
	a, err := Listen("127.0.0.1:0", map[string]MIB{"rtr-demo": testMIB}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return a
}

func client(t *testing.T, a *Agent, community string) *gosnmp.GoSNMP {
	host, port := splitAddr(t, a.Addr())
	g := &gosnmp.GoSNMP{Target: host, Port: port, Community: community, Version: gosnmp.Version2c,
		Timeout: 300 * time.Millisecond, Retries: 0, MaxRepetitions: 40}
	if err := g.Connect(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Conn.Close() })
	return g
}

func splitAddr(t *testing.T, addr string) (string, uint16) {
	var host string
	var port uint16
	if _, err := fmt.Sscanf(addr, "127.0.0.1:%d", &port); err != nil {
		t.Fatal(err)
	}
	host = "127.0.0.1"
	return host, port
}

// A gosnmp client (what the agent uses) gets, walks and bulk-walks the
// simulated device as it would a real one.
func TestAgentAnswers(t *testing.T) {
	a := startAgent(t)
	g := client(t, a, "rtr-demo")
	pkt, err := g.Get([]string{".1.3.6.1.2.1.1.5.0", ".1.3.6.1.2.1.1.3.0", ".1.3.6.1.2.1.1.9.0"})
	if err != nil {
		t.Fatal(err)
	}
	if v := pkt.Variables; len(v) != 3 || string(v[0].Value.([]byte)) != "rtr-demo" || v[1].Value.(uint32) != 12345 || v[2].Type != gosnmp.NoSuchObject {
		t.Errorf("get: %+v", v)
	}
	for name, walk := range map[string]func(string) ([]gosnmp.SnmpPDU, error){"bulkwalk": g.BulkWalkAll, "walk": g.WalkAll} {
		pdus, err := walk(".1.3.6.1.2.1.31.1.1.1.6")
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(pdus) != 150 {
			t.Fatalf("%s: %d rows, want 150", name, len(pdus))
		}
		for i, p := range pdus {
			want := fmt.Sprintf(".1.3.6.1.2.1.31.1.1.1.6.%d", i+1)
			if p.Name != want || gosnmp.ToBigInt(p.Value).Uint64() != uint64(i+1)<<40 {
				t.Fatalf("%s row %d: %s %v, want %s", name, i, p.Name, p.Value, want)
			}
		}
	}
	// past the last object: end of MIB view
	pkt, err = g.GetNext([]string{".1.3.6.1.2.1.31.1.1.1.6.150"})
	if err != nil || pkt.Variables[0].Type != gosnmp.EndOfMibView {
		t.Errorf("getnext past the end: %+v %v", pkt, err)
	}
	// an unknown community gets no answer, as from a real agent
	if _, err := client(t, a, "public").Get([]string{".1.3.6.1.2.1.1.5.0"}); err == nil {
		t.Error("an unknown community was answered")
	}
}

// The services answer as scheduled: down is a 503, slow takes SlowDelay,
// and the mail server greets.
func TestServices(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, err := StartServices(ctx, t.TempDir(), func(time.Time) (bool, bool) { return false, true }, func(time.Time) (bool, bool) { return true, false })
	if err != nil {
		t.Fatal(err)
	}
	pemData, err := os.ReadFile(s.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pemData)
	httpc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	start := time.Now()
	resp, err := httpc.Get(s.PortalURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || time.Since(start) < SlowDelay {
		t.Errorf("slow portal: %d after %s", resp.StatusCode, time.Since(start))
	}
	if na := resp.TLS.PeerCertificates[0].NotAfter; !na.Equal(s.CertNotAfter) || time.Until(na) > CertValidity {
		t.Errorf("portal certificate expires %s, want %s", na, s.CertNotAfter)
	}
	resp, err = http.Get(s.EOfficeURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("down e-office: %d", resp.StatusCode)
	}
	c, err := net.Dial("tcp", s.MailAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	b, _ := io.ReadAll(c)
	if !strings.HasPrefix(string(b), "220 ") {
		t.Errorf("mail greeting %q", b)
	}
}
