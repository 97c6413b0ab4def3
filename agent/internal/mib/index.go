package mib

import (
	"fmt"
	"strconv"
	"strings"
)

// IndexValue is one decoded index component of a table row.
type IndexValue struct {
	Object *Object // the index object
	Sub    []uint32
	// Text is the value as a tag: a number, an IPv4 address, a
	// colon-separated lowercase hex string for MacAddress/PhysAddress
	// and other "1x:" hints, printable text, or dotted sub-ids.
	Text string
}

// DecodeIndex splits a row's index (the sub-ids after the column OID)
// into its components by the index objects' types (RFC 2578 7.7).
func (s *Set) DecodeIndex(column *Object, idx []uint32) ([]IndexValue, error) {
	if column == nil || len(column.Index) == 0 {
		return []IndexValue{{Sub: idx, Text: FormatOID(idx)}}, nil
	}
	var out []IndexValue
	rest := idx
	for i, q := range column.Index {
		o := s.Object(q)
		if o == nil {
			return nil, fmt.Errorf("index %s of %s: not loaded", q, column.Qualified())
		}
		last := i == len(column.Index)-1
		implied := last && column.Implied
		n := 0
		switch o.Syntax {
		case SyntaxInteger, SyntaxUnsigned, SyntaxCounter64:
			n = 1
		case SyntaxIPAddress:
			n = 4
		case SyntaxOctetString, SyntaxOID, SyntaxBits:
			switch {
			case o.FixedSize > 0:
				n = o.FixedSize
			case implied:
				n = len(rest)
			default:
				if len(rest) == 0 {
					return nil, fmt.Errorf("index %s of %s: missing length", q, column.Qualified())
				}
				n = int(rest[0])
				rest = rest[1:]
			}
		default:
			if !last {
				return nil, fmt.Errorf("index %s of %s: type %s cannot be decoded", q, column.Qualified(), o.TypeName)
			}
			n = len(rest)
		}
		if n > len(rest) {
			return nil, fmt.Errorf("index %s of %s: %d sub-ids needed, %d left in %s", q, column.Qualified(), n, len(rest), FormatOID(idx))
		}
		v := IndexValue{Object: o, Sub: rest[:n]}
		v.Text = indexText(o, v.Sub)
		out = append(out, v)
		rest = rest[n:]
	}
	if len(rest) > 0 {
		return nil, fmt.Errorf("index of %s: %d sub-ids left over in %s", column.Qualified(), len(rest), FormatOID(idx))
	}
	return out, nil
}

func indexText(o *Object, sub []uint32) string {
	switch o.Syntax {
	case SyntaxInteger:
		if len(sub) == 1 {
			if name, ok := o.Enum[int64(int32(sub[0]))]; ok {
				return name
			}
			return strconv.FormatInt(int64(int32(sub[0])), 10)
		}
	case SyntaxUnsigned, SyntaxCounter64:
		if len(sub) == 1 {
			return strconv.FormatUint(uint64(sub[0]), 10)
		}
	case SyntaxIPAddress:
		return FormatOID(sub)
	case SyntaxOctetString:
		b, ok := bytesOf(sub)
		if !ok {
			break
		}
		if strings.HasPrefix(o.Hint, "1x") || o.TypeName == "MacAddress" || o.TypeName == "PhysAddress" {
			return HexColon(b)
		}
		if printable(b) {
			return string(b)
		}
		return HexColon(b)
	}
	return FormatOID(sub)
}

func bytesOf(sub []uint32) ([]byte, bool) {
	b := make([]byte, len(sub))
	for i, v := range sub {
		if v > 255 {
			return nil, false
		}
		b[i] = byte(v)
	}
	return b, true
}

func printable(b []byte) bool {
	for _, c := range b {
		if c < 0x20 || c > 0x7e {
			return false
		}
	}
	return true
}

// HexColon writes bytes as lowercase colon-separated hex (a MAC address:
// 00:0c:42:aa:bb:cc).
func HexColon(b []byte) string {
	const hex = "0123456789abcdef"
	var sb strings.Builder
	for i, c := range b {
		if i > 0 {
			sb.WriteByte(':')
		}
		sb.WriteByte(hex[c>>4])
		sb.WriteByte(hex[c&15])
	}
	return sb.String()
}
