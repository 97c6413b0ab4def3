package snmp

import (
	"strings"
	"testing"
	"time"
)

func TestValidate(t *testing.T) {
	good := []Target{
		{Address: "192.0.2.1", Version: "2c", Community: "public"},
		{Address: "192.0.2.1:1161", Version: "1", Community: "public"},
		{Address: "[2001:db8::1]:161", Version: "2c", Community: "public"},
		{Address: "2001:db8::1", Version: "2c", Community: "public"},
		{Address: "switch1.example.net", Version: "3", Username: "u"},
		{Address: "sw:161", Version: "3", Username: "u", SecurityLevel: "authNoPriv", AuthProtocol: "sha-256", AuthPassphrase: "12345678"},
		{Address: "sw", Version: "3", Username: "u", SecurityLevel: "authPriv", AuthProtocol: "SHA512", AuthPassphrase: "12345678", PrivProtocol: "AES256", PrivPassphrase: "abcdefgh"},
		{Address: "sw", Version: "3", Username: "u", AuthProtocol: "SHA", AuthPassphrase: "12345678", PrivProtocol: "AES", PrivPassphrase: "abcdefgh"}, // level implied
		{Address: "sw", Version: "2c", Community: "c", Interfaces: []string{"Gi1/0/[0-9]+", "uplink.*", "3"}},
	}
	for _, tgt := range good {
		if err := tgt.Validate(); err != nil {
			t.Errorf("Validate(%+v) = %v", tgt, err)
		}
	}
	bad := []struct {
		tgt   Target
		field string
	}{
		{Target{Version: "2c", Community: "c"}, "Address"},
		{Target{Address: "sw:notaport", Version: "2c", Community: "c"}, "Address"},
		{Target{Address: "sw:0", Version: "2c", Community: "c"}, "Address"},
		{Target{Address: "sw", Community: "c"}, "Version"},
		{Target{Address: "sw", Version: "2", Community: "c"}, "Version"},
		{Target{Address: "sw", Version: "2c"}, "Community"},
		{Target{Address: "sw", Version: "3"}, "Username"},
		{Target{Address: "sw", Version: "3", Username: "u", SecurityLevel: "authpriv"}, "SecurityLevel"},
		{Target{Address: "sw", Version: "3", Username: "u", SecurityLevel: "authNoPriv", AuthPassphrase: "12345678"}, "AuthProtocol"},
		{Target{Address: "sw", Version: "3", Username: "u", SecurityLevel: "authNoPriv", AuthProtocol: "SHA", AuthPassphrase: "short"}, "AuthPassphrase"},
		{Target{Address: "sw", Version: "3", Username: "u", SecurityLevel: "authPriv", AuthProtocol: "SHA", AuthPassphrase: "12345678", PrivProtocol: "3DES", PrivPassphrase: "12345678"}, "PrivProtocol"},
		{Target{Address: "sw", Version: "3", Username: "u", SecurityLevel: "authPriv", AuthProtocol: "SHA", AuthPassphrase: "12345678", PrivProtocol: "AES"}, "PrivPassphrase"},
		{Target{Address: "sw", Version: "2c", Community: "c", Interfaces: []string{"Gi(1"}}, "Interfaces[0]"},
		{Target{Address: "sw", Version: "2c", Community: "c", Timeout: -time.Second}, "Timeout"},
		{Target{Address: "sw", Version: "2c", Community: "c", MaxRepetitions: 100000}, "MaxRepetitions"},
	}
	for _, c := range bad {
		err := c.tgt.Validate()
		if err == nil || !strings.Contains(err.Error(), c.field) {
			t.Errorf("Validate(%+v) = %v, want error naming %s", c.tgt, err, c.field)
			continue
		}
		if c.tgt.AuthPassphrase != "" && strings.Contains(err.Error(), c.tgt.AuthPassphrase) {
			t.Errorf("error leaks passphrase: %v", err)
		}
	}
	if _, err := NewPoller(Target{Address: "sw", Version: "2c"}, nil); err == nil {
		t.Fatal("NewPoller accepted an invalid target")
	}
}

func TestDefaults(t *testing.T) {
	p, err := NewPoller(Target{Address: "192.0.2.1", Version: "2c", Community: "c"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := p.Target()
	if got.Name != "192.0.2.1" || got.MaxRepetitions != 25 || got.Timeout != 10*time.Second || got.Retries != 1 {
		t.Fatalf("defaults %+v", got)
	}
	if rt := got.requestTimeout(); rt <= 0 || rt > got.Timeout {
		t.Fatalf("request timeout %v", rt)
	}
	host, port, err := splitAddress("[::1]:1161")
	if err != nil || host != "::1" || port != 1161 {
		t.Fatalf("split %q %d %v", host, port, err)
	}
	p, _ = NewPoller(Target{Address: "x", Version: "2c", Community: "c", Retries: -1}, nil)
	if p.Target().Retries != 0 {
		t.Fatal("negative retries must mean none")
	}
}
