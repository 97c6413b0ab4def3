// Package probe implements the TCP service check of the pantau tcp plugin:
// it connects to an address, optionally performs a TLS handshake, sends a
// payload and matches the first bytes of the response against a regular
// expression, and reports timings and TLS certificate expiry as a single
// point.
package probe

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
)

// MaxResponseBytes is how much of the response is read to match Expect.
const MaxResponseBytes = 4 << 10 // 4 KiB

// ErrInvalidConfig is wrapped by every error Validate returns.
var ErrInvalidConfig = errors.New("invalid config")

// Example is a JSON configuration for one target, used in documentation.
const Example = `{
  "address": "mail.sorongkab.go.id:25",
  "send": "EHLO pantau.sorongkab.go.id\r\n",
  "expect": "^220 "
}`

// Config is the per-target configuration of the TCP check.
type Config struct {
	// Name is the target name, used as the "target" tag. When empty,
	// Validate sets it to Address.
	Name string `json:"name"`
	// Address is host:port; host is a name or an IP address (IPv6 in
	// brackets), port is numeric.
	Address string `json:"address"`
	// TLS performs a TLS handshake after connecting (e.g. 443, 465, 636,
	// 993, 995).
	TLS bool `json:"tls"`
	// ServerName is the name sent in SNI and checked against the
	// certificate. Defaults to the host of Address. Requires TLS.
	ServerName string `json:"server_name"`
	// InsecureSkipVerify disables certificate verification; the expiry is
	// still reported. Requires TLS.
	InsecureSkipVerify bool `json:"insecure_skip_verify"`
	// CAFile is a PEM file of additional trusted root certificates, added
	// to the system roots. Requires TLS.
	CAFile string `json:"ca_file"`
	// RootCAs, when set, replaces the trusted roots entirely. It cannot be
	// set from JSON; it exists for tests and embedding programs.
	RootCAs *x509.CertPool `json:"-"`
	// Send is written after connecting (and after the TLS handshake).
	Send string `json:"send"`
	// Expect is a regular expression (RE2 syntax) that must match the
	// first MaxResponseBytes bytes the server sends.
	Expect string `json:"expect"`

	expectRE *regexp.Regexp
	host     string
}

// Validate checks the configuration and applies defaults. It does not read
// CAFile; a missing or invalid file is reported by Probe.
func (c *Config) Validate() error {
	c.Address = strings.TrimSpace(c.Address)
	if c.Address == "" {
		return c.fieldError("address", "is required")
	}
	host, port, err := net.SplitHostPort(c.Address)
	if err != nil {
		return c.fieldErrorWrap("address", err)
	}
	if host == "" {
		return c.fieldError("address", "has no host")
	}
	if p, err := strconv.ParseUint(port, 10, 16); err != nil || p == 0 {
		return c.fieldError("address", fmt.Sprintf("port %q is not a number between 1 and 65535", port))
	}
	c.host = host
	if strings.TrimSpace(c.Name) == "" {
		c.Name = c.Address
	}

	c.ServerName = strings.TrimSpace(c.ServerName)
	c.CAFile = strings.TrimSpace(c.CAFile)
	if !c.TLS {
		switch {
		case c.ServerName != "":
			return c.fieldError("server_name", "requires tls: true")
		case c.CAFile != "":
			return c.fieldError("ca_file", "requires tls: true")
		case c.InsecureSkipVerify:
			return c.fieldError("insecure_skip_verify", "requires tls: true")
		}
	}
	if c.TLS && c.ServerName == "" {
		c.ServerName = host
	}

	c.expectRE = nil
	if c.Expect != "" {
		re, err := regexp.Compile(c.Expect)
		if err != nil {
			return c.fieldErrorWrap("expect", err)
		}
		c.expectRE = re
	}
	return nil
}

func (c *Config) label() string {
	if c.Name != "" {
		return fmt.Sprintf("tcp target %q", c.Name)
	}
	return "tcp target"
}

func (c *Config) fieldError(field, msg string) error {
	return fmt.Errorf("%s: %w: field %s %s", c.label(), ErrInvalidConfig, field, msg)
}

func (c *Config) fieldErrorWrap(field string, err error) error {
	return fmt.Errorf("%s: %w: field %s: %w", c.label(), ErrInvalidConfig, field, err)
}
