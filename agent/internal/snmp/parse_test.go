package snmp

import (
	"encoding/binary"
	"math"
	"math/big"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
)

func pdu(name string, typ gosnmp.Asn1BER, v any) gosnmp.SnmpPDU {
	return gosnmp.SnmpPDU{Name: name, Type: typ, Value: v}
}

func TestToUint64(t *testing.T) {
	ok := []struct {
		in   any
		want uint64
	}{
		{uint(5), 5}, {uint32(math.MaxUint32), math.MaxUint32}, {uint64(math.MaxUint64), math.MaxUint64},
		{int(7), 7}, {int64(9), 9}, {big.NewInt(11), 11}, {uint8(1), 1}, {float64(3.9), 3},
	}
	for _, c := range ok {
		if got, good := toUint64(c.in); !good || got != c.want {
			t.Errorf("toUint64(%#v) = %d, %v", c.in, got, good)
		}
	}
	for _, bad := range []any{int(-1), int64(-5), big.NewInt(-1), new(big.Int).Lsh(big.NewInt(1), 70), "12", []byte("1"), nil, math.NaN(), float64(-1), (*big.Int)(nil)} {
		if got, good := toUint64(bad); good {
			t.Errorf("toUint64(%#v) = %d, true; want false", bad, got)
		}
	}
}

func TestToString(t *testing.T) {
	s, ok := toString([]byte("eth0\x00\x00"))
	if !ok || s != "eth0" {
		t.Fatalf("got %q", s)
	}
	s, _ = toString([]byte{0xff, 'a', '\n', 'b'})
	if s != "\uFFFDa b" {
		t.Fatalf("got %q", s)
	}
	long := make([]byte, 1000)
	for i := range long {
		long[i] = 'x'
	}
	if s, _ := toString(long); len(s) != maxStringLen {
		t.Fatalf("len %d", len(s))
	}
	if _, ok := toString(42); ok {
		t.Fatal("int converted to string")
	}
}

func TestParseColumnRows(t *testing.T) {
	rs := rows{}
	parseColumn(rs, colDescr, []gosnmp.SnmpPDU{
		pdu(".1.3.6.1.2.1.2.2.1.2.1", gosnmp.OctetString, []byte("lo")),
		pdu(".1.3.6.1.2.1.2.2.1.2.2", gosnmp.OctetString, []byte("eth0")),
		pdu(".1.3.6.1.2.1.2.2.1.2.x", gosnmp.OctetString, []byte("bad index")),
		pdu(".1.3.6.1.2.1.2.2.1.2.3.4", gosnmp.OctetString, []byte("two-arc index")),
		pdu(".1.3.6.1.2.1.2.2.1.3.1", gosnmp.Integer, 6), // other column
		pdu(".1.3.6.1.2.1.2.2.1.2.9", gosnmp.NoSuchInstance, nil),
	})
	parseColumn(rs, colHCInOctets, []gosnmp.SnmpPDU{
		pdu(".1.3.6.1.2.1.31.1.1.1.6.1", gosnmp.Counter64, uint64(math.MaxUint64)),
		pdu(".1.3.6.1.2.1.31.1.1.1.6.2", gosnmp.OctetString, []byte("wrong type")),
	})
	parseColumn(rs, colInOctets, []gosnmp.SnmpPDU{
		pdu(".1.3.6.1.2.1.2.2.1.10.1", gosnmp.Counter32, uint(10)),
		pdu(".1.3.6.1.2.1.2.2.1.10.2", gosnmp.Counter32, uint(20)),
	})
	parseColumn(rs, colOper, []gosnmp.SnmpPDU{pdu(".1.3.6.1.2.1.2.2.1.8.2", gosnmp.Integer, 2)})
	if len(rs) != 2 {
		t.Fatalf("rows = %d, want 2: %+v", len(rs), rs)
	}
	if rs[1].cells[colDescr].s != "lo" || rs[2].cells[colDescr].s != "eth0" {
		t.Fatalf("descr: %+v", rs)
	}
	if s := rs[1].sample(); !s.In.Wide || s.In.V != math.MaxUint64 {
		t.Fatalf("if1 must use 64-bit counter: %+v", s)
	}
	if s := rs[2].sample(); s.In.Wide || s.In.V != 20 || !s.In.OK {
		t.Fatalf("if2 must fall back to 32-bit: %+v", s)
	}
	if s := rs[2].sample(); s.Out.OK {
		t.Fatalf("if2 has no out counter: %+v", s)
	}
	if rs[2].cells[colOper].i != 2 {
		t.Fatal("oper status")
	}
}

