package snmp

import (
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
)

// TestCustomValue: gauge scaling, numbers sent as text, and rates from
// uint64 deltas (a 32-bit counter wraps once, a 64-bit one that goes
// back is a reset: no value).
func TestCustomValue(t *testing.T) {
	p := &Poller{}
	seen := map[string]bool{}
	t0 := time.Unix(1000, 0)
	for _, tc := range []struct {
		typ   string
		scale float64
		pdu   gosnmp.SnmpPDU
		want  float64
		ok    bool
	}{
		{"gauge", 0.1, gosnmp.SnmpPDU{Type: gosnmp.Integer, Value: 154}, 15.4, true},
		{"gauge", 0, gosnmp.SnmpPDU{Type: gosnmp.Integer, Value: -61}, -61, true},
		{"gauge", 1, gosnmp.SnmpPDU{Type: gosnmp.OctetString, Value: []byte("33.5")}, 33.5, true},
		{"gauge", 1, gosnmp.SnmpPDU{Type: gosnmp.OctetString, Value: []byte("n/a")}, 0, false},
		{"counter", 8, gosnmp.SnmpPDU{Type: gosnmp.Counter64, Value: uint64(1 << 40)}, 8 * (1 << 40), true},
	} {
		got, ok := p.customValue(tc.typ, tc.scale, "k", tc.pdu, t0, seen)
		if ok != tc.ok || (ok && got != tc.want) {
			t.Errorf("%s %v: %v %v, want %v %v", tc.typ, tc.pdu.Value, got, ok, tc.want, tc.ok)
		}
	}
	rate := func(key string, typ gosnmp.Asn1BER, v any, at time.Time) (float64, bool) {
		return p.customValue("rate", 8, key, gosnmp.SnmpPDU{Type: typ, Value: v}, at, seen)
	}
	if _, ok := rate("c32", gosnmp.Counter32, uint32(4294967000), t0); ok {
		t.Error("a rate on the first reading")
	}
	// wrapped: 4294967000 -> 704 is 1000 octets in 10 s = 800 bit/s
	if r, ok := rate("c32", gosnmp.Counter32, uint32(704), t0.Add(10*time.Second)); !ok || r != 800 {
		t.Errorf("32-bit wrap: %v %v", r, ok)
	}
	rate("c64", gosnmp.Counter64, uint64(5000), t0)
	if _, ok := rate("c64", gosnmp.Counter64, uint64(100), t0.Add(10*time.Second)); ok {
		t.Error("a rate across a 64-bit reset")
	}
	if len(p.customRates) != 2 {
		t.Errorf("rate state %v", p.customRates)
	}
}

func TestTagValue(t *testing.T) {
	for _, tc := range []struct {
		typ  string
		v    any
		want string
	}{
		{"mac", []byte{0, 0x0c, 0x42, 0xaa, 0xbb, 0xcc}, "00:0c:42:aa:bb:cc"},
		{"hex", []byte{1, 2}, "01:02"},
		{"string", []byte("wlan1\x00"), "wlan1"},
		{"string", 42, "42"},
		{"string", uint32(7), "7"},
	} {
		if got := tagValue(tc.typ, gosnmp.SnmpPDU{Value: tc.v}); got != tc.want {
			t.Errorf("%s %v = %q, want %q", tc.typ, tc.v, got, tc.want)
		}
	}
}
