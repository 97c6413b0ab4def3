// Package snmp polls network devices over SNMP (v1, v2c, v3) for interface
// counters and device health and turns them into schema v1 points
// (snmp_if, snmp_device).
package snmp

import (
	"errors"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gosnmp/gosnmp"
)

// Target is one device to poll.
type Target struct {
	Name      string // device tag; default Address
	Address   string // host:port (IPv4, [IPv6]:port, or host; port default 161)
	Version   string // "1", "2c", "3"
	Community string

	// SNMPv3. SecurityLevel is noAuthNoPriv, authNoPriv or authPriv;
	// AuthProtocol MD5, SHA, SHA224, SHA256, SHA384 or SHA512;
	// PrivProtocol DES, AES, AES192, AES256, AES192C or AES256C.
	Username, SecurityLevel, AuthProtocol, AuthPassphrase, PrivProtocol, PrivPassphrase, ContextName string

	// Interfaces selects interfaces: each entry is an anchored regular
	// expression (^...$) matched against ifName, ifAlias, ifDescr and the
	// ifIndex. Empty selects all.
	Interfaces []string

	MaxRepetitions uint32        // GETBULK max-repetitions; default 25
	Timeout        time.Duration // whole-poll budget; default 10s
	Retries        int           // per request; 0 means the default 1, negative means none

	Tags map[string]string // inventory tags added to every point

	// Profile is the vendor profile: "" or "auto" chooses one by the
	// device's sysObjectID, "none" reads none, any other name forces
	// that built-in profile (see ProfileNames).
	Profile string
	Custom  []CustomSet // user-defined scalars and tables (custom.go)
}

// Defaults.
const (
	DefaultMaxRepetitions = 25
	DefaultTimeout        = 10 * time.Second
	DefaultRetries        = 1
	defaultPort           = 161
)

var authProtocols = map[string]gosnmp.SnmpV3AuthProtocol{
	"MD5":    gosnmp.MD5,
	"SHA":    gosnmp.SHA,
	"SHA224": gosnmp.SHA224,
	"SHA256": gosnmp.SHA256,
	"SHA384": gosnmp.SHA384,
	"SHA512": gosnmp.SHA512,
}

var privProtocols = map[string]gosnmp.SnmpV3PrivProtocol{
	"DES":     gosnmp.DES,
	"AES":     gosnmp.AES,
	"AES192":  gosnmp.AES192,
	"AES256":  gosnmp.AES256,
	"AES192C": gosnmp.AES192C,
	"AES256C": gosnmp.AES256C,
}

// normProto upper-cases a protocol name and drops '-' so "sha-256" works.
func normProto(s string) string {
	return strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(s), "-", ""))
}

// DeviceName is the device tag: Name, or Address when Name is empty.
func (t Target) DeviceName() string {
	if t.Name != "" {
		return t.Name
	}
	return t.Address
}

// securityLevel returns the configured level, or the one implied by the
// passphrases when it is empty.
func (t Target) securityLevel() string {
	if t.SecurityLevel != "" {
		return t.SecurityLevel
	}
	switch {
	case t.PrivPassphrase != "":
		return "authPriv"
	case t.AuthPassphrase != "":
		return "authNoPriv"
	}
	return "noAuthNoPriv"
}

// Validate checks the target and returns an error naming the offending
// field (never its secret value).
func (t Target) Validate() error {
	name := t.DeviceName()
	bad := func(format string, a ...any) error {
		return fmt.Errorf("snmp target %q: %s", name, fmt.Sprintf(format, a...))
	}
	if strings.TrimSpace(t.Address) == "" {
		return bad("Address is required")
	}
	if _, _, err := splitAddress(t.Address); err != nil {
		return bad("Address %q: %v", t.Address, err)
	}
	switch t.Version {
	case "1", "2c":
		if t.Community == "" {
			return bad("Community is required for SNMP version %s", t.Version)
		}
	case "3":
		if t.Username == "" {
			return bad("Username is required for SNMP version 3")
		}
		lvl := t.securityLevel()
		switch lvl {
		case "noAuthNoPriv", "authNoPriv", "authPriv":
		default:
			return bad("SecurityLevel %q is invalid (want noAuthNoPriv, authNoPriv or authPriv)", t.SecurityLevel)
		}
		if lvl != "noAuthNoPriv" {
			if _, ok := authProtocols[normProto(t.AuthProtocol)]; !ok {
				return bad("AuthProtocol %q is invalid for SecurityLevel %s (want MD5, SHA, SHA224, SHA256, SHA384 or SHA512)", t.AuthProtocol, lvl)
			}
			if len(t.AuthPassphrase) < 8 {
				return bad("AuthPassphrase must be at least 8 characters for SecurityLevel %s", lvl)
			}
		}
		if lvl == "authPriv" {
			if _, ok := privProtocols[normProto(t.PrivProtocol)]; !ok {
				return bad("PrivProtocol %q is invalid for SecurityLevel authPriv (want DES, AES, AES192, AES256, AES192C or AES256C)", t.PrivProtocol)
			}
			if len(t.PrivPassphrase) < 8 {
				return bad("PrivPassphrase must be at least 8 characters for SecurityLevel authPriv")
			}
		}
	case "":
		return bad("Version is required (1, 2c or 3)")
	default:
		return bad("Version %q is invalid (want 1, 2c or 3)", t.Version)
	}
	for i, expr := range t.Interfaces {
		if _, err := compileSelector(expr); err != nil {
			return bad("Interfaces[%d] %q is not a valid regular expression: %v", i, expr, err)
		}
	}
	if !validProfile(t.Profile) {
		return bad("Profile %q is unknown (want one of %s)", t.Profile, strings.Join(ProfileNames(), ", "))
	}
	if t.Timeout < 0 {
		return bad("Timeout must not be negative")
	}
	if t.MaxRepetitions > 1000 {
		return bad("MaxRepetitions %d is too large (at most 1000)", t.MaxRepetitions)
	}
	return nil
}

