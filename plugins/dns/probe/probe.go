package probe

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"syscall"
	"time"

	"github.com/pantau-noc/pantau/plugins/internal/svccheck"
	"github.com/pantau-noc/pantau/plugins/sdk"
)

// Measurement is the measurement name of the points Probe returns.
const Measurement = "dns"

// DefaultTimeout bounds a check whose context has no deadline.
const DefaultTimeout = svccheck.DefaultTimeout

// SystemServer is the "server" tag value when the system's nameservers are
// used.
const SystemServer = "system"

// Probe runs one DNS check against c and returns exactly one point. It
// never panics. On failure the point has up=0 and an "error" field with a
// short reason ("no such host" for NXDOMAIN or an empty answer, "timeout",
// ...). The context's deadline bounds the lookup, including retries. now
// supplies the point time; nil means time.Now.
func Probe(ctx context.Context, c Config, now func() time.Time) []sdk.Point {
	return svccheck.Run(ctx, Measurement, now,
		func(tags map[string]string) error {
			verr := c.Validate()
			setTags(tags, &c)
			return verr
		},
		func(ctx context.Context, now func() time.Time, f map[string]any) error { return check(ctx, &c, f) })
}

func setTags(tags map[string]string, c *Config) {
	target := strings.TrimSpace(c.Name)
	if target == "" {
		target = c.Query
	}
	if target == "" {
		target = "unknown"
	}
	typ := strings.ToUpper(strings.TrimSpace(c.Type))
	if typ == "" {
		typ = DefaultType
	}
	server := c.Server
	if server == "" {
		server = SystemServer
	}
	tags["target"] = target
	tags["query"] = c.Query
	tags["type"] = typ
	tags["server"] = server
}

// resolver returns a pure-Go resolver that sends every query to c.Server
// (when set) over c.Network.
func (c *Config) resolver() *net.Resolver {
	r := &net.Resolver{PreferGo: true}
	if c.Server == "" && c.Network != "tcp" {
		return r
	}
	r.Dial = func(ctx context.Context, network, address string) (net.Conn, error) {
		if c.Server != "" {
			address = c.Server
		}
		if c.Network == "tcp" {
			network = "tcp"
		}
		var d net.Dialer
		conn, err := d.DialContext(ctx, network, address)
		if err != nil {
			return nil, fmt.Errorf("dial %s %s: %w", network, address, err)
		}
		return conn, nil
	}
	return r
}

func check(ctx context.Context, c *Config, f map[string]any) error {
	r := c.resolver()
	// A rooted name: no search domains, no ndots games.
	fqdn := strings.TrimSuffix(c.Query, ".") + "."

	var (
		ips    []netip.Addr
		values []string
		err    error
	)
	start := time.Now()
	switch c.Type {
	case "A":
		ips, err = r.LookupNetIP(ctx, "ip4", fqdn)
	case "AAAA":
		ips, err = r.LookupNetIP(ctx, "ip6", fqdn)
	case "CNAME":
		var cname string
		cname, err = r.LookupCNAME(ctx, fqdn)
		if err == nil && !strings.EqualFold(normName(cname), fqdn) {
			values = []string{cname}
		}
	case "MX":
		var mxs []*net.MX
		mxs, err = r.LookupMX(ctx, fqdn)
		for _, mx := range mxs {
			values = append(values, mx.Host)
		}
	case "NS":
		var nss []*net.NS
		nss, err = r.LookupNS(ctx, fqdn)
		for _, ns := range nss {
			values = append(values, ns.Host)
		}
	case "TXT":
		values, err = r.LookupTXT(ctx, fqdn)
	default:
		err = fmt.Errorf("record type %q not supported", c.Type)
	}
	f["resolve_seconds"] = time.Since(start).Seconds()
	if err != nil {
		if len(c.Expect) > 0 {
			f["answer_match"] = int64(0)
		}
		return errors.New(reason(ctx, err))
	}

	n := len(values)
	if c.Type == "A" || c.Type == "AAAA" {
		n = len(ips)
	}
	f["answers"] = int64(n)
	if n == 0 {
		if len(c.Expect) > 0 {
			f["answer_match"] = int64(0)
		}
		if c.Type == "CNAME" {
			return errors.New("no CNAME record")
		}
		return errors.New("no such host")
	}

	if len(c.Expect) == 0 {
		return nil
	}
	missing := c.missing(ips, values)
	if len(missing) == 0 {
		f["answer_match"] = int64(1)
		return nil
	}
	f["answer_match"] = int64(0)
	return fmt.Errorf("answer does not contain %s", strings.Join(quoteAll(missing), ", "))
}

// missing returns the expected values absent from the answer.
func (c *Config) missing(ips []netip.Addr, values []string) []string {
	var out []string
	switch c.Type {
	case "A", "AAAA":
		have := make(map[netip.Addr]bool, len(ips))
		for _, ip := range ips {
			have[ip.Unmap().WithZone("")] = true
		}
		for i, want := range c.expectIPs {
			if !have[want] {
				out = append(out, c.Expect[i])
			}
		}
	case "TXT":
		have := make(map[string]bool, len(values))
		for _, v := range values {
			have[v] = true
		}
		for _, want := range c.Expect {
			if !have[want] {
				out = append(out, want)
			}
		}
	default: // host names
		have := make(map[string]bool, len(values))
		for _, v := range values {
			have[normName(v)] = true
		}
		for _, want := range c.Expect {
			if !have[normName(want)] {
				out = append(out, want)
			}
		}
	}
	return out
}

// normName lower-cases a host name and gives it a trailing dot.
func normName(s string) string {
	return strings.ToLower(strings.TrimSuffix(strings.TrimSpace(s), ".")) + "."
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		if len(s) > 64 {
			s = s[:61] + "..."
		}
		out[i] = fmt.Sprintf("%q", s)
	}
	return out
}

// reason turns a lookup error into a short description for the "error"
// field.
func reason(ctx context.Context, err error) string {
	var (
		dnsErr *net.DNSError
		netErr net.Error
	)
	isDNS := errors.As(err, &dnsErr)
	switch {
	case errors.Is(ctx.Err(), context.Canceled), errors.Is(err, context.Canceled):
		return "canceled"
	case isDNS && dnsErr.IsNotFound:
		return "no such host"
	case isDNS && dnsErr.IsTimeout, errors.Is(err, context.DeadlineExceeded),
		errors.As(err, &netErr) && netErr.Timeout(), errors.Is(ctx.Err(), context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, syscall.ECONNREFUSED), isDNS && strings.Contains(dnsErr.Err, "connection refused"):
		return "connection refused"
	case isDNS:
		return dnsErr.Err
	}
	return err.Error()
}
