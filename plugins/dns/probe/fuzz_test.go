package probe

import (
	"bytes"
	"encoding/json"
	"testing"
)

func decodeAndValidate(data []byte, c *Config) error {
	if err := json.NewDecoder(bytes.NewReader(data)).Decode(c); err != nil {
		return err
	}
	return c.Validate()
}

func FuzzConfig(f *testing.F) {
	f.Add([]byte(Example))
	f.Add([]byte(`{"query":"sorongkab.go.id"}`))
	f.Add([]byte(`{"name":"mx","query":"go.id","type":"mx","server":"8.8.8.8","network":"TCP","expect":["mail.go.id."]}`))
	f.Add([]byte(`{"query":"www.go.id","type":"AAAA","server":"[2001:db8::53]:53","expect":["2001:db8::1","::ffff:1.2.3.4"]}`))
	f.Add([]byte(`{"query":"_dmarc.go.id","type":"TXT","expect":["","v=DMARC1; p=none"]}`))
	f.Add([]byte(`{"query":"1.2.3.4","type":"PTR","server":":53"}`))
	f.Add([]byte(`{"query":".","server":"[::1"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var c Config
		if err := json.Unmarshal(data, &c); err != nil {
			return
		}
		if err := c.Validate(); err != nil {
			return
		}
		if c.Name == "" {
			t.Fatalf("valid config %q has an empty target name", data)
		}
		if !supportedType(c.Type) || (c.Network != "udp" && c.Network != "tcp") {
			t.Fatalf("valid config %q has type %q network %q", data, c.Type, c.Network)
		}
		again := c
		if err := again.Validate(); err != nil || again.Server != c.Server || again.Name != c.Name {
			t.Fatalf("second Validate of %q: %v, server %q -> %q", data, err, c.Server, again.Server)
		}
	})
}
