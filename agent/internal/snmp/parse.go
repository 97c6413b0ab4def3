package snmp

import (
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gosnmp/gosnmp"
)

// Scalar OIDs (without the leading dot).
const (
	oidSysUpTime       = "1.3.6.1.2.1.1.3.0"
	oidSysName         = "1.3.6.1.2.1.1.5.0"
	oidSysObjectID     = "1.3.6.1.2.1.1.2.0"
	oidHrSystemUptime  = "1.3.6.1.2.1.25.1.1.0"
	oidHrProcessorLoad = "1.3.6.1.2.1.25.3.3.1.2"
	oidHrStorageType   = "1.3.6.1.2.1.25.2.3.1.2"
	oidHrStorageUnits  = "1.3.6.1.2.1.25.2.3.1.4"
	oidHrStorageSize   = "1.3.6.1.2.1.25.2.3.1.5"
	oidHrStorageUsed   = "1.3.6.1.2.1.25.2.3.1.6"
	oidHrStorageRAM    = "1.3.6.1.2.1.25.2.1.2"
)

// column is one IF-MIB column the poller may read.
type column int

const (
	colDescr column = iota
	colName
	colAlias
	colSpeed
	colHighSpeed
	colAdmin
	colOper
	colInOctets
	colOutOctets
	colHCInOctets
	colHCOutOctets
	colInUcast
	colInNUcast
	colOutUcast
	colOutNUcast
	colHCInUcast
	colHCInMcast
	colHCInBcast
	colHCOutUcast
	colHCOutMcast
	colHCOutBcast
	colInDiscards
	colInErrors
	colOutDiscards
	colOutErrors
	colDiscontinuity
	numColumns
)

const (
	ifEntry  = "1.3.6.1.2.1.2.2.1."
	ifXEntry = "1.3.6.1.2.1.31.1.1.1."
)

var columnOID = [numColumns]string{
	colDescr:         ifEntry + "2",
	colName:          ifXEntry + "1",
	colAlias:         ifXEntry + "18",
	colSpeed:         ifEntry + "5",
	colHighSpeed:     ifXEntry + "15",
	colAdmin:         ifEntry + "7",
	colOper:          ifEntry + "8",
	colInOctets:      ifEntry + "10",
	colOutOctets:     ifEntry + "16",
	colHCInOctets:    ifXEntry + "6",
	colHCOutOctets:   ifXEntry + "10",
	colInUcast:       ifEntry + "11",
	colInNUcast:      ifEntry + "12",
	colOutUcast:      ifEntry + "17",
	colOutNUcast:     ifEntry + "18",
	colHCInUcast:     ifXEntry + "7",
	colHCInMcast:     ifXEntry + "8",
	colHCInBcast:     ifXEntry + "9",
	colHCOutUcast:    ifXEntry + "11",
	colHCOutMcast:    ifXEntry + "12",
	colHCOutBcast:    ifXEntry + "13",
	colInDiscards:    ifEntry + "13",
	colInErrors:      ifEntry + "14",
	colOutDiscards:   ifEntry + "19",
	colOutErrors:     ifEntry + "20",
	colDiscontinuity: ifXEntry + "19",
}

func (c column) isString() bool { return c == colDescr || c == colName || c == colAlias }

// cell is one parsed value of a row.
type cell struct {
	ok bool
	u  uint64 // numeric value (integers < 0 are not ok)
	i  int64  // signed value (status enums)
	s  string // string columns
}

// ifRow is what the device reported for one ifIndex.
type ifRow struct {
	Index uint32
	cells [numColumns]cell
}

func (r *ifRow) has(c column) bool { return r.cells[c].ok }

// rows maps ifIndex to its row.
type rows map[uint32]*ifRow

func (rs rows) row(idx uint32) *ifRow {
	r := rs[idx]
	if r == nil {
		r = &ifRow{Index: idx}
		rs[idx] = r
	}
	return r
}

// normOID drops a leading dot.
func normOID(s string) string { return strings.TrimPrefix(s, ".") }

// oidIndex returns the single-arc instance index of name below base
// ("1.3...2.2.1.10" + ".7" -> 7).
func oidIndex(base, name string) (uint32, bool) {
	name = normOID(name)
	if len(name) <= len(base)+1 || !strings.HasPrefix(name, base) || name[len(base)] != '.' {
		return 0, false
	}
	v, err := strconv.ParseUint(name[len(base)+1:], 10, 32)
	if err != nil {
		return 0, false
	}
	return uint32(v), true
}

// isValue reports whether the PDU carries a value (not an exception).
func isValue(p gosnmp.SnmpPDU) bool {
	switch p.Type {
	case gosnmp.NoSuchObject, gosnmp.NoSuchInstance, gosnmp.EndOfMibView, gosnmp.Null, gosnmp.UnknownType:
		return false
	}
	return p.Value != nil
}

