package mib

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/sleepinggenius2/gosmi/models"
	"github.com/sleepinggenius2/gosmi/types"
)

func setType(o *Object, bt types.BaseType, name, format, units string, ranges []models.Range, enum *models.Enum) {
	o.TypeName, o.Hint, o.Units = name, format, units
	switch bt {
	case types.BaseTypeInteger32, types.BaseTypeInteger64, types.BaseTypeEnum:
		o.Syntax = SyntaxInteger
	case types.BaseTypeUnsigned32:
		o.Syntax = SyntaxUnsigned
	case types.BaseTypeUnsigned64:
		o.Syntax = SyntaxCounter64
	case types.BaseTypeObjectIdentifier:
		o.Syntax = SyntaxOID
	case types.BaseTypeBits:
		o.Syntax = SyntaxBits
	case types.BaseTypeOctetString:
		o.Syntax = SyntaxOctetString
		if name == "IpAddress" {
			o.Syntax = SyntaxIPAddress
		}
		if len(ranges) == 1 && ranges[0].MinValue == ranges[0].MaxValue && ranges[0].MinValue > 0 {
			o.FixedSize = int(ranges[0].MinValue)
		}
	}
	if enum != nil && len(enum.Values) > 0 {
		o.Enum = make(map[int64]string, len(enum.Values))
		for _, v := range enum.Values {
			o.Enum[v.Value] = v.Name
		}
	}
}

// FormatOID writes an OID as 1.3.6.1 (no leading dot).
func FormatOID(oid []uint32) string {
	var b strings.Builder
	for i, id := range oid {
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(strconv.FormatUint(uint64(id), 10))
	}
	return b.String()
}

// MaxOIDLen bounds an OID (RFC 2578: 128 sub-ids).
const MaxOIDLen = 128

// ParseOID parses a numeric OID, with or without a leading dot.
func ParseOID(s string) ([]uint32, error) {
	s = strings.TrimPrefix(s, ".")
	if s == "" {
		return nil, errors.New("empty OID")
	}
	parts := strings.Split(s, ".")
	if len(parts) > MaxOIDLen {
		return nil, fmt.Errorf("OID %q: more than %d sub-identifiers", trunc(s), MaxOIDLen)
	}
	oid := make([]uint32, len(parts))
	for i, p := range parts {
		v, err := strconv.ParseUint(p, 10, 32)
		if err != nil || (len(p) > 1 && p[0] == '0') {
			return nil, fmt.Errorf("OID %q: sub-identifier %q is not a number from 0 to 4294967295", trunc(s), trunc(p))
		}
		oid[i] = uint32(v)
	}
	return oid, nil
}

func trunc(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}

// Name is a parsed object reference: MODULE::object.suffix, object.suffix
// or a numeric OID (Numeric set, Module and Object empty).
type Name struct {
	Module  string
	Object  string
	Suffix  []uint32 // the instance, such as 0 of sysUpTime.0
	Numeric []uint32
}

// ParseName parses "IF-MIB::ifName", "ifName", "sysUpTime.0",
// "UCD-SNMP-MIB::laLoad.1" or "1.3.6.1.2.1.1.3.0" (a leading dot is
// allowed on numeric OIDs).
func ParseName(s string) (Name, error) {
	var n Name
	if s == "" {
		return n, errors.New("empty OID or MIB name")
	}
	if len(s) > 512 {
		return n, fmt.Errorf("OID or MIB name %q: longer than 512 characters", trunc(s))
	}
	if c := s[0]; c == '.' || (c >= '0' && c <= '9') {
		oid, err := ParseOID(s)
		if err != nil {
			return n, err
		}
		n.Numeric = oid
		return n, nil
	}
	rest := s
	if mod, obj, ok := strings.Cut(s, "::"); ok {
		if !validIdent(mod, true) {
			return n, fmt.Errorf("MIB name %q: %q is not a module name", trunc(s), trunc(mod))
		}
		n.Module, rest = mod, obj
	}
	obj, suffix, _ := strings.Cut(rest, ".")
	if !validIdent(obj, false) {
		return n, fmt.Errorf("MIB name %q: %q is not an object name (letters, digits and hyphens, starting with a lower-case letter)", trunc(s), trunc(obj))
	}
	n.Object = obj
	if suffix != "" || strings.HasSuffix(rest, ".") {
		oid, err := ParseOID(suffix)
		if err != nil {
			return n, fmt.Errorf("MIB name %q: instance: %w", trunc(s), err)
		}
		n.Suffix = oid
	}
	return n, nil
}

