package probe

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/plugins/sdk"
)

const testTimeout = 2 * time.Second

func probeOne(t *testing.T, timeout time.Duration, c Config) sdk.Point {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	pts := Probe(ctx, c, time.Now)
	if len(pts) != 1 {
		t.Fatalf("Probe returned %d points, want 1", len(pts))
	}
	p := pts[0]
	if p.Measurement != "dns" {
		t.Errorf("measurement = %q, want dns", p.Measurement)
	}
	if p.Time.IsZero() || p.Tags["target"] == "" {
		t.Errorf("time %v, tags %v", p.Time, p.Tags)
	}
	for k, v := range p.Fields {
		switch v.(type) {
		case float64, int64, uint64, bool, string:
		default:
			t.Errorf("field %s has unsupported type %T", k, v)
		}
	}
	return p
}

func wantUp(t *testing.T, p sdk.Point, answers int64) {
	t.Helper()
	if p.Fields["up"] != int64(1) {
		t.Fatalf("up = %v, want 1 (error %q); fields %v", p.Fields["up"], p.Fields["error"], p.Fields)
	}
	if _, ok := p.Fields["error"]; ok {
		t.Errorf("error field present on success: %v", p.Fields["error"])
	}
	if p.Fields["answers"] != answers {
		t.Errorf("answers = %v, want %d", p.Fields["answers"], answers)
	}
	if v, ok := p.Fields["resolve_seconds"].(float64); !ok || v <= 0 || v > testTimeout.Seconds() {
		t.Errorf("resolve_seconds = %#v", p.Fields["resolve_seconds"])
	}
}

func wantDown(t *testing.T, p sdk.Point, errSubstr string) {
	t.Helper()
	if p.Fields["up"] != int64(0) {
		t.Fatalf("up = %v, want 0; fields %v", p.Fields["up"], p.Fields)
	}
	msg, _ := p.Fields["error"].(string)
	if !strings.Contains(msg, errSubstr) || msg == "" {
		t.Errorf("error = %q, want it to contain %q", msg, errSubstr)
	}
	t.Logf("error field: %s", msg)
}

func TestA(t *testing.T) {
	s := startDNS(t, testZone())
	p := probeOne(t, testTimeout, Config{Name: "web", Query: "www.example.test", Server: s.addr, Expect: []string{"192.0.2.11"}})
	wantUp(t, p, 2)
	if p.Fields["answer_match"] != int64(1) {
		t.Errorf("answer_match = %v", p.Fields["answer_match"])
	}
	want := map[string]string{"target": "web", "query": "www.example.test", "type": "A", "server": s.addr}
	for k, v := range want {
		if p.Tags[k] != v {
			t.Errorf("tag %s = %q, want %q", k, p.Tags[k], v)
		}
	}
	if s.udpQueries.Load() == 0 || s.tcpQueries.Load() != 0 {
		t.Errorf("udp queries %d, tcp queries %d; want UDP only", s.udpQueries.Load(), s.tcpQueries.Load())
	}

	// Without Expect there is no answer_match field.
	p = probeOne(t, testTimeout, Config{Query: "www.example.test.", Server: s.addr})
	wantUp(t, p, 2)
	if _, ok := p.Fields["answer_match"]; ok {
		t.Error("answer_match present without expect")
	}
	if p.Tags["target"] != "www.example.test." {
		t.Errorf("default target = %q", p.Tags["target"])
	}
}

func TestExpectMismatch(t *testing.T) {
	s := startDNS(t, testZone())
	p := probeOne(t, testTimeout, Config{Name: "web", Query: "www.example.test", Server: s.addr, Expect: []string{"192.0.2.10", "192.0.2.99"}})
	wantDown(t, p, `answer does not contain "192.0.2.99"`)
	if p.Fields["answer_match"] != int64(0) || p.Fields["answers"] != int64(2) {
		t.Errorf("answer_match = %v, answers = %v", p.Fields["answer_match"], p.Fields["answers"])
	}
}

func TestAAAA(t *testing.T) {
	s := startDNS(t, testZone())
	p := probeOne(t, testTimeout, Config{Name: "web6", Query: "www.example.test", Type: "aaaa", Server: s.addr, Expect: []string{"2001:0DB8:0:0::1"}})
	wantUp(t, p, 1)
	if p.Fields["answer_match"] != int64(1) || p.Tags["type"] != "AAAA" {
		t.Errorf("answer_match = %v, type tag %q", p.Fields["answer_match"], p.Tags["type"])
	}
	// mail1 has only an A record: no AAAA data.
	wantDown(t, probeOne(t, testTimeout, Config{Name: "mail6", Query: "mail1.example.test", Type: "AAAA", Server: s.addr}), "no such host")
}

