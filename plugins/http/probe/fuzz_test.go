package probe

import (
	"bytes"
	"encoding/json"
	"testing"
)

func decodeAndValidate(data []byte, c *Config) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(c); err != nil {
		return err
	}
	return c.Validate()
}

func FuzzConfig(f *testing.F) {
	f.Add([]byte(Example))
	f.Add([]byte(`{"url":"http://127.0.0.1:8080/health"}`))
	f.Add([]byte(`{"name":"p","url":"https://x.go.id/","method":"HEAD","follow_redirects":false,"expect_status":[301,302]}`))
	f.Add([]byte(`{"url":"https://x/","content_match":"(a+)+$","max_body_bytes":-5}`))
	f.Add([]byte(`{"url":"http://x/","proxy":"env","headers":{"Host":"y","X-A":"b"},"ca_file":"/nonexistent"}`))
	f.Add([]byte(`{"url":"ftp://x/","method":"POST"}`))
	f.Add([]byte(`{"url":""}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{"url":"http://[::1]:80/","proxy":"http://user:pw@proxy:3128"}`))
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
		if c.Method != "GET" && c.Method != "HEAD" {
			t.Fatalf("valid config %q has method %q", data, c.Method)
		}
		if c.MaxBodyBytes <= 0 || c.FollowRedirects == nil {
			t.Fatalf("valid config %q lacks defaults: %+v", data, c)
		}
		// Validation is idempotent.
		again := c
		if err := again.Validate(); err != nil {
			t.Fatalf("second Validate of %q failed: %v", data, err)
		}
		if again.Name != c.Name {
			t.Fatalf("second Validate changed the name %q to %q", c.Name, again.Name)
		}
	})
}
