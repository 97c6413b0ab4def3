// Package probe implements the DNS check of the pantau dns plugin: it
// resolves a name for one record type, either through the system's
// nameservers or a given server, optionally checks that expected values are
// in the answer, and reports the resolution time as a single point.
package probe

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// Defaults applied by Validate.
const (
	DefaultType    = "A"
	DefaultNetwork = "udp"
	DefaultPort    = "53"
)

// Types lists the supported record types.
var Types = []string{"A", "AAAA", "CNAME", "MX", "TXT", "NS"}

// ErrInvalidConfig is wrapped by every error Validate returns.
var ErrInvalidConfig = errors.New("invalid config")

// Example is a JSON configuration for one target, used in documentation.
const Example = `{
  "query": "sorongkab.go.id",
  "type": "A",
  "server": "203.0.113.53:53",
  "network": "udp",
  "expect": ["203.0.113.10"]
}`

// Config is the per-target configuration of the DNS check.
type Config struct {
	// Name is the target name, used as the "target" tag. When empty,
	// Validate sets it to Query.
	Name string `json:"name"`
	// Query is the domain name to resolve. It is always treated as fully
	// qualified: no search domains are appended. Internationalised names
	// must be given in their ASCII (xn--) form.
	Query string `json:"query"`
	// Type is the record type: A (default), AAAA, CNAME, MX, TXT or NS.
	Type string `json:"type"`
	// Server is the nameserver as host:port; the port defaults to 53.
	// Empty means the system's nameservers (/etc/resolv.conf).
	Server string `json:"server"`
	// Network is "udp" (default; a truncated answer is retried over TCP)
	// or "tcp".
	Network string `json:"network"`
	// Expect lists values that must all be in the answer: IP addresses for
	// A and AAAA (compared as addresses, so "2001:db8::1" equals
	// "2001:0db8:0:0::1"), host names for CNAME, MX and NS (compared
	// case-insensitively, trailing dot optional), and exact strings for
	// TXT (the strings of one record joined without separator).
	Expect []string `json:"expect"`

	expectIPs []netip.Addr
}

// Validate checks the configuration and applies defaults.
func (c *Config) Validate() error {
	c.Query = strings.TrimSpace(c.Query)
	if c.Query == "" {
		return c.fieldError("query", "is required")
	}
	if _, err := netip.ParseAddr(c.Query); err == nil {
		return c.fieldError("query", "is an IP address; reverse (PTR) lookups are not supported")
	}
	if err := checkDomainName(c.Query); err != nil {
		return c.fieldErrorWrap("query", err)
	}
	if strings.TrimSpace(c.Name) == "" {
		c.Name = c.Query
	}

	c.Type = strings.ToUpper(strings.TrimSpace(c.Type))
	if c.Type == "" {
		c.Type = DefaultType
	}
	if !supportedType(c.Type) {
		return c.fieldError("type", fmt.Sprintf("%q not supported (want one of %s)", c.Type, strings.Join(Types, ", ")))
	}

	c.Server = strings.TrimSpace(c.Server)
	if c.Server != "" {
		server, err := normalizeServer(c.Server)
		if err != nil {
			return c.fieldErrorWrap("server", err)
		}
		c.Server = server
	}

	c.Network = strings.ToLower(strings.TrimSpace(c.Network))
	switch c.Network {
	case "":
		c.Network = DefaultNetwork
	case "udp", "tcp":
	default:
		return c.fieldError("network", fmt.Sprintf("%q not supported (want udp or tcp)", c.Network))
	}

	c.expectIPs = nil
	for i, e := range c.Expect {
		if strings.TrimSpace(e) == "" && c.Type != "TXT" {
			return c.fieldError("expect", fmt.Sprintf("entry %d is empty", i))
		}
		switch c.Type {
		case "A", "AAAA":
			ip, err := netip.ParseAddr(strings.TrimSpace(e))
			if err != nil {
				return c.fieldError("expect", fmt.Sprintf("entry %q is not an IP address", e))
			}
			ip = ip.Unmap()
			if c.Type == "A" && !ip.Is4() {
				return c.fieldError("expect", fmt.Sprintf("entry %q is not an IPv4 address (type A)", e))
			}
			if c.Type == "AAAA" && ip.Is4() {
				return c.fieldError("expect", fmt.Sprintf("entry %q is an IPv4 address (type AAAA)", e))
			}
			c.expectIPs = append(c.expectIPs, ip.WithZone(""))
		case "CNAME", "MX", "NS":
			if err := checkDomainName(strings.TrimSpace(e)); err != nil {
				return c.fieldError("expect", fmt.Sprintf("entry %q: %v", e, err))
			}
		}
	}
	return nil
}

func supportedType(t string) bool {
	for _, s := range Types {
		if s == t {
			return true
		}
	}
	return false
}

// normalizeServer accepts host, host:port, an IPv6 address without
// brackets or [IPv6]:port, and returns host:port.
func normalizeServer(s string) (string, error) {
	if ip, err := netip.ParseAddr(s); err == nil {
		return net.JoinHostPort(ip.String(), DefaultPort), nil
	}
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		if ip, err := netip.ParseAddr(s[1 : len(s)-1]); err == nil {
			return net.JoinHostPort(ip.String(), DefaultPort), nil
		}
	}
	host, port := s, DefaultPort
	if strings.Contains(s, ":") {
		var err error
		if host, port, err = net.SplitHostPort(s); err != nil {
			return "", err
		}
	}
	if host == "" {
		return "", fmt.Errorf("%q has no host", s)
	}
	if p, err := strconv.ParseUint(port, 10, 16); err != nil || p == 0 {
		return "", fmt.Errorf("port %q is not a number between 1 and 65535", port)
	}
	if _, err := netip.ParseAddr(host); err != nil {
		if err := checkDomainName(host); err != nil {
			return "", fmt.Errorf("host %q: %w", host, err)
		}
	}
	return net.JoinHostPort(host, port), nil
}

// checkDomainName checks presentation-format syntax loosely: labels of 1 to
// 63 letters, digits, hyphens or underscores, 253 characters in all, an
// optional trailing dot.
func checkDomainName(name string) error {
	n := strings.TrimSuffix(name, ".")
	if n == "" {
		return errors.New("empty domain name")
	}
	if len(n) > 253 {
		return fmt.Errorf("domain name longer than 253 characters")
	}
	for _, label := range strings.Split(n, ".") {
		if label == "" {
			return fmt.Errorf("domain name %q has an empty label", name)
		}
		if len(label) > 63 {
			return fmt.Errorf("domain name %q has a label longer than 63 characters", name)
		}
		for i := 0; i < len(label); i++ {
			ch := label[i]
			if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '-' || ch == '_') {
				return fmt.Errorf("domain name %q has invalid character %q", name, ch)
			}
		}
	}
	return nil
}

func (c *Config) label() string {
	if c.Name != "" {
		return fmt.Sprintf("dns target %q", c.Name)
	}
	return "dns target"
}

func (c *Config) fieldError(field, msg string) error {
	return fmt.Errorf("%s: %w: field %s %s", c.label(), ErrInvalidConfig, field, msg)
}

func (c *Config) fieldErrorWrap(field string, err error) error {
	return fmt.Errorf("%s: %w: field %s: %w", c.label(), ErrInvalidConfig, field, err)
}
