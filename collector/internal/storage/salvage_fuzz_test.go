package storage

import (
	"bytes"
	"testing"

	"github.com/prometheus/prometheus/tsdb/wlog"
)

// FuzzSalvage: salvage never panics on any bytes, keeps only records that
// decode, and what it keeps, written again, reads back unchanged with the
// TSDB's own reader; when nothing intact follows the first damage, the
// bytes before it read back as exactly what was kept.
func FuzzSalvage(f *testing.F) {
	small := encodeSegment(sampleRecs(6, 20))[:800] // one page, cut after the records
	f.Add(small)
	f.Add(small[:500])
	recs := sampleRecs(4, 200)
	recs = append(recs, sampleRecs(1, 9000)[0]) // spans pages
	seg := encodeSegment(recs)
	bad := bytes.Clone(seg)
	copy(bad[wlPageSize+100:], bytes.Repeat([]byte{0xa5}, 64))
	f.Add(bad)
	f.Add([]byte{})
	f.Add([]byte{1, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		s := salvage(data)
		if s.unreadable < 0 || s.unreadable > int64(len(data)) {
			t.Fatalf("unreadable %d of %d bytes", s.unreadable, len(data))
		}
		if s.firstBad > len(data) || (s.firstBad < 0 && (s.damaged || s.torn)) {
			t.Fatalf("firstBad %d of %d bytes (damaged=%v torn=%v)", s.firstBad, len(data), s.damaged, s.torn)
		}
		if s.firstBad >= 0 && s.after == 0 {
			// What the repair keeps when it cuts the segment there.
			rd := wlog.NewReader(bytes.NewReader(data[:s.firstBad]))
			n := 0
			for rd.Next() {
				if n >= len(s.recs) || !bytes.Equal(rd.Record(), s.recs[n]) {
					t.Fatalf("cut at %d: record %d differs from the salvaged one", s.firstBad, n)
				}
				n++
			}
			if rd.Err() != nil || n != len(s.recs) {
				t.Fatalf("cut at %d: %d of %d records, %v", s.firstBad, n, len(s.recs), rd.Err())
			}
		}
		out := encodeSegment(s.recs)
		again := salvage(out)
		if again.damaged || again.torn || len(again.recs) != len(s.recs) {
			t.Fatalf("re-encoded: damaged=%v torn=%v %d of %d records", again.damaged, again.torn, len(again.recs), len(s.recs))
		}
		rd := wlog.NewReader(bytes.NewReader(out))
		var got [][]byte
		for rd.Next() {
			got = append(got, bytes.Clone(rd.Record()))
		}
		if err := rd.Err(); err != nil {
			t.Fatalf("the TSDB's reader: %v", err)
		}
		if len(got) != len(s.recs) {
			t.Fatalf("the TSDB's reader got %d of %d records", len(got), len(s.recs))
		}
		for i := range got {
			if !bytes.Equal(got[i], s.recs[i]) {
				t.Fatalf("record %d differs", i)
			}
		}
	})
}
