package sla

import "testing"

// Days round-trip through both stored formats, the runs where they are
// shorter and the raw array where they are not.
func TestEncodeDecode(t *testing.T) {
	var a, b [MinutesPerDay]uint16
	for _, c := range []struct {
		name string
		fill func(i int) uint16
		max  int // longest encoding allowed
	}{
		{"empty", func(int) uint16 { return 0 }, 4},
		{"10-s rounds all day", func(int) uint16 { return BitUp | SlotBits&^(BitSlotDown*0x3f) }, 6},
		{"half a day, then nodata", func(i int) uint16 { return uint16(min(i/720, 1)) * BitSeen }, 8},
		{"a partial minute every 10", func(i int) uint16 {
			if i%10 == 0 {
				return BitUp | BitDown | BitSlotDown | BitSlotGood<<3
			}
			return BitUp | BitSlotGood | BitSlotGood<<3
		}, 1000},
		{"every minute different", func(i int) uint16 { return uint16(i*7919) | 1 }, MaxDayRow},
	} {
		for i := range a {
			a[i] = c.fill(i)
		}
		enc := EncodeDay(&a)
		if len(enc) > c.max {
			t.Errorf("%s: %d bytes, want at most %d", c.name, len(enc), c.max)
		}
		DecodeDay(enc, &b)
		if a != b {
			t.Errorf("%s: does not round-trip", c.name)
		}
	}
}

// Rows of the formats before slots read as their class bits: one byte a
// minute (schema 2) and two minutes a byte (720 bytes).
func TestDecodeLegacyRows(t *testing.T) {
	var want, got [MinutesPerDay]uint16
	bytes1 := make([]byte, MinutesPerDay)
	nibbles := make([]byte, MinutesPerDay/2)
	for i := range want {
		v := uint8(i*7) & 0x07
		want[i] = uint16(v)
		bytes1[i] = v
		nibbles[i/2] |= v << (4 * (i % 2))
	}
	DecodeDay(bytes1, &got)
	if got != want {
		t.Error("one-byte-per-minute rows are not read as they are")
	}
	DecodeDay(nibbles, &got)
	if got != want {
		t.Error("packed 720-byte rows are not read as they are")
	}
	// a legacy down minute is six down slots, any other none
	if s := SlotStates([]uint16{got[4], got[7]}, nil); s[0] != Uniform(Down) || s[1] != Uniform(Up) {
		t.Errorf("legacy minutes %b %b give slots %x %x", got[4], got[7], s[0], s[1])
	}
}

// FuzzDecodeDay: any stored row decodes without a panic (a damaged
// row reads as nodata where it stops decoding), and what encode writes
// decodes back to the same day.
func FuzzDecodeDay(f *testing.F) {
	var day [MinutesPerDay]uint16
	for i := range day {
		day[i] = BitUp | BitSlotGood<<(i%6)
	}
	f.Add(EncodeDay(&day))
	day[7] = 0xffff
	f.Add(EncodeDay(&day))
	f.Add(make([]byte, MinutesPerDay/2))
	f.Add(make([]byte, MinutesPerDay))
	f.Add([]byte{formatRLE, 0xa0, 0x0b, 0x01})
	f.Add([]byte{formatRaw, 1, 2})
	f.Fuzz(func(t *testing.T, b []byte) {
		var a, back [MinutesPerDay]uint16
		DecodeDay(b, &a)
		enc := EncodeDay(&a)
		if len(enc) > MaxDayRow {
			t.Fatalf("encoded to %d bytes", len(enc))
		}
		DecodeDay(enc, &back)
		if a != back {
			t.Fatal("a decoded day does not round-trip")
		}
	})
}

// FuzzOrDays: the OR of two stored days (any formats, damaged or not) is
// the OR of what they decode to, whether or not it took the shortcut.
func FuzzOrDays(f *testing.F) {
	var x, y [MinutesPerDay]uint16
	for i := range x {
		x[i] = BitUp | BitSlotGood<<(i%6)
		if i < 700 {
			y[i] = x[i]
		}
	}
	f.Add(EncodeDay(&x), EncodeDay(&y))
	f.Add(EncodeDay(&y), EncodeDay(&x))
	y[3] = BitDown | BitSlotDown
	f.Add(EncodeDay(&y), EncodeDay(&x))
	f.Add([]byte{formatRLE, 0xa0, 0x0b, 0x01}, []byte{formatRLE, 0xa0, 0x0b, 0x03})
	f.Add(make([]byte, MinutesPerDay/2), []byte{formatRLE, 0x10, 0x01})
	f.Fuzz(func(t *testing.T, a, b []byte) {
		var da, db, got [MinutesPerDay]uint16
		DecodeDay(a, &da)
		DecodeDay(b, &db)
		DecodeDay(OrDays(a, b), &got)
		for i := range got {
			if got[i] != da[i]|db[i] {
				t.Fatalf("minute %d: %x, want %x | %x", i, got[i], da[i], db[i])
			}
		}
	})
}
