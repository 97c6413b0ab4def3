package sla

import "encoding/binary"

// Stored day formats (statedb keeps one row per series and UTC day). Rows
// written before 10-second slots hold class bits
// only: one byte a minute (1,440 bytes, the first schema) or two minutes
// a byte (720 bytes, low nibble first); their bytes are all under 0x80.
// Rows written since start with a format byte with the top bit set:
//
//   - formatRLE: runs of equal minutes, each a uvarint count (1 to 1,440)
//     and a uvarint value, the counts adding up to 1,440. A day of a link
//     probed every 10 s without trouble is one run of its minute value,
//     or three (done, the current minute, nodata to come): a few bytes.
//   - formatRaw: 1,440 little-endian uint16, 2,881 bytes in all; written
//     only when the runs would be longer (a day of many partial minutes).
//
// The minutes table is WITHOUT ROWID, whose rows leave their b-tree page
// for overflow pages beyond about 1,000 bytes; the runs keep the usual
// row well under that.
const (
	formatRLE byte = 0x82
	formatRaw byte = 0x83

	legacyNibbles = MinutesPerDay / 2
	// MaxDayRow is the longest stored day.
	MaxDayRow = 1 + 2*MinutesPerDay
)

// EncodeDay stores a day in the shorter of the two formats.
func EncodeDay(a *[MinutesPerDay]uint16) []byte {
	b := make([]byte, 1, 64)
	b[0] = formatRLE
	for rest := a[:]; len(rest) > 0; {
		v := rest[0]
		r := rest[1:]
		// runs are long: compare four minutes at a time
		for len(r) >= 4 && r[0] == v && r[1] == v && r[2] == v && r[3] == v {
			r = r[4:]
		}
		for len(r) > 0 && r[0] == v {
			r = r[1:]
		}
		n := len(rest) - len(r)
		if n < 0x80 && v < 0x80 { // one byte each, the usual case
			b = append(b, byte(n), byte(v))
		} else {
			b = binary.AppendUvarint(b, uint64(n))
			b = binary.AppendUvarint(b, uint64(v))
		}
		if len(b) >= MaxDayRow {
			break
		}
		rest = r
	}
	if len(b) < MaxDayRow {
		return b
	}
	b = make([]byte, MaxDayRow)
	b[0] = formatRaw
	for i, v := range a {
		binary.LittleEndian.PutUint16(b[1+2*i:], v)
	}
	return b
}

// runs reads the runs of a day in formatRLE.
type runs struct {
	b []byte
	n int    // minutes left in the current run
	v uint16 // its value
}

// next reads the next run; false at the end or on a damaged row.
func (r *runs) next() bool {
	n, k := binary.Uvarint(r.b)
	if k <= 0 || n == 0 || n > MinutesPerDay {
		return false
	}
	v, l := binary.Uvarint(r.b[k:])
	if l <= 0 || v > 0xffff {
		return false
	}
	r.b, r.n, r.v = r.b[k+l:], int(n), uint16(v)
	return true
}

// covers tells whether the day b (formatRLE) has every bit of the day a
// (formatRLE), run by run without decoding either; false when either is
// damaged.
func covers(b, a []byte) bool {
	ra, rb := runs{b: a[1:]}, runs{b: b[1:]}
	for done := 0; done < MinutesPerDay; {
		if ra.n == 0 && !ra.next() || rb.n == 0 && !rb.next() {
			return false
		}
		if ra.v|rb.v != rb.v {
			return false
		}
		k := min(ra.n, rb.n)
		ra.n, rb.n, done = ra.n-k, rb.n-k, done+k
	}
	return ra.n == 0 && rb.n == 0 && len(ra.b) == 0 && len(rb.b) == 0
}

// OrDays returns the stored form of the bitwise OR of two stored days (any
// formats). When one already holds every bit of the other (a row merged
// again by the process that wrote it, the common case) it is returned as
// it is, without decoding.
func OrDays(a, b []byte) []byte {
	if len(a) > 0 && len(b) > 0 && a[0] == formatRLE && b[0] == formatRLE {
		switch {
		case covers(b, a):
			return b
		case covers(a, b):
			return a
		}
	}
	var x, y [MinutesPerDay]uint16
	DecodeDay(a, &x)
	DecodeDay(b, &y)
	for i := range x {
		x[i] |= y[i]
	}
	return EncodeDay(&x)
}

// DecodeDay reads a stored day in any format. Bytes that do not decode (a
// damaged row) leave the rest of the day zero: nodata, never a made-up
// state.
func DecodeDay(b []byte, a *[MinutesPerDay]uint16) {
	*a = [MinutesPerDay]uint16{}
	if len(b) == 0 {
		return
	}
	switch {
	case b[0] == formatRLE:
		r := runs{b: b[1:]}
		for i := 0; i < len(a) && r.next() && r.n <= len(a)-i; i += r.n {
			if r.v == 0 {
				continue
			}
			// fill by doubling copies
			run := a[i : i+r.n]
			run[0] = r.v
			for k := 1; k < len(run); k *= 2 {
				copy(run[k:], run[:k])
			}
		}
	case b[0] == formatRaw && len(b) == MaxDayRow:
		for i := range a {
			a[i] = binary.LittleEndian.Uint16(b[1+2*i:])
		}
	case b[0]&0x80 != 0:
	case len(b) == legacyNibbles:
		for i, v := range b {
			a[2*i], a[2*i+1] = uint16(v&0x0f), uint16(v>>4)
		}
	case len(b) == MinutesPerDay:
		for i, v := range b {
			a[i] = uint16(v)
		}
	}
}