func compileSelector(expr string) (*regexp.Regexp, error) {
	return regexp.Compile("^(?:" + expr + ")$")
}

// splitAddress parses host:port, [v6]:port, a bare host or a bare IPv6 address.
func splitAddress(addr string) (string, uint16, error) {
	addr = strings.TrimSpace(addr)
	if host, port, err := net.SplitHostPort(addr); err == nil {
		if host == "" {
			return "", 0, errors.New("missing host")
		}
		p, err := strconv.ParseUint(port, 10, 16)
		if err != nil || p == 0 {
			return "", 0, fmt.Errorf("invalid port %q", port)
		}
		return host, uint16(p), nil
	}
	if strings.HasPrefix(addr, "[") && strings.HasSuffix(addr, "]") {
		addr = addr[1 : len(addr)-1]
	}
	if strings.Contains(addr, ":") && net.ParseIP(addr) == nil {
		return "", 0, errors.New("want host, host:port or [ipv6]:port")
	}
	if addr == "" || strings.ContainsAny(addr, " /[]") {
		return "", 0, errors.New("invalid host")
	}
	return addr, defaultPort, nil
}

// withDefaults fills in defaults.
func (t Target) withDefaults() Target {
	if t.MaxRepetitions == 0 {
		t.MaxRepetitions = DefaultMaxRepetitions
	}
	if t.Timeout == 0 {
		t.Timeout = DefaultTimeout
	}
	switch {
	case t.Retries == 0:
		t.Retries = DefaultRetries
	case t.Retries < 0:
		t.Retries = 0
	}
	if t.Name == "" {
		t.Name = t.Address
	}
	return t
}

// requestTimeout is the per-request timeout derived from the poll budget:
// a lost request plus its retries uses at most half of the budget.
func (t Target) requestTimeout() time.Duration {
	d := t.Timeout / time.Duration(2*(t.Retries+1))
	if d < 100*time.Millisecond {
		d = 100 * time.Millisecond
	}
	return d
}

// newClient builds a fresh, unconnected gosnmp client (fresh USM security
// parameters, so v3 engine discovery happens again on first use).
func (t Target) newClient() (*gosnmp.GoSNMP, error) {
	host, port, err := splitAddress(t.Address)
	if err != nil {
		return nil, err
	}
	g := &gosnmp.GoSNMP{
		Target:         host,
		Port:           port,
		Transport:      "udp",
		Community:      t.Community,
		Timeout:        t.requestTimeout(),
		Retries:        t.Retries,
		MaxOids:        gosnmp.MaxOids,
		MaxRepetitions: t.MaxRepetitions,
	}
	switch t.Version {
	case "1":
		g.Version = gosnmp.Version1
	case "2c":
		g.Version = gosnmp.Version2c
	case "3":
		g.Version = gosnmp.Version3
		g.SecurityModel = gosnmp.UserSecurityModel
		g.ContextName = t.ContextName
		usm := &gosnmp.UsmSecurityParameters{UserName: t.Username}
		switch t.securityLevel() {
		case "noAuthNoPriv":
			g.MsgFlags = gosnmp.NoAuthNoPriv
		case "authNoPriv":
			g.MsgFlags = gosnmp.AuthNoPriv
			usm.AuthenticationProtocol = authProtocols[normProto(t.AuthProtocol)]
			usm.AuthenticationPassphrase = t.AuthPassphrase
		case "authPriv":
			g.MsgFlags = gosnmp.AuthPriv
			usm.AuthenticationProtocol = authProtocols[normProto(t.AuthProtocol)]
			usm.AuthenticationPassphrase = t.AuthPassphrase
			usm.PrivacyProtocol = privProtocols[normProto(t.PrivProtocol)]
			usm.PrivacyPassphrase = t.PrivPassphrase
		}
		g.SecurityParameters = usm
	default:
		return nil, fmt.Errorf("invalid SNMP version %q", t.Version)
	}
	return g, nil
}