func TestPacketsAndSpeed(t *testing.T) {
	r := &ifRow{Index: 1}
	set := func(c column, v uint64) { r.cells[c] = cell{ok: true, u: v} }
	set(colInUcast, 10)
	set(colInNUcast, 5)
	if v, ok := r.packets(true); !ok || v != 15 {
		t.Fatalf("32-bit packets = %d", v)
	}
	set(colHCInUcast, 100)
	set(colHCInMcast, 20)
	set(colHCInBcast, 3)
	if v, ok := r.packets(true); !ok || v != 123 {
		t.Fatalf("64-bit packets = %d", v)
	}
	if _, ok := r.packets(false); ok {
		t.Fatal("no out packets expected")
	}
	set(colSpeed, math.MaxUint32)
	set(colHighSpeed, 10000)
	if s, _ := r.speed(); s != 10_000_000_000 {
		t.Fatalf("speed = %d", s)
	}
	set(colHighSpeed, 0)
	set(colSpeed, 64000)
	if s, _ := r.speed(); s != 64000 {
		t.Fatalf("slow link speed = %d", s)
	}
}

func TestSelectInterfaces(t *testing.T) {
	meta := rows{}
	add := func(idx uint32, name, alias, descr string) {
		r := meta.row(idx)
		r.cells[colName] = cell{ok: true, s: name}
		r.cells[colAlias] = cell{ok: true, s: alias}
		r.cells[colDescr] = cell{ok: true, s: descr}
	}
	add(1, "lo", "", "lo")
	add(2, "Gi0/1", "uplink to core", "GigabitEthernet0/1")
	add(3, "Gi0/2", "", "GigabitEthernet0/2")
	add(10, "eth10", "", "eth10")
	sel := func(exprs ...string) []uint32 {
		var res []*regexp.Regexp
		for _, e := range exprs {
			re, err := compileSelector(e)
			if err != nil {
				t.Fatal(err)
			}
			res = append(res, re)
		}
		return selectInterfaces(meta, res)
	}
	cases := []struct {
		exprs []string
		want  []uint32
	}{
		{nil, []uint32{1, 2, 3, 10}},
		{[]string{"lo"}, []uint32{1}},
		{[]string{"uplink.*"}, []uint32{2}},
		{[]string{"GigabitEthernet0/.*"}, []uint32{2, 3}},
		{[]string{"1"}, []uint32{1}}, // anchored: index 1 only, not 10
		{[]string{"Gi0/2", "10"}, []uint32{3, 10}},
		{[]string{"eth"}, nil}, // anchored: no partial match
	}
	for _, c := range cases {
		if got := sel(c.exprs...); !slices.Equal(got, c.want) {
			t.Errorf("select %q = %v, want %v", c.exprs, got, c.want)
		}
	}
}

func TestHostResourcesParsers(t *testing.T) {
	load := []gosnmp.SnmpPDU{
		pdu(".1.3.6.1.2.1.25.3.3.1.2.196608", gosnmp.Integer, 10),
		pdu(".1.3.6.1.2.1.25.3.3.1.2.196609", gosnmp.Integer, 30),
		pdu(".1.3.6.1.2.1.25.3.3.1.2.196610", gosnmp.Integer, 300), // invalid
	}
	if c, ok := cpuRatio(load); !ok || math.Abs(c-0.2) > 1e-9 {
		t.Fatalf("cpu = %v %v", c, ok)
	}
	if _, ok := cpuRatio(nil); ok {
		t.Fatal("cpu without processors")
	}
	types := []gosnmp.SnmpPDU{
		pdu(".1.3.6.1.2.1.25.2.3.1.2.1", gosnmp.ObjectIdentifier, ".1.3.6.1.2.1.25.2.1.2"),
		pdu(".1.3.6.1.2.1.25.2.3.1.2.3", gosnmp.ObjectIdentifier, ".1.3.6.1.2.1.25.2.1.3"),
	}
	idx := ramIndexes(types)
	if !slices.Equal(idx, []uint32{1}) {
		t.Fatalf("ram idx %v", idx)
	}
	vars := []gosnmp.SnmpPDU{
		pdu(".1.3.6.1.2.1.25.2.3.1.4.1", gosnmp.Integer, 1024),
		pdu(".1.3.6.1.2.1.25.2.3.1.5.1", gosnmp.Integer, 1000),
		pdu(".1.3.6.1.2.1.25.2.3.1.6.1", gosnmp.Integer, 250),
	}
	if m, ok := memRatio(vars, idx); !ok || m != 0.25 {
		t.Fatalf("mem = %v %v", m, ok)
	}
	if _, ok := memRatio(vars[:1], idx); ok {
		t.Fatal("mem without size")
	}
}