func TestCNAME(t *testing.T) {
	s := startDNS(t, testZone())
	p := probeOne(t, testTimeout, Config{Name: "alias", Query: "alias.example.test", Type: "CNAME", Server: s.addr, Expect: []string{"WWW.example.test"}})
	wantUp(t, p, 1)
	if p.Fields["answer_match"] != int64(1) {
		t.Errorf("answer_match = %v", p.Fields["answer_match"])
	}
	// An A-only name has no CNAME.
	p = probeOne(t, testTimeout, Config{Name: "www", Query: "www.example.test", Type: "CNAME", Server: s.addr})
	wantDown(t, p, "no CNAME record")
	if p.Fields["answers"] != int64(0) {
		t.Errorf("answers = %v", p.Fields["answers"])
	}
	// An A query through a CNAME gets the target's addresses.
	wantUp(t, probeOne(t, testTimeout, Config{Name: "alias-a", Query: "alias.example.test", Server: s.addr, Expect: []string{"192.0.2.10"}}), 2)
}

func TestMX(t *testing.T) {
	s := startDNS(t, testZone())
	p := probeOne(t, testTimeout, Config{Name: "mx", Query: "example.test", Type: "MX", Server: s.addr, Expect: []string{"mail2.example.test.", "mail1.example.test"}})
	wantUp(t, p, 2)
	wantDown(t, probeOne(t, testTimeout, Config{Name: "mx", Query: "example.test", Type: "MX", Server: s.addr, Expect: []string{"mx.other.test"}}),
		`answer does not contain "mx.other.test"`)
}

func TestNS(t *testing.T) {
	s := startDNS(t, testZone())
	wantUp(t, probeOne(t, testTimeout, Config{Name: "ns", Query: "example.test", Type: "NS", Server: s.addr, Expect: []string{"ns2.example.test"}}), 2)
}

func TestTXT(t *testing.T) {
	s := startDNS(t, testZone())
	p := probeOne(t, testTimeout, Config{
		Name: "spf", Query: "example.test", Type: "TXT", Server: s.addr,
		// The second record has two strings, joined without separator.
		Expect: []string{"v=spf1 ip4:192.0.2.0/24 -all", "google-site-verification=abc123"},
	})
	wantUp(t, p, 2)
	wantDown(t, probeOne(t, testTimeout, Config{Name: "spf", Query: "example.test", Type: "TXT", Server: s.addr, Expect: []string{"v=spf1 -all"}}),
		"answer does not contain")
}

func TestTruncatedRetriesOverTCP(t *testing.T) {
	s := startDNS(t, testZone())
	p := probeOne(t, testTimeout, Config{Name: "big", Query: "big.example.test", Type: "TXT", Server: s.addr})
	wantUp(t, p, 8)
	if s.udpQueries.Load() == 0 || s.tcpQueries.Load() == 0 {
		t.Errorf("udp queries %d, tcp queries %d; want a truncated UDP answer retried over TCP", s.udpQueries.Load(), s.tcpQueries.Load())
	}
}

func TestTCP(t *testing.T) {
	s := startDNS(t, testZone())
	p := probeOne(t, testTimeout, Config{Name: "web", Query: "www.example.test", Server: s.addr, Network: "TCP"})
	wantUp(t, p, 2)
	if s.tcpQueries.Load() == 0 || s.udpQueries.Load() != 0 {
		t.Errorf("udp queries %d, tcp queries %d; want TCP only", s.udpQueries.Load(), s.tcpQueries.Load())
	}
}

func TestNXDOMAIN(t *testing.T) {
	s := startDNS(t, testZone())
	p := probeOne(t, testTimeout, Config{Name: "gone", Query: "nope.example.test", Server: s.addr, Expect: []string{"192.0.2.1"}})
	wantDown(t, p, "no such host")
	if p.Fields["error"] != "no such host" {
		t.Errorf("error = %q, want exactly %q", p.Fields["error"], "no such host")
	}
	if p.Fields["answer_match"] != int64(0) {
		t.Errorf("answer_match = %v", p.Fields["answer_match"])
	}
	if _, ok := p.Fields["resolve_seconds"].(float64); !ok {
		t.Error("resolve_seconds missing")
	}
}

func TestTimeout(t *testing.T) {
	for _, network := range []string{"udp", "tcp"} {
		t.Run(network, func(t *testing.T) {
			s := startDNS(t, testZone())
			s.silent.Store(true)
			start := time.Now()
			p := probeOne(t, 500*time.Millisecond, Config{Name: "quiet", Query: "www.example.test", Server: s.addr, Network: network})
			if d := time.Since(start); d > 1500*time.Millisecond {
				t.Errorf("probe took %v with a 500ms deadline", d)
			}
			wantDown(t, p, "timeout")
		})
	}
}

