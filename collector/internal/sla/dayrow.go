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
	for i := 0; i < len(a); {
		j := i + 1
		for j < len(a) && a[j] == a[i] {
			j++
		}
		b = binary.AppendUvarint(b, uint64(j-i))
		b = binary.AppendUvarint(b, uint64(a[i]))
		if len(b) >= MaxDayRow {
			break
		}
		i = j
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
		b = b[1:]
		for i := 0; i < len(a); {
			n, k := binary.Uvarint(b)
			if k <= 0 || n == 0 || n > uint64(len(a)-i) {
				return
			}
			v, l := binary.Uvarint(b[k:])
			if l <= 0 || v > 0xffff {
				return
			}
			b = b[k+l:]
			for j := range int(n) {
				a[i+j] = uint16(v)
			}
			i += int(n)
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
