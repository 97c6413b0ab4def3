package mib

import (
	"reflect"
	"testing"
)

// indexSet is a Set with hand-made index objects, for DecodeIndex.
func indexSet() (*Set, *Object) {
	s := &Set{byQName: map[string]*Object{}, byName: map[string][]*Object{}, byOID: map[string]*Object{}}
	for _, o := range []*Object{
		{Module: "T", Name: "ifIndex", OID: []uint32{1, 1}, Syntax: SyntaxInteger},
		{Module: "T", Name: "addr", OID: []uint32{1, 2}, Syntax: SyntaxIPAddress, TypeName: "IpAddress"},
		{Module: "T", Name: "label", OID: []uint32{1, 3}, Syntax: SyntaxOctetString, TypeName: "DisplayString"},
		{Module: "T", Name: "state", OID: []uint32{1, 4}, Syntax: SyntaxInteger, Enum: map[int64]string{1: "up", 2: "down"}},
	} {
		s.add(o)
	}
	col := &Object{Module: "T", Name: "col", Kind: KindColumn, Index: []string{"T::ifIndex", "T::addr", "T::state", "T::label"}, Implied: true}
	return s, col
}

func TestDecodeIndex(t *testing.T) {
	s, col := indexSet()
	got, err := s.DecodeIndex(col, []uint32{7, 10, 0, 0, 1, 2, 'w', 'a', 'n'})
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, v := range got {
		texts = append(texts, v.Text)
	}
	if want := []string{"7", "10.0.0.1", "down", "wan"}; !reflect.DeepEqual(texts, want) {
		t.Errorf("texts %v, want %v", texts, want)
	}
	// Not IMPLIED: the string is length-prefixed.
	col.Implied = false
	got, err = s.DecodeIndex(col, []uint32{7, 10, 0, 0, 1, 1, 3, 'w', 'a', 'n'})
	if err != nil || got[3].Text != "wan" {
		t.Errorf("length-prefixed: %+v %v", got, err)
	}
	for _, bad := range [][]uint32{{7}, {7, 10, 0, 0, 1, 1, 9, 'w'}, {7, 10, 0, 0, 1, 1, 1, 'w', 5}} {
		if _, err := s.DecodeIndex(col, bad); err == nil {
			t.Errorf("%v: no error", bad)
		}
	}
}

func FuzzDecodeIndex(f *testing.F) {
	f.Add([]byte{7, 10, 0, 0, 1, 2, 3, 'a', 'b', 'c'})
	f.Fuzz(func(t *testing.T, b []byte) {
		s, col := indexSet()
		sub := make([]uint32, len(b))
		for i, c := range b {
			sub[i] = uint32(c) * 3 // reach values above 255 too
		}
		col.Implied = len(b)%2 == 0
		_, _ = s.DecodeIndex(col, sub) // must not panic
	})
}