func TestServerNotListening(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	wantDown(t, probeOne(t, testTimeout, Config{Name: "dead", Query: "www.example.test", Server: addr, Network: "tcp"}), "connection refused")
}

func TestInvalidConfigProbe(t *testing.T) {
	p := probeOne(t, testTimeout, Config{Name: "bad", Query: "example.test", Type: "SRV"})
	wantDown(t, p, "field type")
	if p.Tags["type"] != "SRV" || p.Tags["server"] != SystemServer {
		t.Errorf("tags = %v", p.Tags)
	}
	p = probeOne(t, testTimeout, Config{})
	wantDown(t, p, "query is required")
	if p.Tags["target"] != "unknown" {
		t.Errorf("target = %q", p.Tags["target"])
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name       string
		c          Config
		wantErr    string
		wantServer string
	}{
		{"minimal", Config{Query: "sorongkab.go.id"}, "", ""},
		{"server without port", Config{Query: "a.test", Server: "192.0.2.53"}, "", "192.0.2.53:53"},
		{"server name without port", Config{Query: "a.test", Server: "ns1.example.test"}, "", "ns1.example.test:53"},
		{"ipv6 server", Config{Query: "a.test", Server: "2001:db8::53"}, "", "[2001:db8::53]:53"},
		{"bracketed ipv6 server", Config{Query: "a.test", Server: "[2001:db8::53]"}, "", "[2001:db8::53]:53"},
		{"server with port", Config{Query: "a.test", Server: "[2001:db8::53]:5353"}, "", "[2001:db8::53]:5353"},
		{"underscore label", Config{Query: "_dmarc.example.test", Type: "txt"}, "", ""},
		{"missing query", Config{}, "query is required", ""},
		{"ip query", Config{Query: "192.0.2.1"}, "reverse (PTR)", ""},
		{"bad query", Config{Query: "a..b"}, "empty label", ""},
		{"space in query", Config{Query: "a b.test"}, "invalid character", ""},
		{"long label", Config{Query: strings.Repeat("a", 64) + ".test"}, "longer than 63", ""},
		{"bad type", Config{Query: "a.test", Type: "PTR"}, `field type "PTR"`, ""},
		{"bad network", Config{Query: "a.test", Network: "sctp"}, "field network", ""},
		{"bad server port", Config{Query: "a.test", Server: "192.0.2.1:99999"}, "field server", ""},
		{"bad server", Config{Query: "a.test", Server: "ns 1:53"}, "field server", ""},
		{"A expect not ip", Config{Query: "a.test", Expect: []string{"a.test"}}, "not an IP address", ""},
		{"A expect ipv6", Config{Query: "a.test", Expect: []string{"2001:db8::1"}}, "not an IPv4 address", ""},
		{"AAAA expect ipv4", Config{Query: "a.test", Type: "AAAA", Expect: []string{"192.0.2.1"}}, "is an IPv4 address", ""},
		{"A expect mapped", Config{Query: "a.test", Expect: []string{"::ffff:192.0.2.1"}}, "", ""},
		{"MX expect bad", Config{Query: "a.test", Type: "MX", Expect: []string{"10 mail.a.test"}}, "field expect", ""},
		{"empty expect", Config{Query: "a.test", Type: "NS", Expect: []string{" "}}, "entry 0 is empty", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.c
			err := c.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate() = %v", err)
				}
				if c.Name != c.Query || c.Type == "" || c.Network != "udp" {
					t.Errorf("defaults not applied: %+v", c)
				}
				if c.Server != tt.wantServer {
					t.Errorf("Server = %q, want %q", c.Server, tt.wantServer)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Validate() = %v, want an error containing %q", err, tt.wantErr)
			}
			if !errors.Is(err, ErrInvalidConfig) {
				t.Errorf("error %v does not wrap ErrInvalidConfig", err)
			}
		})
	}
	named := Config{Name: "ns-check", Query: "a.test", Type: "SOA"}
	if err := named.Validate(); err == nil || !strings.Contains(err.Error(), `"ns-check"`) {
		t.Errorf("error %v does not name the target", err)
	}
}

func TestExampleValidates(t *testing.T) {
	var c Config
	if err := decodeAndValidate([]byte(Example), &c); err != nil {
		t.Fatalf("Example does not validate: %v", err)
	}
}

func ExampleProbe() {
	// Queries go to a nameserver given as host:port; 127.0.0.1:1 has none.
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	p := Probe(ctx, Config{Query: "www.example.test", Server: "127.0.0.1:1", Network: "tcp"}, time.Now)[0]
	fmt.Println(p.Tags["target"], p.Tags["type"], p.Tags["server"], p.Fields["up"], p.Fields["error"])
	// Output: www.example.test A 127.0.0.1:1 0 connection refused
}