// fuzzPDUs decodes arbitrary bytes into PDUs of arbitrary types and values
// below the interesting columns.
func fuzzPDUs(data []byte) []gosnmp.SnmpPDU {
	var out []gosnmp.SnmpPDU
	bases := []string{columnOID[colDescr], columnOID[colHCInOctets], columnOID[colInOctets], columnOID[colOper],
		columnOID[colAlias], columnOID[colHighSpeed], oidHrProcessorLoad, oidHrStorageType, oidHrStorageSize, ""}
	for len(data) >= 4 {
		sel, typ, kind, n := data[0], data[1], data[2], int(data[3])
		data = data[4:]
		if n > len(data) {
			n = len(data)
		}
		raw := data[:n]
		data = data[n:]
		name := bases[int(sel)%len(bases)]
		switch sel % 4 {
		case 0:
			name += "." + strconv.Itoa(int(sel))
		case 1:
			name += "." + string(raw)
		case 2:
			name = "." + name + ".4294967296"
		default:
			name = "." + name + "." + strconv.Itoa(int(typ)) + "." + strconv.Itoa(int(kind))
		}
		var u uint64
		if len(raw) > 0 {
			var b [8]byte
			copy(b[:], raw)
			u = binary.LittleEndian.Uint64(b[:])
		}
		var v any
		switch kind % 14 {
		case 0:
			v = raw
		case 1:
			v = string(raw)
		case 2:
			v = int(int64(u))
		case 3:
			v = uint(u)
		case 4:
			v = uint32(u)
		case 5:
			v = u
		case 6:
			v = int64(u)
		case 7:
			v = new(big.Int).SetBytes(raw)
		case 8:
			v = new(big.Int).Neg(new(big.Int).SetBytes(raw))
		case 9:
			v = math.Float64frombits(u)
		case 10:
			v = float32(math.Float64frombits(u))
		case 11:
			v = nil
		case 12:
			v = []string{string(raw)}
		case 13:
			v = "." + string(raw)
		}
		out = append(out, gosnmp.SnmpPDU{Name: name, Type: gosnmp.Asn1BER(typ), Value: v})
	}
	return out
}

func FuzzParseResponses(f *testing.F) {
	f.Add([]byte{0, 4, 0, 4, 'e', 't', 'h', '0'})
	f.Add([]byte{1, 0x46, 5, 8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0x41, 3, 4, 1, 2, 3, 4})
	f.Add([]byte{3, 0x02, 2, 8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 6, 0x06, 13, 3, '1', '.', '3'})
	f.Add([]byte{7, 0x80, 11, 0, 8, 0x81, 9, 8, 0, 0, 0, 0, 0, 0, 0xf8, 0x7f, 9, 0x46, 8, 9, 1, 2, 3, 4, 5, 6, 7, 8, 9})
	f.Fuzz(func(t *testing.T, data []byte) {
		pdus := fuzzPDUs(data)
		rs := rows{}
		for c := column(0); c < numColumns; c++ {
			parseColumn(rs, c, pdus)
		}
		parseColumn(rs, column(-1), pdus)
		parseColumn(rs, numColumns, pdus)
		samples := map[uint32]ifSample{}
		for idx, r := range rs {
			s := r.sample()
			if s.In.OK && !s.In.Wide && s.In.V > math.MaxUint32 {
				t.Fatalf("32-bit counter above 2^32: %+v", s)
			}
			r.packets(true)
			r.packets(false)
			r.speed()
			samples[idx] = s
		}
		// The same varbinds as successive GETBULK answers for every column.
		req := make([]bulkWalk, 0, numColumns)
		for c := column(0); c < numColumns; c++ {
			req = append(req, bulkWalk{base: columnOID[c], last: columnOID[c]})
		}
		got := map[string][]gosnmp.SnmpPDU{}
		for off := 0; off < len(pdus); off += int(numColumns) {
			if _, err := lockstep(req, pdus[off:], got, 3); err != nil {
				break
			}
		}
		for base, vs := range got {
			last := base
			if len(vs) > 3 {
				t.Fatalf("column %s took %d values, more than 3", base, len(vs))
			}
			for _, v := range vs {
				if !strings.HasPrefix(normOID(v.Name), base+".") || !oidLess(last, v.Name) {
					t.Fatalf("column %s took %s after %s", base, v.Name, last)
				}
				last = normOID(v.Name)
			}
		}
		cpuRatio(pdus)
		idx := ramIndexes(pdus)
		memRatio(pdus, idx)
		for _, p := range pdus {
			toUint64(p.Value)
			toInt64(p.Value)
			if s, ok := toString(p.Value); ok && len(s) > maxStringLen {
				t.Fatalf("string too long: %d", len(s))
			}
		}
		var rt rateTracker
		rt.update(time.Unix(0, 0), 0, true, samples)
		for _, r := range rt.update(time.Unix(10, 0), 5, true, samples) {
			if r.In < 0 || r.Out < 0 {
				t.Fatalf("negative rate %+v", r)
			}
		}
	})
}
