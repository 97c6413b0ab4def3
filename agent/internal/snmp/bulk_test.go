package snmp

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
)

func TestOIDLess(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want bool
	}{
		{"1.3.6.1.2.1.2.2.1.10", "1.3.6.1.2.1.2.2.1.10.1", true},
		{"1.3.6.1.2.1.2.2.1.10.1", "1.3.6.1.2.1.2.2.1.10", false},
		{"1.3.6.1.2.1.2.2.1.10.9", "1.3.6.1.2.1.2.2.1.10.10", true}, // numeric, not lexical
		{"1.3.6.1.2.1.2.2.1.10.10", "1.3.6.1.2.1.2.2.1.10.9", false},
		{".1.3.6.1.2.1.2.2.1.10.2", "1.3.6.1.2.1.2.2.1.16.1", true},
		{"1.3.6.1.2.1.2.2.1.10.2", "1.3.6.1.2.1.2.2.1.10.2", false},
	} {
		if got := oidLess(c.a, c.b); got != c.want {
			t.Errorf("oidLess(%s, %s) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
}

func TestBulkRows(t *testing.T) {
	for _, c := range []struct {
		maxReps uint32
		cols    int
		want    uint32
	}{
		{25, 1, 25}, {25, 2, 25}, {25, 4, 25}, {25, 5, 20}, {25, 15, 6}, {25, 26, 3},
		{10, 15, 2}, {1, 15, 1}, {100, 15, 26},
	} {
		if got := bulkRows(c.maxReps, c.cols); got != c.want {
			t.Errorf("bulkRows(%d, %d) = %d, want %d", c.maxReps, c.cols, got, c.want)
		}
	}
}

// fakeAgent is an SNMPv2c agent on loopback UDP that serves a few IF-MIB
// columns from memory with RFC 3416 GETBULK semantics, to drive the
// lockstep walk through what real devices do: truncating a response to
// their message size, answering tooBig instead, and ending the MIB.
type fakeAgent struct {
	addr        string
	names       []string // sorted
	values      map[string]gosnmp.SnmpPDU
	maxVarbinds int              // truncate responses to this many varbinds (0: no limit)
	tooBigOver  int              // answer tooBig when asked for more varbinds than this (0: never, -1: always)
	fixed       []gosnmp.SnmpPDU // when set, the answer to every request
	refuseMulti bool             // answer genErr to a GETBULK of several varbinds
	requests    atomic.Int64
}

// startFakeAgent serves ifDescr, ifHCInOctets and ifHCOutOctets for
// interfaces 1..n (ifHCOutOctets only for the even ones), and nothing after.
// set, if not nil, sets the agent's behaviour before it starts serving.
func startFakeAgent(t *testing.T, n int, set func(*fakeAgent)) *fakeAgent {
	t.Helper()
	a := &fakeAgent{values: map[string]gosnmp.SnmpPDU{}}
	if set != nil {
		set(a)
	}
	for i := 1; i <= n; i++ {
		add := func(c column, typ gosnmp.Asn1BER, v any) {
			name := fmt.Sprintf("%s.%d", columnOID[c], i)
			a.names = append(a.names, name)
			a.values[name] = gosnmp.SnmpPDU{Name: "." + name, Type: typ, Value: v}
		}
		add(colDescr, gosnmp.OctetString, []byte(fmt.Sprintf("port%d", i)))
		add(colHCInOctets, gosnmp.Counter64, uint64(1000*i))
		if i%2 == 0 {
			add(colHCOutOctets, gosnmp.Counter64, uint64(2000*i))
		}
	}
	slices.SortFunc(a.names, func(x, y string) int {
		if oidLess(x, y) {
			return -1
		}
		return 1
	})
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	a.addr = c.LocalAddr().String()
	go a.serve(c)
	return a
}

func (a *fakeAgent) serve(c net.PacketConn) {
	dec := &gosnmp.GoSNMP{Version: gosnmp.Version2c}
	buf := make([]byte, 65535)
	for {
		n, from, err := c.ReadFrom(buf)
		if err != nil {
			return
		}
		req, err := dec.SnmpDecodePacket(buf[:n])
		if err != nil || req.PDUType != gosnmp.GetBulkRequest {
			continue
		}
		a.requests.Add(1)
		resp := &gosnmp.SnmpPacket{Version: gosnmp.Version2c, Community: req.Community, PDUType: gosnmp.GetResponse, RequestID: req.RequestID}
		asked := len(req.Variables) * int(req.MaxRepetitions)
		switch {
		case a.fixed != nil:
			resp.Variables = a.fixed
		case a.refuseMulti && len(req.Variables) > 1:
			resp.Error, resp.Variables = gosnmp.GenErr, []gosnmp.SnmpPDU{}
		case a.tooBigOver != 0 && asked > a.tooBigOver:
			resp.Error, resp.Variables = gosnmp.TooBig, []gosnmp.SnmpPDU{}
		default:
			resp.Variables = a.bulk(req.Variables, int(req.MaxRepetitions))
		}
		out, err := resp.MarshalMsg()
		if err != nil {
			panic(err)
		}
		_, _ = c.WriteTo(out, from)
	}
}

// bulk answers a GETBULK without non-repeaters: maxReps rows of the
// successor of every requested name.
func (a *fakeAgent) bulk(vars []gosnmp.SnmpPDU, maxReps int) []gosnmp.SnmpPDU {
	cur := make([]string, len(vars))
	for i, v := range vars {
		cur[i] = normOID(v.Name)
	}
	out := []gosnmp.SnmpPDU{}
	for r := 0; r < maxReps; r++ {
		for i := range cur {
			if a.maxVarbinds > 0 && len(out) == a.maxVarbinds {
				return out
			}
			j, _ := slices.BinarySearchFunc(a.names, cur[i], func(x, y string) int {
				if oidLess(x, y) || x == y {
					return -1
				}
				return 1
			})
			if j == len(a.names) {
				out = append(out, gosnmp.SnmpPDU{Name: "." + cur[i], Type: gosnmp.EndOfMibView})
				continue
			}
			cur[i] = a.names[j]
			out = append(out, a.values[cur[i]])
		}
	}
	return out
}

func bulkPoller(t *testing.T, a *fakeAgent, maxReps uint32) *Poller {
	t.Helper()
	p := newTestPoller(t, Target{Name: "fake", Address: a.addr, Version: "2c", Community: "public", MaxRepetitions: maxReps, Timeout: 5 * time.Second, Retries: 0}, nil)
	if err := p.connect(context.Background()); err != nil {
		t.Fatal(err)
	}
	return p
}

func checkBulkRows(t *testing.T, rs rows, n int) {
	t.Helper()
	if len(rs) != n {
		t.Fatalf("%d rows, want %d", len(rs), n)
	}
	for i := 1; i <= n; i++ {
		r := rs[uint32(i)]
		if r == nil {
			t.Fatalf("row %d missing", i)
		}
		if got := r.cells[colDescr].s; got != fmt.Sprintf("port%d", i) {
			t.Errorf("row %d ifDescr %q", i, got)
		}
		if got := r.cells[colHCInOctets]; !got.ok || got.u != uint64(1000*i) {
			t.Errorf("row %d ifHCInOctets %+v", i, got)
		}
		if got := r.cells[colHCOutOctets]; got.ok != (i%2 == 0) || (got.ok && got.u != uint64(2000*i)) {
			t.Errorf("row %d ifHCOutOctets %+v", i, got)
		}
	}
}

func TestBulkColumnsLockstep(t *testing.T) {
	cols := []column{colDescr, colHCInOctets, colHCOutOctets}
	t.Run("whole", func(t *testing.T) {
		a := startFakeAgent(t, 60, nil)
		p := bulkPoller(t, a, 25)
		rs := rows{}
		if err := p.bulkColumns(rs, cols); err != nil {
			t.Fatal(err)
		}
		checkBulkRows(t, rs, 60)
		// 3 columns × 25 rows a request: ifDescr and ifHCInOctets end in
		// the third request, ifHCOutOctets (30 rows) in the second.
		if n := a.requests.Load(); n != 3 {
			t.Errorf("%d requests, want 3", n)
		}
		// The same columns walked one by one: 3 + 3 + 2.
		b := startFakeAgent(t, 60, nil)
		q := bulkPoller(t, b, 25)
		for _, c := range cols {
			if _, err := q.g.BulkWalkAll(columnOID[c]); err != nil {
				t.Fatal(err)
			}
		}
		if n := b.requests.Load(); n != 8 {
			t.Errorf("column by column: %d requests, want 8", n)
		}
	})
	// walk reads cols from a fake agent with n interfaces, set up by set.
	walk := func(t *testing.T, n int, set func(*fakeAgent)) (rows, *fakeAgent, error) {
		a := startFakeAgent(t, n, set)
		rs := rows{}
		return rs, a, bulkPoller(t, a, 25).bulkColumns(rs, cols)
	}
	for _, c := range []struct {
		name string
		n    int
		set  func(*fakeAgent)
	}{
		// A device that fits 7 varbinds in a message: rows end mid-way,
		// and the columns it did not reach are asked again.
		{"truncated", 40, func(a *fakeAgent) { a.maxVarbinds = 7 }},
		// A device that refuses more than 2 varbinds: fewer rows, then
		// fewer columns a request, until it answers.
		{"tooBig", 12, func(a *fakeAgent) { a.tooBigOver = 2 }},
		{"empty table", 0, func(*fakeAgent) {}},
		// A device that answers genErr to a GETBULK of several columns
		// gets one walk per column.
		{"refuses several columns", 30, func(a *fakeAgent) { a.refuseMulti = true }},
	} {
		t.Run(c.name, func(t *testing.T) {
			rs, _, err := walk(t, c.n, c.set)
			if err != nil {
				t.Fatal(err)
			}
			checkBulkRows(t, rs, c.n)
		})
	}
	t.Run("tooBig always", func(t *testing.T) {
		// Even one varbind is too big: nothing is read, as a walk of one
		// column would read nothing.
		rs, a, err := walk(t, 3, func(a *fakeAgent) { a.tooBigOver = -1 })
		if err != nil || len(rs) != 0 {
			t.Fatalf("%d rows, err = %v", len(rs), err)
		}
		// 25, 12, 6, 3 and 1 row of 3 columns, then 1 row of 1 column,
		// then one walk of each column.
		if n := a.requests.Load(); n != 9 {
			t.Errorf("%d requests, want 9", n)
		}
	})
}

func TestBulkColumnsRefusesNonIncreasing(t *testing.T) {
	// An agent that answers every GETBULK with the same row would loop a
	// walker forever; this one must stop with an error naming the column.
	a := startFakeAgent(t, 0, func(a *fakeAgent) {
		a.fixed = []gosnmp.SnmpPDU{{Name: "." + columnOID[colHCInOctets] + ".5", Type: gosnmp.Counter64, Value: uint64(5)}}
	})
	err := bulkPoller(t, a, 25).bulkColumns(rows{}, []column{colHCInOctets})
	if err == nil || !strings.Contains(err.Error(), "not increasing") || !strings.Contains(err.Error(), columnOID[colHCInOctets]) {
		t.Fatalf("err = %v", err)
	}
	if n := a.requests.Load(); n != 2 {
		t.Errorf("%d requests, want 2", n)
	}
}
