package storage

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"

	"github.com/prometheus/prometheus/tsdb/record"
	"github.com/prometheus/prometheus/util/compression"
)

// The write-log format (prometheus/tsdb/wlog, docs/format/wal.md): 32 KiB
// pages of fragments, each a 7-byte header (type and compression flags,
// length, CRC32-Castagnoli of the data) and its data. A record is one full
// fragment, or a first, middle... and last fragment; a zero type byte pads
// the rest of a page. Fragments never cross pages.
const (
	wlPageSize   = 32 * 1024
	wlHeaderSize = 7

	fragPageTerm = 0
	fragFull     = 1
	fragFirst    = 2
	fragMiddle   = 3
	fragLast     = 4
	fragTypeMask = 7
	fragSnappy   = 1 << 3
	fragZstd     = 1 << 4
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// salvaged is what could be read from a damaged segment.
type salvaged struct {
	recs       [][]byte // intact records, in order, decompressed
	unreadable int64    // bytes that belong to no intact record
	// damaged is set when anything but a torn last record was found.
	damaged bool
	// torn is set when the segment ends inside a record (a write cut
	// short by a crash or a full disk).
	torn bool
	// samples counts the float samples in recs, sampleBytes their records'
	// size, for estimating what the unreadable bytes held.
	samples, sampleBytes int64
	// firstBad is the offset of the first byte that belongs to no intact
	// record (-1: none); after counts the intact records behind it. With
	// none behind it, cutting the segment at firstBad keeps every record.
	firstBad int
	after    int
}

// salvage reads every record of a write-log segment whose fragments are
// all intact, skipping damaged stretches: after a fragment that fails its
// checksum (or cannot be a fragment), reading resumes at the next page,
// where a record that starts there is read again. Records that do not
// decode are dropped too. Unlike Prometheus's repair, which keeps only the
// records before the first damage, this keeps the records after it: a
// sample whose series record was lost is dropped at replay, every other
// record is independent of its neighbours.
func salvage(data []byte) salvaged {
	var (
		s        = salvaged{firstBad: -1}
		cur      []byte // record being assembled
		curBytes int64  // its size on disk, headers included
		curStart int    // its offset
		inRec    bool
		dec      = record.NewDecoder(nil, nil)
		decBuf   = compression.NewSyncDecodeBuffer()
	)
	bad := func(off int) {
		if s.firstBad < 0 || off < s.firstBad {
			s.firstBad = off
		}
	}
	drop := func() { // the record being assembled is incomplete
		if inRec {
			s.unreadable += curBytes
			s.damaged = true
			bad(curStart)
		}
		cur, curBytes, inRec = cur[:0], 0, false
	}
	emit := func(flags byte) {
		typ := compression.None
		switch {
		case flags&fragSnappy != 0:
			typ = compression.Snappy
		case flags&fragZstd != 0:
			typ = compression.Zstd
		}
		rec, err := compression.Decode(typ, cur, decBuf)
		if err == nil {
			var n int
			n, err = checkRecord(&dec, rec)
			if err == nil && n > 0 {
				s.samples += int64(n)
				s.sampleBytes += curBytes
			}
		}
		if err != nil {
			s.unreadable += curBytes
			s.damaged = true
			bad(curStart)
		} else {
			s.recs = append(s.recs, append([]byte(nil), rec...))
			if s.firstBad >= 0 {
				s.after++
			}
		}
		cur, curBytes, inRec = cur[:0], 0, false
	}
	skipPage := func(off int) int { // damage at off: skip to the next intact fragment
		end := resync(data, off+1)
		s.unreadable += int64(end - off)
		s.damaged = true
		bad(off)
		drop()
		return end
	}
	cut := 0 // bytes of a fragment or header the file ends inside
	for off := 0; off < len(data); {
		pageEnd := min((off/wlPageSize+1)*wlPageSize, len(data))
		full := pageEnd == (off/wlPageSize+1)*wlPageSize // not the file's end
		hdr := data[off]
		typ := hdr & fragTypeMask
		if typ == fragPageTerm {
			if !allZero(data[off:pageEnd]) { // the rest of the page must be zeros
				off = skipPage(off)
				continue
			}
			off = pageEnd
			continue
		}
		if pageEnd-off < wlHeaderSize {
			if !full {
				cut = pageEnd - off // the file ends inside a header
				bad(off)
				break
			}
			off = skipPage(off)
			continue
		}
		n := int(binary.BigEndian.Uint16(data[off+1:]))
		end := off + wlHeaderSize + n
		if end > pageEnd {
			if !full && end <= (off/wlPageSize+1)*wlPageSize {
				cut = pageEnd - off // the file ends inside a fragment
				bad(off)
				break
			}
			off = skipPage(off)
			continue
		}
		frag := data[off+wlHeaderSize : end]
		if typ > fragLast || crc32.Checksum(frag, castagnoli) != binary.BigEndian.Uint32(data[off+3:]) {
			off = skipPage(off)
			continue
		}
		size := int64(wlHeaderSize + n)
		switch typ {
		case fragFull:
			drop()
			cur, curBytes, curStart = append(cur[:0], frag...), size, off
			emit(hdr)
		case fragFirst:
			drop()
			cur, curBytes, curStart, inRec = append(cur[:0], frag...), size, off, true
		case fragMiddle, fragLast:
			if !inRec {
				// The rest of a record whose start is lost.
				s.unreadable += size
				s.damaged = true
				bad(off)
				break
			}
			cur, curBytes = append(cur, frag...), curBytes+size
			if typ == fragLast {
				emit(hdr)
			}
		}
		off = end
	}
	if inRec || cut > 0 {
		s.unreadable += curBytes + int64(cut)
		s.torn = true
		if inRec {
			bad(curStart)
		}
	}
	return s
}

// resync returns the offset of the next intact fragment in the page of
// off (one whose header is plausible and whose non-empty data matches its
// checksum: a false match has odds of 2^-32 per byte tried, and the
// record must still decode), or the page's end.
func resync(data []byte, off int) int {
	pageEnd := min(((off-1)/wlPageSize+1)*wlPageSize, len(data))
	budget := resyncBudget
	for ; off+wlHeaderSize <= pageEnd && budget > 0; off++ {
		if !plausibleHeader(data[off]) || data[off]&fragTypeMask == fragPageTerm {
			continue
		}
		n := int(binary.BigEndian.Uint16(data[off+1:]))
		end := off + wlHeaderSize + n
		if n == 0 || end > pageEnd { // an empty fragment's checksum is 0: zeros would match
			continue
		}
		if end < pageEnd && !plausibleHeader(data[end]) {
			continue // what follows a fragment is a fragment or padding
		}
		budget -= n
		if crc32.Checksum(data[off+wlHeaderSize:end], castagnoli) == binary.BigEndian.Uint32(data[off+3:]) {
			return off
		}
	}
	return pageEnd
}

// resyncBudget bounds the bytes resync checksums in one page, so that a
// page of garbage costs milliseconds, not seconds.
const resyncBudget = 1 << 20

func plausibleHeader(b byte) bool {
	return b&fragTypeMask <= fragLast && b&^(fragTypeMask|fragSnappy|fragZstd) == 0 && b&(fragSnappy|fragZstd) != fragSnappy|fragZstd
}

// encodeSegment writes recs in the write-log format (uncompressed), as
// wlog.WL does: fragments never cross a page, a page is padded with zeros
// when the next header does not fit.
func encodeSegment(recs [][]byte) []byte {
	var out []byte
	for _, rec := range recs {
		for i := 0; i == 0 || len(rec) > 0; i++ {
			left := wlPageSize - len(out)%wlPageSize
			if left < wlHeaderSize+1 && !(left >= wlHeaderSize && len(rec) == 0) {
				out = append(out, make([]byte, left)...)
				left = wlPageSize
			}
			n := min(len(rec), left-wlHeaderSize)
			var typ byte
			switch {
			case i == 0 && n == len(rec):
				typ = fragFull
			case n == len(rec):
				typ = fragLast
			case i == 0:
				typ = fragFirst
			default:
				typ = fragMiddle
			}
			var hdr [wlHeaderSize]byte
			hdr[0] = typ
			binary.BigEndian.PutUint16(hdr[1:], uint16(n))
			binary.BigEndian.PutUint32(hdr[3:], crc32.Checksum(rec[:n], castagnoli))
			out = append(out, hdr[:]...)
			out = append(out, rec[:n]...)
			rec = rec[n:]
		}
	}
	if r := len(out) % wlPageSize; r != 0 {
		out = append(out, make([]byte, wlPageSize-r)...)
	}
	return out
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// checkRecord decodes rec as the TSDB's replay does, so that a record
// replay would call corrupt is found here first; it returns the number of
// float samples in it.
func checkRecord(dec *record.Decoder, rec []byte) (int, error) {
	var err error
	n := 0
	switch t := dec.Type(rec); t {
	case record.Series:
		_, err = dec.Series(rec, nil)
	case record.Samples, record.SamplesV2:
		var s []record.RefSample
		s, err = dec.Samples(rec, nil)
		n = len(s)
	case record.Tombstones:
		_, err = dec.Tombstones(rec, nil)
	case record.Exemplars:
		_, err = dec.Exemplars(rec, nil)
	case record.MmapMarkers:
		_, err = dec.MmapMarkers(rec, nil)
	case record.Metadata:
		_, err = dec.Metadata(rec, nil)
	case record.HistogramSamples, record.CustomBucketsHistogramSamples, record.HistogramSamplesV2:
		_, err = dec.HistogramSamples(rec, nil)
	case record.FloatHistogramSamples, record.CustomBucketsFloatHistogramSamples, record.FloatHistogramSamplesV2:
		_, err = dec.FloatHistogramSamples(rec, nil)
	case record.MinValidTime:
		_, err = dec.MinValidTime(rec)
	default:
		// Replay ignores unknown records (a newer version's); so do we.
	}
	if err != nil {
		return 0, fmt.Errorf("decode %s record: %w", recordTypeName(rec), err)
	}
	return n, nil
}

func recordTypeName(rec []byte) string {
	if len(rec) == 0 {
		return "empty"
	}
	return record.Type(rec[0]).String()
}