// toUint64 converts a PDU value to uint64; negative or non-numeric values fail.
func toUint64(v any) (uint64, bool) {
	switch x := v.(type) {
	case uint:
		return uint64(x), true
	case uint8:
		return uint64(x), true
	case uint16:
		return uint64(x), true
	case uint32:
		return uint64(x), true
	case uint64:
		return x, true
	case int:
		if x < 0 {
			return 0, false
		}
		return uint64(x), true
	case int8:
		if x < 0 {
			return 0, false
		}
		return uint64(x), true
	case int16:
		if x < 0 {
			return 0, false
		}
		return uint64(x), true
	case int32:
		if x < 0 {
			return 0, false
		}
		return uint64(x), true
	case int64:
		if x < 0 {
			return 0, false
		}
		return uint64(x), true
	case *big.Int:
		if x == nil || x.Sign() < 0 || !x.IsUint64() {
			return 0, false
		}
		return x.Uint64(), true
	case float32:
		return floatToUint(float64(x))
	case float64:
		return floatToUint(x)
	}
	return 0, false
}

func floatToUint(f float64) (uint64, bool) {
	if math.IsNaN(f) || f < 0 || f >= math.MaxUint64 {
		return 0, false
	}
	return uint64(f), true
}

// toInt64 converts a PDU value to int64.
func toInt64(v any) (int64, bool) {
	switch x := v.(type) {
	case int:
		return int64(x), true
	case int8:
		return int64(x), true
	case int16:
		return int64(x), true
	case int32:
		return int64(x), true
	case int64:
		return x, true
	}
	u, ok := toUint64(v)
	if !ok || u > math.MaxInt64 {
		return 0, false
	}
	return int64(u), true
}

// maxStringLen bounds tag values taken from devices.
const maxStringLen = 256

// toString converts an OctetString value into a clean tag value.
func toString(v any) (string, bool) {
	var s string
	switch x := v.(type) {
	case []byte:
		s = string(x)
	case string:
		s = x
	default:
		return "", false
	}
	s = strings.TrimRight(s, "\x00")
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	if len(s) > maxStringLen {
		cut := maxStringLen
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut]
	}
	return s, true
}

// parseColumn stores the PDUs of column c (from a walk or a GET) into rs.
// PDUs outside the column, exceptions and values of the wrong type are
// ignored. It never panics on device input.
func parseColumn(rs rows, c column, pdus []gosnmp.SnmpPDU) {
	if c < 0 || c >= numColumns {
		return
	}
	base := columnOID[c]
	for _, p := range pdus {
		if !isValue(p) {
			continue
		}
		idx, ok := oidIndex(base, p.Name)
		if !ok {
			continue
		}
		var v cell
		if c.isString() {
			v.s, v.ok = toString(p.Value)
		} else if c == colAdmin || c == colOper {
			v.i, v.ok = toInt64(p.Value)
		} else {
			v.u, v.ok = toUint64(p.Value)
			if v.ok && !c.is64() && v.u > math.MaxUint32 {
				v.ok = false // a 32-bit column cannot hold this
			}
		}
		if v.ok {
			rs.row(idx).cells[c] = v
		}
	}
}

// is64 reports whether c is a Counter64 column.
func (c column) is64() bool {
	switch c {
	case colHCInOctets, colHCOutOctets, colHCInUcast, colHCInMcast, colHCInBcast,
		colHCOutUcast, colHCOutMcast, colHCOutBcast:
		return true
	}
	return false
}

// counter is one counter reading; Wide marks a 64-bit counter.
type counter struct {
	V    uint64
	Wide bool
	OK   bool
}

// octets returns the 64-bit column's counter, else the 32-bit one.
func (r *ifRow) counterOf(hc, c32 column) counter {
	if r.has(hc) {
		return counter{V: r.cells[hc].u, Wide: true, OK: true}
	}
	if r.has(c32) {
		return counter{V: r.cells[c32].u, OK: true}
	}
	return counter{}
}

// packets sums the unicast, multicast and broadcast packet counters
// (64-bit when the device has them, else the 32-bit ifTable columns).
func (r *ifRow) packets(in bool) (uint64, bool) {
	hc := [3]column{colHCOutUcast, colHCOutMcast, colHCOutBcast}
	c32 := [2]column{colOutUcast, colOutNUcast}
	if in {
		hc = [3]column{colHCInUcast, colHCInMcast, colHCInBcast}
		c32 = [2]column{colInUcast, colInNUcast}
	}
	var sum uint64
	var ok bool
	cols := hc[:]
	if !r.has(hc[0]) {
		cols = c32[:]
	}
	for _, c := range cols {
		if r.has(c) {
			sum += r.cells[c].u // wraps like the counters themselves
			ok = true
		}
	}
	return sum, ok
}

// speed is ifHighSpeed*1e6 when the device reports it (non-zero), else ifSpeed.
func (r *ifRow) speed() (uint64, bool) {
	if r.has(colHighSpeed) && r.cells[colHighSpeed].u > 0 {
		return r.cells[colHighSpeed].u * 1_000_000, true
	}
	if r.has(colSpeed) {
		return r.cells[colSpeed].u, true
	}
	if r.has(colHighSpeed) {
		return 0, true
	}
	return 0, false
}

// sample turns a row into the counters the rate tracker keeps.
func (r *ifRow) sample() ifSample {
	s := ifSample{
		In:  r.counterOf(colHCInOctets, colInOctets),
		Out: r.counterOf(colHCOutOctets, colOutOctets),
	}
	s.Speed, _ = r.speed()
	if r.has(colDiscontinuity) {
		s.Disc, s.HasDisc = r.cells[colDiscontinuity].u, true
	}
	return s
}
