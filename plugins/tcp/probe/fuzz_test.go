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
	f.Add([]byte(`{"address":"127.0.0.1:22"}`))
	f.Add([]byte(`{"name":"ldaps","address":"ldap.go.id:636","tls":true,"server_name":"ldap.go.id","ca_file":"/etc/ca.pem"}`))
	f.Add([]byte(`{"address":"[::1]:993","tls":true,"insecure_skip_verify":true,"expect":"^\\* OK"}`))
	f.Add([]byte(`{"address":"h:0","expect":"(("}`))
	f.Add([]byte(`{"address":"h:25","server_name":"x"}`))
	f.Add([]byte(`{}`))
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
		if c.TLS && c.ServerName == "" {
			t.Fatalf("valid TLS config %q has no server name", data)
		}
		again := c
		if err := again.Validate(); err != nil || again.Name != c.Name {
			t.Fatalf("second Validate of %q: %v, name %q -> %q", data, err, c.Name, again.Name)
		}
	})
}