// validIdent: ASN.1 identifiers; module names start with an upper-case
// letter, object names with a lower-case one (some vendor MIBs break
// the latter, so any letter is accepted for objects).
func validIdent(s string, module bool) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	c := s[0]
	if module && !(c >= 'A' && c <= 'Z') {
		return false
	}
	if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// Lookup finds an object by MODULE::name or bare name. A bare name that
// more than one module defines is ambiguous unless all definitions have
// the same OID.
func (s *Set) Lookup(module, name string) (*Object, error) {
	if s == nil {
		return nil, fmt.Errorf("%w %s: no MIBs loaded", ErrUnknown, name)
	}
	if module != "" {
		if o := s.byQName[module+"::"+name]; o != nil {
			return o, nil
		}
		if !s.hasModule(module) {
			return nil, fmt.Errorf("%w %s::%s: module %s is not loaded (add its file to agent.mib_dirs)", ErrUnknown, module, name, module)
		}
		return nil, fmt.Errorf("%w %s::%s: module %s does not define %s", ErrUnknown, module, name, module, name)
	}
	objs := s.byName[name]
	switch {
	case len(objs) == 0:
		return nil, fmt.Errorf("%w %s: no loaded MIB defines it", ErrUnknown, name)
	case len(objs) > 1:
		for _, o := range objs[1:] {
			if FormatOID(o.OID) != FormatOID(objs[0].OID) {
				return nil, fmt.Errorf("MIB name %s is ambiguous: %s and %s; write MODULE::%s", name, objs[0].Qualified(), o.Qualified(), name)
			}
		}
	}
	return objs[0], nil
}

func (s *Set) hasModule(m string) bool {
	for _, x := range s.Modules {
		if x == m {
			return true
		}
	}
	return false
}

// Resolve parses and resolves a name to its numeric OID (with the
// instance suffix appended) and the object it names (nil for a numeric
// OID no loaded MIB knows).
func (s *Set) Resolve(ref string) ([]uint32, *Object, error) {
	n, err := ParseName(ref)
	if err != nil {
		return nil, nil, err
	}
	if n.Numeric != nil {
		var o *Object
		if s != nil {
			o = s.byOID[FormatOID(n.Numeric)]
		}
		return n.Numeric, o, nil
	}
	o, err := s.Lookup(n.Module, n.Object)
	if err != nil {
		return nil, nil, err
	}
	oid := append(append([]uint32(nil), o.OID...), n.Suffix...)
	if len(oid) > MaxOIDLen {
		return nil, nil, fmt.Errorf("MIB name %s: OID longer than %d sub-identifiers", trunc(ref), MaxOIDLen)
	}
	return oid, o, nil
}

// Object returns the object with a qualified name (MODULE::name), or nil.
func (s *Set) Object(qualified string) *Object {
	if s == nil {
		return nil
	}
	return s.byQName[qualified]
}

// NameOf names an OID by its longest known prefix: MODULE::name.suffix,
// or the numeric OID when no prefix is known.
func (s *Set) NameOf(oid []uint32) string {
	if s != nil {
		for n := len(oid); n > 0; n-- {
			if o := s.byOID[FormatOID(oid[:n])]; o != nil {
				if n == len(oid) {
					return o.Qualified()
				}
				return o.Qualified() + "." + FormatOID(oid[n:])
			}
		}
	}
	return FormatOID(oid)
}

// Columns returns a table's columns (or a row's), in OID order.
func (s *Set) Columns(table *Object) []*Object {
	if s == nil || table == nil {
		return nil
	}
	var cols []*Object
	for _, o := range s.byQName {
		if o.Kind == KindColumn && o.Table == table.Qualified() {
			cols = append(cols, o)
		}
	}
	sortByOID(cols)
	return cols
}

func sortByOID(objs []*Object) {
	for i := 1; i < len(objs); i++ {
		for j := i; j > 0 && oidLess(objs[j].OID, objs[j-1].OID); j-- {
			objs[j], objs[j-1] = objs[j-1], objs[j]
		}
	}
}

func oidLess(a, b []uint32) bool {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return len(a) < len(b)
}

// ProblemsOrNil is s.Problems, or nil for a nil set.
func (s *Set) ProblemsOrNil() []error {
	if s == nil {
		return nil
	}
	return s.Problems
}
